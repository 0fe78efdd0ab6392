/* agora-monitor: the per-container supervisor.
 *
 * The agent forks, creates the container from the fork (so the container's
 * init is the fork's child), and the fork then execs this program: a small
 * static binary, so each container costs a few pages of its own instead of
 * a copy-on-write image of the agent. Its one job is to outlive the agent:
 *
 *   agora-monitor INIT_PID DIR_FD CGROUP_FD REPORT_FD [STATUS_FD]
 *
 * STATUS_FD (when the container runs agora-init as its pid 1) is the read
 * end of the pipe on which that init writes the signal number that ended
 * the task: pid 1 of a namespace cannot die of the same signal, so it
 * exits with 128+N and says N there. The signal is recorded only when both
 * agree, so a task that merely exits with 128+N keeps its exit code.
 *
 * It tells the agent it is in place ("ok <pid>\n" on REPORT_FD), waits for
 * the container's init (its child), reads the OOM kills of the container's
 * cgroup (memory.events of CGROUP_FD, -1 when cgroups are off), writes
 * `exit` in the task's run directory (DIR_FD) atomically and durably, and
 * exits. The agent watches this process through a pidfd, as a child or,
 * after the agent restarted, as a stranger: either way the status is on
 * disk first.
 *
 * No stdio, no malloc: the less of libc is linked and touched, the fewer
 * pages each monitor dirties.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h> /* renameat only: no stdio is used */
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long parse_long(const char *s, int *ok)
{
	long v = 0, sign = 1;
	*ok = 0;
	if (*s == '-') {
		sign = -1;
		s++;
	}
	if (*s < '0' || *s > '9')
		return 0;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (*s++ - '0');
	*ok = *s == '\0';
	return v * sign;
}

/* Appends the decimal form of `v` at `p`; returns the new end. */
static char *put_num(char *p, long long v)
{
	char tmp[24];
	int n = 0;
	unsigned long long u = v < 0 ? (unsigned long long)-v : (unsigned long long)v;
	do
		tmp[n++] = (char)('0' + u % 10);
	while ((u /= 10));
	if (v < 0)
		*p++ = '-';
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_str(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

/* oom_kill of memory.events, 0 when unknown. */
static unsigned long long oom_kills(int cgfd)
{
	if (cgfd < 0)
		return 0;
	int fd = openat(cgfd, "memory.events", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	char buf[512];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	const char *key = "oom_kill ";
	for (char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
		if (strncmp(p, key, strlen(key)) != 0)
			continue;
		unsigned long long v = 0;
		for (p += strlen(key); *p >= '0' && *p <= '9'; p++)
			v = v * 10 + (unsigned)(*p - '0');
		return v;
	}
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The size reserved for the record (it is well under). */
#define EXIT_RESERVE 256

/* exit.tmp made at the start, its blocks written: a full disk at the
 * task's end cannot keep its status from being recorded. */
static void reserve_exit(int dirfd)
{
	int fd = openat(dirfd, "exit.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	                0600);
	if (fd < 0)
		return;
	char pad[EXIT_RESERVE];
	memset(pad, '\n', sizeof(pad));
	if (write_all(fd, pad, sizeof(pad)) < 0)
		unlinkat(dirfd, "exit.tmp", 0);
	close(fd);
}

/* exit.tmp, fsync, rename to exit, fsync the directory: the agent reads
 * either nothing or the whole record, even across a power loss. The
 * reserved exit.tmp is written over in place (no block to allocate). */
static int record_exit(int dirfd, pid_t pid, int status, int init_sig, unsigned long long ooms)
{
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	if (code > 128 && init_sig > 0 && code == 128 + init_sig) {
		code = -1;
		sig = init_sig;
	}
	char buf[256], *p = buf;
	p = put_str(p, "pid=");
	p = put_num(p, pid);
	p = put_str(p, "\nexit_code=");
	p = put_num(p, code);
	p = put_str(p, "\nsignal=");
	p = put_num(p, sig);
	p = put_str(p, "\noom_kills=");
	p = put_num(p, (long long)ooms);
	p = put_str(p, "\n");
	int fd = openat(dirfd, "exit.tmp", O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	int r = write_all(fd, buf, (size_t)(p - buf));
	if (r == 0)
		r = ftruncate(fd, p - buf);
	if (r == 0)
		r = fsync(fd);
	close(fd);
	if (r == 0)
		r = renameat(dirfd, "exit.tmp", dirfd, "exit");
	if (r == 0)
		fsync(dirfd);
	return r;
}

int main(int argc, char **argv)
{
	int ok[5] = {1, 1, 1, 1, 1};
	if (argc != 5 && argc != 6)
		return 2;
	int status_fd = argc == 6 ? (int)parse_long(argv[5], &ok[4]) : -1;
	pid_t pid = (pid_t)parse_long(argv[1], &ok[0]);
	int dirfd = (int)parse_long(argv[2], &ok[1]);
	int cgfd = (int)parse_long(argv[3], &ok[2]);
	int report = (int)parse_long(argv[4], &ok[3]);
	if (!ok[0] || !ok[1] || !ok[2] || !ok[3] || !ok[4] || pid <= 0 || dirfd < 0)
		return 2;

	/* The agent's terminal, its process group or a stray `kill` of the
	 * wrong name must not take the record keeper down; only SIGKILL can,
	 * and the agent treats that as "status unknown". */
	static const int ignored[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGTERM, SIGPIPE,
	                              SIGUSR1, SIGUSR2, SIGTTIN, SIGTTOU, SIGTSTP};
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		signal(ignored[i], SIG_IGN);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_NAME, "agora-monitor", 0, 0, 0);

	reserve_exit(dirfd);
	if (report >= 0) {
		char buf[32], *p = put_str(buf, "ok ");
		p = put_num(p, pid);
		*p++ = '\n';
		write_all(report, buf, (size_t)(p - buf));
		close(report);
	}

	/* The fork that exec'd us set PR_SET_CHILD_SUBREAPER (kept across
	 * exec): a container without a pid namespace may leave orphans here.
	 * Reap them all; the init's status is the one recorded. */
	int status = 0;
	for (;;) {
		int st = 0;
		pid_t w = waitpid(-1, &st, __WALL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return 3; /* ECHILD before the init: nothing to record */
		}
		if (w == pid) {
			status = st;
			break;
		}
	}
	/* Every writer is gone with the init's namespace: this never blocks. */
	int init_sig = 0;
	if (status_fd >= 0) {
		unsigned char b = 0;
		fcntl(status_fd, F_SETFL, O_NONBLOCK);
		if (read(status_fd, &b, 1) == 1)
			init_sig = b;
	}
	/* A full disk (without a reservation) is waited out: the status is
	 * recorded once there is room, never lost; the agent sees the task
	 * running until then. */
	unsigned long long ooms = oom_kills(cgfd);
	while (record_exit(dirfd, pid, status, init_sig, ooms) < 0) {
		if (errno != ENOSPC && errno != EDQUOT)
			return 4;
		struct timespec sec = {1, 0};
		nanosleep(&sec, NULL);
	}
	return 0;
}
