/* vm-guest tier: a health-checked task under cgroup v2 (docs/checks.md),
 * through the whole agora-agent with isolation against the fake master
 * (tests/lib/agentd_harness.c). The task's COMMAND check runs in the
 * task's cgroup (its cgroup namespace's root, the task's memory.max) and
 * is healthy; once the task makes it fail, the task is killed with
 * REASON_TASK_HEALTH_CHECK_STATUS_UPDATED and its cgroup removed. */
#include "agentd_harness.h"
#include "agtest.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TASKS_CG "/sys/fs/cgroup/agora/tasks"

static char work[64], log_path[128];
static pid_t agent = -1;

static void setup(void)
{
	if (geteuid() != 0 || access("/sys/fs/cgroup/cgroup.subtree_control", F_OK) != 0)
		AG_SKIP("needs root and a cgroup v2 hierarchy at /sys/fs/cgroup");
	snprintf(work, sizeof(work), "/tmp/agora-checksvm-XXXXXX");
	cr_assert(mkdtemp(work));
	snprintf(log_path, sizeof(log_path), "%s.log", work);
	fm.ack_first = true;
	cr_assert(fm_start() == 0);
	char bin[512], master[64], port[16];
	const char *b = getenv("AGORA_BUILD_DIR");
	snprintf(bin, sizeof(bin), "%s/bin/agora-agent", b ? b : "build");
	snprintf(master, sizeof(master), "127.0.0.1:%d", fm.port);
	snprintf(port, sizeof(port), "%d", ah_free_port());
	const char *argv[] = {bin,    "--master",
	                      master, "--work_dir",
	                      work,   "--hostname",
	                      "vm1",  "--port",
	                      port,   "--update_backoff_ms",
	                      "200",  "--registration_backoff_ms",
	                      "100",  NULL};
	agent = ah_spawn(log_path, argv);
	cr_assert(agent > 0);
	WAIT_FOR(fm_registers() >= 1, 30);
}

static void teardown(void)
{
	if (agent > 0) {
		kill(agent, SIGTERM);
		waitpid(agent, NULL, 0);
	}
}

TestSuite(agent_checks_vm, .init = setup, .fini = teardown, .timeout = 150);

static int task_cgroups(void)
{
	DIR *d = opendir(TASKS_CG);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += de->d_type == DT_DIR && de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The first update of `task` in `state` with `healthy` ("": any). */
static bool has_update(const char *task, const char *state, const char *healthy,
                       struct ctz_upd_rec *out)
{
	bool found = false;
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd && !found; i++)
		if (strcmp(fm.upd[i].task, task) == 0 && strcmp(fm.upd[i].state, state) == 0 &&
		    (!*healthy || strcmp(fm.upd[i].healthy, healthy) == 0)) {
			found = true;
			if (out)
				*out = fm.upd[i];
		}
	pthread_mutex_unlock(&fm.mu);
	return found;
}

#define RES                                                                                        \
	"[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.2}},"                     \
	"{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":64}}]"

Test(agent_checks_vm, a_health_checked_task_under_cgroup_v2)
{
	/* Healthy only from inside the task's cgroup (the root of its
	 * cgroup namespace, with the task's 64 MB memory.max) and while the
	 * task's file is there. */
	fm_run_task("t-vm", "nobody", "touch ok; sleep 8; rm ok; sleep 1000", RES,
	            ",\"health_check\":{\"type\":\"COMMAND\",\"command\":{\"value\":"
	            "\"grep -qx 0::/ /proc/self/cgroup && test $(cat /sys/fs/cgroup/memory.max) "
	            "= 67108864 && test -e ok\"},\"delay_seconds\":0,\"interval_seconds\":0.5,"
	            "\"grace_period_seconds\":0,\"consecutive_failures\":2,"
	            "\"timeout_seconds\":10}");
	WAIT_FOR(has_update("t-vm", "TASK_RUNNING", "true", NULL), 60);
	cr_expect(!has_update("t-vm", "TASK_RUNNING", "false", NULL),
	          "unhealthy before the task removed its file");
	cr_expect_eq(task_cgroups(), 1);
	WAIT_FOR(has_update("t-vm", "TASK_KILLED", "", NULL), 60);
	struct ctz_upd_rec r;
	cr_assert(has_update("t-vm", "TASK_KILLED", "false", &r));
	cr_expect_str_eq(r.reason, "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED");
	WAIT_FOR(task_cgroups() == 0, 10);
}
