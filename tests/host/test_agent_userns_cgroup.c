/* Root without danger (issue 15, part 1): what a root task in a user
 * namespace of the agent's pool sees of the host's cgroups and /sys,
 * against the real agora-agent.
 *
 * A command task shares the host's network namespace, which its user
 * namespace does not own, so the kernel refuses it a sysfs of its own: it
 * gets the host's sysfs alone, read-only, without any mount the host has
 * below /sys (no host cgroup tree, v1 or v2, no tracefs, ...), and at
 * /sys/fs/cgroup a cgroup2 mount of its own cgroup namespace, whose root
 * is the cgroup it was started in. Here (--no_isolation) that is the
 * agent's: the test starts the agent in a cgroup2 cgroup of its own and
 * makes a sibling, which the task must not see. (tests/vm has the same
 * with isolation: the task's own cgroup.) */
#include "agentd_harness.h"
#include "agtest.h"
#include "common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

static char work[64], cg_base[256];
static pid_t agent = -1;
static int op_port;

/* Where the host has the root of its cgroup2 hierarchy, or NULL. */
static const char *host_cgroup2(void)
{
	static const char *const paths[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
	for (size_t i = 0; i < AG_ARRAY_SIZE(paths); i++) {
		struct statfs sfs;
		_cleanup_free_ char *type = ag_asprintf("%s/cgroup.type", paths[i]);
		if (statfs(paths[i], &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC &&
		    access(type, F_OK) < 0)
			return paths[i];
	}
	return NULL;
}

static void setup(void)
{
	agt_root_dir(work, sizeof(work), "userns-cgroup");
	const char *root = host_cgroup2();
	if (!root)
		AG_SKIP("this host has no cgroup2 mount of the hierarchy's root");
	snprintf(cg_base, sizeof(cg_base), "%s/agora-userns-cgroup-%d", root, (int)getpid());
	char agent_cg[300], sibling[300];
	snprintf(agent_cg, sizeof(agent_cg), "%s/agent", cg_base);
	snprintf(sibling, sizeof(sibling), "%s/sibling", cg_base);
	cr_assert(mkdir(cg_base, 0755) == 0 && mkdir(agent_cg, 0755) == 0 &&
	                  mkdir(sibling, 0755) == 0,
	          "mkdir in %s: %s", cg_base, strerror(errno));
	cr_assert(fm_start() == 0);
	char bin[512], master[64], log[128], port[16];
	const char *b = getenv("AGORA_BUILD_DIR");
	snprintf(bin, sizeof(bin), "%s/bin/agora-agent", b ? b : "build");
	snprintf(master, sizeof(master), "127.0.0.1:%d", fm.port);
	snprintf(log, sizeof(log), "%s.log", work);
	op_port = ah_free_port();
	snprintf(port, sizeof(port), "%d", op_port);
	const char *argv[] = {bin,          "--master", master,
	                      "--work_dir", work,       "--no_isolation",
	                      "--hostname", "h1",       "--update_backoff_ms",
	                      "200",        "--port",   port,
	                      NULL};
	agent = ah_spawn(log, argv);
	cr_assert(agent > 0);
	/* Into its cgroup before it starts anything: its tasks are born
	 * there (no isolation: no cgroup of their own). */
	char procs[320], pid[16];
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", agent_cg);
	int n = snprintf(pid, sizeof(pid), "%d", (int)agent);
	cr_assert(ag_write_file_at(AT_FDCWD, procs, pid, (size_t)n) == 0);
	WAIT_FOR(fm_registers() >= 1, 30);
}

static void teardown(void)
{
	if (agent > 0) {
		kill(agent, SIGTERM);
		waitpid(agent, NULL, 0);
	}
	char cmd[2048];
	/* The tasks' monitors and processes outlive the agent: end them,
	 * then the cgroups can go. */
	snprintf(cmd, sizeof(cmd),
	         "[ -d %s ] && for i in 1 2 3 4 5 6 7 8 9 10; do "
	         "kill -9 $(cat %s/agent/cgroup.procs) 2>/dev/null; sleep 0.2; "
	         "rmdir %s/agent %s/sibling %s 2>/dev/null && break; done; "
	         "rm -rf %s %s.log",
	         cg_base, cg_base, cg_base, cg_base, cg_base, work, work);
	if (work[0] && cg_base[0])
		cr_expect(system(cmd) == 0);
	struct stat st;
	if (cg_base[0])
		cr_expect(stat(cg_base, &st) < 0, "%s left behind", cg_base);
}

TestSuite(agent_userns_cgroup, .init = setup, .fini = teardown, .timeout = 120);

/* The task's stdout once it printed `end`. */
static void wait_output(const char *id, char *out, size_t n)
{
	double end = ah_now_s() + 30;
	for (;;) {
		char path[256], body[32768];
		snprintf(path, sizeof(path), "/files/read?task=%s&file=stdout", id);
		out[0] = '\0';
		if (ah_http_get(op_port, path, body, sizeof(body)) == 200) {
			json_t *j = json_loads(body, 0, NULL);
			const char *d = json_string_value(json_object_get(j, "data"));
			snprintf(out, n, "%s", d ? d : "");
			json_decref(j);
		}
		if (strstr(out, "\nend\n"))
			return;
		char st[256];
		fm_states(id, st, sizeof(st));
		cr_assert(ah_now_s() < end, "task %s printed `%s` (%s)", id, out, st);
		usleep(50000);
	}
}

Test(agent_userns_cgroup, a_root_task_sees_its_own_cgroup_and_no_host_mount_under_sys)
{
	fm_run_task("r", "root",
	            "cat /proc/self/uid_map; cat /proc/self/cgroup; echo ==; ls /sys/fs/cgroup; "
	            "echo ==; awk '$5 ~ /^[/]sys/ {print $5, $(NF-2)}' /proc/self/mountinfo; "
	            "echo end; exec sleep 100",
	            NULL, NULL);
	WAIT_FOR(fm_count("r", "TASK_RUNNING") >= 1, 30);
	char out[16384];
	wait_output("r", out, sizeof(out));
	/* uid 0 inside, a range of the pool outside */
	unsigned long in = 1, host = 0, size = 0;
	cr_assert(sscanf(out, "%lu %lu %lu", &in, &host, &size) == 3, "%s", out);
	cr_assert(in == 0 && host >= 65536, "not in a user namespace of the pool: %s", out);
	/* its own cgroup namespace, rooted where it was started */
	cr_expect(strstr(out, "\n0::/\n"), "%s", out);
	/* /sys/fs/cgroup: that cgroup, never the host's tree: its files,
	 * not the sibling next to it nor its own name from above */
	const char *ls = strstr(out, "==\n");
	cr_assert(ls);
	cr_expect(strstr(ls, "\ncgroup.procs\n"), "no cgroup2 at /sys/fs/cgroup: %s", out);
	cr_expect(strstr(ls, "\ncgroup.events\n"), "the hierarchy's root, not its cgroup: %s", out);
	cr_expect(!strstr(ls, "\nsibling\n") && !strstr(ls, "\nagent\n") &&
	                  !strstr(ls, "agora-userns-cgroup-") && !strstr(ls, "\nunified\n") &&
	                  !strstr(ls, "\nmemory\n"),
	          "the host's cgroups: %s", out);
	/* below /sys only the sysfs, its cgroup2 and the masked paths */
	const char *mi = strstr(ls + 3, "==\n");
	cr_assert(mi);
	int cgroup_mounts = 0;
	char line[512];
	for (const char *p = mi + 3; sscanf(p, "%511[^\n]", line) == 1; p = strchr(p, '\n') + 1) {
		if (strcmp(line, "end") == 0)
			break;
		char point[256], type[64];
		cr_assert(sscanf(line, "%255s %63s", point, type) == 2, "%s", line);
		if (strncmp(point, "/sys/fs/cgroup", 14) == 0) {
			cgroup_mounts++;
			cr_expect(strcmp(point, "/sys/fs/cgroup") == 0 &&
			                  strcmp(type, "cgroup2") == 0,
			          "a mount of the host's cgroups: %s\n%s", line, out);
			continue;
		}
		cr_expect(strcmp(type, "sysfs") == 0 || strcmp(type, "tmpfs") == 0 ||
		                  strcmp(type, "devtmpfs") == 0,
		          "a mount of the host's below /sys: %s\n%s", line, out);
	}
	cr_expect_eq(cgroup_mounts, 1, "%s", out);

	fm_send("{\"type\":\"KILL_TASK\",\"kill_task\":{\"framework_id\":{\"value\":\"F0\"},"
	        "\"task_id\":{\"value\":\"r\"}}}");
	WAIT_FOR(fm_count("r", "TASK_KILLED") >= 1, 30);
}
