/* http.c: the server, routing, request checks and replies; streams are in
 * stream.c. */
#include "master/http_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>

static const struct {
	unsigned bit;
	const char *name;
} method_names[] = {
        {EVHTTP_REQ_GET, "GET"},     {EVHTTP_REQ_POST, "POST"},     {EVHTTP_REQ_HEAD, "HEAD"},
        {EVHTTP_REQ_PUT, "PUT"},     {EVHTTP_REQ_DELETE, "DELETE"}, {EVHTTP_REQ_OPTIONS, "OPTIONS"},
        {EVHTTP_REQ_PATCH, "PATCH"},
};

/* A listening socket made here rather than by evhttp_bind_socket, which
 * loses the errno: "port taken" must be told apart from "bad address". */
static int listen_on(const char *ip, uint16_t port, struct ag_error *err)
{
	struct addrinfo hints = {
	        .ai_family = AF_UNSPEC,
	        .ai_socktype = SOCK_STREAM,
	        .ai_flags = AI_NUMERICHOST | AI_PASSIVE | AI_NUMERICSERV,
	};
	struct addrinfo *ai = NULL;
	char portstr[8];
	snprintf(portstr, sizeof(portstr), "%u", port);
	int r = getaddrinfo(ip, portstr, &hints, &ai);
	if (r != 0)
		return ag_error_msg(err, EINVAL, "--ip `%s` is not a numeric IP address: %s", ip,
		                    gai_strerror(r));

	_cleanup_close_ int fd =
	        socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0) {
		r = ag_error_set(err, errno, "socket");
		goto out;
	}
	/* TIME_WAIT sockets of a previous run must not block a restart. */
	int one = 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno == EADDRINUSE)
			r = ag_error_msg(err, EADDRINUSE,
			                 "cannot listen on %s:%u: the port is already in use "
			                 "(another agora-master?); pick another with --port",
			                 ip, port);
		else
			r = ag_error_set(err, errno, "bind %s:%u", ip, port);
		goto out;
	}
	if (listen(fd, 1024) < 0) {
		r = ag_error_set(err, errno, "listen on %s:%u", ip, port);
		goto out;
	}
	r = TAKE_FD(fd);
out:
	freeaddrinfo(ai);
	return r;
}

static uint16_t local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

static const char *method_name(unsigned bit)
{
	for (size_t i = 0; i < AG_ARRAY_SIZE(method_names); i++)
		if (method_names[i].bit == bit)
			return method_names[i].name;
	return "?";
}

static void reply_405(struct evhttp_request *req, unsigned methods)
{
	char allow[128] = "";
	for (size_t i = 0; i < AG_ARRAY_SIZE(method_names); i++) {
		if (!(methods & method_names[i].bit))
			continue;
		if (allow[0])
			strcat(allow, ", ");
		strcat(allow, method_names[i].name);
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
	ms_http_reply_error(req, HTTP_BADMETHOD, "Expecting one of { '%s' }, but received '%s'",
	                    allow, method_name((unsigned)evhttp_request_get_command(req)));
}

static void dispatch(struct evhttp_request *req, void *arg)
{
	struct ms_http *http = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	if (!path || !*path)
		path = "/";

	for (size_t i = 0; i < http->n_routes; i++) {
		struct ms_route *rt = &http->routes[i];
		if (strcmp(rt->path, path) != 0)
			continue;
		if (!(rt->methods & (unsigned)evhttp_request_get_command(req))) {
			reply_405(req, rt->methods);
			return;
		}
		if (http->gate && http->gate(req, path, http->gate_arg))
			return;
		rt->handler(req, rt->arg);
		return;
	}
	ms_http_reply_error(req, HTTP_NOTFOUND, "No endpoint at '%s'", path);
}

int ms_http_new(struct event_base *base, const struct ms_http_options *opts, struct ms_http **ret,
                struct ag_error *err)
{
	const char *ip = opts->ip ? opts->ip : "127.0.0.1";
	struct ms_http *http = ag_calloc(1, sizeof(*http));
	http->base = base;
	http->timeout_s = opts->timeout_s > 0 ? opts->timeout_s : MS_HTTP_DEFAULT_TIMEOUT_S;
	http->stream_max_pending = opts->stream_max_pending ? opts->stream_max_pending
	                                                    : MS_HTTP_DEFAULT_STREAM_MAX_PENDING;
	LIST_INIT(&http->streams);
	ms__flush_init(http);

	http->evhttp = evhttp_new(base);
	if (!http->evhttp) {
		free(http);
		return ag_error_msg(err, ENOMEM, "evhttp_new failed");
	}
	/* Bodies over the limit are refused by evhttp while they arrive (413,
	 * then the connection closes), before they are buffered whole. */
	evhttp_set_max_body_size(
	        http->evhttp,
	        (ev_ssize_t)(opts->max_body ? opts->max_body : MS_HTTP_DEFAULT_MAX_BODY));
	evhttp_set_max_headers_size(http->evhttp, 64 * 1024);
	evhttp_set_timeout(http->evhttp,
	                   opts->timeout_s > 0 ? opts->timeout_s : MS_HTTP_DEFAULT_TIMEOUT_S);
	/* No default Content-Type: empty replies must carry none (mesos-go),
	 * and every reply with a body sets its own. */
	evhttp_set_default_content_type(http->evhttp, NULL);
	/* Let every method reach the router, which answers 405 with Allow. */
	evhttp_set_allowed_methods(
	        http->evhttp, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
	                              EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(http->evhttp, dispatch, http);

	int fd = listen_on(ip, opts->port, err);
	if (fd < 0) {
		ms_http_free(http);
		return fd;
	}
	http->port = local_port(fd);
	http->bound = evhttp_accept_socket_with_handle(http->evhttp, fd);
	if (!http->bound) {
		close(fd);
		ms_http_free(http);
		return ag_error_msg(err, ENOMEM, "evhttp_accept_socket failed");
	}
	*ret = http;
	return 0;
}

uint16_t ms_http_port(const struct ms_http *http)
{
	return http->port;
}

int ms_http_route(struct ms_http *http, const char *path, unsigned methods, ms_http_handler handler,
                  void *arg)
{
	for (size_t i = 0; i < http->n_routes; i++)
		if (strcmp(http->routes[i].path, path) == 0)
			return -EEXIST;
	http->routes = ag_realloc(http->routes, (http->n_routes + 1) * sizeof(*http->routes));
	http->routes[http->n_routes++] = (struct ms_route){
	        .path = ag_strdup(path),
	        .methods = methods,
	        .handler = handler,
	        .arg = arg,
	};
	return 0;
}

void ms_http_set_gate(struct ms_http *http, ms_http_gate gate, void *arg)
{
	http->gate = gate;
	http->gate_arg = arg;
}

void ms_http_stop_accepting(struct ms_http *http)
{
	if (http && http->bound) {
		evhttp_del_accept_socket(http->evhttp, http->bound);
		http->bound = NULL;
	}
}

void ms_http_free(struct ms_http *http)
{
	if (!http)
		return;
	ms_http_close_streams(http);
	ms__flush_fini(http);
	if (http->evhttp)
		evhttp_free(http->evhttp);
	for (size_t i = 0; i < http->n_routes; i++)
		free(http->routes[i].path);
	free(http->routes);
	free(http);
}

/* ---- requests ------------------------------------------------------- */

const char *ms_http_header(struct evhttp_request *req, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

const char *ms_http_body(struct evhttp_request *req, size_t *ret_len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *p = len ? (const char *)evbuffer_pullup(in, -1) : NULL;
	*ret_len = p ? len : 0;
	return p ? p : "";
}

/* The media type of a header value: leading blanks skipped, up to `;`, `,`
 * or the end, trailing blanks cut. Sets *ret_len; returns the start. */
static const char *media_type(const char *s, size_t *ret_len)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strcspn(s, ";,");
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	*ret_len = n;
	return s;
}

static bool token_eq(const char *s, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp(s, want, n) == 0;
}

bool ms_http_content_type_is_json(const char *value)
{
	if (!value)
		return false;
	size_t n;
	const char *t = media_type(value, &n);
	return token_eq(t, n, "application/json") && t[n] != ',';
}

/* True when the parameters of one Accept element (from `;` up to `,` or the
 * end) say q=0, "not acceptable". */
static bool accept_q_zero(const char *params)
{
	const char *end = params + strcspn(params, ",");
	for (const char *p = params; p < end; p++) {
		if (*p != ';')
			continue;
		p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p + 1 < end && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
			char *e;
			double q = strtod(p + 2, &e);
			return e != p + 2 && q <= 0.0;
		}
	}
	return false;
}

bool ms_http_accept_allows_json(const char *value)
{
	if (!value)
		return true;
	const char *p = value;
	bool any = false;
	for (;;) {
		size_t n;
		const char *t = media_type(p, &n);
		if (n > 0)
			any = true;
		if ((token_eq(t, n, "*/*") || token_eq(t, n, "application/*") ||
		     token_eq(t, n, "application/json")) &&
		    !accept_q_zero(t + n))
			return true;
		const char *comma = strchr(t, ',');
		if (!comma)
			break;
		p = comma + 1;
	}
	/* An empty Accept header is treated as an absent one. */
	return !any;
}

bool ms_http_require_json_body(struct evhttp_request *req)
{
	const char *ct = ms_http_header(req, "Content-Type");
	if (!ct) {
		ms_http_reply_error(req, HTTP_BADREQUEST, "Expecting 'Content-Type' to be present");
		return false;
	}
	if (!ms_http_content_type_is_json(ct)) {
		ms_http_reply_error(req, 415, "Expecting 'Content-Type' of application/json");
		return false;
	}
	return true;
}

bool ms_http_require_json_accept(struct evhttp_request *req)
{
	if (ms_http_accept_allows_json(ms_http_header(req, "Accept")))
		return true;
	ms_http_reply_error(req, 406, "Expecting 'Accept' to allow application/json");
	return false;
}

/* ---- replies -------------------------------------------------------- */

/* evhttp_send_reply, written at the end of the loop turn's events rather
 * than in a turn of its own (flush.c). */
static void send_reply(struct evhttp_request *req, int code, struct evbuffer *body)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	evhttp_send_reply(req, code, NULL, body);
	ms__flush_reply(evcon);
}

void ms_http_reply_error(struct evhttp_request *req, int code, const char *fmt, ...)
{
	struct evbuffer *b = evbuffer_new();
	if (!b)
		abort(); /* memory exhaustion is fatal, as in ag_malloc */
	va_list ap;
	va_start(ap, fmt);
	evbuffer_add_vprintf(b, fmt, ap);
	va_end(ap);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	                  "text/plain; charset=utf-8");
	send_reply(req, code, b);
	evbuffer_free(b);
}

void ms_http_reply_json(struct evhttp_request *req, int code, const char *json, size_t len)
{
	struct evbuffer *b = evbuffer_new();
	if (!b || evbuffer_add(b, json, len) < 0)
		abort();
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	                  "application/json");
	send_reply(req, code, b);
	evbuffer_free(b);
}

/* The Date header evhttp would add (RFC 1123, as evutil_date_rfc1123
 * writes it), formatted once a second instead of for every reply. */
static void add_date(struct evhttp_request *req)
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	static char text[40];
	static time_t at = -1;
	time_t now = (time_t)(ag_wall_ns() / 1000000000);
	if (now != at) {
		struct tm tm;
		if (!gmtime_r(&now, &tm))
			return; /* evhttp adds its own */
		snprintf(text, sizeof(text), "%s, %02d %s %4d %02d:%02d:%02d GMT", days[tm.tm_wday],
		         tm.tm_mday, months[tm.tm_mon], 1900 + tm.tm_year, tm.tm_hour, tm.tm_min,
		         tm.tm_sec);
		at = now;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Date", text);
}

void ms_http_reply_empty(struct evhttp_request *req, int code)
{
	/* One of these per acknowledgement and status update: the headers
	 * evhttp adds to an empty HTTP/1.1 reply, without its per-reply
	 * date formatting and length printf. evhttp adds them to HTTP/1.1
	 * replies with a body (a 204 or 304 has none); otherwise it is left
	 * to evhttp. */
	if (req->major == 1 && req->minor >= 1 && code != 204 && code != 304 && code >= 200 &&
	    evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
		struct evkeyvalq *h = evhttp_request_get_output_headers(req);
		add_date(req);
		evhttp_add_header(h, "Content-Length", "0");
	}
	send_reply(req, code, NULL);
}
