/* A task gets one terminal state from the agent's update queue: whatever
 * state the containerizer reports after one (at least once; after a
 * restart it may tell the same end differently, e.g. TASK_LOST "cannot
 * tell" after TASK_FINISHED) is refused, also after a restart of the
 * queue, and never reaches the master. */
#include "containerizer/updates.h"
#include "upd_fixture.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static struct ctz_updates *open_db(void)
{
	return uf_open(100, 400);
}

static int enqueue_uuid(struct ctz_updates *u, const char *task, enum pb_task_state s,
                        uint8_t uuid[16])
{
	return uf_enqueue(u, task, s, 0, uuid);
}

static int enqueue(struct ctz_updates *u, const char *task, enum pb_task_state s)
{
	return uf_enqueue(u, task, s, 0, NULL);
}

TestSuite(one_terminal, .init = uf_setup, .fini = uf_teardown);

Test(one_terminal, a_state_after_a_terminal_one_is_refused_and_never_sent)
{
	struct ctz_updates *u = open_db();
	cr_assert(ctz_upd_task_add(u, "F0", "t1", "{}", "{}") == 0);
	uint8_t uuid[2][16];
	cr_assert(enqueue_uuid(u, "t1", PB_TASK_RUNNING, uuid[0]) == 1);
	cr_assert(enqueue_uuid(u, "t1", PB_TASK_FINISHED, uuid[1]) == 1);
	cr_expect_eq(enqueue(u, "t1", PB_TASK_LOST), -EALREADY);
	cr_expect_eq(enqueue(u, "t1", PB_TASK_FAILED), -EALREADY);
	cr_expect_eq(enqueue(u, "t1", PB_TASK_RUNNING), -EALREADY);
	cr_expect_eq(enqueue(u, "t1", PB_TASK_FINISHED), 0, "the same one: a duplicate");
	cr_expect_eq(ctz_upd_pending(u), 2);
	cr_expect_eq(ctz_upd_task_state(u, "F0", "t1"), PB_TASK_FINISHED);
	ctz_upd_close(u);

	/* The terminal state is durable: a restarted agent refuses too. */
	u = open_db();
	cr_expect_eq(enqueue(u, "t1", PB_TASK_LOST), -EALREADY);
	cr_expect_eq(ctz_upd_pending(u), 2);
	struct uf_sent s = {0};
	int heads = 0;
	for (uint64_t now = ag_now_ns(); ctz_upd_pending(u) && heads < 2; heads++) {
		s.n = 0;
		cr_assert_eq(ctz_upd_poll(u, now, uf_on_send, &s), 1);
		cr_expect(strstr(s.text[0], heads ? "TASK_FINISHED" : "TASK_RUNNING"), "%s",
		          s.text[0]);
		cr_assert_eq(ctz_upd_ack(u, "F0", "t1", uuid[heads], 16, now), 1);
	}
	cr_expect_eq(ctz_upd_pending(u), 0);
	cr_expect_eq(heads, 2, "RUNNING and FINISHED, nothing after");
	cr_expect(!ctz_upd_task_known(u, "F0", "t1"), "acknowledged terminal: forgotten");
	ctz_upd_close(u);
}

Test(one_terminal, each_terminal_state_ends_the_task)
{
	static const enum pb_task_state terminal[] = {
	        PB_TASK_FINISHED, PB_TASK_FAILED, PB_TASK_KILLED, PB_TASK_LOST, PB_TASK_ERROR,
	};
	struct ctz_updates *u = open_db();
	for (size_t i = 0; i < sizeof(terminal) / sizeof(terminal[0]); i++) {
		char id[16];
		snprintf(id, sizeof(id), "t%zu", i);
		cr_assert(ctz_upd_task_add(u, "F0", id, "{}", "{}") == 0);
		cr_assert(enqueue(u, id, PB_TASK_STARTING) == 1);
		cr_assert(enqueue(u, id, terminal[i]) == 1);
		enum pb_task_state other =
		        terminal[i] == PB_TASK_LOST ? PB_TASK_FINISHED : PB_TASK_LOST;
		cr_expect_eq(enqueue(u, id, other), -EALREADY, "%s after %s",
		             pb_task_state_name(other), pb_task_state_name(terminal[i]));
		cr_expect_eq(ctz_upd_task_state(u, "F0", id), terminal[i]);
	}
	ctz_upd_close(u);
}
