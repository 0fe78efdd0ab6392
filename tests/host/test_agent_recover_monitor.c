/* Recovery of a task whose monitor ended or is still busy, with the driver
 * (tests/host/agent_sup_driver.c) on the real kernel:
 * - a monitor that ended but whose pid still exists (a zombie nobody has
 *   reaped yet: pid 1 or a subreaper reaps an orphan when it gets to it)
 *   after the dead agent reported the end and deleted the container, but
 *   was killed before recording it as reported: the end is what the
 *   monitor recorded, reported again (at least once), never TASK_LOST
 *   "cannot tell ... its container is creating";
 * - a monitor that is still the dead agent's fork creating the container
 *   after more than 5 s (a loaded host) is waited for, not killed and its
 *   task reported unknown. */
#include "agent_proc.h"
#include "agtest.h"
#include "common/proc.h"
#include "sup_driver.h"
#include "tmpdir.h"

#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char work[64];

static void setup(void)
{
	if (geteuid() != 0)
		AG_SKIP("needs root (namespaces, mounts)");
	cr_assert_eq(td_make(work, sizeof(work), "agora-rmon"), 0);
}

static void teardown(void)
{
	if (work[0])
		cr_expect_eq(td_remove(work), 0);
}

TestSuite(agent_recover_monitor, .init = setup, .fini = teardown, .timeout = 120);

static void put(const char *dir, const char *name, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	cr_assert(f, "%s", p);
	fputs(text, f);
	cr_assert(fclose(f) == 0);
}

/* Runs the driver with `args` to completion; returns its stdout. */
static char *drive(const char *const args[])
{
	return sd_drive(work, args);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Field 22 of /proc/<pid>/stat: what run/<cid>/monitor records. */
static unsigned long long start_ticks(pid_t pid)
{
	struct ag_proc_stat ps;
	cr_assert_eq(ag_proc_stat_read(pid, &ps), 0, "/proc/%d/stat", (int)pid);
	return ps.start_ticks;
}

/* The one record directory run/<cid>. */
static char *run_dir(void)
{
	char pat[128];
	snprintf(pat, sizeof(pat), "%s/run/ctr-*", work);
	char *d = agt_glob_one(pat);
	return d;
}

static const char *const finished =
        "UPDATE t TASK_FINISHED - status=0 msg=Command exited with status 0\n";

Test(agent_recover_monitor, an_ended_monitor_not_yet_reaped_tells_the_end_it_recorded)
{
	/* A real task, run to its end: its monitor recorded exit 0, the
	 * container was deleted and the end reported. */
	char *o = drive(ARGS("--until-idle", "--launch", "t=echo RAN"));
	cr_assert(strstr(o, finished), "%s", o);
	free(o);
	/* What an agent killed after reporting the end and before recording
	 * it leaves, while its monitor (a zombie of ours here) still has its
	 * pid. */
	char *dir = run_dir();
	pid_t z = fork();
	cr_assert(z >= 0);
	if (z == 0)
		_exit(0);
	for (int i = 0; i < 500; i++) {
		siginfo_t si = {0};
		cr_assert(waitid(P_PID, (id_t)z, &si, WEXITED | WNOWAIT | WNOHANG) == 0);
		if (si.si_pid == z)
			break; /* a zombie now, left unreaped */
		usleep(2000);
	}
	char text[128];
	snprintf(text, sizeof(text), "pid=%d\nstart=%llu\n", (int)z, start_ticks(z));
	put(dir, "monitor", text);
	put(dir, "state", "phase=running\nreported_running=1\n");

	o = drive(ARGS("--recover", "--until-idle"));
	cr_expect_str_eq(o, finished, "reported again as it ended (at least once), nothing else");
	free(o);
	waitpid(z, NULL, 0);
	free(dir);
}

Test(agent_recover_monitor, a_fork_still_creating_after_5_s_is_waited_for)
{
	/* A record in phase starting whose monitor (a process of ours standing
	 * in for the dead agent's fork) takes 7 s before its container exists;
	 * here it then records the task's end itself, as the monitor does. */
	char *o = drive(ARGS("--until-idle", "--launch", "t=echo RAN"));
	cr_assert(strstr(o, finished), "%s", o);
	free(o);
	char *dir = run_dir();
	char exitp[256], tmp[256];
	snprintf(exitp, sizeof(exitp), "%s/exit", dir);
	snprintf(tmp, sizeof(tmp), "%s/exit.slow", dir);
	cr_assert(rename(exitp, tmp) == 0);
	int go[2];
	cr_assert(pipe(go) == 0);
	pid_t m = fork();
	cr_assert(m >= 0);
	if (m == 0) {
		char c;
		close(go[1]);
		(void)!read(go[0], &c, 1);
		sleep(7);
		_exit(rename(tmp, exitp) == 0 ? 0 : 1);
	}
	close(go[0]);
	char text[128];
	snprintf(text, sizeof(text), "pid=%d\nstart=%llu\n", (int)m, start_ticks(m));
	put(dir, "monitor", text);
	put(dir, "state", "phase=starting\n");
	cr_assert(write(go[1], "g", 1) == 1);
	close(go[1]);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	o = drive(ARGS("--recover", "--until-idle"));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	int st = 0;
	cr_assert(waitpid(m, &st, 0) == m);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	          "the stand-in fork was let finish, not killed (status %d)", st);
	cr_expect_str_eq(o, finished);
	cr_expect_geq(t1.tv_sec - t0.tv_sec, 6, "recovery waited for the fork");
	free(o);
	free(dir);
}
