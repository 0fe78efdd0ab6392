/* Host tests of libagora-scheduler (sdk/scheduler.h) against the real
 * agora-master, started on a free loopback port, and simulated agents
 * (tests/lib/master_sim.h). The SDK runs on this thread's libevent loop;
 * the tests pump it between the simulated agent's blocking reads. */
#include "agtest.h"
#include "common/common.h"
#include "master_sim.h"
#include "sdk/scheduler.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <string.h>

TestSuite(sdk, .init = sim_init, .fini = sim_fini, .timeout = 60);

/* What the callbacks saw, in order. */
struct fx {
	struct event_base *base;
	struct ags *s;
	json_t *log;    /* [{"ev":...}, ...] */
	json_t *offers; /* offers not yet used: [{"id","agent_id","cpus"}] */
	json_t *updates;
	json_t *failed; /* call_failed: [{"type","code","body"}] */
	int n_subscribed, n_disconnected, n_closed, n_errors;
	char fw_id[256];
};

static struct fx F;

static void log_ev(const char *ev, json_t *extra)
{
	json_t *e = extra ? extra : json_object();
	json_object_set_new(e, "ev", json_string(ev));
	json_array_append_new(F.log, e);
}

static void on_subscribed(struct ags *s, void *ctx, const char *fw, double hb)
{
	cr_assert_eq(ctx, &F);
	cr_assert_eq(s, F.s);
	F.n_subscribed++;
	snprintf(F.fw_id, sizeof(F.fw_id), "%s", fw);
	log_ev("subscribed", json_pack("{s:s, s:f}", "framework_id", fw, "heartbeat", hb));
}

static void on_offers(struct ags *s, void *ctx, const struct ags_offer *o, size_t n)
{
	(void)s;
	(void)ctx;
	for (size_t i = 0; i < n; i++)
		json_array_append_new(F.offers, json_pack("{s:s, s:s, s:f}", "id", o[i].id,
		                                          "agent_id", o[i].agent_id, "cpus",
		                                          ags_offer_scalar(&o[i], "cpus")));
	log_ev("offers", json_pack("{s:i}", "n", (int)n));
}

static void on_rescind(struct ags *s, void *ctx, const char *offer_id)
{
	(void)s;
	(void)ctx;
	log_ev("rescind", json_pack("{s:s}", "offer_id", offer_id));
}

static void on_update(struct ags *s, void *ctx, const struct ags_task_status *st)
{
	(void)s;
	(void)ctx;
	json_t *u =
	        json_pack("{s:s, s:s, s:s, s:b, s:s?}", "task_id", st->task_id, "state",
	                  ags_task_state_name(st->state), "reason", st->reason ? st->reason : "",
	                  "has_uuid", st->uuid_len > 0, "agent_id", st->agent_id);
	json_array_append(F.updates, u);
	log_ev("update", u);
}

static void on_heartbeat(struct ags *s, void *ctx)
{
	(void)s;
	(void)ctx;
	log_ev("heartbeat", NULL);
}

static void on_error(struct ags *s, void *ctx, const char *msg)
{
	(void)s;
	(void)ctx;
	F.n_errors++;
	log_ev("error", json_pack("{s:s}", "message", msg));
}

static void on_disconnected(struct ags *s, void *ctx, const char *why)
{
	(void)s;
	(void)ctx;
	F.n_disconnected++;
	log_ev("disconnected", json_pack("{s:s}", "why", why));
}

static void on_call_failed(struct ags *s, void *ctx, const char *type, int code, const char *body)
{
	(void)s;
	(void)ctx;
	json_array_append_new(
	        F.failed, json_pack("{s:s, s:i, s:s}", "type", type, "code", code, "body", body));
}

static void on_closed(struct ags *s, void *ctx)
{
	(void)s;
	(void)ctx;
	F.n_closed++;
	log_ev("closed", NULL);
}

static const struct ags_callbacks CBS = {
        .subscribed = on_subscribed,
        .offers = on_offers,
        .rescind = on_rescind,
        .update = on_update,
        .heartbeat = on_heartbeat,
        .error = on_error,
        .disconnected = on_disconnected,
        .call_failed = on_call_failed,
        .closed = on_closed,
};

static void fx_fini(void)
{
	ags_free(F.s);
	if (F.base)
		event_base_free(F.base);
	json_decref(F.log);
	json_decref(F.offers);
	json_decref(F.updates);
	json_decref(F.failed);
	memset(&F, 0, sizeof(F));
	sim_fini();
}

/* A scheduler on a fresh loop, started; `framework_id` may be NULL. */
static void fx_start(const char *framework_id, bool auto_ack)
{
	memset(&F, 0, sizeof(F));
	F.base = event_base_new();
	F.log = json_array();
	F.offers = json_array();
	F.updates = json_array();
	F.failed = json_array();
	char master[64];
	snprintf(master, sizeof(master), "http://127.0.0.1:%u", sim_port);
	struct ags_config cfg = {.master = master,
	                         .name = "sdk-test",
	                         .user = "root",
	                         .framework_id = framework_id,
	                         .failover_timeout = 60,
	                         .backoff_base_ms = 100,
	                         .backoff_max_ms = 400};
	struct ags_callbacks cb = CBS;
	cb.auto_ack = auto_ack;
	F.s = ags_new(F.base, &cfg, &cb, &F);
	cr_assert_not_null(F.s);
	ags_start(F.s);
}

/* Run the loop for `ms`. */
static void pump(int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	event_base_loopexit(F.base, &tv);
	event_base_dispatch(F.base);
}

/* Run the loop until `cond` holds (checked every 20 ms) or `ms` pass. */
#define PUMP_UNTIL(cond, ms)                                                                       \
	({                                                                                         \
		uint64_t _end = ag_now_ns() + (uint64_t)(ms)*1000000;                              \
		while (!(cond) && ag_now_ns() < _end)                                              \
			pump(20);                                                                  \
		(bool)(cond);                                                                      \
	})

/* The agent's next record of `type`, pumping the SDK meanwhile. */
static json_t *agent_next(struct sim_peer *a, const char *type, int ms)
{
	uint64_t end = ag_now_ns() + (uint64_t)ms * 1000000;
	json_t *j = NULL;
	while (!j && ag_now_ns() < end) {
		pump(20);
		j = sim_peer_next(a, type, 20);
	}
	return j;
}

static size_t count_ev(const char *ev)
{
	size_t n = 0, i;
	json_t *e;
	json_array_foreach (F.log, i, e)
		n += strcmp(sim_jstr(e, "ev"), ev) == 0;
	return n;
}

/* Take the first unused offer: its id and agent into the buffers. */
static void take_offer(char *id, char *agent)
{
	cr_assert(PUMP_UNTIL(json_array_size(F.offers) > 0, 3000), "no offer");
	snprintf(id, 256, "%s", sim_jstr(json_array_get(F.offers, 0), "id"));
	snprintf(agent, 256, "%s", sim_jstr(json_array_get(F.offers, 0), "agent_id"));
	json_array_remove(F.offers, 0);
}

/* The `i`th update's field. */
static const char *upd(size_t i, const char *key)
{
	return sim_jstr(json_array_get(F.updates, i), key);
}

/* Launch one task on the first offer; the agent gets RUN_TASK (returned). */
static json_t *launch(struct sim_peer *a, const char *task, const struct ags_task *spec)
{
	char offer[256], agent[256];
	take_offer(offer, agent);
	cr_assert_str_eq(agent, a->id);
	struct ags_task t = spec ? *spec : (struct ags_task){.cpus = 1, .command = "true"};
	t.task_id = task;
	cr_assert_eq(ags_launch(F.s, offer, agent, &t, 1, 0), 0);
	json_t *run = agent_next(a, "RUN_TASK", 3000);
	cr_assert_not_null(run, "the agent got no RUN_TASK");
	return run;
}

/* The agent reports `state`; the SDK's update callback sees it. */
static void report(struct sim_peer *a, const char *task, const char *state, const char *uuid)
{
	size_t before = json_array_size(F.updates);
	cr_assert_eq(sim_agent_update(a, F.fw_id, task, state, uuid), 202);
	cr_assert(PUMP_UNTIL(json_array_size(F.updates) > before, 3000), "no %s update", state);
	cr_assert_str_eq(upd(before, "task_id"), task);
	cr_assert_str_eq(upd(before, "state"), state);
}

/* A master, agent `a` registered, the framework subscribed (auto_ack) and
 * its task t1 launched and reported TASK_RUNNING. */
static void start_with_t1_running(struct sim_peer *a)
{
	sim_start_master(NULL, 0);
	sim_agent_register(a, "a1", SIM_AGENT_RES);
	fx_start(NULL, true);
	json_decref(launch(a, "t1", NULL));
	report(a, "t1", "TASK_RUNNING", SIM_UUIDS[0]);
}

/* ---- tests ---------------------------------------------------------------- */

Test(sdk, subscribe_then_callbacks_in_order, .fini = fx_fini)
{
	sim_start_master(NULL, 0);
	struct sim_peer a;
	sim_agent_register(&a, "a1", SIM_AGENT_RES);
	fx_start(NULL, false);
	cr_assert_not(ags_subscribed(F.s));
	cr_assert_null(ags_framework_id(F.s));
	/* Nothing can be called before SUBSCRIBED. */
	cr_assert_eq(ags_revive(F.s, NULL), -ENOTCONN);
	cr_assert(PUMP_UNTIL(count_ev("offers") > 0 && count_ev("heartbeat") > 0, 4000));
	cr_assert(ags_subscribed(F.s));
	cr_assert_str_eq(sim_jstr(json_array_get(F.log, 0), "ev"), "subscribed",
	                 "the first callback is subscribed");
	cr_assert_eq(F.n_subscribed, 1);
	cr_assert_str_eq(ags_framework_id(F.s), F.fw_id);
	cr_assert_eq(json_real_value(json_object_get(json_array_get(F.log, 0), "heartbeat")), 1.0,
	             "the master's --heartbeat_interval");
	cr_assert_str_eq(sim_jstr(json_array_get(F.offers, 0), "agent_id"), a.id);
	cr_assert_eq(json_real_value(json_object_get(json_array_get(F.offers, 0), "cpus")), 2.0);
	/* The master knows it by the config's name and user. */
	int st;
	json_t *g = sim_op_call("{\"type\":\"GET_FRAMEWORKS\"}", &st, NULL, 0);
	cr_assert_eq(st, 200);
	json_t *fi = json_object_get(
	        json_array_get(json_object_get(json_object_get(g, "get_frameworks"), "frameworks"),
	                       0),
	        "framework_info");
	cr_assert_str_eq(sim_jstr(fi, "id.value"), F.fw_id);
	cr_assert_str_eq(sim_jstr(fi, "name"), "sdk-test");
	cr_assert_str_eq(sim_jstr(fi, "user"), "root");
	json_decref(g);
	cr_assert_eq(F.n_disconnected, 0);
	cr_assert_eq(json_array_size(F.failed), 0);
}

Test(sdk, launch_update_and_acknowledge, .fini = fx_fini)
{
	sim_start_master(NULL, 0);
	struct sim_peer a;
	sim_agent_register(&a, "a1",
	                   "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":2}},"
	                   "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":256}}]");
	fx_start(NULL, false);
	const char *env[] = {"GREETING=hello", "EMPTY="};
	struct ags_task spec = {.name = "greeter",
	                        .cpus = 0.5,
	                        .mem = 32,
	                        .command = "echo $GREETING",
	                        .env = env,
	                        .n_env = 2};
	json_t *run = launch(&a, "t1", &spec);
	json_t *task = json_object_get(json_object_get(run, "run_task"), "task");
	cr_assert_str_eq(sim_jstr(task, "task_id.value"), "t1");
	cr_assert_str_eq(sim_jstr(task, "name"), "greeter");
	cr_assert_str_eq(sim_jstr(task, "command.value"), "echo $GREETING");
	cr_assert_str_eq(sim_jstr(task, "command.environment.variables.0.name"), "GREETING");
	cr_assert_str_eq(sim_jstr(task, "command.environment.variables.0.value"), "hello");
	cr_assert_str_eq(sim_jstr(task, "command.environment.variables.1.value"), "");
	cr_assert_str_eq(sim_jstr(run, "run_task.framework_info.id.value"), F.fw_id);
	json_t *res = json_object_get(task, "resources");
	cr_assert_eq(json_array_size(res), 2, "cpus and mem; no disk asked for");
	cr_assert_str_eq(sim_jstr(res, "1.name"), "mem");
	cr_assert_eq(json_real_value(json_object_get(
	                     json_object_get(json_array_get(res, 1), "scalar"), "value")),
	             32.0);
	json_decref(run);

	report(&a, "t1", "TASK_RUNNING", SIM_UUIDS[0]);
	cr_assert(json_is_true(json_object_get(json_array_get(F.updates, 0), "has_uuid")));
	cr_assert_str_eq(upd(0, "agent_id"), a.id);
	/* Not acknowledged (no auto_ack): the agent hears nothing. */
	cr_assert_null(agent_next(&a, "STATUS_UPDATE_ACK", 500));
	/* ags_acknowledge() of the update as delivered. */
	struct ags_task_status st = {0};
	uint8_t uuid[16];
	memcpy(uuid, "0123456789abcdef", 16);
	st.task_id = "t1";
	st.agent_id = a.id;
	st.uuid = uuid;
	st.uuid_len = 16;
	cr_assert_eq(ags_acknowledge(F.s, &st), 0);
	json_t *ack = agent_next(&a, "STATUS_UPDATE_ACK", 3000);
	cr_assert_not_null(ack, "the acknowledgement did not reach the agent");
	cr_assert_str_eq(sim_jstr(ack, "status_update_ack.uuid"), SIM_UUIDS[0]);
	cr_assert_str_eq(sim_jstr(ack, "status_update_ack.task_id.value"), "t1");
	json_decref(ack);
	/* An update without a uuid needs none: nothing is sent. */
	struct ags_task_status no_uuid = {.task_id = "t1", .agent_id = a.id};
	cr_assert_eq(ags_acknowledge(F.s, &no_uuid), 0);
	cr_assert_eq(json_array_size(F.failed), 0);
}

Test(sdk, auto_ack_acknowledges_every_update, .fini = fx_fini)
{
	struct sim_peer a;
	start_with_t1_running(&a);
	json_t *ack = agent_next(&a, "STATUS_UPDATE_ACK", 3000);
	cr_assert_not_null(ack);
	cr_assert_str_eq(sim_jstr(ack, "status_update_ack.uuid"), SIM_UUIDS[0]);
	json_decref(ack);
	report(&a, "t1", "TASK_FINISHED", SIM_UUIDS[1]);
	ack = agent_next(&a, "STATUS_UPDATE_ACK", 3000);
	cr_assert_not_null(ack);
	cr_assert_str_eq(sim_jstr(ack, "status_update_ack.uuid"), SIM_UUIDS[1]);
	json_decref(ack);
	/* Acknowledged and terminal: the master forgot the task. */
	int s;
	json_t *g = sim_op_call("{\"type\":\"GET_TASKS\"}", &s, NULL, 0);
	cr_assert_eq(json_array_size(json_object_get(json_object_get(g, "get_tasks"), "tasks")), 0);
	json_decref(g);
}

Test(sdk, decline_filter_is_honoured_and_revive_clears_it, .fini = fx_fini)
{
	sim_start_master(NULL, 0);
	struct sim_peer a;
	sim_agent_register(&a, "a1", SIM_AGENT_RES);
	fx_start(NULL, false);
	char offer[256], agent[256];
	take_offer(offer, agent);
	const char *ids[] = {offer};
	cr_assert_eq(ags_decline(F.s, ids, 1, 2.0), 0);
	uint64_t t0 = ag_now_ns();
	cr_assert_not(PUMP_UNTIL(json_array_size(F.offers) > 0, 1500),
	              "offered again within a 2 s filter");
	cr_assert(PUMP_UNTIL(json_array_size(F.offers) > 0, 3000), "not offered after the filter");
	double waited = (double)(ag_now_ns() - t0) / 1e9;
	cr_assert(waited >= 1.8 && waited < 4.0, "re-offered after %.2f s (filter 2 s)", waited);

	/* A long filter, then REVIVE: offered again at once. */
	take_offer(offer, agent);
	cr_assert_eq(ags_decline(F.s, ids, 1, 600), 0);
	cr_assert_not(PUMP_UNTIL(json_array_size(F.offers) > 0, 1000));
	cr_assert_eq(ags_revive(F.s, NULL), 0);
	cr_assert(PUMP_UNTIL(json_array_size(F.offers) > 0, 2000),
	          "REVIVE did not clear the filter");
	cr_assert_eq(json_array_size(F.failed), 0);
}

Test(sdk, suppress_stops_offers_until_revive, .fini = fx_fini)
{
	sim_start_master(NULL, 0);
	struct sim_peer a;
	sim_agent_register(&a, "a1", SIM_AGENT_RES);
	fx_start(NULL, false);
	char offer[256], agent[256];
	take_offer(offer, agent);
	/* Suppress first (calls are sent in order), then give the offer back
	 * with no filter: it is not offered again. */
	cr_assert_eq(ags_suppress(F.s, NULL), 0);
	const char *ids[] = {offer};
	cr_assert_eq(ags_decline(F.s, ids, 1, 0), 0);
	cr_assert_not(PUMP_UNTIL(json_array_size(F.offers) > 0, 1500), "offered while suppressed");
	cr_assert_eq(ags_revive(F.s, "*"), 0);
	cr_assert(PUMP_UNTIL(json_array_size(F.offers) > 0, 2000), "no offer after REVIVE");
	cr_assert_eq(json_array_size(F.failed), 0);
}

Test(sdk, rescind_reaches_its_callback, .fini = fx_fini)
{
	sim_start_master(NULL, 0);
	struct sim_peer a;
	sim_agent_register(&a, "a1", SIM_AGENT_RES);
	fx_start(NULL, false);
	cr_assert(PUMP_UNTIL(json_array_size(F.offers) > 0, 3000));
	char offer[256];
	snprintf(offer, sizeof(offer), "%s", sim_jstr(json_array_get(F.offers, 0), "id"));
	/* An operator deactivates the agent: its offer is taken back. */
	cr_assert_eq(
	        sim_op_status("{\"type\":\"DEACTIVATE_AGENT\",\"deactivate_agent\":{\"agent_id\":{"
	                      "\"value\":\"%s\"}}}",
	                      a.id),
	        200);
	cr_assert(PUMP_UNTIL(count_ev("rescind") > 0, 3000), "no rescind");
	size_t i;
	json_t *e, *r = NULL;
	json_array_foreach (F.log, i, e)
		if (strcmp(sim_jstr(e, "ev"), "rescind") == 0)
			r = e;
	cr_assert_str_eq(sim_jstr(r, "offer_id"), offer);
	/* Launching on it now: the task is lost, not run. */
	struct ags_task t = {.task_id = "late", .cpus = 1, .command = "true"};
	cr_assert_eq(ags_launch(F.s, offer, a.id, &t, 1, 0), 0);
	cr_assert(PUMP_UNTIL(json_array_size(F.updates) > 0, 3000));
	cr_assert_str_eq(upd(0, "task_id"), "late");
	cr_assert_str_eq(upd(0, "state"), "TASK_LOST");
	cr_assert_str_eq(upd(0, "reason"), "REASON_INVALID_OFFERS");
	cr_assert_null(sim_peer_next(&a, "RUN_TASK", 300));
}

Test(sdk, kill_reaches_the_agent_and_the_update_comes_back, .fini = fx_fini)
{
	struct sim_peer a;
	start_with_t1_running(&a);
	cr_assert_eq(ags_kill(F.s, "t1", a.id, 1.5), 0);
	json_t *k = agent_next(&a, "KILL_TASK", 3000);
	cr_assert_not_null(k, "the kill did not reach the agent");
	cr_assert_str_eq(sim_jstr(k, "kill_task.task_id.value"), "t1");
	cr_assert_str_eq(sim_jstr(k, "kill_task.framework_id.value"), F.fw_id);
	json_t *ns = json_object_get(
	        json_object_get(json_object_get(json_object_get(k, "kill_task"), "kill_policy"),
	                        "grace_period"),
	        "nanoseconds");
	cr_assert_eq(json_integer_value(ns), 1500000000LL);
	json_decref(k);
	report(&a, "t1", "TASK_KILLED", SIM_UUIDS[1]);
	/* Killing an unknown task: the master answers with TASK_LOST. */
	size_t n = json_array_size(F.updates);
	cr_assert_eq(ags_kill(F.s, "nope", NULL, -1), 0);
	cr_assert(PUMP_UNTIL(json_array_size(F.updates) > n, 3000));
	cr_assert_str_eq(upd(n, "task_id"), "nope");
	cr_assert_str_eq(upd(n, "state"), "TASK_LOST");
	cr_assert_str_eq(upd(n, "reason"), "REASON_RECONCILIATION");
}

Test(sdk, reconcile_all_and_named_tasks, .fini = fx_fini)
{
	struct sim_peer a;
	start_with_t1_running(&a);
	json_decref(agent_next(&a, "STATUS_UPDATE_ACK", 3000));

	size_t n = json_array_size(F.updates);
	cr_assert_eq(ags_reconcile(F.s, NULL, NULL, 0), 0);
	cr_assert(PUMP_UNTIL(json_array_size(F.updates) > n, 3000), "no answer to RECONCILE");
	cr_assert_str_eq(upd(n, "task_id"), "t1");
	cr_assert_str_eq(upd(n, "state"), "TASK_RUNNING");
	cr_assert_str_eq(upd(n, "reason"), "REASON_RECONCILIATION");
	cr_assert(json_is_false(json_object_get(json_array_get(F.updates, n), "has_uuid")));

	const char *tids[] = {"t1", "ghost"};
	const char *aids[] = {a.id, NULL};
	n = json_array_size(F.updates);
	cr_assert_eq(ags_reconcile(F.s, tids, aids, 2), 0);
	cr_assert(PUMP_UNTIL(json_array_size(F.updates) >= n + 2, 3000));
	bool saw_t1 = false, saw_ghost = false;
	for (size_t i = n; i < json_array_size(F.updates); i++) {
		if (strcmp(upd(i, "task_id"), "t1") == 0)
			saw_t1 = strcmp(upd(i, "state"), "TASK_RUNNING") == 0;
		if (strcmp(upd(i, "task_id"), "ghost") == 0)
			saw_ghost = strcmp(upd(i, "state"), "TASK_LOST") == 0;
	}
	cr_assert(saw_t1 && saw_ghost, "t1 RUNNING and ghost LOST");
	/* Nothing was sent to the agent for those (no uuid: no ack). */
	cr_assert_null(agent_next(&a, "STATUS_UPDATE_ACK", 300));
}

Test(sdk, teardown_kills_removes_and_closes, .fini = fx_fini)
{
	struct sim_peer a;
	start_with_t1_running(&a);
	char id[256];
	snprintf(id, sizeof(id), "%s", F.fw_id);
	cr_assert_eq(ags_teardown(F.s), 0);
	cr_assert(PUMP_UNTIL(F.n_closed > 0, 3000), "closed was not called");
	json_t *sd = agent_next(&a, "SHUTDOWN_FRAMEWORK", 3000);
	cr_assert_not_null(sd, "the agent was not told to shut the framework down");
	cr_assert_str_eq(sim_jstr(sd, "shutdown_framework.framework_id.value"), id);
	json_decref(sd);
	pump(300);
	cr_assert_eq(F.n_closed, 1, "closed once");
	cr_assert_eq(F.n_disconnected, 0, "a teardown is not a disconnection");
	cr_assert_eq(F.n_subscribed, 1, "no re-subscription after a teardown");
	int s;
	json_t *g = sim_op_call("{\"type\":\"GET_FRAMEWORKS\"}", &s, NULL, 0);
	cr_assert_eq(json_array_size(
	                     json_object_get(json_object_get(g, "get_frameworks"), "frameworks")),
	             0);
	json_decref(g);
	/* Its id may not come back: error, then closed, no retry. */
	ags_free(F.s);
	json_array_clear(F.log);
	F.n_closed = 0;
	struct ags_config cfg = {0};
	char master[64];
	snprintf(master, sizeof(master), "127.0.0.1:%u", sim_port);
	cfg.master = master;
	cfg.framework_id = id;
	cfg.backoff_base_ms = 100;
	F.s = ags_new(F.base, &cfg, &CBS, &F);
	ags_start(F.s);
	cr_assert(PUMP_UNTIL(F.n_closed > 0, 3000));
	cr_assert_eq(F.n_errors, 1);
	pump(500);
	cr_assert_eq(count_ev("subscribed"), 0);
	cr_assert_eq(F.n_closed, 1);
}

Test(sdk, resubscribes_with_its_id_after_a_master_sigkill, .fini = fx_fini)
{
	sim_start_master(NULL, 0);
	struct sim_peer a;
	sim_agent_register(&a, "a1", SIM_AGENT_RES);
	fx_start(NULL, true);
	json_t *run = launch(&a, "t1", NULL);
	char *fwinfo = json_dumps(
	        json_object_get(json_object_get(run, "run_task"), "framework_info"), JSON_COMPACT);
	char *task =
	        json_dumps(json_object_get(json_object_get(run, "run_task"), "task"), JSON_COMPACT);
	json_decref(run);
	report(&a, "t1", "TASK_RUNNING", SIM_UUIDS[0]);
	char id[256];
	snprintf(id, sizeof(id), "%s", F.fw_id);

	uint16_t p = sim_port;
	sim_kill_master();
	cr_assert(PUMP_UNTIL(F.n_disconnected > 0, 3000), "the SDK did not notice");
	cr_assert_not(ags_subscribed(F.s));
	cr_assert_eq(ags_revive(F.s, NULL), -ENOTCONN, "calls are refused while disconnected");
	/* Down for a while: it keeps retrying (backoff capped at 400 ms). */
	pump(1000);
	sim_start_master(NULL, p);
	cr_assert(PUMP_UNTIL(F.n_subscribed == 2, 5000), "no re-subscription");
	cr_assert_str_eq(F.fw_id, id, "re-subscribed with another framework id");
	cr_assert_str_eq(ags_framework_id(F.s), id);

	/* The agent comes back with the task: the framework still owns it. */
	char fws[4096], tasks[8192];
	snprintf(fws, sizeof(fws), "[%s]", fwinfo);
	snprintf(tasks, sizeof(tasks),
	         "[{\"framework_id\":{\"value\":\"%s\"},\"task\":%s,\"status\":{\"task_id\":{"
	         "\"value\":\"t1\"},\"state\":\"TASK_RUNNING\"}}]",
	         id, task);
	free(fwinfo);
	free(task);
	sim_agent_reregister(&a, "a1", SIM_AGENT_RES, fws, tasks);
	json_array_clear(F.offers);
	cr_assert(PUMP_UNTIL(json_array_size(F.offers) > 0, 3000), "no offers after the restart");
	cr_assert_eq(json_real_value(json_object_get(json_array_get(F.offers, 0), "cpus")), 1.0,
	             "the running task's cpu is still booked");
	report(&a, "t1", "TASK_FINISHED", SIM_UUIDS[1]);
	json_t *ack = agent_next(&a, "STATUS_UPDATE_ACK", 3000);
	cr_assert_not_null(ack, "the update after the restart was not acknowledged");
	json_decref(ack);
	cr_assert_eq(json_array_size(F.failed), 0);
}

Test(sdk, refused_calls_reach_call_failed, .fini = fx_fini)
{
	sim_start_master(NULL, 0);
	struct sim_peer a;
	sim_agent_register(&a, "a1", SIM_AGENT_RES);
	fx_start(NULL, false);
	cr_assert(PUMP_UNTIL(ags_subscribed(F.s), 3000));
	/* An ACKNOWLEDGE whose uuid is not 16 bytes: 400. */
	json_t *bad =
	        json_pack("{s:s, s:{s:{s:s}, s:{s:s}, s:s}}", "type", "ACKNOWLEDGE", "acknowledge",
	                  "agent_id", "value", a.id, "task_id", "value", "t", "uuid", "AAAA");
	cr_assert_eq(ags_call(F.s, bad), 0);
	json_decref(bad);
	cr_assert(PUMP_UNTIL(json_array_size(F.failed) > 0, 3000), "call_failed not called");
	json_t *f = json_array_get(F.failed, 0);
	cr_assert_str_eq(sim_jstr(f, "type"), "ACKNOWLEDGE");
	cr_assert_eq(json_integer_value(json_object_get(f, "code")), 400);
	cr_assert(strlen(sim_jstr(f, "body")) > 0, "the master's reason is passed on");
	cr_assert(ags_subscribed(F.s), "a refused call does not end the subscription");
}

Test(sdk, calls_in_flight_when_the_master_hangs_are_reported, .fini = fx_fini)
{
	sim_start_master(NULL, 0);
	struct sim_peer a;
	sim_agent_register(&a, "a1", SIM_AGENT_RES);
	fx_start(NULL, false);
	cr_assert(PUMP_UNTIL(ags_subscribed(F.s), 3000));
	char id[256];
	snprintf(id, sizeof(id), "%s", F.fw_id);
	/* A master that hangs (stopped, its sockets still open): the KILL gets
	 * no answer; the watchdog (5 heartbeats) declares the stream lost, and
	 * the reconnection drops the call connection: the KILL is reported,
	 * not silently forgotten. */
	cr_assert_eq(kill(sim_master_pid, SIGSTOP), 0);
	cr_assert_eq(ags_kill(F.s, "t1", NULL, -1), 0);
	cr_assert(PUMP_UNTIL(F.n_disconnected > 0, 8000), "the watchdog did not fire");
	cr_assert(PUMP_UNTIL(json_array_size(F.failed) > 0, 3000),
	          "the lost KILL was not reported");
	json_t *f = json_array_get(F.failed, 0);
	cr_assert_str_eq(sim_jstr(f, "type"), "KILL");
	cr_assert_eq(json_integer_value(json_object_get(f, "code")), 0);
	cr_assert_eq(kill(sim_master_pid, SIGCONT), 0);
	cr_assert(PUMP_UNTIL(F.n_subscribed == 2, 8000), "no re-subscription once it is back");
	cr_assert_str_eq(F.fw_id, id);
	cr_assert_eq(json_array_size(F.failed), 1, "reported once");
}

Test(sdk, bad_master_address_is_einval)
{
	struct event_base *b = event_base_new();
	const char *bad[] = {"127.0.0.1:0", "127.0.0.1:70000", ":5050", "http://:1", "127.0.0.1:x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ags_config cfg = {.master = bad[i]};
		errno = 0;
		cr_assert_null(ags_new(b, &cfg, &CBS, NULL), "%s accepted", bad[i]);
		cr_assert_eq(errno, EINVAL);
	}
	struct ags_config ok = {.master = "http://localhost:5050"};
	struct ags *s = ags_new(b, &ok, NULL, NULL);
	cr_assert_not_null(s);
	cr_assert_null(ags_framework_id(s));
	ags_free(s);
	ags_free(NULL);
	event_base_free(b);
}
