/* exec.c: a process joining a running container (agora-run exec, as runc
 * exec and crun exec): the process comes from the container's config.json
 * or from an OCI process object (--process), is adjusted by the caller's
 * options, and is then set up as the container's init was.
 *
 * The parent joins the container's pid namespace for its children (setns on
 * the init's pidfd) and clones the child straight into the container's
 * cgroup (CLONE_INTO_CGROUP). The child closes every fd it does not need
 * before it enters anything: until its execve it runs agora's code inside
 * the container, undumpable, and a container process with CAP_SYS_PTRACE in
 * the container's user namespace must find nothing of the host on it
 * (CVE-2016-9962). It joins the other namespaces in one setns(2) on the
 * init's pidfd, chroots into the init's root (/proc/<pid>/root, opened
 * before), makes the terminal from the container's devpts (its master
 * goes to the parent on the sync socket, RT_MSG_CONSOLE), resolves the cwd
 * inside the root, applies the security settings and execs. The sync socket
 * is close-on-exec: EOF means the process runs; RT_MSG_ERROR carries why it
 * could not.
 */
#include "internal.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

int rt_preserved_fds_check(unsigned n, struct ag_error *err)
{
	for (unsigned i = 0; i < n; i++)
		if (fcntl(3 + (int)i, F_GETFD) < 0)
			return ag_error_msg(err, EBADF,
			                    "--preserve-fds %u: fd %u is not open (fds 3 to %u are "
			                    "passed on)",
			                    n, 3 + i, 2 + n);
	return 0;
}

/* ---- the process to run ------------------------------------------------ */

/* `base` with each "K=V" of `add` replacing the entry of K or added. The
 * array is malloc'd; its strings are borrowed. */
static char **env_merge(char *const *base, char *const *add, size_t *ret_n)
{
	size_t nb = 0, na = 0;
	while (base && base[nb])
		nb++;
	while (add && add[na])
		na++;
	char **out = ag_calloc(nb + na + 1, sizeof(*out));
	size_t n = 0;
	for (size_t i = 0; i < nb; i++)
		out[n++] = base[i];
	for (size_t i = 0; i < na; i++) {
		size_t key = strcspn(add[i], "=") + 1; /* with the '=' */
		size_t k = 0;
		while (k < n && strncmp(out[k], add[i], key) != 0)
			k++;
		out[k] = add[i];
		if (k == n)
			n++;
	}
	*ret_n = n;
	return out;
}

/* "CAP_SYS_ADMIN" for 21, in `buf`. */
static const char *capability_name(int cap, char buf[32])
{
	char *n = cap_to_name(cap);
	snprintf(buf, 32, "%s", n ? n : "?");
	cap_free(n);
	for (char *c = buf; *c; c++)
		*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
	return buf;
}

/* Nothing the container was not given: a process from the caller may ask
 * only for capabilities in the container's bounding set. */
static int caps_check(const struct rt_exec *x, const struct rt_caps *c, uint64_t bound,
                      struct ag_error *err)
{
	char name[32];
	uint64_t extra = x->add_caps & ~bound;
	if (extra)
		return ag_error_msg(err, EPERM,
		                    "--cap %s: not in the container's bounding set "
		                    "(process.capabilities.bounding of its config.json); exec "
		                    "cannot give a process more than its container has",
		                    capability_name(__builtin_ctzll(extra), name));
	if (!x->process)
		return 0;
	static const char *const set[] = {"bounding", "effective", "inheritable", "permitted",
	                                  "ambient"};
	const uint64_t bits[] = {c->bounding, c->effective, c->inheritable, c->permitted,
	                         c->ambient};
	for (size_t i = 0; i < AG_ARRAY_SIZE(bits); i++) {
		extra = bits[i] & ~bound;
		if (extra)
			return ag_error_msg(err, EPERM,
			                    "process.capabilities.%s: %s is not in the container's "
			                    "bounding set; exec cannot give a process more than "
			                    "its container has",
			                    set[i], capability_name(__builtin_ctzll(extra), name));
	}
	return 0;
}

/* The process `x` asks for in the container of `spec`, in *p: a shallow
 * copy whose strings belong to x or spec, except the environment array,
 * malloc'd in *ret_env. */
static int exec_process(const struct rt_spec *spec, const struct rt_exec *x, struct rt_process *p,
                        char ***ret_env, struct ag_error *err)
{
	*p = x->process ? *x->process : spec->process;
	if (!x->process) {
		p->args = (char **)x->argv;
		for (p->n_args = 0; x->argv[p->n_args];)
			p->n_args++;
	}
	if (x->cwd)
		p->cwd = (char *)x->cwd;
	if (x->has_uid)
		p->user.uid = x->uid;
	if (x->has_gid)
		p->user.gid = x->gid;
	p->terminal = p->terminal || x->tty;
	/* The container's no_new_privs cannot be turned off by an exec. */
	p->no_new_privileges =
	        p->no_new_privileges || x->no_new_privs || spec->process.no_new_privileges;

	uint64_t bound = spec->process.has_caps ? spec->process.caps.bounding : 0;
	int r = caps_check(x, &p->caps, bound, err);
	if (r < 0)
		return r;
	if (x->add_caps) {
		p->has_caps = true;
		p->caps.bounding |= x->add_caps;
		p->caps.effective |= x->add_caps;
		p->caps.permitted |= x->add_caps;
		/* Ambient needs inheritable, which --cap does not add (runc). */
		if (p->caps.inheritable)
			p->caps.ambient |= x->add_caps;
	}
	p->env = env_merge(p->env, x->env, &p->n_env);
	*ret_env = p->env;
	return 0;
}

/* ---- the child ---------------------------------------------------------- */

struct exec_child {
	const struct rt_spec *spec;
	const struct rt_process *p;
	const struct rt_bpf *bpf;
	const char *id;
	int init_pidfd;
	int ns_flags; /* to join here (the pid namespace was joined by the parent) */
	int root_fd;  /* the init's root to chroot into (after setns with a mount namespace) */
	int sync_fd;
	int stdio_fd; /* > 2: dup'd over 0, 1, 2 */
	unsigned preserve_fds;
};

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Closes every fd from 3 up but those of keep[] (sorted here; -1 ignored)
 * and the preserved ones, 3 .. 3+preserved-1. */
static void close_all_but(int *keep, size_t n, unsigned preserved)
{
	qsort(keep, n, sizeof(*keep), cmp_int);
	unsigned from = 3 + preserved;
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < 0 || (unsigned)keep[i] < from)
			continue;
		if ((unsigned)keep[i] > from)
			syscall(SYS_close_range, from, (unsigned)keep[i] - 1, 0);
		from = (unsigned)keep[i] + 1;
	}
	syscall(SYS_close_range, from, ~0U, 0);
}

static int child_setup(struct exec_child *k, struct ag_error *err)
{
	const struct rt_process *p = k->p;
	int r;
	if (k->stdio_fd > 2)
		for (int fd = 0; fd < 3; fd++)
			if (dup2(k->stdio_fd, fd) < 0)
				return ag_error_set(err, errno, "stdio of the process");
	int keep[] = {k->sync_fd, k->init_pidfd, k->root_fd};
	close_all_but(keep, AG_ARRAY_SIZE(keep), k->preserve_fds);
	/* The process starts as the container's init did: default signal
	 * dispositions, nothing blocked. What the caller ignores (a daemon's
	 * SIGPIPE) would survive the exec. */
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* Lowering it needs CAP_SYS_RESOURCE in the host's user namespace,
	 * gone once the container's is joined. */
	if ((r = rt__oom_score_adj_write(p, err)) < 0)
		return r;
	/* A container without a mount namespace of its own was chroot'ed. */
	bool mntns = k->ns_flags & CLONE_NEWNS;
	if (k->root_fd >= 0 && !mntns && (fchdir(k->root_fd) < 0 || chroot(".") < 0))
		return ag_error_set(err, errno, "chroot into the root of `%s`", k->id);
	if (k->ns_flags && setns(k->init_pidfd, k->ns_flags) < 0)
		return ag_error_set(err, errno, "join the namespaces of `%s`", k->id);
	/* setns gives the root of the namespace's first mount, which is the
	 * container's root only where the host's root is: on a host that is
	 * itself chroot'ed (an initramfs that did not switch_root) it is
	 * not. The init's own root is, as nsenter --root takes it. */
	if (k->root_fd >= 0 && mntns && (fchdir(k->root_fd) < 0 || chroot(".") < 0))
		return ag_error_set(err, errno, "chroot into the root of `%s`", k->id);
	close(k->init_pidfd);
	if (k->root_fd >= 0)
		close(k->root_fd);

	_cleanup_close_ int tty_peer = -1;
	if (p->terminal && (r = rt__console_handover(p, k->sync_fd, &tty_peer, err)) < 0)
		return r;

	/* From here, every fd but stdio and the preserved ones is gone at
	 * exec, whatever opened it. */
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	for (unsigned i = 0; i < k->preserve_fds; i++) {
		int fd = 3 + (int)i;
		int fl = fcntl(fd, F_GETFD);
		if (fl < 0 || fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC) < 0)
			return ag_error_set(err, errno, "--preserve-fds: keep fd %d open", fd);
	}
	if ((r = rt__child_settle(TAKE_FD(tty_peer), p->cwd, err)) < 0)
		return r;
	if ((r = rt__personality_set(k->spec, err)) < 0)
		return r;
	_cleanup_free_ char *exe = NULL;
	if ((r = rt__find_executable(p->args[0], p->env, &exe)) < 0)
		return ag_error_set(err, -r, "executable `%s` not found in the container",
		                    p->args[0]);
	if ((r = rt__security_apply(p, k->bpf, err)) < 0)
		return r;
	execve(exe, p->args, p->env);
	return ag_error_set(err, errno, "execve `%s`", exe);
}

__attribute__((noreturn)) static void child_main(struct exec_child *k)
{
	struct ag_error e = {0};
	child_setup(k, &e);
	/* The parent that cannot be told sees the socket close instead. */
	AG_IGNORE_RESULT(rt__msg_send(k->sync_fd, RT_MSG_ERROR, &e));
	_exit(127);
}

/* ---- the parent --------------------------------------------------------- */

/* Clones the child (joining the pid namespace of the init for it, into
 * `cgfd` when >= 0) and waits until it runs or says why it cannot. On
 * success *ret_pid, *ret_pidfd and (with a terminal, else -1) *ret_console
 * are set; on failure no process is left. */
static int exec_spawn(struct exec_child *k, bool join_pidns, int cgfd, pid_t *ret_pid,
                      int *ret_pidfd, int *ret_console, struct ag_error *err)
{
	/* The pid namespace applies to children only: joined here for the
	 * clone, and left again once the child exists. */
	_cleanup_close_ int pidns_self = -1;
	if (join_pidns) {
		pidns_self = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
		if (pidns_self < 0 || setns(k->init_pidfd, CLONE_NEWPID) < 0)
			return ag_error_set(err, errno, "join the pid namespace of `%s`", k->id);
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		int e = errno;
		if (pidns_self >= 0)
			setns(pidns_self, CLONE_NEWPID);
		return ag_error_set(err, e, "socketpair");
	}
	int pidfd = -1;
	struct clone_args ca = {
	        .flags = CLONE_PIDFD,
	        .pidfd = (uint64_t)(uintptr_t)&pidfd,
	        .exit_signal = SIGCHLD,
	};
	if (cgfd >= 0) {
		ca.flags |= CLONE_INTO_CGROUP;
		ca.cgroup = (uint64_t)cgfd;
	}
	/* Undumpable from its first instant in the container's pid namespace,
	 * where it runs our code with host fds: a process there must not
	 * ptrace it or open its /proc files. Restored here after the clone. */
	int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0) {
		close(sv[0]);
		k->sync_fd = sv[1];
		child_main(k);
	}
	int clone_errno = errno;
	if (dumpable > 0)
		prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
	close(sv[1]);
	if (pidns_self >= 0)
		setns(pidns_self, CLONE_NEWPID);
	_cleanup_close_ int sync = sv[0];
	if (pid < 0)
		return ag_error_set(err, clone_errno, "clone3 into the container `%s`", k->id);

	int console = -1, r = 0;
	for (;;) {
		struct rt__msg m;
		int mfd = -1;
		r = rt__msg_recv(sync, &m, &mfd);
		if (r == 0 && m.type == RT_MSG_CONSOLE && mfd >= 0 && console < 0) {
			console = mfd;
			continue;
		}
		if (mfd >= 0)
			close(mfd);
		if (r == -EPIPE) {
			r = 0; /* exec closed the socket: it runs */
			break;
		}
		if (r < 0) {
			r = ag_error_set(err, -r, "exec in `%s`: the process died during setup",
			                 k->id);
			break;
		}
		if (m.type == RT_MSG_ERROR) {
			r = ag_error_msg(err, m.code ? m.code : EINVAL, "exec in `%s`: %s", k->id,
			                 m.text);
			break;
		}
	}
	if (r < 0) {
		if (console >= 0)
			close(console);
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		waitpid(pid, NULL, 0);
		close(pidfd);
		return r;
	}
	*ret_pid = pid;
	*ret_pidfd = pidfd;
	*ret_console = console;
	return 0;
}

/* The namespaces of the process behind `procfd` (its /proc/<pid>) that we
 * are not in, as CLONE_NEW* flags. */
static int ns_to_join(int procfd)
{
	static const struct {
		const char *name;
		int flag;
	} nss[] = {{"ns/user", CLONE_NEWUSER}, {"ns/mnt", CLONE_NEWNS},
	           {"ns/ipc", CLONE_NEWIPC},   {"ns/uts", CLONE_NEWUTS},
	           {"ns/net", CLONE_NEWNET},   {"ns/cgroup", CLONE_NEWCGROUP},
	           {"ns/pid", CLONE_NEWPID}};
	char self[32];
	int flags = 0;
	for (size_t i = 0; i < AG_ARRAY_SIZE(nss); i++) {
		struct stat a, b;
		snprintf(self, sizeof(self), "/proc/self/%s", nss[i].name);
		if (fstatat(procfd, nss[i].name, &a, 0) == 0 && stat(self, &b) == 0 &&
		    a.st_ino != b.st_ino)
			flags |= nss[i].flag;
	}
	return flags;
}

/* Everything the child needs from the host side, opened before the clone:
 * the filter, the cgroup, the namespaces to join, the root. */
struct exec_host {
	struct rt_bpf bpf;
	int init_pidfd;
	int procfd;
	int cgfd;
	int root_fd;
};

static void exec_host_done(struct exec_host *h)
{
	rt__bpf_free(&h->bpf);
	int *fds[] = {&h->init_pidfd, &h->procfd, &h->cgfd, &h->root_fd};
	for (size_t i = 0; i < AG_ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
}

static int exec_host_open(struct rt__roots *c, const struct rt_state *st,
                          const struct rt_spec *spec, struct exec_host *h, int *ret_ns_flags,
                          struct ag_error *err)
{
	const char *id = st->id;
	int r = rt__pidfd_open_checked(st->pid, st->pid_start_ticks, &h->init_pidfd);
	if (r < 0)
		return ag_error_set(err, -r, "container `%s`: its process is gone", id);
	/* /proc/<pid> of the process the pidfd holds: opened, then checked to
	 * be still alive, so the pid was not reused in between. */
	char path[32];
	snprintf(path, sizeof(path), "/proc/%d", (int)st->pid);
	h->procfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct pollfd pf = {.fd = h->init_pidfd, .events = POLLIN};
	if (h->procfd < 0 || poll(&pf, 1, 0) != 0)
		return ag_error_set(err, h->procfd < 0 ? errno : ESRCH,
		                    "container `%s`: its process is gone", id);
	*ret_ns_flags = ns_to_join(h->procfd);
	h->root_fd = openat(h->procfd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (h->root_fd < 0)
		return ag_error_set(err, errno, "open the root of `%s`", id);
	if (spec->seccomp) {
		char buf[4096];
		r = rt__seccomp_get(spec->seccomp, rt__seccomp_cache_dir(c->o, buf, sizeof(buf)),
		                    &h->bpf, err);
		if (r < 0)
			return r;
	}
	if (st->cgroup_path && c->cg_rootfd >= 0)
		return rt__cg_open(c->cg_rootfd, st->cgroup_path, &h->cgfd, err);
	return 0;
}

/* What a caller may not ask for, checked before anything is opened. */
static int exec_check_args(const struct rt_options *o, const struct rt_exec *x,
                           struct ag_error *err)
{
	if (!x->process == !x->argv)
		return ag_error_msg(err, EINVAL,
		                    "exec: give a command or a process (--process), not %s",
		                    x->process ? "both" : "neither");
	if (x->argv && !x->argv[0])
		return ag_error_msg(err, EINVAL, "exec: the command is empty");
	if (x->cwd && x->cwd[0] != '/')
		return ag_error_msg(err, EINVAL, "--cwd `%s`: must be an absolute path", x->cwd);
	bool terminal = x->tty || (x->process && x->process->terminal);
	if (!terminal && o->console_socket > 0)
		return ag_error_msg(err, EINVAL,
		                    "--console-socket: the process has no terminal (--tty or "
		                    "process.terminal)");
	return rt_preserved_fds_check(x->preserve_fds, err);
}

int rt_container_exec(const struct rt_options *o, const char *id, const struct rt_exec *x,
                      int *ret_status, struct ag_error *err)
{
	int r = exec_check_args(o, x, err);
	if (r < 0)
		return r;
	struct rt__roots c;
	struct rt_state st;
	r = rt__container_open(&c, o, id, NULL, &st, err);
	if (r < 0)
		return r;
	struct rt_spec *spec = NULL;
	struct rt_process p = {0};
	_cleanup_free_ char **env = NULL;
	struct exec_host h = {.init_pidfd = -1, .procfd = -1, .cgfd = -1, .root_fd = -1};
	pid_t pid = 0;
	int pidfd = -1, console = -1, ns_flags = 0;

	if (st.status != RT_STATUS_RUNNING) {
		r = ag_error_msg(err, EINVAL,
		                 "container `%s` is %s: exec needs a running container", id,
		                 rt_status_name(st.status));
		goto out;
	}
	if ((r = rt_spec_load(st.bundle, &spec, err)) < 0)
		goto out;
	if ((r = exec_process(spec, x, &p, &env, err)) < 0)
		goto out;
	if (p.terminal && x->detach && o->console_socket <= 0) {
		r = ag_error_msg(err, EINVAL,
		                 "process.terminal: a detached exec needs a console socket to "
		                 "hand the terminal to (--console-socket PATH)");
		goto out;
	}
	if ((r = exec_host_open(&c, &st, spec, &h, &ns_flags, err)) < 0)
		goto out;
	/* A user other than root has no CAP_SYS_ADMIN of its own to join the
	 * pid namespace with: it joins the container's user namespace first
	 * (its own, or it could not have created it), which gives it that
	 * capability over the container's namespaces. Nothing done after
	 * this needs the host's. */
	if (geteuid() != 0 && (ns_flags & CLONE_NEWUSER)) {
		if (setns(h.init_pidfd, CLONE_NEWUSER) < 0) {
			r = ag_error_set(err, errno, "join the user namespace of `%s`", id);
			goto out;
		}
		ns_flags &= ~CLONE_NEWUSER;
	}

	struct exec_child k = {
	        .spec = spec,
	        .p = &p,
	        .bpf = &h.bpf,
	        .id = id,
	        .init_pidfd = h.init_pidfd,
	        .ns_flags = ns_flags & ~CLONE_NEWPID,
	        .root_fd = h.root_fd,
	        .sync_fd = -1,
	        .stdio_fd = x->stdio_fd,
	        .preserve_fds = x->preserve_fds,
	};
	r = exec_spawn(&k, ns_flags & CLONE_NEWPID, h.cgfd, &pid, &pidfd, &console, err);
	exec_host_done(&h);
	h = (struct exec_host){.init_pidfd = -1, .procfd = -1, .cgfd = -1, .root_fd = -1};
	if (r < 0)
		goto out;
	if (console >= 0 && o->console_socket > 0) {
		r = rt__console_send(o->console_socket, console, err);
		close(TAKE_FD(console));
	}
	if (r == 0 && x->pid_file)
		r = rt_pid_file_write(x->pid_file, pid, err);
	if (r < 0) {
		/* Nobody would know of it: it must not run on. */
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		waitpid(pid, NULL, 0);
		goto out;
	}
	if (x->detach) {
		*ret_status = 0;
		if (x->ret_pidfd)
			*x->ret_pidfd = TAKE_FD(pidfd);
		if (x->ret_pid)
			*x->ret_pid = pid;
		goto out;
	}
	int status = 0;
	r = rt__wait_forwarding(pid, pidfd, console, NULL, !p.has_console_size, &status);
	if (r < 0)
		ag_error_set(err, -r, "wait for the process exec'd in `%s`", id);
	else
		*ret_status = status;
out:
	if (console >= 0)
		close(console);
	if (pidfd >= 0)
		close(pidfd);
	exec_host_done(&h);
	rt_spec_free(spec);
	rt__container_close(&c, &st);
	return r;
}
