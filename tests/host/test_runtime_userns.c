/* Host tier: agora-run containers with a user namespace of their own
 * (linux.uidMappings/gidMappings), through the whole lifecycle (create,
 * start, state, exec, kill, delete), as root and rootless.
 *
 * The rootless tests run agora-run as `nobody` (65534), with a subordinate
 * range in /etc/subuid and /etc/subgid as each test process's own mount
 * namespace shows them (newuidmap/newgidmap, package uidmap, check them;
 * the host's files are never written). cgroups are disabled as in
 * test_runtime.c.
 */
#include "agbundle.h"
#include "agtest.h"
#include "common/common.h"

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOBODY   65534
#define SUB_BASE 200000
#define SUB_SIZE 65536

/* ---- helpers ------------------------------------------------------------ */

/* The spec's mappings: `n` triples of container id, host id, size, the
 * same for uids and gids, with a user namespace added to the default's. */
static void set_maps(struct bundle *b, const unsigned (*m)[3], size_t n)
{
	json_t *lx = json_object_get(b->cfg, "linux");
	json_t *ns = json_object_get(lx, "namespaces");
	bool has_user = false;
	size_t i;
	json_t *v;
	json_array_foreach (ns, i, v)
		has_user |= strcmp(json_string_value(json_object_get(v, "type")), "user") == 0;
	if (!has_user)
		json_array_append_new(ns, json_pack("{s:s}", "type", "user"));
	json_t *maps = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(maps, json_pack("{s:i, s:i, s:i}", "containerID", m[i][0],
		                                      "hostID", m[i][1], "size", m[i][2]));
	json_object_set(lx, "uidMappings", maps);
	json_object_set_new(lx, "gidMappings", maps);
}

static char *status_of(struct bundle *b, const char *id)
{
	_cleanup_free_ char *s = state_of(b, id);
	json_t *j = json_loads(s, 0, NULL);
	cr_assert_not_null(j, "%s", s);
	char *st = ag_strdup(json_string_value(json_object_get(j, "status")));
	json_decref(j);
	return st;
}

static void wait_stopped(struct bundle *b, const char *id)
{
	for (int i = 0; i < 500; i++) {
		_cleanup_free_ char *st = status_of(b, id);
		if (strcmp(st, "stopped") == 0)
			return;
		usleep(10000);
	}
	cr_assert_fail("container `%s` did not stop", id);
}

/* The inode of /proc/<pid>/ns/<name>. */
static ino_t ns_ino(pid_t pid, const char *name)
{
	_cleanup_free_ char *p = pid ? ag_asprintf("/proc/%d/ns/%s", (int)pid, name)
	                             : ag_asprintf("/proc/self/ns/%s", name);
	struct stat st;
	cr_assert_eq(stat(p, &st), 0, "stat %s", p);
	return st.st_ino;
}

/* The whole lifecycle; `host_root` is the host uid of the container's
 * root, which every process of the container must run as. */
static void lifecycle(struct bundle *b, const char *id, uid_t host_root, const char *uid_map)
{
	bundle_write(b);
	char *err = NULL;
	int rc = agora_run(b, NULL, &err, ARGS("create", id));
	cr_assert_eq(rc, 0, "create: exit %d: %s", rc, err);
	free(err);
	/* Created, with its init alive: not "stopped" with no pid. */
	_cleanup_free_ char *st = status_of(b, id);
	cr_assert_str_eq(st, "created");
	pid_t pid = state_pid(b, id);
	cr_assert_gt(pid, 0);
	cr_assert_eq(kill(pid, 0), 0);
	/* Every namespace listed without a path is new, the user one too. */
	static const char *const names[] = {"user", "pid", "net", "ipc", "uts", "mnt", "cgroup"};
	for (size_t i = 0; i < AG_ARRAY_SIZE(names); i++)
		cr_assert_neq(ns_ino(pid, names[i]), ns_ino(0, names[i]),
		              "%s namespace is the host's", names[i]);
	struct stat fifo;
	_cleanup_free_ char *fp = ag_asprintf("%s/%s/exec.fifo", b->state, id);
	cr_assert_eq(stat(fp, &fifo), 0);
	cr_assert_eq(fifo.st_uid, host_root, "exec.fifo belongs to uid %d", (int)fifo.st_uid);
	cr_assert_eq(fifo.st_mode & 07777, 0600);

	err = NULL;
	rc = agora_run(b, NULL, &err, ARGS("start", id));
	cr_assert_eq(rc, 0, "start: exit %d: %s", rc, err);
	free(err);
	_cleanup_free_ char *st2 = status_of(b, id);
	cr_assert_str_eq(st2, "running");
	_cleanup_free_ char *hs = ag_asprintf("/proc/%d/status", (int)pid);
	char *status = NULL;
	cr_assert_eq(ag_read_file_at(AT_FDCWD, hs, 1 << 16, &status, NULL), 0);
	_cleanup_free_ char *want = ag_asprintf("\nUid:\t%d\t%d\t%d\t%d\n", (int)host_root,
	                                        (int)host_root, (int)host_root, (int)host_root);
	cr_assert_neq(strstr(status, want), NULL, "%s", status);
	free(status);

	char *out = NULL;
	err = NULL;
	rc = agora_run(b, &out, &err,
	               ARGS("exec", id, "--", "/bin/sh", "-c",
	                    "/bin/probe status Uid; cat /proc/self/uid_map"));
	cr_assert_eq(rc, 0, "exec: exit %d: %s", rc, err);
	_cleanup_free_ char *exp = ag_asprintf("Uid:\t0\t0\t0\t0\n%s", uid_map);
	cr_assert_str_eq(out, exp);
	free(out);
	free(err);

	cr_assert_eq(agora_run(b, NULL, NULL, ARGS("kill", id, "KILL")), 0);
	wait_stopped(b, id);
	err = NULL;
	rc = agora_run(b, NULL, &err, ARGS("delete", id));
	cr_assert_eq(rc, 0, "delete: exit %d: %s", rc, err);
	free(err);
	cr_assert_eq(state_entries(b), 0);
}

/* ---- as root ------------------------------------------------------------ */

TestSuite(userns, .fini = bundle_cleanup_all, .timeout = 120);

Test(userns, lifecycle_with_id_maps_and_a_bundle_the_mapped_root_cannot_enter)
{
	/* mkdtemp made the bundle 0700, root's: the container's root (host
	 * uid 100000) could reach neither its root nor exec.fifo by path. */
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sleep", "60"));
	static const unsigned m[][3] = {{0, 100000, 65536}};
	set_maps(&b, m, 1);
	lifecycle(&b, "uns", 100000, "         0     100000      65536\n");
	bundle_done(&b);
}

Test(userns, an_init_that_cannot_become_root_fails_create_with_its_error)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sleep", "60"));
	static const unsigned m[][3] = {{1000, 100000, 1000}};
	set_maps(&b, m, 1);
	bundle_write(&b);
	char *err = NULL;
	int rc = agora_run(&b, NULL, &err, ARGS("create", "noroot"));
	cr_assert_eq(rc, 1, "exit %d: %s", rc, err);
	cr_assert_neq(strstr(err, "become root in the user namespace"), NULL, "%s", err);
	free(err);
	cr_assert_eq(state_entries(&b), 0);
	bundle_done(&b);
}

/* ---- rootless ----------------------------------------------------------- */

/* Bind a file holding nobody's subordinate range over `path`, in this test
 * process's own mount namespace: newuidmap/newgidmap (run by agora-run, a
 * child) read it there, and the host's file is never written, so an
 * interrupted run leaves nothing behind. criterion runs each test in a
 * process of its own, so tests in parallel do not see each other's. */
static void sub_bind(const char *path)
{
	char tmp[] = "/run/agora-test-subid.XXXXXX";
	_cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
	cr_assert_geq(fd, 0, "mkostemp: %s", strerror(errno));
	_cleanup_free_ char *t = ag_asprintf("nobody:%d:%d\n", SUB_BASE, SUB_SIZE);
	cr_assert_eq(write(fd, t, strlen(t)), (ssize_t)strlen(t));
	cr_assert_eq(fchmod(fd, 0644), 0);
	int r = mount(tmp, path, NULL, MS_BIND, NULL);
	int e = errno;
	unlink(tmp); /* the mount keeps the file */
	cr_assert_eq(r, 0, "bind %s over %s: %s", tmp, path, strerror(e));
}

static void rootless_init(void)
{
	cr_assert_eq(access("/usr/bin/newuidmap", X_OK), 0,
	             "newuidmap is needed (scripts/install-deps: uidmap)");
	cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare(CLONE_NEWNS): %s", strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	sub_bind("/etc/subuid");
	sub_bind("/etc/subgid");
	agbundle_uid = NOBODY;
}

static void rootless_fini(void)
{
	agbundle_uid = 0;
	bundle_cleanup_all();
}

TestSuite(rootless, .init = rootless_init, .fini = rootless_fini, .timeout = 120);

/* A bundle that `nobody` owns (its state root goes in it). */
static void rootless_bundle(struct bundle *b, const char *const args[])
{
	bundle_init(b, args);
	cr_assert_eq(chown(b->dir, NOBODY, NOBODY), 0);
}

Test(rootless, lifecycle_with_subordinate_ranges)
{
	struct bundle b;
	rootless_bundle(&b, ARGS("/bin/sleep", "60"));
	static const unsigned m[][3] = {{0, NOBODY, 1}, {1, SUB_BASE, SUB_SIZE}};
	set_maps(&b, m, 2);
	lifecycle(&b, "rl", NOBODY,
	          "         0      65534          1\n         1     200000      65536\n");
	bundle_done(&b);
}

Test(rootless, its_own_id_alone_needs_no_helper)
{
	struct bundle b;
	rootless_bundle(&b,
	                ARGS("/bin/sh", "-c", "/bin/probe status Uid; cat /proc/self/setgroups"));
	static const unsigned m[][3] = {{0, NOBODY, 1}};
	set_maps(&b, m, 1);
	/* gid 5 (tty) is not mapped: devpts cannot be given it. */
	json_t *mounts = json_object_get(b.cfg, "mounts");
	size_t i;
	json_t *v;
	json_array_foreach (mounts, i, v) {
		json_t *opts = json_object_get(v, "options");
		size_t k;
		json_t *o;
		json_array_foreach (opts, k, o)
			if (strcmp(json_string_value(o), "gid=5") == 0) {
				json_array_remove(opts, k);
				break;
			}
	}
	_cleanup_free_ char *out = run_probe(&b, "own");
	/* setgroups is denied: the kernel's condition for an unprivileged
	 * gid_map. */
	cr_assert_str_eq(out, "Uid:\t0\t0\t0\t0\ndeny\n");
	bundle_done(&b);
}

Test(rootless, root_on_an_id_not_its_own_is_refused_at_create)
{
	/* The container's root could not open exec.fifo (nobody's, 0600),
	 * and nobody cannot give it away: create says so and leaves nothing,
	 * rather than exit 0 with a container that died. */
	struct bundle b;
	rootless_bundle(&b, ARGS("/bin/sleep", "60"));
	static const unsigned m[][3] = {{0, SUB_BASE, SUB_SIZE}};
	set_maps(&b, m, 1);
	bundle_write(&b);
	char *err = NULL;
	int rc = agora_run(&b, NULL, &err, ARGS("create", "sub"));
	cr_assert_eq(rc, 1, "exit %d: %s", rc, err);
	cr_assert_neq(strstr(err, "give exec.fifo to the container's root (host uid 200000"), NULL,
	              "%s", err);
	free(err);
	cr_assert_eq(state_entries(&b), 0);
	bundle_done(&b);
}
