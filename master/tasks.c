/* tasks.c: the task lifecycle in the master: launch validation, RUN_TASK,
 * status updates from agents and their acknowledgements, KILL, RECONCILE,
 * and tasks lost with their agent. */
#include "common/log.h"
#include "master/master.h"

#include <string.h>

struct ms_task *ms_task_find(struct ms_framework *fw, const char *id)
{
	return id ? ag_map_get(&fw->tasks, id) : NULL;
}

static void task_link(struct ms_task *t, struct ms_agent *a)
{
	t->agent = a;
	t->agent_prev = NULL;
	t->agent_next = a->tasks;
	if (a->tasks)
		a->tasks->agent_prev = t;
	a->tasks = t;
}

static void task_unlink(struct ms_task *t)
{
	struct ms_agent *a = t->agent;
	if (!a)
		return;
	if (t->agent_prev)
		t->agent_prev->agent_next = t->agent_next;
	else
		a->tasks = t->agent_next;
	if (t->agent_next)
		t->agent_next->agent_prev = t->agent_prev;
	t->agent = NULL;
	t->agent_prev = t->agent_next = NULL;
}

bool ms_task_state_ended(enum pb_task_state s)
{
	return pb_task_state_is_terminal(s) || s == PB_TASK_GONE_BY_OPERATOR;
}

void ms_task_free(struct ms_task *t)
{
	if (!t)
		return;
	task_unlink(t);
	drf_resources_free(t->res);
	free(t->info);
	free(t->status);
	free(t->pending);
	free(t->agent_id);
	free(t->role);
	free(t->id);
	free(t);
}

void ms_task_remove(struct ms_master *m, struct ms_task *t)
{
	ag_map_del(&t->fw->tasks, t->id);
	task_unlink(t);
	m->completed_tasks++;
	/* GET_TASKS shows a completed task from its TaskInfo and last status
	 * only: the rest goes now. */
	drf_resources_free(t->res);
	t->res = NULL;
	free(t->pending);
	t->pending = NULL;
	t->booked = false;
	ms_task_free(
	        ag_ring_push(&t->fw->completed, m->flags.max_completed_tasks_per_framework, t));
}

/* The decoders refuse such ids already (pb_id_problem); kept for task
 * infos that come from elsewhere. */
static bool id_ok(const char *id)
{
	return id && !pb_id_problem(id, strlen(id));
}

int ms_task_validate(struct ms_framework *fw, const struct pb_task_info *ti, const char *agent_id,
                     struct ag_error *err)
{
	bool oci = ti->container && ti->container->oci;
	if (!id_ok(ti->task_id))
		return ag_error_msg(err, EINVAL, "Task ID '%.255s' is invalid: it %s", ti->task_id,
		                    pb_id_problem(ti->task_id, strlen(ti->task_id)));
	if (ti->executor_id && !id_ok(ti->executor_id))
		return ag_error_msg(err, EINVAL, "Executor ID '%.255s' is invalid",
		                    ti->executor_id);
	if (ms_task_find(fw, ti->task_id))
		return ag_error_msg(err, EINVAL, "Task has duplicate ID: %.255s", ti->task_id);
	if (!!ti->command == !!ti->executor_id && !(oci && !ti->executor_id))
		return ag_error_msg(
		        err, EINVAL,
		        "Task should have at least one (but not both) of CommandInfo or "
		        "ExecutorInfo present");
	if (strcmp(ti->agent_id, agent_id) != 0)
		return ag_error_msg(err, EINVAL,
		                    "Task uses agent %.255s but the offers are on agent %.200s",
		                    ti->agent_id, agent_id);
	if (!ti->n_resources)
		return ag_error_msg(err, EINVAL, "Task uses no resources");
	if (pb_resources_check(ti->resources, ti->n_resources, "task.resources", err) < 0)
		return ag_error_wrap(err, "Task uses invalid resources");
	if (pb_resources_scalar_milli(ti->resources, ti->n_resources, "cpus") <= 0 &&
	    pb_resources_scalar_milli(ti->resources, ti->n_resources, "mem") <= 0)
		/* Mesos wants its minimums of cpus and mem for a task and its
		 * executor; agora has no executor to feed: some of either. */
		return ag_error_msg(err, EINVAL,
		                    "Task uses no cpus and no mem: it needs cpus > 0 or mem > 0");
	if (ti->has_health_check && ti->health_check_type == PB_HEALTH_CHECK_UNSET)
		return ag_error_msg(
		        err, EINVAL,
		        "Task's health check is invalid: 'HealthCheck.type' is required");
	if (ti->has_kill_grace && ti->kill_grace_ns < 0)
		return ag_error_msg(err, EINVAL,
		                    "Task's 'kill_policy.grace_period' must be non-negative");
	return 0;
}

static char *compact(const json_t *j)
{
	/* As on the wire: a status kept here is sent as it is. */
	return j ? pb_json_dump(j, NULL) : NULL;
}

void ms_task_set_status(struct ms_task *t, const json_t *status)
{
	free(t->status);
	t->status = compact(status);
}

json_t *ms_task_json(struct ms_task *t)
{
	struct pb_arena *a = pb_arena_new();
	struct pb_task_info ti = {0};
	struct pb_task_status st = {0};
	struct ag_error err = {0};
	json_t *info = json_loads(t->info, 0, NULL);
	json_t *status = t->status ? json_loads(t->status, 0, NULL) : NULL;
	if (!info || pb_task_info_decode(a, info, "task", &ti, &err) < 0) {
		json_decref(info);
		json_decref(status);
		pb_arena_free(a);
		return json_pack("{s:s, s:o, s:o, s:o, s:s}", "name", "", "task_id",
		                 pb_id_to_json(t->id), "framework_id", pb_id_to_json(t->fw->id),
		                 "agent_id", pb_id_to_json(t->agent_id), "state",
		                 pb_task_state_name(t->state));
	}
	bool has_st = status && pb_task_status_decode(a, status, "status", &st, &err) == 0;
	struct pb_task pt = {
	        .name = ti.name,
	        .task_id = t->id,
	        .framework_id = t->fw->id,
	        .executor_id = ti.executor_id,
	        .agent_id = t->agent_id,
	        .state = t->state,
	        .resources = ti.resources,
	        .n_resources = ti.n_resources,
	        .statuses = has_st ? &st : NULL,
	        .n_statuses = has_st ? 1 : 0,
	        .status_update_state = has_st ? st.state : PB_TASK_STATE_UNSET,
	        .status_update_uuid = has_st ? st.uuid : (struct pb_bytes){0},
	        .task_info = info,
	        .user = json_string_value(json_object_get(t->fw->info, "user")),
	};
	json_t *j = pb_task_to_json(&pt);
	json_decref(status);
	json_decref(info);
	pb_arena_free(a);
	return j;
}

void ms_task_send_master_update(struct ms_master *m, struct ms_framework *fw, const char *task_id,
                                const char *agent_id, enum pb_task_state state,
                                enum pb_task_reason reason, const char *message)
{
	(void)m;
	struct pb_task_status st = {
	        .task_id = task_id,
	        .state = state,
	        .message = message,
	        .source = PB_SOURCE_MASTER,
	        .reason = reason,
	        .agent_id = agent_id,
	        .has_timestamp = true,
	        .timestamp = (double)ag_wall_ns() / 1e9,
	};
	ms_framework_send(fw, json_pack("{s:s, s:{s:o}}", "type", "UPDATE", "update", "status",
	                                pb_task_status_to_json(&st)));
}

/* `info_text`, when given, is `info` as pb_json_dump() writes it. */
static struct ms_task *task_new(struct ms_framework *fw, const char *id, struct ms_agent *a,
                                const char *role, const json_t *info, const char *info_text,
                                struct drf_resources *res)
{
	struct ms_task *t = ag_calloc(1, sizeof(*t));
	t->id = ag_strdup(id);
	t->fw = fw;
	t->agent_id = ag_strdup(a->id);
	task_link(t, a);
	t->role = ag_strdup(role);
	t->info = info_text ? ag_strdup(info_text) : compact(info);
	t->res = res;
	t->state = PB_TASK_STAGING;
	ag_map_put(&fw->tasks, t->id, t);
	return t;
}

void ms_task_launch(struct ms_master *m, struct ms_framework *fw, struct ms_agent *agent,
                    const struct pb_task_info *ti, const char *role, struct drf_resources *res)
{
	struct ms_task *t = task_new(fw, ti->task_id, agent, role, ti->json, ti->text, res);
	t->booked = true; /* by the accept */
	ag_debug("framework %s: task %s on agent %s", fw->id, t->id, agent->id);
	if (agent->stream && fw->info_text) {
		/* The bytes pb_json_dump() would write for the event, from the
		 * texts already kept (t->info is pb_json_dump() of ti->json, or
		 * the same bytes from the lean decoder). */
		static const char a[] = "{\"type\":\"RUN_TASK\",\"run_task\":{\"framework_info\":",
		                  b[] = ",\"task\":", c[] = "}}";
		size_t fn = strlen(fw->info_text), tn = strlen(t->info);
		size_t n = sizeof(a) - 1 + fn + sizeof(b) - 1 + tn + sizeof(c) - 1;
		char *text = ag_malloc(n), *p = text;
		memcpy(p, a, sizeof(a) - 1);
		p += sizeof(a) - 1;
		memcpy(p, fw->info_text, fn);
		p += fn;
		memcpy(p, b, sizeof(b) - 1);
		p += sizeof(b) - 1;
		memcpy(p, t->info, tn);
		p += tn;
		memcpy(p, c, sizeof(c) - 1);
		/* Refused: the stream is closing (its close callback
		 * disconnects the agent); a task the agent never got is
		 * reconciled when it registers again. */
		AG_IGNORE_RESULT(ms_stream_send(agent->stream, text, n));
		free(text);
	} else {
		/* No tree when the lean decoder read the task: its text's. */
		json_t *task =
		        ti->json ? json_incref((json_t *)ti->json) : json_loads(t->info, 0, NULL);
		ms_agent_send(agent,
		              json_pack("{s:s, s:{s:O, s:o}}", "type", "RUN_TASK", "run_task",
		                        "framework_info", fw->info, "task", task));
	}
	if (m->n_subscribers)
		ms_operator_broadcast(
		        m, pb_operator_event(PB_OPEV_TASK_ADDED,
		                             json_pack("{s:o}", "task", ms_task_json(t))));
}

struct ms_task *ms_task_adopt(struct ms_master *m, struct ms_framework *fw, struct ms_agent *a,
                              const char *role, const json_t *info, struct drf_resources *res)
{
	(void)m;
	const char *id =
	        json_string_value(json_object_get(json_object_get(info, "task_id"), "value"));
	return task_new(fw, id, a, role, info, NULL, res);
}

/* ms_task_transition() with the status as its text (taken; NULL: none)
 * and, when the caller has it, its tree. */
static void transition(struct ms_master *m, struct ms_task *t, enum pb_task_state state, char *text,
                       const json_t *status)
{
	enum pb_task_state old = t->state;
	t->state = state;
	if (text) {
		free(t->status);
		t->status = text;
	}
	if (t->booked && (ms_task_state_ended(state) || state == PB_TASK_UNREACHABLE ||
	                  state == PB_TASK_UNKNOWN)) {
		/* -ENOENT when the agent or framework already left the
		 * allocator (and took the allocation with it). */
		int r = drf_resources_recover(m->alloc, t->fw->id, t->agent_id, t->role, t->res);
		if (r != -ENOENT)
			ms_alloc_check(r, "recover the resources of task", t->id);
		t->booked = false;
		ms_allocate_batched(m);
	}
	if (!ms_task_state_ended(old) && ms_task_state_ended(state))
		ms_drain_task_ended(m, t);
	if (m->n_subscribers && old != state && text) {
		json_t *parsed = status ? NULL : json_loads(text, 0, NULL);
		ms_operator_broadcast(
		        m, pb_operator_event(PB_OPEV_TASK_UPDATED,
		                             json_pack("{s:o, s:O, s:s}", "framework_id",
		                                       pb_id_to_json(t->fw->id), "status",
		                                       status ? status : parsed, "state",
		                                       pb_task_state_name(state))));
		json_decref(parsed);
	}
}

void ms_task_transition(struct ms_master *m, struct ms_task *t, enum pb_task_state state,
                        const json_t *status)
{
	transition(m, t, state, compact(status), status);
}

void ms_task_master_transition(struct ms_master *m, struct ms_task *t, enum pb_task_state state,
                               enum pb_task_reason reason, const char *message, bool tell)
{
	struct pb_task_status st = {
	        .task_id = t->id,
	        .state = state,
	        .message = message,
	        .source = PB_SOURCE_MASTER,
	        .reason = reason,
	        .agent_id = t->agent_id,
	        .has_timestamp = true,
	        .timestamp = (double)ag_wall_ns() / 1e9,
	};
	json_t *sj = pb_task_status_to_json(&st);
	if (tell)
		ms_framework_send(t->fw, json_pack("{s:s, s:{s:O}}", "type", "UPDATE", "update",
		                                   "status", sj));
	ms_task_transition(m, t, state, sj);
	json_decref(sj);
}

/* Whether pb_json_dump() writes `s` inside quotes as it is: printable
 * ASCII other than '"' and '\\'. */
static bool json_plain(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
			return false;
	return true;
}

static void ack_agent(struct ms_agent *a, const char *fw_id, const char *task_id,
                      const uint8_t *uuid)
{
	if (!a->stream)
		return;
	char *b64 = pb_base64_encode(uuid, PB_UUID_LEN);
	char text[1024];
	const char *parts[] = {"{\"type\":\"STATUS_UPDATE_ACK\",\"status_update_ack\":{"
	                       "\"framework_id\":{\"value\":\"",
	                       fw_id,
	                       "\"},\"task_id\":{\"value\":\"",
	                       task_id,
	                       "\"},\"uuid\":\"",
	                       b64,
	                       "\"}}"};
	size_t n = 0;
	for (size_t i = 0; i < AG_ARRAY_SIZE(parts); i++)
		n += strlen(parts[i]);
	if (n < sizeof(text) && json_plain(fw_id) && json_plain(task_id)) {
		/* The bytes pb_json_dump() would write, without the tree (nor
		 * printf: one of these per update). */
		n = 0;
		for (size_t i = 0; i < AG_ARRAY_SIZE(parts); i++) {
			size_t k = strlen(parts[i]);
			memcpy(text + n, parts[i], k);
			n += k;
		}
		/* Refused: the stream is closing; the agent sends the update
		 * again until an acknowledgement arrives. */
		AG_IGNORE_RESULT(ms_stream_send(a->stream, text, n));
		free(b64);
		return;
	}
	ms_agent_send(a, json_pack("{s:s, s:{s:o, s:o, s:s}}", "type", "STATUS_UPDATE_ACK",
	                           "status_update_ack", "framework_id", pb_id_to_json(fw_id),
	                           "task_id", pb_id_to_json(task_id), "uuid", b64));
	free(b64);
}

void ms_task_kill_on_agent(struct ms_agent *a, const char *fw_id, const char *task_id)
{
	ms_agent_send(a, json_pack("{s:s, s:{s:o, s:o}}", "type", "KILL_TASK", "kill_task",
	                           "framework_id", pb_id_to_json(fw_id), "task_id",
	                           pb_id_to_json(task_id)));
}

void ms_task_status_update(struct ms_master *m, struct ms_agent *agent, const char *framework_id,
                           const struct pb_task_status *st, const char *status_text)
{
	struct ms_framework *fw = ms_framework_find(m, framework_id);
	struct ms_task *t = fw ? ms_task_find(fw, st->task_id) : NULL;
	if (!t || t->agent != agent) {
		/* Nobody will acknowledge it: a removed framework, or a task
		 * the master already forgot. Stop the agent's retries. */
		ag_debug("agent %s: update for unknown task %s of framework %s: acknowledged",
		         agent->id, st->task_id, framework_id);
		ack_agent(agent, framework_id, st->task_id, st->uuid.data);
		/* A task still running that its framework was told has ended
		 * (lost with its agent, unknown to it at a re-registration, or
		 * a copy of a task that lives on another agent): nobody can
		 * manage it, so it must not run on unseen. */
		if (fw && !pb_task_state_is_terminal(st->state)) {
			ag_info("agent %s: task %s of framework %s runs but has ended for the "
			        "master: killing it",
			        agent->id, st->task_id, framework_id);
			ms_task_kill_on_agent(agent, framework_id, st->task_id);
		}
		return;
	}
	if (st->state == PB_TASK_KILLING && !(fw->caps & PB_CAP_BIT(PB_CAP_TASK_KILLING_STATE))) {
		/* Only frameworks with TASK_KILLING_STATE hear of TASK_KILLING
		 * (reference §4). In Mesos the executor does not even send it
		 * then, so the master neither records nor forwards it; the
		 * agent's retries stop here and its next update is released. */
		ack_agent(agent, framework_id, st->task_id, st->uuid.data);
		return;
	}
	char *text;
	bool long_message = st->message && strlen(st->message) > MS_MAX_STATUS_MESSAGE;
	if (st->agent_id && !long_message) {
		text = ag_strdup(status_text);
	} else {
		json_t *j = json_loads(status_text, 0, NULL);
		if (!st->agent_id)
			json_object_set_new(j, "agent_id", pb_id_to_json(agent->id));
		if (long_message) {
			/* Kept, sent and broadcast with every copy of the status:
			 * bounded, and marked so that nobody takes it for whole.
			 * Not refused: a refused update would hold up the others
			 * of its batch. */
			ag_warn("agent %s: task %s: a status message of %zu bytes cut to %d",
			        agent->id, st->task_id, strlen(st->message), MS_MAX_STATUS_MESSAGE);
			_cleanup_free_ char *cut =
			        ms_text_truncate(st->message, MS_MAX_STATUS_MESSAGE);
			json_object_set_new(j, "message", json_string(cut));
		}
		text = j ? pb_json_dump(j, NULL) : ag_strdup(status_text);
		json_decref(j);
	}
	transition(m, t, st->state, text, NULL);
	/* t->status is now this update's text. */
	free(t->pending);
	t->pending = ag_strdup(t->status);
	memcpy(t->pending_uuid, st->uuid.data, PB_UUID_LEN);
	ms_framework_send_update_text(fw, t->pending);
}

int ms_task_acknowledge(struct ms_master *m, struct ms_framework *fw, const char *task_id,
                        const uint8_t *uuid)
{
	struct ms_task *t = ms_task_find(fw, task_id);
	if (!t || !t->pending || memcmp(t->pending_uuid, uuid, PB_UUID_LEN) != 0)
		return -ENOENT;
	if (t->agent)
		ack_agent(t->agent, fw->id, t->id, uuid);
	free(t->pending);
	t->pending = NULL;
	if (pb_task_state_is_terminal(t->state))
		ms_task_remove(m, t);
	return 0;
}

/* The reference's reconciliation table, for a task the master does not
 * know. */
static enum pb_task_state unknown_task_state(struct ms_master *m, struct ms_framework *fw,
                                             const char *agent_id)
{
	if (!(fw->caps & PB_CAP_BIT(PB_CAP_PARTITION_AWARE)))
		return PB_TASK_LOST;
	struct ms_agent *a = agent_id ? ag_map_get(&m->agents, agent_id) : NULL;
	if (!a)
		return PB_TASK_UNKNOWN;
	if (a->gone)
		return PB_TASK_GONE_BY_OPERATOR;
	if (a->unreachable)
		return PB_TASK_UNREACHABLE;
	return PB_TASK_GONE;
}

static void reconcile_known(struct ms_framework *fw, struct ms_task *t)
{
	struct pb_task_status st = {
	        .task_id = t->id,
	        .state = t->state == PB_TASK_STAGING ? PB_TASK_STAGING : t->state,
	        .message = "Reconciliation: Latest task state",
	        .source = PB_SOURCE_MASTER,
	        .reason = PB_REASON_RECONCILIATION,
	        .agent_id = t->agent_id,
	        .has_timestamp = true,
	        .timestamp = (double)ag_wall_ns() / 1e9,
	};
	ms_framework_send(fw, json_pack("{s:s, s:{s:o}}", "type", "UPDATE", "update", "status",
	                                pb_task_status_to_json(&st)));
}

/* Whether an agent of the registry has neither re-registered nor been
 * given up on since the master started. */
static bool agents_recovering(struct ms_master *m)
{
	struct ag_map_iter it;
	for (ag_map_iter_init(&it); ag_map_iter_next(&m->agents, &it);) {
		const struct ms_agent *a = it.e->value;
		if (!a->active && !a->unreachable && !a->gone)
			return true;
	}
	return false;
}

void ms_reconcile(struct ms_master *m, struct ms_framework *fw, const struct pb_call *call)
{
	if (!call->reconcile.n_tasks) {
		struct ag_map_iter it;
		for (ag_map_iter_init(&it); ag_map_iter_next(&fw->tasks, &it);)
			reconcile_known(fw, it.e->value);
		return;
	}
	int recovering = -1; /* whether agents may still re-register; -1: not known yet */
	for (size_t i = 0; i < call->reconcile.n_tasks; i++) {
		const struct pb_reconcile_task *rt = &call->reconcile.tasks[i];
		struct ms_task *t = ms_task_find(fw, rt->task_id);
		if (t) {
			reconcile_known(fw, t);
			continue;
		}
		struct ms_agent *a = rt->agent_id ? ag_map_get(&m->agents, rt->agent_id) : NULL;
		/* Recovered from the registry but not re-registered yet: it may
		 * still report the task; say nothing for now. */
		if (a && !a->active && !a->unreachable && !a->gone)
			continue;
		/* No agent named, and some agents of the registry have not
		 * re-registered since a restart or failover: any of them may
		 * report it (Mesos waits too, until --agent_reregister_timeout). */
		if (!rt->agent_id) {
			if (recovering < 0)
				recovering = agents_recovering(m);
			if (recovering)
				continue;
		}
		ms_task_send_master_update(
		        m, fw, rt->task_id, rt->agent_id, unknown_task_state(m, fw, rt->agent_id),
		        PB_REASON_RECONCILIATION, "Reconciliation: Task is unknown");
	}
}

void ms_kill(struct ms_master *m, struct ms_framework *fw, const struct pb_call *call)
{
	struct ms_task *t = ms_task_find(fw, call->kill.task_id);
	if (!t || pb_task_state_is_terminal(t->state)) {
		if (t)
			return; /* already ended: its terminal update is on its way */
		ms_task_send_master_update(m, fw, call->kill.task_id, call->kill.agent_id,
		                           unknown_task_state(m, fw, call->kill.agent_id),
		                           PB_REASON_RECONCILIATION, "Cannot kill an unknown task");
		return;
	}
	ms_task_send_kill(m, t, call->kill.has_grace, call->kill.grace_ns);
}

void ms_tasks_agent_lost(struct ms_master *m, struct ms_agent *a, bool by_operator)
{
	struct ms_task *t, *next;
	for (t = a->tasks; t; t = next) {
		next = t->agent_next;
		bool pa = t->fw->caps & PB_CAP_BIT(PB_CAP_PARTITION_AWARE);
		bool again = t->state == PB_TASK_UNREACHABLE && !by_operator;
		if (!ms_task_state_ended(t->state) && !again) {
			enum pb_task_state s = !pa           ? PB_TASK_LOST
			                       : by_operator ? PB_TASK_GONE_BY_OPERATOR
			                                     : PB_TASK_UNREACHABLE;
			enum pb_task_reason r = by_operator ? PB_REASON_AGENT_REMOVED_BY_OPERATOR
			                                    : PB_REASON_AGENT_REMOVED;
			const char *msg = by_operator ? "Agent was marked gone by an operator"
			                              : "Agent is unreachable";
			ms_task_master_transition(m, t, s, r, msg, true);
		}
		/* PARTITION_AWARE frameworks keep an unreachable task (GET_TASKS
		 * lists it in unreachable_tasks) until its agent comes back or
		 * is marked gone; other tasks are completed: the agent's
		 * updates will never be acknowledged now. */
		if (t->state != PB_TASK_UNREACHABLE)
			ms_task_remove(m, t);
	}
}
