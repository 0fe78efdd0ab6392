/* ctz_internal.h: what the containerizer's files share. */
#ifndef AGORA_AGENT_CTZ_INTERNAL_H
#define AGORA_AGENT_CTZ_INTERNAL_H

#include "common/map.h"
#include "containerizer/containerizer.h"
#include "runtime/runtime.h"

#include <sys/types.h>

enum ctz_phase {
	CTZ_LAUNCHING, /* record written; the container is not let go (never ran) */
	CTZ_STARTING,  /* written before the start lets the container go: it may run */
	CTZ_RUNNING,
	CTZ_KILLING, /* SIGTERM sent; SIGKILL at kill_deadline_ms */
	CTZ_DONE,    /* terminal state reported */
};

/* The durable part of a task, in run/<cid>/state. Times are CLOCK_REALTIME
 * ms, so they mean the same after a restart. */
struct ctz_state {
	enum ctz_phase phase;
	bool reported_running;
	int64_t kill_deadline_ms;
	int64_t done_at_ms;
	enum pb_task_state final;
};

struct ctz_entry {
	char *framework_id; /* "" when none (records older than the key) */
	char *task_id;
	char *cid;
	char *run_dir; /* <work>/run/<cid> */
	char *sandbox; /* <work>/sandboxes/<cid> */
	struct ctz_state st;
	pid_t monitor_pid;
	int monitor_pidfd; /* -1 when not watched */
	bool monitor_is_child;
	bool sigkill_sent;
	char *launch_error;      /* start failed: already reported */
	uint32_t userns_host_id; /* its range of the pool (userns.h) ... */
	uint32_t userns_size;    /* ... of this many ids; 0: none */
	/* While the task's URIs are fetched (phase CTZ_LAUNCHING): the
	 * fetch, then what the start needs. */
	struct fetch_job *fetch;
	struct rt_spec *fetch_spec;
	uid_t fetch_uid;
	gid_t fetch_gid;
	bool fetch_init;
	struct ctz_entry *next;      /* the list of all, newest first */
	struct ctz_entry *same_task; /* the next older entry of the same task id */
};

struct ctz {
	struct ctz_config cfg;
	char *work_dir, *run_dir, *sbx_dir, *rt_dir, *hostview_dir, *images_dir;
	char *monitor_path, *cgroup_parent, *cgroup_root, *fetch_cache_dir;
	int init_fd; /* sealed memfd copy of agora-init, shared by every container */
	char **host_dirs;
	struct rt_options rto;
	int epfd, timerfd;
	struct ctz_entry *entries;
	struct ag_map by_task; /* task id -> its newest entry (then ->same_task) */
	struct ag_map by_cid;  /* container id -> entry */
	uint32_t userns_next;  /* the pool's range to try first */
};

/* ---- records (ctz_record.c) ---- */
AG_WARN_UNUSED int ctz__state_write(const struct ctz_entry *e, struct ag_error *err);
/* The same without fsync (atomic only): for a change whose loss a crash
 * may cost only a repeated update, never a lost one. */
AG_WARN_UNUSED int ctz__state_note(const struct ctz_entry *e, struct ag_error *err);
AG_WARN_UNUSED int ctz__state_read(const char *run_dir, struct ctz_state *ret);
/* run/<cid>/task.json: framework id ("" in records older than the key),
 * task id, container id, sandbox. */
AG_WARN_UNUSED int ctz__task_write(const char *dir, const char *framework_id, const char *task_id,
                                   const char *cid, const char *sandbox);
AG_WARN_UNUSED int ctz__task_read(const char *run_dir, char **ret_framework_id, char **ret_task_id,
                                  char **ret_sandbox);
/* run/<cid>/monitor: "pid=N\nstart=T\n". */
AG_WARN_UNUSED int ctz__monitor_write(const char *run_dir, pid_t pid, uint64_t ticks);
AG_WARN_UNUSED int ctz__monitor_read(const char *run_dir, pid_t *ret_pid, uint64_t *ret_ticks);
struct ctz_exit {
	int exit_code; /* -1 when killed by a signal */
	int signal;
	uint64_t oom_kills;
};
/* run/<cid>/exit as written by agora-monitor; -ENOENT when absent. */
AG_WARN_UNUSED int ctz__exit_read(const char *run_dir, struct ctz_exit *ret);
AG_WARN_UNUSED int ctz__proc_start_ticks(pid_t pid, uint64_t *ret_ticks);
/* Remove a directory tree (no symlinks followed, no mount crossed). */
AG_WARN_UNUSED int ctz__rm_rf(const char *path);
int64_t ctz__now_ms(void);

/* ---- the launch (ctz_spawn.c) ---- */
/* Fork; the fork creates the container `e->cid` from `spec` (its init is
 * the fork's child) with stdout/stderr in the sandbox, and execs the
 * monitor. Returns once the monitor said it is in place; the container
 * then waits for rt_container_start. *ret_pid is the monitor. */
AG_WARN_UNUSED int ctz__spawn(struct ctz *c, const struct ctz_entry *e, const struct rt_spec *spec,
                              uid_t uid, gid_t gid, bool init, pid_t *ret_pid,
                              struct ag_error *err);

/* ---- user namespaces of root tasks (userns.c) ---- */
/* Does `e` hold its range of host ids (not ended, or its monitor alive)? */
bool ctz__userns_held(const struct ctz_entry *e);
/* A free range of the pool (none held by an entry): its first host id.
 * -EAGAIN naming --userns_range when every range is held, -EPERM without
 * a pool. */
AG_WARN_UNUSED int ctz__userns_alloc(struct ctz *c, uint32_t *ret_host_id, struct ag_error *err);
/* Make the directories of `path` under `root` (0755; no symlink followed):
 * a root in a user namespace cannot create a mount point in an image of
 * the host's root. */
AG_WARN_UNUSED int ctz__mkdir_in_root(const char *root, const char *path);
/* run/<cid>/userns: "host_id=N\nsize=S\n"; -ENOENT when the task has none. */
AG_WARN_UNUSED int ctz__userns_write(const char *run_dir, uint32_t host_id, uint32_t size);
AG_WARN_UNUSED int ctz__userns_read(const char *run_dir, uint32_t *ret_host_id, uint32_t *ret_size);

#endif
