/* updates.h: the agent's durable state and its reliable status updates.
 *
 * One SQLite database (<work_dir>/agent.db, WAL, synchronous=FULL) holds
 *   meta     the agent id and other small facts;
 *   tasks    every task the agent accepted and not yet forgotten, keyed by
 *            (framework id, task id) since two frameworks may use the same
 *            task id: its
 *            framework, TaskInfo and FrameworkInfo (normalized JSON, what
 *            REREGISTER sends), latest state and latest TaskStatus;
 *   updates  per-task FIFO queues of status updates, each with a 16-byte
 *            uuid, written (and fsync'ed) before anything is sent;
 *   set_aside the updates the master refused for good, with its answer
 *            (created when missing; not part of the versioned schema).
 *
 * The schema's version is PRAGMA user_version (1); a database of version 0
 * (tasks keyed by task id alone) is migrated in one transaction when
 * opened; a newer one is refused.
 *
 * Only the head of each task's queue is outstanding. It is re-sent with
 * exponential backoff (base doubling to max) until a STATUS_UPDATE_ACK with
 * its uuid arrives; then it is popped and the next one becomes due at once.
 * A task whose terminal update was acknowledged is forgotten.
 *
 * Duplicates: the containerizer reports at least once, so an update with
 * the same state as the task's latest one is dropped, unless it carries a
 * `healthy` or a `check_status` that the latest one does not (a health
 * check's TASK_RUNNING after TASK_RUNNING). Acks for unknown
 * uuids are ignored.
 *
 * Time is passed in (ns, any monotonic origin) so the retry logic can be
 * tested with a fake clock. Nothing here logs or touches the network. */
#ifndef AGORA_AGENT_UPDATES_H
#define AGORA_AGENT_UPDATES_H

#include "common/common.h"
#include "proto/proto.h"

#include <stdbool.h>
#include <stdint.h>

struct ctz_updates;

struct ctz_upd_config {
	const char *db_path;     /* required */
	int64_t backoff_base_ms; /* 0: 10 s */
	int64_t backoff_max_ms;  /* 0: 10 min */
};

/* Open (creating) the database and load the tasks and queue heads; every
 * head is due at once. Free with ctz_upd_close (NULL is fine). */
AG_WARN_UNUSED int ctz_upd_open(const struct ctz_upd_config *cfg, struct ctz_updates **ret,
                                struct ag_error *err);
void ctz_upd_close(struct ctz_updates *u);

/* Small durable facts (the agent id). *ret is malloc'd, NULL when absent. */
AG_WARN_UNUSED int ctz_upd_meta_get(struct ctz_updates *u, const char *key, char **ret);
AG_WARN_UNUSED int ctz_upd_meta_set(struct ctz_updates *u, const char *key, const char *value);
/* Remove a fact (absent: fine). */
AG_WARN_UNUSED int ctz_upd_meta_del(struct ctz_updates *u, const char *key);

#define CTZ_UPD_SCHEMA_VERSION 1

/* Record a task before it is launched. -EEXIST when (framework, task) is
 * known. The JSON texts are copied. */
AG_WARN_UNUSED int ctz_upd_task_add(struct ctz_updates *u, const char *framework_id,
                                    const char *task_id, const char *framework_json,
                                    const char *task_json);
bool ctz_upd_task_known(const struct ctz_updates *u, const char *framework_id, const char *task_id);
/* The framework of the only known task with this id: NULL when there is
 * none or several. For containerizer records older than the key. Valid
 * until the task is forgotten. */
const char *ctz_upd_task_framework(const struct ctz_updates *u, const char *task_id);
enum pb_task_state ctz_upd_task_state(const struct ctz_updates *u, const char *framework_id,
                                      const char *task_id);

/* Queue a status update. `status` is a TaskStatus JSON object without a
 * uuid (borrowed; a uuid is added to a copy). Returns 1 when queued (and
 * durable), 0 when dropped as a duplicate, -EALREADY when dropped because
 * the task already has a terminal state (another one), -ENOENT for an
 * unknown task, or -errno. *ret_uuid (may be NULL) gets the new uuid. */
AG_WARN_UNUSED int ctz_upd_enqueue(struct ctz_updates *u, const char *framework_id,
                                   const char *task_id, enum pb_task_state state,
                                   const json_t *status, uint64_t now_ns,
                                   uint8_t ret_uuid[PB_UUID_LEN]);

/* Queue an executor's status update (POST /api/v1/executor UPDATE), with
 * the executor's own `uuid` (the scheduler acknowledges it, and the
 * executor hears ACKNOWLEDGED with it). Unlike ctz_upd_enqueue(), a state
 * repeated with a new uuid is queued (executors send TASK_RUNNING with
 * new data, health...); the same uuid again (queued, or the latest) is a
 * duplicate: 0 while it is queued, 2 when it was acknowledged already
 * (the task's latest update). Otherwise as ctz_upd_enqueue(). */
AG_WARN_UNUSED int ctz_upd_enqueue_executor(struct ctz_updates *u, const char *framework_id,
                                            const char *task_id, enum pb_task_state state,
                                            const json_t *status, const uint8_t uuid[PB_UUID_LEN],
                                            uint64_t now_ns);

/* An acknowledgement: 1 when it popped the task's head, 0 when ignored. */
AG_WARN_UNUSED int ctz_upd_ack(struct ctz_updates *u, const char *framework_id, const char *task_id,
                               const uint8_t *uuid, size_t len, uint64_t now_ns);

/* Called for each head due; `status_json` is the whole TaskStatus text. */
typedef void (*ctz_upd_send_fn)(void *ctx, const char *framework_id, const char *task_id,
                                const char *status_json);
/* Send every head due at `now_ns`, and schedule its next try. Returns how
 * many were sent. */
AG_WARN_UNUSED int ctz_upd_poll(struct ctz_updates *u, uint64_t now_ns, ctz_upd_send_fn fn,
                                void *ctx);
/* The earliest next try (ns), or UINT64_MAX when nothing is queued. */
uint64_t ctz_upd_next_due(const struct ctz_updates *u);
/* Make every head due now with the base backoff (after re-registering). */
void ctz_upd_rearm(struct ctz_updates *u, uint64_t now_ns);
/* Updates queued, all tasks together. */
size_t ctz_upd_pending(const struct ctz_updates *u);

/* The master refused the head of a task's queue for good (a 400 naming
 * what is wrong with it): it is moved with `answer` (the master's text)
 * and `at` (epoch seconds) to the table set_aside, in one transaction,
 * for an operator to see; the task's next update is due at once, and a
 * terminal update set aside last forgets the task as its acknowledgement
 * would. 1 when moved, 0 when `uuid` is not the head (acknowledged or set
 * aside already), -EIO. */
AG_WARN_UNUSED int ctz_upd_set_aside(struct ctz_updates *u, const char *framework_id,
                                     const char *task_id, const uint8_t *uuid, size_t len,
                                     const char *answer, double at, uint64_t now_ns);

/* Each update set aside, oldest first. Strings valid during the call. */
struct ctz_upd_aside_view {
	const char *framework_id, *task_id;
	const char *status_json; /* the TaskStatus as it was sent */
	const char *answer;      /* the master's answer */
	double at;               /* when it was set aside, epoch seconds */
};
typedef void (*ctz_upd_aside_fn)(void *ctx, const struct ctz_upd_aside_view *v);
AG_WARN_UNUSED int ctz_upd_set_aside_foreach(struct ctz_updates *u, ctz_upd_aside_fn fn, void *ctx);

/* Each task known, for REREGISTER and the operator endpoints. */
struct ctz_upd_task_view {
	const char *task_id;
	const char *framework_id;
	const char *framework_json;
	const char *task_json;
	const char *status_json; /* latest TaskStatus; NULL before the first */
	enum pb_task_state state;
	bool unacknowledged; /* updates are queued */
};
typedef void (*ctz_upd_task_fn)(void *ctx, const struct ctz_upd_task_view *t);
void ctz_upd_task_foreach(const struct ctz_updates *u, ctz_upd_task_fn fn, void *ctx);

#endif
