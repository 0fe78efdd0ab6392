/* bench-launch: median wall time and CPU time of `run` of /bin/true,
 * agora-run against crun, interleaved, in one invocation.
 *
 *   bench-launch --case a|b|c [--runs N] [--agora PATH] [--crun PATH]
 *                [--cgroupns] [--state-dir DIR]
 *
 *   a: host, cgroups disabled for both, no seccomp
 *   b: host, cgroups disabled, the same Docker-like seccomp profile for both
 *   c: cgroups enabled with memory/cpu/pids limits, no seccomp (inside the VM:
 *      tests/vm/vm-run -- build/bin/bench-launch --case c)
 *
 * Both runtimes get one bundle: a busybox rootfs and a config.json from
 * `agora-run spec`, with the process set to /bin/true and the namespaces
 * pid, mount, uts, ipc and network (--cgroupns: and cgroup, as `agora-run
 * spec` writes it). Without a cgroup namespace the container's cgroup2
 * mount happens in the host's cgroup namespace, where the kernel applies
 * the mount's options to the whole hierarchy and waits for an RCU grace
 * period (cgroup_favor_dynmods): milliseconds on a loaded machine, for
 * both runtimes alike.
 *
 * The program moves into a private mount namespace (nothing outside it
 * changes) and mounts a tmpfs for everything it writes: the runtimes'
 * copies, the bundle and both state directories. /run is not a tmpfs
 * everywhere (ext4 with online discard on some machines: every removed
 * state directory then waits for a discard). --state-dir DIR keeps the state
 * directories in DIR instead, to measure a given file system. For cases a and
 * b it mounts a fresh cgroup2 on /sys/fs/cgroup there: on a hybrid-cgroup
 * host crun refuses to start without one.
 *
 * Options: --runs N (30), --gap-ms M (0): the pause before each run.
 *
 * Prints: case=<c> agora_ms=<median> crun_ms=<median> ratio=<agora/crun>
 *         agora_cpu_ms=<median> crun_cpu_ms=<median> cpu_ratio=<...>
 *         agora_rss_kb=<peak RSS of agora-run> crun_rss_kb=<...> runs=<N>
 *         cgroupns=<0|1>
 *         and the machine line (kernel, load average; bench/machine.h).
 * The CPU time is the runtime's and the container's (user + system, from
 * wait4): it does not depend on what else the machine runs, the wall time
 * does.
 */
#include "bench/machine.h"
#include "common/common.h"

#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int run_quiet(char *const argv[], double *ret_ms, double *ret_cpu_ms, long *ret_rss_kb)
{
	uint64_t t0 = ag_now_ns();
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		dup2(null, 0);
		dup2(null, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) < 0)
		return -errno;
	*ret_ms = (double)(ag_now_ns() - t0) / 1e6;
	*ret_cpu_ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	              (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	if (ru.ru_maxrss > *ret_rss_kb)
		*ret_rss_kb = ru.ru_maxrss;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -ECHILD;
	return 0;
}

static void die(const char *what)
{
	fprintf(stderr, "bench-launch: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void make_bundle(const char *dir, const char *agora, char which, bool cgroupns)
{
	_cleanup_free_ char *rootfs = ag_asprintf("%s/rootfs", dir);
	_cleanup_free_ char *bin = ag_asprintf("%s/rootfs/bin", dir);
	if (mkdir(dir, 0755) < 0 || mkdir(rootfs, 0755) < 0 || mkdir(bin, 0755) < 0)
		die("mkdir bundle");
	static const char *const dirs[] = {"proc", "sys", "dev", "tmp", "etc"};
	for (size_t i = 0; i < AG_ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *p = ag_asprintf("%s/%s", rootfs, dirs[i]);
		mkdir(p, 0755);
	}
	_cleanup_free_ char *cp =
	        ag_asprintf("cp /bin/busybox %s/busybox && ln -s busybox %s/true", bin, bin);
	if (system(cp) != 0)
		die("copy busybox (install busybox-static)");
	_cleanup_free_ char *spec = ag_asprintf("%s spec --bundle %s", agora, dir);
	if (system(spec) != 0)
		die("agora-run spec");
	_cleanup_free_ char *cfg_path = ag_asprintf("%s/config.json", dir);
	json_error_t jerr;
	json_t *cfg = json_load_file(cfg_path, 0, &jerr);
	if (!cfg)
		die("read config.json");
	json_object_set_new(json_object_get(cfg, "process"), "args", json_pack("[s]", "/bin/true"));
	json_t *linux_ = json_object_get(cfg, "linux");
	/* The five namespaces of the benchmark, and the cgroup namespace of
	 * `agora-run spec` with --cgroupns. */
	json_t *ns = json_pack("[{s:s},{s:s},{s:s},{s:s},{s:s}]", "type", "pid", "type", "mount",
	                       "type", "uts", "type", "ipc", "type", "network");
	if (cgroupns)
		json_array_append_new(ns, json_pack("{s:s}", "type", "cgroup"));
	json_object_set_new(linux_, "namespaces", ns);
	/* Seccomp only in case b: a and c compare the rest of the launch. */
	if (which != 'b')
		json_object_del(linux_, "seccomp");
	if (which == 'c')
		json_object_set_new(linux_, "resources",
		                    json_pack("{s:{s:I}, s:{s:I, s:I}, s:{s:i}}", "memory", "limit",
		                              (json_int_t)256 << 20, "cpu", "quota",
		                              (json_int_t)50000, "period", (json_int_t)100000,
		                              "pids", "limit", 64));
	if (json_dump_file(cfg, cfg_path, JSON_INDENT(1)) < 0)
		die("write config.json");
	json_decref(cfg);
}

int main(int argc, char **argv)
{
	char which = 'a';
	int runs = 30, gap_ms = 0;
	bool cgroupns = false;
	const char *agora = NULL, *crun = "/usr/bin/crun", *state_dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--case") == 0 && i + 1 < argc)
			which = argv[++i][0];
		else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (strcmp(argv[i], "--agora") == 0 && i + 1 < argc)
			agora = argv[++i];
		else if (strcmp(argv[i], "--gap-ms") == 0 && i + 1 < argc)
			gap_ms = atoi(argv[++i]);
		else if (strcmp(argv[i], "--crun") == 0 && i + 1 < argc)
			crun = argv[++i];
		else if (strcmp(argv[i], "--state-dir") == 0 && i + 1 < argc)
			state_dir = argv[++i];
		else if (strcmp(argv[i], "--cgroupns") == 0)
			cgroupns = true;
		else {
			fprintf(stderr, "usage: bench-launch --case a|b|c [--runs N] [--gap-ms M] "
			                "[--agora PATH] [--crun PATH] [--cgroupns] "
			                "[--state-dir DIR]\n");
			return 2;
		}
	}
	if (which < 'a' || which > 'c' || runs < 1) {
		fprintf(stderr, "bench-launch: --case is a, b or c; --runs at least 1\n");
		return 2;
	}
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		die("readlink /proc/self/exe");
	self[n] = '\0';
	_cleanup_free_ char *default_agora =
	        ag_asprintf("%.*s/agora-run", (int)(strrchr(self, '/') - self), self);
	if (!agora)
		agora = default_agora;
	if (access(crun, X_OK) < 0)
		die("crun (install it: scripts/install-deps)");

	char dir[] = "/tmp/agora-bench-XXXXXX";
	if (!mkdtemp(dir))
		die("mkdtemp");
	/* Everything the benchmark writes goes to a tmpfs of its own, in a
	 * mount namespace of its own: the runtimes' copies (in the test VM the
	 * build tree and /usr are 9p shares whose exec costs tens of
	 * milliseconds), the bundle and both state directories (a disk adds
	 * its writeback and, with online discard, a discard per removed
	 * directory). */
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("agora-bench", dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
		die("private mount namespace with a tmpfs for the benchmark");
	if (which != 'c') {
		/* crun refuses hybrid cgroups: give both a private cgroup2 view. */
		if (mount("none", "/sys/fs/cgroup", "tmpfs", 0, NULL) < 0 ||
		    mount("none", "/sys/fs/cgroup", "cgroup2", 0, NULL) < 0)
			die("private cgroup2 mount for crun");
	}
	_cleanup_free_ char *cp = ag_asprintf("mkdir %s/bin && cp %s %s/bin/agora-run && cp %s "
	                                      "%s/bin/crun",
	                                      dir, agora, dir, crun, dir);
	if (system(cp) != 0)
		die("copy the runtimes");
	_cleanup_free_ char *agora_copy = ag_asprintf("%s/bin/agora-run", dir);
	_cleanup_free_ char *crun_copy = ag_asprintf("%s/bin/crun", dir);
	_cleanup_free_ char *bundle = ag_asprintf("%s/bundle", dir);
	make_bundle(bundle, agora_copy, which, cgroupns);
	agora = agora_copy;
	crun = crun_copy;

	_cleanup_free_ char *run_dir = NULL;
	if (state_dir) {
		run_dir = ag_asprintf("%s/agora-bench-XXXXXX", state_dir);
		if (!mkdtemp(run_dir))
			die("mkdtemp in --state-dir");
	} else {
		run_dir = ag_strdup(dir);
	}
	_cleanup_free_ char *agora_root = ag_asprintf("--root=%s/agora-state", run_dir);
	_cleanup_free_ char *crun_root = ag_asprintf("--root=%s/crun-state", run_dir);
	const char *cg = which == 'c' ? "--cgroup-manager=cgroupfs" : "--cgroup-manager=disabled";
	double *ta = ag_calloc((size_t)runs, sizeof(double));
	double *tc = ag_calloc((size_t)runs, sizeof(double));
	double *ca = ag_calloc((size_t)runs, sizeof(double));
	double *cc = ag_calloc((size_t)runs, sizeof(double));
	long rss_a = 0, rss_c = 0;
	/* One warm-up each (page cache, and agora's seccomp cache), then
	 * interleaved measured runs. */
	for (int i = -1; i < runs; i++) {
		char id[32];
		snprintf(id, sizeof(id), "bench-%d", i + 1);
		char run[] = "run", flag[] = "--bundle";
		char *av[] = {(char *)agora, agora_root, (char *)cg, run, flag, bundle, id, NULL};
		char *cv[] = {(char *)crun, crun_root, (char *)cg, run, flag, bundle, id, NULL};
		double ms, cpu_ms;
		long ignore = 0;
		/* The kernel tears a network namespace down asynchronously after
		 * its last process exits; a settle gap keeps one runtime's
		 * teardown out of the other's measurement. */
		usleep((useconds_t)gap_ms * 1000);
		if (run_quiet(av, &ms, &cpu_ms, i < 0 ? &ignore : &rss_a) < 0) {
			fprintf(stderr,
			        "bench-launch: agora-run failed (run it by hand: %s %s %s run "
			        "--bundle %s x)\n",
			        agora, agora_root, cg, bundle);
			return 1;
		}
		if (i >= 0) {
			ta[i] = ms;
			ca[i] = cpu_ms;
		}
		usleep((useconds_t)gap_ms * 1000);
		if (run_quiet(cv, &ms, &cpu_ms, i < 0 ? &ignore : &rss_c) < 0) {
			fprintf(stderr, "bench-launch: crun failed\n");
			return 1;
		}
		if (i >= 0) {
			tc[i] = ms;
			cc[i] = cpu_ms;
		}
	}
	double ma = median(ta, (size_t)runs), mc = median(tc, (size_t)runs);
	double mca = median(ca, (size_t)runs), mcc = median(cc, (size_t)runs);
	printf("case=%c agora_ms=%.2f crun_ms=%.2f ratio=%.3f agora_cpu_ms=%.2f crun_cpu_ms=%.2f "
	       "cpu_ratio=%.3f agora_rss_kb=%ld crun_rss_kb=%ld runs=%d cgroupns=%d\n",
	       which, ma, mc, ma / mc, mca, mcc, mca / mcc, rss_a, rss_c, runs, cgroupns);
	bench_print_machine(stdout);
	free(ta);
	free(tc);
	free(ca);
	free(cc);
	if (state_dir) {
		_cleanup_free_ char *rm = ag_asprintf("rm -rf %s", run_dir);
		if (system(rm) != 0)
			fprintf(stderr, "bench-launch: could not remove %s\n", run_dir);
	}
	/* The tmpfs and its contents go with the mount; the mount point is
	 * the host's directory. */
	if (umount2(dir, MNT_DETACH) < 0 || rmdir(dir) < 0)
		fprintf(stderr, "bench-launch: could not remove %s: %s\n", dir, strerror(errno));
	return 0;
}
