/* Custom executors end to end: a scheduler (a scripted peer of
 * tests/lib/master_sim.h) on the real agora-master, the real agora-agent
 * (--no_isolation on this host) and the test executor
 * (tests/lib/test_executor.c). The executor's updates reach the scheduler,
 * the scheduler's acknowledgements come back to the executor as
 * ACKNOWLEDGED, MESSAGE goes both ways, KILL reaches the executor, and the
 * framework's TEARDOWN ends the executor. */
#include "agent_proc.h"
#include "agentd_harness.h"
#include "agtest.h"
#include "master_client.h"
#include "master_sim.h"
#include "proto/proto.h"

#include <glob.h>
#include <jansson.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static char work[64];
static pid_t agent = -1;

static void setup(void)
{
	sim_init();
	agt_root_dir(work, sizeof(work), "exec-e2e");
}

static void teardown(void)
{
	ap_stop(&agent, SIGTERM);
	cr_expect_str_empty(ap_keep_log(work, NULL, NULL));
	ap_kill_monitors(work);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s.log", work, work);
	if (work[0])
		cr_expect(system(cmd) == 0);
	sim_fini();
}

TestSuite(exec_e2e, .init = setup, .fini = teardown, .timeout = 120);

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

static bool out_has(const char *needle)
{
	char *t = exec_out();
	bool r = strstr(t, needle) != NULL;
	free(t);
	return r;
}

/* The next UPDATE of `task` within 10 s (others are skipped), in `state`:
 * its uuid (malloc'd) for the acknowledgement. */
static char *next_update(struct sim_peer *f, const char *task, const char *state)
{
	for (int i = 0; i < 20; i++) {
		json_t *up = sim_peer_next(f, "UPDATE", 10000);
		cr_assert(up, "no UPDATE of %s %s", task, state);
		if (strcmp(sim_jstr(up, "update.status.task_id.value"), task) != 0 ||
		    strcmp(sim_jstr(up, "update.status.state"), state) != 0) {
			json_decref(up);
			continue;
		}
		cr_expect_str_eq(sim_jstr(up, "update.status.source"), "SOURCE_EXECUTOR");
		cr_expect_str_eq(sim_jstr(up, "update.status.executor_id.value"), "e1");
		char *uuid = strdup(sim_jstr(up, "update.status.uuid"));
		json_decref(up);
		return uuid;
	}
	cr_assert_fail("no UPDATE of %s %s", task, state);
	return NULL;
}

Test(exec_e2e, updates_acknowledged_messages_kill_teardown)
{
	sim_start_master(NULL, 0);
	int op_port = ah_free_port();
	agent = ap_start(work, sim_port, op_port, NULL, NULL);
	cr_assert(agent > 0);
	struct sim_peer f = {0};
	sim_fw_subscribe(&f, NULL, NULL);
	json_t *ev = sim_peer_next(&f, "OFFERS", 15000);
	cr_assert(ev, "no offer from the agent");
	char offer[256], agent_id[256];
	snprintf(offer, sizeof(offer), "%s", sim_jstr(ev, "offers.offers.0.id.value"));
	snprintf(agent_id, sizeof(agent_id), "%s", sim_jstr(ev, "offers.offers.0.agent_id.value"));
	json_decref(ev);

	json_t *res = json_pack("[{s:s, s:s, s:{s:f}}, {s:s, s:s, s:{s:f}}]", "name", "cpus",
	                        "type", "SCALAR", "scalar", "value", 0.1, "name", "mem", "type",
	                        "SCALAR", "scalar", "value", 32.0);
	json_t *ei = json_pack("{s:s, s:{s:s}, s:{s:s, s:b, s:s}, s:O}", "type", "CUSTOM",
	                       "executor_id", "value", "e1", "command", "value", TEST_EXECUTOR,
	                       "shell", 0, "user", "nobody", "resources", res);
	json_t *infos = json_array();
	static const char *const ids[] = {"t1", "t2"};
	for (size_t i = 0; i < 2; i++)
		json_array_append_new(infos,
		                      json_pack("{s:s, s:{s:s}, s:{s:s}, s:O, s:O}", "name", "run",
		                                "task_id", "value", ids[i], "agent_id", "value",
		                                agent_id, "resources", res, "executor", ei));
	json_decref(ei);
	json_decref(res);
	json_t *call =
	        json_pack("{s:s, s:{s:s}, s:{s:[{s:s}], s:[{s:s, s:{s:o}}]}}", "type", "ACCEPT",
	                  "framework_id", "value", f.id, "accept", "offer_ids", "value", offer,
	                  "operations", "type", "LAUNCH", "launch", "task_infos", infos);
	char *body = json_dumps(call, JSON_COMPACT);
	json_decref(call);
	cr_assert_eq(sim_peer_call(&f, body, NULL), 202);
	free(body);

	/* The executor's TASK_RUNNINGs reach the scheduler; its
	 * acknowledgements reach the executor. */
	for (size_t i = 0; i < 2; i++) {
		char *uuid = next_update(&f, ids[i], "TASK_RUNNING");
		cr_expect_eq(sim_fw_ack(&f, agent_id, ids[i], uuid), 202);
		free(uuid);
	}
	double end = ah_now_s() + 10;
	while (!(out_has("acked t1 TASK_RUNNING") && out_has("acked t2 TASK_RUNNING")) &&
	       ah_now_s() < end)
		usleep(50000);
	cr_expect(out_has("acked t1 TASK_RUNNING") && out_has("acked t2 TASK_RUNNING"),
	          "no ACKNOWLEDGED reached the executor");

	/* MESSAGE both ways: the executor echoes. */
	char *hi = pb_base64_encode("echo:hi", 7);
	cr_assert_eq(sim_fw_call(&f,
	                         "{\"type\":\"MESSAGE\",\"framework_id\":{\"value\":\"%s\"},"
	                         "\"message\":{\"agent_id\":{\"value\":\"%s\"},\"executor_id\":{"
	                         "\"value\":\"e1\"},\"data\":\"%s\"}}",
	                         f.id, agent_id, hi),
	             202);
	free(hi);
	json_t *m = sim_peer_next(&f, "MESSAGE", 10000);
	cr_assert(m, "no MESSAGE from the executor");
	char *want = pb_base64_encode("reply:hi", 8);
	cr_expect_str_eq(sim_jstr(m, "message.data"), want);
	cr_expect_str_eq(sim_jstr(m, "message.executor_id.value"), "e1");
	cr_expect_str_eq(sim_jstr(m, "message.agent_id.value"), agent_id);
	free(want);
	json_decref(m);

	/* KILL reaches the executor, which answers TASK_KILLED. */
	cr_assert_eq(sim_fw_call(&f,
	                         "{\"type\":\"KILL\",\"framework_id\":{\"value\":\"%s\"},\"kill\":{"
	                         "\"task_id\":{\"value\":\"t1\"},\"agent_id\":{\"value\":\"%s\"}}}",
	                         f.id, agent_id),
	             202);
	char *uuid = next_update(&f, "t1", "TASK_KILLED");
	cr_expect_eq(sim_fw_ack(&f, agent_id, "t1", uuid), 202);
	free(uuid);

	/* TEARDOWN: the agent shuts the executor down. */
	cr_assert_eq(sim_fw_teardown(&f), 202);
	end = ah_now_s() + 15;
	while (!out_has("event SHUTDOWN") && ah_now_s() < end)
		usleep(50000);
	cr_expect(out_has("event SHUTDOWN"), "the executor heard no SHUTDOWN");
	char path[128];
	snprintf(path, sizeof(path), "%s.log", work);
	end = ah_now_s() + 15;
	char *log = NULL;
	do {
		free(log);
		usleep(100000);
		log = ap_slurp(path);
	} while (!strstr(log, "` ended (") && ah_now_s() < end);
	cr_expect(strstr(log, "executor `e1` of framework"), "%s", log);
	cr_expect(strstr(log, "` ended ("), "the executor did not end");
	free(log);
}
