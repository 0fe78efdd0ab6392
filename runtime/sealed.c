/* sealed.c: run the launcher from a sealed memfd copy of itself.
 *
 * CVE-2019-5736: a process inside the container that can open
 * /proc/<pid>/exe of a runtime process joining the container could later
 * write through it to the runtime's binary on the host. A sealed memfd
 * cannot be written at all, so a runtime that re-executes itself from one
 * has nothing on the host to offer. Used by `exec`, whose process joins a
 * running container; a launch is protected by being undumpable until its
 * own execve, and pays nothing.
 */
#include "internal.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

int rt_exe_is_sealed(void)
{
	_cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int seals = fcntl(fd, F_GET_SEALS);
	return seals >= 0 && (seals & SEALS) == SEALS;
}

int rt_sealed_copy(const char *path, const char *name, int *ret_fd, struct ag_error *err)
{
	_cleanup_close_ int src = open(path, O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return ag_error_set(err, errno, "open `%s`", path);
	struct stat st;
	if (fstat(src, &st) < 0)
		return ag_error_set(err, errno, "stat `%s`", path);
	if (!S_ISREG(st.st_mode))
		return ag_error_set(err, EINVAL, "`%s` is not a regular file", path);
	_cleanup_close_ int mfd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return ag_error_set(err, errno, "memfd_create for `%s`", path);
	off_t off = 0;
	while (off < st.st_size) {
		ssize_t n = sendfile(mfd, src, &off, (size_t)(st.st_size - off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ag_error_set(err, n < 0 ? errno : EIO, "copy `%s` to a memfd", path);
	}
	if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0)
		return ag_error_set(err, errno, "seal the memfd copy of `%s`", path);
	*ret_fd = TAKE_FD(mfd);
	return 0;
}

int rt_exe_ensure_sealed(char **argv, struct ag_error *err)
{
	if (rt_exe_is_sealed() == 1)
		return 0;
	_cleanup_close_ int mfd = -1;
	int r = rt_sealed_copy("/proc/self/exe", "agora-run", &mfd, err);
	if (r < 0)
		return r;
	fexecve(mfd, argv, environ);
	return ag_error_set(err, errno, "re-execute from the sealed memfd");
}
