/* container.c: the lifecycle: create, start, run, state, list, kill,
 * delete, pause, pids, stats (exec is in exec.c). */
#include "internal.h"

#include "common/proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

const char *rt__seccomp_cache_dir(const struct rt_options *o, char *buf, size_t n)
{
	if (o->seccomp_cache)
		return o->seccomp_cache;
	snprintf(buf, n, "%s/.seccomp", o->state_root ? o->state_root : RT_DEFAULT_STATE_ROOT);
	return buf;
}

int rt__pidfd_open_checked(pid_t pid, uint64_t ticks, int *ret_fd)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -errno;
	/* The pidfd pins the process; only now is comparing start times free
	 * of races with pid reuse. */
	uint64_t now = 0;
	bool zombie = false;
	if (rt__pid_start_ticks(pid, &now, &zombie) < 0 || now != ticks || zombie) {
		close(fd);
		return -ESRCH;
	}
	*ret_fd = fd;
	return 0;
}

/* Waits until the process behind `pidfd` exits, at most `ms`. */
static bool pidfd_wait_exit(int pidfd, int ms)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	int n;
	do
		n = poll(&p, 1, ms);
	while (n < 0 && errno == EINTR);
	return n > 0;
}

void rt__roots_close(struct rt__roots *c)
{
	if (c->rootfd >= 0)
		close(c->rootfd);
	if (c->cg_rootfd >= 0)
		close(c->cg_rootfd);
}

int rt__roots_open(struct rt__roots *c, const struct rt_options *o, bool create,
                   struct ag_error *err)
{
	c->o = o;
	c->rootfd = -1;
	c->cg_rootfd = -1;
	int r = rt__state_root_open(o, create, &c->rootfd, err);
	if (r < 0)
		return r;
	/* Without a cgroup2 hierarchy, cg_rootfd stays -1: rt__cg_setup
	 * refuses to create a container then, saying so; state, kill and
	 * delete work without it. */
	if (!o->cgroups_disabled)
		AG_IGNORE_RESULT(rt__cg_root(o, &c->cg_rootfd));
	return 0;
}

static int load_state(struct rt__roots *c, const char *id, int *ret_dirfd, struct rt_state *st,
                      struct ag_error *err)
{
	if (!rt_id_is_valid(id))
		return ag_error_msg(
		        err, EINVAL,
		        "container id `%s`: use 1 to 128 of [A-Za-z0-9_.-], not starting "
		        "with '.'",
		        id);
	_cleanup_close_ int dfd = -1;
	int r = rt__state_dir_open(c->rootfd, id, &dfd, err);
	if (r < 0)
		return r;
	r = rt__state_read(dfd, id, !c->o->cgroups_disabled, c->cg_rootfd, st, err);
	if (r < 0)
		return r;
	if (ret_dirfd)
		*ret_dirfd = TAKE_FD(dfd);
	return 0;
}

/* The preamble of every call on an existing container: open the state
 * root (and cgroup root) and read the container's state. On failure
 * nothing is left open. */
int rt__container_open(struct rt__roots *c, const struct rt_options *o, const char *id,
                       int *ret_dirfd, struct rt_state *st, struct ag_error *err)
{
	*st = (struct rt_state){0};
	int r = rt__roots_open(c, o, false, err);
	if (r < 0)
		return r;
	r = load_state(c, id, ret_dirfd, st, err);
	if (r < 0)
		rt__roots_close(c);
	return r;
}

void rt__container_close(struct rt__roots *c, struct rt_state *st)
{
	rt_state_free_contents(st);
	rt__roots_close(c);
}

/* Operations that only exist through the container's cgroup. */
static int need_cgroup(const struct rt__roots *c, const struct rt_state *st, const char *what,
                       struct ag_error *err)
{
	if (st->cgroup_path && c->cg_rootfd >= 0)
		return 0;
	return ag_error_msg(err, EOPNOTSUPP,
	                    "%s `%s`: needs its cgroup (it was created with "
	                    "--cgroup-manager=disabled)",
	                    what, st->id);
}

/* The state a hook reads on its stdin: with the container's annotations
 * (those of `spec`). */
static char *state_json_for_hooks(const char *id, pid_t pid, const char *bundle,
                                  enum rt_status status, const struct rt_spec *spec)
{
	struct rt_state st = {.id = (char *)id,
	                      .pid = pid,
	                      .bundle = (char *)bundle,
	                      .status = status,
	                      .annotations = spec->annotations,
	                      .n_annotations = spec->n_annotations};
	char *j = rt_state_to_json(&st);
	return j ? j : ag_strdup("{}");
}

/* Everything create and run share. On failure nothing is left. */
static int create_common(struct rt__roots *c, const char *id, const char *bundle,
                         const struct rt_spec *spec, const struct rt_stdio *io, bool wait_start,
                         pid_t *ret_pid, int *ret_pidfd, char **ret_cg_path, int *ret_console,
                         struct ag_error *err)
{
	if (!rt_id_is_valid(id))
		return ag_error_msg(
		        err, EINVAL,
		        "container id `%s`: use 1 to 128 of [A-Za-z0-9_.-], not starting "
		        "with '.'",
		        id);
	int r = rt__launch_check(spec, err);
	if (r < 0)
		return r;
	/* Without a process a container can be created, never run. */
	if (!spec->has_process && !wait_start)
		return ag_error_msg(err, EINVAL,
		                    "process: is required to run a container (config.json has "
		                    "none; create accepts that, start then fails)");
	/* A created container's terminal must go somewhere before create
	 * returns: the caller's console socket. */
	if (spec->process.terminal && wait_start && c->o->console_socket <= 0)
		return ag_error_msg(err, EINVAL,
		                    "process.terminal: create needs a console socket to hand the "
		                    "terminal to (--console-socket PATH)");

	_cleanup_close_ int sfd = -1;
	r = rt__state_dir_create(c->rootfd, id, &sfd, err);
	if (r < 0)
		return r;

	struct rt_launch l = {
	        .o = c->o,
	        .id = id,
	        .bundle = bundle,
	        .spec = spec,
	        .io = io ? *io : RT_STDIO_INHERIT,
	        .cgroup_fd = -1,
	        .state_fd = sfd,
	        .wait_start = wait_start,
	};
	_cleanup_free_ char *cg_path = NULL;
	_cleanup_close_ int console = -1;
	pid_t pid = 0;
	int pidfd = -1;

	if (wait_start && mkfifoat(sfd, "exec.fifo", 0600) < 0) {
		r = ag_error_set(err, errno, "create exec.fifo");
		goto fail;
	}
	if (!c->o->cgroups_disabled)
		r = rt__cg_setup(c->o, c->cg_rootfd, id, spec, &l.cgroup_fd, &cg_path, err);
	else
		r = rt__cg_check_disabled(spec, err);
	if (r < 0)
		goto fail;
	if (spec->seccomp) {
		char buf[4096];
		r = rt__seccomp_get(spec->seccomp, rt__seccomp_cache_dir(c->o, buf, sizeof(buf)),
		                    &l.bpf, err);
		if (r < 0)
			goto fail;
	}

	r = rt__launch(&l, &pid, &pidfd, err);
	rt__bpf_free(&l.bpf);
	if (l.cgroup_fd >= 0)
		close(l.cgroup_fd);
	if (r < 0)
		goto fail;
	console = l.console_fd;
	if (console >= 0 && c->o->console_socket > 0) {
		r = rt__console_send(c->o->console_socket, console, err);
		if (r < 0)
			goto fail;
		close(TAKE_FD(console));
	}

	struct rt_state st = {
	        .id = (char *)id,
	        .pid = pid,
	        .bundle = (char *)bundle,
	        .rootfs = spec->root_path,
	        .cgroup_path = cg_path,
	        .created_unix_ns = ag_wall_ns(),
	        .owner = getuid(),
	        .annotations = spec->annotations,
	        .n_annotations = spec->n_annotations,
	};
	r = rt__pid_start_ticks(pid, &st.pid_start_ticks, NULL);
	if (r < 0) {
		r = ag_error_set(err, -r, "read the start time of pid %d", (int)pid);
		goto fail;
	}
	r = rt__state_write(sfd, &st, err);
	if (r < 0)
		goto fail;
	*ret_pid = pid;
	*ret_pidfd = pidfd;
	if (ret_cg_path)
		*ret_cg_path = TAKE_PTR(cg_path);
	if (ret_console)
		*ret_console = TAKE_FD(console);
	return 0;

fail:
	if (pidfd >= 0) {
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		waitpid(pid, NULL, 0);
		close(pidfd);
	}
	/* The create's own error is the one reported; what cannot be
	 * cleaned up here is what a delete of the id cleans up. */
	if (cg_path)
		AG_IGNORE_RESULT(rt__cg_destroy(c->cg_rootfd, cg_path));
	AG_IGNORE_RESULT(rt__state_dir_remove(c->rootfd, id));
	return r;
}

int rt_container_create(const struct rt_options *o, const char *id, const char *bundle,
                        const struct rt_spec *spec, const struct rt_stdio *io, pid_t *ret_pid,
                        struct ag_error *err)
{
	struct rt__roots c;
	int r = rt__roots_open(&c, o, true, err);
	if (r < 0)
		return r;
	pid_t pid = 0;
	int pidfd = -1;
	r = create_common(&c, id, bundle, spec, io, true, &pid, &pidfd, NULL, NULL, err);
	if (r == 0) {
		close(pidfd);
		if (ret_pid)
			*ret_pid = pid;
	}
	rt__roots_close(&c);
	return r;
}

int rt_container_start(const struct rt_options *o, const char *id, struct ag_error *err)
{
	struct rt__roots c;
	struct rt_state st;
	_cleanup_close_ int dfd = -1, pidfd = -1, fifo = -1;
	int r = rt__container_open(&c, o, id, &dfd, &st, err);
	if (r < 0)
		return r;
	if (st.status != RT_STATUS_CREATED) {
		r = ag_error_msg(err, EINVAL,
		                 "container `%s` is %s: only a created container can "
		                 "be started",
		                 id, rt_status_name(st.status));
		goto out;
	}
	r = rt__pidfd_open_checked(st.pid, st.pid_start_ticks, &pidfd);
	if (r < 0) {
		r = ag_error_set(err, -r, "container `%s`: its process is gone", id);
		goto out;
	}
	fifo = openat(dfd, "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fifo < 0) {
		r = ag_error_set(err, errno, "open exec.fifo of `%s`", id);
		goto out;
	}
	/* The child's open for writing completes now; it then either execs
	 * (the fifo hangs up with nothing written) or writes why it failed.
	 * The pidfd covers a child that dies without a word. */
	char msg[AG_ERROR_MSG_MAX];
	size_t got = 0;
	for (;;) {
		struct pollfd p[2] = {{.fd = fifo, .events = POLLIN},
		                      {.fd = pidfd, .events = POLLIN}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = ag_error_set(err, errno, "wait for `%s` to start", id);
			goto out;
		}
		if (p[0].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(fifo, msg + got, sizeof(msg) - 1 - got);
			if (n > 0) {
				got += (size_t)n;
				if (got < sizeof(msg) - 1)
					continue;
			}
			if (n < 0 && errno == EAGAIN)
				continue;
			break;
		}
		if (p[1].revents) {
			/* Died: whatever it wrote is still in the fifo. */
			ssize_t n = read(fifo, msg + got, sizeof(msg) - 1 - got);
			if (n > 0)
				got += (size_t)n;
			if (got == 0) {
				r = ag_error_set(err, 0,
				                 "container `%s` exited before it could start", id);
				goto out;
			}
			break;
		}
	}
	unlinkat(dfd, "exec.fifo", 0);
	if (got) {
		msg[got] = '\0';
		r = ag_error_set(err, 0, "start `%s`: %s", id, msg);
		goto out;
	}
	/* poststart hooks: one that fails is a warning, the others still
	 * run and the start stands (OCI: "the runtime MUST log a warning,
	 * but the remaining hooks and lifecycle continue"). */
	if (st.bundle) {
		struct rt_spec *spec = NULL;
		struct ag_error e = {0};
		if (rt_spec_load(st.bundle, &spec, &e) < 0)
			rt__warn(o, "start `%s`: no poststart hooks run: %s", id, e.msg);
		else if (spec->hooks.n[RT_HOOK_POSTSTART]) {
			_cleanup_free_ char *sj = state_json_for_hooks(id, st.pid, st.bundle,
			                                               RT_STATUS_RUNNING, spec);
			rt__hooks_run_all(o, spec, RT_HOOK_POSTSTART, sj);
		}
		rt_spec_free(spec);
	}
out:
	rt__container_close(&c, &st);
	return r;
}

static volatile sig_atomic_t forward_pidfd = -1;

static void forward_signal(int sig)
{
	int saved = errno;
	if (sig == SIGWINCH)
		rt__console_note_winch();
	if (forward_pidfd >= 0)
		syscall(SYS_pidfd_send_signal, forward_pidfd, sig, NULL, 0);
	errno = saved;
}

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

/* Waits for our child behind `pidfd`, forwarding signals to it; with a
 * terminal `console` (>= 0), relaying it to `io` meanwhile. */
int rt__wait_forwarding(pid_t pid, int pidfd, int console, const struct rt_stdio *io,
                        bool follow_size, int *ret_status)
{
	struct sigaction sa = {.sa_handler = forward_signal}, old[AG_ARRAY_SIZE(forwarded)];
	sigemptyset(&sa.sa_mask);
	forward_pidfd = pidfd;
	for (size_t i = 0; i < AG_ARRAY_SIZE(forwarded); i++)
		sigaction(forwarded[i], &sa, &old[i]);
	int status = 0, r = 0;
	if (console >= 0) {
		int in = io && io->in >= 0 ? io->in : 0;
		int out = io && io->out >= 0 ? io->out : 1;
		/* A relay that fails (the terminal went away) leaves the
		 * container to run to its end: its status is what counts. */
		AG_IGNORE_RESULT(rt__console_relay(console, in, out, pidfd, follow_size));
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			r = -errno;
			break;
		}
	}
	forward_pidfd = -1;
	for (size_t i = 0; i < AG_ARRAY_SIZE(forwarded); i++)
		sigaction(forwarded[i], &old[i], NULL);
	if (r == 0)
		*ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return r;
}

/* Remove the container's cgroup, then its state, then run its poststop
 * hooks. A cgroup that cannot be removed (processes that outlive the
 * kill) keeps the state, so that a later delete finds it again. */
static int delete_now(struct rt__roots *c, const char *id, const char *cg_path,
                      const struct rt_spec *spec, pid_t pid, const char *bundle,
                      struct ag_error *err)
{
	int r = cg_path ? rt__cg_destroy(c->cg_rootfd, cg_path) : 0;
	if (r < 0)
		return ag_error_set(err, -r, "remove the cgroup `%s` of container `%s`", cg_path,
		                    id);
	r = rt__state_dir_remove(c->rootfd, id);
	if (r < 0)
		return ag_error_set(err, -r, "remove the state of container `%s`", id);
	if (spec && spec->hooks.n[RT_HOOK_POSTSTOP]) {
		_cleanup_free_ char *sj =
		        state_json_for_hooks(id, pid, bundle, RT_STATUS_STOPPED, spec);
		/* OCI: a poststop hook that fails is a warning, the others
		 * still run; the delete stands. */
		rt__hooks_run_all(c->o, spec, RT_HOOK_POSTSTOP, sj);
	}
	return 0;
}

int rt_container_run(const struct rt_options *o, const char *id, const char *bundle,
                     const struct rt_spec *spec, const struct rt_stdio *io, struct rt_exit *ret,
                     struct ag_error *err)
{
	*ret = (struct rt_exit){0};
	struct rt__roots c;
	int r = rt__roots_open(&c, o, true, err);
	if (r < 0)
		return r;
	pid_t pid = 0;
	int pidfd = -1;
	_cleanup_free_ char *cg_path = NULL;
	_cleanup_close_ int console = -1;
	r = create_common(&c, id, bundle, spec, io, false, &pid, &pidfd, &cg_path, &console, err);
	if (r < 0)
		goto out;
	if (spec->hooks.n[RT_HOOK_POSTSTART]) {
		_cleanup_free_ char *sj =
		        state_json_for_hooks(id, pid, bundle, RT_STATUS_RUNNING, spec);
		/* OCI: a poststart hook that fails is a warning; the others
		 * run and the lifecycle goes on as if it had succeeded. */
		rt__hooks_run_all(o, spec, RT_HOOK_POSTSTART, sj);
	}
	r = rt__wait_forwarding(pid, pidfd, console, io, !spec->process.has_console_size,
	                        &ret->status);
	close(pidfd);
	if (r < 0)
		ag_error_set(err, -r, "wait for container `%s`", id);

	if (cg_path && c.cg_rootfd >= 0)
		ret->oom_killed = rt__cg_oom_kills(c.cg_rootfd, cg_path) > 0;
	/* The run's status stands; a container it cannot delete after is
	 * an error too (its cgroup or state would be left behind unseen). */
	int d = delete_now(&c, id, cg_path, spec, pid, bundle, r < 0 ? NULL : err);
	if (r == 0)
		r = d;
out:
	rt__roots_close(&c);
	return r;
}

int rt_container_state(const struct rt_options *o, const char *id, struct rt_state *ret,
                       struct ag_error *err)
{
	struct rt__roots c;
	int r = rt__roots_open(&c, o, false, err);
	if (r < 0)
		return r;
	r = load_state(&c, id, NULL, ret, err);
	rt__roots_close(&c);
	return r;
}

static int cmp_state(const void *a, const void *b)
{
	return strcmp(((const struct rt_state *)a)->id, ((const struct rt_state *)b)->id);
}

int rt_container_list(const struct rt_options *o, struct rt_state **ret, size_t *ret_n,
                      struct ag_error *err)
{
	*ret = NULL;
	*ret_n = 0;
	struct rt__roots c;
	int r = rt__roots_open(&c, o, false, err);
	if (r == -ENOENT) {
		ag_error_clear(err);
		return 0; /* no state root yet: no containers */
	}
	if (r < 0)
		return r;
	int dup = fcntl(c.rootfd, F_DUPFD_CLOEXEC, 3);
	DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
	if (!d) {
		r = ag_error_set(err, errno, "list the state root");
		if (dup >= 0)
			close(dup);
		rt__roots_close(&c);
		return r;
	}
	struct rt_state *list = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!rt_id_is_valid(de->d_name))
			continue;
		struct rt_state st;
		if (load_state(&c, de->d_name, NULL, &st, NULL) < 0)
			continue;
		list = ag_realloc(list, (n + 1) * sizeof(*list));
		list[n++] = st;
	}
	closedir(d);
	qsort(list, n, sizeof(*list), cmp_state);
	*ret = list;
	*ret_n = n;
	rt__roots_close(&c);
	return 0;
}

int rt_container_kill(const struct rt_options *o, const char *id, int sig, bool all,
                      struct ag_error *err)
{
	struct rt__roots c;
	struct rt_state st;
	_cleanup_close_ int pidfd = -1;
	int r = rt__container_open(&c, o, id, NULL, &st, err);
	if (r < 0)
		return r;
	if (st.status == RT_STATUS_STOPPED || st.status == RT_STATUS_CREATING) {
		r = ag_error_msg(err, ESRCH, "container `%s` is %s: nothing to signal", id,
		                 rt_status_name(st.status));
		goto out;
	}
	if (all && st.cgroup_path && c.cg_rootfd >= 0) {
		r = rt__cg_signal_all(c.cg_rootfd, st.cgroup_path, sig);
		if (r < 0)
			ag_error_set(err, -r, "signal the processes of `%s`", id);
		goto out;
	}
	r = rt__pidfd_open_checked(st.pid, st.pid_start_ticks, &pidfd);
	if (r == 0 && syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
		r = -errno;
	if (r < 0)
		ag_error_set(err, -r, "signal %d to container `%s`", sig, id);
out:
	rt__container_close(&c, &st);
	return r;
}

int rt_container_delete(const struct rt_options *o, const char *id, bool force,
                        struct ag_error *err)
{
	struct rt__roots c;
	struct rt_state st;
	int r = rt__container_open(&c, o, id, NULL, &st, err);
	if (r < 0)
		return r;
	/* OCI: deleting a container that is not stopped MUST fail; a created
	 * one too, although its process never ran the program. */
	if (st.status != RT_STATUS_STOPPED && !force) {
		r = ag_error_msg(err, EBUSY,
		                 "container `%s` is %s, not stopped: kill it first, or delete "
		                 "--force",
		                 id, rt_status_name(st.status));
		goto out;
	}
	if (st.status != RT_STATUS_STOPPED && st.pid > 0) {
		/* A created container's init is ours to end too. */
		_cleanup_close_ int pidfd = -1;
		if (rt__pidfd_open_checked(st.pid, st.pid_start_ticks, &pidfd) == 0) {
			if (st.cgroup_path && c.cg_rootfd >= 0)
				/* What this misses, cg_remove (delete_now)
				 * kills. */
				AG_IGNORE_RESULT(
				        rt__cg_signal_all(c.cg_rootfd, st.cgroup_path, SIGKILL));
			syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
			/* Reap it if it is our child; otherwise its parent will. */
			waitpid(st.pid, NULL, WNOHANG);
			if (!pidfd_wait_exit(pidfd, 5000)) {
				r = ag_error_msg(err, ETIMEDOUT,
				                 "container `%s` did not die on SIGKILL", id);
				goto out;
			}
		}
	}
	struct rt_spec *spec = NULL;
	/* A bundle gone or broken since the create has no poststop hooks to
	 * run: the delete goes on without them. */
	if (st.bundle)
		AG_IGNORE_RESULT(rt_spec_load(st.bundle, &spec, NULL));
	r = delete_now(&c, id, st.cgroup_path, spec, st.pid, st.bundle, err);
	rt_spec_free(spec);
out:
	rt__container_close(&c, &st);
	return r;
}

int rt_container_pause(const struct rt_options *o, const char *id, bool pause, struct ag_error *err)
{
	struct rt__roots c;
	struct rt_state st;
	int r = rt__container_open(&c, o, id, NULL, &st, err);
	if (r < 0)
		return r;
	r = need_cgroup(&c, &st, pause ? "pause" : "resume", err);
	if (r < 0)
		goto out;
	if (pause ? st.status != RT_STATUS_RUNNING : st.status != RT_STATUS_PAUSED) {
		r = ag_error_msg(err, EINVAL, "container `%s` is %s", id,
		                 rt_status_name(st.status));
		goto out;
	}
	r = rt__cg_freeze(c.cg_rootfd, st.cgroup_path, pause, err);
out:
	rt__container_close(&c, &st);
	return r;
}

/* Descendants of `root` by parent pid, from /proc: the fallback without a
 * cgroup. */
static int pids_from_proc(pid_t root, pid_t **ret, size_t *ret_n)
{
	DIR *d = opendir("/proc");
	if (!d)
		return -errno;
	pid_t *all = NULL, *parent = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		char *end;
		long p = strtol(de->d_name, &end, 10);
		if (*end || p <= 0)
			continue;
		struct ag_proc_stat ps;
		if (ag_proc_stat_read((pid_t)p, &ps) < 0)
			continue; /* gone meanwhile */
		all = ag_realloc(all, (n + 1) * sizeof(*all));
		parent = ag_realloc(parent, (n + 1) * sizeof(*parent));
		all[n] = (pid_t)p;
		parent[n] = ps.ppid;
		n++;
	}
	closedir(d);
	pid_t *out = ag_malloc((n + 1) * sizeof(*out));
	size_t m = 0;
	out[m++] = root;
	/* Breadth-first over the parent links. */
	for (size_t i = 0; i < m; i++)
		for (size_t k = 0; k < n; k++)
			if (parent[k] == out[i])
				out[m++] = all[k];
	free(all);
	free(parent);
	*ret = out;
	*ret_n = m;
	return 0;
}

int rt_container_pids(const struct rt_options *o, const char *id, pid_t **ret, size_t *ret_n,
                      struct ag_error *err)
{
	struct rt__roots c;
	struct rt_state st;
	int r = rt__container_open(&c, o, id, NULL, &st, err);
	if (r < 0)
		return r;
	if (st.status == RT_STATUS_STOPPED || st.status == RT_STATUS_CREATING) {
		*ret = NULL;
		*ret_n = 0;
		goto out;
	}
	if (st.cgroup_path && c.cg_rootfd >= 0)
		r = rt__cg_pids(c.cg_rootfd, st.cgroup_path, ret, ret_n);
	else
		r = pids_from_proc(st.pid, ret, ret_n);
	if (r < 0)
		ag_error_set(err, -r, "list the processes of `%s`", id);
out:
	rt__container_close(&c, &st);
	return r;
}

int rt_container_set_limits(const struct rt_options *o, const char *id, double cpus,
                            uint64_t mem_bytes, struct ag_error *err)
{
	struct rt__roots c;
	struct rt_state st;
	int r = rt__container_open(&c, o, id, NULL, &st, err);
	if (r < 0)
		return r;
	r = need_cgroup(&c, &st, "update", err);
	if (r == 0)
		r = rt__cg_set_cpu_mem(c.cg_rootfd, st.cgroup_path, cpus, mem_bytes, err);
	rt__container_close(&c, &st);
	return r;
}

int rt_container_stats_json(const struct rt_options *o, const char *id, char **ret_json,
                            struct ag_error *err)
{
	struct rt__roots c;
	struct rt_state st;
	int r = rt__container_open(&c, o, id, NULL, &st, err);
	if (r < 0)
		return r;
	r = need_cgroup(&c, &st, "stats", err);
	if (r < 0)
		goto out;
	r = rt__cg_stats_json(c.cg_rootfd, st.cgroup_path, id, ret_json, err);
out:
	rt__container_close(&c, &st);
	return r;
}
