/* master_client.h: a tiny blocking HTTP/1.1 client for the master's tests,
 * on raw sockets, so that the tests see the bytes on the wire (chunk
 * boundaries, exact headers) and can misbehave on purpose. */
#ifndef AGORA_TEST_MASTER_CLIENT_H
#define AGORA_TEST_MASTER_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct mc_conn {
	int fd;
	size_t len; /* bytes buffered in buf */
	char buf[1 << 16];
};

struct mc_response {
	int status;
	char head[8192]; /* status line and headers, NUL-terminated */
	char *body;      /* malloc'ed, NUL-terminated */
	size_t body_len;
	bool chunked;
};

/* The IPv4 address mc_connect and mc_request dial (default 127.0.0.1), e.g.
 * a netlab host's 198.18.0.1 in the cluster tier. 0 or -EINVAL. */
int mc_set_addr(const char *ipv4);
/* The port a master started with --port=0 announces on its stdout (its
 * first line, "listening on 127.0.0.1:PORT ..."), read from `fd` for at most
 * `timeout_ms`. 0, or -1 when no such line came. */
int mc_master_port(int fd, int timeout_ms, uint16_t *ret_port);
/* Starts agora-master: `argv` (argv[0] the program, NULL-terminated) with
 * its stdout on a pipe and its stderr on `err_fd` (inherited when -1); the
 * master is SIGKILLed when its parent dies. Then waits up to `timeout_ms`
 * for the port it announces (mc_master_port()). *ret_pid is set once it
 * was forked. 0, -errno when the pipe or fork failed, or -1 when no port
 * came. */
int mc_spawn_master(const char *const argv[], int err_fd, int timeout_ms, pid_t *ret_pid,
                    uint16_t *ret_port);
/* Connect to the address above, port `port`; reads time out after 5 s.
 * NULL on failure. */
struct mc_conn *mc_connect(uint16_t port);
void mc_close(struct mc_conn *c);
/* Send all bytes; no SIGPIPE. 0 or -errno. */
int mc_send(struct mc_conn *c, const void *buf, size_t len);
/* Read a response head and its body (Content-Length, chunked to the last
 * chunk, or to EOF). 0 or -errno / -EPROTO. */
int mc_read_response(struct mc_conn *c, struct mc_response *r);
/* Read only the head (for streams). */
int mc_read_head(struct mc_conn *c, struct mc_response *r);
/* Read the body of the response whose head mc_read_head() read into `r`,
 * as mc_read_response() does. */
int mc_read_body(struct mc_conn *c, struct mc_response *r);
/* Read one chunk of a chunked body: *ret is malloc'ed (NUL-terminated),
 * *ret_len 0 for the last chunk. 0 or -errno. */
int mc_read_chunk(struct mc_conn *c, char **ret, size_t *ret_len);
void mc_response_free(struct mc_response *r);
/* A header's value (case-insensitive name), copied into a static buffer;
 * NULL when absent. */
const char *mc_header(const struct mc_response *r, const char *name);

/* Send a request on `c`: the request line, Host, the extra header lines
 * `headers` (each ending in \r\n; may be NULL), Content-Length and `body`
 * (may be NULL). 0 or -errno (-ENAMETOOLONG when the head does not fit
 * 4 KiB). */
int mc_send_request(struct mc_conn *c, const char *method, const char *path, const char *headers,
                    const char *body);
/* POST `body` as application/json to `path` on `c` (with `headers`, as
 * above), and read the response's head into `r` (the body, or a stream,
 * is left to read). 0 or -errno / -EPROTO. */
int mc_post_json(struct mc_conn *c, const char *path, const char *headers, const char *body,
                 struct mc_response *r);

/* One request on a new connection with `Connection: close`. `headers` is
 * extra header lines, each ending in \r\n (may be NULL). */
int mc_request(uint16_t port, const char *method, const char *path, const char *headers,
               const char *body, struct mc_response *r);

#endif
