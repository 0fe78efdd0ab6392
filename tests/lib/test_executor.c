/* test_executor.c: a small custom executor over the Mesos v1 executor HTTP
 * API (docs/executor-api.md), for the host tests (tests/host/
 * test_executor_*.c). libevent's HTTP client; one connection holds the
 * SUBSCRIBE stream, another carries the calls.
 *
 * What it does, so that tests can tell from its stdout (the sandbox's
 * `stdout`, one line per fact, flushed):
 *   - prints `env NAME=VALUE` for each MESOS_* variable at start;
 *   - SUBSCRIBEs with its unacknowledged tasks and updates; when the
 *     stream ends, subscribes again with backoff (up to
 *     MESOS_SUBSCRIPTION_BACKOFF_MAX) for MESOS_RECOVERY_TIMEOUT when
 *     MESOS_CHECKPOINT=1, else exits 0 (as Mesos's executors do);
 *   - LAUNCH: TASK_RUNNING; a task named `finish...` then TASK_FINISHED;
 *   - KILL: TASK_KILLED; SHUTDOWN: TASK_KILLED for each running task, exit 0;
 *   - MESSAGE `echo:X`: sends MESSAGE `reply:X`; `exit:N`: exits N;
 *     `mute`: never subscribes again once its stream ends;
 *   - keeps each update until ACKNOWLEDGED (printed `acked TASK STATE`).
 */
#include "proto/proto.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static struct event_base *base;
static char host[256];
static int port;
static const char *fw_id, *exec_id;
static bool checkpoint, mute;
static double recovery_s = 900, backoff_max_s = 2, backoff_s = 0.1;
static double disconnected_at; /* 0: connected */
static struct evhttp_connection *sub_conn, *call_conn;
static struct pb_recordio_reader *reader;
static json_t *tasks;   /* task_id -> TaskInfo, launched and not ended */
static json_t *acked;   /* task_id -> true: an update of it was acknowledged */
static json_t *updates; /* [ {"status":…} ] not acknowledged */
static struct event *retry;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "15mins", "900secs", "2secs", "100ms" as seconds. */
static double duration_s(const char *v, double dflt)
{
	if (!v)
		return dflt;
	char *end;
	double n = strtod(v, &end);
	if (strcmp(end, "ms") == 0)
		return n / 1e3;
	if (strcmp(end, "secs") == 0)
		return n;
	if (strcmp(end, "mins") == 0)
		return n * 60;
	if (strcmp(end, "ns") == 0)
		return n / 1e9;
	return dflt;
}

static void on_call_done(struct evhttp_request *req, void *arg)
{
	char *what = arg;
	int code = req ? evhttp_request_get_response_code(req) : 0;
	if (code != 202) {
		char body[512] = "";
		if (req) {
			struct evbuffer *b = evhttp_request_get_input_buffer(req);
			size_t n = evbuffer_get_length(b);
			if (n >= sizeof(body))
				n = sizeof(body) - 1;
			evbuffer_copyout(b, body, n);
			body[n] = '\0';
		}
		say("call %s -> %d %s", what, code, body);
	}
	free(what);
}

static void post(json_t *call, const char *what)
{
	if (!call_conn)
		call_conn = evhttp_connection_base_new(base, NULL, host, (ev_uint16_t)port);
	char *text = json_dumps(call, JSON_COMPACT);
	json_decref(call);
	struct evhttp_request *req = evhttp_request_new(on_call_done, strdup(what));
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", host);
	evhttp_add_header(h, "Content-Type", "application/json");
	evbuffer_add(evhttp_request_get_output_buffer(req), text, strlen(text));
	free(text);
	if (evhttp_make_request(call_conn, req, EVHTTP_REQ_POST, "/api/v1/executor") < 0)
		say("call %s: not sent", what);
}

static json_t *call(const char *type)
{
	return json_pack("{s:s, s:{s:s}, s:{s:s}}", "type", type, "framework_id", "value", fw_id,
	                 "executor_id", "value", exec_id);
}

static void update(const char *task_id, const char *state)
{
	unsigned char uuid[16];
	if (getrandom(uuid, sizeof(uuid), 0) != sizeof(uuid))
		abort();
	char *b64 = pb_base64_encode(uuid, sizeof(uuid));
	json_t *st = json_pack("{s:{s:s}, s:s, s:s, s:s, s:{s:s}}", "task_id", "value", task_id,
	                       "state", state, "source", "SOURCE_EXECUTOR", "uuid", b64,
	                       "executor_id", "value", exec_id);
	free(b64);
	json_array_append_new(updates, json_pack("{s:O}", "status", st));
	json_t *c = call("UPDATE");
	json_object_set_new(c, "update", json_pack("{s:o}", "status", st));
	say("update %s %s", task_id, state);
	post(c, "UPDATE");
	if (pb_task_state_is_terminal(pb_task_state_from_name(state)))
		json_object_del(tasks, task_id);
}

static void subscribe(void);

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	subscribe();
}

static void lost_stream(const char *why)
{
	if (!disconnected_at)
		disconnected_at = now_s();
	say("disconnected: %s", why);
	if (!checkpoint) {
		say("exit: not checkpointing");
		exit(0);
	}
	if (mute) {
		/* alive, silent: the loop waits on a timer it never needs */
		say("mute: not subscribing again");
		static struct event *idle;
		struct timeval hour = {3600, 0};
		idle = evtimer_new(base, on_retry, NULL);
		evtimer_add(idle, &hour);
		return;
	}
	if (now_s() - disconnected_at > recovery_s) {
		say("exit: the agent did not come back within the recovery timeout");
		exit(1);
	}
	struct timeval tv = {(time_t)backoff_s,
	                     (suseconds_t)((backoff_s - (time_t)backoff_s) * 1e6)};
	evtimer_add(retry, &tv);
	backoff_s *= 2;
	if (backoff_s > backoff_max_s)
		backoff_s = backoff_max_s;
}

static void on_event(json_t *ev)
{
	const char *type = json_string_value(json_object_get(ev, "type"));
	if (!type)
		return;
	if (strcmp(type, "HEARTBEAT") != 0)
		say("event %s", type);
	if (strcmp(type, "SUBSCRIBED") == 0) {
		disconnected_at = 0;
		backoff_s = 0.1;
		json_t *s = json_object_get(ev, "subscribed");
		say("subscribed container=%s agent=%s",
		    json_string_value(json_object_get(json_object_get(s, "container_id"), "value")),
		    json_string_value(json_object_get(
		            json_object_get(json_object_get(s, "agent_info"), "id"), "value")));
	} else if (strcmp(type, "LAUNCH") == 0) {
		json_t *task = json_object_get(json_object_get(ev, "launch"), "task");
		const char *id = json_string_value(
		        json_object_get(json_object_get(task, "task_id"), "value"));
		const char *name = json_string_value(json_object_get(task, "name"));
		if (!id)
			return;
		say("launch %s", id);
		json_object_set(tasks, id, task);
		update(id, "TASK_RUNNING");
		if (name && strncmp(name, "finish", 6) == 0)
			update(id, "TASK_FINISHED");
	} else if (strcmp(type, "KILL") == 0) {
		const char *id = json_string_value(json_object_get(
		        json_object_get(json_object_get(ev, "kill"), "task_id"), "value"));
		say("kill %s", id ? id : "?");
		if (id)
			update(id, "TASK_KILLED");
	} else if (strcmp(type, "ACKNOWLEDGED") == 0) {
		json_t *a = json_object_get(ev, "acknowledged");
		const char *uuid = json_string_value(json_object_get(a, "uuid"));
		size_t i;
		json_t *u;
		json_array_foreach (updates, i, u) {
			json_t *st = json_object_get(u, "status");
			if (uuid &&
			    strcmp(uuid, json_string_value(json_object_get(st, "uuid"))) == 0) {
				say("acked %s %s",
				    json_string_value(json_object_get(
				            json_object_get(st, "task_id"), "value")),
				    json_string_value(json_object_get(st, "state")));
				json_object_set_new(
				        acked,
				        json_string_value(json_object_get(
				                json_object_get(st, "task_id"), "value")),
				        json_true());
				json_array_remove(updates, i);
				break;
			}
		}
	} else if (strcmp(type, "MESSAGE") == 0) {
		const char *b64 =
		        json_string_value(json_object_get(json_object_get(ev, "message"), "data"));
		uint8_t *data = NULL;
		size_t n = 0;
		if (!b64 || pb_base64_decode(b64, strlen(b64), &data, &n) < 0)
			return;
		say("message %s", (char *)data);
		if (strncmp((char *)data, "exit:", 5) == 0) {
			say("exit %d", atoi((char *)data + 5));
			exit(atoi((char *)data + 5));
		} else if (strcmp((char *)data, "mute") == 0) {
			mute = true;
		} else if (strncmp((char *)data, "echo:", 5) == 0) {
			char reply[512];
			snprintf(reply, sizeof(reply), "reply:%s", (char *)data + 5);
			char *r64 = pb_base64_encode(reply, strlen(reply));
			json_t *c = call("MESSAGE");
			json_object_set_new(c, "message", json_pack("{s:s}", "data", r64));
			free(r64);
			post(c, "MESSAGE");
		}
		free(data);
	} else if (strcmp(type, "SHUTDOWN") == 0) {
		const char *id;
		json_t *t;
		void *tmp;
		json_object_foreach_safe (tasks, tmp, id, t) {
			char *copy = strdup(id);
			update(copy, "TASK_KILLED");
			free(copy);
		}
		say("shutdown");
		/* the updates' POSTs go before the exit */
		struct timeval tv = {1, 0};
		event_base_loopexit(base, &tv);
	} else if (strcmp(type, "ERROR") == 0) {
		say("error %s",
		    json_string_value(json_object_get(json_object_get(ev, "error"), "message")));
	}
}

static int on_record(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	json_t *ev = json_loadb(data, len, 0, NULL);
	if (ev)
		on_event(ev);
	json_decref(ev);
	return 0;
}

static void on_chunk(struct evhttp_request *req, void *arg)
{
	(void)arg;
	struct evbuffer *b = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(b);
	const char *p = (const char *)evbuffer_pullup(b, -1);
	if (evhttp_request_get_response_code(req) == 200 && n) {
		struct ag_error err = {0};
		if (pb_recordio_reader_feed(reader, p, n, on_record, NULL, &err) < 0)
			say("bad stream: %s", err.msg);
	}
	evbuffer_drain(b, n);
}

static void on_sub_done(struct evhttp_request *req, void *arg)
{
	(void)arg;
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
		snprintf(why, sizeof(why), "SUBSCRIBE answered %d %s", code, body);
	} else {
		snprintf(why, sizeof(why), "%s", code ? "the stream ended" : "no connection");
	}
	pb_recordio_reader_free(reader);
	reader = NULL;
	/* Freed by libevent after this callback; a new one is made. */
	sub_conn = NULL;
	lost_stream(why);
}

static void subscribe(void)
{
	reader = pb_recordio_reader_new(0);
	sub_conn = evhttp_connection_base_new(base, NULL, host, (ev_uint16_t)port);
	evhttp_connection_free_on_completion(sub_conn);
	json_t *c = call("SUBSCRIBE");
	json_t *unacked = json_array();
	const char *id;
	json_t *t;
	/* Mesos's unacknowledged tasks: launched, no update acknowledged. */
	json_object_foreach (tasks, id, t)
		if (!json_object_get(acked, id))
			json_array_append(unacked, t);
	size_t n_unacked = json_array_size(unacked);
	json_object_set_new(c, "subscribe",
	                    json_pack("{s:o, s:O}", "unacknowledged_tasks", unacked,
	                              "unacknowledged_updates", updates));
	char *text = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	struct evhttp_request *req = evhttp_request_new(on_sub_done, NULL);
	evhttp_request_set_chunked_cb(req, on_chunk);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", host);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Accept", "application/json");
	evbuffer_add(evhttp_request_get_output_buffer(req), text, strlen(text));
	free(text);
	say("subscribing (%zu unacknowledged tasks, %zu unacknowledged updates)", n_unacked,
	    json_array_size(updates));
	if (evhttp_make_request(sub_conn, req, EVHTTP_REQ_POST, "/api/v1/executor") < 0)
		say("subscribe: not sent");
}

int main(void)
{
	static const char *const vars[] = {
	        "MESOS_FRAMEWORK_ID",
	        "MESOS_EXECUTOR_ID",
	        "MESOS_DIRECTORY",
	        "MESOS_SANDBOX",
	        "MESOS_AGENT_ENDPOINT",
	        "MESOS_CHECKPOINT",
	        "MESOS_RECOVERY_TIMEOUT",
	        "MESOS_SUBSCRIPTION_BACKOFF_MAX",
	        "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
	};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		say("env %s=%s", vars[i], getenv(vars[i]) ? getenv(vars[i]) : "(unset)");
	fw_id = getenv("MESOS_FRAMEWORK_ID");
	exec_id = getenv("MESOS_EXECUTOR_ID");
	const char *ep = getenv("MESOS_AGENT_ENDPOINT");
	const char *colon = ep ? strrchr(ep, ':') : NULL;
	if (!fw_id || !exec_id || !colon || (size_t)(colon - ep) >= sizeof(host)) {
		say("exit: the MESOS_* environment is incomplete");
		return 2;
	}
	memcpy(host, ep, (size_t)(colon - ep));
	port = atoi(colon + 1);
	checkpoint = getenv("MESOS_CHECKPOINT") && strcmp(getenv("MESOS_CHECKPOINT"), "1") == 0;
	recovery_s = duration_s(getenv("MESOS_RECOVERY_TIMEOUT"), recovery_s);
	backoff_max_s = duration_s(getenv("MESOS_SUBSCRIPTION_BACKOFF_MAX"), backoff_max_s);
	tasks = json_object();
	acked = json_object();
	updates = json_array();
	base = event_base_new();
	retry = evtimer_new(base, on_retry, NULL);
	subscribe();
	event_base_dispatch(base);
	say("exit 0");
	return 0;
}
