/* Root without danger (issue 15, item 1), against the real agent: a task
 * whose user is root runs as uid 0 inside a user namespace of its own,
 * mapped to a range of host ids the agent hands out per task
 * (--userns_range, --userns_size), and cannot do what the host's root can:
 * write a host file through a bind mount, load a module, see or signal
 * host processes, change the host's network. Ranges are disjoint, released
 * at the end, never handed out twice across an agent SIGKILL, and an
 * exhausted pool is a TASK_FAILED naming the flag.
 *
 * --no_isolation: no cgroups needed (tests/vm has the task under its
 * cgroup limits). OCI-like tasks run in an image of the static busybox and
 * tests/host/probe. */
#include "agentd_harness.h"
#include "agtest.h"
#include "common/common.h"

#include <errno.h>
#include <jansson.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char work[64], hostdir[96];
static pid_t agent = -1;
static int op_port;

/* A pool of two ranges of 65536 ids: enough to exhaust in a test. */
#define SMALL_FIRST 2100000000u
#define SMALL_POOL  "2100000000-2100131071"
#define RANGE       65536u

static const char *extra_flag[2]; /* one more flag for start_agent() */

static void start_agent(const char *range)
{
	char bin[512], master[64], log[128], port[16];
	const char *b = getenv("AGORA_BUILD_DIR");
	snprintf(bin, sizeof(bin), "%s/bin/agora-agent", b ? b : "build");
	snprintf(master, sizeof(master), "127.0.0.1:%d", fm.port);
	snprintf(log, sizeof(log), "%s.log", work);
	op_port = ah_free_port();
	snprintf(port, sizeof(port), "%d", op_port);
	const char *argv[32] = {bin,
	                        "--master",
	                        master,
	                        "--work_dir",
	                        work,
	                        "--no_isolation",
	                        "--hostname",
	                        "h1",
	                        "--update_backoff_ms",
	                        "200",
	                        "--resources",
	                        "cpus:2;mem:1024",
	                        "--port",
	                        port,
	                        "--policy_bind_paths",
	                        hostdir,
	                        extra_flag[0] ? extra_flag[0] : "--log_level",
	                        extra_flag[0] ? extra_flag[1] : "info",
	                        range ? "--userns_range" : NULL,
	                        range,
	                        NULL};
	agent = ah_spawn(log, argv);
	cr_assert(agent > 0);
}

static void stop_agent(int sig)
{
	kill(agent, sig);
	waitpid(agent, NULL, 0);
	agent = -1;
}

static void setup(void)
{
	agt_root_dir(work, sizeof(work), "userns-root");
	snprintf(hostdir, sizeof(hostdir), "%s-host", work);
	const char *b = getenv("AGORA_BUILD_DIR");
	char cmd[2048];
	/* The image; a host directory of root's, 0755, with a file of root's
	 * 0644 in it: what the host's root could write. */
	snprintf(cmd, sizeof(cmd),
	         "mkdir -p %s/images/bb/bin %s/images/bb/proc %s/images/bb/h && "
	         "cp /bin/busybox %s/images/bb/bin/ && cp %s/tests/probe %s/images/bb/bin/ && "
	         "mkdir -p %s && chmod 0755 %s && echo original > %s/f && chmod 0644 %s/f",
	         work, work, work, work, b ? b : "build", work, hostdir, hostdir, hostdir, hostdir);
	cr_assert(system(cmd) == 0, "needs /bin/busybox (busybox-static) and the probe");
	cr_assert(fm_start() == 0);
}

static void teardown(void)
{
	if (agent > 0)
		stop_agent(SIGTERM);
	char cmd[1024];
	snprintf(
	        cmd, sizeof(cmd),
	        "for f in %s/run/*/monitor; do [ -f $f ] || continue; m=$(sed -n 's/^pid=//p' $f); "
	        "[ \"$(cat /proc/$m/comm 2>/dev/null)\" = agora-monitor ] || continue; kill -9 "
	        "$(cat /proc/$m/task/$m/children 2>/dev/null) $m 2>/dev/null; done; "
	        "sleep 0.2; cp %s.log /tmp/last-userns-root.log; "
	        "rm -rf %s %s.log %s",
	        work, work, work, work, hostdir);
	if (work[0])
		cr_expect(system(cmd) == 0);
}

TestSuite(agent_userns_root, .init = setup, .fini = teardown, .timeout = 180);

/* The task's stdout so far (/files/read's "data"): the HTTP status. */
static int read_stdout(const char *id, char *out, size_t n)
{
	char path[256], body[16384];
	snprintf(path, sizeof(path), "/files/read?task=%s&file=stdout", id);
	int code = ah_http_get(op_port, path, body, sizeof(body));
	json_t *j = code == 200 ? json_loads(body, 0, NULL) : NULL;
	const char *data = json_string_value(json_object_get(j, "data"));
	const char *src = data ? data : body;
	size_t len = strnlen(src, n - 1);
	memcpy(out, src, len);
	out[len] = '\0';
	json_decref(j);
	return data ? code : -1;
}

static void task_stdout(const char *id, char *out, size_t n)
{
	cr_assert_eq(read_stdout(id, out, n), 200, "%s", out);
}

/* Wait for `id` to print `lines` lines; their text in out. */
static void wait_stdout_lines(const char *id, int lines, char *out, size_t n)
{
	double end = ah_now_s() + 30;
	for (;;) {
		int code = read_stdout(id, out, n);
		int nl = 0;
		for (const char *p = out; code == 200 && *p; p++)
			nl += *p == '\n';
		if (nl >= lines)
			return;
		char st[256];
		fm_states(id, st, sizeof(st));
		cr_assert(ah_now_s() < end, "task %s printed `%s` (%s)", id, out, st);
		usleep(50000);
	}
}

/* The message of the last update of `id` in `state`. */
static void msg_of(const char *id, const char *state, char *out, size_t n)
{
	out[0] = '\0';
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd; i++)
		if (strcmp(fm.upd[i].task, id) == 0 && strcmp(fm.upd[i].state, state) == 0)
			snprintf(out, n, "%s [%s]", fm.upd[i].msg, fm.upd[i].reason);
	pthread_mutex_unlock(&fm.mu);
}

/* The host id that uid 0 of `id` maps to: its uid_map's first line, as
 * the task printed it first ("0 HOST SIZE"). */
static unsigned long host_root_of(const char *id)
{
	char out[4096];
	wait_stdout_lines(id, 1, out, sizeof(out));
	unsigned long in = 1, host = 0, size = 0;
	cr_assert(sscanf(out, "%lu %lu %lu", &in, &host, &size) == 3, "%s", out);
	cr_assert_eq(in, 0);
	cr_assert_eq(size, RANGE, "%s", out);
	return host;
}

static void kill_task(const char *id)
{
	char buf[512];
	snprintf(buf, sizeof(buf),
	         "{\"type\":\"KILL_TASK\",\"kill_task\":{\"framework_id\":{\"value\":\"F0\"},"
	         "\"task_id\":{\"value\":\"%s\"}}}",
	         id);
	fm_send(buf);
}

static void run_root(const char *id, const char *command)
{
	fm_run_task(id, "root", command, NULL, NULL);
}

/* The pid of the task's init (the monitor's child) on the host. */
static pid_t task_init_pid(const char *id)
{
	char body[65536];
	cr_assert_eq(ah_http_get(op_port, "/containers", body, sizeof(body)), 200);
	char needle[128];
	snprintf(needle, sizeof(needle), "\"task_id\":\"%s\"", id);
	const char *at = strstr(body, needle);
	cr_assert(at, "%s", body);
	/* The container's record names the monitor; its child is the init. */
	const char *cidp = strstr(at, "\"container_id\":\"");
	cr_assert(cidp);
	char cid[64] = "";
	sscanf(cidp + strlen("\"container_id\":\""), "%63[^\"]", cid);
	char path[256];
	snprintf(path, sizeof(path), "%s/run/%s/monitor", work, cid);
	FILE *f = fopen(path, "r");
	int mpid = 0;
	cr_assert(f && fscanf(f, "pid=%d", &mpid) == 1, "%s", path);
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", mpid, mpid);
	f = fopen(path, "r");
	int child = 0;
	cr_assert(f && fscanf(f, "%d", &child) == 1, "%s", path);
	fclose(f);
	return child;
}

static long status_field(pid_t pid, const char *key)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	cr_assert(f, "%s", path);
	long v = -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':')
			v = strtol(line + strlen(key) + 1, NULL, 10);
	fclose(f);
	return v;
}

Test(agent_userns_root, a_root_task_is_uid_0_inside_and_a_pool_id_on_the_host)
{
	start_agent(NULL); /* the default pool */
	WAIT_FOR(fm_registers() >= 1, 10);
	run_root("r1", "cat /proc/self/uid_map; id -u; id -g; touch mine && echo wrote; "
	               "exec sleep 100");
	WAIT_FOR(fm_count("r1", "TASK_RUNNING") >= 1, 30);
	char out[4096];
	wait_stdout_lines("r1", 4, out, sizeof(out));
	unsigned long host = host_root_of("r1");
	/* --userns_range's default: 1879048192-1946157055 */
	cr_expect(host >= 1879048192ul && host + RANGE - 1 <= 1946157055ul, "%lu", host);
	cr_expect(strstr(out, "\n0\n0\nwrote\n"),
	          "uid, gid 0 inside and a sandbox it can write: %s", out);
	/* On the host: the task's processes are the pool's id, not root. */
	pid_t init = task_init_pid("r1");
	cr_expect_eq(status_field(init, "Uid"), (long)host);
	cr_expect_eq(status_field(init, "Gid"), (long)host);
	/* Its sandbox and its output belong to the range's root. */
	char pat[256];
	snprintf(pat, sizeof(pat), "%s/sandboxes/*/stdout", work);
	_cleanup_free_ char *so = agt_glob_one(pat);
	struct stat st;
	cr_assert(stat(so, &st) == 0);
	cr_expect_eq(st.st_uid, host);
	*strrchr(so, '/') = '\0';
	cr_assert(stat(so, &st) == 0);
	cr_expect_eq(st.st_uid, host);
	cr_expect_eq(st.st_gid, host);
	kill_task("r1");
	WAIT_FOR(fm_count("r1", "TASK_KILLED") >= 1, 30);
}

Test(agent_userns_root, a_root_task_cannot_do_what_the_hosts_root_can)
{
	start_agent(NULL);
	WAIT_FOR(fm_registers() >= 1, 10);
	const char *b = getenv("AGORA_BUILD_DIR");
	char cmd[2048];
	/* Modules, host processes (the agent's pid), the host's network (a
	 * command task shares it). */
	snprintf(cmd, sizeof(cmd),
	         "P=%s/tests/probe; $P syscall init_module; $P syscall finit_module; "
	         "$P kill %d 0; $P exists /proc/%d; "
	         "ip link add agoraus0 type dummy 2>&1 | grep -o 'Operation not permitted'; "
	         "ip addr add 10.251.0.1/32 dev lo 2>&1 | grep -o 'Operation not permitted'; "
	         "id -u",
	         b ? b : "build", (int)agent, (int)agent);
	run_root("deny", cmd);
	WAIT_FOR(fm_count("deny", "TASK_FINISHED") >= 1 || fm_count("deny", "TASK_FAILED") >= 1,
	         30);
	char out[4096];
	task_stdout("deny", out, sizeof(out));
	cr_expect_str_eq(out, "errno=EPERM\nerrno=EPERM\nerrno=ESRCH\nno\n"
	                      "Operation not permitted\nOperation not permitted\n0\n");
	cr_expect(system("ip link show agoraus0 >/dev/null 2>&1") != 0, "the link was made");
	cr_expect(system("ip addr show dev lo | grep -q 10.251.0.1") != 0, "the address was set");

	/* A host directory of root's bound read-write (--policy_bind_paths
	 * allows it): root inside is nobody to its files. An OCI-like task
	 * with uid 0 and no user namespace gets one too. */
	char extra[4096];
	snprintf(extra, sizeof(extra),
	         ",\"container\":{\"type\":\"MESOS\",\"oci\":{\"ociVersion\":\"1.0.2\","
	         "\"root\":{\"path\":\"bb\"},\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
	         "\"cwd\":\"/\",\"args\":[\"/bin/busybox\",\"sh\",\"-c\","
	         "\"/bin/probe write /h/f; /bin/probe write /h/new; "
	         "/bin/probe syscall init_module; /bin/busybox id -u; "
	         "/bin/busybox head -1 /proc/self/uid_map\"]},"
	         "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	         "{\"destination\":\"/h\",\"type\":\"bind\",\"source\":\"%s\","
	         "\"options\":[\"rbind\",\"rw\"]}]}}",
	         hostdir);
	fm_run_task("oci", "nobody", NULL, NULL, extra);
	WAIT_FOR(fm_count("oci", "TASK_FINISHED") >= 1 || fm_count("oci", "TASK_FAILED") >= 1 ||
	                 fm_count("oci", "TASK_ERROR") >= 1,
	         30);
	char st[256], m[1024];
	fm_states("oci", st, sizeof(st));
	msg_of("oci", "TASK_ERROR", m, sizeof(m));
	cr_assert(fm_count("oci", "TASK_FINISHED") >= 1, "%s: %s", st, m);
	task_stdout("oci", out, sizeof(out));
	unsigned long in = 1, host = 0;
	cr_assert(sscanf(strstr(out, "0\n") ? strstr(out, "\n0\n") + 3 : out, "%lu %lu", &in,
	                 &host) == 2,
	          "%s", out);
	cr_expect(host >= 1879048192ul, "%s", out);
	cr_expect(strncmp(out, "errno=EACCES\nerrno=EACCES\nerrno=EPERM\n0\n", 39) == 0, "%s", out);
	char f[160], text[64] = "";
	snprintf(f, sizeof(f), "%s/f", hostdir);
	FILE *fp = fopen(f, "r");
	cr_assert(fp && fgets(text, sizeof(text), fp));
	fclose(fp);
	cr_expect_str_eq(text, "original\n");
	snprintf(f, sizeof(f), "%s/new", hostdir);
	cr_expect(access(f, F_OK) < 0, "%s was created", f);
}

Test(agent_userns_root, ranges_are_disjoint_released_at_the_end_and_never_overbooked)
{
	start_agent(SMALL_POOL);
	WAIT_FOR(fm_registers() >= 1, 10);
	run_root("a", "cat /proc/self/uid_map; exec sleep 100");
	run_root("b", "cat /proc/self/uid_map; exec sleep 100");
	unsigned long ha = host_root_of("a"), hb = host_root_of("b");
	cr_expect(ha != hb, "both got %lu", ha);
	cr_expect(ha == SMALL_FIRST || ha == SMALL_FIRST + RANGE, "%lu", ha);
	cr_expect(hb == SMALL_FIRST || hb == SMALL_FIRST + RANGE, "%lu", hb);
	/* Both ranges held: the third cannot have one. */
	run_root("c", "true");
	WAIT_FOR(fm_count("c", "TASK_FAILED") >= 1 || fm_count("c", "TASK_RUNNING") >= 1, 30);
	char m[1024], st[256];
	fm_states("c", st, sizeof(st));
	cr_assert_str_eq(st, "TASK_FAILED", "%s", st);
	msg_of("c", "TASK_FAILED", m, sizeof(m));
	cr_expect(strstr(m, "--userns_range " SMALL_POOL " are held by tasks still running"), "%s",
	          m);
	cr_expect(strstr(m, "[REASON_CONTAINER_LAUNCH_FAILED]"), "%s", m);
	/* A non-root task needs no range. */
	fm_run_task("n", "nobody", "id -u", NULL, NULL);
	WAIT_FOR(fm_count("n", "TASK_FINISHED") >= 1, 30);
	/* The end of `a` releases its range, to the next root task. */
	kill_task("a");
	WAIT_FOR(fm_count("a", "TASK_KILLED") >= 1, 30);
	run_root("d", "cat /proc/self/uid_map; exec sleep 100");
	cr_expect_eq(host_root_of("d"), ha);
	kill_task("b");
	kill_task("d");
	WAIT_FOR(fm_count("b", "TASK_KILLED") >= 1 && fm_count("d", "TASK_KILLED") >= 1, 30);
}

Test(agent_userns_root, an_agent_sigkilled_with_root_tasks_running_never_hands_their_ranges_out)
{
	start_agent(SMALL_POOL);
	WAIT_FOR(fm_registers() >= 1, 10);
	run_root("a", "cat /proc/self/uid_map; exec sleep 100");
	unsigned long ha = host_root_of("a");
	cr_expect_eq(ha, SMALL_FIRST, "the first range first");
	stop_agent(SIGKILL);
	start_agent(SMALL_POOL);
	WAIT_FOR(fm_registers() >= 2, 20);
	/* The restarted agent would try the first range first: `a` holds it. */
	run_root("b", "cat /proc/self/uid_map; exec sleep 100");
	cr_expect_eq(host_root_of("b"), SMALL_FIRST + RANGE);
	run_root("c", "true");
	WAIT_FOR(fm_count("c", "TASK_FAILED") >= 1 || fm_count("c", "TASK_RUNNING") >= 1, 30);
	char st[256];
	fm_states("c", st, sizeof(st));
	cr_expect_str_eq(st, "TASK_FAILED");
	/* `a` still runs as it did. */
	cr_expect_eq(fm_count("a", "TASK_FAILED"), -1);
	cr_expect_eq(fm_count("a", "TASK_LOST"), -1);
	kill_task("a");
	WAIT_FOR(fm_count("a", "TASK_KILLED") >= 1, 30);
	run_root("d", "cat /proc/self/uid_map; exec sleep 100");
	cr_expect_eq(host_root_of("d"), SMALL_FIRST);
	kill_task("b");
	kill_task("d");
	WAIT_FOR(fm_count("b", "TASK_KILLED") >= 1 && fm_count("d", "TASK_KILLED") >= 1, 30);
}

Test(agent_userns_root, without_a_pool_root_is_refused_naming_the_flags)
{
	start_agent("none");
	WAIT_FOR(fm_registers() >= 1, 10);
	run_root("r", "true");
	WAIT_FOR(fm_count("r", "TASK_ERROR") >= 1 || fm_count("r", "TASK_RUNNING") >= 1, 30);
	char m[1024];
	msg_of("r", "TASK_ERROR", m, sizeof(m));
	cr_expect(strstr(m, "framework_info.user: uid 0 on the host (no user namespace)"), "%s", m);
	cr_expect(strstr(m, "--policy_allow_root"), "%s", m);
}

Test(agent_userns_root, the_hosts_root_stays_behind_policy_allow_root)
{
	extra_flag[0] = "--policy_allow_root";
	extra_flag[1] = "web";
	start_agent(NULL);
	extra_flag[0] = NULL;
	WAIT_FOR(fm_registers() >= 1, 10);
	run_root("host-root", "cat /proc/self/uid_map; id -u");
	WAIT_FOR(fm_count("host-root", "TASK_FINISHED") >= 1, 30);
	char out[4096];
	task_stdout("host-root", out, sizeof(out));
	unsigned long in = 1, host = 1, size = 0;
	cr_assert(sscanf(out, "%lu %lu %lu", &in, &host, &size) == 3, "%s", out);
	cr_expect(in == 0 && host == 0 && size == 4294967295ul, "the host's ids: %s", out);
}

Test(agent_userns_root, a_user_namespace_without_maps_gets_a_range_and_a_sandbox_its_user_owns)
{
	start_agent(SMALL_POOL);
	WAIT_FOR(fm_registers() >= 1, 10);
	/* uid 1000 inside: host id FIRST + 1000; its sandbox is its own */
	const char *extra =
	        ",\"container\":{\"type\":\"MESOS\",\"oci\":{\"ociVersion\":\"1.0.2\","
	        "\"root\":{\"path\":\"bb\"},\"process\":{\"user\":{\"uid\":1000,\"gid\":1000},"
	        "\"cwd\":\"/\",\"args\":[\"/bin/busybox\",\"sh\",\"-c\","
	        "\"/bin/busybox head -1 /proc/self/uid_map; /bin/busybox id -u; "
	        "echo hi > /mnt/mesos/sandbox/mine && echo wrote\"]},"
	        "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}],"
	        "\"linux\":{\"namespaces\":[{\"type\":\"user\"}]}}}";
	fm_run_task("u1000", "nobody", NULL, NULL, extra);
	WAIT_FOR(fm_count("u1000", "TASK_FINISHED") >= 1 || fm_count("u1000", "TASK_FAILED") >= 1 ||
	                 fm_count("u1000", "TASK_ERROR") >= 1,
	         30);
	char out[4096], st[256];
	fm_states("u1000", st, sizeof(st));
	task_stdout("u1000", out, sizeof(out));
	cr_assert(fm_count("u1000", "TASK_FINISHED") >= 1, "%s: %s", st, out);
	cr_expect_str_eq(out, "         0 2100000000      65536\n1000\nwrote\n");
	char pat[256];
	snprintf(pat, sizeof(pat), "%s/sandboxes/*/mine", work);
	_cleanup_free_ char *mine = agt_glob_one(pat);
	struct stat sb;
	cr_assert(stat(mine, &sb) == 0);
	cr_expect_eq(sb.st_uid, SMALL_FIRST + 1000);
	*strrchr(mine, '/') = '\0';
	cr_assert(stat(mine, &sb) == 0);
	cr_expect_eq(sb.st_uid, SMALL_FIRST + 1000);
	cr_expect_eq(sb.st_gid, SMALL_FIRST + 1000);
}
