/* vm-guest tier: a custom executor's container under real cgroup v2
 * limits (docs/executor-api.md): agora-agent with isolation against the
 * fake master of tests/lib/agentd_harness.c, the test executor
 * (tests/lib/test_executor.c). The container's cpu.max and memory.max are
 * the executor's resources plus its running tasks': they grow with each
 * LAUNCH and shrink when a task ends. */
#include "agent_proc.h"
#include "agentd_harness.h"
#include "agtest.h"

#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TASKS_CG "/sys/fs/cgroup/agora/tasks"

static char work[64], log_path[128];
static int op_port;
static pid_t agent = -1;

static void setup(void)
{
	if (geteuid() != 0 || access("/sys/fs/cgroup/cgroup.subtree_control", F_OK) != 0)
		AG_SKIP("needs root and a cgroup v2 hierarchy at /sys/fs/cgroup");
	snprintf(work, sizeof(work), "/tmp/agora-execvm-XXXXXX");
	cr_assert(mkdtemp(work));
	snprintf(log_path, sizeof(log_path), "%s.log", work);
	cr_assert(fm_start() == 0);
	op_port = ah_free_port();
	char bin[512], master[64], port[16];
	const char *b = getenv("AGORA_BUILD_DIR");
	snprintf(bin, sizeof(bin), "%s/bin/agora-agent", b ? b : "build");
	snprintf(master, sizeof(master), "127.0.0.1:%d", fm.port);
	snprintf(port, sizeof(port), "%d", op_port);
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
	/* an executor a failed test left running */
	ap_kill_monitors(work);
}

TestSuite(executor_vm, .init = setup, .fini = teardown, .timeout = 150);

/* RUN_TASK of `id` in executor e1: 0.1 cpus and 32 MiB for the task and
 * for the executor. */
static void run_exec_task(const char *id)
{
	json_t *res = json_pack("[{s:s, s:s, s:{s:f}}, {s:s, s:s, s:{s:f}}]", "name", "cpus",
	                        "type", "SCALAR", "scalar", "value", 0.1, "name", "mem", "type",
	                        "SCALAR", "scalar", "value", 32.0);
	json_t *ei = json_pack("{s:s, s:{s:s}, s:{s:s, s:b}, s:O}", "type", "CUSTOM", "executor_id",
	                       "value", "e1", "command", "value", TEST_EXECUTOR, "shell", 0,
	                       "resources", res);
	json_t *m = json_pack(
	        "{s:s, s:{s:{s:s, s:s, s:{s:s}, s:b}, s:{s:s, s:{s:s}, s:{s:s}, s:o, s:o}}}",
	        "type", "RUN_TASK", "run_task", "framework_info", "user", "nobody", "name", "fw",
	        "id", "value", "F0", "checkpoint", 1, "task", "name", id, "task_id", "value", id,
	        "agent_id", "value", "A-1", "resources", res, "executor", ei);
	char *text = json_dumps(m, JSON_COMPACT);
	fm_send(text);
	free(text);
	json_decref(m);
}

/* Containers' cgroups under the tasks' parent. */
static int containers(void)
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

/* The one container's cgroup file `file`, first line, into out. */
static void read_cg(const char *file, char *out, size_t n)
{
	out[0] = '\0';
	DIR *d = opendir(TASKS_CG);
	cr_assert(d, TASKS_CG);
	struct dirent *de;
	char name[256] = "";
	int count = 0;
	while ((de = readdir(d)))
		if (de->d_type == DT_DIR && de->d_name[0] != '.') {
			snprintf(name, sizeof(name), "%s", de->d_name);
			count++;
		}
	closedir(d);
	cr_assert_eq(count, 1, "one container for the executor and its tasks");
	char p[512];
	snprintf(p, sizeof(p), TASKS_CG "/%s/%s", name, file);
	FILE *f = fopen(p, "r");
	cr_assert(f, "%s", p);
	cr_assert(fgets(out, (int)n, f));
	fclose(f);
}

static bool cg_is(const char *file, const char *want)
{
	char buf[128];
	read_cg(file, buf, sizeof(buf));
	return strcmp(buf, want) == 0;
}

Test(executor_vm, container_limits_follow_the_running_tasks)
{
	run_exec_task("t1");
	run_exec_task("t2");
	WAIT_FOR(fm_count("t1", "TASK_RUNNING") >= 1 && fm_count("t2", "TASK_RUNNING") >= 1, 60);
	/* the executor's 0.1 cpus and 32 MiB, and each task's */
	WAIT_FOR(cg_is("memory.max", "100663296\n"), 10);
	cr_expect(cg_is("cpu.max", "30000 100000\n"));
	run_exec_task("t3");
	WAIT_FOR(fm_count("t3", "TASK_RUNNING") >= 1, 30);
	WAIT_FOR(cg_is("memory.max", "134217728\n"), 10);
	cr_expect(cg_is("cpu.max", "40000 100000\n"));
	/* t3 killed: its share leaves the container */
	fm_send("{\"type\":\"KILL_TASK\",\"kill_task\":{\"framework_id\":{\"value\":\"F0\"},"
	        "\"task_id\":{\"value\":\"t3\"}}}");
	WAIT_FOR(fm_count("t3", "TASK_KILLED") >= 1, 30);
	WAIT_FOR(cg_is("memory.max", "100663296\n"), 10);
	cr_expect(cg_is("cpu.max", "30000 100000\n"));
	/* SHUTDOWN: the executor ends its tasks and itself; its cgroup goes */
	fm_send("{\"type\":\"SHUTDOWN_EXECUTOR\",\"shutdown_executor\":{\"framework_id\":{"
	        "\"value\":\"F0\"},\"executor_id\":{\"value\":\"e1\"}}}");
	WAIT_FOR(fm_count("t1", "TASK_KILLED") >= 1 && fm_count("t2", "TASK_KILLED") >= 1, 30);
	WAIT_FOR(containers() == 0, 30);
}
