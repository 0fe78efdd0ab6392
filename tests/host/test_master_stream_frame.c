/* Host tests of the bytes a master stream writes (master/stream.c): every
 * record is one HTTP chunk, `<hex size>\r\n<decimal length>\n<json>\r\n`,
 * with hex sizes of one to four digits; an HTTP/1.0 client, which cannot
 * take chunks, gets the RecordIO bytes alone until the connection closes.
 * In-process server on a thread, raw-socket client on loopback. */
#include "agtest.h"
#include "http_thread.h"

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

static void handle_stream(struct evhttp_request *req, void *arg)
{
	struct ms_stream *s = ms_stream_start(arg, req, NULL, NULL, NULL);
	cr_assert_not_null(s);
	for (size_t i = 0; i < AG_ARRAY_SIZE(record_lens); i++) {
		char *r = record(record_lens[i]);
		cr_assert_eq(ms_stream_send(s, r, record_lens[i]), 0);
		free(r);
	}
	ms_stream_end(s);
}

static void routes(struct ms_http *http)
{
	cr_assert_eq(ms_http_route(http, "/stream", EVHTTP_REQ_POST, handle_stream, http), 0);
}

static void start_server(void)
{
	ht_start(&(struct ms_http_options){0}, routes, NULL);
}

/* Send `request` and read what comes back until `until` appears after the
 * head, or the server closes (until NULL), 5 s at most. Returns the body. */
static char *exchange(const char *request, const char *until, char **ret_head)
{
	int fd = ht_send(request);
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

/* The head of the reply to `request` (read as exchange() does), asserting
 * that the body is every record, chunked or not. */
static char *head_of_stream(const char *request, const char *until, bool chunked)
{
	char *head = NULL;
	char *body = exchange(request, until, &head);
	char *want = expected(chunked);
	cr_assert_str_eq(body, want);
	free(want);
	free(body);
	return head;
}

Test(master_stream_frame, http11_one_chunk_per_record)
{
	start_server();
	char *head = head_of_stream("POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
	                            "0\r\n\r\n", true);
	cr_assert(strstr(head, "HTTP/1.1 200") == head, "%s", head);
	cr_assert_not_null(strcasestr(head, "Transfer-Encoding: chunked"), "%s", head);
	free(head);
	ht_stop();
}

Test(master_stream_frame, http10_records_without_chunks)
{
	start_server();
	char *head = head_of_stream("POST /stream HTTP/1.0\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
	                            NULL, false);
	cr_assert(strstr(head, "HTTP/1.0 200") == head || strstr(head, "HTTP/1.1 200") == head,
	          "%s", head);
	cr_assert_null(strcasestr(head, "Transfer-Encoding"), "%s", head);
	free(head);
	ht_stop();
}
