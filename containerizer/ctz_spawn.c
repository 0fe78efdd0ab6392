/* ctz_spawn.c: a container under its own monitor.
 *
 * The agent forks; the fork (still the agent's code) records itself as the
 * task's monitor, creates the container with the runtime library (the
 * container's init becomes the fork's child) and execs agora-monitor, which
 * keeps the init as its child. Exec drops the agent's copy-on-write address
 * space: what stays per container is a small static program. The
 * container is left waiting on its exec.fifo; the agent starts it.
 */
#include "containerizer/ctz_internal.h"
#include "cgroupv2/cgroupv2.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static void report(int fd, const char *msg)
{
	char buf[AG_ERROR_MSG_MAX + 4];
	int n = snprintf(buf, sizeof(buf) - 1, "E%s", msg);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	for (int i = 0; i < n; i++)
		if (buf[i] == '\n')
			buf[i] = ' ';
	buf[n++] = '\n';
	/* The child's last word: a parent that cannot read it sees the
	 * child exit 1 instead. */
	AG_IGNORE_RESULT(ag_write_all(fd, buf, (size_t)n));
}

static int open_out(const char *sandbox, const char *name, uid_t uid, gid_t gid)
{
	_cleanup_free_ char *p = ag_asprintf("%s/%s", sandbox, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd >= 0 && (uid || gid))
		(void)!fchown(fd, uid, gid);
	return fd;
}

static int no_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);
	return fl < 0 ? -1 : fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Close every fd from 3 on but the `n` in `keep` (-1 entries ignored). */
static void close_all_but(int *keep, size_t n)
{
	qsort(keep, n, sizeof(*keep), cmp_int);
	unsigned from = 3;
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < (int)from)
			continue;
		if ((unsigned)keep[i] > from)
			syscall(SYS_close_range, from, (unsigned)keep[i] - 1, 0);
		from = (unsigned)keep[i] + 1;
	}
	syscall(SYS_close_range, from, ~0U, 0);
}

static _Noreturn void child(struct ctz *c, const struct ctz_entry *e, const struct rt_spec *spec,
                            uid_t uid, gid_t gid, bool init, int wfd, pid_t agent)
{
	struct ag_error err = {0};
	/* Until it is recorded (run/<cid>/monitor) nothing would find this
	 * process after an agent's death: it dies with the agent until then,
	 * so that recovery finds either its record or nothing at all. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != agent)
		_exit(1);
	/* Nothing of the agent's is kept (the container's init is cloned
	 * from here and waits for its start with what this process holds):
	 * not its sockets (an agent killed meanwhile could not listen on its
	 * port again, and the master would not see its connection end), not
	 * its database. */
	int keep0[] = {wfd, c->init_fd};
	close_all_but(keep0, AG_ARRAY_SIZE(keep0));
	/* Not in the agent's session or process group (a terminal's ^C or a
	 * kill of the group must not reach the monitors), with the default
	 * signal dispositions and nothing blocked: the container's init
	 * inherits both. */
	setsid();
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

	uint64_t ticks = 0;
	int r = ctz__proc_start_ticks(getpid(), &ticks);
	if (r == 0)
		r = ctz__monitor_write(e->run_dir, getpid(), ticks);
	if (r < 0) {
		ag_error_set(&err, -r, "record the monitor of `%s`", e->cid);
		report(wfd, err.msg);
		_exit(1);
	}
	prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);

	int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int out = open_out(e->sandbox, "stdout", uid, gid);
	int errfd = open_out(e->sandbox, "stderr", uid, gid);
	if (in < 0 || out < 0 || errfd < 0) {
		ag_error_set(&err, errno, "open stdin/stdout/stderr in the sandbox `%s`",
		             e->sandbox);
		report(wfd, err.msg);
		_exit(1);
	}
	struct rt_stdio io = {in, out, errfd};
	/* With agora-init as pid 1, the pipe on which it tells the monitor
	 * the signal that ended the task. */
	struct rt_options o = c->rto;
	int sp[2] = {-1, -1};
	if (init) {
		if (pipe2(sp, O_CLOEXEC) < 0) {
			ag_error_set(&err, errno, "pipe");
			report(wfd, err.msg);
			_exit(1);
		}
		o.init_fd = c->init_fd;
		o.init_status_fd = sp[1];
	}
	pid_t init_pid = 0;
	r = rt_container_create(&o, e->cid, e->run_dir, spec, &io, &init_pid, &err);
	if (r < 0) {
		report(wfd, err.msg);
		_exit(1);
	}
	close(in);
	close(out);
	close(errfd);
	if (sp[1] >= 0)
		close(sp[1]);

	int cgfd = -1;
	struct rt_state rst = {0};
	if (!c->rto.cgroups_disabled && rt_container_state(&c->rto, e->cid, &rst, NULL) == 0 &&
	    rst.cgroup_path) {
		int rootfd = -1;
		if (cg_root_open(c->rto.cgroup_root, &rootfd, NULL) == 0) {
			cgfd = openat(rootfd, rst.cgroup_path, O_RDONLY | O_DIRECTORY);
			close(rootfd);
		}
	}
	rt_state_free_contents(&rst);
	int dirfd = open(e->run_dir, O_RDONLY | O_DIRECTORY);
	/* The monitor outlives the agent: it must hold nothing of the
	 * agent's but what it is given. A socket to the master kept open by
	 * monitors would hide the agent's death from the master, a database
	 * fd would pin the agent's files. Everything is close-on-exec but the
	 * three fds handed over. */
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	if (dirfd < 0 || no_cloexec(dirfd) < 0 || no_cloexec(wfd) < 0 ||
	    (cgfd >= 0 && no_cloexec(cgfd) < 0) || (sp[0] >= 0 && no_cloexec(sp[0]) < 0)) {
		ag_error_set(&err, errno, "open the run directory `%s`", e->run_dir);
		goto fail;
	}
	char a_pid[16], a_dir[16], a_cg[16], a_rep[16], a_st[16];
	snprintf(a_pid, sizeof(a_pid), "%d", (int)init_pid);
	snprintf(a_dir, sizeof(a_dir), "%d", dirfd);
	snprintf(a_cg, sizeof(a_cg), "%d", cgfd);
	snprintf(a_rep, sizeof(a_rep), "%d", wfd);
	snprintf(a_st, sizeof(a_st), "%d", sp[0]);
	char name[] = "agora-monitor";
	char *const argv[] = {name, a_pid, a_dir, a_cg, a_rep, sp[0] >= 0 ? a_st : NULL, NULL};
	char *const envp[] = {NULL};
	execve(c->monitor_path, argv, envp);
	ag_error_set(&err, errno, "exec the monitor `%s`", c->monitor_path);
fail:
	kill(init_pid, SIGKILL);
	waitpid(init_pid, NULL, 0);
	/* The launch fails either way; what is left is deleted with the
	 * task's record (CTZ_DONE) at the agent's next recovery. */
	AG_IGNORE_RESULT(rt_container_delete(&c->rto, e->cid, true, NULL));
	report(wfd, err.msg);
	_exit(1);
}

int ctz__spawn(struct ctz *c, const struct ctz_entry *e, const struct rt_spec *spec, uid_t uid,
               gid_t gid, bool init, pid_t *ret_pid, struct ag_error *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return ag_error_set(err, errno, "pipe");
	pid_t agent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int e2 = errno;
		close(p[0]);
		close(p[1]);
		return ag_error_set(err, e2, "fork the monitor");
	}
	if (pid == 0) {
		close(p[0]);
		child(c, e, spec, uid, gid, init, p[1], agent);
	}
	close(p[1]);
	/* One line: "ok <init pid>" from the monitor, or "E<why>" from the
	 * fork. The container's init holds a copy of the pipe until it execs,
	 * so the end of the line, not EOF, ends the answer. */
	char buf[AG_ERROR_MSG_MAX + 8];
	size_t got = 0;
	while (got < sizeof(buf) - 1) {
		ssize_t n = read(p[0], buf + got, sizeof(buf) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(buf, '\n', got))
			break;
	}
	close(p[0]);
	buf[got] = '\0';
	char *nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	if (strncmp(buf, "ok ", 3) == 0) {
		*ret_pid = pid;
		return 0;
	}
	waitpid(pid, NULL, 0);
	if (buf[0] == 'E')
		return ag_error_msg(err, EIO, "%s", buf + 1);
	return ag_error_msg(err, EIO, "the monitor of `%s` died before the container existed",
	                    e->cid);
}
