/* procs.c: the processes of a cgroup: entering, listing, killing,
 * freezing, and waiting on cgroup.events. */
#include "cgroupv2/internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>

int cg_enter(int dirfd, pid_t pid)
{
	if (pid < 0)
		return -EINVAL;
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
	return ag_write_file_at(dirfd, "cgroup.procs", buf, (size_t)n);
}

int cg_procs(int dirfd, pid_t **ret, size_t *ret_n)
{
	_cleanup_free_ char *text = NULL;
	int r = ag_read_file_at(dirfd, "cgroup.procs", CG__FILE_MAX, &text, NULL);
	if (r < 0)
		return r;
	return cg__parse_pids(text, ret, ret_n);
}

static int read_event(int fd, const char *key, uint64_t *ret)
{
	char buf[512];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return cg__parse_flat_keyed(buf, key, ret);
}

int cg_is_populated(int dirfd, bool *ret_populated)
{
	_cleanup_close_ int fd = openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	uint64_t v;
	int r = read_event(fd, "populated", &v);
	if (r < 0)
		return r;
	*ret_populated = v != 0;
	return 0;
}

int cg__wait_event(int dirfd, const char *key, uint64_t want, unsigned timeout_ms)
{
	if (timeout_ms == 0)
		timeout_ms = CG__DEFAULT_TIMEOUT_MS;
	_cleanup_close_ int fd = openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	uint64_t deadline = ag_now_ns() + (uint64_t)timeout_ms * 1000000u;
	for (;;) {
		uint64_t v;
		int r = read_event(fd, key, &v);
		if (r < 0)
			return r;
		if (v == want)
			return 0;
		uint64_t now = ag_now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		/* kernfs wakes pollers of cgroup.events with POLLPRI when it
		 * changes; the 50 ms cap is there in case a change lands
		 * between the read and the poll. */
		uint64_t left_ms = (deadline - now) / 1000000u + 1;
		struct pollfd p = {.fd = fd, .events = POLLPRI};
		if (poll(&p, 1, left_ms < 50 ? (int)left_ms : 50) < 0 && errno != EINTR)
			return -errno;
	}
}

int cg_wait_empty(int dirfd, unsigned timeout_ms)
{
	return cg__wait_event(dirfd, "populated", 0, timeout_ms);
}

int cg_freeze(int dirfd, bool frozen, unsigned timeout_ms)
{
	int r = ag_write_file_at(dirfd, "cgroup.freeze", frozen ? "1" : "0", 1);
	if (r < 0)
		return r;
	return cg__wait_event(dirfd, "frozen", frozen ? 1 : 0, timeout_ms);
}

/* SIGKILL the pids of fd's cgroup.procs and of its descendants'; counts
 * the processes signalled in *n. */
static int kill_tree(int fd, int depth, size_t *n)
{
	if (depth > 256)
		return -ELOOP;
	_cleanup_free_ pid_t *pids = NULL;
	size_t np = 0;
	int r = cg_procs(fd, &pids, &np);
	if (r < 0)
		return r == -ENOENT ? 0 : r; /* removed meanwhile */
	for (size_t i = 0; i < np; i++)
		/* Pid reuse can only strike if a listed process exited and was
		 * reaped since the read; the subtree is frozen when the kernel
		 * allows it, so that is rare and only on pre-5.14 kernels. */
		if (kill(pids[i], SIGKILL) == 0)
			(*n)++;

	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	struct dirent *de;
	while (r == 0 && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		_cleanup_close_ int child =
		        openat(fd, de->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (child >= 0)
			r = kill_tree(child, depth + 1, n);
	}
	closedir(d);
	return r;
}

int cg__kill_by_signal(int dirfd)
{
	/* The root cgroup has no cgroup.type (nor cgroup.kill, nor
	 * cgroup.freeze): killing "everything in it" would kill the host. */
	if (faccessat(dirfd, "cgroup.type", F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? -EPERM : -errno;

	/* Freeze first (5.2+) so nothing forks between listing and killing;
	 * a fatal signal still ends a frozen task in v2. */
	bool frozen = cg_freeze(dirfd, true, 1000) == 0;
	int r = 0;
	for (int round = 0; round < 100; round++) {
		size_t n = 0;
		r = kill_tree(dirfd, 0, &n);
		if (r < 0 || n == 0)
			break;
		nanosleep(&(struct timespec){.tv_nsec = 2 * 1000 * 1000}, NULL);
	}
	/* Every task got SIGKILL, which ends frozen tasks too: a cgroup left
	 * frozen when the thaw fails holds nothing that runs. */
	if (frozen)
		AG_IGNORE_RESULT(ag_write_file_at(dirfd, "cgroup.freeze", "0", 1));
	return r;
}

int cg_kill(int dirfd)
{
	int r = ag_write_file_at(dirfd, "cgroup.kill", "1", 1);
	if (r != -ENOENT)
		return r;
	/* No cgroup.kill: a kernel before 5.14 (or the root cgroup, which
	 * cg__kill_by_signal refuses). */
	return cg__kill_by_signal(dirfd);
}
