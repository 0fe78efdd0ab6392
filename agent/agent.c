/* agent.c: tasks from the master to the containerizer, their states back
 * to the master through the durable update queues, and registration. */
#include "agent/agent.h"
#include "agent/executor.h"
#include "common/log.h"

#include <event2/event.h>
#include <event2/http.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>

#define VERSION "0.2.0" /* agent protocol version 2: custom executors */

/* The wall clock in seconds since the epoch, as Mesos's timestamps. */
static double now_epoch(void)
{
	return (double)ag_wall_ns() / 1e9;
}

/* A TaskStatus without uuid (updates.c adds it), its fields in the order of
 * the proto's message table: compact, canonical and in that order, the
 * master reads it without a tree (proto/fast.c). */
static json_t *status_json_checks(struct agent *a, const char *task_id, const char *state,
                                  const char *reason, const char *message, const char *container_id,
                                  const struct agent_check_report *chk)
{
	json_t *s = json_pack("{s:o, s:s}", "task_id", pb_id_to_json(task_id), "state", state);
	if (message)
		json_object_set_new(s, "message", json_string(message));
	json_object_set_new(s, "source", json_string("SOURCE_EXECUTOR"));
	if (reason)
		json_object_set_new(s, "reason", json_string(reason));
	if (a->agent_id)
		json_object_set_new(s, "agent_id", pb_id_to_json(a->agent_id));
	json_object_set_new(s, "timestamp", json_real(now_epoch()));
	if (chk && chk->has_healthy)
		json_object_set_new(s, "healthy", json_boolean(chk->healthy));
	if (chk && chk->check_status)
		json_object_set_new(s, "check_status", json_deep_copy(chk->check_status));
	if (container_id)
		json_object_set_new(
		        s, "container_status",
		        json_pack("{s:o}", "container_id", pb_id_to_json(container_id)));
	return s;
}

static json_t *status_json(struct agent *a, const char *task_id, const char *state,
                           const char *reason, const char *message, const char *container_id)
{
	return status_json_checks(a, task_id, state, reason, message, container_id, NULL);
}

/* Queue a state change for the master, and log it: each state the agent
 * gives a task is one line (a refusal, TASK_ERROR, a warning). Repeats
 * (the containerizer reports at least once) are dropped here, unlogged. */
/* The work directory could (NULL) or could not (why) be written to. */
static void disk_state(struct agent *a, const char *why)
{
	if (!why == !a->disk_error && (!why || strcmp(why, a->disk_error) == 0))
		return;
	if (!why)
		ag_info("the work directory can be written to again");
	free(a->disk_error);
	a->disk_error = why ? ag_strdup(why) : NULL;
}

static void on_held_timer(evutil_socket_t fd, short what, void *arg);

/* Hold an update the queue could not take, and retry every second. */
static void hold(struct agent *a, const char *fw, const char *task_id, const char *state, json_t *s,
                 int r)
{
	agent_held_push(&a->held, fw, task_id, state, s);
	_cleanup_free_ char *why = ag_asprintf(
	        "status updates cannot be written to the agent's database in `%s` (%s): %zu "
	        "held in memory and retried every second",
	        a->work_dir, strerror(-r), a->held.n);
	disk_state(a, why);
	ag_err("queue %s of `%s`: %s; held in memory, retried until it can be written", state,
	       task_id, strerror(-r));
	if (!a->agent_held_timer)
		a->agent_held_timer = event_new(a->base, -1, EV_PERSIST, on_held_timer, a);
	if (!evtimer_pending(a->agent_held_timer, NULL)) {
		struct timeval sec = {1, 0};
		evtimer_add(a->agent_held_timer, &sec);
	}
}

static void enqueue_checks(struct agent *a, const char *fw, const char *task_id, const char *state,
                           const char *reason, const char *message, const char *cid,
                           const struct agent_check_report *chk)
{
	json_t *s = status_json_checks(a, task_id, state, reason, message, cid, chk);
	enum pb_task_state st = pb_task_state_from_name(state);
	/* Behind one of the same task that is held: in order, held too. */
	int r = agent_held_has_task(&a->held, fw, task_id)
	                ? -EAGAIN
	                : ctz_upd_enqueue(a->upd, fw, task_id, st, s, ag_now_ns(), NULL);
	if (r == -EALREADY) {
		json_decref(s);
		ag_warn("task `%s` of framework `%s`: %s%s%s%s%s%s after its terminal state %s, "
		        "dropped (a task has one terminal state)",
		        task_id, fw, state, reason ? " (" : "", reason ? reason : "",
		        reason ? ")" : "", message ? ": " : "", message ? message : "",
		        pb_task_state_name(ctz_upd_task_state(a->upd, fw, task_id)));
		return;
	}
	if (r < 0 && r != -ENOENT) {
		if (r == -EAGAIN)
			agent_held_push(&a->held, fw, task_id, state, s);
		else
			hold(a, fw, task_id, state, s, r);
		json_decref(s);
		return;
	}
	json_decref(s);
	if (r > 0 && !a->held.n)
		disk_state(a, NULL);
	if (r > 0)
		ag_log(st == PB_TASK_ERROR ? AG_LOG_WARN : AG_LOG_INFO,
		       "task `%s` of framework `%s`: %s%s%s%s%s%s", task_id, fw, state,
		       reason ? " (" : "", reason ? reason : "", reason ? ")" : "",
		       message ? ": " : "", message ? message : "");
	else if (r == 0 || r == -ENOENT)
		ag_debug("task `%s` of framework `%s`: %s again, dropped (%s)", task_id, fw, state,
		         r == 0 ? "already queued" : "the task is forgotten");
	else
		ag_err("queue %s of `%s`: %s", state, task_id, strerror(-r));
	/* At the end of this loop turn rather than now: the updates of one
	 * turn (tasks of one RUN_TASK batch, acknowledgements read together)
	 * go in one request. */
	if (a->link && agent_ml_registered(a->link)) {
		struct timeval zero = {0, 0};
		evtimer_del(a->ctz_upd_timer);
		evtimer_add(a->ctz_upd_timer, &zero);
	}
}

static void enqueue(struct agent *a, const char *fw, const char *task_id, const char *state,
                    const char *reason, const char *message, const char *cid)
{
	enqueue_checks(a, fw, task_id, state, reason, message, cid, NULL);
}

/* ---- health checks and checks (checks.c) ------------------------------- */

/* The agent killed the task for its health: durable (its terminal update
 * says so after a restart too), as meta "health_killed:<len>:<fw>/<task>". */
static char *health_kill_key(const char *fw, const char *task_id)
{
	return ag_asprintf("health_killed:%zu:%s/%s", strlen(fw), fw, task_id);
}

static bool health_killed(struct agent *a, const char *fw, const char *task_id)
{
	_cleanup_free_ char *key = health_kill_key(fw, task_id), *v = NULL;
	return ctz_upd_meta_get(a->upd, key, &v) == 0 && v;
}

struct task_lookup {
	const char *framework_id, *task_id;
	json_t *task_info, *status; /* new references, or NULL */
	enum pb_task_state state;
};

static void find_task_view(void *ctx, const struct ctz_upd_task_view *t)
{
	struct task_lookup *l = ctx;
	if (l->task_info || strcmp(t->task_id, l->task_id) != 0 ||
	    strcmp(t->framework_id, l->framework_id) != 0)
		return;
	l->task_info = json_loads(t->task_json, 0, NULL);
	l->status = t->status_json ? json_loads(t->status_json, 0, NULL) : NULL;
	l->state = t->state;
}

/* Start the checks of a task now running; `status` (its last TaskStatus,
 * may be NULL) is where they resume from. */
static void checks_start(struct agent *a, const char *fw, const char *task_id,
                         const json_t *task_info, const json_t *status)
{
	if (!json_object_get(task_info, "health_check") && !json_object_get(task_info, "check"))
		return;
	const json_t *h = json_object_get(status, "healthy");
	struct agent_checks_resume res = {
	        .has_healthy = json_is_boolean(h),
	        .healthy = json_is_true(h),
	        .check_status = json_object_get(status, "check_status"),
	};
	struct ag_error err = {0};
	if (agent_checks_start(a->checks, fw, task_id, task_info, &res, &err) < 0)
		ag_err("task `%s` of framework `%s`: its checks cannot run: %s", task_id, fw,
		       err.msg);
}

static int check_exec(void *ctx, const char *fw, const char *task_id, char *const *argv,
                      char *const *env, int stdio_fd, int *ret_pidfd, pid_t *ret_pid,
                      struct ag_error *err)
{
	struct agent *a = ctx;
	return ctz_exec(a->ctz, fw, task_id, argv, env, stdio_fd, ret_pidfd, ret_pid, err);
}

static int64_t task_grace_ms(const char *task_json);

/* A check's verdict changed: TASK_RUNNING with the whole picture; after
 * consecutive_failures the task is killed with its own grace period, as
 * a KILL without kill_policy would. */
static void on_check_report(void *ctx, const struct agent_check_report *r)
{
	struct agent *a = ctx;
	/* Never a TASK_RUNNING after the task's KILLING or end. */
	if (ctz_upd_task_state(a->upd, r->framework_id, r->task_id) != PB_TASK_RUNNING)
		return;
	const char *reason = r->health_changed ? "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED"
	                                       : "REASON_TASK_CHECK_STATUS_UPDATED";
	if (r->kill) {
		_cleanup_free_ char *key = health_kill_key(r->framework_id, r->task_id);
		if (ctz_upd_meta_set(a->upd, key, "1") < 0)
			ag_err("task `%s` of framework `%s`: cannot record its kill for its health",
			       r->task_id, r->framework_id);
	}
	enqueue_checks(a, r->framework_id, r->task_id, "TASK_RUNNING", reason, r->why, NULL, r);
	if (!r->kill)
		return;
	struct task_lookup l = {r->framework_id, r->task_id, NULL, NULL, PB_TASK_STAGING};
	ctz_upd_task_foreach(a->upd, find_task_view, &l);
	_cleanup_free_ char *text = l.task_info ? pb_json_dump(l.task_info, NULL) : NULL;
	int64_t grace = text ? task_grace_ms(text) : -1;
	json_decref(l.task_info);
	json_decref(l.status);
	if (grace < 0)
		grace = a->has_shutdown_grace ? a->shutdown_grace_ms : AGENT_SHUTDOWN_GRACE_MS;
	ag_warn("task `%s` of framework `%s`: unhealthy (%s): killed, grace %.1f s", r->task_id,
	        r->framework_id, r->why ? r->why : "health check failed", (double)grace / 1000.0);
	int k = ctz_kill(a->ctz, r->framework_id, r->task_id, grace);
	if (k < 0 && k != -ENOENT)
		ag_warn("task `%s` of framework `%s`: the kill could not be recorded (%s): "
		        "killed at once",
		        r->task_id, r->framework_id, strerror(-k));
}

/* Each task running after a restart: its checks resume. */
static void resume_checks(void *ctx, const struct ctz_upd_task_view *t)
{
	struct agent *a = ctx;
	if (t->state != PB_TASK_RUNNING || !ctz_sandbox_of(a->ctz, t->framework_id, t->task_id))
		return;
	json_t *ti = json_loads(t->task_json, 0, NULL);
	json_t *st = t->status_json ? json_loads(t->status_json, 0, NULL) : NULL;
	checks_start(a, t->framework_id, t->task_id, ti, st);
	json_decref(ti);
	json_decref(st);
}

void agent_task_update(struct agent *a, const char *fw, const char *task_id, const char *state,
                       const char *reason, const char *message)
{
	enqueue(a, fw, task_id, state, reason, message, NULL);
}

void agent_updates_soon(struct agent *a)
{
	if (a->link && agent_ml_registered(a->link)) {
		struct timeval zero = {0, 0};
		evtimer_del(a->ctz_upd_timer);
		evtimer_add(a->ctz_upd_timer, &zero);
	}
}

static void on_task_state(void *ctx, const struct ctz_update *u)
{
	struct agent *a = ctx;
	if (agent_exec_on_container(a, u))
		return;
	const char *fw = u->framework_id;
	if (!fw || !*fw) {
		/* A containerizer record from before tasks were keyed by
		 * framework: the task id was unique then. */
		fw = ctz_upd_task_framework(a->upd, u->task_id);
		if (!fw)
			fw = "";
	}
	/* STARTING is reported once the containerizer recorded the launch,
	 * before anything runs: the launch is accepted. */
	if (u->state == PB_TASK_STARTING)
		ag_info("task `%s` of framework `%s`: launch accepted, container %s", u->task_id,
		        fw, u->container_id);
	/* Killed for its health: its KILLING and its end say so. */
	bool hk = (u->state == PB_TASK_KILLING || pb_task_state_is_terminal(u->state)) &&
	          health_killed(a, fw, u->task_id);
	struct agent_check_report hr = {.has_healthy = true, .healthy = false};
	const char *reason =
	        hk ? "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED" : pb_task_reason_name(u->reason);
	/* A task being killed is checked no more (as in Mesos). */
	if (u->state == PB_TASK_KILLING || pb_task_state_is_terminal(u->state))
		agent_checks_stop(a->checks, fw, u->task_id);
	enqueue_checks(a, fw, u->task_id, pb_task_state_name(u->state), reason, u->message,
	               u->container_id, hk ? &hr : NULL);
	if (hk && pb_task_state_is_terminal(u->state)) {
		_cleanup_free_ char *key = health_kill_key(fw, u->task_id);
		AG_IGNORE_RESULT(ctz_upd_meta_del(a->upd, key)); /* left: reused if the id is */
	}
	if (u->state == PB_TASK_RUNNING) {
		struct task_lookup l = {fw, u->task_id, NULL, NULL, PB_TASK_STAGING};
		ctz_upd_task_foreach(a->upd, find_task_view, &l);
		if (l.task_info)
			checks_start(a, fw, u->task_id, l.task_info, NULL);
		json_decref(l.task_info);
		json_decref(l.status);
	}
}

/* ---- status updates to the master ------------------------------------- */

/* A POST of status updates in flight: what it carries, so that an update
 * the master refuses can be set aside (docs/agent-protocol.md, Refused
 * updates). Owned by the agent's list until the answer comes, or
 * agent_fini(). */
struct ctz_upd_post {
	struct agent_ml_answer ans; /* first: the answer's pointer is the post's */
	struct agent *a;
	struct ctz_upd_post *next;
	json_t *items; /* [{"framework_id":{…},"status":{…}}, …] as sent */
};

/* The updates of one agent_updates_kick(), sent together. */
struct ctz_upd_batch {
	struct agent *a;
	json_t *items;
};

static void post_answered(struct agent_ml_answer *ans, int status, const char *body);

static void post_free(struct ctz_upd_post *p)
{
	json_decref(p->items);
	free(p);
}

/* POST `items` (stolen): STATUS_UPDATE for one update, STATUS_UPDATES
 * (docs/agent-protocol.md) for several. JSON only through jansson: ids are
 * data, whatever they hold. */
static void post_items(struct agent *a, json_t *items)
{
	size_t n = json_array_size(items);
	if (!n) {
		json_decref(items);
		return;
	}
	json_t *m = json_pack("{s:s, s:o}", "type", n == 1 ? "STATUS_UPDATE" : "STATUS_UPDATES",
	                      "agent_id", pb_id_to_json(a->agent_id));
	if (n == 1)
		json_object_set(m, "status_update", json_array_get(items, 0));
	else
		json_object_set_new(m, "status_updates", json_pack("{s:O}", "updates", items));
	_cleanup_free_ char *body = pb_json_dump(m, NULL);
	json_decref(m);
	struct ctz_upd_post *p = ag_calloc(1, sizeof(*p));
	p->ans.fn = post_answered;
	p->a = a;
	p->items = items;
	if (agent_ml_post_answer(a->link, body, &p->ans) < 0) {
		post_free(p); /* not sent: due again after its backoff */
		return;
	}
	p->next = a->posts;
	a->posts = p;
}

static void batch_flush(struct ctz_upd_batch *b)
{
	json_t *items = b->items;
	b->items = NULL;
	post_items(b->a, items);
}

/* At most this many updates per request: a few hundred KB, far below the
 * master's body limit. */
#define CTZ_UPD_BATCH_MAX 256

/* The master refused one update for good: it is set aside (kept in the
 * agent's database for an operator, GET /updates/set_aside) with the
 * master's answer, and the task's next update flows. */
static void set_aside(struct agent *a, json_t *item, int status, const char *answer)
{
	const char *fw =
	        json_string_value(json_object_get(json_object_get(item, "framework_id"), "value"));
	json_t *st = json_object_get(item, "status");
	const char *task =
	        json_string_value(json_object_get(json_object_get(st, "task_id"), "value"));
	const char *b64 = json_string_value(json_object_get(st, "uuid"));
	const char *state = json_string_value(json_object_get(st, "state"));
	_cleanup_free_ uint8_t *uuid = NULL;
	size_t len = 0;
	if (!fw || !task || !b64 || pb_base64_decode(b64, strlen(b64), &uuid, &len) < 0)
		return; /* "sent once" updates carry what they were built with */
	_cleanup_free_ char *why = ag_asprintf("%d %s", status, answer);
	int r = ctz_upd_set_aside(a->upd, fw, task, uuid, len, why, now_epoch(), ag_now_ns());
	if (r > 0)
		ag_warn("task `%s` of framework `%s`: the master refused status update %s (uuid "
		        "%s): "
		        "%s; set aside (GET /updates/set_aside), the task's next updates go on",
		        task, fw, state ? state : "?", b64, why);
	else if (r == 0)
		ag_warn("task `%s` of framework `%s`: the master refused status update %s (uuid "
		        "%s): %s; it is no longer queued",
		        task, fw, state ? state : "?", b64, why);
	else
		ag_err("task `%s` of framework `%s`: cannot set aside status update %s: %s", task,
		       fw, b64, strerror(-r));
}

static void post_answered(struct agent_ml_answer *ans, int status, const char *body)
{
	struct ctz_upd_post *p = (struct ctz_upd_post *)ans;
	struct agent *a = p->a;
	for (struct ctz_upd_post **pp = &a->posts; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	/* 400 and 413 say what was sent is wrong, and sending it again
	 * cannot help. Anything else (202; 403 or 409 of a stream being
	 * replaced; 5xx; no answer) leaves the updates to their retries. */
	if (status == 400 || status == 413) {
		size_t n = json_array_size(p->items);
		if (n == 1) {
			set_aside(a, json_array_get(p->items, 0), status, body);
		} else {
			/* One bad update must not hold back the others: each
			 * goes again on its own, and only the refused ones
			 * are set aside. */
			ag_warn("the master refused a batch of %zu status updates (%d %s); "
			        "sending them one by one",
			        n, status, body);
			size_t i;
			json_t *item;
			json_array_foreach (p->items, i, item)
				post_items(a, json_pack("[O]", item));
		}
		agent_updates_kick(a);
	}
	post_free(p);
}

static void send_update(void *ctx, const char *fw, const char *task_id, const char *status)
{
	struct ctz_upd_batch *b = ctx;
	json_t *st = json_loads(status, 0, NULL);
	if (!st) {
		ag_err("task `%s` of framework `%s`: a queued status update is not JSON", task_id,
		       fw);
		return;
	}
	if (ag_log_enabled(AG_LOG_DEBUG))
		ag_debug("task `%s` of framework `%s`: status update %s (uuid %s) sent", task_id,
		         fw, json_string_value(json_object_get(st, "state")),
		         json_string_value(json_object_get(st, "uuid")));
	if (!b->items)
		b->items = json_array();
	json_array_append_new(
	        b->items, json_pack("{s:o, s:o}", "framework_id", pb_id_to_json(fw), "status", st));
	if (json_array_size(b->items) == CTZ_UPD_BATCH_MAX)
		batch_flush(b);
}

/* Offer the held updates to the queue again, in order, until one fails. */
static void on_held_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct agent *a = arg;
	size_t queued = 0;
	while (a->held.head) {
		struct agent_held_update *u = a->held.head;
		int r = ctz_upd_enqueue(a->upd, u->framework_id, u->task_id,
		                        pb_task_state_from_name(u->state), u->status, ag_now_ns(),
		                        NULL);
		if (r < 0 && r != -ENOENT && r != -EALREADY)
			break;
		if (r == -EALREADY)
			ag_warn("task `%s` of framework `%s`: %s held in memory comes after its "
			        "terminal state, dropped (a task has one terminal state)",
			        u->task_id, u->framework_id, u->state);
		if (r > 0)
			ag_info("task `%s` of framework `%s`: %s queued (it was held in memory)",
			        u->task_id, u->framework_id, u->state);
		queued += r > 0;
		agent_held_pop(&a->held);
	}
	if (!a->held.head) {
		evtimer_del(a->agent_held_timer);
		disk_state(a, NULL);
	}
	if (queued)
		agent_updates_kick(a);
}

static void on_upd_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	agent_updates_kick(arg);
}

void agent_updates_kick(struct agent *a)
{
	if (!a->link || !agent_ml_registered(a->link))
		return;
	uint64_t now = ag_now_ns();
	struct ctz_upd_batch b = {.a = a};
	AG_IGNORE_RESULT(ctz_upd_poll(a->upd, now, send_update, &b)); /* how many: not needed */
	batch_flush(&b);
	uint64_t next = ctz_upd_next_due(a->upd);
	evtimer_del(a->ctz_upd_timer);
	if (next == UINT64_MAX)
		return;
	uint64_t d = next > now ? next - now : 0;
	struct timeval tv = {.tv_sec = (time_t)(d / 1000000000),
	                     .tv_usec = (d % 1000000000) / 1000};
	evtimer_add(a->ctz_upd_timer, &tv);
}

void agent_on_ctz(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct agent *a = arg;
	int r = ctz_dispatch(a->ctz);
	if (r < 0)
		ag_err("containerizer: wait for its events: %s", strerror(-r));
	agent_updates_kick(a);
}

/* ---- registration ----------------------------------------------------- */

static json_t *scalar(const char *name, double v)
{
	return json_pack("{s:s, s:s, s:{s:f}}", "name", name, "type", "SCALAR", "scalar", "value",
	                 v);
}

static json_t *agent_info(struct agent *a)
{
	json_t *res = json_array();
	json_array_append_new(res, scalar("cpus", a->cap.cpus));
	json_array_append_new(res, scalar("mem", (double)(a->cap.mem_bytes / CTZ_MIB)));
	json_array_append_new(res, scalar("disk", (double)(a->cap.disk_bytes / CTZ_MIB)));
	json_array_append_new(res, json_pack("{s:s, s:s, s:{s:[{s:I, s:I}]}}", "name", "ports",
	                                     "type", "RANGES", "ranges", "range", "begin",
	                                     (json_int_t)a->cap.port_lo, "end",
	                                     (json_int_t)a->cap.port_hi));
	json_t *ai = json_pack("{s:s, s:o}", "hostname", a->hostname, "resources", res);
	if (a->port > 0)
		json_object_set_new(ai, "port", json_integer(a->port));
	if (a->agent_id)
		json_object_set_new(ai, "id", pb_id_to_json(a->agent_id));
	if (json_array_size(a->attributes))
		json_object_set(ai, "attributes", a->attributes);
	return ai;
}

json_t *agent_info_json(struct agent *a)
{
	return agent_info(a);
}

struct reg_ctx {
	json_t *frameworks, *tasks, *seen;
};

static void add_task(void *ctx, const struct ctz_upd_task_view *t)
{
	struct reg_ctx *r = ctx;
	/* A task an older master let in with an id that is now refused
	 * (docs/operator-api.md): listing it would have every REREGISTER
	 * refused. Its updates are refused and set aside in turn. */
	const char *bad = pb_id_problem(t->framework_id, strlen(t->framework_id)) ? "framework"
	                  : pb_id_problem(t->task_id, strlen(t->task_id))         ? "task"
	                                                                          : NULL;
	if (bad) {
		ag_warn("task `%s` of framework `%s`: not listed in REREGISTER: its %s id is not a "
		        "valid id",
		        t->task_id, t->framework_id, bad);
		return;
	}
	json_t *task = json_loads(t->task_json, 0, NULL);
	json_t *fw = json_loads(t->framework_json, 0, NULL);
	if (!task || !fw) {
		json_decref(task);
		json_decref(fw);
		return;
	}
	json_t *status = t->status_json ? json_loads(t->status_json, 0, NULL) : NULL;
	if (!status)
		status = json_pack("{s:o, s:s}", "task_id", pb_id_to_json(t->task_id), "state",
		                   "TASK_STAGING");
	json_array_append_new(r->tasks,
	                      json_pack("{s:o, s:o, s:o, s:b}", "framework_id",
	                                pb_id_to_json(t->framework_id), "task", task, "status",
	                                status, "unacknowledged", t->unacknowledged));
	if (!json_object_get(r->seen, t->framework_id)) {
		json_object_set_new(r->seen, t->framework_id, json_true());
		json_array_append(r->frameworks, fw);
	}
	json_decref(fw);
}

static json_t *registration(void *ctx)
{
	struct agent *a = ctx;
	const char *type = a->agent_id ? "REREGISTER" : "REGISTER";
	json_t *p = json_pack("{s:o, s:s, s:b}", "agent_info", agent_info(a), "version", VERSION,
	                      "unisolated", !a->cap.isolated);
	a->reregistering = a->agent_id != NULL;
	a->reregister_tasks = 0;
	if (a->agent_id) {
		struct reg_ctx r = {json_array(), json_array(), json_object()};
		ctz_upd_task_foreach(a->upd, add_task, &r);
		a->reregister_tasks = json_array_size(r.tasks);
		json_object_set_new(p, "frameworks", r.frameworks);
		json_object_set_new(p, "tasks", r.tasks);
		json_decref(r.seen);
	}
	json_t *m = json_pack("{s:s}", "type", type);
	if (a->agent_id)
		json_object_set_new(m, "agent_id", pb_id_to_json(a->agent_id));
	json_object_set_new(m, a->agent_id ? "reregister" : "register", p);
	return m;
}

static void on_registered(void *ctx, const char *agent_id, double hb)
{
	struct agent *a = ctx;
	if (!a->agent_id || strcmp(a->agent_id, agent_id) != 0) {
		if (a->agent_id)
			ag_warn("the master gave this agent a new id, %s (it was %s)", agent_id,
			        a->agent_id);
		free(a->agent_id);
		a->agent_id = ag_strdup(agent_id);
		if (ctz_upd_meta_set(a->upd, "agent_id", agent_id) < 0)
			ag_err("cannot store the agent id");
	}
	if (a->reregistering)
		ag_info("re-registered as %s with %zu tasks (heartbeat %.1f s)", agent_id,
		        a->reregister_tasks, hb);
	else
		ag_info("registered as %s (heartbeat %.1f s)", agent_id, hb);
	ctz_upd_rearm(a->upd, ag_now_ns());
	agent_updates_kick(a);
}

static void on_disconnected(void *ctx, const char *why, int64_t retry_ms)
{
	(void)ctx;
	ag_warn("%s; re-registering in %.1f s", why, (double)retry_ms / 1000.0);
}

static void on_master_changed(void *ctx, const char *host, int port, const char *why)
{
	(void)ctx;
	if (host)
		ag_info("the master is now %s:%d (%s)", host, port, why);
	else
		ag_warn("no leading master: %s; waiting for ZooKeeper to name one", why);
}

static void on_secret_unsaved(void *ctx, const char *why)
{
	(void)ctx;
	ag_err("%s; kept in memory and written again at each heartbeat: until then, an agent "
	       "restart cannot re-register",
	       why);
}

/* ---- tasks ------------------------------------------------------------ */

static const char *role_of(const struct pb_framework_info *fi, const struct pb_task_info *t)
{
	for (size_t i = 0; i < t->n_resources; i++)
		if (t->resources[i].allocation_role)
			return t->resources[i].allocation_role;
	if (fi->n_roles)
		return fi->roles[0];
	return fi->role ? fi->role : "*";
}

static void limits_of(const struct agent *a, const struct pb_task_info *t,
                      struct ctz_ts_limits *lim)
{
	*lim = (struct ctz_ts_limits){.pids_max = a->task_pids_max > 0 ? (uint64_t)a->task_pids_max
	                                                               : CTZ_TS_DEFAULT_PIDS_MAX};
	for (size_t i = 0; i < t->n_resources; i++) {
		const struct pb_resource *r = &t->resources[i];
		if (r->type != PB_VALUE_SCALAR)
			continue;
		if (strcmp(r->name, "cpus") == 0)
			lim->cpus += (double)r->scalar_milli / 1000.0;
		else if (strcmp(r->name, "mem") == 0)
			lim->mem_bytes += (uint64_t)r->scalar_milli * CTZ_MIB / 1000;
	}
}

/* Sends the status s (taken) of task id of framework fw to the master at
 * once, outside the durable queue: for answers about a task the agent has
 * no queue for. Its uuid is random (the id's bytes should getrandom fail). */
static void send_unqueued(struct agent *a, const char *fw, const char *id, json_t *s)
{
	uint8_t uuid[PB_UUID_LEN] = {0};
	if (getrandom(uuid, sizeof(uuid), 0) != (ssize_t)sizeof(uuid))
		memcpy(uuid, id, strnlen(id, sizeof(uuid)));
	_cleanup_free_ char *b64 = pb_base64_encode(uuid, sizeof(uuid));
	pb_status_set_uuid(s, b64);
	_cleanup_free_ char *text = pb_json_dump(s, NULL);
	json_decref(s);
	struct ctz_upd_batch b = {.a = a};
	send_update(&b, fw, id, text);
	batch_flush(&b);
}

/* A task that cannot be recorded (a full work directory) is not launched;
 * it is answered at once with TASK_ERROR, sent once and not queued (the
 * queue is on the same disk): a framework never waits in TASK_STAGING for
 * it. Were that answer lost, reconciliation gets TASK_LOST (an unknown
 * task). */
static void refuse_unrecorded(struct agent *a, const char *fw, const char *id, int r)
{
	_cleanup_free_ char *msg = ag_asprintf(
	        "the agent cannot record the task (%s; is its work directory `%s` full?): it "
	        "was not launched",
	        strerror(-r), a->work_dir);
	_cleanup_free_ char *why =
	        ag_asprintf("tasks cannot be recorded in `%s` (%s)", a->work_dir, strerror(-r));
	disk_state(a, why);
	ag_err("task `%s` of framework `%s`: TASK_ERROR (REASON_TASK_INVALID): %s (sent once, "
	       "not queued)",
	       id, fw, msg);
	send_unqueued(a, fw, id,
	              status_json(a, id, "TASK_ERROR", "REASON_TASK_INVALID", msg, NULL));
}

/* Launch, or TASK_ERROR naming why not. */
static void run_task(struct agent *a, const struct pb_framework_info *fi,
                     const struct pb_task_info *t)
{
	const char *id = t->task_id;
	if (ctz_upd_task_known(a->upd, fi->id, id) || ctz_sandbox_of(a->ctz, fi->id, id)) {
		ag_debug("task `%s` of framework `%s`: RUN_TASK again, ignored", id, fi->id);
		return; /* RUN_TASK is idempotent */
	}
	_cleanup_free_ char *fw_text = NULL, *task_text = pb_json_dump(t->json, NULL);
	json_t *fwj = pb_framework_info_to_json(fi);
	fw_text = pb_json_dump(fwj, NULL);
	json_decref(fwj);
	/* Recorded before anything runs: REREGISTER lists it from now on. */
	int rr = ctz_upd_task_add(a->upd, fi->id, id, fw_text, task_text);
	if (rr < 0) {
		refuse_unrecorded(a, fi->id, id, rr);
		return;
	}
	if (!a->held.n)
		disk_state(a, NULL);
	if (t->executor_id) {
		agent_exec_run_task(a, fi, t);
		return;
	}
	struct ag_error err = {0};
	struct ctz_ts_limits lim;
	limits_of(a, t, &lim);
	int r = agent_launch(a, fi, role_of(fi, t), id, t->json, t->command, t->container, &lim,
	                     NULL, &err);
	if (r == -EAGAIN)
		/* The user namespace pool is exhausted for now: not the
		 * task's fault, and a later launch may find a range free. */
		enqueue(a, fi->id, id, "TASK_FAILED", "REASON_CONTAINER_LAUNCH_FAILED", err.msg,
		        NULL);
	else if (r < 0)
		enqueue(a, fi->id, id, "TASK_ERROR", "REASON_TASK_INVALID", err.msg, NULL);
}

int agent_launch(struct agent *a, const struct pb_framework_info *fi, const char *role,
                 const char *id, const json_t *task_json, const struct pb_command_info *c,
                 const struct pb_container_info *container, const struct ctz_ts_limits *lim,
                 const char *const *extra_env, struct ag_error *err)
{
	struct ctz_task ct = {.framework_id = fi->id, .task_id = id, .limits = *lim};
	struct ctz_ts_command cmd = {0};
	_cleanup_free_ char *oci_text = NULL;
	const char **argv = NULL, **env = NULL;
	struct fetch_uri *uris = NULL;
	size_t n_extra = 0;
	while (extra_env && extra_env[n_extra])
		n_extra++;
	/* Every field classified: what is unknown or unsupported is refused. */
	int r = ctz_pol_check_task(&a->policy, role, task_json, err);
	if (r < 0) {
		/* answered by the caller */
	} else if (container && container->oci) {
		json_t *oci = json_deep_copy(container->oci);
		/* uid 0 that would be the host's: root in a user namespace
		 * of its own, its ids from the pool. */
		if (a->userns.count)
			ct.userns_root = ctz_pol_oci_userns(&a->policy, role, oci);
		r = ctz_pol_check_oci(&a->policy, role, oci, err);
		if (r == 0) {
			ctz_pol_apply_defaults(&a->policy, role, oci);
			json_t *proc = json_object_get(oci, "process");
			json_t *oenv = json_object_get(proc, "env");
			if (n_extra && proc && !oenv)
				json_object_set_new(proc, "env", oenv = json_array());
			for (size_t i = 0; oenv && i < n_extra; i++)
				json_array_append_new(oenv, json_string(extra_env[i]));
			oci_text = pb_json_dump(oci, NULL);
			ct.oci_spec_json = oci_text;
		}
		json_decref(oci);
	} else if (c && c->value) {
		const char *user = c->user ? c->user : fi->user ? fi->user : "nobody";
		const char *field = c->user ? "task.command.user" : "framework_info.user";
		struct passwd *pw = getpwnam(user);
		if (!pw) {
			r = ag_error_msg(err, EINVAL, "%s: no user `%s` on this agent", field,
			                 user);
		} else {
			cmd.uid = pw->pw_uid;
			cmd.gid = pw->pw_gid;
			if (cmd.uid == 0 && a->userns.count &&
			    !ctz_pol_role_in(a->policy.allow_root, role)) {
				/* Root without danger: uid and gid 0 inside a
				 * user namespace of its own, mapped to a range
				 * of unprivileged host ids. */
				ct.userns_root = true;
				cmd.gid = 0;
			} else {
				r = ctz_pol_check_uid(&a->policy, role, cmd.uid, field, err);
			}
		}
		if (c->shell) {
			cmd.shell = c->value;
		} else {
			argv = ag_calloc(c->n_arguments + 2, sizeof(*argv));
			argv[0] = c->value;
			for (size_t i = 1; i < c->n_arguments; i++)
				argv[i] = c->arguments[i];
			cmd.argv = argv;
		}
		env = ag_calloc(c->n_env + n_extra + 1, sizeof(*env));
		for (size_t i = 0; i < c->n_env; i++)
			env[i] = ag_asprintf("%s=%s", c->env[i].name, c->env[i].value);
		for (size_t i = 0; i < n_extra; i++)
			env[c->n_env + i] = ag_strdup(extra_env[i]);
		cmd.env = env;
		ct.command = &cmd;
		uris = ag_calloc(c->n_uris + 1, sizeof(*uris));
		for (size_t i = 0; i < c->n_uris; i++)
			uris[i] = (struct fetch_uri){.value = c->uris[i].value,
			                             .executable = c->uris[i].executable,
			                             .extract = c->uris[i].extract,
			                             .cache = c->uris[i].cache,
			                             .output_file = c->uris[i].output_file};
		ct.uris = uris;
		ct.n_uris = c->n_uris;
	} else {
		r = ag_error_msg(err, EINVAL,
		                 "task: needs `command.value`, `container.oci` or `executor`");
	}
	if (r == 0) {
		r = ctz_launch(a->ctz, &ct, NULL, err);
		/* -EAGAIN: the user namespace pool is exhausted for now (the
		 * caller's TASK_FAILED); any other refusal is the task's. */
		if (r < 0 && !(r == -EAGAIN && ct.userns_root))
			r = -EINVAL;
	}
	if (env)
		for (size_t i = 0; env[i]; i++)
			free((char *)env[i]);
	free(env);
	free(argv);
	free(uris);
	return r < 0 ? r : 0;
}

/* The grace period of a TaskInfo's kill_policy in ms; -1 when it has none. */
static int64_t task_grace_ms(const char *task_json)
{
	json_t *task = json_loads(task_json, 0, NULL);
	json_t *ns = json_object_get(
	        json_object_get(json_object_get(task, "kill_policy"), "grace_period"),
	        "nanoseconds");
	int64_t v = -1;
	/* protobuf's JSON writes int64 as a string; accept both */
	if (json_is_integer(ns))
		v = json_integer_value(ns);
	else if (json_is_string(ns) && ag_parse_i64(json_string_value(ns), &v) < 0)
		v = -1;
	json_decref(task);
	return v >= 0 ? v / 1000000 : -1;
}

/* ctz_kill could not record the kill's deadline: it killed at once. */
static void kill_unrecorded(const char *framework_id, const char *task_id, int r)
{
	ag_warn("task `%s` of framework `%s`: the kill could not be recorded (%s): killed "
	        "at once, without its grace period",
	        task_id, framework_id, strerror(-r));
}

struct fw_kill {
	struct agent *a;
	const char *fw;
};

/* SHUTDOWN_FRAMEWORK: each task gets its own kill_policy's grace, else
 * --executor_shutdown_grace_period (Mesos gives its executors that long). */
static void kill_if_fw(void *ctx, const struct ctz_upd_task_view *t)
{
	struct fw_kill *k = ctx;
	if (strcmp(t->framework_id, k->fw) != 0 || pb_task_state_is_terminal(t->state))
		return;
	int64_t grace = task_grace_ms(t->task_json);
	if (grace < 0)
		grace = k->a->has_shutdown_grace ? k->a->shutdown_grace_ms
		                                 : AGENT_SHUTDOWN_GRACE_MS;
	int r = ctz_kill(k->a->ctz, t->framework_id, t->task_id, grace);
	if (r < 0 && r != -ENOENT)
		kill_unrecorded(t->framework_id, t->task_id, r);
}

struct grace_lookup {
	const char *framework_id, *task_id;
	int64_t grace_ms; /* -1: none in the TaskInfo */
};

static void find_grace(void *ctx, const struct ctz_upd_task_view *t)
{
	struct grace_lookup *g = ctx;
	if (strcmp(t->task_id, g->task_id) != 0 || strcmp(t->framework_id, g->framework_id) != 0)
		return;
	g->grace_ms = task_grace_ms(t->task_json);
}

/* KILL_TASK's grace period: its own kill_policy, else the one of the
 * task's TaskInfo, else --executor_shutdown_grace_period: what Mesos's
 * command executor does (its default grace is that flag's value). */
static int64_t kill_grace_ms(struct agent *a, const struct pb_agent_msg *m)
{
	if (m->kill_task.has_grace)
		return m->kill_task.grace_ns / 1000000;
	struct grace_lookup g = {m->kill_task.framework_id ? m->kill_task.framework_id : "",
	                         m->kill_task.task_id, -1};
	ctz_upd_task_foreach(a->upd, find_grace, &g);
	if (g.grace_ms >= 0)
		return g.grace_ms;
	return a->has_shutdown_grace ? a->shutdown_grace_ms : AGENT_SHUTDOWN_GRACE_MS;
}

static void on_message(void *ctx, const struct pb_agent_msg *m)
{
	struct agent *a = ctx;
	switch (m->type) {
	case PB_AGENT_RUN_TASK:
		run_task(a, &m->run_task.framework_info, &m->run_task.task);
		break;
	case PB_AGENT_KILL_TASK: {
		const char *id = m->kill_task.task_id;
		const char *fw = m->kill_task.framework_id ? m->kill_task.framework_id : "";
		if (agent_exec_kill_task(a, fw, id,
		                         m->kill_task.has_grace ? m->kill_task.grace_ns : -1))
			break;
		int64_t grace = kill_grace_ms(a, m);
		ag_info("KILL_TASK: task `%s` of framework `%s`, grace %.1f s", id, fw,
		        (double)grace / 1000.0);
		int r = ctz_kill(a->ctz, fw, id, grace);
		if (r < 0 && r != -ENOENT)
			kill_unrecorded(fw, id, r);
		bool unknown = r == -ENOENT && !ctz_upd_task_known(a->upd, fw, id);
		if (r == -ENOENT && !unknown)
			ag_info("task `%s` of framework `%s`: not running, nothing to kill", id,
			        fw);
		if (unknown) {
			/* Unknown: TASK_LOST so the master's view converges; sent once,
			 * not queued (there is no task to queue it for). */
			send_unqueued(a, fw, id,
			              status_json(a, id, "TASK_LOST", "REASON_RECONCILIATION",
			                          "unknown task", NULL));
			ag_info("task `%s` of framework `%s`: TASK_LOST (REASON_RECONCILIATION): "
			        "unknown task (sent once, not queued)",
			        id, fw);
		}
		break;
	}
	case PB_AGENT_STATUS_UPDATE_ACK: {
		const __typeof__(m->status_update_ack) *ack = &m->status_update_ack;
		const char *fw = ack->framework_id ? ack->framework_id : "";
		/* Before the ack, which forgets a task whose terminal update it is. */
		struct agent_exec *owner = agent_exec_owner(a, fw, ack->task_id);
		int r = ctz_upd_ack(a->upd, fw, ack->task_id, ack->uuid.data, ack->uuid.len,
		                    ag_now_ns());
		if (r > 0)
			agent_exec_acknowledged(owner, ack->task_id, ack->uuid.data, ack->uuid.len);
		if (ag_log_enabled(AG_LOG_DEBUG)) {
			_cleanup_free_ char *b64 = pb_base64_encode(ack->uuid.data, ack->uuid.len);
			ag_debug("task `%s` of framework `%s`: status update (uuid %s) %s",
			         ack->task_id, fw, b64,
			         r > 0 ? "acknowledged"
			               : "acknowledged again, or unknown: ignored");
		}
		agent_updates_kick(a);
		break;
	}
	case PB_AGENT_SHUTDOWN_FRAMEWORK: {
		struct fw_kill k = {a, m->shutdown_framework.framework_id};
		ag_info("SHUTDOWN_FRAMEWORK: framework `%s`: its tasks are killed", k.fw);
		ctz_upd_task_foreach(a->upd, kill_if_fw, &k);
		agent_exec_shutdown_framework(a, k.fw);
		break;
	}
	case PB_AGENT_FRAMEWORK_MESSAGE:
		agent_exec_framework_message(a, m);
		break;
	case PB_AGENT_SHUTDOWN_EXECUTOR:
		agent_exec_shutdown(a, m->shutdown_executor.framework_id,
		                    m->shutdown_executor.executor_id);
		break;
	default:
		break;
	}
}

/* ---- lifecycle -------------------------------------------------------- */

/* The work dir 0700 and the database 0600, before SQLite opens it (its WAL
 * and shm files take the database's mode): they hold every TaskInfo, and
 * the sandboxes of every framework are below. An older agent's files are
 * closed the same way. */
static int make_private(const char *work_dir, const char *db, struct ag_error *err)
{
	if (mkdir(work_dir, 0700) < 0 && errno != EEXIST)
		return ag_error_set(err, errno, "create the work dir `%s`", work_dir);
	if (chmod(work_dir, 0700) < 0)
		return ag_error_set(err, errno, "chmod 0700 the work dir `%s`", work_dir);
	_cleanup_close_ int fd = open(db, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || fchmod(fd, 0600) < 0)
		return ag_error_set(err, errno, "create the database `%s` mode 0600", db);
	static const char *const side[] = {"-wal", "-shm", "-journal"};
	for (size_t i = 0; i < AG_ARRAY_SIZE(side); i++) {
		_cleanup_free_ char *f = ag_asprintf("%s%s", db, side[i]);
		if (chmod(f, 0600) < 0 && errno != ENOENT)
			return ag_error_set(err, errno, "chmod 0600 `%s`", f);
	}
	return 0;
}

int agent_init(struct agent *a, int64_t sandbox_gc_s, struct ag_error *err)
{
	static char host[256];
	if (!a->hostname) {
		struct utsname u;
		uname(&u);
		snprintf(host, sizeof(host), "%s", u.nodename);
		a->hostname = host;
	}
	a->base = event_base_new();
	a->ctz_upd_timer = evtimer_new(a->base, on_upd_timer, a);
	_cleanup_free_ char *db = ag_asprintf("%s/agent.db", a->work_dir);
	struct ctz_upd_config uc = {.db_path = db, .backoff_base_ms = a->update_backoff_ms};
	int r = make_private(a->work_dir, db, err);
	if (r < 0)
		return r;
	r = ctz_upd_open(&uc, &a->upd, err);
	if (r < 0)
		return r;
	/* Registering as a new agent would orphan the tasks of the id kept. */
	r = ctz_upd_meta_get(a->upd, "agent_id", &a->agent_id);
	if (r < 0)
		return ag_error_set(err, -r, "read the agent id kept in `%s`", db);
	struct ctz_config cc = {
	        .work_dir = a->work_dir,
	        .images_dir = a->images_dir,
	        .monitor_path = a->monitor_path,
	        .cgroups_disabled = !a->cap.isolated,
	        .cgroup_parent = a->cgroup_parent,
	        .sandbox_keep_ms = sandbox_gc_s * 1000,
	        .userns = a->userns,
	        .fetch = a->fetch,
	        .on_task_state = on_task_state,
	        .cb_ctx = a,
	};
	r = ctz_open(&cc, &a->ctz, err);
	if (r < 0)
		return r;
	struct agent_checks_ops ops = {check_exec, on_check_report};
	a->checks = agent_checks_new(a->base, &ops, a);
	_cleanup_free_ char *secret = ag_asprintf("%s/agent-secret", a->work_dir);
	struct agent_ml_config mc = {.master = a->master_host,
	                             .backoff_base_ms = a->registration_backoff_ms,
	                             .secret_path = secret};
	struct agent_ml_callbacks cb = {registration,    on_registered,     on_message,
	                                on_disconnected, on_secret_unsaved, on_master_changed};
	a->link = agent_ml_new(a->base, &mc, &cb, a, err);
	if (!a->link)
		return -EINVAL;
	return agent_ml_load_secret(a->link, err);
}

struct unlaunched {
	struct agent *a;
	size_t n; /* tasks failed */
};

static void fail_unlaunched(void *ctx, const struct ctz_upd_task_view *t)
{
	struct unlaunched *u = ctx;
	struct agent *a = u->a;
	/* Containerizer records from before the (framework, task) key: they
	 * belong to the only framework with a task of that id. */
	const char *only = ctz_upd_task_framework(a->upd, t->task_id);
	if (only && strcmp(only, t->framework_id) == 0)
		/* How many: not needed. One not adopted keeps no framework
		 * and is mapped again at the next start. */
		AG_IGNORE_RESULT(ctz_adopt_framework(a->ctz, t->task_id, t->framework_id));
	if (pb_task_state_is_terminal(t->state) ||
	    ctz_sandbox_of(a->ctz, t->framework_id, t->task_id) ||
	    agent_exec_task_json_has_executor(t->task_json)) /* its executor's (executor.c) */
		return;
	/* Recorded, but the containerizer has no record: the agent died between
	 * the two. Never launched, and not relaunched. */
	u->n++;
	enqueue(a, t->framework_id, t->task_id, "TASK_FAILED", "REASON_AGENT_RESTARTED",
	        "the agent restarted before the task was launched; it is not relaunched", NULL);
}

int agent_recover(struct agent *a, struct ag_error *err)
{
	struct ctz_recovery n = {0};
	int r = agent_exec_load(a, err);
	if (r < 0)
		return r;
	r = ctz_recover(a->ctz, &n, err);
	if (r < 0)
		return r;
	agent_exec_recover(a);
	/* enqueue() during the walk only changes a task's state, never the
	 * set of tasks. */
	struct unlaunched u = {a, 0};
	ctz_upd_task_foreach(a->upd, fail_unlaunched, &u);
	ctz_upd_task_foreach(a->upd, resume_checks, a);
	if (agent_checks_tasks(a->checks))
		ag_info("checks of %zu running tasks resumed", agent_checks_tasks(a->checks));
	ag_info("recovered containers: %zu re-attached running, %zu ended while the agent was "
	        "away, %zu failed as never launched, %zu lost; %zu status updates to send",
	        n.running, n.ended, n.unlaunched + u.n, n.lost, ctz_upd_pending(a->upd));
	return 0;
}

void agent_fini(struct agent *a)
{
	agent_exec_fini(a);
	agent_ml_free(a->link);
	/* No answer comes after the link is gone. */
	while (a->posts) {
		struct ctz_upd_post *p = a->posts;
		a->posts = p->next;
		post_free(p);
	}
	agent_checks_free(a->checks);
	ctz_close(a->ctz);
	ctz_upd_close(a->upd);
	if (a->http)
		evhttp_free(a->http);
	event_free(a->ctz_upd_timer);
	if (a->agent_held_timer)
		event_free(a->agent_held_timer);
	agent_held_clear(&a->held);
	free(a->disk_error);
	event_base_free(a->base);
	free(a->agent_id);
	free(a->master_host);
	json_decref(a->attributes);
}
