/* agora-init: pid 1 of a task's container.
 *
 * A command task would otherwise be pid 1 of its pid namespace itself, and
 * the kernel drops every signal a namespace's init has no handler for: the
 * SIGTERM that starts a kill is ignored and each kill waits its whole grace
 * period. This program is exec'd in the task's place (by the runtime, from
 * a sealed memfd, after every security setting of the task is applied, so
 * it holds nothing the task does not: same uid, capabilities, seccomp
 * filter and no_new_privs) and
 *
 *   - runs the task as its child, in a process group of its own;
 *   - forwards the signals a supervisor or an operator sends to that group;
 *   - reaps every orphan the task leaves behind (zombies);
 *   - ends when the task's process ends, with its status: its exit code,
 *     or for a signal 128+N and the signal number written on STATUS_FD, so
 *     the monitor outside records the signal, not a made-up exit code (pid
 *     1 of a namespace cannot die of its own signals).
 *
 *   agora-init STATUS_FD REPORT_FD EXE ARGV0 [ARGS...]
 *
 * REPORT_FD (or -1) is the runtime's exec.fifo: a failed exec of the task
 * is written there, as the runtime itself would, so the start fails with
 * the reason. The environment is the task's, passed through.
 *
 * Static, no stdio, no malloc: a few pages per container.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* What is passed on to the task. SIGCHLD is the init's own; SIGKILL and
 * SIGSTOP cannot be caught; the job-control stops from a terminal have
 * no meaning for pid 1. */
static const int forwarded[] = {SIGHUP,  SIGINT,  SIGQUIT,  SIGTERM, SIGUSR1, SIGUSR2,
                                SIGALRM, SIGCONT, SIGWINCH, SIGPIPE, SIGURG,  SIGVTALRM,
                                SIGPROF, SIGXCPU, SIGXFSZ,  SIGPWR,  SIGIO};

static int parse_fd(const char *s)
{
	if (s[0] == '-' && s[1] == '1' && !s[2])
		return -1;
	int v = 0;
	if (*s < '0' || *s > '9')
		return -2;
	while (*s >= '0' && *s <= '9' && v < 100000)
		v = v * 10 + (*s++ - '0');
	return *s ? -2 : v;
}

static void put(int fd, const char *s)
{
	if (fd < 0)
		return;
	size_t n = strlen(s);
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void cloexec(int fd)
{
	if (fd >= 0)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static void noop(int sig)
{
	(void)sig;
}

/* The task's process: default dispositions and mask back, its own
 * process group, then the exec. Only returns to _exit. */
static _Noreturn void run_task(int report, const char *exe, char **argv, const sigset_t *old)
{
	setpgid(0, 0);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(*forwarded); i++)
		signal(forwarded[i], SIG_DFL);
	sigprocmask(SIG_SETMASK, old, NULL);
	execve(exe, argv, environ);
	int e = errno;
	put(report, "execve `");
	put(report, exe);
	put(report, "`: ");
	put(report, strerror(e));
	_exit(127);
}

int main(int argc, char **argv)
{
	if (argc < 5)
		return 127;
	int status_fd = parse_fd(argv[1]);
	int report = parse_fd(argv[2]);
	const char *exe = argv[3];
	char **targv = argv + 4;
	if (status_fd < -1 || report < -1)
		return 127;
	cloexec(status_fd);
	cloexec(report);

	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(*forwarded); i++) {
		sigaddset(&set, forwarded[i]);
		/* A handler, not SIG_DFL: the kernel discards signals that
		 * pid 1 of a namespace leaves at their default. They stay
		 * blocked and are taken by sigwaitinfo below. */
		struct sigaction sa = {.sa_handler = noop};
		sigaction(forwarded[i], &sa, NULL);
	}
	sigprocmask(SIG_BLOCK, &set, &old);

	pid_t child = fork();
	if (child < 0) {
		/* No process to spare (pids.max) or fork denied by the task's
		 * own seccomp profile: run the task as pid 1 itself, as it
		 * would have been without an init. */
		for (size_t i = 0; i < sizeof(forwarded) / sizeof(*forwarded); i++)
			signal(forwarded[i], SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (status_fd >= 0)
			close(status_fd);
		execve(exe, targv, environ);
		put(report, "execve `");
		put(report, exe);
		put(report, "`: ");
		put(report, strerror(errno));
		return 127;
	}
	if (child == 0)
		run_task(report, exe, targv, &old);
	/* Both sides set the group: whichever runs first, a signal forwarded
	 * right away finds it. */
	setpgid(child, child);
	/* The exec.fifo's write end is the child's alone now: its exec
	 * (close-on-exec) or its error message is what the runtime reads. */
	if (report >= 0)
		close(report);
	prctl(PR_SET_NAME, "agora-init", 0, 0, 0);

	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			if (kill(-child, sig) < 0)
				kill(child, sig);
			continue;
		}
		for (;;) {
			int st = 0;
			pid_t w = waitpid(-1, &st, WNOHANG);
			if (w <= 0)
				break;
			if (w != child)
				continue; /* an orphan of the task: reaped */
			if (WIFSIGNALED(st)) {
				char b = (char)WTERMSIG(st);
				if (status_fd >= 0)
					(void)!write(status_fd, &b, 1);
				_exit(128 + WTERMSIG(st));
			}
			_exit(WEXITSTATUS(st));
		}
	}
}
