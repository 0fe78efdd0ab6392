/* http.c: agoractl's requests, one per connection, through libevent's
 * evhttp as the SDK's (a loop of its own per request, run to the answer),
 * and the operator call wrapper with its error messages. */
#include "tools/agoractl/agoractl.h"
#include "zkdetect/zkdetect.h"

#include "proto/proto.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <string.h>

void ctl_http_reply_free(struct ctl_http_reply *r)
{
	free(r->content_type);
	free(r->location);
	free(r->body);
	*r = (struct ctl_http_reply){0};
}

int ctl_parse_address(const char *s, char **ret_host, int *ret_port)
{
	if (strncmp(s, "http://", 7) == 0)
		s += 7;
	const char *colon = strrchr(s, ':');
	size_t hl = colon ? (size_t)(colon - s) : strcspn(s, "/");
	int64_t port = 5050;
	if (colon) {
		_cleanup_free_ char *p = strndup(colon + 1, strcspn(colon + 1, "/"));
		if (ag_parse_i64(p, &port) < 0 || port <= 0 || port > 65535)
			return -EINVAL;
	}
	if (hl == 0)
		return -EINVAL;
	*ret_host = strndup(s, hl);
	*ret_port = (int)port;
	return 0;
}

/* One request in flight on a loop of its own. */
struct xfer {
	struct event_base *base;
	struct evhttp_connection *conn;
	struct ctl_http_reply *ret;
	int err; /* -errno once failed */
};

/* evhttp reports a timeout, a cut or bad reply, and a connection that
 * failed other than by a refusal here (then calls the request's callback
 * without a response). It keeps no errno: a name that does not resolve
 * is told by the bufferevent's DNS error. */
static void on_error(enum evhttp_request_error e, void *arg)
{
	struct xfer *x = arg;
	switch (e) {
	case EVREQ_HTTP_TIMEOUT:
		x->err = -ETIMEDOUT;
		break;
	case EVREQ_HTTP_INVALID_HEADER:
	case EVREQ_HTTP_DATA_TOO_LONG:
		x->err = -EPROTO;
		break;
	default:
		x->err =
		        bufferevent_socket_get_dns_error(evhttp_connection_get_bufferevent(x->conn))
		                ? -EHOSTUNREACH
		                : -ECONNRESET;
		break;
	}
}

static void on_done(struct evhttp_request *req, void *arg)
{
	struct xfer *x = arg;
	event_base_loopbreak(x->base);
	if (x->err)
		return;
	/* A request called back without a response and without an error:
	 * libevent's path for a connect refused (ECONNREFUSED, which it
	 * takes for one to retry), the case an operator meets most. */
	if (!req || evhttp_request_get_response_code(req) == 0) {
		x->err = req ? -ECONNREFUSED : -ECONNRESET;
		return;
	}
	x->ret->status = evhttp_request_get_response_code(req);
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	x->ret->content_type = ct ? ag_strdup(ct) : NULL;
	const char *loc = evhttp_find_header(evhttp_request_get_input_headers(req), "Location");
	x->ret->location = loc ? ag_strdup(loc) : NULL;
	/* evhttp has undone the chunked coding, if any. */
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	x->ret->body = ag_malloc(n + 1);
	evbuffer_remove(in, x->ret->body, n);
	x->ret->body[n] = '\0';
	x->ret->len = n;
}

int ctl_http_request(const char *host, int port, const char *method, const char *path,
                     const char *body, int timeout_s, struct ctl_http_reply *ret)
{
	*ret = (struct ctl_http_reply){0};
	enum evhttp_cmd_type cmd = strcmp(method, "GET") == 0      ? EVHTTP_REQ_GET
	                           : strcmp(method, "POST") == 0   ? EVHTTP_REQ_POST
	                           : strcmp(method, "PUT") == 0    ? EVHTTP_REQ_PUT
	                           : strcmp(method, "DELETE") == 0 ? EVHTTP_REQ_DELETE
	                                                           : (enum evhttp_cmd_type)0;
	if (!cmd)
		return -EINVAL;
	struct xfer x = {.ret = ret};
	x.base = event_base_new();
	if (!x.base)
		return -ENOMEM;
	/* No DNS base: the name is resolved with getaddrinfo, blocking, as
	 * a command line may. */
	struct evhttp_connection *conn =
	        evhttp_connection_base_new(x.base, NULL, host, (uint16_t)port);
	if (!conn) {
		event_base_free(x.base);
		return -ENOMEM;
	}
	x.conn = conn;
	evhttp_connection_set_timeout(conn, timeout_s);
	struct evhttp_request *req = evhttp_request_new(on_done, &x);
	evhttp_request_set_error_cb(req, on_error);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char hostport[300];
	snprintf(hostport, sizeof(hostport), "%s:%d", host, port);
	evhttp_add_header(h, "Host", hostport);
	evhttp_add_header(h, "Connection", "close");
	evhttp_add_header(h, "Accept", "application/json");
	if (body) {
		evhttp_add_header(h, "Content-Type", "application/json");
		evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
	}
	/* On failure evhttp has freed the request without calling it. */
	if (evhttp_make_request(conn, req, cmd, path) < 0) {
		x.err = x.err ? x.err : -EHOSTUNREACH;
	} else {
		/* libevent makes its sockets without SOCK_CLOEXEC; the connect
		 * has started (the name resolved) by now. */
		int fd = bufferevent_getfd(evhttp_connection_get_bufferevent(conn));
		if (fd >= 0)
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
		event_base_dispatch(x.base);
	}
	evhttp_connection_free(conn);
	event_base_free(x.base);
	if (x.err) {
		ctl_http_reply_free(ret);
		return x.err;
	}
	return 0;
}

void ctl_die_unreachable(const struct ctl *c, int err)
{
	char why[128];
	snprintf(why, sizeof(why), "%s", strerror(-err));
	if (why[0] >= 'A' && why[0] <= 'Z' && why[1] >= 'a')
		why[0] = (char)(why[0] - 'A' + 'a');
	fprintf(stderr,
	        "agoractl: cannot reach the master at %s:%d (%s); is it running? start one with "
	        "scripts/cluster-up, or set --master/AGORA_MASTER\n",
	        c->host, c->port, why);
}

int ctl_operator(struct ctl *c, const char *type, json_t *payload, json_t **ret)
{
	json_t *call = json_pack("{s:s}", "type", type);
	if (payload) {
		_cleanup_free_ char *key = ag_strdup(type);
		for (char *p = key; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
		json_object_set_new(call, key, payload);
	}
	_cleanup_free_ char *body = pb_json_dump(call, NULL);
	json_decref(call);
	struct ctl_http_reply r;
	int e = ctl_master_request(c, "POST", "/api/v1", body, 10, &r);
	if (e < 0) {
		ctl_die_unreachable(c, e);
		return CTL_UNREACHABLE;
	}
	if (r.status != 200 && r.status != 202) {
		fprintf(stderr, "agoractl: the master refused %s (HTTP %d): %s\n", type, r.status,
		        r.len ? r.body : "(no message)");
		ctl_http_reply_free(&r);
		return CTL_ERR;
	}
	if (ret) {
		*ret = NULL;
		if (r.len) {
			json_error_t je;
			json_t *j = json_loads(r.body, 0, &je);
			if (!j) {
				fprintf(stderr, "agoractl: a reply to %s that is not JSON: %s\n",
				        type, je.text);
				ctl_http_reply_free(&r);
				return CTL_ERR;
			}
			*ret = j;
		}
	}
	ctl_http_reply_free(&r);
	return CTL_OK;
}

int ctl_resolve_master(struct ctl *c)
{
	struct ag_error err = {0};
	if (zkd_is_url(c->master)) {
		struct zkd_url u = {0};
		if (zkd_url_parse("--master/AGORA_MASTER", c->master, &u, &err) < 0) {
			fprintf(stderr, "agoractl: %s\n", err.msg);
			return CTL_USAGE;
		}
		struct zkd_leader l;
		int r = zkd_find_leader(&u, 10000, &l, &err);
		zkd_url_free(&u);
		if (r < 0) {
			fprintf(stderr, "agoractl: --master %s: %s\n", c->master, err.msg);
			return CTL_UNREACHABLE;
		}
		c->host = TAKE_PTR(l.host);
		c->port = l.port;
		zkd_leader_free(&l);
		return CTL_OK;
	}
	for (const char *s = c->master;;) {
		size_t len = strcspn(s, ",");
		_cleanup_free_ char *one = strndup(s, len);
		char *host = NULL;
		int port;
		if (!one || !one[0] || ctl_parse_address(one, &host, &port) < 0) {
			fprintf(stderr,
			        "agoractl: --master/AGORA_MASTER: `%s` in `%s` is not HOST:PORT "
			        "(or "
			        "HOST:PORT,HOST:PORT,..., or zk://HOST:PORT,.../PATH)\n",
			        one ? one : "", c->master);
			ctl_masters_free(c);
			return CTL_USAGE;
		}
		free(host);
		c->masters = ag_realloc(c->masters, (size_t)(c->nmasters + 1) * sizeof(char *));
		c->masters[c->nmasters++] = TAKE_PTR(one);
		if (!s[len])
			break;
		s += len + 1;
	}
	if (ctl_parse_address(c->masters[0], &c->host, &c->port) < 0)
		return CTL_USAGE;
	return CTL_OK;
}

void ctl_masters_free(struct ctl *c)
{
	for (int i = 0; i < c->nmasters; i++)
		free(c->masters[i]);
	free(c->masters);
	c->masters = NULL;
	c->nmasters = 0;
}

static void set_master(struct ctl *c, char *host, int port)
{
	free(c->host);
	c->host = host;
	c->port = port;
}

int ctl_master_request(struct ctl *c, const char *method, const char *path, const char *body,
                       int timeout_s, struct ctl_http_reply *ret)
{
	int redirects = 0, next = 1, e;
	for (;;) {
		e = ctl_http_request(c->host, c->port, method, path, body, timeout_s, ret);
		if (e < 0 && next < c->nmasters) {
			char *host;
			int port;
			if (ctl_parse_address(c->masters[next++], &host, &port) == 0)
				set_master(c, host, port);
			continue;
		}
		if (e < 0 || ret->status != 307 || redirects++ >= 3)
			return e;
		/* A standby: the leader is in Location (http://HOST:PORT/... or
		 * Mesos's //HOST:PORT/...). */
		const char *loc = ret->location;
		if (loc && strncmp(loc, "//", 2) == 0)
			loc += 2;
		char *host;
		int port;
		if (!loc || ctl_parse_address(loc, &host, &port) < 0)
			return e;
		set_master(c, host, port);
		ctl_http_reply_free(ret);
	}
}
