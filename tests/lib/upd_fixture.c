/* upd_fixture.c: see upd_fixture.h. */
#include "upd_fixture.h"

#include "tmpdir.h"

#include <criterion/criterion.h>
#include <stdio.h>

char uf_db[128];
static char dir[64];

void uf_setup(void)
{
	cr_assert_eq(td_make(dir, sizeof(dir), "agora-upd"), 0);
	snprintf(uf_db, sizeof(uf_db), "%s/agent.db", dir);
}

void uf_teardown(void)
{
	cr_expect_eq(td_remove(dir), 0);
}

struct ctz_updates *uf_open(int64_t backoff_base_ms, int64_t backoff_max_ms)
{
	struct ctz_upd_config cfg = {.db_path = uf_db,
	                             .backoff_base_ms = backoff_base_ms,
	                             .backoff_max_ms = backoff_max_ms};
	struct ctz_updates *u = NULL;
	struct ag_error err = {0};
	cr_assert(ctz_upd_open(&cfg, &u, &err) == 0, "%s", err.msg);
	return u;
}

int uf_enqueue(struct ctz_updates *u, const char *task, enum pb_task_state s, uint64_t now,
               uint8_t uuid[16])
{
	json_t *st = json_pack("{s:{s:s}, s:s}", "task_id", "value", task, "state",
	                       pb_task_state_name(s));
	cr_assert_not_null(st);
	int r = ctz_upd_enqueue(u, "F0", task, s, st, now, uuid);
	json_decref(st);
	return r;
}

void uf_on_send(void *ctx, const char *fw, const char *task, const char *status)
{
	(void)fw;
	struct uf_sent *s = ctx;
	if (s->n < 8) {
		snprintf(s->task[s->n], sizeof(s->task[0]), "%s", task);
		snprintf(s->text[s->n], sizeof(s->text[0]), "%s", status);
	}
	s->n++;
}
