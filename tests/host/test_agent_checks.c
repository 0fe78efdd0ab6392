/* Health checks and checks (docs/checks.md) run by the real agora-agent
 * against a fake master (tests/lib/agentd_harness.c): COMMAND checks in
 * the task's container, HTTP and TCP checks against a server the task
 * runs, Mesos's grace period and consecutive failures, the kill with
 * REASON_TASK_HEALTH_CHECK_STATUS_UPDATED, check_status changes, checks
 * resumed after the agent is SIGKILLed, and bad checks refused naming the
 * field. No cgroups on this host: --no_isolation (the vm tier runs a
 * health-checked task under cgroup v2). */
#include "agent_proc.h"
#include "agentd_harness.h"
#include "agtest.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char work[64];
static pid_t agent = -1;
static int op_port;

static void start_agent(void)
{
	if (!op_port)
		op_port = ah_free_port();
	agent = ap_start(work, fm.port, op_port, NULL, NULL);
	cr_assert(agent > 0);
}

static void setup(void)
{
	agt_root_dir(work, sizeof(work), "checks");
	fm.ack_first = true;
	cr_assert(fm_start() == 0);
	start_agent();
	WAIT_FOR(fm_registers() >= 1, 10);
}

static bool terminal(const char *state)
{
	return strcmp(state, "TASK_FINISHED") == 0 || strcmp(state, "TASK_FAILED") == 0 ||
	       strcmp(state, "TASK_KILLED") == 0 || strcmp(state, "TASK_ERROR") == 0 ||
	       strcmp(state, "TASK_LOST") == 0;
}

/* Tasks of F0 that have not ended; their ids into ids[]. */
static int running_tasks(char ids[][64], int max)
{
	int n = 0;
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd; i++) {
		bool ended = false, seen = false;
		for (int j = 0; j < fm.n_upd; j++)
			if (strcmp(fm.upd[j].task, fm.upd[i].task) == 0 &&
			    terminal(fm.upd[j].state))
				ended = true;
		for (int k = 0; k < n; k++)
			seen |= strcmp(ids[k], fm.upd[i].task) == 0;
		if (!ended && !seen && n < max)
			snprintf(ids[n++], 64, "%s", fm.upd[i].task);
	}
	pthread_mutex_unlock(&fm.mu);
	return n;
}

static void teardown(void)
{
	/* Without isolation a task outlives its monitor: each is killed
	 * through the agent (a server would run on for ever). */
	char ids[64][64];
	int n = agent > 0 ? running_tasks(ids, 64) : 0;
	for (int i = 0; i < n; i++) {
		char buf[256];
		snprintf(buf, sizeof(buf),
		         "{\"type\":\"KILL_TASK\",\"kill_task\":{\"framework_id\":{\"value\":"
		         "\"F0\"},\"task_id\":{\"value\":\"%.63s\"},\"kill_policy\":{"
		         "\"grace_period\":{\"nanoseconds\":0}}}}",
		         ids[i]);
		fm_send(buf);
	}
	for (double end = ah_now_s() + 10; n && running_tasks(ids, 64) && ah_now_s() < end;)
		usleep(50000);
	ap_stop(&agent, SIGTERM);
	const char *why = ap_keep_log(work, NULL, NULL);
	cr_expect(!*why, "%s", why);
	ap_kill_monitors(work);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s.log", work, work);
	if (work[0])
		cr_expect(system(cmd) == 0);
}

TestSuite(agent_checks, .init = setup, .fini = teardown, .timeout = 120);

/* The updates of `task`, in order of arrival, copied out. */
static int updates_of(const char *task, struct ctz_upd_rec *out, int max)
{
	int n = 0;
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd && n < max; i++)
		if (strcmp(fm.upd[i].task, task) == 0)
			out[n++] = fm.upd[i];
	pthread_mutex_unlock(&fm.mu);
	return n;
}

/* The first update of `task` in `state` whose `healthy` is `healthy` ("":
 * any) and whose check_status contains `check` (NULL: any); NULL: none.
 * Static storage. */
static const struct ctz_upd_rec *find_update(const char *task, const char *state,
                                             const char *healthy, const char *check)
{
	static struct ctz_upd_rec recs[64], hit;
	int n = updates_of(task, recs, 64);
	for (int i = 0; i < n; i++)
		if (strcmp(recs[i].state, state) == 0 &&
		    (!*healthy || strcmp(recs[i].healthy, healthy) == 0) &&
		    (!check || strstr(recs[i].check, check))) {
			hit = recs[i];
			return &hit;
		}
	return NULL;
}

static bool has_state(const char *task, const char *state)
{
	return fm_count(task, state) > 0;
}

/* How many updates of `task` in `state` arrived (each once). */
static int n_state(const char *task, const char *state)
{
	static struct ctz_upd_rec recs[64];
	int n = updates_of(task, recs, 64), k = 0;
	for (int i = 0; i < n; i++)
		k += strcmp(recs[i].state, state) == 0;
	return k;
}

static char *states(const char *task)
{
	static char got[1024];
	fm_states(task, got, sizeof(got));
	return got;
}

/* The `healthy` values of the task's TASK_RUNNING updates for a change of
 * its health, in order ("true false"); updates for a check's result carry
 * the health too, unchanged. */
static char *health_trail(const char *task)
{
	static char out[512];
	static struct ctz_upd_rec recs[64];
	int n = updates_of(task, recs, 64);
	out[0] = '\0';
	for (int i = 0; i < n; i++)
		if (strcmp(recs[i].state, "TASK_RUNNING") == 0 && recs[i].healthy[0] &&
		    strcmp(recs[i].reason, "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED") == 0)
			snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s",
			         out[0] ? " " : "", recs[i].healthy);
	return out;
}

/* ,"health_check":{COMMAND `cmd`, delay 0, interval, grace, failures} */
static char *command_health(const char *cmd, double interval, double grace, int failures,
                            double timeout)
{
	static char buf[1024];
	snprintf(buf, sizeof(buf),
	         ",\"health_check\":{\"type\":\"COMMAND\",\"command\":{\"value\":\"%s\"},"
	         "\"delay_seconds\":0,\"interval_seconds\":%g,\"grace_period_seconds\":%g,"
	         "\"consecutive_failures\":%d,\"timeout_seconds\":%g}",
	         cmd, interval, grace, failures, timeout);
	return buf;
}

Test(agent_checks, command_health_check_turns_unhealthy_and_the_task_is_killed)
{
	/* Healthy while the file is there (the check runs in the sandbox,
	 * the task's working directory), then gone. A grace period covers a
	 * first run before the task made its file. */
	fm_run_task("t-hc", "nobody", "touch ok; sleep 1.5; rm ok; sleep 100", NULL,
	            command_health("test -e ok", 0.2, 5, 2, 5));
	WAIT_FOR(has_state("t-hc", "TASK_KILLED"), 30);
	cr_expect_str_eq(health_trail("t-hc"), "true false");
	const struct ctz_upd_rec *r = find_update("t-hc", "TASK_RUNNING", "true", NULL);
	cr_assert(r);
	cr_expect_str_eq(r->reason, "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED");
	r = find_update("t-hc", "TASK_RUNNING", "false", NULL);
	cr_assert(r);
	cr_expect_str_eq(r->reason, "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED");
	cr_expect(strstr(r->msg, "COMMAND check: exited with status 1"), "%s", r->msg);
	r = find_update("t-hc", "TASK_KILLED", "", NULL);
	cr_assert(r);
	cr_expect_str_eq(r->healthy, "false");
	cr_expect_str_eq(r->reason, "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED");
	cr_expect_str_eq(states("t-hc"),
	                 "TASK_STARTING TASK_RUNNING TASK_RUNNING TASK_RUNNING TASK_KILLING "
	                 "TASK_KILLED");
}

Test(agent_checks, grace_period_ignores_failures_until_the_first_success)
{
	/* Unhealthy for its first 1.5 s: with a grace period of 20 s that is
	 * not counted, and the first verdict is healthy; once healthy, one
	 * failure (consecutive_failures 1) kills it, grace or not. */
	fm_run_task("t-grace", "nobody", "sleep 1.5; touch ok; sleep 1.5; rm ok; sleep 100", NULL,
	            command_health("test -e ok", 0.2, 20, 1, 5));
	/* Without a grace period the same task dies unhealthy at once. */
	fm_run_task("t-nograce", "nobody", "sleep 1.5; touch ok; sleep 100", NULL,
	            command_health("test -e ok", 0.2, 0, 1, 5));
	WAIT_FOR(has_state("t-nograce", "TASK_KILLED"), 30);
	cr_expect_str_eq(health_trail("t-nograce"), "false");
	WAIT_FOR(has_state("t-grace", "TASK_KILLED"), 30);
	cr_expect_str_eq(health_trail("t-grace"), "true false");
	const struct ctz_upd_rec *r = find_update("t-grace", "TASK_KILLED", "false", NULL);
	cr_assert(r);
	cr_expect_str_eq(r->reason, "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED");
}

Test(agent_checks, grace_period_ends_without_a_success)
{
	/* Never healthy: failures count once the 1 s grace period is over. */
	double t0 = ah_now_s();
	fm_run_task("t-never", "nobody", "sleep 100", NULL, command_health("false", 0.2, 1, 2, 5));
	WAIT_FOR(has_state("t-never", "TASK_KILLED"), 30);
	cr_expect(ah_now_s() - t0 >= 1.0, "killed %.2f s after the launch, within its grace",
	          ah_now_s() - t0);
	cr_expect_str_eq(health_trail("t-never"), "false");
}

Test(agent_checks, command_check_times_out_and_its_process_is_killed)
{
	fm_run_task("t-slow", "nobody", "sleep 100", NULL,
	            command_health("sleep 4343", 0.2, 0, 1, 0.3));
	WAIT_FOR(has_state("t-slow", "TASK_KILLED"), 30);
	const struct ctz_upd_rec *r = find_update("t-slow", "TASK_RUNNING", "false", NULL);
	cr_assert(r);
	cr_expect(strstr(r->msg, "timed out after 0.3 s"), "%s", r->msg);
	/* No check process left behind. */
	cr_expect(system("pgrep -f 'sleep 434[3]' >/dev/null") != 0);
}

Test(agent_checks, command_check_runs_in_the_tasks_pid_and_mount_namespaces)
{
	/* A file in the task's private /tmp, and a pid namespace with a
	 * handful of processes: the host has neither. Exit 0 only when the
	 * check sees both; 3 or 5 say which is missing. */
	static const char *check_cmd = "test -e /tmp/only-in-the-task || exit 3; "
	                               "n=$(ls /proc | grep -c '^[0-9]'); test $n -lt 10 || exit 5";
	char extra[1024];
	snprintf(extra, sizeof(extra),
	         ",\"check\":{\"type\":\"COMMAND\",\"command\":{\"command\":{\"value\":\"%s\"}},"
	         "\"delay_seconds\":0,\"interval_seconds\":0.3,\"timeout_seconds\":5}",
	         check_cmd);
	fm_run_task("t-ns", "nobody", "touch /tmp/only-in-the-task; sleep 100", NULL, extra);
	/* (A first run before the task made its file exits 3.) */
	WAIT_FOR(find_update("t-ns", "TASK_RUNNING", "", "\"exit_code\":0"), 30);
	const struct ctz_upd_rec *r = find_update("t-ns", "TASK_RUNNING", "", "\"exit_code\":0");
	cr_expect_str_eq(r->check, "{\"command\":{\"exit_code\":0},\"type\":\"COMMAND\"}");
	cr_expect_str_eq(r->reason, "REASON_TASK_CHECK_STATUS_UPDATED");
	cr_expect(!find_update("t-ns", "TASK_RUNNING", "", "\"exit_code\":5"),
	          "the check saw the host's processes");
	/* The control: on the host, the same check fails. */
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "sh -c \"%s\"", check_cmd);
	cr_expect(system(cmd) != 0, "the check passes on the host too: it proves nothing");
	/* The check changes nothing: the task runs on. */
	cr_expect(!has_state("t-ns", "TASK_KILLED"));
}

Test(agent_checks, check_status_reports_each_change_of_the_result)
{
	char extra[1024];
	snprintf(extra, sizeof(extra),
	         ",\"check\":{\"type\":\"COMMAND\",\"command\":{\"command\":{\"value\":"
	         "\"test -e f\"}},\"delay_seconds\":0,\"interval_seconds\":0.2,"
	         "\"timeout_seconds\":5}");
	fm_run_task("t-cs", "nobody", "sleep 1; touch f; sleep 2; rm f; sleep 100", NULL, extra);
	WAIT_FOR(n_state("t-cs", "TASK_RUNNING") >= 4, 30);
	sleep(1); /* nothing more comes */
	static struct ctz_upd_rec recs[64];
	int n = updates_of("t-cs", recs, 64);
	char trail[512] = "";
	for (int i = 0; i < n; i++)
		if (recs[i].check[0])
			snprintf(trail + strlen(trail), sizeof(trail) - strlen(trail), "%s ",
			         strstr(recs[i].check, "\"exit_code\":0") ? "0" : "1");
	/* 1 then 0 then 1: each change once, never a repeat. */
	cr_expect_str_eq(trail, "1 0 1 ");
	cr_expect(!has_state("t-cs", "TASK_KILLED"), "a check never kills");
}

/* A task that serves HTTP on `port` with python3's http.server after
 * `delay` seconds, its sandbox as the document root. */
static void http_task(const char *id, int port, double delay, const char *extra)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd),
	         "sleep %g; touch here; exec python3 -m http.server %d --bind 127.0.0.1", delay,
	         port);
	fm_run_task(id, "nobody", cmd, NULL, extra);
}

Test(agent_checks, http_health_check_and_http_check_against_a_server_in_the_task)
{
	if (system("python3 -c 'import http.server' 2>/dev/null") != 0)
		AG_SKIP("python3 is not installed");
	int port = ah_free_port();
	char extra[1024];
	snprintf(extra, sizeof(extra),
	         ",\"health_check\":{\"type\":\"HTTP\",\"http\":{\"port\":%d,\"path\":\"/here\"},"
	         "\"delay_seconds\":0,\"interval_seconds\":0.3,\"grace_period_seconds\":30,"
	         "\"consecutive_failures\":2,\"timeout_seconds\":2},"
	         "\"check\":{\"type\":\"HTTP\",\"http\":{\"port\":%d,\"path\":\"/missing\"},"
	         "\"delay_seconds\":0,\"interval_seconds\":0.3,\"timeout_seconds\":2}",
	         port, port);
	http_task("t-http", port, 0.5, extra);
	WAIT_FOR(find_update("t-http", "TASK_RUNNING", "true", NULL) &&
	                 find_update("t-http", "TASK_RUNNING", "", "status_code\":404"),
	         30);
	/* Until the server listened, the check had no answer: an empty
	 * result; then the server's 404. */
	const struct ctz_upd_rec *r = find_update("t-http", "TASK_RUNNING", "", "status_code");
	cr_expect_str_eq(r->check, "{\"http\":{\"status_code\":404},\"type\":\"HTTP\"}");
	cr_expect(!has_state("t-http", "TASK_KILLED"));
	cr_expect_str_eq(health_trail("t-http"), "true");
}

Test(agent_checks, http_health_check_of_a_missing_page_kills_the_task)
{
	if (system("python3 -c 'import http.server' 2>/dev/null") != 0)
		AG_SKIP("python3 is not installed");
	int port = ah_free_port();
	char extra[1024];
	snprintf(extra, sizeof(extra),
	         ",\"health_check\":{\"type\":\"HTTP\",\"http\":{\"port\":%d,\"path\":\"/gone\","
	         "\"scheme\":\"http\"},\"delay_seconds\":0,\"interval_seconds\":0.3,"
	         "\"grace_period_seconds\":1,\"consecutive_failures\":2,\"timeout_seconds\":2}",
	         port);
	http_task("t-404", port, 0, extra);
	WAIT_FOR(has_state("t-404", "TASK_KILLED"), 30);
	const struct ctz_upd_rec *r = find_update("t-404", "TASK_RUNNING", "false", NULL);
	cr_assert(r);
	cr_expect(strstr(r->msg, "status 404"), "%s", r->msg);
}

Test(agent_checks, tcp_health_check_and_tcp_check_see_the_port_open)
{
	if (system("python3 -c 'import http.server' 2>/dev/null") != 0)
		AG_SKIP("python3 is not installed");
	int port = ah_free_port();
	char extra[1024];
	snprintf(extra, sizeof(extra),
	         ",\"health_check\":{\"type\":\"TCP\",\"tcp\":{\"port\":%d},\"delay_seconds\":0,"
	         "\"interval_seconds\":0.2,\"grace_period_seconds\":30,"
	         "\"consecutive_failures\":3,\"timeout_seconds\":2},"
	         "\"check\":{\"type\":\"TCP\",\"tcp\":{\"port\":%d},\"delay_seconds\":0,"
	         "\"interval_seconds\":0.2,\"timeout_seconds\":2}",
	         port, port);
	/* Listening only after 1.5 s: refused until then. */
	http_task("t-tcp", port, 1.5, extra);
	WAIT_FOR(find_update("t-tcp", "TASK_RUNNING", "", "\"succeeded\":true") &&
	                 *health_trail("t-tcp"),
	         30);
	cr_expect(find_update("t-tcp", "TASK_RUNNING", "", "\"succeeded\":false"),
	          "no update for the port still closed");
	cr_expect_str_eq(health_trail("t-tcp"), "true");
	cr_expect(!has_state("t-tcp", "TASK_KILLED"));
}

Test(agent_checks, checks_resume_after_the_agent_is_sigkilled)
{
	fm_run_task("t-rec", "nobody", "sleep 100", NULL,
	            command_health("test ! -e sick", 0.2, 0, 2, 5));
	WAIT_FOR(find_update("t-rec", "TASK_RUNNING", "true", NULL), 30);
	ap_stop(&agent, SIGKILL);
	/* The task falls ill while the agent is away. */
	char pat[128];
	snprintf(pat, sizeof(pat), "%s/sandboxes/*", work);
	char *sbx = agt_glob_one(pat);
	cr_assert(sbx, "no sandbox under %s", pat);
	char path[512];
	snprintf(path, sizeof(path), "%s/sick", sbx);
	free(sbx);
	FILE *f = fopen(path, "w");
	cr_assert(f, "%s: %s", path, strerror(errno));
	fclose(f);
	int before = fm_registers();
	start_agent();
	WAIT_FOR(fm_registers() > before, 10);
	WAIT_FOR(has_state("t-rec", "TASK_KILLED"), 30);
	cr_expect_str_eq(health_trail("t-rec"), "true false");
	const struct ctz_upd_rec *r = find_update("t-rec", "TASK_KILLED", "false", NULL);
	cr_assert(r);
	cr_expect_str_eq(r->reason, "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED");
}

/* RUN_TASK with `extra` is answered TASK_ERROR whose message has `needle`. */
static void refused(const char *id, const char *extra, const char *needle)
{
	fm_run_task(id, "nobody", "sleep 100", NULL, extra);
	WAIT_FOR(has_state(id, "TASK_ERROR"), 10);
	const struct ctz_upd_rec *r = find_update(id, "TASK_ERROR", "", NULL);
	cr_expect(strstr(r->msg, needle), "%s: `%s` not in `%s`", id, needle, r->msg);
	cr_expect_str_eq(r->reason, "REASON_TASK_INVALID");
}

Test(agent_checks, bad_checks_are_task_errors_naming_the_field)
{
	refused("t-b1",
	        ",\"health_check\":{\"type\":\"COMMAND\",\"command\":{\"value\":\"true\"},"
	        "\"interval_seconds\":-1}",
	        "task.health_check.interval_seconds: -1 seconds: must be more than 0");
	refused("t-b2", ",\"health_check\":{\"type\":\"TCP\",\"tcp\":{\"port\":70000}}",
	        "task.health_check.tcp.port: must be a port from 1 to 65535");
	refused("t-b3",
	        ",\"health_check\":{\"type\":\"HTTP\",\"http\":{\"port\":80,\"scheme\":\"https\"}}",
	        "task.health_check.http.scheme: `https` is not supported");
	refused("t-b4", ",\"check\":{\"type\":\"UDP\",\"tcp\":{\"port\":1}}",
	        "task.check.type: `UDP` is not supported");
	refused("t-b5",
	        ",\"check\":{\"type\":\"TCP\",\"tcp\":{\"port\":1},\"consecutive_failures\":3}",
	        "task.check.consecutive_failures: a field of health checks");
	refused("t-b6", ",\"health_check\":{\"type\":\"HTTP\",\"tcp\":{\"port\":1}}",
	        "task.health_check.http: required for a HTTP check");
	/* The agent runs on: a good task after the bad ones. */
	fm_run_task("t-good", "nobody", "true", NULL, NULL);
	WAIT_FOR(has_state("t-good", "TASK_FINISHED"), 10);
}

Test(agent_checks, command_check_starts_with_default_signal_dispositions)
{
	/* The agent ignores SIGPIPE; a check must not inherit that (a
	 * pipeline in it would then never die of a closed pipe). Exit 0 only
	 * when nothing is ignored or blocked. */
	fm_run_task("t-sig", "nobody", "sleep 100", NULL,
	            ",\"check\":{\"type\":\"COMMAND\",\"command\":{\"command\":{"
	            "\"value\":\"grep -Eq '^SigIgn:[[:space:]]+0+$' /proc/self/status && grep -Eq "
	            "'^SigBlk:[[:space:]]+0+$' /proc/self/status\"}},\"delay_seconds\":0,"
	            "\"interval_seconds\":0.3}");
	WAIT_FOR(find_update("t-sig", "TASK_RUNNING", "", "exit_code"), 30);
	const struct ctz_upd_rec *r = find_update("t-sig", "TASK_RUNNING", "", "exit_code");
	cr_expect_str_eq(r->check, "{\"command\":{\"exit_code\":0},\"type\":\"COMMAND\"}");
}

Test(agent_checks, a_kill_for_health_is_remembered_across_an_agent_sigkill)
{
	/* The task ignores SIGTERM: its kill waits out a 3 s grace period,
	 * during which the agent is SIGKILLed and restarted. The end still
	 * says why it was killed. */
	char extra[2048];
	snprintf(extra, sizeof(extra),
	         "%s,\"kill_policy\":{\"grace_period\":{\"nanoseconds\":3000000000}}",
	         command_health("false", 0.2, 0, 1, 5));
	fm_run_task("t-hk", "nobody", "trap '' TERM; sleep 100", NULL, extra);
	WAIT_FOR(has_state("t-hk", "TASK_KILLING"), 30);
	ap_stop(&agent, SIGKILL);
	cr_expect(!has_state("t-hk", "TASK_KILLED"));
	int before = fm_registers();
	start_agent();
	WAIT_FOR(fm_registers() > before, 10);
	WAIT_FOR(has_state("t-hk", "TASK_KILLED"), 30);
	const struct ctz_upd_rec *r = find_update("t-hk", "TASK_KILLED", "", NULL);
	cr_assert(r);
	cr_expect_str_eq(r->healthy, "false");
	cr_expect_str_eq(r->reason, "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED");
}

Test(agent_checks, command_check_of_a_root_task_in_its_user_namespace)
{
	/* A task of user root runs as uid 0 of a user namespace of the
	 * agent's pool: its check joins that namespace too, as uid 0 there. */
	fm_run_task("t-root", "root", "touch ok; sleep 100", NULL,
	            ",\"check\":{\"type\":\"COMMAND\",\"command\":{\"command\":{\"value\":"
	            "\"test -e ok && test $(id -u) = 0 && ! grep -qE '^ +0 +0 ' "
	            "/proc/self/uid_map\"}},\"delay_seconds\":0.5,\"interval_seconds\":0.3}");
	WAIT_FOR(find_update("t-root", "TASK_RUNNING", "", "\"exit_code\":0") ||
	                 has_state("t-root", "TASK_FAILED") || has_state("t-root", "TASK_ERROR"),
	         30);
	const struct ctz_upd_rec *r = find_update("t-root", "TASK_RUNNING", "", "\"exit_code\":0");
	cr_assert(r, "states %s; last check %s", states("t-root"),
	          find_update("t-root", "TASK_RUNNING", "", "")
	                  ? find_update("t-root", "TASK_RUNNING", "", "")->check
	                  : "none");
}
