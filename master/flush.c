/* flush.c: replies and stream records written at the end of the loop
 * turn's events instead of in a turn of their own.
 *
 * Left to evhttp, a reply or a record is written by its bufferevent once the
 * loop has asked epoll for EPOLLOUT on the connection (an epoll_ctl), waited
 * for it (a loop turn), written, and taken EPOLLOUT away again (another
 * epoll_ctl): two system calls and a turn for each write. The flusher, an
 * event activated by the first reply or record of a turn at the default
 * priority, runs after that turn's other events and writes each connection's
 * output at once; the EPOLLOUT that was asked for is then withdrawn before
 * the loop hands its changes to epoll, so it costs nothing. What cannot be
 * written at once (a full socket buffer, an error) stays in the output and
 * is left to the bufferevent as before, as is everything of a stream of the
 * background priority. The bytes and their order on each connection are the
 * same either way.
 */
#include "master/http_internal.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>

/* The servers of this process, to find the one of a reply's event base
 * (evhttp does not tell a request's server). One thread: the loop's. */
static LIST_HEAD(, ms_http) servers = LIST_HEAD_INITIALIZER(servers);

/* Write what `bev` holds; true when it is all written. A short write or an
 * error leaves the rest to the bufferevent, which reports the error. */
static bool write_out(struct bufferevent *bev)
{
	struct evbuffer *out = bufferevent_get_output(bev);
	evutil_socket_t fd = bufferevent_getfd(bev);
	if (fd < 0 || evbuffer_get_length(out) == 0)
		return false;
	/* As the bufferevent writes: its output may be drained only while
	 * unfrozen at the front (frozen again after, as it leaves it). */
	evbuffer_unfreeze(out, 1);
	int n = evbuffer_write(out, fd);
	evbuffer_freeze(out, 1);
	return n > 0 && evbuffer_get_length(out) == 0;
}

static void flush_reply(struct bufferevent *bev)
{
	bufferevent_data_cb writecb = NULL;
	bufferevent_getcb(bev, NULL, &writecb, NULL, NULL);
	/* No write callback: evhttp has freed the connection meanwhile. */
	if (!writecb || !write_out(bev))
		return;
	/* What the bufferevent does after writing its last byte: evhttp's
	 * write callback ends the request (reads the next one, or closes the
	 * connection), which also withdraws the EPOLLOUT it asked for. */
	bufferevent_trigger(bev, EV_WRITE, 0);
}

static void flush_stream(struct ms_stream *s)
{
	if (s->closing || !s->req || !s->evcon)
		return;
	struct bufferevent *bev = evhttp_connection_get_bufferevent(s->evcon);
	/* The bufferevent takes EPOLLOUT away itself once its output is
	 * empty; a stream has no write callback of evhttp's to run (it is
	 * set only when the stream ends, after it left the list). */
	if (write_out(bev))
		event_del(&bev->ev_write);
}

static void flush_now(evutil_socket_t fd, short what, void *arg)
{
	struct ms_http *http = arg;
	(void)fd;
	(void)what;
	struct ms_stream *s;
	while ((s = LIST_FIRST(&http->unflushed)) != NULL) {
		ms__flush_forget(s);
		flush_stream(s);
	}
	/* A reply's write callback may answer other requests, which adds to
	 * the list: it is read afresh each time round. */
	for (size_t i = 0; i < http->n_replies; i++) {
		struct bufferevent *bev = http->replies[i];
		flush_reply(bev);
		bufferevent_decref(bev);
	}
	http->n_replies = 0;
}

/* At most once a turn: activating an active event does nothing. */
static void schedule(struct ms_http *http)
{
	event_active(http->flusher, EV_TIMEOUT, 0);
}

void ms__flush_reply(struct evhttp_connection *evcon)
{
	if (!evcon)
		return;
	struct event_base *base = evhttp_connection_get_base(evcon);
	struct ms_http *http;
	LIST_FOREACH (http, &servers, servers)
		if (http->base == base)
			break;
	if (!http || !http->flusher)
		return;
	if (http->n_replies == http->cap_replies) {
		http->cap_replies = http->cap_replies ? 2 * http->cap_replies : 64;
		http->replies =
		        ag_realloc(http->replies, http->cap_replies * sizeof(*http->replies));
	}
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
	/* Held until the flush: evhttp may free the connection before. */
	bufferevent_incref(bev);
	http->replies[http->n_replies++] = bev;
	schedule(http);
}

void ms__flush_stream(struct ms_stream *s)
{
	if (s->unflushed || s->background || !s->http->flusher)
		return;
	s->unflushed = true;
	LIST_INSERT_HEAD(&s->http->unflushed, s, unflushed_link);
	schedule(s->http);
}

void ms__flush_forget(struct ms_stream *s)
{
	if (!s->unflushed)
		return;
	LIST_REMOVE(s, unflushed_link);
	s->unflushed = false;
}

void ms__flush_init(struct ms_http *http)
{
	LIST_INIT(&http->unflushed);
	http->flusher = event_new(http->base, -1, 0, flush_now, http);
	if (!http->flusher)
		abort(); /* libevent fails only on allocation */
	LIST_INSERT_HEAD(&servers, http, servers);
}

void ms__flush_fini(struct ms_http *http)
{
	if (!http->flusher)
		return;
	LIST_REMOVE(http, servers);
	for (size_t i = 0; i < http->n_replies; i++)
		bufferevent_decref(http->replies[i]);
	free(http->replies);
	event_free(http->flusher);
	http->flusher = NULL;
}
