/* executor.c: the executor API's Calls (mesos.v1.executor.Call), read by
 * the agent's POST /api/v1/executor. Events are written by the agent with
 * jansson (agent/executor.c). */
#include "proto/internal.h"

#include <string.h>

static const char *payload_key(enum pb_executor_call_type t)
{
	switch (t) {
	case PB_EXEC_CALL_SUBSCRIBE:
		return "subscribe";
	case PB_EXEC_CALL_UPDATE:
		return "update";
	case PB_EXEC_CALL_MESSAGE:
		return "message";
	default:
		return NULL;
	}
}

/* Mesos's validation of an executor's TaskStatus (validation.cpp,
 * executor::call::validate): a uuid, not STAGING, its own executor. */
static int check_status(const struct pb_executor_call *c, const struct pb_task_status *st,
                        const char *what, struct ag_error *err)
{
	if (st->uuid.len != PB_UUID_LEN)
		return ag_error_msg(err, EINVAL, "%s.uuid: must be %d bytes, not %zu", what,
		                    PB_UUID_LEN, st->uuid.len);
	if (st->state == PB_TASK_STAGING)
		return ag_error_msg(err, EINVAL,
		                    "%s.state: TASK_STAGING is not a state an executor may send",
		                    what);
	if (st->executor_id && strcmp(st->executor_id, c->executor_id) != 0)
		return ag_error_msg(err, EINVAL,
		                    "%s.executor_id: '%.255s' does not match the call's "
		                    "executor_id '%.255s'",
		                    what, st->executor_id, c->executor_id);
	return 0;
}

int pb_executor_call_decode(const char *buf, size_t len, struct pb_executor_call *ret_call,
                            struct ag_error *err)
{
	json_t *j;
	int r = pb__parse(&pb__m_executor_call, buf, len, "call", &j, err);
	if (r < 0)
		return r;
	struct pb_executor_call c = {0};
	c.json = j;
	c.arena = pb_arena_new();
	struct pb_arena *a = c.arena;
	c.type = (enum pb_executor_call_type)pb__enum_of(j, "type", &pb__e_executor_call_type);
	c.executor_id = pb__id(j, "executor_id");
	c.framework_id = pb__id(j, "framework_id");
	if (c.type == PB_EXEC_CALL_UNSET) {
		pb_executor_call_free(&c);
		return ag_error_msg(err, EINVAL, "Expecting 'type' to be present");
	}
	const char *key = payload_key(c.type);
	const json_t *p = key ? json_object_get(j, key) : NULL;
	/* SUBSCRIBE's payload has only optional fields: {} is fine, and
	 * Mesos's own executors always send it; an absent one is refused as
	 * Mesos does. */
	if (key && !p) {
		pb_executor_call_free(&c);
		return ag_error_msg(err, EINVAL, "Expecting '%s' to be present", key);
	}
	switch (c.type) {
	case PB_EXEC_CALL_SUBSCRIBE: {
		const json_t *tasks = json_object_get(p, "unacknowledged_tasks");
		size_t n = json_array_size(tasks);
		if (n) {
			struct pb_task_info *v = pb__new_array(a, struct pb_task_info, n);
			for (size_t i = 0; i < n; i++)
				pb__read_task_info(a, json_array_get(tasks, i), &v[i]);
			c.subscribe.unacknowledged_tasks = v;
			c.subscribe.n_unacknowledged_tasks = n;
		}
		const json_t *ups = json_object_get(p, "unacknowledged_updates");
		n = json_array_size(ups);
		if (n) {
			struct pb_task_status *v = pb__new_array(a, struct pb_task_status, n);
			for (size_t i = 0; i < n; i++) {
				pb__read_task_status(
				        a, json_object_get(json_array_get(ups, i), "status"),
				        &v[i]);
				char what[96];
				snprintf(what, sizeof(what),
				         "call.subscribe.unacknowledged_updates[%zu].status", i);
				if (check_status(&c, &v[i], what, err) < 0) {
					pb_executor_call_free(&c);
					return -EINVAL;
				}
			}
			c.subscribe.unacknowledged_updates = v;
			c.subscribe.n_unacknowledged_updates = n;
		}
		break;
	}
	case PB_EXEC_CALL_UPDATE:
		c.update.status_json = json_object_get(p, "status");
		pb__read_task_status(a, c.update.status_json, &c.update.status);
		if (check_status(&c, &c.update.status, "call.update.status", err) < 0) {
			pb_executor_call_free(&c);
			return -EINVAL;
		}
		break;
	case PB_EXEC_CALL_MESSAGE:
		c.message.data = pb__bytes(a, p, "data");
		break;
	default:
		break;
	}
	*ret_call = c;
	return 0;
}

void pb_executor_call_free(struct pb_executor_call *call)
{
	if (!call)
		return;
	json_decref(call->json);
	pb_arena_free(call->arena);
	memset(call, 0, sizeof(*call));
}
