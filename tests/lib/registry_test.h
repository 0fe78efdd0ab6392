/* registry_test.h: the master's registry (master/registry.h) for tests:
 * opened in a test's directory, and as a master older than agent secrets
 * left it (schema 1), for the tests of its migration. Header only; the
 * test links SQLite (and agora_master_core for rgt_open). */
#ifndef AGORA_TEST_REGISTRY_TEST_H
#define AGORA_TEST_REGISTRY_TEST_H

#include "master/registry.h"

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <sys/stat.h>

/* Creates the SQLite database `path` with schema 1's tables and the rows
 * that the SQL `rows` inserts, then makes it mode 0644 (as such a master
 * left it). Asserts. */
static inline void rgt_create_v1(const char *path, const char *rows)
{
	sqlite3 *db = NULL;
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db,
	                          "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	                          "CREATE TABLE agents (id TEXT PRIMARY KEY, hostname TEXT NOT "
	                          "NULL, info TEXT NOT NULL, registered_at INTEGER NOT NULL, gone "
	                          "INTEGER NOT NULL DEFAULT 0);"
	                          "CREATE TABLE frameworks (id TEXT PRIMARY KEY, info TEXT NOT "
	                          "NULL, failover_timeout REAL NOT NULL DEFAULT 0, registered_at "
	                          "INTEGER NOT NULL, removed INTEGER NOT NULL DEFAULT 0);"
	                          "CREATE TABLE weights (role TEXT PRIMARY KEY, weight REAL NOT "
	                          "NULL CHECK (weight > 0));"
	                          "PRAGMA user_version = 1;",
	                          NULL, NULL, NULL),
	             SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, rows, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	sqlite3_close(db);
	cr_assert_eq(chmod(path, 0644), 0);
}

/* The registry in `dir` with `sync`, asserting that it opens; *ret_created
 * as ms_registry_open's (may be NULL). */
static inline struct ms_registry *rgt_open(const char *dir, enum ms_registry_sync sync,
                                           bool *ret_created)
{
	struct ms_registry *reg = NULL;
	struct ag_error err = {0};
	int r = ms_registry_open(dir, sync, &reg, ret_created, &err);
	cr_assert_eq(r, 0, "open: %s", err.msg);
	return reg;
}

#endif
