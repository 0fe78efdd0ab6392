/* Host tests of the head of the master's empty replies (202 and 200 to
 * POSTs: one per acknowledgement and status update), whose Date and
 * Content-Length master/http.c adds itself: each header once, the date in
 * RFC 1123 form and current, nothing else; HTTP/1.0 replies as evhttp
 * makes them (no Date). In-process server on a thread, raw socket. */
#include "agtest.h"
#include "http_thread.h"

#include <time.h>

static void handle_empty(struct evhttp_request *req, void *arg)
{
	ms_http_reply_empty(req, (int)(intptr_t)arg);
}

static void routes(struct ms_http *http)
{
	cr_assert_eq(ms_http_route(http, "/accepted", EVHTTP_REQ_POST, handle_empty,
	                           (void *)(intptr_t)202),
	             0);
	cr_assert_eq(
	        ms_http_route(http, "/ok", EVHTTP_REQ_POST, handle_empty, (void *)(intptr_t)200),
	        0);
}

static void start_server(void)
{
	ht_start(&(struct ms_http_options){0}, routes, NULL);
}

/* The reply head (up to the blank line) to `request`, 5 s at most. */
static char *head_of(const char *request)
{
	int fd = ht_send(request);
	char buf[4096];
	size_t len = 0;
	while (len + 1 < sizeof(buf)) {
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			break;
		ssize_t k = recv(fd, buf + len, sizeof(buf) - len - 1, 0);
		cr_assert_gt(k, 0, "no whole head: %s", buf);
		len += (size_t)k;
	}
	close(fd);
	*strstr(buf, "\r\n\r\n") = '\0';
	return strdup(buf);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strcasestr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void check_http11(const char *path, const char *status)
{
	_cleanup_free_ char *req =
	        ag_asprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", path);
	_cleanup_free_ char *head = head_of(req);
	cr_assert(strncmp(head, status, strlen(status)) == 0, "%s", head);
	/* Exactly these two headers, once each. */
	int lines = 0;
	for (const char *p = head; (p = strstr(p, "\r\n")) != NULL; p += 2)
		lines++;
	cr_assert_eq(lines, 2, "%s", head);
	cr_assert_eq(count(head, "\r\nContent-Length: 0"), 1, "%s", head);
	cr_assert_eq(count(head, "\r\nDate: "), 1, "%s", head);
	struct tm tm = {0};
	const char *d = strcasestr(head, "\r\nDate: ") + 8;
	const char *end = strptime(d, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	cr_assert(end && (*end == '\0' || *end == '\r'), "not RFC 1123: %s", d);
	time_t t = timegm(&tm), now = time(NULL);
	cr_assert(t >= now - 5 && t <= now + 1, "date %s, now %lld", d, (long long)now);
	/* Two digits for the day, as evhttp writes it. */
	cr_assert(d[5] >= '0' && d[5] <= '3' && d[6] >= '0' && d[6] <= '9' && d[7] == ' ', "%s", d);
}

Test(master_http_replies, empty_http11_replies_carry_one_date_and_length)
{
	start_server();
	check_http11("/accepted", "HTTP/1.1 202 ");
	check_http11("/ok", "HTTP/1.1 200 ");
	ht_stop();
}

Test(master_http_replies, http10_replies_are_evhttps)
{
	start_server();
	_cleanup_free_ char *head =
	        head_of("POST /accepted HTTP/1.0\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
	cr_assert(strncmp(head, "HTTP/1.0 202 ", 13) == 0 ||
	                  strncmp(head, "HTTP/1.1 202 ", 13) == 0,
	          "%s", head);
	cr_assert_eq(count(head, "\r\nDate: "), 0, "%s", head);
	ht_stop();
}
