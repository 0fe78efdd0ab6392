/* master_client.c: see master_client.h. */
#include "master_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static struct in_addr mc_addr = {.s_addr = 0};
static char mc_host[INET_ADDRSTRLEN] = "127.0.0.1";

int mc_set_addr(const char *ipv4)
{
	struct in_addr a;
	if (inet_pton(AF_INET, ipv4, &a) != 1)
		return -EINVAL;
	mc_addr = a;
	inet_ntop(AF_INET, &a, mc_host, sizeof(mc_host));
	return 0;
}

struct mc_conn *mc_connect(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	sa.sin_addr.s_addr = mc_addr.s_addr ? mc_addr.s_addr : htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return NULL;
	}
	struct mc_conn *c = calloc(1, sizeof(*c));
	c->fd = fd;
	return c;
}

void mc_close(struct mc_conn *c)
{
	if (c) {
		close(c->fd);
		free(c);
	}
}

int mc_send(struct mc_conn *c, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read more into the buffer: >0 bytes, 0 at EOF, -errno. */
static int mc_fill(struct mc_conn *c)
{
	if (c->len == sizeof(c->buf))
		return -ENOBUFS;
	for (;;) {
		ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		c->len += (size_t)n;
		return (int)n;
	}
}

static void mc_consume(struct mc_conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* Wait until `needle` is buffered; returns its offset or -errno. */
static long mc_until(struct mc_conn *c, const char *needle)
{
	for (;;) {
		char *p = memmem(c->buf, c->len, needle, strlen(needle));
		if (p)
			return p - c->buf;
		int r = mc_fill(c);
		if (r == 0)
			return -EPIPE;
		if (r < 0)
			return r;
	}
}

static int mc_read_exact(struct mc_conn *c, char *dst, size_t n)
{
	while (c->len < n && c->len < sizeof(c->buf)) {
		int r = mc_fill(c);
		if (r == 0)
			return -EPIPE;
		if (r < 0)
			return r;
	}
	size_t take = n < c->len ? n : c->len;
	memcpy(dst, c->buf, take);
	mc_consume(c, take);
	if (take < n)
		return mc_read_exact(c, dst + take, n - take);
	return 0;
}

const char *mc_header(const struct mc_response *r, const char *name)
{
	static char value[1024];
	size_t n = strlen(name);
	for (const char *line = strstr(r->head, "\r\n"); line && line[2];
	     line = strstr(line + 2, "\r\n")) {
		const char *l = line + 2;
		if (strncasecmp(l, name, n) == 0 && l[n] == ':') {
			const char *v = l + n + 1;
			while (*v == ' ')
				v++;
			size_t len = strcspn(v, "\r");
			if (len >= sizeof(value))
				len = sizeof(value) - 1;
			memcpy(value, v, len);
			value[len] = '\0';
			return value;
		}
	}
	return NULL;
}

int mc_read_head(struct mc_conn *c, struct mc_response *r)
{
	memset(r, 0, sizeof(*r));
	long end = mc_until(c, "\r\n\r\n");
	if (end < 0)
		return (int)end;
	size_t n = (size_t)end + 2; /* keep the last header's CRLF */
	if (n >= sizeof(r->head))
		return -EPROTO;
	memcpy(r->head, c->buf, n);
	r->head[n] = '\0';
	mc_consume(c, (size_t)end + 4);
	if (sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1)
		return -EPROTO;
	const char *te = mc_header(r, "Transfer-Encoding");
	r->chunked = te && strcasecmp(te, "chunked") == 0;
	return 0;
}

int mc_read_chunk(struct mc_conn *c, char **ret, size_t *ret_len)
{
	long end = mc_until(c, "\r\n");
	if (end < 0)
		return (int)end;
	char *e;
	unsigned long size = strtoul(c->buf, &e, 16);
	if (e == c->buf)
		return -EPROTO;
	mc_consume(c, (size_t)end + 2);
	char *data = malloc(size + 1);
	int r = mc_read_exact(c, data, size);
	char crlf[2];
	if (r == 0)
		r = mc_read_exact(c, crlf, 2);
	if (r < 0) {
		free(data);
		return r;
	}
	data[size] = '\0';
	*ret = data;
	*ret_len = size;
	return 0;
}

int mc_read_response(struct mc_conn *c, struct mc_response *r)
{
	int err = mc_read_head(c, r);
	if (err < 0)
		return err;
	return mc_read_body(c, r);
}

int mc_read_body(struct mc_conn *c, struct mc_response *r)
{
	int err;
	const char *cl = mc_header(r, "Content-Length");
	if (r->chunked) {
		size_t cap = 1, len = 0;
		r->body = calloc(1, 1);
		for (;;) {
			char *chunk;
			size_t n;
			err = mc_read_chunk(c, &chunk, &n);
			if (err < 0)
				return err;
			if (n == 0) {
				free(chunk);
				break;
			}
			cap = len + n + 1;
			r->body = realloc(r->body, cap);
			memcpy(r->body + len, chunk, n);
			len += n;
			r->body[len] = '\0';
			free(chunk);
		}
		r->body_len = len;
	} else if (cl) {
		size_t n = strtoul(cl, NULL, 10);
		r->body = malloc(n + 1);
		err = mc_read_exact(c, r->body, n);
		if (err < 0)
			return err;
		r->body[n] = '\0';
		r->body_len = n;
	} else {
		/* To EOF. */
		while ((err = mc_fill(c)) > 0)
			;
		r->body = malloc(c->len + 1);
		memcpy(r->body, c->buf, c->len);
		r->body[c->len] = '\0';
		r->body_len = c->len;
		c->len = 0;
	}
	return 0;
}

void mc_response_free(struct mc_response *r)
{
	free(r->body);
	r->body = NULL;
}

int mc_send_request(struct mc_conn *c, const char *method, const char *path, const char *headers,
                    const char *body)
{
	char head[4096];
	int n = snprintf(head, sizeof(head),
	                 "%s %s HTTP/1.1\r\nHost: %s\r\n%sContent-Length: %zu\r\n\r\n", method,
	                 path, mc_host, headers ? headers : "", body ? strlen(body) : 0);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -ENAMETOOLONG;
	int err = mc_send(c, head, (size_t)n);
	if (err == 0 && body)
		err = mc_send(c, body, strlen(body));
	return err;
}

int mc_post_json(struct mc_conn *c, const char *path, const char *headers, const char *body,
                 struct mc_response *r)
{
	char all[2048];
	int n = snprintf(all, sizeof(all), "Content-Type: application/json\r\n%s",
	                 headers ? headers : "");
	if (n < 0 || (size_t)n >= sizeof(all))
		return -ENAMETOOLONG;
	int err = mc_send_request(c, "POST", path, all, body);
	return err ? err : mc_read_head(c, r);
}

int mc_request(uint16_t port, const char *method, const char *path, const char *headers,
               const char *body, struct mc_response *r)
{
	struct mc_conn *c = mc_connect(port);
	if (!c)
		return -ECONNREFUSED;
	char all[2048];
	int n = snprintf(all, sizeof(all), "Connection: close\r\n%s", headers ? headers : "");
	int err = n < 0 || (size_t)n >= sizeof(all) ? -ENAMETOOLONG
	                                            : mc_send_request(c, method, path, all, body);
	if (err == 0)
		err = mc_read_response(c, r);
	mc_close(c);
	return err;
}

int mc_master_port(int fd, int timeout_ms, uint16_t *ret_port)
{
	char line[256];
	size_t len = 0;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	while (len < sizeof(line) - 1 && poll(&pfd, 1, timeout_ms) == 1) {
		if (read(fd, line + len, 1) <= 0 || line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	unsigned p;
	if (sscanf(line, "listening on 127.0.0.1:%u", &p) != 1 || p == 0 || p > 65535)
		return -1;
	*ret_port = (uint16_t)p;
	return 0;
}

int mc_spawn_master(const char *const argv[], int err_fd, int timeout_ms, pid_t *ret_pid,
                    uint16_t *ret_port)
{
	int out[2];
	if (pipe2(out, O_CLOEXEC) != 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(out[0]);
		close(out[1]);
		return e;
	}
	if (pid == 0) {
		/* A test or benchmark that crashes must not leave its master
		 * behind. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() == 1)
			_exit(127);
		dup2(out[1], 1);
		if (err_fd >= 0)
			dup2(err_fd, 2);
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	close(out[1]);
	*ret_pid = pid;
	int r = mc_master_port(out[0], timeout_ms, ret_port);
	close(out[0]);
	return r;
}
