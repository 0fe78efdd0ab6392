/* vm-guest tier: the agent's tasks under real cgroup v2 limits: an OOM kill
 * is TASK_FAILED with REASON_CONTAINER_LIMITATION_MEMORY, cpu/memory/pids
 * limits reach the task's cgroup, the cgroup is gone after the end, and the
 * per-container supervision cost is measured. */
#include "agtest.h"
#include "agent_proc.h"
#include "sup_driver.h"

#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char work[64];

static void setup(void)
{
	if (geteuid() != 0 || access("/sys/fs/cgroup/cgroup.subtree_control", F_OK) != 0)
		AG_SKIP("needs root and a cgroup v2 hierarchy at /sys/fs/cgroup");
	snprintf(work, sizeof(work), "/tmp/agora-supvm-XXXXXX");
	cr_assert(mkdtemp(work));
}

/* `args` after --cgroups (NULL-terminated), into `all` (64 entries). */
static const char *const *with_cgroups(const char *const args[], const char *all[64])
{
	size_t n = 0;
	all[n++] = "--cgroups";
	for (size_t i = 0; args[i] && n < 63; i++)
		all[n++] = args[i];
	all[n] = NULL;
	return all;
}

/* Starts the driver with stdout to `out`; `cg` (may be NULL) is a cgroup
 * the driver is moved into first. */
static pid_t start_driver(const char *const args[], const char *out, const char *cg)
{
	const char *all[64];
	return sd_start_in(work, with_cgroups(args, all), out, cg);
}

static char *drive(const char *const args[])
{
	const char *all[64];
	return sd_drive(work, with_cgroups(args, all));
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* How many of this test's tasks (run/<cid>) still have a cgroup. */
static size_t task_cgroups(void)
{
	char pat[160];
	snprintf(pat, sizeof(pat), "%s/run/ctr-*", work);
	glob_t g;
	if (glob(pat, 0, NULL, &g) != 0)
		return 0;
	size_t n = 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char p[256];
		snprintf(p, sizeof(p), "/sys/fs/cgroup/agora/tasks/%s",
		         strrchr(g.gl_pathv[i], '/') + 1);
		n += access(p, F_OK) == 0;
	}
	globfree(&g);
	return n;
}

static char *sandbox_stdout(void)
{
	char pat[160];
	snprintf(pat, sizeof(pat), "%s/sandboxes/*/stdout", work);
	char *one = agt_glob_one(pat), *s = ap_slurp(one);
	free(one);
	return s;
}

TestSuite(agent_sup_vm, .init = setup, .timeout = 600);

Test(agent_sup_vm, oom_is_failed_with_the_memory_limitation_and_limits_apply)
{
	char *out = drive(ARGS("--until-idle", "--mem", "33554432", "--cpus", "0.5", "--launch",
	                       "hog=cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max "
	                       "/sys/fs/cgroup/cpu.weight /sys/fs/cgroup/pids.max "
	                       "/sys/fs/cgroup/memory.oom.group; tail /dev/zero"));
	cr_expect(strstr(out, "UPDATE hog TASK_FAILED REASON_CONTAINER_LIMITATION_MEMORY "
	                      "status=137"),
	          "%s", out);
	char *so = sandbox_stdout();
	cr_expect_str_eq(so, "33554432\n50000 100000\n50\n4096\n1\n");
	free(so);
	cr_expect_eq(task_cgroups(), 0, "the task's cgroup is removed after its end");
	free(out);
}

Test(agent_sup_vm, per_container_supervision_cost)
{
	/* N sleeping tasks; the driver and its monitors in a cgroup of
	 * their own, whose memory.current (user pages, page tables, kernel
	 * stacks, task structs: all of it) grows by the monitors' cost. */
	const char *cg = "/sys/fs/cgroup/supmeasure";
	mkdir(cg, 0755);
	enum { N = 8 };
	const char *args[2 * N + 8];
	char ids[N][48];
	size_t k = 0;
	for (int i = 0; i < N; i++) {
		snprintf(ids[i], sizeof(ids[i]), "s%d=sleep 1000", i);
		args[k++] = "--launch";
		args[k++] = ids[i];
	}
	args[k++] = "--kill-all";
	args[k++] = "0";
	args[k++] = "--kill-after";
	args[k++] = "4000";
	args[k++] = "--until-idle";
	args[k] = NULL;
	char out[128], cur[128];
	snprintf(out, sizeof(out), "%s.drv", work);
	snprintf(cur, sizeof(cur), "%s/memory.current", cg);
	pid_t d = start_driver(args, out, cg);

	/* memory.current after the first launch and after the last. */
	unsigned long long first = 0, last = 0;
	for (int i = 0; i < 2000 && !last; i++) {
		char *s = ap_slurp(out);
		char *m = ap_slurp(cur);
		if (!first && strstr(s, "LAUNCHED s0 "))
			first = strtoull(m, NULL, 10);
		char want[32];
		snprintf(want, sizeof(want), "LAUNCHED s%d ", N - 1);
		if (strstr(s, want))
			last = strtoull(m, NULL, 10);
		free(s);
		free(m);
		usleep(5000);
	}
	cr_assert(first && last, "launches did not finish");

	/* PSS of each monitor: its private pages plus its share of the
	 * static binary's. */
	char pat[160];
	snprintf(pat, sizeof(pat), "%s/run/*/monitor", work);
	glob_t g;
	cr_assert(glob(pat, 0, NULL, &g) == 0);
	unsigned long long pss = 0, rss = 0, ipss = 0, irss = 0, ipriv = 0;
	size_t nm = 0, ni = 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char *s = ap_slurp(g.gl_pathv[i]);
		int pid = atoi(s + 4);
		free(s);
		char p[64];
		snprintf(p, sizeof(p), "/proc/%d/smaps_rollup", pid);
		char *r = ap_slurp(p);
		char *a = strstr(r, "\nPss:"), *b = strstr(r, "Rss:");
		if (a && b) {
			pss += strtoull(a + 5, NULL, 10);
			rss += strtoull(b + 4, NULL, 10);
			nm++;
		}
		free(r);
		/* The monitor's child is the container's pid 1: agora-init. */
		snprintf(p, sizeof(p), "/proc/%d/task/%d/children", pid, pid);
		char *ch = ap_slurp(p);
		int ipid = atoi(ch);
		free(ch);
		snprintf(p, sizeof(p), "/proc/%d/comm", ipid);
		char *comm = ipid > 0 ? ap_slurp(p) : NULL;
		cr_expect(comm && strcmp(comm, "agora-init\n") == 0, "pid 1 of the task is `%s`",
		          comm ? comm : "?");
		free(comm);
		snprintf(p, sizeof(p), "/proc/%d/smaps_rollup", ipid);
		r = ipid > 0 ? ap_slurp(p) : NULL;
		a = r ? strstr(r, "\nPss:") : NULL;
		b = r ? strstr(r, "Rss:") : NULL;
		char *pc = r ? strstr(r, "Private_Clean:") : NULL;
		char *pd = r ? strstr(r, "Private_Dirty:") : NULL;
		if (a && b && pc && pd) {
			ipss += strtoull(a + 5, NULL, 10);
			irss += strtoull(b + 4, NULL, 10);
			ipriv += strtoull(pc + 14, NULL, 10) + strtoull(pd + 14, NULL, 10);
			ni++;
		}
		free(r);
	}
	globfree(&g);
	cr_assert(nm > 0);
	cr_assert(ni > 0, "no agora-init found");
	double cg_kb = (double)(last - first) / 1024.0 / (N - 1);
	printf("per_container_kb=%.0f (cgroup memory.current delta per task, kernel memory "
	       "included) monitor_pss_kb=%.0f monitor_rss_kb=%.0f monitors=%zu "
	       "init_pss_kb=%.0f init_rss_kb=%.0f init_private_kb=%.0f inits=%zu\n",
	       cg_kb, (double)pss / (double)nm, (double)rss / (double)nm, nm,
	       (double)ipss / (double)ni, (double)irss / (double)ni, (double)ipriv / (double)ni,
	       ni);
	fflush(stdout);
	cr_expect(cg_kb <= 256, "per-container supervision %.0f KB > 256 KB", cg_kb);
	/* The monitor (outside) and the init (inside, charged to the task's
	 * cgroup) together, as shares of their static binaries. */
	double both = (double)(pss + ipss) / (double)nm;
	cr_expect(both <= 256, "monitor + init PSS %.0f KB > 256 KB", both);
	int st = 0;
	waitpid(d, &st, 0);
	char *s = ap_slurp(out);
	for (int i = 0; i < N; i++) {
		char want[48];
		snprintf(want, sizeof(want), "UPDATE s%d TASK_KILLED", i);
		cr_expect(strstr(s, want), "%s", s);
	}
	free(s);
	cr_expect_eq(task_cgroups(), 0);
	rmdir(cg);
}
