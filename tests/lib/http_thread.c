/* http_thread.c: see http_thread.h. */
#include "http_thread.h"

#include "agtest.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

static struct event_base *base;
static struct ms_http *server;
static pthread_t thread;
static atomic_int stop;
static struct event *tick_ev;
static void (*tick_fn)(struct ms_http *http);

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (atomic_load(&stop))
		event_base_loopbreak(base);
	if (tick_fn)
		tick_fn(server);
}

static void *serve(void *arg)
{
	(void)arg;
	event_base_dispatch(base);
	ms_http_free(server);
	event_free(tick_ev);
	event_base_free(base);
	server = NULL;
	return NULL;
}

struct ms_http *ht_start(const struct ms_http_options *o, void (*routes)(struct ms_http *http),
                         void (*tick)(struct ms_http *http))
{
	atomic_store(&stop, 0);
	tick_fn = tick;
	base = event_base_new();
	cr_assert_not_null(base);
	struct ms_http_options opts = *o;
	if (!opts.ip)
		opts.ip = "127.0.0.1";
	struct ag_error err = {0};
	cr_assert_eq(ms_http_new(base, &opts, &server, &err), 0, "%s", err.msg);
	routes(server);
	tick_ev = event_new(base, -1, EV_PERSIST, on_tick, NULL);
	cr_assert_not_null(tick_ev);
	struct timeval tv = {0, 1000};
	event_add(tick_ev, &tv);
	cr_assert_eq(pthread_create(&thread, NULL, serve, NULL), 0);
	return server;
}

void ht_stop(void)
{
	atomic_store(&stop, 1);
	pthread_join(thread, NULL);
}

int ht_send(const char *request)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(ms_http_port(server))};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	struct timeval tv = {5, 0};
	cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	size_t n = strlen(request);
	cr_assert_eq(send(fd, request, n, MSG_NOSIGNAL), (ssize_t)n);
	return fd;
}
