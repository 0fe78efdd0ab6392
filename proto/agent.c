/* agent.c: agora's master<->agent messages (docs/agent-protocol.md). One
 * envelope for both directions, shaped like the scheduler API:
 * {"type":"X","agent_id":{...},"x":{...}}. */
#include "proto/internal.h"

#include <string.h>

/* The payload key of each type; NULL: no payload. */
static const char *payload_key(enum pb_agent_msg_type t)
{
	switch (t) {
	case PB_AGENT_REGISTER:
		return "register";
	case PB_AGENT_REREGISTER:
		return "reregister";
	case PB_AGENT_STATUS_UPDATE:
		return "status_update";
	case PB_AGENT_STATUS_UPDATES:
		return "status_updates";
	case PB_AGENT_REGISTERED:
		return "registered";
	case PB_AGENT_RUN_TASK:
		return "run_task";
	case PB_AGENT_KILL_TASK:
		return "kill_task";
	case PB_AGENT_STATUS_UPDATE_ACK:
		return "status_update_ack";
	case PB_AGENT_SHUTDOWN_FRAMEWORK:
		return "shutdown_framework";
	case PB_AGENT_ERROR:
		return "error";
	case PB_AGENT_FRAMEWORK_MESSAGE:
		return "framework_message";
	case PB_AGENT_SHUTDOWN_EXECUTOR:
		return "shutdown_executor";
	case PB_AGENT_EXECUTOR_MESSAGE:
		return "executor_message";
	case PB_AGENT_EXECUTOR_EXITED:
		return "executor_exited";
	default:
		return NULL;
	}
}

static void read_register(struct pb_arena *a, const json_t *p, struct pb_agent_msg *m)
{
	pb__read_agent_info(a, json_object_get(p, "agent_info"), &m->reg.agent_info);
	m->reg.version = pb__str(p, "version");
	m->reg.unisolated = pb__bool(p, "unisolated", false);
	json_t *fws = json_object_get(p, "frameworks");
	m->reg.n_frameworks = json_array_size(fws);
	if (m->reg.n_frameworks) {
		struct pb_framework_info *v =
		        pb__new_array(a, struct pb_framework_info, m->reg.n_frameworks);
		for (size_t i = 0; i < m->reg.n_frameworks; i++)
			pb__read_framework_info(a, json_array_get(fws, i), &v[i]);
		m->reg.frameworks = v;
	}
	json_t *tasks = json_object_get(p, "tasks");
	m->reg.n_tasks = json_array_size(tasks);
	if (m->reg.n_tasks) {
		struct pb_agent_task *v = pb__new_array(a, struct pb_agent_task, m->reg.n_tasks);
		for (size_t i = 0; i < m->reg.n_tasks; i++) {
			json_t *t = json_array_get(tasks, i);
			v[i].framework_id = pb__id(t, "framework_id");
			pb__read_task_info(a, json_object_get(t, "task"), &v[i].task);
			pb__read_task_status(a, json_object_get(t, "status"), &v[i].status);
			v[i].has_unacknowledged = pb__bool(t, "unacknowledged", false);
		}
		m->reg.tasks = v;
	}
	const json_t *order = json_object_get(p, "registration_order");
	m->reg.has_order = order != NULL;
	m->reg.order.agent_started_ns = (uint64_t)pb__int(order, "agent_started_ns", 0);
	m->reg.order.seq = (uint64_t)pb__int(order, "seq", 0);
}

/* One normalized {framework_id, status}: false when its uuid is not
 * PB_UUID_LEN bytes. */
static bool read_status_update(struct pb_arena *a, const json_t *p, struct pb_status_update *u)
{
	u->framework_id = pb__id(p, "framework_id");
	const json_t *st = json_object_get(p, "status");
	pb__read_task_status(a, st, &u->status);
	if (u->status.uuid.len != PB_UUID_LEN)
		return false;
	size_t n;
	_cleanup_free_ char *text = pb_json_dump(st, &n);
	char *copy = pb__alloc(a, n + 1);
	memcpy(copy, text, n);
	u->status_text = copy;
	return true;
}

int pb_agent_msg_decode(const char *buf, size_t len, struct pb_agent_msg *ret_msg,
                        struct ag_error *err)
{
	json_t *j;
	int r = pb__parse(&pb__m_agent_msg, buf, len, "message", &j, err);
	if (r < 0)
		return r;
	struct pb_agent_msg m = {0};
	m.json = j;
	m.arena = pb_arena_new();
	struct pb_arena *a = m.arena;
	m.type = (enum pb_agent_msg_type)pb__enum_of(j, "type", &pb__e_agent_msg_type);
	if (m.type == PB_AGENT_UNSET) {
		pb_agent_msg_free(&m);
		return ag_error_msg(err, EINVAL, "Expecting 'type' to be present");
	}
	const char *key = payload_key(m.type);
	const json_t *p = key ? json_object_get(j, key) : NULL;
	if (key && !p) {
		pb_agent_msg_free(&m);
		return ag_error_msg(err, EINVAL, "Expecting '%s' to be present", key);
	}
	m.agent_id = pb__id(j, "agent_id");
	switch (m.type) {
	case PB_AGENT_REGISTER:
	case PB_AGENT_REREGISTER:
		read_register(a, p, &m);
		break;
	case PB_AGENT_REGISTERED:
		m.registered.agent_id = pb__id(p, "agent_id");
		m.registered.heartbeat_interval_seconds =
		        pb__double(p, "heartbeat_interval_seconds", 0);
		m.registered.master_info =
		        pb__read_master_info(a, json_object_get(p, "master_info"));
		m.registered.agent_secret = pb__str(p, "agent_secret");
		/* It goes into a header and a file as it is. */
		if (m.registered.agent_secret &&
		    !pb_agent_secret_valid(m.registered.agent_secret)) {
			pb_agent_msg_free(&m);
			return ag_error_msg(
			        err, EINVAL,
			        "message.registered.agent_secret: must be %d lower-case "
			        "hex digits",
			        PB_AGENT_SECRET_LEN);
		}
		break;
	case PB_AGENT_RUN_TASK:
		pb__read_framework_info(a, json_object_get(p, "framework_info"),
		                        &m.run_task.framework_info);
		pb__read_task_info(a, json_object_get(p, "task"), &m.run_task.task);
		/* Optional in a FrameworkInfo (SUBSCRIBE has none), but a task
		 * is keyed by its framework's id: the master always sends it. */
		if (!m.run_task.framework_info.id) {
			pb_agent_msg_free(&m);
			return ag_error_msg(err, EINVAL,
			                    "Missing required fields: run_task.framework_info.id");
		}
		break;
	case PB_AGENT_KILL_TASK: {
		m.kill_task.framework_id = pb__id(p, "framework_id");
		m.kill_task.task_id = pb__id(p, "task_id");
		json_t *g = json_object_get(json_object_get(p, "kill_policy"), "grace_period");
		m.kill_task.has_grace = g != NULL;
		m.kill_task.grace_ns = pb__int(g, "nanoseconds", 0);
		break;
	}
	case PB_AGENT_STATUS_UPDATE:
		if (!read_status_update(a, p, &m.status_update)) {
			pb_agent_msg_free(&m);
			return ag_error_msg(err, EINVAL,
			                    "message.status_update.status.uuid: must be %d bytes",
			                    PB_UUID_LEN);
		}
		break;
	case PB_AGENT_STATUS_UPDATES: {
		const json_t *arr = json_object_get(p, "updates");
		size_t n = json_array_size(arr);
		struct pb_status_update *v = pb__new_array(a, struct pb_status_update, n);
		for (size_t i = 0; i < n; i++) {
			if (!read_status_update(a, json_array_get(arr, i), &v[i])) {
				pb_agent_msg_free(&m);
				return ag_error_msg(
				        err, EINVAL,
				        "message.status_updates.updates[%zu].status.uuid: "
				        "must be %d bytes",
				        i, PB_UUID_LEN);
			}
		}
		m.status_updates.updates = v;
		m.status_updates.n_updates = n;
		break;
	}
	case PB_AGENT_STATUS_UPDATE_ACK:
		m.status_update_ack.framework_id = pb__id(p, "framework_id");
		m.status_update_ack.task_id = pb__id(p, "task_id");
		m.status_update_ack.uuid = pb__bytes(a, p, "uuid");
		if (m.status_update_ack.uuid.len != PB_UUID_LEN) {
			pb_agent_msg_free(&m);
			return ag_error_msg(err, EINVAL,
			                    "message.status_update_ack.uuid: must be %d bytes",
			                    PB_UUID_LEN);
		}
		break;
	case PB_AGENT_SHUTDOWN_FRAMEWORK:
		m.shutdown_framework.framework_id = pb__id(p, "framework_id");
		break;
	case PB_AGENT_ERROR:
		m.error.message = pb__str(p, "message");
		break;
	case PB_AGENT_FRAMEWORK_MESSAGE:
	case PB_AGENT_EXECUTOR_MESSAGE:
		m.executor_message.framework_id = pb__id(p, "framework_id");
		m.executor_message.executor_id = pb__id(p, "executor_id");
		m.executor_message.data = pb__bytes(a, p, "data");
		break;
	case PB_AGENT_SHUTDOWN_EXECUTOR:
		m.shutdown_executor.framework_id = pb__id(p, "framework_id");
		m.shutdown_executor.executor_id = pb__id(p, "executor_id");
		break;
	case PB_AGENT_EXECUTOR_EXITED:
		m.executor_exited.framework_id = pb__id(p, "framework_id");
		m.executor_exited.executor_id = pb__id(p, "executor_id");
		m.executor_exited.has_status = json_object_get(p, "status") != NULL;
		m.executor_exited.status = (int32_t)pb__int(p, "status", 0);
		break;
	default:
		break;
	}
	*ret_msg = m;
	return 0;
}

int pb_agent_msg_decode_lean(const char *buf, size_t len, struct pb_agent_msg *ret_msg,
                             struct ag_error *err)
{
	if (pb__status_update_decode_plain(buf, len, ret_msg))
		return 0;
	return pb_agent_msg_decode(buf, len, ret_msg, err);
}

void pb_agent_msg_free(struct pb_agent_msg *msg)
{
	if (!msg)
		return;
	json_decref(msg->json);
	pb_arena_free(msg->arena);
	memset(msg, 0, sizeof(*msg));
}

static json_t *task_info_json(const struct pb_task_info *t)
{
	return t->json ? json_deep_copy(t->json) : json_object();
}

static json_t *kill_policy_json(bool has_grace, int64_t grace_ns)
{
	if (!has_grace)
		return NULL;
	return json_pack("{s:o}", "grace_period", pb_time_to_json(grace_ns));
}

json_t *pb_agent_msg_to_json(const struct pb_agent_msg *m)
{
	const char *name = pb_agent_msg_type_name(m->type);
	if (!name)
		return NULL;
	json_t *p = NULL;
	switch (m->type) {
	case PB_AGENT_REGISTER:
	case PB_AGENT_REREGISTER: {
		p = json_object();
		json_object_set_new(p, "agent_info",
		                    pb_agent_info_to_json(&m->reg.agent_info, PB_RES_OPERATOR));
		pb__set_str(p, "version", m->reg.version);
		if (m->reg.unisolated)
			json_object_set_new(p, "unisolated", json_true());
		if (m->reg.n_frameworks) {
			json_t *a = json_array();
			for (size_t i = 0; i < m->reg.n_frameworks; i++)
				json_array_append_new(
				        a, pb_framework_info_to_json(&m->reg.frameworks[i]));
			json_object_set_new(p, "frameworks", a);
		}
		if (m->reg.n_tasks) {
			json_t *a = json_array();
			for (size_t i = 0; i < m->reg.n_tasks; i++) {
				const struct pb_agent_task *t = &m->reg.tasks[i];
				json_t *e = json_object();
				pb__set_id(e, "framework_id",
				           t->framework_id ? t->framework_id : "");
				json_object_set_new(e, "task", task_info_json(&t->task));
				json_object_set_new(e, "status",
				                    pb_task_status_to_json(&t->status));
				if (t->has_unacknowledged)
					json_object_set_new(e, "unacknowledged", json_true());
				json_array_append_new(a, e);
			}
			json_object_set_new(p, "tasks", a);
		}
		if (m->reg.has_order)
			json_object_set_new(p, "registration_order",
			                    pb_registration_order_to_json(&m->reg.order));
		break;
	}
	case PB_AGENT_REGISTERED:
		p = json_object();
		pb__set_id(p, "agent_id", m->registered.agent_id ? m->registered.agent_id : "");
		if (m->registered.heartbeat_interval_seconds > 0)
			json_object_set_new(p, "heartbeat_interval_seconds",
			                    json_real(m->registered.heartbeat_interval_seconds));
		if (m->registered.master_info)
			json_object_set_new(p, "master_info",
			                    pb_master_info_to_json(m->registered.master_info));
		pb__set_str(p, "agent_secret", m->registered.agent_secret);
		break;
	case PB_AGENT_RUN_TASK:
		p = json_object();
		json_object_set_new(p, "framework_info",
		                    pb_framework_info_to_json(&m->run_task.framework_info));
		json_object_set_new(p, "task", task_info_json(&m->run_task.task));
		break;
	case PB_AGENT_KILL_TASK:
		p = json_object();
		pb__set_id(p, "framework_id",
		           m->kill_task.framework_id ? m->kill_task.framework_id : "");
		pb__set_id(p, "task_id", m->kill_task.task_id ? m->kill_task.task_id : "");
		pb__set(p, "kill_policy",
		        kill_policy_json(m->kill_task.has_grace, m->kill_task.grace_ns));
		break;
	case PB_AGENT_STATUS_UPDATE:
		p = json_object();
		pb__set_id(p, "framework_id",
		           m->status_update.framework_id ? m->status_update.framework_id : "");
		json_object_set_new(p, "status", pb_task_status_to_json(&m->status_update.status));
		break;
	case PB_AGENT_STATUS_UPDATES:
		p = json_object();
		json_t *arr = json_array();
		for (size_t i = 0; i < m->status_updates.n_updates; i++) {
			const struct pb_status_update *u = &m->status_updates.updates[i];
			json_t *e = json_object();
			pb__set_id(e, "framework_id", u->framework_id ? u->framework_id : "");
			json_object_set_new(e, "status", pb_task_status_to_json(&u->status));
			json_array_append_new(arr, e);
		}
		json_object_set_new(p, "updates", arr);
		break;
	case PB_AGENT_STATUS_UPDATE_ACK:
		p = json_object();
		pb__set_id(p, "framework_id",
		           m->status_update_ack.framework_id ? m->status_update_ack.framework_id
		                                             : "");
		pb__set_id(p, "task_id",
		           m->status_update_ack.task_id ? m->status_update_ack.task_id : "");
		pb__set_bytes(p, "uuid", m->status_update_ack.uuid);
		break;
	case PB_AGENT_SHUTDOWN_FRAMEWORK:
		p = json_object();
		pb__set_id(p, "framework_id",
		           m->shutdown_framework.framework_id ? m->shutdown_framework.framework_id
		                                              : "");
		break;
	case PB_AGENT_ERROR:
		p = json_pack("{s:s}", "message", m->error.message ? m->error.message : "");
		break;
	case PB_AGENT_FRAMEWORK_MESSAGE:
	case PB_AGENT_EXECUTOR_MESSAGE:
		p = json_object();
		pb__set_id(p, "framework_id", m->executor_message.framework_id);
		pb__set_id(p, "executor_id", m->executor_message.executor_id);
		pb__set_bytes(p, "data", m->executor_message.data);
		break;
	case PB_AGENT_SHUTDOWN_EXECUTOR:
		p = json_object();
		pb__set_id(p, "framework_id", m->shutdown_executor.framework_id);
		pb__set_id(p, "executor_id", m->shutdown_executor.executor_id);
		break;
	case PB_AGENT_EXECUTOR_EXITED:
		p = json_object();
		pb__set_id(p, "framework_id", m->executor_exited.framework_id);
		pb__set_id(p, "executor_id", m->executor_exited.executor_id);
		if (m->executor_exited.has_status)
			json_object_set_new(p, "status", json_integer(m->executor_exited.status));
		break;
	default:
		break;
	}
	json_t *o = json_object();
	json_object_set_new(o, "type", json_string(name));
	pb__set_id(o, "agent_id", m->agent_id);
	const char *key = payload_key(m->type);
	if (key && p)
		json_object_set_new(o, key, p);
	else
		json_decref(p);
	return o;
}

bool pb_agent_secret_valid(const char *s)
{
	size_t n = 0;
	for (; s && s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return s && n == PB_AGENT_SECRET_LEN;
}

int pb_registration_order_cmp(const struct pb_registration_order *a,
                              const struct pb_registration_order *b)
{
	if (a->agent_started_ns != b->agent_started_ns)
		return a->agent_started_ns < b->agent_started_ns ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}

json_t *pb_registration_order_to_json(const struct pb_registration_order *o)
{
	return json_pack("{s:I, s:I}", "agent_started_ns", (json_int_t)o->agent_started_ns, "seq",
	                 (json_int_t)o->seq);
}

char *pb_agent_msg_encode(const struct pb_agent_msg *msg, size_t *ret_len)
{
	json_t *j = pb_agent_msg_to_json(msg);
	char *s = pb_json_dump(j, ret_len);
	json_decref(j);
	return s;
}
