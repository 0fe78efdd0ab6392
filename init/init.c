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
 * One per container, so it is as small as it can be: on x86-64 it is built
 * without libc (AG_INIT_NOLIBC: its own _start and raw system calls, a few
 * KB of code and no data to speak of); elsewhere it links a static libc and
 * calls the same system calls through syscall(2). No allocation, no stdio.
 *
 * The signals are blocked and taken with rt_sigtimedwait, never handled:
 * the kernel discards a signal sent to a namespace's init only when it is
 * not blocked and has no handler (sig_ignored() never ignores a blocked
 * signal), so blocking is enough and there is no handler code at all.
 */

#include <asm/unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#ifdef AG_INIT_NOLIBC
static long sc6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
	                 : "=a"(ret)
	                 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
	                 : "rcx", "r11", "memory");
	return ret; /* -errno on failure */
}

/* What the compiler may call on its own, even when it is told not to. */
void *memset(void *d, int c, size_t n);
void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;
	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

/* The entry point: the kernel's stack is argc, argv[], NULL, envp[]. */
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "	xor %rbp, %rbp\n"
        "	mov %rsp, %rdi\n"
        "	and $-16, %rsp\n"
        "	call init_start\n"
        "	hlt\n");
#else
#include <unistd.h>
static long sc6(long n, long a, long b, long c, long d, long e, long f)
{
	long r = syscall(n, a, b, c, d, e, f);
	return r == -1 ? -errno : r;
}
#endif

#define sc3(n, a, b, c)    sc6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sc4(n, a, b, c, d) sc6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

/* The kernel's sigset_t: 64 signals. */
typedef unsigned long ksigset;
#define KSIG(s) (1UL << ((s)-1))

static _Noreturn void quit(int code)
{
	for (;;)
		sc3(__NR_exit_group, code, 0, 0);
}

/* What is passed on to the task. SIGCHLD is the init's own; SIGKILL and
 * SIGSTOP cannot be caught; the job-control stops from a terminal have no
 * meaning for pid 1. */
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
	size_t n = 0;
	while (s[n])
		n++;
	while (n) {
		long w = sc3(__NR_write, fd, s, n);
		if (w == -EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* The exec failures a task can meet, as strerror(3) words them. */
static const char *errno_text(long e)
{
	switch (e) {
	case ENOENT:
		return "No such file or directory";
	case EACCES:
		return "Permission denied";
	case ENOEXEC:
		return "Exec format error";
	case ENOTDIR:
		return "Not a directory";
	case ELOOP:
		return "Too many levels of symbolic links";
	case ENAMETOOLONG:
		return "File name too long";
	case E2BIG:
		return "Argument list too long";
	case ENOMEM:
		return "Cannot allocate memory";
	case ETXTBSY:
		return "Text file busy";
	case EPERM:
		return "Operation not permitted";
	default:
		return "exec failed";
	}
}

/* On the exec.fifo when there is one, else on the task's stderr. */
static void exec_failed(int report, const char *exe, long e)
{
	if (report < 0)
		report = 2;
	put(report, "execve `");
	put(report, exe);
	put(report, "`: ");
	put(report, errno_text(-e));
}

static _Noreturn void init_main(int argc, char **argv, char **envp)
{
	if (argc < 5)
		quit(127);
	int status_fd = parse_fd(argv[1]);
	int report = parse_fd(argv[2]);
	const char *exe = argv[3];
	char **targv = argv + 4;
	if (status_fd < -1 || report < -1)
		quit(127);
	if (status_fd >= 0)
		sc3(__NR_fcntl, status_fd, F_SETFD, FD_CLOEXEC);
	if (report >= 0)
		sc3(__NR_fcntl, report, F_SETFD, FD_CLOEXEC);
	sc6(__NR_prctl, PR_SET_NAME, (long)"agora-init", 0, 0, 0, 0);

	ksigset set = KSIG(SIGCHLD), old = 0;
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(*forwarded); i++)
		set |= KSIG(forwarded[i]);
	sc4(__NR_rt_sigprocmask, SIG_BLOCK, &set, &old, sizeof(ksigset));

	long child = sc6(__NR_clone, SIGCHLD, 0, 0, 0, 0, 0); /* fork */
	if (child < 0) {
		/* No process to spare (pids.max) or fork denied by the task's
		 * own seccomp profile: run the task as pid 1 itself, as it
		 * would have been without an init. */
		sc4(__NR_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof(ksigset));
		if (status_fd >= 0)
			sc3(__NR_close, status_fd, 0, 0);
		exec_failed(report, exe, sc3(__NR_execve, exe, targv, envp));
		quit(127);
	}
	if (child == 0) {
		/* The task: its own process group, the mask it had. */
		sc3(__NR_setpgid, 0, 0, 0);
		sc4(__NR_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof(ksigset));
		exec_failed(report, exe, sc3(__NR_execve, exe, targv, envp));
		quit(127);
	}
	/* Both sides set the group: whichever runs first, a signal forwarded
	 * right away finds it. */
	sc3(__NR_setpgid, child, child, 0);
	/* The exec.fifo's write end is the child's alone now: its exec
	 * (close-on-exec) or its error message is what the runtime reads. */
	if (report >= 0)
		sc3(__NR_close, report, 0, 0);

	for (;;) {
		siginfo_t si;
		long sig = sc4(__NR_rt_sigtimedwait, &set, &si, NULL, sizeof(ksigset));
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			if (sc3(__NR_kill, -child, sig, 0) < 0)
				sc3(__NR_kill, child, sig, 0);
			continue;
		}
		for (;;) {
			int st = 0;
			long w = sc4(__NR_wait4, -1, &st, WNOHANG, NULL);
			if (w <= 0)
				break;
			if (w != child)
				continue; /* an orphan of the task: reaped */
			if (WIFSIGNALED(st)) {
				char b = (char)WTERMSIG(st);
				if (status_fd >= 0)
					sc3(__NR_write, status_fd, &b, 1);
				quit(128 + WTERMSIG(st));
			}
			quit(WEXITSTATUS(st));
		}
	}
}

#ifdef AG_INIT_NOLIBC
/* Called by _start (so not static: its name must stay). */
_Noreturn void init_start(long *sp);
_Noreturn void init_start(long *sp)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);
	init_main(argc, argv, argv + argc + 1);
}
#else
int main(int argc, char **argv, char **envp)
{
	init_main(argc, argv, envp);
}
#endif
