/* executor.c: libagora-executor (sdk/executor.h) over libevent's HTTP
 * client: one connection holds the SUBSCRIBE stream, another carries the
 * calls. JSON through jansson only. */
#include "sdk/executor.h"
#include "common/common.h"
#include "proto/proto.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct age {
	struct event_base *base;
	struct age_callbacks cb;
	void *ctx;
	char host[256];
	int port;
	char *fw, *id;
	bool checkpoint;
	double recovery_s, backoff_max_s, backoff_s;
	bool started, subscribed, closed;
	uint64_t lost_at_ns; /* 0: not lost */
	struct evhttp_connection *stream, *calls;
	struct evhttp_request *stream_req;
	struct pb_recordio_reader *reader;
	struct event *retry, *close_ev;
	char *close_why;
	json_t *tasks;   /* task_id -> TaskInfo: no update of it acknowledged yet */
	json_t *updates; /* [{"status":{…}}] not acknowledged */
};

static const char *const state_names[] = {
        "TASK_STATE_UNSET", "TASK_STAGING",          "TASK_STARTING",
        "TASK_RUNNING",     "TASK_KILLING",          "TASK_FINISHED",
        "TASK_FAILED",      "TASK_KILLED",           "TASK_ERROR",
        "TASK_LOST",        "TASK_DROPPED",          "TASK_UNREACHABLE",
        "TASK_GONE",        "TASK_GONE_BY_OPERATOR", "TASK_UNKNOWN",
};

const char *age_task_state_name(enum age_task_state s)
{
	return (size_t)s < AG_ARRAY_SIZE(state_names) ? state_names[s] : state_names[0];
}

/* "15mins", "900000ms", "2secs" in seconds; `dflt` when absent or bad. */
static double duration_s(const char *v, double dflt)
{
	if (!v || !*v)
		return dflt;
	char *end;
	double n = strtod(v, &end);
	static const struct {
		const char *unit;
		double s;
	} units[] = {{"ns", 1e-9}, {"us", 1e-6},  {"ms", 1e-3},   {"secs", 1},
	             {"mins", 60}, {"hrs", 3600}, {"days", 86400}};
	for (size_t i = 0; i < AG_ARRAY_SIZE(units); i++)
		if (strcmp(end, units[i].unit) == 0 && n >= 0)
			return n * units[i].s;
	return dflt;
}

static const char *json_id(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(json_object_get(o, key), "value"));
}

/* ---- closing ---- */

static void on_close(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct age *e = arg;
	if (e->cb.closed)
		e->cb.closed(e, e->ctx, e->close_why ? e->close_why : "closed");
}

static void give_up(struct age *e, const char *why)
{
	if (e->closed)
		return;
	e->closed = true;
	e->close_why = strdup(why);
	struct timeval zero = {0, 0};
	evtimer_add(e->close_ev, &zero);
}

/* ---- calls ---- */

struct call_ctx {
	struct age *e;
	char type[16];
};

static void call_done(struct evhttp_request *req, void *arg)
{
	struct call_ctx *c = arg;
	struct age *e = c->e;
	int code = req ? evhttp_request_get_response_code(req) : 0;
	if (code != 202 && e->cb.call_failed) {
		char body[1024] = "";
		if (req) {
			struct evbuffer *b = evhttp_request_get_input_buffer(req);
			size_t n = evbuffer_get_length(b);
			if (n >= sizeof(body))
				n = sizeof(body) - 1;
			evbuffer_copyout(b, body, n);
			body[n] = '\0';
		}
		e->cb.call_failed(e, e->ctx, c->type, code, body);
	}
	free(c);
}

static json_t *call_new(struct age *e, const char *type)
{
	return json_pack("{s:s, s:{s:s}, s:{s:s}}", "type", type, "framework_id", "value", e->fw,
	                 "executor_id", "value", e->id);
}

static struct evhttp_request *request(struct age *e, json_t *call,
                                      void (*cb)(struct evhttp_request *, void *), void *arg)
{
	char *text = json_dumps(call, JSON_COMPACT);
	struct evhttp_request *req = evhttp_request_new(cb, arg);
	if (!text || !req) {
		free(text);
		if (req)
			evhttp_request_free(req);
		return NULL;
	}
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", e->host);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Accept", "application/json");
	evbuffer_add(evhttp_request_get_output_buffer(req), text, strlen(text));
	free(text);
	return req;
}

/* POST `call` (stolen) on the calls' connection. */
static int post(struct age *e, json_t *call)
{
	struct call_ctx *c = calloc(1, sizeof(*c));
	if (!c) {
		json_decref(call);
		return -ENOMEM;
	}
	c->e = e;
	snprintf(c->type, sizeof(c->type), "%s", json_string_value(json_object_get(call, "type")));
	if (!e->calls)
		e->calls = evhttp_connection_base_new(e->base, NULL, e->host, (uint16_t)e->port);
	struct evhttp_request *req = e->calls ? request(e, call, call_done, c) : NULL;
	json_decref(call);
	if (!req || evhttp_make_request(e->calls, req, EVHTTP_REQ_POST, "/api/v1/executor") < 0) {
		free(c);
		return -EIO;
	}
	return 0;
}

/* ---- the stream ---- */

static void subscribe(struct age *e);

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	subscribe(arg);
}

static void lost(struct age *e, const char *why)
{
	e->subscribed = false;
	e->stream = NULL;
	e->stream_req = NULL;
	pb_recordio_reader_free(e->reader);
	e->reader = NULL;
	if (e->closed)
		return;
	if (!e->lost_at_ns)
		e->lost_at_ns = ag_now_ns();
	if (e->cb.disconnected)
		e->cb.disconnected(e, e->ctx, why);
	if (!e->checkpoint) {
		give_up(e, "the stream to the agent ended and the framework does not checkpoint");
		return;
	}
	if ((double)(ag_now_ns() - e->lost_at_ns) / 1e9 > e->recovery_s) {
		give_up(e, "the agent did not come back within the recovery timeout");
		return;
	}
	double s = e->backoff_s;
	struct timeval tv = {(time_t)s, (suseconds_t)((s - (double)(time_t)s) * 1e6)};
	evtimer_add(e->retry, &tv);
	e->backoff_s = e->backoff_s * 2 > e->backoff_max_s ? e->backoff_max_s : e->backoff_s * 2;
}

/* Forget the update `uuid`: its state (UNSET when it was not kept). */
static enum age_task_state forget_update(struct age *e, const char *uuid)
{
	size_t i;
	json_t *u;
	json_array_foreach (e->updates, i, u) {
		json_t *st = json_object_get(u, "status");
		const char *x = json_string_value(json_object_get(st, "uuid"));
		if (x && strcmp(x, uuid) == 0) {
			const char *name = json_string_value(json_object_get(st, "state"));
			enum age_task_state s = AGE_TASK_STATE_UNSET;
			for (size_t k = 1; name && k < AG_ARRAY_SIZE(state_names); k++)
				if (strcmp(state_names[k], name) == 0)
					s = (enum age_task_state)k;
			json_array_remove(e->updates, i);
			return s;
		}
	}
	return AGE_TASK_STATE_UNSET;
}

static void on_event(struct age *e, json_t *ev)
{
	const char *type = json_string_value(json_object_get(ev, "type"));
	if (!type)
		return;
	if (strcmp(type, "SUBSCRIBED") == 0) {
		json_t *s = json_object_get(ev, "subscribed");
		e->subscribed = true;
		e->lost_at_ns = 0;
		e->backoff_s = 0.1;
		if (e->cb.subscribed)
			e->cb.subscribed(e, e->ctx, json_object_get(s, "executor_info"),
			                 json_object_get(s, "framework_info"),
			                 json_object_get(s, "agent_info"),
			                 json_id(s, "container_id"));
	} else if (strcmp(type, "LAUNCH") == 0) {
		json_t *task = json_object_get(json_object_get(ev, "launch"), "task");
		const char *id = json_id(task, "task_id");
		if (!id)
			return;
		json_object_set(e->tasks, id, task);
		struct age_task t = {id, json_string_value(json_object_get(task, "name")), task};
		if (e->cb.launch)
			e->cb.launch(e, e->ctx, &t);
	} else if (strcmp(type, "KILL") == 0) {
		const char *id = json_id(json_object_get(ev, "kill"), "task_id");
		if (id && e->cb.kill)
			e->cb.kill(e, e->ctx, id);
	} else if (strcmp(type, "ACKNOWLEDGED") == 0) {
		json_t *a = json_object_get(ev, "acknowledged");
		const char *b64 = json_string_value(json_object_get(a, "uuid"));
		const char *id = json_id(a, "task_id");
		if (!b64 || !id)
			return;
		enum age_task_state state = forget_update(e, b64);
		/* one of its updates is acknowledged: no longer an
		 * unacknowledged task */
		json_object_del(e->tasks, id);
		uint8_t *uuid = NULL;
		size_t len = 0;
		if (pb_base64_decode(b64, strlen(b64), &uuid, &len) == 0 && e->cb.acknowledged)
			e->cb.acknowledged(e, e->ctx, id, state, uuid, len);
		free(uuid);
	} else if (strcmp(type, "MESSAGE") == 0) {
		const char *b64 =
		        json_string_value(json_object_get(json_object_get(ev, "message"), "data"));
		uint8_t *data = NULL;
		size_t len = 0;
		if (b64 && pb_base64_decode(b64, strlen(b64), &data, &len) == 0 && e->cb.message)
			e->cb.message(e, e->ctx, data, len);
		free(data);
	} else if (strcmp(type, "SHUTDOWN") == 0) {
		if (e->cb.shutdown)
			e->cb.shutdown(e, e->ctx);
	} else if (strcmp(type, "ERROR") == 0) {
		if (e->cb.error)
			e->cb.error(e, e->ctx,
			            json_string_value(json_object_get(json_object_get(ev, "error"),
			                                              "message")));
	}
	/* HEARTBEAT, LAUNCH_GROUP (never sent by agora), unknown: ignored */
}

static int on_record(void *ctx, const char *data, size_t len)
{
	json_t *ev = json_loadb(data, len, 0, NULL);
	if (ev)
		on_event(ctx, ev);
	json_decref(ev);
	return 0;
}

static void on_chunk(struct evhttp_request *req, void *arg)
{
	struct age *e = arg;
	struct evbuffer *b = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(b);
	if (evhttp_request_get_response_code(req) == 200 && n && e->reader) {
		struct ag_error err = {0};
		const char *p = (const char *)evbuffer_pullup(b, -1);
		if (pb_recordio_reader_feed(e->reader, p, n, on_record, e, &err) < 0 && e->cb.error)
			e->cb.error(e, e->ctx, err.msg);
	}
	evbuffer_drain(b, n);
}

static void stream_done(struct evhttp_request *req, void *arg)
{
	struct age *e = arg;
	int code = req ? evhttp_request_get_response_code(req) : 0;
	char why[600];
	if (code && code != 200) {
		char body[512] = "";
		struct evbuffer *b = evhttp_request_get_input_buffer(req);
		size_t n = evbuffer_get_length(b);
		if (n >= sizeof(body))
			n = sizeof(body) - 1;
		evbuffer_copyout(b, body, n);
		body[n] = '\0';
		snprintf(why, sizeof(why), "SUBSCRIBE answered %d: %s", code, body);
	} else {
		snprintf(why, sizeof(why), "%s",
		         code ? "the agent ended the stream" : "no connection to the agent");
	}
	lost(e, why);
}

static void subscribe(struct age *e)
{
	if (e->closed)
		return;
	e->reader = pb_recordio_reader_new(0);
	e->stream = evhttp_connection_base_new(e->base, NULL, e->host, (uint16_t)e->port);
	if (!e->stream) {
		lost(e, "cannot make a connection");
		return;
	}
	/* freed by libevent once the request is done */
	evhttp_connection_free_on_completion(e->stream);
	json_t *call = call_new(e, "SUBSCRIBE");
	json_t *tasks = json_array();
	const char *id;
	json_t *t;
	json_object_foreach (e->tasks, id, t)
		json_array_append(tasks, t);
	json_object_set_new(call, "subscribe",
	                    json_pack("{s:o, s:O}", "unacknowledged_tasks", tasks,
	                              "unacknowledged_updates", e->updates));
	struct evhttp_request *req = request(e, call, stream_done, e);
	json_decref(call);
	if (!req) {
		lost(e, "out of memory");
		return;
	}
	evhttp_request_set_chunked_cb(req, on_chunk);
	e->stream_req = req;
	if (evhttp_make_request(e->stream, req, EVHTTP_REQ_POST, "/api/v1/executor") < 0)
		lost(e, "cannot send SUBSCRIBE");
}

/* ---- the API ---- */

struct age *age_new(struct event_base *base, const struct age_config *cfg,
                    const struct age_callbacks *cb, void *ctx)
{
	struct age_config none = {.checkpoint = -1};
	if (!cfg)
		cfg = &none;
	const char *ep = cfg->agent_endpoint ? cfg->agent_endpoint : getenv("MESOS_AGENT_ENDPOINT");
	const char *fw = cfg->framework_id ? cfg->framework_id : getenv("MESOS_FRAMEWORK_ID");
	const char *id = cfg->executor_id ? cfg->executor_id : getenv("MESOS_EXECUTOR_ID");
	const char *colon = ep ? strrchr(ep, ':') : NULL;
	int port = colon ? atoi(colon + 1) : 0;
	if (!base || !fw || !*fw || !id || !*id || !colon || colon == ep || port <= 0 ||
	    port > 65535 || (size_t)(colon - ep) >= sizeof(((struct age *)0)->host)) {
		errno = EINVAL;
		return NULL;
	}
	struct age *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->base = base;
	if (cb)
		e->cb = *cb;
	e->ctx = ctx;
	memcpy(e->host, ep, (size_t)(colon - ep));
	e->port = port;
	e->fw = strdup(fw);
	e->id = strdup(id);
	const char *cp = getenv("MESOS_CHECKPOINT");
	e->checkpoint = cfg->checkpoint >= 0 ? cfg->checkpoint != 0 : cp && strcmp(cp, "1") == 0;
	e->recovery_s = cfg->recovery_timeout_s > 0
	                        ? cfg->recovery_timeout_s
	                        : duration_s(getenv("MESOS_RECOVERY_TIMEOUT"), 15 * 60);
	e->backoff_max_s = cfg->backoff_max_s > 0
	                           ? cfg->backoff_max_s
	                           : duration_s(getenv("MESOS_SUBSCRIPTION_BACKOFF_MAX"), 2);
	e->backoff_s = 0.1;
	e->tasks = json_object();
	e->updates = json_array();
	e->retry = evtimer_new(base, on_retry, e);
	e->close_ev = evtimer_new(base, on_close, e);
	if (!e->fw || !e->id || !e->tasks || !e->updates || !e->retry || !e->close_ev) {
		age_free(e);
		errno = ENOMEM;
		return NULL;
	}
	return e;
}

void age_free(struct age *e)
{
	if (!e)
		return;
	if (e->stream_req && e->stream) {
		/* the request's callback must not run after this */
		evhttp_cancel_request(e->stream_req);
	}
	if (e->calls)
		evhttp_connection_free(e->calls);
	pb_recordio_reader_free(e->reader);
	if (e->retry)
		event_free(e->retry);
	if (e->close_ev)
		event_free(e->close_ev);
	json_decref(e->tasks);
	json_decref(e->updates);
	free(e->close_why);
	free(e->fw);
	free(e->id);
	free(e);
}

void age_start(struct age *e)
{
	if (e->started)
		return;
	e->started = true;
	subscribe(e);
}

bool age_subscribed(const struct age *e)
{
	return e->subscribed;
}

const char *age_framework_id(const struct age *e)
{
	return e->fw;
}

const char *age_executor_id(const struct age *e)
{
	return e->id;
}

size_t age_unacknowledged(const struct age *e)
{
	return json_array_size(e->updates);
}

int age_update(struct age *e, const char *task_id, enum age_task_state state, const char *message,
               const uint8_t *data, size_t len)
{
	if (!task_id || state <= AGE_TASK_STAGING || state > AGE_TASK_UNKNOWN)
		return -EINVAL;
	uint8_t uuid[16];
	if (getrandom(uuid, sizeof(uuid), 0) != (ssize_t)sizeof(uuid))
		return -errno;
	char *b64 = pb_base64_encode(uuid, sizeof(uuid));
	json_t *st = json_pack("{s:{s:s}, s:s, s:s, s:{s:s}, s:s}", "task_id", "value", task_id,
	                       "state", age_task_state_name(state), "source", "SOURCE_EXECUTOR",
	                       "executor_id", "value", e->id, "uuid", b64);
	free(b64);
	if (!st)
		return -ENOMEM;
	if (message)
		json_object_set_new(st, "message", json_string(message));
	if (data) {
		char *d = pb_base64_encode(data, len);
		json_object_set_new(st, "data", json_string(d));
		free(d);
	}
	json_object_set_new(st, "timestamp", json_real((double)ag_wall_ns() / 1e9));
	json_array_append_new(e->updates, json_pack("{s:O}", "status", st));
	if (!e->subscribed) {
		json_decref(st);
		return 0; /* with the next SUBSCRIBE */
	}
	json_t *call = call_new(e, "UPDATE");
	json_object_set_new(call, "update", json_pack("{s:o}", "status", st));
	/* Kept either way: a lost POST goes again with the next SUBSCRIBE. */
	AG_IGNORE_RESULT(post(e, call));
	return 0;
}

int age_message(struct age *e, const uint8_t *data, size_t len)
{
	if (!e->subscribed)
		return -ENOTCONN;
	char *b64 = pb_base64_encode(data ? data : (const uint8_t *)"", data ? len : 0);
	json_t *call = call_new(e, "MESSAGE");
	json_object_set_new(call, "message", json_pack("{s:s}", "data", b64));
	free(b64);
	return post(e, call);
}
