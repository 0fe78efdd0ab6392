/* updates.c: durable tasks and reliable status updates (updates.h). */
#include "containerizer/updates.h"

#include <sqlite3.h>
#include <string.h>
#include <sys/random.h>

struct utask {
	char *task_id, *framework_id, *framework_json, *task_json;
	char *status_json; /* latest, NULL before the first */
	enum pb_task_state state;
	size_t queued;
	/* the head of the queue, when queued > 0 */
	int64_t head_seq;
	uint8_t head_uuid[PB_UUID_LEN];
	char *head_text;
	uint64_t next_at;
	uint64_t backoff_ns;
};

struct ctz_updates {
	sqlite3 *db;
	uint64_t base_ns, max_ns;
	struct utask *tasks;
	size_t n, cap;
};

static void utask_clear(struct utask *t)
{
	free(t->task_id);
	free(t->framework_id);
	free(t->framework_json);
	free(t->task_json);
	free(t->status_json);
	free(t->head_text);
	memset(t, 0, sizeof(*t));
}

static struct utask *find(const struct ctz_updates *u, const char *framework_id,
                          const char *task_id)
{
	for (size_t i = 0; i < u->n; i++)
		if (strcmp(u->tasks[i].task_id, task_id) == 0 &&
		    strcmp(u->tasks[i].framework_id, framework_id) == 0)
			return &u->tasks[i];
	return NULL;
}

static int db_err(sqlite3 *db, struct ag_error *err, const char *what)
{
	return ag_error_msg(err, EIO, "agent database: %s: %s", what, sqlite3_errmsg(db));
}

static int exec(struct ctz_updates *u, const char *sql)
{
	return sqlite3_exec(u->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

/* Load the head (lowest seq) of a task's queue and its length. */
static int load_head(struct ctz_updates *u, struct utask *t, uint64_t now_ns)
{
	sqlite3_stmt *st = NULL;
	free(t->head_text);
	t->head_text = NULL;
	t->queued = 0;
	if (sqlite3_prepare_v2(u->db,
	                       "SELECT seq, uuid, status, (SELECT COUNT(*) FROM updates WHERE "
	                       "framework_id = ?2 AND task_id = ?1) FROM updates WHERE "
	                       "framework_id = ?2 AND task_id = ?1 ORDER BY seq LIMIT 1",
	                       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, t->task_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, t->framework_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 1) == PB_UUID_LEN) {
		t->head_seq = sqlite3_column_int64(st, 0);
		memcpy(t->head_uuid, sqlite3_column_blob(st, 1), PB_UUID_LEN);
		t->head_text = ag_strdup((const char *)sqlite3_column_text(st, 2));
		t->queued = (size_t)sqlite3_column_int64(st, 3);
		t->next_at = now_ns;
		t->backoff_ns = u->base_ns;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

static struct utask *append(struct ctz_updates *u)
{
	if (u->n == u->cap) {
		u->cap = u->cap ? 2 * u->cap : 16;
		u->tasks = ag_realloc(u->tasks, u->cap * sizeof(*u->tasks));
	}
	struct utask *t = &u->tasks[u->n++];
	memset(t, 0, sizeof(*t));
	return t;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s ? ag_strdup((const char *)s) : NULL;
}

static int user_version(struct ctz_updates *u)
{
	sqlite3_stmt *st = NULL;
	int v = -1;
	if (sqlite3_prepare_v2(u->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static bool has_table(struct ctz_updates *u, const char *name)
{
	sqlite3_stmt *st = NULL;
	bool found = false;
	if (sqlite3_prepare_v2(u->db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?1",
	                       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return found;
}

/* Version 1: tasks keyed by (framework_id, task_id). Version 0 (task_id
 * alone) is migrated in one transaction, so an agent killed during it
 * finds either the old database or the new one. */
static int schema_setup(struct ctz_updates *u, const char *path, struct ag_error *err)
{
	if (exec(u, "PRAGMA journal_mode=WAL;PRAGMA synchronous=FULL;") < 0)
		return db_err(u->db, err, "set the journal mode");
	int v = user_version(u);
	if (v < 0)
		return db_err(u->db, err, "read the schema version");
	if (v > CTZ_UPD_SCHEMA_VERSION)
		return ag_error_msg(err, EPROTO,
		                    "agent database `%s`: schema version %d is newer than this "
		                    "agent's (%d); run a newer agent or use another --work_dir",
		                    path, v, CTZ_UPD_SCHEMA_VERSION);
	if (v == CTZ_UPD_SCHEMA_VERSION)
		return 0;
	static const char v1[] =
	        "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	        "CREATE TABLE tasks(framework_id TEXT NOT NULL, task_id TEXT NOT NULL, framework "
	        "TEXT NOT NULL, task TEXT NOT NULL, state INTEGER NOT NULL, status TEXT, "
	        "PRIMARY KEY(framework_id, task_id));"
	        "CREATE TABLE updates(seq INTEGER PRIMARY KEY AUTOINCREMENT, framework_id TEXT "
	        "NOT NULL, task_id TEXT NOT NULL, uuid BLOB NOT NULL, status TEXT NOT NULL);"
	        "CREATE INDEX updates_task ON updates(framework_id, task_id, seq);";
	static const char from_v0[] = "ALTER TABLE tasks RENAME TO tasks_v0;"
	                              "ALTER TABLE updates RENAME TO updates_v0;"
	                              "DROP INDEX IF EXISTS updates_task;";
	static const char copy_v0[] =
	        "INSERT INTO tasks(framework_id, task_id, framework, task, state, status) "
	        "SELECT framework_id, task_id, framework, task, state, status FROM tasks_v0 "
	        "ORDER BY rowid;"
	        "INSERT INTO updates(seq, framework_id, task_id, uuid, status) SELECT u.seq, "
	        "COALESCE((SELECT t.framework_id FROM tasks_v0 t WHERE t.task_id = u.task_id), "
	        "''), "
	        "u.task_id, u.uuid, u.status FROM updates_v0 u ORDER BY u.seq;"
	        "DROP TABLE tasks_v0;"
	        "DROP TABLE updates_v0;";
	bool old = has_table(u, "tasks");
	if (exec(u, "BEGIN IMMEDIATE") < 0)
		return db_err(u->db, err, "begin the schema setup");
	int ok = (!old || exec(u, from_v0) == 0) && exec(u, v1) == 0 &&
	         (!old || exec(u, copy_v0) == 0) && exec(u, "PRAGMA user_version=1") == 0;
	if (!ok) {
		int r = db_err(u->db, err,
		               old ? "migrate the schema from version 0 to 1"
		                   : "create the schema");
		exec(u, "ROLLBACK");
		return r;
	}
	if (exec(u, "COMMIT") < 0)
		return db_err(u->db, err, "commit the schema");
	return 0;
}

/* Updates the master refused for good (ctz_upd_set_aside). */
#define SET_ASIDE_TABLE                                                                            \
	"CREATE TABLE IF NOT EXISTS set_aside(seq INTEGER PRIMARY KEY AUTOINCREMENT, "             \
	"framework_id TEXT NOT NULL, task_id TEXT NOT NULL, uuid BLOB NOT NULL, status TEXT NOT "  \
	"NULL, answer TEXT NOT NULL, at REAL NOT NULL)"

int ctz_upd_open(const struct ctz_upd_config *cfg, struct ctz_updates **ret, struct ag_error *err)
{
	struct ctz_updates *u = ag_calloc(1, sizeof(*u));
	u->base_ns = (uint64_t)(cfg->backoff_base_ms > 0 ? cfg->backoff_base_ms : 10000) * 1000000;
	u->max_ns = (uint64_t)(cfg->backoff_max_ms > 0 ? cfg->backoff_max_ms : 600000) * 1000000;
	if (u->max_ns < u->base_ns)
		u->max_ns = u->base_ns;
	int r;
	if (sqlite3_open_v2(cfg->db_path, &u->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		r = ag_error_msg(err, EIO, "open the agent database `%s`: %s", cfg->db_path,
		                 u->db ? sqlite3_errmsg(u->db) : "out of memory");
		ctz_upd_close(u);
		return r;
	}
	sqlite3_busy_timeout(u->db, 5000);
	r = schema_setup(u, cfg->db_path, err);
	/* Not part of the versioned schema: an older agent ignores it. */
	if (r == 0 && exec(u, SET_ASIDE_TABLE) < 0)
		r = db_err(u->db, err, "create the table set_aside");
	if (r < 0) {
		ctz_upd_close(u);
		return r;
	}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(u->db,
	                       "SELECT task_id, framework_id, framework, task, state, status FROM "
	                       "tasks ORDER BY rowid",
	                       -1, &st, NULL) != SQLITE_OK) {
		r = db_err(u->db, err, "load the tasks");
		ctz_upd_close(u);
		return r;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct utask *t = append(u);
		t->task_id = col_dup(st, 0);
		t->framework_id = col_dup(st, 1);
		t->framework_json = col_dup(st, 2);
		t->task_json = col_dup(st, 3);
		t->state = (enum pb_task_state)sqlite3_column_int(st, 4);
		t->status_json = col_dup(st, 5);
	}
	sqlite3_finalize(st);
	uint64_t now = ag_now_ns();
	for (size_t i = 0; i < u->n; i++)
		if (load_head(u, &u->tasks[i], now) < 0) {
			r = db_err(u->db, err, "load the update queues");
			ctz_upd_close(u);
			return r;
		}
	*ret = u;
	return 0;
}

void ctz_upd_close(struct ctz_updates *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->n; i++)
		utask_clear(&u->tasks[i]);
	free(u->tasks);
	sqlite3_close(u->db);
	free(u);
}

int ctz_upd_meta_get(struct ctz_updates *u, const char *key, char **ret)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(u->db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL) !=
	    SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	*ret = sqlite3_step(st) == SQLITE_ROW ? col_dup(st, 0) : NULL;
	sqlite3_finalize(st);
	return 0;
}

int ctz_upd_meta_set(struct ctz_updates *u, const char *key, const char *value)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(u->db, "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)", -1,
	                       &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int ctz_upd_meta_del(struct ctz_updates *u, const char *key)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(u->db, "DELETE FROM meta WHERE key = ?1", -1, &st, NULL) !=
	    SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int ctz_upd_task_add(struct ctz_updates *u, const char *framework_id, const char *task_id,
                     const char *framework_json, const char *task_json)
{
	if (find(u, framework_id, task_id))
		return -EEXIST;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(u->db,
	                       "INSERT INTO tasks(task_id, framework_id, framework, task, state) "
	                       "VALUES (?1, ?2, ?3, ?4, ?5)",
	                       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, task_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, framework_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, framework_json, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, task_json, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, PB_TASK_STAGING);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return rc == SQLITE_CONSTRAINT ? -EEXIST : -EIO;
	struct utask *t = append(u);
	t->task_id = ag_strdup(task_id);
	t->framework_id = ag_strdup(framework_id);
	t->framework_json = ag_strdup(framework_json);
	t->task_json = ag_strdup(task_json);
	t->state = PB_TASK_STAGING;
	return 0;
}

bool ctz_upd_task_known(const struct ctz_updates *u, const char *framework_id, const char *task_id)
{
	return find(u, framework_id, task_id) != NULL;
}

const char *ctz_upd_task_framework(const struct ctz_updates *u, const char *task_id)
{
	const char *fw = NULL;
	for (size_t i = 0; i < u->n; i++) {
		if (strcmp(u->tasks[i].task_id, task_id) != 0)
			continue;
		if (fw)
			return NULL; /* several: ambiguous */
		fw = u->tasks[i].framework_id;
	}
	return fw;
}

enum pb_task_state ctz_upd_task_state(const struct ctz_updates *u, const char *framework_id,
                                      const char *task_id)
{
	struct utask *t = find(u, framework_id, task_id);
	return t ? t->state : PB_TASK_STATE_UNSET;
}

/* A repeat of the latest state that still says something new: its
 * `healthy` or `check_status` (set, and not as in the latest status). */
static bool checks_changed(const char *latest_text, const json_t *status)
{
	const json_t *h = json_object_get(status, "healthy");
	const json_t *c = json_object_get(status, "check_status");
	if (!h && !c)
		return false;
	json_t *latest = latest_text ? json_loads(latest_text, 0, NULL) : NULL;
	bool changed = (h && !json_equal(h, json_object_get(latest, "healthy"))) ||
	               (c && !json_equal(c, json_object_get(latest, "check_status")));
	json_decref(latest);
	return changed;
}

static int queue_update(struct ctz_updates *u, struct utask *t, const char *task_id,
                        const char *framework_id, enum pb_task_state state, char *text_in,
                        const uint8_t uuid[PB_UUID_LEN], uint64_t now_ns);

int ctz_upd_enqueue(struct ctz_updates *u, const char *framework_id, const char *task_id,
                    enum pb_task_state state, const json_t *status, uint64_t now_ns,
                    uint8_t ret_uuid[PB_UUID_LEN])
{
	struct utask *t = find(u, framework_id, task_id);
	if (!t)
		return -ENOENT;
	if (t->state == state &&
	    (pb_task_state_is_terminal(state) || !checks_changed(t->status_json, status)))
		return 0;
	/* A task has one terminal state: whatever comes after it (a
	 * containerizer that reports at least once and, after a restart,
	 * tells an end it saw again differently) is never sent. */
	if (pb_task_state_is_terminal(t->state))
		return -EALREADY;
	uint8_t uuid[PB_UUID_LEN];
	if (getrandom(uuid, sizeof(uuid), 0) != (ssize_t)sizeof(uuid))
		return -errno;
	json_t *copy = json_deep_copy(status);
	_cleanup_free_ char *b64 = pb_base64_encode(uuid, sizeof(uuid));
	pb_status_set_uuid(copy, b64);
	char *text = pb_json_dump(copy, NULL);
	json_decref(copy);
	int r = queue_update(u, t, task_id, framework_id, state, text, uuid, now_ns);
	if (r > 0 && ret_uuid)
		memcpy(ret_uuid, uuid, sizeof(uuid));
	return r;
}

int ctz_upd_enqueue_executor(struct ctz_updates *u, const char *framework_id, const char *task_id,
                             enum pb_task_state state, const json_t *status,
                             const uint8_t uuid[PB_UUID_LEN], uint64_t now_ns)
{
	struct utask *t = find(u, framework_id, task_id);
	if (!t)
		return -ENOENT;
	/* The same update again (an executor resends what it has no
	 * ACKNOWLEDGED for): queued, or the latest one. */
	if (t->queued && memcmp(t->head_uuid, uuid, PB_UUID_LEN) == 0)
		return 0;
	sqlite3_stmt *st = NULL;
	int dup = 0;
	if (sqlite3_prepare_v2(u->db,
	                       "SELECT 1 FROM updates WHERE task_id = ?1 AND framework_id = ?2 "
	                       "AND uuid = ?3",
	                       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, task_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, framework_id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, uuid, PB_UUID_LEN, SQLITE_STATIC);
	dup = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	_cleanup_free_ char *b64 = pb_base64_encode(uuid, PB_UUID_LEN);
	if (dup)
		return 0;
	/* The latest update, no longer queued: acknowledged already. */
	if (t->status_json && strstr(t->status_json, b64))
		return 2;
	if (pb_task_state_is_terminal(t->state))
		return -EALREADY;
	json_t *copy = json_deep_copy(status);
	pb_status_set_uuid(copy, b64);
	char *text = pb_json_dump(copy, NULL);
	json_decref(copy);
	return queue_update(u, t, task_id, framework_id, state, text, uuid, now_ns);
}

/* Append the update `text` (taken) with `uuid` to the task's queue, and
 * make it the task's latest, in one transaction. */
static int queue_update(struct ctz_updates *u, struct utask *t, const char *task_id,
                        const char *framework_id, enum pb_task_state state, char *text_in,
                        const uint8_t uuid[PB_UUID_LEN], uint64_t now_ns)
{
	_cleanup_free_ char *text = text_in;
	if (exec(u, "BEGIN IMMEDIATE") < 0)
		return -EIO;
	sqlite3_stmt *st = NULL;
	int ok = sqlite3_prepare_v2(
	                 u->db,
	                 "INSERT INTO updates(task_id, uuid, status, framework_id) VALUES (?1, ?2, "
	                 "?3, ?4)",
	                 -1, &st, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_text(st, 1, task_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, framework_id, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, uuid, PB_UUID_LEN, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_DONE;
	}
	sqlite3_finalize(st);
	int64_t seq = sqlite3_last_insert_rowid(u->db);
	st = NULL;
	if (ok)
		ok = sqlite3_prepare_v2(
		             u->db,
		             "UPDATE tasks SET state = ?2, status = ?3 WHERE task_id = ?1 AND "
		             "framework_id = ?4",
		             -1, &st, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_text(st, 1, task_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, framework_id, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, state);
		sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_DONE;
	}
	sqlite3_finalize(st);
	if (!ok || exec(u, "COMMIT") < 0) {
		exec(u, "ROLLBACK");
		return -EIO;
	}
	t->state = state;
	free(t->status_json);
	t->status_json = ag_strdup(text);
	if (t->queued++ == 0) {
		t->head_seq = seq;
		memcpy(t->head_uuid, uuid, PB_UUID_LEN);
		t->head_text = TAKE_PTR(text);
		t->next_at = now_ns;
		t->backoff_ns = u->base_ns;
	}
	return 1;
}

static void forget(struct ctz_updates *u, struct utask *t)
{
	utask_clear(t);
	size_t i = (size_t)(t - u->tasks);
	memmove(&u->tasks[i], &u->tasks[i + 1], (u->n - i - 1) * sizeof(*t));
	u->n--;
}

/* The task (framework_id, task_id) when the head of its queue is the
 * update `uuid` (len bytes), else NULL. */
static struct utask *find_head(struct ctz_updates *u, const char *framework_id, const char *task_id,
                               const uint8_t *uuid, size_t len)
{
	struct utask *t = find(u, framework_id, task_id);
	if (!t || !t->queued || len != PB_UUID_LEN || memcmp(uuid, t->head_uuid, len) != 0)
		return NULL;
	return t;
}

/* Ends the transaction that took task t's head update off its queue (ok:
 * its statements worked) and brings t up to date: forgotten when that was
 * its last update (last), else its next head loaded. 1, or -EIO with the
 * transaction rolled back. */
static int head_done(struct ctz_updates *u, struct utask *t, bool ok, bool last, uint64_t now_ns)
{
	if (!ok || exec(u, "COMMIT") < 0) {
		exec(u, "ROLLBACK");
		return -EIO;
	}
	if (last) {
		forget(u, t);
		return 1;
	}
	return load_head(u, t, now_ns) < 0 ? -EIO : 1;
}

int ctz_upd_ack(struct ctz_updates *u, const char *framework_id, const char *task_id,
                const uint8_t *uuid, size_t len, uint64_t now_ns)
{
	struct utask *t = find_head(u, framework_id, task_id, uuid, len);
	if (!t)
		return 0;
	bool last = t->queued == 1 && pb_task_state_is_terminal(t->state);
	if (exec(u, "BEGIN IMMEDIATE") < 0)
		return -EIO;
	sqlite3_stmt *st = NULL;
	int ok = sqlite3_prepare_v2(u->db, "DELETE FROM updates WHERE seq = ?1", -1, &st, NULL) ==
	         SQLITE_OK;
	if (ok) {
		sqlite3_bind_int64(st, 1, t->head_seq);
		ok = sqlite3_step(st) == SQLITE_DONE;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (ok && last) {
		ok = sqlite3_prepare_v2(
		             u->db, "DELETE FROM tasks WHERE task_id = ?1 AND framework_id = ?2",
		             -1, &st, NULL) == SQLITE_OK;
		if (ok) {
			sqlite3_bind_text(st, 1, task_id, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, framework_id, -1, SQLITE_STATIC);
			ok = sqlite3_step(st) == SQLITE_DONE;
		}
		sqlite3_finalize(st);
	}
	return head_done(u, t, ok, last, now_ns);
}

int ctz_upd_poll(struct ctz_updates *u, uint64_t now_ns, ctz_upd_send_fn fn, void *ctx)
{
	int sent = 0;
	for (size_t i = 0; i < u->n; i++) {
		struct utask *t = &u->tasks[i];
		if (!t->queued || !t->head_text || t->next_at > now_ns)
			continue;
		t->next_at = now_ns + t->backoff_ns;
		t->backoff_ns = t->backoff_ns * 2 > u->max_ns ? u->max_ns : t->backoff_ns * 2;
		sent++;
		/* The callback may not change the tasks: it only sends. */
		fn(ctx, t->framework_id, t->task_id, t->head_text);
	}
	return sent;
}

uint64_t ctz_upd_next_due(const struct ctz_updates *u)
{
	uint64_t next = UINT64_MAX;
	for (size_t i = 0; i < u->n; i++)
		if (u->tasks[i].queued && u->tasks[i].next_at < next)
			next = u->tasks[i].next_at;
	return next;
}

void ctz_upd_rearm(struct ctz_updates *u, uint64_t now_ns)
{
	for (size_t i = 0; i < u->n; i++) {
		u->tasks[i].next_at = now_ns;
		u->tasks[i].backoff_ns = u->base_ns;
	}
}

size_t ctz_upd_pending(const struct ctz_updates *u)
{
	size_t n = 0;
	for (size_t i = 0; i < u->n; i++)
		n += u->tasks[i].queued;
	return n;
}

void ctz_upd_task_foreach(const struct ctz_updates *u, ctz_upd_task_fn fn, void *ctx)
{
	for (size_t i = 0; i < u->n; i++) {
		const struct utask *t = &u->tasks[i];
		struct ctz_upd_task_view v = {
		        .task_id = t->task_id,
		        .framework_id = t->framework_id,
		        .framework_json = t->framework_json,
		        .task_json = t->task_json,
		        .status_json = t->status_json,
		        .state = t->state,
		        .unacknowledged = t->queued > 0,
		};
		fn(ctx, &v);
	}
}

/* ---- updates the master refused ---------------------------------------- */

static bool step_done(sqlite3 *db, const char *sql, const struct utask *t, const char *answer,
                      double at)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return false;
	/* Every statement below names its parameters among these. */
	int i;
	if ((i = sqlite3_bind_parameter_index(st, "?1")))
		sqlite3_bind_int64(st, i, t->head_seq);
	if ((i = sqlite3_bind_parameter_index(st, "?2")))
		sqlite3_bind_text(st, i, answer, -1, SQLITE_STATIC);
	if ((i = sqlite3_bind_parameter_index(st, "?3")))
		sqlite3_bind_double(st, i, at);
	if ((i = sqlite3_bind_parameter_index(st, "?4")))
		sqlite3_bind_text(st, i, t->task_id, -1, SQLITE_STATIC);
	if ((i = sqlite3_bind_parameter_index(st, "?5")))
		sqlite3_bind_text(st, i, t->framework_id, -1, SQLITE_STATIC);
	bool ok = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	return ok;
}

int ctz_upd_set_aside(struct ctz_updates *u, const char *framework_id, const char *task_id,
                      const uint8_t *uuid, size_t len, const char *answer, double at,
                      uint64_t now_ns)
{
	struct utask *t = find_head(u, framework_id, task_id, uuid, len);
	if (!t)
		return 0;
	bool last = t->queued == 1 && pb_task_state_is_terminal(t->state);
	if (exec(u, "BEGIN IMMEDIATE") < 0)
		return -EIO;
	/* Moved in one transaction: a SIGKILL leaves it queued or set aside. */
	bool ok =
	        step_done(u->db,
	                  "INSERT INTO set_aside(framework_id, task_id, uuid, status, answer, at) "
	                  "SELECT framework_id, task_id, uuid, status, ?2, ?3 FROM updates "
	                  "WHERE seq = ?1",
	                  t, answer, at) &&
	        step_done(u->db, "DELETE FROM updates WHERE seq = ?1", t, answer, at) &&
	        (!last ||
	         step_done(u->db, "DELETE FROM tasks WHERE task_id = ?4 AND framework_id = ?5", t,
	                   answer, at));
	return head_done(u, t, ok, last, now_ns);
}

int ctz_upd_set_aside_foreach(struct ctz_updates *u, ctz_upd_aside_fn fn, void *ctx)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(u->db,
	                       "SELECT framework_id, task_id, status, answer, at FROM set_aside "
	                       "ORDER BY seq",
	                       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ctz_upd_aside_view v = {
		        .framework_id = (const char *)sqlite3_column_text(st, 0),
		        .task_id = (const char *)sqlite3_column_text(st, 1),
		        .status_json = (const char *)sqlite3_column_text(st, 2),
		        .answer = (const char *)sqlite3_column_text(st, 3),
		        .at = sqlite3_column_double(st, 4),
		};
		fn(ctx, &v);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}
