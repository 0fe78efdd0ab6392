/* launch.c: clone the container's init and set it up.
 *
 * One clone3() creates every new namespace at once, places the child in its
 * cgroup (CLONE_INTO_CGROUP: no cgroup.procs write, ~0.2 ms saved) and hands
 * back a pidfd. The parent and the child talk over one SOCK_SEQPACKET pair,
 * and only where they must:
 *   - with a new user namespace, the child waits for its id maps;
 *   - with createRuntime/createContainer hooks, the child waits for them
 *     before pivot_root;
 *   - with process.terminal, the child sends the pty master (CONSOLE,
 *     SCM_RIGHTS) after pivot_root; no answer is awaited;
 *   - the child's last word is READY (create: it then waits on exec.fifo
 *     for `start`) or ERROR with the message; with `run`, exec itself
 *     closes the socket (it is close-on-exec), which the parent reads as
 *     success.
 * So a plain `run` costs no round trip at all.
 */
#include "internal.h"
#include "netns/netns.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static const int ns_clone_flag[RT_NS_COUNT] = {
        [RT_NS_PID] = CLONE_NEWPID,       [RT_NS_NETWORK] = CLONE_NEWNET,
        [RT_NS_MOUNT] = CLONE_NEWNS,      [RT_NS_IPC] = CLONE_NEWIPC,
        [RT_NS_UTS] = CLONE_NEWUTS,       [RT_NS_USER] = CLONE_NEWUSER,
        [RT_NS_CGROUP] = CLONE_NEWCGROUP,
};

int rt__msg_send(int fd, int type, const struct ag_error *e)
{
	struct rt__msg m = {.type = type};
	size_t len = offsetof(struct rt__msg, text);
	if (e) {
		m.code = e->code;
		snprintf(m.text, sizeof(m.text), "%s", e->msg);
		len += strlen(m.text) + 1;
	}
	ssize_t n;
	do
		n = send(fd, &m, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

int rt__msg_recv(int fd, struct rt__msg *m, int *ret_fd)
{
	int got = -1;
	ssize_t n = rt__fd_recv(fd, m, sizeof(*m), &got);
	if (ret_fd)
		*ret_fd = got;
	else if (got >= 0)
		close(got);
	if (n < 0)
		return (int)n;
	if (n == 0)
		return -EPIPE;
	if ((size_t)n < offsetof(struct rt__msg, text))
		return -EBADMSG;
	((char *)m)[n < (ssize_t)sizeof(*m) ? n : (ssize_t)sizeof(*m) - 1] = '\0';
	return 0;
}

int rt__find_executable(const char *file, char *const env[], char **ret)
{
	if (!file || !*file)
		return -ENOENT;
	if (strchr(file, '/')) {
		if (access(file, X_OK) < 0)
			return -errno;
		*ret = ag_strdup(file);
		return 0;
	}
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], "PATH=", 5) == 0)
			path = env[i] + 5;
	int last = -ENOENT;
	const char *p = path;
	while (*p) {
		size_t n = strcspn(p, ":");
		_cleanup_free_ char *cand =
		        n ? ag_asprintf("%.*s/%s", (int)n, p, file) : ag_asprintf("./%s", file);
		struct stat st;
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(cand, X_OK) == 0) {
				*ret = TAKE_PTR(cand);
				return 0;
			}
			last = -EACCES;
		}
		p += n;
		if (*p == ':')
			p++;
	}
	return last;
}

static int sysctl_check(const struct rt_spec *spec, struct ag_error *err)
{
	for (size_t i = 0; i < spec->n_sysctl; i++) {
		const char *k = spec->sysctl[i].key;
		enum rt_ns_type need = RT_NS_COUNT;
		if (strncmp(k, "net.", 4) == 0)
			need = RT_NS_NETWORK;
		else if (strncmp(k, "fs.mqueue.", 10) == 0 || strncmp(k, "kernel.shm", 10) == 0 ||
		         strncmp(k, "kernel.msg", 10) == 0 || strcmp(k, "kernel.sem") == 0 ||
		         strcmp(k, "kernel.sem_next_id") == 0)
			need = RT_NS_IPC;
		else if (strcmp(k, "kernel.hostname") == 0 || strcmp(k, "kernel.domainname") == 0)
			need = RT_NS_UTS;
		if (need == RT_NS_COUNT)
			return ag_error_set(
			        err, 0,
			        "linux.sysctl.%s: not namespaced; setting it would change "
			        "the host",
			        k);
		if (!spec->ns[need].enabled || spec->ns[need].path)
			return ag_error_set(
			        err, 0,
			        "linux.sysctl.%s: needs a new %s namespace, or it would "
			        "change the host's",
			        k, rt_ns_type_name(need));
	}
	return 0;
}

int rt__launch_check(const struct rt_spec *spec, struct ag_error *err)
{
	return sysctl_check(spec, err);
}

static int write_sysctls(const struct rt_spec *spec, struct ag_error *err)
{
	for (size_t i = 0; i < spec->n_sysctl; i++) {
		_cleanup_free_ char *path = ag_asprintf("/proc/sys/%s", spec->sysctl[i].key);
		for (char *c = path + 10; *c; c++)
			if (*c == '.')
				*c = '/';
		const char *v = spec->sysctl[i].value;
		/* /proc/sys resolves to the writer's namespaces, which are the
		 * container's by now, even through the host's procfs mount. */
		int r = ag_write_file_at(AT_FDCWD, path, v, strlen(v));
		if (r < 0)
			return ag_error_set(err, -r, "linux.sysctl.%s: write `%s`",
			                    spec->sysctl[i].key, v);
	}
	return 0;
}

struct child_ctx {
	struct rt_launch *l;
	int sync_fd;
};

static int child_hooks_cb(void *data, struct ag_error *err)
{
	struct child_ctx *c = data;
	if (rt__msg_send(c->sync_fd, RT_MSG_HOOKS, NULL) < 0)
		return ag_error_set(err, errno, "ask for the create hooks");
	struct rt__msg m;
	int r = rt__msg_recv(c->sync_fd, &m, NULL);
	if (r < 0 || m.type != RT_MSG_GO)
		return ag_error_set(err, r < 0 ? -r : EPROTO, "wait for the create hooks");
	return 0;
}

/* Waits until `start` opens the fifo for reading; returns the write end,
 * which stays open (close-on-exec) as the channel for later errors. */
static int wait_for_start(int procfd, int fifo_path_fd, int *ret_fd, struct ag_error *err)
{
	char p[64];
	snprintf(p, sizeof(p), "self/fd/%d", fifo_path_fd);
	int fd;
	do
		fd = openat(procfd, p, O_WRONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return ag_error_set(err, errno, "open exec.fifo to wait for start");
	*ret_fd = fd;
	return 0;
}

/* Opens exec.fifo for writing without waiting: ENXIO (no reader yet) is
 * the answer expected, and proves that the open for the start will be
 * allowed (permissions are checked first); any other error is the one
 * that open would meet. */
static int fifo_check(int procfd, int fifo_path_fd, struct ag_error *err)
{
	char p[64];
	snprintf(p, sizeof(p), "self/fd/%d", fifo_path_fd);
	int fd = openat(procfd, p, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0)
		close(fd); /* a reader already: the open for start will do */
	else if (errno != ENXIO)
		return ag_error_set(err, errno,
		                    "open exec.fifo for writing as the container's root (its "
		                    "host uid must be allowed to)");
	return 0;
}

static int set_cloexec(int fd, bool on)
{
	if (fd < 0)
		return 0;
	int fl = fcntl(fd, F_GETFD);
	if (fl < 0)
		return -1;
	return fcntl(fd, F_SETFD, on ? fl | FD_CLOEXEC : fl & ~FD_CLOEXEC);
}

/* The init in the process's place (rt_options.init_fd). Returns only when
 * it could not be exec'd, with the two fds it was to keep close-on-exec
 * again, so that the caller execs the process itself as without it. */
static void exec_init(const struct rt_options *o, const char *exe, const struct rt_process *proc,
                      int report_fd)
{
	size_t n = 0;
	while (proc->args[n])
		n++;
	char **argv = calloc(n + 5, sizeof(*argv));
	if (!argv)
		return;
	char a_st[16], a_rep[16];
	int status_fd = o->init_status_fd > 0 ? o->init_status_fd : -1;
	snprintf(a_st, sizeof(a_st), "%d", status_fd);
	snprintf(a_rep, sizeof(a_rep), "%d", report_fd);
	argv[0] = (char *)"agora-init";
	argv[1] = a_st;
	argv[2] = a_rep;
	argv[3] = (char *)exe;
	for (size_t i = 0; i < n; i++)
		argv[4 + i] = proc->args[i];
	if (set_cloexec(status_fd, false) == 0 && set_cloexec(report_fd, false) == 0)
		syscall(SYS_execveat, o->init_fd, "", argv, proc->env, AT_EMPTY_PATH);
	set_cloexec(status_fd, true);
	set_cloexec(report_fd, true);
	free(argv);
}

int rt__child_settle(int tty_peer, const char *cwd, struct ag_error *err)
{
	/* A session and process group of its own: otherwise kill(0, ...)
	 * or a terminal's signals in the container reach the launcher's
	 * process group on the host. */
	if (setsid() < 0) {
		int e = errno;
		if (tty_peer >= 0)
			close(tty_peer);
		return ag_error_set(err, e, "setsid");
	}
	int r;
	if (tty_peer >= 0 && (r = rt__console_attach(tty_peer, err)) < 0)
		return r;
	return rt__chdir_in_root(cwd, err);
}

static int child_setup(struct rt_launch *l, int sync_fd, int *report_fd, struct ag_error *err)
{
	const struct rt_spec *spec = l->spec;
	const struct rt_process *proc = &spec->process;
	bool new_userns = spec->ns[RT_NS_USER].enabled && !spec->ns[RT_NS_USER].path;
	bool in_userns = spec->ns[RT_NS_USER].enabled;

	/* Until exec this process runs agora's binary inside the container:
	 * not dumpable, so container processes cannot open /proc/<pid>/exe
	 * or its memory (CVE-2019-5736). With a new user namespace, once its
	 * id maps are written: /proc/<pid>/uid_map of a process that is not
	 * dumpable belongs to root, and a user other than root could not
	 * write its own map there. No container process exists before. */
	if (!new_userns)
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

	/* The host's /proc, held across pivot_root only to reopen exec.fifo
	 * for writing later; closed before any container path is used. */
	_cleanup_close_ int procfd = -1, fifo_path = -1;
	if (l->wait_start) {
		procfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
		fifo_path = openat(l->state_fd, "exec.fifo", O_PATH | O_CLOEXEC | O_NOFOLLOW);
		if (procfd < 0 || fifo_path < 0)
			return ag_error_set(err, errno, "open exec.fifo");
	}
	/* Host directory fds must never reach the container (CVE-2024-21626). */
	if (l->cgroup_fd >= 0)
		close(l->cgroup_fd);
	if (l->state_fd >= 0)
		close(l->state_fd);
	/* The console socket is the parent's to write to: a receiver waiting
	 * for its end must not wait for this process to exec. */
	if (l->o->console_socket > 0)
		close(l->o->console_socket);

	int stdio[3] = {l->io.in, l->io.out, l->io.err};
	for (int i = 0; i < 3; i++)
		if (stdio[i] >= 0 && stdio[i] != i && dup2(stdio[i], i) < 0)
			return ag_error_set(err, errno, "set up stdio fd %d", i);

	/* With a new user namespace the ids below become the container's
	 * root, mapped to some host id that need not reach the bundle (a
	 * 0700 directory of the host's root, say): the root is opened now,
	 * with the ids that created the container, and used by fd. */
	_cleanup_close_ int root_fd = -1;
	int *src_fds = NULL; /* and the sources of its bind mounts, likewise */
	if (new_userns && spec->ns[RT_NS_MOUNT].enabled) {
		root_fd = open(spec->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (root_fd < 0)
			return ag_error_set(err, errno, "open the root `%s`", spec->root_path);
	}
	/* Paths resolve the same here only in a mount namespace of its own
	 * (a copy of this one), not in one joined by path. */
	if (new_userns && spec->ns[RT_NS_MOUNT].enabled && !spec->ns[RT_NS_MOUNT].path) {
		int r = rt__bind_sources_open(spec, l->bundle, &src_fds, err);
		if (r < 0)
			return r;
	}

	if (new_userns) {
		struct rt__msg m;
		int r = rt__msg_recv(sync_fd, &m, NULL);
		if (r < 0 || m.type != RT_MSG_GO)
			return ag_error_set(err, r < 0 ? -r : EPROTO, "wait for the user id maps");
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			return ag_error_set(
			        err, errno,
			        "become root in the user namespace (is uid/gid 0 mapped "
			        "in linux.uidMappings/gidMappings?)");
	}

	/* Join the namespaces given by path; the user namespace first, since
	 * it owns the others. The pid namespace was joined by the parent. */
	static const enum rt_ns_type join_order[] = {RT_NS_USER,    RT_NS_IPC,    RT_NS_UTS,
	                                             RT_NS_NETWORK, RT_NS_CGROUP, RT_NS_MOUNT};
	for (size_t i = 0; i < AG_ARRAY_SIZE(join_order); i++) {
		enum rt_ns_type t = join_order[i];
		if (l->ns_fds[t] < 0)
			continue;
		if (setns(l->ns_fds[t], ns_clone_flag[t]) < 0)
			return ag_error_set(err, errno, "join the %s namespace `%s`",
			                    rt_ns_type_name(t), spec->ns[t].path);
		close(l->ns_fds[t]);
		l->ns_fds[t] = -1;
	}

	int r = write_sysctls(spec, err);
	if (r < 0)
		return r;
	if ((r = rt__oom_score_adj_write(proc, err)) < 0)
		return r;
	if (spec->ns[RT_NS_NETWORK].enabled && !spec->ns[RT_NS_NETWORK].path) {
		r = nns_loopback_up();
		if (r < 0)
			return ag_error_set(err, -r, "bring up lo in the network namespace");
	}
	if (spec->hostname && spec->ns[RT_NS_UTS].enabled &&
	    sethostname(spec->hostname, strlen(spec->hostname)) < 0)
		return ag_error_set(err, errno, "hostname: sethostname `%s`", spec->hostname);

	bool has_create_hooks = spec->hooks.n[RT_HOOK_PRESTART] ||
	                        spec->hooks.n[RT_HOOK_CREATE_RUNTIME] ||
	                        spec->hooks.n[RT_HOOK_CREATE_CONTAINER];
	struct child_ctx cctx = {l, sync_fd};
	if (spec->ns[RT_NS_MOUNT].enabled) {
		r = rt__rootfs_setup(spec, l->bundle, in_userns, root_fd, src_fds, l->sysfs_tree,
		                     has_create_hooks ? child_hooks_cb : NULL, &cctx, err);
		l->sysfs_tree = -1; /* the child's copy: rt__rootfs_setup's now */
		rt__bind_sources_close(src_fds, spec->n_mounts);
		src_fds = NULL;
		if (r < 0)
			return r;
	} else {
		if (has_create_hooks && (r = child_hooks_cb(&cctx, err)) < 0)
			return r;
		if (chroot(spec->root_path) < 0 || chdir("/") < 0)
			return ag_error_set(err, errno, "chroot into `%s`", spec->root_path);
	}

	/* The terminal comes from the container's own devpts, so it is made
	 * here, after pivot_root; the master goes to the parent before READY. */
	_cleanup_close_ int tty_peer = -1;
	if (proc->terminal && (r = rt__console_handover(proc, sync_fd, &tty_peer, err)) < 0)
		return r;

	if (l->wait_start) {
		/* `create` exits after READY, and the container must outlive
		 * it: from here on the parent's death is no reason to die. */
		prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
		/* Whatever would keep it from opening exec.fifo is told to
		 * `create` now, while it listens: after READY nobody would. */
		if ((r = fifo_check(procfd, fifo_path, err)) < 0)
			return r;
		if (rt__msg_send(sync_fd, RT_MSG_READY, NULL) < 0)
			return ag_error_set(err, errno, "report ready");
		r = wait_for_start(procfd, fifo_path, report_fd, err);
		if (r < 0)
			return r;
		/* Told through exec.fifo, so `start` fails with it, and the
		 * init ends: the container is stopped, for delete to clean. */
		if (!spec->has_process)
			return ag_error_msg(err, EINVAL,
			                    "process: config.json has none, and start needs the "
			                    "process to run (the container is now stopped)");
	}
	if (procfd >= 0)
		close(TAKE_FD(procfd));
	if (fifo_path >= 0)
		close(TAKE_FD(fifo_path));

	/* Nothing of the host may stay reachable through an fd: every fd
	 * above stderr is close-on-exec from here on, and the working
	 * directory is checked to be inside the root. */
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	if ((r = rt__child_settle(TAKE_FD(tty_peer), proc->cwd, err)) < 0)
		return r;

	if (spec->hooks.n[RT_HOOK_START_CONTAINER]) {
		/* In the container: its pid as the runtime sees it is not
		 * known here, the rest of the state is. */
		struct rt_state st = {.id = (char *)l->id,
		                      .bundle = (char *)l->bundle,
		                      .status = RT_STATUS_CREATED,
		                      .annotations = spec->annotations,
		                      .n_annotations = spec->n_annotations};
		_cleanup_free_ char *sj = rt_state_to_json(&st);
		r = rt__hooks_run(spec, RT_HOOK_START_CONTAINER, sj ? sj : "{}", -1, err);
		if (r < 0)
			return r;
	}

	if ((r = rt__personality_set(spec, err)) < 0)
		return r;

	_cleanup_free_ char *exe = NULL;
	r = rt__find_executable(proc->args[0], proc->env, &exe);
	if (r < 0)
		return ag_error_set(err, -r,
		                    "process.args[0]: executable `%s` not found in the "
		                    "container",
		                    proc->args[0]);

	r = rt__security_apply(proc, &l->bpf, err);
	if (r < 0)
		return r;

	prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
	if (l->o->init_fd > 0)
		exec_init(l->o, exe, proc, *report_fd);
	execve(exe, proc->args, proc->env);
	return ag_error_set(err, errno, "execve `%s`", exe);
}

static void child_main(struct rt_launch *l, int sync_fd)
{
	struct ag_error err = {0};
	int report_fd = -1;
	child_setup(l, sync_fd, &report_fd, &err);
	/* Only failures come back here. Before start the parent hears it on
	 * the socket; after start, `start` reads it from exec.fifo. */
	if (report_fd >= 0) {
		size_t n = strlen(err.msg);
		ssize_t w AG_UNUSED = write(report_fd, err.msg, n);
	} else {
		/* The parent that cannot be told sees the socket close
		 * ("died during setup"): nothing more to do with it here. */
		AG_IGNORE_RESULT(rt__msg_send(sync_fd, RT_MSG_ERROR, &err));
	}
	_exit(127);
}

static int write_id_map(pid_t pid, const char *file, const struct rt_id_mapping *m, size_t n,
                        struct ag_error *err)
{
	char buf[4096];
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n", m[i].container_id,
		                 m[i].host_id, m[i].size);
		if (w < 0 || (size_t)w >= sizeof(buf) - len)
			return ag_error_set(err, 0, "linux.%s: too many mappings",
			                    strcmp(file, "uid_map") == 0 ? "uidMappings"
			                                                 : "gidMappings");
		len += (size_t)w;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	int r = ag_write_file_at(AT_FDCWD, path, buf, len);
	if (r < 0)
		return ag_error_set(err, -r, "write %s of the container", file);
	return 0;
}

/* The host id that `id` of the container maps to, or -1. */
static int64_t host_id_of(const struct rt_id_mapping *m, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (id >= m[i].container_id && id - m[i].container_id < m[i].size)
			return (int64_t)m[i].host_id + (id - m[i].container_id);
	return -1;
}

/* newuidmap / newgidmap (shadow's setuid helpers, which allow the ranges
 * of /etc/subuid and /etc/subgid): `tool` PID ID HOSTID SIZE... */
static int run_map_tool(const char *tool, pid_t pid, const struct rt_id_mapping *m, size_t n,
                        struct ag_error *err)
{
	char **argv = ag_calloc(3 + 3 * n, sizeof(*argv));
	argv[0] = ag_strdup(tool);
	argv[1] = ag_asprintf("%d", (int)pid);
	for (size_t i = 0; i < n; i++) {
		argv[2 + 3 * i] = ag_asprintf("%u", m[i].container_id);
		argv[3 + 3 * i] = ag_asprintf("%u", m[i].host_id);
		argv[4 + 3 * i] = ag_asprintf("%u", m[i].size);
	}
	pid_t child = fork();
	if (child == 0) {
		execvp(tool, argv);
		_exit(127);
	}
	int e = errno;
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
	if (child < 0)
		return ag_error_set(err, e, "fork for %s", tool);
	int status;
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return ag_error_set(err, errno, "wait for %s", tool);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return ag_error_set(err, ENOENT,
		                    "%s not found: an unprivileged user needs it (package "
		                    "uidmap) for mappings other than its own id",
		                    tool);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return ag_error_set(err, EPERM,
		                    "%s refused the mappings (are they in /etc/sub%cid for "
		                    "this user?)",
		                    tool, strcmp(tool, "newuidmap") == 0 ? 'u' : 'g');
	return 0;
}

/* The id maps of a new user namespace. Root writes them; another user
 * writes a single mapping of its own id (gid: with setgroups denied, as
 * the kernel requires) and has newuidmap/newgidmap write any other. */
static int write_id_maps(pid_t pid, const struct rt_spec *spec, struct ag_error *err)
{
	bool own_uid = spec->n_uid_mappings == 1 && spec->uid_mappings[0].size == 1 &&
	               spec->uid_mappings[0].host_id == geteuid();
	bool own_gid = spec->n_gid_mappings == 1 && spec->gid_mappings[0].size == 1 &&
	               spec->gid_mappings[0].host_id == getegid();
	int r;
	if (geteuid() == 0 || own_uid)
		r = write_id_map(pid, "uid_map", spec->uid_mappings, spec->n_uid_mappings, err);
	else
		r = run_map_tool("newuidmap", pid, spec->uid_mappings, spec->n_uid_mappings, err);
	if (r < 0)
		return r;
	if (geteuid() == 0)
		return write_id_map(pid, "gid_map", spec->gid_mappings, spec->n_gid_mappings, err);
	if (!own_gid)
		return run_map_tool("newgidmap", pid, spec->gid_mappings, spec->n_gid_mappings,
		                    err);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
	r = ag_write_file_at(AT_FDCWD, path, "deny", 4);
	if (r < 0)
		return ag_error_set(err, -r, "write setgroups of the container");
	return write_id_map(pid, "gid_map", spec->gid_mappings, spec->n_gid_mappings, err);
}

/* exec.fifo is opened for writing by the container's root: it gets the
 * fifo (still 0600), since the host ids it maps to are not ours. */
static int fifo_to_container_root(int state_fd, const struct rt_spec *spec, struct ag_error *err)
{
	int64_t uid = host_id_of(spec->uid_mappings, spec->n_uid_mappings, 0);
	int64_t gid = host_id_of(spec->gid_mappings, spec->n_gid_mappings, 0);
	if (uid < 0 || gid < 0)
		return 0; /* the child says it cannot become root */
	if ((uid_t)uid == geteuid() && (gid_t)gid == getegid())
		return 0;
	if (fchownat(state_fd, "exec.fifo", (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW) < 0)
		return ag_error_set(err, errno,
		                    "give exec.fifo to the container's root (host uid %lld, gid "
		                    "%lld)%s",
		                    (long long)uid, (long long)gid,
		                    geteuid() ? ": as a user other than root, map container uid "
		                                "and gid 0 to your own ids"
		                              : "");
	return 0;
}

/* A sysfs mount in a new user namespace that does not own the container's
 * network namespace cannot be a new sysfs: the host's sysfs alone, without
 * the mounts below it, detached here (outside, the kernel locks those to
 * it), for the child to attach (host_sysfs in mounts.c). -1 when the spec
 * needs none, or when this process may not (a runtime without
 * CAP_SYS_ADMIN; the child then falls back to the host's /sys). */
static int host_sysfs_tree(const struct rt_spec *spec)
{
	const struct rt_namespace *user = &spec->ns[RT_NS_USER], *net = &spec->ns[RT_NS_NETWORK];
	if (!user->enabled || user->path || !spec->ns[RT_NS_MOUNT].enabled ||
	    spec->ns[RT_NS_MOUNT].path || (net->enabled && !net->path))
		return -1;
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const char *type = spec->mounts[i].type;
		if (type && strcmp(type, "sysfs") == 0 && !(spec->mounts[i].flags & MS_BIND))
			return (int)syscall(SYS_open_tree, AT_FDCWD, "/sys",
			                    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	}
	return -1;
}

static pid_t do_clone(uint64_t flags, int cgroup_fd, int *ret_pidfd)
{
	struct clone_args args = {
	        .flags = flags | CLONE_PIDFD,
	        .pidfd = (uint64_t)(uintptr_t)ret_pidfd,
	        .exit_signal = SIGCHLD,
	};
	if (cgroup_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgroup_fd;
	}
	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

int rt__launch(struct rt_launch *l, pid_t *ret_pid, int *ret_pidfd, struct ag_error *err)
{
	const struct rt_spec *spec = l->spec;
	int r;

	for (int t = 0; t < RT_NS_COUNT; t++)
		l->ns_fds[t] = -1;
	l->console_fd = -1;
	l->sysfs_tree = -1;
	int ret = 0;
	int pidns_self = -1;
	_cleanup_close_ int parent_fd = -1;
	pid_t pid = -1;
	int pidfd = -1;
	uint64_t flags = 0;
	for (int t = 0; t < RT_NS_COUNT; t++) {
		if (!spec->ns[t].enabled)
			continue;
		if (!spec->ns[t].path) {
			flags |= (uint64_t)ns_clone_flag[t];
			continue;
		}
		l->ns_fds[t] = open(spec->ns[t].path, O_RDONLY | O_CLOEXEC);
		if (l->ns_fds[t] < 0) {
			ret = ag_error_set(err, errno, "linux.namespaces: open %s namespace `%s`",
			                   rt_ns_type_name(t), spec->ns[t].path);
			goto out;
		}
	}
	/* Joining a pid namespace only affects children, so the parent does
	 * it (and goes back to its own afterwards). */
	if (l->ns_fds[RT_NS_PID] >= 0) {
		pidns_self = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
		if (pidns_self < 0 || setns(l->ns_fds[RT_NS_PID], CLONE_NEWPID) < 0) {
			ret = ag_error_set(err, errno, "join the pid namespace `%s`",
			                   spec->ns[RT_NS_PID].path);
			goto out;
		}
	}

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		ret = ag_error_set(err, errno, "socketpair");
		goto out;
	}
	parent_fd = sv[0];
	int child_fd = sv[1];
	l->sysfs_tree = host_sysfs_tree(spec);

	pid = do_clone(flags, l->cgroup_fd, &pidfd);
	int cg_moved = 0;
	if (pid < 0 && (errno == ENOSYS || errno == E2BIG)) {
		/* Kernels before 5.7 lack clone3 with CLONE_INTO_CGROUP: plain
		 * clone, then the cgroup by cgroup.procs. */
		pid = (pid_t)syscall(SYS_clone, (unsigned long)flags | CLONE_PIDFD | SIGCHLD, NULL,
		                     &pidfd, NULL, 0);
		if (pid > 0 && l->cgroup_fd >= 0) {
			char v[16];
			int n = snprintf(v, sizeof(v), "%d", (int)pid);
			cg_moved = ag_write_file_at(l->cgroup_fd, "cgroup.procs", v, (size_t)n);
		}
	}
	if (pid == 0) {
		close(parent_fd);
		child_main(l, child_fd);
	}
	int clone_errno = errno;
	close(child_fd);
	if (pidns_self >= 0)
		setns(pidns_self, CLONE_NEWPID);
	if (pid < 0) {
		ret = ag_error_set(err, clone_errno,
		                   "clone3 the container process (namespaces %#llx)",
		                   (unsigned long long)flags);
		goto out;
	}
	/* Outside its cgroup the container would run without its limits and
	 * escape cgroup.kill: it does not run at all. */
	if (cg_moved < 0) {
		r = ag_error_set(err, -cg_moved,
		                 "move the container process into its cgroup (cgroup.procs: this "
		                 "kernel has no clone3 CLONE_INTO_CGROUP)");
		goto fail;
	}

	if (spec->ns[RT_NS_USER].enabled && !spec->ns[RT_NS_USER].path) {
		r = write_id_maps(pid, spec, err);
		if (r == 0 && l->wait_start)
			r = fifo_to_container_root(l->state_fd, spec, err);
		if (r == 0 && rt__msg_send(parent_fd, RT_MSG_GO, NULL) < 0)
			r = ag_error_set(err, errno, "signal the container process");
		if (r < 0)
			goto fail;
	}

	for (;;) {
		struct rt__msg m;
		int mfd = -1;
		r = rt__msg_recv(parent_fd, &m, &mfd);
		if (r == 0 && m.type == RT_MSG_CONSOLE && mfd >= 0 && l->console_fd < 0) {
			l->console_fd = mfd;
			continue;
		}
		if (mfd >= 0)
			close(mfd);
		if (r == -EPIPE && !l->wait_start)
			break; /* run: exec closed the socket */
		if (r < 0) {
			r = ag_error_set(err, -r, "the container process died during setup");
			goto fail;
		}
		if (m.type == RT_MSG_ERROR) {
			if (err) {
				snprintf(err->msg, sizeof(err->msg), "%s", m.text);
				err->code = m.code;
			}
			r = m.code ? -m.code : -EINVAL;
			goto fail;
		}
		if (m.type == RT_MSG_HOOKS) {
			struct rt_state st = {.id = (char *)l->id,
			                      .pid = pid,
			                      .bundle = (char *)l->bundle,
			                      .status = RT_STATUS_CREATED,
			                      .annotations = spec->annotations,
			                      .n_annotations = spec->n_annotations};
			_cleanup_free_ char *sj = rt_state_to_json(&st);
			/* prestart, deprecated, where runc and crun run it:
			 * in the runtime namespace, before createRuntime. */
			r = 0;
			if (spec->hooks.n[RT_HOOK_PRESTART]) {
				rt__warn(l->o,
				         "hooks.prestart is deprecated by the OCI runtime spec; "
				         "run just before hooks.createRuntime (use that)");
				r = rt__hooks_run(spec, RT_HOOK_PRESTART, sj ? sj : "{}", -1, err);
			}
			if (r == 0)
				r = rt__hooks_run(spec, RT_HOOK_CREATE_RUNTIME, sj ? sj : "{}", -1,
				                  err);
			if (r == 0)
				r = rt__hooks_run(spec, RT_HOOK_CREATE_CONTAINER, sj ? sj : "{}",
				                  pidfd, err);
			if (r == 0 && rt__msg_send(parent_fd, RT_MSG_GO, NULL) < 0)
				r = ag_error_set(err, errno, "signal the container process");
			if (r < 0)
				goto fail;
			continue;
		}
		if (m.type == RT_MSG_READY)
			break;
	}
	*ret_pid = pid;
	*ret_pidfd = pidfd;
	goto out;

fail:
	/* Nothing may be left: kill the child and reap it. */
	if (l->console_fd >= 0) {
		close(l->console_fd);
		l->console_fd = -1;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (pidfd >= 0)
		close(pidfd);
	ret = r;
out:
	if (l->sysfs_tree >= 0) {
		close(l->sysfs_tree);
		l->sysfs_tree = -1;
	}
	if (pidns_self >= 0)
		close(pidns_self);
	for (int t = 0; t < RT_NS_COUNT; t++)
		if (l->ns_fds[t] >= 0) {
			close(l->ns_fds[t]);
			l->ns_fds[t] = -1;
		}
	return ret;
}
