/* drain.c: agent maintenance (DEACTIVATE_AGENT, DRAIN_AGENT,
 * REACTIVATE_AGENT, with Mesos's semantics) and agora's operator KILL_TASK
 * (docs/operator-api.md).
 *
 * A deactivated agent gets no offers (the allocator holds it deactivated
 * and its outstanding offers are rescinded); draining also kills its tasks
 * and, once none is left running, the agent is DRAINED and, with mark_gone,
 * marked gone. The state is kept in the registry's meta table under one key
 * (MS_DRAIN_META_KEY, a JSON object by agent id), written before the call is
 * answered and at each DRAINED transition, so a restarted master keeps it:
 * an agent comes back deactivated and its drain goes on. */
#include "common/log.h"
#include "master/master.h"

#include <inttypes.h>
#include <string.h>

#include <jansson.h>

#define MS_DRAIN_META_KEY "agent_maintenance"

static const char *drain_state_name(enum ms_drain_state s)
{
	return s == MS_DRAIN_DRAINING ? "DRAINING" : s == MS_DRAIN_DRAINED ? "DRAINED" : NULL;
}

/* The whole maintenance table, as written to the registry: a new tree. */
static json_t *drain_table(struct ms_master *m)
{
	json_t *t = json_object();
	struct ag_map_iter it;
	for (ag_map_iter_init(&it); ag_map_iter_next(&m->agents, &it);) {
		struct ms_agent *a = it.e->value;
		if (a->gone || (!a->deactivated && a->drain == MS_DRAIN_NONE))
			continue;
		json_t *e = json_pack("{s:b}", "deactivated", a->deactivated);
		if (a->drain != MS_DRAIN_NONE) {
			json_object_set_new(e, "drain_state",
			                    json_string(drain_state_name(a->drain)));
			json_object_set_new(e, "mark_gone", json_boolean(a->drain_mark_gone));
			if (a->drain_has_max_grace)
				json_object_set_new(e, "max_grace_ns",
				                    json_integer(a->drain_max_grace_ns));
		}
		json_object_set_new(t, a->id, e);
	}
	return t;
}

static int drain_persist(struct ms_master *m, struct ag_error *err)
{
	json_t *t = drain_table(m);
	char *text = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(t);
	if (!text)
		abort();
	int r = ms_registry_meta_set(m->registry, MS_DRAIN_META_KEY, text, err);
	free(text);
	return ms_registry_wrote(m, r, err);
}

int ms_drain_recover(struct ms_master *m, struct ag_error *err)
{
	char *text = NULL;
	int r = ms_registry_meta_get(m->registry, MS_DRAIN_META_KEY, &text, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	json_error_t jerr;
	json_t *t = json_loads(text, 0, &jerr);
	free(text);
	if (!json_is_object(t)) {
		json_decref(t);
		return ag_error_msg(err, EPROTO, "registry: meta `%s` is not a JSON object",
		                    MS_DRAIN_META_KEY);
	}
	const char *id;
	json_t *e;
	json_object_foreach (t, id, e) {
		struct ms_agent *a = ag_map_get(&m->agents, id);
		if (!a || a->gone)
			continue;
		a->deactivated = json_is_true(json_object_get(e, "deactivated"));
		const char *st = json_string_value(json_object_get(e, "drain_state"));
		a->drain = !st                          ? MS_DRAIN_NONE
		           : strcmp(st, "DRAINED") == 0 ? MS_DRAIN_DRAINED
		                                        : MS_DRAIN_DRAINING;
		a->drain_mark_gone = json_is_true(json_object_get(e, "mark_gone"));
		json_t *g = json_object_get(e, "max_grace_ns");
		a->drain_has_max_grace = json_is_integer(g);
		a->drain_max_grace_ns = json_integer_value(g);
		if (a->drain != MS_DRAIN_NONE)
			ag_info("agent %s: %s (recovered)", a->id, drain_state_name(a->drain));
	}
	json_decref(t);
	return 0;
}

void ms_drain_agent_json(const struct ms_agent *a, json_t *j)
{
	if (a->deactivated)
		json_object_set_new(j, "deactivated", json_true());
	if (a->drain == MS_DRAIN_NONE)
		return;
	json_t *config = json_pack("{s:b}", "mark_gone", a->drain_mark_gone);
	if (a->drain_has_max_grace)
		json_object_set_new(
		        config, "max_grace_period",
		        json_pack("{s:I}", "nanoseconds", (json_int_t)a->drain_max_grace_ns));
	json_object_set_new(
	        j, "drain_info",
	        json_pack("{s:s, s:o}", "state", drain_state_name(a->drain), "config", config));
}

/* The task's own kill_policy grace, from its TaskInfo text. */
static bool task_grace(const struct ms_task *t, int64_t *ret_ns)
{
	json_t *info = t->info ? json_loads(t->info, 0, NULL) : NULL;
	json_t *ns = json_object_get(
	        json_object_get(json_object_get(info, "kill_policy"), "grace_period"),
	        "nanoseconds");
	bool has = json_is_integer(ns);
	if (has)
		*ret_ns = json_integer_value(ns);
	json_decref(info);
	return has;
}

void ms_task_send_kill(struct ms_master *m, struct ms_task *t, bool has_grace, int64_t grace_ns)
{
	struct ms_agent *a = ag_map_get(&m->agents, t->agent_id);
	if (!a)
		return;
	json_t *msg =
	        json_pack("{s:s, s:{s:o, s:o}}", "type", "KILL_TASK", "kill_task", "framework_id",
	                  pb_id_to_json(t->fw->id), "task_id", pb_id_to_json(t->id));
	if (has_grace)
		json_object_set_new(json_object_get(msg, "kill_task"), "kill_policy",
		                    json_pack("{s:{s:I}}", "grace_period", "nanoseconds",
		                              (json_int_t)grace_ns));
	/* A disconnected agent cannot hear it now: as Mesos does, the kill is
	 * sent again when the agent re-registers. */
	if (!a->stream)
		t->kill_pending = true;
	ms_agent_send(a, msg);
}

/* Kill every live task of a draining agent, each with the smaller of its
 * own grace period and the drain's max_grace_period (Mesos's rule). A task
 * without a kill policy gets max_grace_period when one is set. */
static void drain_kill_tasks(struct ms_master *m, struct ms_agent *a)
{
	if (!a->stream)
		return; /* sent again when it (re-)registers */
	for (struct ms_task *t = a->tasks; t; t = t->agent_next) {
		if (pb_task_state_is_terminal(t->state))
			continue;
		int64_t g = 0;
		bool has = task_grace(t, &g);
		if (a->drain_has_max_grace && (!has || g > a->drain_max_grace_ns)) {
			has = true;
			g = a->drain_max_grace_ns;
		}
		ms_task_send_kill(m, t, has, g);
	}
}

/* Its tasks list holds every task on it until the master forgets the
 * task (after its end is acknowledged): the live ones are those not ended. */
static bool agent_has_live_tasks(const struct ms_agent *a)
{
	for (const struct ms_task *t = a->tasks; t; t = t->agent_next)
		if (!pb_task_state_is_terminal(t->state))
			return true;
	return false;
}

/* DRAINING agents with no live task left become DRAINED (and gone with
 * mark_gone). Run from a zero-delay event, never from inside a walk over
 * tasks or agents: marking an agent gone changes both. */
static void drain_check_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ms_master *m = arg;
	(void)fd;
	(void)what;
	struct ag_map_iter it;
	struct ag_error err = {0};
	for (ag_map_iter_init(&it); ag_map_iter_next(&m->agents, &it);) {
		struct ms_agent *a = it.e->value;
		/* A recovered agent that has not re-registered has not told us
		 * its tasks yet. */
		if (a->gone || a->drain != MS_DRAIN_DRAINING || (!a->active && !a->unreachable) ||
		    agent_has_live_tasks(a))
			continue;
		a->drain = MS_DRAIN_DRAINED;
		if (drain_persist(m, &err) < 0) {
			/* Not durable: stays DRAINING and is tried again at the
			 * next task end or registration, or when the registry
			 * can be written again (durable.c). */
			ag_debug("agent %s: cannot record DRAINED: %s", a->id, err.msg);
			a->drain = MS_DRAIN_DRAINING;
			continue;
		}
		ag_info("agent %s: DRAINED", a->id);
	}
	/* mark_gone after the walk: ms_agent_lost() does not remove agents
	 * from the map, but it walks tasks and frameworks. */
	for (ag_map_iter_init(&it); ag_map_iter_next(&m->agents, &it);) {
		struct ms_agent *a = it.e->value;
		if (a->gone || a->drain != MS_DRAIN_DRAINED || !a->drain_mark_gone)
			continue;
		int r = ms_registry_agent_mark_gone(m->registry, a->id, &err);
		if (ms_registry_wrote(m, r, &err) < 0) {
			/* Tried again as DRAINED is (above). */
			ag_debug("agent %s: drained, but cannot mark it gone: %s", a->id, err.msg);
			continue;
		}
		ag_info("agent %s: drained, marked gone", a->id);
		ms_agent_lost(m, a, true);
		/* Its maintenance record is dropped (drain_table skips gone
		 * agents); failing that, recovery skips gone agents anyway. */
		(void)drain_persist(m, &err);
	}
}

void ms_drain_check_soon(struct ms_master *m)
{
	if (!m->drain_check) {
		m->drain_check = evtimer_new(m->base, drain_check_cb, m);
		if (!m->drain_check)
			abort();
	}
	if (!evtimer_pending(m->drain_check, NULL)) {
		struct timeval zero = {0, 0};
		evtimer_add(m->drain_check, &zero);
	}
}

void ms_drain_task_ended(struct ms_master *m, const struct ms_task *t)
{
	if (t->agent && t->agent->drain == MS_DRAIN_DRAINING)
		ms_drain_check_soon(m);
}

void ms_drain_agent_registered(struct ms_master *m, struct ms_agent *a)
{
	if (!a->deactivated && a->drain == MS_DRAIN_NONE)
		return;
	/* Registration re-activated it in the allocator: undo that before
	 * the next allocation cycle, and take back what it was offered. */
	ms_alloc_check(drf_agent_deactivate(m->alloc, a->id), "deactivate agent", a->id);
	ms_offers_rescind_matching(m, NULL, a, true);
	if (a->drain == MS_DRAIN_DRAINING) {
		drain_kill_tasks(m, a);
		ms_drain_check_soon(m);
	}
}

void ms_drain_fini(struct ms_master *m)
{
	if (m->drain_check)
		event_free(m->drain_check);
	m->drain_check = NULL;
}

/* ---- the operator calls --------------------------------------------- */

/* The agent an operator call names: NULL after a 404 reply. */
static struct ms_agent *op_agent(struct ms_master *m, struct evhttp_request *req, const char *id)
{
	struct ms_agent *a = ag_map_get(&m->agents, id);
	if (!a) {
		ms_http_reply_error(req, HTTP_NOTFOUND, "Agent %.128s cannot be found", id);
		return NULL;
	}
	if (a->gone) {
		ms_http_reply_error(req, HTTP_NOTFOUND, "Agent %.128s has been marked gone", id);
		return NULL;
	}
	return a;
}

void ms_drain_operator(struct ms_master *m, struct evhttp_request *req,
                       const struct pb_operator_call *call)
{
	const char *id = call->type == PB_OP_DRAIN_AGENT        ? call->drain_agent.agent_id
	                 : call->type == PB_OP_DEACTIVATE_AGENT ? call->deactivate_agent.agent_id
	                                                        : call->reactivate_agent.agent_id;
	struct ms_agent *a = op_agent(m, req, id);
	if (!a)
		return;
	struct ms_agent old = *a;
	switch (call->type) {
	case PB_OP_DRAIN_AGENT:
		a->deactivated = true;
		/* Draining again updates the config; a DRAINED agent stays
		 * DRAINED (the check below finds it has nothing left). */
		a->drain = MS_DRAIN_DRAINING;
		a->drain_has_max_grace = call->drain_agent.has_max_grace;
		a->drain_max_grace_ns = call->drain_agent.max_grace_ns;
		a->drain_mark_gone = call->drain_agent.mark_gone;
		break;
	case PB_OP_DEACTIVATE_AGENT:
		a->deactivated = true;
		break;
	default: /* REACTIVATE_AGENT: idempotent */
		a->deactivated = false;
		a->drain = MS_DRAIN_NONE;
		a->drain_has_max_grace = false;
		a->drain_max_grace_ns = 0;
		a->drain_mark_gone = false;
		break;
	}
	struct ag_error err = {0};
	if (drain_persist(m, &err) < 0) {
		a->deactivated = old.deactivated;
		a->drain = old.drain;
		a->drain_has_max_grace = old.drain_has_max_grace;
		a->drain_max_grace_ns = old.drain_max_grace_ns;
		a->drain_mark_gone = old.drain_mark_gone;
		ag_debug("%s: %s", pb_operator_call_type_name(call->type), err.msg);
		ms_reply_unwritable(req, "Cannot record the agent's maintenance state", &err);
		return;
	}
	ag_info("agent %s: %s", a->id, pb_operator_call_type_name(call->type));
	/* The allocator knows the agent only while it is registered. */
	bool in_alloc = a->active && !a->unreachable;
	if (call->type == PB_OP_REACTIVATE_AGENT) {
		if (in_alloc && a->stream && old.deactivated)
			ms_alloc_check(drf_agent_activate(m->alloc, a->id), "activate agent",
			               a->id);
		ms_allocate_soon(m);
	} else {
		if (in_alloc)
			ms_alloc_check(drf_agent_deactivate(m->alloc, a->id), "deactivate agent",
			               a->id);
		ms_offers_rescind_matching(m, NULL, a, true);
		if (call->type == PB_OP_DRAIN_AGENT) {
			drain_kill_tasks(m, a);
			ms_drain_check_soon(m);
		}
	}
	ms_http_reply_empty(req, HTTP_OK);
}

/* The newest of `fw`'s completed tasks with id `tid` (on agent `aid` when
 * set), or NULL. */
static struct ms_task *completed_task(struct ms_framework *fw, const char *tid, const char *aid)
{
	for (size_t i = fw->completed.len; i-- > 0;) {
		struct ms_task *c = ag_ring_get(&fw->completed, i);
		if (strcmp(c->id, tid) == 0 && (!aid || strcmp(c->agent_id, aid) == 0))
			return c;
	}
	return NULL;
}

/* A task that is not running: one in a completed list (of `fw` when the
 * call named framework `fid`, else of any) ended (409, its state), else it
 * is unknown (404). */
static void reply_not_running(struct ms_master *m, struct evhttp_request *req, const char *tid,
                              struct ms_framework *fw, const char *fid, const char *aid)
{
	struct ms_task *done = NULL;
	if (fw) {
		done = completed_task(fw, tid, aid);
	} else {
		struct ag_map_iter it;
		for (ag_map_iter_init(&it); !done && ag_map_iter_next(&m->frameworks, &it);)
			done = completed_task(it.e->value, tid, aid);
	}
	if (done) {
		ms_http_reply_error(req, 409, "Task %.128s has already ended (%s)", tid,
		                    pb_task_state_name(done->state));
		return;
	}
	ms_http_reply_error(req, HTTP_NOTFOUND, "Task %.128s cannot be found%s%.128s%s%.128s", tid,
	                    fid ? " in framework " : "", fid ? fid : "", aid ? " on agent " : "",
	                    aid ? aid : "");
}

void ms_kill_task_operator(struct ms_master *m, struct evhttp_request *req,
                           const struct pb_operator_call *call)
{
	const char *tid = call->kill_task.task_id, *fid = call->kill_task.framework_id;
	const char *aid = call->kill_task.agent_id;
	struct ms_task *t = NULL;
	struct ms_framework *fw = NULL;
	if (fid) {
		fw = ms_framework_find(m, fid);
		if (!fw) {
			ms_http_reply_error(req, HTTP_NOTFOUND, "Framework %.128s cannot be found",
			                    fid);
			return;
		}
		t = ms_task_find(fw, tid);
	} else {
		/* Unique across frameworks, or the caller must say which. */
		size_t n = 0;
		char names[512] = "";
		struct ag_map_iter it;
		for (ag_map_iter_init(&it); ag_map_iter_next(&m->frameworks, &it);) {
			struct ms_framework *each = it.e->value;
			struct ms_task *c = ms_task_find(each, tid);
			if (!c || (aid && strcmp(c->agent_id, aid) != 0))
				continue;
			size_t used = strlen(names);
			snprintf(names + used, sizeof(names) - used, "%s%.128s", n ? ", " : "",
			         each->id);
			t = c;
			n++;
		}
		if (n > 1) {
			ms_http_reply_error(req, HTTP_BADREQUEST,
			                    "Task %.128s exists in %zu frameworks (%s): set "
			                    "'kill_task.framework_id'",
			                    tid, n, names);
			return;
		}
	}
	if (!t || (aid && strcmp(t->agent_id, aid) != 0)) {
		reply_not_running(m, req, tid, fw, fid, aid);
		return;
	}
	if (pb_task_state_is_terminal(t->state)) {
		ms_http_reply_error(req, 409, "Task %.128s has already ended (%s)", tid,
		                    pb_task_state_name(t->state));
		return;
	}
	struct ms_agent *a = ag_map_get(&m->agents, t->agent_id);
	if (!a || !a->stream) {
		ms_http_reply_error(req, HTTP_SERVUNAVAIL,
		                    "Task %.128s is on agent %.128s, which is not connected: the "
		                    "kill cannot be delivered now; retry when it is back",
		                    tid, t->agent_id);
		return;
	}
	ag_info("KILL_TASK %s of framework %s by an operator", t->id, t->fw->id);
	ms_task_send_kill(m, t, call->kill_task.has_grace, call->kill_task.grace_ns);
	ms_http_reply_empty(req, HTTP_OK);
}
