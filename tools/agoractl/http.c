/* http.c: agoractl's blocking HTTP/1.1 client (one request per
 * connection), and the operator call wrapper with its error messages. */
#include "tools/agoractl/agoractl.h"

#include "proto/proto.h"

#include <netdb.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>

void http_reply_free(struct http_reply *r)
{
	free(r->content_type);
	free(r->body);
	*r = (struct http_reply){0};
}

int ctl_parse_address(const char *s, char **ret_host, int *ret_port)
{
	if (strncmp(s, "http://", 7) == 0)
		s += 7;
	const char *colon = strrchr(s, ':');
	size_t hl = colon ? (size_t)(colon - s) : strcspn(s, "/");
	int64_t port = 5050;
	if (colon) {
		_cleanup_free_ char *p = strndup(colon + 1, strcspn(colon + 1, "/"));
		if (ag_parse_i64(p, &port) < 0 || port <= 0 || port > 65535)
			return -EINVAL;
	}
	if (hl == 0)
		return -EINVAL;
	*ret_host = strndup(s, hl);
	*ret_port = (int)port;
	return 0;
}

static int dial(const char *host, int port, int timeout_s)
{
	char ps[16];
	snprintf(ps, sizeof(ps), "%d", port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
	if (getaddrinfo(host, ps, &hints, &ai) != 0)
		return -EHOSTUNREACH;
	int r = -ECONNREFUSED;
	for (struct addrinfo *a = ai; a; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		struct timeval tv = {timeout_s, 0};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
			r = fd;
			break;
		}
		r = -errno;
		close(fd);
	}
	freeaddrinfo(ai);
	return r;
}

/* Undo chunked transfer coding in place; the new length. */
static size_t dechunk(char *b, size_t len)
{
	size_t in = 0, out = 0;
	while (in < len) {
		char *e;
		unsigned long n = strtoul(b + in, &e, 16);
		char *nl = memchr(b + in, '\n', len - in);
		if (!nl || e == b + in || n == 0)
			break;
		in = (size_t)(nl - b) + 1;
		if (n > len - in)
			n = len - in;
		memmove(b + out, b + in, n);
		out += n;
		in += n + 2;
	}
	b[out] = '\0';
	return out;
}

int http_request(const char *host, int port, const char *method, const char *path, const char *body,
                 int timeout_s, struct http_reply *ret)
{
	*ret = (struct http_reply){0};
	_cleanup_close_ int fd = dial(host, port, timeout_s);
	if (fd < 0)
		return fd;
	size_t blen = body ? strlen(body) : 0;
	_cleanup_free_ char *head = ag_asprintf(
	        "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\nAccept: application/json\r\n"
	        "%sContent-Length: %zu\r\n\r\n",
	        method, path, host, port, body ? "Content-Type: application/json\r\n" : "", blen);
	if (ag_write_all(fd, head, strlen(head)) < 0 || (body && ag_write_all(fd, body, blen) < 0))
		return -errno ? -errno : -EIO;
	size_t cap = 65536, len = 0;
	char *buf = ag_malloc(cap);
	for (;;) {
		if (len + 1 >= cap)
			buf = ag_realloc(buf, cap *= 2);
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;
			free(buf);
			return e == -EAGAIN ? -ETIMEDOUT : e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	char *eoh = strstr(buf, "\r\n\r\n");
	if (!eoh || sscanf(buf, "HTTP/1.%*d %d", &ret->status) != 1) {
		free(buf);
		return -EPROTO;
	}
	*eoh = '\0';
	bool chunked = false;
	for (char *l = strstr(buf, "\r\n"); l && l < eoh; l = strstr(l + 2, "\r\n")) {
		char *h = l + 2;
		if (strncasecmp(h, "Content-Type:", 13) == 0)
			ret->content_type = strndup(h + 13 + strspn(h + 13, " "),
			                            strcspn(h + 13 + strspn(h + 13, " "), "\r"));
		if (strncasecmp(h, "Transfer-Encoding:", 18) == 0 && strcasestr(h, "chunked"))
			chunked = true;
	}
	size_t off = (size_t)(eoh + 4 - buf);
	ret->len = len - off;
	memmove(buf, buf + off, ret->len + 1);
	if (chunked)
		ret->len = dechunk(buf, ret->len);
	ret->body = buf;
	return 0;
}

void ctl_die_unreachable(const struct ctl *c, int err)
{
	char why[128];
	snprintf(why, sizeof(why), "%s", strerror(-err));
	if (why[0] >= 'A' && why[0] <= 'Z' && why[1] >= 'a')
		why[0] = (char)(why[0] - 'A' + 'a');
	fprintf(stderr,
	        "agoractl: cannot reach the master at %s:%d (%s); is it running? start one with "
	        "scripts/cluster-up, or set --master/AGORA_MASTER\n",
	        c->host, c->port, why);
}

int ctl_operator(struct ctl *c, const char *type, json_t *payload, json_t **ret)
{
	json_t *call = json_pack("{s:s}", "type", type);
	if (payload) {
		_cleanup_free_ char *key = ag_strdup(type);
		for (char *p = key; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
		json_object_set_new(call, key, payload);
	}
	_cleanup_free_ char *body = pb_json_dump(call, NULL);
	json_decref(call);
	struct http_reply r;
	int e = http_request(c->host, c->port, "POST", "/api/v1", body, 10, &r);
	if (e < 0) {
		ctl_die_unreachable(c, e);
		return CTL_UNREACHABLE;
	}
	if (r.status != 200 && r.status != 202) {
		fprintf(stderr, "agoractl: the master refused %s (HTTP %d): %s\n", type, r.status,
		        r.len ? r.body : "(no message)");
		http_reply_free(&r);
		return CTL_ERR;
	}
	if (ret) {
		*ret = NULL;
		if (r.len) {
			json_error_t je;
			json_t *j = json_loads(r.body, 0, &je);
			if (!j) {
				fprintf(stderr, "agoractl: a reply to %s that is not JSON: %s\n",
				        type, je.text);
				http_reply_free(&r);
				return CTL_ERR;
			}
			*ret = j;
		}
	}
	http_reply_free(&r);
	return CTL_OK;
}
