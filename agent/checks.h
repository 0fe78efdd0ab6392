/* checks.h: the agent's health checks and checks (docs/checks.md), run on
 * the agent's one libevent loop.
 *
 * HTTP and TCP checks are non-blocking connects to the task's address
 * (CTZ_CHECK_TARGET_IPV4) driven by the loop's timers: no thread and no
 * process per task. A COMMAND check forks per run: `exec` starts it in the
 * task's container and gives back a pidfd, watched by the loop; at its
 * timeout its process group is SIGKILLed, and that run fails.
 *
 * Health checks follow Mesos's HealthChecker: the first run after
 * delay_seconds, then every interval_seconds (from the end of a run);
 * a failure within grace_period_seconds of the start is ignored until the
 * first success; healthy=true is reported at the first success and at the
 * first success after failures, healthy=false at the first failure and
 * when consecutive_failures are reached, that one with `kill`. Checks
 * (CheckInfo) report their result (exit code, HTTP status, TCP success;
 * an empty result for a run that timed out or could not be made) when it
 * differs from the last one reported. */
#ifndef AGORA_AGENT_CHECKS_H
#define AGORA_AGENT_CHECKS_H

#include "common/common.h"

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

struct agent_checks;

/* What a task's checks say now: the whole picture, for a TASK_RUNNING
 * update with reason `health_changed` ? REASON_TASK_HEALTH_CHECK_STATUS_
 * UPDATED : REASON_TASK_CHECK_STATUS_UPDATED. Borrowed, valid during the
 * callback. */
struct agent_check_report {
	const char *framework_id, *task_id;
	bool health_changed; /* else the check's status changed */
	bool has_healthy, healthy;
	bool kill;                  /* consecutive_failures reached: kill the task */
	const json_t *check_status; /* CheckStatusInfo, or NULL without a check */
	const char *why;            /* the last failure, or NULL */
};

struct agent_checks_ops {
	/* Start argv (with env added) in the task's container with stdio on
	 * `stdio_fd`; the process's pidfd and pid on success (ctz_exec). */
	int (*exec)(void *ctx, const char *framework_id, const char *task_id, char *const *argv,
	            char *const *env, int stdio_fd, int *ret_pidfd, pid_t *ret_pid,
	            struct ag_error *err);
	void (*report)(void *ctx, const struct agent_check_report *r);
};

/* The checks on `base`; free with agent_checks_free (NULL is fine), which
 * kills the COMMAND checks still running. */
struct agent_checks *agent_checks_new(struct event_base *base, const struct agent_checks_ops *ops,
                                      void *ctx);
void agent_checks_free(struct agent_checks *ch);

/* Where a task's checks resume from (after an agent restart): its last
 * TaskStatus's `healthy` and `check_status`, so that what was reported is
 * not reported again and a task known healthy is past its grace period. */
struct agent_checks_resume {
	bool has_healthy, healthy;
	const json_t *check_status; /* borrowed; NULL: none */
};

/* Start the checks of a running task from its TaskInfo (its health_check
 * and check; none: nothing to do, 0). Starting a task's checks again
 * replaces them. `resume` may be NULL. -EINVAL (the field named) for a
 * TaskInfo the policy should have refused. */
AG_WARN_UNUSED int agent_checks_start(struct agent_checks *ch, const char *framework_id,
                                      const char *task_id, const json_t *task_info,
                                      const struct agent_checks_resume *resume,
                                      struct ag_error *err);

/* Stop a task's checks (it ended): a COMMAND check running is killed. */
void agent_checks_stop(struct agent_checks *ch, const char *framework_id, const char *task_id);

/* Tasks with checks, and check runs made so far (all tasks together). */
size_t agent_checks_tasks(const struct agent_checks *ch);
uint64_t agent_checks_runs(const struct agent_checks *ch);

#endif
