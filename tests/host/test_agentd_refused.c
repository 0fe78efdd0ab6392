/* agora-agent as a process against a fake master (tests/lib/agentd_harness.c)
 * that refuses every status update of one framework with a 400, as the
 * master refuses one it cannot take (an id that reads as syntax, issue 12):
 * the refused updates are logged with the master's answer and set aside,
 * visible at GET /updates/set_aside, and the other framework's updates
 * still arrive. No cgroups needed: --no_isolation. */
#include "containerizer/updates.h"
#include "agent_proc.h"
#include "agentd_harness.h"
#include "agtest.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char work[64];
static pid_t agent = -1;
static int op_port;

static void start_agent(void)
{
	if (!op_port)
		op_port = ah_free_port();
	/* A long backoff: a retry by time alone cannot pass for the flow
	 * the agent owes the good updates (the last --update_backoff_ms
	 * given counts). */
	const char *const extra[] = {"--update_backoff_ms", "30000", NULL};
	agent = ap_start(work, fm.port, op_port, NULL, extra);
	cr_assert(agent > 0);
}

static void setup(void)
{
	agt_root_dir(work, sizeof(work), "refused");
	fm.ack_first = true;
	snprintf(fm.refuse_fw, sizeof(fm.refuse_fw), "BAD");
	cr_assert(fm_start() == 0);
	start_agent();
	WAIT_FOR(fm_registers() >= 1, 10);
}

static void teardown(void)
{
	ap_stop(&agent, SIGTERM);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s.log", work, work);
	if (work[0])
		cr_expect(system(cmd) == 0);
}

TestSuite(agentd_refused, .init = setup, .fini = teardown, .timeout = 60);

static bool finished(const char *task)
{
	return fm_count(task, "TASK_FINISHED") > 0;
}

/* The updates set aside, from the agent's operator endpoint. */
static json_t *set_aside(void)
{
	static char body[1 << 16];
	int code = ah_http_get(op_port, "/updates/set_aside", body, sizeof(body));
	cr_assert_eq(code, 200, "GET /updates/set_aside: %d %s", code, body);
	json_t *j = json_loads(body, 0, NULL);
	cr_assert_not_null(j, "%s", body);
	return j;
}

static size_t set_aside_count(void)
{
	json_t *j = set_aside();
	size_t n = json_array_size(json_object_get(j, "set_aside"));
	json_decref(j);
	return n;
}

static bool log_has(const char *needle)
{
	char path[128];
	snprintf(path, sizeof(path), "%s.log", work);
	return agt_file_has(path, needle);
}

Test(agentd_refused, another_frameworks_updates_flow_while_a_refused_one_is_set_aside)
{
	/* Both in one loop turn: their updates share batches. */
	fm_run_task_fw("BAD", "t-bad", "nobody", "true", NULL, NULL);
	fm_run_task("t1", "nobody", "true", NULL, NULL);
	fm_run_task("t2", "nobody", "sleep 0.5", NULL, NULL);
	WAIT_FOR(finished("t1") && finished("t2"), 15);
	/* BAD's task went STARTING, RUNNING, FINISHED: each refused on its
	 * own and set aside, the next one sent at once. */
	WAIT_FOR(set_aside_count() == 3, 15);
	json_t *j = set_aside();
	json_t *first = json_array_get(json_object_get(j, "set_aside"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(first, "framework_id")), "BAD");
	cr_expect_str_eq(json_string_value(json_object_get(first, "task_id")), "t-bad");
	cr_expect_str_eq(
	        json_string_value(json_object_get(json_object_get(first, "status"), "state")),
	        "TASK_STARTING");
	const char *answer = json_string_value(json_object_get(first, "answer"));
	cr_expect(answer && strstr(answer, "400 message.status_update.framework_id.value: "
	                                   "refused by the test"),
	          "answer: %s", answer ? answer : "(none)");
	json_t *last = json_array_get(json_object_get(j, "set_aside"), 2);
	cr_expect_str_eq(
	        json_string_value(json_object_get(json_object_get(last, "status"), "state")),
	        "TASK_FINISHED");
	json_decref(j);
	cr_expect(log_has("the master refused status update TASK_STARTING"),
	          "the refusal is not logged with the master's answer");
	cr_expect(log_has("refused by the test"), "the master's answer is not logged");
	/* Nothing of BAD was recorded by the master, every update of F0
	 * was, once each. */
	cr_expect_eq(fm_count("BAD/t-bad", "TASK_STARTING"), -1);
	cr_expect_eq(fm_count("t1", "TASK_FINISHED"), 1);
	/* Set aside is durable: after a restart it is still listed, and not
	 * sent again. */
	int refused = fm.refused;
	kill(agent, SIGKILL);
	waitpid(agent, NULL, 0);
	int regs = fm_registers();
	start_agent();
	WAIT_FOR(fm_registers() > regs, 10);
	usleep(500000);
	cr_expect_eq(set_aside_count(), 3);
	pthread_mutex_lock(&fm.mu);
	cr_expect_eq(fm.refused, refused, "a set-aside update was sent again");
	pthread_mutex_unlock(&fm.mu);
}

/* ---- a database from before the id rule -------------------------------- */

/* The agent's database as an older agent left it: task `good` of F0 and
 * task `bad` of framework `my"fw` (an id an older master let in), no
 * container for either, the agent registered as A-1. */
static void setup_old_db(void)
{
	agt_root_dir(work, sizeof(work), "refused");
	char db[128];
	snprintf(db, sizeof(db), "%s/agent.db", work);
	struct ctz_upd_config cfg = {.db_path = db};
	struct ctz_updates *u = NULL;
	struct ag_error err = {0};
	cr_assert_eq(ctz_upd_open(&cfg, &u, &err), 0, "%s", err.msg);
	cr_assert_eq(ctz_upd_meta_set(u, "agent_id", "A-1"), 0);
	cr_assert_eq(
	        ctz_upd_task_add(u, "F0", "good",
	                         "{\"user\":\"nobody\",\"name\":\"fw\",\"id\":{\"value\":\"F0\"}}",
	                         "{\"name\":\"t\",\"task_id\":{\"value\":\"good\"},\"agent_id\":{"
	                         "\"value\":\"A-1\"}}"),
	        0);
	cr_assert_eq(
	        ctz_upd_task_add(u, "my\"fw", "bad",
	                         "{\"user\":\"nobody\",\"name\":\"fw\",\"id\":{\"value\":"
	                         "\"my\\\"fw\"}}",
	                         "{\"name\":\"t\",\"task_id\":{\"value\":\"bad\"},\"agent_id\":{"
	                         "\"value\":\"A-1\"}}"),
	        0);
	ctz_upd_close(u);
	fm.ack_first = true;
	cr_assert(fm_start() == 0);
	start_agent();
}

TestSuite(agentd_old_db, .init = setup_old_db, .fini = teardown, .timeout = 60);

Test(agentd_old_db, a_task_with_an_id_now_refused_does_not_lock_the_agent_out)
{
	WAIT_FOR(fm.reregisters >= 1, 10);
	pthread_mutex_lock(&fm.mu);
	cr_expect(strstr(fm.last_reg, "\"good\"") != NULL, "%s", fm.last_reg);
	cr_expect(strstr(fm.last_reg, "my\\\"fw") == NULL, "%s", fm.last_reg);
	pthread_mutex_unlock(&fm.mu);
	cr_expect(log_has("not listed in REREGISTER: its framework id is not a valid id"));
	/* Both were never launched: F0's TASK_FAILED arrives, the other
	 * one's is refused (the fake master decodes with the id rule) and
	 * set aside. */
	WAIT_FOR(fm_count("good", "TASK_FAILED") >= 1, 10);
	WAIT_FOR(set_aside_count() == 1, 10);
	fm.bad = 0; /* the refused update, on purpose */
}
