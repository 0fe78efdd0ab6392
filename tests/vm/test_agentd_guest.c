/* vm-guest tier: the whole agora-agent with cgroup v2 isolation (no
 * --no_isolation) against the fake master of tests/lib/agentd_harness.c:
 * a task over its memory is TASK_FAILED with
 * REASON_CONTAINER_LIMITATION_MEMORY, cpus 0.2 is cpu.max "20000 100000",
 * the task's cgroup is gone after its end, and GET /containers shows the
 * memory peak and the OOM kill. */
#include "agentd_harness.h"
#include "agtest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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
	snprintf(work, sizeof(work), "/tmp/agora-agentdvm-XXXXXX");
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
}

TestSuite(agentd_vm, .init = setup, .fini = teardown, .timeout = 300);

/* Child cgroups under the tasks' parent. */
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

static json_t *container_of(const char *task)
{
	char body[65536];
	cr_assert_eq(ah_http_get(op_port, "/containers", body, sizeof(body)), 200);
	json_t *arr = json_loads(body, 0, NULL), *it, *found = NULL;
	size_t i;
	cr_assert(json_is_array(arr), "%s", body);
	json_array_foreach (arr, i, it) {
		if (strcmp(json_string_value(json_object_get(it, "task_id")), task) == 0)
			found = json_incref(it);
	}
	json_decref(arr);
	cr_assert(found, "%s not in %s", task, body);
	return found;
}

#define RES(cpus, mem)                                                                             \
	"[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":" cpus "}},"                \
	"{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":" mem "}}]"

Test(agentd_vm, limits_oom_cgroup_cleanup_and_usage_through_the_whole_agent)
{
	pthread_mutex_lock(&fm.mu);
	cr_expect(strstr(fm.last_reg, "\"unisolated\":false"), "%s", fm.last_reg);
	pthread_mutex_unlock(&fm.mu);

	/* a running task: its limits, read from the host side */
	fm_run_task("t-sleep", "nobody", "sleep 1000", RES("0.2", "64"), NULL);
	WAIT_FOR(fm_count("t-sleep", "TASK_RUNNING") >= 1, 60);
	json_t *c = container_of("t-sleep");
	char p[256], buf[128] = "";
	snprintf(p, sizeof(p), TASKS_CG "/%s/cpu.max",
	         json_string_value(json_object_get(c, "container_id")));
	FILE *f = fopen(p, "r");
	cr_assert(f, "%s", p);
	cr_assert(fgets(buf, sizeof(buf), f));
	fclose(f);
	cr_expect_str_eq(buf, "20000 100000\n");
	/* its device rules: one BPF device program on its cgroup */
	snprintf(p, sizeof(p), TASKS_CG "/%s",
	         json_string_value(json_object_get(c, "container_id")));
	int cgfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(cgfd, 0, "%s", p);
	union bpf_attr q = {
	        .query = {.target_fd = (uint32_t)cgfd, .attach_type = BPF_CGROUP_DEVICE}};
	cr_expect_eq(syscall(SYS_bpf, BPF_PROG_QUERY, &q, sizeof(q)), 0, "%s", strerror(errno));
	cr_expect_eq(q.query.prog_cnt, 1);
	close(cgfd);
	cr_expect(json_is_true(json_object_get(c, "isolated")));
	cr_expect(json_is_object(json_object_get(json_object_get(c, "usage"), "memory")),
	          "usage: %s", json_dumps(c, 0));
	cr_expect(json_integer_value(json_object_get(
	                  json_object_get(json_object_get(c, "usage"), "pids"), "current")) >= 1);
	json_decref(c);

	/* a task over its memory: OOM-killed, TASK_FAILED with the reason */
	fm_run_task("t-hog", "nobody", "cat /sys/fs/cgroup/cpu.max; tail /dev/zero",
	            RES("0.2", "32"), NULL);
	WAIT_FOR(fm_count("t-hog", "TASK_FAILED") >= 1, 120);
	char states[256];
	fm_states("t-hog", states, sizeof(states));
	cr_expect_str_eq(states, "TASK_STARTING TASK_RUNNING TASK_FAILED");
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd; i++)
		if (strcmp(fm.upd[i].task, "t-hog") == 0 &&
		    strcmp(fm.upd[i].state, "TASK_FAILED") == 0)
			cr_expect_str_eq(fm.upd[i].reason, "REASON_CONTAINER_LIMITATION_MEMORY");
	pthread_mutex_unlock(&fm.mu);
	char body[4096];
	cr_expect_eq(ah_http_get(op_port, "/files/read?task=t-hog&file=stdout", body, sizeof(body)),
	             200);
	cr_expect(strstr(body, "\"data\":\"20000 100000\\n\""), "%s", body);

	/* its cgroup is gone; its peak and OOM kill are still shown */
	c = container_of("t-hog");
	snprintf(p, sizeof(p), TASKS_CG "/%s",
	         json_string_value(json_object_get(c, "container_id")));
	cr_expect(access(p, F_OK) != 0, "%s still exists", p);
	cr_expect_str_eq(json_string_value(json_object_get(c, "phase")), "ended");
	json_t *mem = json_object_get(json_object_get(c, "usage"), "memory");
	cr_assert(json_is_object(mem), "%s", json_dumps(c, 0));
	cr_expect(json_integer_value(json_object_get(mem, "oom_kill")) >= 1, "%s",
	          json_dumps(mem, 0));
	cr_expect(json_integer_value(json_object_get(mem, "peak")) >= 30 * 1024 * 1024, "%s",
	          json_dumps(mem, 0));
	json_decref(c);

	/* killed: its cgroup goes too */
	fm_send("{\"type\":\"KILL_TASK\",\"kill_task\":{\"framework_id\":{\"value\":\"F0\"},"
	        "\"task_id\":{\"value\":\"t-sleep\"}}}");
	WAIT_FOR(fm_count("t-sleep", "TASK_KILLED") >= 1, 60);
	WAIT_FOR(task_cgroups() == 0, 10);
}
