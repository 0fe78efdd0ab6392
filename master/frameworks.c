/* frameworks.c: framework lifecycle: SUBSCRIBE (new and re-subscribe),
 * the stream going away, failover timeouts, removal. */
#include "common/log.h"
#include "master/master.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

struct ms_framework *ms_framework_find(struct ms_master *m, const char *id)
{
	return id ? ag_map_get(&m->frameworks, id) : NULL;
}

void ms_framework_free(struct ms_framework *fw)
{
	if (!fw)
		return;
	struct ag_map_iter it;
	for (ag_map_iter_init(&it); ag_map_iter_next(&fw->tasks, &it);)
		ms_task_free(it.e->value);
	ag_map_clear(&fw->tasks);
	ms_executors_free(fw);
	for (size_t i = 0; i < fw->completed.len; i++)
		ms_task_free(ag_ring_get(&fw->completed, i));
	ag_ring_clear(&fw->completed);
	if (fw->failover)
		event_free(fw->failover);
	for (size_t i = 0; i < fw->n_roles; i++)
		free(fw->roles[i]);
	free(fw->roles);
	json_decref(fw->info);
	json_decref(fw->offers_out);
	free(fw->info_text);
	free(fw->principal);
	free(fw->id);
	free(fw);
}

/* The allocator roles of a FrameworkInfo: 0, or -EINVAL with the reason in
 * `err` when refused (Mesos refuses these inside the stream with an ERROR
 * event). */
static int framework_roles(const struct pb_framework_info *fi, char ***ret, size_t *ret_n,
                           struct ag_error *err)
{
	bool multi = fi->capabilities & PB_CAP_BIT(PB_CAP_MULTI_ROLE);
	if (multi && fi->role)
		return ag_error_msg(err, EINVAL,
		                    "'FrameworkInfo.role' must not be set when the framework is "
		                    "MULTI_ROLE capable");
	if (!multi && fi->n_roles)
		return ag_error_msg(
		        err, EINVAL,
		        "'FrameworkInfo.roles' must not be set when the framework is not "
		        "MULTI_ROLE capable");
	if (multi && !fi->n_roles)
		return ag_error_msg(err, EINVAL,
		                    "a MULTI_ROLE framework must subscribe to at least one role");
	size_t n = multi ? fi->n_roles : 1;
	char **roles = ag_calloc(n, sizeof(*roles));
	for (size_t i = 0; i < n; i++) {
		const char *r = multi ? fi->roles[i] : (fi->role ? fi->role : "*");
		bool ok = *r && strcmp(r, ".") != 0 && strcmp(r, "..") != 0 && r[0] != '/' &&
		          r[strlen(r) - 1] != '/';
		for (const char *p = r; ok && *p; p++)
			ok = (unsigned char)*p > ' ' && *p != '\\' && !strchr("();:,{}[]", *p);
		if (!ok) {
			for (size_t j = 0; j < i; j++)
				free(roles[j]);
			free(roles);
			return ag_error_msg(err, EINVAL, "invalid role name");
		}
		roles[i] = ag_strdup(r);
	}
	*ret = roles;
	*ret_n = n;
	return 0;
}

/* The FrameworkInfo of `id` as the master keeps and records it: a copy of
 * `info` with `id` set, and its text (*ret_text, the caller frees it). */
static json_t *fw_info_copy(const char *id, const json_t *info, char **ret_text)
{
	json_t *copy = json_deep_copy(info);
	json_object_set_new(copy, "id", pb_id_to_json(id));
	*ret_text = pb_json_dump(copy, NULL);
	return copy;
}

static double failover_timeout(const struct pb_framework_info *fi)
{
	return isfinite(fi->failover_timeout) && fi->failover_timeout > 0 ? fi->failover_timeout
	                                                                  : 0;
}

/* Take `copy` and `text` (fw_info_copy()) and `roles`. */
static void fw_set_info(struct ms_framework *fw, json_t *copy, char *text,
                        const struct pb_framework_info *fi, char **roles, size_t n_roles)
{
	json_decref(fw->info);
	fw->info = copy;
	free(fw->info_text);
	fw->info_text = text;
	for (size_t i = 0; i < fw->n_roles; i++)
		free(fw->roles[i]);
	free(fw->roles);
	fw->roles = roles;
	fw->n_roles = n_roles;
	fw->caps = fi->capabilities;
	fw->failover_timeout_s = failover_timeout(fi);
	free(fw->principal);
	fw->principal = fi->principal ? ag_strdup(fi->principal) : NULL;
}

json_t *ms_framework_json(struct ms_master *m, struct ms_framework *fw)
{
	json_t *j = json_pack("{s:O, s:b, s:b, s:b, s:o}", "framework_info", fw->info, "active",
	                      fw->stream != NULL, "connected", fw->stream != NULL, "recovered",
	                      fw->recovered, "registered_time", pb_time_to_json(fw->registered_ns));
	if (fw->reregistered_ns)
		json_object_set_new(j, "reregistered_time", pb_time_to_json(fw->reregistered_ns));
	if (fw->unregistered_ns && !fw->stream)
		json_object_set_new(j, "unregistered_time", pb_time_to_json(fw->unregistered_ns));
	json_t *offers = json_array();
	struct ag_map_iter it;
	for (ag_map_iter_init(&it); ag_map_iter_next(&m->offers, &it);) {
		struct ms_offer *o = it.e->value;
		if (o->fw == fw)
			json_array_append_new(
			        offers,
			        json_pack("{s:o, s:o, s:o, s:o}", "id", pb_id_to_json(o->id),
			                  "framework_id", pb_id_to_json(fw->id), "agent_id",
			                  pb_id_to_json(o->agent->id), "resources",
			                  ms_resources_to_json(o->res, PB_RES_OPERATOR, NULL)));
	}
	if (json_array_size(offers))
		json_object_set_new(j, "offers", offers);
	else
		json_decref(offers);
	return j;
}

/* How often a removal that could not be recorded is tried again. */
#define MS_REMOVE_RETRY_S 1

static void failover_fire(evutil_socket_t fd, short what, void *arg)
{
	struct ms_framework *fw = arg;
	(void)fd;
	(void)what;
	ag_info("framework %s: failover timeout (%.3f s) expired: removing it", fw->id,
	        fw->failover_timeout_s);
	struct ag_error err = {0};
	if (ms_framework_remove(fw->m, fw, "failover timeout", &err) < 0) {
		/* Not recorded, so not done: it stays (and may still
		 * re-subscribe) until its removal can be written. */
		ag_debug("framework %s: its removal is tried again in %d s: %s", fw->id,
		         MS_REMOVE_RETRY_S, err.msg);
		struct timeval tv = {MS_REMOVE_RETRY_S, 0};
		evtimer_add(fw->failover, &tv);
	}
}

static void fw_arm_failover(struct ms_master *m, struct ms_framework *fw)
{
	if (!fw->failover)
		fw->failover = evtimer_new(m->base, failover_fire, fw);
	double s = fw->failover_timeout_s;
	if (s > 365.0 * 86400 * 100)
		s = 365.0 * 86400 * 100;
	struct timeval tv = {(time_t)s, (suseconds_t)((s - floor(s)) * 1e6)};
	evtimer_add(fw->failover, &tv);
}

static void fw_disarm_failover(struct ms_framework *fw)
{
	if (fw->failover) {
		event_free(fw->failover);
		fw->failover = NULL;
	}
}

static void fw_disconnected(struct ms_stream *s, enum ms_stream_close_reason reason, void *arg)
{
	struct ms_framework *fw = arg;
	struct ms_master *m = fw->m;
	fw->stream = NULL;
	m->n_scheduler_streams--;
	fw->unregistered_ns = ag_wall_ns();
	if (reason == MS_STREAM_SLOW_CONSUMER) {
		char peer[64];
		ag_warn("framework %s (%s) disconnected: %s (more than %zu bytes queued; "
		        "--max_stream_queue): failover in %.3f s",
		        fw->id, ms_stream_peer(s, peer, sizeof(peer)),
		        ms_stream_close_reason_name(reason), m->flags.max_stream_queue,
		        fw->failover_timeout_s);
	} else {
		ag_info("framework %s disconnected (%s): failover in %.3f s", fw->id,
		        ms_stream_close_reason_name(reason), fw->failover_timeout_s);
	}
	ms_alloc_check(drf_framework_deactivate(m->alloc, fw->id), "deactivate framework", fw->id);
	/* Outstanding offers go back: nobody can answer them now. */
	ms_offers_rescind_matching(m, fw, NULL, false);
	ms_allocate_soon(m);
	/* Not when the master stops (SIGTERM): removing a framework with
	 * failover_timeout 0 would record its tombstone, and the next
	 * master (a standby taking over) would refuse its re-subscription. */
	if (reason != MS_STREAM_SHUTDOWN)
		fw_arm_failover(m, fw);
	ms_operator_broadcast(
	        m, pb_operator_event(PB_OPEV_FRAMEWORK_UPDATED,
	                             json_pack("{s:o}", "framework", ms_framework_json(m, fw))));
}

struct ms_framework *ms_framework_recover(struct ms_master *m, const char *id, const json_t *info)
{
	struct ms_framework *fw = ms_framework_find(m, id);
	if (fw)
		return fw;
	struct pb_arena *a = pb_arena_new();
	struct pb_framework_info fi;
	struct ag_error err = {0};
	char **roles = NULL;
	size_t n_roles = 0;
	if (pb_framework_info_decode(a, info, "framework_info", &fi, &err) < 0 ||
	    framework_roles(&fi, &roles, &n_roles, &err) < 0) {
		ag_warn("framework %s: cannot recover its FrameworkInfo: %s", id, err.msg);
		pb_arena_free(a);
		return NULL;
	}
	fw = ag_calloc(1, sizeof(*fw));
	fw->m = m;
	fw->id = ag_strdup(id);
	fw->recovered = true;
	fw->registered_ns = ag_wall_ns();
	char *text = NULL;
	json_t *copy = fw_info_copy(fw->id, info, &text);
	fw_set_info(fw, copy, text, &fi, roles, n_roles);
	pb_arena_free(a);
	ms_alloc_check(drf_framework_add(m->alloc, fw->id, (const char *const *)fw->roles,
	                                 fw->n_roles, false),
	               "add framework", fw->id);
	ag_map_put(&m->frameworks, fw->id, fw);
	fw_arm_failover(m, fw);
	return fw;
}

static void stream_error(struct ms_http *http, struct evhttp_request *req, const char *msg)
{
	struct ms_stream *s = ms_stream_start(http, req, NULL, NULL, NULL);
	if (!s)
		return;
	json_t *ev = json_pack("{s:s, s:{s:s}}", "type", "ERROR", "error", "message", msg);
	size_t len;
	char *text = pb_json_dump(ev, &len);
	/* The last record: a stream that cannot take it is closing anyway. */
	AG_IGNORE_RESULT(ms_stream_send(s, text, len));
	free(text);
	json_decref(ev);
	ms_stream_end(s);
}

void ms_framework_subscribe(struct ms_master *m, struct evhttp_request *req,
                            const struct pb_call *call)
{
	const struct pb_framework_info *fi = &call->subscribe.framework_info;
	struct ag_error err = {0};
	if (!ms_http_require_json_accept(req))
		return;
	if (ms_http_header(req, "Mesos-Stream-Id")) {
		ms_http_reply_error(
		        req, HTTP_BADREQUEST,
		        "Subscribe calls should not include the 'Mesos-Stream-Id' header");
		return;
	}
	if (call->framework_id && (!fi->id || strcmp(call->framework_id, fi->id) != 0)) {
		ms_http_reply_error(req, HTTP_BADREQUEST,
		                    "'framework_id' differs from 'subscribe.framework_info.id'");
		return;
	}
	if (fi->id && ag_map_get(&m->removed_frameworks, fi->id)) {
		stream_error(m->http, req, "Framework has been removed");
		return;
	}
	struct ms_framework *fw = ms_framework_find(m, fi->id);
	/* A framework failing over replaces its stream; any other one would
	 * add a stream. Refused before anything is recorded. */
	if ((!fw || !fw->stream) && m->n_scheduler_streams >= m->flags.max_scheduler_streams) {
		if (ms_log_every(&m->sched_refused_log_ns))
			ag_warn("framework SUBSCRIBE refused: %zu scheduler streams already "
			        "(--max_scheduler_streams)",
			        m->n_scheduler_streams);
		ms_http_reply_error(req, HTTP_SERVUNAVAIL,
		                    "Too many subscribed frameworks: at most %u scheduler streams "
		                    "are served at once (--max_scheduler_streams)",
		                    m->flags.max_scheduler_streams);
		return;
	}
	char **roles = NULL;
	size_t n_roles = 0;
	if (framework_roles(fi, &roles, &n_roles, &err) < 0) {
		stream_error(m->http, req, err.msg);
		return;
	}
	const json_t *info =
	        json_object_get(json_object_get(call->json, "subscribe"), "framework_info");
	bool is_new = fw == NULL;
	if (is_new) {
		fw = ag_calloc(1, sizeof(*fw));
		fw->m = m;
		fw->id = fi->id ? ag_strdup(fi->id)
		                : ag_asprintf("%s-%04llu", m->id,
		                              (unsigned long long)m->next_framework++);
		fw->registered_ns = ag_wall_ns();
	}
	char *info_text = NULL;
	json_t *copy = fw_info_copy(fw->id, info, &info_text);
	/* The id is the framework's key to its tasks after a failover: it is
	 * durable before the framework hears of it, and nothing of the
	 * subscription is applied until it is. A re-subscription with the
	 * FrameworkInfo on record needs no write (and works on a full disk). */
	if (!fw->recorded || !json_equal(copy, fw->info)) {
		struct ms_registry_framework r = {
		        .id = fw->id,
		        .info_json = info_text,
		        .failover_timeout_s = failover_timeout(fi),
		        .registered_at_ns = fw->registered_ns,
		};
		int rc = ms_registry_framework_put(m->registry, &r, &err);
		if (ms_registry_wrote(m, rc, &err) < 0) {
			ag_debug("framework %s: SUBSCRIBE refused: %s", fw->id, err.msg);
			ms_reply_unwritable(req, "Cannot record the framework", &err);
			json_decref(copy);
			free(info_text);
			for (size_t i = 0; i < n_roles; i++)
				free(roles[i]);
			free(roles);
			if (is_new)
				ms_framework_free(fw);
			return;
		}
		fw->recorded = true;
	}
	if (!is_new)
		fw->reregistered_ns = ag_wall_ns();
	fw_set_info(fw, copy, info_text, fi, roles, n_roles);
	if (is_new) {
		ag_map_put(&m->frameworks, fw->id, fw);
		ms_alloc_check(drf_framework_add(m->alloc, fw->id, (const char *const *)fw->roles,
		                                 fw->n_roles, true),
		               "add framework", fw->id);
	} else {
		ms_alloc_check(drf_framework_update_roles(m->alloc, fw->id,
		                                          (const char *const *)fw->roles,
		                                          fw->n_roles),
		               "update the roles of framework", fw->id);
		ms_alloc_check(drf_framework_activate(m->alloc, fw->id), "activate framework",
		               fw->id);
	}
	for (size_t i = 0; i < call->subscribe.n_suppressed_roles; i++)
		if (drf_framework_suppress(m->alloc, fw->id, call->subscribe.suppressed_roles[i]) <
		    0)
			/* As Mesos: a role it does not subscribe to is ignored. */
			ag_warn("framework %s: suppressed role `%s` is not one of its roles: "
			        "ignored",
			        fw->id, call->subscribe.suppressed_roles[i]);
	fw_disarm_failover(fw);
	if (fw->stream) {
		struct ms_stream *old = fw->stream;
		fw->stream = NULL;
		m->n_scheduler_streams--;
		json_t *ev = json_pack("{s:s, s:{s:s}}", "type", "ERROR", "error", "message",
		                       "Framework failed over");
		size_t len;
		char *text = pb_json_dump(ev, &len);
		/* The last record: a stream that cannot take it is closing. */
		AG_IGNORE_RESULT(ms_stream_send(old, text, len));
		free(text);
		json_decref(ev);
		ms_stream_end(old);
		/* Offers made to the old subscription are void. */
		ms_offers_rescind_matching(m, fw, NULL, false);
	}
	char *sid = ms_uuid();
	snprintf(fw->stream_id, sizeof(fw->stream_id), "%s", sid);
	free(sid);
	const char *headers[] = {"Mesos-Stream-Id", fw->stream_id, NULL};
	fw->stream = ms_stream_start(m->http, req, headers, fw_disconnected, fw);
	if (fw->stream)
		m->n_scheduler_streams++;
	bool was_recovered = fw->recovered;
	fw->recovered = false;
	ag_info("framework %s (%s) %s", fw->id,
	        json_string_value(json_object_get(fw->info, "name")),
	        is_new ? "subscribed" : "re-subscribed");

	json_t *mi = ms_master_info_json(m);
	json_t *ev = json_pack("{s:s, s:{s:o, s:f, s:o}}", "type", "SUBSCRIBED", "subscribed",
	                       "framework_id", pb_id_to_json(fw->id), "heartbeat_interval_seconds",
	                       (double)m->flags.heartbeat_interval_ns / 1e9, "master_info", mi);
	ms_framework_send(fw, ev);
	ms_framework_send(fw, json_pack("{s:s}", "type", "HEARTBEAT"));
	/* Updates it did not acknowledge before it went away come again. */
	struct ag_map_iter it;
	for (ag_map_iter_init(&it); ag_map_iter_next(&fw->tasks, &it);) {
		struct ms_task *t = it.e->value;
		if (t->pending)
			ms_framework_send_update_text(fw, t->pending);
	}
	ms_operator_broadcast(
	        m, pb_operator_event(is_new || was_recovered ? PB_OPEV_FRAMEWORK_ADDED
	                                                     : PB_OPEV_FRAMEWORK_UPDATED,
	                             json_pack("{s:o}", "framework", ms_framework_json(m, fw))));
	ms_allocate_soon(m);
}

static void tombstone_pruned(const char *id, void *arg)
{
	struct ms_master *m = arg;
	ag_map_del(&m->removed_frameworks, id);
}

int ms_removed_frameworks_prune(struct ms_master *m)
{
	struct ag_error err = {0};
	uint64_t before = ms_registry_removed_frameworks(m->registry);
	int r = ms_registry_frameworks_prune_removed(
	        m->registry, m->flags.registry_max_removed_frameworks, tombstone_pruned, m, &err);
	if (r < 0)
		ag_err("%s", err.msg);
	else if (before > ms_registry_removed_frameworks(m->registry))
		ag_debug("pruned %" PRIu64 " tombstones of removed frameworks (keeping %zu)",
		         before - ms_registry_removed_frameworks(m->registry),
		         m->flags.registry_max_removed_frameworks);
	return r;
}

int ms_framework_remove(struct ms_master *m, struct ms_framework *fw, const char *why,
                        struct ag_error *err)
{
	/* Its id must never come back, even after a crash right now: nothing
	 * is done until that is recorded. */
	int r = ms_registry_framework_mark_removed(m->registry, fw->id, err);
	if (ms_registry_wrote(m, r, err) < 0)
		return r;
	ag_info("framework %s removed: %s", fw->id, why);
	ag_map_put(&m->removed_frameworks, fw->id, (void *)1);
	/* A prune that failed was logged by it; the next removal prunes again. */
	AG_IGNORE_RESULT(ms_removed_frameworks_prune(m));
	ms_offers_rescind_matching(m, fw, NULL, false);
	/* One SHUTDOWN_FRAMEWORK per agent that runs its tasks. */
	struct ag_map agents = {0};
	struct ag_map_iter it;
	for (ag_map_iter_init(&it); ag_map_iter_next(&fw->tasks, &it);) {
		struct ms_task *t = it.e->value;
		if (!pb_task_state_is_terminal(t->state))
			ag_map_put(&agents, t->agent_id, (void *)1);
	}
	/* and to the agents of its executors (which end with it) */
	for (ag_map_iter_init(&it); ag_map_iter_next(&fw->executors, &it);) {
		_cleanup_free_ char *agent = ag_strdup(it.e->key);
		*strchr(agent, '/') = '\0';
		ag_map_put(&agents, agent, (void *)1);
	}
	for (ag_map_iter_init(&it); ag_map_iter_next(&agents, &it);) {
		struct ms_agent *a = ag_map_get(&m->agents, it.e->key);
		if (a)
			ms_agent_send(a, json_pack("{s:s, s:{s:o}}", "type", "SHUTDOWN_FRAMEWORK",
			                           "shutdown_framework", "framework_id",
			                           pb_id_to_json(fw->id)));
	}
	ag_map_clear(&agents);
	/* drf_framework_remove recovers all it holds, tasks and executors
	 * included. */
	ms_alloc_check(drf_framework_remove(m->alloc, fw->id), "remove framework", fw->id);
	ms_executors_free(fw);
	/* Mesos marks what has not ended TASK_KILLED (REASON_FRAMEWORK_REMOVED,
	 * not sent: nobody listens) and keeps every task as completed. */
	char *msg = ag_asprintf("Framework %s removed", fw->id);
	for (ag_map_iter_init(&it); ag_map_iter_next(&fw->tasks, &it);) {
		struct ms_task *t = it.e->value;
		t->booked = false;
		if (!ms_task_state_ended(t->state))
			ms_task_master_transition(m, t, PB_TASK_KILLED, PB_REASON_FRAMEWORK_REMOVED,
			                          msg, false);
		ms_task_remove(m, t);
	}
	free(msg);
	if (fw->stream) {
		struct ms_stream *s = fw->stream;
		fw->stream = NULL;
		m->n_scheduler_streams--;
		json_t *ev = json_pack("{s:s, s:{s:s}}", "type", "ERROR", "error", "message",
		                       "Framework has been removed");
		size_t len;
		char *text = pb_json_dump(ev, &len);
		/* The last record: a stream that cannot take it is closing. */
		AG_IGNORE_RESULT(ms_stream_send(s, text, len));
		free(text);
		json_decref(ev);
		ms_stream_end(s);
	}
	ms_operator_broadcast(m, pb_operator_event(PB_OPEV_FRAMEWORK_REMOVED,
	                                           json_pack("{s:O}", "framework_info", fw->info)));
	ag_map_del(&m->frameworks, fw->id);
	/* Kept for GET_FRAMEWORKS.completed_frameworks (inactive, with its
	 * unregistered_time) until newer removals push it out. */
	fw_disarm_failover(fw);
	fw->recovered = false;
	fw->unregistered_ns = ag_wall_ns();
	ms_framework_free(
	        ag_ring_push(&m->completed_frameworks, m->flags.max_completed_frameworks, fw));
	ms_allocate_soon(m);
	return 0;
}
