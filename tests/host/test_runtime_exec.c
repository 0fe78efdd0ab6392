/* Host tier: `agora-run exec` against the real kernel, as root, the way
 * container engines call it (runc's command line: --process, --detach,
 * --pid-file, --console-socket, --tty, --preserve-fds) and the way people
 * do (-u, -e, --cwd, --cap). Each test starts a container of its own
 * (`sleep`), execs into it and checks from the inside what the process
 * got, and from the outside what is left. cgroups are disabled, as in
 * test_runtime.c.
 */
#include "agbundle.h"
#include "agtest.h"
#include "common/common.h"
#include "common/proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

TestSuite(exec, .fini = bundle_cleanup_all);

/* A running container `id` whose process sleeps; `tweak` (may be NULL)
 * changes its config.json first. */
static void start_sleeper(struct bundle *b, const char *id, void (*tweak)(json_t *cfg))
{
	bundle_init(b, ARGS("/bin/sleep", "600"));
	if (tweak)
		tweak(b->cfg);
	bundle_write(b);
	char *err = NULL;
	cr_assert_eq(agora_run(b, NULL, &err, ARGS("create", id)), 0, "create: %s", err);
	free(err);
	cr_assert_eq(agora_run(b, NULL, NULL, ARGS("start", id)), 0);
}

static void stop_and_done(struct bundle *b, const char *id)
{
	cr_assert_eq(agora_run(b, NULL, NULL, ARGS("delete", "--force", id)), 0);
	bundle_done(b);
}

/* agora-run `args` must exit `rc`, saying `msg` on stderr. */
static void expect_refused(struct bundle *b, int rc, const char *msg, const char *const args[])
{
	char *err = NULL;
	int got = agora_run(b, NULL, &err, args);
	cr_expect_eq(got, rc, "%s: exit %d: %s", args[0], got, err);
	cr_expect_neq(strstr(err, msg), NULL, "want `%s` in: %s", msg, err);
	free(err);
}

/* agora-run `args` must exit 0; returns its stdout (caller frees). */
static char *exec_ok(struct bundle *b, const char *const args[])
{
	char *out = NULL, *err = NULL;
	int rc = agora_run(b, &out, &err, args);
	cr_assert_eq(rc, 0, "%s: exit %d: %s", args[0], rc, err);
	free(err);
	return out;
}

/* Writes `process` (consumed) as <bundle>/<name>; returns the path. */
static char *write_process(struct bundle *b, const char *name, json_t *process)
{
	char *path = ag_asprintf("%s/%s", b->dir, name);
	cr_assert_eq(json_dump_file(process, path, 0), 0);
	json_decref(process);
	return path;
}

static char *ns_of(pid_t pid, const char *ns)
{
	_cleanup_free_ char *p = ag_asprintf("/proc/%d/ns/%s", (int)pid, ns);
	char buf[64];
	ssize_t n = readlink(p, buf, sizeof(buf) - 1);
	cr_assert_gt(n, 0, "readlink %s: %s", p, strerror(errno));
	buf[n] = '\0';
	return ag_strdup(buf);
}

/* How many processes of the host are in the pid namespace of `init`
 * (without cgroups, `ps` sees the init's descendants only, and an exec'd
 * process is not one). */
static int count_in_pidns(pid_t init)
{
	_cleanup_free_ char *want = ns_of(init, "pid");
	DIR *d = opendir("/proc");
	cr_assert_not_null(d);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		int pid = atoi(de->d_name);
		if (pid <= 0)
			continue;
		_cleanup_free_ char *p = ag_asprintf("/proc/%d/ns/pid", pid);
		char buf[64];
		ssize_t len = readlink(p, buf, sizeof(buf) - 1);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		n += strcmp(buf, want) == 0;
	}
	closedir(d);
	return n;
}

Test(exec, help_exits_0_with_the_usage_of_each_command)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/true"));
	static const char *const cmds[] = {"exec",   "create", "run",  "start", "state",
	                                   "kill",   "delete", "list", "ps",    "pause",
	                                   "resume", "stats",  "spec"};
	for (size_t i = 0; i < AG_ARRAY_SIZE(cmds); i++) {
		char *out = NULL, *err = NULL;
		int rc = agora_run(&b, &out, &err, ARGS(cmds[i], "--help"));
		cr_assert_eq(rc, 0, "%s --help: exit %d, %s", cmds[i], rc, err);
		_cleanup_free_ char *want = ag_asprintf("Usage: agora-run %s ", cmds[i]);
		cr_assert_eq(strncmp(out, want, strlen(want)), 0, "%s --help: %s", cmds[i], out);
		free(out);
		free(err);
	}
	char *out = NULL;
	cr_assert_eq(agora_run(&b, &out, NULL, ARGS("exec", "-h")), 0);
	cr_assert_neq(strstr(out, "--process FILE"), NULL, "%s", out);
	cr_assert_neq(strstr(out, "--preserve-fds N"), NULL, "%s", out);
	free(out);
	bundle_done(&b);
}

Test(exec, process_file_sets_args_user_env_and_cwd)
{
	struct bundle b;
	start_sleeper(&b, "pf", NULL);
	/* noNewPrivileges false and no capabilities: the container's
	 * no_new_privs stays, and so does its seccomp filter. */
	json_t *proc = json_pack(
	        "{s:[s,s,s], s:[s,s], s:s, s:{s:i, s:i, s:[i]}, s:b}", "args", "/bin/sh", "-c",
	        "/bin/busybox id -u; /bin/busybox id -G; echo \"$GREETING\"; pwd; "
	        "/bin/probe status CapEff NoNewPrivs Seccomp",
	        "env", "PATH=/bin", "GREETING=hello from process.json", "cwd", "/tmp", "user",
	        "uid", 1234, "gid", 4321, "additionalGids", 7, "noNewPrivileges", 0);
	_cleanup_free_ char *path = write_process(&b, "process.json", proc);
	char *out = exec_ok(&b, ARGS("exec", "--process", path, "pf"));
	cr_assert_str_eq(out, "1234\n4321 7\nhello from process.json\n/tmp\n"
	                      "CapEff:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n");
	free(out);

	/* The options adjust the file's process: -e adds, --cwd and -u win. */
	out = exec_ok(&b, ARGS("exec", "-p", path, "-e", "GREETING=overridden", "-e", "EXTRA=1",
	                       "--cwd", "/", "-u", "0", "pf"));
	const char want[] = "0\n4321 7\noverridden\n/\n";
	cr_assert_eq(strncmp(out, want, strlen(want)), 0, "%s", out);
	free(out);
	stop_and_done(&b, "pf");
}

Test(exec, process_file_errors_name_the_field_and_start_nothing)
{
	struct bundle b;
	start_sleeper(&b, "pe", NULL);
	static const struct {
		const char *json;
		const char *msg;
	} cases[] = {
	        {"{\"args\": [\"/bin/true\"], \"cwd\": \"/\", \"user\": {\"uid\": \"root\", "
	         "\"gid\": 0}}",
	         "process.user.uid: must be an integer between 0 and 4294967294, got \"root\""},
	        {"{\"args\": [], \"cwd\": \"/\"}",
	         "process.args: must be a non-empty array of strings, got []"},
	        {"{\"args\": [\"/bin/true\"]}", "process.cwd: is required"},
	        {"{\"args\": [\"/bin/true\"], \"cwd\": \"/\", \"env\": [\"NOEQUALS\"]}",
	         "process.env[0]: "},
	        {"{\"args\": [\"/bin/true\"], \"cwd\": \"/\", \"capabilities\": {\"effective\": "
	         "[\"CAP_NOPE\"]}}",
	         "process.capabilities.effective[0]: unknown capability \"CAP_NOPE\""},
	        {"{\"args\": [\"/bin/true\"], \"cwd\": \"/\", \"rlimits\": [{\"type\": "
	         "\"RLIMIT_NOFILE\", \"soft\": 10, \"hard\": 5}]}",
	         "process.rlimits[0].soft: must not exceed hard (5), got 10"},
	        {"[\"/bin/true\"]", "process: must be a JSON object, got [\"/bin/true\"]"},
	        /* Valid, but more than the container has. */
	        {"{\"args\": [\"/bin/true\"], \"cwd\": \"/\", \"capabilities\": {\"bounding\": "
	         "[\"CAP_SYS_ADMIN\"], \"permitted\": [\"CAP_SYS_ADMIN\"]}}",
	         "process.capabilities.bounding: CAP_SYS_ADMIN is not in the container's "
	         "bounding set"},
	};
	_cleanup_free_ char *path = ag_asprintf("%s/bad.json", b.dir);
	for (size_t i = 0; i < AG_ARRAY_SIZE(cases); i++) {
		cr_assert_eq(ag_write_file_atomic_at(AT_FDCWD, path, cases[i].json,
		                                     strlen(cases[i].json), 0644),
		             0);
		expect_refused(&b, 1, cases[i].msg, ARGS("exec", "--process", path, "pe"));
	}
	/* A file and a command: one or the other. */
	expect_refused(&b, 2, "--process and a command `/bin/true`: give one or the other",
	               ARGS("exec", "--process", path, "pe", "/bin/true"));
	/* Nothing was left running next to the sleeper. */
	cr_assert_eq(count_in_pidns(state_pid(&b, "pe")), 1);
	stop_and_done(&b, "pe");
}

/* 'S' (sleeping), 'R', 'Z' (zombie)... of /proc/<pid>/stat, or 0. */
static char proc_state(pid_t pid)
{
	struct ag_proc_stat ps;
	return ag_proc_stat_read(pid, &ps) < 0 ? 0 : ps.state;
}

/* The parent pid of `pid` (/proc/<pid>/stat field 4). */
static pid_t parent_of(pid_t pid)
{
	struct ag_proc_stat ps;
	cr_assert_eq(ag_proc_stat_read(pid, &ps), 0, "/proc/%d/stat", (int)pid);
	return ps.ppid;
}

/* The pid in the file `path`. */
static pid_t read_pid_file(const char *path)
{
	_cleanup_free_ char *text = NULL;
	cr_assert_eq(ag_read_file_at(AT_FDCWD, path, 64, &text, NULL), 0);
	char *end;
	long pid = strtol(text, &end, 10);
	cr_assert(*text && !*end && pid > 1, "pid file: `%s`", text);
	return (pid_t)pid;
}

/* As containerd's shim and conmon are: a detached exec'd process is
 * reparented to us when agora-run exits, and we reap it. */
static void become_subreaper(void)
{
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
}

Test(exec, detach_returns_at_once_and_the_pid_file_names_the_process_in_the_container)
{
	struct bundle b;
	become_subreaper();
	start_sleeper(&b, "dt", NULL);
	_cleanup_free_ char *pid_file = ag_asprintf("%s/exec.pid", b.dir);
	char *err = NULL;
	int rc = agora_run(
	        &b, NULL, &err,
	        ARGS("exec", "--detach", "--pid-file", pid_file, "dt", "--", "/bin/sleep", "300"));
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	free(err);
	pid_t pid = read_pid_file(pid_file);
	/* Alive after agora-run has gone, reparented to the subreaper (us),
	 * and in the container's pid namespace (and its mount namespace)
	 * next to its init. */
	char st = proc_state(pid);
	cr_assert(st == 'S' || st == 'R', "process %d is in state '%c'", (int)pid, st);
	cr_assert_eq(parent_of(pid), getpid());
	pid_t init = state_pid(&b, "dt");
	_cleanup_free_ char *ns_exec = ns_of(pid, "pid");
	_cleanup_free_ char *ns_init = ns_of(init, "pid");
	_cleanup_free_ char *ns_self = ns_of(getpid(), "pid");
	cr_assert_str_eq(ns_exec, ns_init);
	cr_assert_str_neq(ns_exec, ns_self);
	_cleanup_free_ char *mnt_exec = ns_of(pid, "mnt");
	_cleanup_free_ char *mnt_init = ns_of(init, "mnt");
	cr_assert_str_eq(mnt_exec, mnt_init);
	cr_assert_eq(count_in_pidns(init), 2);
	/* The container's end is the end of the exec'd process too (the
	 * kernel kills what is left in a pid namespace whose init dies). */
	cr_assert_eq(kill(init, SIGKILL), 0);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	stop_and_done(&b, "dt");
}

Test(exec, foreground_exit_status_and_signal_death_are_returned)
{
	struct bundle b;
	start_sleeper(&b, "fg", NULL);
	cr_assert_eq(
	        agora_run(&b, NULL, NULL, ARGS("exec", "fg", "--", "/bin/sh", "-c", "exit 42")),
	        42);
	cr_assert_eq(agora_run(&b, NULL, NULL,
	                       ARGS("exec", "fg", "/bin/sh", "-c", "kill -TERM $$; sleep 5")),
	             128 + SIGTERM);
	stop_and_done(&b, "fg");
}

Test(exec, tty_with_a_console_socket_as_containerd_calls_it)
{
	struct bundle b;
	become_subreaper();
	start_sleeper(&b, "tt", NULL);
	/* containerd's shim: exec --process F --detach --pid-file P
	 * --console-socket S ID, the terminal asked for in the file. */
	json_t *proc = json_pack("{s:[s], s:[s], s:s, s:b, s:{s:i, s:i}}", "args", "/bin/sh", "env",
	                         "PATH=/bin", "cwd", "/", "terminal", 1, "consoleSize", "height",
	                         24, "width", 91);
	_cleanup_free_ char *path = write_process(&b, "process.json", proc);
	_cleanup_free_ char *sock = ag_asprintf("%s/console.sock", b.dir);
	_cleanup_free_ char *pid_file = ag_asprintf("%s/exec.pid", b.dir);
	int lfd = console_listen(sock);
	free(exec_ok(&b, ARGS("exec", "--process", path, "--detach", "--pid-file", pid_file,
	                      "--console-socket", sock, "tt")));
	char name[64];
	int master = console_receive(lfd, name, sizeof(name));
	close(lfd);
	cr_assert_eq(strncmp(name, "/dev/pts/", 9), 0, "%s", name);
	cr_assert(isatty(master));
	const char cmd[] = "/bin/busybox tty; test -t 0 && test -t 1 && test -t 2 && echo "
	                   "all-three-ttys; /bin/busybox stty size; exit 0\n";
	cr_assert_eq(write(master, cmd, sizeof(cmd) - 1), (ssize_t)sizeof(cmd) - 1);
	_cleanup_free_ char *out = read_terminal(master);
	close(master);
	_cleanup_free_ char *want = ag_asprintf("\r\n%s\r\nall-three-ttys\r\n24 91\r\n", name);
	cr_assert_neq(strstr(out, want), NULL, "want %s in: %s", want, out);
	pid_t pid = read_pid_file(pid_file);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* -t in the foreground without a socket: relayed, as run does. */
	char *o2 = NULL;
	int rc = agora_run(
	        &b, &o2, NULL,
	        ARGS("exec", "-t", "tt", "--", "/bin/sh", "-c", "/bin/busybox tty; exit 3"));
	cr_assert_eq(rc, 3);
	cr_assert_eq(strncmp(o2, "/dev/pts/", 9), 0, "%s", o2);
	free(o2);
	stop_and_done(&b, "tt");
}

Test(exec, terminal_and_socket_mismatches_are_refused)
{
	struct bundle b;
	start_sleeper(&b, "tm", NULL);
	expect_refused(&b, 1, "a detached exec needs a console socket",
	               ARGS("exec", "-t", "-d", "tm", "/bin/true"));
	expect_refused(&b, 2, "--console-socket: the process has no terminal",
	               ARGS("exec", "--console-socket", "/nonexistent.sock", "tm", "/bin/true"));
	stop_and_done(&b, "tm");
}

/* The container's bounding set gains CAP_SYS_PTRACE, which it does not
 * otherwise hold: --cap may raise it, nothing may raise CAP_SYS_ADMIN. */
static void bound_ptrace(json_t *cfg)
{
	json_t *bnd = json_object_get(
	        json_object_get(json_object_get(cfg, "process"), "capabilities"), "bounding");
	json_array_append_new(bnd, json_string("CAP_SYS_PTRACE"));
}

Test(exec, cap_is_granted_within_the_bounding_set_and_refused_beyond_it)
{
	struct bundle b;
	start_sleeper(&b, "cp", bound_ptrace);
	char *out = exec_ok(&b, ARGS("exec", "--cap", "CAP_SYS_PTRACE", "cp", "/bin/probe",
	                             "status", "CapEff", "CapBnd"));
	/* The 14 Docker capabilities (a80425fb) and bit 19. */
	cr_assert_str_eq(out, "CapEff:\t00000000a80c25fb\nCapBnd:\t00000000a80c25fb\n");
	free(out);
	expect_refused(&b, 1, "--cap CAP_SYS_ADMIN: not in the container's bounding set",
	               ARGS("exec", "--cap", "CAP_SYS_ADMIN", "cp", "/bin/probe", "status"));
	expect_refused(&b, 2, "--cap `SYS_NOPE`: not a capability",
	               ARGS("exec", "--cap", "SYS_NOPE", "cp", "/bin/true"));
	stop_and_done(&b, "cp");
}

Test(exec, user_option_sets_uid_and_gid_and_drops_capabilities)
{
	struct bundle b;
	start_sleeper(&b, "us", NULL);
	char *out = exec_ok(&b, ARGS("exec", "-u", "1000:1001", "us", "/bin/probe", "status", "Uid",
	                             "Gid", "CapEff"));
	cr_assert_str_eq(out, "Uid:\t1000\t1000\t1000\t1000\n"
	                      "Gid:\t1001\t1001\t1001\t1001\n"
	                      "CapEff:\t0000000000000000\n");
	free(out);
	/* A uid alone keeps the process's gid. */
	out = exec_ok(&b, ARGS("exec", "--user", "77", "us", "/bin/busybox", "id"));
	cr_assert_eq(strncmp(out, "uid=77 gid=0", 12), 0, "%s", out);
	free(out);
	expect_refused(&b, 2, "--user `root`: expects UID[:GID]",
	               ARGS("exec", "-u", "root", "us", "/bin/true"));
	stop_and_done(&b, "us");
}

Test(exec, cwd_is_resolved_inside_the_root)
{
	struct bundle b;
	start_sleeper(&b, "cw", NULL);
	/* An absolute symlink in the rootfs points inside the container. */
	_cleanup_free_ char *link = ag_asprintf("%s/rootfs/etc/up", b.dir);
	cr_assert_eq(symlink("/tmp", link), 0);
	char *out = exec_ok(&b, ARGS("exec", "--cwd", "/etc/up", "cw", "/bin/sh", "-c",
	                             "pwd; /bin/probe exists /bin/probe"));
	cr_assert_str_eq(out, "/tmp\nyes\n");
	free(out);
	/* A /proc magic link to a host fd of the launcher leads nowhere. */
	expect_refused(&b, 1, "process.cwd: `/proc/self/fd/1`",
	               ARGS("exec", "--cwd", "/proc/self/fd/1", "cw", "/bin/true"));
	stop_and_done(&b, "cw");
}

/* agora-run `args` with exactly these fds open: 0, its stdout and stderr
 * (`out_fd`, `err_fd`), `fds` (n of them) as 3, 4, ..., and a host
 * directory as fd 9, none close-on-exec. */
static int run_with_fds(struct bundle *b, const int *fds, int n, int out_fd, int err_fd,
                        const char *const args[])
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
			_exit(126);
		for (int i = 0; i < n; i++)
			if (dup2(fds[i], 20 + i) < 0)
				_exit(126);
		for (int i = 0; i < n; i++)
			if (dup2(20 + i, 3 + i) < 0)
				_exit(126);
		int leak = open("/etc", O_RDONLY | O_DIRECTORY);
		if (leak < 0 || dup2(leak, 9) < 0)
			_exit(126);
		syscall(SYS_close_range, 3 + n, 8, 0);
		syscall(SYS_close_range, 10, ~0U, 0);
		char exe[512], root[512];
		snprintf(exe, sizeof(exe), "%s/bin/agora-run", build_dir());
		snprintf(root, sizeof(root), "--root=%s", b->state);
		const char *argv[32] = {exe, root, "--cgroup-manager=disabled"};
		size_t k = 3;
		for (size_t i = 0; args[i] && k < 31; i++)
			argv[k++] = args[i];
		argv[k] = NULL;
		execv(exe, (char **)argv);
		_exit(127);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* What is in the pipe `fd` until EOF, malloc'd; `fd` is closed. */
static char *drain(int fd)
{
	size_t cap = 8192, len = 0;
	char *buf = ag_malloc(cap);
	ssize_t n;
	while ((n = read(fd, buf + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(fd);
	return buf;
}

Test(exec, preserve_fds_passes_exactly_those_and_stdio)
{
	struct bundle b;
	start_sleeper(&b, "pr", NULL);
	int p1[2], p2[2], out[2], err[2];
	cr_assert_eq(pipe2(p1, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(p2, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(err, O_CLOEXEC), 0);
	int fds[] = {p1[1], p2[1]};
	int rc = run_with_fds(&b, fds, 2, out[1], err[1],
	                      ARGS("exec", "--preserve-fds", "2", "pr", "/bin/sh", "-c",
	                           "echo one >&3; echo two >&4; /bin/probe fds"));
	close(p1[1]);
	close(p2[1]);
	close(out[1]);
	close(err[1]);
	_cleanup_free_ char *e = drain(err[0]);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, e);
	_cleanup_free_ char *one = drain(p1[0]);
	_cleanup_free_ char *two = drain(p2[0]);
	cr_assert_str_eq(one, "one\n");
	cr_assert_str_eq(two, "two\n");
	/* 0, 1, 2 and the two pipes; not fd 9, a host directory, nor any fd
	 * of the launcher's own. */
	_cleanup_free_ char *fdlist = drain(out[0]);
	char *line = fdlist;
	int count = 0;
	while (*line) {
		int fd = atoi(line);
		cr_assert(fd >= 0 && fd <= 4, "unexpected fd in the container: %s", line);
		line = strchrnul(line, '\n');
		if (*line)
			line++;
		count++;
	}
	cr_assert_eq(count, 5, "%s", fdlist);

	/* More than are open: refused before anything starts. */
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(err, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(p1, O_CLOEXEC), 0);
	rc = run_with_fds(&b, &p1[1], 1, out[1], err[1],
	                  ARGS("exec", "--preserve-fds", "3", "pr", "/bin/sh", "-c", "echo ran"));
	close(out[1]);
	close(err[1]);
	close(p1[1]);
	close(p1[0]);
	_cleanup_free_ char *o2 = drain(out[0]);
	_cleanup_free_ char *e2 = drain(err[0]);
	cr_assert_eq(rc, 1);
	cr_assert_str_eq(o2, "");
	cr_assert_neq(strstr(e2, "--preserve-fds 3: fd 4 is not open"), NULL, "%s", e2);
	cr_assert_eq(count_in_pidns(state_pid(&b, "pr")), 1);
	stop_and_done(&b, "pr");
}

Test(exec, a_stopped_container_is_refused)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/true"));
	bundle_write(&b);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("create", "st")), 0);
	expect_refused(&b, 1, "container `st` is created: exec needs a running container",
	               ARGS("exec", "st", "/bin/true"));
	stop_and_done(&b, "st");
}
