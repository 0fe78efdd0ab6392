/* operator.c: the operator API, POST /api/v1 (reference §5), and /health.
 *
 * Synchronous GET_* replies are built from the master's maps and the
 * allocator; UPDATE_WEIGHTS, TEARDOWN and MARK_AGENT_GONE write the registry
 * before their empty 200; SUBSCRIBE streams operator events. */
#include "common/log.h"
#include "master/master.h"
#include "master/zk.h"

#include <string.h>

#include <jansson.h>

static void reply_json_value(struct evhttp_request *req, json_t *v)
{
	/* One line, ASCII only: npm mesos-framework compares lengths in UTF-16
	 * units (reference §7). */
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (!s)
		abort();
	ms_http_reply_json(req, HTTP_OK, s, strlen(s));
	free(s);
}

/* Set `key` to `arr` (stolen) unless it is empty: repeated fields are
 * omitted when empty (reference §0). */
static void set_list(json_t *obj, const char *key, json_t *arr)
{
	if (json_array_size(arr))
		json_object_set_new(obj, key, arr);
	else
		json_decref(arr);
}

static void completed_tasks(json_t *arr, const struct ms_framework *fw)
{
	for (size_t i = 0; i < fw->completed.len; i++)
		json_array_append_new(arr, ms_task_json(ag_ring_get(&fw->completed, i)));
}

static json_t *get_tasks(struct ms_master *m)
{
	json_t *tasks = json_array(), *unreachable = json_array(), *completed = json_array();
	struct ag_map_iter fit, it;
	for (ag_map_iter_init(&fit); ag_map_iter_next(&m->frameworks, &fit);) {
		struct ms_framework *fw = fit.e->value;
		for (ag_map_iter_init(&it); ag_map_iter_next(&fw->tasks, &it);) {
			struct ms_task *t = it.e->value;
			json_array_append_new(t->state == PB_TASK_UNREACHABLE ? unreachable : tasks,
			                      ms_task_json(t));
		}
		completed_tasks(completed, fw);
	}
	/* As Mesos does: the tasks of removed frameworks too. */
	for (size_t i = 0; i < m->completed_frameworks.len; i++)
		completed_tasks(completed, ag_ring_get(&m->completed_frameworks, i));
	json_t *j = json_pack("{s:o}", "tasks", tasks);
	set_list(j, "unreachable_tasks", unreachable);
	set_list(j, "completed_tasks", completed);
	return j;
}

static json_t *get_agents(struct ms_master *m)
{
	json_t *agents = json_array(), *recovered = json_array();
	struct ag_map_iter it;
	for (ag_map_iter_init(&it); ag_map_iter_next(&m->agents, &it);) {
		struct ms_agent *a = it.e->value;
		if (a->gone || (a->unreachable && !a->active))
			continue;
		if (a->active)
			json_array_append_new(agents, ms_agent_json(m, a));
		else
			json_array_append_new(recovered, ms_agent_info_json(a));
	}
	return json_pack("{s:o, s:o}", "agents", agents, "recovered_agents", recovered);
}

static json_t *get_frameworks(struct ms_master *m)
{
	json_t *fws = json_array();
	struct ag_map_iter it;
	for (ag_map_iter_init(&it); ag_map_iter_next(&m->frameworks, &it);)
		json_array_append_new(fws, ms_framework_json(m, it.e->value));
	json_t *done = json_array();
	for (size_t i = 0; i < m->completed_frameworks.len; i++)
		json_array_append_new(
		        done, ms_framework_json(m, ag_ring_get(&m->completed_frameworks, i)));
	json_t *j = json_pack("{s:o}", "frameworks", fws);
	set_list(j, "completed_frameworks", done);
	return j;
}

static json_t *get_state(struct ms_master *m)
{
	return json_pack("{s:o, s:o, s:o}", "get_tasks", get_tasks(m), "get_frameworks",
	                 get_frameworks(m), "get_agents", get_agents(m));
}

static int weight_cb(const char *role, double w, void *arg)
{
	json_array_append_new(arg, json_pack("{s:f, s:s}", "weight", w, "role", role));
	return 0;
}

static json_t *get_roles(struct ms_master *m)
{
	json_t *roles = json_array();
	for (size_t i = 0; i < drf_role_count(m->alloc); i++) {
		struct drf_role_info ri;
		if (drf_role_get(m->alloc, i, &ri) < 0)
			continue;
		json_t *fws = json_array();
		for (size_t j = 0; drf_role_framework(m->alloc, i, j); j++)
			json_array_append_new(fws,
			                      pb_id_to_json(drf_role_framework(m->alloc, i, j)));
		json_t *r = json_pack("{s:s, s:f, s:o}", "name", ri.name, "weight", ri.weight,
		                      "frameworks", fws);
		if (ri.allocated && !drf_resources_is_empty(ri.allocated))
			json_object_set_new(
			        r, "resources",
			        ms_resources_to_json(ri.allocated, PB_RES_OPERATOR, NULL));
		json_array_append_new(roles, r);
	}
	return json_pack("{s:o}", "roles", roles);
}

static void subscriber_closed(struct ms_stream *s, enum ms_stream_close_reason reason, void *arg)
{
	struct ms_master *m = arg;
	if (reason == MS_STREAM_SLOW_CONSUMER) {
		char peer[64];
		ag_warn("operator subscriber %s closed: %s (more than %zu bytes queued; "
		        "--max_operator_stream_queue)",
		        ms_stream_peer(s, peer, sizeof(peer)), ms_stream_close_reason_name(reason),
		        m->flags.max_operator_stream_queue);
	}
	for (size_t i = 0; i < m->n_subscribers; i++)
		if (m->subscribers[i] == s) {
			m->subscribers[i] = m->subscribers[--m->n_subscribers];
			break;
		}
}

static void operator(struct evhttp_request *req, void *arg)
{
	struct ms_master *m = arg;
	if (!ms_http_require_json_body(req) || !ms_http_require_json_accept(req))
		return;
	size_t len;
	const char *body = ms_http_body(req, &len);
	struct pb_operator_call call = {0};
	struct ag_error err = {0};
	int rc = pb_operator_call_decode(body, len, &call, &err);
	if (rc < 0) {
		ms_reply_decode_error(req, rc, &err, body, len);
		return;
	}
	json_t *payload = NULL;
	switch (call.type) {
	case PB_OP_GET_HEALTH:
		/* Unhealthy while the registry cannot be written (durable.c). */
		payload = json_pack("{s:b}", "healthy", ms_unhealthy_reason(m) == NULL);
		break;
	case PB_OP_GET_VERSION:
		payload = json_pack("{s:{s:s}}", "version_info", "version", AGORA_VERSION);
		break;
	case PB_OP_GET_MASTER:
		payload = json_pack("{s:o, s:f}", "master_info", ms_master_info_json(m),
		                    "start_time", (double)m->start_wall_ns / 1e9);
		/* A standby (zk.h) answers GET_MASTER itself: it was not elected. */
		if (ms_zk_leading(m->zk))
			json_object_set_new(payload, "elected_time",
			                    json_real((double)m->start_wall_ns / 1e9));
		break;
	case PB_OP_GET_STATE:
		payload = get_state(m);
		break;
	case PB_OP_GET_AGENTS:
		payload = get_agents(m);
		break;
	case PB_OP_GET_FRAMEWORKS:
		payload = get_frameworks(m);
		break;
	case PB_OP_GET_TASKS:
		payload = get_tasks(m);
		break;
	case PB_OP_GET_ROLES:
		payload = get_roles(m);
		break;
	case PB_OP_GET_WEIGHTS: {
		json_t *w = json_array();
		if (ms_registry_weights_foreach(m->registry, weight_cb, w, &err) < 0) {
			json_decref(w);
			ag_warn("GET_WEIGHTS: %s", err.msg);
			ms_http_reply_error(req, HTTP_SERVUNAVAIL, "Cannot read the weights: %s",
			                    err.msg);
			goto out;
		}
		payload = json_pack("{s:o}", "weight_infos", w);
		break;
	}
	case PB_OP_UPDATE_WEIGHTS: {
		for (size_t i = 0; i < call.update_weights.n_weight_infos; i++) {
			const struct pb_weight_info *wi = &call.update_weights.weight_infos[i];
			if (!wi->role || !(wi->weight > 0)) {
				ms_http_reply_error(
				        req, HTTP_BADREQUEST,
				        "weight_infos[%zu]: a role and a weight > 0 are "
				        "required",
				        i);
				goto out;
			}
		}
		/* All or nothing, durable before the 200. */
		rc = ms_registry_begin(m->registry, &err);
		for (size_t i = 0; rc == 0 && i < call.update_weights.n_weight_infos; i++)
			rc = ms_registry_weight_set(
			        m->registry, call.update_weights.weight_infos[i].role,
			        call.update_weights.weight_infos[i].weight, &err);
		if (rc == 0)
			rc = ms_registry_commit(m->registry, &err);
		else
			ms_registry_rollback(m->registry);
		if (ms_registry_wrote(m, rc, &err) < 0) {
			ag_debug("UPDATE_WEIGHTS: %s", err.msg);
			ms_reply_unwritable(req, "Cannot record the weights", &err);
			goto out;
		}
		for (size_t i = 0; i < call.update_weights.n_weight_infos; i++)
			ms_alloc_check(drf_role_set_weight(
			                       m->alloc, call.update_weights.weight_infos[i].role,
			                       call.update_weights.weight_infos[i].weight),
			               "set the weight of role",
			               call.update_weights.weight_infos[i].role);
		ms_allocate_soon(m);
		ms_http_reply_empty(req, HTTP_OK);
		goto out;
	}
	case PB_OP_TEARDOWN: {
		struct ms_framework *fw = ms_framework_find(m, call.teardown.framework_id);
		if (!fw) {
			ms_http_reply_error(req, HTTP_BADREQUEST,
			                    "Framework %.128s cannot be found",
			                    call.teardown.framework_id);
			goto out;
		}
		if (ms_framework_remove(m, fw, "TEARDOWN by an operator", &err) < 0)
			ms_reply_unwritable(req, "Cannot record the framework's removal", &err);
		else
			ms_http_reply_empty(req, HTTP_OK);
		goto out;
	}
	case PB_OP_MARK_AGENT_GONE: {
		struct ms_agent *a = ag_map_get(&m->agents, call.mark_agent_gone.agent_id);
		if (!a) {
			ms_http_reply_error(req, HTTP_NOTFOUND, "Agent %.128s cannot be found",
			                    call.mark_agent_gone.agent_id);
			goto out;
		}
		if (!a->gone) {
			rc = ms_registry_agent_mark_gone(m->registry, a->id, &err);
			if (ms_registry_wrote(m, rc, &err) < 0) {
				ms_reply_unwritable(req, "Cannot record the agent as gone", &err);
				goto out;
			}
			ms_agent_lost(m, a, true);
		}
		ms_http_reply_empty(req, HTTP_OK);
		goto out;
	}
	case PB_OP_DRAIN_AGENT:
	case PB_OP_DEACTIVATE_AGENT:
	case PB_OP_REACTIVATE_AGENT:
		ms_drain_operator(m, req, &call);
		goto out;
	case PB_OP_KILL_TASK:
		ms_kill_task_operator(m, req, &call);
		goto out;
	case PB_OP_SUBSCRIBE: {
		if (m->n_subscribers >= m->flags.max_operator_event_stream_subscribers) {
			if (ms_log_every(&m->op_refused_log_ns))
				ag_warn("operator SUBSCRIBE refused: %zu subscribers already "
				        "(--max_operator_event_stream_subscribers)",
				        m->n_subscribers);
			ms_http_reply_error(req, HTTP_SERVUNAVAIL,
			                    "Too many operator event stream subscribers: at most "
			                    "%u are served at once "
			                    "(--max_operator_event_stream_subscribers)",
			                    m->flags.max_operator_event_stream_subscribers);
			goto out;
		}
		struct ms_stream *s = ms_stream_start(m->http, req, NULL, subscriber_closed, m);
		if (!s)
			goto out;
		ms_stream_set_max_pending(s, m->flags.max_operator_stream_queue);
		/* Up to a thousand of them: 64 KiB each in the kernel (which
		 * doubles it) still carries events at LAN speed. */
		ms_stream_set_sndbuf(s, 64 * 1024);
		ms_stream_set_background(s);
		m->subscribers = ag_realloc(m->subscribers,
		                            (m->n_subscribers + 1) * sizeof(*m->subscribers));
		m->subscribers[m->n_subscribers++] = s;
		json_t *ev =
		        pb_operator_event(PB_OPEV_SUBSCRIBED,
		                          json_pack("{s:o, s:f}", "get_state", get_state(m),
		                                    "heartbeat_interval_seconds",
		                                    (double)m->flags.heartbeat_interval_ns / 1e9));
		char *text = pb_json_dump(ev, &len);
		/* -EPIPE / -ENOBUFS: the stream is closing; its close
		 * callback removes the subscriber. */
		AG_IGNORE_RESULT(ms_stream_send(s, text, len));
		free(text);
		json_decref(ev);
		const char *hb = "{\"type\":\"HEARTBEAT\"}";
		AG_IGNORE_RESULT(ms_stream_send(s, hb, strlen(hb)));
		goto out;
	}
	default:
		ms_http_reply_error(req, 501, "Call type %s is not supported",
		                    pb_operator_call_type_name(call.type));
		goto out;
	}
	json_t *resp = pb_operator_response(call.type, payload);
	reply_json_value(req, resp);
	json_decref(resp);
out:
	pb_operator_call_free(&call);
}

/* 200 with no body, as Mesos's; 503 with the reason while the master
 * cannot record state (durable.c). */
static void health(struct evhttp_request *req, void *arg)
{
	const char *why = ms_unhealthy_reason(arg);
	if (why)
		ms_http_reply_error(req, HTTP_SERVUNAVAIL, "unhealthy: %s", why);
	else
		ms_http_reply_empty(req, HTTP_OK);
}

int ms_operator_routes(struct ms_master *m)
{
	int r = ms_http_route(m->http, "/api/v1", EVHTTP_REQ_POST, operator, m);
	if (r == 0)
		r = ms_http_route(m->http, "/health", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, health, m);
	return r;
}
