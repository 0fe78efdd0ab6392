/* stream.c: streaming responses (RecordIO over chunked HTTP). See http.h.
 *
 * Who frees what. evhttp owns the request and the connection; a stream only
 * borrows them. When the connection goes away, evhttp calls our close
 * callback from evhttp_connection_free(), and the stream is freed there.
 * Two cases differ in who then frees the request:
 *  - we freed the connection (EOF seen by our watch, slow consumer,
 *    shutdown): the request is still queued on it and evhttp frees it;
 *  - evhttp failed the connection itself (a write error): it detaches an
 *    unfinished request first (its evcon becomes NULL) and leaves it to the
 *    user, so we free it.
 */
#include "master/http_internal.h"

#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

const char *ms_stream_close_reason_name(enum ms_stream_close_reason reason)
{
	switch (reason) {
	case MS_STREAM_PEER_CLOSED:
		return "client closed the connection";
	case MS_STREAM_SLOW_CONSUMER:
		return "slow consumer: too much output queued";
	case MS_STREAM_SHUTDOWN:
		return "server shutdown";
	}
	return "?";
}

static struct bufferevent *stream_bev(const struct ms_stream *s)
{
	return evhttp_connection_get_bufferevent(s->evcon);
}

/* Free the stream's own resources (it is already unlinked). The request
 * and connection are handled by the caller. */
static void stream_free(struct ms_stream *s)
{
	ms__flush_forget(s);
	if (s->watch)
		event_free(s->watch);
	if (s->closer)
		event_free(s->closer);
	free(s);
}

/* evhttp is tearing the connection down (whoever started it). */
static void stream_conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct ms_stream *s = arg;
	(void)evcon;
	enum ms_stream_close_reason reason = s->closing ? s->reason : MS_STREAM_PEER_CLOSED;
	if (evhttp_request_get_connection(s->req) == NULL)
		evhttp_request_free(s->req);
	s->req = NULL;
	/* Unlinked first: the owner may walk its own lists from the callback,
	 * and ms_http_close_streams must not find this one. */
	LIST_REMOVE(s, link);
	if (s->on_close)
		s->on_close(s, reason, s->arg);
	stream_free(s);
}

static void stream_close_now(evutil_socket_t fd, short what, void *arg)
{
	struct ms_stream *s = arg;
	(void)fd;
	(void)what;
	/* Calls stream_conn_closed, which frees s. */
	evhttp_connection_free(s->evcon);
}

/* Close from the loop's next turn: never re-enter the owner. */
static void stream_close_later(struct ms_stream *s, enum ms_stream_close_reason reason)
{
	if (s->closing)
		return;
	s->closing = true;
	s->reason = reason;
	if (s->watch)
		event_del(s->watch);
	event_active(s->closer, EV_TIMEOUT, 0);
}

static void stream_readable(evutil_socket_t fd, short what, void *arg)
{
	struct ms_stream *s = arg;
	char buf[1024];
	(void)what;
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n > 0)
		return; /* a client may not send on its stream; ignore it */
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	stream_close_later(s, MS_STREAM_PEER_CLOSED);
}

struct ms_stream *ms_stream_start(struct ms_http *http, struct evhttp_request *req,
                                  const char *const *headers, ms_stream_close_cb on_close,
                                  void *arg)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	if (!evcon)
		return NULL;
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	evhttp_add_header(out, "Content-Type", "application/json");
	for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2)
		evhttp_add_header(out, headers[i], headers[i + 1]);

	struct ms_stream *s = ag_calloc(1, sizeof(*s));
	s->http = http;
	s->req = req;
	s->evcon = evcon;
	s->on_close = on_close;
	s->arg = arg;
	s->max_pending = http->stream_max_pending;
	s->closer = event_new(http->base, -1, 0, stream_close_now, s);
	int fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
	s->watch = event_new(http->base, fd, EV_READ | EV_PERSIST, stream_readable, s);
	if (!s->closer || !s->watch)
		abort();
	LIST_INSERT_HEAD(&http->streams, s, link);

	evhttp_connection_set_closecb(evcon, stream_conn_closed, s);
	evhttp_send_reply_start(req, HTTP_OK, NULL);
	/* evhttp chunks unless the client speaks HTTP/1.0. */
	const char *te = evhttp_find_header(out, "Transfer-Encoding");
	s->chunked = te && strcasecmp(te, "chunked") == 0;
	/* evhttp keeps EV_READ on while it writes, to see closes, and with it
	 * the connection's read timeout: a stream quiet between heartbeats
	 * would be dropped as an idle connection. Keep only the write
	 * timeout, which drops a client that stopped reading. */
	struct timeval wtv = {http->timeout_s, 0};
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
	s->out = bufferevent_get_output(bev);
	bufferevent_set_timeouts(bev, NULL, &wtv);
	/* With no read callback, what a client sends on its stream would pile
	 * up in the input buffer: cap it; the watch drains the rest. */
	bufferevent_setwatermark(bev, EV_READ, 0, 4096);
	event_add(s->watch, NULL);
	return s;
}

size_t ms_stream_pending(const struct ms_stream *s)
{
	return evbuffer_get_length(s->out);
}

void ms_stream_set_max_pending(struct ms_stream *s, size_t max_pending)
{
	s->max_pending = max_pending ? max_pending : s->http->stream_max_pending;
}

void ms_stream_set_sndbuf(struct ms_stream *s, int bytes)
{
	int fd = bufferevent_getfd(stream_bev(s));
	/* Best effort: the default (autotuned) buffer is still correct. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
}

void ms_stream_set_background(struct ms_stream *s)
{
	if (event_base_get_npriorities(s->http->base) <= MS_PRIORITY_BACKGROUND)
		return;
	(void)bufferevent_priority_set(stream_bev(s), MS_PRIORITY_BACKGROUND);
	/* Written by its bufferevent in the background, not by the flusher. */
	s->background = true;
	ms__flush_forget(s);
	/* A thousand slow subscribers closed at once are background work too. */
	(void)event_priority_set(s->closer, MS_PRIORITY_BACKGROUND);
}

const char *ms_stream_peer(const struct ms_stream *s, char *buf, size_t len)
{
	char *addr = NULL;
	ev_uint16_t port = 0;
	if (s->evcon)
		evhttp_connection_get_peer(s->evcon, &addr, &port);
	snprintf(buf, len, "%s:%u", addr ? addr : "?", port);
	return buf;
}

/* Whether a record of `framed` bytes may be queued; if not, the stream is
 * being closed as a slow consumer. */
static int stream_admit(struct ms_stream *s, size_t framed)
{
	if (s->closing || !s->req)
		return -EPIPE;
	size_t pending = ms_stream_pending(s);
	if (pending > 0 && pending + framed > s->max_pending) {
		stream_close_later(s, MS_STREAM_SLOW_CONSUMER);
		return -ENOBUFS;
	}
	return 0;
}

/* The size line of a record of `len` bytes, without printf, at the end of
 * `line`; its length. */
static size_t size_line(char line[24], size_t len)
{
	size_t n = 24;
	line[--n] = '\n';
	do
		line[--n] = (char)('0' + len % 10);
	while ((len /= 10) != 0);
	memmove(line, line + n, 24 - n);
	return 24 - n;
}

int ms_stream_send(struct ms_stream *s, const char *json, size_t len)
{
	if (len == 0)
		return -EINVAL;
	/* The size line plus the chunk framing (hex size, two CRLFs). */
	int r = stream_admit(s, len + 21 + 20);
	if (r < 0)
		return r;
	/* The record goes straight into the connection's output, framed as
	 * evhttp_send_reply_chunk() would (hex size, CRLF, data, CRLF), in one
	 * reserved extent: no printf, no copy through a second buffer, and the
	 * bufferevent (writing since evhttp_send_reply_start) schedules the
	 * write itself. One record, one chunk: npm mesos-framework splits on
	 * chunks. */
	char line[24];
	size_t n = size_line(line, len);
	size_t rec = n + len;
	char head[24];
	size_t h = sizeof(head);
	if (s->chunked) {
		static const char hex[] = "0123456789abcdef";
		head[--h] = '\n';
		head[--h] = '\r';
		size_t v = rec;
		do
			head[--h] = hex[v & 15];
		while ((v >>= 4) != 0);
	}
	size_t head_len = sizeof(head) - h, total = head_len + rec + (s->chunked ? 2 : 0);
	struct evbuffer_iovec iov;
	if (evbuffer_reserve_space(s->out, (ev_ssize_t)total, &iov, 1) != 1 || iov.iov_len < total)
		abort(); /* libevent fails only on allocation */
	char *p = iov.iov_base;
	memcpy(p, head + h, head_len);
	memcpy(p + head_len, line, n);
	memcpy(p + head_len + n, json, len);
	if (s->chunked)
		memcpy(p + head_len + rec, "\r\n", 2);
	iov.iov_len = total;
	if (evbuffer_commit_space(s->out, &iov, 1) < 0)
		abort();
	ms__flush_stream(s);
	return 0;
}

/* ---- shared records -------------------------------------------------- */

/* A record is the whole HTTP chunk, the same bytes for every stream: its
 * chunk head (hex size, CRLF), the RecordIO size line, the JSON and the
 * chunk's CRLF. Each stream's queue gets one reference to it (one small
 * libevent chain) instead of a copy; libevent calls record_released
 * once the stream has written it or dropped it. */
struct ms_record {
	size_t refs;
	size_t len;      /* of data */
	size_t head_len; /* of the chunk head: a stream that is not chunked
	                  * (HTTP/1.0) gets data + head_len, len - head_len - 2 */
	char data[];     /* not NUL-terminated */
};

struct ms_record *ms_record_new(const char *json, size_t len)
{
	char line[24], head[24];
	size_t n = size_line(line, len);
	int h = snprintf(head, sizeof(head), "%zx\r\n", n + len);
	struct ms_record *rec = ag_malloc(sizeof(*rec) + (size_t)h + n + len + 2);
	rec->refs = 1;
	rec->head_len = (size_t)h;
	rec->len = (size_t)h + n + len + 2;
	memcpy(rec->data, head, (size_t)h);
	memcpy(rec->data + h, line, n);
	memcpy(rec->data + (size_t)h + n, json, len);
	memcpy(rec->data + rec->len - 2, "\r\n", 2);
	return rec;
}

void ms_record_unref(struct ms_record *rec)
{
	/* One thread: the loop's. */
	if (rec && --rec->refs == 0)
		free(rec);
}

static void record_released(const void *data, size_t len, void *arg)
{
	(void)data;
	(void)len;
	ms_record_unref(arg);
}

int ms_stream_send_record(struct ms_stream *s, struct ms_record *rec)
{
	int r = stream_admit(s, rec->len);
	if (r < 0)
		return r;
	/* Straight into the connection's output, as evhttp_send_reply_chunk
	 * would put it there: its write callback sends it. */
	struct evbuffer *out = s->out;
	const char *p = s->chunked ? rec->data : rec->data + rec->head_len;
	size_t n = s->chunked ? rec->len : rec->len - rec->head_len - 2;
	rec->refs++;
	if (evbuffer_add_reference(out, p, n, record_released, rec) < 0)
		abort();
	ms__flush_stream(s);
	return 0;
}

void ms_stream_end(struct ms_stream *s)
{
	if (!s)
		return;
	struct evhttp_connection *evcon = s->evcon;
	struct evhttp_request *req = s->req;
	bool closing = s->closing;
	int http_timeout_s = s->http->timeout_s;
	evhttp_connection_set_closecb(evcon, NULL, NULL);
	/* The watch must go before evhttp reads the connection again for the
	 * next keep-alive request, or it would steal those bytes. */
	LIST_REMOVE(s, link);
	stream_free(s);
	if (closing) {
		evhttp_connection_free(evcon);
		return;
	}
	/* Back to an ordinary keep-alive connection. */
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
	struct timeval tv = {http_timeout_s, 0};
	bufferevent_setwatermark(bev, EV_READ, 0, 0);
	bufferevent_set_timeouts(bev, &tv, &tv);
	evhttp_send_reply_end(req);
}

void ms_http_close_streams(struct ms_http *http)
{
	struct ms_stream *s;
	while ((s = LIST_FIRST(&http->streams)) != NULL) {
		/* As for any close callback, the owner must not end or use
		 * the stream after its callback: it is freed here. */
		if (s->on_close)
			s->on_close(s, MS_STREAM_SHUTDOWN, s->arg);
		ms_stream_end(s);
	}
}
