/* Host tests of the master's scheduler and agent endpoints, as processes:
 * agora-master on a free loopback port, a simulated agent speaking
 * docs/agent-protocol.md and a scripted framework speaking the v1
 * scheduler API, both over real sockets (tests/lib/master_sim.h). */
#include "agtest.h"
#include "common/common.h"
#include "master_sim.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

TestSuite(sched, .init = sim_init, .fini = sim_fini, .timeout = 60);

#define REVIVE          "{\"type\":\"REVIVE\",\"framework_id\":{\"value\":\"%s\"}}"
#define PARTITION_AWARE "{\"type\":\"PARTITION_AWARE\"}"
/* An agent that stops heartbeating is lost after 600 ms. */
#define PING_TIMEOUTS "--agent_ping_timeout=300ms", "--max_agent_ping_timeouts=2"

static const char *const TWO_TASKS[] = {"t1", "t2"};

/* ---- streams --------------------------------------------------------------- */

/* The next record of `type` within `ms`. The records of other types before
 * it are dropped, where sim_peer_next() would keep them: these tests
 * expect, say, an OFFERS passed over while waiting for an UPDATE not to
 * answer a later wait for OFFERS. The caller frees it. */
static json_t *next(struct sim_peer *p, const char *type, int ms)
{
	json_t *j = sim_peer_next(p, type, ms);
	sim_peer_forget(p, NULL);
	return j;
}

/* The next record of `type`, whose string at `path` is `want`. The caller
 * frees it. */
static json_t *expect(struct sim_peer *p, const char *type, const char *path, const char *want)
{
	json_t *ev = next(p, type, 3000);
	cr_assert_not_null(ev, "no %s", type);
	cr_assert_str_eq(sim_jstr(ev, path), want, "%s", path);
	return ev;
}

/* The framework's next UPDATE: `task` (NULL: any) in `state`, for `reason`
 * (NULL: not checked). The caller frees it. */
static json_t *expect_update(struct sim_peer *f, const char *task, const char *state,
                             const char *reason)
{
	json_t *ev = expect(f, "UPDATE", "update.status.state", state);
	if (task)
		cr_assert_str_eq(sim_jstr(ev, "update.status.task_id.value"), task);
	if (reason)
		cr_assert_str_eq(sim_jstr(ev, "update.status.reason"), reason);
	return ev;
}

/* The id of the first offer in the framework's next OFFERS, into
 * ret_offer (256 bytes). */
static void next_offer(struct sim_peer *f, char *ret_offer)
{
	json_t *ev = next(f, "OFFERS", 3000);
	cr_assert_not_null(ev, "no offer");
	snprintf(ret_offer, 256, "%s", sim_jstr(ev, "offers.offers.0.id.value"));
	json_decref(ev);
}

/* ---- the simulated agent and the scripted framework ------------------------ */

static void agent_register(struct sim_peer *a)
{
	sim_agent_register(a, "a1", SIM_AGENT_RES);
}

/* A framework that fails over within 2 s (see
 * framework_failover_within_and_after_timeout). */
static void fw_subscribe(struct sim_peer *f, const char *id, const char *caps)
{
	sim_fw_subscribe_failover(f, id, caps, 2);
}

/* An agent and a framework with `caps` (may be NULL); the id of the
 * framework's first offer into ret_offer (256 bytes). */
static void agent_and_framework(struct sim_peer *a, struct sim_peer *f, const char *caps,
                                char *ret_offer)
{
	agent_register(a);
	fw_subscribe(f, NULL, caps);
	next_offer(f, ret_offer);
}

/* ACCEPT with no filters: the rest of the offer (all of it when the launch
 * is refused) is refused for Mesos's default 5 s. */
static int fw_launch(struct sim_peer *f, const char *offer, const char *agent, const char *task,
                     const char *cpus)
{
	return sim_fw_launch_tasks(f, offer, agent, &task, 1, cpus, NULL, NULL);
}

/* An agent and a framework with `caps` (may be NULL), and t1 (1 cpu)
 * launched on the framework's first offer and reported TASK_RUNNING with
 * SIM_UUIDS[0]; the framework's UPDATE read, not acknowledged. */
static void t1_running(struct sim_peer *a, struct sim_peer *f, const char *caps)
{
	char offer[256];
	agent_and_framework(a, f, caps, offer);
	cr_assert_eq(fw_launch(f, offer, a->id, "t1", "1"), 202);
	cr_assert_eq(sim_agent_update(a, f->id, "t1", "TASK_RUNNING", SIM_UUIDS[0]), 202);
	json_decref(expect_update(f, NULL, "TASK_RUNNING", NULL));
}

/* RECONCILE `tasks` (a JSON array). */
static int fw_reconcile(struct sim_peer *f, const char *tasks)
{
	return sim_fw_call(f,
	                   "{\"type\":\"RECONCILE\",\"framework_id\":{\"value\":\"%s\"},"
	                   "\"reconcile\":{\"tasks\":%s}}",
	                   f->id, tasks);
}

static int fw_decline(struct sim_peer *f, const char *offer, int refuse_seconds)
{
	return sim_fw_call(f,
	                   "{\"type\":\"DECLINE\",\"framework_id\":{\"value\":\"%s\"},\"decline\":"
	                   "{\"offer_ids\":[{\"value\":\"%s\"}],\"filters\":{\"refuse_seconds\":%d}"
	                   "}}",
	                   f->id, offer, refuse_seconds);
}

/* ---- the operator ------------------------------------------------------------ */

static void op_subscribe(struct sim_peer *o)
{
	cr_assert_eq(sim_peer_open(o, "/api/v1", "{\"type\":\"SUBSCRIBE\"}"), 200);
}

static int op_teardown(const char *fw)
{
	return sim_op_status(
	        "{\"type\":\"TEARDOWN\",\"teardown\":{\"framework_id\":{\"value\":\"%s\"}}}", fw);
}

static int op_mark_gone(const char *agent)
{
	return sim_op_status("{\"type\":\"MARK_AGENT_GONE\",\"mark_agent_gone\":{\"agent_id\":{"
	                     "\"value\":\"%s\"}}}",
	                     agent);
}

/* The answer to `call` (GET_STATE, ...), which must be 200. The caller
 * frees it. */
static json_t *op_get(const char *call)
{
	char body[128];
	snprintf(body, sizeof(body), "{\"type\":\"%s\"}", call);
	int status;
	json_t *j = sim_op_call(body, &status, NULL, 0);
	cr_assert_eq(status, 200, "%s: %d", call, status);
	return j;
}

/* The answer to `call` (200) has both `a` and `b` in its text. */
static void assert_get_has(const char *call, const char *a, const char *b)
{
	json_t *j = op_get(call);
	char *text = json_dumps(j, JSON_ENCODE_ANY);
	cr_assert(text && strstr(text, a) && strstr(text, b), "%s: %s", call, text);
	free(text);
	json_decref(j);
}

/* ---- tests ------------------------------------------------------------------- */

Test(sched, launch_runs_and_finishes_with_acknowledgements)
{
	sim_start_master(NULL, 0);
	struct sim_peer a, f;
	agent_register(&a);
	fw_subscribe(&f, NULL, NULL);
	json_t *ev = next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev, "no offer");
	cr_assert_str_eq(sim_jstr(ev, "offers.offers.0.url.address.ip"), "127.0.0.1");
	cr_assert_str_eq(sim_jstr(ev, "offers.offers.0.agent_id.value"), a.id);
	char offer[256];
	snprintf(offer, sizeof(offer), "%s", sim_jstr(ev, "offers.offers.0.id.value"));
	json_decref(ev);

	cr_assert_eq(fw_launch(&f, offer, a.id, "t1", "1"), 202);
	json_t *run = expect(&a, "RUN_TASK", "run_task.task.task_id.value", "t1");
	cr_assert_str_eq(sim_jstr(run, "run_task.framework_info.id.value"), f.id);
	json_decref(run);

	cr_assert_eq(sim_agent_update(&a, f.id, "t1", "TASK_RUNNING", SIM_UUIDS[0]), 202);
	ev = expect_update(&f, NULL, "TASK_RUNNING", NULL);
	cr_assert_str_eq(sim_jstr(ev, "update.status.agent_id.value"), a.id);
	cr_assert_str_eq(sim_jstr(ev, "update.status.uuid"), SIM_UUIDS[0]);
	json_decref(ev);
	cr_assert_eq(sim_fw_ack(&f, a.id, "t1", SIM_UUIDS[0]), 202);
	json_decref(expect(&a, "STATUS_UPDATE_ACK", "status_update_ack.uuid", SIM_UUIDS[0]));

	cr_assert_eq(sim_agent_update(&a, f.id, "t1", "TASK_FINISHED", SIM_UUIDS[1]), 202);
	json_decref(expect_update(&f, NULL, "TASK_FINISHED", NULL));
	/* The cpu comes back in a new offer once the task ended. */
	next_offer(&f, offer);
}

Test(sched, calls_need_the_right_stream_id)
{
	sim_start_master(NULL, 0);
	struct sim_peer f;
	fw_subscribe(&f, NULL, NULL);
	char good[128];
	snprintf(good, sizeof(good), "%s", f.stream_id);
	cr_assert_eq(sim_fw_call(&f, REVIVE, f.id), 202);
	snprintf(f.stream_id, sizeof(f.stream_id), "wrong");
	cr_assert_eq(sim_fw_call(&f, REVIVE, f.id), 400);
	snprintf(f.stream_id, sizeof(f.stream_id), "%s", good);
	cr_assert_eq(sim_fw_call(&f, REVIVE, "no-such-framework"), 400);
	cr_assert_eq(sim_fw_call(&f, "{\"type\":\"REVIVE\"}"), 400);
	cr_assert_eq(sim_fw_call(&f, "{\"type\":\"NOPE\",\"framework_id\":{\"value\":\"x\"}}"),
	             400);
	cr_assert_eq(sim_fw_call(&f, "{not json"), 400);
	/* A subscribe carrying a stream id is refused. */
	char *body = NULL;
	cr_assert_eq(sim_peer_call(&f,
	                           "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{"
	                           "\"user\":\"u\",\"name\":\"n\"}}}",
	                           &body),
	             400);
	cr_assert(strstr(body, "Mesos-Stream-Id"), "%s", body);
	free(body);
	/* Gone stream: the framework is known but not subscribed. */
	sim_peer_close(&f);
	usleep(200 * 1000);
	cr_assert_eq(sim_fw_call(&f, REVIVE, f.id), 403);
}

Test(sched, invalid_launches_get_task_error_or_lost)
{
	sim_start_master(NULL, 0);
	struct sim_peer a, f;
	char offer[256];
	agent_and_framework(&a, &f, NULL, offer);
	/* More cpus than offered. */
	cr_assert_eq(fw_launch(&f, offer, a.id, "big", "5"), 202);
	json_t *ev = expect_update(&f, NULL, "TASK_ERROR", "REASON_TASK_INVALID");
	cr_assert_str_eq(sim_jstr(ev, "update.status.source"), "SOURCE_MASTER");
	cr_assert(strstr(sim_jstr(ev, "update.status.message"), "more resources"));
	cr_assert_null(sim_jget(ev, "update.status.uuid"));
	json_decref(ev);
	/* The offer is used now: a second accept is an invalid offer. */
	cr_assert_eq(fw_launch(&f, offer, a.id, "again", "1"), 202);
	json_decref(expect_update(&f, NULL, "TASK_LOST", "REASON_INVALID_OFFERS"));
	/* A '/' in the task id. The failed accept filtered the agent for the
	 * default 5 s: revive to get it offered again. */
	cr_assert_eq(sim_fw_call(&f, REVIVE, f.id), 202);
	next_offer(&f, offer);
	/* Ids are data (docs/operator-api.md): the call is refused with a
	 * 400 naming the field, before anything is used. */
	cr_assert_eq(fw_launch(&f, offer, a.id, "a/b", "1"), 400);
	cr_assert_null(next(&f, "UPDATE", 300));
}

Test(sched, decline_filter_is_honoured_over_time)
{
	sim_start_master(NULL, 0);
	struct sim_peer a, f;
	char offer[256];
	agent_and_framework(&a, &f, NULL, offer);
	cr_assert_eq(fw_decline(&f, offer, 2), 202);
	uint64_t t0 = ag_now_ns();
	cr_assert_null(next(&f, "OFFERS", 1500), "offered again inside the filter");
	json_t *ev = next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev, "never offered again after the filter");
	double waited = (double)(ag_now_ns() - t0) / 1e9;
	cr_assert(waited >= 1.9 && waited < 3.5, "offered after %.2f s", waited);
	json_decref(ev);
}

Test(sched, reconcile_answers_known_and_unknown_tasks)
{
	sim_start_master(NULL, 0);
	struct sim_peer a, f;
	t1_running(&a, &f, NULL);
	cr_assert_eq(fw_reconcile(&f, "[]"), 202);
	json_decref(expect_update(&f, NULL, "TASK_RUNNING", "REASON_RECONCILIATION"));
	char tasks[512];
	snprintf(tasks, sizeof(tasks),
	         "[{\"task_id\":{\"value\":\"zz\"},\"agent_id\":{\"value\":\"%s\"}}]", a.id);
	cr_assert_eq(fw_reconcile(&f, tasks), 202);
	json_decref(expect_update(&f, "zz", "TASK_LOST", NULL));
}

Test(sched, framework_failover_within_and_after_timeout)
{
	sim_start_master(NULL, 0);
	struct sim_peer f, f2, f3;
	fw_subscribe(&f, NULL, NULL);
	char id[256];
	snprintf(id, sizeof(id), "%s", f.id);
	sim_peer_close(&f);
	usleep(300 * 1000);
	/* Within failover_timeout (2 s): same id. */
	fw_subscribe(&f2, id, NULL);
	cr_assert_str_eq(f2.id, id);
	sim_peer_close(&f2);
	usleep(2500 * 1000);
	/* After it: removed, and its re-subscription gets only ERROR. */
	sim_fw_open_as(&f3, id);
	json_decref(expect(&f3, "ERROR", "error.message", "Framework has been removed"));
}

Test(sched, agent_loss_makes_tasks_lost)
{
	sim_start_master((const char *const[]){PING_TIMEOUTS, NULL}, 0);
	struct sim_peer a, f;
	t1_running(&a, &f, NULL);
	/* No heartbeats from now on. */
	json_decref(expect_update(&f, NULL, "TASK_LOST", "REASON_AGENT_REMOVED"));
}

Test(sched, master_sigkill_restart_keeps_frameworks_and_rebuilds_tasks)
{
	sim_start_master(NULL, 0);
	struct sim_peer a, f, f2;
	char offer[256];
	agent_and_framework(&a, &f, NULL, offer);
	cr_assert_eq(fw_launch(&f, offer, a.id, "t1", "1"), 202);
	json_t *run = next(&a, "RUN_TASK", 3000);
	cr_assert_not_null(run);
	char *fws = NULL, *tasks = NULL, *fwinfo, *task;
	fwinfo = json_dumps(sim_jget(run, "run_task.framework_info"), JSON_COMPACT);
	task = json_dumps(sim_jget(run, "run_task.task"), JSON_COMPACT);
	json_decref(run);
	sim_peer_close(&a);
	sim_peer_close(&f);

	sim_kill_master();
	sim_start_master(NULL, 0);
	cr_assert_geq(asprintf(&fws, "[%s]", fwinfo), 0);
	cr_assert_geq(asprintf(&tasks,
	                       "[{\"framework_id\":{\"value\":\"%s\"},\"task\":%s,\"status\":{"
	                       "\"task_id\":{\"value\":\"t1\"},\"state\":\"TASK_RUNNING\"}}]",
	                       f.id, task),
	              0);
	sim_agent_reregister(&a, "a1", SIM_AGENT_RES, fws, tasks);
	free(fws);
	free(tasks);
	free(fwinfo);
	free(task);

	/* The operator sees the rebuilt task. */
	assert_get_has("GET_TASKS", "\"t1\"", "TASK_RUNNING");

	fw_subscribe(&f2, f.id, NULL);
	cr_assert_str_eq(f2.id, f.id);
	cr_assert_eq(fw_reconcile(&f2, "[]"), 202);
	json_decref(expect_update(&f2, "t1", "TASK_RUNNING", NULL));
}

Test(sched, operator_weights_persist_and_teardown_removes)
{
	sim_start_master(NULL, 0);
	int status;
	char head[8192];
	json_decref(sim_op_call("{\"type\":\"UPDATE_WEIGHTS\",\"update_weights\":{"
	                        "\"weight_infos\":[{\"role\":\"web\",\"weight\":2.5}]}}",
	                        &status, head, sizeof(head)));
	cr_assert_eq(status, 200);
	cr_assert_null(strcasestr(head, "\r\nContent-Type:"), "%s", head);
	sim_kill_master();
	sim_start_master(NULL, 0);
	assert_get_has("GET_WEIGHTS", "\"web\"", "2.5");

	struct sim_peer f;
	fw_subscribe(&f, NULL, NULL);
	cr_assert_eq(op_teardown(f.id), 200);
	json_t *ev = next(&f, "ERROR", 3000);
	cr_assert_not_null(ev);
	json_decref(ev);
	cr_assert_eq(op_teardown(f.id), 400);
	cr_assert_eq(op_mark_gone("nope"), 404);
}

/* ---- gaps: partitions, unknown calls, bad agent input ------------------- */

Test(sched, partition_aware_tasks_become_unreachable_and_stay_listed)
{
	sim_start_master((const char *const[]){PING_TIMEOUTS, NULL}, 0);
	struct sim_peer a, f;
	t1_running(&a, &f, PARTITION_AWARE);
	/* No heartbeats from now on. */
	json_decref(expect_update(&f, NULL, "TASK_UNREACHABLE", NULL));
	json_t *tasks = op_get("GET_TASKS");
	cr_assert_eq(json_array_size(sim_jget(tasks, "get_tasks.tasks")), 0);
	cr_assert_str_eq(sim_jstr(tasks, "get_tasks.unreachable_tasks.0.task_id.value"), "t1");
	cr_assert_str_eq(sim_jstr(tasks, "get_tasks.unreachable_tasks.0.state"),
	                 "TASK_UNREACHABLE");
	json_decref(tasks);
	json_t *state = op_get("GET_STATE");
	cr_assert_str_eq(sim_jstr(state, "get_state.get_tasks.unreachable_tasks.0.task_id.value"),
	                 "t1");
	json_decref(state);
}

Test(sched, recovered_agents_that_never_come_back_become_unreachable)
{
	sim_start_master(NULL, 0);
	struct sim_peer a;
	agent_register(&a);
	sim_peer_close(&a);
	sim_kill_master();
	sim_start_master((const char *const[]){"--agent_reregister_timeout=600ms", NULL}, 0);
	json_t *agents = op_get("GET_AGENTS");
	cr_assert_str_eq(sim_jstr(agents, "get_agents.recovered_agents.0.id.value"), a.id);
	json_decref(agents);
	usleep(1500 * 1000);
	agents = op_get("GET_AGENTS");
	cr_assert_eq(json_array_size(sim_jget(agents, "get_agents.recovered_agents")), 0,
	             "still expected after the ping timeout");
	json_decref(agents);
	FILE *log = fopen(sim_log_path, "re");
	char line[1024];
	bool seen = false;
	while (log && fgets(line, sizeof(line), log))
		seen |= strstr(line, a.id) && strstr(line, "unreachable");
	if (log)
		fclose(log);
	cr_assert(seen, "no 'unreachable' line in the log");
}

Test(sched, unknown_scheduler_call_is_400_naming_it)
{
	sim_start_master(NULL, 0);
	struct sim_peer f;
	fw_subscribe(&f, NULL, NULL);
	char *body = NULL;
	char call[512];
	snprintf(call, sizeof(call),
	         "{\"type\":\"FLY_TO_THE_MOON\",\"framework_id\":{\"value\":\"%s\"}}", f.id);
	cr_assert_eq(sim_peer_call(&f, call, &body), 400);
	cr_assert(strstr(body, "FLY_TO_THE_MOON"), "%s", body);
	free(body);
}

Test(sched, bad_agent_input_is_refused_and_state_is_intact)
{
	sim_start_master((const char *const[]){"--max_body_size=4KiB", NULL}, 0);
	struct sim_peer a, f;
	char offer[256];
	agent_and_framework(&a, &f, NULL, offer);
	json_t *before = op_get("GET_STATE");

	char big[8192];
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "{\"type\":\"HEARTBEAT\"}", 20);
	char wrong_uuid[1024];
	snprintf(wrong_uuid, sizeof(wrong_uuid),
	         "{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":\"%s\"},\"status_update\":{"
	         "\"framework_id\":{\"value\":\"%s\"},\"status\":{\"task_id\":{\"value\":\"t1\"},"
	         "\"state\":\"TASK_RUNNING\",\"uuid\":\"c2hvcnQ=\"}}}",
	         a.id, f.id);
	const struct {
		const char *body;
		int status;
		const char *names;
	} cases[] = {
	        {"{\"type\":", 400, NULL},
	        {"[]", 400, NULL},
	        {"{\"type\":\"SELF_DESTRUCT\"}", 400, "SELF_DESTRUCT"},
	        {"{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":7}}", 400, NULL},
	        {"{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":\"x\"}}", 400, NULL},
	        {wrong_uuid, 400, "uuid"},
	        {big, 413, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *body = NULL;
		int s = sim_peer_call(&a, cases[i].body, &body);
		cr_assert_eq(s, cases[i].status, "case %zu: %d %s", i, s, body);
		if (cases[i].names)
			cr_assert(strstr(body, cases[i].names), "case %zu: %s", i, body);
		free(body);
	}
	/* The stream still works and nothing changed. */
	cr_assert_eq(sim_agent_update(&a, f.id, "nope", "TASK_RUNNING", SIM_UUIDS[0]), 202);
	json_t *after = op_get("GET_STATE");
	const char *const parts[] = {"get_state.get_agents", "get_state.get_tasks",
	                             "get_state.get_frameworks"};
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		cr_assert(json_equal(sim_jget(before, parts[i]), sim_jget(after, parts[i])),
		          "%s changed", parts[i]);
	json_decref(before);
	json_decref(after);
}

/* ---- operator stream, offer timeout, suppress/revive, agent gone -------- */

Test(sched, operator_subscribe_streams_snapshot_and_events)
{
	sim_start_master(NULL, 0);
	struct sim_peer a, b, f, o;
	agent_register(&a);
	op_subscribe(&o);
	json_t *ev = expect(&o, "SUBSCRIBED",
	                    "subscribed.get_state.get_agents.agents.0.agent_info.id.value", a.id);
	cr_assert(json_is_number(sim_jget(ev, "subscribed.heartbeat_interval_seconds")));
	json_decref(ev);

	agent_register(&b);
	json_decref(expect(&o, "AGENT_ADDED", "agent_added.agent.agent_info.id.value", b.id));

	fw_subscribe(&f, NULL, NULL);
	json_decref(expect(&o, "FRAMEWORK_ADDED",
	                   "framework_added.framework.framework_info.id.value", f.id));

	ev = next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev);
	char offer[256], agent[256];
	snprintf(offer, sizeof(offer), "%s", sim_jstr(ev, "offers.offers.0.id.value"));
	snprintf(agent, sizeof(agent), "%s", sim_jstr(ev, "offers.offers.0.agent_id.value"));
	json_decref(ev);
	struct sim_peer *on = strcmp(agent, a.id) == 0 ? &a : &b;
	cr_assert_eq(fw_launch(&f, offer, agent, "t1", "1"), 202);
	ev = expect(&o, "TASK_ADDED", "task_added.task.task_id.value", "t1");
	cr_assert_str_eq(sim_jstr(ev, "task_added.task.framework_id.value"), f.id);
	cr_assert_str_eq(sim_jstr(ev, "task_added.task.state"), "TASK_STAGING");
	json_decref(ev);

	cr_assert_eq(sim_agent_update(on, f.id, "t1", "TASK_RUNNING", SIM_UUIDS[0]), 202);
	ev = expect(&o, "TASK_UPDATED", "task_updated.state", "TASK_RUNNING");
	cr_assert_str_eq(sim_jstr(ev, "task_updated.framework_id.value"), f.id);
	cr_assert_str_eq(sim_jstr(ev, "task_updated.status.task_id.value"), "t1");
	json_decref(ev);

	/* A new subscriber's snapshot has the framework and the task. */
	struct sim_peer o2;
	op_subscribe(&o2);
	ev = expect(&o2, "SUBSCRIBED", "subscribed.get_state.get_tasks.tasks.0.task_id.value",
	            "t1");
	cr_assert_str_eq(sim_jstr(ev, "subscribed.get_state.get_tasks.tasks.0.state"),
	                 "TASK_RUNNING");
	cr_assert_str_eq(
	        sim_jstr(
	                ev,
	                "subscribed.get_state.get_frameworks.frameworks.0.framework_info.id.value"),
	        f.id);
	json_decref(ev);
	sim_peer_close(&o2);

	cr_assert_eq(op_teardown(f.id), 200);
	json_decref(
	        expect(&o, "FRAMEWORK_REMOVED", "framework_removed.framework_info.id.value", f.id));
	cr_assert_eq(op_mark_gone(b.id), 200);
	json_decref(expect(&o, "AGENT_REMOVED", "agent_removed.agent_id.value", b.id));
}

Test(sched, offer_timeout_rescinds_and_reoffers)
{
	sim_start_master((const char *const[]){"--offer_timeout=300ms", NULL}, 0);
	struct sim_peer a, f;
	char offer[256];
	agent_and_framework(&a, &f, NULL, offer);
	uint64_t t0 = ag_now_ns();
	json_t *ev = expect(&f, "RESCIND", "rescind.offer_id.value", offer);
	cr_assert_geq(ag_now_ns() - t0, 200 * 1000000ull, "rescinded before the timeout");
	json_decref(ev);
	/* The resources come back in a new offer. */
	ev = next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev, "not offered again");
	cr_assert_str_neq(sim_jstr(ev, "offers.offers.0.id.value"), offer);
	json_decref(ev);
	/* The rescinded offer is gone: launching on it is an invalid offer. */
	cr_assert_eq(fw_launch(&f, offer, a.id, "late", "1"), 202);
	json_decref(expect_update(&f, NULL, "TASK_LOST", "REASON_INVALID_OFFERS"));
}

Test(sched, suppress_stops_offers_and_revive_resumes_them)
{
	sim_start_master(NULL, 0);
	struct sim_peer a, f;
	char offer[256];
	agent_and_framework(&a, &f, NULL, offer);
	cr_assert_eq(sim_fw_call(&f, "{\"type\":\"SUPPRESS\",\"framework_id\":{\"value\":\"%s\"}}",
	                         f.id),
	             202);
	/* Declined with no filter: only the suppression keeps it back. */
	cr_assert_eq(fw_decline(&f, offer, 0), 202);
	/* Several allocation intervals (200 ms) pass without an offer. */
	cr_assert_null(next(&f, "OFFERS", 1200), "offered while suppressed");
	cr_assert_eq(sim_fw_call(&f, REVIVE, f.id), 202);
	json_decref(expect(&f, "OFFERS", "offers.offers.0.agent_id.value", a.id));
}

Test(sched, mark_agent_gone_on_a_live_agent)
{
	sim_start_master(NULL, 0);
	struct sim_peer a, f;
	t1_running(&a, &f, PARTITION_AWARE);
	cr_assert_eq(sim_fw_ack(&f, a.id, "t1", SIM_UUIDS[0]), 202);

	cr_assert_eq(op_mark_gone(a.id), 200);
	json_decref(expect_update(&f, "t1", "TASK_GONE_BY_OPERATOR", NULL));
	/* The agent's stream ends. */
	cr_assert_null(next(&a, "NONE", 3000));
	/* Twice is fine; its resources are not offered again. */
	cr_assert_eq(op_mark_gone(a.id), 200);
	cr_assert_null(next(&f, "OFFERS", 800), "a gone agent's resources were offered");
	cr_assert_null(sim_get_agent(a.id), "a gone agent is listed");
	/* Its status updates are no longer taken. */
	cr_assert_neq(sim_agent_update(&a, f.id, "t1", "TASK_FINISHED", SIM_UUIDS[1]), 202);
}

Test(sched, agent_attributes_are_in_offers_and_agent_info)
{
	sim_start_master(NULL, 0);
	struct sim_peer a, f;
	sim_agent_register_info(&a,
	                        "{\"hostname\":\"a1\",\"port\":5051,\"resources\":" SIM_AGENT_RES
	                        ",\"attributes\":[{\"name\":\"rack\",\"type\":\"TEXT\","
	                        "\"text\":{\"value\":\"r1\"}}]}");
	fw_subscribe(&f, NULL, NULL);
	json_t *ev = expect(&f, "OFFERS", "offers.offers.0.attributes.0.name", "rack");
	cr_assert_str_eq(sim_jstr(ev, "offers.offers.0.attributes.0.text.value"), "r1");
	json_decref(ev);
	json_t *agents = op_get("GET_AGENTS");
	cr_assert_str_eq(sim_jstr(agents, "get_agents.agents.0.agent_info.attributes.0.name"),
	                 "rack");
	cr_assert_str_eq(sim_jstr(agents, "get_agents.agents.0.agent_info.id.value"), a.id);
	cr_assert_str_eq(sim_jstr(agents, "get_agents.agents.0.agent_info.hostname"), "a1");
	json_decref(agents);
}

/* ---- batching: STATUS_UPDATES, OFFERS per cycle, --allocation_batch ---- */

/* One STATUS_UPDATES with t1 (uuid u1) and then t2 (u2, no agent_id in its
 * status) in `state`; the status, the body in *ret_body when not NULL. */
static int agent_updates2(struct sim_peer *a, const char *fw, const char *u1, const char *u2,
                          const char *state, char **ret_body)
{
	char body[2048];
	snprintf(
	        body, sizeof(body),
	        "{\"type\":\"STATUS_UPDATES\",\"agent_id\":{\"value\":\"%s\"},\"status_updates\":"
	        "{\"updates\":[{\"framework_id\":{\"value\":\"%s\"},\"status\":{\"task_id\":{"
	        "\"value\":\"t1\"},\"state\":\"%s\",\"source\":\"SOURCE_EXECUTOR\",\"agent_id\":{"
	        "\"value\":\"%s\"},\"timestamp\":1700000000.5,\"uuid\":\"%s\"}},{\"framework_id\":{"
	        "\"value\":\"%s\"},\"status\":{\"task_id\":{\"value\":\"t2\"},\"state\":\"%s\","
	        "\"uuid\":\"%s\"}}]}}",
	        a->id, fw, state, a->id, u1, fw, state, u2);
	return sim_peer_call(a, body, ret_body);
}

/* An agent and a framework; t1 and t2 (1 cpu each) launched from the
 * framework's first offer, refusing nothing; their RUN_TASKs read. */
static void launch_two(struct sim_peer *a, struct sim_peer *f)
{
	char offer[256];
	agent_and_framework(a, f, NULL, offer);
	cr_assert_eq(sim_fw_launch_tasks(f, offer, a->id, TWO_TASKS, 2, "1", NULL,
	                                 "{\"refuse_seconds\":0}"),
	             202);
	for (int i = 0; i < 2; i++) {
		json_t *run = next(a, "RUN_TASK", 3000);
		cr_assert_not_null(run);
		json_decref(run);
	}
}

Test(sched, status_updates_carries_several_updates_in_order)
{
	sim_start_master(NULL, 0);
	struct sim_peer a, f;
	launch_two(&a, &f);

	/* A bad second update refuses the whole request, naming it; the
	 * first is not applied either. */
	char *body = NULL;
	cr_assert_eq(agent_updates2(&a, f.id, SIM_UUIDS[0], "aGk=", "TASK_RUNNING", &body), 400);
	cr_assert_not_null(strstr(body, "status_updates.updates[1].status.uuid"), "%s", body);
	free(body);
	cr_assert_null(next(&f, "UPDATE", 300));

	cr_assert_eq(agent_updates2(&a, f.id, SIM_UUIDS[0], SIM_UUIDS[1], "TASK_RUNNING", NULL),
	             202);
	for (int i = 0; i < 2; i++) {
		json_t *ev = expect_update(&f, TWO_TASKS[i], "TASK_RUNNING", NULL);
		cr_assert_str_eq(sim_jstr(ev, "update.status.uuid"), SIM_UUIDS[i]);
		/* The second status had no agent_id: the master adds it. */
		cr_assert_str_eq(sim_jstr(ev, "update.status.agent_id.value"), a.id);
		json_decref(ev);
	}
	for (int i = 0; i < 2; i++)
		cr_assert_eq(sim_fw_ack(&f, a.id, TWO_TASKS[i], SIM_UUIDS[i]), 202);
	for (int i = 0; i < 2; i++)
		json_decref(expect(&a, "STATUS_UPDATE_ACK", "status_update_ack.task_id.value",
		                   TWO_TASKS[i]));
}

Test(sched, one_offers_event_carries_the_offers_of_a_cycle)
{
	sim_start_master(NULL, 0);
	struct sim_peer a1, a2, f;
	agent_register(&a1);
	agent_register(&a2);
	fw_subscribe(&f, NULL, NULL);
	json_t *ev = next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev);
	cr_assert_eq(json_array_size(sim_jget(ev, "offers.offers")), 2);
	json_decref(ev);
}

Test(sched, resources_freed_within_the_batch_delay_come_back_in_one_offer)
{
	sim_start_master((const char *const[]){"--allocation_batch=1secs",
	                                       "--allocation_interval=1hrs", NULL},
	                 0);
	struct sim_peer a, f;
	launch_two(&a, &f);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(
		        sim_agent_update(&a, f.id, TWO_TASKS[i], "TASK_FINISHED", SIM_UUIDS[i]),
		        202);
		json_t *ev = next(&f, "UPDATE", 3000);
		cr_assert_not_null(ev);
		json_decref(ev);
	}
	/* Both cpus in one offer, not one offer per task. */
	json_t *ev = next(&f, "OFFERS", 5000);
	cr_assert_not_null(ev);
	cr_assert_eq(json_array_size(sim_jget(ev, "offers.offers")), 1);
	cr_assert_float_eq(sim_offered(ev, "cpus"), 2.0, 1e-9);
	json_decref(ev);
}
