/* registry.h: the master's durable state, in SQLite at
 * <work_dir>/registry.db.
 *
 * What is kept is what a restarted master must know before anyone talks to
 * it again: the agents it admitted (so it knows whom to expect, which were
 * marked gone, and the secret each was issued), the framework ids it
 * handed out with their failover_timeout (so a re-subscribing framework is
 * recognised), the ids of removed frameworks (tombstones: ids and times
 * only, pruned past a bound by ms_registry_frameworks_prune_removed), the
 * role weights, and a small meta table (the master's id). Tasks are not
 * here: agents report them when they re-register.
 *
 * Size. The database frees pages incrementally (auto_vacuum=INCREMENTAL;
 * a database of schema 1 or 2 is rebuilt once with VACUUM on open), the
 * WAL is truncated to 4 MiB after checkpoints, so the files shrink back
 * after deletions.
 *
 * Durability. The database runs in WAL mode with synchronous=FULL by
 * default: a mutation has reached the disk when its call (or
 * ms_registry_commit) returns, so neither SIGKILL nor a power loss loses it.
 * MS_REGISTRY_SYNC_NORMAL skips the fsync at each commit: a commit is still
 * in the WAL in the kernel's page cache when the call returns, so a killed
 * process (SIGKILL, crash, OOM kill) loses nothing, but a power loss or
 * kernel crash may lose the last commits (never corrupting the database).
 *
 * Every mutation outside ms_registry_begin/commit is its own transaction.
 * Between begin and commit, mutations are batched into one transaction and
 * one fsync; the master uses this to group the writes of one event-loop
 * turn. Nothing in a batch is durable until commit returns 0.
 *
 * Only one process may open a work_dir: a lock file refuses a second
 * master with -EBUSY. The database and its -wal and -shm files are mode
 * 0600: they hold the agents' secrets.
 *
 * Errors are -errno with a message in `err` that carries SQLite's own.
 */
#ifndef AGORA_MASTER_REGISTRY_H
#define AGORA_MASTER_REGISTRY_H

#include "common/common.h"

struct ms_registry;

#define MS_REGISTRY_SCHEMA_VERSION 3
#define MS_REGISTRY_FILE           "registry.db"

enum ms_registry_sync {
	MS_REGISTRY_SYNC_FULL,   /* fsync at each commit: survives power loss */
	MS_REGISTRY_SYNC_NORMAL, /* survives the process dying, not the machine */
};

/* Open (creating when absent) <work_dir>/registry.db, and migrate its
 * schema to MS_REGISTRY_SCHEMA_VERSION. A database of a newer schema is
 * refused with -EPROTO. `work_dir` must exist. On success *ret is owned by
 * the caller, freed with ms_registry_close(). *ret_created (may be NULL) says
 * whether the database was new. */
AG_WARN_UNUSED int ms_registry_open(const char *work_dir, enum ms_registry_sync sync,
                                    struct ms_registry **ret, bool *ret_created,
                                    struct ag_error *err);

struct _zhandle;
struct ACL_vector;
/* The registry kept in ZooKeeper under `root` (agora-master --zk; see
 * registry_zk.h for the layout) through the connected handle `zh`, read
 * whole before this returns; the same calls as above then read and write
 * it there, with the same contract (a write has reached ZooKeeper's
 * quorum when its call or ms_registry_commit returns 0). Every write
 * checks that `fence` (the leader's own ephemeral znode) still exists, in
 * the same atomic multi-op: a master whose session has gone cannot write.
 * New znodes get `acl`. `zh` must outlive the registry. *ret is freed
 * with ms_registry_close() (which leaves `zh` open). */
AG_WARN_UNUSED int ms_registry_open_zk(struct _zhandle *zh, const char *root, const char *fence,
                                       const struct ACL_vector *acl, struct ms_registry **ret,
                                       struct ag_error *err);

/* Close; an open batch is rolled back. NULL is allowed. */
void ms_registry_close(struct ms_registry *reg);

/* The schema version stored in the database (PRAGMA user_version). */
AG_WARN_UNUSED int ms_registry_schema_version(struct ms_registry *reg);

/* Batches. begin fails with -EALREADY when a batch is open. commit makes
 * every mutation since begin durable at once; on failure the batch is
 * rolled back and nothing of it is kept. rollback drops the batch. */
AG_WARN_UNUSED int ms_registry_begin(struct ms_registry *reg, struct ag_error *err);
AG_WARN_UNUSED int ms_registry_commit(struct ms_registry *reg, struct ag_error *err);
void ms_registry_rollback(struct ms_registry *reg);
bool ms_registry_in_batch(const struct ms_registry *reg);

/* ---- meta: small string values ------------------------------------- */

/* Get a value; -ENOENT when unset. *ret_value is malloc'ed; the caller
 * frees it. */
AG_WARN_UNUSED int ms_registry_meta_get(struct ms_registry *reg, const char *key, char **ret_value,
                                        struct ag_error *err);
AG_WARN_UNUSED int ms_registry_meta_set(struct ms_registry *reg, const char *key, const char *value,
                                        struct ag_error *err);

/* ---- agents --------------------------------------------------------- */

struct ms_registry_agent {
	const char *id;
	const char *hostname;
	const char *info_json;    /* the AgentInfo as the master encodes it */
	int64_t registered_at_ns; /* wall clock, ns since the epoch */
	bool gone;                /* marked gone by an operator: never re-admitted */
	/* The secret the master issued it (hex text); NULL: none yet (an
	 * agent admitted by a master older than secrets). */
	const char *secret;
};

/* Insert or replace the agent with this id. */
AG_WARN_UNUSED int ms_registry_agent_put(struct ms_registry *reg,
                                         const struct ms_registry_agent *agent,
                                         struct ag_error *err);
/* Mark an agent gone (kept, so that it is refused if it comes back).
 * -ENOENT when unknown. */
AG_WARN_UNUSED int ms_registry_agent_mark_gone(struct ms_registry *reg, const char *id,
                                               struct ag_error *err);
/* Forget an agent. -ENOENT when unknown. */
AG_WARN_UNUSED int ms_registry_agent_remove(struct ms_registry *reg, const char *id,
                                            struct ag_error *err);

/* Called for each row; the strings are valid during the call only. A
 * non-zero return stops the walk and is returned by the foreach. */
typedef int (*ms_registry_agent_cb)(const struct ms_registry_agent *agent, void *arg);
AG_WARN_UNUSED int ms_registry_agents_foreach(struct ms_registry *reg, ms_registry_agent_cb cb,
                                              void *arg, struct ag_error *err);

/* ---- frameworks ----------------------------------------------------- */

struct ms_registry_framework {
	const char *id;
	const char *info_json; /* the FrameworkInfo, failover_timeout included */
	double failover_timeout_s;
	int64_t registered_at_ns;
	bool removed; /* torn down or failed over: its id may not come back */
};

AG_WARN_UNUSED int ms_registry_framework_put(struct ms_registry *reg,
                                             const struct ms_registry_framework *fw,
                                             struct ag_error *err);
/* Record `id` as removed (a tombstone), registered before or not: the row
 * keeps the id, its registration and removal times and an empty
 * FrameworkInfo. Removing a removed framework again changes nothing. */
AG_WARN_UNUSED int ms_registry_framework_mark_removed(struct ms_registry *reg, const char *id,
                                                      struct ag_error *err);
/* How many tombstones the registry holds. */
uint64_t ms_registry_removed_frameworks(const struct ms_registry *reg);

/* Called with the id of each tombstone pruned (valid during the call). */
typedef void (*ms_registry_pruned_cb)(const char *id, void *arg);
/* Keep the newest `keep` tombstones (by removal time) and delete the
 * older ones, calling `pruned` (may be NULL) for each; then give the
 * space back to the file system when much of it is free. A pruned id may
 * be used again. */
AG_WARN_UNUSED int ms_registry_frameworks_prune_removed(struct ms_registry *reg, uint64_t keep,
                                                        ms_registry_pruned_cb pruned, void *arg,
                                                        struct ag_error *err);
AG_WARN_UNUSED int ms_registry_framework_remove(struct ms_registry *reg, const char *id,
                                                struct ag_error *err);

typedef int (*ms_registry_framework_cb)(const struct ms_registry_framework *fw, void *arg);
AG_WARN_UNUSED int ms_registry_frameworks_foreach(struct ms_registry *reg,
                                                  ms_registry_framework_cb cb, void *arg,
                                                  struct ag_error *err);

/* ---- weights -------------------------------------------------------- */

AG_WARN_UNUSED int ms_registry_weight_set(struct ms_registry *reg, const char *role, double weight,
                                          struct ag_error *err);
/* -ENOENT when the role has no weight. */
AG_WARN_UNUSED int ms_registry_weight_remove(struct ms_registry *reg, const char *role,
                                             struct ag_error *err);

typedef int (*ms_registry_weight_cb)(const char *role, double weight, void *arg);
AG_WARN_UNUSED int ms_registry_weights_foreach(struct ms_registry *reg, ms_registry_weight_cb cb,
                                               void *arg, struct ag_error *err);

#endif
