/* zk.c: see zk.h. */
#include "master/zk.h"

#include "common/log.h"
#include "master/master.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#define NODE_PREFIX "json.info_"

/* What the ZooKeeper thread hands to the loop. */
enum msg_kind {
	MSG_SESSION,  /* a session event: `state` */
	MSG_CHILD,    /* the children of the path changed */
	MSG_CREATED,  /* our znode: `rc`, `text` its path */
	MSG_CHILDREN, /* `rc`, `names` */
	MSG_DATA,     /* `rc`, `text` the data, `name` the znode read */
};

struct msg {
	enum msg_kind kind;
	unsigned gen;
	int rc, state;
	char *text, *name;
	char **names;
	size_t n_names;
};

/* The context of a zookeeper handle or of one request: what the ZooKeeper
 * thread may read (never changed after it is made). */
struct ctx {
	int wfd;
	unsigned gen;
	/* The handle's context: when its connection went down (monotonic
	 * ms; 0: up), written by the ZooKeeper thread as the event comes,
	 * before the loop hears of it. */
	_Atomic int64_t *down_since;
	char *name; /* MSG_DATA: the znode read */
};

struct ms_zk {
	struct ms_master *m;
	ms_zk_elected_cb elected;
	struct ms_zk_url url;
	int timeout_ms;
	zhandle_t *zh;
	struct ctx *zh_ctx; /* freed after zookeeper_close() */
	unsigned gen;       /* of the current handle: older messages are dropped */
	int pipe[2];
	struct event *reader;
	struct event *lost_timer; /* armed while a leader is disconnected */
	char *info;               /* our MasterInfo JSON */
	char *own;                /* our znode's name (no path); NULL: none yet */
	bool connected, creating, leading, lost;
	char *leader;     /* the leading znode's name */
	char *leader_url; /* "http://ip:port" of the leader; NULL: unknown */
	char *lost_reason;
	_Atomic int64_t down_since;
};

/* ---- the URL --------------------------------------------------------- */

void ms_zk_url_free(struct ms_zk_url *u)
{
	free(u->hosts);
	free(u->path);
	free(u->auth);
	*u = (struct ms_zk_url){0};
}

int ms_zk_url_parse(const char *flag, const char *url, struct ms_zk_url *ret, struct ag_error *err)
{
	if (strncmp(url, "zk://", 5) != 0)
		return ag_error_msg(err, EINVAL,
		                    "--%s: `%s` is not a zk://host:port[,host:port...]/path URL",
		                    flag, url);
	const char *s = url + 5;
	const char *slash = strchr(s, '/');
	if (!slash || slash == s)
		return ag_error_msg(err, EINVAL, "--%s: `%s` has no hosts or no /path", flag, url);
	struct ms_zk_url u = {0};
	_cleanup_free_ char *authority = strndup(s, (size_t)(slash - s));
	if (!authority)
		return -ENOMEM;
	char *hosts = authority, *at = strrchr(authority, '@');
	if (at) {
		*at = '\0';
		if (!strchr(authority, ':') || authority[0] == ':' || at[-1] == ':')
			return ag_error_msg(
			        err, EINVAL,
			        "--%s: the credentials before `@` must be user:password", flag);
		u.auth = ag_strdup(authority);
		hosts = at + 1;
	}
	/* Each host is host:port, no blanks, nothing empty. */
	_cleanup_free_ char *copy = ag_strdup(hosts);
	char *save = NULL;
	size_t n = 0;
	for (char *h = strtok_r(copy, ",", &save); h; h = strtok_r(NULL, ",", &save), n++) {
		char *colon = strrchr(h, ':');
		char *end = NULL;
		long port = colon ? strtol(colon + 1, &end, 10) : 0;
		if (!colon || colon == h || !end || *end || port < 1 || port > 65535 ||
		    strpbrk(h, " \t/@")) {
			ms_zk_url_free(&u);
			return ag_error_msg(err, EINVAL, "--%s: `%s` is not host:port", flag, h);
		}
	}
	if (n == 0 || hosts[0] == ',' || hosts[strlen(hosts) - 1] == ',' || strstr(hosts, ",,")) {
		ms_zk_url_free(&u);
		return ag_error_msg(err, EINVAL, "--%s: `%s` is not a list of host:port", flag,
		                    hosts);
	}
	size_t plen = strlen(slash);
	while (plen > 1 && slash[plen - 1] == '/')
		plen--;
	if (plen <= 1 || strstr(slash, "//") || strchr(slash, '?') || strstr(slash, "/./") ||
	    strstr(slash, "/../")) {
		ms_zk_url_free(&u);
		return ag_error_msg(err, EINVAL,
		                    "--%s: the path `%s` must be a ZooKeeper path other than `/` "
		                    "(e.g. /agora)",
		                    flag, slash);
	}
	u.hosts = ag_strdup(hosts);
	u.path = strndup(slash, plen);
	if (!u.path) {
		ms_zk_url_free(&u);
		return -ENOMEM;
	}
	*ret = u;
	return 0;
}

/* ---- the ZooKeeper thread's side ------------------------------------- */

static void post(int wfd, struct msg *msg)
{
	/* A pointer is far below PIPE_BUF: the write is atomic. The write end
	 * blocks: a busy loop only slows the ZooKeeper thread down. */
	ssize_t w;
	do
		w = write(wfd, &msg, sizeof(msg));
	while (w < 0 && errno == EINTR);
	if (w != (ssize_t)sizeof(msg)) {
		free(msg->text);
		free(msg);
	}
}

static struct msg *msg_new(enum msg_kind kind, unsigned gen)
{
	struct msg *msg = ag_calloc(1, sizeof(*msg));
	msg->kind = kind;
	msg->gen = gen;
	return msg;
}

static void ctx_free(struct ctx *c)
{
	if (c) {
		free(c->name);
		free(c);
	}
}

static struct ctx *ctx_new(const struct ms_zk *zk, const char *name)
{
	struct ctx *c = ag_calloc(1, sizeof(*c));
	c->wfd = zk->pipe[1];
	c->gen = zk->gen;
	c->down_since = (_Atomic int64_t *)&zk->down_since;
	c->name = name ? ag_strdup(name) : NULL;
	return c;
}

static void on_watch(zhandle_t *zh, int type, int state, const char *path, void *arg)
{
	(void)zh;
	(void)path;
	const struct ctx *c = arg;
	if (type == ZOO_SESSION_EVENT) {
		if (state == ZOO_CONNECTED_STATE) {
			atomic_store(c->down_since, 0);
		} else {
			int64_t zero = 0;
			atomic_compare_exchange_strong(c->down_since, &zero,
			                               (int64_t)(ag_now_ns() / 1000000));
		}
		struct msg *msg = msg_new(MSG_SESSION, c->gen);
		msg->state = state;
		post(c->wfd, msg);
	} else if (type == ZOO_CHILD_EVENT) {
		post(c->wfd, msg_new(MSG_CHILD, c->gen));
	}
}

static void on_created(int rc, const char *value, const void *data)
{
	struct ctx *c = (struct ctx *)data;
	struct msg *msg = msg_new(MSG_CREATED, c->gen);
	msg->rc = rc;
	msg->text = value ? ag_strdup(value) : NULL;
	post(c->wfd, msg);
	ctx_free(c);
}

static void on_parent(int rc, const char *value, const void *data)
{
	(void)rc;
	(void)value;
	ctx_free((struct ctx *)data);
}

static void on_children(int rc, const struct String_vector *v, const void *data)
{
	struct ctx *c = (struct ctx *)data;
	struct msg *msg = msg_new(MSG_CHILDREN, c->gen);
	msg->rc = rc;
	if (rc == ZOK && v && v->count > 0) {
		msg->names = ag_calloc((size_t)v->count, sizeof(char *));
		for (int i = 0; i < v->count; i++)
			msg->names[msg->n_names++] = ag_strdup(v->data[i]);
	}
	post(c->wfd, msg);
	ctx_free(c);
}

static void on_data(int rc, const char *value, int len, const struct Stat *st, const void *data)
{
	(void)st;
	struct ctx *c = (struct ctx *)data;
	struct msg *msg = msg_new(MSG_DATA, c->gen);
	msg->rc = rc;
	msg->name = ag_strdup(c->name);
	if (rc == ZOK && value && len > 0)
		msg->text = strndup(value, (size_t)len);
	post(c->wfd, msg);
	ctx_free(c);
}

/* ---- the loop's side -------------------------------------------------- */

static void msg_free(struct msg *msg)
{
	free(msg->text);
	free(msg->name);
	for (size_t i = 0; i < msg->n_names; i++)
		free(msg->names[i]);
	free(msg->names);
	free(msg);
}

/* Stop leading for good: end every stream, refuse every call (the gate),
 * and leave the loop shortly (main exits 1). */
static void lose(struct ms_zk *zk, const char *why)
{
	if (zk->lost)
		return;
	zk->lost = true;
	zk->lost_reason = ag_strdup(why);
	if (zk->leading) {
		/* At once and without a word more to anyone: its streams'
		 * close callbacks would act on state another master may own
		 * now (a framework's failover removes it, in the registry);
		 * exiting ends every stream and connection in one go. */
		ag_err("lost leadership: %s; exiting at once (a supervisor starts this master "
		       "again as a standby)",
		       why);
		fflush(stderr);
		_exit(1);
	} else {
		ag_err("cannot contend for leadership: %s; exiting", why);
	}
	zk->leading = false;
	struct timeval grace = {0, 100 * 1000};
	event_base_loopexit(zk->m->base, &grace);
}

static unsigned long long seq_of(const char *name)
{
	const char *p = name + strlen(name);
	while (p > name && p[-1] >= '0' && p[-1] <= '9')
		p--;
	return strtoull(p, NULL, 10);
}

static void ask_children(struct ms_zk *zk)
{
	struct ctx *w = zk->zh_ctx;
	int rc = zoo_awget_children(zk->zh, zk->url.path, on_watch, w, on_children,
	                            ctx_new(zk, NULL));
	if (rc != ZOK)
		ag_warn("ZooKeeper: list %s: %s", zk->url.path, zerror(rc));
}

static struct ACL_vector *acl(struct ms_zk *zk)
{
	/* With credentials: ours to change, everyone's to read (leader
	 * detectors read MasterInfo without credentials, as with Mesos). */
	static struct ACL entries[2];
	static struct ACL_vector v;
	if (!zk->url.auth)
		return &ZOO_OPEN_ACL_UNSAFE;
	entries[0] = (struct ACL){.perms = ZOO_PERM_ALL, .id = ZOO_AUTH_IDS};
	entries[1] = (struct ACL){.perms = ZOO_PERM_READ, .id = ZOO_ANYONE_ID_UNSAFE};
	v = (struct ACL_vector){.count = 2, .data = entries};
	return &v;
}

/* Create the path's ancestors (requests of one session run in order: each
 * exists when the next is created), then our znode. */
static void create_own(struct ms_zk *zk)
{
	zk->creating = true;
	_cleanup_free_ char *p = ag_strdup(zk->url.path);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		int rc = zoo_acreate(zk->zh, p, "", 0, acl(zk), 0, on_parent, ctx_new(zk, NULL));
		if (rc != ZOK)
			ag_warn("ZooKeeper: create %s: %s", p, zerror(rc));
		*s = c;
		if (!c)
			break;
	}
	_cleanup_free_ char *node = ag_asprintf("%s/" NODE_PREFIX, zk->url.path);
	int rc = zoo_acreate(zk->zh, node, zk->info, (int)strlen(zk->info), acl(zk),
	                     ZOO_EPHEMERAL | ZOO_SEQUENCE, on_created, ctx_new(zk, NULL));
	if (rc != ZOK) {
		zk->creating = false;
		ag_warn("ZooKeeper: create %s: %s", node, zerror(rc));
	}
}

static void became_leader(struct ms_zk *zk)
{
	struct ag_error err = {0};
	zk->leading = true;
	free(zk->leader_url);
	zk->leader_url = NULL;
	ag_info("elected leader (%s/%s)", zk->url.path, zk->own);
	if (zk->elected && zk->elected(zk->m, &err) < 0) {
		ag_err("cannot take over as leader: %s", err.msg);
		zk->leading = false;
		lose(zk, "the registry could not be recovered");
	}
}

static void on_children_msg(struct ms_zk *zk, struct msg *msg)
{
	if (msg->rc != ZOK) {
		ag_warn("ZooKeeper: list %s: %s", zk->url.path, zerror(msg->rc));
		return;
	}
	const char *lowest = NULL;
	bool own_there = false;
	for (size_t i = 0; i < msg->n_names; i++) {
		const char *nm = msg->names[i];
		if (strncmp(nm, NODE_PREFIX, strlen(NODE_PREFIX)) != 0)
			continue;
		if (zk->own && strcmp(nm, zk->own) == 0)
			own_there = true;
		if (!lowest || seq_of(nm) < seq_of(lowest))
			lowest = nm;
	}
	if (zk->own && !own_there) {
		/* Our ephemeral node is gone: so is our session. */
		if (zk->leading)
			lose(zk, "its ZooKeeper node was deleted");
		return;
	}
	if (!lowest)
		return;
	if (zk->own && strcmp(lowest, zk->own) == 0) {
		if (!zk->leading && !zk->lost)
			became_leader(zk);
		return;
	}
	if (zk->leading) {
		/* Cannot happen while our node is there and lowest. */
		lose(zk, "another master's node is lower than its own");
		return;
	}
	if (!zk->leader || strcmp(zk->leader, lowest) != 0) {
		free(zk->leader);
		zk->leader = ag_strdup(lowest);
		free(zk->leader_url);
		zk->leader_url = NULL;
	}
	_cleanup_free_ char *path = ag_asprintf("%s/%s", zk->url.path, lowest);
	int rc = zoo_aget(zk->zh, path, 0, on_data, ctx_new(zk, lowest));
	if (rc != ZOK)
		ag_warn("ZooKeeper: read %s: %s", path, zerror(rc));
}

static void on_data_msg(struct ms_zk *zk, struct msg *msg)
{
	if (!zk->leader || strcmp(zk->leader, msg->name) != 0)
		return; /* not the leader any more */
	if (msg->rc != ZOK || !msg->text) {
		if (msg->rc != ZNONODE)
			ag_warn("ZooKeeper: read %s/%s: %s", zk->url.path, msg->name,
			        zerror(msg->rc));
		return;
	}
	json_error_t jerr;
	json_t *j = json_loads(msg->text, 0, &jerr);
	const char *host = NULL;
	json_int_t port = 0;
	if (j)
		(void)json_unpack(j, "{s?{s?s, s?I}}", "address", "ip", &host, "port", &port);
	if (j && (!host || !port))
		(void)json_unpack(j, "{s?s, s?I}", "hostname", &host, "port", &port);
	if (!host || port <= 0 || port > 65535) {
		ag_warn("ZooKeeper: %s/%s holds no MasterInfo with an address and a port",
		        zk->url.path, msg->name);
	} else {
		char *url = ag_asprintf("http://%s:%d", host, (int)port);
		if (!zk->leader_url || strcmp(url, zk->leader_url) != 0)
			ag_info("the leading master is %s (%s/%s)", url, zk->url.path, msg->name);
		free(zk->leader_url);
		zk->leader_url = url;
	}
	json_decref(j);
}

static void lost_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct ms_zk *zk = arg;
	if (!zk->connected && zk->leading)
		lose(zk, "disconnected from ZooKeeper for a sixth of the session timeout");
}

static int connect_zk(struct ms_zk *zk);

static void on_session_msg(struct ms_zk *zk, struct msg *msg)
{
	if (msg->state == ZOO_CONNECTED_STATE) {
		zk->connected = true;
		event_del(zk->lost_timer);
		int negotiated = zoo_recv_timeout(zk->zh);
		if (negotiated > 0 && negotiated != zk->timeout_ms)
			ag_info("ZooKeeper: session timeout %d ms (asked for %d ms)", negotiated,
			        zk->timeout_ms);
		if (negotiated > 0)
			zk->timeout_ms = negotiated;
		if (!zk->own && !zk->creating)
			create_own(zk);
		else if (zk->own)
			ask_children(zk);
	} else if (msg->state == ZOO_CONNECTING_STATE || msg->state == ZOO_ASSOCIATING_STATE) {
		bool was = zk->connected;
		zk->connected = false;
		if (was && zk->leading) {
			int ms = zk->timeout_ms / 6;
			ag_warn("disconnected from ZooKeeper: leading for at most %d ms more "
			        "unless "
			        "it reconnects",
			        ms);
			struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
			event_add(zk->lost_timer, &tv);
		}
	} else if (msg->state == ZOO_EXPIRED_SESSION_STATE) {
		zk->connected = false;
		if (zk->leading) {
			lose(zk, "its ZooKeeper session expired");
			return;
		}
		/* A standby starts over with a new session and a new node. */
		ag_warn("ZooKeeper: session expired; contending again with a new session");
		zookeeper_close(zk->zh);
		zk->zh = NULL;
		ctx_free(zk->zh_ctx);
		zk->zh_ctx = NULL;
		free(zk->own);
		zk->own = NULL;
		zk->creating = false;
		if (connect_zk(zk) < 0)
			lose(zk, "cannot reconnect to ZooKeeper");
	} else if (msg->state == ZOO_AUTH_FAILED_STATE) {
		lose(zk, "ZooKeeper refused the credentials of --zk");
	}
}

static void on_created_msg(struct ms_zk *zk, struct msg *msg)
{
	zk->creating = false;
	if (msg->rc != ZOK || !msg->text) {
		ag_warn("ZooKeeper: create %s/" NODE_PREFIX ": %s", zk->url.path, zerror(msg->rc));
		if (msg->rc == ZNOAUTH || msg->rc == ZINVALIDACL)
			lose(zk, "ZooKeeper refused to create its node");
		else if (zk->connected)
			create_own(zk);
		return;
	}
	const char *slash = strrchr(msg->text, '/');
	zk->own = ag_strdup(slash ? slash + 1 : msg->text);
	ag_info("contending for leadership as %s", msg->text);
	ask_children(zk);
}

static void read_msgs(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct ms_zk *zk = arg;
	struct msg *msgs[64];
	ssize_t r;
	while ((r = read(fd, msgs, sizeof(msgs))) > 0) {
		for (size_t i = 0; i < (size_t)r / sizeof(msgs[0]); i++) {
			struct msg *msg = msgs[i];
			if (msg->gen == zk->gen && zk->zh && !zk->lost) {
				switch (msg->kind) {
				case MSG_SESSION:
					on_session_msg(zk, msg);
					break;
				case MSG_CHILD:
					ask_children(zk);
					break;
				case MSG_CREATED:
					on_created_msg(zk, msg);
					break;
				case MSG_CHILDREN:
					on_children_msg(zk, msg);
					break;
				case MSG_DATA:
					on_data_msg(zk, msg);
					break;
				}
			}
			msg_free(msg);
		}
	}
}

static int connect_zk(struct ms_zk *zk)
{
	zk->gen++;
	zk->zh_ctx = ctx_new(zk, NULL);
	zk->zh = zookeeper_init(zk->url.hosts, on_watch, zk->timeout_ms, NULL, zk->zh_ctx, 0);
	if (!zk->zh) {
		int e = errno ? errno : EINVAL;
		ctx_free(zk->zh_ctx);
		zk->zh_ctx = NULL;
		return -e;
	}
	if (zk->url.auth) {
		int rc = zoo_add_auth(zk->zh, "digest", zk->url.auth, (int)strlen(zk->url.auth),
		                      NULL, NULL);
		if (rc != ZOK)
			ag_warn("ZooKeeper: add the credentials of --zk: %s", zerror(rc));
	}
	return 0;
}

/* ---- HTTP ------------------------------------------------------------- */

/* Whether the operator call in the body is one a standby answers itself. */
static bool own_operator_call(struct evhttp_request *req)
{
	size_t len;
	const char *body = ms_http_body(req, &len);
	struct pb_operator_call call = {0};
	struct ag_error err = {0};
	bool own = pb_operator_call_decode(body, len, &call, &err) == 0 &&
	           call.type == PB_OP_GET_MASTER;
	pb_operator_call_free(&call);
	return own;
}

static void redirect(struct evhttp_request *req, const char *base, const char *path)
{
	_cleanup_free_ char *loc = ag_asprintf("%s%s", base, path);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Location", loc);
	ms_http_reply_empty(req, 307);
}

static bool gate(struct evhttp_request *req, const char *path, void *arg)
{
	struct ms_zk *zk = arg;
	if (zk->leading) {
		/* The loop may hear of a lost connection late (it was busy, or
		 * blocked in a registry write): the gate looks for itself. */
		int64_t down = atomic_load(&zk->down_since);
		if (down && (int64_t)(ag_now_ns() / 1000000) - down > zk->timeout_ms / 6)
			lose(zk, "disconnected from ZooKeeper for a sixth of the session timeout");
		return false;
	}
	if (zk->lost) {
		ms_http_reply_error(req, HTTP_SERVUNAVAIL, "This master lost its leadership: %s",
		                    zk->lost_reason);
		return true;
	}
	if (strcmp(path, "/health") == 0 || strcmp(path, "/master/redirect") == 0)
		return false;
	if (strcmp(path, "/api/v1") == 0 && own_operator_call(req))
		return false;
	if (!zk->leader_url) {
		ms_http_reply_error(req, HTTP_SERVUNAVAIL,
		                    "No leading master is known yet (this master is a standby; "
		                    "%s)",
		                    zk->connected ? "an election is under way"
		                                  : "it is not connected to ZooKeeper");
		return true;
	}
	/* The same path and query, on the leader. */
	const char *uri = evhttp_request_get_uri(req);
	redirect(req, zk->leader_url, uri && uri[0] == '/' ? uri : path);
	return true;
}

static void master_redirect(struct evhttp_request *req, void *arg)
{
	struct ms_master *m = arg;
	struct ms_zk *zk = m->zk;
	if (!zk || zk->leading) {
		_cleanup_free_ char *self =
		        ag_asprintf("http://%s:%u", m->flags.ip, ms_http_port(m->http));
		redirect(req, self, "");
	} else if (zk->leader_url) {
		redirect(req, zk->leader_url, "");
	} else {
		ms_http_reply_error(req, HTTP_SERVUNAVAIL, "No leading master is known yet");
	}
}

int ms_zk_routes(struct ms_master *m)
{
	return ms_http_route(m->http, "/master/redirect", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD,
	                     master_redirect, m);
}

/* ---- life -------------------------------------------------------------- */

int ms_zk_start(struct ms_master *m, ms_zk_elected_cb elected, struct ms_zk **ret,
                struct ag_error *err)
{
	struct ms_zk *zk = ag_calloc(1, sizeof(*zk));
	zk->m = m;
	zk->elected = elected;
	zk->pipe[0] = zk->pipe[1] = -1;
	uint64_t ms = m->flags.zk_session_timeout_ns / 1000000;
	zk->timeout_ms = ms > INT32_MAX ? INT32_MAX : (int)ms;
	int r = ms_zk_url_parse("zk", m->flags.zk, &zk->url, err);
	if (r < 0)
		goto fail;
	/* The client library logs to stderr at ERROR: connection failures
	 * the contender retries are not errors of ours. */
	zoo_set_debug_level(m->flags.log_level == AG_LOG_DEBUG ? ZOO_LOG_LEVEL_INFO
	                                                       : (ZooLogLevel)0);
	if (pipe2(zk->pipe, O_CLOEXEC) < 0 ||
	    fcntl(zk->pipe[0], F_SETFL, fcntl(zk->pipe[0], F_GETFL) | O_NONBLOCK) < 0) {
		r = ag_error_set(err, errno, "--zk: pipe");
		goto fail;
	}
	zk->reader = event_new(m->base, zk->pipe[0], EV_READ | EV_PERSIST, read_msgs, zk);
	zk->lost_timer = evtimer_new(m->base, lost_timer_cb, zk);
	if (!zk->reader || !zk->lost_timer || event_add(zk->reader, NULL) < 0) {
		r = ag_error_msg(err, ENOMEM, "--zk: cannot watch the ZooKeeper thread");
		goto fail;
	}
	json_t *info = ms_master_info_json(m);
	zk->info = json_dumps(info, JSON_COMPACT);
	json_decref(info);
	if (!zk->info) {
		r = ag_error_msg(err, ENOMEM, "--zk: MasterInfo");
		goto fail;
	}
	r = connect_zk(zk);
	if (r < 0) {
		ag_error_set(err, -r, "--zk: cannot start a ZooKeeper client for `%s`",
		             zk->url.hosts);
		goto fail;
	}
	ms_http_set_gate(m->http, gate, zk);
	ag_info("standby: contending for leadership through ZooKeeper %s%s (session timeout "
	        "%d ms)",
	        zk->url.hosts, zk->url.path, zk->timeout_ms);
	*ret = zk;
	return 0;
fail:
	ms_zk_free(zk);
	return r;
}

void ms_zk_free(struct ms_zk *zk)
{
	if (!zk)
		return;
	/* Joins the client's threads: no completion runs after it. */
	if (zk->zh)
		zookeeper_close(zk->zh);
	zk->zh = NULL;
	ctx_free(zk->zh_ctx);
	if (zk->reader) {
		read_msgs(zk->pipe[0], EV_READ, zk); /* frees what is left */
		event_free(zk->reader);
	}
	if (zk->lost_timer)
		event_free(zk->lost_timer);
	if (zk->pipe[0] >= 0)
		close(zk->pipe[0]);
	if (zk->pipe[1] >= 0)
		close(zk->pipe[1]);
	ms_zk_url_free(&zk->url);
	free(zk->info);
	free(zk->own);
	free(zk->leader);
	free(zk->leader_url);
	free(zk->lost_reason);
	free(zk);
}

int ms_zk_registry_open(struct ms_zk *zk, struct ms_registry **ret, struct ag_error *err)
{
	/* It holds the agents' secrets: with credentials, ours alone. */
	static struct ACL entry;
	static struct ACL_vector own = {.count = 1, .data = &entry};
	entry = (struct ACL){.perms = ZOO_PERM_ALL, .id = ZOO_AUTH_IDS};
	_cleanup_free_ char *root = ag_asprintf("%s/registry", zk->url.path);
	_cleanup_free_ char *fence = ag_asprintf("%s/%s", zk->url.path, zk->own);
	return ms_registry_open_zk(zk->zh, root, fence, zk->url.auth ? &own : &ZOO_OPEN_ACL_UNSAFE,
	                           ret, err);
}

bool ms_zk_leading(const struct ms_zk *zk)
{
	return !zk || zk->leading;
}

bool ms_zk_lost(const struct ms_zk *zk)
{
	return zk && zk->lost;
}
