/* fileio.c: whole-file reads and writes relative to a directory fd. */
#include "common/common.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

int ag_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ag_read_file_at(int dirfd, const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return -errno;

	/* Grow up to max + 1 bytes: reading one byte past the limit is how a
	 * file of exactly `max` bytes is told apart from a larger one. */
	size_t cap = max < 4096 ? max + 1 : 4096, len = 0;
	_cleanup_free_ char *buf = ag_malloc(cap + 1);
	for (;;) {
		if (len == cap) {
			if (cap > max)
				return -EFBIG;
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			buf = ag_realloc(buf, cap + 1);
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max)
		return -EFBIG;
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	*ret_buf = TAKE_PTR(buf);
	return 0;
}

int ag_write_file_at(int dirfd, const char *path, const void *buf, size_t len)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return -errno;
	/* Kernel interface files want the value in one write; a short write
	 * there is an error, not something to continue. */
	ssize_t n = write(fd, buf, len);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	return 0;
}

static int write_file_replace(int dirfd, const char *path, const void *buf, size_t len,
                              unsigned mode, bool durable)
{
	_cleanup_free_ char *tmp = ag_asprintf("%s.tmp.%d", path, (int)getpid());
	_cleanup_close_ int fd =
	        openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	int r = ag_write_all(fd, buf, len);
	if (r == 0 && durable && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, path) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return r;
	}
	if (!durable)
		return 0;
	/* Make the rename itself durable. */
	_cleanup_close_ int dfd = -1;
	const char *slash = strrchr(path, '/');
	if (slash) {
		_cleanup_free_ char *dir = strndup(path, (size_t)(slash - path) + 1);
		if (!dir)
			return -ENOMEM;
		dfd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (dfd >= 0)
		fsync(dfd);
	return 0;
}

int ag_write_file_atomic_at(int dirfd, const char *path, const void *buf, size_t len, unsigned mode)
{
	return write_file_replace(dirfd, path, buf, len, mode, false);
}

int ag_write_file_durable_at(int dirfd, const char *path, const void *buf, size_t len,
                             unsigned mode)
{
	return write_file_replace(dirfd, path, buf, len, mode, true);
}
