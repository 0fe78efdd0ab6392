/* fs.c: resolving cgroup paths beneath a directory fd, and small readers of
 * the core interface files. */
#include "cgroupv2/internal.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>

#ifdef SYS_openat2
static int openat2_beneath(int dirfd, const char *rel, int flags)
{
	struct open_how how = {
	        .flags = (uint64_t)flags,
	        /* BENEATH refuses ".." escapes and absolute symlinks; cgroupfs
	         * has no symlinks, so any symlink met is planted (a bind mount
	         * or another filesystem): refuse them all, and refuse crossing
	         * into another mount. */
	        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
	                   RESOLVE_NO_XDEV,
	};
	long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
	return fd < 0 ? -errno : (int)fd;
}
#endif

/* Pre-5.6 kernels: walk one component at a time with O_NOFOLLOW. The path
 * was checked to have no ".." components, so each step stays beneath. */
static int open_walk(int dirfd, const char *rel, int flags)
{
	_cleanup_close_ int cur = -1;
	const char *c = rel;
	for (;;) {
		while (*c == '/')
			c++;
		const char *end = strchrnul(c, '/');
		const char *next = end;
		while (*next == '/')
			next++;
		char name[NAME_MAX + 1];
		size_t len = (size_t)(end - c);
		if (len == 0 || len > NAME_MAX)
			return -EINVAL;
		memcpy(name, c, len);
		name[len] = '\0';
		int base = cur >= 0 ? cur : dirfd;
		if (*next == '\0') {
			int fd = openat(base, name, flags | O_NOFOLLOW);
			return fd < 0 ? -errno : fd;
		}
		int fd = openat(base, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (cur >= 0)
			close(cur);
		cur = fd;
		c = next;
	}
}

int cg__open_beneath(int dirfd, const char *rel, int flags)
{
	if (*rel == '\0') {
		int fd = openat(dirfd, ".", flags);
		return fd < 0 ? -errno : fd;
	}
#ifdef SYS_openat2
	int fd = openat2_beneath(dirfd, rel, flags);
	/* ENOSYS: kernel older than 5.6; E2BIG/EINVAL could mean a seccomp
	 * filter or an older struct open_how: fall back. Real answers
	 * (ENOENT, EXDEV, ELOOP, ...) are returned. */
	if (fd != -ENOSYS && fd != -E2BIG && fd != -EPERM)
		return fd;
#endif
	return open_walk(dirfd, rel, flags);
}

void cg__fd_name(int fd, char *buf, size_t size)
{
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, buf, size - 1);
	if (n <= 0 || (size_t)n >= size - 1) {
		snprintf(buf, size, "cgroup fd %d", fd);
		return;
	}
	buf[n] = '\0';
}

int cg__read_controllers(int dirfd, const char *file, unsigned *ret_mask)
{
	_cleanup_free_ char *text = NULL;
	int r = ag_read_file_at(dirfd, file, 4096, &text, NULL);
	if (r < 0)
		return r;
	*ret_mask = cg_controllers_parse(text);
	return 0;
}
