/* registry.c: see registry.h. */
#include "master/registry.h"
#include "master/registry_zk.h"

#include <fcntl.h>
#include <time.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <sqlite3.h>

enum stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_META_GET,
	ST_META_SET,
	ST_AGENT_PUT,
	ST_AGENT_GONE,
	ST_AGENT_DEL,
	ST_AGENT_LIST,
	ST_FW_PUT,
	ST_FW_REMOVED,
	ST_FW_DEL,
	ST_FW_LIST,
	ST_FW_REMOVED_COUNT,
	ST_FW_PRUNE,
	ST_FREELIST,
	ST_VACUUM,
	ST_WEIGHT_SET,
	ST_WEIGHT_DEL,
	ST_WEIGHT_LIST,
	ST__COUNT,
};

static const char *const stmt_sql[ST__COUNT] = {
        /* IMMEDIATE takes the write lock at once: a batch never fails half way
         * through for want of it. */
        [ST_BEGIN] = "BEGIN IMMEDIATE",
        [ST_COMMIT] = "COMMIT",
        [ST_ROLLBACK] = "ROLLBACK",
        [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
        [ST_META_SET] = "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [ST_AGENT_PUT] = "INSERT INTO agents (id, hostname, info, registered_at, gone, secret) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE SET "
                         "hostname = excluded.hostname, info = excluded.info, "
                         "registered_at = excluded.registered_at, gone = excluded.gone, "
                         "secret = excluded.secret",
        [ST_AGENT_GONE] = "UPDATE agents SET gone = 1 WHERE id = ?1",
        [ST_AGENT_DEL] = "DELETE FROM agents WHERE id = ?1",
        [ST_AGENT_LIST] = "SELECT id, hostname, info, registered_at, gone, secret FROM agents "
                          "ORDER BY rowid",
        [ST_FW_PUT] = "INSERT INTO frameworks (id, info, failover_timeout, registered_at, removed) "
                      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO UPDATE SET "
                      "info = excluded.info, failover_timeout = excluded.failover_timeout, "
                      "registered_at = excluded.registered_at, removed = excluded.removed",
        /* A tombstone even for a framework never recorded (known only
         * from an agent's report): its id must not come back either. It
         * keeps the id and the times, not the FrameworkInfo. A second
         * removal changes nothing (and no row: see ms_registry_framework_mark_removed). */
        [ST_FW_REMOVED] = "INSERT INTO frameworks (id, info, registered_at, removed, removed_at) "
                          "VALUES (?1, '{}', 0, 1, ?2) ON CONFLICT (id) DO UPDATE SET "
                          "removed = 1, info = '{}', removed_at = excluded.removed_at "
                          "WHERE frameworks.removed = 0",
        [ST_FW_DEL] = "DELETE FROM frameworks WHERE id = ?1",
        [ST_FW_LIST] = "SELECT id, info, failover_timeout, registered_at, removed FROM frameworks "
                       "ORDER BY rowid",
        [ST_FW_REMOVED_COUNT] = "SELECT count(*) FROM frameworks WHERE removed = 1",
        /* The oldest tombstones, through the index on (removed, removed_at). */
        [ST_FW_PRUNE] = "DELETE FROM frameworks WHERE rowid IN (SELECT rowid FROM frameworks "
                        "WHERE removed = 1 ORDER BY removed_at, rowid LIMIT ?1) RETURNING id",
        [ST_FREELIST] = "PRAGMA freelist_count",
        [ST_VACUUM] = "PRAGMA incremental_vacuum",
        [ST_WEIGHT_SET] = "INSERT INTO weights (role, weight) VALUES (?1, ?2) "
                          "ON CONFLICT (role) DO UPDATE SET weight = excluded.weight",
        [ST_WEIGHT_DEL] = "DELETE FROM weights WHERE role = ?1",
        [ST_WEIGHT_LIST] = "SELECT role, weight FROM weights ORDER BY role",
};

/* Schema version 1. A later version adds a migration step after this one
 * (migrate), never edits it: old databases replay the steps in order. */
static const char schema_v1[] = "CREATE TABLE meta ("
                                "  key TEXT PRIMARY KEY,"
                                "  value TEXT NOT NULL);"
                                "CREATE TABLE agents ("
                                "  id TEXT PRIMARY KEY,"
                                "  hostname TEXT NOT NULL,"
                                "  info TEXT NOT NULL,"
                                "  registered_at INTEGER NOT NULL,"
                                "  gone INTEGER NOT NULL DEFAULT 0);"
                                "CREATE TABLE frameworks ("
                                "  id TEXT PRIMARY KEY,"
                                "  info TEXT NOT NULL,"
                                "  failover_timeout REAL NOT NULL DEFAULT 0,"
                                "  registered_at INTEGER NOT NULL,"
                                "  removed INTEGER NOT NULL DEFAULT 0);"
                                "CREATE TABLE weights ("
                                "  role TEXT PRIMARY KEY,"
                                "  weight REAL NOT NULL CHECK (weight > 0));"
                                "PRAGMA user_version = 1;";

/* Version 2: each agent's secret (docs/agent-protocol.md, Agent secret);
 * NULL for the agents admitted before it, until they re-register. */
static const char schema_v2[] = "ALTER TABLE agents ADD COLUMN secret TEXT;"
                                "PRAGMA user_version = 2;";

/* Version 3: tombstones of removed frameworks have a removal time (the
 * oldest are pruned past a bound) and no longer keep the FrameworkInfo. */
static const char schema_v3[] =
        "ALTER TABLE frameworks ADD COLUMN removed_at INTEGER NOT NULL DEFAULT 0;"
        "UPDATE frameworks SET info = '{}' WHERE removed = 1;"
        "CREATE INDEX frameworks_removed ON frameworks (removed, removed_at);"
        "PRAGMA user_version = 3;";

/* Free pages beyond this many are given back to the file system (at 4 KiB
 * a page, 1 MiB): the file shrinks after a prune or a big row's removal
 * instead of keeping its high-water mark. */
#define MS_REGISTRY_FREE_PAGES_MAX 256

/* The WAL is truncated to this after a checkpoint (it would otherwise keep
 * the size of its largest transaction). */
#define MS_REGISTRY_WAL_MAX "4194304"

struct ms_registry {
	/* Kept in ZooKeeper (ms_registry_open_zk): every call goes there,
	 * the SQLite fields are unused. */
	struct ms__regzk *zk;
	sqlite3 *db;
	sqlite3_stmt *stmt[ST__COUNT];
	int lock_fd;
	bool in_batch;
	uint64_t n_removed; /* tombstones (removed = 1) in the table */
};

/* Map an SQLite result to -errno and fill `err` with SQLite's message. */
static int sqlerr(struct ms_registry *reg, int rc, struct ag_error *err, const char *what)
{
	int e;
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		e = EBUSY;
		break;
	case SQLITE_FULL:
		e = ENOSPC;
		break;
	case SQLITE_NOMEM:
		e = ENOMEM;
		break;
	case SQLITE_READONLY:
		e = EROFS;
		break;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		e = EACCES;
		break;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
		e = EINVAL;
		break;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		e = EBADMSG;
		break;
	default:
		e = EIO;
		break;
	}
	const char *msg = reg && reg->db ? sqlite3_errmsg(reg->db) : sqlite3_errstr(rc);
	return ag_error_msg(err, e, "registry: %s: %s", what, msg);
}

/* Step a statement that returns no rows, then reset it. When a failure
 * made SQLite roll the whole transaction back (disk full, I/O error), the
 * batch is over: the next commit reports it. */
static int run(struct ms_registry *reg, enum stmt st, const char *what, struct ag_error *err)
{
	sqlite3_stmt *s = reg->stmt[st];
	int rc = sqlite3_step(s);
	int r = 0;
	if (rc != SQLITE_DONE)
		r = sqlerr(reg, rc, err, what);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return r;
}

static int exec(struct ms_registry *reg, const char *sql, const char *what, struct ag_error *err)
{
	int rc = sqlite3_exec(reg->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : sqlerr(reg, rc, err, what);
}

static int pragma_int(struct ms_registry *reg, const char *sql, int *ret)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(reg->db, sql, -1, &s, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			*ret = sqlite3_column_int(s, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(s);
	return rc;
}

int ms_registry_schema_version(struct ms_registry *reg)
{
	if (reg->zk)
		return MS_REGISTRY_SCHEMA_VERSION;
	int v = -1;
	(void)pragma_int(reg, "PRAGMA user_version", &v);
	return v;
}

static int migrate(struct ms_registry *reg, bool *ret_created, struct ag_error *err)
{
	int version = 0, tables = 0;
	int rc = pragma_int(reg, "PRAGMA user_version", &version);
	if (rc == SQLITE_OK)
		rc = pragma_int(reg, "SELECT count(*) FROM sqlite_master", &tables);
	if (rc != SQLITE_OK)
		return sqlerr(reg, rc, err, "read the schema version");
	if (version > MS_REGISTRY_SCHEMA_VERSION)
		return ag_error_msg(err, EPROTO,
		                    "registry: schema version %d is newer than this agora-master's "
		                    "(%d); run a newer agora-master",
		                    version, MS_REGISTRY_SCHEMA_VERSION);
	if (version == 0 && tables > 0)
		return ag_error_msg(err, EPROTO,
		                    "registry: the database has tables but no schema version: "
		                    "not an agora registry");
	*ret_created = version == 0;
	if (version == MS_REGISTRY_SCHEMA_VERSION)
		return 0;

	/* The whole migration is one transaction: a crash leaves the old
	 * version, never half a new one. */
	int r = exec(reg, "BEGIN IMMEDIATE", "begin the schema migration", err);
	if (r < 0)
		return r;
	if (version < 1)
		r = exec(reg, schema_v1, "create the schema", err);
	if (r == 0 && version < 2)
		r = exec(reg, schema_v2, "add the agents' secrets", err);
	if (r == 0 && version < 3)
		r = exec(reg, schema_v3, "bound the framework tombstones", err);
	if (r == 0)
		r = exec(reg, "COMMIT", "commit the schema migration", err);
	if (r < 0)
		(void)sqlite3_exec(reg->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

/* One master per work_dir: SQLite would let two open it, and two masters
 * handing out ids from one registry would corrupt the cluster, not the
 * file. flock is released by the kernel when the process dies. */
static int lock(const char *work_dir, struct ag_error *err)
{
	_cleanup_free_ char *path = ag_asprintf("%s/registry.lock", work_dir);
	_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return ag_error_set(err, errno, "registry: open `%s`", path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return ag_error_msg(err, EBUSY,
			                    "registry: `%s` is in use by another agora-master",
			                    work_dir);
		return ag_error_set(err, errno, "registry: lock `%s`", path);
	}
	return TAKE_FD(fd);
}

/* The registry holds every agent's secret: only the master's user may read
 * it. The database is created 0600 (SQLite gives its -wal and -shm files
 * the database's mode), and a registry of an older master, and its -wal
 * and -shm left by a kill, are made so. */
static int restrict_file(const char *path, bool create, struct ag_error *err)
{
	_cleanup_close_ int fd =
	        open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
	if (fd < 0 && errno == ENOENT && !create)
		return 0;
	if (fd < 0)
		return ag_error_set(err, errno, "registry: open `%s`", path);
	if (fchmod(fd, 0600) < 0)
		return ag_error_set(err, errno, "registry: make `%s` mode 0600", path);
	return 0;
}

int ms_registry_open(const char *work_dir, enum ms_registry_sync sync, struct ms_registry **ret,
                     bool *ret_created, struct ag_error *err)
{
	struct ms_registry *reg = ag_calloc(1, sizeof(*reg));
	reg->lock_fd = lock(work_dir, err);
	if (reg->lock_fd < 0) {
		int r = reg->lock_fd;
		free(reg);
		return r;
	}

	_cleanup_free_ char *path = ag_asprintf("%s/%s", work_dir, MS_REGISTRY_FILE);
	_cleanup_free_ char *wal = ag_asprintf("%s-wal", path);
	_cleanup_free_ char *shm = ag_asprintf("%s-shm", path);
	int r = restrict_file(path, true, err);
	if (r == 0)
		r = restrict_file(wal, false, err);
	if (r == 0)
		r = restrict_file(shm, false, err);
	if (r < 0)
		goto fail;
	int rc = sqlite3_open_v2(path, &reg->db,
	                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                         NULL);
	if (rc != SQLITE_OK) {
		r = sqlerr(reg, rc, err, "open");
		ag_error_wrap(err, "`%s`", path);
		goto fail;
	}
	sqlite3_extended_result_codes(reg->db, 1);

	/* WAL: a commit appends to the log and needs one fsync (FULL), readers
	 * never block the writer. */
	sqlite3_stmt *s = NULL;
	rc = sqlite3_prepare_v2(reg->db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
	if (rc == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW &&
	    strcmp((const char *)sqlite3_column_text(s, 0), "wal") != 0)
		rc = SQLITE_CANTOPEN;
	sqlite3_finalize(s);
	if (rc != SQLITE_OK) {
		r = sqlerr(reg, rc, err, "switch to WAL mode");
		goto fail;
	}
	r = exec(reg,
	         sync == MS_REGISTRY_SYNC_NORMAL ? "PRAGMA synchronous = NORMAL"
	                                         : "PRAGMA synchronous = FULL",
	         "set synchronous", err);
	if (r < 0)
		goto fail;

	r = exec(reg, "PRAGMA journal_size_limit = " MS_REGISTRY_WAL_MAX, "set journal_size_limit",
	         err);
	if (r < 0)
		goto fail;
	/* Before the first table: a new database frees pages incrementally. */
	r = exec(reg, "PRAGMA auto_vacuum = INCREMENTAL", "set auto_vacuum", err);
	if (r < 0)
		goto fail;

	bool created = false;
	r = migrate(reg, &created, err);
	if (r < 0)
		goto fail;
	/* A database made before schema 2 frees nothing until VACUUM has
	 * rebuilt it with auto_vacuum on: once, here. */
	int av = 0;
	rc = pragma_int(reg, "PRAGMA auto_vacuum", &av);
	if (rc != SQLITE_OK) {
		r = sqlerr(reg, rc, err, "read auto_vacuum");
		goto fail;
	}
	if (av == 0) {
		r = exec(reg, "PRAGMA auto_vacuum = INCREMENTAL; VACUUM",
		         "turn auto_vacuum on (VACUUM)", err);
		if (r < 0)
			goto fail;
	}

	for (int i = 0; i < ST__COUNT; i++) {
		rc = sqlite3_prepare_v3(reg->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		                        &reg->stmt[i], NULL);
		if (rc != SQLITE_OK) {
			r = sqlerr(reg, rc, err, "prepare a statement");
			goto fail;
		}
	}
	int n_removed = 0;
	rc = pragma_int(reg, stmt_sql[ST_FW_REMOVED_COUNT], &n_removed);
	if (rc != SQLITE_OK) {
		r = sqlerr(reg, rc, err, "count removed frameworks");
		goto fail;
	}
	reg->n_removed = (uint64_t)n_removed;
	if (ret_created)
		*ret_created = created;
	*ret = reg;
	return 0;
fail:
	ms_registry_close(reg);
	return r;
}

int ms_registry_open_zk(struct _zhandle *zh, const char *root, const char *fence,
                        const struct ACL_vector *acl, struct ms_registry **ret,
                        struct ag_error *err)
{
	struct ms_registry *reg = ag_calloc(1, sizeof(*reg));
	reg->lock_fd = -1;
	int r = ms__regzk_open(zh, root, fence, acl, &reg->zk, err);
	if (r < 0) {
		free(reg);
		return r;
	}
	*ret = reg;
	return 0;
}

void ms_registry_close(struct ms_registry *reg)
{
	if (!reg)
		return;
	if (reg->zk) {
		ms__regzk_close(reg->zk);
		free(reg);
		return;
	}
	if (reg->db && !sqlite3_get_autocommit(reg->db))
		(void)sqlite3_exec(reg->db, "ROLLBACK", NULL, NULL, NULL);
	for (int i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(reg->stmt[i]);
	/* The last connection to close checkpoints the WAL into the main
	 * file and removes it. */
	sqlite3_close(reg->db);
	if (reg->lock_fd >= 0)
		close(reg->lock_fd);
	free(reg);
}

/* ---- batches -------------------------------------------------------- */

int ms_registry_begin(struct ms_registry *reg, struct ag_error *err)
{
	if (reg->zk)
		return ms__regzk_begin(reg->zk, err);
	if (reg->in_batch)
		return ag_error_msg(err, EALREADY, "registry: a batch is already open");
	int r = run(reg, ST_BEGIN, "begin a batch", err);
	if (r == 0)
		reg->in_batch = true;
	return r;
}

int ms_registry_commit(struct ms_registry *reg, struct ag_error *err)
{
	if (reg->zk)
		return ms__regzk_commit(reg->zk, err);
	if (!reg->in_batch)
		return ag_error_msg(err, EINVAL, "registry: commit without a batch");
	reg->in_batch = false;
	if (sqlite3_get_autocommit(reg->db))
		return ag_error_msg(err, EIO,
		                    "registry: the batch was rolled back by SQLite after an "
		                    "earlier error; nothing of it was kept");
	int r = run(reg, ST_COMMIT, "commit", err);
	if (r < 0 && !sqlite3_get_autocommit(reg->db))
		(void)run(reg, ST_ROLLBACK, "rollback", NULL);
	return r;
}

void ms_registry_rollback(struct ms_registry *reg)
{
	if (reg->zk) {
		ms__regzk_rollback(reg->zk);
		return;
	}
	if (!reg->in_batch)
		return;
	reg->in_batch = false;
	if (!sqlite3_get_autocommit(reg->db))
		(void)run(reg, ST_ROLLBACK, "rollback", NULL);
}

bool ms_registry_in_batch(const struct ms_registry *reg)
{
	if (reg->zk)
		return ms__regzk_in_batch(reg->zk);
	return reg->in_batch;
}

/* ---- helpers -------------------------------------------------------- */

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	/* SQLITE_STATIC: the statement is reset before the call returns. */
	sqlite3_bind_text(s, i, v ? v : "", -1, SQLITE_STATIC);
}

/* Run a one-key UPDATE or DELETE; -ENOENT when it touched no row. */
static int run_key(struct ms_registry *reg, enum stmt st, const char *key, const char *what,
                   struct ag_error *err)
{
	bind_text(reg->stmt[st], 1, key);
	int r = run(reg, st, what, err);
	if (r == 0 && sqlite3_changes(reg->db) == 0)
		return ag_error_msg(err, ENOENT, "registry: %s: `%s` is not registered", what, key);
	return r;
}

static const char *col_text(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	return t ? t : "";
}

/* Step a SELECT to its end, calling `row` for each row. */
static int walk(struct ms_registry *reg, enum stmt st, const char *what,
                int (*row)(sqlite3_stmt *s, void *cb, void *arg), void *cb, void *arg,
                struct ag_error *err)
{
	sqlite3_stmt *s = reg->stmt[st];
	int r = 0, rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r = row(s, cb, arg);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = sqlerr(reg, rc, err, what);
	sqlite3_reset(s);
	return r;
}

/* ---- meta ----------------------------------------------------------- */

int ms_registry_meta_get(struct ms_registry *reg, const char *key, char **ret_value,
                         struct ag_error *err)
{
	if (reg->zk)
		return ms__regzk_meta_get(reg->zk, key, ret_value, err);
	sqlite3_stmt *s = reg->stmt[ST_META_GET];
	bind_text(s, 1, key);
	int rc = sqlite3_step(s);
	int r;
	if (rc == SQLITE_ROW) {
		*ret_value = ag_strdup(col_text(s, 0));
		r = 0;
	} else if (rc == SQLITE_DONE) {
		r = -ENOENT;
	} else {
		r = sqlerr(reg, rc, err, "read meta");
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return r;
}

int ms_registry_meta_set(struct ms_registry *reg, const char *key, const char *value,
                         struct ag_error *err)
{
	if (reg->zk)
		return ms__regzk_meta_set(reg->zk, key, value, err);
	sqlite3_stmt *s = reg->stmt[ST_META_SET];
	bind_text(s, 1, key);
	bind_text(s, 2, value);
	return run(reg, ST_META_SET, "write meta", err);
}

/* ---- agents --------------------------------------------------------- */

int ms_registry_agent_put(struct ms_registry *reg, const struct ms_registry_agent *a,
                          struct ag_error *err)
{
	if (reg->zk)
		return ms__regzk_agent_put(reg->zk, a, err);
	sqlite3_stmt *s = reg->stmt[ST_AGENT_PUT];
	bind_text(s, 1, a->id);
	bind_text(s, 2, a->hostname);
	bind_text(s, 3, a->info_json ? a->info_json : "{}");
	sqlite3_bind_int64(s, 4, a->registered_at_ns);
	sqlite3_bind_int(s, 5, a->gone ? 1 : 0);
	if (a->secret)
		bind_text(s, 6, a->secret);
	else
		sqlite3_bind_null(s, 6);
	return run(reg, ST_AGENT_PUT, "admit agent", err);
}

int ms_registry_agent_mark_gone(struct ms_registry *reg, const char *id, struct ag_error *err)
{
	if (reg->zk)
		return ms__regzk_agent_mark_gone(reg->zk, id, err);
	return run_key(reg, ST_AGENT_GONE, id, "mark agent gone", err);
}

int ms_registry_agent_remove(struct ms_registry *reg, const char *id, struct ag_error *err)
{
	if (reg->zk)
		return ms__regzk_agent_remove(reg->zk, id, err);
	return run_key(reg, ST_AGENT_DEL, id, "remove agent", err);
}

static int agent_row(sqlite3_stmt *s, void *cb, void *arg)
{
	struct ms_registry_agent a = {
	        .id = col_text(s, 0),
	        .hostname = col_text(s, 1),
	        .info_json = col_text(s, 2),
	        .registered_at_ns = sqlite3_column_int64(s, 3),
	        .gone = sqlite3_column_int(s, 4) != 0,
	        .secret = (const char *)sqlite3_column_text(s, 5),
	};
	return ((ms_registry_agent_cb)cb)(&a, arg);
}

int ms_registry_agents_foreach(struct ms_registry *reg, ms_registry_agent_cb cb, void *arg,
                               struct ag_error *err)
{
	if (reg->zk)
		return ms__regzk_agents_foreach(reg->zk, cb, arg);
	return walk(reg, ST_AGENT_LIST, "list agents", agent_row, (void *)cb, arg, err);
}

/* ---- frameworks ----------------------------------------------------- */

int ms_registry_framework_put(struct ms_registry *reg, const struct ms_registry_framework *fw,
                              struct ag_error *err)
{
	if (reg->zk)
		return ms__regzk_framework_put(reg->zk, fw, err);
	sqlite3_stmt *s = reg->stmt[ST_FW_PUT];
	bind_text(s, 1, fw->id);
	bind_text(s, 2, fw->info_json ? fw->info_json : "{}");
	sqlite3_bind_double(s, 3, fw->failover_timeout_s);
	sqlite3_bind_int64(s, 4, fw->registered_at_ns);
	sqlite3_bind_int(s, 5, fw->removed ? 1 : 0);
	return run(reg, ST_FW_PUT, "record framework", err);
}

int ms_registry_framework_mark_removed(struct ms_registry *reg, const char *id,
                                       struct ag_error *err)
{
	if (reg->zk)
		return ms__regzk_framework_mark_removed(reg->zk, id, err);
	bind_text(reg->stmt[ST_FW_REMOVED], 1, id);
	sqlite3_bind_int64(reg->stmt[ST_FW_REMOVED], 2, ag_wall_ns());
	int r = run(reg, ST_FW_REMOVED, "mark framework removed", err);
	if (r == 0 && sqlite3_changes(reg->db) > 0)
		reg->n_removed++;
	return r;
}

uint64_t ms_registry_removed_frameworks(const struct ms_registry *reg)
{
	if (reg->zk)
		return ms__regzk_removed_frameworks(reg->zk);
	return reg->n_removed;
}

/* Give free pages back to the file system when there are many. */
static int reclaim(struct ms_registry *reg, struct ag_error *err)
{
	sqlite3_stmt *s = reg->stmt[ST_FREELIST];
	int rc = sqlite3_step(s);
	int free_pages = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return sqlerr(reg, rc, err, "read freelist_count");
	if (free_pages <= MS_REGISTRY_FREE_PAGES_MAX)
		return 0;
	/* incremental_vacuum returns no rows but must be stepped to its end. */
	s = reg->stmt[ST_VACUUM];
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		;
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : sqlerr(reg, rc, err, "incremental_vacuum");
}

int ms_registry_frameworks_prune_removed(struct ms_registry *reg, uint64_t keep,
                                         ms_registry_pruned_cb pruned, void *arg,
                                         struct ag_error *err)
{
	if (reg->zk)
		return ms__regzk_frameworks_prune_removed(reg->zk, keep, pruned, arg, err);
	if (reg->n_removed <= keep)
		return reclaim(reg, err);
	sqlite3_stmt *s = reg->stmt[ST_FW_PRUNE];
	sqlite3_bind_int64(s, 1, (int64_t)(reg->n_removed - keep));
	int rc;
	uint64_t n = 0;
	/* RETURNING: every row is deleted by the first step; the ids are
	 * handed out as they come. */
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		n++;
		if (pruned)
			pruned(col_text(s, 0), arg);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE)
		return sqlerr(reg, rc, err, "prune removed frameworks");
	reg->n_removed -= n < reg->n_removed ? n : reg->n_removed;
	return reclaim(reg, err);
}

int ms_registry_framework_remove(struct ms_registry *reg, const char *id, struct ag_error *err)
{
	if (reg->zk)
		return ms__regzk_framework_remove(reg->zk, id, err);
	return run_key(reg, ST_FW_DEL, id, "remove framework", err);
}

static int fw_row(sqlite3_stmt *s, void *cb, void *arg)
{
	struct ms_registry_framework fw = {
	        .id = col_text(s, 0),
	        .info_json = col_text(s, 1),
	        .failover_timeout_s = sqlite3_column_double(s, 2),
	        .registered_at_ns = sqlite3_column_int64(s, 3),
	        .removed = sqlite3_column_int(s, 4) != 0,
	};
	return ((ms_registry_framework_cb)cb)(&fw, arg);
}

int ms_registry_frameworks_foreach(struct ms_registry *reg, ms_registry_framework_cb cb, void *arg,
                                   struct ag_error *err)
{
	if (reg->zk)
		return ms__regzk_frameworks_foreach(reg->zk, cb, arg);
	return walk(reg, ST_FW_LIST, "list frameworks", fw_row, (void *)cb, arg, err);
}

/* ---- weights -------------------------------------------------------- */

int ms_registry_weight_set(struct ms_registry *reg, const char *role, double weight,
                           struct ag_error *err)
{
	if (reg->zk)
		return ms__regzk_weight_set(reg->zk, role, weight, err);
	if (!(weight > 0))
		return ag_error_msg(err, EINVAL, "registry: the weight of role `%s` must be > 0",
		                    role);
	sqlite3_stmt *s = reg->stmt[ST_WEIGHT_SET];
	bind_text(s, 1, role);
	sqlite3_bind_double(s, 2, weight);
	return run(reg, ST_WEIGHT_SET, "set weight", err);
}

int ms_registry_weight_remove(struct ms_registry *reg, const char *role, struct ag_error *err)
{
	if (reg->zk)
		return ms__regzk_weight_remove(reg->zk, role, err);
	return run_key(reg, ST_WEIGHT_DEL, role, "remove weight", err);
}

static int weight_row(sqlite3_stmt *s, void *cb, void *arg)
{
	return ((ms_registry_weight_cb)cb)(col_text(s, 0), sqlite3_column_double(s, 1), arg);
}

int ms_registry_weights_foreach(struct ms_registry *reg, ms_registry_weight_cb cb, void *arg,
                                struct ag_error *err)
{
	if (reg->zk)
		return ms__regzk_weights_foreach(reg->zk, cb, arg);
	return walk(reg, ST_WEIGHT_LIST, "list weights", weight_row, (void *)cb, arg, err);
}
