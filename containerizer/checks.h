/* checks.h: a task's health check (TaskInfo.health_check, Mesos's
 * HealthCheck) and general check (TaskInfo.check, Mesos's CheckInfo) as
 * the agent runs them (docs/checks.md). Parsing and validation only: the
 * agent's loop runs them (agent/checks.c).
 *
 * Each field is checked here, for the policy (a bad one refuses the task
 * with TASK_ERROR naming it) and for the runner alike. */
#ifndef AGORA_CONTAINERIZER_CHECKS_H
#define AGORA_CONTAINERIZER_CHECKS_H

#include "common/common.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Where HTTP and TCP checks connect: the task's address. Tasks share the
 * host's network today (task networking would give each its own
 * namespace and address), so it is the loopback. */
#define CTZ_CHECK_TARGET_IPV4 "127.0.0.1"

enum ctz_check_type {
	CTZ_CHECK_COMMAND = 1,
	CTZ_CHECK_HTTP,
	CTZ_CHECK_TCP,
};

/* "COMMAND", "HTTP", "TCP" (the proto's names). */
const char *ctz_check_type_name(enum ctz_check_type t);

struct ctz_check_spec {
	bool health; /* a HealthCheck; else a CheckInfo */
	enum ctz_check_type type;
	int64_t delay_ms, interval_ms, timeout_ms;
	int64_t grace_ms;              /* health only */
	uint32_t consecutive_failures; /* health only */
	char **argv;                   /* COMMAND: NULL-terminated */
	char **env;                    /* COMMAND: "K=V", NULL-terminated, may be NULL */
	uint16_t port;                 /* HTTP, TCP */
	char *path;                    /* HTTP: the request's path, "/" by default */
};

/* Parse and check `j`, a TaskInfo's `health_check` (health) or `check`
 * (!health), with Mesos's defaults (delay 15 s, interval 10 s, timeout
 * 20 s; for health checks 3 consecutive failures and a grace period of
 * 10 s). `field` names it in errors ("task.health_check"): each bad value
 * is refused with -EINVAL naming its path and why, what agora does not do
 * (https, HTTP statuses of one's own, IPv6, a check's own user or URIs)
 * with -EINVAL saying so. *ret (may be NULL: check only) is filled on
 * success; free it with ctz_check_spec_free. */
AG_WARN_UNUSED int ctz_check_parse(const json_t *j, bool health, const char *field,
                                   struct ctz_check_spec *ret, struct ag_error *err);

/* Frees what a spec holds (not the struct); a zeroed spec is fine. */
void ctz_check_spec_free(struct ctz_check_spec *s);

#endif
