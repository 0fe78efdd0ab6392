/* agents.c: POST /api/v1/agent (docs/agent-protocol.md): REGISTER,
 * REREGISTER (rebuilding tasks and frameworks after a master restart),
 * HEARTBEAT, STATUS_UPDATE; agent loss; the registry's agents at start. */
#include "common/log.h"
#include "master/master.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>
#include <sys/random.h>

void ms_agent_free(struct ms_agent *a)
{
	if (!a)
		return;
	drf_resources_free(a->total);
	free(a->info);
	json_decref(a->attributes);
	free(a->version);
	free(a->ip);
	free(a->hostname);
	free(a->id);
	if (a->secret)
		explicit_bzero(a->secret, strlen(a->secret));
	free(a->secret);
	free(a);
}

static void agent_set_info(struct ms_agent *a, json_t *info)
{
	free(a->info);
	a->info = pb_json_dump(info, NULL);
	json_decref(a->attributes);
	json_t *attrs = json_object_get(info, "attributes");
	a->attributes = json_array_size(attrs) ? json_incref(attrs) : NULL;
	json_decref(info);
}

json_t *ms_agent_info_json(const struct ms_agent *a)
{
	json_t *info = a->info ? json_loads(a->info, 0, NULL) : NULL;
	return info ? info : json_pack("{s:s}", "hostname", a->hostname ? a->hostname : "");
}

json_t *ms_agent_json(struct ms_master *m, struct ms_agent *a)
{
	(void)m;
	json_t *info = ms_agent_info_json(a);
	json_t *res = json_object_get(info, "resources");
	if (res && a->total)
		json_object_set_new(info, "resources",
		                    ms_resources_to_json(a->total, PB_RES_OPERATOR, NULL));
	char *pid = ag_asprintf("slave(1)@%s:%d", a->ip ? a->ip : "0.0.0.0", a->port);
	json_t *j = json_pack("{s:o, s:b, s:s, s:s, s:o}", "agent_info", info, "active",
	                      a->active && !a->unreachable && a->stream != NULL, "version",
	                      a->version ? a->version : AGORA_VERSION, "pid", pid,
	                      "registered_time", pb_time_to_json(a->registered_ns));
	free(pid);
	if (a->reregistered_ns)
		json_object_set_new(j, "reregistered_time", pb_time_to_json(a->reregistered_ns));
	if (a->total)
		json_object_set_new(j, "total_resources",
		                    ms_resources_to_json(a->total, PB_RES_OPERATOR, NULL));
	ms_drain_agent_json(a, j);
	return j;
}

void ms_agent_lost(struct ms_master *m, struct ms_agent *a, bool by_operator)
{
	ms_offers_rescind_matching(m, NULL, a, true);
	ms_tasks_agent_lost(m, a, by_operator);
	ms_executors_agent_lost(m, a);
	if (a->active)
		ms_alloc_check(drf_agent_remove(m->alloc, a->id), "remove agent", a->id);
	a->active = false;
	if (by_operator)
		a->gone = true;
	else
		a->unreachable = true;
	if (a->stream) {
		struct ms_stream *s = a->stream;
		a->stream = NULL;
		ms_stream_end(s);
	}
	ms_operator_broadcast(
	        m, pb_operator_event(PB_OPEV_AGENT_REMOVED,
	                             json_pack("{s:o}", "agent_id", pb_id_to_json(a->id))));
	/* Every subscribed framework hears of it, after its tasks' updates,
	 * as from Mesos (a FAILURE with only the agent: the scheduler's
	 * slaveLost), whether or not it had tasks there. */
	struct ag_map_iter it;
	for (ag_map_iter_init(&it); ag_map_iter_next(&m->frameworks, &it);) {
		struct ms_framework *fw = it.e->value;
		if (fw->stream)
			ms_framework_send(fw,
			                  json_pack("{s:s, s:{s:o}}", "type", "FAILURE", "failure",
			                            "agent_id", pb_id_to_json(a->id)));
	}
	ms_allocate_soon(m);
}

static void agent_stream_closed(struct ms_stream *s, enum ms_stream_close_reason reason, void *arg)
{
	struct ms_agent *a = arg;
	(void)s;
	a->stream = NULL;
	ag_info("agent %s (%s) disconnected (%s)", a->id, a->hostname,
	        ms_stream_close_reason_name(reason));
	/* Its offers cannot be launched now; it keeps its tasks until it
	 * comes back or misses its heartbeats. */
	ms_offers_rescind_matching(a->m, NULL, a, true);
	if (a->active)
		ms_alloc_check(drf_agent_deactivate(a->m->alloc, a->id), "deactivate agent", a->id);
}

static char *peer_ip(struct evhttp_request *req)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	const struct sockaddr *sa = c ? evhttp_connection_get_addr(c) : NULL;
	char buf[INET6_ADDRSTRLEN] = "127.0.0.1";
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, sizeof(buf));
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
		          sizeof(buf));
	return ag_strdup(buf);
}

/* ---- the agent's secret (docs/agent-protocol.md, Agent secret) ------- */

/* A registration_order this far ahead of the master's clock is refused: a
 * registration at the end of time would make every later one stale. */
#define MS_ORDER_MAX_AHEAD_NS (300 * 1000000000LL)

/* Whether `got` is `want`, in a time that depends on their lengths only
 * (the length of a secret is no secret): a comparison that stops at the
 * first difference tells a remote caller how much of its guess is right. */
static bool secret_equal(const char *want, const char *got)
{
	if (!want || !got)
		return false;
	size_t n = strlen(want);
	if (strlen(got) != n)
		return false;
	volatile unsigned char diff = 0;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(want[i] ^ got[i]);
	return diff == 0;
}

/* Whether `req` carries the secret of agent `a`; when not, it is answered
 * 403 (and logged): the caller changes nothing. */
static bool secret_ok(struct evhttp_request *req, struct ms_agent *a, const char *what)
{
	const char *got = ms_http_header(req, PB_AGENT_SECRET_HEADER);
	if (a->secret && secret_equal(a->secret, got)) {
		a->secret_unconfirmed = false;
		return true;
	}
	_cleanup_free_ char *peer = peer_ip(req);
	ag_warn("agent %s: %s from %s %s: refused", a->id, what, peer,
	        got ? "with a wrong secret" : "without a secret");
	ms_http_reply_error(
	        req, 403, "%s of agent %.128s refused: the " PB_AGENT_SECRET_HEADER " header is %s",
	        what, a->id, got ? "not the agent's secret" : "missing");
	return false;
}

/* A new secret for `a` in a->secret (the previous one, if any, freed).
 * -errno when the kernel has no random bytes to give. */
static int issue_secret(struct ms_agent *a)
{
	uint8_t raw[PB_AGENT_SECRET_LEN / 2];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -errno;
	char *hex = ag_malloc(PB_AGENT_SECRET_LEN + 1);
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	explicit_bzero(raw, sizeof(raw));
	free(a->secret);
	a->secret = hex;
	return 0;
}

/* A registration_order from beyond the master's clock (plus the bound) is
 * answered 400 naming it: true when refused. */
static bool refuse_future(struct evhttp_request *req, const struct pb_agent_msg *msg)
{
	if (!msg->reg.has_order)
		return false;
	int64_t now = ag_wall_ns();
	uint64_t limit = (uint64_t)now + (uint64_t)MS_ORDER_MAX_AHEAD_NS;
	if (msg->reg.order.agent_started_ns <= limit)
		return false;
	ms_http_reply_error(req, HTTP_BADREQUEST,
	                    "%s.registration_order.agent_started_ns: %" PRIu64
	                    " ns is more than %lld s ahead of the master's clock (%" PRId64 " ns)",
	                    msg->type == PB_AGENT_REREGISTER ? "reregister" : "register",
	                    msg->reg.order.agent_started_ns, MS_ORDER_MAX_AHEAD_NS / 1000000000LL,
	                    now);
	return true;
}

/* A message for the agent once its new stream is up (REGISTERED first). */
static void add_later(json_t *later, json_t *msg)
{
	json_array_append_new(later, msg);
}

static void later_kill(json_t *later, const char *fw_id, const char *task_id)
{
	add_later(later,
	          json_pack("{s:s, s:{s:o, s:o}}", "type", "KILL_TASK", "kill_task", "framework_id",
	                    pb_id_to_json(fw_id), "task_id", pb_id_to_json(task_id)));
}

/* A task the agent reports for a framework without TASK_KILLING_STATE is
 * RUNNING for the master while it is being killed (reference §4). */
static enum pb_task_state shown_state(const struct ms_framework *fw, enum pb_task_state s)
{
	if (s == PB_TASK_KILLING && !(fw->caps & PB_CAP_BIT(PB_CAP_TASK_KILLING_STATE)))
		return PB_TASK_RUNNING;
	return s;
}

/* Reconcile the master's tasks on `a` with the ones its re-registration
 * reports (Mesos' reconcileKnownSlave):
 * - unknown to the master: adopted after a master restart; killed when
 *   the master has known the agent (it told the framework the task
 *   ended: TASK_LOST with the agent, or unknown to it before), or when
 *   the agent comes back from a partition and the framework is not
 *   PARTITION_AWARE (it got TASK_LOST);
 * - TASK_UNREACHABLE ones (PARTITION_AWARE) are running again: booked,
 *   and an update tells the framework;
 * - known to the master but not reported (a RUN_TASK lost in flight, or
 *   the agent lost it): TASK_LOST, TASK_DROPPED for PARTITION_AWARE
 *   frameworks, REASON_RECONCILIATION.
 * The agent reads nothing before REGISTERED: what it must be told goes
 * into `later`. `known`: the agent registered with this master before;
 * `was_unreachable`: it had been marked unreachable. */
static void adopt_tasks(struct ms_master *m, struct ms_agent *a, const struct pb_agent_msg *msg,
                        bool known, bool was_unreachable, json_t *later)
{
	const json_t *jtasks = json_object_get(json_object_get(msg->json, "reregister"), "tasks");
	const json_t *jfws =
	        json_object_get(json_object_get(msg->json, "reregister"), "frameworks");
	json_t *shutdown = json_object(); /* removed frameworks told once */
	for (struct ms_task *t = a->tasks; t; t = t->agent_next)
		t->seen = false;
	for (size_t i = 0; i < msg->reg.n_tasks; i++) {
		const struct pb_agent_task *at = &msg->reg.tasks[i];
		const json_t *jt = json_array_get(jtasks, i);
		bool live = !pb_task_state_is_terminal(at->status.state);
		if (!live && !at->has_unacknowledged)
			continue;
		if (ag_map_get(&m->removed_frameworks, at->framework_id)) {
			if (!json_object_get(shutdown, at->framework_id)) {
				json_object_set_new(shutdown, at->framework_id, json_true());
				add_later(later,
				          json_pack("{s:s, s:{s:o}}", "type", "SHUTDOWN_FRAMEWORK",
				                    "shutdown_framework", "framework_id",
				                    pb_id_to_json(at->framework_id)));
			}
			continue;
		}
		struct ms_framework *fw = ms_framework_find(m, at->framework_id);
		for (size_t k = 0; !fw && k < msg->reg.n_frameworks; k++)
			if (msg->reg.frameworks[k].id &&
			    strcmp(msg->reg.frameworks[k].id, at->framework_id) == 0)
				fw = ms_framework_recover(m, at->framework_id,
				                          json_array_get(jfws, k));
		if (!fw) {
			ag_warn("agent %s: task %s of framework %s, whose FrameworkInfo it did not "
			        "send: ignored",
			        a->id, at->task.task_id, at->framework_id);
			continue;
		}
		bool pa = fw->caps & PB_CAP_BIT(PB_CAP_PARTITION_AWARE);
		struct ms_task *t = ms_task_find(fw, at->task.task_id);
		if (t && t->agent != a) {
			/* The master's task of that id runs elsewhere: this copy
			 * is not the framework's. */
			if (live)
				later_kill(later, fw->id, t->id);
			continue;
		}
		if (t) {
			t->seen = true;
			if (t->kill_pending && live)
				later_kill(later, fw->id, t->id);
			t->kill_pending = false;
			/* The agent's unacknowledged updates come again as
			 * STATUS_UPDATEs and move the task on from there. */
			if (t->state != PB_TASK_UNREACHABLE || !live)
				continue;
			/* Back from a partition: booked again (the agent's
			 * allocations left with it), running for the framework. */
			t->booked =
			        drf_allocation_add(m->alloc, fw->id, a->id, t->role, t->res) == 0;
			if (!t->booked)
				ag_warn("agent %s: task %s: its resources exceed the agent's",
				        a->id, t->id);
			ms_executor_adopt(m, fw, a, &at->task, t->role);
			enum pb_task_state s = shown_state(fw, at->status.state);
			if (s == PB_TASK_STAGING)
				t->state = s; /* never sent as an update */
			else
				ms_task_master_transition(m, t, s, PB_REASON_AGENT_REREGISTERED,
				                          "Agent re-registered", true);
			continue;
		}
		if (known || (was_unreachable && !pa)) {
			/* The framework was told this task ended. */
			if (live) {
				ag_info("agent %s: task %s of framework %s ended for the master: "
				        "killing it",
				        a->id, at->task.task_id, fw->id);
				later_kill(later, fw->id, at->task.task_id);
			}
			continue;
		}
		struct drf_resources *res = NULL;
		struct ag_error err = {0};
		if (ms_resources_from_pb(m, at->task.resources, at->task.n_resources, &res, &err) <
		    0) {
			ag_warn("agent %s: task %s: %s", a->id, at->task.task_id, err.msg);
			continue;
		}
		const char *role = NULL;
		for (size_t r = 0; !role && r < at->task.n_resources; r++)
			role = at->task.resources[r].allocation_role;
		if (!role)
			role = fw->roles[0];
		t = ms_task_adopt(m, fw, a, role, json_object_get(jt, "task"), res);
		t->seen = true;
		if (live) {
			t->booked = drf_allocation_add(m->alloc, fw->id, a->id, role, res) == 0;
			if (!t->booked)
				ag_warn("agent %s: task %s: its resources exceed the agent's",
				        a->id, t->id);
			/* its executor too, the first time (a restarted master) */
			ms_executor_adopt(m, fw, a, &at->task, role);
		}
		t->state = shown_state(fw, at->status.state);
		ms_task_set_status(t, json_object_get(jt, "status"));
	}
	json_decref(shutdown);
	struct ms_task *t, *next;
	for (t = a->tasks; t; t = next) {
		next = t->agent_next;
		if (t->seen || ms_task_state_ended(t->state))
			continue;
		bool pa = t->fw->caps & PB_CAP_BIT(PB_CAP_PARTITION_AWARE);
		ag_warn("agent %s: task %s of framework %s is unknown to the agent: %s", a->id,
		        t->id, t->fw->id, pa ? "TASK_DROPPED" : "TASK_LOST");
		ms_task_master_transition(m, t, pa ? PB_TASK_DROPPED : PB_TASK_LOST,
		                          PB_REASON_RECONCILIATION, "Task is unknown to the agent",
		                          true);
		ms_task_remove(m, t);
	}
}

/* A registration older than (or the same as) the last one accepted from
 * the agent is answered 409 with nothing changed: acting on it would end
 * the tasks launched since and replace the agent's live stream by one
 * nobody reads. true when refused. */
static bool refuse_stale(struct evhttp_request *req, const struct ms_agent *a,
                         const struct pb_agent_msg *msg)
{
	if (!a || !a->has_order || !msg->reg.has_order ||
	    pb_registration_order_cmp(&msg->reg.order, &a->order) > 0)
		return false;
	char why[256];
	snprintf(why, sizeof(why),
	         "Stale registration: seq %" PRIu64 " of the agent process started at %" PRIu64
	         " ns; already have seq %" PRIu64 " of the process started at %" PRIu64 " ns",
	         msg->reg.order.seq, msg->reg.order.agent_started_ns, a->order.seq,
	         a->order.agent_started_ns);
	ag_warn("agent %s (%s): %s: refused", a->id, a->hostname, why);
	ms_http_reply_error(req, 409, "%s", why);
	return true;
}

/* Scalars finite and bounded, and something a task can use: a task needs
 * cpus or mem (ms_task_validate), so an agent with neither is refused. */
static int agent_resources_check(const struct pb_agent_info *ai, struct ag_error *err)
{
	int r = pb_resources_check(ai->resources, ai->n_resources, "agent_info.resources", err);
	if (r < 0)
		return r;
	if (pb_resources_scalar_milli(ai->resources, ai->n_resources, "cpus") <= 0 &&
	    pb_resources_scalar_milli(ai->resources, ai->n_resources, "mem") <= 0)
		return ag_error_msg(err, EINVAL,
		                    "agent_info.resources: no usable resources: cpus > 0 or mem "
		                    "> 0 is needed");
	return 0;
}

static uint64_t suffix_number(const char *id, const char *master_id, const char *sep);

/* Whether `text` holds the same JSON as `j` (objects compare whatever
 * their keys' order). */
static bool same_json(const char *text, const json_t *j)
{
	json_t *t = text ? json_loads(text, 0, NULL) : NULL;
	bool same = t && json_equal(t, j);
	json_decref(t);
	return same;
}

static void register_agent(struct ms_master *m, struct evhttp_request *req,
                           const struct pb_agent_msg *msg)
{
	bool rereg = msg->type == PB_AGENT_REREGISTER;
	const struct pb_agent_info *ai = &msg->reg.agent_info;
	struct ag_error err = {0};
	const char *want = rereg ? (msg->agent_id ? msg->agent_id : ai->id) : NULL;
	struct ms_agent *a = want ? ag_map_get(&m->agents, want) : NULL;
	if (rereg && !want) {
		ms_http_reply_error(req, HTTP_BADREQUEST, "REREGISTER needs 'agent_id'");
		return;
	}
	/* Once the agent has a secret, only its holder speaks for it. A
	 * secret issued on a re-registration and never presented may not
	 * have arrived: a re-registration without one is issued another. */
	bool reissue = a && a->secret_unconfirmed && !ms_http_header(req, PB_AGENT_SECRET_HEADER);
	if (a && a->secret && !reissue && !secret_ok(req, a, "REREGISTER"))
		return;
	if (refuse_future(req, msg))
		return;
	if (a && a->gone) {
		struct ms_stream *s = ms_stream_start(m->http, req, NULL, NULL, NULL);
		if (s) {
			const char *e =
			        "{\"type\":\"ERROR\",\"error\":{\"message\":\"Agent has been "
			        "marked gone\"}}";
			/* The last record: a refused one means the
			 * stream is closing anyway. */
			AG_IGNORE_RESULT(ms_stream_send(s, e, strlen(e)));
			ms_stream_end(s);
		}
		return;
	}
	if (refuse_stale(req, a, msg))
		return;
	if (agent_resources_check(ai, &err) < 0) {
		ms_http_reply_error(req, HTTP_BADREQUEST, "%s", err.msg);
		return;
	}
	struct drf_resources *total = NULL;
	if (ms_resources_from_pb(m, ai->resources, ai->n_resources, &total, &err) < 0) {
		ms_http_reply_error(req, HTTP_BADREQUEST, "agent_info.%s", err.msg);
		return;
	}
	bool is_new = a == NULL;
	if (is_new) {
		a = ag_calloc(1, sizeof(*a));
		a->m = m;
		a->id = want ? ag_strdup(want)
		             : ag_asprintf("%s-S%" PRIu64, m->id, m->next_agent++);
		a->registered_ns = ag_wall_ns();
	}
	/* What the registry keeps of it (hostname, AgentInfo) is applied
	 * only once it is recorded, below. */
	json_t *info = json_deep_copy(json_object_get(
	        json_object_get(msg->json, rereg ? "reregister" : "register"), "agent_info"));
	json_object_set_new(info, "id", pb_id_to_json(a->id));
	_cleanup_free_ char *info_text = pb_json_dump(info, NULL);
	const char *hostname = ai->hostname ? ai->hostname : "";
	/* A new agent, or one admitted before secrets (the first
	 * re-registration since the master's upgrade: the one chance an
	 * impersonator has, docs/agent-protocol.md), gets its secret now. */
	bool issued = a->secret == NULL || reissue;
	_cleanup_free_ char *previous = reissue ? ag_strdup(a->secret) : NULL;
	int r = issued ? issue_secret(a) : 0;
	if (r < 0) {
		ms_http_reply_error(req, HTTP_SERVUNAVAIL, "Cannot draw a secret: %s",
		                    strerror(-r));
		drf_resources_free(total);
		json_decref(info);
		if (is_new)
			ms_agent_free(a);
		return;
	}
	if (issued && !is_new)
		ag_warn("agent %s (%s) had no secret (admitted by an older master%s): issued one",
		        a->id, a->hostname,
		        reissue ? "; the one issued at its last registration was never presented"
		                : "");
	/* Admission, and the secret, are durable before the agent learns
	 * them. A re-registration that changes nothing the registry keeps
	 * needs no write (and works on a full disk). */
	bool write = is_new || issued || !a->hostname || strcmp(a->hostname, hostname) != 0 ||
	             !same_json(a->info, info);
	struct ms_registry_agent rec = {
	        .id = a->id,
	        .hostname = hostname,
	        .info_json = info_text,
	        .registered_at_ns = a->registered_ns,
	        .gone = a->gone,
	        .secret = a->secret,
	};
	if (write)
		r = ms_registry_wrote(m, ms_registry_agent_put(m->registry, &rec, &err), &err);
	if (r < 0) {
		ag_debug("agent %s: %s refused: %s", a->id, rereg ? "REREGISTER" : "REGISTER",
		         err.msg);
		ms_reply_unwritable(req, "Cannot record the agent", &err);
		drf_resources_free(total);
		json_decref(info);
		if (is_new) {
			ms_agent_free(a);
		} else if (issued) {
			free(a->secret);
			a->secret = previous ? TAKE_PTR(previous) : NULL;
		}
		return;
	}
	if (!is_new)
		a->reregistered_ns = ag_wall_ns();
	free(a->hostname);
	a->hostname = ag_strdup(hostname);
	free(a->ip);
	a->ip = peer_ip(req);
	a->port = ai->port ? ai->port : 5051;
	free(a->version);
	a->version = msg->reg.version ? ag_strdup(msg->reg.version) : NULL;
	agent_set_info(a, info);
	if (issued && rereg)
		a->secret_unconfirmed = true;
	if (is_new) {
		ag_map_put(&m->agents, a->id, a);
		/* An id of this master's form that it has not handed out yet
		 * (re-registered after its registry was lost, or made up) is
		 * never handed out to another agent. */
		uint64_t n = want ? suffix_number(want, m->id, "-S") : 0;
		if (n > m->next_agent)
			m->next_agent = n;
	}
	if (msg->reg.has_order) {
		a->has_order = true;
		a->order = msg->reg.order;
	}

	if (a->stream) {
		struct ms_stream *old = a->stream;
		a->stream = NULL;
		ms_stream_end(old);
	}
	if (a->active && !drf_resources_contains(total, a->total)) {
		/* Shrunk: start over from what it reports. */
		ms_offers_rescind_matching(m, NULL, a, true);
	}
	if (!a->active) {
		ms_alloc_check(drf_agent_add(m->alloc, a->id, total), "add agent", a->id);
		a->active = true;
	} else {
		ms_offers_rescind_matching(m, NULL, a, true);
		if (drf_agent_update(m->alloc, a->id, total) < 0)
			/* -EBUSY: its tasks use more than it now reports. */
			ag_warn("agent %s (%s): its new resources do not hold what its tasks use: "
			        "offers go on from its previous total",
			        a->id, a->hostname);
		ms_alloc_check(drf_agent_activate(m->alloc, a->id), "activate agent", a->id);
	}
	drf_resources_free(a->total);
	a->total = total;
	bool known = a->last_seen_ns != 0, was_unreachable = a->unreachable;
	a->unreachable = false;
	a->last_seen_ns = ag_now_ns();
	json_t *later = json_array();
	if (rereg)
		adopt_tasks(m, a, msg, known, was_unreachable, later);

	char *sid = ms_uuid();
	snprintf(a->stream_id, sizeof(a->stream_id), "%s", sid);
	free(sid);
	const char *headers[] = {"Mesos-Stream-Id", a->stream_id, NULL};
	a->stream = ms_stream_start(m->http, req, headers, agent_stream_closed, a);
	ag_info("agent %s (%s at %s) %s", a->id, a->hostname, a->ip,
	        rereg ? "re-registered" : "registered");
	json_t *registered = json_pack("{s:o, s:f, s:o}", "agent_id", pb_id_to_json(a->id),
	                               "heartbeat_interval_seconds",
	                               (double)m->flags.heartbeat_interval_ns / 1e9, "master_info",
	                               ms_master_info_json(m));
	/* Only on the stream of the registration that got it: a later one
	 * proved it has it. */
	if (issued)
		json_object_set_new(registered, "agent_secret", json_string(a->secret));
	ms_agent_send(a, json_pack("{s:s, s:o}", "type", "REGISTERED", "registered", registered));
	ms_drain_agent_registered(m, a);
	if (m->n_subscribers)
		ms_operator_broadcast(
		        m, pb_operator_event(PB_OPEV_AGENT_ADDED,
		                             json_pack("{s:o}", "agent", ms_agent_json(m, a))));
	/* What the re-registration found the agent must be told. */
	size_t i;
	json_t *x;
	json_array_foreach (later, i, x)
		ms_agent_send(a, json_incref(x));
	json_decref(later);
	ms_allocate_soon(m);
}

static void agent_endpoint(struct evhttp_request *req, void *arg)
{
	struct ms_master *m = arg;
	if (!ms_http_require_json_body(req))
		return;
	size_t len;
	const char *body = ms_http_body(req, &len);
	struct pb_agent_msg msg = {0};
	struct ag_error err = {0};
	int rc = pb_agent_msg_decode_lean(body, len, &msg, &err);
	if (rc < 0) {
		ms_reply_decode_error(req, rc, &err, body, len);
		return;
	}
	if (msg.type == PB_AGENT_REGISTER || msg.type == PB_AGENT_REREGISTER) {
		if (ms_check_agent_text(&msg, &err) < 0)
			ms_http_reply_error(req, HTTP_BADREQUEST, "%s", err.msg);
		else
			register_agent(m, req, &msg);
		pb_agent_msg_free(&msg);
		return;
	}
	struct ms_agent *a = msg.agent_id ? ag_map_get(&m->agents, msg.agent_id) : NULL;
	const char *sid = ms_http_header(req, "Mesos-Stream-Id");
	if (msg.type != PB_AGENT_STATUS_UPDATE && msg.type != PB_AGENT_STATUS_UPDATES &&
	    msg.type != PB_AGENT_HEARTBEAT && msg.type != PB_AGENT_EXECUTOR_MESSAGE &&
	    msg.type != PB_AGENT_EXECUTOR_EXITED)
		ms_http_reply_error(req, HTTP_BADREQUEST, "Agents may not send %s",
		                    pb_agent_msg_type_name(msg.type));
	else if (!msg.agent_id)
		ms_http_reply_error(req, HTTP_BADREQUEST, "Missing required fields: agent_id");
	else if (!a || !a->active)
		ms_http_reply_error(req, 403, "Agent %.128s is not registered", msg.agent_id);
	else if (!secret_ok(req, a, pb_agent_msg_type_name(msg.type)))
		; /* answered */
	else if (!sid || !a->stream || strcmp(sid, a->stream_id) != 0)
		ms_http_reply_error(req, 403, "Stream id is not the agent's current one");
	else {
		a->last_seen_ns = ag_now_ns();
		if (msg.type == PB_AGENT_STATUS_UPDATE)
			ms_task_status_update(m, a, msg.status_update.framework_id,
			                      &msg.status_update.status,
			                      msg.status_update.status_text);
		/* In the agent's order: a task's updates stay in sequence. */
		for (size_t i = 0; i < msg.status_updates.n_updates; i++) {
			const struct pb_status_update *u = &msg.status_updates.updates[i];
			ms_task_status_update(m, a, u->framework_id, &u->status, u->status_text);
		}
		if (msg.type == PB_AGENT_EXECUTOR_MESSAGE)
			ms_executor_message_from_agent(m, a, &msg);
		else if (msg.type == PB_AGENT_EXECUTOR_EXITED)
			ms_executor_exited(m, a, &msg);
		ms_http_reply_empty(req, 202);
	}
	pb_agent_msg_free(&msg);
}

int ms_agent_routes(struct ms_master *m)
{
	return ms_http_route(m->http, "/api/v1/agent", EVHTTP_REQ_POST, agent_endpoint, m);
}

/* ---- recovery from the registry ------------------------------------- */

static uint64_t suffix_number(const char *id, const char *master_id, const char *sep)
{
	size_t n = strlen(master_id);
	if (strncmp(id, master_id, n) != 0 || strncmp(id + n, sep, strlen(sep)) != 0)
		return 0;
	uint64_t v;
	return ag_parse_u64(id + n + strlen(sep), &v) == 0 ? v + 1 : 0;
}

static int load_agent(const struct ms_registry_agent *r, void *arg)
{
	struct ms_master *m = arg;
	struct ms_agent *a = ag_calloc(1, sizeof(*a));
	a->m = m;
	a->id = ag_strdup(r->id);
	a->hostname = ag_strdup(r->hostname ? r->hostname : "");
	json_t *info = r->info_json ? json_loads(r->info_json, 0, NULL) : NULL;
	if (!info)
		info = json_pack("{s:s}", "hostname", a->hostname);
	agent_set_info(a, info);
	a->gone = r->gone;
	a->registered_ns = r->registered_at_ns;
	a->secret = r->secret && *r->secret ? ag_strdup(r->secret) : NULL;
	ag_map_put(&m->agents, a->id, a);
	uint64_t n = suffix_number(r->id, m->id, "-S");
	if (n > m->next_agent)
		m->next_agent = n;
	return 0;
}

static int load_framework(const struct ms_registry_framework *r, void *arg)
{
	struct ms_master *m = arg;
	uint64_t n = suffix_number(r->id, m->id, "-");
	if (n > m->next_framework)
		m->next_framework = n;
	if (r->removed) {
		ag_map_put(&m->removed_frameworks, r->id, (void *)1);
		return 0;
	}
	json_t *info = json_loads(r->info_json, 0, NULL);
	if (info) {
		struct ms_framework *fw = ms_framework_recover(m, r->id, info);
		if (fw) {
			fw->registered_ns = r->registered_at_ns;
			fw->recorded = true;
		}
	}
	json_decref(info);
	return 0;
}

static int load_weight(const char *role, double w, void *arg)
{
	struct ms_master *m = arg;
	/* The registry keeps weights > 0 only (a CHECK constraint). */
	ms_alloc_check(drf_role_set_weight(m->alloc, role, w), "set the weight of role", role);
	return 0;
}

int ms_recover_state(struct ms_master *m, struct ag_error *err)
{
	int r = ms_registry_agents_foreach(m->registry, load_agent, m, err);
	if (r == 0)
		r = ms_registry_frameworks_foreach(m->registry, load_framework, m, err);
	if (r == 0)
		r = ms_registry_weights_foreach(m->registry, load_weight, m, err);
	if (r == 0)
		r = ms_drain_recover(m, err);
	return r;
}
