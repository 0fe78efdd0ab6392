/* Custom executors (docs/executor-api.md) on the real agora-agent, against
 * the fake master (tests/lib/agentd_harness.c), with the test executor
 * (tests/lib/test_executor.c) speaking the Mesos v1 executor HTTP API:
 * SUBSCRIBE, LAUNCH of two tasks into one container, updates reliable to
 * the master and ACKNOWLEDGED back, MESSAGE both ways, KILL, SHUTDOWN, the
 * executor's exit, bad input on POST /api/v1/executor, the registration
 * and re-registration timeouts, and the agent SIGKILLed and restarted
 * while the executor runs. This host has no cgroup v2 controllers
 * (--no_isolation): the limits are checked as the agent computes them. */
#include "agent_proc.h"
#include "agentd_harness.h"
#include "agtest.h"
#include "proto/proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glob.h>
#include <jansson.h>
#include <netinet/in.h>
#include <regex.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

static char work[64];
static pid_t agent = -1;
static int op_port;
static const char *agent_extra[8];

static void start_agent(void)
{
	if (!op_port)
		op_port = ah_free_port();
	agent = ap_start(work, fm.port, op_port, NULL, agent_extra);
	cr_assert(agent >= 0);
}

static void setup(void)
{
	agt_root_dir(work, sizeof(work), "executor");
	cr_assert(fm_start() == 0);
	start_agent();
	WAIT_FOR(fm_registers() >= 1, 10);
}

/* Containers the agent lists that have not ended. */
static int live_containers(void)
{
	static char body[1 << 16];
	if (ah_http_get(op_port, "/containers", body, sizeof(body)) != 200)
		return -1;
	json_t *arr = json_loads(body, 0, NULL), *c;
	size_t i;
	int n = 0;
	json_array_foreach (arr, i, c)
		n += strcmp(json_string_value(json_object_get(c, "phase")), "ended") != 0;
	json_decref(arr);
	return n;
}

static void teardown(void)
{
	/* The agent's exit is not its tasks' end: the framework's is. Its
	 * executors get SHUTDOWN (and are killed after their grace), its
	 * tasks are killed. */
	if (agent > 0 && kill(agent, 0) == 0) {
		fm_send("{\"type\":\"SHUTDOWN_FRAMEWORK\",\"shutdown_framework\":{"
		        "\"framework_id\":{\"value\":\"F0\"}}}");
		double end = ah_now_s() + 20;
		while (live_containers() > 0 && ah_now_s() < end)
			usleep(100000);
		cr_expect_eq(live_containers(), 0, "containers left running");
	}
	ap_stop(&agent, SIGTERM);
	cr_expect_str_empty(ap_keep_log(work, NULL, NULL));
	ap_kill_monitors(work);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s.log", work, work);
	if (work[0])
		cr_expect(system(cmd) == 0);
	cr_expect_eq(fm.bad, 0, "the fake master got messages it could not decode");
}

TestSuite(executor_api, .init = setup, .fini = teardown, .timeout = 120);

/* RUN_TASK of task `id` (named `name`) for executor `eid` of framework F0
 * (user nobody, checkpointing), 0.1 cpus and 32 MiB each for the task and
 * the executor. JSON through jansson. */
static void run_exec_task(const char *id, const char *name, const char *eid)
{
	json_t *res = json_pack("[{s:s, s:s, s:{s:f}}, {s:s, s:s, s:{s:f}}]", "name", "cpus",
	                        "type", "SCALAR", "scalar", "value", 0.1, "name", "mem", "type",
	                        "SCALAR", "scalar", "value", 32.0);
	json_t *ei = json_pack("{s:s, s:{s:s}, s:{s:s}, s:{s:s, s:b}, s:O, s:s}", "type", "CUSTOM",
	                       "executor_id", "value", eid, "framework_id", "value", "F0",
	                       "command", "value", TEST_EXECUTOR, "shell", 0, "resources", res,
	                       "name", "test executor");
	json_t *m = json_pack(
	        "{s:s, s:{s:{s:s, s:s, s:{s:s}, s:[s], s:b}, s:{s:s, s:{s:s}, s:{s:s}, s:o, s:o}}}",
	        "type", "RUN_TASK", "run_task", "framework_info", "user", "nobody", "name", "fw",
	        "id", "value", "F0", "roles", "web", "checkpoint", 1, "task", "name", name,
	        "task_id", "value", id, "agent_id", "value", "A-1", "resources", res, "executor",
	        ei);
	char *text = json_dumps(m, JSON_COMPACT);
	fm_send(text);
	free(text);
	json_decref(m);
}

static void send_msg(const char *type, const char *key, json_t *payload)
{
	json_t *m = json_pack("{s:s, s:o}", "type", type, key, payload);
	char *text = json_dumps(m, JSON_COMPACT);
	fm_send(text);
	free(text);
	json_decref(m);
}

static void framework_message(const char *eid, const char *data)
{
	char *b64 = pb_base64_encode(data, strlen(data));
	send_msg("FRAMEWORK_MESSAGE", "framework_message",
	         json_pack("{s:{s:s}, s:{s:s}, s:s}", "framework_id", "value", "F0", "executor_id",
	                   "value", eid, "data", b64));
	free(b64);
}

/* The executor's stdout (every sandbox's: one executor runs per test). */
static char *exec_out(void)
{
	char pat[128];
	snprintf(pat, sizeof(pat), "%s/sandboxes/*/stdout", work);
	glob_t g;
	char *all = calloc(1, 1);
	if (glob(pat, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			char *t = ap_slurp(g.gl_pathv[i]);
			size_t n = strlen(all);
			all = realloc(all, n + strlen(t) + 1);
			strcpy(all + n, t);
			free(t);
		}
		globfree(&g);
	}
	return all;
}

static size_t sandboxes(void)
{
	char pat[128];
	snprintf(pat, sizeof(pat), "%s/sandboxes/*", work);
	glob_t g;
	size_t n = 0;
	if (glob(pat, 0, NULL, &g) == 0) {
		n = g.gl_pathc;
		globfree(&g);
	}
	return n;
}

/* How many times `needle` occurs in the executor's stdout. */
static int out_count(const char *needle)
{
	char *t = exec_out();
	int n = 0;
	for (const char *p = t; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	free(t);
	return n;
}

static bool log_has(const char *ere)
{
	char path[128];
	snprintf(path, sizeof(path), "%s.log", work);
	char *text = ap_slurp(path);
	regex_t re;
	cr_assert(regcomp(&re, ere, REG_EXTENDED | REG_NEWLINE | REG_NOSUB) == 0, "%s", ere);
	bool found = regexec(&re, text, 0, NULL, 0) == 0;
	regfree(&re);
	free(text);
	return found;
}

static bool others_has(const char *needle)
{
	pthread_mutex_lock(&fm.mu);
	bool r = strstr(fm.others, needle) != NULL;
	pthread_mutex_unlock(&fm.mu);
	return r;
}

/* The reason of the first update of `task` in `state` ("" when none). */
static void reason_of(const char *task, const char *state, char *out, size_t n)
{
	out[0] = '\0';
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd; i++)
		if (strcmp(fm.upd[i].task, task) == 0 && strcmp(fm.upd[i].state, state) == 0) {
			snprintf(out, n, "%s", fm.upd[i].reason);
			break;
		}
	pthread_mutex_unlock(&fm.mu);
}

/* No task got the same state under two uuids. */
static void expect_no_duplicates(void)
{
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd; i++)
		for (int j = i + 1; j < fm.n_upd; j++)
			cr_expect(strcmp(fm.upd[i].task, fm.upd[j].task) ||
			                  strcmp(fm.upd[i].state, fm.upd[j].state),
			          "duplicate update %s %s", fm.upd[i].task, fm.upd[i].state);
	pthread_mutex_unlock(&fm.mu);
}

/* POST /api/v1/executor on the agent: the status (-1: no connection), the
 * body into out. */
static int post(const char *content_type, const char *body, char *out, size_t n)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET,
	                          .sin_port = htons((uint16_t)op_port),
	                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	char req[8192];
	int len = snprintf(req, sizeof(req),
	                   "POST /api/v1/executor HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%s"
	                   "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
	                   content_type ? "Content-Type: " : "", content_type ? content_type : "",
	                   content_type ? "\r\n" : "", strlen(body), body);
	cr_assert(write(fd, req, (size_t)len) == len);
	char buf[16384];
	size_t got = 0;
	ssize_t r;
	while (got < sizeof(buf) - 1 && (r = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = '\0';
	close(fd);
	int code = -1;
	if (sscanf(buf, "HTTP/1.%*d %d", &code) != 1)
		return -1;
	const char *b = strstr(buf, "\r\n\r\n");
	snprintf(out, n, "%s", b ? b + 4 : "");
	return code;
}

static int post_json(const char *body, char *out, size_t n)
{
	return post("application/json", body, out, n);
}

/* Two tasks wait RUNNING (acknowledged: the fake master acknowledges the
 * second copy) in executor e1. */
static void two_running(void)
{
	run_exec_task("t1", "run1", "e1");
	run_exec_task("t2", "run2", "e1");
	WAIT_FOR(fm_count("t1", "TASK_RUNNING") >= 2 && fm_count("t2", "TASK_RUNNING") >= 2, 30);
	WAIT_FOR(out_count("acked t1 TASK_RUNNING") == 1 && out_count("acked t2 TASK_RUNNING") == 1,
	         10);
}

Test(executor_api, two_tasks_one_container_updates_acknowledged)
{
	two_running();
	/* One container for both: one sandbox, one SUBSCRIBE. */
	cr_expect_eq(sandboxes(), 1);
	cr_expect_eq(out_count("event SUBSCRIBED"), 1);
	cr_expect_eq(out_count("launch t1"), 1);
	cr_expect_eq(out_count("launch t2"), 1);
	/* Mesos's environment. */
	char ep[64];
	snprintf(ep, sizeof(ep), "env MESOS_AGENT_ENDPOINT=127.0.0.1:%d\n", op_port);
	cr_expect_eq(out_count(ep), 1);
	cr_expect_eq(out_count("env MESOS_FRAMEWORK_ID=F0\n"), 1);
	cr_expect_eq(out_count("env MESOS_EXECUTOR_ID=e1\n"), 1);
	cr_expect_eq(out_count("env MESOS_SANDBOX=/mnt/mesos/sandbox\n"), 1);
	cr_expect_eq(out_count("env MESOS_DIRECTORY=/mnt/mesos/sandbox\n"), 1);
	cr_expect_eq(out_count("env MESOS_CHECKPOINT=1\n"), 1);
	cr_expect_eq(out_count("env MESOS_RECOVERY_TIMEOUT=900000ms\n"), 1);
	cr_expect_eq(out_count("env MESOS_SUBSCRIPTION_BACKOFF_MAX=2secs\n"), 1);
	cr_expect_eq(out_count("env MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD=5000ms\n"), 1);
	cr_expect_eq(out_count("subscribed container=ctr-"), 1);
	/* The container grew with the second task: the executor's 0.1 cpus
	 * and 32 MiB plus each task's. */
	cr_expect(log_has("executor `e1` of framework `F0`: container limits cpus 0\\.300 mem 96 "
	                  "MiB \\(the executor and 2 running tasks\\)"));
	/* A third task that finishes: its resources leave the container. */
	run_exec_task("t3", "finish3", "e1");
	WAIT_FOR(fm_count("t3", "TASK_FINISHED") >= 2, 20);
	WAIT_FOR(out_count("acked t3 TASK_FINISHED") == 1, 10);
	cr_expect(
	        log_has("container limits cpus 0\\.400 mem 128 MiB \\(the executor and 3 running"));
	/* after the 0.400 line, back to 0.300 */
	char path[128];
	snprintf(path, sizeof(path), "%s.log", work);
	char *log = ap_slurp(path);
	const char *grown = strstr(log, "container limits cpus 0.400 mem 128 MiB");
	cr_expect(grown && strstr(grown, "container limits cpus 0.300 mem 96 MiB (the executor and "
	                                 "2 running tasks)"),
	          "the container did not shrink back when t3 finished");
	free(log);
	/* Each update reached the master once under its uuid (re-sent until
	 * acknowledged, never duplicated), with the executor's source. */
	expect_no_duplicates();
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd; i++)
		cr_expect(strcmp(fm.upd[i].state, "TASK_STAGING") != 0);
	pthread_mutex_unlock(&fm.mu);
	/* Updates still unacknowledged at the executor: none. */
	cr_expect_eq(out_count("acked "), 4);
}

Test(executor_api, message_both_ways_kill_shutdown)
{
	two_running();
	framework_message("e1", "echo:hello");
	WAIT_FOR(out_count("message echo:hello") == 1, 10);
	char *want = pb_base64_encode("reply:hello", strlen("reply:hello"));
	char needle[256];
	snprintf(needle, sizeof(needle), "\"data\":\"%s\"", want);
	free(want);
	WAIT_FOR(others_has("\"type\":\"EXECUTOR_MESSAGE\"") && others_has(needle), 10);
	cr_expect(others_has("\"executor_id\":{\"value\":\"e1\"}"));
	/* A MESSAGE to an executor that does not exist is dropped, logged. */
	framework_message("nope", "x");
	WAIT_FOR(log_has("MESSAGE for executor `nope` of framework `F0`: no such executor"), 10);

	send_msg("KILL_TASK", "kill_task",
	         json_pack("{s:{s:s}, s:{s:s}}", "framework_id", "value", "F0", "task_id", "value",
	                   "t1"));
	WAIT_FOR(out_count("kill t1") == 1, 10);
	WAIT_FOR(fm_count("t1", "TASK_KILLED") >= 2, 20);
	cr_expect_eq(fm_count("t2", "TASK_KILLED"), -1);

	send_msg("SHUTDOWN_EXECUTOR", "shutdown_executor",
	         json_pack("{s:{s:s}, s:{s:s}}", "framework_id", "value", "F0", "executor_id",
	                   "value", "e1"));
	WAIT_FOR(out_count("event SHUTDOWN") == 1, 10);
	WAIT_FOR(fm_count("t2", "TASK_KILLED") >= 1, 20);
	WAIT_FOR(others_has("\"type\":\"EXECUTOR_EXITED\""), 20);
	cr_expect_eq(fm_count("t2", "TASK_LOST"), -1, "the executor killed its task itself");
	expect_no_duplicates();
}

Test(executor_api, executor_exit_ends_its_tasks)
{
	two_running();
	framework_message("e1", "exit:3");
	WAIT_FOR(fm_count("t1", "TASK_LOST") >= 1 && fm_count("t2", "TASK_LOST") >= 1, 20);
	char reason[64];
	reason_of("t1", "TASK_LOST", reason, sizeof(reason));
	cr_expect_str_eq(reason, "REASON_EXECUTOR_TERMINATED");
	reason_of("t2", "TASK_LOST", reason, sizeof(reason));
	cr_expect_str_eq(reason, "REASON_EXECUTOR_TERMINATED");
	/* the master hears it exited, with Mesos's wait status (3 << 8) */
	WAIT_FOR(others_has("\"type\":\"EXECUTOR_EXITED\""), 10);
	cr_expect(others_has("\"status\":768"));
	/* A new task for e1 starts a new executor. */
	run_exec_task("t4", "run4", "e1");
	WAIT_FOR(fm_count("t4", "TASK_RUNNING") >= 1, 30);
	cr_expect_eq(sandboxes(), 2);
}

Test(executor_api, bad_input_is_refused_naming_the_field)
{
	two_running();
	char body[4096];
	static const char call_head[] =
	        "{\"framework_id\":{\"value\":\"F0\"},\"executor_id\":{\"value\":\"e1\"},";
	cr_expect_eq(post("text/plain", "{}", body, sizeof(body)), 415);
	cr_expect_eq(post(NULL, "{}", body, sizeof(body)), 400);
	cr_expect(strstr(body, "Content-Type"), "%s", body);
	cr_expect_eq(post_json("not json", body, sizeof(body)), 400);
	cr_expect_eq(post_json("{\"type\":\"UPDATE\"}", body, sizeof(body)), 400);
	cr_expect(strstr(body, "executor_id"), "%s", body);
	char req[2048];
	snprintf(req, sizeof(req), "%s\"type\":\"UPDATE\"}", call_head);
	cr_expect_eq(post_json(req, body, sizeof(body)), 400);
	cr_expect(strstr(body, "'update'"), "%s", body);
	snprintf(req, sizeof(req),
	         "%s\"type\":\"UPDATE\",\"update\":{\"status\":{\"task_id\":{\"value\":\"t1\"},"
	         "\"state\":\"TASK_RUNNING\",\"uuid\":\"AAEC\"}}}",
	         call_head);
	cr_expect_eq(post_json(req, body, sizeof(body)), 400);
	cr_expect(strstr(body, "call.update.status.uuid"), "%s", body);
	snprintf(req, sizeof(req),
	         "%s\"type\":\"UPDATE\",\"update\":{\"status\":{\"task_id\":{\"value\":\"t1\"},"
	         "\"state\":\"TASK_BOGUS\",\"uuid\":\"AAECAwQFBgcICQoLDA0ODw==\"}}}",
	         call_head);
	cr_expect_eq(post_json(req, body, sizeof(body)), 400);
	cr_expect(strstr(body, "state"), "%s", body);
	snprintf(req, sizeof(req),
	         "%s\"type\":\"UPDATE\",\"update\":{\"status\":{\"task_id\":{\"value\":\"t1\"},"
	         "\"state\":\"TASK_STAGING\",\"uuid\":\"AAECAwQFBgcICQoLDA0ODw==\"}}}",
	         call_head);
	cr_expect_eq(post_json(req, body, sizeof(body)), 400);
	cr_expect(strstr(body, "call.update.status.state"), "%s", body);
	/* a task that is not the executor's */
	snprintf(req, sizeof(req),
	         "%s\"type\":\"UPDATE\",\"update\":{\"status\":{\"task_id\":{\"value\":\"zz\"},"
	         "\"state\":\"TASK_RUNNING\",\"uuid\":\"AAECAwQFBgcICQoLDA0ODw==\"}}}",
	         call_head);
	fm_run_task("zz", "nobody", "sleep 30", NULL, NULL);
	WAIT_FOR(fm_count("zz", "TASK_RUNNING") >= 1, 20);
	cr_expect_eq(post_json(req, body, sizeof(body)), 400);
	cr_expect(strstr(body, "call.update.status.task_id"), "%s", body);
	/* wrong framework, wrong executor: as Mesos answers */
	cr_expect_eq(post_json("{\"framework_id\":{\"value\":\"F9\"},\"executor_id\":{\"value\":"
	                       "\"e1\"},\"type\":\"HEARTBEAT\"}",
	                       body, sizeof(body)),
	             400);
	cr_expect(strstr(body, "Framework cannot be found"), "%s", body);
	cr_expect_eq(post_json("{\"framework_id\":{\"value\":\"F0\"},\"executor_id\":{\"value\":"
	                       "\"e9\"},\"type\":\"HEARTBEAT\"}",
	                       body, sizeof(body)),
	             400);
	cr_expect(strstr(body, "Executor cannot be found"), "%s", body);
	snprintf(req, sizeof(req), "%s\"type\":\"MESSAGE\",\"message\":{\"data\":\"!!\"}}",
	         call_head);
	cr_expect_eq(post_json(req, body, sizeof(body)), 400);
	cr_expect(strstr(body, "call.message.data"), "%s", body);
	/* Nothing of it hurt the agent or the executor's tasks. */
	cr_expect_eq(ah_http_get(op_port, "/health", body, sizeof(body)), 200);
	cr_expect(kill(agent, 0) == 0);
	cr_expect_eq(fm_count("t1", "TASK_FAILED"), -1);
	cr_expect_eq(fm_count("t1", "TASK_LOST"), -1);
	/* HEARTBEAT is answered 202 */
	snprintf(req, sizeof(req), "%s\"type\":\"HEARTBEAT\"}", call_head);
	cr_expect_eq(post_json(req, body, sizeof(body)), 202);
}

Test(executor_api, not_subscribed_then_registration_timeout)
{
	ap_stop(&agent, SIGTERM);
	agent_extra[0] = "--executor_registration_timeout";
	agent_extra[1] = "3secs";
	start_agent();
	/* an executor that never subscribes */
	json_t *m = json_pack("{s:s, s:{s:{s:s, s:s, s:{s:s}}, s:{s:s, s:{s:s}, s:{s:s}, s:[{s:s, "
	                      "s:s, s:{s:f}}], "
	                      "s:{s:{s:s}, s:{s:s}}}}}",
	                      "type", "RUN_TASK", "run_task", "framework_info", "user", "nobody",
	                      "name", "fw", "id", "value", "F0", "task", "name", "x", "task_id",
	                      "value", "s1", "agent_id", "value", "A-1", "resources", "name",
	                      "cpus", "type", "SCALAR", "scalar", "value", 0.1, "executor",
	                      "executor_id", "value", "mute", "command", "value", "sleep 60");
	char *text = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	WAIT_FOR(fm_registers() >= 2, 10);
	fm_send(text);
	free(text);
	WAIT_FOR(log_has("executor `mute` of framework `F0`: container launched"), 20);
	char body[1024];
	cr_expect_eq(post_json("{\"framework_id\":{\"value\":\"F0\"},\"executor_id\":{\"value\":"
	                       "\"mute\"},\"type\":\"HEARTBEAT\"}",
	                       body, sizeof(body)),
	             403);
	cr_expect(strstr(body, "Executor is not subscribed"), "%s", body);
	WAIT_FOR(fm_count("s1", "TASK_LOST") >= 1, 20);
	char reason[64];
	reason_of("s1", "TASK_LOST", reason, sizeof(reason));
	cr_expect_str_eq(reason, "REASON_EXECUTOR_REGISTRATION_TIMEOUT");
}

Test(executor_api, agent_sigkill_executor_resubscribes_and_keeps_its_tasks)
{
	two_running();
	ap_stop(&agent, SIGKILL);
	WAIT_FOR(out_count("disconnected") >= 1, 10);
	int before = fm_registers();
	start_agent();
	WAIT_FOR(fm_registers() > before, 10);
	WAIT_FOR(out_count("event SUBSCRIBED") == 2, 20);
	cr_expect(log_has("executor `e1` of framework `F0`: SUBSCRIBED \\(was recovering; 0 "
	                  "unacknowledged tasks, 0 unacknowledged updates, 0 tasks launched"));
	/* The re-registration lists both tasks, running. */
	pthread_mutex_lock(&fm.mu);
	cr_expect(strstr(fm.last_reg, "\"t1\"") && strstr(fm.last_reg, "\"t2\""));
	pthread_mutex_unlock(&fm.mu);
	/* It is the executor of its tasks again: a KILL reaches it. */
	send_msg("KILL_TASK", "kill_task",
	         json_pack("{s:{s:s}, s:{s:s}}", "framework_id", "value", "F0", "task_id", "value",
	                   "t1"));
	WAIT_FOR(fm_count("t1", "TASK_KILLED") >= 2, 20);
	WAIT_FOR(out_count("acked t1 TASK_KILLED") == 1, 10);
	/* and a task launched now goes to it, in the same container */
	run_exec_task("t5", "run5", "e1");
	WAIT_FOR(fm_count("t5", "TASK_RUNNING") >= 2, 20);
	cr_expect_eq(sandboxes(), 1);
	/* Nothing lost, nothing twice. */
	cr_expect_eq(fm_count("t2", "TASK_LOST"), -1);
	cr_expect_eq(out_count("launch t1"), 1);
	cr_expect_eq(out_count("launch t2"), 1);
	expect_no_duplicates();
}

Test(executor_api, executor_that_does_not_resubscribe_loses_its_tasks)
{
	two_running();
	framework_message("e1", "mute");
	WAIT_FOR(out_count("message mute") == 1, 10);
	ap_stop(&agent, SIGKILL);
	agent_extra[0] = "--executor_reregistration_timeout";
	agent_extra[1] = "1secs";
	start_agent();
	WAIT_FOR(fm_count("t1", "TASK_LOST") >= 1 && fm_count("t2", "TASK_LOST") >= 1, 20);
	char reason[64];
	reason_of("t1", "TASK_LOST", reason, sizeof(reason));
	cr_expect_str_eq(reason, "REASON_EXECUTOR_REREGISTRATION_TIMEOUT");
	cr_expect(log_has("executor `e1` of framework `F0`: did not SUBSCRIBE again within 1 s"));
	cr_expect_eq(out_count("event SUBSCRIBED"), 1);
}

/* An executor whose program cannot run: its task ends (never stuck in
 * STAGING), the agent lives on. */
Test(executor_api, executor_that_cannot_start)
{
	json_t *m = json_pack("{s:s, s:{s:{s:s, s:s, s:{s:s}}, s:{s:s, s:{s:s}, s:{s:s}, s:[{s:s, "
	                      "s:s, s:{s:f}}], "
	                      "s:{s:{s:s}, s:{s:s, s:b}}}}}",
	                      "type", "RUN_TASK", "run_task", "framework_info", "user", "nobody",
	                      "name", "fw", "id", "value", "F0", "task", "name", "x", "task_id",
	                      "value", "b1", "agent_id", "value", "A-1", "resources", "name",
	                      "cpus", "type", "SCALAR", "scalar", "value", 0.1, "executor",
	                      "executor_id", "value", "broken", "command", "value",
	                      "/nonexistent/executor", "shell", 0);
	char *text = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	fm_send(text);
	free(text);
	WAIT_FOR(fm_count("b1", "TASK_FAILED") >= 1 || fm_count("b1", "TASK_LOST") >= 1 ||
	                 fm_count("b1", "TASK_ERROR") >= 1,
	         20);
	cr_expect(kill(agent, 0) == 0);
	char body[1024];
	cr_expect_eq(ah_http_get(op_port, "/health", body, sizeof(body)), 200);
	/* and the next executor runs */
	run_exec_task("t1", "run1", "e1");
	WAIT_FOR(fm_count("t1", "TASK_RUNNING") >= 1, 20);
}

/* The SUBSCRIBE stream outlives the HTTP server's 30 s idle timeout (the
 * agent's HEARTBEATs every 15 s keep it busy; its timeouts are off). The
 * suite's 120 s holds it: a test's own .timeout leaks 48 bytes inside
 * criterion 2.4.1 under LeakSanitizer. */
Test(executor_api, stream_stays_open)
{
	two_running();
	sleep(40);
	cr_expect_eq(out_count("disconnected"), 0);
	cr_expect_eq(out_count("event SUBSCRIBED"), 1);
	framework_message("e1", "echo:late");
	WAIT_FOR(out_count("message echo:late") == 1, 10);
}
