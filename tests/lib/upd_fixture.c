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

upd_t *uf_open(int64_t backoff_base_ms, int64_t backoff_max_ms)
{
	struct upd_config cfg = {.db_path = uf_db,
	                         .backoff_base_ms = backoff_base_ms,
	                         .backoff_max_ms = backoff_max_ms};
	upd_t *u = NULL;
	struct ag_error err = {0};
	cr_assert(upd_open(&cfg, &u, &err) == 0, "%s", err.msg);
	return u;
}
