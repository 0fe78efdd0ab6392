/* vm-guest tier: a root task in a user namespace of the agent's pool under
 * cgroup v2 limits (issue 15, item 1), through the whole agora-agent (with
 * isolation) against the fake master of tests/lib/agentd_harness.c: its
 * processes are in its own cgroup (cgroup.procs on the host side lists its
 * init, whose host uid is the pool's), root inside cannot raise its own
 * memory.max, and an allocation over its memory limit is OOM-killed:
 * TASK_FAILED with REASON_CONTAINER_LIMITATION_MEMORY. It sees its own cgroup
 * at /sys/fs/cgroup, none of the host's. */
#include "agentd_harness.h"
#include "agtest.h"
#include "common/common.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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
	snprintf(work, sizeof(work), "/tmp/agora-usernsvm-XXXXXX");
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

TestSuite(agent_userns_vm, .init = setup, .fini = teardown, .timeout = 170);

#define RES(cpus, mem)                                                                             \
	"[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":" cpus "}},"                \
	"{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":" mem "}}]"

static char *cid_of(const char *task)
{
	char body[65536];
	cr_assert_eq(ah_http_get(op_port, "/containers", body, sizeof(body)), 200);
	json_t *arr = json_loads(body, 0, NULL), *it;
	char *cid = NULL;
	size_t i;
	json_array_foreach (arr, i, it)
		if (strcmp(json_string_value(json_object_get(it, "task_id")), task) == 0)
			cid = strdup(json_string_value(json_object_get(it, "container_id")));
	json_decref(arr);
	cr_assert(cid, "%s not in %s", task, body);
	return cid;
}

/* The task's stdout ("data" of /files/read). */
static void task_stdout(const char *task, char *out, size_t n)
{
	char path[256], body[16384];
	snprintf(path, sizeof(path), "/files/read?task=%s&file=stdout", task);
	cr_assert_eq(ah_http_get(op_port, path, body, sizeof(body)), 200, "%s", body);
	json_t *j = json_loads(body, 0, NULL);
	const char *d = json_string_value(json_object_get(j, "data"));
	cr_assert(d, "%s", body);
	size_t len = strnlen(d, n - 1);
	memcpy(out, d, len);
	out[len] = '\0';
	json_decref(j);
}

static long uid_of(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long v = -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "Uid:", 4) == 0)
			v = strtol(line + 4, NULL, 10);
	fclose(f);
	return v;
}

Test(agent_userns_vm, a_root_task_in_its_user_namespace_is_held_by_its_cgroup_limits)
{
	/* Running: in its own cgroup, as the pool's id; root inside cannot
	 * lift its limit. */
	fm_run_task("r-sleep", "root",
	            "cat /proc/self/uid_map; cat /proc/self/cgroup; "
	            "echo cg: $(ls /sys/fs/cgroup | grep -v '[.]') :; "
	            "test -e /sys/fs/cgroup/cgroup.events && echo own-cgroup; "
	            "echo mounts: $(awk '$5 ~ /^[/]sys[/]/ {print $(NF-2)}' /proc/self/mountinfo "
	            "| sort -u) :; "
	            "echo max > /sys/fs/cgroup/memory.max || echo refused; exec sleep 1000",
	            RES("0.2", "64"), NULL);
	WAIT_FOR(fm_count("r-sleep", "TASK_RUNNING") >= 1, 60);
	char out[4096] = "";
	double end = ah_now_s() + 30;
	do {
		usleep(100000);
		task_stdout("r-sleep", out, sizeof(out));
	} while (!strstr(out, "refused") && ah_now_s() < end);
	unsigned long in = 1, host = 0, size = 0;
	cr_assert(sscanf(out, "%lu %lu %lu", &in, &host, &size) == 3, "%s", out);
	cr_expect(in == 0 && size == 65536 && host >= 1879048192ul, "%s", out);
	cr_expect(strstr(out, "\n0::/\n"), "its own cgroup namespace: %s", out);
	/* /sys/fs/cgroup is a cgroup2 mount of that namespace (its own cgroup,
	 * no cgroup below it), never the host's tree read-only (agora/,
	 * init.scope/ ...): the kernel refused a new cgroup2 with EBUSY on top
	 * of the host's cgroup2 that a recursive bind of the host's /sys
	 * brought along. Below /sys: its cgroup2 and the masked paths. */
	cr_expect(strstr(out, "\ncg: :\n"), "the host's cgroups: %s", out);
	cr_expect(strstr(out, "\nown-cgroup\n"), "the hierarchy's root: %s", out);
	cr_expect(strstr(out, "\nmounts: cgroup2 tmpfs :\n"), "host mounts below /sys: %s", out);
	cr_expect(strstr(out, "refused"), "root inside raised memory.max: %s", out);

	_cleanup_free_ char *cid = cid_of("r-sleep");
	char p[256], buf[64] = "";
	snprintf(p, sizeof(p), TASKS_CG "/%s/memory.max", cid);
	FILE *f = fopen(p, "r");
	cr_assert(f, "%s", p);
	cr_assert(fgets(buf, sizeof(buf), f));
	fclose(f);
	cr_expect_str_eq(buf, "67108864\n");
	snprintf(p, sizeof(p), TASKS_CG "/%s/cgroup.procs", cid);
	f = fopen(p, "r");
	cr_assert(f, "%s", p);
	int pid, n = 0, mapped = 0;
	while (fscanf(f, "%d", &pid) == 1) {
		n++;
		mapped += uid_of(pid) == (long)host;
	}
	fclose(f);
	cr_expect(n >= 1 && mapped == n, "%d processes in its cgroup, %d as host uid %lu", n,
	          mapped, host);

	/* Over its memory: OOM-killed, the reason says so. */
	fm_run_task("r-hog", "root", "id -u; tail /dev/zero", RES("0.2", "32"), NULL);
	WAIT_FOR(fm_count("r-hog", "TASK_FAILED") >= 1, 120);
	char states[256];
	fm_states("r-hog", states, sizeof(states));
	cr_expect_str_eq(states, "TASK_STARTING TASK_RUNNING TASK_FAILED");
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd; i++)
		if (strcmp(fm.upd[i].task, "r-hog") == 0 &&
		    strcmp(fm.upd[i].state, "TASK_FAILED") == 0)
			cr_expect_str_eq(fm.upd[i].reason, "REASON_CONTAINER_LIMITATION_MEMORY",
			                 "%s", fm.upd[i].msg);
	pthread_mutex_unlock(&fm.mu);
	task_stdout("r-hog", out, sizeof(out));
	cr_expect_str_eq(out, "0\n");

	fm_send("{\"type\":\"KILL_TASK\",\"kill_task\":{\"framework_id\":{\"value\":\"F0\"},"
	        "\"task_id\":{\"value\":\"r-sleep\"}}}");
	WAIT_FOR(fm_count("r-sleep", "TASK_KILLED") >= 1, 60);
}
