/* Host tests for cgroupv2/, against the real kernel.
 *
 * The host is hybrid: its v1 hierarchies belong to the machine's supervisor
 * and are never touched. Each test (its own process under criterion) enters
 * a private mount namespace, mounts cgroup2 on a temporary directory and
 * works under a child named agora-test-<pid>, removed at the end. The only
 * controller this hierarchy offers is hugetlb, which agora does not use, so
 * nothing here enables a controller anywhere. */
#include "agtest.h"
#include "cgroupv2/cgroupv2.h"
#include "clone_into.h"
#include "cgroupv2/internal.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

static char mnt[64];
static int root = -1; /* the private cgroup2 mount */
static int base = -1; /* agora-test-<pid> */
static char base_name[64];

static void setup(void)
{
	if (unshare(CLONE_NEWNS) < 0) {
		cr_log_warn("unshare(CLONE_NEWNS): %s", strerror(errno));
		AG_SKIP("no private mount namespace (unshare(CLONE_NEWNS) failed)");
	}
	/* Private first, so nothing mounted below reaches the host. */
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0, "%s", strerror(errno));
	snprintf(mnt, sizeof(mnt), "/tmp/agora-cg-XXXXXX");
	cr_assert_not_null(mkdtemp(mnt));
	if (mount("none", mnt, "cgroup2", 0, NULL) < 0) {
		int e = errno;
		rmdir(mnt);
		mnt[0] = '\0';
		cr_log_warn("mount -t cgroup2: %s", strerror(e));
		AG_SKIP("cannot mount cgroup2 here");
	}
	struct ag_error err = {0};
	cr_assert_eq(cg_root_open(mnt, &root, &err), 0, "%s", err.msg);
	snprintf(base_name, sizeof(base_name), "agora-test-%d", (int)getpid());
	cr_assert_eq(cg_create(root, base_name, 0, &base, &err), 0, "%s", err.msg);
}

static void teardown(void)
{
	if (root >= 0 && base_name[0]) {
		struct ag_error err = {0};
		int r = cg_remove(root, base_name, 0, 3000, &err);
		if (r < 0)
			cr_log_error("cleanup of %s: %s", base_name, err.msg);
	}
	if (base >= 0)
		close(base);
	if (root >= 0)
		close(root);
	if (mnt[0]) {
		umount2(mnt, MNT_DETACH);
		rmdir(mnt);
	}
}

TestSuite(cgroupv2_host, .init = setup, .fini = teardown, .timeout = 30);

/* ---- helpers ---------------------------------------------------------- */

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A child in cgroup `cgfd` that sleeps until killed. */
static pid_t spawn_sleeper(int cgfd)
{
	pid_t pid = agt_clone_into(cgfd);
	cr_assert_geq(pid, 0, "clone3(CLONE_INTO_CGROUP): %s", strerror(errno));
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static bool procs_contain(int cgfd, pid_t pid)
{
	pid_t *pids = NULL;
	size_t n = 0;
	cr_assert_eq(cg_procs(cgfd, &pids, &n), 0);
	bool found = false;
	for (size_t i = 0; i < n; i++)
		found |= pids[i] == pid;
	free(pids);
	return found;
}

static void reap_killed(pid_t pid)
{
	int st = 0;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "pid %d status 0x%x", (int)pid, st);
}

static int sub(const char *rel, int *ret_fd)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", base_name, rel);
	struct ag_error err = {0};
	int r = cg_create(root, path, 0, ret_fd, &err);
	cr_assert_eq(r, 0, "%s", err.msg);
	return r;
}

static bool exists(int dirfd, const char *rel)
{
	struct stat st;
	return fstatat(dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* ---- tests ------------------------------------------------------------ */

Test(cgroupv2_host, create_nested_fd_works_with_clone_into_cgroup)
{
	int fd = -1;
	sub("a/b/c", &fd);
	cr_assert(exists(base, "a/b/c/cgroup.procs"));

	pid_t pid = spawn_sleeper(fd);
	cr_assert(procs_contain(fd, pid), "child not in cgroup.procs");
	bool populated = false;
	cr_assert_eq(cg_is_populated(base, &populated), 0);
	cr_assert(populated, "populated counts descendants");

	/* The kernel agrees on where the child is. */
	char want[128], file[64];
	snprintf(want, sizeof(want), "0::/%s/a/b/c\n", base_name);
	snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	char *text = NULL;
	cr_assert_eq(ag_read_file_at(AT_FDCWD, file, 4096, &text, NULL), 0);
	cr_assert(strstr(text, want), "%s", text);
	free(text);

	kill(pid, SIGKILL);
	reap_killed(pid);
	cr_assert_eq(cg_wait_empty(fd, 2000), 0);
	close(fd);
}

Test(cgroupv2_host, create_is_idempotent_and_enables_only_offered_controllers)
{
	/* cpu, memory, pids and io are not in this hierarchy: cg_create must
	 * not try to enable them (and must not fail for it). */
	int fd1 = -1, fd2 = -1;
	struct ag_error err = {0};
	char path[128];
	snprintf(path, sizeof(path), "%s/ctl/leaf", base_name);
	cr_assert_eq(cg_create(root, path, CG_CONTROLLERS_ALL, &fd1, &err), 0, "%s", err.msg);
	cr_assert_eq(cg_create(root, path, CG_CONTROLLERS_ALL, &fd2, &err), 0, "%s", err.msg);
	/* Enabled top-down exactly where offered: on this hybrid host that is
	 * nowhere; on a unified host (the VM) all of them. The leaf enables
	 * nothing, so processes may join it. */
	char *avail = NULL, *sc = NULL, *leaf_sc = NULL;
	cr_assert_eq(ag_read_file_at(root, "cgroup.controllers", 4096, &avail, NULL), 0);
	cr_assert_eq(ag_read_file_at(base, "cgroup.subtree_control", 4096, &sc, NULL), 0);
	cr_assert_eq(ag_read_file_at(fd1, "cgroup.subtree_control", 4096, &leaf_sc, NULL), 0);
	cr_assert_eq(cg_controllers_parse(sc), cg_controllers_parse(avail), "%s vs %s", sc, avail);
	cr_assert_eq(cg_controllers_parse(leaf_sc), 0);
	free(avail);
	free(sc);
	free(leaf_sc);
	close(fd1);
	close(fd2);
}

Test(cgroupv2_host, enter_moves_a_process)
{
	int fd = -1;
	sub("enter", &fd);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	cr_assert_not(procs_contain(fd, pid));
	cr_assert_eq(cg_enter(fd, pid), 0);
	cr_assert(procs_contain(fd, pid));
	cr_assert_eq(cg_enter(fd, -5), -EINVAL);
	kill(pid, SIGKILL);
	reap_killed(pid);
	close(fd);
}

/* Whether *counter goes past `from` within 2 s (a loaded host may take a
 * while to schedule the child). */
static bool advances(volatile uint64_t *counter, uint64_t from)
{
	for (int i = 0; i < 200; i++) {
		if (*counter > from)
			return true;
		sleep_ms(10);
	}
	return false;
}

Test(cgroupv2_host, freeze_stops_progress_and_thaw_resumes_it)
{
	int fd = -1;
	sub("frz", &fd);
	volatile uint64_t *counter =
	        mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq((void *)counter, MAP_FAILED);
	pid_t pid = agt_clone_into(fd);
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		for (;;)
			(*counter)++;
	}
	cr_assert(advances(counter, 0), "the child never ran");

	cr_assert_eq(cg_freeze(fd, true, 2000), 0);
	uint64_t a = *counter;
	sleep_ms(200);
	uint64_t b = *counter;
	cr_assert_eq(a, b, "counter advanced while frozen (%lu -> %lu)", (unsigned long)a,
	             (unsigned long)b);

	cr_assert_eq(cg_freeze(fd, false, 2000), 0);
	cr_assert(advances(counter, b), "counter did not resume after thaw");

	kill(pid, SIGKILL);
	reap_killed(pid);
	close(fd);
}

/* Two leaves with a process each, one of which forked a grandchild. The
 * test process is a subreaper so it reaps the orphaned grandchild too. */
static void kill_subtree(int (*killer)(int))
{
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	int top = -1, l1 = -1, l2 = -1;
	sub("k", &top);
	sub("k/l1", &l1);
	sub("k/l2/deeper", &l2);

	int pfd[2];
	cr_assert_eq(pipe(pfd), 0);
	pid_t p1 = agt_clone_into(l1);
	cr_assert_geq(p1, 0);
	if (p1 == 0) {
		pid_t g = fork();
		if (g == 0) {
			for (;;)
				pause();
		}
		char c = 'x';
		(void)!write(pfd[1], &c, 1);
		for (;;)
			pause();
	}
	pid_t p2 = spawn_sleeper(l2);
	char c;
	cr_assert_eq(read(pfd[0], &c, 1), 1);

	pid_t *pids = NULL;
	size_t n = 0;
	cr_assert_eq(cg_procs(l1, &pids, &n), 0);
	cr_assert_eq(n, 2, "parent and grandchild in l1");
	free(pids);

	cr_assert_eq(killer(top), 0);
	cr_assert_eq(cg_wait_empty(top, 3000), 0, "subtree still populated after kill");
	reap_killed(p1);
	reap_killed(p2);
	/* The grandchild, reparented to us. */
	int st = 0;
	pid_t g = waitpid(-1, &st, 0);
	cr_assert_gt(g, 0);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	close(top);
	close(l1);
	close(l2);
}

Test(cgroupv2_host, kill_kills_every_process_in_the_subtree)
{
	kill_subtree(cg_kill);
}

Test(cgroupv2_host, kill_fallback_for_kernels_without_cgroup_kill)
{
	kill_subtree(cg__kill_by_signal);
}

Test(cgroupv2_host, remove_kills_and_removes_the_whole_subtree)
{
	int fd = -1, deep = -1;
	sub("r/x", &fd);
	sub("r/x/y/z", &deep);
	pid_t p1 = spawn_sleeper(fd);
	pid_t p2 = spawn_sleeper(deep);

	char path[128];
	snprintf(path, sizeof(path), "%s/r/x", base_name);
	struct ag_error err = {0};
	cr_assert_eq(cg_remove(root, path, 0, 3000, &err), 0, "%s", err.msg);
	reap_killed(p1);
	reap_killed(p2);
	cr_assert_not(exists(base, "r/x"), "r/x is still there");
	cr_assert(exists(base, "r"), "without CG_REMOVE_PARENTS the parent stays");

	/* Removing what is gone is not an error. */
	cr_assert_eq(cg_remove(root, path, 0, 0, &err), 0, "%s", err.msg);
	snprintf(path, sizeof(path), "%s/never/was", base_name);
	cr_assert_eq(cg_remove(root, path, CG_REMOVE_PARENTS, 0, &err), 0, "%s", err.msg);
	close(fd);
	close(deep);
}

Test(cgroupv2_host, remove_parents_stops_at_a_parent_still_in_use_and_at_rootfd)
{
	int a = -1, b = -1, c = -1;
	sub("p1/p2/leaf", &a);
	sub("q/one", &b);
	sub("q/two", &c);
	struct ag_error err = {0};

	/* rootfd = base: base itself is never removed. */
	cr_assert_eq(cg_remove(base, "p1/p2/leaf", CG_REMOVE_PARENTS, 0, &err), 0, "%s", err.msg);
	cr_assert_not(exists(base, "p1"), "empty parents named in the path go");
	cr_assert(exists(root, base_name));

	cr_assert_eq(cg_remove(base, "q/one", CG_REMOVE_PARENTS, 0, &err), 0, "%s", err.msg);
	cr_assert_not(exists(base, "q/one"));
	cr_assert(exists(base, "q/two"), "a sibling is untouched");
	cr_assert(exists(base, "q"), "a parent with another child stays");
	close(a);
	close(b);
	close(c);
}

Test(cgroupv2_host, dotdot_paths_are_refused)
{
	struct ag_error err = {0};
	int fd = -1;
	char path[128];
	snprintf(path, sizeof(path), "%s/../escape", base_name);
	cr_assert_eq(cg_create(root, path, 0, &fd, &err), -EINVAL);
	cr_assert(strstr(err.msg, "refused"), "%s", err.msg);
	cr_assert_not(exists(root, "escape"));
	cr_assert_eq(cg_create(base, "../../x", 0, &fd, &err), -EINVAL);
	cr_assert_eq(cg_open(base, "..", &fd, &err), -EINVAL);
	cr_assert_eq(cg_remove(base, "..", 0, 0, &err), -EINVAL);
	cr_assert_eq(cg_remove(root, "/", 0, 0, &err), -EINVAL, "the root is not removable");
	unsigned have;
	cr_assert_eq(cg_check_controllers(base, "..", CG_CPU, &have, &err), -EINVAL);
}

Test(cgroupv2_host, a_mount_planted_inside_the_tree_is_not_followed)
{
	int fd = -1;
	sub("m", &fd);
	char target[160];
	snprintf(target, sizeof(target), "%s/%s/m", mnt, base_name);
	cr_assert_eq(mount("none", target, "tmpfs", 0, NULL), 0, "%s", strerror(errno));

	struct ag_error err = {0};
	int fd2 = -1;
	char path[128];
	snprintf(path, sizeof(path), "%s/m", base_name);
	cr_assert_eq(cg_open(root, path, &fd2, &err), -EXDEV, "%s", err.msg);
	snprintf(path, sizeof(path), "%s/m/evil", base_name);
	cr_assert_eq(cg_create(root, path, 0, &fd2, &err), -EXDEV, "%s", err.msg);
	cr_assert_eq(umount2(target, MNT_DETACH), 0);
	cr_assert_not(exists(fd, "evil"));
	close(fd);
}

/* Whether /proc/cgroups shows `name` bound to a v1 hierarchy. */
static bool v1_bound(const char *name)
{
	char *text = NULL;
	if (ag_read_file_at(AT_FDCWD, "/proc/cgroups", 1 << 16, &text, NULL) < 0)
		return false;
	bool bound = false;
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char n[64];
		unsigned h, c, e;
		if (sscanf(l, "%63s %u %u %u", n, &h, &c, &e) == 4 && strcmp(n, name) == 0)
			bound = h != 0;
	}
	free(text);
	return bound;
}

static void expect_hybrid_message(int rfd, const char *parent)
{
	struct ag_error err = {0};
	unsigned have = 0xdead;
	int r = cg_check_controllers(rfd, parent, CG_CPU | CG_MEMORY | CG_PIDS | CG_IO, &have,
	                             &err);
	cr_log_info("cg_check_controllers: %s", err.msg);
	cr_assert_eq(r, -EOPNOTSUPP, "r=%d %s", r, err.msg);
	cr_assert_eq(err.code, EOPNOTSUPP);
	cr_assert_eq(have, 0, "ret_have_mask is written on -EOPNOTSUPP");
	cr_assert(strstr(err.msg, "cgroup v2 controllers cpu, memory, pids, io are not available "
	                          "under "),
	          "%s", err.msg);
	cr_assert(strstr(err.msg, "hybrid mode and they are bound to cgroup v1 hierarchies"), "%s",
	          err.msg);
	cr_assert(strstr(err.msg, "systemd.unified_cgroup_hierarchy=1"), "%s", err.msg);
}

Test(cgroupv2_host, check_controllers_explains_hybrid_mode)
{
	if (!v1_bound("cpu") || !v1_bound("memory") || !v1_bound("pids") || !v1_bound("blkio")) {
		cr_log_warn("this host is not hybrid; only checking that nothing claims it is");
		struct ag_error err = {0};
		unsigned have = 0;
		int r = cg_check_controllers(root, NULL, CG_CPU, &have, &err);
		cr_assert(r == 0 || !strstr(err.msg, "hybrid"), "%s", err.msg);
		return;
	}
	/* The default discovery, read-only: on this host it is
	 * /sys/fs/cgroup/unified. */
	struct ag_error err = {0};
	int sys = -1;
	cr_assert_eq(cg_root_open(NULL, &sys, &err), 0, "%s", err.msg);
	expect_hybrid_message(sys, NULL);
	close(sys);

	/* Our private mount, under a parent that does not exist yet. */
	expect_hybrid_message(root, "agora/not/yet");
	char path[96];
	snprintf(path, sizeof(path), "%s", base_name);
	expect_hybrid_message(root, path);

	unsigned have = 1;
	cr_assert_eq(cg_check_controllers(root, base_name, 0, &have, &err), 0);
	cr_assert_eq(have, 0);
}

Test(cgroupv2_host, root_open_refuses_a_non_cgroup2_directory)
{
	struct ag_error err = {0};
	int fd = -1;
	cr_assert_eq(cg_root_open("/tmp", &fd, &err), -ENODEV);
	cr_assert(strstr(err.msg, "is not on a cgroup2 filesystem"), "%s", err.msg);
	cr_assert_eq(cg_root_open("/nonexistent-agora", &fd, &err), -ENOENT);
}

Test(cgroupv2_host, limits_without_their_controller_say_so)
{
	int fd = -1;
	sub("lim", &fd);
	struct ag_error err = {0};
	struct cg_limits l = {.has_pids_max = true, .pids_max = 5};
	cr_assert_eq(cg_apply_limits(fd, &l, &err), -ENOENT);
	cr_log_info("%s", err.msg);
	cr_assert(strstr(err.msg, "write `pids.max` = `5` in "), "%s", err.msg);
	cr_assert(strstr(err.msg, "/lim: the pids controller is not enabled"), "%s", err.msg);

	struct cg_kv kv[] = {{"memory.max", "max"}};
	l = (struct cg_limits){.unified = kv, .n_unified = 1};
	cr_assert_eq(cg_apply_limits(fd, &l, &err), -ENOENT);
	cr_assert(strstr(err.msg, "write `memory.max` = `max`"), "%s", err.msg);
	cr_assert(strstr(err.msg, "memory controller is not enabled"), "%s", err.msg);

	struct cg_kv bogus[] = {{"nosuch.file", "1"}};
	l = (struct cg_limits){.unified = bogus, .n_unified = 1};
	cr_assert_eq(cg_apply_limits(fd, &l, &err), -ENOENT);
	cr_assert(strstr(err.msg, "no such interface file"), "%s", err.msg);

	/* A core file that is a limit works without any controller. */
	struct cg_kv depth[] = {{"cgroup.max.depth", "3"}};
	l = (struct cg_limits){.unified = depth, .n_unified = 1};
	cr_assert_eq(cg_apply_limits(fd, &l, &err), 0, "%s", err.msg);
	char *t = NULL;
	cr_assert_eq(ag_read_file_at(fd, "cgroup.max.depth", 64, &t, NULL), 0);
	cr_assert_str_eq(t, "3\n");
	free(t);
	close(fd);
}

Test(cgroupv2_host, stats_report_cpu_usage_and_absent_controllers)
{
	int fd = -1;
	sub("st", &fd);
	pid_t pid = agt_clone_into(fd);
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* 60 ms of CPU, however long a loaded host takes to give it. */
		struct timespec cpu;
		do
			clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
		while (cpu.tv_sec == 0 && cpu.tv_nsec < 60 * 1000000L);
		_exit(0);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	struct cg_stats s;
	cr_assert_eq(cg_stats_read(fd, &s), 0);
	cr_assert(s.has_cpu);
	cr_assert_geq(s.cpu_usage_usec, 50000, "usage %lu µs", (unsigned long)s.cpu_usage_usec);
	cr_assert_not(s.has_memory, "no memory controller here");
	cr_assert_not(s.has_pids);
	cr_assert_not(s.has_io);
	close(fd);
}
