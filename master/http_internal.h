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
	ms_http *http;
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
	LIST_HEAD(, ms_stream) streams;
};

#endif
