/* fuzz_loop.c: see fuzz_loop.h. */
#include "fuzz_loop.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

int fz_connect(struct event_base *base, int port, const char *who)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int e = fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? errno : 0;
	for (int turn = 0; (e == EINPROGRESS || e == EINTR) && turn < 10000; turn++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		if (poll(&p, 1, 1) != 1)
			continue;
		socklen_t n = sizeof(e);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &n) < 0)
			e = errno;
	}
	if (e) {
		fprintf(stderr, "%s: connect to port %d: %s\n", who, port, strerror(e));
		abort();
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

size_t fz_read_answer(struct event_base *base, int fd, char *resp, size_t cap, int max_turns,
                      int more_turns)
{
	size_t got = 0;
	bool answered = false;
	for (int turn = 0; turn < max_turns; turn++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		/* no answer after the first turns: give the daemon time (a
		 * launch); never once it answered (a stream stays open) */
		while (poll(&p, 1, turn > 20 && !answered ? 1 : 0) == 1) {
			char buf[4096];
			ssize_t r = recv(fd, buf, sizeof(buf), 0);
			if (r <= 0)
				return got;
			answered = true;
			size_t take = got + (size_t)r < cap ? (size_t)r : cap - got;
			memcpy(resp + got, buf, take);
			got += take;
		}
		if (answered && turn >= more_turns)
			break;
	}
	return got;
}

void fz_close_reset(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(p);
	return 0;
}

void fz_remove_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
