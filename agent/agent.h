/* agent.h: the agora-agent daemon's state, shared by main.c, agent.c
 * (tasks, registration, status updates) and operator.c (endpoints). */
#ifndef AGORA_AGENT_AGENT_H
#define AGORA_AGENT_AGENT_H

#include "common/map.h"
#include "containerizer/capacity.h"
#include "containerizer/containerizer.h"
#include "agent/checks.h"
#include "agent/held.h"
#include "agent/master_link.h"
#include "containerizer/policy.h"
#include "containerizer/updates.h"

/* Mesos's default --executor_shutdown_grace_period, 5secs. */
#define AGENT_SHUTDOWN_GRACE_MS 5000

struct agent {
	/* flags */
	const char *work_dir, *images_dir, *hostname;
	json_t *attributes; /* mesos.v1.Attribute array (agent_flags_parse_attributes), or NULL */
	/* --executor_shutdown_grace_period: a task's grace period at
	 * SHUTDOWN_FRAMEWORK when its TaskInfo has no kill_policy */
	int64_t shutdown_grace_ms;
	bool has_shutdown_grace;   /* else AGENT_SHUTDOWN_GRACE_MS */
	int64_t task_pids_max;     /* pids.max of every task; 0: CTZ_TS_DEFAULT_PIDS_MAX */
	const char *ip;            /* operator endpoints; NULL: 127.0.0.1 */
	const char *cgroup_parent; /* NULL: CTZ_DEFAULT_CGROUP_PARENT */
	const char *monitor_path;  /* agora-monitor; NULL: next to the agent (ctz_config) */
	char *master_host;
	int port;
	int64_t update_backoff_ms, registration_backoff_ms;
	struct ctz_pol_config policy;
	struct ctz_userns_pool userns; /* root tasks' host ids; count 0: none */
	struct fetch_config fetch;     /* tasks' URIs (cache_dir: the containerizer's default) */
	struct ctz_capacity cap;
	/* state */
	char *agent_id; /* NULL until the first REGISTERED */
	/* the registration last sent (REREGISTER, with how many tasks), for
	 * the line logged when it is answered */
	bool reregistering;
	size_t reregister_tasks;
	struct event_base *base;
	struct ctz *ctz;
	struct ctz_updates *upd;
	struct agent_checks *checks; /* health checks and checks (checks.h) */
	struct agent_ml_link *link;
	struct event *ctz_upd_timer;
	struct ctz_upd_post *posts; /* status updates sent, not answered yet */
	struct evhttp *http;
	/* A full (or failing) work directory: status updates the queue could
	 * not take, retried every second by agent_held_timer; the last write that
	 * failed (a task or an update), for GET /health. Cleared by the next
	 * one that succeeds. */
	struct held held;
	struct event *agent_held_timer;
	char *disk_error;
	/* Custom executors (executor.c): "framework_id/executor_id" -> struct
	 * agent_exec; their timeouts in ms (0: Mesos's defaults). */
	struct ag_map executors;
	int64_t exec_registration_timeout_ms, exec_reregistration_timeout_ms, recovery_timeout_ms;
};

/* Open the database, the containerizer and the link (not started). */
AG_WARN_UNUSED int agent_init(struct agent *a, int64_t sandbox_gc_s, struct ag_error *err);
/* Re-attach containers, report what ended meanwhile, fail tasks recorded
 * but never launched. */
AG_WARN_UNUSED int agent_recover(struct agent *a, struct ag_error *err);
/* Send the status updates due and re-arm the timer. */
void agent_updates_kick(struct agent *a);
/* Event callback for the containerizer's fd (ctz_fd), `arg` the agent:
 * its work done, then the updates it produced sent. */
void agent_on_ctz(evutil_socket_t fd, short what, void *arg);
void agent_fini(struct agent *a);

/* agent.c: queue a status update of a task for the master (a TaskStatus
 * built from these; NULL fields are left out), as the containerizer's
 * reports are. */
void agent_task_update(struct agent *a, const char *fw, const char *task_id, const char *state,
                       const char *reason, const char *message);
/* Launch a container for task `id` of framework `fi` (role `role`): its
 * `command` or `container.oci`, after the policy checked `task_json` (a
 * TaskInfo), with the limits and more environment ("K=V", NULL-terminated,
 * may be NULL). 0 once launched (the containerizer reports its states);
 * -errno with `err` naming the field when refused. */
AG_WARN_UNUSED int agent_launch(struct agent *a, const struct pb_framework_info *fi,
                                const char *role, const char *id, const json_t *task_json,
                                const struct pb_command_info *c,
                                const struct pb_container_info *container,
                                const struct ctz_ts_limits *lim, const char *const *extra_env,
                                struct ag_error *err);
/* The agent's AgentInfo (hostname, port, resources, attributes, id once
 * registered); a new reference. */
json_t *agent_info_json(struct agent *a);
/* Send the updates due at the end of this loop turn. */
void agent_updates_soon(struct agent *a);

/* operator.c: GET /health, /containers, /files/read on ip:port (port 0:
 * one the kernel picks, written back to a->port). */
AG_WARN_UNUSED int agent_operator_start(struct agent *a, struct ag_error *err);

#endif
