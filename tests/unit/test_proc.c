/* The one /proc/PID/stat reader (common/proc.c): the runtime's pid checks,
 * the containerizer's monitor records, the test watchdog and the tests. */
#include "agtest.h"
#include "common/common.h"
#include "common/proc.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

/* A line as the kernel writes it, with `comm` as given. */
static char *stat_line(const char *comm)
{
	return ag_asprintf("4242 (%s) S 17 4242 4242 0 -1 4194560 120 0 0 0 7 3 0 0 20 0 1 0 "
	                   "987654 1234567 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 "
	                   "1 0 0 0 0 0\n",
	                   comm);
}

Test(proc, parses_the_fields_after_the_last_parenthesis)
{
	static const char *const comms[] = {"sleep", "a b", "x) S 99 (", ")", "((", "", "a)b) R 1"};
	for (size_t i = 0; i < AG_ARRAY_SIZE(comms); i++) {
		_cleanup_free_ char *line = stat_line(comms[i]);
		struct ag_proc_stat ps;
		cr_assert_eq(ag_proc_stat_parse(line, &ps), 0, "%s", line);
		cr_assert_str_eq(ps.comm, comms[i]);
		cr_assert_eq(ps.state, 'S', "comm `%s`", comms[i]);
		cr_assert_eq(ps.ppid, 17, "comm `%s`", comms[i]);
		cr_assert_eq(ps.utime, 7);
		cr_assert_eq(ps.stime, 3);
		cr_assert_eq(ps.start_ticks, 987654, "comm `%s`", comms[i]);
	}
}

Test(proc, refuses_what_is_not_a_stat_line)
{
	static const char *const bad[] = {
	        "",
	        "4242 sleep S 1 2 3",                 /* no parentheses */
	        "4242 (sleep)S 17 1 1 0 -1 4194560",  /* no space after ')' */
	        "4242 (sleep) S 17 4242 4242 0 -1 1", /* ends before field 22 */
	        "4242 (sleep) S x 4242 4242 0 -1 4194560 120 0 0 0 7 3 0 0 20 0 1 0 9 1",
	        "4242 (sleep) SS 17 4242 4242 0 -1 4194560 120 0 0 0 7 3 0 0 20 0 1 0 9 1",
	};
	for (size_t i = 0; i < AG_ARRAY_SIZE(bad); i++) {
		struct ag_proc_stat ps;
		cr_assert_eq(ag_proc_stat_parse(bad[i], &ps), -EINVAL, "`%s`", bad[i]);
	}
	/* A long comm is cut to fit, the fields still read. */
	char comm[200];
	memset(comm, 'c', sizeof(comm) - 1);
	comm[sizeof(comm) - 1] = '\0';
	_cleanup_free_ char *line = stat_line(comm);
	struct ag_proc_stat ps;
	cr_assert_eq(ag_proc_stat_parse(line, &ps), 0);
	cr_assert_eq(strlen(ps.comm), sizeof(ps.comm) - 1);
	cr_assert_eq(ps.start_ticks, 987654);
}

/* Against the real kernel: this process, a child whose name holds ") Z 1 (",
 * the same child as a zombie, and a pid that is gone. */
Test(proc, reads_live_and_zombie_processes)
{
	struct ag_proc_stat self;
	cr_assert_eq(ag_proc_stat_read(getpid(), &self), 0);
	cr_assert_eq(self.state, 'R');
	cr_assert_eq(self.ppid, getppid());
	cr_assert_gt(self.start_ticks, 0);

	int go[2];
	cr_assert_eq(pipe2(go, O_CLOEXEC), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_NAME, "w) Z 1 (x y");
		char c;
		close(go[1]);
		_exit(read(go[0], &c, 1) == 1 ? 0 : 1);
	}
	close(go[0]);
	struct ag_proc_stat ps;
	for (int i = 0; i < 1000; i++) {
		cr_assert_eq(ag_proc_stat_read(pid, &ps), 0);
		if (strcmp(ps.comm, "w) Z 1 (x y") == 0 && ps.state == 'S')
			break;
		usleep(2000);
	}
	cr_assert_str_eq(ps.comm, "w) Z 1 (x y");
	cr_assert_eq(ps.state, 'S');
	cr_assert_eq(ps.ppid, getpid());
	cr_assert_geq(ps.start_ticks, self.start_ticks);
	uint64_t started = ps.start_ticks;

	cr_assert_eq(write(go[1], "x", 1), 1);
	close(go[1]);
	siginfo_t si;
	cr_assert_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	cr_assert_eq(ag_proc_stat_read(pid, &ps), 0);
	cr_assert_eq(ps.state, 'Z');
	cr_assert_eq(ps.start_ticks, started, "a zombie keeps its start time");

	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	cr_assert_eq(ag_proc_stat_read(pid, &ps), -ENOENT);
}
