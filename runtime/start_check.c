/* start_check.c: whether a created container was let go by a `start` that
 * did not finish.
 *
 * `start` opens exec.fifo for reading; that lets the container's process
 * out of its open() of the write end, and from then on nothing stops it
 * from exec'ing its program. A caller killed after that open and before
 * exec.fifo is removed leaves a container that reads as "created" while its
 * program runs. What the process holds tells the two apart: until it is
 * let go it holds an O_PATH fd to exec.fifo (opened before READY) and no
 * write end; once let go it has the write end at once, closes the O_PATH
 * fd and execs (everything it holds is close-on-exec).
 */
#include "internal.h"

#include "common/proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

/* How long a process may take to show as stopped after SIGSTOP. */
#define STOP_WAIT_MS 2000

/* The state letter of /proc/<pid>/stat ('R', 'S', 'T', 'Z', ...), or 0. */
static char proc_state(pid_t pid)
{
	struct ag_proc_stat ps;
	return ag_proc_stat_read(pid, &ps) < 0 ? 0 : ps.state;
}

/* The fds of `pid` on the inode `fifo`: *ret_path when an O_PATH one,
 * *ret_write when another (the write end). */
static int fifo_fds(pid_t pid, const struct stat *fifo, bool *ret_path, bool *ret_write)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	_cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	DIR *d = fdopendir(dfd);
	if (!d)
		return -errno;
	dfd = -1; /* the DIR has it */
	*ret_path = *ret_write = false;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		struct stat s;
		if (fstatat(dirfd(d), de->d_name, &s, 0) < 0 || s.st_dev != fifo->st_dev ||
		    s.st_ino != fifo->st_ino)
			continue;
		char info[320];
		snprintf(info, sizeof(info), "/proc/%d/fdinfo/%s", (int)pid, de->d_name);
		_cleanup_free_ char *text = NULL;
		if (ag_read_file_at(AT_FDCWD, info, 4096, &text, NULL) < 0)
			continue; /* closed meanwhile */
		const char *fl = strstr(text, "flags:");
		unsigned long flags = fl ? strtoul(fl + 6, NULL, 8) : 0;
		if (flags & O_PATH)
			*ret_path = true;
		else
			*ret_write = true;
	}
	closedir(d);
	return 0;
}

/* Whether the process behind `pidfd` has ended. */
static bool ended(int pidfd)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	return poll(&p, 1, 0) > 0;
}

/* Stops the process behind `pidfd` and waits until it shows so: -ESRCH
 * when it ended instead, -ETIMEDOUT when it never stopped. */
static int stop_and_wait(pid_t pid, int pidfd)
{
	if (syscall(SYS_pidfd_send_signal, pidfd, SIGSTOP, NULL, 0) < 0)
		return -errno;
	for (int ms = 0; ms < STOP_WAIT_MS; ms++) {
		char s = proc_state(pid);
		if (s == 'T' || s == 't')
			return 0;
		if (s == 0 || s == 'Z' || s == 'X')
			return -ESRCH;
		struct pollfd p = {.fd = pidfd, .events = POLLIN};
		if (poll(&p, 1, 1) > 0)
			return -ESRCH;
	}
	return -ETIMEDOUT;
}

int rt_container_start_check(const struct rt_options *o, const char *id, bool *ret_started,
                             struct ag_error *err)
{
	struct rt__roots c;
	struct rt_state st;
	_cleanup_close_ int dfd = -1, pidfd = -1;
	int r = rt__container_open(&c, o, id, &dfd, &st, err);
	if (r < 0)
		return r;
	if (st.status == RT_STATUS_RUNNING || st.status == RT_STATUS_PAUSED) {
		*ret_started = true;
		goto out;
	}
	if (st.status != RT_STATUS_CREATED) {
		r = ag_error_msg(err, st.status == RT_STATUS_STOPPED ? ESRCH : EINVAL,
		                 "container `%s` is %s: whether it was started cannot be told", id,
		                 rt_status_name(st.status));
		goto out;
	}
	struct stat fifo;
	if (fstatat(dfd, "exec.fifo", &fifo, AT_SYMLINK_NOFOLLOW) < 0) {
		r = ag_error_set(err, errno, "container `%s`: its exec.fifo", id);
		goto out;
	}
	r = rt__pidfd_open_checked(st.pid, st.pid_start_ticks, &pidfd);
	if (r < 0) {
		r = ag_error_set(err, -r, "container `%s`: its process is gone", id);
		goto out;
	}
	bool path_fd = false, write_fd = false;
	r = fifo_fds(st.pid, &fifo, &path_fd, &write_fd);
	if (r == 0 && path_fd && !write_fd) {
		/* It looks like it waits, but it may be on its way out of the
		 * open() right now: look again while it is stopped, when what
		 * it holds cannot change. A process stopped in that open()
		 * restarts it on SIGCONT and waits for a reader again. */
		r = stop_and_wait(st.pid, pidfd);
		if (r == 0)
			r = fifo_fds(st.pid, &fifo, &path_fd, &write_fd);
		syscall(SYS_pidfd_send_signal, pidfd, SIGCONT, NULL, 0);
	}
	if (r < 0 && r != -ESRCH && ended(pidfd))
		r = -ESRCH; /* /proc/<pid> went away under the reader */
	if (r == -ESRCH) {
		/* A process waiting for its start never ends on its own: let
		 * go, it ran and ended (its parent has its status). */
		r = ag_error_msg(err, ESRCH, "container `%s`: its process ended", id);
		goto out;
	}
	if (r < 0) {
		r = ag_error_set(err, -r, "container `%s`: whether its process was let go", id);
		goto out;
	}
	*ret_started = !path_fd || write_fd;
	/* Let go: complete what the runtime keeps of the start (the
	 * container reads as running from now on). */
	if (*ret_started && unlinkat(dfd, "exec.fifo", 0) < 0 && errno != ENOENT)
		r = ag_error_set(err, errno, "container `%s`: remove its exec.fifo", id);
out:
	rt__container_close(&c, &st);
	return r;
}
