/* netlab-tcp: the cluster tier's TCP probe, run inside lab hosts.
 *
 *   netlab-tcp serve ADDR PORT [TIMEOUT_S]
 *       listen on ADDR:PORT (IPv4 only, bound to that address alone), accept
 *       one connection, read until the peer shuts down its side, write what
 *       was read to stdout, send it back, exit 0.
 *   netlab-tcp send ADDR PORT MESSAGE [TIMEOUT_S]
 *       connect to ADDR:PORT, retrying while refused (the server may not be
 *       listening yet), send MESSAGE, shut down the sending side, print the
 *       reply to stdout, exit 0 when the reply equals MESSAGE.
 *
 * Every wait is bounded by TIMEOUT_S (default 10), so a broken lab fails the
 * test quickly instead of hanging the tier. Exit status: 0 success, 1 failure
 * (reason on stderr), 2 usage. busybox nc would do most of this, but it
 * cannot bind to one address and has no overall deadline.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"

#define MSG_MAX (64 * 1024)

static void usage(void)
{
	fprintf(stderr, "usage: netlab-tcp serve ADDR PORT [TIMEOUT_S]\n"
	                "       netlab-tcp send ADDR PORT MESSAGE [TIMEOUT_S]\n");
	exit(2);
}

static int fail(const char *what)
{
	fprintf(stderr, "netlab-tcp: %s: %s\n", what, strerror(errno));
	return 1;
}

/* Milliseconds left until `deadline` (ag_now_ns time), at least 0. */
static int ms_left(uint64_t deadline)
{
	uint64_t now = ag_now_ns();

	return now >= deadline ? 0 : (int)((deadline - now) / 1000000 + 1);
}

/* Wait for `events` on fd until the deadline: 0 when ready, -ETIMEDOUT or
 * -errno otherwise. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int left = ms_left(deadline);
		int r;

		if (left == 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

static int parse_addr(const char *addr, const char *port, struct sockaddr_in *ret)
{
	uint64_t p;

	memset(ret, 0, sizeof(*ret));
	ret->sin_family = AF_INET;
	if (inet_pton(AF_INET, addr, &ret->sin_addr) != 1) {
		fprintf(stderr, "netlab-tcp: not an IPv4 address: %s\n", addr);
		return -EINVAL;
	}
	if (ag_parse_u64(port, &p) < 0 || p == 0 || p > 65535) {
		fprintf(stderr, "netlab-tcp: not a port: %s\n", port);
		return -EINVAL;
	}
	ret->sin_port = htons((uint16_t)p);
	return 0;
}

/* Read from the non-blocking fd until EOF into buf (at most MSG_MAX bytes);
 * returns the length or -errno. */
static ssize_t read_all(int fd, char *buf, uint64_t deadline)
{
	size_t len = 0;

	for (;;) {
		ssize_t n;
		int r = wait_fd(fd, POLLIN, deadline);

		if (r < 0)
			return r;
		n = read(fd, buf + len, MSG_MAX - len);
		if (n == 0)
			return (ssize_t)len;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		len += (size_t)n;
		if (len == MSG_MAX)
			return -EMSGSIZE;
	}
}

/* Write all of buf to the non-blocking fd; 0 or -errno. */
static int write_all(int fd, const char *buf, size_t len, uint64_t deadline)
{
	while (len > 0) {
		ssize_t n;
		int r = wait_fd(fd, POLLOUT, deadline);

		if (r < 0)
			return r;
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read what `fd` sends until EOF into buf (MSG_MAX bytes) and copy it to
 * stdout; its length, or -1 after fail() named `what` (the reading). */
static ssize_t read_to_stdout(int fd, char *buf, uint64_t deadline, const char *what)
{
	ssize_t len = read_all(fd, buf, deadline);
	if (len < 0) {
		errno = (int)-len;
		fail(what);
		return -1;
	}
	if (ag_write_all(STDOUT_FILENO, buf, (size_t)len) < 0) {
		fail("writing to stdout");
		return -1;
	}
	return len;
}

static int serve(const struct sockaddr_in *sa, uint64_t deadline)
{
	_cleanup_close_ int lfd = -1;
	_cleanup_close_ int cfd = -1;
	_cleanup_free_ char *buf = ag_malloc(MSG_MAX);
	ssize_t len;
	int one = 1, r;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lfd < 0)
		return fail("socket");
	if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return fail("setsockopt SO_REUSEADDR");
	if (bind(lfd, (const struct sockaddr *)sa, sizeof(*sa)) < 0)
		return fail("bind");
	if (listen(lfd, 1) < 0)
		return fail("listen");
	for (;;) {
		r = wait_fd(lfd, POLLIN, deadline);
		if (r < 0) {
			errno = -r;
			return fail("waiting for a connection");
		}
		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (cfd >= 0)
			break;
		if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
			return fail("accept");
	}
	len = read_to_stdout(cfd, buf, deadline, "reading the message");
	if (len < 0)
		return 1;
	r = write_all(cfd, buf, (size_t)len, deadline);
	if (r < 0) {
		errno = -r;
		return fail("sending the reply");
	}
	return 0;
}

/* Connect, retrying while the server is not there yet; the fd or -errno. */
static int connect_retry(const struct sockaddr_in *sa, uint64_t deadline)
{
	for (;;) {
		_cleanup_close_ int fd = -1;
		int err = 0, r;
		socklen_t elen = sizeof(err);

		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
			return TAKE_FD(fd);
		if (errno != EINPROGRESS)
			err = errno;
		if (!err) {
			r = wait_fd(fd, POLLOUT, deadline);
			if (r < 0)
				return r;
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
				return -errno;
			if (!err)
				return TAKE_FD(fd);
		}
		/* Refused: nobody listens yet. Unreachable: the neighbour
		 * entry is not resolved yet. Both can pass; others cannot. */
		if (err != ECONNREFUSED && err != EHOSTUNREACH && err != ENETUNREACH)
			return -err;
		if (ms_left(deadline) <= 50)
			return -err;
		nanosleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
	}
}

static int send_msg(const struct sockaddr_in *sa, const char *msg, uint64_t deadline)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = ag_malloc(MSG_MAX);
	size_t mlen = strlen(msg);
	ssize_t len;
	int r;

	fd = connect_retry(sa, deadline);
	if (fd < 0) {
		errno = -fd;
		return fail("connect");
	}
	r = write_all(fd, msg, mlen, deadline);
	if (r < 0) {
		errno = -r;
		return fail("sending the message");
	}
	if (shutdown(fd, SHUT_WR) < 0)
		return fail("shutdown");
	len = read_to_stdout(fd, buf, deadline, "reading the reply");
	if (len < 0)
		return 1;
	if ((size_t)len != mlen || memcmp(buf, msg, mlen) != 0) {
		fprintf(stderr, "netlab-tcp: the reply differs from the message\n");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	uint64_t timeout = 10;
	int serving;

	if (argc < 4)
		usage();
	serving = strcmp(argv[1], "serve") == 0;
	if (!serving && strcmp(argv[1], "send") != 0)
		usage();
	if (argc > (serving ? 5 : 6) || argc < (serving ? 4 : 5))
		usage();
	if (argc == (serving ? 5 : 6) &&
	    (ag_parse_u64(argv[argc - 1], &timeout) < 0 || timeout == 0 || timeout > 3600)) {
		fprintf(stderr, "netlab-tcp: not a timeout in seconds (1..3600): %s\n",
		        argv[argc - 1]);
		return 2;
	}
	if (parse_addr(argv[2], argv[3], &sa) < 0)
		return 2;
	uint64_t deadline = ag_now_ns() + timeout * 1000000000ull;

	return serving ? serve(&sa, deadline) : send_msg(&sa, argv[4], deadline);
}
