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

/* Free the stream's own resources (it is already unlinked). The request
 * and connection are handled by the caller. */
static void ms__stream_free(ms_stream *s)
{
	if (s->watch)
		event_free(s->watch);
	if (s->closer)
		event_free(s->closer);
	free(s);
}

/* evhttp is tearing the connection down (whoever started it). */
static void ms__stream_conn_closed(struct evhttp_connection *evcon, void *arg)
{
	ms_stream *s = arg;
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
	ms__stream_free(s);
}

static void ms__stream_close_now(evutil_socket_t fd, short what, void *arg)
{
	ms_stream *s = arg;
	(void)fd;
	(void)what;
	/* Calls ms__stream_conn_closed, which frees s. */
	evhttp_connection_free(s->evcon);
}

/* Close from the loop's next turn: never re-enter the owner. */
static void ms__stream_close_later(ms_stream *s, enum ms_stream_close_reason reason)
{
	if (s->closing)
		return;
	s->closing = true;
	s->reason = reason;
	if (s->watch)
		event_del(s->watch);
	event_active(s->closer, EV_TIMEOUT, 0);
}

static void ms__stream_readable(evutil_socket_t fd, short what, void *arg)
{
	ms_stream *s = arg;
	char buf[1024];
	(void)what;
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n > 0)
		return; /* a client may not send on its stream; ignore it */
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	ms__stream_close_later(s, MS_STREAM_PEER_CLOSED);
}

ms_stream *ms_stream_start(ms_http *http, struct evhttp_request *req, const char *const *headers,
                           ms_stream_close_cb on_close, void *arg)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	if (!evcon)
		return NULL;
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	evhttp_add_header(out, "Content-Type", "application/json");
	for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2)
		evhttp_add_header(out, headers[i], headers[i + 1]);

	ms_stream *s = ag_calloc(1, sizeof(*s));
	s->http = http;
	s->req = req;
	s->evcon = evcon;
	s->on_close = on_close;
	s->arg = arg;
	s->closer = event_new(http->base, -1, 0, ms__stream_close_now, s);
	int fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
	s->watch = event_new(http->base, fd, EV_READ | EV_PERSIST, ms__stream_readable, s);
	if (!s->closer || !s->watch)
		abort();
	LIST_INSERT_HEAD(&http->streams, s, link);

	evhttp_connection_set_closecb(evcon, ms__stream_conn_closed, s);
	evhttp_send_reply_start(req, HTTP_OK, NULL);
	/* evhttp chose chunked encoding if and only if it said so. */
	const char *te = evhttp_find_header(out, "Transfer-Encoding");
	s->chunked = te && strcmp(te, "chunked") == 0;
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

size_t ms_stream_pending(const ms_stream *s)
{
	return evbuffer_get_length(s->out);
}

int ms_stream_send(ms_stream *s, const char *json, size_t len)
{
	if (s->closing || !s->req)
		return -EPIPE;
	if (len == 0)
		return -EINVAL;
	/* The size line plus the chunk framing (hex size, two CRLFs). */
	size_t framed = len + 21 + 20;
	if (ms_stream_pending(s) + framed > s->http->stream_max_pending) {
		ms__stream_close_later(s, MS_STREAM_SLOW_CONSUMER);
		return -ENOBUFS;
	}
	/* The record goes straight into the connection's output, framed as
	 * evhttp_send_reply_chunk() would (hex size, CRLF, data, CRLF), in one
	 * reserved extent: no printf, no copy through a second buffer, and the
	 * bufferevent (writing since evhttp_send_reply_start) schedules the
	 * write itself. One record, one chunk: npm mesos-framework splits on
	 * chunks. */
	char line[24];
	size_t n = sizeof(line);
	line[--n] = '\n';
	size_t v = len;
	do
		line[--n] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	size_t rec = sizeof(line) - n + len;
	char head[24];
	size_t h = sizeof(head);
	if (s->chunked) {
		static const char hex[] = "0123456789abcdef";
		head[--h] = '\n';
		head[--h] = '\r';
		v = rec;
		do
			head[--h] = hex[v & 15];
		while ((v >>= 4) != 0);
	}
	size_t head_len = sizeof(head) - h, total = head_len + rec + (s->chunked ? 2 : 0);
	struct evbuffer *out = s->out;
	struct evbuffer_iovec iov;
	if (evbuffer_reserve_space(out, (ev_ssize_t)total, &iov, 1) != 1 || iov.iov_len < total)
		abort(); /* libevent fails only on allocation */
	char *p = iov.iov_base;
	memcpy(p, head + h, head_len);
	memcpy(p + head_len, line + n, sizeof(line) - n);
	memcpy(p + head_len + sizeof(line) - n, json, len);
	if (s->chunked)
		memcpy(p + head_len + rec, "\r\n", 2);
	iov.iov_len = total;
	if (evbuffer_commit_space(out, &iov, 1) < 0)
		abort();
	return 0;
}

void ms_stream_end(ms_stream *s)
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
	ms__stream_free(s);
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

void ms_http_close_streams(ms_http *http)
{
	ms_stream *s;
	while ((s = LIST_FIRST(&http->streams)) != NULL) {
		/* As for any close callback, the owner must not end or use
		 * the stream after its callback: it is freed here. */
		if (s->on_close)
			s->on_close(s, MS_STREAM_SHUTDOWN, s->arg);
		ms_stream_end(s);
	}
}
