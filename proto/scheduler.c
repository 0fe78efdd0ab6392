/* scheduler.c: scheduler Calls in, scheduler Events out (and in, for
 * clients). */
#include "proto/internal.h"

#include <string.h>

/* The payload key of a type name: its lower-case form. */
static const json_t *payload_of(const json_t *j, const char *type_name)
{
	char key[64];
	size_t i = 0;
	for (; type_name[i] && i < sizeof(key) - 1; i++)
		key[i] = (char)(type_name[i] >= 'A' && type_name[i] <= 'Z' ? type_name[i] + 32
		                                                           : type_name[i]);
	key[i] = '\0';
	return json_object_get(j, key);
}

/* The calls of the subset whose payload is optional. */
static bool payload_optional(enum pb_call_type t)
{
	switch (t) {
	case PB_CALL_TEARDOWN:
	case PB_CALL_REVIVE:
	case PB_CALL_SUPPRESS:
	case PB_CALL_UNKNOWN:
		return true;
	default:
		return false;
	}
}

static void read_offers_call(struct pb_arena *a, const json_t *p, struct pb_call_offers *c)
{
	c->offer_ids = pb__ids(a, p, "offer_ids", &c->n_offer_ids);
	json_t *f = json_object_get(p, "filters");
	c->filters.has_refuse_seconds = json_object_get(f, "refuse_seconds") != NULL;
	c->filters.refuse_seconds = pb__double(f, "refuse_seconds", 5.0);
	json_t *ops = json_object_get(p, "operations");
	c->n_operations = json_array_size(ops);
	if (!c->n_operations)
		return;
	struct pb_operation *v = pb__new_array(a, struct pb_operation, c->n_operations);
	for (size_t i = 0; i < c->n_operations; i++) {
		json_t *op = json_array_get(ops, i);
		v[i].type = (enum pb_operation_type)pb__enum_of(op, "type", &pb__e_operation_type);
		v[i].json = op;
		json_t *tasks = json_object_get(json_object_get(op, "launch"), "task_infos");
		json_t *group = json_object_get(op, "launch_group");
		if (v[i].type == PB_OPERATION_LAUNCH_GROUP) {
			tasks = json_object_get(json_object_get(group, "task_group"), "tasks");
			v[i].executor = json_object_get(group, "executor");
		} else if (v[i].type != PB_OPERATION_LAUNCH) {
			tasks = NULL;
		}
		v[i].n_tasks = json_array_size(tasks);
		if (v[i].n_tasks) {
			struct pb_task_info *t =
			        pb__new_array(a, struct pb_task_info, v[i].n_tasks);
			for (size_t k = 0; k < v[i].n_tasks; k++)
				pb__read_task_info(a, json_array_get(tasks, k), &t[k]);
			v[i].tasks = t;
		}
	}
	c->operations = v;
}

static void read_roles(struct pb_arena *a, const json_t *p, struct pb_call_roles *r)
{
	r->roles = pb__strings(a, p, "roles", &r->n_roles);
}

int pb_call_decode(const char *buf, size_t len, struct pb_call *ret_call, struct ag_error *err)
{
	json_t *j;
	int r = pb__parse(&pb__m_call, buf, len, "call", &j, err);
	if (r < 0)
		return r;
	struct pb_call c = {0};
	c.json = j;
	c.arena = pb_arena_new();
	c.type = (enum pb_call_type)pb__enum_of(j, "type", &pb__e_call_type);
	if (c.type == PB_CALL_UNSET) {
		pb_call_free(&c);
		return ag_error_msg(err, EINVAL, "Expecting 'type' to be present");
	}
	const char *tname = pb_call_type_name(c.type);
	const json_t *p = payload_of(j, tname);
	if (!p && !payload_optional(c.type)) {
		char key[64];
		snprintf(key, sizeof(key), "%s", tname);
		for (char *k = key; *k; k++)
			*k = (char)(*k >= 'A' && *k <= 'Z' ? *k + 32 : *k);
		pb_call_free(&c);
		return ag_error_msg(err, EINVAL, "Expecting '%s' to be present", key);
	}
	struct pb_arena *a = c.arena;
	c.framework_id = pb__id(j, "framework_id");
	switch (c.type) {
	case PB_CALL_SUBSCRIBE:
	case PB_CALL_UPDATE_FRAMEWORK:
		pb__read_framework_info(a, json_object_get(p, "framework_info"),
		                        &c.subscribe.framework_info);
		c.subscribe.suppressed_roles =
		        pb__strings(a, p, "suppressed_roles", &c.subscribe.n_suppressed_roles);
		break;
	case PB_CALL_ACCEPT:
		read_offers_call(a, p, &c.accept);
		break;
	case PB_CALL_DECLINE:
		read_offers_call(a, p, &c.decline);
		break;
	case PB_CALL_REVIVE:
		read_roles(a, p, &c.revive);
		break;
	case PB_CALL_SUPPRESS:
		read_roles(a, p, &c.suppress);
		break;
	case PB_CALL_KILL: {
		c.kill.task_id = pb__id(p, "task_id");
		c.kill.agent_id = pb__id(p, "agent_id");
		json_t *g = json_object_get(json_object_get(p, "kill_policy"), "grace_period");
		c.kill.has_grace = g != NULL;
		c.kill.grace_ns = pb__int(g, "nanoseconds", 0);
		break;
	}
	case PB_CALL_SHUTDOWN:
		c.shutdown.executor_id = pb__id(p, "executor_id");
		c.shutdown.agent_id = pb__id(p, "agent_id");
		break;
	case PB_CALL_ACKNOWLEDGE:
		c.acknowledge.agent_id = pb__id(p, "agent_id");
		c.acknowledge.task_id = pb__id(p, "task_id");
		c.acknowledge.uuid = pb__bytes(a, p, "uuid");
		break;
	case PB_CALL_RECONCILE: {
		json_t *tasks = json_object_get(p, "tasks");
		c.reconcile.n_tasks = json_array_size(tasks);
		if (c.reconcile.n_tasks) {
			struct pb_reconcile_task *t =
			        pb__new_array(a, struct pb_reconcile_task, c.reconcile.n_tasks);
			for (size_t i = 0; i < c.reconcile.n_tasks; i++) {
				t[i].task_id = pb__id(json_array_get(tasks, i), "task_id");
				t[i].agent_id = pb__id(json_array_get(tasks, i), "agent_id");
			}
			c.reconcile.tasks = t;
		}
		break;
	}
	case PB_CALL_MESSAGE:
		c.message.agent_id = pb__id(p, "agent_id");
		c.message.executor_id = pb__id(p, "executor_id");
		c.message.data = pb__bytes(a, p, "data");
		break;
	case PB_CALL_REQUEST:
		c.request.n_requests = pb__len(p, "requests");
		break;
	default:
		break;
	}
	*ret_call = c;
	return 0;
}

int pb_call_decode_lean(const char *buf, size_t len, struct pb_call *ret_call, struct ag_error *err)
{
	if (pb__ack_decode_plain(buf, len, ret_call) || pb__accept_decode_plain(buf, len, ret_call))
		return 0;
	return pb_call_decode(buf, len, ret_call, err);
}

void pb_call_free(struct pb_call *call)
{
	if (!call)
		return;
	json_decref(call->json);
	pb_arena_free(call->arena);
	memset(call, 0, sizeof(*call));
}

/* ---- events ---- */

json_t *pb_event_to_json(const struct pb_event *ev)
{
	const char *name = pb_event_type_name(ev->type);
	if (!name)
		return NULL;
	json_t *p = NULL;
	switch (ev->type) {
	case PB_EVENT_SUBSCRIBED:
		p = json_object();
		pb__set_id(p, "framework_id", ev->subscribed.framework_id);
		if (ev->subscribed.heartbeat_interval_seconds > 0)
			json_object_set_new(p, "heartbeat_interval_seconds",
			                    json_real(ev->subscribed.heartbeat_interval_seconds));
		if (ev->subscribed.master_info)
			json_object_set_new(p, "master_info",
			                    pb_master_info_to_json(ev->subscribed.master_info));
		break;
	case PB_EVENT_OFFERS: {
		json_t *a = json_array();
		for (size_t i = 0; i < ev->offers.n_offers; i++)
			json_array_append_new(
			        a, pb_offer_to_json(&ev->offers.offers[i], ev->offers.res_flags));
		p = json_pack("{s:o}", "offers", a);
		break;
	}
	case PB_EVENT_RESCIND:
		p = json_object();
		pb__set_id(p, "offer_id", ev->rescind.offer_id ? ev->rescind.offer_id : "");
		break;
	case PB_EVENT_UPDATE:
		p = json_pack("{s:o}", "status", pb_task_status_to_json(&ev->update.status));
		break;
	case PB_EVENT_MESSAGE:
		p = json_object();
		pb__set_id(p, "agent_id", ev->message.agent_id ? ev->message.agent_id : "");
		pb__set_id(p, "executor_id",
		           ev->message.executor_id ? ev->message.executor_id : "");
		if (ev->message.data.data)
			pb__set_bytes(p, "data", ev->message.data);
		else
			json_object_set_new(p, "data", json_string(""));
		break;
	case PB_EVENT_FAILURE:
		p = json_object();
		pb__set_id(p, "agent_id", ev->failure.agent_id);
		pb__set_id(p, "executor_id", ev->failure.executor_id);
		if (ev->failure.has_status)
			json_object_set_new(p, "status", json_integer(ev->failure.status));
		break;
	case PB_EVENT_ERROR:
		p = json_pack("{s:s}", "message", ev->error.message ? ev->error.message : "");
		break;
	default:
		break;
	}
	return pb__typed(name, p);
}

char *pb_event_encode(const struct pb_event *ev, size_t *ret_len)
{
	json_t *j = pb_event_to_json(ev);
	char *s = pb_json_dump(j, ret_len);
	json_decref(j);
	return s;
}

int pb_event_decode(const char *buf, size_t len, struct pb_event *ret_ev, struct ag_error *err)
{
	json_t *j;
	int r = pb__parse(&pb__m_event, buf, len, "event", &j, err);
	if (r < 0)
		return r;
	struct pb_event e = {0};
	e.json = j;
	e.arena = pb_arena_new();
	struct pb_arena *a = e.arena;
	e.type = (enum pb_event_type)pb__enum_of(j, "type", &pb__e_event_type);
	if (e.type == PB_EVENT_UNSET) {
		pb_event_free(&e);
		return ag_error_msg(err, EINVAL, "Expecting 'type' to be present");
	}
	const json_t *p = payload_of(j, pb_event_type_name(e.type));
	switch (e.type) {
	case PB_EVENT_SUBSCRIBED:
		e.subscribed.framework_id = pb__id(p, "framework_id");
		e.subscribed.heartbeat_interval_seconds =
		        pb__double(p, "heartbeat_interval_seconds", 0);
		e.subscribed.master_info =
		        pb__read_master_info(a, json_object_get(p, "master_info"));
		break;
	case PB_EVENT_OFFERS: {
		json_t *offers = json_object_get(p, "offers");
		e.offers.n_offers = json_array_size(offers);
		if (e.offers.n_offers) {
			struct pb_offer *v = pb__new_array(a, struct pb_offer, e.offers.n_offers);
			for (size_t i = 0; i < e.offers.n_offers; i++)
				pb__read_offer(a, json_array_get(offers, i), &v[i]);
			e.offers.offers = v;
		}
		break;
	}
	case PB_EVENT_RESCIND:
		e.rescind.offer_id = pb__id(p, "offer_id");
		break;
	case PB_EVENT_UPDATE:
		if (p)
			pb__read_task_status(a, json_object_get(p, "status"), &e.update.status);
		break;
	case PB_EVENT_MESSAGE:
		e.message.agent_id = pb__id(p, "agent_id");
		e.message.executor_id = pb__id(p, "executor_id");
		e.message.data = pb__bytes(a, p, "data");
		break;
	case PB_EVENT_FAILURE:
		e.failure.agent_id = pb__id(p, "agent_id");
		e.failure.executor_id = pb__id(p, "executor_id");
		e.failure.has_status = json_object_get(p, "status") != NULL;
		e.failure.status = (int32_t)pb__int(p, "status", 0);
		break;
	case PB_EVENT_ERROR:
		e.error.message = pb__str(p, "message");
		break;
	default:
		break;
	}
	*ret_ev = e;
	return 0;
}

void pb_event_free(struct pb_event *ev)
{
	if (!ev)
		return;
	json_decref(ev->json);
	pb_arena_free(ev->arena);
	memset(ev, 0, sizeof(*ev));
}
