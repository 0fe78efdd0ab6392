/* master_link.c: the stream and the POSTs to the master (master_link.h). */
#include "agent/master_link.h"
#include "zkdetect/zkdetect.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>

enum { AGENT_ML_IDLE, AGENT_ML_CONNECTING, AGENT_ML_REGISTERED, AGENT_ML_WAITING };

struct agent_ml_link {
	struct event_base *base;
	struct agent_ml_config cfg;
	struct agent_ml_callbacks cb;
	void *ctx;
	int state;
	struct evhttp_connection *stream, *post;
	struct pb_recordio_reader *rd;
	char stream_id[128];
	char *agent_id;
	double heartbeat_s;
	struct ag_backoff backoff;
	struct event *retry, *watchdog, *heartbeat;
	char why[256];
	/* This link's registration_order: when the process made it
	 * (CLOCK_REALTIME, to compare with the agent's earlier processes),
	 * and the last registration's count. */
	uint64_t started_ns, seq;
	/* The master's secret for this agent ("": none), and whether it
	 * still has to reach cfg.secret_path. */
	char secret[PB_AGENT_SECRET_LEN + 1];
	bool secret_unsaved;
	/* cfg.master: the masters tried in turn (the next one after a loss),
	 * or the ZooKeeper detector and its last leader's znode. */
	char **addrs;
	int naddrs, next;
	struct zkd_detector *zk;
	char *leader_znode; /* NULL: no leader known */
	char *zk_host;      /* the leader's address, as ZooKeeper names it */
	int zk_port;
	bool started;
	/* A 307 moved cfg.host: the next try goes there at once (3 times
	 * between registrations, then with the backoff). */
	bool redirected;
	int redirects;
	/* POST connections to former masters, freed later: a request still
	 * on one hears its failure. */
	struct evhttp_connection *retired[4];
};

static void lost(struct agent_ml_link *l, const char *fmt, ...) AG_PRINTF(2, 3);

/* Talk to the master at host:port from now on; a POST connection to the
 * former one is retired. */
static void set_target(struct agent_ml_link *l, const char *host, int port)
{
	if (l->cfg.host && strcmp(l->cfg.host, host) == 0 && l->cfg.port == port)
		return;
	free((char *)l->cfg.host);
	l->cfg.host = ag_strdup(host);
	l->cfg.port = port;
	if (!l->post)
		return;
	size_t n = sizeof(l->retired) / sizeof(l->retired[0]);
	if (l->retired[n - 1])
		evhttp_connection_free(l->retired[n - 1]);
	memmove(l->retired + 1, l->retired, (n - 1) * sizeof(l->retired[0]));
	l->retired[0] = TAKE_PTR(l->post);
}

/* HOST:PORT of `len` bytes (port 1-65535, a host before it): host into
 * `host` (n bytes) and *port, or false. */
static bool split_host_port(const char *s, size_t len, char *host, size_t n, int *port)
{
	const char *colon = memrchr(s, ':', len);
	if (!colon || colon == s || (size_t)(colon - s) >= n)
		return false;
	_cleanup_free_ char *digits = strndup(colon + 1, len - (size_t)(colon - s) - 1);
	uint64_t v;
	if (!digits || !digits[0] || ag_parse_u64(digits, &v) < 0 || v == 0 || v > 65535 ||
	    strchr(digits, '\n'))
		return false;
	for (const char *p = s; p < colon; p++)
		if (*p <= ' ' || *p == '/' || *p == ',' || *p == '@')
			return false;
	snprintf(host, n, "%.*s", (int)(colon - s), s);
	*port = (int)v;
	return true;
}

/* The leader named by a 307's Location: http://HOST:PORT/... or
 * //HOST:PORT/... (Mesos's form). */
static bool parse_location(const char *loc, char *host, size_t n, int *port)
{
	if (strncmp(loc, "http://", 7) == 0)
		loc += 7;
	else if (strncmp(loc, "//", 2) == 0)
		loc += 2;
	else
		return false;
	return split_host_port(loc, strcspn(loc, "/?#"), host, n, port);
}

int agent_ml_check_master(const char *master, struct ag_error *err)
{
	if (!master || !master[0])
		return ag_error_msg(err, EINVAL,
		                    "--master: empty (HOST:PORT, HOST:PORT,... or "
		                    "zk://HOST:PORT,.../PATH)");
	if (zkd_is_url(master)) {
		struct zkd_url u = {0};
		int r = zkd_url_parse("--master", master, &u, err);
		zkd_url_free(&u);
		return r;
	}
	for (const char *s = master;;) {
		size_t len = strcspn(s, ",");
		char host[256];
		int port;
		if (!split_host_port(s, len, host, sizeof(host), &port))
			return ag_error_msg(
			        err, EINVAL,
			        "--master: `%.*s` in `%s` is not HOST:PORT (port 1-65535; "
			        "or zk://HOST:PORT,.../PATH)",
			        (int)len, s, master);
		if (!s[len])
			return 0;
		s += len + 1;
	}
}

static void connect_now(struct agent_ml_link *l);

static void on_leader(void *ctx, const struct zkd_leader *leader, const char *why)
{
	struct agent_ml_link *l = ctx;
	if (!leader) {
		free(TAKE_PTR(l->leader_znode));
		if (l->cb.master_changed)
			l->cb.master_changed(l->ctx, NULL, 0, why);
		return;
	}
	if (l->leader_znode && strcmp(l->leader_znode, leader->znode) == 0 &&
	    strcmp(l->cfg.host, leader->host) == 0 && l->cfg.port == leader->port)
		return;
	free(l->leader_znode);
	l->leader_znode = ag_strdup(leader->znode);
	free(l->zk_host);
	l->zk_host = ag_strdup(leader->host);
	l->zk_port = leader->port;
	set_target(l, leader->host, leader->port);
	if (l->cb.master_changed)
		l->cb.master_changed(l->ctx, leader->host, leader->port, leader->znode);
	if (!l->started)
		return;
	/* A new leader: register with it now (the agent's tasks go in its
	 * REREGISTER), whatever the stream to the former one is doing. */
	l->state = AGENT_ML_WAITING;
	evtimer_del(l->retry);
	evtimer_del(l->watchdog);
	evtimer_del(l->heartbeat);
	ag_backoff_reset(&l->backoff);
	connect_now(l);
}

static void set_timer(struct event *ev, double s)
{
	struct timeval tv = {.tv_sec = (time_t)s, .tv_usec = (suseconds_t)((s - (time_t)s) * 1e6)};
	evtimer_add(ev, &tv);
}

/* Write the secret to cfg.secret_path (durably, mode 0600): 0, or -errno
 * and why in `err`. */
static int save_secret(struct agent_ml_link *l, struct ag_error *err)
{
	if (!l->cfg.secret_path)
		return 0;
	char text[PB_AGENT_SECRET_LEN + 2];
	int n = snprintf(text, sizeof(text), "%s\n", l->secret);
	int r = ag_write_file_durable_at(AT_FDCWD, l->cfg.secret_path, text, (size_t)n, 0600);
	explicit_bzero(text, sizeof(text));
	if (r < 0)
		return ag_error_set(err, -r,
		                    "cannot write the master's secret for this agent to `%s`",
		                    l->cfg.secret_path);
	return 0;
}

/* A secret in REGISTERED: kept, and on disk before the agent takes its id
 * (an agent that knows its id but not its secret is locked out). */
static void take_secret(struct agent_ml_link *l, const char *secret)
{
	if (strcmp(l->secret, secret) == 0 && !l->secret_unsaved)
		return;
	snprintf(l->secret, sizeof(l->secret), "%s", secret);
	struct ag_error err = {0};
	l->secret_unsaved = save_secret(l, &err) < 0;
	if (l->secret_unsaved && l->cb.secret_unsaved)
		l->cb.secret_unsaved(l->ctx, err.msg);
}

static int on_record(void *ctx, const char *data, size_t len)
{
	struct agent_ml_link *l = ctx;
	struct pb_agent_msg m;
	struct ag_error err = {0};
	if (pb_agent_msg_decode(data, len, &m, &err) < 0) {
		lost(l, "a bad record from the master: %s", err.msg);
		return -EBADMSG;
	}
	set_timer(l->watchdog, 5 * (l->heartbeat_s > 0 ? l->heartbeat_s : 15));
	int r = 0;
	switch (m.type) {
	case PB_AGENT_REGISTERED:
		if (m.registered.agent_secret)
			take_secret(l, m.registered.agent_secret);
		free(l->agent_id);
		l->agent_id = ag_strdup(m.registered.agent_id);
		l->heartbeat_s = m.registered.heartbeat_interval_seconds > 0
		                         ? m.registered.heartbeat_interval_seconds
		                         : 15;
		l->state = AGENT_ML_REGISTERED;
		l->redirects = 0;
		ag_backoff_reset(&l->backoff);
		set_timer(l->watchdog, 5 * l->heartbeat_s);
		set_timer(l->heartbeat, l->heartbeat_s);
		l->cb.registered(l->ctx, l->agent_id, l->heartbeat_s);
		break;
	case PB_AGENT_ERROR:
		lost(l, "the master refused the registration: %s", m.error.message);
		r = -EPERM;
		break;
	case PB_AGENT_HEARTBEAT:
		break;
	default:
		if (l->state == AGENT_ML_REGISTERED)
			l->cb.message(l->ctx, &m);
		break;
	}
	pb_agent_msg_free(&m);
	return r;
}

int agent_ml_feed_record(struct agent_ml_link *l, const char *data, size_t len)
{
	return on_record(l, data, len);
}

static void stream_chunk(struct evhttp_request *req, void *arg)
{
	struct agent_ml_link *l = arg;
	if (l->state != AGENT_ML_CONNECTING && l->state != AGENT_ML_REGISTERED)
		return;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	const void *p = evbuffer_pullup(in, -1);
	struct ag_error err = {0};
	int r = pb_recordio_reader_feed(l->rd, p, n, on_record, l, &err);
	evbuffer_drain(in, n);
	if (r < 0 && r != -EPERM && r != -EBADMSG)
		lost(l, "a bad stream from the master: %s", err.msg);
}

static int stream_header(struct evhttp_request *req, void *arg)
{
	struct agent_ml_link *l = arg;
	int code = evhttp_request_get_response_code(req);
	if (code == 409) {
		/* The master holds a newer registration_order than this
		 * process's latest: one of a process that started "later" by
		 * a clock since stepped back. Start over from now, so that
		 * the agent gets in once the clock has passed it. */
		uint64_t now = (uint64_t)ag_wall_ns();
		if (now > l->started_ns)
			l->started_ns = now;
	}
	if (code == 307) {
		const char *loc =
		        evhttp_find_header(evhttp_request_get_input_headers(req), "Location");
		char host[256], was[300];
		int port;
		snprintf(was, sizeof(was), "%s:%d", l->cfg.host, l->cfg.port);
		if (!loc || !parse_location(loc, host, sizeof(host), &port)) {
			lost(l, "the master at %s answered 307 without a Location to follow (`%s`)",
			     was, loc ? loc : "");
			return -1;
		}
		set_target(l, host, port);
		l->redirected = true;
		lost(l, "the master at %s is not the leader: redirected to %s:%d", was, host, port);
		return -1;
	}
	if (code == 403) {
		lost(l,
		     "the master answered 403 to the registration: it holds a secret for this "
		     "agent that the agent %s (docs/agent-protocol.md, Agent secret)",
		     l->secret[0] ? "presented another" : "does not have");
		return -1;
	}
	if (code != 200) {
		lost(l, "the master answered %d to the registration", code);
		return -1;
	}
	const char *sid =
	        evhttp_find_header(evhttp_request_get_input_headers(req), "Mesos-Stream-Id");
	snprintf(l->stream_id, sizeof(l->stream_id), "%s", sid ? sid : "");
	return 0;
}

static void stream_done(struct evhttp_request *req, void *arg)
{
	struct agent_ml_link *l = arg;
	(void)req;
	if (l->state == AGENT_ML_CONNECTING || l->state == AGENT_ML_REGISTERED)
		lost(l, "the stream from the master ended");
}

static void stream_error(enum evhttp_request_error e, void *arg)
{
	struct agent_ml_link *l = arg;
	if (l->state == AGENT_ML_CONNECTING || l->state == AGENT_ML_REGISTERED)
		lost(l, "the stream from the master failed (error %d)", (int)e);
}

/* The registration message `m` (taken) as text, with the next
 * registration_order in its payload, so that the master can tell it from
 * an older one it reads late (docs/agent-protocol.md). */
static char *with_order(struct agent_ml_link *l, json_t *m)
{
	json_t *p = json_object_get(m, "reregister");
	/* A new agent: a secret kept from an identity it no longer has is
	 * not this one's (the master issues a new one). */
	if (!p)
		l->secret[0] = '\0';
	if (!p)
		p = json_object_get(m, "register");
	if (json_is_object(p)) {
		struct pb_registration_order o = {l->started_ns, ++l->seq};
		json_object_set_new(p, "registration_order", pb_registration_order_to_json(&o));
	}
	char *body = pb_json_dump(m, NULL);
	json_decref(m);
	return body;
}

/* libevent makes its sockets without SOCK_CLOEXEC: the agent forks and
 * execs its tasks' helpers, which must not hold its connections to the
 * master. The socket of a request exists once evhttp_make_request()
 * returned, and nothing runs between on this thread. */
static void cloexec(struct evhttp_connection *conn)
{
	int fd = bufferevent_getfd(evhttp_connection_get_bufferevent(conn));
	if (fd >= 0)
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static void connect_now(struct agent_ml_link *l)
{
	if (l->zk && !l->leader_znode) {
		/* No leader: on_leader() connects when ZooKeeper names one. */
		l->state = AGENT_ML_WAITING;
		return;
	}
	if (l->stream)
		evhttp_connection_free(l->stream);
	pb_recordio_reader_free(l->rd);
	l->rd = pb_recordio_reader_new(0);
	l->stream_id[0] = '\0';
	l->stream = evhttp_connection_base_new(l->base, NULL, l->cfg.host, (uint16_t)l->cfg.port);
	if (!l->stream) {
		l->state = AGENT_ML_CONNECTING;
		lost(l, "cannot create a connection to %s:%d", l->cfg.host, l->cfg.port);
		return;
	}
	evhttp_connection_set_timeout(l->stream, 3600);
	_cleanup_free_ char *body = with_order(l, l->cb.registration(l->ctx));
	struct evhttp_request *req = evhttp_request_new(stream_done, l);
	evhttp_request_set_chunked_cb(req, stream_chunk);
	evhttp_request_set_header_cb(req, stream_header);
	evhttp_request_set_error_cb(req, stream_error);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", l->cfg.host);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Accept", "application/json");
	if (l->secret[0])
		evhttp_add_header(h, PB_AGENT_SECRET_HEADER, l->secret);
	evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
	l->state = AGENT_ML_CONNECTING;
	/* A master that accepts but never answers is a lost stream too. */
	set_timer(l->watchdog, 5 * (l->heartbeat_s > 0 ? l->heartbeat_s : 15));
	if (evhttp_make_request(l->stream, req, EVHTTP_REQ_POST, "/api/v1/agent") < 0)
		lost(l, "cannot send the registration to %s:%d", l->cfg.host, l->cfg.port);
	else
		cloexec(l->stream);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	connect_now(arg);
}

/* Schedule a re-registration: base doubling to max, with jitter in
 * [d/2, d] so that agents of a restarted master do not come back at once. */
static void lost(struct agent_ml_link *l, const char *fmt, ...)
{
	if (l->state == AGENT_ML_WAITING)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->why, sizeof(l->why), fmt, ap);
	va_end(ap);
	l->state = AGENT_ML_WAITING;
	evtimer_del(l->watchdog);
	evtimer_del(l->heartbeat);
	l->backoff.base_ms = l->cfg.backoff_base_ms > 0 ? l->cfg.backoff_base_ms : 1000;
	l->backoff.max_ms = l->cfg.backoff_max_ms > 0 ? l->cfg.backoff_max_ms : 60000;
	int64_t d;
	if (l->redirected && ++l->redirects <= 3) {
		d = 0; /* to the leader at once */
	} else {
		d = ag_backoff_next(&l->backoff);
		if (!l->redirected && l->zk && l->leader_znode) {
			/* A 307 may have sent the link to a former leader (a
			 * standby that had not yet seen the election): back to
			 * the one ZooKeeper names. */
			set_target(l, l->zk_host, l->zk_port);
		} else if (!l->redirected && l->naddrs > 1) {
			/* The next master of the list: a standby, or the new
			 * leader after this one went. */
			char host[256];
			int port;
			const char *a = l->addrs[l->next];
			l->next = (l->next + 1) % l->naddrs;
			if (split_host_port(a, strlen(a), host, sizeof(host), &port))
				set_target(l, host, port);
			if (l->cb.master_changed)
				l->cb.master_changed(l->ctx, l->cfg.host, l->cfg.port,
				                     "the next master of --master");
		}
	}
	l->redirected = false;
	set_timer(l->retry, (double)d / 1000.0);
	l->cb.disconnected(l->ctx, l->why, d);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	lost(arg, "no record from the master for 5 heartbeat intervals");
}

static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct agent_ml_link *l = arg;
	if (l->state != AGENT_ML_REGISTERED)
		return;
	if (l->secret_unsaved) {
		/* Said once, when it first failed (take_secret); tried again at
		 * each heartbeat until it works. */
		struct ag_error err = {0};
		l->secret_unsaved = save_secret(l, &err) < 0;
	}
	json_t *m = json_pack("{s:s, s:o}", "type", "HEARTBEAT", "agent_id",
	                      pb_id_to_json(l->agent_id));
	_cleanup_free_ char *body = pb_json_dump(m, NULL);
	json_decref(m);
	/* One that cannot be sent is followed by the next, one interval on;
	 * the master only acts after several are missed. */
	AG_IGNORE_RESULT(agent_ml_post(l, body));
	set_timer(l->heartbeat, l->heartbeat_s);
}

struct agent_ml_link *agent_ml_new(struct event_base *base, const struct agent_ml_config *cfg,
                                   const struct agent_ml_callbacks *cb, void *ctx,
                                   struct ag_error *err)
{
	struct agent_ml_link *l = ag_calloc(1, sizeof(*l));
	l->base = base;
	l->cfg = *cfg;
	l->cfg.host = ag_strdup(cfg->host ? cfg->host : "");
	l->cfg.master = NULL;
	l->cfg.secret_path = cfg->secret_path ? ag_strdup(cfg->secret_path) : NULL;
	l->cb = *cb;
	l->ctx = ctx;
	l->retry = evtimer_new(base, on_retry, l);
	l->watchdog = evtimer_new(base, on_watchdog, l);
	l->heartbeat = evtimer_new(base, on_heartbeat, l);
	l->started_ns = (uint64_t)ag_wall_ns();
	if (cfg->master && zkd_is_url(cfg->master)) {
		struct zkd_url u = {0};
		if (zkd_url_parse("--master", cfg->master, &u, err) < 0) {
			agent_ml_free(l);
			return NULL;
		}
		l->zk = zkd_detector_new(base, &u, 0, on_leader, l, err);
		zkd_url_free(&u);
		if (!l->zk) {
			agent_ml_free(l);
			return NULL;
		}
	} else if (cfg->master) {
		if (agent_ml_check_master(cfg->master, err) < 0) {
			agent_ml_free(l);
			return NULL;
		}
		for (const char *s = cfg->master;;) {
			size_t len = strcspn(s, ",");
			l->addrs = ag_realloc(l->addrs, (size_t)(l->naddrs + 1) * sizeof(char *));
			l->addrs[l->naddrs++] = strndup(s, len);
			if (!s[len])
				break;
			s += len + 1;
		}
		char host[256];
		int port = 0;
		if (split_host_port(l->addrs[0], strlen(l->addrs[0]), host, sizeof(host), &port))
			set_target(l, host, port);
		l->next = 1 % l->naddrs;
	}
	return l;
}

void agent_ml_free(struct agent_ml_link *l)
{
	if (!l)
		return;
	/* First: its thread must not report into a half-freed link. */
	zkd_detector_free(l->zk);
	free(l->leader_znode);
	free(l->zk_host);
	for (int i = 0; i < l->naddrs; i++)
		free(l->addrs[i]);
	free(l->addrs);
	for (size_t i = 0; i < sizeof(l->retired) / sizeof(l->retired[0]); i++)
		if (l->retired[i])
			evhttp_connection_free(l->retired[i]);
	if (l->stream)
		evhttp_connection_free(l->stream);
	if (l->post)
		evhttp_connection_free(l->post);
	event_free(l->retry);
	event_free(l->watchdog);
	event_free(l->heartbeat);
	pb_recordio_reader_free(l->rd);
	free(l->agent_id);
	free((char *)l->cfg.host);
	free((char *)l->cfg.secret_path);
	explicit_bzero(l->secret, sizeof(l->secret));
	free(l);
}

int agent_ml_load_secret(struct agent_ml_link *l, struct ag_error *err)
{
	if (!l->cfg.secret_path)
		return 0;
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = ag_read_file_at(AT_FDCWD, l->cfg.secret_path, PB_AGENT_SECRET_LEN + 1, &text, &len);
	if (r == -ENOENT)
		return 0;
	if (r == -EFBIG)
		r = -EBADMSG;
	if (r == 0 && len && text[len - 1] == '\n')
		text[--len] = '\0';
	if (r == 0 && !pb_agent_secret_valid(text))
		r = -EBADMSG;
	if (r == 0)
		snprintf(l->secret, sizeof(l->secret), "%s", text);
	if (text)
		explicit_bzero(text, len);
	if (r == -EBADMSG)
		return ag_error_msg(err, EBADMSG,
		                    "`%s` does not hold a secret from the master (%d hex digits)",
		                    l->cfg.secret_path, PB_AGENT_SECRET_LEN);
	return r < 0 ? ag_error_set(err, -r, "read `%s`", l->cfg.secret_path) : 0;
}

void agent_ml_start(struct agent_ml_link *l)
{
	l->started = true;
	connect_now(l);
}

bool agent_ml_registered(const struct agent_ml_link *l)
{
	return l->state == AGENT_ML_REGISTERED;
}

/* The answer is handed on when someone asked for it: 202, or an error
 * the owner of the message retries or sets aside. */
static void post_done(struct evhttp_request *req, void *arg)
{
	struct agent_ml_answer *ans = arg;
	if (!ans)
		return;
	int code = req ? evhttp_request_get_response_code(req) : 0;
	struct evbuffer *in = req ? evhttp_request_get_input_buffer(req) : NULL;
	size_t n = in ? evbuffer_get_length(in) : 0;
	if (n > 4096)
		n = 4096; /* enough for any error the master writes */
	_cleanup_free_ char *text = ag_malloc(n + 1);
	if (n)
		evbuffer_copyout(in, text, n);
	text[n] = '\0';
	ans->fn(ans, code, text);
}

int agent_ml_post(struct agent_ml_link *l, const char *body)
{
	return agent_ml_post_answer(l, body, NULL);
}

int agent_ml_post_answer(struct agent_ml_link *l, const char *body, struct agent_ml_answer *ans)
{
	if (l->state != AGENT_ML_REGISTERED)
		return -ENOTCONN;
	if (!l->post) {
		l->post = evhttp_connection_base_new(l->base, NULL, l->cfg.host,
		                                     (uint16_t)l->cfg.port);
		if (!l->post)
			return -ENOMEM;
		evhttp_connection_set_timeout(l->post, 30);
	}
	struct evhttp_request *req = evhttp_request_new(post_done, ans);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", l->cfg.host);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Mesos-Stream-Id", l->stream_id);
	if (l->secret[0])
		evhttp_add_header(h, PB_AGENT_SECRET_HEADER, l->secret);
	evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
	if (evhttp_make_request(l->post, req, EVHTTP_REQ_POST, "/api/v1/agent") < 0)
		return -EIO;
	/* A connection closed since the last call made a new socket. */
	cloexec(l->post);
	return 0;
}
