/* Host tests of how the master keeps and ends tasks, as processes:
 * agora-master on a free loopback port, simulated agents speaking
 * docs/agent-protocol.md and scripted frameworks speaking the v1 scheduler
 * API over real sockets. Covered: a launch lost in flight (the agent
 * re-registers without the task), agents back from a partition (TASK_LOST
 * tasks killed, TASK_UNREACHABLE ones running again), TASK_KILLING and the
 * TASK_KILLING_STATE capability, GET_TASKS' unreachable_tasks and
 * completed_tasks and GET_FRAMEWORKS' completed_frameworks with their
 * bounds, teardown and MARK_AGENT_GONE as an operator sees them. */
#include "agtest.h"
#include "master_sim.h"
#include "proto/proto.h"

#include <jansson.h>
#include <string.h>

TestSuite(mtasks, .init = sim_init, .fini = sim_fini, .timeout = 60);

/* ---- the simulated agent ------------------------------------------------ */

static void agent_register(struct sim_peer *a)
{
	sim_agent_register(a, "a1", SIM_AGENT_RES);
}

/* Re-register as agent `id` reporting `tasks` (a JSON array of
 * {framework_id, task, status}) of the framework whose FrameworkInfo is
 * `fwinfo`. REGISTERED must be the first record. */
static void agent_reregister(struct sim_peer *a, const char *id, const char *fwinfo,
                             const char *tasks)
{
	char *fws = NULL;
	cr_assert_geq(asprintf(&fws, "[%s]", fwinfo), 0);
	snprintf(a->id, sizeof(a->id), "%s", id);
	sim_agent_reregister(a, "a1", SIM_AGENT_RES, fws, tasks);
	free(fws);
	cr_assert_eq(json_array_size(a->backlog), 0, "a record came before REGISTERED");
}

static void agent_heartbeat(struct sim_peer *a)
{
	char body[512];
	snprintf(body, sizeof(body), "{\"type\":\"HEARTBEAT\",\"agent_id\":{\"value\":\"%s\"}}",
	         a->id);
	cr_assert_eq(sim_peer_call(a, body, NULL), 202);
}

static int uuid_n;

/* A STATUS_UPDATE with a fresh uuid, written to `uuid` (25 bytes). */
static int agent_update(struct sim_peer *a, const char *fw, const char *task, const char *state,
                        char *uuid)
{
	uint8_t raw[PB_UUID_LEN] = {0};
	/* Cut to the uuid's 16 bytes on purpose: the counter keeps it unique. */
	int n = snprintf((char *)raw, sizeof(raw), "u%d-%s", ++uuid_n, task);
	cr_assert_gt(n, 0);
	char *b64 = pb_base64_encode(raw, sizeof(raw));
	snprintf(uuid, 25, "%s", b64);
	free(b64);
	return sim_agent_update(a, fw, task, state, uuid);
}

/* ---- the scripted framework ----------------------------------------------- */

/* Take the next offer and launch `n` tasks of `cpus` each, ids
 * `names[i]`, on it. */
static void fw_launch(struct sim_peer *f, const char *agent, const char *const *names, size_t n,
                      const char *cpus)
{
	char offer[256];
	sim_next_offer(f, 3000, offer);
	cr_assert_eq(sim_fw_launch_tasks(f, offer, agent, names, n, cpus, NULL,
	                                 "{\"refuse_seconds\":0}"),
	             202);
}

/* A RUN_TASK read from the agent's stream: the task and FrameworkInfo as
 * JSON text (malloc'ed), for a later REREGISTER. */
static void agent_take_run(struct sim_peer *a, const char *task, char **ret_task, char **ret_fw)
{
	json_t *run = sim_peer_next(a, "RUN_TASK", 3000);
	cr_assert_not_null(run, "no RUN_TASK for %s", task);
	cr_assert_str_eq(sim_jstr(run, "run_task.task.task_id.value"), task);
	if (ret_task)
		*ret_task = json_dumps(sim_jget(run, "run_task.task"), JSON_COMPACT);
	if (ret_fw)
		*ret_fw = json_dumps(sim_jget(run, "run_task.framework_info"), JSON_COMPACT);
	json_decref(run);
}

/* {framework_id, task, status} as a REREGISTER lists it. */
static char *reported(const char *fw, const char *task_json, const char *task, const char *state)
{
	char *s = NULL;
	cr_assert_geq(asprintf(&s,
	                       "{\"framework_id\":{\"value\":\"%s\"},\"task\":%s,\"status\":{"
	                       "\"task_id\":{\"value\":\"%s\"},\"state\":\"%s\"}}",
	                       fw, task_json, task, state),
	              0);
	return s;
}

/* Agent `a` restarts: its stream closes and it re-registers as `a2`, same
 * id, reporting `task` (whose TaskInfo is `task_json`) RUNNING for
 * framework `fw` (FrameworkInfo `fwinfo`). */
static void agent_back_running(struct sim_peer *a, struct sim_peer *a2, const char *fw,
                               const char *fwinfo, const char *task_json, const char *task)
{
	char id[256];
	snprintf(id, sizeof(id), "%s", a->id);
	sim_peer_close(a);
	char *rep = reported(fw, task_json, task, "TASK_RUNNING"), list[8192];
	snprintf(list, sizeof(list), "[%s]", rep);
	free(rep);
	agent_reregister(a2, id, fwinfo, list);
}

/* ---- a launch lost in flight ---------------------------------------------- */

static void lost_launch(const char *caps, const char *want_state)
{
	sim_start_master(NULL, 0);
	struct sim_peer a = {0}, f = {0}, o = {0};
	agent_register(&a);
	sim_fw_subscribe(&f, NULL, caps);
	cr_assert_eq(sim_peer_open(&o, "/api/v1", "{\"type\":\"SUBSCRIBE\"}"), 200);
	fw_launch(&f, a.id, (const char *const[]){"lost", "kept"}, 2, "1");
	char *kept_task = NULL, *fwinfo = NULL;
	/* The agent takes `kept`; `lost` never reaches it (its RUN_TASK is
	 * read here and dropped, as by an agent that died before recording
	 * it). */
	json_t *r1 = sim_peer_next(&a, "RUN_TASK", 3000), *r2 = sim_peer_next(&a, "RUN_TASK", 3000);
	cr_assert(r1 && r2);
	json_t *kept = strcmp(sim_jstr(r1, "run_task.task.task_id.value"), "kept") == 0 ? r1 : r2;
	kept_task = json_dumps(sim_jget(kept, "run_task.task"), JSON_COMPACT);
	fwinfo = json_dumps(sim_jget(kept, "run_task.framework_info"), JSON_COMPACT);
	json_decref(r1);
	json_decref(r2);
	char uuid[25];
	cr_assert_eq(agent_update(&a, f.id, "kept", "TASK_RUNNING", uuid), 202);
	json_t *ev = sim_peer_next(&f, "UPDATE", 3000);
	cr_assert_str_eq(sim_jstr(ev, "update.status.task_id.value"), "kept");
	json_decref(ev);
	cr_assert_eq(sim_fw_ack(&f, a.id, "kept", uuid), 202);
	json_t *gt = sim_get_tasks();
	cr_assert_str_eq(sim_listed(gt, "tasks", "lost"), "TASK_STAGING");
	json_decref(gt);

	/* The agent restarts and re-registers with `kept` only. */
	struct sim_peer a2 = {0};
	agent_back_running(&a, &a2, f.id, fwinfo, kept_task, "kept");

	ev = sim_peer_next(&f, "UPDATE", 3000);
	cr_assert_not_null(ev, "no update for the lost launch");
	cr_assert_str_eq(sim_jstr(ev, "update.status.task_id.value"), "lost");
	cr_assert_str_eq(sim_jstr(ev, "update.status.state"), want_state);
	cr_assert_str_eq(sim_jstr(ev, "update.status.source"), "SOURCE_MASTER");
	cr_assert_str_eq(sim_jstr(ev, "update.status.reason"), "REASON_RECONCILIATION");
	cr_assert_str_eq(sim_jstr(ev, "update.status.message"), "Task is unknown to the agent");
	cr_assert_str_eq(sim_jstr(ev, "update.status.agent_id.value"), a2.id);
	cr_assert_null(sim_jget(ev, "update.status.uuid"), "a master update has no uuid");
	json_decref(ev);
	/* Its cpu is free again: offered, while `kept` holds the other. */
	ev = sim_peer_next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev, "the lost task's resources were not offered again");
	cr_assert_float_eq(sim_offered(ev, "cpus"), 1.0, 1e-9);
	json_decref(ev);
	/* Nothing about `kept`: the agent has it. */
	cr_assert_null(sim_peer_next(&f, "UPDATE", 500));

	/* Operators saw it end. */
	for (;;) {
		ev = sim_peer_next(&o, "TASK_UPDATED", 3000);
		cr_assert_not_null(ev, "no TASK_UPDATED for the lost launch");
		if (strcmp(sim_jstr(ev, "task_updated.status.task_id.value"), "lost") == 0)
			break;
		json_decref(ev);
	}
	cr_assert_str_eq(sim_jstr(ev, "task_updated.state"), want_state);
	cr_assert_str_eq(sim_jstr(ev, "task_updated.framework_id.value"), f.id);
	cr_assert_str_eq(sim_jstr(ev, "task_updated.status.reason"), "REASON_RECONCILIATION");
	json_decref(ev);

	gt = sim_get_tasks();
	cr_assert_null(sim_listed(gt, "tasks", "lost"));
	cr_assert_str_eq(sim_listed(gt, "completed_tasks", "lost"), want_state);
	cr_assert_str_eq(sim_listed(gt, "tasks", "kept"), "TASK_RUNNING");
	cr_assert_null(sim_listed(gt, "completed_tasks", "kept"));
	json_decref(gt);

	free(kept_task);
	free(fwinfo);
	sim_stop_master_clean();
}

Test(mtasks, lost_launch_is_task_lost_when_the_agent_reregisters_without_it)
{
	lost_launch(NULL, "TASK_LOST");
}

Test(mtasks, lost_launch_is_task_dropped_for_a_partition_aware_framework)
{
	lost_launch("{\"type\":\"PARTITION_AWARE\"}", "TASK_DROPPED");
}

Test(mtasks, a_launch_after_the_reregistration_is_not_lost)
{
	sim_start_master(NULL, 0);
	struct sim_peer a = {0}, f = {0};
	agent_register(&a);
	/* The stream drops and the agent re-registers (nothing to report);
	 * then a launch goes on the new stream and the agent re-registers
	 * again, this time reporting it: it stays. */
	char id[256];
	snprintf(id, sizeof(id), "%s", a.id);
	sim_peer_close(&a);
	struct sim_peer a2 = {0}, a3 = {0};
	agent_reregister(&a2, id, "", "[]");
	sim_fw_subscribe(&f, NULL, NULL);
	fw_launch(&f, id, (const char *const[]){"t1"}, 1, "1");
	char *task = NULL, *fwinfo = NULL;
	agent_take_run(&a2, "t1", &task, &fwinfo);
	char *rep = reported(f.id, task, "t1", "TASK_STAGING"), list[8192];
	snprintf(list, sizeof(list), "[%s]", rep);
	sim_peer_close(&a2);
	agent_reregister(&a3, id, fwinfo, list);
	cr_assert_null(sim_peer_next(&f, "UPDATE", 800), "a task the agent reported was ended");
	json_t *gt = sim_get_tasks();
	cr_assert_str_eq(sim_listed(gt, "tasks", "t1"), "TASK_STAGING");
	json_decref(gt);
	free(rep);
	free(task);
	free(fwinfo);
	sim_stop_master_clean();
}

/* ---- registrations read out of order -------------------------------------- */

#define ORDER(start, seq) "{\"agent_started_ns\":" #start ",\"seq\":" #seq "}"

/* A REREGISTER of agent `id` with `order` on a connection of its own, as
 * one from a connection the agent abandoned (or a process of it that
 * died) that the master reads late. It must be refused: the body of the
 * 409 in *ret_body (malloc'ed). */
static void agent_reregister_refused(const char *id, const char *fwinfo, const char *tasks,
                                     const char *order, char **ret_body)
{
	char *fws = NULL;
	cr_assert_geq(asprintf(&fws, "[%s]", fwinfo), 0);
	char *body = sim_agent_reregister_body(id, "a1", SIM_AGENT_RES, fws, tasks, order);
	/* The head first: an accepted one would be a stream that never ends. */
	struct mc_conn *c = mc_connect(sim_port);
	cr_assert_not_null(c);
	char head[512];
	int n = snprintf(head, sizeof(head),
	                 "POST /api/v1/agent HTTP/1.1\r\nHost: x\r\nContent-Type: "
	                 "application/json\r\n" SIM_SECRET_HEADER ": %s\r\nContent-Length: "
	                 "%zu\r\n\r\n",
	                 sim_agent_secret(id), strlen(body));
	cr_assert_eq(mc_send(c, head, (size_t)n), 0);
	cr_assert_eq(mc_send(c, body, strlen(body)), 0);
	struct mc_response r = {0};
	cr_assert_eq(mc_read_head(c, &r), 0);
	cr_assert_eq(r.status, 409, "%s was accepted (%d)", order, r.status);
	cr_assert_eq(mc_read_body(c, &r), 0);
	mc_close(c);
	*ret_body = strdup(r.body ? r.body : "");
	mc_response_free(&r);
	free(body);
	free(fws);
}

/* Re-register as agent `id` with `order`; REGISTERED comes first. */
static void agent_reregister_order(struct sim_peer *a, const char *id, const char *fwinfo,
                                   const char *tasks, const char *order)
{
	char *fws = NULL;
	cr_assert_geq(asprintf(&fws, "[%s]", fwinfo), 0);
	snprintf(a->id, sizeof(a->id), "%s", id);
	sim_agent_reregister_order(a, "a1", SIM_AGENT_RES, fws, tasks, order);
	free(fws);
	cr_assert_eq(json_array_size(a->backlog), 0, "a record came before REGISTERED");
}

Test(mtasks, a_stale_reregistration_is_refused_and_changes_nothing)
{
	sim_start_master(NULL, 0);
	struct sim_peer a = {0}, a2 = {0}, f = {0};
	agent_register(&a);
	char id[256];
	snprintf(id, sizeof(id), "%s", a.id);
	sim_fw_subscribe(&f, NULL, NULL);
	fw_launch(&f, id, (const char *const[]){"t1"}, 1, "1");
	char *task = NULL, *fwinfo = NULL;
	agent_take_run(&a, "t1", &task, &fwinfo);
	char uuid[25];
	cr_assert_eq(agent_update(&a, f.id, "t1", "TASK_RUNNING", uuid), 202);
	json_t *ev = sim_peer_next(&f, "UPDATE", 3000);
	cr_assert_not_null(ev);
	json_decref(ev);
	cr_assert_eq(sim_fw_ack(&f, id, "t1", uuid), 202);

	/* The agent loses its stream and re-registers (seq 2, reporting t1);
	 * its seq 1, sent on a connection it gave up before t1 was
	 * launched, reaches the master only now. */
	sim_peer_close(&a);
	char *rep = reported(f.id, task, "t1", "TASK_RUNNING"), list[8192];
	snprintf(list, sizeof(list), "[%s]", rep);
	agent_reregister_order(&a2, id, fwinfo, list, ORDER(1700000000000000000, 2));
	char *why = NULL;
	agent_reregister_refused(id, fwinfo, "[]", ORDER(1700000000000000000, 1), &why);
	cr_expect_str_eq(why, "Stale registration: seq 1 of the agent process started at "
	                      "1700000000000000000 ns; already have seq 2 of the process started "
	                      "at 1700000000000000000 ns");
	free(why);
	/* A retry of the accepted one is stale too. */
	agent_reregister_refused(id, fwinfo, "[]", ORDER(1700000000000000000, 2), &why);
	free(why);
	cr_expect(sim_log_has(" WARN +agent .*Stale registration: seq 1 of the agent process"),
	          "no warning in %s", sim_log_path);

	/* Nothing changed: t1 runs, the framework heard nothing, the agent's
	 * stream is still the one it reads (its POSTs are taken) and got no
	 * KILL_TASK. */
	json_t *gt = sim_get_tasks();
	cr_expect_str_eq(sim_listed(gt, "tasks", "t1"), "TASK_RUNNING");
	cr_expect_null(sim_listed(gt, "completed_tasks", "t1"));
	json_decref(gt);
	cr_expect_null(sim_peer_next(&f, "UPDATE", 800), "the framework heard of t1");
	agent_heartbeat(&a2);
	cr_expect_null(sim_peer_next(&a2, "KILL_TASK", 500), "t1 was killed");
	cr_expect_null(sim_peer_next(&a2, "ERROR", 100));
	cr_assert_eq(agent_update(&a2, f.id, "t1", "TASK_FINISHED", uuid), 202);
	ev = sim_peer_next(&f, "UPDATE", 3000);
	cr_assert_not_null(ev);
	cr_expect_str_eq(sim_jstr(ev, "update.status.state"), "TASK_FINISHED");
	json_decref(ev);
	free(rep);
	free(task);
	free(fwinfo);
	sim_stop_master_clean();
}

Test(mtasks, registration_order_is_by_process_start_then_seq)
{
	sim_start_master(NULL, 0);
	struct sim_peer a = {0}, a2 = {0}, a3 = {0}, a4 = {0};
	agent_register(&a);
	char id[256], *why = NULL;
	snprintf(id, sizeof(id), "%s", a.id);
	sim_peer_close(&a);
	agent_reregister_order(&a2, id, "", "[]", ORDER(1000, 5));
	/* An older process, whatever its count. */
	agent_reregister_refused(id, "", "[]", ORDER(999, 9), &why);
	free(why);
	/* The agent restarted: a newer process starts again from 1. */
	sim_peer_close(&a2);
	agent_reregister_order(&a3, id, "", "[]", ORDER(2000, 1));
	agent_reregister_refused(id, "", "[]", ORDER(1000, 6), &why);
	cr_expect_str_eq(why, "Stale registration: seq 6 of the agent process started at 1000 "
	                      "ns; already have seq 1 of the process started at 2000 ns");
	free(why);
	/* Without an order (an older agent): as before the field, and the
	 * last order stays. */
	sim_peer_close(&a3);
	agent_reregister_order(&a4, id, "", "[]", NULL);
	agent_reregister_refused(id, "", "[]", ORDER(2000, 1), &why);
	free(why);
	agent_heartbeat(&a4);
	sim_stop_master_clean();
}

/* ---- agents back from a partition ----------------------------------------- */

#define PING_FLAGS                                                                                 \
	(const char *const[])                                                                      \
	{                                                                                          \
		"--agent_ping_timeout=1secs", "--max_agent_ping_timeouts=2", NULL                  \
	}

/* Launch `t1` on a fresh agent, running and acknowledged; the agent then
 * goes silent until the master reports the task with `lost_state`. */
static void run_then_partition(struct sim_peer *a, struct sim_peer *f, const char *caps,
                               const char *lost_state, char **ret_task, char **ret_fw)
{
	sim_start_master(PING_FLAGS, 0);
	agent_register(a);
	sim_fw_subscribe(f, NULL, caps);
	fw_launch(f, a->id, (const char *const[]){"t1"}, 1, "1");
	agent_take_run(a, "t1", ret_task, ret_fw);
	char uuid[25];
	cr_assert_eq(agent_update(a, f->id, "t1", "TASK_RUNNING", uuid), 202);
	json_t *ev = sim_peer_next(f, "UPDATE", 3000);
	cr_assert_str_eq(sim_jstr(ev, "update.status.state"), "TASK_RUNNING");
	json_decref(ev);
	cr_assert_eq(sim_fw_ack(f, a->id, "t1", uuid), 202);
	ev = sim_peer_next(f, "UPDATE", 6000);
	cr_assert_not_null(ev, "no %s", lost_state);
	cr_assert_str_eq(sim_jstr(ev, "update.status.state"), lost_state);
	cr_assert_str_eq(sim_jstr(ev, "update.status.reason"), "REASON_AGENT_REMOVED");
	json_decref(ev);
	/* Then the agent's loss itself, as Mesos sends it (slaveLost): a
	 * FAILURE naming only the agent. */
	ev = sim_peer_next(f, "FAILURE", 3000);
	cr_assert_not_null(ev, "no FAILURE event for the lost agent");
	cr_assert_str_eq(sim_jstr(ev, "failure.agent_id.value"), a->id);
	cr_assert_null(sim_jget(ev, "failure.executor_id"));
	cr_assert_null(sim_jget(ev, "failure.status"));
	json_decref(ev);
}

Test(mtasks, a_task_reported_lost_is_killed_when_its_agent_comes_back)
{
	struct sim_peer a = {0}, f = {0};
	char *task = NULL, *fwinfo = NULL;
	run_then_partition(&a, &f, NULL, "TASK_LOST", &task, &fwinfo);
	json_t *gt = sim_get_tasks();
	cr_assert_null(sim_listed(gt, "tasks", "t1"));
	cr_assert_null(sim_listed(gt, "unreachable_tasks", "t1"),
	               "not PARTITION_AWARE: not an unreachable task");
	cr_assert_str_eq(sim_listed(gt, "completed_tasks", "t1"), "TASK_LOST");
	json_decref(gt);

	/* Back, still running it. */
	struct sim_peer a2 = {0};
	agent_back_running(&a, &a2, f.id, fwinfo, task, "t1");
	json_t *ev = sim_peer_next(&a2, NULL, 3000);
	/* The master's ping timeout is 2 s here: keep the agent alive. */
	agent_heartbeat(&a2);
	cr_assert_not_null(ev, "the agent was not told to kill the task");
	cr_assert_str_eq(sim_jstr(ev, "type"), "KILL_TASK");
	cr_assert_str_eq(sim_jstr(ev, "kill_task.task_id.value"), "t1");
	cr_assert_str_eq(sim_jstr(ev, "kill_task.framework_id.value"), f.id);
	json_decref(ev);
	/* It stays TASK_LOST for the framework: no update, not listed live. */
	cr_assert_null(sim_peer_next(&f, "UPDATE", 500));
	gt = sim_get_tasks();
	cr_assert_null(sim_listed(gt, "tasks", "t1"));
	cr_assert_str_eq(sim_listed(gt, "completed_tasks", "t1"), "TASK_LOST");
	json_decref(gt);

	/* Its updates from before the kill are acknowledged and answered with
	 * another KILL_TASK; the framework does not hear of them. */
	agent_heartbeat(&a2);
	char uuid[25];
	cr_assert_eq(agent_update(&a2, f.id, "t1", "TASK_RUNNING", uuid), 202);
	ev = sim_peer_next(&a2, "STATUS_UPDATE_ACK", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(sim_jstr(ev, "status_update_ack.uuid"), uuid);
	json_decref(ev);
	ev = sim_peer_next(&a2, "KILL_TASK", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(sim_jstr(ev, "kill_task.task_id.value"), "t1");
	json_decref(ev);
	cr_assert_eq(agent_update(&a2, f.id, "t1", "TASK_KILLED", uuid), 202);
	cr_assert_null(sim_peer_next(&f, "UPDATE", 500));
	free(task);
	free(fwinfo);
	sim_stop_master_clean();
}

Test(mtasks, a_partition_aware_task_runs_again_when_its_agent_comes_back)
{
	struct sim_peer a = {0}, f = {0};
	char *task = NULL, *fwinfo = NULL;
	run_then_partition(&a, &f, "{\"type\":\"PARTITION_AWARE\"}", "TASK_UNREACHABLE", &task,
	                   &fwinfo);
	json_t *gt = sim_get_tasks();
	cr_assert_null(sim_listed(gt, "tasks", "t1"));
	cr_assert_str_eq(sim_listed(gt, "unreachable_tasks", "t1"), "TASK_UNREACHABLE");
	cr_assert_null(sim_listed(gt, "completed_tasks", "t1"));
	json_decref(gt);

	struct sim_peer a2 = {0};
	agent_back_running(&a, &a2, f.id, fwinfo, task, "t1");
	json_t *ev = sim_peer_next(&f, "UPDATE", 3000);
	cr_assert_not_null(ev, "no TASK_RUNNING when the agent came back");
	cr_assert_str_eq(sim_jstr(ev, "update.status.task_id.value"), "t1");
	cr_assert_str_eq(sim_jstr(ev, "update.status.state"), "TASK_RUNNING");
	cr_assert_str_eq(sim_jstr(ev, "update.status.source"), "SOURCE_MASTER");
	cr_assert_str_eq(sim_jstr(ev, "update.status.reason"), "REASON_AGENT_REREGISTERED");
	json_decref(ev);
	/* Not killed. */
	agent_heartbeat(&a2);
	cr_assert_null(sim_peer_next(&a2, "KILL_TASK", 500));
	agent_heartbeat(&a2);
	gt = sim_get_tasks();
	cr_assert_str_eq(sim_listed(gt, "tasks", "t1"), "TASK_RUNNING");
	cr_assert_null(sim_jget(gt, "get_tasks.unreachable_tasks"), "an empty list is omitted");
	json_decref(gt);
	/* Booked again: one cpu of two offered (the filter is 0 s). */
	ev = sim_peer_next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev);
	cr_assert_float_eq(sim_offered(ev, "cpus"), 1.0, 1e-9);
	json_decref(ev);
	free(task);
	free(fwinfo);
	sim_stop_master_clean();
}

Test(mtasks, mark_agent_gone_completes_unreachable_tasks)
{
	struct sim_peer a = {0}, f = {0};
	run_then_partition(&a, &f, "{\"type\":\"PARTITION_AWARE\"}", "TASK_UNREACHABLE", NULL,
	                   NULL);
	cr_assert_eq(sim_op_status("{\"type\":\"MARK_AGENT_GONE\",\"mark_agent_gone\":{"
	                           "\"agent_id\":{\"value\":\"%s\"}}}",
	                           a.id),
	             200);
	json_t *ev = sim_peer_next(&f, "UPDATE", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(sim_jstr(ev, "update.status.state"), "TASK_GONE_BY_OPERATOR");
	cr_assert_str_eq(sim_jstr(ev, "update.status.reason"), "REASON_AGENT_REMOVED_BY_OPERATOR");
	json_decref(ev);
	json_t *gt = sim_get_tasks();
	cr_assert_null(sim_listed(gt, "tasks", "t1"));
	cr_assert_null(sim_listed(gt, "unreachable_tasks", "t1"));
	cr_assert_str_eq(sim_listed(gt, "completed_tasks", "t1"), "TASK_GONE_BY_OPERATOR");
	json_decref(gt);
	sim_stop_master_clean();
}

/* ---- TASK_KILLING ------------------------------------------------------- */

static void killing(const char *caps, bool forwarded)
{
	sim_start_master(NULL, 0);
	struct sim_peer a = {0}, f = {0};
	agent_register(&a);
	sim_fw_subscribe(&f, NULL, caps);
	fw_launch(&f, a.id, (const char *const[]){"t1"}, 1, "1");
	agent_take_run(&a, "t1", NULL, NULL);
	char u1[25], u2[25], u3[25];
	cr_assert_eq(agent_update(&a, f.id, "t1", "TASK_RUNNING", u1), 202);
	json_t *ev = sim_peer_next(&f, "UPDATE", 3000);
	json_decref(ev);
	cr_assert_eq(sim_fw_ack(&f, a.id, "t1", u1), 202);
	json_decref(sim_peer_next(&a, "STATUS_UPDATE_ACK", 3000));

	cr_assert_eq(agent_update(&a, f.id, "t1", "TASK_KILLING", u2), 202);
	if (forwarded) {
		ev = sim_peer_next(&f, "UPDATE", 3000);
		cr_assert_not_null(ev);
		cr_assert_str_eq(sim_jstr(ev, "update.status.state"), "TASK_KILLING");
		cr_assert_str_eq(sim_jstr(ev, "update.status.uuid"), u2);
		json_decref(ev);
		cr_assert_eq(sim_fw_ack(&f, a.id, "t1", u2), 202);
	} else {
		cr_assert_null(sim_peer_next(&f, "UPDATE", 800),
		               "TASK_KILLING sent to a framework without TASK_KILLING_STATE");
	}
	/* Either way the agent's retries of it stop. */
	ev = sim_peer_next(&a, "STATUS_UPDATE_ACK", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(sim_jstr(ev, "status_update_ack.uuid"), u2);
	json_decref(ev);
	json_t *gt = sim_get_tasks();
	cr_assert_str_eq(sim_listed(gt, "tasks", "t1"),
	                 forwarded ? "TASK_KILLING" : "TASK_RUNNING");
	json_decref(gt);

	cr_assert_eq(agent_update(&a, f.id, "t1", "TASK_KILLED", u3), 202);
	ev = sim_peer_next(&f, "UPDATE", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(sim_jstr(ev, "update.status.state"), "TASK_KILLED");
	json_decref(ev);
	sim_stop_master_clean();
}

Test(mtasks, task_killing_is_not_sent_without_task_killing_state)
{
	killing(NULL, false);
}

Test(mtasks, task_killing_is_sent_with_task_killing_state)
{
	killing("{\"type\":\"TASK_KILLING_STATE\"}", true);
}

/* ---- completed tasks and frameworks ------------------------------------------ */

Test(mtasks, completed_tasks_are_kept_up_to_the_bound_oldest_dropped)
{
	sim_start_master((const char *const[]){"--max_completed_tasks_per_framework=2", NULL}, 0);
	struct sim_peer a = {0}, f = {0};
	agent_register(&a);
	sim_fw_subscribe(&f, NULL, NULL);
	const char *names[] = {"c1", "c2", "c3"};
	fw_launch(&f, a.id, names, 3, "0.5");
	for (size_t i = 0; i < 3; i++) {
		char uuid[25];
		cr_assert_eq(agent_update(&a, f.id, names[i], "TASK_FINISHED", uuid), 202);
		json_t *ev = sim_peer_next(&f, "UPDATE", 3000);
		cr_assert_str_eq(sim_jstr(ev, "update.status.task_id.value"), names[i]);
		json_decref(ev);
		/* Until acknowledged, an ended task is still a task. */
		json_t *gt = sim_get_tasks();
		cr_assert_str_eq(sim_listed(gt, "tasks", names[i]), "TASK_FINISHED");
		json_decref(gt);
		cr_assert_eq(sim_fw_ack(&f, a.id, names[i], uuid), 202);
	}
	json_t *gt = sim_get_tasks();
	json_t *done = sim_jget(gt, "get_tasks.completed_tasks");
	cr_assert_eq(json_array_size(done), 2, "the bound is 2");
	cr_assert_str_eq(sim_jstr(done, "0.task_id.value"), "c2");
	cr_assert_str_eq(sim_jstr(done, "1.task_id.value"), "c3");
	cr_assert_str_eq(sim_jstr(done, "1.state"), "TASK_FINISHED");
	cr_assert_str_eq(sim_jstr(done, "1.framework_id.value"), f.id);
	cr_assert_str_eq(sim_jstr(done, "1.statuses.0.state"), "TASK_FINISHED");
	cr_assert_eq(json_array_size(sim_jget(gt, "get_tasks.tasks")), 0);
	json_decref(gt);
	/* GET_STATE carries the same lists. */
	int status;
	json_t *st = sim_op_call("{\"type\":\"GET_STATE\"}", &status, NULL, 0);
	cr_assert_eq(status, 200);
	cr_assert_eq(json_array_size(sim_jget(st, "get_state.get_tasks.completed_tasks")), 2);
	json_decref(st);
	sim_stop_master_clean();
}

Test(mtasks, teardown_completes_the_framework_and_its_tasks)
{
	sim_start_master((const char *const[]){"--max_completed_frameworks=1", NULL}, 0);
	struct sim_peer a = {0}, f = {0}, o = {0};
	agent_register(&a);
	sim_fw_subscribe(&f, NULL, NULL);
	fw_launch(&f, a.id, (const char *const[]){"t1"}, 1, "1");
	agent_take_run(&a, "t1", NULL, NULL);
	char uuid[25];
	cr_assert_eq(agent_update(&a, f.id, "t1", "TASK_RUNNING", uuid), 202);
	json_decref(sim_peer_next(&f, "UPDATE", 3000));
	cr_assert_eq(sim_fw_ack(&f, a.id, "t1", uuid), 202);
	cr_assert_eq(sim_peer_open(&o, "/api/v1", "{\"type\":\"SUBSCRIBE\"}"), 200);
	json_decref(sim_peer_next(&o, "SUBSCRIBED", 3000));

	int status;
	cr_assert_eq(sim_op_status("{\"type\":\"TEARDOWN\",\"teardown\":{\"framework_id\":{"
	                           "\"value\":\"%s\"}}}",
	                           f.id),
	             200);
	json_t *ev = sim_peer_next(&a, "SHUTDOWN_FRAMEWORK", 3000);
	cr_assert_not_null(ev);
	json_decref(ev);
	ev = sim_peer_next(&o, "TASK_UPDATED", 3000);
	cr_assert_not_null(ev, "no TASK_UPDATED for the torn-down framework's task");
	cr_assert_str_eq(sim_jstr(ev, "task_updated.state"), "TASK_KILLED");
	cr_assert_str_eq(sim_jstr(ev, "task_updated.status.reason"), "REASON_FRAMEWORK_REMOVED");
	cr_assert_str_eq(sim_jstr(ev, "task_updated.status.source"), "SOURCE_MASTER");
	json_decref(ev);

	json_t *gt = sim_get_tasks();
	cr_assert_null(sim_listed(gt, "tasks", "t1"));
	cr_assert_str_eq(sim_listed(gt, "completed_tasks", "t1"), "TASK_KILLED");
	json_decref(gt);
	json_t *fws = sim_op_call("{\"type\":\"GET_FRAMEWORKS\"}", &status, NULL, 0);
	cr_assert_eq(status, 200);
	cr_assert_eq(json_array_size(sim_jget(fws, "get_frameworks.frameworks")), 0);
	json_t *done = sim_jget(fws, "get_frameworks.completed_frameworks");
	cr_assert_eq(json_array_size(done), 1);
	cr_assert_str_eq(sim_jstr(done, "0.framework_info.id.value"), f.id);
	cr_assert(json_is_false(sim_jget(done, "0.active")));
	cr_assert(json_is_false(sim_jget(done, "0.connected")));
	cr_assert(json_is_integer(sim_jget(done, "0.unregistered_time.nanoseconds")));
	cr_assert(json_is_integer(sim_jget(done, "0.registered_time.nanoseconds")));
	json_decref(fws);

	/* The bound: a second removed framework pushes the first out, its
	 * tasks with it. */
	struct sim_peer f2 = {0};
	sim_fw_subscribe(&f2, NULL, NULL);
	cr_assert_eq(sim_op_status("{\"type\":\"TEARDOWN\",\"teardown\":{\"framework_id\":{"
	                           "\"value\":\"%s\"}}}",
	                           f2.id),
	             200);
	fws = sim_op_call("{\"type\":\"GET_FRAMEWORKS\"}", &status, NULL, 0);
	done = sim_jget(fws, "get_frameworks.completed_frameworks");
	cr_assert_eq(json_array_size(done), 1);
	cr_assert_str_eq(sim_jstr(done, "0.framework_info.id.value"), f2.id);
	json_decref(fws);
	gt = sim_get_tasks();
	cr_assert_null(sim_listed(gt, "completed_tasks", "t1"));
	json_decref(gt);
	/* Its agent's later updates are acknowledged, not forwarded. */
	cr_assert_eq(agent_update(&a, f.id, "t1", "TASK_KILLED", uuid), 202);
	ev = sim_peer_next(&a, "STATUS_UPDATE_ACK", 3000);
	cr_assert_not_null(ev);
	json_decref(ev);
	sim_stop_master_clean();
}

Test(mtasks, a_framework_removed_while_its_agent_was_away_is_shut_down_on_return)
{
	struct sim_peer a = {0}, f = {0};
	sim_start_with(&a, "a1", &f);
	fw_launch(&f, a.id, (const char *const[]){"t1"}, 1, "1");
	char *task = NULL, *fwinfo = NULL;
	agent_take_run(&a, "t1", &task, &fwinfo);
	char id[256];
	snprintf(id, sizeof(id), "%s", a.id);
	sim_peer_close(&a);
	usleep(200 * 1000);
	cr_assert_eq(sim_op_status("{\"type\":\"TEARDOWN\",\"teardown\":{\"framework_id\":{"
	                           "\"value\":\"%s\"}}}",
	                           f.id),
	             200);
	/* Its SHUTDOWN_FRAMEWORK had no stream to go on: it comes after the
	 * re-registration's REGISTERED. */
	char *rep = reported(f.id, task, "t1", "TASK_RUNNING"), list[8192];
	snprintf(list, sizeof(list), "[%s]", rep);
	struct sim_peer a2 = {0};
	agent_reregister(&a2, id, fwinfo, list);
	json_t *ev = sim_peer_next(&a2, NULL, 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(sim_jstr(ev, "type"), "SHUTDOWN_FRAMEWORK");
	cr_assert_str_eq(sim_jstr(ev, "shutdown_framework.framework_id.value"), f.id);
	json_decref(ev);
	json_t *gt = sim_get_tasks();
	cr_assert_null(sim_listed(gt, "tasks", "t1"));
	json_decref(gt);
	free(rep);
	free(task);
	free(fwinfo);
	sim_stop_master_clean();
}

Test(mtasks, a_kill_while_the_agent_is_away_is_sent_when_it_returns)
{
	struct sim_peer a = {0}, f = {0};
	sim_start_with(&a, "a1", &f);
	fw_launch(&f, a.id, (const char *const[]){"t1", "t2"}, 2, "1");
	char *t1 = NULL, *t2 = NULL, *fwinfo = NULL;
	json_t *r1 = sim_peer_next(&a, "RUN_TASK", 3000), *r2 = sim_peer_next(&a, "RUN_TASK", 3000);
	cr_assert(r1 && r2);
	bool first = strcmp(sim_jstr(r1, "run_task.task.task_id.value"), "t1") == 0;
	t1 = json_dumps(sim_jget(first ? r1 : r2, "run_task.task"), JSON_COMPACT);
	t2 = json_dumps(sim_jget(first ? r2 : r1, "run_task.task"), JSON_COMPACT);
	fwinfo = json_dumps(sim_jget(r1, "run_task.framework_info"), JSON_COMPACT);
	json_decref(r1);
	json_decref(r2);
	char id[256];
	snprintf(id, sizeof(id), "%s", a.id);
	sim_peer_close(&a);
	usleep(200 * 1000);
	char body[512];
	snprintf(body, sizeof(body),
	         "{\"type\":\"KILL\",\"framework_id\":{\"value\":\"%s\"},\"kill\":{\"task_id\":{"
	         "\"value\":\"t1\"}}}",
	         f.id);
	cr_assert_eq(sim_peer_call(&f, body, NULL), 202);
	char *p1 = reported(f.id, t1, "t1", "TASK_RUNNING");
	char *p2 = reported(f.id, t2, "t2", "TASK_RUNNING"), list[16384];
	snprintf(list, sizeof(list), "[%s,%s]", p1, p2);
	struct sim_peer a2 = {0};
	agent_reregister(&a2, id, fwinfo, list);
	json_t *ev = sim_peer_next(&a2, NULL, 3000);
	cr_assert_not_null(ev, "the kill was not sent again");
	cr_assert_str_eq(sim_jstr(ev, "type"), "KILL_TASK");
	cr_assert_str_eq(sim_jstr(ev, "kill_task.task_id.value"), "t1");
	json_decref(ev);
	/* Once: another re-registration does not kill it again, nor t2. */
	sim_peer_close(&a2);
	struct sim_peer a3 = {0};
	agent_reregister(&a3, id, fwinfo, list);
	cr_assert_null(sim_peer_next(&a3, "KILL_TASK", 800));
	free(p1);
	free(p2);
	free(t1);
	free(t2);
	free(fwinfo);
	sim_stop_master_clean();
}

Test(mtasks, a_framework_past_its_failover_timeout_is_a_completed_framework)
{
	sim_start_master(NULL, 0);
	struct sim_peer f = {0};
	cr_assert_eq(
	        sim_peer_open(&f, "/api/v1/scheduler",
	                      "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{"
	                      "\"user\":\"root\",\"name\":\"brief\",\"failover_timeout\":0.3}}}"),
	        200);
	json_t *ev = sim_peer_next(&f, "SUBSCRIBED", 3000);
	cr_assert_not_null(ev);
	char id[256];
	snprintf(id, sizeof(id), "%s", sim_jstr(ev, "subscribed.framework_id.value"));
	json_decref(ev);
	sim_peer_close(&f);
	/* Disconnected, within its failover timeout: still a framework. */
	usleep(100 * 1000);
	int status;
	json_t *fws = sim_op_call("{\"type\":\"GET_FRAMEWORKS\"}", &status, NULL, 0);
	cr_assert_str_eq(sim_jstr(fws, "get_frameworks.frameworks.0.framework_info.id.value"), id);
	cr_assert(json_is_false(sim_jget(fws, "get_frameworks.frameworks.0.connected")));
	cr_assert_null(sim_jget(fws, "get_frameworks.completed_frameworks"));
	json_decref(fws);
	usleep(700 * 1000);
	fws = sim_op_call("{\"type\":\"GET_FRAMEWORKS\"}", &status, NULL, 0);
	cr_assert_eq(status, 200);
	cr_assert_eq(json_array_size(sim_jget(fws, "get_frameworks.frameworks")), 0);
	json_t *done = sim_jget(fws, "get_frameworks.completed_frameworks");
	cr_assert_eq(json_array_size(done), 1);
	cr_assert_str_eq(sim_jstr(done, "0.framework_info.id.value"), id);
	cr_assert_str_eq(sim_jstr(done, "0.framework_info.name"), "brief");
	cr_assert(json_is_false(sim_jget(done, "0.active")));
	cr_assert(json_is_false(sim_jget(done, "0.connected")));
	cr_assert(json_is_integer(sim_jget(done, "0.unregistered_time.nanoseconds")));
	json_decref(fws);
	sim_stop_master_clean();
}

Test(mtasks, no_completed_frameworks_with_a_zero_bound)
{
	sim_start_master((const char *const[]){"--max_completed_frameworks=0", NULL}, 0);
	struct sim_peer f = {0};
	sim_fw_subscribe(&f, NULL, NULL);
	int status;
	cr_assert_eq(sim_op_status("{\"type\":\"TEARDOWN\",\"teardown\":{\"framework_id\":{"
	                           "\"value\":\"%s\"}}}",
	                           f.id),
	             200);
	json_t *fws = sim_op_call("{\"type\":\"GET_FRAMEWORKS\"}", &status, NULL, 0);
	cr_assert_eq(status, 200);
	cr_assert_eq(json_array_size(sim_jget(fws, "get_frameworks.frameworks")), 0);
	cr_assert_null(sim_jget(fws, "get_frameworks.completed_frameworks"));
	json_decref(fws);
	sim_stop_master_clean();
}

/* A framework the master knows only from an agent's report (its registry
 * lost, or never told) is torn down: its id is recorded as removed all the
 * same, so after a master SIGKILL it cannot subscribe with it again. */
Test(mtasks, a_framework_known_only_from_an_agent_stays_removed_after_a_master_restart)
{
	sim_start_master(NULL, 0);
	const char *fwinfo = "{\"id\":{\"value\":\"FX\"},\"user\":\"root\",\"name\":\"fx\","
	                     "\"failover_timeout\":60}";
	char *rep = reported("FX",
	                     "{\"name\":\"t1\",\"task_id\":{\"value\":\"t1\"},\"agent_id\":{"
	                     "\"value\":\"S-old\"},\"resources\":[]}",
	                     "t1", "TASK_RUNNING"),
	     list[4096];
	snprintf(list, sizeof(list), "[%s]", rep);
	free(rep);
	struct sim_peer a = {0};
	agent_reregister(&a, "S-old", fwinfo, list);
	char body[512];
	snprintf(body, sizeof(body),
	         "{\"type\":\"TEARDOWN\",\"teardown\":{\"framework_id\":{\"value\":\"FX\"}}}");
	int status;
	char head[1024] = "";
	json_t *r = sim_op_call(body, &status, head, sizeof(head));
	cr_assert_eq(status, 200, "%s %s", head, json_is_string(r) ? json_string_value(r) : "");
	json_decref(r);
	json_t *ev = sim_peer_next(&a, "SHUTDOWN_FRAMEWORK", 3000);
	cr_assert_not_null(ev);
	json_decref(ev);

	sim_kill_master();
	sim_peer_close(&a);
	sim_start_master(NULL, sim_port);
	struct sim_peer f = {0};
	snprintf(body, sizeof(body),
	         "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":%s}}", fwinfo);
	cr_assert_eq(sim_peer_open(&f, "/api/v1/scheduler", body), 200);
	ev = sim_peer_next(&f, "ERROR", 3000);
	cr_assert_not_null(ev, "a removed framework subscribed again");
	cr_assert_str_eq(sim_jstr(ev, "error.message"), "Framework has been removed");
	json_decref(ev);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "grep -q ' ERROR ' %s", sim_log_path);
	cr_expect_neq(system(cmd), 0, "the master logged an error");
	sim_peer_close(&f);
}
