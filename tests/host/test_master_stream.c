/* Host tests of master/http.c's streams, in-process: the server runs its
 * event loop in a thread, the test is a raw-socket client on loopback. */
#include "agtest.h"
#include "http_thread.h"
#include "master_client.h"

#include <stdatomic.h>
#include <time.h>

static struct ms_http *http;
static atomic_int shutdown_streams, close_count, close_reason = -1, flood_result;
static atomic_int streams_started;
static struct ms_stream *flooding;

static void on_close(struct ms_stream *s, enum ms_stream_close_reason reason, void *arg)
{
	(void)arg;
	if (s == flooding)
		flooding = NULL;
	atomic_store(&close_reason, (int)reason);
	atomic_fetch_add(&close_count, 1);
}

static void on_tick(struct ms_http *server)
{
	if (atomic_exchange(&shutdown_streams, 0))
		ms_http_close_streams(server);
	/* A slow consumer: 64 KiB records as fast as the loop turns. */
	static char big[64 * 1024];
	if (flooding && !big[0]) {
		memset(big, 'x', sizeof(big));
		big[0] = '"';
		big[sizeof(big) - 1] = '"';
	}
	for (int i = 0; i < 2 && flooding; i++) {
		int r = ms_stream_send(flooding, big, sizeof(big));
		if (r < 0) {
			atomic_store(&flood_result, r);
			break; /* the close callback will come from the loop */
		}
	}
}

static char mode_open[] = "open", mode_end[] = "end", mode_flood[] = "flood";

static void handle_stream(struct evhttp_request *req, void *arg)
{
	const char *mode = arg;
	static const char *const headers[] = {"Mesos-Stream-Id", "0123-abcd", NULL};
	struct ms_stream *s = ms_stream_start(http, req, headers, on_close, NULL);
	cr_assert_not_null(s);
	atomic_fetch_add(&streams_started, 1);
	const char *sub = "{\"type\":\"SUBSCRIBED\"}", *hb = "{\"type\":\"HEARTBEAT\"}";
	cr_assert_eq(ms_stream_send(s, sub, strlen(sub)), 0);
	cr_assert_eq(ms_stream_send(s, hb, strlen(hb)), 0);
	if (strcmp(mode, "end") == 0)
		ms_stream_end(s);
	else if (strcmp(mode, "flood") == 0)
		flooding = s;
}

static void handle_ping(struct evhttp_request *req, void *arg)
{
	(void)arg;
	ms_http_reply_json(req, 200, "{}", 2);
}

static int server_timeout_s;

static void routes(struct ms_http *server)
{
	cr_assert_eq(ms_http_route(server, "/stream", EVHTTP_REQ_POST, handle_stream, mode_open),
	             0);
	cr_assert_eq(ms_http_route(server, "/stream/end", EVHTTP_REQ_POST, handle_stream, mode_end),
	             0);
	cr_assert_eq(
	        ms_http_route(server, "/stream/flood", EVHTTP_REQ_POST, handle_stream, mode_flood),
	        0);
	cr_assert_eq(ms_http_route(server, "/ping", EVHTTP_REQ_GET, handle_ping, NULL), 0);
	cr_assert_eq(ms_http_route(server, "/ping", EVHTTP_REQ_GET, handle_ping, NULL), -EEXIST);
}

static void start_server(size_t max_pending)
{
	struct ms_http_options o = {.stream_max_pending = max_pending,
	                            .timeout_s = server_timeout_s};
	http = ht_start(&o, routes, on_tick);
}

static bool wait_for(atomic_int *v, int want, int ms)
{
	for (int i = 0; i < ms; i++) {
		if (atomic_load(v) == want)
			return true;
		usleep(1000);
	}
	return atomic_load(v) == want;
}

static struct mc_conn *open_stream_with(const char *path, const char *headers,
                                        struct mc_response *r)
{
	struct mc_conn *c = mc_connect(ms_http_port(http));
	cr_assert_not_null(c);
	char req[256];
	int n = snprintf(req, sizeof(req),
	                 "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	                 "%sContent-Length: 0\r\n\r\n",
	                 path, headers);
	cr_assert_eq(mc_send(c, req, (size_t)n), 0);
	cr_assert_eq(mc_read_head(c, r), 0);
	return c;
}

static struct mc_conn *open_stream(const char *path, struct mc_response *r)
{
	return open_stream_with(path, "", r);
}

static void expect_record(struct mc_conn *c, const char *json)
{
	char *chunk;
	size_t len;
	cr_assert_eq(mc_read_chunk(c, &chunk, &len), 0);
	char want[256];
	snprintf(want, sizeof(want), "%zu\n%s", strlen(json), json);
	/* One record, one chunk, exactly. */
	cr_assert_str_eq(chunk, want);
	free(chunk);
}

/* The two records every stream of handle_stream() starts with. */
static void expect_greeting(struct mc_conn *c)
{
	expect_record(c, "{\"type\":\"SUBSCRIBED\"}");
	expect_record(c, "{\"type\":\"HEARTBEAT\"}");
}

/* The final, empty chunk of a stream that ended. */
static void expect_final_chunk(struct mc_conn *c)
{
	char *chunk;
	size_t len;
	cr_assert_eq(mc_read_chunk(c, &chunk, &len), 0);
	cr_assert_eq(len, 0, "the final chunk");
	free(chunk);
}

Test(stream, is_chunked_json_with_headers_and_one_record_per_chunk)
{
	start_server(0);
	struct mc_response r;
	struct mc_conn *c = open_stream("/stream", &r);
	cr_assert_eq(r.status, 200);
	cr_assert(r.chunked);
	cr_assert_null(mc_header(&r, "Content-Length"));
	cr_assert_str_eq(mc_header(&r, "Content-Type"), "application/json");
	cr_assert_str_eq(mc_header(&r, "Mesos-Stream-Id"), "0123-abcd");
	expect_greeting(c);
	mc_close(c);
	ht_stop();
}

Test(stream, a_vanished_client_is_noticed_without_writing)
{
	start_server(0);
	struct mc_response r;
	struct mc_conn *c = open_stream("/stream", &r);
	expect_record(c, "{\"type\":\"SUBSCRIBED\"}");
	mc_close(c);
	cr_assert(wait_for(&close_count, 1, 1000), "no close callback within 1 s");
	cr_assert_eq(atomic_load(&close_reason), MS_STREAM_PEER_CLOSED);
	ht_stop();
}

Test(stream, ending_it_keeps_the_connection_for_the_next_request)
{
	start_server(0);
	struct mc_response r;
	struct mc_conn *c = open_stream("/stream/end", &r);
	expect_greeting(c);
	expect_final_chunk(c);
	const char *ping = "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n";
	cr_assert_eq(mc_send(c, ping, strlen(ping)), 0);
	cr_assert_eq(mc_read_response(c, &r), 0);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "{}");
	mc_response_free(&r);
	mc_close(c);
	cr_assert_eq(atomic_load(&close_count), 0, "an owner's end is not a close callback");
	ht_stop();
}

Test(stream, a_slow_consumer_is_cut_off_not_buffered_forever)
{
	start_server(2 << 20);
	struct mc_response r;
	struct mc_conn *c = open_stream("/stream/flood", &r);
	/* Never read: the kernel buffers fill, then the stream's queue. */
	cr_assert(wait_for(&close_count, 1, 5000), "the flood was never cut off");
	cr_assert_eq(atomic_load(&close_reason), MS_STREAM_SLOW_CONSUMER);
	cr_assert_eq(atomic_load(&flood_result), -ENOBUFS);
	mc_close(c);
	ht_stop();
}

Test(stream, a_client_leaving_mid_flood_is_a_clean_close)
{
	start_server(64 << 20);
	for (int i = 0; i < 5; i++) {
		struct mc_response r;
		struct mc_conn *c = open_stream("/stream/flood", &r);
		char *chunk;
		size_t len;
		cr_assert_eq(mc_read_chunk(c, &chunk, &len), 0);
		free(chunk);
		mc_close(c);
		cr_assert(wait_for(&close_count, i + 1, 2000));
	}
	ht_stop();
}

Test(stream, shutdown_ends_streams_with_a_final_chunk)
{
	start_server(0);
	struct mc_response r;
	struct mc_conn *c = open_stream("/stream", &r);
	expect_greeting(c);
	atomic_store(&shutdown_streams, 1);
	expect_final_chunk(c);
	cr_assert(wait_for(&close_count, 1, 1000));
	cr_assert_eq(atomic_load(&close_reason), MS_STREAM_SHUTDOWN);
	mc_close(c);
	ht_stop();
}

Test(stream, port_in_use_is_refused_with_a_clear_message)
{
	start_server(0);
	struct event_base *b2 = event_base_new();
	struct ms_http *h2 = NULL;
	struct ms_http_options o = {.ip = "127.0.0.1", .port = ms_http_port(http)};
	struct ag_error err = {0};
	cr_assert_eq(ms_http_new(b2, &o, &h2, &err), -EADDRINUSE);
	cr_assert(strstr(err.msg, "already in use"), "%s", err.msg);
	o.ip = "not-an-ip";
	o.port = 0;
	cr_assert_eq(ms_http_new(b2, &o, &h2, &err), -EINVAL);
	cr_assert(strstr(err.msg, "not-an-ip"), "%s", err.msg);
	event_base_free(b2);
	ht_stop();
}

Test(stream, connection_close_clients_still_get_the_stream)
{
	/* mesos-go sends Connection: close on SUBSCRIBE (reference §1). */
	start_server(0);
	struct mc_response r;
	struct mc_conn *c = open_stream_with("/stream", "Connection: close\r\n", &r);
	cr_assert_eq(r.status, 200);
	expect_greeting(c);
	atomic_store(&shutdown_streams, 1);
	expect_final_chunk(c);
	mc_close(c);
	ht_stop();
}

Test(stream, an_idle_stream_outlives_the_connection_timeout)
{
	/* The idle timeout is for requests and keep-alive connections; a
	 * quiet stream (between heartbeats) must stay. */
	server_timeout_s = 1;
	start_server(0);
	struct mc_response r;
	struct mc_conn *c = open_stream("/stream", &r);
	expect_greeting(c);
	usleep(2200 * 1000);
	cr_assert_eq(atomic_load(&close_count), 0, "closed: %s",
	             ms_stream_close_reason_name(atomic_load(&close_reason)));
	atomic_store(&shutdown_streams, 1);
	expect_final_chunk(c);
	mc_close(c);
	ht_stop();
}
