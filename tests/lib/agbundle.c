/* agbundle.c: bundles and agora-run invocations for the launcher tests
 * (host and vm-guest tiers). */
#include "agbundle.h"
#include "agtest.h"
#include "common/common.h"

#include <dirent.h>
#include <grp.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

bool agbundle_cgroups;
uid_t agbundle_uid;

/* Bundles made in this test process and not yet done: a failed assertion
 * ends the test before its own cleanup, and bundle_cleanup_all() (the
 * suites' .fini) must still delete what it left running. */
struct live_bundle {
	char dir[128];
	char state[160];
};
/* Copies, not pointers: the bundles live on the stack of a test that may
 * have ended by a failed assertion. */
static struct live_bundle live[16];
static size_t n_live;

const char *build_dir(void)
{
	const char *b = getenv("AGORA_BUILD_DIR");
	return b ? b : "build";
}

static void copy_file(const char *from, const char *to, mode_t mode)
{
	char *buf = NULL;
	size_t len = 0;
	cr_assert_eq(ag_read_file_at(AT_FDCWD, from, 64u << 20, &buf, &len), 0, "read %s", from);
	int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	cr_assert_geq(fd, 0, "create %s", to);
	cr_assert_eq(ag_write_all(fd, buf, len), 0);
	close(fd);
	free(buf);
}

void bundle_init(struct bundle *b, const char *const args[])
{
	snprintf(b->dir, sizeof(b->dir), "/tmp/agora-host-XXXXXX");
	cr_assert_not_null(mkdtemp(b->dir));
	if (n_live < AG_ARRAY_SIZE(live)) {
		snprintf(live[n_live].dir, sizeof(live[n_live].dir), "%s", b->dir);
		snprintf(live[n_live].state, sizeof(live[n_live].state), "%s/state", b->dir);
		n_live++;
	}
	snprintf(b->state, sizeof(b->state), "%s/state", b->dir);
	static const char *const dirs[] = {"rootfs",     "rootfs/bin", "rootfs/proc", "rootfs/sys",
	                                   "rootfs/dev", "rootfs/tmp", "rootfs/etc"};
	for (size_t i = 0; i < AG_ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *p = ag_asprintf("%s/%s", b->dir, dirs[i]);
		cr_assert_eq(mkdir(p, 0755), 0);
	}
	_cleanup_free_ char *bb = ag_asprintf("%s/rootfs/bin/busybox", b->dir);
	copy_file("/bin/busybox", bb, 0755);
	_cleanup_free_ char *probe_src = ag_asprintf("%s/tests/probe", build_dir());
	_cleanup_free_ char *probe = ag_asprintf("%s/rootfs/bin/probe", b->dir);
	copy_file(probe_src, probe, 0755);
	static const char *const applets[] = {"sh", "sleep", "true", "cat", "echo", "ls", "wc"};
	for (size_t i = 0; i < AG_ARRAY_SIZE(applets); i++) {
		_cleanup_free_ char *l = ag_asprintf("%s/rootfs/bin/%s", b->dir, applets[i]);
		cr_assert_eq(symlink("busybox", l), 0);
	}

	/* Start from what `agora-run spec` writes: the safe defaults. */
	char *out = NULL;
	_cleanup_free_ char *spec_cmd =
	        ag_asprintf("%s/bin/agora-run spec --bundle %s", build_dir(), b->dir);
	cr_assert_eq(system(spec_cmd), 0, "agora-run spec");
	_cleanup_free_ char *cfg_path = ag_asprintf("%s/config.json", b->dir);
	cr_assert_eq(ag_read_file_at(AT_FDCWD, cfg_path, 1 << 20, &out, NULL), 0);
	json_error_t jerr;
	b->cfg = json_loads(out, 0, &jerr);
	free(out);
	cr_assert_not_null(b->cfg);
	json_t *a = json_array();
	for (size_t i = 0; args[i]; i++)
		json_array_append_new(a, json_string(args[i]));
	json_object_set_new(json_object_get(b->cfg, "process"), "args", a);
}

void bundle_write(struct bundle *b)
{
	_cleanup_free_ char *p = ag_asprintf("%s/config.json", b->dir);
	cr_assert_eq(json_dump_file(b->cfg, p, JSON_INDENT(1)), 0);
}

void bundle_run_refused(struct bundle *b, const char *id, const char *msg)
{
	char *err = NULL;
	cr_assert_eq(agora_run(b, NULL, &err, ARGS("run", id)), 1);
	cr_assert_neq(strstr(err, msg), NULL, "%s", err);
	free(err);
	cr_assert_eq(state_entries(b), 0);
}

void bundle_drop_namespace(struct bundle *b, const char *type)
{
	json_t *ns = json_object_get(json_object_get(b->cfg, "linux"), "namespaces");
	size_t i;
	json_t *v;
	json_array_foreach (ns, i, v) {
		if (strcmp(json_string_value(json_object_get(v, "type")), type) == 0) {
			json_array_remove(ns, i);
			return;
		}
	}
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

bool mounts_mention(const char *what)
{
	char *mi = NULL;
	cr_assert_eq(ag_read_file_at(AT_FDCWD, "/proc/self/mountinfo", 16u << 20, &mi, NULL), 0);
	bool found = strstr(mi, what) != NULL;
	free(mi);
	return found;
}

size_t state_entries(const struct bundle *b)
{
	DIR *d = opendir(b->state);
	if (!d)
		return 0;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

void bundle_cleanup_all(void)
{

	while (n_live > 0) {
		struct live_bundle *b = &live[--n_live];
		/* Every container still in the bundle's state root goes. */
		_cleanup_free_ char *cmd = ag_asprintf(
		        "for id in $(%s/bin/agora-run --root=%s list -q 2>/dev/null); do "
		        "%s/bin/agora-run --root=%s --cgroup-manager=%s delete --force $id; done",
		        build_dir(), b->state, build_dir(), b->state,
		        agbundle_cgroups ? "cgroupfs" : "disabled");
		if (system(cmd) != 0)
			fprintf(stderr,
			        "bundle_cleanup_all: could not delete the containers of %s\n",
			        b->dir);
		if (!mounts_mention(b->dir))
			nftw(b->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	}
}

static void bundle_forget(struct bundle *b)
{
	for (size_t i = 0; i < n_live; i++)
		if (strcmp(live[i].dir, b->dir) == 0)
			live[i] = live[--n_live];
}

void bundle_done(struct bundle *b)
{
	bundle_forget(b);
	json_decref(b->cfg);
	/* Nothing may still be mounted from the bundle: rm would otherwise
	 * walk into a live container's mounts. FTW_MOUNT keeps it on the
	 * bundle's own file system anyway. */
	cr_assert_not(mounts_mention(b->dir), "mounts of %s left behind", b->dir);
	nftw(b->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* Runs agora-run with --root and --cgroup-manager=disabled, then `args`;
 * `leak_fd` (if >= 0) is passed to it without close-on-exec, as fd 9.
 * stdout and stderr go to files, not pipes: a created container inherits
 * them and would hold a pipe open for as long as it lives. */
int agora_run_fd(const struct bundle *b, char **ret_out, char **ret_err, int leak_fd,
                 const char *const args[])
{
	static unsigned seq;
	_cleanup_free_ char *outp = ag_asprintf("%s/out.%u", b->dir, seq);
	_cleanup_free_ char *errp = ag_asprintf("%s/err.%u", b->dir, seq++);
	_cleanup_free_ char *exe = ag_asprintf("%s/bin/agora-run", build_dir());
	_cleanup_free_ char *root = ag_asprintf("--root=%s", b->state);
	const char *argv[32] = {exe, root, "--cgroup-manager=disabled"};
	size_t n = agbundle_cgroups ? 2 : 3;
	for (size_t i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int o = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(126);
		close(o);
		close(e);
		if (leak_fd >= 0)
			dup2(leak_fd, 9); /* dup2 clears close-on-exec */
		if (chdir(b->dir) < 0)
			_exit(126);
		if (agbundle_uid && (setgroups(0, NULL) < 0 ||
		                     setresgid(agbundle_uid, agbundle_uid, agbundle_uid) < 0 ||
		                     setresuid(agbundle_uid, agbundle_uid, agbundle_uid) < 0))
			_exit(126);
		execv(exe, (char **)argv);
		_exit(127);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	char *out = NULL, *err = NULL;
	cr_assert_eq(ag_read_file_at(AT_FDCWD, outp, 1 << 20, &out, NULL), 0);
	cr_assert_eq(ag_read_file_at(AT_FDCWD, errp, 1 << 20, &err, NULL), 0);
	if (ret_out)
		*ret_out = out;
	else
		free(out);
	if (ret_err)
		*ret_err = err;
	else
		free(err);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int agora_run(const struct bundle *b, char **ret_out, char **ret_err, const char *const args[])
{
	return agora_run_fd(b, ret_out, ret_err, -1, args);
}

/* `run` the bundle's process and return its stdout; asserts exit 0. */
char *run_probe(struct bundle *b, const char *id)
{
	bundle_write(b);
	char *out = NULL, *err = NULL;
	int rc = agora_run(b, &out, &err, (const char *const[]){"run", id, NULL});
	cr_assert_eq(rc, 0, "run %s: exit %d, stderr: %s", id, rc, err);
	free(err);
	return out;
}

/* `state ID`: the OCI state JSON (caller frees); asserts exit 0. */
char *state_of(struct bundle *b, const char *id)
{
	char *out = NULL;
	int rc = agora_run(b, &out, NULL, ARGS("state", id));
	cr_assert_eq(rc, 0, "state %s", id);
	return out;
}

/* Reading the JSON again for one number: the init pid of `id`. */
pid_t state_pid(struct bundle *b, const char *id)
{
	_cleanup_free_ char *s = state_of(b, id);
	json_t *j = json_loads(s, 0, NULL);
	cr_assert_not_null(j, "%s", s);
	pid_t pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
	json_decref(j);
	return pid;
}

/* ---- OCI console sockets -------------------------------------------- */

/* A listening unix socket at `path`, as an OCI console socket receiver. */
int console_listen(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	cr_assert_lt(strlen(path), sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s", strerror(errno));
	cr_assert_eq(listen(fd, 1), 0);
	return fd;
}

/* Accepts one connection and receives the fd it carries (SCM_RIGHTS);
 * the data, the pty's name, goes to `name`. */
int console_receive(int lfd, char *name, size_t n)
{
	struct pollfd p = {.fd = lfd, .events = POLLIN};
	cr_assert_eq(poll(&p, 1, 5000), 1, "nobody connected to the console socket");
	int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	cr_assert_geq(c, 0);
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = {.iov_base = name, .iov_len = n - 1};
	struct msghdr mh = {.msg_iov = &iov,
	                    .msg_iovlen = 1,
	                    .msg_control = u.buf,
	                    .msg_controllen = sizeof(u.buf)};
	ssize_t got = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
	cr_assert_gt(got, 0, "%s", strerror(errno));
	name[got] = '\0';
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cr_assert_not_null(cm, "no fd came with the message");
	cr_assert_eq(cm->cmsg_type, SCM_RIGHTS);
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	close(c);
	return fd;
}

/* Everything the terminal says until it closes (EIO: no peer left). */
char *read_terminal(int master)
{
	size_t cap = 65536, len = 0;
	char *buf = ag_malloc(cap);
	for (;;) {
		struct pollfd p = {.fd = master, .events = POLLIN};
		cr_assert_eq(poll(&p, 1, 10000), 1, "the terminal went quiet: %.*s", (int)len, buf);
		ssize_t n = read(master, buf + len, cap - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		cr_assert_lt(len, cap - 1);
	}
	buf[len] = '\0';
	return buf;
}

json_t *bundle_hook(const char *script)
{
	return json_pack("{s:s, s:[s,s,s]}", "path", "/bin/sh", "args", "sh", "-c", script);
}

char *read_text(const char *path)
{
	char *t = NULL;
	cr_assert_eq(ag_read_file_at(AT_FDCWD, path, 1 << 20, &t, NULL), 0, "read %s", path);
	return t;
}
