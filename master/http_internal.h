/* http_internal.h: what http.c and stream.c share. */
#ifndef AGORA_MASTER_HTTP_INTERNAL_H
#define AGORA_MASTER_HTTP_INTERNAL_H

#include "master/http.h"

#include <sys/queue.h>

struct ms_route {
	char *path;
	unsigned methods;
	ms_http_handler handler;
	void *arg;
};

struct ms_stream {
	LIST_ENTRY(ms_stream) link;
	/* On http->unflushed while records wait for the end of the loop
	 * turn's events (see flush.c). */
	LIST_ENTRY(ms_stream) unflushed_link;
	bool unflushed;
	bool background; /* written by the bufferevent at background priority */
	struct ms_http *http;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	/* evhttp notices a vanished client itself while it writes (it keeps
	 * EV_READ on with no read callback), but it would buffer whatever a
	 * client sends on its stream without bound: the stream caps evhttp's
	 * input buffer and this read watch on the same fd drains the rest
	 * and sees the EOF once evhttp has stopped reading. */
	struct event *watch;
	/* Closing is deferred to the loop so that an owner's close callback
	 * never runs inside its own ms_stream_send(). */
	struct event *closer;
	enum ms_stream_close_reason reason;
	bool closing;
	/* Chunked transfer encoding (HTTP/1.1); an HTTP/1.0 stream is the
	 * bytes until the connection closes. */
	bool chunked;
	size_t max_pending; /* bound on queued output; see ms_stream_send() */
	/* The connection's output buffer (its bufferevent's, fixed for the
	 * connection's life): looked up once, not for every record. */
	struct evbuffer *out;
	ms_stream_close_cb on_close;
	void *arg;
};

struct ms_http {
	struct event_base *base;
	struct evhttp *evhttp;
	struct evhttp_bound_socket *bound;
	uint16_t port;
	size_t stream_max_pending;
	int timeout_s;
	struct ms_route *routes;
	size_t n_routes;
	ms_http_gate gate;
	void *gate_arg;
	LIST_HEAD(, ms_stream) streams;
	/* Written at the end of the loop turn's events (flush.c): streams
	 * with new records, and the connections of replies, each holding a
	 * reference to its bufferevent. */
	struct event *flusher;
	LIST_HEAD(, ms_stream) unflushed;
	struct bufferevent **replies;
	size_t n_replies, cap_replies;
	LIST_ENTRY(ms_http) servers;
};

/* Write a reply's connection before the loop waits again (flush.c). */
void ms__flush_reply(struct evhttp_connection *evcon);

/* Write a stream's records before the loop waits again (flush.c). */
void ms__flush_stream(struct ms_stream *s);

/* Take a stream off the list (it ends or closes). */
void ms__flush_forget(struct ms_stream *s);

/* Set up and tear down the flusher of a server. */
void ms__flush_init(struct ms_http *http);
void ms__flush_fini(struct ms_http *http);

#endif
