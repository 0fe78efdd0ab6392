/* http.h: the master's HTTP/1.1 server, a thin layer over libevent's evhttp.
 *
 * One event loop, nothing blocks. The layer knows nothing of Mesos messages:
 * it routes requests by path and method, checks the transport rules of the
 * v1 API (Content-Type, Accept, body size; reference §1), sends replies with
 * the exact headers clients need, and runs streaming responses (RecordIO
 * records, one per HTTP chunk) with close detection and a bound on what a
 * slow consumer may leave queued.
 *
 * Handlers get the evhttp request itself: libevent's request API
 * (evhttp_request_get_input_headers, ...) is usable alongside this one. A
 * handler must answer every request exactly once, with a ms_http_reply_* call
 * or by turning it into a stream (ms_stream_start).
 */
#ifndef AGORA_MASTER_HTTP_H
#define AGORA_MASTER_HTTP_H

#include "common/common.h"

#include <event2/event.h>
#include <event2/http.h>

struct ms_http;
struct ms_stream;

#define MS_HTTP_DEFAULT_MAX_BODY           (4u << 20)
#define MS_HTTP_DEFAULT_STREAM_MAX_PENDING (8u << 20)
#define MS_HTTP_DEFAULT_TIMEOUT_S          60

struct ms_http_options {
	const char *ip;  /* address to bind; "127.0.0.1" when NULL */
	uint16_t port;   /* 0 picks a free port: see ms_http_port() */
	size_t max_body; /* request bodies above this get 413; 0 = default */
	/* A stream whose unsent output would exceed this many bytes is closed
	 * (slow consumer) instead of growing without bound; 0 = default. */
	size_t stream_max_pending;
	/* Idle keep-alive connections, slow request bodies and stalled
	 * writes are dropped after this many seconds; 0 = default. */
	int timeout_s;
};

/* Create the server and bind it. Fails with -EADDRINUSE (and a message
 * naming the address) when the port is taken. On success *ret is owned by
 * the caller and freed with ms_http_free(). */
AG_WARN_UNUSED int ms_http_new(struct event_base *base, const struct ms_http_options *opts,
                               struct ms_http **ret, struct ag_error *err);

/* The bound port (useful when opts.port was 0). */
uint16_t ms_http_port(const struct ms_http *http);

typedef void (*ms_http_handler)(struct evhttp_request *req, void *arg);

/* Route requests for exactly `path` (the query string is ignored) to
 * `handler`. `methods` is a mask of EVHTTP_REQ_* values; other methods get
 * 405 with an Allow header. Unknown paths get 404. `path` is copied.
 * Returns 0, or -EEXIST when the path is already routed. */
AG_WARN_UNUSED int ms_http_route(struct ms_http *http, const char *path, unsigned methods,
                                 ms_http_handler handler, void *arg);

/* Called for every routed request (path and method matched) before its
 * handler, with the path: returns true when it answered the request itself
 * (a standby master's redirect, see master/zk.h), false to let the handler
 * run. */
typedef bool (*ms_http_gate)(struct evhttp_request *req, const char *path, void *arg);
/* Install the gate (NULL: none). */
void ms_http_set_gate(struct ms_http *http, ms_http_gate gate, void *arg);
/* Stop accepting connections; requests on open connections still run. */
void ms_http_stop_accepting(struct ms_http *http);

/* End every open stream cleanly (final chunk queued); each owner's close
 * callback runs with MS_STREAM_SHUTDOWN before its stream is freed. */
void ms_http_close_streams(struct ms_http *http);

/* Close everything and free the server. Open streams are closed as by
 * ms_http_close_streams(). NULL is allowed. */
void ms_http_free(struct ms_http *http);

/* ---- requests ------------------------------------------------------- */

/* A request header, matched case-insensitively (clients send
 * `mesos-stream-id`); NULL when absent. */
const char *ms_http_header(struct evhttp_request *req, const char *name);

/* The request body as one contiguous buffer (not NUL-terminated); it stays
 * valid until the request is answered. An empty body gives "" and 0. */
const char *ms_http_body(struct evhttp_request *req, size_t *ret_len);

/* True when a Content-Type value is application/json. Mesos compares
 * exactly; parameters and case are tolerated here, a harmless superset. */
bool ms_http_content_type_is_json(const char *value);

/* True when an Accept value admits JSON: absent or empty, or a media range
 * anywhere in the list that is any type, any application subtype, or
 * application/json, with q not 0. */
bool ms_http_accept_allows_json(const char *value);

/* Check the request's Content-Type: on failure the request is answered
 * (400 when absent, 415 otherwise) and false is returned. */
AG_WARN_UNUSED bool ms_http_require_json_body(struct evhttp_request *req);

/* Check the request's Accept header: on failure the request is answered
 * with 406 and false is returned. */
AG_WARN_UNUSED bool ms_http_require_json_accept(struct evhttp_request *req);

/* ---- replies -------------------------------------------------------- */

/* An error: `code` with a text/plain; charset=utf-8 body (a newline is not
 * added). */
void ms_http_reply_error(struct evhttp_request *req, int code, const char *fmt, ...)
        AG_PRINTF(3, 4);

/* A JSON reply: exactly `Content-Type: application/json`, with
 * Content-Length. `json` is copied. */
void ms_http_reply_json(struct evhttp_request *req, int code, const char *json, size_t len);

/* An empty reply with no Content-Type (mesos-go rejects one on the 200s of
 * TEARDOWN, MARK_AGENT_GONE and UPDATE_WEIGHTS, and on 202s). */
void ms_http_reply_empty(struct evhttp_request *req, int code);

/* ---- streams -------------------------------------------------------- */

enum ms_stream_close_reason {
	MS_STREAM_PEER_CLOSED,   /* the client went away, or sent an error */
	MS_STREAM_SLOW_CONSUMER, /* output queued past stream_max_pending */
	MS_STREAM_SHUTDOWN,      /* ms_http_close_streams / ms_http_free */
};

const char *ms_stream_close_reason_name(enum ms_stream_close_reason reason);

/* Called once when a stream ends without its owner asking: it always runs
 * from the event loop (never from inside ms_stream_send), and the stream is
 * freed as soon as it returns. The owner must drop its pointer then. */
typedef void (*ms_stream_close_cb)(struct ms_stream *stream, enum ms_stream_close_reason reason,
                                   void *arg);

/* Answer `req` with a 200 streaming response: `Content-Type:
 * application/json`, chunked, no Content-Length (an HTTP/1.0 client gets the
 * body until the connection closes). `headers` is NULL or a NULL-terminated
 * list of name, value pairs added to the response (e.g. "Mesos-Stream-Id",
 * id, NULL). Returns the stream, owned by the server: it lives until
 * ms_stream_end() or the close callback. */
AG_WARN_UNUSED struct ms_stream *ms_stream_start(struct ms_http *http, struct evhttp_request *req,
                                                 const char *const *headers,
                                                 ms_stream_close_cb on_close, void *arg);

/* Send one RecordIO record, `<len>\n<json>`, as one HTTP chunk. `len` must
 * not be 0. Returns 0; -EPIPE when the stream is closing (the close callback
 * is on its way); -ENOBUFS when this record would push the queued output
 * past the limit (see ms_stream_set_max_pending()), in which case the stream
 * is being closed as a slow consumer. */
AG_WARN_UNUSED int ms_stream_send(struct ms_stream *stream, const char *json, size_t len);

/* A record built once and sent on many streams (a broadcast): the
 * RecordIO size line and the JSON, serialized and framed once. It is
 * queued on each stream by reference, not copied: a stream holds a
 * reference until its bytes are written or it closes. */
struct ms_record;

/* A record of the `len` bytes of `json` (copied; `len` must not be 0). The
 * caller holds one reference and drops it with ms_record_unref() once it
 * has sent the record to every stream; streams keep their own. */
AG_WARN_UNUSED struct ms_record *ms_record_new(const char *json, size_t len);
void ms_record_unref(struct ms_record *rec);

/* ms_stream_send() of a shared record: the same rules and results. */
AG_WARN_UNUSED int ms_stream_send_record(struct ms_stream *stream, struct ms_record *rec);

/* Set this stream's bound on queued output (0: the server's default).
 * The bound is checked before each record: a record is refused (and the
 * stream closed as a slow consumer) when it would take the queue past the
 * bound, except into an empty queue, which takes any one record (a state
 * snapshot larger than the bound still reaches a reader that keeps up). */
void ms_stream_set_max_pending(struct ms_stream *stream, size_t max_pending);

/* Fix the kernel's send buffer of the stream's socket (SO_SNDBUF) instead
 * of letting it grow to several MiB: for streams that many clients may hold
 * open, so that clients that stop reading do not make the kernel buffer
 * megabytes each, nor the loop write into their sockets for long. */
void ms_stream_set_sndbuf(struct ms_stream *stream, int bytes);

/* The event priority of background work; the daemon's event base has
 * MS_PRIORITY_BACKGROUND + 1 priorities, whose default (the middle one)
 * everything else has. */
#define MS_PRIORITY_BACKGROUND 2

/* Make writing the stream's output background work: it runs only when no
 * request or other event is waiting (on a base with
 * MS_PRIORITY_BACKGROUND + 1 priorities; otherwise nothing changes). For
 * streams that many clients may hold open. */
void ms_stream_set_background(struct ms_stream *stream);

/* The peer's address as "ip:port" in `buf` (for logs). */
const char *ms_stream_peer(const struct ms_stream *stream, char *buf, size_t len);

/* Bytes queued on the stream's connection and not yet written. */
size_t ms_stream_pending(const struct ms_stream *stream);

/* Finish the response (the final chunk) and free the stream. The close
 * callback is not called. The connection stays open for keep-alive unless
 * the client asked for close. */
void ms_stream_end(struct ms_stream *stream);

#endif
