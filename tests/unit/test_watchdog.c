/* test-watchdog (tests/lib/watchdog.c), which every agora test runs under:
 * at its deadline it says what was running and kills all of it; processes
 * a test leaves behind fail the test instead of keeping ctest waiting; in
 * every other case it is transparent. Real processes, real /proc. */
#include "agtest.h"
#include "common/common.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>

struct run {
	int status; /* the watchdog's exit code, or 128+signal */
	double secs;
	char *out; /* its stdout and stderr */
};

static char *watchdog_path(void)
{
	const char *build = getenv("AGORA_BUILD_DIR");
	cr_assert(build, "AGORA_BUILD_DIR is not set (run through ctest)");
	return ag_asprintf("%s/tests/test-watchdog", build);
}

/* Runs test-watchdog with `args` (NULL-terminated), sending it `sig` once
 * its output holds "ready" when sig is not 0, and collects its output until
 * every process holding the pipe is gone, as ctest does. */
static struct run run_watchdog(int sig, const char *const *args)
{
	_cleanup_free_ char *path = watchdog_path();
	const char *argv[16] = {path};
	size_t n = 1;
	for (; args[n - 1]; n++) {
		cr_assert_lt(n, AG_ARRAY_SIZE(argv) - 1);
		argv[n] = args[n - 1];
	}
	argv[n] = NULL;

	int fds[2];
	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	uint64_t t0 = ag_now_ns();
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	size_t len = 0, cap = 4096;
	char *out = ag_malloc(cap);
	for (;;) {
		if (cap - len < 1024)
			out = ag_realloc(out, cap *= 2);
		ssize_t r = read(fds[0], out + len, cap - len - 1);
		if (r <= 0)
			break;
		len += (size_t)r;
		out[len] = '\0';
		if (sig && strstr(out, "ready")) {
			kill(pid, sig);
			sig = 0;
		}
	}
	out[len] = '\0';
	close(fds[0]);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	struct run r = {
	        .status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
	        .secs = (double)(ag_now_ns() - t0) / 1e9,
	        .out = out,
	};
	cr_log_info("test-watchdog exited %d after %.2f s:\n%s", r.status, r.secs, r.out);
	return r;
}

/* The pid of the process listed in the watchdog's tree with command line
 * `cmd`, or -1. */
static pid_t listed_pid(const char *out, const char *cmd)
{
	for (const char *line = out; line && *line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		int pid;
		char tail[256];
		if (sscanf(line, " %d (ppid %*d) state %*c wchan %*s %255[^\n]", &pid, tail) == 2 &&
		    strcmp(tail, cmd) == 0)
			return pid;
	}
	return -1;
}

/* True when `pid` is gone (or, reused, no longer runs `cmd`). */
static bool gone(pid_t pid, const char *cmd)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	_cleanup_free_ char *now = NULL;
	size_t len = 0;
	if (ag_read_file_at(AT_FDCWD, path, 4096, &now, &len) < 0)
		return true;
	for (size_t i = 0; i + 1 < len; i++)
		if (now[i] == '\0')
			now[i] = ' ';
	return strcmp(now, cmd) != 0;
}

TestSuite(watchdog, .timeout = 60);

Test(watchdog, deadline_prints_the_tree_then_kills_it_all)
{
	struct run r = run_watchdog(
	        0, (const char *const[]){"--name", "hung-test", "1", "sh", "-c",
	                                 "sleep 97.5 & sleep 98.5; echo NOT-KILLED", NULL});
	cr_assert_eq(r.status, 124);
	cr_assert_lt(r.secs, 15, "the deadline was 1 s; took %.1f s", r.secs);
	cr_assert(strstr(r.out, "TIMEOUT: hung-test is still running after 1 s"), "%s", r.out);
	/* On a line of its own, as echo prints it, not in the listed command. */
	cr_assert(strncmp(r.out, "NOT-KILLED", 10) != 0 && !strstr(r.out, "\nNOT-KILLED"), "%s",
	          r.out);

	/* The shell and both its children, each with its state and wchan;
	 * the children indented below their parent. */
	const char *sh = "sh -c sleep 97.5 & sleep 98.5; echo NOT-KILLED";
	pid_t shell = listed_pid(r.out, sh), a = listed_pid(r.out, "sleep 97.5"),
	      b = listed_pid(r.out, "sleep 98.5");
	cr_assert(shell > 0 && a > 0 && b > 0, "%s", r.out);
	_cleanup_free_ char *child_line =
	        ag_asprintf("\n    %d (ppid %d) state S wchan ", a, shell);
	cr_assert(strstr(r.out, child_line), "no '%s' in\n%s", child_line + 1, r.out);
	cr_assert(gone(shell, sh) && gone(a, "sleep 97.5") && gone(b, "sleep 98.5"));
	free(r.out);
}

/* A double fork (the daemon's way out) still ends up under the watchdog,
 * a subreaper: it is found, reported and killed, and fails a test that
 * passed. */
Test(watchdog, processes_left_behind_fail_the_test_and_are_killed)
{
	struct run r =
	        run_watchdog(0, (const char *const[]){"--grace", "1", "--name", "leaky", "60", "sh",
	                                              "-c", "(setsid sleep 96.5 &); exit 0", NULL});
	cr_assert_eq(r.status, 125);
	cr_assert_lt(r.secs, 10, "grace was 1 s; took %.1f s", r.secs);
	cr_assert(strstr(r.out, "leaky exited with status 0, and 1 s later 1 of its processes "
	                        "were still running"),
	          "%s", r.out);
	pid_t pid = listed_pid(r.out, "sleep 96.5");
	cr_assert_gt(pid, 0, "%s", r.out);
	cr_assert(gone(pid, "sleep 96.5"));
	free(r.out);
}

Test(watchdog, leftovers_keep_a_failing_status)
{
	struct run r = run_watchdog(0, (const char *const[]){"--grace", "1", "60", "sh", "-c",
	                                                     "sleep 95.5 & exit 3", NULL});
	cr_assert_eq(r.status, 3);
	cr_assert(strstr(r.out, "were still running"), "%s", r.out);
	free(r.out);
}

Test(watchdog, children_that_finish_within_the_grace_are_fine)
{
	struct run r = run_watchdog(0, (const char *const[]){"--grace", "5", "60", "sh", "-c",
	                                                     "sleep 0.3 & exit 0", NULL});
	cr_assert_eq(r.status, 0);
	cr_assert_lt(r.secs, 4);
	cr_assert_str_eq(r.out, "");
	free(r.out);
}

Test(watchdog, exit_status_and_signal_pass_through)
{
	struct run r = run_watchdog(0, (const char *const[]){"60", "sh", "-c", "exit 3", NULL});
	cr_assert_eq(r.status, 3);
	cr_assert_str_eq(r.out, "");
	cr_assert_lt(r.secs, 2, "a command that ends at once is waited for %.1f s", r.secs);
	free(r.out);

	r = run_watchdog(0, (const char *const[]){"60", "sh", "-c", "kill -KILL $$", NULL});
	cr_assert_eq(r.status, 128 + SIGKILL);
	free(r.out);

	r = run_watchdog(0, (const char *const[]){"60", "/nonexistent/program", NULL});
	cr_assert_eq(r.status, 127);
	cr_assert(strstr(r.out, "cannot run /nonexistent/program"), "%s", r.out);
	free(r.out);
}

Test(watchdog, sigterm_is_passed_on)
{
	struct run r = run_watchdog(
	        SIGTERM,
	        (const char *const[]){"--grace", "1", "60", "sh", "-c",
	                              "trap 'exit 42' TERM; sleep 94.5 & echo ready; wait", NULL});
	/* sh runs its trap; its sleep is then a leftover. */
	cr_assert_eq(r.status, 42, "%s", r.out);
	free(r.out);
}

Test(watchdog, bad_usage_is_refused)
{
	struct run r = run_watchdog(0, (const char *const[]){"0", "true", NULL});
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.out, "the deadline wants whole seconds from 1 to 86400, got '0'"), "%s",
	          r.out);
	free(r.out);
	r = run_watchdog(0, (const char *const[]){"5", NULL});
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.out, "usage: test-watchdog"), "%s", r.out);
	free(r.out);
}
