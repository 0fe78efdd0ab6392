/* bench-checks: what health checks cost the agent. The agent's own check
 * runner (agent/checks.c) on a libevent loop, as agora-agent runs it, with
 * N tasks each checked every `interval` seconds, their first runs spread
 * over the first interval as tasks launched at different times would be:
 *
 *   build/bin/bench-checks [--tasks N] [--seconds S] [--interval I]
 *                          [--command K]
 *
 *   tcp_cpu_pct, http_cpu_pct  the loop's CPU time (user + system, this
 *                         process: the agent's side alone) over S seconds
 *                         of TCP, then HTTP, checks of N tasks, in percent
 *                         of one core; *_us_per_run that per check run.
 *                         The answering side is a child process, one
 *                         listening socket per task on 127.0.0.1 (where
 *                         tasks are reached today: CTZ_CHECK_TARGET_IPV4),
 *                         not counted: it is the tasks' work.
 *   command_*             K real containers (the containerizer, no
 *                         cgroups, as the host tests run it) each with a
 *                         COMMAND check `true` every `interval`: the
 *                         agent's CPU per run (the exec: open the
 *                         container's state, clone into its namespaces)
 *                         and the check process's own (reaped children:
 *                         setup in the container, then `true`).
 *
 *
 *   build/bin/bench-checks --agent tcp|http [--tasks N] [--seconds S]
 *
 *   agent_cpu_pct          the whole agora-agent (the real daemon, without
 *                         isolation, driven by the fake master of
 *                         tests/lib/agentd_harness.c) running N tasks
 *                         (`sleep`, each a container with its monitor and
 *                         init) each with a TCP or HTTP health check every
 *                         `interval`: its CPU time (utime + stime from
 *                         /proc/<pid>/stat) over S seconds once every task
 *                         reported healthy, in percent of one core;
 *                         agent_idle_cpu_pct the same before the checks
 *                         start (delay_seconds past the launches).
 *
 * Prints one line of figures and the machine line (bench/machine.h). */
#include "agent/checks.h"
#include "agent_proc.h"
#include "agentd_harness.h"
#include "bench/machine.h"
#include "common/common.h"
#include "containerizer/checks.h"
#include "containerizer/containerizer.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* What --agent started, stopped by die() too. */
static pid_t agent_pid = -1;
static char agent_work[64];

/* Without isolation a task outlives its monitor: SIGKILL the pid 1 of
 * every container whose mounts come from `work` (this run's tasks only). */
static void kill_tasks(const char *work)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		int pid = atoi(de->d_name);
		if (pid <= 1 || pid == getpid())
			continue;
		char path[64], comm[64] = "";
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
		if (strncmp(comm, "agora-init", 10) != 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/mountinfo", pid);
		_cleanup_free_ char *cmd = ag_asprintf("grep -qF -- '%s/' %s", work, path);
		if (system(cmd) == 0)
			kill(pid, SIGKILL);
	}
	if (d)
		closedir(d);
}

__attribute__((format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	if (agent_pid > 0) {
		ap_stop(&agent_pid, SIGTERM);
		ap_kill_monitors(agent_work);
		kill_tasks(agent_work);
	}
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "bench-checks: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double cpu_s(int who)
{
	struct rusage ru;
	getrusage(who, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- the answering side ------------------------------------------------------ */

/* n listening sockets on 127.0.0.1 (ports in ports[]) served by a child:
 * each connection is read once (the request, for HTTP) and answered 200. */
static pid_t serve(int n, uint16_t *ports)
{
	int *fds = ag_calloc((size_t)n, sizeof(*fds));
	for (int i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		struct sockaddr_in sa = {.sin_family = AF_INET,
		                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t sl = sizeof(sa);
		if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    listen(fds[i], 64) < 0 || getsockname(fds[i], (struct sockaddr *)&sa, &sl) < 0)
			die("listen on 127.0.0.1: %s (socket %d of %d)", strerror(errno), i, n);
		ports[i] = ntohs(sa.sin_port);
	}
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid > 0) {
		for (int i = 0; i < n; i++)
			close(fds[i]);
		free(fds);
		return pid;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	for (int i = 0; i < n; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)fds[i] << 1};
		epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
	}
	static const char ok[] =
	        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
	for (;;) {
		struct epoll_event evs[64];
		int k = epoll_wait(ep, evs, 64, -1);
		for (int i = 0; i < k; i++) {
			int fd = (int)(evs[i].data.u64 >> 1);
			if (!(evs[i].data.u64 & 1)) {
				int c;
				while ((c = accept4(fd, NULL, NULL,
				                    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP,
					                         .data.u64 = (uint64_t)c << 1 | 1};
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				}
				continue;
			}
			char buf[2048];
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r > 0 && memmem(buf, (size_t)r, "\r\n\r\n", 4))
				AG_IGNORE_RESULT(write(fd, ok, sizeof(ok) - 1));
			if (r > 0 && !memmem(buf, (size_t)r, "\r\n\r\n", 4))
				continue;
			close(fd); /* answered, or the TCP check closed first */
		}
	}
}

/* ---- the checker ------------------------------------------------------------- */

struct counts {
	uint64_t reports, unhealthy;
	struct ctz *ctz;
};

static void on_report(void *ctx, const struct agent_check_report *r)
{
	struct counts *c = ctx;
	c->reports++;
	if (r->has_healthy && !r->healthy) {
		c->unhealthy++;
		if (c->unhealthy < 5)
			fprintf(stderr, "bench-checks: task %s unhealthy: %s\n", r->task_id,
			        r->why ? r->why : "?");
	}
}

static int on_exec(void *ctx, const char *fw, const char *task, char *const *argv, char *const *env,
                   int stdio_fd, int *ret_pidfd, pid_t *ret_pid, struct ag_error *err)
{
	struct counts *c = ctx;
	return ctz_exec(c->ctz, fw, task, argv, env, stdio_fd, ret_pidfd, ret_pid, err);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

/* Run the loop for `secs` seconds. */
static void run_for(struct event_base *base, double secs)
{
	struct event *stop = evtimer_new(base, on_stop, base);
	struct timeval tv = {(time_t)secs, (suseconds_t)((secs - (double)(time_t)secs) * 1e6)};
	evtimer_add(stop, &tv);
	event_base_dispatch(base);
	event_free(stop);
}

/* A TaskInfo with the health check `hc` (JSON text). */
static json_t *task_info(const char *hc)
{
	json_error_t je;
	json_t *hcj = json_loads(hc, 0, &je);
	if (!hcj)
		die("health check JSON: %s", je.text);
	return json_pack("{s:o}", "health_check", hcj);
}

struct figures {
	double cpu_pct, us_per_run, child_us_per_run, runs_per_s;
};

/* N tasks with the health check of type `type` (TCP, HTTP or COMMAND), for
 * `secs` seconds after a warm-up of one interval. */
static struct figures measure(const char *type, int n, const uint16_t *ports, double interval,
                              double secs, struct ctz *ctz)
{
	struct event_base *base = event_base_new();
	struct counts cnt = {.ctz = ctz};
	struct agent_checks_ops ops = {on_exec, on_report};
	struct agent_checks *ch = agent_checks_new(base, &ops, &cnt);
	srand(42);
	for (int i = 0; i < n; i++) {
		char hc[512], id[32];
		double delay = interval * (double)rand() / RAND_MAX;
		if (strcmp(type, "COMMAND") == 0)
			snprintf(hc, sizeof(hc),
			         "{\"type\":\"COMMAND\",\"command\":{\"value\":\"true\",\"shell\":"
			         "false,"
			         "\"arguments\":[\"true\"]},\"delay_seconds\":%.3f,"
			         "\"interval_seconds\":%g,\"timeout_seconds\":10,"
			         "\"grace_period_seconds\":0,\"consecutive_failures\":1000000}",
			         delay, interval);
		else
			snprintf(hc, sizeof(hc),
			         "{\"type\":\"%s\",\"%s\":{\"port\":%u},\"delay_seconds\":%.3f,"
			         "\"interval_seconds\":%g,\"timeout_seconds\":10,"
			         "\"grace_period_seconds\":0,\"consecutive_failures\":1000000}",
			         type, strcmp(type, "TCP") == 0 ? "tcp" : "http", ports[i], delay,
			         interval);
		snprintf(id, sizeof(id), "t%d", i);
		json_t *ti = task_info(hc);
		struct ag_error err = {0};
		if (agent_checks_start(ch, "F0", id, ti, NULL, &err) < 0)
			die("%s", err.msg);
		json_decref(ti);
	}
	run_for(base, interval + 0.5);
	uint64_t runs0 = agent_checks_runs(ch);
	double c0 = cpu_s(RUSAGE_SELF), k0 = cpu_s(RUSAGE_CHILDREN), t0 = (double)ag_now_ns();
	run_for(base, secs);
	double c1 = cpu_s(RUSAGE_SELF), k1 = cpu_s(RUSAGE_CHILDREN), t1 = (double)ag_now_ns();
	uint64_t runs = agent_checks_runs(ch) - runs0;
	if (cnt.unhealthy)
		die("%s: %llu unhealthy verdicts: the figures would not be of healthy checks", type,
		    (unsigned long long)cnt.unhealthy);
	agent_checks_free(ch);
	event_base_free(base);
	double wall = (t1 - t0) / 1e9;
	struct figures f = {
	        .cpu_pct = (c1 - c0) / wall * 100.0,
	        .us_per_run = runs ? (c1 - c0) / (double)runs * 1e6 : 0,
	        .child_us_per_run = runs ? (k1 - k0) / (double)runs * 1e6 : 0,
	        .runs_per_s = (double)runs / wall,
	};
	return f;
}

/* ---- COMMAND: real containers ------------------------------------------------ */

static void on_state(void *ctx, const struct ctz_update *u)
{
	(void)ctx;
	(void)u;
}

static struct ctz *containers(const char *work, int k)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		die("readlink /proc/self/exe: %s", strerror(errno));
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	_cleanup_free_ char *monitor = ag_asprintf("%s/agora-monitor", self);
	struct ctz_config cfg = {
	        .work_dir = work,
	        .monitor_path = monitor,
	        .cgroups_disabled = true,
	        .on_task_state = on_state,
	};
	struct ctz *c = NULL;
	struct ag_error err = {0};
	if (ctz_open(&cfg, &c, &err) < 0)
		die("%s", err.msg);
	struct passwd *pw = getpwnam("nobody");
	if (!pw)
		die("no user nobody");
	for (int i = 0; i < k; i++) {
		char id[32];
		snprintf(id, sizeof(id), "t%d", i);
		struct ctz_ts_command cmd = {
		        .shell = "sleep 1000", .uid = pw->pw_uid, .gid = pw->pw_gid};
		struct ctz_task t = {.framework_id = "F0", .task_id = id, .command = &cmd};
		if (ctz_launch(c, &t, NULL, &err) < 0)
			die("launch %s: %s", id, err.msg);
	}
	return c;
}

static void containers_end(struct ctz *c, int k)
{
	for (int i = 0; i < k; i++) {
		char id[32];
		snprintf(id, sizeof(id), "t%d", i);
		AG_IGNORE_RESULT(ctz_kill(c, "F0", id, 0));
	}
	uint64_t end = ag_now_ns() + 10ULL * 1000000000;
	while (ctz_active(c) && ag_now_ns() < end) {
		struct pollfd pf = {.fd = ctz_fd(c), .events = POLLIN};
		poll(&pf, 1, 100);
		AG_IGNORE_RESULT(ctz_dispatch(c));
	}
	ctz_close(c);
}

/* ---- the whole agent --------------------------------------------------------- */

/* utime + stime of `pid` in seconds. */
static double proc_cpu_s(pid_t pid)
{
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		die("%s: %s", path, strerror(errno));
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	unsigned long long ut = 0, st = 0;
	/* after ")": state ppid pgrp session tty tpgid flags minflt cminflt
	 * majflt cmajflt utime stime */
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		die("%s: cannot read utime and stime", path);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Tasks of the fake master with an update in `state` and, when `healthy`,
 * healthy=true. */
static int count_updates(const char *state, bool healthy)
{
	int k = 0;
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd; i++)
		k += strcmp(fm.upd[i].state, state) == 0 &&
		     (!healthy || strcmp(fm.upd[i].healthy, "true") == 0);
	pthread_mutex_unlock(&fm.mu);
	return k;
}

static void wait_updates(const char *state, bool healthy, int n, double secs)
{
	uint64_t end = ag_now_ns() + (uint64_t)(secs * 1e9);
	while (count_updates(state, healthy) < n) {
		if (count_updates("TASK_FAILED", false) || count_updates("TASK_ERROR", false))
			die("tasks failed (see the agent's log)");
		if (ag_now_ns() > end)
			die("only %d of %d tasks %s%s after %.0f s", count_updates(state, healthy),
			    n, state, healthy ? " and healthy" : "", secs);
		usleep(100000);
	}
}

static void whole_agent(const char *type, int n, double interval, double secs)
{
	if (strcmp(type, "tcp") != 0 && strcmp(type, "http") != 0)
		die("--agent tcp or --agent http");
	if (n + 10 > FM_MAX_UPDATES / 3)
		die("--tasks: at most %d with --agent (the fake master keeps %d updates)",
		    FM_MAX_UPDATES / 3 - 10, FM_MAX_UPDATES);
	uint16_t *ports = ag_calloc((size_t)n, sizeof(*ports));
	pid_t server = serve(n, ports);
	fm.ack_first = true;
	fm.quiet = true;
	if (fm_start() < 0)
		die("fake master: cannot listen");
	char *work = agent_work;
	snprintf(agent_work, sizeof(agent_work), "/tmp/bench-checks-agent-XXXXXX");
	if (!mkdtemp(work))
		die("mkdtemp: %s", strerror(errno));
	char log[96];
	snprintf(log, sizeof(log), "%s.log", work);
	int op_port = ah_free_port();
	pid_t agent = agent_pid = ap_start(work, fm.port, op_port, log, NULL);
	if (agent <= 0)
		die("cannot start agora-agent (AGORA_BUILD_DIR=%s)",
		    getenv("AGORA_BUILD_DIR") ? getenv("AGORA_BUILD_DIR") : "build");
	uint64_t end = ag_now_ns() + 20ULL * 1000000000;
	while (fm_registers() < 1 && ag_now_ns() < end)
		usleep(50000);
	if (fm_registers() < 1)
		die("the agent did not register (its log: %s)", log);
	/* The checks start once every task is launched and a quiet window
	 * is measured: delay_seconds past the launches, estimated from a
	 * first 10 tasks without checks (not counted in N). */
	double t_launch = ah_now_s();
	for (int i = 0; i < 10; i++) {
		char id[32];
		snprintf(id, sizeof(id), "w%d", i);
		fm_run_task(id, "nobody", "sleep 3600", NULL, NULL);
	}
	wait_updates("TASK_RUNNING", false, 10, 120);
	double per = (ah_now_s() - t_launch) / 10;
	double start_at = ah_now_s() + 30 + per * n * 1.5 + secs;
	for (int i = 0; i < n; i++) {
		char id[32], extra[512];
		/* The fake master queues FM_MAX_PENDING records at most. */
		while (10 + i - count_updates("TASK_STARTING", false) > FM_MAX_PENDING / 2)
			usleep(20000);
		snprintf(id, sizeof(id), "t%d", i);
		snprintf(extra, sizeof(extra),
		         ",\"health_check\":{\"type\":\"%s\",\"%s\":{\"port\":%u},"
		         "\"delay_seconds\":%.3f,\"interval_seconds\":%g,\"timeout_seconds\":10,"
		         "\"grace_period_seconds\":0,\"consecutive_failures\":1000000}",
		         strcmp(type, "tcp") == 0 ? "TCP" : "HTTP", type, ports[i],
		         start_at - ah_now_s() + interval * (double)i / n, interval);
		fm_run_task(id, "nobody", "sleep 3600", NULL, extra);
	}
	double delay = start_at - t_launch;
	wait_updates("TASK_RUNNING", false, n + 10, start_at - ah_now_s() - secs - 1);
	double launched_s = ah_now_s() - t_launch;
	double left = t_launch + delay - ah_now_s();
	if (left < secs + 2)
		die("the launches took %.0f s: no quiet window left before the checks", launched_s);
	sleep(1);
	double i0 = proc_cpu_s(agent), w0 = ah_now_s();
	usleep((useconds_t)(secs * 1e6));
	double idle_pct = (proc_cpu_s(agent) - i0) / (ah_now_s() - w0) * 100.0;
	/* The first verdicts of all tasks at once: one durable (fsync'ed)
	 * update each, and the last launched tasks' checks start later. */
	wait_updates("TASK_RUNNING", true, n, left + interval + 600);
	sleep(2);
	double c0 = proc_cpu_s(agent), t0 = ah_now_s();
	usleep((useconds_t)(secs * 1e6));
	double pct = (proc_cpu_s(agent) - c0) / (ah_now_s() - t0) * 100.0;
	int unhealthy = 0;
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd; i++)
		unhealthy += strcmp(fm.upd[i].healthy, "false") == 0;
	pthread_mutex_unlock(&fm.mu);
	printf("agent tasks=%d type=%s interval_s=%g seconds=%g launch_s=%.0f "
	       "agent_idle_cpu_pct=%.2f agent_cpu_pct=%.2f unhealthy_updates=%d\n",
	       n, type, interval, secs, launched_s, idle_pct, pct, unhealthy);
	ap_stop(&agent_pid, SIGTERM);
	ap_kill_monitors(work);
	kill_tasks(work);
	kill(server, SIGKILL);
	waitpid(server, NULL, 0);
	char rm[256];
	snprintf(rm, sizeof(rm), "rm -rf %s %s", work, log);
	AG_IGNORE_RESULT(system(rm));
	free(ports);
	bench_print_machine(stdout);
}

int main(int argc, char **argv)
{
	const char *agent_type = NULL;
	int n = 1000, k = 20;
	double secs = 20, interval = 1;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--tasks") == 0)
			n = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--seconds") == 0)
			secs = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--interval") == 0)
			interval = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--command") == 0)
			k = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--agent") == 0)
			agent_type = argv[i + 1];
		else
			die("usage: bench-checks [--tasks N] [--seconds S] [--interval I] "
			    "[--command K] [--agent tcp|http]");
	}
	if (n <= 0 || secs <= 0 || interval <= 0 || k < 0)
		die("--tasks, --seconds and --interval must be > 0, --command >= 0");
	signal(SIGPIPE, SIG_IGN);
	/* A socket per task here and in the server, and the connections. */
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rlim_t want = (rlim_t)n * 3 + 256;
	if (rl.rlim_cur < want) { /* raised, never lowered: the agent inherits it */
		rl.rlim_cur = want;
		if (rl.rlim_max < want)
			rl.rlim_max = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			die("RLIMIT_NOFILE %llu: %s", (unsigned long long)want, strerror(errno));
	}
	if (agent_type) {
		whole_agent(agent_type, n, interval, secs);
		return 0;
	}
	uint16_t *ports = ag_calloc((size_t)n, sizeof(*ports));
	pid_t server = serve(n, ports);
	struct figures tcp = measure("TCP", n, ports, interval, secs, NULL);
	struct figures http = measure("HTTP", n, ports, interval, secs, NULL);
	kill(server, SIGKILL);
	waitpid(server, NULL, 0);
	printf("tasks=%d interval_s=%g seconds=%g tcp_cpu_pct=%.2f tcp_us_per_run=%.1f "
	       "tcp_runs_per_s=%.0f http_cpu_pct=%.2f http_us_per_run=%.1f http_runs_per_s=%.0f",
	       n, interval, secs, tcp.cpu_pct, tcp.us_per_run, tcp.runs_per_s, http.cpu_pct,
	       http.us_per_run, http.runs_per_s);
	if (k > 0) {
		if (geteuid() != 0)
			die("COMMAND checks need root (containers): --command 0 to skip them");
		char work[] = "/tmp/bench-checks-XXXXXX";
		if (!mkdtemp(work))
			die("mkdtemp: %s", strerror(errno));
		struct ctz *c = containers(work, k);
		struct figures cmd = measure("COMMAND", k, NULL, interval, secs, c);
		containers_end(c, k);
		char rm[128];
		snprintf(rm, sizeof(rm), "rm -rf %s", work);
		AG_IGNORE_RESULT(system(rm));
		printf(" command_tasks=%d command_cpu_pct=%.2f command_agent_us_per_run=%.0f "
		       "command_child_us_per_run=%.0f command_runs_per_s=%.1f",
		       k, cmd.cpu_pct, cmd.us_per_run, cmd.child_us_per_run, cmd.runs_per_s);
	}
	printf("\n");
	bench_print_machine(stdout);
	free(ports);
	return 0;
}
