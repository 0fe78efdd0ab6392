/* The test VM's promise, checked inside it: a cgroup-v2-only hierarchy at
 * /sys/fs/cgroup with the controllers agora's launcher uses, whose limits the
 * kernel really applies. If the VM recipe regresses (a v1 mount, a missing
 * controller, a module left out), these fail before any launcher test does.
 *
 * Runs only inside tests/vm/vm-run (label vm-guest). Each test works in its
 * own child cgroup, agora-vmtest-<pid>, removed again at the end. */
#include "agtest.h"
#include "common/common.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#define CG_ROOT "/sys/fs/cgroup"

static int root_fd = -1;
static char cg_name[64];
static bool cg_made;
static pid_t child = -1;

/* Never touch a host's cgroups: these tests write to the hierarchy they
 * find, which is only ours inside the VM. */
static void guest_only(void)
{
	const char *guest = getenv("AGORA_VM_GUEST");
	if (!guest || strcmp(guest, "1") != 0)
		cr_skip_test("runs only inside the test VM (tests/vm/vm-run)");

	root_fd = open(CG_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(root_fd, 0, "open %s: %s", CG_ROOT, strerror(errno));
	struct statfs sfs;
	cr_assert_eq(fstatfs(root_fd, &sfs), 0);
	cr_assert_eq(sfs.f_type, CGROUP2_SUPER_MAGIC,
	             "%s is not cgroup2 (f_type 0x%lx): the VM must be cgroup-v2-only", CG_ROOT,
	             (unsigned long)sfs.f_type);
}

static void teardown(void)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		child = -1;
	}
	if (cg_made && unlinkat(root_fd, cg_name, AT_REMOVEDIR) < 0)
		cr_log_warn("rmdir %s/%s: %s", CG_ROOT, cg_name, strerror(errno));
	if (root_fd >= 0)
		close(root_fd);
	root_fd = -1;
}

/* Reads root-relative `path`; the caller frees. Fails the test on error. */
static char *read_cg(const char *path)
{
	char *buf = NULL;
	int r = ag_read_file_at(root_fd, path, 65536, &buf, NULL);
	cr_assert_eq(r, 0, "read %s/%s: %s", CG_ROOT, path, strerror(-r));
	return buf;
}

static int write_cg(const char *path, const char *value)
{
	return ag_write_file_at(root_fd, path, value, strlen(value));
}

/* True when the space-separated `list` holds the word `word`. */
static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; (p = strstr(p, word)) != NULL; p += n) {
		bool starts = p == list || p[-1] == ' ';
		bool ends = p[n] == '\0' || p[n] == ' ' || p[n] == '\n';
		if (starts && ends)
			return true;
	}
	return false;
}

/* Creates this test's child cgroup with `controllers` (e.g. "+memory")
 * enabled for it in the root's cgroup.subtree_control. */
static void make_child_cgroup(const char *const *controllers, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		/* One controller per write: a write of several is all or nothing. */
		_cleanup_free_ char *plus = ag_asprintf("+%s", controllers[i]);
		int r = write_cg("cgroup.subtree_control", plus);
		cr_assert_eq(r, 0, "enable %s in %s/cgroup.subtree_control: %s", controllers[i],
		             CG_ROOT, strerror(-r));
	}
	snprintf(cg_name, sizeof(cg_name), "agora-vmtest-%d", (int)getpid());
	cr_assert_eq(mkdirat(root_fd, cg_name, 0755), 0, "mkdir %s/%s: %s", CG_ROOT, cg_name,
	             strerror(errno));
	cg_made = true;

	_cleanup_free_ char *path = ag_asprintf("%s/cgroup.controllers", cg_name);
	_cleanup_free_ char *have = read_cg(path);
	for (size_t i = 0; i < n; i++)
		cr_assert(has_word(have, controllers[i]), "%s has controllers '%s', not %s",
		          cg_name, have, controllers[i]);
}

/* Forks a child that waits for a byte on a pipe, then _exits with body()'s
 * result (or 0 when the pipe closes without a byte). Returns the pipe's
 * write end; the child's pid is in `child`, reaped by teardown if the test
 * fails first. */
static int fork_waiting_child(int (*body)(void))
{
	int fds[2];
	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	child = fork();
	cr_assert_geq(child, 0, "fork: %s", strerror(errno));
	if (child == 0) {
		char c;
		close(fds[1]);
		ssize_t n = read(fds[0], &c, 1);
		_exit(n == 1 && body ? body() : 0);
	}
	close(fds[0]);
	return fds[1];
}

static void move_child_in(void)
{
	_cleanup_free_ char *procs = ag_asprintf("%s/cgroup.procs", cg_name);
	char pid[32];
	snprintf(pid, sizeof(pid), "%d", (int)child);
	int r = write_cg(procs, pid);
	cr_assert_eq(r, 0, "write %s to %s/%s: %s", pid, CG_ROOT, procs, strerror(-r));
}

static int wait_child(void)
{
	int status;
	cr_assert_eq(waitpid(child, &status, 0), child);
	child = -1;
	cr_assert(WIFEXITED(status), "the child did not exit normally (status 0x%x)", status);
	return WEXITSTATUS(status);
}

TestSuite(guest_cgroup, .init = guest_only, .fini = teardown);

Test(guest_cgroup, root_offers_cpu_memory_pids_io)
{
	_cleanup_free_ char *have = read_cg("cgroup.controllers");
	static const char *const want[] = {"cpu", "memory", "pids", "io"};
	for (size_t i = 0; i < AG_ARRAY_SIZE(want); i++)
		cr_expect(has_word(have, want[i]), "%s/cgroup.controllers is '%s': no %s", CG_ROOT,
		          have, want[i]);
}

Test(guest_cgroup, memory_max_reads_back_in_bytes)
{
	static const char *const want[] = {"memory"};
	make_child_cgroup(want, AG_ARRAY_SIZE(want));
	_cleanup_free_ char *path = ag_asprintf("%s/memory.max", cg_name);

	_cleanup_free_ char *before = read_cg(path);
	cr_assert_str_eq(before, "max\n", "a new cgroup's memory.max");
	int r = write_cg(path, "64M");
	cr_assert_eq(r, 0, "write 64M to %s: %s", path, strerror(-r));
	_cleanup_free_ char *after = read_cg(path);
	cr_assert_str_eq(after, "67108864\n");
}

Test(guest_cgroup, forked_child_moves_into_the_cgroup)
{
	static const char *const want[] = {"memory", "pids"};
	make_child_cgroup(want, AG_ARRAY_SIZE(want));
	_cleanup_close_ int go = fork_waiting_child(NULL);
	move_child_in();

	_cleanup_free_ char *procs_path = ag_asprintf("%s/cgroup.procs", cg_name);
	_cleanup_free_ char *procs = read_cg(procs_path);
	_cleanup_free_ char *want_procs = ag_asprintf("%d\n", (int)child);
	cr_assert_str_eq(procs, want_procs);

	_cleanup_free_ char *self_path = ag_asprintf("/proc/%d/cgroup", (int)child);
	_cleanup_free_ char *self = NULL;
	cr_assert_eq(ag_read_file_at(AT_FDCWD, self_path, 4096, &self, NULL), 0);
	_cleanup_free_ char *want_self = ag_asprintf("0::/%s\n", cg_name);
	cr_assert_str_eq(self, want_self, "a v2-only kernel lists one hierarchy, 0::");

	_cleanup_free_ char *current_path = ag_asprintf("%s/pids.current", cg_name);
	_cleanup_free_ char *current = read_cg(current_path);
	cr_assert_str_eq(current, "1\n");

	close(TAKE_FD(go));
	cr_assert_eq(wait_child(), 0);
	_cleanup_free_ char *empty = read_cg(procs_path);
	cr_assert_str_eq(empty, "", "the cgroup still lists processes after its only one exited");
}

/* Exits 0 when fork fails with EAGAIN, as pids.max = 1 demands. */
static int fork_must_fail(void)
{
	pid_t p = fork();
	if (p == 0)
		_exit(0);
	if (p > 0) {
		waitpid(p, NULL, 0);
		return 10;
	}
	return errno == EAGAIN ? 0 : 11;
}

Test(guest_cgroup, pids_max_stops_fork)
{
	static const char *const want[] = {"pids"};
	make_child_cgroup(want, AG_ARRAY_SIZE(want));
	_cleanup_free_ char *max = ag_asprintf("%s/pids.max", cg_name);
	cr_assert_eq(write_cg(max, "1"), 0);

	_cleanup_close_ int go = fork_waiting_child(fork_must_fail);
	move_child_in();
	cr_assert_eq(write(go, "g", 1), 1);
	int rc = wait_child();
	cr_assert_eq(rc, 0, "%s",
	             rc == 10 ? "fork succeeded past pids.max = 1"
	                      : "fork failed, not with EAGAIN");

	_cleanup_free_ char *events_path = ag_asprintf("%s/pids.events", cg_name);
	_cleanup_free_ char *events = read_cg(events_path);
	/* Newer kernels add lines after this one. */
	cr_assert_eq(strncmp(events, "max 1\n", 6), 0, "pids.events is '%s', not 'max 1'", events);
}

/* cgroup v2's "no internal processes" rule, which decides where agora puts
 * its tasks: a cgroup with processes cannot hand domain controllers on to
 * children of its own. */
Test(guest_cgroup, populated_cgroup_cannot_enable_controllers_below)
{
	static const char *const want[] = {"memory"};
	make_child_cgroup(want, AG_ARRAY_SIZE(want));
	_cleanup_close_ int go = fork_waiting_child(NULL);
	move_child_in();

	_cleanup_free_ char *subtree = ag_asprintf("%s/cgroup.subtree_control", cg_name);
	cr_assert_eq(write_cg(subtree, "+memory"), -EBUSY);

	close(TAKE_FD(go));
	cr_assert_eq(wait_child(), 0);
	cr_assert_eq(write_cg(subtree, "+memory"), 0, "an empty cgroup may enable +memory below");
	cr_assert_eq(write_cg(subtree, "-memory"), 0);
}
