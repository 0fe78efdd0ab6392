/* containerizer.c: the task lifecycle: launch, watch, kill with grace,
 * terminal states, recovery after a restart, sandbox collection. */
#include "containerizer/ctz_internal.h"
#include "common/log.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>

#define WEEK_MS   (7LL * 24 * 3600 * 1000)
#define TIMER_TAG 0

/* ---- entries ---- */

static void entry_free(struct ctz_entry *e)
{
	if (!e)
		return;
	if (e->monitor_pidfd >= 0)
		close(e->monitor_pidfd);
	fetch_job_abort(e->fetch);
	rt_spec_free(e->fetch_spec);
	free(e->framework_id);
	free(e->task_id);
	free(e->cid);
	free(e->run_dir);
	free(e->sandbox);
	free(e->launch_error);
	free(e);
}

static struct ctz_entry *entry_new(struct ctz *c, const char *framework_id, const char *task_id,
                                   const char *cid, const char *sandbox)
{
	struct ctz_entry *e = ag_calloc(1, sizeof(*e));
	e->framework_id = ag_strdup(framework_id ? framework_id : "");
	e->task_id = ag_strdup(task_id);
	e->cid = ag_strdup(cid);
	e->run_dir = ag_asprintf("%s/%s", c->run_dir, cid);
	e->sandbox = ag_strdup(sandbox);
	e->monitor_pidfd = -1;
	e->next = c->entries;
	c->entries = e;
	e->same_task = ag_map_put(&c->by_task, e->task_id, e);
	ag_map_put(&c->by_cid, e->cid, e);
	return e;
}

/* Take `e` out of the indexes (not out of the list). */
static void entry_unindex(struct ctz *c, struct ctz_entry *e)
{
	struct ctz_entry *head = ag_map_get(&c->by_task, e->task_id);
	if (head == e) {
		if (e->same_task)
			ag_map_put(&c->by_task, e->task_id, e->same_task);
		else
			ag_map_del(&c->by_task, e->task_id);
	} else {
		for (; head; head = head->same_task)
			if (head->same_task == e) {
				head->same_task = e->same_task;
				break;
			}
	}
	if (ag_map_get(&c->by_cid, e->cid) == e)
		ag_map_del(&c->by_cid, e->cid);
}

/* The newest entry of (framework, task): a task id may be reused once its
 * task ended, and two frameworks may use the same one. */
static struct ctz_entry *find_task(const struct ctz *c, const char *framework_id,
                                   const char *task_id)
{
	if (!framework_id)
		framework_id = "";
	for (struct ctz_entry *e = ag_map_get(&c->by_task, task_id); e; e = e->same_task)
		if (strcmp(e->framework_id, framework_id) == 0)
			return e;
	return NULL;
}

static struct ctz_entry *find_task_by_cid(const struct ctz *c, const char *cid)
{
	return ag_map_get(&c->by_cid, cid);
}

static void emit(struct ctz *c, const struct ctz_entry *e, enum pb_task_state s,
                 enum pb_task_reason r, const char *msg, bool has_status, int status)
{
	if (!c->cfg.on_task_state)
		return;
	struct ctz_update u = {
	        .framework_id = e->framework_id,
	        .task_id = e->task_id,
	        .container_id = e->cid,
	        .state = s,
	        .reason = r,
	        .message = msg,
	        .has_exit_status = has_status,
	        .exit_status = status,
	};
	c->cfg.on_task_state(c->cfg.cb_ctx, &u);
}

/* ---- timers ---- */

static void timer_rearm(struct ctz *c)
{
	int64_t next = 0;
	int64_t keep = c->cfg.sandbox_keep_ms;
	for (struct ctz_entry *e = c->entries; e; e = e->next) {
		int64_t t = 0;
		if (e->st.phase == CTZ_KILLING && !e->sigkill_sent)
			t = e->st.kill_deadline_ms;
		else if (e->st.phase == CTZ_DONE && e->monitor_pidfd < 0)
			t = e->st.done_at_ms + keep;
		if (t > 0 && (next == 0 || t < next))
			next = t;
	}
	struct itimerspec its = {0};
	if (next > 0) {
		if (next < 1)
			next = 1;
		its.it_value.tv_sec = next / 1000;
		its.it_value.tv_nsec = (next % 1000) * 1000000;
	}
	timerfd_settime(c->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* ---- the end of a task ---- */

static void watch_monitor(struct ctz *c, struct ctz_entry *e, int pidfd, bool is_child)
{
	e->monitor_pidfd = pidfd;
	e->monitor_is_child = is_child;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = e};
	epoll_ctl(c->epfd, EPOLL_CTL_ADD, pidfd, &ev);
}

static void unwatch_monitor(struct ctz *c, struct ctz_entry *e)
{
	if (e->monitor_pidfd < 0)
		return;
	epoll_ctl(c->epfd, EPOLL_CTL_DEL, e->monitor_pidfd, NULL);
	if (e->monitor_is_child)
		waitpid(e->monitor_pid, NULL, WNOHANG);
	close(e->monitor_pidfd);
	e->monitor_pidfd = -1;
}

/* run/<cid>/usage: the cgroup's figures just before it is removed, for the
 * operator endpoints (the peak and the OOM kills of an ended task). Best
 * effort: a task without cgroup has none. */
static void save_final_usage(struct ctz *c, const struct ctz_entry *e)
{
	if (c->cfg.cgroups_disabled)
		return;
	_cleanup_free_ char *json = NULL;
	if (rt_container_stats_json(&c->rto, e->cid, &json, NULL) < 0)
		return;
	_cleanup_free_ char *path = ag_asprintf("%s/usage", e->run_dir);
	_cleanup_close_ int fd =
	        open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	size_t n = strlen(json);
	if (write(fd, json, n) != (ssize_t)n)
		unlink(path);
}

/* Record the terminal state as reported, after reporting it: an agent
 * killed in between reports it again (at least once, never lost). */
static void finish(struct ctz *c, struct ctz_entry *e, enum pb_task_state s, enum pb_task_reason r,
                   const char *msg, bool has_status, int status)
{
	save_final_usage(c, e);
	/* A container that cannot be deleted now is deleted again at the
	 * agent's next recovery: its record says CTZ_DONE. */
	AG_IGNORE_RESULT(rt_container_delete(&c->rto, e->cid, true, NULL));
	emit(c, e, s, r, msg, has_status, status);
	e->st.phase = CTZ_DONE;
	e->st.final = s;
	e->st.done_at_ms = ctz__now_ms();
	/* Reported already: a record left saying the task runs makes the
	 * next recovery report its end again (at least once, never lost). */
	AG_IGNORE_RESULT(ctz__state_write(e, NULL));
}

/* The monitor is gone: its record says how the task ended. */
static void monitor_exited(struct ctz *c, struct ctz_entry *e)
{
	unwatch_monitor(c, e);
	if (e->launch_error) {
		/* Already reported as a failed launch; only clean up (again
		 * at the next recovery if this fails: its record is CTZ_DONE). */
		AG_IGNORE_RESULT(rt_container_delete(&c->rto, e->cid, true, NULL));
		return;
	}
	struct ctz_exit x;
	int r = ctz__exit_read(e->run_dir, &x);
	if (r < 0) {
		finish(c, e, PB_TASK_LOST, PB_REASON_EXECUTOR_TERMINATED,
		       "exit status unknown: the task's monitor is gone and recorded none", false,
		       0);
		return;
	}
	int status = x.exit_code >= 0 ? x.exit_code : 128 + x.signal;
	char msg[128];
	if (x.exit_code >= 0)
		snprintf(msg, sizeof(msg), "Command exited with status %d", x.exit_code);
	else
		snprintf(msg, sizeof(msg), "Command terminated by signal %s",
		         sigabbrev_np(x.signal) ? sigabbrev_np(x.signal) : "?");
	if (e->st.phase == CTZ_KILLING)
		finish(c, e, PB_TASK_KILLED, PB_REASON_UNSET, "Command killed on request", true,
		       status);
	else if (x.oom_kills > 0)
		finish(c, e, PB_TASK_FAILED, PB_REASON_CONTAINER_LIMITATION_MEMORY,
		       "Memory limit exceeded: the task was OOM-killed", true, status);
	else if (status == 0)
		finish(c, e, PB_TASK_FINISHED, PB_REASON_UNSET, msg, true, 0);
	else
		finish(c, e, PB_TASK_FAILED, PB_REASON_COMMAND_EXECUTOR_FAILED, msg, true, status);
}

/* ---- open / close ---- */

#ifndef AGORA_LIBEXEC_REL
#define AGORA_LIBEXEC_REL "../libexec/agora"
#endif

static char *monitor_default_path(void)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return ag_strdup("agora-monitor");
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	/* Programs are in build/bin; test drivers are in build/tests; an
	 * installed agent has its helpers in libexec/agora. */
	_cleanup_free_ char *here = ag_asprintf("%s/agora-monitor", exe);
	if (access(here, X_OK) == 0)
		return TAKE_PTR(here);
	_cleanup_free_ char *libexec = ag_asprintf("%s/%s/agora-monitor", exe, AGORA_LIBEXEC_REL);
	if (access(libexec, X_OK) == 0)
		return TAKE_PTR(libexec);
	return ag_asprintf("%s/../bin/agora-monitor", exe);
}

static int mkdir_checked(const char *p, mode_t mode, struct ag_error *err)
{
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return ag_error_set(err, errno, "create `%s`", p);
	return 0;
}

int ctz_open(const struct ctz_config *cfg, struct ctz **ret, struct ag_error *err)
{
	if (!cfg->work_dir || cfg->work_dir[0] != '/')
		return ag_error_msg(err, EINVAL, "the work directory must be an absolute path");
	struct ctz *c = ag_calloc(1, sizeof(*c));
	c->cfg = *cfg;
	if (c->cfg.sandbox_keep_ms <= 0)
		c->cfg.sandbox_keep_ms = WEEK_MS;
	c->epfd = c->timerfd = c->init_fd = -1;
	c->work_dir = ag_strdup(cfg->work_dir);
	c->run_dir = ag_asprintf("%s/run", cfg->work_dir);
	c->sbx_dir = ag_asprintf("%s/sandboxes", cfg->work_dir);
	c->rt_dir = ag_asprintf("%s/runtime", cfg->work_dir);
	c->hostview_dir = ag_asprintf("%s/hostview", cfg->work_dir);
	c->images_dir = cfg->images_dir ? ag_strdup(cfg->images_dir)
	                                : ag_asprintf("%s/images", cfg->work_dir);
	c->monitor_path = cfg->monitor_path ? ag_strdup(cfg->monitor_path) : monitor_default_path();
	c->cgroup_parent =
	        ag_strdup(cfg->cgroup_parent ? cfg->cgroup_parent : CTZ_DEFAULT_CGROUP_PARENT);
	c->cgroup_root = cfg->cgroup_root ? ag_strdup(cfg->cgroup_root) : NULL;
	c->fetch_cache_dir = cfg->fetch.cache_dir ? ag_strdup(cfg->fetch.cache_dir)
	                                          : ag_asprintf("%s/fetcher-cache", cfg->work_dir);
	c->cfg.fetch.cache_dir = c->fetch_cache_dir;
	c->rto = (struct rt_options){
	        .state_root = c->rt_dir,
	        .cgroups_disabled = cfg->cgroups_disabled,
	        .cgroup_root = c->cgroup_root,
	        .cgroup_parent = c->cgroup_parent,
	};
	int r = mkdir_checked(c->work_dir, 0700, err);
	if (r == 0)
		r = mkdir_checked(c->run_dir, 0700, err);
	if (r == 0)
		r = mkdir_checked(c->sbx_dir, 0755, err);
	if (r == 0)
		r = mkdir_checked(c->rt_dir, 0700, err);
	if (r == 0 && access(c->monitor_path, X_OK) < 0)
		r = cfg->monitor_path
		            ? ag_error_set(err, errno, "the monitor program `%s`", c->monitor_path)
		            : ag_error_set(err, errno,
		                           "the monitor program agora-monitor, looked for "
		                           "next to the agent, in " AGORA_LIBEXEC_REL
		                           " and in ../bin from it: `%s`",
		                           c->monitor_path);
	if (r == 0) {
		_cleanup_free_ char *ip = NULL;
		if (cfg->init_path) {
			ip = ag_strdup(cfg->init_path);
		} else {
			const char *slash = strrchr(c->monitor_path, '/');
			int dirlen = slash ? (int)(slash - c->monitor_path) : 1;
			ip = ag_asprintf("%.*s/agora-init", dirlen, slash ? c->monitor_path : ".");
		}
		/* Sealed: a task that opens /proc/1/exe (its init) can neither
		 * write nor resize it, and nothing on the host is behind it. */
		r = rt_sealed_copy(ip, "agora-init", &c->init_fd, err);
	}
	if (r == 0)
		r = ctz_ts_host_view_prepare(c->hostview_dir, &c->host_dirs, err);
	if (r == 0) {
		c->epfd = epoll_create1(EPOLL_CLOEXEC);
		c->timerfd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
		if (c->epfd < 0 || c->timerfd < 0)
			r = ag_error_set(err, errno, "epoll/timerfd");
	}
	if (r == 0) {
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
		epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->timerfd, &ev);
	}
	if (r < 0) {
		ctz_close(c);
		return r;
	}
	*ret = c;
	return 0;
}

void ctz_close(struct ctz *c)
{
	if (!c)
		return;
	ag_map_clear(&c->by_task);
	ag_map_clear(&c->by_cid);
	while (c->entries) {
		struct ctz_entry *e = c->entries;
		c->entries = e->next;
		entry_free(e);
	}
	if (c->epfd >= 0)
		close(c->epfd);
	if (c->timerfd >= 0)
		close(c->timerfd);
	if (c->init_fd >= 0)
		close(c->init_fd);
	ctz_ts_strv_free(c->host_dirs);
	free(c->work_dir);
	free(c->run_dir);
	free(c->sbx_dir);
	free(c->rt_dir);
	free(c->hostview_dir);
	free(c->images_dir);
	free(c->monitor_path);
	free(c->cgroup_parent);
	free(c->cgroup_root);
	free(c->fetch_cache_dir);
	free(c);
}

int ctz_fd(const struct ctz *c)
{
	return c->epfd;
}

size_t ctz_active(const struct ctz *c)
{
	size_t n = 0;
	for (const struct ctz_entry *e = c->entries; e; e = e->next)
		n += e->st.phase != CTZ_DONE;
	return n;
}

const char *ctz_sandbox_of(const struct ctz *c, const char *framework_id, const char *task_id)
{
	const struct ctz_entry *e = find_task(c, framework_id, task_id);
	return e ? e->sandbox : NULL;
}

pid_t ctz_monitor_pid(const struct ctz *c, const char *framework_id, const char *task_id)
{
	const struct ctz_entry *e = find_task(c, framework_id, task_id);
	return e ? e->monitor_pid : 0;
}

static const char *phase_name(enum ctz_phase p)
{
	switch (p) {
	case CTZ_LAUNCHING:
		return "launching";
	case CTZ_STARTING:
		return "starting";
	case CTZ_RUNNING:
		return "running";
	case CTZ_KILLING:
		return "killing";
	case CTZ_DONE:
		return "ended";
	}
	return "?";
}

void ctz_foreach(const struct ctz *c, ctz_info_fn fn, void *ctx)
{
	for (const struct ctz_entry *e = c->entries; e; e = e->next) {
		struct ctz_info i = {
		        .framework_id = e->framework_id,
		        .task_id = e->task_id,
		        .container_id = e->cid,
		        .sandbox = e->sandbox,
		        .phase = e->fetch ? "fetching" : phase_name(e->st.phase),
		        .ended = e->st.phase == CTZ_DONE,
		        .final = e->st.final,
		        .monitor_pid = e->monitor_pid,
		};
		fn(ctx, &i);
	}
}

int ctz_set_limits(struct ctz *c, const char *framework_id, const char *task_id,
                   const struct ctz_ts_limits *lim, struct ag_error *err)
{
	const struct ctz_entry *e = find_task(c, framework_id, task_id);
	if (!e || e->st.phase == CTZ_DONE)
		return ag_error_msg(err, ENOENT, "no running task `%s`", task_id);
	if (c->cfg.cgroups_disabled)
		return 0; /* no limits at all (--no_isolation) */
	return rt_container_set_limits(&c->rto, e->cid, lim->cpus, lim->mem_bytes, err);
}

int ctz_usage_json(const struct ctz *c, const char *framework_id, const char *task_id,
                   char **ret_json, struct ag_error *err)
{
	const struct ctz_entry *e = find_task(c, framework_id, task_id);
	if (!e)
		return ag_error_msg(err, ENOENT, "no task `%s`", task_id);
	if (c->cfg.cgroups_disabled)
		return ag_error_msg(err, EOPNOTSUPP,
		                    "not isolated (--no_isolation): tasks have no cgroup to read");
	if (e->st.phase != CTZ_DONE)
		return rt_container_stats_json(&c->rto, e->cid, ret_json, err);
	_cleanup_free_ char *path = ag_asprintf("%s/usage", e->run_dir);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return ag_error_set(err, errno, "task `%s` ended; its usage", task_id);
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return ag_error_msg(err, ENOENT, "task `%s` ended; no usage recorded", task_id);
	buf[n] = '\0';
	*ret_json = ag_strdup(buf);
	return 0;
}

int ctz_exec(struct ctz *c, const char *framework_id, const char *task_id, char *const *argv,
             char *const *env, int stdio_fd, int *ret_pidfd, pid_t *ret_pid, struct ag_error *err)
{
	const struct ctz_entry *e = find_task(c, framework_id, task_id);
	if (!e)
		return ag_error_msg(err, ENOENT, "no task `%s`", task_id);
	if (e->st.phase != CTZ_RUNNING)
		return ag_error_msg(err, ESRCH, "task `%s` is not running", task_id);
	int pidfd = -1, status = 0;
	pid_t pid = 0;
	struct rt_exec x = {
	        .argv = argv,
	        .env = env,
	        .detach = true,
	        .stdio_fd = stdio_fd,
	        .ret_pidfd = &pidfd,
	        .ret_pid = &pid,
	};
	int r = rt_container_exec(&c->rto, e->cid, &x, &status, err);
	if (r < 0)
		return r;
	if (pidfd < 0)
		return ag_error_msg(err, EIO, "exec in task `%s`: no pidfd", task_id);
	*ret_pidfd = pidfd;
	*ret_pid = pid;
	return 0;
}

/* ---- launch ---- */

static char *new_cid(void)
{
	unsigned char b[8];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		uint64_t t = ag_now_ns() ^ (uint64_t)getpid() << 32;
		memcpy(b, &t, sizeof(b));
	}
	return ag_asprintf("ctr-%02x%02x%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4],
	                   b[5], b[6], b[7]);
}

/* `userns_host_id`: with t->userns_root, the first host id of its range. */
static int build_spec(struct ctz *c, const struct ctz_task *t, const char *sandbox,
                      const char *run_dir, uint32_t userns_host_id, struct rt_spec **ret,
                      char **ret_json, struct ag_error *err)
{
	_cleanup_free_ char *json = NULL;
	int r;
	struct ctz_ts_limits lim = t->limits;
	lim.device_rules = !c->cfg.cgroups_disabled;
	if (t->command)
		r = ctz_ts_command_spec_json(t->command, &lim, c->hostview_dir, c->host_dirs,
		                             sandbox, c->work_dir, &json, err);
	else
		r = ctz_ts_oci_spec_json(t->oci_spec_json, c->images_dir, &lim, sandbox, &json,
		                         err);
	if (r == 0 && t->userns_root)
		r = ctz_userns_apply(&json, userns_host_id, c->cfg.userns.size, err);
	if (r < 0)
		return r;
	r = rt_spec_parse(json, strlen(json), run_dir, ret, err);
	if (r < 0)
		return r;
	/* agora-run creates a container without one; a task is run. */
	if (!(*ret)->has_process) {
		rt_spec_free(TAKE_PTR(*ret));
		return ag_error_msg(err, EINVAL, "process: is required (a task runs it)");
	}
	*ret_json = TAKE_PTR(json);
	return 0;
}

/* agora-init as pid 1: always for a command task (Mesos runs it under its
 * command executor, never as pid 1); for an OCI-like task too, as
 * `docker run --init`, unless its spec opts out with the annotation
 * "org.agora.init": "false" (an image that brings its own init). */
static bool wants_init(const struct ctz_task *t, const struct rt_spec *spec)
{
	if (t->command)
		return true;
	for (size_t i = 0; i < spec->n_annotations; i++)
		if (strcmp(spec->annotations[i].key, CTZ_INIT_ANNOTATION) == 0)
			return strcmp(spec->annotations[i].value, "false") != 0;
	return true;
}

static int write_config(const char *dir, const char *json)
{
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	return ag_write_file_durable_at(dfd, "config.json", json, strlen(json), 0600);
}

static int fsync_dir(const char *dir)
{
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		return -errno;
	return 0;
}

static int start(struct ctz *c, struct ctz_entry *e, struct rt_spec *spec, uid_t uid, gid_t gid,
                 bool init);

/* run/<cid>/fetching: there while the URIs are fetched, so that recovery
 * says why a task never started. Best effort: without it the message is
 * only less precise. */
#define FETCHING_MARK "fetching"

static void fetch_mark(const struct ctz_entry *e, bool on)
{
	_cleanup_free_ char *p = ag_asprintf("%s/" FETCHING_MARK, e->run_dir);
	if (on) {
		int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0)
			close(fd);
	} else {
		unlink(p);
	}
}

/* Start the fetch of `t`'s URIs into `e`'s sandbox, as the sandbox's
 * owner; the start waits for its end (fetch_ended). Takes `spec`. */
static int fetch_then_start(struct ctz *c, struct ctz_entry *e, const struct ctz_task *t,
                            struct rt_spec *spec, uid_t uid, gid_t gid)
{
	struct ag_error ferr = {0};
	fetch_mark(e, true);
	e->fetch_init = wants_init(t, spec);
	int r = fetch_job_start(&c->cfg.fetch, t->uris, t->n_uris, e->sandbox, uid, gid, &e->fetch,
	                        &ferr);
	if (r < 0) {
		rt_spec_free(spec);
		fetch_mark(e, false);
		_cleanup_free_ char *msg = ag_asprintf("Failed to fetch URIs: %s", ferr.msg);
		finish(c, e, PB_TASK_FAILED, PB_REASON_CONTAINER_LAUNCH_FAILED, msg, false, 0);
		timer_rearm(c);
		return 0;
	}
	e->fetch_spec = spec;
	e->fetch_uid = uid;
	e->fetch_gid = gid;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = e};
	epoll_ctl(c->epfd, EPOLL_CTL_ADD, fetch_job_fd(e->fetch), &ev);
	return 0;
}

/* The fetch of `e` ended: start its container, or fail it. */
static void fetch_ended(struct ctz *c, struct ctz_entry *e)
{
	epoll_ctl(c->epfd, EPOLL_CTL_DEL, fetch_job_fd(e->fetch), NULL);
	struct ag_error ferr = {0};
	int r = fetch_job_finish(e->fetch, &ferr);
	e->fetch = NULL;
	struct rt_spec *spec = e->fetch_spec;
	e->fetch_spec = NULL;
	fetch_mark(e, false);
	if (r < 0) {
		rt_spec_free(spec);
		_cleanup_free_ char *msg = ag_asprintf("Failed to fetch URIs: %s", ferr.msg);
		finish(c, e, PB_TASK_FAILED, PB_REASON_CONTAINER_LAUNCH_FAILED, msg, false, 0);
		return;
	}
	AG_IGNORE_RESULT(start(c, e, spec, e->fetch_uid, e->fetch_gid, e->fetch_init));
}

int ctz_launch(struct ctz *c, const struct ctz_task *t, char **ret_cid, struct ag_error *err)
{
	if (!t->task_id || !*t->task_id || strlen(t->task_id) > 512)
		return ag_error_msg(err, EINVAL, "task_id: must be 1 to 512 bytes");
	if (t->framework_id && strlen(t->framework_id) > 512)
		return ag_error_msg(err, EINVAL, "framework_id: must be up to 512 bytes");
	if (!t->command == !t->oci_spec_json)
		return ag_error_msg(err, EINVAL, "task: needs a command or an OCI spec, not both");
	struct ctz_entry *old = find_task(c, t->framework_id, t->task_id);
	if (old && old->st.phase != CTZ_DONE)
		return ag_error_msg(err, EEXIST, "task_id: `%s` is already running", t->task_id);

	_cleanup_free_ char *cid = new_cid();
	_cleanup_free_ char *sandbox = ag_asprintf("%s/%s", c->sbx_dir, cid);
	_cleanup_free_ char *run_dir = ag_asprintf("%s/%s", c->run_dir, cid);
	_cleanup_free_ char *tmp_dir = ag_asprintf("%s.tmp", run_dir);
	_cleanup_free_ char *json = NULL;
	struct rt_spec *spec = NULL;
	uid_t uid = t->command ? t->command->uid : 0;
	gid_t gid = t->command ? t->command->gid : 0;
	uint32_t userns_host_id = 0;
	if (t->userns_root) {
		/* Its own range of host ids, which no other task holds. */
		int k = ctz__userns_alloc(c, &userns_host_id, err);
		if (k < 0)
			return k;
	}

	if (mkdir(sandbox, 0755) < 0)
		return ag_error_set(err, errno, "create the sandbox `%s`", sandbox);
	int r = build_spec(c, t, sandbox, run_dir, userns_host_id, &spec, &json, err);
	if (r == 0 && t->userns_root) {
		/* The sandbox and its output belong to the task's user as the
		 * host sees it: its id inside through the range. */
		uint32_t size = c->cfg.userns.size, in_uid = spec->process.user.uid,
		         in_gid = spec->process.user.gid;
		uid = userns_host_id + (in_uid < size ? in_uid : 0);
		gid = userns_host_id + (in_gid < size ? in_gid : 0);
	}
	if (r == 0 && t->userns_root && t->oci_spec_json) {
		/* The image is the host root's: its root inside could not
		 * make the sandbox's mount point there. */
		r = ctz__mkdir_in_root(spec->root_path, CTZ_TS_SANDBOX_PATH);
		if (r < 0)
			r = ag_error_set(err, -r, "root.path: create %s in the image `%s`",
			                 CTZ_TS_SANDBOX_PATH, spec->root_path);
	}
	if (r == 0 && (uid || gid) && chown(sandbox, uid, gid) < 0)
		r = ag_error_set(err, errno, "chown the sandbox `%s`", sandbox);
	if (r < 0) {
		rt_spec_free(spec);
		rmdir(sandbox);
		return r;
	}

	/* The record exists, whole, before anything runs: written in a
	 * temporary directory and renamed into place, so that recovery sees
	 * a complete record or none (and then nothing ran). */
	struct ctz_entry *e = entry_new(c, t->framework_id, t->task_id, cid, sandbox);
	free(e->run_dir);
	e->run_dir = TAKE_PTR(tmp_dir);
	e->st.phase = CTZ_LAUNCHING;
	if (t->userns_root) {
		e->userns_host_id = userns_host_id;
		e->userns_size = c->cfg.userns.size;
	}
	if (mkdir(e->run_dir, 0700) < 0)
		r = -errno;
	if (r == 0)
		r = ctz__task_write(e->run_dir, e->framework_id, t->task_id, cid, sandbox);
	/* The range is in the record before any process holds its ids: a
	 * recovery never hands it out again while the task may run. */
	if (r == 0 && e->userns_size)
		r = ctz__userns_write(e->run_dir, e->userns_host_id, e->userns_size);
	if (r == 0)
		r = write_config(e->run_dir, json);
	if (r == 0)
		r = ctz__state_write(e, NULL);
	if (r == 0 && rename(e->run_dir, run_dir) < 0)
		r = -errno;
	if (r == 0)
		r = fsync_dir(c->run_dir);
	if (r < 0) {
		/* Refused with the error below; a `.tmp` record left over is
		 * removed by the next recovery, never launched. */
		AG_IGNORE_RESULT(ctz__rm_rf(e->run_dir));
		rmdir(sandbox);
		entry_unindex(c, e);
		c->entries = e->next;
		entry_free(e);
		rt_spec_free(spec);
		return ag_error_set(err, -r, "record task `%s` in `%s`", t->task_id, c->run_dir);
	}
	free(e->run_dir);
	e->run_dir = TAKE_PTR(run_dir);
	if (ret_cid)
		*ret_cid = ag_strdup(cid);
	if (t->n_uris > 0)
		return fetch_then_start(c, e, t, spec, uid, gid);
	return start(c, e, spec, uid, gid, wants_init(t, spec));
}

/* Report STARTING, create the container under its monitor, let it go:
 * the launch after the record (and the fetch). Takes `spec`. */
static int start(struct ctz *c, struct ctz_entry *e, struct rt_spec *spec, uid_t uid, gid_t gid,
                 bool init)
{
	const char *cid = e->cid;
	emit(c, e, PB_TASK_STARTING, PB_REASON_UNSET, NULL, false, 0);
	struct ag_error lerr = {0};
	pid_t mpid = 0;
	int r = ctz__spawn(c, e, spec, uid, gid, init, &mpid, &lerr);
	rt_spec_free(spec);
	if (r < 0) {
		finish(c, e, PB_TASK_FAILED, PB_REASON_CONTAINER_LAUNCH_FAILED, lerr.msg, false, 0);
		timer_rearm(c);
		return 0;
	}
	e->monitor_pid = mpid;
	int pidfd = (int)syscall(SYS_pidfd_open, mpid, 0);
	if (pidfd >= 0)
		watch_monitor(c, e, pidfd, true);

	/* Recorded before the start lets the container go: from here on it
	 * may run, and an agent killed at any moment finds out on recovery
	 * whether it did (rt_container_start_check), never "not started"
	 * for a task that ran. */
	e->st.phase = CTZ_STARTING;
	r = ctz__state_write(e, &lerr);
	bool let_go = r == 0;
	if (let_go)
		r = rt_container_start(&c->rto, cid, &lerr);
	if (r < 0) {
		/* The init died telling why (exec failed, ...): report that;
		 * the monitor's exit then only cleans up. Not let go (the
		 * state could not be written): the waiting init is ended. */
		if (!let_go)
			AG_IGNORE_RESULT(rt_container_delete(&c->rto, cid, true, NULL));
		e->launch_error = ag_strdup(lerr.msg);
		emit(c, e, PB_TASK_FAILED, PB_REASON_CONTAINER_LAUNCH_FAILED, lerr.msg, false, 0);
		e->st.phase = CTZ_DONE;
		e->st.final = PB_TASK_FAILED;
		e->st.done_at_ms = ctz__now_ms();
		/* Reported already; a record still "starting" makes the next
		 * recovery end the container and report it again. */
		AG_IGNORE_RESULT(ctz__state_write(e, NULL));
		/* What a delete here leaves, the next recovery deletes (the
		 * record is CTZ_DONE). */
		if (e->monitor_pidfd < 0)
			AG_IGNORE_RESULT(rt_container_delete(&c->rto, cid, true, NULL));
		return 0;
	}
	/* Recorded before it is reported: an agent killed after the report
	 * finds "running" (and tells a monitor gone without a record as a
	 * task that ran and was lost), never "starting" ("whether it ran is
	 * unknown") for a task the master saw running. If the write fails,
	 * "starting" stays on disk and recovery asks the container. */
	e->st.phase = CTZ_RUNNING;
	AG_IGNORE_RESULT(ctz__state_write(e, NULL));
	emit(c, e, PB_TASK_RUNNING, PB_REASON_UNSET, NULL, false, 0);
	e->st.reported_running = true;
	/* Lost in a crash, the next recovery reports RUNNING again (or the
	 * real end): a repeat, never a loss; no fsync needed. */
	AG_IGNORE_RESULT(ctz__state_note(e, NULL));
	return 0;
}

int ctz_adopt_framework(struct ctz *c, const char *task_id, const char *framework_id)
{
	int n = 0;
	for (struct ctz_entry *e = ag_map_get(&c->by_task, task_id); e; e = e->same_task) {
		if (*e->framework_id)
			continue;
		if (ctz__task_write(e->run_dir, framework_id, e->task_id, e->cid, e->sandbox) < 0)
			continue; /* stays ""; mapped again at the next start */
		free(e->framework_id);
		e->framework_id = ag_strdup(framework_id);
		n++;
	}
	return n;
}

/* ---- kill ---- */

static void send_sigkill(struct ctz *c, struct ctz_entry *e)
{
	e->sigkill_sent = true;
	/* cgroup.kill where there is a cgroup; otherwise the init, whose
	 * death ends its pid namespace. */
	/* Neither works only when the container has ended already (its
	 * monitor reports that) or its runtime state is gone. */
	if (rt_container_kill(&c->rto, e->cid, SIGKILL, true, NULL) < 0)
		AG_IGNORE_RESULT(rt_container_kill(&c->rto, e->cid, SIGKILL, false, NULL));
}

int ctz_kill(struct ctz *c, const char *framework_id, const char *task_id, int64_t grace_ms)
{
	struct ctz_entry *e = find_task(c, framework_id, task_id);
	if (e && e->fetch) {
		/* Never started: the fetch ends, nothing runs. */
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, fetch_job_fd(e->fetch), NULL);
		fetch_job_abort(e->fetch);
		e->fetch = NULL;
		rt_spec_free(e->fetch_spec);
		e->fetch_spec = NULL;
		fetch_mark(e, false);
		finish(c, e, PB_TASK_KILLED, PB_REASON_TASK_KILLED_DURING_LAUNCH,
		       "Killed while its URIs were fetched: it never started", false, 0);
		timer_rearm(c);
		return 0;
	}
	if (!e || e->st.phase == CTZ_DONE || e->st.phase == CTZ_LAUNCHING ||
	    e->st.phase == CTZ_STARTING)
		return -ENOENT;
	if (e->st.phase == CTZ_KILLING) {
		/* A second kill can only shorten the grace. */
		int64_t d = ctz__now_ms() + (grace_ms > 0 ? grace_ms : 0);
		if (d < e->st.kill_deadline_ms) {
			e->st.kill_deadline_ms = d;
			int r = ctz__state_write(e, NULL);
			if (r < 0 && !e->sigkill_sent)
				send_sigkill(c, e); /* as below */
			timer_rearm(c);
			return r;
		}
		return 0;
	}
	e->st.phase = CTZ_KILLING;
	e->st.kill_deadline_ms = ctz__now_ms() + (grace_ms > 0 ? grace_ms : 0);
	int r = ctz__state_write(e, NULL);
	emit(c, e, PB_TASK_KILLING, PB_REASON_UNSET, NULL, false, 0);
	/* A grace whose deadline is not on disk would not survive a restart
	 * (the task would run on, unkilled): without a record, no grace.
	 * A SIGTERM that cannot be sent is followed by SIGKILL at the
	 * grace's deadline anyway. */
	if (grace_ms > 0 && r == 0)
		AG_IGNORE_RESULT(rt_container_kill(&c->rto, e->cid, SIGTERM, false, NULL));
	else
		send_sigkill(c, e);
	timer_rearm(c);
	return r;
}

/* ---- the loop ---- */

static void timers_due(struct ctz *c)
{
	uint64_t n;
	while (read(c->timerfd, &n, sizeof(n)) > 0)
		;
	int64_t now = ctz__now_ms();
	for (struct ctz_entry *e = c->entries; e; e = e->next)
		if (e->st.phase == CTZ_KILLING && !e->sigkill_sent && e->st.kill_deadline_ms <= now)
			send_sigkill(c, e);
	AG_IGNORE_RESULT(ctz_gc(c, -1)); /* how many: nobody asks here */
}

int ctz_dispatch(struct ctz *c)
{
	struct epoll_event evs[32];
	int n;
	do
		n = epoll_wait(c->epfd, evs, AG_ARRAY_SIZE(evs), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	bool timer = false;
	for (int i = 0; i < n; i++) {
		struct ctz_entry *e = evs[i].data.ptr;
		if (!e)
			timer = true;
		else if (e->fetch)
			fetch_ended(c, e); /* no monitor while it fetches */
		else
			monitor_exited(c, e);
	}
	if (timer)
		timers_due(c);
	timer_rearm(c);
	return n;
}

int ctz_gc(struct ctz *c, int64_t keep_ms)
{
	if (keep_ms < 0)
		keep_ms = c->cfg.sandbox_keep_ms;
	int64_t now = ctz__now_ms();
	int removed = 0;
	for (struct ctz_entry **pp = &c->entries; *pp;) {
		struct ctz_entry *e = *pp;
		if (e->st.phase != CTZ_DONE || e->monitor_pidfd >= 0 ||
		    e->st.done_at_ms + keep_ms > now) {
			pp = &e->next;
			continue;
		}
		/* The record goes only with its sandbox: a sandbox that cannot
		 * be removed now keeps its record, and the next recovery tries
		 * again rather than leaving it behind unknown. */
		if (ctz__rm_rf(e->sandbox) == 0)
			AG_IGNORE_RESULT(ctz__rm_rf(e->run_dir)); /* retried likewise */
		entry_unindex(c, e);
		*pp = e->next;
		entry_free(e);
		removed++;
	}
	return removed;
}

/* ---- recovery ---- */

/* A pidfd of `pid` if it is still the process that started at `ticks`:
 * the fd, or -errno (-ESRCH for another process that took the pid). */
static int pidfd_of(pid_t pid, uint64_t ticks)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -errno;
	/* The pidfd pins the pid: comparing start times is now race-free. */
	uint64_t now = 0;
	int r = ctz__proc_start_ticks(pid, &now);
	if (r < 0 || now != ticks) {
		close(fd);
		return r < 0 ? r : -ESRCH;
	}
	return fd;
}

static bool pidfd_wait(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int n;
	do
		n = poll(&p, 1, ms);
	while (n < 0 && errno == EINTR);
	return n > 0;
}

/* How long recovery lets a fork of the dead agent finish creating a
 * container before it gives up on it. The fork makes progress unless the
 * runtime's create hangs (the agent itself would have waited as long for
 * its answer); a loaded host may take seconds. */
#define CREATE_WAIT_MS 60000

/* The runtime status of `cid` in *ret, once it no longer reads as being
 * created. While it does and its creator (the monitor behind `pidfd`,
 * still a fork of the dead agent) is alive, that fork is let finish (up to
 * CREATE_WAIT_MS): killed in the middle, it could leave a container's init
 * waiting for a start with no state that says where it is. Returns false
 * when the monitor has ended (before or meanwhile; a monitor nobody reaped
 * yet still has its pid): then its record, not the runtime, tells what
 * happened. */
static bool settled_status(struct ctz *c, const char *cid, int pidfd, enum rt_status *ret)
{
	int64_t start = ctz__now_ms(), warned = start;
	for (;;) {
		struct rt_state rs = {0};
		int r = rt_container_state(&c->rto, cid, &rs, NULL);
		enum rt_status s = r == 0 ? rs.status : RT_STATUS_CREATING;
		rt_state_free_contents(&rs);
		/* After the status: a monitor that ended before it was read
		 * (its container then reads as stopped, or as absent once
		 * the dead agent deleted it) is seen here. */
		if (pidfd_wait(pidfd, 0))
			return false;
		int64_t now = ctz__now_ms();
		if (s != RT_STATUS_CREATING || now - start >= CREATE_WAIT_MS) {
			*ret = s;
			return true;
		}
		if (now - warned >= 5000) {
			warned = now;
			ag_warn("container %s: still being created by the previous agent's fork "
			        "after %lld ms; waiting for it (at most %d ms)",
			        cid, (long long)(now - start), CREATE_WAIT_MS);
		}
		if (pidfd_wait(pidfd, 5))
			return false;
	}
}

/* One record of run/; counts what it found in *n. */
static void recover_one(struct ctz *c, const char *cid, struct ctz_recovery *n)
{
	_cleanup_free_ char *run_dir = ag_asprintf("%s/%s", c->run_dir, cid);
	_cleanup_free_ char *fw_id = NULL, *task_id = NULL, *sandbox = NULL;
	struct ctz_state st;
	if (ctz__task_read(run_dir, &fw_id, &task_id, &sandbox) < 0 ||
	    ctz__state_read(run_dir, &st) < 0) {
		/* Written whole or not at all: a damaged record is not ours
		 * to interpret. Leave it for an operator. */
		return;
	}
	struct ctz_entry *e = entry_new(c, fw_id, task_id, cid, sandbox);
	e->st = st;
	/* Its range of host ids stays held while it runs (none: -ENOENT). */
	if (ctz__userns_read(run_dir, &e->userns_host_id, &e->userns_size) < 0)
		e->userns_size = 0;
	if (st.phase == CTZ_DONE) {
		/* Idempotent; tried again at every recovery until it works. */
		AG_IGNORE_RESULT(rt_container_delete(&c->rto, cid, true, NULL));
		return;
	}
	pid_t mpid = 0;
	uint64_t ticks = 0;
	bool had_monitor = ctz__monitor_read(run_dir, &mpid, &ticks) == 0;
	int pidfd = had_monitor ? pidfd_of(mpid, ticks) : -1;
	e->monitor_pid = mpid;
	enum rt_status s = RT_STATUS_CREATING;
	if (pidfd >= 0 && !settled_status(c, cid, pidfd, &s)) {
		/* Ended: as if it was gone (below), whatever the runtime's
		 * state says now (the dead agent may have deleted the
		 * container after the end it already reported). */
		close(pidfd);
		pidfd = -1;
	}
	if (pidfd >= 0) {
		bool started =
		        s == RT_STATUS_RUNNING || s == RT_STATUS_PAUSED || s == RT_STATUS_STOPPED;
		struct ag_error cerr = {0};
		int r = 0;
		if (s == RT_STATUS_CREATED) {
			/* Reads as created also when the agent died after the
			 * start let it go: ask what its process holds. */
			r = rt_container_start_check(&c->rto, cid, &started, &cerr);
			if (r == -ESRCH) {
				/* Ended meanwhile: the monitor records how. */
				started = true;
				r = 0;
			}
		} else if (!started && e->st.phase != CTZ_LAUNCHING) {
			r = ag_error_msg(&cerr, EINVAL, "its container is %s", rt_status_name(s));
		}
		if (started) {
			watch_monitor(c, e, pidfd, false);
			n->running++;
			if (e->st.phase == CTZ_LAUNCHING || e->st.phase == CTZ_STARTING ||
			    (e->st.phase == CTZ_RUNNING && !e->st.reported_running)) {
				/* Started just before the agent died. */
				e->st.phase = CTZ_RUNNING;
				e->st.reported_running = true;
				emit(c, e, PB_TASK_RUNNING, PB_REASON_UNSET, NULL, false, 0);
				/* Unrecorded, it is reported again at the
				 * next recovery: a repeat, never a loss. */
				AG_IGNORE_RESULT(ctz__state_write(e, NULL));
			}
			return;
		}
		/* Created and still waiting for its start (or still being
		 * created by a fork of the dead agent, before any start): it
		 * never ran; end it, it is never relaunched. */
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		pidfd_wait(pidfd, 5000);
		close(pidfd);
		if (r < 0) {
			n->lost++;
			_cleanup_free_ char *msg = ag_asprintf(
			        "the agent restarted while starting the task and cannot tell "
			        "whether it ran (%s); it was ended and is not relaunched",
			        cerr.msg);
			finish(c, e, PB_TASK_LOST, PB_REASON_AGENT_RESTARTED, msg, false, 0);
			return;
		}
		n->unlaunched++;
		finish(c, e, PB_TASK_FAILED, PB_REASON_AGENT_RESTARTED,
		       "the agent restarted during the launch: the task never started and is not "
		       "relaunched",
		       false, 0);
		return;
	}
	struct ctz_exit x;
	if (ctz__exit_read(run_dir, &x) == 0) {
		n->ended++;
		monitor_exited(c, e); /* ended while the agent was away */
		return;
	}
	_cleanup_free_ char *mark = ag_asprintf("%s/" FETCHING_MARK, run_dir);
	if (st.phase == CTZ_LAUNCHING && access(mark, F_OK) == 0) {
		n->unlaunched++;
		unlink(mark);
		finish(c, e, PB_TASK_FAILED, PB_REASON_AGENT_RESTARTED,
		       "the agent restarted while the task's URIs were fetched: the task never "
		       "started and is not relaunched",
		       false, 0);
		return;
	}
	if (st.phase == CTZ_LAUNCHING) {
		/* "starting" is written before any start: none was made. */
		n->unlaunched++;
		finish(c, e, PB_TASK_FAILED, PB_REASON_AGENT_RESTARTED,
		       "the agent restarted during the launch: the task never started and is not "
		       "relaunched",
		       false, 0);
		return;
	}
	n->lost++;
	if (st.phase == CTZ_STARTING) {
		finish(c, e, PB_TASK_LOST, PB_REASON_AGENT_RESTARTED,
		       "the agent restarted while starting the task and its monitor is gone "
		       "without a record: whether it ran is unknown; it is not relaunched",
		       false, 0);
		return;
	}
	finish(c, e, PB_TASK_LOST, PB_REASON_EXECUTOR_TERMINATED,
	       "exit status unknown: the task's monitor is gone and recorded none", false, 0);
}

int ctz_recover(struct ctz *c, struct ctz_recovery *ret_counts, struct ag_error *err)
{
	struct ctz_recovery counts = {0};
	DIR *d = opendir(c->run_dir);
	if (!d)
		return ag_error_set(err, errno, "list `%s`", c->run_dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		names = ag_realloc(names, (n + 1) * sizeof(*names));
		names[n++] = ag_strdup(de->d_name);
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]);
		if (len > 4 && strcmp(names[i] + len - 4, ".tmp") == 0) {
			/* A record never completed: nothing was launched and
			 * nothing reported. */
			_cleanup_free_ char *p = ag_asprintf("%s/%s", c->run_dir, names[i]);
			_cleanup_free_ char *tid = NULL, *sb = NULL;
			if (ctz__task_read(p, NULL, &tid, &sb) == 0)
				rmdir(sb);
			/* Left for the next recovery if it cannot go now. */
			AG_IGNORE_RESULT(ctz__rm_rf(p));
		} else if (!find_task_by_cid(c, names[i])) {
			recover_one(c, names[i], &counts);
		}
		free(names[i]);
	}
	free(names);
	timer_rearm(c);
	if (ret_counts)
		*ret_counts = counts;
	return 0;
}
