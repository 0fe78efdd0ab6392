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

int rt_exe_ensure_sealed(char **argv, struct ag_error *err)
{
	if (rt_exe_is_sealed() == 1)
		return 0;
	_cleanup_close_ int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return ag_error_set(err, errno, "open /proc/self/exe");
	struct stat st;
	if (fstat(self, &st) < 0)
		return ag_error_set(err, errno, "stat /proc/self/exe");
	_cleanup_close_ int mfd = memfd_create("agora-run", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return ag_error_set(err, errno, "memfd_create");
	off_t off = 0;
	while (off < st.st_size) {
		ssize_t n = sendfile(mfd, self, &off, (size_t)(st.st_size - off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ag_error_set(err, n < 0 ? errno : EIO,
			                    "copy the launcher to a memfd");
	}
	if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0)
		return ag_error_set(err, errno, "seal the memfd copy of the launcher");
	fexecve(mfd, argv, environ);
	return ag_error_set(err, errno, "re-execute from the sealed memfd");
}
