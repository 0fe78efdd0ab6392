/* upd_fixture.h: the unit tests' fixture for the agent's status update
 * queue (containerizer/updates.h): a fresh directory per test and the path of the
 * queue's database in it. */
#ifndef AGORA_UPD_FIXTURE_H
#define AGORA_UPD_FIXTURE_H

#include "containerizer/updates.h"

#include <stdint.h>

/* <dir>/agent.db of the current test; set by uf_setup. */
extern char uf_db[128];

/* A criterion .init: makes /tmp/agora-upd-XXXXXX and sets uf_db. */
void uf_setup(void);

/* A criterion .fini: removes the directory, expecting that to work. */
void uf_teardown(void);

/* Opens the queue at uf_db with these backoffs (0: ctz_upd_open's defaults),
 * asserting that it opens. */
struct ctz_updates *uf_open(int64_t backoff_base_ms, int64_t backoff_max_ms);

/* ctz_upd_enqueue() of framework F0's status {task_id, state} for `task` in
 * state `s` at `now` (uuid as ctz_upd_enqueue's): its result. */
int uf_enqueue(struct ctz_updates *u, const char *task, enum pb_task_state s, uint64_t now,
               uint8_t uuid[16]);

/* The updates a send callback was given: how many, and the first eight's
 * tasks and statuses. */
struct uf_sent {
	int n;
	char task[8][32];
	char text[8][512];
};

/* A send callback of the queue that records into `ctx`, a struct uf_sent. */
void uf_on_send(void *ctx, const char *fw, const char *task, const char *status);

#endif
