/* executor.h: custom executors on the agent (docs/executor-api.md).
 *
 * A task whose TaskInfo has an `executor` runs in that executor: the agent
 * launches the executor's container (its command under agora-init, with
 * Mesos's MESOS_* environment) with the first such task, and serves the
 * Mesos v1 executor HTTP API at POST /api/v1/executor on its HTTP port:
 * SUBSCRIBE (a RecordIO stream of events), UPDATE, MESSAGE. The tasks are
 * the executor's business; the agent keeps their records and their status
 * updates (durable, retried until the scheduler acknowledges, then
 * ACKNOWLEDGED to the executor), and sizes the executor's container for
 * the executor and its running tasks.
 *
 * Executors are kept in the agent's database (meta key "executors"), so a
 * restarted agent knows them: a checkpointed executor subscribes again
 * within --executor_reregistration_timeout, or it is shut down and its
 * tasks end TASK_LOST (REASON_EXECUTOR_REREGISTRATION_TIMEOUT). */
#ifndef AGORA_AGENT_EXECUTOR_H
#define AGORA_AGENT_EXECUTOR_H

#include "agent/agent.h"

#include <event2/http.h>

/* Mesos's defaults. */
#define AGENT_EXEC_REGISTRATION_TIMEOUT_MS   60000
#define AGENT_EXEC_REREGISTRATION_TIMEOUT_MS 15000
#define AGENT_EXEC_RECOVERY_TIMEOUT_MS       (15 * 60000)
/* MESOS_SUBSCRIPTION_BACKOFF_MAX: how long an executor waits at most
 * between two attempts to subscribe. */
#define AGENT_EXEC_SUBSCRIPTION_BACKOFF_MAX "2secs"

/* The executor of a RUN_TASK's task (t->executor_id set; the task is
 * recorded): launched with it when new, then LAUNCH (now when it is
 * subscribed, at its SUBSCRIBE otherwise). Refusals end the task
 * TASK_ERROR naming the field. */
void agent_exec_run_task(struct agent *a, const struct pb_framework_info *fi,
                         const struct pb_task_info *t);
/* A state of a container the containerizer reports: true when it is an
 * executor's (handled here: its end ends the executor's tasks). */
bool agent_exec_on_container(struct agent *a, const struct ctz_update *u);
/* KILL_TASK of a task: true when it is an executor's (KILL to it, with
 * the KILL_TASK's grace period when it had one: grace_ns >= 0). */
bool agent_exec_kill_task(struct agent *a, const char *fw, const char *task_id, int64_t grace_ns);
/* The executor of a task (NULL: none), looked up before an acknowledgement
 * that may forget the task. */
struct agent_exec *agent_exec_owner(struct agent *a, const char *fw, const char *task_id);
/* The master acknowledged an update of a task of executor `e` (may be
 * NULL): ACKNOWLEDGED to it. */
void agent_exec_acknowledged(struct agent_exec *e, const char *task_id, const uint8_t *uuid,
                             size_t len);
/* FRAMEWORK_MESSAGE, SHUTDOWN_EXECUTOR, SHUTDOWN_FRAMEWORK from the master. */
void agent_exec_framework_message(struct agent *a, const struct pb_agent_msg *m);
void agent_exec_shutdown(struct agent *a, const char *fw, const char *executor_id);
void agent_exec_shutdown_framework(struct agent *a, const char *fw);
/* Whether a task (its TaskInfo JSON text) runs in an executor. */
bool agent_exec_task_json_has_executor(const char *task_json);
/* Before ctz_recover(): the executors kept in the database. */
AG_WARN_UNUSED int agent_exec_load(struct agent *a, struct ag_error *err);
/* After ctz_recover(): those whose container runs wait for their
 * SUBSCRIBE; the others end their tasks. */
void agent_exec_recover(struct agent *a);
/* POST /api/v1/executor. */
void agent_exec_http(struct agent *a, struct evhttp_request *req);
void agent_exec_fini(struct agent *a);

#endif
