/* agent-sup-driver: the agent's supervision layer as a process, for tests
 * that SIGKILL it and start it again (and for the vm-guest measurements).
 *
 *   agent-sup-driver --work DIR [--cgroups] [--recover] [--until-idle]
 *       [--keep-ms N] [--launch ID=SHELL]... [--mem BYTES] [--cpus N]
 *       [--kill ID=GRACE_MS]... [--kill-all GRACE_MS] [--kill-after MS]
 *
 * Every task state change is printed as one line and appended (O_APPEND,
 * fsync) to DIR/events.log:
 *   UPDATE <task> <state> <reason|-> status=<n|-> msg=<text>
 * An ID may be FRAMEWORK/TASK (printed so too); a plain ID has the framework "".
 * With --until-idle it exits once no task is active. --kill-after waits
 * that long after the launches before sending the kills.
 */
#include "containerizer/containerizer.h"

#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <string.h>

static int log_fd = -1;

static void on_state(void *ctx, const struct ctz_update *u)
{
	(void)ctx;
	char st[16] = "-";
	if (u->has_exit_status)
		snprintf(st, sizeof(st), "%d", u->exit_status);
	const char *reason = pb_task_reason_name(u->reason);
	char line[2048];
	int n = snprintf(line, sizeof(line), "UPDATE %s%s%s %s %s status=%s msg=%s\n",
	                 u->framework_id, *u->framework_id ? "/" : "", u->task_id,
	                 pb_task_state_name(u->state), reason ? reason : "-", st,
	                 u->message ? u->message : "");
	if (n > (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 1;
	fputs(line, stdout);
	fflush(stdout);
	if (log_fd >= 0) {
		int w = ag_write_all(log_fd, line, (size_t)n);
		if (w < 0)
			fprintf(stderr, "agent-sup-driver: write the log: %s\n", strerror(-w));
		fsync(log_fd);
	}
}

/* "FW/TASK" → FW and TASK (in place); "TASK" → "" and TASK. */
static const char *split_id(char *id, const char **ret_fw)
{
	char *slash = strchr(id, '/');
	if (!slash) {
		*ret_fw = "";
		return id;
	}
	*slash = '\0';
	*ret_fw = id;
	return slash + 1;
}

/* Appends `v` to `arr` (room for `cap`) holding `n`, unless it is full; the
 * new count. */
static size_t append(const char **arr, size_t cap, size_t n, const char *v)
{
	if (n < cap)
		arr[n++] = v;
	return n;
}

int main(int argc, char **argv)
{
	const char *work = NULL;
	bool cgroups = false, recover = false, until_idle = false;
	int64_t keep_ms = 0, kill_after = 0, kill_all = -1;
	const char *launches[64], *kills[64];
	size_t nl = 0, nk = 0;
	struct ctz_ts_limits lim = {0};
	static const struct option opts[] = {
	        {"work", required_argument, NULL, 'w'},
	        {"cgroups", no_argument, NULL, 'c'},
	        {"recover", no_argument, NULL, 'r'},
	        {"until-idle", no_argument, NULL, 'u'},
	        {"keep-ms", required_argument, NULL, 'k'},
	        {"launch", required_argument, NULL, 'l'},
	        {"mem", required_argument, NULL, 'm'},
	        {"cpus", required_argument, NULL, 'p'},
	        {"kill", required_argument, NULL, 'K'},
	        {"kill-after", required_argument, NULL, 'a'},
	        {"kill-all", required_argument, NULL, 'A'},
	        {0},
	};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'w':
			work = optarg;
			break;
		case 'c':
			cgroups = true;
			break;
		case 'r':
			recover = true;
			break;
		case 'u':
			until_idle = true;
			break;
		case 'k':
			keep_ms = atoll(optarg);
			break;
		case 'l':
			nl = append(launches, AG_ARRAY_SIZE(launches), nl, optarg);
			break;
		case 'm':
			lim.mem_bytes = strtoull(optarg, NULL, 10);
			break;
		case 'p':
			lim.cpus = atof(optarg);
			break;
		case 'K':
			nk = append(kills, AG_ARRAY_SIZE(kills), nk, optarg);
			break;
		case 'a':
			kill_after = atoll(optarg);
			break;
		case 'A':
			kill_all = atoll(optarg);
			break;
		default:
			return 2;
		}
	}
	if (!work) {
		fprintf(stderr, "agent-sup-driver: --work DIR is required\n");
		return 2;
	}
	struct ctz_config cfg = {
	        .work_dir = work,
	        .cgroups_disabled = !cgroups,
	        .sandbox_keep_ms = keep_ms,
	        .on_task_state = on_state,
	};
	struct ag_error err = {0};
	struct ctz *c = NULL;
	if (ctz_open(&cfg, &c, &err) < 0) {
		fprintf(stderr, "agent-sup-driver: %s\n", err.msg);
		return 1;
	}
	_cleanup_free_ char *logp = ag_asprintf("%s/events.log", work);
	log_fd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (recover && ctz_recover(c, NULL, &err) < 0) {
		fprintf(stderr, "agent-sup-driver: recover: %s\n", err.msg);
		return 1;
	}
	for (size_t i = 0; i < nl; i++) {
		_cleanup_free_ char *id = ag_strdup(launches[i]);
		char *eq = strchr(id, '=');
		if (!eq)
			return 2;
		*eq = '\0';
		struct ctz_ts_command cmd = {.shell = eq + 1};
		const char *fw = NULL, *tid = split_id(id, &fw);
		struct ctz_task t = {
		        .framework_id = fw, .task_id = tid, .command = &cmd, .limits = lim};
		uint64_t t0 = ag_now_ns();
		if (ctz_launch(c, &t, NULL, &err) < 0) {
			fprintf(stderr, "agent-sup-driver: launch %s: %s\n", id, err.msg);
			return 1;
		}
		printf("LAUNCHED %s ms=%.1f monitor=%d\n", tid, (double)(ag_now_ns() - t0) / 1e6,
		       (int)ctz_monitor_pid(c, fw, tid));
		fflush(stdout);
	}
	if ((nk || kill_all >= 0) && kill_after > 0)
		poll(NULL, 0, (int)kill_after);
	for (size_t i = 0; kill_all >= 0 && i < nl; i++) {
		_cleanup_free_ char *id = ag_strdup(launches[i]);
		*strchr(id, '=') = '\0';
		const char *fw = NULL, *tid = split_id(id, &fw);
		int r = ctz_kill(c, fw, tid, kill_all);
		if (r < 0 && r != -ENOENT) /* -ENOENT: ended already */
			fprintf(stderr, "agent-sup-driver: kill %s: %s\n", id, strerror(-r));
	}
	for (size_t i = 0; i < nk; i++) {
		_cleanup_free_ char *id = ag_strdup(kills[i]);
		char *eq = strchr(id, '=');
		if (!eq)
			return 2;
		*eq = '\0';
		const char *fw = NULL, *tid = split_id(id, &fw);
		if (ctz_kill(c, fw, tid, atoll(eq + 1)) < 0)
			fprintf(stderr, "agent-sup-driver: kill %s: no such task\n", id);
	}
	for (;;) {
		if (until_idle && ctz_active(c) == 0)
			break;
		struct pollfd p = {.fd = ctz_fd(c), .events = POLLIN};
		if (poll(&p, 1, 1000) > 0 && ctz_dispatch(c) < 0)
			return 1;
	}
	AG_IGNORE_RESULT(ctz_gc(c, -1)); /* how many: not needed */
	ctz_close(c);
	return 0;
}
