/* Unit tests of the registry's bounds (issue 12, part 8): tombstones of
 * removed frameworks keep ids and times only and are pruned past a bound,
 * the space of deleted rows goes back to the file system, and a schema 1
 * database is migrated and rebuilt to free pages. */
#include "agtest.h"
#include "common/common.h"
#include "master/registry.h"
#include "registry_test.h"
#include "tmpdir.h"

#include <sqlite3.h>
#include <sys/stat.h>

static char dir[256];

static void setup(void)
{
	cr_assert_eq(td_make(dir, sizeof(dir), "agora-registry-bounds"), 0);
}

static void teardown(void)
{
	(void)td_remove(dir);
}

TestSuite(registry_bounds, .init = setup, .fini = teardown, .timeout = 60);

static struct ms_registry *open_reg(void)
{
	return rgt_open(dir, MS_REGISTRY_SYNC_NORMAL, NULL);
}

static void put_fw(struct ms_registry *reg, const char *id, const char *info)
{
	struct ms_registry_framework f = {.id = id, .info_json = info, .registered_at_ns = 1};
	struct ag_error err = {0};
	cr_assert_eq(ms_registry_framework_put(reg, &f, &err), 0, "%s", err.msg);
}

static void remove_fw(struct ms_registry *reg, const char *id)
{
	struct ag_error err = {0};
	cr_assert_eq(ms_registry_framework_mark_removed(reg, id, &err), 0, "%s", err.msg);
}

struct rows {
	int n, removed;
	char ids[64][32];
	char info[64][64];
};

static int see_fw(const struct ms_registry_framework *f, void *arg)
{
	struct rows *r = arg;
	if (r->n < 64) {
		snprintf(r->ids[r->n], sizeof(r->ids[0]), "%s", f->id);
		snprintf(r->info[r->n], sizeof(r->info[0]), "%.63s", f->info_json);
	}
	r->n++;
	r->removed += f->removed;
	return 0;
}

static struct rows list(struct ms_registry *reg)
{
	struct rows r = {0};
	cr_assert_eq(ms_registry_frameworks_foreach(reg, see_fw, &r, NULL), 0);
	return r;
}

struct pruned {
	int n;
	char ids[64][32];
};

static void on_pruned(const char *id, void *arg)
{
	struct pruned *p = arg;
	if (p->n < 64)
		snprintf(p->ids[p->n], sizeof(p->ids[0]), "%s", id);
	p->n++;
}

static off_t file_size(const char *name)
{
	char path[320];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : 0;
}

Test(registry_bounds, the_oldest_tombstones_are_pruned_the_newest_kept)
{
	struct ms_registry *reg = open_reg();
	put_fw(reg, "live", "{\"name\":\"live\"}");
	char id[32];
	for (int i = 0; i < 10; i++) {
		snprintf(id, sizeof(id), "F%d", i);
		put_fw(reg, id, "{\"name\":\"x\"}");
		remove_fw(reg, id);
	}
	cr_assert_eq(ms_registry_removed_frameworks(reg), 10);
	/* A second removal changes nothing. */
	remove_fw(reg, "F3");
	cr_assert_eq(ms_registry_removed_frameworks(reg), 10);

	struct pruned p = {0};
	struct ag_error err = {0};
	cr_assert_eq(ms_registry_frameworks_prune_removed(reg, 3, on_pruned, &p, &err), 0, "%s",
	             err.msg);
	cr_assert_eq(p.n, 7);
	for (int i = 0; i < 7; i++) {
		snprintf(id, sizeof(id), "F%d", i);
		cr_assert_str_eq(p.ids[i], id, "pruned #%d is %s", i, p.ids[i]);
	}
	cr_assert_eq(ms_registry_removed_frameworks(reg), 3);
	/* Within the bound, nothing more goes. */
	p.n = 0;
	cr_assert_eq(ms_registry_frameworks_prune_removed(reg, 3, on_pruned, &p, &err), 0);
	cr_assert_eq(p.n, 0);
	ms_registry_close(reg);

	/* What was kept is kept across a reopen, the live framework too. */
	reg = open_reg();
	cr_assert_eq(ms_registry_removed_frameworks(reg), 3);
	struct rows r = list(reg);
	cr_assert_eq(r.n, 4);
	cr_assert_eq(r.removed, 3);
	cr_assert_str_eq(r.ids[0], "live");
	cr_assert_str_eq(r.info[0], "{\"name\":\"live\"}");
	cr_assert_str_eq(r.ids[1], "F7");
	cr_assert_str_eq(r.ids[3], "F9");
	/* A bound of 0 keeps no tombstone, and never touches the living. */
	cr_assert_eq(ms_registry_frameworks_prune_removed(reg, 0, NULL, NULL, &err), 0);
	r = list(reg);
	cr_assert_eq(r.n, 1);
	cr_assert_str_eq(r.ids[0], "live");
	ms_registry_close(reg);
}

/* A FrameworkInfo of `len` bytes (with its NUL): {"name":"nnn...n"}. */
static char *big_info(size_t len)
{
	char *big = ag_malloc(len);
	memset(big, 'n', len);
	memcpy(big, "{\"name\":\"", 9);
	memcpy(big + len - 3, "\"}", 3);
	return big;
}

Test(registry_bounds, a_tombstone_keeps_no_framework_info)
{
	struct ms_registry *reg = open_reg();
	_cleanup_free_ char *big = big_info(300000);
	put_fw(reg, "F0", big);
	remove_fw(reg, "F0");
	remove_fw(reg, "never-recorded");
	struct rows r = list(reg);
	cr_assert_eq(r.n, 2);
	cr_assert_str_eq(r.info[0], "{}");
	cr_assert_str_eq(r.info[1], "{}");
	ms_registry_close(reg);
}

Test(registry_bounds, the_space_of_pruned_rows_goes_back_to_the_file_system)
{
	struct ms_registry *reg = open_reg();
	/* 40 MB of rows, as 200 frameworks with 200 KB FrameworkInfos. */
	_cleanup_free_ char *big = big_info(200000);
	char id[32];
	for (int i = 0; i < 200; i++) {
		snprintf(id, sizeof(id), "F%d", i);
		put_fw(reg, id, big);
	}
	ms_registry_close(reg); /* checkpointed into the main file */
	off_t full = file_size("registry.db");
	cr_assert_gt(full, 30 << 20, "%lld", (long long)full);

	reg = open_reg();
	struct ag_error err = {0};
	for (int i = 0; i < 200; i++) {
		snprintf(id, sizeof(id), "F%d", i);
		remove_fw(reg, id);
		cr_assert_eq(ms_registry_frameworks_prune_removed(reg, 10, NULL, NULL, &err), 0,
		             "%s", err.msg);
	}
	ms_registry_close(reg);
	off_t after = file_size("registry.db");
	cr_assert_lt(after, 1 << 20, "registry.db is %lld bytes after the prune", (long long)after);
	cr_assert_eq(file_size("registry.db-wal"), 0);
}

/* The schema 1 of agora before the bounds, written by hand as it was. */
static const char schema_v1[] =
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE agents (id TEXT PRIMARY KEY, hostname TEXT NOT NULL, info TEXT NOT NULL,"
        " registered_at INTEGER NOT NULL, gone INTEGER NOT NULL DEFAULT 0);"
        "CREATE TABLE frameworks (id TEXT PRIMARY KEY, info TEXT NOT NULL,"
        " failover_timeout REAL NOT NULL DEFAULT 0, registered_at INTEGER NOT NULL,"
        " removed INTEGER NOT NULL DEFAULT 0);"
        "CREATE TABLE weights (role TEXT PRIMARY KEY, weight REAL NOT NULL CHECK (weight > 0));"
        "PRAGMA user_version = 1;";

Test(registry_bounds, a_schema_1_registry_is_migrated_and_shrinks)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/registry.db", dir);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, schema_v1, NULL, NULL, NULL), SQLITE_OK);
	/* The reproduction: removed frameworks with 3 MB names, kept whole. */
	cr_assert_eq(
	        sqlite3_exec(db,
	                     "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n "
	                     "WHERE i < 9) INSERT INTO frameworks (id, info, registered_at, "
	                     "removed) SELECT 'F' || i, '{\"name\":\"' || hex(zeroblob(1500000)) "
	                     "|| '\"}', 1, 1 FROM n;"
	                     "INSERT INTO frameworks (id, info, registered_at) VALUES "
	                     "('live', '{\"name\":\"live\"}', 2);",
	                     NULL, NULL, NULL),
	        SQLITE_OK);
	sqlite3_close(db);
	off_t before = file_size("registry.db");
	cr_assert_gt(before, 25 << 20, "%lld", (long long)before);

	struct ms_registry *reg = open_reg();
	cr_assert_eq(ms_registry_schema_version(reg), MS_REGISTRY_SCHEMA_VERSION);
	cr_assert_eq(ms_registry_removed_frameworks(reg), 10);
	struct rows r = list(reg);
	cr_assert_eq(r.n, 11);
	for (int i = 0; i < 10; i++)
		cr_assert_str_eq(r.info[i], "{}", "%s kept %s", r.ids[i], r.info[i]);
	cr_assert_str_eq(r.info[10], "{\"name\":\"live\"}");
	ms_registry_close(reg);
	off_t after = file_size("registry.db");
	cr_assert_lt(after, 1 << 20, "registry.db is %lld bytes after the migration",
	             (long long)after);

	/* It frees pages by itself from now on. */
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *s;
	cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA auto_vacuum", -1, &s, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(s, 0), 2, "auto_vacuum is not INCREMENTAL");
	sqlite3_finalize(s);
	sqlite3_close(db);
}
