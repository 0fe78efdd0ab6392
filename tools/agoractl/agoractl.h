/* agoractl.h: what the files of agoractl share (not a library: the tool's
 * own internals). */
#ifndef AGORA_TOOLS_AGORACTL_H
#define AGORA_TOOLS_AGORACTL_H

#include "common/common.h"

#include <jansson.h>
#include <stdbool.h>

/* Exit codes scripts can trust (also in --help). */
enum {
	CTL_OK = 0,
	CTL_ERR = 1,         /* the cluster refused, or what was named does not exist */
	CTL_USAGE = 2,       /* bad command line */
	CTL_UNREACHABLE = 3, /* cannot reach the master (or an agent) */
};

struct ctl {
	char *host; /* the master */
	int port;
	const char *master; /* as given, for messages */
	/* --master HOST:PORT,HOST:PORT,...: the ones to try in turn. */
	char **masters;
	int nmasters;
	bool json, quiet, no_trunc, all, follow, rfc3339;
	long tail;          /* -1: all */
	int64_t grace_ns;   /* kill --grace; -1: unset */
	int64_t timeout_ns; /* drain --timeout; -1: unset */
	bool mark_gone;     /* drain --mark-gone */
};

struct ctl_http_reply {
	int status;
	char *content_type; /* NULL when absent */
	char *location;     /* NULL when absent */
	char *body;         /* NUL-terminated */
	size_t len;
};
void ctl_http_reply_free(struct ctl_http_reply *r);

/* One request to host:port with Connection: close, through libevent's
 * evhttp (http.c); the body is JSON when given, a chunked reply comes
 * back whole. 0, or -errno when the host cannot be reached or did not
 * answer (the reply is then empty): -ECONNREFUSED, -EHOSTUNREACH (the
 * name does not resolve), -ETIMEDOUT (connect, send or reply slower than
 * `timeout_s`), -ECONNRESET, -EPROTO (not HTTP). */
AG_WARN_UNUSED int ctl_http_request(const char *host, int port, const char *method,
                                    const char *path, const char *body, int timeout_s,
                                    struct ctl_http_reply *ret);

/* Parse "host:port" / "http://host:port" (default port 5050). */
AG_WARN_UNUSED int ctl_parse_address(const char *s, char **ret_host, int *ret_port);

/* Find the master named by c->master: HOST:PORT; several, separated by
 * ',' (the first, then the next when one cannot be reached, and a 307's
 * Location followed: ctl_master_request()); or zk://HOST:PORT,.../PATH (the
 * leader ZooKeeper names, looked up once, for at most 10 s). Sets c->host
 * and c->port. CTL_OK, or an exit code with the reason printed. */
AG_WARN_UNUSED int ctl_resolve_master(struct ctl *c);
void ctl_masters_free(struct ctl *c);

/* ctl_http_request() to the master, following a standby's 307 (3 times)
 * and, with several masters, trying the next when one cannot be reached;
 * c->host and c->port end on the master that answered. */
AG_WARN_UNUSED int ctl_master_request(struct ctl *c, const char *method, const char *path,
                                      const char *body, int timeout_s, struct ctl_http_reply *ret);

/* POST an operator call to the master. On success *ret (may be NULL for
 * calls answered with an empty body) gets the reply's JSON. Errors are
 * printed (with what to do) and returned as an exit code. */
AG_WARN_UNUSED int ctl_operator(struct ctl *c, const char *type, json_t *payload, json_t **ret);

/* Printing. */
void ctl_die_unreachable(const struct ctl *c, int err);
char *ctl_short_id(const struct ctl *c, const char *id); /* caller frees */
char *ctl_time(const struct ctl *c, double epoch_s);     /* caller frees */
/* Tables: rows of `ncol` strings; the header first. Frees the cells. */
struct ctl_table {
	size_t ncol, nrow, cap;
	char **cells;
};
void ctl_table_init(struct ctl_table *t, size_t ncol, ...);
void ctl_table_add(struct ctl_table *t, ...); /* ncol strings, copied; NULL prints "-" */
/* Print the table (when `print`) and free it. */
void ctl_table_done(struct ctl_table *t, bool print);
void ctl_print_json(const json_t *j);

const char *ctl_id(const json_t *obj, const char *key); /* obj.key.value */
double ctl_scalar(const json_t *resources, const char *name);

/* run: one task through the SDK (run.c). */
AG_WARN_UNUSED int ctl_run(struct ctl *c, int argc, char **argv);
/* Output of a task from its agent's files endpoint into `out`; `offset`
 * in/out. 0 or an exit code (printed). */
AG_WARN_UNUSED int ctl_task_output(struct ctl *c, const json_t *task, const char *file,
                                   long *offset, FILE *out);
/* The task named `id` (full or unique prefix) in GET_TASKS; NULL and an
 * exit code in *rc when none (printed). New reference. */
AG_WARN_UNUSED json_t *ctl_find_task(struct ctl *c, const char *id, int *rc);

#endif
