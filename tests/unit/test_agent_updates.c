/* The agent's status update queue: durability, order, retries with a fake
 * clock, acknowledgements and duplicates. */
#include "agent/updates.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000ull

static char dir[] = "/tmp/agora-upd-XXXXXX";
static char db[128];

static void setup(void)
{
	cr_assert(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/agent.db", dir);
}

static void teardown(void)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect(system(cmd) == 0);
	strcpy(dir, "/tmp/agora-upd-XXXXXX");
}

static upd_t *open_db(void)
{
	struct upd_config cfg = {.db_path = db, .backoff_base_ms = 100, .backoff_max_ms = 400};
	upd_t *u = NULL;
	struct ag_error err = {0};
	cr_assert(upd_open(&cfg, &u, &err) == 0, "%s", err.msg);
	return u;
}

static int enqueue(upd_t *u, const char *task, enum pb_task_state s, uint64_t now, uint8_t uuid[16])
{
	json_t *st = json_pack("{s:{s:s}, s:s}", "task_id", "value", task, "state",
	                       pb_task_state_name(s));
	int r = upd_enqueue(u, task, s, st, now, uuid);
	json_decref(st);
	return r;
}

struct sent {
	int n;
	char task[8][32];
	char text[8][512];
};

static void on_send(void *ctx, const char *fw, const char *task, const char *status)
{
	struct sent *s = ctx;
	cr_expect_str_eq(fw, "F0");
	if (s->n < 8) {
		snprintf(s->task[s->n], 32, "%s", task);
		snprintf(s->text[s->n], 512, "%s", status);
	}
	s->n++;
}

TestSuite(updates, .init = setup, .fini = teardown);

Test(updates, heads_are_sent_in_order_and_retried_with_backoff_until_acked)
{
	upd_t *u = open_db();
	cr_assert(upd_task_add(u, "t1", "F0", "{}", "{}") == 0);
	cr_expect(upd_task_add(u, "t1", "F0", "{}", "{}") == -EEXIST);
	uint8_t a[16], b[16];
	cr_assert(enqueue(u, "t1", PB_TASK_STARTING, 0, a) == 1);
	cr_assert(enqueue(u, "t1", PB_TASK_RUNNING, 0, b) == 1);
	cr_expect_eq(upd_pending(u), 2);

	struct sent s = {0};
	cr_expect_eq(upd_poll(u, 0, on_send, &s), 1);
	cr_expect(strstr(s.text[0], "TASK_STARTING"));
	cr_expect(strstr(s.text[0], "\"uuid\""));
	/* not due again before the backoff, then doubling up to the max */
	cr_expect_eq(upd_poll(u, 99 * MS, on_send, &s), 0);
	cr_expect_eq(upd_poll(u, 100 * MS, on_send, &s), 1);
	cr_expect_eq(upd_next_due(u), 300 * MS);
	cr_expect_eq(upd_poll(u, 300 * MS, on_send, &s), 1);
	cr_expect_eq(upd_next_due(u), 700 * MS);
	cr_expect_eq(upd_poll(u, 700 * MS, on_send, &s), 1);
	cr_expect_eq(upd_next_due(u), 1100 * MS, "capped at the max");

	/* the wrong uuid is ignored; the right one releases the next at once */
	cr_expect_eq(upd_ack(u, "t1", b, 16, 800 * MS), 0);
	cr_expect_eq(upd_ack(u, "nope", a, 16, 800 * MS), 0);
	cr_expect_eq(upd_ack(u, "t1", a, 16, 800 * MS), 1);
	cr_expect_eq(upd_ack(u, "t1", a, 16, 800 * MS), 0, "a second ack is ignored");
	s.n = 0;
	cr_expect_eq(upd_poll(u, 800 * MS, on_send, &s), 1);
	cr_expect(strstr(s.text[0], "TASK_RUNNING"));
	cr_expect_eq(upd_ack(u, "t1", b, 16, 800 * MS), 1);
	cr_expect_eq(upd_pending(u), 0);
	cr_expect_eq(upd_next_due(u), UINT64_MAX);
	cr_expect(upd_task_known(u, "t1"), "not terminal: still known");
	upd_close(u);
}

Test(updates, duplicates_of_the_latest_state_are_dropped)
{
	upd_t *u = open_db();
	cr_assert(upd_task_add(u, "t1", "F0", "{}", "{}") == 0);
	cr_expect(enqueue(u, "t1", PB_TASK_RUNNING, 0, NULL) == 1);
	cr_expect(enqueue(u, "t1", PB_TASK_RUNNING, 0, NULL) == 0);
	cr_expect(enqueue(u, "t1", PB_TASK_FINISHED, 0, NULL) == 1);
	cr_expect(enqueue(u, "t1", PB_TASK_FINISHED, 0, NULL) == 0);
	cr_expect(enqueue(u, "t2", PB_TASK_FINISHED, 0, NULL) == -ENOENT);
	cr_expect_eq(upd_pending(u), 2);
	upd_close(u);
}

Test(updates, queues_survive_a_restart_and_terminal_acked_tasks_are_forgotten)
{
	upd_t *u = open_db();
	cr_assert(upd_meta_set(u, "agent_id", "A1") == 0);
	cr_assert(upd_task_add(u, "t1", "F0", "{\"fw\":1}", "{\"task\":1}") == 0);
	cr_assert(upd_task_add(u, "t2", "F0", "{}", "{}") == 0);
	uint8_t a[16], b[16], c[16];
	cr_assert(enqueue(u, "t1", PB_TASK_RUNNING, 0, a) == 1);
	cr_assert(enqueue(u, "t1", PB_TASK_FINISHED, 0, b) == 1);
	cr_assert(enqueue(u, "t2", PB_TASK_RUNNING, 0, c) == 1);
	cr_assert(upd_ack(u, "t1", a, 16, 0) == 1);
	upd_close(u);

	u = open_db();
	char *id = NULL;
	cr_assert(upd_meta_get(u, "agent_id", &id) == 0);
	cr_expect_str_eq(id, "A1");
	free(id);
	cr_expect_eq(upd_pending(u), 2);
	cr_expect_eq(upd_task_state(u, "t1"), PB_TASK_FINISHED);
	cr_expect(enqueue(u, "t1", PB_TASK_FINISHED, 0, NULL) == 0, "duplicate after restart");
	struct sent s = {0};
	cr_expect_eq(upd_poll(u, ag_now_ns(), on_send, &s), 2, "every head due after a restart");
	cr_expect_eq(upd_ack(u, "t1", b, 16, 0), 1);
	cr_expect(!upd_task_known(u, "t1"));
	cr_expect(upd_task_known(u, "t2"));
	upd_close(u);

	u = open_db();
	cr_expect(!upd_task_known(u, "t1"));
	cr_expect_eq(upd_pending(u), 1);
	upd_close(u);
}
