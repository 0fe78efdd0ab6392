/* containerizer.h: tasks as containers, supervised so that the agent can be
 * SIGKILLed at any moment (docs/agent-supervision.md).
 *
 * Layout under the work directory:
 *   run/<cid>/        one per container: task.json, config.json, state,
 *                     monitor, exit (written by agora-monitor)
 *   sandboxes/<cid>/  the task's sandbox: stdout, stderr, its files
 *   runtime/          the runtime library's state root
 *   hostview/         the root of command tasks (host dirs bound read-only)
 *
 * The containerizer is loop-agnostic: ctz_fd() is one epoll fd that is
 * readable whenever ctz_dispatch() has work (a monitor exited, a grace
 * period or a sandbox's retention ran out). It never blocks except while a
 * launch creates its container. Task state changes are reported through a
 * callback, in order, at least once: a terminal state is recorded as
 * reported right after the callback returns, so only an agent killed in
 * between reports it again on restart.
 */
#ifndef AGORA_AGENT_CONTAINERIZER_H
#define AGORA_AGENT_CONTAINERIZER_H

#include "proto/proto.h"
#include "containerizer/taskspec.h"
#include "containerizer/userns.h"
#include "common/common.h"
#include "fetcher/fetcher.h"

#include <stdbool.h>
#include <stdint.h>

/* Where tasks' cgroups go, relative to the cgroup2 root, unless
 * ctz_config.cgroup_parent says otherwise. The agent's capacity check
 * (ctz_capacity_measure) probes this same parent for its controllers. */
#define CTZ_DEFAULT_CGROUP_PARENT "agora/tasks"

/* An OCI-like task runs under agora-init as its pid 1 (signals forwarded,
 * orphans reaped, the task's status kept) unless its spec's annotations
 * set this to "false"; a command task always does. */
#define CTZ_INIT_ANNOTATION "org.agora.init"

struct ctz;

struct ctz_update {
	const char *framework_id; /* "" for a record older than the (framework, task) key */
	const char *task_id;
	const char *container_id;
	enum pb_task_state state;
	enum pb_task_reason reason; /* PB_REASON_UNSET when there is none */
	const char *message;        /* may be NULL */
	bool has_exit_status;
	int exit_status; /* exit code, or 128 + signal */
};

typedef void (*ctz_on_task_state)(void *ctx, const struct ctz_update *u);

struct ctz_config {
	const char *work_dir;      /* required, absolute */
	const char *monitor_path;  /* agora-monitor; default: next to /proc/self/exe */
	const char *init_path;     /* agora-init; default: next to the monitor */
	const char *images_dir;    /* OCI-like specs' rootfs; default <work>/images */
	bool cgroups_disabled;     /* no limits at all (hosts without cgroup v2) */
	const char *cgroup_root;   /* cgroup2 mount; default: found */
	const char *cgroup_parent; /* tasks' cgroups go under it; default CTZ_DEFAULT_... */
	int64_t sandbox_keep_ms;   /* after the end; 0: a week */
	/* Host ids for root tasks (userns.h); count 0: none. */
	struct ctz_userns_pool userns;
	/* Tasks' URIs (fetcher.h); its strings must outlive the
	 * containerizer. cache_dir NULL: <work>/fetcher-cache. */
	struct fetch_config fetch;
	ctz_on_task_state on_task_state;
	void *cb_ctx;
};

/* A task to launch. Exactly one of `command` and `oci_spec_json`. Tasks
 * are keyed by (framework_id, task_id): two frameworks may use the same
 * task id. */
struct ctz_task {
	const char *framework_id; /* up to 512 bytes; NULL: "" */
	const char *task_id;      /* any text up to 512 bytes */
	const struct ctz_ts_command *command;
	const char *oci_spec_json;
	struct ctz_ts_limits limits;
	/* Run in a user namespace of its own mapped to a range of the pool
	 * (its uid 0 is no host root): the command's uid and gid are then
	 * the ones inside, and the sandbox belongs to the range's root. */
	bool userns_root;
	/* Fetched into the sandbox before the container starts (copied:
	 * the caller's may go once ctz_launch returned). */
	const struct fetch_uri *uris;
	size_t n_uris;
};

/* Open the containerizer: creates the work directory layout. Does not look
 * at existing tasks (ctz_recover does). Free with ctz_close(). */
AG_WARN_UNUSED int ctz_open(const struct ctz_config *cfg, struct ctz **ret, struct ag_error *err);

/* Close: forgets the tasks but leaves them running (the agent's exit is
 * not the tasks' end). NULL is fine. */
void ctz_close(struct ctz *c);

/* What ctz_recover found, for the agent's log. */
struct ctz_recovery {
	size_t running;    /* re-attached, still running (or being killed) */
	size_t ended;      /* ended while the agent was away: their status reported */
	size_t unlaunched; /* launches cut short: TASK_FAILED, never relaunched */
	size_t lost;       /* the monitor gone without an exit status: TASK_LOST */
};

/* Scan run/ after a restart: containers still running are re-attached
 * (TASK_RUNNING reported again only if it never was), containers that
 * ended meanwhile get their recorded status reported, launches cut short
 * are failed, never relaunched. Call once, after ctz_open. *ret_counts
 * (may be NULL) gets how many of each there were. */
AG_WARN_UNUSED int ctz_recover(struct ctz *c, struct ctz_recovery *ret_counts,
                               struct ag_error *err);

/* Launch: the task's record is written (state "launching") before anything
 * else, TASK_STARTING reported, the container created under its monitor
 * and started, TASK_RUNNING reported. On failure after the record exists,
 * TASK_FAILED (REASON_CONTAINER_LAUNCH_FAILED) is reported with the reason
 * and 0 is returned; a bad task (invalid spec, duplicate id) is refused
 * with -errno before any record. *ret_cid (may be NULL) gets the container
 * id (malloc'd).
 *
 * A task with URIs returns once its record is written and its fetch
 * started in a child process (fetcher.h); ctz_dispatch goes on when the
 * fetch ends: TASK_STARTING then (as Mesos's executor sends it after the
 * fetch), or TASK_FAILED (REASON_CONTAINER_LAUNCH_FAILED) "Failed to fetch
 * URIs: `URI`: why". A kill meanwhile ends the fetch: TASK_KILLED
 * (REASON_TASK_KILLED_DURING_LAUNCH). An agent killed meanwhile finds the
 * record "launching" and fails the task, never relaunched. */
AG_WARN_UNUSED int ctz_launch(struct ctz *c, const struct ctz_task *t, char **ret_cid,
                              struct ag_error *err);

/* Give the records of `task_id` that have no framework (written before
 * tasks were keyed by framework) the framework `framework_id`, durably.
 * Returns how many were updated. */
AG_WARN_UNUSED int ctz_adopt_framework(struct ctz *c, const char *task_id,
                                       const char *framework_id);

/* Kill with a grace period: SIGTERM to the task's init now, and
 * cgroup.kill (SIGKILL) when `grace_ms` ran out; TASK_KILLING is reported,
 * then TASK_KILLED when it is gone. Durable: an agent restarted meanwhile
 * finishes the kill. -ENOENT for an unknown or ended task. When the kill's
 * deadline cannot be recorded (it would not survive a restart), the task
 * is SIGKILLed at once, without grace, and the write's -errno returned. */
AG_WARN_UNUSED int ctz_kill(struct ctz *c, const char *framework_id, const char *task_id,
                            int64_t grace_ms);

/* Change the cpu and memory limits of a running task's container (its
 * cgroup's cpu.max, cpu.weight, memory.max): an executor's container
 * follows its tasks. 0 without cgroups (nothing is limited); -ENOENT for
 * an unknown or ended task. Not recorded: the caller recomputes them
 * after a restart. */
AG_WARN_UNUSED int ctz_set_limits(struct ctz *c, const char *framework_id, const char *task_id,
                                  const struct ctz_ts_limits *lim, struct ag_error *err);

/* The fd to poll for readability, and the work it signals. */
AG_WARN_UNUSED int ctz_fd(const struct ctz *c);
AG_WARN_UNUSED int ctz_dispatch(struct ctz *c);

/* Tasks not yet ended. */
size_t ctz_active(const struct ctz *c);

/* Remove the sandboxes and records of tasks that ended more than `keep_ms`
 * ago (-1: the configured time). Returns how many were removed. */
AG_WARN_UNUSED int ctz_gc(struct ctz *c, int64_t keep_ms);

/* Host paths of a task's sandbox and of its monitor's pid (for operators
 * and tests); NULL when unknown. A NULL framework_id stands for "". */
const char *ctz_sandbox_of(const struct ctz *c, const char *framework_id, const char *task_id);
pid_t ctz_monitor_pid(const struct ctz *c, const char *framework_id, const char *task_id);

/* One container as the operator endpoints show it. Borrowed strings,
 * valid during the callback. */
struct ctz_info {
	const char *framework_id, *task_id, *container_id, *sandbox;
	const char *phase; /* "fetching", "launching", "starting", "running", "killing", "ended" */
	bool ended;
	enum pb_task_state final; /* when ended */
	pid_t monitor_pid;
};
typedef void (*ctz_info_fn)(void *ctx, const struct ctz_info *i);
/* Every container known (running, or ended and not yet collected). */
void ctz_foreach(const struct ctz *c, ctz_info_fn fn, void *ctx);

/* A task's cgroup usage as JSON text (malloc'd, for the caller to free):
 * what rt_container_stats_json gives (cpu usage, memory current and peak,
 * pids, OOM kills) while it runs; once it ended, the figures read just
 * before its cgroup was removed (so a peak and an OOM kill stay visible).
 * -ENOENT for an unknown task or an ended one without figures,
 * -EOPNOTSUPP without cgroups. */
AG_WARN_UNUSED int ctz_usage_json(const struct ctz *c, const char *framework_id,
                                  const char *task_id, char **ret_json, struct ag_error *err);

/* Run `argv` (NULL-terminated; `/bin/sh -c CMD` for a shell command) in
 * the running task's container as its process runs there: its
 * namespaces, cgroup, root, user, seccomp filter and capabilities; its
 * environment plus `env` ("K=V", may be NULL). stdin, stdout and stderr
 * are `stdio_fd` (> 2, e.g. /dev/null). Returns once the process runs,
 * with its pidfd (close-on-exec) in *ret_pidfd and its pid in *ret_pid:
 * it is the caller's child, to reap through the pidfd; it leads a process
 * group of its own. -ENOENT for an unknown task, -ESRCH for one that is
 * not running. */
AG_WARN_UNUSED int ctz_exec(struct ctz *c, const char *framework_id, const char *task_id,
                            char *const *argv, char *const *env, int stdio_fd, int *ret_pidfd,
                            pid_t *ret_pid, struct ag_error *err);

#endif
