/* Unit tests for master/registry.c: schema, persistence, batches, and what
 * a SIGKILL at any moment may not take away. */
#include "agtest.h"
#include "master/registry.h"
#include "registry_test.h"
#include "tmpdir.h"

#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>

static char ms_dir[256];

static void setup(void)
{
	cr_assert_eq(td_make(ms_dir, sizeof(ms_dir), "agora-registry"), 0);
}

static void teardown(void)
{
	(void)td_remove(ms_dir);
}

TestSuite(registry, .init = setup, .fini = teardown);

static struct ms_registry *open_reg(bool *created)
{
	return rgt_open(ms_dir, MS_REGISTRY_SYNC_FULL, created);
}

static int count_agent(const struct ms_registry_agent *a, void *arg)
{
	(void)a;
	(*(int *)arg)++;
	return 0;
}

static int count_agents(struct ms_registry *reg)
{
	int n = 0;
	cr_assert_eq(ms_registry_agents_foreach(reg, count_agent, &n, NULL), 0);
	return n;
}

static void put_agent(struct ms_registry *reg, const char *id)
{
	struct ms_registry_agent a = {
	        .id = id, .hostname = "h", .info_json = "{}", .registered_at_ns = 1};
	struct ag_error err = {0};
	cr_assert_eq(ms_registry_agent_put(reg, &a, &err), 0, "%s", err.msg);
}

Test(registry, creates_a_versioned_schema_in_wal_mode)
{
	bool created = false;
	struct ms_registry *reg = open_reg(&created);
	cr_assert(created);
	cr_assert_eq(ms_registry_schema_version(reg), MS_REGISTRY_SCHEMA_VERSION);
	cr_assert_eq(count_agents(reg), 0);
	char *v = NULL;
	cr_assert_eq(ms_registry_meta_get(reg, "master_id", &v, NULL), -ENOENT);
	ms_registry_close(reg);

	/* Reopening finds it, not creates it; and the journal is WAL. */
	reg = open_reg(&created);
	cr_assert_not(created);
	ms_registry_close(reg);
	sqlite3 *db;
	char path[300];
	snprintf(path, sizeof(path), "%s/registry.db", ms_dir);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *s;
	cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	sqlite3_close(db);
}

struct seen {
	int n;
	char ids[8][64];
	char info[8][64];
	bool flag[8];
	double num[8];
	int64_t at[8];
};

static int see_agent(const struct ms_registry_agent *a, void *arg)
{
	struct seen *s = arg;
	snprintf(s->ids[s->n], 64, "%s@%s", a->id, a->hostname);
	snprintf(s->info[s->n], 64, "%s", a->info_json);
	s->flag[s->n] = a->gone;
	s->at[s->n] = a->registered_at_ns;
	s->n++;
	return 0;
}

static int see_fw(const struct ms_registry_framework *fw, void *arg)
{
	struct seen *s = arg;
	snprintf(s->ids[s->n], 64, "%s", fw->id);
	snprintf(s->info[s->n], 64, "%s", fw->info_json);
	s->flag[s->n] = fw->removed;
	s->num[s->n] = fw->failover_timeout_s;
	s->n++;
	return 0;
}

static int see_weight(const char *role, double w, void *arg)
{
	struct seen *s = arg;
	snprintf(s->ids[s->n], 64, "%s", role);
	s->num[s->n] = w;
	s->n++;
	return 0;
}

Test(registry, everything_written_is_there_after_reopen)
{
	struct ms_registry *reg = open_reg(NULL);
	struct ag_error err = {0};
	struct ms_registry_agent a1 = {"S0",  "a1", "{\"port\":5051}", 1700000000000000000,
	                               false, NULL};
	struct ms_registry_agent a2 = {"S1", "a2", "{}", 42, false, NULL};
	cr_assert_eq(ms_registry_agent_put(reg, &a1, &err), 0, "%s", err.msg);
	cr_assert_eq(ms_registry_agent_put(reg, &a2, &err), 0, "%s", err.msg);
	a2.hostname = "a2b"; /* an upsert replaces */
	cr_assert_eq(ms_registry_agent_put(reg, &a2, &err), 0, "%s", err.msg);
	cr_assert_eq(ms_registry_agent_mark_gone(reg, "S1", &err), 0, "%s", err.msg);

	struct ms_registry_framework f1 = {"F0", "{\"name\":\"x\"}", 604800, 7, false};
	struct ms_registry_framework f2 = {"F1", "{}", 0, 8, false};
	cr_assert_eq(ms_registry_framework_put(reg, &f1, &err), 0, "%s", err.msg);
	cr_assert_eq(ms_registry_framework_put(reg, &f2, &err), 0, "%s", err.msg);
	cr_assert_eq(ms_registry_framework_mark_removed(reg, "F1", &err), 0, "%s", err.msg);
	/* Never recorded (known from an agent only): a tombstone all the same. */
	cr_assert_eq(ms_registry_framework_mark_removed(reg, "F9", &err), 0, "%s", err.msg);

	cr_assert_eq(ms_registry_weight_set(reg, "web", 2.5, &err), 0, "%s", err.msg);
	cr_assert_eq(ms_registry_weight_set(reg, "batch", 1, &err), 0, "%s", err.msg);
	cr_assert_eq(ms_registry_weight_set(reg, "web", 3, &err), 0, "%s", err.msg);
	cr_assert_eq(ms_registry_meta_set(reg, "master_id", "m-1", &err), 0, "%s", err.msg);
	ms_registry_close(reg);

	reg = open_reg(NULL);
	struct seen s = {0};
	cr_assert_eq(ms_registry_agents_foreach(reg, see_agent, &s, &err), 0);
	cr_assert_eq(s.n, 2);
	cr_assert_str_eq(s.ids[0], "S0@a1");
	cr_assert_str_eq(s.info[0], "{\"port\":5051}");
	cr_assert_eq(s.at[0], 1700000000000000000);
	cr_assert_not(s.flag[0]);
	cr_assert_str_eq(s.ids[1], "S1@a2b");
	cr_assert(s.flag[1]);

	memset(&s, 0, sizeof(s));
	cr_assert_eq(ms_registry_frameworks_foreach(reg, see_fw, &s, &err), 0);
	cr_assert_eq(s.n, 3);
	cr_assert_str_eq(s.ids[0], "F0");
	cr_assert_str_eq(s.info[0], "{\"name\":\"x\"}");
	cr_assert_float_eq(s.num[0], 604800, 1e-9);
	cr_assert_not(s.flag[0]);
	cr_assert(s.flag[1]);
	cr_assert_str_eq(s.ids[2], "F9");
	cr_assert(s.flag[2]);

	memset(&s, 0, sizeof(s));
	cr_assert_eq(ms_registry_weights_foreach(reg, see_weight, &s, &err), 0);
	cr_assert_eq(s.n, 2);
	cr_assert_str_eq(s.ids[0], "batch");
	cr_assert_str_eq(s.ids[1], "web");
	cr_assert_float_eq(s.num[1], 3, 1e-9);

	char *v = NULL;
	cr_assert_eq(ms_registry_meta_get(reg, "master_id", &v, &err), 0);
	cr_assert_str_eq(v, "m-1");
	free(v);

	cr_assert_eq(ms_registry_agent_remove(reg, "S0", &err), 0);
	cr_assert_eq(ms_registry_framework_remove(reg, "F0", &err), 0);
	cr_assert_eq(ms_registry_weight_remove(reg, "web", &err), 0);
	ms_registry_close(reg);
	reg = open_reg(NULL);
	cr_assert_eq(count_agents(reg), 1);
	ms_registry_close(reg);
}

Test(registry, unknown_ids_and_bad_weights_are_errors_with_messages)
{
	struct ms_registry *reg = open_reg(NULL);
	struct ag_error err = {0};
	cr_assert_eq(ms_registry_agent_mark_gone(reg, "nope", &err), -ENOENT);
	cr_assert(strstr(err.msg, "nope"), "%s", err.msg);
	cr_assert_eq(ms_registry_agent_remove(reg, "nope", &err), -ENOENT);
	cr_assert_eq(ms_registry_weight_remove(reg, "nope", &err), -ENOENT);
	cr_assert_eq(ms_registry_weight_set(reg, "r", 0, &err), -EINVAL);
	cr_assert(strstr(err.msg, "> 0"), "%s", err.msg);
	cr_assert_eq(ms_registry_weight_set(reg, "r", -1, &err), -EINVAL);
	ms_registry_close(reg);
}

Test(registry, a_committed_batch_is_kept_whole)
{
	struct ms_registry *reg = open_reg(NULL);
	struct ag_error err = {0};
	cr_assert_eq(ms_registry_begin(reg, &err), 0, "%s", err.msg);
	cr_assert(ms_registry_in_batch(reg));
	cr_assert_eq(ms_registry_begin(reg, &err), -EALREADY);
	for (int i = 0; i < 100; i++) {
		char id[16];
		snprintf(id, sizeof(id), "S%d", i);
		put_agent(reg, id);
	}
	/* Reads inside the batch see its writes. */
	cr_assert_eq(count_agents(reg), 100);
	cr_assert_eq(ms_registry_commit(reg, &err), 0, "%s", err.msg);
	cr_assert_not(ms_registry_in_batch(reg));
	cr_assert_eq(ms_registry_commit(reg, &err), -EINVAL);
	ms_registry_close(reg);
	reg = open_reg(NULL);
	cr_assert_eq(count_agents(reg), 100);
	ms_registry_close(reg);
}

Test(registry, a_rolled_back_or_unfinished_batch_leaves_nothing)
{
	struct ms_registry *reg = open_reg(NULL);
	put_agent(reg, "before");
	cr_assert_eq(ms_registry_begin(reg, NULL), 0);
	put_agent(reg, "x1");
	put_agent(reg, "x2");
	ms_registry_rollback(reg);
	cr_assert_eq(count_agents(reg), 1);

	/* Closed (as by a crash) with a batch open: rolled back. */
	cr_assert_eq(ms_registry_begin(reg, NULL), 0);
	put_agent(reg, "y1");
	ms_registry_close(reg);
	reg = open_reg(NULL);
	cr_assert_eq(count_agents(reg), 1);
	ms_registry_close(reg);
}

Test(registry, a_second_opener_of_the_work_dir_is_refused)
{
	struct ms_registry *reg = open_reg(NULL), *other = NULL;
	struct ag_error err = {0};
	cr_assert_eq(ms_registry_open(ms_dir, MS_REGISTRY_SYNC_FULL, &other, NULL, &err), -EBUSY);
	cr_assert(strstr(err.msg, "another agora-master"), "%s", err.msg);
	ms_registry_close(reg);
	/* Released on close. */
	cr_assert_eq(ms_registry_open(ms_dir, MS_REGISTRY_SYNC_FULL, &other, NULL, &err), 0);
	ms_registry_close(other);
}

static void set_user_version(int v)
{
	char path[300], sql[64];
	snprintf(path, sizeof(path), "%s/registry.db", ms_dir);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

Test(registry, a_newer_schema_or_a_foreign_database_is_refused)
{
	struct ms_registry *reg = open_reg(NULL);
	ms_registry_close(reg);
	set_user_version(MS_REGISTRY_SCHEMA_VERSION + 1);
	struct ag_error err = {0};
	cr_assert_eq(ms_registry_open(ms_dir, MS_REGISTRY_SYNC_FULL, &reg, NULL, &err), -EPROTO);
	cr_assert(strstr(err.msg, "newer"), "%s", err.msg);
	set_user_version(0);
	cr_assert_eq(ms_registry_open(ms_dir, MS_REGISTRY_SYNC_FULL, &reg, NULL, &err), -EPROTO);
	cr_assert(strstr(err.msg, "not an agora registry"), "%s", err.msg);
}

Test(registry, garbage_in_the_file_is_an_error_not_a_crash)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/registry.db", ms_dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	for (int i = 0; i < 4096; i++)
		fputc(i * 7 & 0xff, f);
	fclose(f);
	struct ms_registry *reg = NULL;
	struct ag_error err = {0};
	int r = ms_registry_open(ms_dir, MS_REGISTRY_SYNC_FULL, &reg, NULL, &err);
	cr_assert_lt(r, 0);
	cr_assert(strstr(err.msg, "registry: "), "%s", err.msg);
}

/* A writer process reports each id once its put has returned (that is,
 * acknowledged); it is SIGKILLed at an arbitrary moment; every id it
 * acknowledged must be in the database. Half of the writes go in batches,
 * acknowledged at commit. */
static void sigkill_loses_nothing_acknowledged(enum ms_registry_sync sync)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(p[0]);
		struct ms_registry *reg = NULL;
		if (ms_registry_open(ms_dir, sync, &reg, NULL, NULL) < 0)
			_exit(1);
		for (unsigned i = 0;; i += 4) {
			char id[32];
			snprintf(id, sizeof(id), "A%u", i);
			struct ms_registry_agent a = {.id = id, .hostname = "h"};
			if (ms_registry_agent_put(reg, &a, NULL) < 0)
				_exit(1);
			if (write(p[1], &i, sizeof(i)) != sizeof(i))
				_exit(1);
			if (ms_registry_begin(reg, NULL) < 0)
				_exit(1);
			for (unsigned k = 1; k < 4; k++) {
				snprintf(id, sizeof(id), "A%u", i + k);
				if (ms_registry_agent_put(reg, &a, NULL) < 0)
					_exit(1);
			}
			if (ms_registry_commit(reg, NULL) < 0)
				_exit(1);
			unsigned last = i + 3;
			if (write(p[1], &last, sizeof(last)) != sizeof(last))
				_exit(1);
		}
	}
	close(p[1]);
	unsigned acked = 0, v;
	int reads = 0;
	/* Let it run a little, then kill it wherever it is. */
	while (reads < 60 && read(p[0], &v, sizeof(v)) == sizeof(v)) {
		acked = v;
		reads++;
	}
	kill(pid, SIGKILL);
	while (read(p[0], &v, sizeof(v)) == sizeof(v))
		acked = v;
	close(p[0]);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	          "the writer failed on its own (status %d)", status);

	struct ms_registry *reg = open_reg(NULL);
	int n = count_agents(reg);
	cr_assert_geq((unsigned)n, acked + 1, "acknowledged up to A%u, found %d agents", acked, n);
	/* No half batch: the count is whole batches (4 ids per round) or a
	 * single put past them. */
	cr_assert(n % 4 == 0 || n % 4 == 1, "%d agents: a batch was torn", n);
	ms_registry_close(reg);
}

Test(registry, sigkill_loses_nothing_acknowledged_full)
{
	sigkill_loses_nothing_acknowledged(MS_REGISTRY_SYNC_FULL);
}

Test(registry, sigkill_loses_nothing_acknowledged_normal)
{
	sigkill_loses_nothing_acknowledged(MS_REGISTRY_SYNC_NORMAL);
}
