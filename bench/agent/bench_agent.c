/* bench-agent: what the agent costs, measured through the whole daemon
 * (the real agora-agent, with cgroup isolation, driven by the fake master
 * of tests/lib/agentd_harness.c). Inside the VM:
 *
 *   tests/vm/vm-run -- build/bin/bench-agent [--runs N] [--containers M]
 *
 *   launch_to_running_ms  from RUN_TASK leaving the fake master to the
 *                         task's RUNNING update arriving there (loopback
 *                         both ways: a few tens of µs more than inside the
 *                         agent), median and p99 of N launches of `true`,
 *                         one at a time
 *   standalone_ms         `agora-run run` of the same command with the same
 *                         config.json (copied from the agent's first task),
 *                         create + start + wait (run deletes it), interleaved with
 *                         the agent's launches in the same boot
 *   per_container_kb      growth of memory.current of a cgroup holding only
 *                         the agent and its monitors, per sleeping container,
 *                         between the first and the M-th (kernel memory
 *                         included: stacks, page tables, task structs)
 *   agent_rss_mb          VmRSS of the registered, idle agent
 *   oci_launch_to_running_ms  the same for an OCI-like busybox `true`
 *                         with agora-init and opted out of it, in turn
 *                         (what the init adds to a launch)
 *   monitor_pss_kb, init_pss_kb  PSS of each container's monitor (outside)
 *                         and of its agora-init (pid 1 inside, charged to
 *                         the task's cgroup), with M containers
 *
 * Prints one line:
 *   launch_to_running_ms=<median> p99_ms=<x> per_container_kb=<x>
 *   agent_rss_mb=<x> standalone_ms=<median> ratio=<agent/standalone> ...
 */
#include "agentd_harness.h"
#include "bench/machine.h"
#include "common/common.h"

#include <fcntl.h>
#include <glob.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BENCH_CG "/sys/fs/cgroup/agora-bench-agent"

static char work[64];
static pid_t agent = -1;

__attribute__((format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "bench-agent: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (agent > 0) {
		kill(agent, SIGTERM);
		waitpid(agent, NULL, 0);
	}
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	int i = (int)(p * (n - 1) + 0.5);
	return v[i];
}

static unsigned long long read_ull(const char *path, const char *key)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char line[256];
	unsigned long long v = 0;
	size_t kl = key ? strlen(key) : 0;
	while (fgets(line, sizeof(line), f))
		if (!key || strncmp(line, key, kl) == 0) {
			v = strtoull(line + kl, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* Wait until `task` got `state`; its arrival time (ns) or 0 on timeout. */
static uint64_t wait_state(const char *task, const char *state, double secs)
{
	double end = ah_now_s() + secs;
	while (ah_now_s() < end) {
		uint64_t t = 0;
		pthread_mutex_lock(&fm.mu);
		for (int i = 0; i < fm.n_upd; i++)
			if (strcmp(fm.upd[i].task, task) == 0 &&
			    strcmp(fm.upd[i].state, state) == 0)
				t = fm.upd[i].first_ns;
		pthread_mutex_unlock(&fm.mu);
		if (t)
			return t;
		usleep(200);
	}
	return 0;
}

#define RES                                                                                        \
	"[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.1}},"                     \
	"{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":32}}]"

/* The container id of `task` from the agent's GET /containers. */
static char *container_of(int port, const char *task)
{
	static char body[1 << 20];
	if (ah_http_get(port, "/containers", body, sizeof(body)) != 200)
		return NULL;
	json_t *arr = json_loads(body, 0, NULL), *it;
	size_t i;
	char *cid = NULL;
	json_array_foreach (arr, i, it) {
		if (strcmp(json_string_value(json_object_get(it, "task_id")), task) == 0)
			cid = strdup(json_string_value(json_object_get(it, "container_id")));
	}
	json_decref(arr);
	return cid;
}

/* `agora-run run` of the bundle, quietly; wall ms or -1. */
static double standalone_run(const char *agora_run, const char *root, const char *bundle, int i)
{
	char id[32];
	snprintf(id, sizeof(id), "bench-sa-%d", i);
	uint64_t t0 = ag_now_ns();
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		dup2(null, 0);
		dup2(null, 1);
		execl(agora_run, agora_run, "--root", root, "--cgroup-parent", "agora/standalone",
		      "run", "--bundle", bundle, id, (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0); /* run deletes the stopped container itself */
	double ms = (double)(ag_now_ns() - t0) / 1e6;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return ms;
}

int main(int argc, char **argv)
{
	int runs = 30, containers = 100;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (strcmp(argv[i], "--containers") == 0 && i + 1 < argc)
			containers = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: bench-agent [--runs N] [--containers M]\n");
			return 2;
		}
	}
	if (runs < 2 || containers < 2)
		die("%s", "--runs and --containers must be at least 2");
	if (geteuid() != 0 || access("/sys/fs/cgroup/cgroup.subtree_control", F_OK) != 0)
		die("%s", "needs root and cgroup v2 (run it in the VM: tests/vm/vm-run -- "
		          "build/bin/bench-agent)");
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		die("%s", "readlink /proc/self/exe");
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	char bin[4200], agora_run[4200];
	snprintf(bin, sizeof(bin), "%s/agora-agent", self);
	snprintf(agora_run, sizeof(agora_run), "%s/agora-run", self);

	snprintf(work, sizeof(work), "/tmp/agora-bench-agent-XXXXXX");
	if (!mkdtemp(work))
		die("%s", "mkdtemp");
	fm.ack_first = true;
	fm.quiet = true;
	if (fm_start() < 0)
		die("%s", "the fake master cannot listen");
	int port = ah_free_port();
	char master[64], ports[16], log[128];
	snprintf(master, sizeof(master), "127.0.0.1:%d", fm.port);
	snprintf(ports, sizeof(ports), "%d", port);
	snprintf(log, sizeof(log), "%s.log", work);

	/* The agent alone in a cgroup: its memory.current is the agent plus
	 * the monitors it forks (the tasks go to their own cgroups). */
	if (mkdir(BENCH_CG, 0755) < 0 && errno != EEXIST)
		die("mkdir %s", BENCH_CG);
	agent = fork();
	if (agent == 0) {
		int fd = open(BENCH_CG "/cgroup.procs", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			_exit(126);
		close(fd);
		int lfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		dup2(lfd, 2);
		execl(bin, bin, "--master", master, "--work_dir", work, "--hostname", "bench",
		      "--port", ports, "--resources", "cpus:64;mem:65536", (char *)NULL);
		_exit(127);
	}
	double end = ah_now_s() + 30;
	while (fm_registers() < 1 && ah_now_s() < end)
		usleep(10000);
	if (fm_registers() < 1)
		die("the agent did not register (see %s)", log);
	sleep(1);
	char status[64];
	snprintf(status, sizeof(status), "/proc/%d/status", (int)agent);
	double idle_rss_mb = (double)read_ull(status, "VmRSS:") / 1024.0;

	/* launch to running, interleaved with agora-run run of the same thing */
	double *lat = calloc((size_t)runs, sizeof(double));
	double *sa = calloc((size_t)runs, sizeof(double));
	char bundle[128], sa_root[128];
	snprintf(bundle, sizeof(bundle), "%s/sa-bundle", work);
	snprintf(sa_root, sizeof(sa_root), "%s/sa-root", work);
	for (int i = 0; i < runs; i++) {
		char id[32];
		snprintf(id, sizeof(id), "l%d", i);
		uint64_t t0 = ag_now_ns();
		fm_run_task(id, "nobody", "true", RES, NULL);
		uint64_t t1 = wait_state(id, "TASK_RUNNING", 60);
		if (!t1)
			die("task %s never ran", id);
		lat[i] = (double)(t1 - t0) / 1e6;
		if (!wait_state(id, "TASK_FINISHED", 60))
			die("task %s never finished", id);
		if (i == 0) {
			_cleanup_free_ char *cid = container_of(port, id);
			if (!cid)
				die("%s", "GET /containers: no container for l0");
			char cmd[512];
			snprintf(cmd, sizeof(cmd), "mkdir -p %s && cp %s/run/%s/config.json %s/",
			         bundle, work, cid, bundle);
			if (system(cmd) != 0)
				die("%s: failed", cmd);
		}
		sa[i] = standalone_run(agora_run, sa_root, bundle, i);
		if (sa[i] < 0)
			die("agora-run run of %s failed", bundle);
	}

	/* What agora-init adds to a launch: OCI-like tasks of busybox `true`,
	 * with the init and opted out of it (org.agora.init=false), in turn. */
	double *oi = calloc((size_t)runs, sizeof(double));
	double *on = calloc((size_t)runs, sizeof(double));
	if (!oi || !on)
		die("%s", "out of memory");
	bool oci = access("/bin/busybox", X_OK) == 0;
	if (oci) {
		char cmd[256];
		snprintf(cmd, sizeof(cmd),
		         "mkdir -p %s/images/bb/bin && cp /bin/busybox %s/images/bb/bin/", work,
		         work);
		oci = system(cmd) == 0;
	}
	for (int i = 0; oci && i < 2 * runs; i++) {
		char id[32];
		snprintf(id, sizeof(id), "o%d", i);
		bool with = i % 2 == 0;
#define OCI_TRUE(more)                                                                             \
	",\"container\":{\"type\":\"MESOS\",\"oci\":{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":" \
	"\"bb\"},\"process\":{\"user\":{\"uid\":65534,\"gid\":65534},\"cwd\":\"/\",\"args\":[\"/"  \
	"bin/"                                                                                     \
	"busybox\",\"true\"]},\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"pid\"}]" \
	"}" more "}}"
		const char *extra =
		        with ? OCI_TRUE("")
		             : OCI_TRUE(",\"annotations\":{\"org.agora.init\":\"false\"}");
		uint64_t t0 = ag_now_ns();
		fm_run_task(id, "nobody", NULL, RES, extra);
		uint64_t t1 = wait_state(id, "TASK_RUNNING", 60);
		if (!t1 || !wait_state(id, "TASK_FINISHED", 60))
			die("OCI task %s never ran or finished", id);
		(with ? oi : on)[i / 2] = (double)(t1 - t0) / 1e6;
	}

	/* M sleeping containers: the supervision's memory */
	unsigned long long first = 0, last = 0;
	for (int i = 0; i < containers; i++) {
		char id[32];
		snprintf(id, sizeof(id), "s%d", i);
		fm_run_task(id, "nobody", "sleep 100000", RES, NULL);
		if (!wait_state(id, "TASK_RUNNING", 120))
			die("task %s never ran", id);
		usleep(20000); /* let the monitor settle */
		unsigned long long cur = read_ull(BENCH_CG "/memory.current", NULL);
		if (i == 0)
			first = cur;
		last = cur;
	}
	double busy_rss_mb = (double)read_ull(status, "VmRSS:") / 1024.0;
	unsigned long long pss = 0, ipss = 0;
	size_t nm = 0, ni = 0;
	char pat[128];
	snprintf(pat, sizeof(pat), "%s/run/*/monitor", work);
	glob_t g;
	if (glob(pat, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			unsigned long long pid = read_ull(g.gl_pathv[i], "pid=");
			char p[64];
			snprintf(p, sizeof(p), "/proc/%llu/smaps_rollup", pid);
			unsigned long long v = read_ull(p, "Pss:");
			if (v) {
				pss += v;
				nm++;
			}
			/* The monitor's child: the container's pid 1, agora-init
			 * (charged to the task's cgroup, not to BENCH_CG). */
			snprintf(p, sizeof(p), "/proc/%llu/task/%llu/children", pid, pid);
			unsigned long long ipid = read_ull(p, NULL);
			snprintf(p, sizeof(p), "/proc/%llu/smaps_rollup", ipid);
			v = ipid ? read_ull(p, "Pss:") : 0;
			if (v) {
				ipss += v;
				ni++;
			}
		}
		globfree(&g);
	}
	for (int i = 0; i < containers; i++) {
		char k[256];
		snprintf(k, sizeof(k),
		         "{\"type\":\"KILL_TASK\",\"kill_task\":{\"framework_id\":{\"value\":"
		         "\"F0\"},"
		         "\"task_id\":{\"value\":\"s%d\"},\"kill_policy\":{\"grace_period\":{"
		         "\"nanoseconds\":0}}}}",
		         i);
		fm_send(k);
	}
	for (int i = 0; i < containers; i++) {
		char id[32];
		snprintf(id, sizeof(id), "s%d", i);
		wait_state(id, "TASK_KILLED", 120);
	}
	kill(agent, SIGTERM);
	waitpid(agent, NULL, 0);
	agent = -1;
	rmdir(BENCH_CG);

	double per_kb = (double)(last - first) / 1024.0 / (containers - 1);
	double med = pct(lat, runs, 0.5), p99 = pct(lat, runs, 0.99);
	double sa_med = pct(sa, runs, 0.5);
	printf("launch_to_running_ms=%.1f p99_ms=%.1f per_container_kb=%.0f agent_rss_mb=%.1f "
	       "standalone_ms=%.1f ratio=%.2f monitor_pss_kb=%.0f init_pss_kb=%.0f "
	       "agent_rss_mb_with_%d=%.1f runs=%d containers=%d\n",
	       med, p99, per_kb, idle_rss_mb, sa_med, med / sa_med,
	       nm ? (double)pss / (double)nm : 0.0, ni ? (double)ipss / (double)ni : 0.0,
	       containers, busy_rss_mb, runs, containers);
	if (oci)
		printf("oci_launch_to_running_ms: with_init=%.1f without_init=%.1f (medians, %d "
		       "each, in turn)\n",
		       pct(oi, runs, 0.5), pct(on, runs, 0.5), runs);
	free(oi);
	free(on);
	printf("targets: launch_to_running <= 1.5x standalone: %s; per_container <= 256 KB: %s; "
	       "idle agent <= 10 MB: %s\n",
	       med <= 1.5 * sa_med ? "met" : "MISSED", per_kb <= 256 ? "met" : "MISSED",
	       idle_rss_mb <= 10 ? "met" : "MISSED");
	bench_print_machine(stdout);
	free(lat);
	free(sa);
	return 0;
}
