/* scheduler.c: see scheduler.h. The stream is one evhttp connection with a
 * chunked callback feeding a RecordIO reader; calls go over a second,
 * keep-alive connection, which evhttp queues in order. */
#include "sdk/scheduler.h"

#include "proto/proto.h"
#include "zkdetect/zkdetect.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>

enum { S_IDLE, S_CONNECTING, S_SUBSCRIBED, S_WAITING, S_STOPPED };

struct ags {
	struct event_base *base;
	struct ags_callbacks cb;
	void *ctx;
	char *host;
	int port;
	char *name, *user, *role, *framework_id;
	double failover_timeout, heartbeat_s;
	bool checkpoint;
	struct ag_backoff backoff;
	int state;
	struct evhttp_connection *stream, *post;
	struct pb_recordio_reader *rd;
	char stream_id[129];
	struct event *retry, *watchdog, *closer;
	bool closed_sent, tearing_down;
	struct ags__pending *pending; /* calls without an answer yet */
	/* Standby masters: the masters of a list, tried in turn, or the
	 * ZooKeeper detector and its leader's znode (NULL: none known). */
	char **addrs;
	int naddrs, next;
	struct zkd_detector *zk;
	char *leader_znode;
	char *zk_host; /* the leader's address, as ZooKeeper names it */
	int zk_port;
	/* A 307 moved host:port: the next SUBSCRIBE goes there at once (3
	 * times between subscriptions, then with the backoff). */
	bool redirected;
	int redirects;
};

/* A call in flight. evhttp drops the requests of a connection it frees
 * without calling them back, so they are listed here to be freed then. */
struct ags__pending {
	struct ags *s;
	struct ags__pending *next, **prevp;
	char type[32];
};

static void pending_unlink(struct ags__pending *p)
{
	*p->prevp = p->next;
	if (p->next)
		p->next->prevp = p->prevp;
	free(p);
}

/* Free the call connection. Nothing will answer the calls still in flight:
 * when `report`, each is reported to `call_failed` with code 0 (a caller
 * that killed a task must learn that the kill may not have been sent). */
static void free_post(struct ags *s, bool report)
{
	if (s->post)
		evhttp_connection_free(s->post);
	s->post = NULL;
	/* Detached first: the callback may make calls (refused with
	 * -ENOTCONN while not subscribed, but they must not see the list). */
	struct ags__pending *list = s->pending;
	if (list)
		list->prevp = &list;
	s->pending = NULL;
	while (list) {
		if (report && s->cb.call_failed)
			s->cb.call_failed(
			        s, s->ctx, list->type, 0,
			        "the connection to the master was lost before it answered");
		pending_unlink(list);
	}
}

static void set_timer(struct event *ev, double sec)
{
	struct timeval tv = {.tv_sec = (time_t)sec,
	                     .tv_usec = (suseconds_t)((sec - (double)(time_t)sec) * 1e6)};
	evtimer_add(ev, &tv);
}

static double watchdog_s(const struct ags *s)
{
	return 5 * (s->heartbeat_s > 0 ? s->heartbeat_s : 15);
}

/* `closed` runs from a timer of its own so that the caller may free the
 * scheduler there: never from inside an evhttp callback of ours. */
static void stop(struct ags *s)
{
	if (s->state == S_STOPPED)
		return;
	s->state = S_STOPPED;
	evtimer_del(s->retry);
	evtimer_del(s->watchdog);
	set_timer(s->closer, 0);
}

static int parse_master(const char *m, char **ret_host, int *ret_port);

static void set_target(struct ags *s, const char *hostport)
{
	char *host;
	int port;
	if (parse_master(hostport, &host, &port) < 0)
		return;
	free(s->host);
	s->host = host;
	s->port = port;
}

static void lost(struct ags *s, const char *why)
{
	if (s->state == S_WAITING || s->state == S_STOPPED)
		return;
	if (s->tearing_down) {
		stop(s);
		return;
	}
	s->state = S_WAITING;
	s->stream_id[0] = '\0';
	evtimer_del(s->watchdog);
	int64_t d;
	if (s->redirected && ++s->redirects <= 3) {
		d = 0; /* to the leader at once */
	} else {
		d = ag_backoff_next(&s->backoff);
		if (!s->redirected && s->zk && s->leader_znode) {
			/* A 307 may have sent it to a former leader (a standby
			 * that had not yet seen the election): back to the one
			 * ZooKeeper names. */
			free(s->host);
			s->host = ag_strdup(s->zk_host);
			s->port = s->zk_port;
		} else if (!s->redirected && s->naddrs > 1) {
			set_target(s, s->addrs[s->next]); /* the next master */
			s->next = (s->next + 1) % s->naddrs;
		}
	}
	s->redirected = false;
	set_timer(s->retry, (double)d / 1000.0);
	if (s->cb.disconnected)
		s->cb.disconnected(s, s->ctx, why);
}

/* The SDK's enum is the wire's, value for value (the conversion is a cast). */
#define SAME_STATE(x) _Static_assert((int)AGS_##x == (int)PB_##x, #x)
SAME_STATE(TASK_STATE_UNSET);
SAME_STATE(TASK_STAGING);
SAME_STATE(TASK_STARTING);
SAME_STATE(TASK_RUNNING);
SAME_STATE(TASK_KILLING);
SAME_STATE(TASK_FINISHED);
SAME_STATE(TASK_FAILED);
SAME_STATE(TASK_KILLED);
SAME_STATE(TASK_ERROR);
SAME_STATE(TASK_LOST);
SAME_STATE(TASK_DROPPED);
SAME_STATE(TASK_UNREACHABLE);
SAME_STATE(TASK_GONE);
SAME_STATE(TASK_GONE_BY_OPERATOR);
SAME_STATE(TASK_UNKNOWN);

const char *ags_task_state_name(enum ags_task_state st)
{
	return pb_task_state_name((enum pb_task_state)st);
}

bool ags_task_state_is_terminal(enum ags_task_state st)
{
	return pb_task_state_is_terminal((enum pb_task_state)st);
}

/* The decoded event's member `key` of its normalized JSON ("offers",
 * "update", ...), then `sub` of that. */
static const json_t *event_json(const struct pb_event *ev, const char *key, const char *sub)
{
	return json_object_get(json_object_get(ev->json, key), sub);
}

static void deliver_offers(struct ags *s, const struct pb_event *ev)
{
	size_t n = ev->offers.n_offers;
	_cleanup_free_ struct ags_offer *o = ag_calloc(n ? n : 1, sizeof(*o));
	const json_t *list = event_json(ev, "offers", "offers");
	for (size_t i = 0; i < n; i++) {
		const struct pb_offer *p = &ev->offers.offers[i];
		o[i] = (struct ags_offer){.id = p->id,
		                          .framework_id = p->framework_id,
		                          .agent_id = p->agent_id,
		                          .hostname = p->hostname,
		                          .json = json_array_get(list, i)};
	}
	s->cb.offers(s, s->ctx, o, n);
}

static void status_of(const struct pb_event *ev, struct ags_task_status *ret)
{
	const struct pb_task_status *p = &ev->update.status;
	*ret = (struct ags_task_status){
	        .task_id = p->task_id,
	        .state = (enum ags_task_state)p->state,
	        .message = p->message,
	        .reason = p->reason ? pb_task_reason_name(p->reason) : NULL,
	        .source = p->source ? pb_task_source_name(p->source) : NULL,
	        .agent_id = p->agent_id,
	        .executor_id = p->executor_id,
	        .timestamp = p->has_timestamp ? p->timestamp : 0,
	        .uuid = p->uuid.len ? p->uuid.data : NULL,
	        .uuid_len = p->uuid.len,
	        .data = p->data.len ? p->data.data : NULL,
	        .data_len = p->data.len,
	        .has_healthy = p->has_healthy,
	        .healthy = p->healthy,
	        .json = event_json(ev, "update", "status"),
	};
}

static void dispatch(struct ags *s, const struct pb_event *ev)
{
	struct ags_task_status st;
	switch (ev->type) {
	case PB_EVENT_SUBSCRIBED:
		free(s->framework_id);
		s->framework_id = ag_strdup(ev->subscribed.framework_id);
		s->heartbeat_s = ev->subscribed.heartbeat_interval_seconds > 0
		                         ? ev->subscribed.heartbeat_interval_seconds
		                         : 15;
		s->state = S_SUBSCRIBED;
		ag_backoff_reset(&s->backoff);
		set_timer(s->watchdog, watchdog_s(s));
		if (s->cb.subscribed)
			s->cb.subscribed(s, s->ctx, s->framework_id, s->heartbeat_s);
		break;
	case PB_EVENT_OFFERS:
		if (s->cb.offers)
			deliver_offers(s, ev);
		break;
	case PB_EVENT_RESCIND:
		if (s->cb.rescind)
			s->cb.rescind(s, s->ctx, ev->rescind.offer_id);
		break;
	case PB_EVENT_UPDATE:
		status_of(ev, &st);
		/* Before the callback, so that a TEARDOWN made there comes after. */
		if (s->cb.auto_ack && s->state == S_SUBSCRIBED) {
			/* An acknowledgement that could not be sent leaves the
			 * update unacknowledged: the agent resends it. Said
			 * through call_failed (no answer came: code 0). */
			int r = ags_acknowledge(s, &st);
			if (r < 0 && s->cb.call_failed)
				s->cb.call_failed(s, s->ctx, "ACKNOWLEDGE", 0, strerror(-r));
		}
		if (s->cb.update)
			s->cb.update(s, s->ctx, &st);
		break;
	case PB_EVENT_MESSAGE:
		if (s->cb.message)
			s->cb.message(s, s->ctx, ev->message.agent_id, ev->message.executor_id,
			              ev->message.data.data, ev->message.data.len);
		break;
	case PB_EVENT_FAILURE:
		if (s->cb.failure)
			s->cb.failure(s, s->ctx, ev->failure.agent_id, ev->failure.executor_id,
			              ev->failure.has_status, ev->failure.status);
		break;
	case PB_EVENT_ERROR:
		if (s->cb.error)
			s->cb.error(s, s->ctx, ev->error.message);
		stop(s);
		break;
	case PB_EVENT_HEARTBEAT:
		if (s->cb.heartbeat)
			s->cb.heartbeat(s, s->ctx);
		break;
	default:
		break; /* inverse offers, operation updates: not for us */
	}
}

static int on_record(void *arg, const char *data, size_t len)
{
	struct ags *s = arg;
	struct pb_event ev;
	struct ag_error err = {0};
	if (pb_event_decode(data, len, &ev, &err) < 0) {
		char why[AG_ERROR_MSG_MAX + 64];
		snprintf(why, sizeof(why), "a bad event from the master: %s", err.msg);
		lost(s, why);
		return -EBADMSG;
	}
	if (s->state == S_SUBSCRIBED || s->state == S_CONNECTING)
		set_timer(s->watchdog, watchdog_s(s));
	dispatch(s, &ev);
	pb_event_free(&ev);
	return s->state == S_SUBSCRIBED || s->state == S_CONNECTING ? 0 : -ECANCELED;
}

static void stream_chunk(struct evhttp_request *req, void *arg)
{
	struct ags *s = arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	if (s->state != S_CONNECTING && s->state != S_SUBSCRIBED) {
		evbuffer_drain(in, n);
		return;
	}
	const void *p = evbuffer_pullup(in, -1);
	struct ag_error err = {0};
	int r = pb_recordio_reader_feed(s->rd, p, n, on_record, s, &err);
	evbuffer_drain(in, n);
	if (r < 0 && r != -EBADMSG && r != -ECANCELED) {
		char why[AG_ERROR_MSG_MAX + 64];
		snprintf(why, sizeof(why), "a bad stream from the master: %s", err.msg);
		lost(s, why);
	}
}

static int stream_header(struct evhttp_request *req, void *arg)
{
	struct ags *s = arg;
	int code = evhttp_request_get_response_code(req);
	if (code == 307) {
		/* A standby: the leader is in Location, http://HOST:PORT/... or
		 * Mesos's //HOST:PORT/.... */
		const char *loc =
		        evhttp_find_header(evhttp_request_get_input_headers(req), "Location");
		char why[400];
		if (loc && strncmp(loc, "//", 2) == 0)
			loc += 2;
		char *host;
		int port;
		if (loc && (strncmp(loc, "http://", 7) == 0 || !strstr(loc, "://")) &&
		    parse_master(loc, &host, &port) == 0) {
			snprintf(why, sizeof(why), "%s:%d is not the leader: redirected to %s:%d",
			         s->host, s->port, host, port);
			free(s->host);
			s->host = host;
			s->port = port;
			s->redirected = true;
		} else {
			snprintf(why, sizeof(why),
			         "the master answered 307 without a Location to follow");
		}
		lost(s, why);
		return -1;
	}
	if (code != 200) {
		char why[96];
		snprintf(why, sizeof(why), "the master answered %d to SUBSCRIBE", code);
		lost(s, why);
		return -1;
	}
	const char *sid =
	        evhttp_find_header(evhttp_request_get_input_headers(req), "Mesos-Stream-Id");
	snprintf(s->stream_id, sizeof(s->stream_id), "%s", sid ? sid : "");
	return 0;
}

static void stream_done(struct evhttp_request *req, void *arg)
{
	(void)req;
	lost(arg, "the stream from the master ended");
}

static void stream_error(enum evhttp_request_error e, void *arg)
{
	char why[96];
	snprintf(why, sizeof(why), "the stream from the master failed (%s)",
	         e == EVREQ_HTTP_TIMEOUT ? "timeout"
	         : e == EVREQ_HTTP_EOF   ? "closed"
	                                 : "error");
	lost(arg, why);
}

static json_t *framework_info(const struct ags *s)
{
	json_t *fi = json_pack("{s:s, s:s, s:b, s:s}", "user", s->user, "name", s->name,
	                       "checkpoint", s->checkpoint, "role", s->role);
	if (s->failover_timeout > 0)
		json_object_set_new(fi, "failover_timeout", json_real(s->failover_timeout));
	if (s->framework_id)
		json_object_set_new(fi, "id", pb_id_to_json(s->framework_id));
	json_object_set_new(fi, "capabilities", json_pack("[{s:s}]", "type", "TASK_KILLING_STATE"));
	return fi;
}

/* libevent makes its sockets without SOCK_CLOEXEC: a framework that
 * forks and execs must not hand its connections to the master on. The
 * socket of a request exists once evhttp_make_request() returned (the
 * name is resolved in it), and nothing runs between on this thread. */
static void cloexec(struct evhttp_connection *conn)
{
	int fd = bufferevent_getfd(evhttp_connection_get_bufferevent(conn));
	if (fd >= 0)
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static void connect_now(struct ags *s)
{
	if (s->zk && !s->leader_znode) {
		/* No leader: on_leader() subscribes once ZooKeeper names one. */
		s->state = S_WAITING;
		return;
	}
	if (s->stream)
		evhttp_connection_free(s->stream);
	s->stream = NULL;
	/* The call connection may be to a master that is gone too. */
	free_post(s, true);
	pb_recordio_reader_free(s->rd);
	s->rd = pb_recordio_reader_new(0);
	s->stream_id[0] = '\0';
	s->state = S_CONNECTING;
	s->stream = evhttp_connection_base_new(s->base, NULL, s->host, (uint16_t)s->port);
	if (!s->stream) {
		lost(s, "cannot create a connection to the master");
		return;
	}
	evhttp_connection_set_timeout(s->stream, 3600);
	json_t *call = json_pack("{s:s, s:{s:o}}", "type", "SUBSCRIBE", "subscribe",
	                         "framework_info", framework_info(s));
	if (s->framework_id)
		json_object_set_new(call, "framework_id", pb_id_to_json(s->framework_id));
	_cleanup_free_ char *body = pb_json_dump(call, NULL);
	json_decref(call);
	struct evhttp_request *req = evhttp_request_new(stream_done, s);
	evhttp_request_set_chunked_cb(req, stream_chunk);
	evhttp_request_set_header_cb(req, stream_header);
	evhttp_request_set_error_cb(req, stream_error);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", s->host);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Accept", "application/json");
	evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
	/* A master that accepts but never answers is a lost stream too. */
	set_timer(s->watchdog, watchdog_s(s));
	if (evhttp_make_request(s->stream, req, EVHTTP_REQ_POST, "/api/v1/scheduler") < 0)
		lost(s, "cannot send SUBSCRIBE to the master");
	else
		cloexec(s->stream);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct ags *s = arg;
	if (s->state == S_WAITING)
		connect_now(s);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	lost(arg, "no event from the master for 5 heartbeat intervals");
}

static void on_closer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct ags *s = arg;
	if (s->closed_sent)
		return;
	s->closed_sent = true;
	if (s->cb.closed)
		s->cb.closed(s, s->ctx);
}

static void on_leader(void *ctx, const struct zkd_leader *leader, const char *why)
{
	struct ags *s = ctx;
	if (!leader) {
		free(s->leader_znode);
		s->leader_znode = NULL;
		if (s->cb.disconnected && s->state != S_IDLE && s->state != S_STOPPED) {
			char text[AG_ERROR_MSG_MAX + 64];
			snprintf(text, sizeof(text), "no leading master in ZooKeeper: %s", why);
			s->cb.disconnected(s, s->ctx, text);
		}
		return;
	}
	if (s->leader_znode && strcmp(s->leader_znode, leader->znode) == 0)
		return;
	free(s->leader_znode);
	s->leader_znode = ag_strdup(leader->znode);
	free(s->host);
	s->host = ag_strdup(leader->host);
	s->port = leader->port;
	free(s->zk_host);
	s->zk_host = ag_strdup(leader->host);
	s->zk_port = leader->port;
	if (s->state == S_IDLE || s->state == S_STOPPED)
		return;
	/* A new leader: subscribe with it now (with the framework's id and
	 * failover_timeout, as after a master restart). */
	bool was = s->state == S_SUBSCRIBED || s->state == S_CONNECTING;
	s->state = S_WAITING;
	evtimer_del(s->retry);
	evtimer_del(s->watchdog);
	ag_backoff_reset(&s->backoff);
	if (was && s->cb.disconnected) {
		char text[600];
		snprintf(text, sizeof(text), "a new leading master at %s:%d (%s)", leader->host,
		         leader->port, leader->znode);
		s->cb.disconnected(s, s->ctx, text);
	}
	connect_now(s);
}

static int parse_master(const char *m, char **ret_host, int *ret_port)
{
	if (!m)
		m = "127.0.0.1:5050";
	if (strncmp(m, "http://", 7) == 0)
		m += 7;
	const char *colon = strrchr(m, ':');
	size_t hl = colon ? (size_t)(colon - m) : strlen(m);
	int64_t port = 5050;
	if (colon) {
		_cleanup_free_ char *p = strndup(colon + 1, strcspn(colon + 1, "/"));
		if (ag_parse_i64(p, &port) < 0 || port <= 0 || port > 65535)
			return -EINVAL;
	}
	if (hl == 0)
		return -EINVAL;
	*ret_host = strndup(m, hl);
	*ret_port = (int)port;
	return 0;
}

struct ags *ags_new(struct event_base *base, const struct ags_config *cfg,
                    const struct ags_callbacks *cb, void *ctx)
{
	struct ags *s = ag_calloc(1, sizeof(*s));
	s->base = base;
	if (cfg->master && zkd_is_url(cfg->master)) {
		struct zkd_url u = {0};
		if (zkd_url_parse("master", cfg->master, &u, NULL) < 0) {
			free(s);
			errno = EINVAL;
			return NULL;
		}
		s->host = ag_strdup("");
		s->zk = zkd_detector_new(base, &u, 0, on_leader, s, NULL);
		zkd_url_free(&u);
		if (!s->zk) {
			free(s->host);
			free(s);
			errno = ENOMEM;
			return NULL;
		}
	} else {
		const char *m = cfg->master ? cfg->master : "127.0.0.1:5050";
		for (;;) {
			size_t len = strcspn(m, ",");
			_cleanup_free_ char *one = strndup(m, len);
			char *host;
			int port;
			if (!one || parse_master(one, &host, &port) < 0) {
				for (int i = 0; i < s->naddrs; i++)
					free(s->addrs[i]);
				free(s->addrs);
				free(s->host);
				free(s);
				errno = EINVAL;
				return NULL;
			}
			free(host);
			s->addrs = ag_realloc(s->addrs, (size_t)(s->naddrs + 1) * sizeof(char *));
			s->addrs[s->naddrs++] = TAKE_PTR(one);
			if (!m[len])
				break;
			m += len + 1;
		}
		if (parse_master(s->addrs[0], &s->host, &s->port) < 0)
			abort(); /* checked above */
		s->next = 1 % s->naddrs;
	}
	if (cb)
		s->cb = *cb;
	s->ctx = ctx;
	s->name = ag_strdup(cfg->name ? cfg->name : "agora-framework");
	const char *user = cfg->user;
	struct passwd *pw = user ? NULL : getpwuid(geteuid());
	s->user = ag_strdup(user ? user : pw ? pw->pw_name : "root");
	s->role = ag_strdup(cfg->role ? cfg->role : "*");
	s->framework_id = cfg->framework_id ? ag_strdup(cfg->framework_id) : NULL;
	s->failover_timeout = cfg->failover_timeout;
	s->checkpoint = cfg->checkpoint;
	s->backoff.base_ms = cfg->backoff_base_ms > 0 ? cfg->backoff_base_ms : 500;
	s->backoff.max_ms = cfg->backoff_max_ms > 0 ? cfg->backoff_max_ms : 30000;
	s->retry = evtimer_new(base, on_retry, s);
	s->watchdog = evtimer_new(base, on_watchdog, s);
	s->closer = evtimer_new(base, on_closer, s);
	return s;
}

void ags_free(struct ags *s)
{
	if (!s)
		return;
	/* First: its thread must not report into a half-freed handle. */
	zkd_detector_free(s->zk);
	free(s->leader_znode);
	free(s->zk_host);
	for (int i = 0; i < s->naddrs; i++)
		free(s->addrs[i]);
	free(s->addrs);
	if (s->stream)
		evhttp_connection_free(s->stream);
	free_post(s, false);
	event_free(s->retry);
	event_free(s->watchdog);
	event_free(s->closer);
	pb_recordio_reader_free(s->rd);
	free(s->host);
	free(s->name);
	free(s->user);
	free(s->role);
	free(s->framework_id);
	free(s);
}

void ags_start(struct ags *s)
{
	if (s->state == S_IDLE)
		connect_now(s);
}

const char *ags_framework_id(const struct ags *s)
{
	return s->framework_id;
}

bool ags_subscribed(const struct ags *s)
{
	return s->state == S_SUBSCRIBED;
}

static void post_done(struct evhttp_request *req, void *arg)
{
	struct ags__pending *p = arg;
	struct ags *s = p->s;
	int code = req ? evhttp_request_get_response_code(req) : 0;
	bool teardown = strcmp(p->type, "TEARDOWN") == 0;
	bool ok = code == 202 || code == 200;
	if (!ok && s->cb.call_failed) {
		char body[1024] = "";
		if (req) {
			struct evbuffer *in = evhttp_request_get_input_buffer(req);
			size_t n = evbuffer_get_length(in);
			if (n >= sizeof(body))
				n = sizeof(body) - 1;
			evbuffer_copyout(in, body, n);
			body[n] = '\0';
		}
		s->cb.call_failed(s, s->ctx, p->type, code, body);
	}
	pending_unlink(p);
	/* A refused TEARDOWN removed nothing: the scheduler goes on (the
	 * caller may retry); an accepted one ends it. */
	if (teardown && ok)
		stop(s);
	else if (teardown)
		s->tearing_down = false;
}

int ags_call(struct ags *s, const json_t *call)
{
	if (s->state != S_SUBSCRIBED || !s->framework_id)
		return -ENOTCONN;
	if (!s->post) {
		s->post = evhttp_connection_base_new(s->base, NULL, s->host, (uint16_t)s->port);
		if (!s->post)
			return -ENOMEM;
		evhttp_connection_set_timeout(s->post, 30);
	}
	json_t *c = json_deep_copy(call);
	json_object_set_new(c, "framework_id", pb_id_to_json(s->framework_id));
	_cleanup_free_ char *body = pb_json_dump(c, NULL);
	struct ags__pending *p = ag_calloc(1, sizeof(*p));
	p->s = s;
	const char *type = json_string_value(json_object_get(c, "type"));
	snprintf(p->type, sizeof(p->type), "%s", type ? type : "?");
	json_decref(c);
	p->next = s->pending;
	p->prevp = &s->pending;
	if (s->pending)
		s->pending->prevp = &p->next;
	s->pending = p;
	struct evhttp_request *req = evhttp_request_new(post_done, p);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", s->host);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Mesos-Stream-Id", s->stream_id);
	evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
	/* On failure evhttp has freed the request (without calling it). */
	if (evhttp_make_request(s->post, req, EVHTTP_REQ_POST, "/api/v1/scheduler") < 0) {
		pending_unlink(p);
		return -EIO;
	}
	/* A keep-alive connection the master closed is opened again here. */
	cloexec(s->post);
	return 0;
}

/* Post `call` and drop our reference to it. */
static int call_steal(struct ags *s, json_t *call)
{
	int r = ags_call(s, call);
	json_decref(call);
	return r;
}

static json_t *filters(double refuse_seconds)
{
	if (refuse_seconds < 0)
		return json_object();
	return json_pack("{s:f}", "refuse_seconds", refuse_seconds);
}

static json_t *task_json(const struct ags_task *t, const char *agent_id)
{
	json_t *res = json_array();
	const char *names[] = {"cpus", "mem", "disk"};
	double vals[] = {t->cpus, t->mem, t->disk};
	for (size_t i = 0; i < AG_ARRAY_SIZE(names); i++)
		if (vals[i] > 0)
			json_array_append_new(res, json_pack("{s:s, s:s, s:{s:f}}", "name",
			                                     names[i], "type", "SCALAR", "scalar",
			                                     "value", vals[i]));
	json_t *ti = json_pack("{s:s, s:o, s:o, s:o}", "name", t->name ? t->name : t->task_id,
	                       "task_id", pb_id_to_json(t->task_id), "agent_id",
	                       pb_id_to_json(agent_id), "resources", res);
	if (t->command || t->n_env) {
		json_t *cmd = json_object();
		if (t->command)
			json_object_set_new(cmd, "value", json_string(t->command));
		else
			json_object_set_new(cmd, "shell", json_false());
		if (t->n_env) {
			json_t *vars = json_array();
			for (size_t i = 0; i < t->n_env; i++) {
				const char *eq = strchr(t->env[i], '=');
				json_t *v = json_object();
				json_object_set_new(
				        v, "name",
				        eq ? json_stringn(t->env[i], (size_t)(eq - t->env[i]))
				           : json_string(t->env[i]));
				json_object_set_new(v, "value", json_string(eq ? eq + 1 : ""));
				json_array_append_new(vars, v);
			}
			json_object_set_new(cmd, "environment",
			                    json_pack("{s:o}", "variables", vars));
		}
		json_object_set_new(ti, "command", cmd);
	}
	if (t->oci)
		json_object_set_new(ti, "container",
		                    json_pack("{s:s, s:O}", "type", "MESOS", "oci", t->oci));
	return ti;
}

int ags_launch(struct ags *s, const char *offer_id, const char *agent_id,
               const struct ags_task *tasks, size_t n, double refuse_seconds)
{
	json_t *infos = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(infos, task_json(&tasks[i], agent_id));
	json_t *call =
	        json_pack("{s:s, s:{s:[o], s:[{s:s, s:{s:o}}], s:o}}", "type", "ACCEPT", "accept",
	                  "offer_ids", pb_id_to_json(offer_id), "operations", "type", "LAUNCH",
	                  "launch", "task_infos", infos, "filters", filters(refuse_seconds));
	return call_steal(s, call);
}

int ags_decline(struct ags *s, const char *const *offer_ids, size_t n, double refuse_seconds)
{
	json_t *ids = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(ids, pb_id_to_json(offer_ids[i]));
	return call_steal(s, json_pack("{s:s, s:{s:o, s:o}}", "type", "DECLINE", "decline",
	                               "offer_ids", ids, "filters", filters(refuse_seconds)));
}

int ags_kill(struct ags *s, const char *task_id, const char *agent_id, double grace_s)
{
	json_t *k = json_pack("{s:o}", "task_id", pb_id_to_json(task_id));
	if (agent_id)
		json_object_set_new(k, "agent_id", pb_id_to_json(agent_id));
	if (grace_s >= 0)
		json_object_set_new(k, "kill_policy",
		                    json_pack("{s:{s:I}}", "grace_period", "nanoseconds",
		                              (json_int_t)(grace_s * 1e9)));
	return call_steal(s, json_pack("{s:s, s:o}", "type", "KILL", "kill", k));
}

int ags_acknowledge(struct ags *s, const struct ags_task_status *st)
{
	if (!st->uuid || !st->uuid_len || !st->agent_id)
		return 0;
	_cleanup_free_ char *uuid = pb_base64_encode(st->uuid, st->uuid_len);
	return call_steal(s, json_pack("{s:s, s:{s:o, s:o, s:s}}", "type", "ACKNOWLEDGE",
	                               "acknowledge", "agent_id", pb_id_to_json(st->agent_id),
	                               "task_id", pb_id_to_json(st->task_id), "uuid", uuid));
}

int ags_reconcile(struct ags *s, const char *const *task_ids, const char *const *agent_ids,
                  size_t n)
{
	json_t *tasks = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *t = json_pack("{s:o}", "task_id", pb_id_to_json(task_ids[i]));
		if (agent_ids && agent_ids[i])
			json_object_set_new(t, "agent_id", pb_id_to_json(agent_ids[i]));
		json_array_append_new(tasks, t);
	}
	return call_steal(
	        s, json_pack("{s:s, s:{s:o}}", "type", "RECONCILE", "reconcile", "tasks", tasks));
}

static int roles_call(struct ags *s, const char *type, const char *key, const char *role)
{
	json_t *call = json_pack("{s:s}", "type", type);
	if (role)
		json_object_set_new(call, key, json_pack("{s:[s]}", "roles", role));
	return call_steal(s, call);
}

int ags_revive(struct ags *s, const char *role)
{
	return roles_call(s, "REVIVE", "revive", role);
}

int ags_suppress(struct ags *s, const char *role)
{
	return roles_call(s, "SUPPRESS", "suppress", role);
}

int ags_teardown(struct ags *s)
{
	int r = call_steal(s, json_pack("{s:s}", "type", "TEARDOWN"));
	if (r == 0)
		s->tearing_down = true;
	return r;
}

double ags_offer_scalar(const struct ags_offer *o, const char *name)
{
	double v = 0;
	size_t i;
	const json_t *r;
	/* Normalized: `scalar.value` is a number, `type` a name. */
	json_array_foreach (json_object_get(o->json, "resources"), i, r) {
		const char *n = json_string_value(json_object_get(r, "name"));
		const char *type = json_string_value(json_object_get(r, "type"));
		if (n && type && strcmp(n, name) == 0 && strcmp(type, "SCALAR") == 0)
			v += json_number_value(
			        json_object_get(json_object_get(r, "scalar"), "value"));
	}
	return v;
}
