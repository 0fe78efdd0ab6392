/* Host tests of the bytes a master stream writes (master/stream.c): every
 * record is one HTTP chunk, `<hex size>\r\n<decimal length>\n<json>\r\n`,
 * with hex sizes of one to four digits; an HTTP/1.0 client, which cannot
 * take chunks, gets the RecordIO bytes alone until the connection closes.
 * In-process server on a thread, raw-socket client on loopback. */
#include "agtest.h"
#include "master/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

static struct event_base *base;
static ms_http *http;
static pthread_t thread;
static atomic_int stop;
static struct event *tick;

/* Record lengths: framed sizes of 1 to 4 hex digits, and a record of 1. */
static const size_t record_lens[] = {1, 12, 300, 5000};

static char *record(size_t len)
{
	/* A JSON string of `len` bytes: quotes around digits. */
	char *r = malloc(len + 1);
	cr_assert_not_null(r);
	for (size_t i = 0; i < len; i++)
		r[i] = (char)('0' + i % 10);
	if (len >= 2) {
		r[0] = '"';
		r[len - 1] = '"';
	}
	r[len] = '\0';
	return r;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (atomic_load(&stop))
		event_base_loopbreak(base);
}

static void handle_stream(struct evhttp_request *req, void *arg)
{
	(void)arg;
	ms_stream *s = ms_stream_start(http, req, NULL, NULL, NULL);
	cr_assert_not_null(s);
	for (size_t i = 0; i < AG_ARRAY_SIZE(record_lens); i++) {
		char *r = record(record_lens[i]);
		cr_assert_eq(ms_stream_send(s, r, record_lens[i]), 0);
		free(r);
	}
	ms_stream_end(s);
}

static void *serve(void *arg)
{
	(void)arg;
	event_base_dispatch(base);
	ms_http_free(http);
	event_free(tick);
	event_base_free(base);
	return NULL;
}

static void start_server(void)
{
	atomic_store(&stop, 0);
	base = event_base_new();
	struct ms_http_options o = {.ip = "127.0.0.1", .port = 0};
	struct ag_error err = {0};
	cr_assert_eq(ms_http_new(base, &o, &http, &err), 0, "%s", err.msg);
	cr_assert_eq(ms_http_route(http, "/stream", EVHTTP_REQ_POST, handle_stream, NULL), 0);
	tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
	struct timeval tv = {0, 1000};
	event_add(tick, &tv);
	cr_assert_eq(pthread_create(&thread, NULL, serve, NULL), 0);
}

static void stop_server(void)
{
	atomic_store(&stop, 1);
	pthread_join(thread, NULL);
}

/* Send `request` and read what comes back until `until` appears after the
 * head, or the server closes (until NULL), 5 s at most. Returns the body. */
static char *exchange(const char *request, const char *until, char **ret_head)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(ms_http_port(http))};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	size_t n = strlen(request);
	cr_assert_eq(send(fd, request, n, MSG_NOSIGNAL), (ssize_t)n);
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	cr_assert_not_null(buf);
	for (;;) {
		buf[len] = '\0';
		char *body = strstr(buf, "\r\n\r\n");
		if (until && body && strstr(body + 4, until))
			break;
		cr_assert_lt(len + 1, cap, "more than %zu bytes", cap);
		ssize_t k = recv(fd, buf + len, cap - len - 1, 0);
		cr_assert_geq(k, 0, "recv: %s", strerror(errno));
		if (k == 0) {
			cr_assert_null(until, "the connection closed before `%s`: %s", until, buf);
			break;
		}
		len += (size_t)k;
	}
	close(fd);
	char *body = strstr(buf, "\r\n\r\n");
	cr_assert_not_null(body, "no end of head in: %s", buf);
	*ret_head = strndup(buf, (size_t)(body - buf));
	char *out = strdup(body + 4);
	free(buf);
	return out;
}

/* The RecordIO bytes of every record, chunked or not. */
static char *expected(bool chunked)
{
	size_t cap = 16384, len = 0;
	char *e = malloc(cap);
	cr_assert_not_null(e);
	for (size_t i = 0; i < AG_ARRAY_SIZE(record_lens); i++) {
		char *r = record(record_lens[i]);
		char line[32];
		int ln = snprintf(line, sizeof(line), "%zu\n", record_lens[i]);
		if (chunked)
			len += (size_t)snprintf(e + len, cap - len, "%zx\r\n",
			                        (size_t)ln + record_lens[i]);
		len += (size_t)snprintf(e + len, cap - len, "%s%s%s", line, r,
		                        chunked ? "\r\n" : "");
		free(r);
	}
	if (chunked)
		len += (size_t)snprintf(e + len, cap - len, "0\r\n\r\n");
	cr_assert_lt(len, cap);
	return e;
}

Test(master_stream_frame, http11_one_chunk_per_record)
{
	start_server();
	char *head = NULL;
	char *body = exchange("POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
	                      "0\r\n\r\n", &head);
	cr_assert(strstr(head, "HTTP/1.1 200") == head, "%s", head);
	cr_assert_not_null(strcasestr(head, "Transfer-Encoding: chunked"), "%s", head);
	char *want = expected(true);
	cr_assert_str_eq(body, want);
	free(want);
	free(body);
	free(head);
	stop_server();
}

Test(master_stream_frame, http10_records_without_chunks)
{
	start_server();
	char *head = NULL;
	char *body = exchange("POST /stream HTTP/1.0\r\nHost: x\r\nContent-Length: 0\r\n\r\n", NULL,
	                      &head);
	cr_assert(strstr(head, "HTTP/1.0 200") == head || strstr(head, "HTTP/1.1 200") == head,
	          "%s", head);
	cr_assert_null(strcasestr(head, "Transfer-Encoding"), "%s", head);
	char *want = expected(false);
	cr_assert_str_eq(body, want);
	free(want);
	free(body);
	free(head);
	stop_server();
}
