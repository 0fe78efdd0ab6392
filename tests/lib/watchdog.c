/* test-watchdog: runs one test command with a deadline, and never lets it
 * hang silently.
 *
 *   test-watchdog [--grace SECS] [--name NAME] SECS COMMAND [ARGS...]
 *
 * Every agora test (cmake/Agora.cmake) runs through it, with SECS a little
 * under the test's ctest TIMEOUT, because ctest kills a test at its TIMEOUT
 * without saying what was running. The watchdog:
 *
 *  - becomes a child subreaper (PR_SET_CHILD_SUBREAPER), so every process
 *    the test starts stays its descendant, even one whose parent died;
 *  - at the deadline prints the tree of those processes to stderr, each
 *    with its state and wchan (per thread when it has several),
 *    /proc/PID/stack where the kernel lets it be read, and inside the test
 *    VM (AGORA_VM_GUEST=1, tests/vm/vm-run) the tail of the guest's kernel
 *    log; then SIGKILLs the tree and exits 124;
 *  - when COMMAND exits but processes it started are still running (which
 *    keeps ctest waiting on the test's output pipe until its TIMEOUT), waits
 *    up to --grace SECS (default 5) for them, then prints them the same way,
 *    kills them and fails the test (exit 125 if COMMAND itself passed): a
 *    test must clean up what it started;
 *  - otherwise exits with COMMAND's status (128+N when killed by signal N).
 *
 * SIGTERM, SIGINT and SIGHUP are passed on to COMMAND. It links nothing of
 * agora's (only common.h's inline helpers), so that it builds unchanged
 * into the sanitizer and fuzzing builds. */
#include "common/common.h"
#include "common/proc.h"

#include <ctype.h>
#include <inttypes.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#define EXIT_TIMEOUT  124
#define EXIT_LEFTOVER 125
#define KMSG_LINES    40
#define MAX_PROCS     4096

static const char *name = "test";

static void say(const char *fmt, ...) AG_PRINTF(1, 2);
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "test-watchdog: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	fflush(stderr);
}

static uint64_t now_ms(void)
{
	return ag_now_ns() / 1000000;
}

struct proc {
	pid_t pid, ppid;
	char state;
};

/* Reads the ppid and state of `pid` from /proc/PID/stat; -1 when it is gone. */
static int read_stat(pid_t pid, struct proc *p)
{
	struct ag_proc_stat ps;
	if (ag_proc_stat_read(pid, &ps) < 0)
		return -1;
	p->pid = pid;
	p->ppid = ps.ppid;
	p->state = ps.state;
	return 0;
}

/* Fills `out` with the live descendants of this process, parents before
 * their children; returns how many. */
static size_t descendants(struct proc *out, size_t max)
{
	static struct proc all[MAX_PROCS];
	size_t nall = 0, n = 0;
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d)) && nall < MAX_PROCS) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (read_stat((pid_t)atoi(de->d_name), &all[nall]) == 0)
			nall++;
	}
	closedir(d);
	/* Breadth first from ourselves: a parent is always listed before
	 * its children. */
	pid_t self = getpid();
	for (size_t i = 0; i < nall; i++)
		if (all[i].ppid == self && n < max)
			out[n++] = all[i];
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < nall; i++)
			if (all[i].ppid == out[k].pid && n < max)
				out[n++] = all[i];
	return n;
}

/* Prints a /proc file's text after `indent`, one line at a time. */
static void print_file(const char *path, const char *indent)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "%s%s%s", indent, line, strchr(line, '\n') ? "" : "\n");
}

/* The first line of a small /proc file, without its newline; "?" if none. */
static void read_line(const char *path, char *buf, size_t size)
{
	snprintf(buf, size, "?");
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, size - 1);
	if (n <= 0) {
		snprintf(buf, size, "?");
		return;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (!buf[0] || strcmp(buf, "0") == 0)
		snprintf(buf, size, "-");
}

/* The command line with NULs turned to spaces. */
static void read_cmdline(pid_t pid, char *buf, size_t size)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	buf[0] = '\0';
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;
	if (n <= 0) {
		/* A kernel thread or a zombie: its comm then. */
		char comm[64];
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		read_line(path, comm, sizeof(comm));
		snprintf(buf, size, "[%s]", comm);
		return;
	}
	buf[n] = '\0';
	for (ssize_t i = 0; i < n - 1; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
}

static int depth_of(const struct proc *ps, size_t n, size_t i)
{
	int depth = 0;
	for (pid_t pp = ps[i].ppid; depth < 64; depth++) {
		size_t k;
		for (k = 0; k < n && ps[k].pid != pp; k++)
			;
		if (k == n)
			break;
		pp = ps[k].ppid;
	}
	return depth;
}

/* One process: its line, then its threads' when it has several, then
 * each one's kernel stack where readable. */
static void dump_proc(const struct proc *p, int depth)
{
	char cmd[512], wchan[128], path[128];
	read_cmdline(p->pid, cmd, sizeof(cmd));
	snprintf(path, sizeof(path), "/proc/%d/wchan", (int)p->pid);
	read_line(path, wchan, sizeof(wchan));
	fprintf(stderr, "%*s%d (ppid %d) state %c wchan %s: %s\n", 2 + 2 * depth, "", (int)p->pid,
	        (int)p->ppid, p->state, wchan, cmd);

	char indent[160];
	snprintf(indent, sizeof(indent), "%*s", 6 + 2 * depth, "");
	snprintf(path, sizeof(path), "/proc/%d/task", (int)p->pid);
	DIR *d = opendir(path);
	int ntasks = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (isdigit((unsigned char)de->d_name[0]))
			ntasks++;
	if (d && ntasks > 1) {
		rewinddir(d);
		while ((de = readdir(d))) {
			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			char tpath[sizeof(path) + sizeof(de->d_name) + 16], comm[64], stat[512];
			snprintf(tpath, sizeof(tpath), "%s/%s/wchan", path, de->d_name);
			read_line(tpath, wchan, sizeof(wchan));
			snprintf(tpath, sizeof(tpath), "%s/%s/comm", path, de->d_name);
			read_line(tpath, comm, sizeof(comm));
			snprintf(tpath, sizeof(tpath), "%s/%s/stat", path, de->d_name);
			read_line(tpath, stat, sizeof(stat));
			char *rp = strrchr(stat, ')');
			char st = rp && rp[1] == ' ' ? rp[2] : '?';
			fprintf(stderr, "%sthread %s (%s) state %c wchan %s\n", indent, de->d_name,
			        comm, st, wchan);
			snprintf(tpath, sizeof(tpath), "%s/%s/stack", path, de->d_name);
			char sindent[176];
			snprintf(sindent, sizeof(sindent), "%s  ", indent);
			print_file(tpath, sindent);
		}
	} else {
		snprintf(path, sizeof(path), "/proc/%d/stack", (int)p->pid);
		print_file(path, indent);
	}
	if (d)
		closedir(d);
}

static void dump_tree(void)
{
	static struct proc ps[MAX_PROCS];
	size_t n = descendants(ps, MAX_PROCS);
	fprintf(stderr,
	        "test-watchdog: the processes of %s: %zu (pid, state, wchan, command; "
	        "kernel stacks where readable):\n",
	        name, n);
	/* Depth-first order reads as a tree: print each process followed by
	 * its subtree. */
	static bool done[MAX_PROCS];
	memset(done, 0, sizeof(done));
	pid_t stack[MAX_PROCS];
	size_t top = 0;
	for (size_t r = n; r-- > 0;)
		if (ps[r].ppid == getpid())
			stack[top++] = ps[r].pid;
	while (top > 0) {
		pid_t pid = stack[--top];
		size_t i;
		for (i = 0; i < n && ps[i].pid != pid; i++)
			;
		if (i == n || done[i])
			continue;
		done[i] = true;
		dump_proc(&ps[i], depth_of(ps, n, i));
		for (size_t c = n; c-- > 0;)
			if (ps[c].ppid == pid && top < MAX_PROCS)
				stack[top++] = ps[c].pid;
	}
	fflush(stderr);
}

/* The last KMSG_LINES records of the kernel log (/dev/kmsg). Only in the
 * test VM, whose kernel is the tests' own: a host's log belongs to the
 * machine. */
static void dump_kmsg(void)
{
	const char *guest = getenv("AGORA_VM_GUEST");
	if (!guest || strcmp(guest, "1") != 0)
		return;
	_cleanup_close_ int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		say("kernel log: cannot open /dev/kmsg: %s", strerror(errno));
		return;
	}
	static char ring[KMSG_LINES][512];
	size_t count = 0;
	char rec[8192];
	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue; /* overwritten while read: the next one */
		if (n <= 0)
			break;
		rec[n] = '\0';
		/* "prio,seq,usec,flags;text\n" and continuation lines. */
		char *text = strchr(rec, ';');
		unsigned long long usec = 0;
		sscanf(rec, "%*u,%*u,%llu", &usec);
		text = text ? text + 1 : rec;
		text[strcspn(text, "\n")] = '\0';
		snprintf(ring[count % KMSG_LINES], sizeof(ring[0]), "[%6llu.%06llu] %.480s",
		         usec / 1000000, usec % 1000000, text);
		count++;
	}
	size_t first = count > KMSG_LINES ? count - KMSG_LINES : 0;
	say("the guest kernel log's last %zu lines:", count - first);
	for (size_t i = first; i < count; i++)
		fprintf(stderr, "  %s\n", ring[i % KMSG_LINES]);
	fflush(stderr);
}

static void reap(pid_t main_pid, int *main_status, bool *main_done)
{
	int st;
	pid_t p;
	while ((p = waitpid(-1, &st, WNOHANG)) > 0)
		if (p == main_pid) {
			*main_status = st;
			*main_done = true;
		}
}

/* SIGKILLs every descendant until none is left or 10 s passed; returns how
 * many are still there. */
static size_t kill_tree(pid_t main_pid, int *main_status, bool *main_done)
{
	static struct proc ps[MAX_PROCS];
	uint64_t until = now_ms() + 10000;
	size_t n;
	for (;;) {
		n = descendants(ps, MAX_PROCS);
		size_t alive = 0;
		for (size_t i = 0; i < n; i++)
			if (ps[i].state != 'Z') {
				kill(ps[i].pid, SIGKILL);
				alive++;
			}
		reap(main_pid, main_status, main_done);
		if (n == 0 || now_ms() > until)
			break;
		if (alive == 0 && *main_done)
			continue;
		struct timespec ts = {.tv_nsec = 20 * 1000000};
		nanosleep(&ts, NULL);
	}
	if (n > 0) {
		say("processes that survived SIGKILL for 10 s (uninterruptible sleep?): %zu", n);
		dump_tree();
	}
	return n;
}

static volatile sig_atomic_t forward_sig;
static void on_signal(int sig)
{
	forward_sig = sig;
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

static int usage(void)
{
	fprintf(stderr,
	        "usage: test-watchdog [--grace SECS] [--name NAME] SECS COMMAND [ARGS...]\n");
	return 2;
}

static int parse_secs(const char *s, const char *what, uint64_t *ret)
{
	char *end;
	errno = 0;
	*ret = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || *ret == 0 || *ret > 86400) {
		fprintf(stderr, "test-watchdog: %s wants whole seconds from 1 to 86400, got '%s'\n",
		        what, s);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t grace = 5, secs;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i += 2) {
		if (i + 1 >= argc)
			return usage();
		if (strcmp(argv[i], "--grace") == 0) {
			if (parse_secs(argv[i + 1], "--grace", &grace) < 0)
				return 2;
		} else if (strcmp(argv[i], "--name") == 0) {
			name = argv[i + 1];
		} else {
			return usage();
		}
	}
	if (argc - i < 2)
		return usage();
	if (parse_secs(argv[i], "the deadline", &secs) < 0)
		return 2;
	char **cmd = argv + i + 1;
	if (strcmp(name, "test") == 0)
		name = cmd[0];

	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		say("prctl(PR_SET_CHILD_SUBREAPER): %s", strerror(errno));
		return 2;
	}
	/* SIGCHLD and the signals to forward wake the loop below. */
	sigset_t mask, old;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, &old);
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	uint64_t start = now_ms(), deadline = start + secs * 1000;
	pid_t pid = fork();
	if (pid < 0) {
		say("fork: %s", strerror(errno));
		return 2;
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		execvp(cmd[0], cmd);
		say("cannot run %s: %s", cmd[0], strerror(errno));
		_exit(127);
	}

	int status = 0;
	bool done = false;
	uint64_t leftover_until = 0;
	for (;;) {
		reap(pid, &status, &done);
		static struct proc ps[MAX_PROCS];
		if (done) {
			size_t n = descendants(ps, MAX_PROCS);
			if (n == 0)
				return exit_code(status);
			if (leftover_until == 0)
				leftover_until = now_ms() + grace * 1000;
			if (now_ms() >= leftover_until) {
				say("%s exited with status %d, and %" PRIu64 " s later %zu of its "
				    "processes were still running; a test must stop what it "
				    "started",
				    name, exit_code(status), grace, n);
				dump_tree();
				kill_tree(pid, &status, &done);
				int rc = exit_code(status);
				return rc != 0 ? rc : EXIT_LEFTOVER;
			}
		}
		if (forward_sig) {
			if (!done)
				kill(pid, forward_sig);
			forward_sig = 0;
		}
		uint64_t now = now_ms();
		if (now >= deadline) {
			say("TIMEOUT: %s is still running after %" PRIu64 " s; what was running:",
			    name, secs);
			dump_tree();
			dump_kmsg();
			say("killing every process of %s", name);
			kill_tree(pid, &status, &done);
			return EXIT_TIMEOUT;
		}
		uint64_t wake = deadline;
		if (leftover_until && leftover_until < wake)
			wake = leftover_until;
		/* Leftovers are polled: they are not our children until their
		 * parent exits, and then SIGCHLD comes only if they die. */
		if (done && wake - now > 100)
			wake = now + 100;
		uint64_t wait_ms = wake - now;
		struct timespec ts = {.tv_sec = (time_t)(wait_ms / 1000),
		                      .tv_nsec = (long)(wait_ms % 1000) * 1000000};
		sigtimedwait(&mask, NULL, &ts);
	}
}
