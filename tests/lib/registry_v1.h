/* registry_v1.h: the master's registry as a master older than agent
 * secrets left it (schema 1), for the tests of its migration. Header only;
 * the test links SQLite. */
#ifndef AGORA_TEST_REGISTRY_V1_H
#define AGORA_TEST_REGISTRY_V1_H

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <sys/stat.h>

/* Creates the SQLite database `path` with schema 1's tables and the rows
 * that the SQL `rows` inserts, then makes it mode 0644 (as such a master
 * left it). Asserts. */
static inline void rv1_create(const char *path, const char *rows)
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

#endif
