/* operator.c: operator master.Calls in, Responses and Events out. The
 * master assembles the big responses (GET_STATE, GET_AGENTS, ...) with the
 * builders of build.c and jansson; this file only wraps them. */
#include "proto/internal.h"

#include <string.h>

int pb_operator_call_decode(const char *buf, size_t len, struct pb_operator_call *ret_call,
                            struct ag_error *err)
{
	json_t *j;
	int r = pb__parse(&pb__m_operator_call, buf, len, "call", &j, err);
	if (r < 0)
		return r;
	struct pb_operator_call c = {0};
	c.json = j;
	c.arena = pb_arena_new();
	c.type = (enum pb_operator_call_type)pb__enum_of(j, "type", &pb__e_operator_call_type);
	const char *missing = NULL;
	switch (c.type) {
	case PB_OP_UNSET:
		pb_operator_call_free(&c);
		return ag_error_msg(err, EINVAL, "Expecting 'type' to be present");
	case PB_OP_UPDATE_WEIGHTS: {
		json_t *p = json_object_get(j, "update_weights");
		if (!p) {
			missing = "update_weights";
			break;
		}
		json_t *w = json_object_get(p, "weight_infos");
		c.update_weights.n_weight_infos = json_array_size(w);
		if (c.update_weights.n_weight_infos) {
			struct pb_weight_info *v = pb__new_array(c.arena, struct pb_weight_info,
			                                         c.update_weights.n_weight_infos);
			for (size_t i = 0; i < c.update_weights.n_weight_infos; i++) {
				v[i].weight = pb__double(json_array_get(w, i), "weight", 0);
				v[i].role = pb__str(json_array_get(w, i), "role");
			}
			c.update_weights.weight_infos = v;
		}
		break;
	}
	case PB_OP_TEARDOWN:
		c.teardown.framework_id = pb__id(json_object_get(j, "teardown"), "framework_id");
		if (!c.teardown.framework_id)
			missing = "teardown";
		break;
	case PB_OP_MARK_AGENT_GONE:
		c.mark_agent_gone.agent_id =
		        pb__id(json_object_get(j, "mark_agent_gone"), "agent_id");
		if (!c.mark_agent_gone.agent_id)
			missing = "mark_agent_gone";
		break;
	case PB_OP_DRAIN_AGENT: {
		json_t *p = json_object_get(j, "drain_agent");
		c.drain_agent.agent_id = pb__id(p, "agent_id");
		if (!c.drain_agent.agent_id) {
			missing = "drain_agent";
			break;
		}
		json_t *g = json_object_get(p, "max_grace_period");
		c.drain_agent.mark_gone = pb__bool(p, "mark_gone", false);
		if (g) {
			int64_t sec = pb__int(g, "seconds", 0), nanos = pb__int(g, "nanos", 0);
			/* Duration's own bounds (10,000 years) keep the product
			 * inside int64. */
			if (sec < 0 || nanos < 0 || nanos > 999999999 || sec > 315576000000) {
				pb_operator_call_free(&c);
				return ag_error_msg(
				        err, EINVAL,
				        "Invalid 'drain_agent.max_grace_period': it must "
				        "be a duration >= 0 (seconds >= 0, 0 <= nanos "
				        "< 1e9)");
			}
			c.drain_agent.has_max_grace = true;
			c.drain_agent.max_grace_ns =
			        sec > INT64_MAX / 1000000000 ? INT64_MAX : sec * 1000000000 + nanos;
		}
		break;
	}
	case PB_OP_DEACTIVATE_AGENT:
		c.deactivate_agent.agent_id =
		        pb__id(json_object_get(j, "deactivate_agent"), "agent_id");
		if (!c.deactivate_agent.agent_id)
			missing = "deactivate_agent";
		break;
	case PB_OP_REACTIVATE_AGENT:
		c.reactivate_agent.agent_id =
		        pb__id(json_object_get(j, "reactivate_agent"), "agent_id");
		if (!c.reactivate_agent.agent_id)
			missing = "reactivate_agent";
		break;
	case PB_OP_KILL_TASK: {
		json_t *p = json_object_get(j, "kill_task");
		c.kill_task.task_id = pb__id(p, "task_id");
		if (!c.kill_task.task_id) {
			missing = "kill_task";
			break;
		}
		c.kill_task.framework_id = pb__id(p, "framework_id");
		c.kill_task.agent_id = pb__id(p, "agent_id");
		json_t *g = json_object_get(json_object_get(p, "kill_policy"), "grace_period");
		if (g) {
			c.kill_task.has_grace = true;
			c.kill_task.grace_ns = pb__int(g, "nanoseconds", 0);
			if (c.kill_task.grace_ns < 0) {
				pb_operator_call_free(&c);
				return ag_error_msg(
				        err, EINVAL,
				        "Invalid "
				        "'kill_task.kill_policy.grace_period.nanoseconds':"
				        " it must be >= 0");
			}
		}
		break;
	}
	default:
		break;
	}
	if (missing) {
		pb_operator_call_free(&c);
		return ag_error_msg(err, EINVAL, "Expecting '%s' to be present", missing);
	}
	*ret_call = c;
	return 0;
}

void pb_operator_call_free(struct pb_operator_call *call)
{
	if (!call)
		return;
	json_decref(call->json);
	pb_arena_free(call->arena);
	memset(call, 0, sizeof(*call));
}

json_t *pb_operator_response(enum pb_operator_call_type type, json_t *payload)
{
	const char *name = pb__enum_name(&pb__e_operator_call_type, (int)type);
	if (!name) {
		json_decref(payload);
		return NULL;
	}
	return pb__typed(name, payload);
}

json_t *pb_operator_event(enum pb_operator_event_type type, json_t *payload)
{
	const char *name = pb__enum_name(&pb__e_operator_event_type, (int)type);
	if (!name) {
		json_decref(payload);
		return NULL;
	}
	return pb__typed(name, payload);
}
