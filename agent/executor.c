/* executor.c: custom executors on the agent (executor.h,
 * docs/executor-api.md): their containers, POST /api/v1/executor, and the
 * events the agent sends them. Every event is written with jansson. */
#include "agent/executor.h"
#include "common/log.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <string.h>

/* The containerizer's task id of an executor's container: user task ids
 * never hold '/' (pb_id_problem), so none is taken for one. */
#define CTZ_PREFIX "executor/"

enum exec_state {
	EXEC_REGISTERING,  /* launched; waiting for its first SUBSCRIBE */
	EXEC_SUBSCRIBED,   /* its stream is open */
	EXEC_DISCONNECTED, /* its stream closed; it may subscribe again */
	EXEC_RECOVERING,   /* the agent restarted; waiting for its SUBSCRIBE */
	EXEC_TERMINATING,  /* SHUTDOWN sent or killed; its container ends */
};

static const char *const state_names[] = {"registering", "subscribed", "disconnected", "recovering",
                                          "terminating"};

struct agent_exec {
	struct agent *a;
	char *key; /* "framework_id/executor_id" */
	char *fw, *id;
	char *ctz_id; /* CTZ_PREFIX + id */
	char *role;
	json_t *info;    /* ExecutorInfo, normalized */
	json_t *fw_info; /* FrameworkInfo, with its id */
	char *container_id;
	enum exec_state state;
	/* Why the agent ended it (its tasks' reason); UNSET: it exited. */
	enum pb_task_reason end_reason;
	struct evhttp_request *stream;
	struct evhttp_connection *conn;
	struct event *timer;   /* (re)registration timeout, or the shutdown's grace */
	struct event *hb;      /* HEARTBEAT on the stream */
	json_t *pending_kills; /* task ids KILLed while it was not subscribed */
};

#define EXEC_HEARTBEAT_S 15

static int64_t ms_or(int64_t v, int64_t dflt)
{
	return v > 0 ? v : dflt;
}

static const char *json_id(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(json_object_get(o, key), "value"));
}

/* ---- the executors kept in the database ------------------------------- */

/* meta "executors": [{"framework_info":…, "executor_info":…}, …]. Written
 * whole at every change (an agent has few executors). */
static int save(struct agent *a)
{
	json_t *arr = json_array();
	struct ag_map_iter it;
	for (ag_map_iter_init(&it); ag_map_iter_next(&a->executors, &it);) {
		struct agent_exec *e = it.e->value;
		json_array_append_new(arr, json_pack("{s:O, s:O}", "framework_info", e->fw_info,
		                                     "executor_info", e->info));
	}
	_cleanup_free_ char *text = pb_json_dump(arr, NULL);
	json_decref(arr);
	int r = ctz_upd_meta_set(a->upd, "executors", text);
	if (r < 0)
		ag_err("record the executors in the agent's database: %s", strerror(-r));
	return r;
}

static struct agent_exec *find(struct agent *a, const char *fw, const char *id)
{
	if (!fw || !id)
		return NULL;
	_cleanup_free_ char *key = ag_asprintf("%s/%s", fw, id);
	return ag_map_get(&a->executors, key);
}

static struct agent_exec *exec_new(struct agent *a, const json_t *fw_info, const json_t *info)
{
	struct agent_exec *e = ag_calloc(1, sizeof(*e));
	e->a = a;
	e->fw = ag_strdup(json_id(fw_info, "id"));
	e->id = ag_strdup(json_id(info, "executor_id"));
	e->key = ag_asprintf("%s/%s", e->fw, e->id);
	e->ctz_id = ag_asprintf(CTZ_PREFIX "%s", e->id);
	e->info = json_deep_copy(info);
	e->fw_info = json_deep_copy(fw_info);
	e->pending_kills = json_array();
	const json_t *roles = json_object_get(fw_info, "roles");
	const char *role = json_string_value(json_array_get(roles, 0));
	if (!role)
		role = json_string_value(json_object_get(fw_info, "role"));
	e->role = ag_strdup(role ? role : "*");
	ag_map_put(&a->executors, e->key, e);
	return e;
}

static void stream_end(struct agent_exec *e)
{
	if (e->hb)
		evtimer_del(e->hb);
	if (!e->stream)
		return;
	evhttp_connection_set_closecb(e->conn, NULL, NULL);
	evhttp_send_reply_end(e->stream);
	e->stream = NULL;
	e->conn = NULL;
}

static void exec_free(struct agent_exec *e)
{
	stream_end(e);
	if (e->timer)
		event_free(e->timer);
	if (e->hb)
		event_free(e->hb);
	json_decref(e->info);
	json_decref(e->fw_info);
	json_decref(e->pending_kills);
	free(e->key);
	free(e->fw);
	free(e->id);
	free(e->ctz_id);
	free(e->role);
	free(e->container_id);
	free(e);
}

static void exec_forget(struct agent_exec *e)
{
	struct agent *a = e->a;
	ag_map_del(&a->executors, e->key);
	exec_free(e);
	AG_IGNORE_RESULT(save(a)); /* logged; a restarted agent finds no container */
}

/* ---- its tasks -------------------------------------------------------- */

bool agent_exec_task_json_has_executor(const char *task_json)
{
	/* Cheap first: most tasks have no such text at all. A label's value
	 * could hold it, so the tree decides. */
	if (!task_json || !strstr(task_json, "\"executor\":{"))
		return false;
	json_t *task = json_loads(task_json, 0, NULL);
	bool has = json_is_object(json_object_get(task, "executor"));
	json_decref(task);
	return has;
}

struct task_walk {
	struct agent_exec *e;
	void (*fn)(struct agent_exec *e, const struct ctz_upd_task_view *t, json_t *task,
	           void *ctx);
	void *ctx;
};

static void walk_one(void *ctx, const struct ctz_upd_task_view *t)
{
	struct task_walk *w = ctx;
	if (strcmp(t->framework_id, w->e->fw) != 0 || !t->task_json ||
	    !strstr(t->task_json, "\"executor\":{"))
		return;
	json_t *task = json_loads(t->task_json, 0, NULL);
	const char *eid = json_id(json_object_get(task, "executor"), "executor_id");
	if (eid && strcmp(eid, w->e->id) == 0)
		w->fn(w->e, t, task, w->ctx);
	json_decref(task);
}

/* Call fn for each task of the executor the agent keeps. */
static void tasks_of(struct agent_exec *e,
                     void (*fn)(struct agent_exec *e, const struct ctz_upd_task_view *t,
                                json_t *task, void *ctx),
                     void *ctx)
{
	struct task_walk w = {e, fn, ctx};
	ctz_upd_task_foreach(e->a->upd, walk_one, &w);
}

struct task_find {
	const char *task_id;
	bool found;
	enum pb_task_state state;
};

static void match_task(struct agent_exec *e, const struct ctz_upd_task_view *t, json_t *task,
                       void *ctx)
{
	(void)e;
	(void)task;
	struct task_find *f = ctx;
	if (strcmp(t->task_id, f->task_id) == 0) {
		f->found = true;
		f->state = t->state;
	}
}

/* The executor of a known task (NULL: unknown task, or not an executor's);
 * *ret_state (may be NULL) its state. */
static struct agent_exec *exec_of_task(struct agent *a, const char *fw, const char *task_id,
                                       enum pb_task_state *ret_state)
{
	if (!ctz_upd_task_known(a->upd, fw, task_id))
		return NULL;
	struct ag_map_iter it;
	for (ag_map_iter_init(&it); ag_map_iter_next(&a->executors, &it);) {
		struct agent_exec *e = it.e->value;
		if (strcmp(e->fw, fw) != 0)
			continue;
		struct task_find f = {task_id, false, PB_TASK_STATE_UNSET};
		tasks_of(e, match_task, &f);
		if (f.found) {
			if (ret_state)
				*ret_state = f.state;
			return e;
		}
	}
	return NULL;
}

/* ---- limits: the executor's resources and its running tasks' ----------- */

static void add_resources(struct ctz_ts_limits *lim, const json_t *res)
{
	size_t i;
	json_t *r;
	json_array_foreach (res, i, r) {
		const char *name = json_string_value(json_object_get(r, "name"));
		double v =
		        json_number_value(json_object_get(json_object_get(r, "scalar"), "value"));
		if (!name || v <= 0)
			continue;
		if (strcmp(name, "cpus") == 0)
			lim->cpus += v;
		else if (strcmp(name, "mem") == 0)
			lim->mem_bytes += (uint64_t)(v * (double)CTZ_MIB);
	}
}

struct sum {
	struct ctz_ts_limits *lim;
	size_t tasks;
	const char *plus; /* a task not recorded as running yet: counted */
};

static void add_task(struct agent_exec *e, const struct ctz_upd_task_view *t, json_t *task,
                     void *ctx)
{
	(void)e;
	struct sum *s = ctx;
	if (pb_task_state_is_terminal(t->state))
		return;
	add_resources(s->lim, json_object_get(task, "resources"));
	s->tasks++;
}

static void limits_now(struct agent_exec *e, struct ctz_ts_limits *lim, size_t *ret_tasks)
{
	struct agent *a = e->a;
	*lim = (struct ctz_ts_limits){.pids_max = a->task_pids_max > 0 ? (uint64_t)a->task_pids_max
	                                                               : CTZ_TS_DEFAULT_PIDS_MAX};
	add_resources(lim, json_object_get(e->info, "resources"));
	struct sum s = {lim, 0, NULL};
	tasks_of(e, add_task, &s);
	if (ret_tasks)
		*ret_tasks = s.tasks;
}

/* The executor's container follows its running tasks (cgroupv2: cpu.max,
 * cpu.weight, memory.max). */
static void resize(struct agent_exec *e)
{
	struct ctz_ts_limits lim;
	size_t n;
	limits_now(e, &lim, &n);
	struct ag_error err = {0};
	if (ctz_set_limits(e->a->ctz, e->fw, e->ctz_id, &lim, &err) < 0)
		ag_warn("executor `%s` of framework `%s`: set its container's limits: %s", e->id,
		        e->fw, err.msg);
	else
		ag_info("executor `%s` of framework `%s`: container limits cpus %.3f mem %" PRIu64
		        " MiB (the executor and %zu running tasks)",
		        e->id, e->fw, lim.cpus, (uint64_t)(lim.mem_bytes / CTZ_MIB), n);
}

/* ---- events ----------------------------------------------------------- */

static void send_event(struct agent_exec *e, json_t *ev)
{
	if (!e->stream) {
		json_decref(ev);
		return;
	}
	size_t n, fl;
	_cleanup_free_ char *text = pb_json_dump(ev, &n);
	json_decref(ev);
	_cleanup_free_ char *frame = pb_recordio_frame(text, n, &fl);
	struct evbuffer *b = evbuffer_new();
	evbuffer_add(b, frame, fl);
	evhttp_send_reply_chunk(e->stream, b);
	evbuffer_free(b);
}

/* {"type":"X","x":payload}; payload stolen, may be NULL. */
static json_t *event(const char *type, const char *key, json_t *payload)
{
	json_t *ev = json_pack("{s:s}", "type", type);
	if (payload)
		json_object_set_new(ev, key, payload);
	return ev;
}

static void send_launch(struct agent_exec *e, const json_t *task)
{
	ag_info("executor `%s` of framework `%s`: LAUNCH task `%s`", e->id, e->fw,
	        json_id(task, "task_id"));
	send_event(e, event("LAUNCH", "launch", json_pack("{s:O}", "task", task)));
}

/* KILL, with the kill_policy of the KILL_TASK when it had one (grace_ns
 * >= 0). */
static void send_kill(struct agent_exec *e, const char *task_id, int64_t grace_ns)
{
	ag_info("executor `%s` of framework `%s`: KILL task `%s`", e->id, e->fw, task_id);
	json_t *k = json_pack("{s:o}", "task_id", pb_id_to_json(task_id));
	if (grace_ns >= 0)
		json_object_set_new(k, "kill_policy",
		                    json_pack("{s:o}", "grace_period", pb_time_to_json(grace_ns)));
	send_event(e, event("KILL", "kill", k));
}

static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	send_event(arg, event("HEARTBEAT", NULL, NULL));
}

/* ---- ending ----------------------------------------------------------- */

static void kill_container(struct agent_exec *e, int64_t grace_ms)
{
	int r = ctz_kill(e->a->ctz, e->fw, e->ctz_id, grace_ms);
	if (r < 0 && r != -ENOENT)
		ag_warn("executor `%s` of framework `%s`: kill its container: %s", e->id, e->fw,
		        strerror(-r));
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct agent_exec *e = arg;
	switch (e->state) {
	case EXEC_REGISTERING:
		ag_warn("executor `%s` of framework `%s`: did not SUBSCRIBE within %.0f s: shut "
		        "down",
		        e->id, e->fw,
		        (double)ms_or(e->a->exec_registration_timeout_ms,
		                      AGENT_EXEC_REGISTRATION_TIMEOUT_MS) /
		                1000);
		e->end_reason = PB_REASON_EXECUTOR_REGISTRATION_TIMEOUT;
		break;
	case EXEC_RECOVERING:
		ag_warn("executor `%s` of framework `%s`: did not SUBSCRIBE again within %.0f s "
		        "of the agent's restart: shut down",
		        e->id, e->fw,
		        (double)ms_or(e->a->exec_reregistration_timeout_ms,
		                      AGENT_EXEC_REREGISTRATION_TIMEOUT_MS) /
		                1000);
		e->end_reason = PB_REASON_EXECUTOR_REREGISTRATION_TIMEOUT;
		break;
	case EXEC_TERMINATING:
		ag_info("executor `%s` of framework `%s`: its shutdown grace period ran out: "
		        "killed",
		        e->id, e->fw);
		break;
	default:
		return;
	}
	e->state = EXEC_TERMINATING;
	stream_end(e);
	kill_container(e, 0);
}

static void arm(struct agent_exec *e, int64_t ms)
{
	if (!e->timer)
		e->timer = evtimer_new(e->a->base, on_timer, e);
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	evtimer_add(e->timer, &tv);
}

static int64_t grace_ms(struct agent_exec *e)
{
	const json_t *ns =
	        json_object_get(json_object_get(e->info, "shutdown_grace_period"), "nanoseconds");
	int64_t v = -1;
	if (json_is_integer(ns))
		v = json_integer_value(ns);
	else if (json_is_string(ns) && ag_parse_i64(json_string_value(ns), &v) < 0)
		v = -1;
	if (v >= 0)
		return v / 1000000;
	return e->a->has_shutdown_grace ? e->a->shutdown_grace_ms : AGENT_SHUTDOWN_GRACE_MS;
}

/* SHUTDOWN to a subscribed executor, its container killed when the grace
 * period ends; killed at once otherwise. */
static void shutdown_exec(struct agent_exec *e, const char *why)
{
	if (e->state == EXEC_TERMINATING)
		return;
	ag_info("executor `%s` of framework `%s`: shut down (%s)", e->id, e->fw, why);
	if (e->stream) {
		send_event(e, event("SHUTDOWN", NULL, NULL));
		e->state = EXEC_TERMINATING;
		arm(e, grace_ms(e));
		return;
	}
	e->state = EXEC_TERMINATING;
	if (e->timer)
		evtimer_del(e->timer);
	kill_container(e, 0);
}

struct end_ctx {
	const char *state, *reason;
	char *message;
	size_t n;
};

static void end_task(struct agent_exec *e, const struct ctz_upd_task_view *t, json_t *task,
                     void *ctx)
{
	(void)task;
	struct end_ctx *c = ctx;
	if (pb_task_state_is_terminal(t->state))
		return;
	c->n++;
	agent_task_update(e->a, e->fw, t->task_id, c->state, c->reason, c->message);
}

/* The executor's container ended: what it did not end of its tasks ends
 * TASK_LOST (TASK_GONE for a PARTITION_AWARE framework), as Mesos's agent
 * does for a custom executor; the master hears EXECUTOR_EXITED. */
static void exec_ended(struct agent_exec *e, const struct ctz_update *u)
{
	struct agent *a = e->a;
	bool pa = false;
	size_t i;
	json_t *cap;
	json_array_foreach (json_object_get(e->fw_info, "capabilities"), i, cap) {
		const char *type = json_string_value(json_object_get(cap, "type"));
		pa |= type && strcmp(type, "PARTITION_AWARE") == 0;
	}
	enum pb_task_reason reason =
	        e->end_reason != PB_REASON_UNSET ? e->end_reason : PB_REASON_EXECUTOR_TERMINATED;
	struct end_ctx c = {pa ? "TASK_GONE" : "TASK_LOST", pb_task_reason_name(reason), NULL, 0};
	if (u && u->reason == PB_REASON_CONTAINER_LAUNCH_FAILED) {
		/* it never ran: as a task whose container could not start */
		c.state = "TASK_FAILED";
		c.reason = pb_task_reason_name(PB_REASON_CONTAINER_LAUNCH_FAILED);
	}
	if (u && u->has_exit_status)
		c.message =
		        ag_asprintf("Executor terminated (%s %d)%s%s",
		                    u->exit_status > 128 ? "signal" : "exit status",
		                    u->exit_status > 128 ? u->exit_status - 128 : u->exit_status,
		                    u->message ? ": " : "", u->message ? u->message : "");
	else
		c.message = ag_asprintf("Executor terminated%s%s", u && u->message ? ": " : "",
		                        u && u->message ? u->message : "");
	tasks_of(e, end_task, &c);
	ag_info("executor `%s` of framework `%s` ended (%s): %zu of its tasks end %s (%s)", e->id,
	        e->fw, c.message, c.n, c.state, c.reason);
	free(c.message);
	/* Best effort, as Mesos's ExitedExecutorMessage: the master frees the
	 * executor's resources and tells the framework (FAILURE). */
	if (a->agent_id && a->link && agent_ml_registered(a->link)) {
		json_t *x = json_pack("{s:o, s:o}", "framework_id", pb_id_to_json(e->fw),
		                      "executor_id", pb_id_to_json(e->id));
		if (u && u->has_exit_status)
			json_object_set_new(x, "status",
			                    json_integer(u->exit_status > 128
			                                         ? u->exit_status - 128
			                                         : u->exit_status << 8));
		json_t *m = json_pack("{s:s, s:o, s:o}", "type", "EXECUTOR_EXITED", "agent_id",
		                      pb_id_to_json(a->agent_id), "executor_exited", x);
		_cleanup_free_ char *body = pb_json_dump(m, NULL);
		json_decref(m);
		AG_IGNORE_RESULT(agent_ml_post(a->link, body));
	}
	exec_forget(e);
	agent_updates_soon(a);
}

bool agent_exec_on_container(struct agent *a, const struct ctz_update *u)
{
	if (strncmp(u->task_id, CTZ_PREFIX, strlen(CTZ_PREFIX)) != 0)
		return false;
	const char *id = u->task_id + strlen(CTZ_PREFIX);
	struct agent_exec *e = find(a, u->framework_id, id);
	if (!e) {
		ag_debug("executor `%s` of framework `%s`: %s of a container no longer kept", id,
		         u->framework_id, pb_task_state_name(u->state));
		return true;
	}
	if (u->container_id && (!e->container_id || strcmp(e->container_id, u->container_id))) {
		free(e->container_id);
		e->container_id = ag_strdup(u->container_id);
	}
	if (pb_task_state_is_terminal(u->state))
		exec_ended(e, u);
	else
		ag_debug("executor `%s` of framework `%s`: container %s %s", id, u->framework_id,
		         u->container_id ? u->container_id : "?", pb_task_state_name(u->state));
	return true;
}

/* ---- launch ----------------------------------------------------------- */

static char *env(const char *k, const char *v)
{
	return ag_asprintf("%s=%s", k, v);
}

/* Launch the executor's container, sized for it and its first task. */
static int launch(struct agent_exec *e, const struct pb_framework_info *fi, struct ag_error *err)
{
	struct agent *a = e->a;
	if (a->port <= 0)
		return ag_error_msg(err, EOPNOTSUPP,
		                    "executor: not supported by this agent: it serves no HTTP API "
		                    "(start it with --port) for the executor to subscribe to");
	/* The ExecutorInfo as a TaskInfo, for the policy and the launch: the
	 * same checks as a task's command or container. */
	const char *name = json_string_value(json_object_get(e->info, "name"));
	json_t *res = json_object_get(e->info, "resources");
	json_t *as_task = json_pack("{s:s, s:o, s:o, s:o}", "name", name ? name : e->id, "task_id",
	                            pb_id_to_json(e->id), "agent_id",
	                            pb_id_to_json(a->agent_id ? a->agent_id : "-"), "resources",
	                            res ? json_incref(res) : json_array());
	static const char *const copied[] = {"command", "container"};
	for (size_t i = 0; i < AG_ARRAY_SIZE(copied); i++)
		if (json_object_get(e->info, copied[i]))
			json_object_set(as_task, copied[i], json_object_get(e->info, copied[i]));
	struct pb_arena *arena = pb_arena_new();
	struct pb_task_info ti;
	int r = pb_task_info_decode(arena, as_task, "executor", &ti, err);
	json_decref(as_task);
	if (r < 0) {
		pb_arena_free(arena);
		return r;
	}
	const char *ip = a->ip && strcmp(a->ip, "0.0.0.0") != 0 ? a->ip : "127.0.0.1";
	char *vars[] = {
	        env("MESOS_FRAMEWORK_ID", e->fw),
	        env("MESOS_EXECUTOR_ID", e->id),
	        env("MESOS_DIRECTORY", CTZ_TS_SANDBOX_PATH),
	        env("MESOS_SANDBOX", CTZ_TS_SANDBOX_PATH),
	        ag_asprintf("MESOS_AGENT_ENDPOINT=%s:%d", ip, a->port),
	        env("MESOS_CHECKPOINT", fi->checkpoint ? "1" : "0"),
	        ag_asprintf("MESOS_RECOVERY_TIMEOUT=%" PRId64 "ms",
	                    ms_or(a->recovery_timeout_ms, AGENT_EXEC_RECOVERY_TIMEOUT_MS)),
	        env("MESOS_SUBSCRIPTION_BACKOFF_MAX", AGENT_EXEC_SUBSCRIPTION_BACKOFF_MAX),
	        ag_asprintf("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD=%" PRId64 "ms", grace_ms(e)),
	        a->agent_id ? env("MESOS_AGENT_ID", a->agent_id) : ag_strdup("MESOS_AGENT_ID="),
	        NULL,
	};
	struct ctz_ts_limits lim;
	limits_now(e, &lim, NULL);
	/* A container that fails to start is reported ended from inside the
	 * launch, and its executor forgotten (freed): what the log needs is
	 * copied first, and `e` is not used after. */
	_cleanup_free_ char *key = ag_strdup(e->key), *id = ag_strdup(e->id),
	                    *fw = ag_strdup(e->fw);
	r = agent_launch(a, fi, e->role, e->ctz_id, ti.json, ti.command, ti.container, &lim,
	                 (const char *const *)vars, err);
	for (size_t i = 0; vars[i]; i++)
		free(vars[i]);
	pb_arena_free(arena);
	if (r == 0 && ag_map_get(&a->executors, key))
		ag_info("executor `%s` of framework `%s`: container launched (cpus %.3f mem "
		        "%" PRIu64 " MiB); it has %.0f s to SUBSCRIBE",
		        id, fw, lim.cpus, (uint64_t)(lim.mem_bytes / CTZ_MIB),
		        (double)ms_or(a->exec_registration_timeout_ms,
		                      AGENT_EXEC_REGISTRATION_TIMEOUT_MS) /
		                1000);
	return r;
}

void agent_exec_run_task(struct agent *a, const struct pb_framework_info *fi,
                         const struct pb_task_info *t)
{
	const json_t *info = json_object_get(t->json, "executor");
	struct agent_exec *e = find(a, fi->id, t->executor_id);
	struct ag_error err = {0};
	const char *bad = NULL;
	if (e && !json_equal(e->info, info)) {
		const char *key;
		json_t *v;
		json_object_foreach ((json_t *)info, key, v)
			if (!bad && !json_equal(v, json_object_get(e->info, key)))
				bad = key;
		json_object_foreach (e->info, key, v)
			if (!bad && !json_object_get(info, key))
				bad = key;
		_cleanup_free_ char *msg = ag_asprintf(
		        "task.executor.%s: differs from the ExecutorInfo of the running executor "
		        "`%s`",
		        bad ? bad : "?", t->executor_id);
		agent_task_update(a, fi->id, t->task_id, "TASK_ERROR", "REASON_TASK_INVALID", msg);
		return;
	}
	if (e && e->state == EXEC_TERMINATING) {
		agent_task_update(a, fi->id, t->task_id, "TASK_LOST", "REASON_EXECUTOR_TERMINATED",
		                  "its executor is shutting down");
		return;
	}
	if (!e) {
		const char *type = json_string_value(json_object_get(info, "type"));
		if (type && strcmp(type, "CUSTOM") != 0) {
			_cleanup_free_ char *msg = ag_asprintf(
			        "task.executor.type: %s executors are not supported yet (CUSTOM "
			        "only)",
			        type);
			agent_task_update(a, fi->id, t->task_id, "TASK_ERROR",
			                  "REASON_TASK_INVALID", msg);
			return;
		}
		json_t *fwj = pb_framework_info_to_json(fi);
		e = exec_new(a, fwj, info);
		json_decref(fwj);
		/* Recorded before its container exists: a restarted agent
		 * knows what to look for. */
		int r = save(a);
		_cleanup_free_ char *key = ag_strdup(e->key);
		if (r < 0)
			ag_error_msg(
			        &err, -r,
			        "the agent cannot record the executor (%s): it was not launched",
			        strerror(-r));
		else
			r = launch(e, fi, &err);
		/* A launch that failed once recorded was reported ended (and
		 * the executor forgotten, its task ended) from inside it. */
		if (r == 0 && !ag_map_get(&a->executors, key))
			return;
		if (r < 0) {
			_cleanup_free_ char *msg =
			        ag_asprintf("cannot launch executor `%s`: %s", e->id, err.msg);
			/* The container (if any) is gone: forget it. */
			exec_forget(e);
			agent_task_update(a, fi->id, t->task_id, "TASK_ERROR",
			                  "REASON_TASK_INVALID", msg);
			return;
		}
		e->state = EXEC_REGISTERING;
		arm(e, ms_or(a->exec_registration_timeout_ms, AGENT_EXEC_REGISTRATION_TIMEOUT_MS));
		return; /* LAUNCH goes at its SUBSCRIBE */
	}
	resize(e);
	if (e->state == EXEC_SUBSCRIBED)
		send_launch(e, t->json);
	else
		ag_info("executor `%s` of framework `%s`: task `%s` queued until it subscribes "
		        "(%s)",
		        e->id, e->fw, t->task_id, state_names[e->state]);
}

/* ---- from the master -------------------------------------------------- */

bool agent_exec_kill_task(struct agent *a, const char *fw, const char *task_id, int64_t grace_ns)
{
	enum pb_task_state st;
	struct agent_exec *e = exec_of_task(a, fw, task_id, &st);
	if (!e)
		return false;
	if (pb_task_state_is_terminal(st)) {
		ag_info("task `%s` of framework `%s`: KILL_TASK of an ended task: nothing to do",
		        task_id, fw);
	} else if (e->state == EXEC_SUBSCRIBED) {
		send_kill(e, task_id, grace_ns);
	} else if (st == PB_TASK_STAGING && e->state == EXEC_REGISTERING) {
		/* Never given to the executor: killed here, as Mesos does
		 * with a queued task. */
		agent_task_update(a, fw, task_id, "TASK_KILLED", NULL,
		                  "Killed before delivery to the executor");
		resize(e);
	} else {
		ag_info("task `%s` of framework `%s`: KILL_TASK while executor `%s` is %s: sent "
		        "when it subscribes",
		        task_id, fw, e->id, state_names[e->state]);
		json_array_append_new(e->pending_kills, json_string(task_id));
	}
	return true;
}

struct agent_exec *agent_exec_owner(struct agent *a, const char *fw, const char *task_id)
{
	return a->executors.size ? exec_of_task(a, fw, task_id, NULL) : NULL;
}

void agent_exec_acknowledged(struct agent_exec *e, const char *task_id, const uint8_t *uuid,
                             size_t len)
{
	if (!e || !e->stream)
		return; /* it resends the update at its SUBSCRIBE, and hears then */
	_cleanup_free_ char *b64 = pb_base64_encode(uuid, len);
	send_event(e,
	           event("ACKNOWLEDGED", "acknowledged",
	                 json_pack("{s:o, s:s}", "task_id", pb_id_to_json(task_id), "uuid", b64)));
}

void agent_exec_framework_message(struct agent *a, const struct pb_agent_msg *m)
{
	const __typeof__(m->executor_message) *x = &m->executor_message;
	struct agent_exec *e = find(a, x->framework_id, x->executor_id);
	if (!e || !e->stream) {
		ag_warn("MESSAGE for executor `%s` of framework `%s`: %s; dropped (messages are "
		        "best effort)",
		        x->executor_id, x->framework_id,
		        e ? "it is not subscribed" : "no such executor");
		return;
	}
	_cleanup_free_ char *b64 =
	        pb_base64_encode(x->data.data ? x->data.data : (const uint8_t *)"", x->data.len);
	send_event(e, event("MESSAGE", "message", json_pack("{s:s}", "data", b64)));
}

void agent_exec_shutdown(struct agent *a, const char *fw, const char *executor_id)
{
	struct agent_exec *e = find(a, fw, executor_id);
	if (!e) {
		ag_info("SHUTDOWN_EXECUTOR: no executor `%s` of framework `%s` here", executor_id,
		        fw);
		return;
	}
	shutdown_exec(e, "SHUTDOWN by its framework");
}

void agent_exec_shutdown_framework(struct agent *a, const char *fw)
{
	struct ag_map_iter it;
	for (ag_map_iter_init(&it); ag_map_iter_next(&a->executors, &it);) {
		struct agent_exec *e = it.e->value;
		if (strcmp(e->fw, fw) == 0)
			shutdown_exec(e, "its framework was shut down");
	}
}

/* ---- recovery --------------------------------------------------------- */

int agent_exec_load(struct agent *a, struct ag_error *err)
{
	_cleanup_free_ char *text = NULL;
	int r = ctz_upd_meta_get(a->upd, "executors", &text);
	if (r < 0)
		return ag_error_set(err, -r, "read the executors kept in the agent's database");
	if (!text)
		return 0;
	json_t *arr = json_loads(text, 0, NULL);
	size_t i;
	json_t *x;
	json_array_foreach (arr, i, x) {
		json_t *fi = json_object_get(x, "framework_info");
		json_t *ei = json_object_get(x, "executor_info");
		if (!json_id(fi, "id") || !json_id(ei, "executor_id"))
			continue;
		struct agent_exec *e = exec_new(a, fi, ei);
		e->state = EXEC_RECOVERING;
	}
	json_decref(arr);
	return 0;
}

static void end_orphan(void *ctx, const struct ctz_upd_task_view *t)
{
	struct agent *a = ctx;
	if (pb_task_state_is_terminal(t->state) || !agent_exec_task_json_has_executor(t->task_json))
		return;
	json_t *task = json_loads(t->task_json, 0, NULL);
	const char *eid = json_id(json_object_get(task, "executor"), "executor_id");
	if (eid && !find(a, t->framework_id, eid))
		agent_task_update(a, t->framework_id, t->task_id, "TASK_LOST",
		                  "REASON_EXECUTOR_TERMINATED",
		                  "its executor is no longer known to the agent");
	json_decref(task);
}

void agent_exec_recover(struct agent *a)
{
	struct ag_map_iter it;
	for (ag_map_iter_init(&it); ag_map_iter_next(&a->executors, &it);) {
		struct agent_exec *e = it.e->value;
		if (!ctz_sandbox_of(a->ctz, e->fw, e->ctz_id)) {
			/* The agent died between recording it and launching it. */
			e->end_reason = PB_REASON_AGENT_RESTARTED;
			exec_ended(e, NULL);
			continue;
		}
		int64_t ms = ms_or(a->exec_reregistration_timeout_ms,
		                   AGENT_EXEC_REREGISTRATION_TIMEOUT_MS);
		ag_info("executor `%s` of framework `%s`: recovered; it has %.1f s to SUBSCRIBE "
		        "again",
		        e->id, e->fw, (double)ms / 1000);
		arm(e, ms);
	}
	/* Tasks of an executor the agent no longer keeps (its record lost
	 * with a failed write): they end, they do not wait forever. enqueue
	 * changes only a task's state during the walk. */
	ctz_upd_task_foreach(a->upd, end_orphan, a);
}

void agent_exec_fini(struct agent *a)
{
	struct ag_map_iter it;
	for (ag_map_iter_init(&it); ag_map_iter_next(&a->executors, &it);)
		exec_free(it.e->value);
	ag_map_clear(&a->executors);
}

/* ---- POST /api/v1/executor -------------------------------------------- */

static void reply_text(struct evhttp_request *req, int code, const char *reason, const char *fmt,
                       ...) AG_PRINTF(4, 5);
static void reply_text(struct evhttp_request *req, int code, const char *reason, const char *fmt,
                       ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	struct evbuffer *b = evbuffer_new();
	if (msg)
		evbuffer_add(b, msg, strlen(msg));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain");
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
	free(msg);
}

static void on_stream_closed(struct evhttp_connection *conn, void *arg)
{
	(void)conn;
	struct agent_exec *e = arg;
	e->stream = NULL;
	e->conn = NULL;
	if (e->hb)
		evtimer_del(e->hb);
	if (e->state == EXEC_SUBSCRIBED) {
		e->state = EXEC_DISCONNECTED;
		ag_info("executor `%s` of framework `%s`: its stream closed; it may subscribe "
		        "again",
		        e->id, e->fw);
	}
}

struct launch_ctx {
	const struct pb_executor_call *call;
	size_t n;
};

/* LAUNCH each task the executor was not given yet: those without any
 * update (TASK_STAGING) that it does not list as unacknowledged. Mesos's
 * agent fails such tasks after its own restart (REASON_AGENT_RESTARTED);
 * agora recorded them before sending them, and sends them again: nothing
 * launched to an executor is lost. */
static void launch_missing(struct agent_exec *e, const struct ctz_upd_task_view *t, json_t *task,
                           void *ctx)
{
	struct launch_ctx *c = ctx;
	if (t->state != PB_TASK_STAGING)
		return;
	for (size_t i = 0; i < c->call->subscribe.n_unacknowledged_tasks; i++)
		if (strcmp(c->call->subscribe.unacknowledged_tasks[i].task_id, t->task_id) == 0)
			return;
	send_launch(e, task);
	c->n++;
}

static void update(struct agent_exec *e, const struct pb_task_status *st, const json_t *status,
                   struct evhttp_request *req, const char *what);

static void subscribe(struct agent_exec *e, struct evhttp_request *req,
                      const struct pb_executor_call *call)
{
	struct agent *a = e->a;
	if (e->state == EXEC_TERMINATING) {
		reply_text(req, 403, "Forbidden", "Executor is terminating");
		return;
	}
	const char *accept = evhttp_find_header(evhttp_request_get_input_headers(req), "Accept");
	if (accept && !strstr(accept, "application/json") && !strstr(accept, "*/*")) {
		reply_text(req, 406, "Not Acceptable",
		           "Accept: %.200s: the agent streams application/json only", accept);
		return;
	}
	/* A newer subscription replaces the stream (Mesos closes the old). */
	stream_end(e);
	enum exec_state was = e->state;
	e->state = EXEC_SUBSCRIBED;
	if (e->timer)
		evtimer_del(e->timer);
	e->stream = req;
	e->conn = evhttp_request_get_connection(req);
	/* The stream is idle between events: no read or write timeout. */
	evhttp_connection_set_timeout_tv(e->conn, NULL);
	evhttp_connection_set_closecb(e->conn, on_stream_closed, e);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	                  "application/json");
	evhttp_send_reply_start(req, 200, "OK");
	json_t *sub = json_pack("{s:O, s:O, s:o}", "executor_info", e->info, "framework_info",
	                        e->fw_info, "agent_info", agent_info_json(a));
	if (e->container_id)
		json_object_set_new(sub, "container_id",
		                    json_pack("{s:s}", "value", e->container_id));
	send_event(e, event("SUBSCRIBED", "subscribed", sub));
	if (!e->hb)
		e->hb = event_new(a->base, -1, EV_PERSIST, on_heartbeat, e);
	struct timeval hb = {EXEC_HEARTBEAT_S, 0};
	evtimer_add(e->hb, &hb);
	/* The updates it has no ACKNOWLEDGED for: queued unless known. */
	for (size_t i = 0; i < call->subscribe.n_unacknowledged_updates; i++) {
		const json_t *st = json_object_get(
		        json_array_get(json_object_get(json_object_get(call->json, "subscribe"),
		                                       "unacknowledged_updates"),
		                       i),
		        "status");
		update(e, &call->subscribe.unacknowledged_updates[i], st, NULL,
		       "unacknowledged update");
	}
	struct launch_ctx c = {call, 0};
	tasks_of(e, launch_missing, &c);
	size_t i;
	json_t *k;
	json_array_foreach (e->pending_kills, i, k)
		send_kill(e, json_string_value(k), -1);
	json_array_clear(e->pending_kills);
	if (was == EXEC_REGISTERING)
		resize(e); /* its tasks may have grown while it started */
	ag_info("executor `%s` of framework `%s`: SUBSCRIBED (was %s; %zu unacknowledged "
	        "tasks, %zu unacknowledged updates, %zu tasks launched now)",
	        e->id, e->fw, state_names[was], call->subscribe.n_unacknowledged_tasks,
	        call->subscribe.n_unacknowledged_updates, c.n);
}

/* An executor's status update: queued durably (committed before the 202),
 * retried to the master until the scheduler acknowledges it, then
 * ACKNOWLEDGED to the executor. `req` (NULL inside a SUBSCRIBE) is
 * answered. */
static void update(struct agent_exec *e, const struct pb_task_status *st, const json_t *status,
                   struct evhttp_request *req, const char *what)
{
	struct agent *a = e->a;
	enum pb_task_state prev;
	struct agent_exec *owner = exec_of_task(a, e->fw, st->task_id, &prev);
	_cleanup_free_ char *b64 = pb_base64_encode(st->uuid.data, st->uuid.len);
	if (!owner && !ctz_upd_task_known(a->upd, e->fw, st->task_id)) {
		/* Ended and acknowledged already (the agent forgets such a
		 * task), or never launched here: nothing to forward. The
		 * executor hears ACKNOWLEDGED so that it stops resending. */
		ag_warn("executor `%s` of framework `%s`: %s %s of task `%s` (uuid %s): the agent "
		        "has no such task (ended and acknowledged, or never launched here): "
		        "acknowledged at once, not forwarded",
		        e->id, e->fw, what, pb_task_state_name(st->state), st->task_id, b64);
		if (req)
			reply_text(req, 202, "Accepted", "%s", "");
		send_event(e, event("ACKNOWLEDGED", "acknowledged",
		                    json_pack("{s:o, s:s}", "task_id", pb_id_to_json(st->task_id),
		                              "uuid", b64)));
		return;
	}
	if (owner != e) {
		if (req)
			reply_text(req, 400, "Bad Request",
			           "call.update.status.task_id: task '%.255s' is not a task of "
			           "executor '%.255s'",
			           st->task_id, e->id);
		else
			ag_warn("executor `%s`: unacknowledged update of task `%s`, not one of its "
			        "tasks: dropped",
			        e->id, st->task_id);
		return;
	}
	/* What the agent vouches for: where it comes from. */
	json_t *s = json_deep_copy(status);
	json_object_del(s, "uuid");
	json_object_set_new(s, "source", json_string("SOURCE_EXECUTOR"));
	json_object_set_new(s, "agent_id", pb_id_to_json(a->agent_id ? a->agent_id : ""));
	if (!a->agent_id)
		json_object_del(s, "agent_id");
	json_object_set_new(s, "executor_id", pb_id_to_json(e->id));
	if (!json_object_get(s, "timestamp"))
		json_object_set_new(s, "timestamp", json_real((double)ag_wall_ns() / 1e9));
	if (e->container_id && !json_object_get(s, "container_status"))
		json_object_set_new(
		        s, "container_status",
		        json_pack("{s:{s:s}}", "container_id", "value", e->container_id));
	int r = ctz_upd_enqueue_executor(a->upd, e->fw, st->task_id, st->state, s, st->uuid.data,
	                                 ag_now_ns());
	json_decref(s);
	if (r < 0 && r != -EALREADY) {
		ag_err("executor `%s` of framework `%s`: queue %s of task `%s`: %s", e->id, e->fw,
		       pb_task_state_name(st->state), st->task_id, strerror(-r));
		if (req)
			reply_text(req, 503, "Service Unavailable",
			           "the agent cannot record the update (%s); send it again",
			           strerror(-r));
		return;
	}
	if (r == -EALREADY)
		ag_warn("executor `%s` of framework `%s`: %s of task `%s` after its terminal state "
		        "%s: dropped (a task has one terminal state)",
		        e->id, e->fw, pb_task_state_name(st->state), st->task_id,
		        pb_task_state_name(prev));
	else if (r == 1)
		ag_info("task `%s` of framework `%s`: %s from executor `%s` (uuid %s)%s%s",
		        st->task_id, e->fw, pb_task_state_name(st->state), e->id, b64,
		        st->message ? ": " : "", st->message ? st->message : "");
	if (req)
		reply_text(req, 202, "Accepted", "%s", "");
	if (r == 2 || r == -EALREADY)
		send_event(e, event("ACKNOWLEDGED", "acknowledged",
		                    json_pack("{s:o, s:s}", "task_id", pb_id_to_json(st->task_id),
		                              "uuid", b64)));
	if (r == 1 && pb_task_state_is_terminal(st->state) && !pb_task_state_is_terminal(prev))
		resize(e); /* the task's resources are free */
	if (r == 1)
		agent_updates_soon(a);
}

static void message(struct agent_exec *e, struct evhttp_request *req,
                    const struct pb_executor_call *call)
{
	struct agent *a = e->a;
	if (!a->agent_id || !a->link || !agent_ml_registered(a->link)) {
		ag_warn("executor `%s` of framework `%s`: MESSAGE while the agent is not "
		        "registered with a master: dropped (messages are best effort)",
		        e->id, e->fw);
	} else {
		_cleanup_free_ char *b64 = pb_base64_encode(
		        call->message.data.data ? call->message.data.data : (const uint8_t *)"",
		        call->message.data.len);
		json_t *m = json_pack("{s:s, s:o, s:{s:o, s:o, s:s}}", "type", "EXECUTOR_MESSAGE",
		                      "agent_id", pb_id_to_json(a->agent_id), "executor_message",
		                      "framework_id", pb_id_to_json(e->fw), "executor_id",
		                      pb_id_to_json(e->id), "data", b64);
		_cleanup_free_ char *body = pb_json_dump(m, NULL);
		json_decref(m);
		AG_IGNORE_RESULT(agent_ml_post(a->link, body));
	}
	reply_text(req, 202, "Accepted", "%s", "");
}

void agent_exec_http(struct agent *a, struct evhttp_request *req)
{
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
		reply_text(req, 405, "Method Not Allowed", "Expecting a 'POST' request");
		return;
	}
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	if (!ct) {
		reply_text(req, 400, "Bad Request", "Expecting 'Content-Type' to be present");
		return;
	}
	if (strncmp(ct, "application/json", strlen("application/json")) != 0) {
		reply_text(req, 415, "Unsupported Media Type",
		           "Content-Type: %.200s is not supported: the agent reads "
		           "application/json only",
		           ct);
		return;
	}
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *body = (const char *)evbuffer_pullup(in, -1);
	struct pb_executor_call call = {0};
	struct ag_error err = {0};
	int r = pb_executor_call_decode(body ? body : "", body ? len : 0, &call, &err);
	if (r == -EMSGSIZE) {
		reply_text(req, 413, "Payload Too Large", "%s", err.msg);
		return;
	}
	if (r < 0) {
		reply_text(req, 400, "Bad Request", "%s", err.msg);
		return;
	}
	struct agent_exec *e = find(a, call.framework_id, call.executor_id);
	bool fw_known = false;
	struct ag_map_iter it;
	for (ag_map_iter_init(&it); !e && ag_map_iter_next(&a->executors, &it);)
		fw_known |= strcmp(((struct agent_exec *)it.e->value)->fw, call.framework_id) == 0;
	if (!e && !fw_known)
		reply_text(req, 400, "Bad Request", "Framework cannot be found");
	else if (!e)
		reply_text(req, 400, "Bad Request", "Executor cannot be found");
	else if (call.type != PB_EXEC_CALL_SUBSCRIBE &&
	         (e->state == EXEC_REGISTERING || e->state == EXEC_RECOVERING))
		reply_text(req, 403, "Forbidden", "Executor is not subscribed");
	else if (call.type == PB_EXEC_CALL_SUBSCRIBE)
		subscribe(e, req, &call);
	else if (call.type == PB_EXEC_CALL_UPDATE)
		update(e, &call.update.status, call.update.status_json, req, "UPDATE");
	else if (call.type == PB_EXEC_CALL_MESSAGE)
		message(e, req, &call);
	else if (call.type == PB_EXEC_CALL_HEARTBEAT)
		reply_text(req, 202, "Accepted", "%s", "");
	else
		reply_text(req, 400, "Bad Request", "call.type: %s is not supported",
		           pb_executor_call_type_name(call.type)
		                   ? pb_executor_call_type_name(call.type)
		                   : "UNKNOWN");
	pb_executor_call_free(&call);
}
