/* Custom executors in agora-master (issue 15, docs/executor-api.md), with a
 * simulated agent (tests/lib/master_sim.h): an executor's resources are
 * allocated once per agent with its first task and come back when the
 * agent says it exited; every task of an executor carries the same
 * ExecutorInfo (else TASK_ERROR naming the field); scheduler MESSAGE and
 * SHUTDOWN reach the agent, an executor's MESSAGE the scheduler; a
 * removed framework's executors are shut down with it. */
#include "agtest.h"
#include "master_client.h"
#include "master_sim.h"
#include "proto/proto.h"

#include <jansson.h>
#include <string.h>

TestSuite(mexec, .init = sim_init, .fini = sim_fini, .timeout = 60);

/* ExecutorInfo of `eid` running `command`, 0.5 cpus. */
static json_t *exec_info(const char *eid, const char *command)
{
	return json_pack("{s:s, s:{s:s}, s:{s:s}, s:[{s:s, s:s, s:{s:f}}]}", "type", "CUSTOM",
	                 "executor_id", "value", eid, "command", "value", command, "resources",
	                 "name", "cpus", "type", "SCALAR", "scalar", "value", 0.5);
}

/* ACCEPT `offer` launching tasks `ids` (0.25 cpus each) in executor `ei`
 * (stolen), refusing nothing. The HTTP status. */
static int launch_in(struct sim_peer *f, const char *offer, const char *agent,
                     const char *const *ids, size_t n, json_t *ei)
{
	json_t *infos = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(
		        infos, json_pack("{s:s, s:{s:s}, s:{s:s}, s:[{s:s, s:s, s:{s:f}}], s:O}",
		                         "name", "t", "task_id", "value", ids[i], "agent_id",
		                         "value", agent, "resources", "name", "cpus", "type",
		                         "SCALAR", "scalar", "value", 0.25, "executor", ei));
	json_decref(ei);
	json_t *call = json_pack("{s:s, s:{s:s}, s:{s:[{s:s}], s:[{s:s, s:{s:o}}], s:{s:f}}}",
	                         "type", "ACCEPT", "framework_id", "value", f->id, "accept",
	                         "offer_ids", "value", offer, "operations", "type", "LAUNCH",
	                         "launch", "task_infos", infos, "filters", "refuse_seconds", 0.0);
	char *body = json_dumps(call, JSON_COMPACT);
	json_decref(call);
	int status = sim_peer_call(f, body, NULL);
	free(body);
	return status;
}

/* The agent's own POST of an agent->master message of `type` with
 * `payload` (stolen). */
static int agent_post(struct sim_peer *a, const char *type, const char *key, json_t *payload)
{
	json_t *m = json_pack("{s:s, s:{s:s}, s:o}", "type", type, "agent_id", "value", a->id, key,
	                      payload);
	char *body = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	int status = sim_peer_call(a, body, NULL);
	free(body);
	return status;
}

Test(mexec, resources_once_per_agent_and_back_when_it_exits)
{
	struct sim_peer a = {0}, f = {0};
	char offer[256];
	sim_start_offered(&a, "a1", &f, offer);
	const char *two[] = {"t1", "t2"};
	cr_assert_eq(launch_in(&f, offer, a.id, two, 2, exec_info("e1", "./exec")), 202);
	json_t *run = sim_peer_next(&a, "RUN_TASK", 3000);
	cr_assert(run);
	cr_expect_str_eq(sim_jstr(run, "run_task.task.executor.executor_id.value"), "e1");
	cr_expect_str_eq(sim_jstr(run, "run_task.task.executor.command.value"), "./exec");
	json_decref(run);
	run = sim_peer_next(&a, "RUN_TASK", 3000);
	cr_assert(run);
	json_decref(run);
	/* 2 cpus less the executor's 0.5 (once) and 0.25 per task */
	json_t *ev = sim_peer_next(&f, "OFFERS", 3000);
	cr_assert(ev);
	cr_expect_float_eq(sim_offered(ev, "cpus"), 1.0, 1e-9);
	const char *oid = sim_jstr(ev, "offers.offers.0.id.value");
	char offer2[256];
	snprintf(offer2, sizeof(offer2), "%s", oid);
	json_decref(ev);

	/* A third task with another ExecutorInfo for e1: TASK_ERROR naming
	 * the field; nothing of the offer used. */
	const char *three[] = {"t3"};
	cr_assert_eq(launch_in(&f, offer2, a.id, three, 1, exec_info("e1", "./other")), 202);
	json_t *up = sim_peer_next(&f, "UPDATE", 3000);
	cr_assert(up);
	cr_expect_str_eq(sim_jstr(up, "update.status.task_id.value"), "t3");
	cr_expect_str_eq(sim_jstr(up, "update.status.state"), "TASK_ERROR");
	cr_expect(strstr(sim_jstr(up, "update.status.message"), "executor.command differs"), "%s",
	          sim_jstr(up, "update.status.message"));
	json_decref(up);
	ev = sim_peer_next(&f, "OFFERS", 3000);
	cr_assert(ev);
	cr_expect_float_eq(sim_offered(ev, "cpus"), 1.0, 1e-9);
	snprintf(offer2, sizeof(offer2), "%s", sim_jstr(ev, "offers.offers.0.id.value"));
	json_decref(ev);

	/* The same ExecutorInfo again: only the task's 0.25. */
	cr_assert_eq(launch_in(&f, offer2, a.id, three, 1, exec_info("e1", "./exec")), 202);
	run = sim_peer_next(&a, "RUN_TASK", 3000);
	cr_assert(run);
	json_decref(run);
	ev = sim_peer_next(&f, "OFFERS", 3000);
	cr_assert(ev);
	cr_expect_float_eq(sim_offered(ev, "cpus"), 0.75, 1e-9);
	json_decref(ev);

	/* The executor exits: FAILURE to the framework, its 0.5 back. */
	cr_assert_eq(agent_post(&a, "EXECUTOR_EXITED", "executor_exited",
	                        json_pack("{s:{s:s}, s:{s:s}, s:i}", "framework_id", "value", f.id,
	                                  "executor_id", "value", "e1", "status", 256)),
	             202);
	json_t *fail = sim_peer_next(&f, "FAILURE", 3000);
	cr_assert(fail);
	cr_expect_str_eq(sim_jstr(fail, "failure.executor_id.value"), "e1");
	cr_expect_str_eq(sim_jstr(fail, "failure.agent_id.value"), a.id);
	cr_expect_eq(json_integer_value(sim_jget(fail, "failure.status")), 256);
	json_decref(fail);
	/* (the 0.75 of the last offer is still the framework's: outstanding) */
	ev = sim_peer_next(&f, "OFFERS", 5000);
	cr_assert(ev);
	cr_expect_float_eq(sim_offered(ev, "cpus"), 0.5, 1e-9);
	json_decref(ev);
}

Test(mexec, messages_both_ways_and_shutdown)
{
	struct sim_peer a = {0}, f = {0};
	char offer[256];
	sim_start_offered(&a, "a1", &f, offer);
	const char *one[] = {"t1"};
	cr_assert_eq(launch_in(&f, offer, a.id, one, 1, exec_info("e1", "./exec")), 202);
	json_decref(sim_peer_next(&a, "RUN_TASK", 3000));

	/* scheduler MESSAGE -> the executor's agent */
	cr_assert_eq(sim_fw_call(&f,
	                         "{\"type\":\"MESSAGE\",\"framework_id\":{\"value\":\"%s\"},"
	                         "\"message\":{\"agent_id\":{\"value\":\"%s\"},\"executor_id\":{"
	                         "\"value\":\"e1\"},\"data\":\"aGVsbG8=\"}}",
	                         f.id, a.id),
	             202);
	json_t *m = sim_peer_next(&a, "FRAMEWORK_MESSAGE", 3000);
	cr_assert(m);
	cr_expect_str_eq(sim_jstr(m, "framework_message.framework_id.value"), f.id);
	cr_expect_str_eq(sim_jstr(m, "framework_message.executor_id.value"), "e1");
	cr_expect_str_eq(sim_jstr(m, "framework_message.data"), "aGVsbG8=");
	json_decref(m);
	/* to an agent the master does not know: best effort, logged */
	cr_assert_eq(sim_fw_call(&f,
	                         "{\"type\":\"MESSAGE\",\"framework_id\":{\"value\":\"%s\"},"
	                         "\"message\":{\"agent_id\":{\"value\":\"nope\"},\"executor_id\":{"
	                         "\"value\":\"e1\"},\"data\":\"aGVsbG8=\"}}",
	                         f.id),
	             202);
	cr_expect(sim_log_has("MESSAGE for executor e1 on agent nope: unknown agent; dropped"));

	/* executor MESSAGE (through its agent) -> the scheduler */
	cr_assert_eq(agent_post(&a, "EXECUTOR_MESSAGE", "executor_message",
	                        json_pack("{s:{s:s}, s:{s:s}, s:s}", "framework_id", "value", f.id,
	                                  "executor_id", "value", "e1", "data", "d29ybGQ=")),
	             202);
	m = sim_peer_next(&f, "MESSAGE", 3000);
	cr_assert(m);
	cr_expect_str_eq(sim_jstr(m, "message.agent_id.value"), a.id);
	cr_expect_str_eq(sim_jstr(m, "message.executor_id.value"), "e1");
	cr_expect_str_eq(sim_jstr(m, "message.data"), "d29ybGQ=");
	json_decref(m);
	/* a bad one is refused naming the field */
	char *body = NULL;
	cr_expect_eq(sim_peer_call(&a,
	                           "{\"type\":\"EXECUTOR_MESSAGE\",\"agent_id\":{\"value\":\"x\"},"
	                           "\"executor_message\":{\"executor_id\":{\"value\":\"e1\"},"
	                           "\"data\":\"\"}}",
	                           &body),
	             400);
	cr_expect(body && strstr(body, "framework_id"), "%s", body ? body : "");
	free(body);

	/* SHUTDOWN -> the agent */
	cr_assert_eq(sim_fw_call(&f,
	                         "{\"type\":\"SHUTDOWN\",\"framework_id\":{\"value\":\"%s\"},"
	                         "\"shutdown\":{\"agent_id\":{\"value\":\"%s\"},\"executor_id\":{"
	                         "\"value\":\"e1\"}}}",
	                         f.id, a.id),
	             202);
	m = sim_peer_next(&a, "SHUTDOWN_EXECUTOR", 3000);
	cr_assert(m);
	cr_expect_str_eq(sim_jstr(m, "shutdown_executor.executor_id.value"), "e1");
	cr_expect_str_eq(sim_jstr(m, "shutdown_executor.framework_id.value"), f.id);
	json_decref(m);
}

Test(mexec, removed_framework_shuts_down_its_executors)
{
	struct sim_peer a = {0}, f = {0};
	char offer[256];
	sim_start_offered(&a, "a1", &f, offer);
	const char *one[] = {"t1"};
	cr_assert_eq(launch_in(&f, offer, a.id, one, 1, exec_info("e1", "./exec")), 202);
	json_decref(sim_peer_next(&a, "RUN_TASK", 3000));
	/* its one task ends: only the executor is left on the agent */
	cr_assert_eq(sim_agent_update(&a, f.id, "t1", "TASK_FINISHED", "AAECAwQFBgcICQoLDA0ODw=="),
	             202);
	sim_expect_update(&f, "TASK_FINISHED");
	cr_assert_eq(sim_fw_teardown(&f), 202);
	json_t *m = sim_peer_next(&a, "SHUTDOWN_FRAMEWORK", 3000);
	cr_assert(m, "the agent of a removed framework's executor heard nothing");
	cr_expect_str_eq(sim_jstr(m, "shutdown_framework.framework_id.value"), f.id);
	json_decref(m);
}

Test(mexec, executor_info_refused_naming_the_field)
{
	struct sim_peer a = {0}, f = {0};
	char offer[256];
	sim_start_offered(&a, "a1", &f, offer);
	const char *one[] = {"t1"};
	json_t *ei = exec_info("e1", "./exec");
	json_object_set_new(ei, "type", json_string("DEFAULT"));
	cr_assert_eq(launch_in(&f, offer, a.id, one, 1, ei), 202);
	json_t *up = sim_peer_next(&f, "UPDATE", 3000);
	cr_assert(up);
	cr_expect_str_eq(sim_jstr(up, "update.status.state"), "TASK_ERROR");
	cr_expect(strstr(sim_jstr(up, "update.status.message"), "executor.type DEFAULT"), "%s",
	          sim_jstr(up, "update.status.message"));
	json_decref(up);
	json_t *ev = sim_peer_next(&f, "OFFERS", 3000);
	cr_assert(ev);
	snprintf(offer, sizeof(offer), "%s", sim_jstr(ev, "offers.offers.0.id.value"));
	json_decref(ev);
	ei = exec_info("e1", "./exec");
	json_object_set_new(ei, "framework_id", json_pack("{s:s}", "value", "someone-else"));
	cr_assert_eq(launch_in(&f, offer, a.id, one, 1, ei), 202);
	up = sim_peer_next(&f, "UPDATE", 3000);
	cr_assert(up);
	cr_expect(strstr(sim_jstr(up, "update.status.message"), "executor.framework_id"), "%s",
	          sim_jstr(up, "update.status.message"));
	json_decref(up);
}

/* LAUNCH_GROUP was dropped with a WARN in the master's log, the framework
 * hearing nothing: each task of the group is answered TASK_ERROR now. */
Test(mexec, launch_group_answered_not_dropped)
{
	struct sim_peer a = {0}, f = {0};
	char offer[256];
	sim_start_offered(&a, "a1", &f, offer);
	json_t *tasks = json_array();
	static const char *const ids[] = {"g1", "g2"};
	for (size_t i = 0; i < 2; i++)
		json_array_append_new(
		        tasks,
		        json_pack("{s:s, s:{s:s}, s:{s:s}, s:[{s:s, s:s, s:{s:f}}], s:{s:s}}",
		                  "name", "t", "task_id", "value", ids[i], "agent_id", "value",
		                  a.id, "resources", "name", "cpus", "type", "SCALAR", "scalar",
		                  "value", 0.25, "command", "value", "true"));
	json_t *ei = exec_info("pod", "./exec");
	json_object_set_new(ei, "type", json_string("DEFAULT"));
	json_t *call = json_pack("{s:s, s:{s:s}, s:{s:[{s:s}], s:[{s:s, s:{s:o, s:{s:o}}}]}}",
	                         "type", "ACCEPT", "framework_id", "value", f.id, "accept",
	                         "offer_ids", "value", offer, "operations", "type", "LAUNCH_GROUP",
	                         "launch_group", "executor", ei, "task_group", "tasks", tasks);
	char *body = json_dumps(call, JSON_COMPACT);
	json_decref(call);
	cr_assert_eq(sim_peer_call(&f, body, NULL), 202);
	free(body);
	for (size_t i = 0; i < 2; i++) {
		json_t *up = sim_peer_next(&f, "UPDATE", 3000);
		cr_assert(up, "LAUNCH_GROUP's task %s was not answered", ids[i]);
		cr_expect_str_eq(sim_jstr(up, "update.status.task_id.value"), ids[i]);
		cr_expect_str_eq(sim_jstr(up, "update.status.state"), "TASK_ERROR");
		cr_expect_str_eq(sim_jstr(up, "update.status.reason"), "REASON_TASK_GROUP_INVALID");
		cr_expect(strstr(sim_jstr(up, "update.status.message"), "not supported"));
		json_decref(up);
	}
	cr_expect_null(sim_peer_next(&a, "RUN_TASK", 500));
}

/* A restarted master learns the executors from the tasks agents report:
 * their resources stay booked (offers do not hand them out again). */
Test(mexec, restarted_master_books_reported_executors)
{
	struct sim_peer a = {0}, f = {0};
	char offer[256];
	sim_start_offered(&a, "a1", &f, offer);
	const char *one[] = {"t1"};
	cr_assert_eq(launch_in(&f, offer, a.id, one, 1, exec_info("e1", "./exec")), 202);
	json_t *run = sim_peer_next(&a, "RUN_TASK", 3000);
	cr_assert(run);
	char *fws = NULL, *tasks = NULL;
	char *fwinfo = json_dumps(sim_jget(run, "run_task.framework_info"), JSON_COMPACT);
	cr_assert_geq(asprintf(&fws, "[%s]", fwinfo), 0);
	json_t *tl = json_pack("[{s:{s:s}, s:O, s:{s:{s:s}, s:s}}]", "framework_id", "value", f.id,
	                       "task", sim_jget(run, "run_task.task"), "status", "task_id", "value",
	                       "t1", "state", "TASK_RUNNING");
	tasks = json_dumps(tl, JSON_COMPACT);
	json_decref(tl);
	json_decref(run);
	char fw_id[256];
	snprintf(fw_id, sizeof(fw_id), "%s", f.id);

	sim_kill_master();
	sim_peer_close(&a);
	sim_peer_close(&f);
	sim_start_master(NULL, sim_port);
	sim_agent_reregister(&a, "a1", SIM_AGENT_RES, fws, tasks);
	struct sim_peer f2 = {0};
	sim_fw_subscribe(&f2, fw_id, NULL);
	json_t *ev = sim_peer_next(&f2, "OFFERS", 5000);
	cr_assert(ev);
	/* 2 cpus less the task's 0.25 and the executor's 0.5 */
	cr_expect_float_eq(sim_offered(ev, "cpus"), 1.25, 1e-9);
	json_decref(ev);
	free(fwinfo);
	free(fws);
	free(tasks);
}
