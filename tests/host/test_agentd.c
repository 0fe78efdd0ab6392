/* agora-agent as a process against a fake master (tests/lib/agentd_harness.c,
 * speaking the master side of docs/agent-protocol.md): register,
 * tasks that finish, fail and get killed, policy refusals, status updates
 * re-sent until acknowledged and never duplicated, the agent SIGKILLed and
 * restarted, the stream dropped, the operator endpoints. No cgroups on this host: --no_isolation.
 */
#include "agent_proc.h"
#include "agentd_harness.h"
#include "agtest.h"
#include "proto/proto.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <jansson.h>
#include <regex.h>
#include <sqlite3.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the fake master (tests/lib/agentd_harness.c) ---- */

/* No task got the same state under two uuids (no duplicate). */
static void fm_expect_no_duplicates(void)
{
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd; i++)
		for (int j = i + 1; j < fm.n_upd; j++)
			cr_expect(strcmp(fm.upd[i].task, fm.upd[j].task) ||
			                  strcmp(fm.upd[i].state, fm.upd[j].state),
			          "duplicate update %s %s", fm.upd[i].task, fm.upd[i].state);
	pthread_mutex_unlock(&fm.mu);
}

/* ---- the agent -------------------------------------------------------- */

static char work[64];
static pid_t agent = -1;
static int op_port; /* the agent's operator endpoints */

static int op_get(const char *path, char *out, size_t n)
{
	return ah_http_get(op_port, path, out, n);
}

/* More flags for the next start_agent() (NULL-terminated). */
static const char *agent_extra[8];

static void start_agent(void)
{
	if (!op_port)
		op_port = ah_free_port();
	agent = ap_start(work, fm.port, op_port, NULL, agent_extra);
	cr_assert(agent >= 0);
}

static void kill_agent(int sig)
{
	ap_stop(&agent, sig);
}

/* Start the stopped agent again, with one more flag when `flag` is not
 * NULL, and wait until it registered. */
static void restart_agent(const char *flag, const char *value)
{
	agent_extra[0] = flag;
	agent_extra[1] = flag ? value : NULL;
	int before = fm_registers();
	start_agent();
	agent_extra[0] = agent_extra[1] = NULL;
	WAIT_FOR(fm_registers() > before, 10);
}

/* The agent's log (<work>.log, its stderr), NUL-terminated; the caller
 * frees it. */
static char *agent_log(void)
{
	char path[128];
	snprintf(path, sizeof(path), "%s.log", work);
	cr_assert(access(path, R_OK) == 0, "%s: %s", path, strerror(errno));
	return ap_slurp(path);
}

/* The prefix of every line of the log: a UTC timestamp in ms, the level. */
#define LOG_TS "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "

/* A line of the agent's log matches the extended regex `ere` (^ and $ at
 * each line's ends). */
static bool log_has(const char *ere)
{
	regex_t re;
	cr_assert(regcomp(&re, ere, REG_EXTENDED | REG_NEWLINE | REG_NOSUB) == 0, "%s", ere);
	char *text = agent_log();
	bool found = regexec(&re, text, 0, NULL, 0) == 0;
	free(text);
	regfree(&re);
	return found;
}

static void setup(void)
{
	agt_root_dir(work, sizeof(work), "agentd");
	cr_assert(fm_start() == 0);
	start_agent();
	WAIT_FOR(fm_registers() >= 1, 10);
}

static void teardown(void)
{
	kill_agent(SIGTERM);
	char cmd[1024];
	/* AGORA_KEEP_LOGS=DIR keeps each test's agent log there. */
	const char *keep = getenv("AGORA_KEEP_LOGS");
	if (keep && work[0]) {
		snprintf(cmd, sizeof(cmd), "cp %s.log %s/", work, keep);
		cr_expect(system(cmd) == 0, "%s", cmd);
	}
	/* tasks left running: their monitors' pids are recorded in run/ */
	snprintf(cmd, sizeof(cmd),
	         "for f in %s/run/*/monitor; do [ -f $f ] && kill -9 $(sed -n 's/^pid=//p' $f) "
	         "2>/dev/null; done; sleep 0.2; rm -rf %s %s.log",
	         work, work, work);
	if (work[0])
		cr_expect(system(cmd) == 0);
	if (fm.bad)
		cr_expect_eq(fm.bad, 0, "the fake master got messages it could not decode");
}

static void run_task(const char *id, const char *user, const char *command, const char *extra)
{
	fm_run_task(id, user, command, NULL, extra);
}

static void kill_task(const char *id, int grace_ms)
{
	char buf[512];
	snprintf(buf, sizeof(buf),
	         "{\"type\":\"KILL_TASK\",\"kill_task\":{\"framework_id\":{\"value\":\"F0\"},"
	         "\"task_id\":{\"value\":\"%s\"},\"kill_policy\":{\"grace_period\":{"
	         "\"nanoseconds\":%lld}}}}",
	         id, (long long)grace_ms * 1000000);
	fm_send(buf);
}

static bool states_are(const char *task, const char *want)
{
	char got[512];
	fm_states(task, got, sizeof(got));
	return strcmp(got, want) == 0;
}

TestSuite(agentd, .init = setup, .fini = teardown, .timeout = 90);

Test(agentd, registers_and_runs_a_task_to_finished_with_every_update_acked)
{
	pthread_mutex_lock(&fm.mu);
	cr_expect_eq(fm.registers, 1);
	cr_expect(strstr(fm.last_reg, "\"hostname\":\"h1\""));
	cr_expect(strstr(fm.last_reg, "\"unisolated\":true"));
	pthread_mutex_unlock(&fm.mu);
	run_task("t-ok", "nobody", "sleep 0.3; echo hi", NULL);
	WAIT_FOR(fm_count("t-ok", "TASK_FINISHED") >= 2, 20);
	cr_expect(states_are("t-ok", "TASK_STARTING TASK_RUNNING TASK_FINISHED"));
	/* acked updates are not sent again */
	sleep(2);
	cr_expect_eq(fm_count("t-ok", "TASK_STARTING"), 2);
	cr_expect_eq(fm_count("t-ok", "TASK_RUNNING"), 2);
	cr_expect_eq(fm_count("t-ok", "TASK_FINISHED"), 2);
	/* RUN_TASK is idempotent: nothing launched twice */
	run_task("t-ok", "nobody", "echo again", NULL);
	sleep(1);
	cr_expect(states_are("t-ok", "TASK_STARTING TASK_RUNNING TASK_FINISHED"));
	pthread_mutex_lock(&fm.mu);
	cr_expect(fm.heartbeats >= 1, "the agent sends heartbeats");
	pthread_mutex_unlock(&fm.mu);
	fm_expect_no_duplicates();
}

Test(agentd, failing_and_killed_tasks)
{
	run_task("t-fail", "nobody", "exit 3", NULL);
	run_task("t-kill", "nobody", "sleep 100", NULL);
	WAIT_FOR(fm_count("t-fail", "TASK_FAILED") >= 2, 20);
	WAIT_FOR(fm_count("t-kill", "TASK_RUNNING") >= 1, 20);
	kill_task("t-kill", 300);
	WAIT_FOR(fm_count("t-kill", "TASK_KILLED") >= 2, 20);
	cr_expect(states_are("t-kill", "TASK_STARTING TASK_RUNNING TASK_KILLING TASK_KILLED"));
	fm_expect_no_duplicates();
}

/* uid 0 that would be the host's root: a user namespace that maps it.
 * (A task of user root runs as root in a user namespace of the agent's
 * pool: test_agent_userns_root.c.) */
#define HOST_ROOT_OCI                                                                              \
	",\"container\":{\"type\":\"MESOS\",\"oci\":{\"root\":{\"path\":\"x\"},"                   \
	"\"process\":{\"user\":{\"uid\":0}},\"linux\":{\"namespaces\":[{\"type\":\"user\"}],"      \
	"\"uidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":1}]}}}"

Test(agentd, policy_violations_are_task_errors)
{
	run_task("t-root", "nobody", NULL, HOST_ROOT_OCI);
	run_task("t-caps", "nobody", NULL,
	         ",\"container\":{\"type\":\"MESOS\",\"oci\":{\"root\":{\"path\":\"x\"},"
	         "\"process\":{\"user\":{\"uid\":1000},\"capabilities\":{\"bounding\":["
	         "\"CAP_SYS_ADMIN\"]}}}}");
	WAIT_FOR(fm_count("t-root", "TASK_ERROR") >= 2, 20);
	WAIT_FOR(fm_count("t-caps", "TASK_ERROR") >= 2, 20);
	cr_expect(states_are("t-root", "TASK_ERROR"));
	cr_expect(states_are("t-caps", "TASK_ERROR"));
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd; i++) {
		/* The reference: a policy refusal is REASON_TASK_INVALID. */
		if (strcmp(fm.upd[i].task, "t-root") == 0 || strcmp(fm.upd[i].task, "t-caps") == 0)
			cr_expect_str_eq(fm.upd[i].reason, "REASON_TASK_INVALID");
		if (strcmp(fm.upd[i].task, "t-root") == 0)
			cr_expect(strstr(fm.upd[i].msg, "container.oci.process.user.uid: uid 0 "
			                                "mapped to the host's uid 0"),
			          "%s", fm.upd[i].msg);
		if (strcmp(fm.upd[i].task, "t-caps") == 0)
			cr_expect(strstr(fm.upd[i].msg,
			                 "container.oci.process.capabilities.bounding: "
			                 "CAP_SYS_ADMIN is not allowed for role \"web\""),
			          "%s", fm.upd[i].msg);
	}
	pthread_mutex_unlock(&fm.mu);
}

Test(agentd, sigkilled_agent_reregisters_and_loses_nothing)
{
	run_task("t-short", "nobody", "sleep 2", NULL);
	run_task("t-long", "nobody", "sleep 100", NULL);
	WAIT_FOR(fm_count("t-short", "TASK_RUNNING") >= 2, 20);
	WAIT_FOR(fm_count("t-long", "TASK_RUNNING") >= 2, 20);
	kill_agent(SIGKILL);
	sleep(3); /* t-short ends while the agent is down */
	restart_agent(NULL, NULL);
	pthread_mutex_lock(&fm.mu);
	cr_expect(fm.reregisters >= 1);
	cr_expect(strstr(fm.last_reg, "\"REREGISTER\""));
	cr_expect(strstr(fm.last_reg, "t-long"), "REREGISTER lists the running task");
	cr_expect(strstr(fm.last_reg, "\"A-1\""));
	pthread_mutex_unlock(&fm.mu);
	WAIT_FOR(fm_count("t-short", "TASK_FINISHED") >= 2, 20);
	cr_expect(states_are("t-short", "TASK_STARTING TASK_RUNNING TASK_FINISHED"));
	/* still running, not relaunched; killable */
	run_task("t-long", "nobody", "sleep 100", NULL);
	kill_task("t-long", 300);
	WAIT_FOR(fm_count("t-long", "TASK_KILLED") >= 2, 20);
	cr_expect(states_are("t-long", "TASK_STARTING TASK_RUNNING TASK_KILLING TASK_KILLED"));
	fm_expect_no_duplicates();
}

Test(agentd, dropped_stream_reregisters)
{
	int before = fm_registers();
	fm_drop();
	WAIT_FOR(fm_registers() > before, 10);
	pthread_mutex_lock(&fm.mu);
	cr_expect_eq(fm.reregisters, 1);
	pthread_mutex_unlock(&fm.mu);
	run_task("t-after", "nobody", "true", NULL);
	WAIT_FOR(fm_count("t-after", "TASK_FINISHED") >= 2, 20);
	cr_expect(log_has(LOG_TS "WARN  the stream from the master ended; re-registering in "
	                         "[0-9]+\\.[0-9] s$"),
	          "the agent logs the lost stream and the retry");
	cr_expect(log_has(LOG_TS "INFO  re-registered as A-1 with [0-9]+ tasks"));
}

/* The registration_order of the last registration the fake master got. */
static struct pb_registration_order last_order(void)
{
	struct pb_agent_msg m;
	struct ag_error err = {0};
	pthread_mutex_lock(&fm.mu);
	int r = pb_agent_msg_decode(fm.last_reg, strlen(fm.last_reg), &m, &err);
	pthread_mutex_unlock(&fm.mu);
	cr_assert_eq(r, 0, "%s", err.msg);
	cr_assert(m.reg.has_order, "a registration without registration_order");
	struct pb_registration_order o = m.reg.order;
	pb_agent_msg_free(&m);
	return o;
}

Test(agentd, registrations_are_ordered_within_and_across_processes)
{
	struct pb_registration_order first = last_order();
	cr_expect_eq(first.seq, 1);
	cr_expect_gt(first.agent_started_ns, 1600000000ull * 1000000000ull, "not CLOCK_REALTIME");
	for (uint64_t seq = 2; seq <= 3; seq++) {
		int before = fm_registers();
		fm_drop();
		WAIT_FOR(fm_registers() > before, 10);
		struct pb_registration_order o = last_order();
		cr_expect_eq(o.agent_started_ns, first.agent_started_ns, "one process, one start");
		cr_expect_eq(o.seq, seq);
	}
	kill_agent(SIGKILL);
	restart_agent(NULL, NULL);
	struct pb_registration_order o = last_order();
	cr_expect_gt(o.agent_started_ns, first.agent_started_ns, "the restarted agent is newer");
	cr_expect_eq(o.seq, 1);
	pthread_mutex_lock(&fm.mu);
	cr_expect(strstr(fm.last_reg, "\"REREGISTER\""));
	pthread_mutex_unlock(&fm.mu);
}

Test(agentd, operator_endpoints_list_containers_and_read_their_output)
{
	char body[65536];
	WAIT_FOR(op_get("/health", body, sizeof(body)) == 200, 10);
	cr_expect(strstr(body, "\"status\":\"ok\""), "%s", body);
	cr_expect(strstr(body, "\"isolated\":false"), "%s", body);
	run_task("t-op", "nobody", "echo hello; echo oops >&2; sleep 100", NULL);
	WAIT_FOR(fm_count("t-op", "TASK_RUNNING") >= 1, 20);

	cr_assert_eq(op_get("/containers", body, sizeof(body)), 200);
	json_t *arr = json_loads(body, 0, NULL);
	cr_assert(json_is_array(arr), "%s", body);
	json_t *c = NULL, *it;
	size_t i;
	json_array_foreach (arr, i, it) {
		if (strcmp(json_string_value(json_object_get(it, "task_id")), "t-op") == 0)
			c = it;
	}
	cr_assert(c, "t-op listed: %s", body);
	cr_expect_str_eq(json_string_value(json_object_get(c, "framework_id")), "F0");
	cr_expect_str_eq(json_string_value(json_object_get(c, "state")), "TASK_RUNNING");
	cr_expect_str_eq(json_string_value(json_object_get(c, "phase")), "running");
	cr_expect(json_is_false(json_object_get(c, "isolated")));
	cr_expect(json_is_null(json_object_get(c, "usage")));
	cr_expect(strstr(json_string_value(json_object_get(c, "usage_error")), "not isolated"),
	          "%s", body);
	char sandbox[256];
	snprintf(sandbox, sizeof(sandbox), "%s/sandboxes/%s", work,
	         json_string_value(json_object_get(c, "container_id")));
	json_decref(arr);

	WAIT_FOR(op_get("/files/read?task=t-op&file=stdout", body, sizeof(body)) == 200 &&
	                 strstr(body, "hello"),
	         10);
	cr_expect_str_eq(body, "{\"data\":\"hello\\n\",\"offset\":0,\"size\":6}\n");
	cr_expect_eq(
	        op_get("/files/read?task=t-op&file=stdout&offset=1&length=3", body, sizeof(body)),
	        200);
	cr_expect_str_eq(body, "{\"data\":\"ell\",\"offset\":1,\"size\":6}\n");
	/* past the end: nothing, at the end */
	cr_expect_eq(op_get("/files/read?task=t-op&file=stdout&offset=100", body, sizeof(body)),
	             200);
	cr_expect_str_eq(body, "{\"data\":\"\",\"offset\":6,\"size\":6}\n");
	cr_expect_eq(op_get("/files/read?task=t-op&file=stderr", body, sizeof(body)), 200);
	cr_expect(strstr(body, "oops"), "%s", body);

	/* bad parameters: 400 naming the field; unknown tasks: 404 */
	cr_expect_eq(op_get("/files/read?task=nope&file=stdout", body, sizeof(body)), 404);
	cr_expect_eq(op_get("/files/read?task=t-op&file=../../agent.db", body, sizeof(body)), 400);
	cr_expect(strstr(body, "\"field\":\"file\""), "%s", body);
	cr_expect_eq(op_get("/files/read?task=t-op&file=%2Fetc%2Fpasswd", body, sizeof(body)), 400);
	cr_expect_eq(op_get("/files/read?file=stdout", body, sizeof(body)), 400);
	cr_expect_eq(op_get("/files/read?task=t-op&file=stdout&offset=-1", body, sizeof(body)),
	             400);
	cr_expect(strstr(body, "\"field\":\"offset\""), "%s", body);
	cr_expect_eq(op_get("/files/read?task=t-op&file=stdout&length=x", body, sizeof(body)), 400);
	cr_expect_eq(op_get("/nothing", body, sizeof(body)), 404);

	/* a task can replace its log by a symlink: it is not followed */
	char p[512];
	snprintf(p, sizeof(p), "%s/stderr", sandbox);
	cr_assert(unlink(p) == 0, "%s: %s", p, strerror(errno));
	cr_assert(symlink("/etc/passwd", p) == 0);
	cr_expect_eq(op_get("/files/read?task=t-op&file=stderr", body, sizeof(body)), 404);
	cr_expect(!strstr(body, "root:"), "%s", body);

	/* after the end: still listed with its final state */
	kill_task("t-op", 300);
	WAIT_FOR(fm_count("t-op", "TASK_KILLED") >= 2, 20);
	cr_assert_eq(op_get("/containers", body, sizeof(body)), 200);
	cr_expect(strstr(body, "\"phase\":\"ended\""), "%s", body);
	cr_expect(strstr(body, "\"state\":\"TASK_KILLED\""), "%s", body);
	cr_expect_eq(op_get("/files/read?task=t-op&file=stdout", body, sizeof(body)), 200);
	cr_expect(strstr(body, "hello"), "%s", body);
}

/* Found by fuzz_agent: a query value is percent-decoded, so it can hold
 * any byte; a 404 naming a task id that is not UTF-8 could not be made a
 * JSON string and the agent crashed (strlen of NULL). It must answer, with
 * the bad bytes as '?', and go on. */
Test(agentd, files_read_of_a_task_id_that_is_not_utf8_is_answered)
{
	char body[4096];
	WAIT_FOR(op_get("/health", body, sizeof(body)) == 200, 10);
	cr_expect_eq(op_get("/files/read?task=t%86x&file=stdout", body, sizeof(body)), 404);
	cr_expect(strstr(body, "\"error\":\"no task `t?x` on this agent\""), "%s", body);
	cr_expect_eq(op_get("/files/read?task=t&framework=%ff&file=stdout", body, sizeof(body)),
	             404);
	cr_expect(strstr(body, "framework `?`"), "%s", body);
	cr_expect_eq(op_get("/health", body, sizeof(body)), 200, "the agent is still there");
	run_task("t-utf", "nobody", "true", NULL);
	WAIT_FOR(fm_count("t-utf", "TASK_FINISHED") >= 2, 20);
}

Test(agentd, kill_without_kill_policy_uses_the_tasks_own)
{
	/* ignores SIGTERM: only the SIGKILL at the end of the grace period
	 * ends it, so the KILLING->KILLED gap is the grace period used */
	run_task("t-kp", "nobody", "trap '' TERM; sleep 100",
	         ",\"kill_policy\":{\"grace_period\":{\"nanoseconds\":200000000}}");
	WAIT_FOR(fm_count("t-kp", "TASK_RUNNING") >= 1, 20);
	fm_send("{\"type\":\"KILL_TASK\",\"kill_task\":{\"framework_id\":{\"value\":\"F0\"},"
	        "\"task_id\":{\"value\":\"t-kp\"}}}");
	WAIT_FOR(fm_count("t-kp", "TASK_KILLED") >= 1, 20);
	uint64_t killing = 0, killed = 0;
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd; i++)
		if (strcmp(fm.upd[i].task, "t-kp") == 0) {
			if (strcmp(fm.upd[i].state, "TASK_KILLING") == 0)
				killing = fm.upd[i].first_ns;
			if (strcmp(fm.upd[i].state, "TASK_KILLED") == 0)
				killed = fm.upd[i].first_ns;
		}
	pthread_mutex_unlock(&fm.mu);
	cr_assert(killing && killed);
	double ms = (double)(killed - killing) / 1e6;
	/* 200 ms from the TaskInfo, not the 5 s default */
	cr_expect(ms >= 150 && ms < 2000, "KILLING to KILLED took %.0f ms", ms);
}

/* A KILL_TASK for a task the agent never had: TASK_LOST sent once, so the
 * master's view converges; the agent goes on. */
Test(agentd, kill_of_an_unknown_task_is_answered_task_lost)
{
	kill_task("t-never", 300);
	WAIT_FOR(fm_count("t-never", "TASK_LOST") >= 1, 10);
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd; i++)
		if (strcmp(fm.upd[i].task, "t-never") == 0)
			cr_expect_str_eq(fm.upd[i].reason, "REASON_RECONCILIATION");
	pthread_mutex_unlock(&fm.mu);
	run_task("t-then", "nobody", "true", NULL);
	WAIT_FOR(fm_count("t-then", "TASK_FINISHED") >= 2, 20);
	cr_expect(log_has(LOG_TS
	                  "INFO  KILL_TASK: task `t-never` of framework `F0`, grace 0\\.3 s$"));
	cr_expect(log_has(LOG_TS "INFO  task `t-never` of framework `F0`: TASK_LOST "
	                         "\\(REASON_RECONCILIATION\\): unknown task"));
}

/* What an operator reads in the agent's log (its stderr): a timestamped
 * line for each launch and state, the recovery after a SIGKILL, and at
 * --log_level debug each status update sent and acknowledged. */
Test(agentd, the_log_has_a_timestamped_line_for_each_launch_state_and_recovery)
{
	kill_agent(SIGTERM);
	restart_agent("--log_level", "debug");
	run_task("t-log-ok", "nobody", "true", NULL);
	/* ends when the test says so, while the agent is down */
	run_task("t-log-away", "nobody", "while [ ! -e go ]; do sleep 0.05; done", NULL);
	run_task("t-log-long", "nobody", "sleep 100", NULL);
	run_task("t-log-root", "nobody", NULL, HOST_ROOT_OCI);
	WAIT_FOR(fm_count("t-log-ok", "TASK_FINISHED") >= 2, 20);
	WAIT_FOR(fm_count("t-log-away", "TASK_RUNNING") >= 2, 20);
	WAIT_FOR(fm_count("t-log-long", "TASK_RUNNING") >= 2, 20);
	WAIT_FOR(fm_count("t-log-root", "TASK_ERROR") >= 2, 20);
	char body[65536], path[512];
	cr_assert_eq(op_get("/containers", body, sizeof(body)), 200);
	json_t *arr = json_loads(body, 0, NULL), *it;
	const char *cid = NULL;
	size_t i;
	json_array_foreach (arr, i, it)
		if (strcmp(json_string_value(json_object_get(it, "task_id")), "t-log-away") == 0)
			cid = json_string_value(json_object_get(it, "container_id"));
	cr_assert(cid, "%s", body);
	kill_agent(SIGKILL);
	snprintf(path, sizeof(path), "%s/sandboxes/%s/go", work, cid);
	cr_assert(close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == 0, "%s", path);
	/* it ends, and its monitor with it, while the agent is down */
	snprintf(path, sizeof(path), "%s/run/%s/monitor", work, cid);
	FILE *f = fopen(path, "r");
	int mpid = 0;
	cr_assert(f && fscanf(f, "pid=%d", &mpid) == 1, "%s", path);
	fclose(f);
	WAIT_FOR(kill(mpid, 0) < 0, 20);
	json_decref(arr);
	restart_agent("--log_level", "debug");
	WAIT_FOR(fm_count("t-log-away", "TASK_FINISHED") >= 2, 20);
	kill_task("t-log-long", 300);
	WAIT_FOR(fm_count("t-log-long", "TASK_KILLED") >= 2, 20);

	cr_expect(log_has(LOG_TS
	                  "INFO  work_dir /tmp/agora-agentd-.*, master 127\\.0\\.0\\.1:[0-9]+, "
	                  "hostname h1, NOT isolated \\(--no_isolation\\); resources "
	                  "cpus:2;mem:1024;disk:[0-9]+;ports:\\[31000-32000\\]$"));
	cr_expect(log_has(LOG_TS "INFO  registered as A-1 \\(heartbeat 1\\.0 s\\)$"));
	cr_expect(log_has(LOG_TS "INFO  task `t-log-ok` of framework `F0`: launch accepted, "
	                         "container ctr-[0-9a-f]{16}$"));
	cr_expect(log_has(LOG_TS "INFO  task `t-log-ok` of framework `F0`: TASK_RUNNING$"));
	cr_expect(log_has(LOG_TS "INFO  task `t-log-ok` of framework `F0`: TASK_FINISHED: Command "
	                         "exited with status 0$"));
	/* a policy refusal: a warning, and no launch */
	cr_expect(log_has(LOG_TS
	                  "WARN  task `t-log-root` of framework `F0`: TASK_ERROR "
	                  "\\(REASON_TASK_INVALID\\): container\\.oci\\.process\\.user\\.uid: "
	                  "uid 0 mapped"));
	cr_expect(!log_has("`t-log-root` of framework `F0`: launch accepted"));
	/* the restart */
	cr_expect(log_has(LOG_TS "INFO  work_dir .*; agent id from the last run A-1$"));
	cr_expect(log_has(LOG_TS "INFO  recovered containers: 1 re-attached running, 1 ended while "
	                         "the agent was away, 0 failed as never launched, 0 lost; [0-9]+ "
	                         "status updates to send$"));
	cr_expect(log_has(LOG_TS "INFO  task `t-log-away` of framework `F0`: TASK_FINISHED: "
	                         "Command exited with status 0$"));
	cr_expect(log_has(LOG_TS "INFO  re-registered as A-1 with [0-9]+ tasks \\(heartbeat"));
	cr_expect(log_has(LOG_TS "INFO  KILL_TASK: task `t-log-long` of framework `F0`, grace "
	                         "0\\.3 s$"));
	cr_expect(log_has(LOG_TS "INFO  task `t-log-long` of framework `F0`: TASK_KILLED: Command "
	                         "killed on request$"));
	/* --log_level debug: the updates' round trips */
	cr_expect(log_has(LOG_TS "DEBUG task `t-log-ok` of framework `F0`: status update "
	                         "TASK_FINISHED \\(uuid [A-Za-z0-9+/]{22}==\\) sent$"));
	WAIT_FOR(log_has(LOG_TS "DEBUG task `t-log-long` of framework `F0`: status update \\(uuid "
	                        "[A-Za-z0-9+/]{22}==\\) acknowledged$"),
	         10);
	/* every line is the logger's: timestamped, with a level */
	char *text = agent_log();
	regex_t re;
	cr_assert(regcomp(&re, LOG_TS "(DEBUG|INFO |WARN |ERROR) [^ ]", REG_EXTENDED | REG_NOSUB) ==
	          0);
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		cr_expect(regexec(&re, l, 0, NULL, 0) == 0, "not a log line: %s", l);
	regfree(&re);
	free(text);
}

Test(agentd, silent_master_makes_the_watchdog_reregister)
{
	int before = fm_registers();
	pthread_mutex_lock(&fm.mu);
	fm.silent = true; /* no heartbeat: 5 intervals of 1 s */
	pthread_mutex_unlock(&fm.mu);
	sleep(3);
	cr_expect_eq(fm_registers(), before, "re-registered before 5 silent intervals");
	WAIT_FOR(fm_registers() > before, 10);
	pthread_mutex_lock(&fm.mu);
	fm.silent = false;
	cr_expect(fm.reregisters >= 1);
	pthread_mutex_unlock(&fm.mu);
	run_task("t-wd", "nobody", "true", NULL);
	WAIT_FOR(fm_count("t-wd", "TASK_FINISHED") >= 2, 20);
}

Test(agentd, error_from_the_master_makes_it_reregister)
{
	int before = fm_registers();
	fm_send("{\"type\":\"ERROR\",\"error\":{\"message\":\"agent marked gone\"}}");
	WAIT_FOR(fm_registers() > before, 10);
	run_task("t-err", "nobody", "true", NULL);
	WAIT_FOR(fm_count("t-err", "TASK_FINISHED") >= 2, 20);
	cr_expect(log_has(LOG_TS "WARN  the master refused the registration: agent marked gone; "
	                         "re-registering in "),
	          "the agent logs the master's error");
}

/* Found by fuzz_agent: a RUN_TASK whose framework_info has no id crashed
 * the agent (its tasks are keyed by that id). It is a bad record now: the
 * agent re-registers, as after any record it cannot decode, and goes on. */
Test(agentd, run_task_without_a_framework_id_is_a_bad_record)
{
	int before = fm_registers();
	fm_send("{\"type\":\"RUN_TASK\",\"run_task\":{\"framework_info\":{\"user\":\"nobody\","
	        "\"name\":\"fw\"},\"task\":{\"name\":\"t-nofw\",\"task_id\":{\"value\":\"t-nofw\"},"
	        "\"agent_id\":{\"value\":\"A-1\"},\"command\":{\"value\":\"true\"}}}}");
	WAIT_FOR(fm_registers() > before, 10);
	cr_expect(log_has(LOG_TS "WARN  a bad record from the master: Missing required fields: "
	                         "run_task.framework_info.id; re-registering in "));
	run_task("t-fw", "nobody", "true", NULL);
	WAIT_FOR(fm_count("t-fw", "TASK_FINISHED") >= 2, 20);
	cr_expect_eq(fm_count("t-nofw", "TASK_STARTING"), -1, "nothing launched");
}

Test(agentd, shutdown_framework_kills_its_tasks)
{
	run_task("t-sf1", "nobody", "sleep 100", NULL);
	run_task("t-sf2", "nobody", "sleep 100", NULL);
	WAIT_FOR(fm_count("t-sf1", "TASK_RUNNING") >= 1, 20);
	WAIT_FOR(fm_count("t-sf2", "TASK_RUNNING") >= 1, 20);
	fm_send("{\"type\":\"SHUTDOWN_FRAMEWORK\",\"shutdown_framework\":{\"framework_id\":{"
	        "\"value\":\"F0\"}}}");
	WAIT_FOR(fm_count("t-sf1", "TASK_KILLED") >= 2, 20);
	WAIT_FOR(fm_count("t-sf2", "TASK_KILLED") >= 2, 20);
	cr_expect(states_are("t-sf1", "TASK_STARTING TASK_RUNNING TASK_KILLING TASK_KILLED"));
	fm_expect_no_duplicates();
	cr_expect(
	        log_has(LOG_TS "INFO  SHUTDOWN_FRAMEWORK: framework `F0`: its tasks are killed$"));
}

/* Two frameworks, one task id: two tasks, each with its own updates,
 * acknowledgements (by framework and task), kill and sandbox; the agent
 * restarted in between keeps them apart. */
Test(agentd, the_same_task_id_in_two_frameworks_runs_and_ends_independently)
{
	fm_run_task_fw("FA", "dup", "nobody", "echo from-a; exec sleep 100", NULL, NULL);
	fm_run_task_fw("FB", "dup", "nobody", "echo from-b; sleep 1; exit 4", NULL, NULL);
	WAIT_FOR(fm_count("FA/dup", "TASK_RUNNING") >= 2 && fm_count("FB/dup", "TASK_RUNNING") >= 2,
	         20);
	kill_agent(SIGKILL);
	restart_agent(NULL, NULL);
	pthread_mutex_lock(&fm.mu);
	cr_expect(strstr(fm.last_reg, "\"FA\"") && strstr(fm.last_reg, "\"FB\""),
	          "REREGISTER lists both: %s", fm.last_reg);
	pthread_mutex_unlock(&fm.mu);
	char body[8192];
	cr_expect_eq(op_get("/files/read?task=dup&file=stdout", body, sizeof(body)), 400,
	             "ambiguous without the framework: %s", body);
	cr_expect(strstr(body, "framework"), "%s", body);
	cr_expect_eq(op_get("/files/read?task=dup&framework=FB&file=stdout", body, sizeof(body)),
	             200);
	cr_expect(strstr(body, "from-b") && !strstr(body, "from-a"), "%s", body);
	WAIT_FOR(fm_count("FB/dup", "TASK_FAILED") >= 2, 20);
	cr_expect(fm_count("FA/dup", "TASK_RUNNING") >= 1 && fm_count("FA/dup", "TASK_FAILED") < 0,
	          "FB's end reached FA's task");
	fm_send("{\"type\":\"KILL_TASK\",\"kill_task\":{\"framework_id\":{\"value\":\"FA\"},"
	        "\"task_id\":{\"value\":\"dup\"},\"kill_policy\":{\"grace_period\":{"
	        "\"nanoseconds\":10000000000}}}}");
	WAIT_FOR(fm_count("FA/dup", "TASK_KILLED") >= 2, 5);
	cr_expect(states_are("FA/dup", "TASK_STARTING TASK_RUNNING TASK_KILLING TASK_KILLED"));
	cr_expect(states_are("FB/dup", "TASK_STARTING TASK_RUNNING TASK_FAILED"));
	cr_assert_eq(op_get("/containers", body, sizeof(body)), 200);
	cr_expect(strstr(body, "\"framework_id\":\"FA\"") &&
	                  strstr(body, "\"framework_id\":\"FB\""),
	          "%s", body);
	fm_expect_no_duplicates();
}

/* The KILLING -> KILLED gap of `task`, in ms (-1 when either is missing). */
static double kill_gap_ms(const char *task)
{
	uint64_t killing = 0, killed = 0;
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd; i++)
		if (strcmp(fm.upd[i].task, task) == 0) {
			if (strcmp(fm.upd[i].state, "TASK_KILLING") == 0)
				killing = fm.upd[i].first_ns;
			if (strcmp(fm.upd[i].state, "TASK_KILLED") == 0)
				killed = fm.upd[i].first_ns;
		}
	pthread_mutex_unlock(&fm.mu);
	return killing && killed ? (double)(killed - killing) / 1e6 : -1;
}

/* ms from `since_ns` (ag_now_ns()) to the fake master's first TASK_KILLED
 * of `task`; -1 when it has none. */
static double killed_since_ms(const char *task, uint64_t since_ns)
{
	uint64_t killed = 0;
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd; i++)
		if (strcmp(fm.upd[i].task, task) == 0 &&
		    strcmp(fm.upd[i].state, "TASK_KILLED") == 0)
			killed = fm.upd[i].first_ns;
	pthread_mutex_unlock(&fm.mu);
	return killed ? (double)(int64_t)(killed - since_ns) / 1e6 : -1;
}

/* SHUTDOWN_FRAMEWORK, and KILL_TASK without a kill_policy: a task's own
 * kill_policy, else --executor_shutdown_grace_period; a task that honours
 * SIGTERM ends at once either way (agora-init forwards it). */
Test(agentd, shutdown_framework_uses_kill_policies_then_the_flag)
{
	kill_agent(SIGTERM);
	restart_agent("--executor_shutdown_grace_period", "1.5secs");
	run_task("g-flag", "nobody", "trap '' TERM; sleep 100", NULL);
	run_task("g-own", "nobody", "trap '' TERM; sleep 100",
	         ",\"kill_policy\":{\"grace_period\":{\"nanoseconds\":300000000}}");
	run_task("g-term", "nobody", "exec sleep 100", NULL);
	run_task("g-kill", "nobody", "trap '' TERM; sleep 100", NULL);
	/* RUNNING acknowledged (the fake master acks second copies), so that
	 * KILLING is sent the moment it happens. */
	WAIT_FOR(fm_count("g-flag", "TASK_RUNNING") >= 2 &&
	                 fm_count("g-own", "TASK_RUNNING") >= 2 &&
	                 fm_count("g-term", "TASK_RUNNING") >= 2 &&
	                 fm_count("g-kill", "TASK_RUNNING") >= 2,
	         20);
	uint64_t kill_sent = ag_now_ns();
	fm_send("{\"type\":\"KILL_TASK\",\"kill_task\":{\"framework_id\":{\"value\":\"F0\"},"
	        "\"task_id\":{\"value\":\"g-kill\"}}}");
	uint64_t shutdown_sent = ag_now_ns();
	fm_send("{\"type\":\"SHUTDOWN_FRAMEWORK\",\"shutdown_framework\":{\"framework_id\":{"
	        "\"value\":\"F0\"}}}");
	WAIT_FOR(fm_count("g-flag", "TASK_KILLED") >= 1 && fm_count("g-own", "TASK_KILLED") >= 1 &&
	                 fm_count("g-term", "TASK_KILLED") >= 1,
	         20);
	/* The upper bounds are measured where the fake master receives
	 * KILLING and KILLED (a KILLING delivered late only shortens that
	 * gap). The lower bounds from the moment the kill was sent: no task
	 * ignoring SIGTERM can end sooner than its grace after that, however
	 * late its KILLING comes (from KILLING, 248 ms for the 300 ms policy
	 * at a load average of 25). */
	double flag = kill_gap_ms("g-flag"), own = kill_gap_ms("g-own"),
	       term = kill_gap_ms("g-term");
	double flag_sent = killed_since_ms("g-flag", shutdown_sent),
	       own_sent = killed_since_ms("g-own", shutdown_sent);
	cr_expect(flag_sent >= 1500 && flag < 3000,
	          "flag's 1.5 s: took %.0f ms (%.0f from KILLING)", flag_sent, flag);
	cr_expect(own_sent >= 300 && own < 1200,
	          "kill_policy's 300 ms: took %.0f ms (%.0f from KILLING)", own_sent, own);
	cr_expect(term >= 0 && term < 1000, "SIGTERM honoured: took %.0f ms", term);
	WAIT_FOR(fm_count("g-kill", "TASK_KILLED") >= 1, 20);
	double kill = kill_gap_ms("g-kill"), kill_from_sent = killed_since_ms("g-kill", kill_sent);
	cr_expect(kill_from_sent >= 1500 && kill < 3000,
	          "KILL_TASK without kill_policy: the flag's 1.5 s: "
	          "took %.0f ms (%.0f from KILLING)",
	          kill_from_sent, kill);
}

/* Bad flag values: exit 2 and a message naming the flag (and attribute). */
static void expect_refused(const char *flag, const char *value, const char *needle)
{
	char cmd[1024], out[2048] = "";
	const char *b = getenv("AGORA_BUILD_DIR");
	snprintf(cmd, sizeof(cmd),
	         "%s/bin/agora-agent --master 127.0.0.1:1 --work_dir %s/bad --no_isolation %s '%s' "
	         "2>&1",
	         b ? b : "build", work, flag, value);
	FILE *p = popen(cmd, "r");
	cr_assert(p);
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 2, "%s %s: status %d: %s", flag, value, st,
	          out);
	cr_expect(strstr(out, needle), "%s %s: %s", flag, value, out);
}

Test(agentd, bad_flag_values_are_refused_naming_the_flag)
{
	expect_refused("--log_level", "loud", "--log_level: `loud` is not one of debug, info");
	expect_refused("--executor_shutdown_grace_period", "5 secs",
	               "--executor_shutdown_grace_period: a duration is");
	expect_refused("--executor_shutdown_grace_period", "5SECS", "got `5SECS`");
	expect_refused("--executor_shutdown_grace_period", "-1secs", "ns us ms secs mins");
	expect_refused("--attributes", "rack:r1;ports:[9-1]", "--attributes: `ports`");
	expect_refused("--attributes", "rack", "--attributes: item 1 `rack`");
}

Test(agentd, typed_attributes_are_registered)
{
	kill_agent(SIGTERM);
	restart_agent("--attributes", "rack:r1;cores:8;ports:[31000-32000];tags:{a,b}");
	pthread_mutex_lock(&fm.mu);
	const char *r = fm.last_reg;
	cr_expect(strstr(r, "{\"name\":\"rack\",\"type\":\"TEXT\",\"text\":{\"value\":\"r1\"}}"),
	          "%s", r);
	cr_expect(strstr(r, "{\"name\":\"cores\",\"type\":\"SCALAR\",\"scalar\":{\"value\":8"),
	          "%s", r);
	cr_expect(strstr(r, "\"ranges\":{\"range\":[{\"begin\":31000,\"end\":32000}]}"), "%s", r);
	cr_expect(strstr(r, "\"set\":{\"item\":[\"a\",\"b\"]}"), "%s", r);
	pthread_mutex_unlock(&fm.mu);
}

/* An OCI-like task runs under agora-init too, unless its spec opts out
 * with the annotation org.agora.init=false. */
Test(agentd, oci_tasks_get_the_init_unless_their_spec_opts_out)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/images/bb/bin && cp /bin/busybox %s/images/bb/bin/",
	         work, work);
	cr_assert(system(cmd) == 0, "needs /bin/busybox (busybox-static)");
#define OCI_SPEC(more)                                                                             \
	",\"container\":{\"type\":\"MESOS\",\"oci\":{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":" \
	"\"bb\"},\"process\":{\"user\":{\"uid\":65534,\"gid\":65534},\"cwd\":\"/\",\"args\":[\"/"  \
	"bin/"                                                                                     \
	"busybox\",\"cat\",\"/proc/1/comm\"]},\"mounts\":[{\"destination\":\"/proc\",\"type\":"    \
	"\"proc\",\"source\":\"proc\"}],\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{"         \
	"\"type\":"                                                                                \
	"\"pid\"}]}" more "}}"
	const char *with = OCI_SPEC("");
	const char *without = OCI_SPEC(",\"annotations\":{\"org.agora.init\":\"false\"}");
	run_task("oci-init", "nobody", NULL, with);
	run_task("oci-noinit", "nobody", NULL, without);
	WAIT_FOR(fm_count("oci-init", "TASK_FINISHED") >= 1, 20);
	WAIT_FOR(fm_count("oci-noinit", "TASK_FINISHED") >= 1, 20);
	char body[4096];
	cr_assert_eq(op_get("/files/read?task=oci-init&file=stdout", body, sizeof(body)), 200);
	cr_expect(strstr(body, "\"data\":\"agora-init\\n\""), "%s", body);
	cr_assert_eq(op_get("/files/read?task=oci-noinit&file=stdout", body, sizeof(body)), 200);
	cr_expect(strstr(body, "\"data\":\"busybox\\n\""), "%s", body);
}

/* What an agent from before the (framework, task) key left: a version-0
 * database and containerizer records without a framework id. */
static void downgrade_state(void)
{
	char db[128];
	snprintf(db, sizeof(db), "%s/agent.db", work);
	sqlite3 *d = NULL;
	cr_assert(sqlite3_open(db, &d) == SQLITE_OK);
	char *e = NULL;
	int rc = sqlite3_exec(
	        d,
	        "BEGIN;"
	        "CREATE TABLE t0(task_id TEXT PRIMARY KEY, framework_id TEXT NOT NULL, framework "
	        "TEXT NOT NULL, task TEXT NOT NULL, state INTEGER NOT NULL, status TEXT);"
	        "INSERT INTO t0 SELECT task_id, framework_id, framework, task, state, status FROM "
	        "tasks ORDER BY rowid;"
	        "DROP TABLE tasks; ALTER TABLE t0 RENAME TO tasks;"
	        "CREATE TABLE u0(seq INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL, "
	        "uuid BLOB NOT NULL, status TEXT NOT NULL);"
	        "INSERT INTO u0 SELECT seq, task_id, uuid, status FROM updates;"
	        "DROP TABLE updates; ALTER TABLE u0 RENAME TO updates;"
	        "CREATE INDEX updates_task ON updates(task_id, seq);"
	        "PRAGMA user_version=0; COMMIT;",
	        NULL, NULL, &e);
	cr_assert(rc == SQLITE_OK, "downgrade: %s", e ? e : "?");
	sqlite3_close(d);
	char pat[160];
	snprintf(pat, sizeof(pat), "%s/run/*/task.json", work);
	glob_t g;
	cr_assert(glob(pat, 0, NULL, &g) == 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		json_t *j = json_load_file(g.gl_pathv[i], 0, NULL);
		cr_assert(j);
		cr_assert(json_object_del(j, "framework_id") == 0);
		cr_assert(json_dump_file(j, g.gl_pathv[i], JSON_COMPACT) == 0);
		json_decref(j);
	}
	globfree(&g);
}

static int user_version(void)
{
	char db[128];
	snprintf(db, sizeof(db), "%s/agent.db", work);
	sqlite3 *d = NULL;
	sqlite3_stmt *st = NULL;
	int v = -1;
	if (sqlite3_open(db, &d) == SQLITE_OK &&
	    sqlite3_prepare_v2(d, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(d);
	return v;
}

/* An agent upgraded across the schema change while tasks run: the database
 * is migrated on recovery, the running task is re-attached under its
 * framework, the one that ended meanwhile reports its real status, nothing
 * is lost or sent twice. */
Test(agentd, an_upgrade_from_the_task_id_key_migrates_and_loses_nothing)
{
	run_task("up-run", "nobody", "exec sleep 100", NULL);
	run_task("up-end", "nobody", "sleep 1; exit 5", NULL);
	WAIT_FOR(fm_count("up-run", "TASK_RUNNING") >= 2 && fm_count("up-end", "TASK_RUNNING") >= 2,
	         20);
	kill_agent(SIGKILL);
	downgrade_state();
	cr_assert_eq(user_version(), 0);
	sleep(2); /* up-end ends while the agent is down */
	restart_agent(NULL, NULL);
	WAIT_FOR(fm_count("up-end", "TASK_FAILED") >= 2, 20);
	cr_expect_eq(user_version(), 1);
	pthread_mutex_lock(&fm.mu);
	cr_expect(strstr(fm.last_reg, "up-run"), "REREGISTER lists the running task");
	for (int i = 0; i < fm.n_upd; i++)
		if (strcmp(fm.upd[i].task, "up-end") == 0 &&
		    strcmp(fm.upd[i].state, "TASK_FAILED") == 0)
			cr_expect(strstr(fm.upd[i].msg, "status 5"), "%s", fm.upd[i].msg);
	pthread_mutex_unlock(&fm.mu);
	kill_task("up-run", 300);
	WAIT_FOR(fm_count("up-run", "TASK_KILLED") >= 2, 20);
	cr_expect(states_are("up-run", "TASK_STARTING TASK_RUNNING TASK_KILLING TASK_KILLED"));
	cr_expect(states_are("up-end", "TASK_STARTING TASK_RUNNING TASK_FAILED"));
	fm_expect_no_duplicates();
}
