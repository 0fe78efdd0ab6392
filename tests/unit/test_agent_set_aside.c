/* Status updates the master refused for good (containerizer/updates.c,
 * ctz_upd_set_aside): moved durably out of the task's queue with the master's
 * answer, the next update due at once, listed for an operator. */
#include "containerizer/updates.h"
#include "upd_fixture.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

TestSuite(set_aside, .init = uf_setup, .fini = uf_teardown);

static struct ctz_updates *open_db(void)
{
	return uf_open(1000, 0);
}

static void enqueue(struct ctz_updates *u, const char *task, enum pb_task_state s, uint8_t uuid[16])
{
	cr_assert_eq(uf_enqueue(u, task, s, 0, uuid), 1);
}

struct listed {
	int n;
	char answer[4][128], status[4][512];
	double at[4];
};

static void on_aside(void *ctx, const struct ctz_upd_aside_view *v)
{
	struct listed *l = ctx;
	cr_expect_str_eq(v->framework_id, "F0");
	cr_expect_str_eq(v->task_id, "t1");
	if (l->n < 4) {
		snprintf(l->answer[l->n], 128, "%s", v->answer);
		snprintf(l->status[l->n], 512, "%s", v->status_json);
		l->at[l->n] = v->at;
	}
	l->n++;
}

Test(set_aside, a_refused_head_moves_aside_and_the_next_update_is_due_at_once)
{
	struct ctz_updates *u = open_db();
	cr_assert_eq(ctz_upd_task_add(u, "F0", "t1", "{}", "{}"), 0);
	uint8_t running[16], finished[16], other[16] = {1};
	enqueue(u, "t1", PB_TASK_RUNNING, running);
	enqueue(u, "t1", PB_TASK_FINISHED, finished);
	struct uf_sent h = {0};
	cr_assert_eq(ctz_upd_poll(u, 0, uf_on_send, &h), 1);
	cr_assert(strstr(h.text[0], "TASK_RUNNING"));
	/* Not the head: nothing moves. */
	cr_expect_eq(ctz_upd_set_aside(u, "F0", "t1", other, 16, "400 x", 1.5, 0), 0);
	cr_expect_eq(ctz_upd_set_aside(u, "F0", "t1", finished, 16, "400 x", 1.5, 0), 0);
	cr_expect_eq(ctz_upd_set_aside(u, "F0", "nope", running, 16, "400 x", 1.5, 0), 0);
	/* The head: moved; the next is due now, though the head's backoff
	 * (1 s) has not passed. */
	cr_expect_eq(ctz_upd_set_aside(u, "F0", "t1", running, 16, "400 bad id", 1700000000.25, 10),
	             1);
	cr_expect_eq(ctz_upd_pending(u), 1);
	h.n = 0;
	cr_assert_eq(ctz_upd_poll(u, 10, uf_on_send, &h), 1);
	cr_expect(strstr(h.text[0], "TASK_FINISHED"));
	ctz_upd_close(u);

	/* Durable: after a reopen it is listed and not queued. */
	u = open_db();
	cr_expect_eq(ctz_upd_pending(u), 1);
	struct listed l = {0};
	cr_assert_eq(ctz_upd_set_aside_foreach(u, on_aside, &l), 0);
	cr_assert_eq(l.n, 1);
	cr_expect_str_eq(l.answer[0], "400 bad id");
	cr_expect(strstr(l.status[0], "TASK_RUNNING"), "%s", l.status[0]);
	cr_expect(l.at[0] == 1700000000.25);
	/* A terminal update set aside last forgets the task, as its
	 * acknowledgement would. */
	cr_expect_eq(ctz_upd_set_aside(u, "F0", "t1", finished, 16, "400 again", 2, 0), 1);
	cr_expect_not(ctz_upd_task_known(u, "F0", "t1"));
	cr_expect_eq(ctz_upd_pending(u), 0);
	l.n = 0;
	cr_assert_eq(ctz_upd_set_aside_foreach(u, on_aside, &l), 0);
	cr_expect_eq(l.n, 2);
	ctz_upd_close(u);
	u = open_db();
	cr_expect_not(ctz_upd_task_known(u, "F0", "t1"));
	ctz_upd_close(u);
}
