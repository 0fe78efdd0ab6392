/* ctz_record.c: the durable per-task records, as small files written
 * atomically (temporary + fsync + rename + fsync of the directory).
 *
 * Files rather than SQLite: the monitor writes its part (`exit`) without
 * linking anything, each task's records are independent of every other's
 * (no shared lock on the launch path), and a task's whole history goes away
 * with one directory when its sandbox is collected. The agent's status
 * update queue, which needs ordering and acknowledgements across tasks,
 * lives in SQLite. */
#include "containerizer/ctz_internal.h"

#include "common/proc.h"

#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <string.h>
#include <time.h>

int64_t ctz__now_ms(void)
{
	return ag_wall_ns() / 1000000;
}

static const char *const phase_names[] = {
        [CTZ_LAUNCHING] = "launching", [CTZ_STARTING] = "starting", [CTZ_RUNNING] = "running",
        [CTZ_KILLING] = "killing",     [CTZ_DONE] = "done",
};

static int write_in(const char *dir, const char *name, const char *text)
{
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	return ag_write_file_durable_at(dfd, name, text, strlen(text), 0600);
}

static int read_in(const char *dir, const char *name, char **ret)
{
	_cleanup_free_ char *path = ag_asprintf("%s/%s", dir, name);
	return ag_read_file_at(AT_FDCWD, path, 1 << 16, ret, NULL);
}

/* The value of `key` in "key=value" lines, or NULL. */
static const char *kv_get(const char *text, const char *key, char *buf, size_t n)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, kl) != 0 || p[kl] != '=')
			continue;
		p += kl + 1;
		size_t len = strcspn(p, "\n");
		if (len >= n)
			len = n - 1;
		memcpy(buf, p, len);
		buf[len] = '\0';
		return buf;
	}
	return NULL;
}

static int64_t kv_int(const char *text, const char *key, int64_t dflt)
{
	char buf[32];
	int64_t v;
	if (!kv_get(text, key, buf, sizeof(buf)) || ag_parse_i64(buf, &v) < 0)
		return dflt;
	return v;
}

/* `final` is stored as the number of the containerizer's former enum
 * task_state, which was proto's enum pb_task_state less one (STAGING was
 * 0, no UNSET): records written by an older agent read back the same. */
#define FINAL_ON_DISK(s)   ((int)(s)-1)
#define FINAL_FROM_DISK(v) ((enum pb_task_state)((v) + 1))

static int state_write(const struct ctz_entry *e, bool durable, struct ag_error *err)
{
	char text[256];
	snprintf(text, sizeof(text),
	         "phase=%s\nreported_running=%d\nkill_deadline_ms=%lld\ndone_at_ms=%lld\n"
	         "final=%d\n",
	         phase_names[e->st.phase], e->st.reported_running ? 1 : 0,
	         (long long)e->st.kill_deadline_ms, (long long)e->st.done_at_ms,
	         FINAL_ON_DISK(e->st.final));
	_cleanup_close_ int dfd = open(e->run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = dfd < 0   ? -errno
	        : durable ? ag_write_file_durable_at(dfd, "state", text, strlen(text), 0600)
	                  : ag_write_file_atomic_at(dfd, "state", text, strlen(text), 0600);
	if (r < 0)
		return ag_error_set(err, -r, "record the state of task `%s`", e->task_id);
	return 0;
}

int ctz__state_write(const struct ctz_entry *e, struct ag_error *err)
{
	return state_write(e, true, err);
}

int ctz__state_note(const struct ctz_entry *e, struct ag_error *err)
{
	return state_write(e, false, err);
}

int ctz__state_read(const char *run_dir, struct ctz_state *ret)
{
	_cleanup_free_ char *text = NULL;
	int r = read_in(run_dir, "state", &text);
	if (r < 0)
		return r;
	char buf[32];
	struct ctz_state st = {0};
	const char *ph = kv_get(text, "phase", buf, sizeof(buf));
	size_t i;
	for (i = 0; ph && i < AG_ARRAY_SIZE(phase_names); i++)
		if (strcmp(ph, phase_names[i]) == 0)
			break;
	if (!ph || i == AG_ARRAY_SIZE(phase_names))
		return -EBADMSG;
	st.phase = (enum ctz_phase)i;
	st.reported_running = kv_int(text, "reported_running", 0) != 0;
	st.kill_deadline_ms = kv_int(text, "kill_deadline_ms", 0);
	st.done_at_ms = kv_int(text, "done_at_ms", 0);
	st.final = FINAL_FROM_DISK(kv_int(text, "final", FINAL_ON_DISK(PB_TASK_LOST)));
	*ret = st;
	return 0;
}

int ctz__task_write(const char *dir, const char *framework_id, const char *task_id, const char *cid,
                    const char *sandbox)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I}", "framework_id", framework_id, "task_id",
	                      task_id, "container_id", cid, "sandbox", sandbox, "created_ms",
	                      (json_int_t)ctz__now_ms());
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!text)
		return -ENOMEM;
	int r = write_in(dir, "task.json", text);
	free(text);
	return r;
}

int ctz__task_read(const char *run_dir, char **ret_framework_id, char **ret_task_id,
                   char **ret_sandbox)
{
	_cleanup_free_ char *text = NULL;
	int r = read_in(run_dir, "task.json", &text);
	if (r < 0)
		return r;
	json_t *j = json_loads(text, 0, NULL);
	const char *id = json_string_value(json_object_get(j, "task_id"));
	const char *sb = json_string_value(json_object_get(j, "sandbox"));
	if (!id || !sb) {
		json_decref(j);
		return -EBADMSG;
	}
	/* Records from before tasks were keyed by framework have none: "". */
	const char *fw = json_string_value(json_object_get(j, "framework_id"));
	if (ret_framework_id)
		*ret_framework_id = ag_strdup(fw ? fw : "");
	*ret_task_id = ag_strdup(id);
	*ret_sandbox = ag_strdup(sb);
	json_decref(j);
	return 0;
}

int ctz__monitor_write(const char *run_dir, pid_t pid, uint64_t ticks)
{
	char text[64];
	snprintf(text, sizeof(text), "pid=%d\nstart=%llu\n", (int)pid, (unsigned long long)ticks);
	return write_in(run_dir, "monitor", text);
}

int ctz__monitor_read(const char *run_dir, pid_t *ret_pid, uint64_t *ret_ticks)
{
	_cleanup_free_ char *text = NULL;
	int r = read_in(run_dir, "monitor", &text);
	if (r < 0)
		return r;
	int64_t pid = kv_int(text, "pid", 0), ticks = kv_int(text, "start", -1);
	if (pid <= 0 || ticks < 0)
		return -EBADMSG;
	*ret_pid = (pid_t)pid;
	*ret_ticks = (uint64_t)ticks;
	return 0;
}

int ctz__exit_read(const char *run_dir, struct ctz_exit *ret)
{
	_cleanup_free_ char *text = NULL;
	int r = read_in(run_dir, "exit", &text);
	if (r < 0)
		return r;
	ret->exit_code = (int)kv_int(text, "exit_code", -1);
	ret->signal = (int)kv_int(text, "signal", 0);
	ret->oom_kills = (uint64_t)kv_int(text, "oom_kills", 0);
	return 0;
}

int ctz__proc_start_ticks(pid_t pid, uint64_t *ret_ticks)
{
	struct ag_proc_stat ps;
	int r = ag_proc_stat_read(pid, &ps);
	if (r < 0)
		return r;
	*ret_ticks = ps.start_ticks;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

int ctz__rm_rf(const char *path)
{
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
