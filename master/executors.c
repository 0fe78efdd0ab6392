/* executors.c: custom executors in the master (TaskInfo.executor). As in
 * Mesos, an executor's resources are allocated once per executor on an
 * agent, with the first task that names it, and held until the agent says
 * that the executor ended (EXECUTOR_EXITED), the agent is lost, or the
 * framework is removed; every later task of the executor on that agent
 * must carry the same ExecutorInfo. Scheduler MESSAGE and SHUTDOWN go to
 * the executor's agent; an executor's MESSAGE comes back as an event. */
#include "common/log.h"
#include "master/master.h"

#include <stdio.h>
#include <string.h>

/* Agents from version 0.2.0 on speak protocol version 2 (custom
 * executors). */
#define MS_AGENT_EXECUTORS_MINOR 2

struct ms_executor {
	char *agent_id, *id, *role;
	char *info; /* ExecutorInfo, normalized, as pb_json_dump() writes it */
	struct drf_resources *res;
};

static char *exec_key(const char *agent_id, const char *executor_id)
{
	/* Ids never hold '/' (pb_id_problem). */
	return ag_asprintf("%s/%s", agent_id, executor_id);
}

static void exec_free(struct ms_executor *e)
{
	if (!e)
		return;
	drf_resources_free(e->res);
	free(e->agent_id);
	free(e->id);
	free(e->role);
	free(e->info);
	free(e);
}

/* The first top-level field in which two ExecutorInfos differ. */
static const char *first_difference(const json_t *a, const json_t *b)
{
	const char *key;
	json_t *v;
	json_object_foreach ((json_t *)a, key, v)
		if (!json_equal(v, json_object_get(b, key)))
			return key;
	json_object_foreach ((json_t *)b, key, v)
		if (!json_object_get(a, key))
			return key;
	return "?";
}

int ms_executor_check(struct ms_master *m, struct ms_framework *fw, const char *agent_id,
                      const struct pb_task_info *ti, struct drf_resources **ret_new,
                      struct ag_error *err)
{
	*ret_new = NULL;
	if (!ti->executor_id)
		return 0;
	const json_t *ei = json_object_get(ti->json, "executor");
	const char *type = json_string_value(json_object_get(ei, "type"));
	const char *efw =
	        json_string_value(json_object_get(json_object_get(ei, "framework_id"), "value"));
	if (efw && strcmp(efw, fw->id) != 0)
		return ag_error_msg(err, EINVAL,
		                    "Task's executor.framework_id '%.255s' is not the framework's "
		                    "id %s",
		                    efw, fw->id);
	if (type && strcmp(type, "CUSTOM") != 0)
		return ag_error_msg(err, EINVAL,
		                    "Task's executor.type %s is not supported: a task of LAUNCH "
		                    "names a CUSTOM executor (DEFAULT is for LAUNCH_GROUP)",
		                    type);
	const json_t *cmd = json_object_get(ei, "command");
	if (!cmd || (!json_object_get(cmd, "value") && !json_object_get(ei, "container")))
		return ag_error_msg(err, EINVAL,
		                    "Task's executor.command.value is required: the executor's "
		                    "program");
	_cleanup_free_ char *key = exec_key(agent_id, ti->executor_id);
	struct ms_executor *e = ag_map_get(&fw->executors, key);
	if (e) {
		_cleanup_free_ char *text = pb_json_dump(ei, NULL);
		if (strcmp(text, e->info) == 0)
			return 0;
		json_t *old = json_loads(e->info, 0, NULL);
		int r = ag_error_msg(err, EINVAL,
		                     "Task's executor.%s differs from the ExecutorInfo of executor "
		                     "'%.255s' already on agent %.255s: every task of an executor "
		                     "must carry the same ExecutorInfo",
		                     first_difference(ei, old), ti->executor_id, agent_id);
		json_decref(old);
		return r;
	}
	const json_t *res = json_object_get(ei, "resources");
	if (!json_array_size(res))
		return 0; /* nothing to allocate */
	if (ms_resources_from_json(m, res, ret_new, err) < 0)
		return ag_error_wrap(err, "Task's executor.resources are invalid");
	return 0;
}

void ms_executor_add(struct ms_master *m, struct ms_framework *fw, const char *agent_id,
                     const struct pb_task_info *ti, const char *role, struct drf_resources *res)
{
	(void)m;
	if (!ti->executor_id) {
		drf_resources_free(res);
		return;
	}
	_cleanup_free_ char *key = exec_key(agent_id, ti->executor_id);
	if (ag_map_get(&fw->executors, key)) {
		drf_resources_free(res); /* NULL: checked the same */
		return;
	}
	struct ms_executor *e = ag_calloc(1, sizeof(*e));
	e->agent_id = ag_strdup(agent_id);
	e->id = ag_strdup(ti->executor_id);
	e->role = ag_strdup(role);
	e->info = pb_json_dump(json_object_get(ti->json, "executor"), NULL);
	e->res = res;
	ag_map_put(&fw->executors, key, e);
	ag_info("framework %s: executor %s on agent %s", fw->id, e->id, agent_id);
}

void ms_executor_adopt(struct ms_master *m, struct ms_framework *fw, struct ms_agent *agent,
                       const struct pb_task_info *ti, const char *role)
{
	if (!ti->executor_id)
		return;
	_cleanup_free_ char *key = exec_key(agent->id, ti->executor_id);
	if (ag_map_get(&fw->executors, key))
		return;
	const json_t *res = json_object_get(json_object_get(ti->json, "executor"), "resources");
	struct drf_resources *r = NULL;
	struct ag_error err = {0};
	if (json_array_size(res) && ms_resources_from_json(m, res, &r, &err) < 0) {
		ag_warn("agent %s: executor %s of framework %s: %s", agent->id, ti->executor_id,
		        fw->id, err.msg);
		r = NULL;
	}
	if (r && drf_allocation_add(m->alloc, fw->id, agent->id, role, r) < 0) {
		ag_warn("agent %s: executor %s of framework %s: its resources exceed the agent's",
		        agent->id, ti->executor_id, fw->id);
		drf_resources_free(r);
		r = NULL;
	}
	ms_executor_add(m, fw, agent->id, ti, role, r);
}

/* Give the executor's resources back to the allocator, and forget it. */
static void exec_remove(struct ms_master *m, struct ms_framework *fw, const char *key,
                        struct ms_executor *e)
{
	if (e->res) {
		int r = drf_resources_recover(m->alloc, fw->id, e->agent_id, e->role, e->res);
		if (r != -ENOENT)
			ms_alloc_check(r, "recover the resources of executor", e->id);
		ms_allocate_batched(m);
	}
	ag_map_del(&fw->executors, key);
	exec_free(e);
}

void ms_executor_exited(struct ms_master *m, struct ms_agent *agent, const struct pb_agent_msg *msg)
{
	const __typeof__(msg->executor_exited) *x = &msg->executor_exited;
	struct ms_framework *fw = ms_framework_find(m, x->framework_id);
	if (!fw)
		return;
	_cleanup_free_ char *key = exec_key(agent->id, x->executor_id);
	struct ms_executor *e = ag_map_get(&fw->executors, key);
	ag_info("framework %s: executor %s on agent %s exited%s", fw->id, x->executor_id, agent->id,
	        e ? "" : " (not known here)");
	if (e)
		exec_remove(m, fw, key, e);
	/* Mesos tells the scheduler with FAILURE (agent_id, executor_id,
	 * status). */
	json_t *f = json_pack("{s:o, s:o}", "agent_id", pb_id_to_json(agent->id), "executor_id",
	                      pb_id_to_json(x->executor_id));
	if (x->has_status)
		json_object_set_new(f, "status", json_integer(x->status));
	ms_framework_send(fw, json_pack("{s:s, s:o}", "type", "FAILURE", "failure", f));
}

void ms_executors_agent_lost(struct ms_master *m, struct ms_agent *agent)
{
	struct ag_map_iter fi;
	for (ag_map_iter_init(&fi); ag_map_iter_next(&m->frameworks, &fi);) {
		struct ms_framework *fw = fi.e->value;
		struct ag_map_iter it;
		for (ag_map_iter_init(&it); ag_map_iter_next(&fw->executors, &it);) {
			struct ms_executor *e = it.e->value;
			if (strcmp(e->agent_id, agent->id) == 0)
				exec_remove(m, fw, it.e->key, e);
		}
	}
}

void ms_executors_free(struct ms_framework *fw)
{
	struct ag_map_iter it;
	for (ag_map_iter_init(&it); ag_map_iter_next(&fw->executors, &it);)
		exec_free(it.e->value);
	ag_map_clear(&fw->executors);
}

size_t ms_executors_on_agent(struct ms_framework *fw, const char *agent_id)
{
	size_t n = 0;
	struct ag_map_iter it;
	for (ag_map_iter_init(&it); ag_map_iter_next(&fw->executors, &it);)
		n += strcmp(((struct ms_executor *)it.e->value)->agent_id, agent_id) == 0;
	return n;
}

/* The agent a scheduler's MESSAGE or SHUTDOWN goes to: NULL (with the
 * reason logged) when it is unknown or disconnected. Best effort, as in
 * Mesos: the call is answered 202 either way. */
static struct ms_agent *target(struct ms_master *m, struct ms_framework *fw, const char *call,
                               const char *agent_id, const char *executor_id)
{
	struct ms_agent *a = ag_map_get(&m->agents, agent_id);
	if (!a || !a->stream) {
		ag_warn("framework %s: %s for executor %s on agent %s: %s; dropped", fw->id, call,
		        executor_id, agent_id, a ? "the agent is disconnected" : "unknown agent");
		return NULL;
	}
	/* An agent older than protocol version 2 would take the record for
	 * a bad stream and register again (docs/agent-protocol.md). */
	unsigned major = 0, minor = 0;
	if (a->version && sscanf(a->version, "%u.%u", &major, &minor) == 2 && major == 0 &&
	    minor < MS_AGENT_EXECUTORS_MINOR) {
		ag_warn("framework %s: %s for executor %s on agent %s: the agent (version %s) "
		        "runs no custom executors; dropped",
		        fw->id, call, executor_id, agent_id, a->version);
		return NULL;
	}
	return a;
}

void ms_executor_message(struct ms_master *m, struct ms_framework *fw, const struct pb_call *call)
{
	struct ms_agent *a =
	        target(m, fw, "MESSAGE", call->message.agent_id, call->message.executor_id);
	if (!a)
		return;
	_cleanup_free_ char *data =
	        pb_base64_encode(call->message.data.data ? call->message.data.data : (void *)"",
	                         call->message.data.len);
	ms_agent_send(a, json_pack("{s:s, s:{s:o, s:o, s:s}}", "type", "FRAMEWORK_MESSAGE",
	                           "framework_message", "framework_id", pb_id_to_json(fw->id),
	                           "executor_id", pb_id_to_json(call->message.executor_id), "data",
	                           data));
}

void ms_executor_shutdown(struct ms_master *m, struct ms_framework *fw, const struct pb_call *call)
{
	struct ms_agent *a =
	        target(m, fw, "SHUTDOWN", call->shutdown.agent_id, call->shutdown.executor_id);
	if (!a)
		return;
	ag_info("framework %s: SHUTDOWN of executor %s on agent %s", fw->id,
	        call->shutdown.executor_id, a->id);
	ms_agent_send(a, json_pack("{s:s, s:{s:o, s:o}}", "type", "SHUTDOWN_EXECUTOR",
	                           "shutdown_executor", "framework_id", pb_id_to_json(fw->id),
	                           "executor_id", pb_id_to_json(call->shutdown.executor_id)));
}

void ms_executor_message_from_agent(struct ms_master *m, struct ms_agent *agent,
                                    const struct pb_agent_msg *msg)
{
	const __typeof__(msg->executor_message) *x = &msg->executor_message;
	struct ms_framework *fw = ms_framework_find(m, x->framework_id);
	if (!fw || !fw->stream) {
		ag_debug("executor %s on agent %s: MESSAGE for framework %s, %s: dropped",
		         x->executor_id, agent->id, x->framework_id,
		         fw ? "disconnected" : "unknown");
		return;
	}
	_cleanup_free_ char *data =
	        pb_base64_encode(x->data.data ? x->data.data : (void *)"", x->data.len);
	ms_framework_send(fw, json_pack("{s:s, s:{s:o, s:o, s:s}}", "type", "MESSAGE", "message",
	                                "agent_id", pb_id_to_json(agent->id), "executor_id",
	                                pb_id_to_json(x->executor_id), "data", data));
}
