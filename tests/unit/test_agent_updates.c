/* The agent's status update queue: durability, order, retries with a fake
 * clock, acknowledgements and duplicates. */
#include "containerizer/updates.h"
#include "upd_fixture.h"

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000ull

static struct ctz_updates *open_db(void)
{
	return uf_open(100, 400);
}

/* uf_on_send(), and every update is of framework F0. */
static void on_send(void *ctx, const char *fw, const char *task, const char *status)
{
	cr_expect_str_eq(fw, "F0");
	uf_on_send(ctx, fw, task, status);
}

TestSuite(updates, .init = uf_setup, .fini = uf_teardown);

Test(updates, heads_are_sent_in_order_and_retried_with_backoff_until_acked)
{
	struct ctz_updates *u = open_db();
	cr_assert(ctz_upd_task_add(u, "F0", "t1", "{}", "{}") == 0);
	cr_expect(ctz_upd_task_add(u, "F0", "t1", "{}", "{}") == -EEXIST);
	uint8_t a[16], b[16];
	cr_assert(uf_enqueue(u, "t1", PB_TASK_STARTING, 0, a) == 1);
	cr_assert(uf_enqueue(u, "t1", PB_TASK_RUNNING, 0, b) == 1);
	cr_expect_eq(ctz_upd_pending(u), 2);

	struct uf_sent s = {0};
	cr_expect_eq(ctz_upd_poll(u, 0, on_send, &s), 1);
	cr_expect(strstr(s.text[0], "TASK_STARTING"));
	cr_expect(strstr(s.text[0], "\"uuid\""));
	/* not due again before the backoff, then doubling up to the max */
	cr_expect_eq(ctz_upd_poll(u, 99 * MS, on_send, &s), 0);
	cr_expect_eq(ctz_upd_poll(u, 100 * MS, on_send, &s), 1);
	cr_expect_eq(ctz_upd_next_due(u), 300 * MS);
	cr_expect_eq(ctz_upd_poll(u, 300 * MS, on_send, &s), 1);
	cr_expect_eq(ctz_upd_next_due(u), 700 * MS);
	cr_expect_eq(ctz_upd_poll(u, 700 * MS, on_send, &s), 1);
	cr_expect_eq(ctz_upd_next_due(u), 1100 * MS, "capped at the max");

	/* the wrong uuid is ignored; the right one releases the next at once */
	cr_expect_eq(ctz_upd_ack(u, "F0", "t1", b, 16, 800 * MS), 0);
	cr_expect_eq(ctz_upd_ack(u, "F0", "nope", a, 16, 800 * MS), 0);
	cr_expect_eq(ctz_upd_ack(u, "F0", "t1", a, 16, 800 * MS), 1);
	cr_expect_eq(ctz_upd_ack(u, "F0", "t1", a, 16, 800 * MS), 0, "a second ack is ignored");
	s.n = 0;
	cr_expect_eq(ctz_upd_poll(u, 800 * MS, on_send, &s), 1);
	cr_expect(strstr(s.text[0], "TASK_RUNNING"));
	cr_expect_eq(ctz_upd_ack(u, "F0", "t1", b, 16, 800 * MS), 1);
	cr_expect_eq(ctz_upd_pending(u), 0);
	cr_expect_eq(ctz_upd_next_due(u), UINT64_MAX);
	cr_expect(ctz_upd_task_known(u, "F0", "t1"), "not terminal: still known");
	ctz_upd_close(u);
}

Test(updates, duplicates_of_the_latest_state_are_dropped)
{
	struct ctz_updates *u = open_db();
	cr_assert(ctz_upd_task_add(u, "F0", "t1", "{}", "{}") == 0);
	cr_expect(uf_enqueue(u, "t1", PB_TASK_RUNNING, 0, NULL) == 1);
	cr_expect(uf_enqueue(u, "t1", PB_TASK_RUNNING, 0, NULL) == 0);
	cr_expect(uf_enqueue(u, "t1", PB_TASK_FINISHED, 0, NULL) == 1);
	cr_expect(uf_enqueue(u, "t1", PB_TASK_FINISHED, 0, NULL) == 0);
	cr_expect(uf_enqueue(u, "t2", PB_TASK_FINISHED, 0, NULL) == -ENOENT);
	cr_expect_eq(ctz_upd_pending(u), 2);
	ctz_upd_close(u);
}

Test(updates, queues_survive_a_restart_and_terminal_acked_tasks_are_forgotten)
{
	struct ctz_updates *u = open_db();
	cr_assert(ctz_upd_meta_set(u, "agent_id", "A1") == 0);
	cr_assert(ctz_upd_task_add(u, "F0", "t1", "{\"fw\":1}", "{\"task\":1}") == 0);
	cr_assert(ctz_upd_task_add(u, "F0", "t2", "{}", "{}") == 0);
	uint8_t a[16], b[16], c[16];
	cr_assert(uf_enqueue(u, "t1", PB_TASK_RUNNING, 0, a) == 1);
	cr_assert(uf_enqueue(u, "t1", PB_TASK_FINISHED, 0, b) == 1);
	cr_assert(uf_enqueue(u, "t2", PB_TASK_RUNNING, 0, c) == 1);
	cr_assert(ctz_upd_ack(u, "F0", "t1", a, 16, 0) == 1);
	ctz_upd_close(u);

	u = open_db();
	char *id = NULL;
	cr_assert(ctz_upd_meta_get(u, "agent_id", &id) == 0);
	cr_expect_str_eq(id, "A1");
	free(id);
	cr_expect_eq(ctz_upd_pending(u), 2);
	cr_expect_eq(ctz_upd_task_state(u, "F0", "t1"), PB_TASK_FINISHED);
	cr_expect(uf_enqueue(u, "t1", PB_TASK_FINISHED, 0, NULL) == 0, "duplicate after restart");
	struct uf_sent s = {0};
	cr_expect_eq(ctz_upd_poll(u, ag_now_ns(), on_send, &s), 2,
	             "every head due after a restart");
	cr_expect_eq(ctz_upd_ack(u, "F0", "t1", b, 16, 0), 1);
	cr_expect(!ctz_upd_task_known(u, "F0", "t1"));
	cr_expect(ctz_upd_task_known(u, "F0", "t2"));
	ctz_upd_close(u);

	u = open_db();
	cr_expect(!ctz_upd_task_known(u, "F0", "t1"));
	cr_expect_eq(ctz_upd_pending(u), 1);
	ctz_upd_close(u);
}

static int enqueue_fw(struct ctz_updates *u, const char *fw, const char *task, enum pb_task_state s,
                      uint8_t uuid[16])
{
	json_t *st = json_pack("{s:{s:s}, s:s}", "task_id", "value", task, "state",
	                       pb_task_state_name(s));
	int r = ctz_upd_enqueue(u, fw, task, s, st, 0, uuid);
	json_decref(st);
	return r;
}

static void count_fw(void *ctx, const char *fw, const char *task, const char *status)
{
	int *n = ctx;
	cr_expect_str_eq(task, "t1");
	cr_expect(strstr(status, "TASK_RUNNING"), "%s", status);
	n[strcmp(fw, "F1") == 0 ? 1 : 0]++;
}

Test(updates, the_same_task_id_in_two_frameworks_is_two_tasks)
{
	struct ctz_updates *u = open_db();
	cr_assert(ctz_upd_task_add(u, "F0", "t1", "{}", "{}") == 0);
	cr_assert(ctz_upd_task_add(u, "F1", "t1", "{}", "{}") == 0);
	cr_expect(ctz_upd_task_add(u, "F1", "t1", "{}", "{}") == -EEXIST);
	cr_expect(ctz_upd_task_framework(u, "t1") == NULL, "ambiguous: two frameworks");
	uint8_t a[16], b[16], c[16];
	cr_assert(enqueue_fw(u, "F0", "t1", PB_TASK_RUNNING, a) == 1);
	cr_assert(enqueue_fw(u, "F1", "t1", PB_TASK_RUNNING, b) == 1, "not a duplicate of F0's");
	int n[2] = {0, 0};
	cr_expect_eq(ctz_upd_poll(u, 0, count_fw, n), 2);
	cr_expect(n[0] == 1 && n[1] == 1);
	cr_expect_eq(ctz_upd_ack(u, "F1", "t1", a, 16, 0), 0, "F0's uuid does not ack F1's task");
	cr_expect_eq(ctz_upd_ack(u, "F1", "t1", b, 16, 0), 1);
	cr_assert(enqueue_fw(u, "F1", "t1", PB_TASK_FINISHED, c) == 1);
	cr_expect_eq(ctz_upd_ack(u, "F1", "t1", c, 16, 0), 1);
	cr_expect(!ctz_upd_task_known(u, "F1", "t1"), "F1's ended and was acknowledged");
	cr_expect(ctz_upd_task_known(u, "F0", "t1"), "F0's runs on");
	cr_expect_str_eq(ctz_upd_task_framework(u, "t1"), "F0");
	ctz_upd_close(u);

	u = open_db();
	cr_expect(ctz_upd_task_known(u, "F0", "t1") && !ctz_upd_task_known(u, "F1", "t1"));
	cr_expect_eq(ctz_upd_task_state(u, "F0", "t1"), PB_TASK_RUNNING);
	cr_expect_eq(ctz_upd_pending(u), 1);
	ctz_upd_close(u);
}

static void sql(const char *text)
{
	sqlite3 *d = NULL;
	cr_assert(sqlite3_open(uf_db, &d) == SQLITE_OK);
	char *e = NULL;
	cr_assert(sqlite3_exec(d, text, NULL, NULL, &e) == SQLITE_OK, "%s", e ? e : "");
	sqlite3_close(d);
}

/* A database written by an agent from before the (framework, task) key:
 * migrated when opened, nothing lost, nothing re-ordered. */
Test(updates, a_version_0_database_is_migrated_with_its_queues)
{
	sql("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	    "CREATE TABLE tasks(task_id TEXT PRIMARY KEY, framework_id TEXT NOT NULL, framework "
	    "TEXT NOT NULL, task TEXT NOT NULL, state INTEGER NOT NULL, status TEXT);"
	    "CREATE TABLE updates(seq INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL, "
	    "uuid BLOB NOT NULL, status TEXT NOT NULL);"
	    "CREATE INDEX updates_task ON updates(task_id, seq);"
	    "INSERT INTO meta VALUES('agent_id', 'A1');"
	    "INSERT INTO tasks VALUES('t1', 'F0', '{}', '{\"t\":1}', 2, "
	    "'{\"state\":\"TASK_RUNNING\"}');"
	    "INSERT INTO tasks VALUES('t2', 'F9', '{}', '{}', 2, NULL);"
	    "INSERT INTO updates(task_id, uuid, status) VALUES('t1', "
	    "x'00112233445566778899aabbccddeeff', '{\"state\":\"TASK_STARTING\"}');"
	    "INSERT INTO updates(task_id, uuid, status) VALUES('t1', "
	    "x'ffeeddccbbaa99887766554433221100', '{\"state\":\"TASK_RUNNING\"}');");
	struct ctz_updates *u = open_db();
	cr_expect(ctz_upd_task_known(u, "F0", "t1"));
	cr_expect(ctz_upd_task_known(u, "F9", "t2"));
	cr_expect(!ctz_upd_task_known(u, "F9", "t1"));
	cr_expect_eq(ctz_upd_pending(u), 2);
	struct uf_sent s = {0};
	cr_expect_eq(ctz_upd_poll(u, ag_now_ns(), on_send, &s), 1);
	cr_expect(strstr(s.text[0], "TASK_STARTING"), "the head stays the head: %s", s.text[0]);
	const uint8_t first[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	                           0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
	cr_expect_eq(ctz_upd_ack(u, "F0", "t1", first, 16, 0), 1);
	cr_expect_eq(ctz_upd_pending(u), 1);
	char *id = NULL;
	cr_assert(ctz_upd_meta_get(u, "agent_id", &id) == 0);
	cr_expect_str_eq(id, "A1");
	free(id);
	ctz_upd_close(u);
	u = open_db(); /* version 1 now: opened as is */
	cr_expect_eq(ctz_upd_pending(u), 1);
	ctz_upd_close(u);
}

Test(updates, a_database_newer_than_the_agent_is_refused_naming_the_version)
{
	sql("PRAGMA user_version=7;");
	struct ctz_upd_config cfg = {.db_path = uf_db};
	struct ctz_updates *u = NULL;
	struct ag_error err = {0};
	cr_expect(ctz_upd_open(&cfg, &u, &err) < 0);
	cr_expect(strstr(err.msg, "schema version 7 is newer"), "%s", err.msg);
}
