/* The agent's task supervision on the real kernel, cgroups disabled (this
 * host's cgroup v2 has no controllers): command tasks, their sandboxes, exit
 * codes, kill with grace, and the driver SIGKILLed and started again. */
#include "agent_proc.h"
#include "agtest.h"
#include "common/common.h"
#include "sup_driver.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/socket.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char work[64];

static void setup(void)
{
	agt_root_dir(work, sizeof(work), "sup");
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", work);
	if (work[0])
		cr_expect(system(cmd) == 0);
}

/* Runs the driver (argv after --work) to completion; returns its stdout. */
static char *drive(const char *const args[])
{
	return sd_drive(work, args);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* The one sandbox file `name` (only one task ran). */
static char *sandbox_file(const char *name)
{
	char pat[160];
	snprintf(pat, sizeof(pat), "%s/sandboxes/*/%s", work, name);
	char *one = agt_glob_one(pat), *s = ap_slurp(one);
	free(one);
	return s;
}

static double now_s(void)
{
	return (double)ag_now_ns() / 1e9;
}

TestSuite(agent_sup, .init = setup, .fini = teardown, .timeout = 60);

Test(agent_sup, command_task_finishes_with_its_output_in_the_sandbox)
{
	char *out = drive(ARGS("--until-idle", "--launch", "t=echo hello; echo oops >&2"));
	cr_expect(strstr(out, "UPDATE t TASK_STARTING"), "%s", out);
	cr_expect(strstr(out, "UPDATE t TASK_RUNNING"), "%s", out);
	cr_expect(strstr(out, "UPDATE t TASK_FINISHED - status=0"), "%s", out);
	char *so = sandbox_file("stdout"), *se = sandbox_file("stderr");
	cr_expect_str_eq(so, "hello\n");
	cr_expect_str_eq(se, "oops\n");
	free(so);
	free(se);
	free(out);
}

Test(agent_sup, nonzero_exit_is_failed_with_the_status)
{
	char *out = drive(ARGS("--until-idle", "--launch", "t=exit 3"));
	cr_expect(strstr(out, "UPDATE t TASK_FAILED REASON_COMMAND_EXECUTOR_FAILED status=3 "
	                      "msg=Command exited with status 3"),
	          "%s", out);
	free(out);
}

Test(agent_sup, a_missing_program_fails_the_launch)
{
	char *out = drive(ARGS("--until-idle", "--launch", "t=exec /nonexistent/prog"));
	cr_expect(strstr(out, "UPDATE t TASK_FAILED REASON_COMMAND_EXECUTOR_FAILED status=127"),
	          "%s", out);
	free(out);
}

Test(agent_sup, sandbox_is_the_cwd_and_the_host_root_is_read_only)
{
	char *out = drive(ARGS("--until-idle", "--launch",
	                       "t=pwd; echo $MESOS_SANDBOX; echo x > mine; touch /etc/agora-probe "
	                       "2>&1; touch /usr/agora-probe 2>&1; touch /tmp/ok && echo tmp-ok; "
	                       "ls /tmp; test -e /etc/passwd && echo host-etc"));
	cr_expect(strstr(out, "TASK_FINISHED"), "%s", out);
	char *so = sandbox_file("stdout");
	cr_expect(strstr(so, "/mnt/mesos/sandbox\n/mnt/mesos/sandbox\n"), "%s", so);
	cr_expect(count(so, "Read-only file system") == 2, "%s", so);
	cr_expect(strstr(so, "tmp-ok\nok\n"), "private /tmp: %s", so);
	cr_expect(strstr(so, "host-etc"), "%s", so);
	cr_expect(access("/etc/agora-probe", F_OK) != 0);
	char *mine = sandbox_file("mine");
	cr_expect_str_eq(mine, "x\n");
	free(mine);
	free(so);
	free(out);
}

Test(agent_sup, kill_a_task_that_exits_on_sigterm_is_killed_within_grace)
{
	double t0 = now_s();
	char *out = drive(ARGS("--until-idle", "--launch",
	                       "t=trap 'echo term; exit 0' TERM; while :; do sleep 0.05; done",
	                       "--kill", "t=10000", "--kill-after", "300"));
	double took = now_s() - t0;
	cr_expect(strstr(out, "UPDATE t TASK_KILLING"), "%s", out);
	cr_expect(strstr(out, "UPDATE t TASK_KILLED - status=0"), "%s", out);
	cr_expect(took < 5, "took %.1fs: SIGTERM was not delivered", took);
	char *so = sandbox_file("stdout");
	cr_expect_str_eq(so, "term\n");
	free(so);
	free(out);
}

Test(agent_sup, kill_a_task_that_ignores_sigterm_after_the_grace)
{
	double t0 = now_s();
	char *out = drive(ARGS("--until-idle", "--launch", "t=trap '' TERM; sleep 100 & wait",
	                       "--kill", "t=800", "--kill-after", "200"));
	double took = now_s() - t0;
	cr_expect(strstr(out, "UPDATE t TASK_KILLED - status=137"), "%s", out);
	cr_expect(took >= 0.9 && took < 10, "took %.2fs for a grace of 0.8s", took);
	free(out);
}

/* pid 1 of a command task is agora-init: SIGTERM (which the kernel drops
 * for a namespace's init without a handler) reaches the task at once, and
 * the task's own status is reported, its signal included. */
Test(agent_sup, kill_of_a_plain_sleep_ends_at_once_under_the_init)
{
	double t0 = now_s();
	char *out = drive(ARGS("--until-idle", "--launch", "t=exec sleep 1000", "--kill", "t=20000",
	                       "--kill-after", "200"));
	double took = now_s() - t0;
	cr_expect(strstr(out, "UPDATE t TASK_KILLED - status=143"), "%s", out);
	cr_expect(took < 3, "took %.2fs: SIGTERM waited for the 20 s grace", took);
	free(out);
}

Test(agent_sup, the_init_is_pid_1_reaps_orphans_and_keeps_the_status)
{
	char *out = drive(ARGS(
	        "--until-idle", "--launch",
	        "t=cat /proc/1/comm; for i in 1 2 3; do sh -c 'sleep 0.05 &'; done; sleep 0.5; "
	        "grep -l '^State:.*Z' /proc/[0-9]*/status | wc -l; exit 7"));
	cr_expect(strstr(out, "UPDATE t TASK_FAILED REASON_COMMAND_EXECUTOR_FAILED status=7 "
	                      "msg=Command exited with status 7"),
	          "%s", out);
	char *so = sandbox_file("stdout");
	cr_expect_str_eq(so, "agora-init\n0\n", "pid 1, then the zombies left: %s", so);
	free(so);
	free(out);
	out = drive(ARGS("--until-idle", "--launch", "s=kill -USR1 $$"));
	cr_expect(strstr(out, "UPDATE s TASK_FAILED REASON_COMMAND_EXECUTOR_FAILED status=138 "
	                      "msg=Command terminated by signal USR1"),
	          "%s", out);
	free(out);
}

/* Tasks are keyed by (framework, task id): two frameworks' "t" are two
 * containers with their own sandboxes, states and kills. */
Test(agent_sup, the_same_task_id_in_two_frameworks_runs_and_ends_independently)
{
	char *out = drive(ARGS("--until-idle", "--launch", "F1/t=exec sleep 100", "--launch",
	                       "F2/t=sleep 0.3; echo two; exit 3", "--kill", "F1/t=5000",
	                       "--kill-after", "100"));
	cr_expect(strstr(out, "UPDATE F1/t TASK_RUNNING"), "%s", out);
	cr_expect(strstr(out, "UPDATE F2/t TASK_RUNNING"), "%s", out);
	cr_expect(strstr(out, "UPDATE F1/t TASK_KILLED - status=143"), "%s", out);
	cr_expect(strstr(out, "UPDATE F2/t TASK_FAILED REASON_COMMAND_EXECUTOR_FAILED status=3"),
	          "%s", out);
	cr_expect(!strstr(out, "UPDATE F2/t TASK_KILL"), "F1's kill reached F2's task: %s", out);
	char pat[160];
	snprintf(pat, sizeof(pat), "%s/sandboxes/*/stdout", work);
	glob_t g;
	cr_assert(glob(pat, 0, NULL, &g) == 0);
	cr_expect_eq(g.gl_pathc, 2, "one sandbox each");
	globfree(&g);
	free(out);
}

/* The pids recorded by the monitors of the tasks. */
static pid_t monitor_pid(void)
{
	char pat[160];
	snprintf(pat, sizeof(pat), "%s/run/*/monitor", work);
	char *one = agt_glob_one(pat), *s = ap_slurp(one);
	free(one);
	pid_t p = (pid_t)atoi(s + 4);
	free(s);
	return p;
}

static pid_t start_driver(const char *const args[], const char *out)
{
	return sd_start(work, args, out);
}

static void wait_for_text(const char *path, const char *text)
{
	for (int i = 0; i < 200; i++) {
		char *s = ap_slurp(path);
		bool found = strstr(s, text) != NULL;
		free(s);
		if (found)
			return;
		usleep(50000);
	}
	cr_assert_fail("`%s` never appeared in %s", text, path);
}

Test(agent_sup, sigkilled_driver_gets_the_real_exit_status_once_on_restart)
{
	char out[128];
	snprintf(out, sizeof(out), "%s.drv", work);
	pid_t d = start_driver(ARGS("--launch", "t=sleep 1.5; exit 7"), out);
	wait_for_text(out, "UPDATE t TASK_RUNNING");
	cr_assert(kill(d, SIGKILL) == 0);
	waitpid(d, NULL, 0);

	/* The task outlives the driver, and ends while it is down. */
	pid_t m = monitor_pid();
	cr_expect(kill(m, 0) == 0, "the monitor died with the driver");
	char exitp[160];
	snprintf(exitp, sizeof(exitp), "%s/run/*/exit", work);
	glob_t g;
	cr_expect(glob(exitp, 0, NULL, &g) != 0, "ended too early");
	for (int i = 0; i < 100 && kill(m, 0) == 0; i++)
		usleep(50000);
	cr_assert(glob(exitp, 0, NULL, &g) == 0, "the monitor recorded no exit");
	globfree(&g);

	char *o = drive(ARGS("--recover", "--until-idle"));
	cr_expect(count(o, "UPDATE t ") == 1, "%s", o);
	cr_expect(strstr(o, "UPDATE t TASK_FAILED REASON_COMMAND_EXECUTOR_FAILED status=7"), "%s",
	          o);
	free(o);
	/* Reported is recorded: a third start reports nothing again. */
	o = drive(ARGS("--recover", "--until-idle"));
	cr_expect(count(o, "UPDATE") == 0, "%s", o);
	free(o);
	char log[160];
	snprintf(log, sizeof(log), "%s/events.log", work);
	char *all = ap_slurp(log);
	cr_expect(count(all, "TASK_STARTING") == 1 && count(all, "TASK_RUNNING") == 1 &&
	                  count(all, "TASK_FAILED") == 1,
	          "launched or reported twice: %s", all);
	free(all);
	unlink(out);
}

Test(agent_sup, a_monitor_holds_nothing_of_the_agent)
{
	/* The driver (standing in for the agent) holds a socket without
	 * close-on-exec, as libevent's client connections are: the monitor,
	 * which outlives it, must not keep it (nor anything else of its). */
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	char out[128];
	snprintf(out, sizeof(out), "%s.drv", work);
	pid_t d = start_driver(ARGS("--launch", "t=sleep 1"), out);
	close(sv[0]);
	close(sv[1]);
	wait_for_text(out, "UPDATE t TASK_RUNNING");
	pid_t m = monitor_pid();
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)m);
	DIR *fds = opendir(dir);
	cr_assert_not_null(fds);
	struct dirent *de;
	int n = 0;
	while ((de = readdir(fds))) {
		if (de->d_name[0] == '.')
			continue;
		char link[320], target[512] = "";
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		ssize_t k = readlink(link, target, sizeof(target) - 1);
		target[k > 0 ? k : 0] = '\0';
		cr_expect_null(strstr(target, "socket:"), "the monitor holds fd %s -> %s",
		               de->d_name, target);
		n++;
	}
	closedir(fds);
	cr_expect_leq(n, 6, "the monitor holds %d fds", n);
	cr_assert(kill(d, SIGKILL) == 0);
	waitpid(d, NULL, 0);
	char *o = drive(ARGS("--recover", "--until-idle"));
	free(o);
	unlink(out);
}

Test(agent_sup, restarted_driver_reattaches_a_running_task)
{
	char out[128];
	snprintf(out, sizeof(out), "%s.drv", work);
	pid_t d = start_driver(ARGS("--launch", "t=sleep 1.5"), out);
	wait_for_text(out, "UPDATE t TASK_RUNNING");
	cr_assert(kill(d, SIGKILL) == 0);
	waitpid(d, NULL, 0);
	char *o = drive(ARGS("--recover", "--until-idle"));
	/* Reporting is at least once: RUNNING is reported before it is
	 * recorded as reported (the other order could lose it), so a kill
	 * that lands between the two (the driver printed RUNNING, which is
	 * all this test waits for) has the recovered driver report RUNNING
	 * again; the agent's queue drops it as a duplicate. Nothing else may
	 * be reported twice, and the end exactly once. */
	const char *fin = "UPDATE t TASK_FINISHED - status=0 msg=Command exited with status 0\n";
	const char *again = "UPDATE t TASK_RUNNING - status=- msg=\n";
	const char *rest = strncmp(o, again, strlen(again)) == 0 ? o + strlen(again) : o;
	cr_expect_str_eq(rest, fin, "%s", o);
	free(o);
	unlink(out);
}

Test(agent_sup, sigkilled_driver_finishes_a_kill_on_restart)
{
	char out[128];
	snprintf(out, sizeof(out), "%s.drv", work);
	/* A task that ignores SIGTERM: the kill is still in its grace period
	 * when the driver dies, so the restarted one must finish it. */
	pid_t d = start_driver(ARGS("--launch", "t=trap '' TERM; sleep 100 & wait", "--kill",
	                            "t=600", "--kill-after", "100"),
	                       out);
	wait_for_text(out, "UPDATE t TASK_KILLING");
	cr_assert(kill(d, SIGKILL) == 0);
	waitpid(d, NULL, 0);
	char *o = drive(ARGS("--recover", "--until-idle"));
	cr_expect(strstr(o, "UPDATE t TASK_KILLED - status=137"), "%s", o);
	free(o);
	unlink(out);
}

Test(agent_sup, monitor_sigkilled_is_lost_with_the_reason)
{
	char out[128];
	snprintf(out, sizeof(out), "%s.drv", work);
	pid_t d = start_driver(ARGS("--launch", "t=sleep 100"), out);
	/* LAUNCHED: "running" is on disk. Killed right after the UPDATE, the
	 * driver may not have recorded it yet (the record says "starting",
	 * and that recovery is another test's). */
	wait_for_text(out, "LAUNCHED t ");
	cr_assert(kill(d, SIGKILL) == 0);
	waitpid(d, NULL, 0);
	pid_t m = monitor_pid();
	cr_assert(kill(m, SIGKILL) == 0);
	for (int i = 0; i < 100 && kill(m, 0) == 0; i++)
		usleep(20000);
	char *o = drive(ARGS("--recover", "--until-idle"));
	cr_expect(strstr(o, "UPDATE t TASK_LOST REASON_EXECUTOR_TERMINATED status=- msg=exit "
	                    "status unknown"),
	          "%s", o);
	free(o);
	unlink(out);
}

Test(agent_sup, a_launch_cut_short_is_failed_never_relaunched)
{
	/* What an agent killed right after writing the record leaves. */
	char dir[160], p[200];
	snprintf(dir, sizeof(dir), "%s/run", work);
	mkdir(work, 0755);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/run/ctr-0123456789abcdef", work);
	cr_assert(mkdir(dir, 0700) == 0);
	snprintf(p, sizeof(p), "%s/task.json", dir);
	FILE *f = fopen(p, "w");
	fprintf(f,
	        "{\"task_id\":\"t\",\"container_id\":\"ctr-0123456789abcdef\",\"sandbox\":\"%s/"
	        "sandboxes/ctr-0123456789abcdef\"}",
	        work);
	fclose(f);
	snprintf(p, sizeof(p), "%s/state", dir);
	f = fopen(p, "w");
	fputs("phase=launching\n", f);
	fclose(f);
	char *o = drive(ARGS("--recover", "--until-idle"));
	cr_expect_str_eq(o, "UPDATE t TASK_FAILED REASON_AGENT_RESTARTED status=- msg=the agent "
	                    "restarted during the launch: the task never started and is not "
	                    "relaunched\n");
	free(o);
}

Test(agent_sup, finished_sandboxes_are_collected_after_the_keep_time)
{
	char *o = drive(ARGS("--until-idle", "--keep-ms", "1", "--launch", "t=true"));
	cr_expect(strstr(o, "TASK_FINISHED"), "%s", o);
	free(o);
	usleep(10000);
	o = drive(ARGS("--recover", "--until-idle", "--keep-ms", "1", "--launch", "u=true"));
	free(o);
	/* The restart's timer collects t (and u once its monitor is reaped). */
	char pat[160];
	snprintf(pat, sizeof(pat), "%s/sandboxes/*", work);
	glob_t g;
	int r = glob(pat, 0, NULL, &g);
	cr_expect(r != 0 || g.gl_pathc <= 1, "%zu sandboxes left", r == 0 ? g.gl_pathc : 0);
	if (r == 0)
		globfree(&g);
}

#include "containerizer/capacity.h"

Test(agent_sup, capacity_refuses_without_cgroup_v2_controllers_unless_told)
{
	struct ctz_capacity_config cfg = {.work_dir = "/", .cgroup_parent = "agora"};
	struct ctz_capacity r;
	struct ag_error err = {0};
	int rc = ctz_capacity_measure(&cfg, &r, &err);
	if (rc == 0) {
		cr_expect(r.isolated && r.cpus > 0 && r.mem_bytes > 0);
		return; /* a host with cgroup v2 controllers */
	}
	cr_expect_eq(rc, -EOPNOTSUPP);
	cr_expect(strstr(err.msg, "--no-isolation"), "%s", err.msg);
	printf("capacity on this host: %s\n", err.msg);
	cfg.no_isolation = true;
	cr_assert(ctz_capacity_measure(&cfg, &r, &err) == 0, "%s", err.msg);
	cr_expect(!r.isolated);
}
