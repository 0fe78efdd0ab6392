/* TASK_RUNNING is recorded before it is reported: when the containerizer
 * reports it, the task's record already says "running". Before, the
 * record still said "starting" while RUNNING went out, so an agent
 * SIGKILLed in between whose monitor also died reported TASK_LOST
 * "whether it ran is unknown" for a task the master had seen running.
 *
 * The containerizer in-process (cgroups disabled), a real task under its
 * agora-monitor; the callback reads the record as it is called. Then the
 * crash the record is for: the containerizer is closed (the agent gone),
 * the monitor and the task are SIGKILLed (no exit status recorded), and a
 * new containerizer recovers: the task is lost as one that ran. */
#include "agtest.h"
#include "common/common.h"
#include "containerizer/containerizer.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char base[64], work[96];
static struct ctz *ctz;
static char phase_at_running[32];
static struct {
	enum pb_task_state state;
	enum pb_task_reason reason;
	char message[512];
} last;

static void on_state(void *ctx, const struct ctz_update *u)
{
	(void)ctx;
	last.state = u->state;
	last.reason = u->reason;
	snprintf(last.message, sizeof(last.message), "%s", u->message ? u->message : "");
	if (u->state != PB_TASK_RUNNING)
		return;
	_cleanup_free_ char *path = ag_asprintf("%s/run/%s/state", work, u->container_id);
	_cleanup_free_ char *text = NULL;
	cr_assert_eq(ag_read_file_at(AT_FDCWD, path, 4096, &text, NULL), 0, "read %s", path);
	const char *p = strstr(text, "phase=");
	cr_assert_not_null(p, "%s: %s", path, text);
	snprintf(phase_at_running, sizeof(phase_at_running), "%.*s", (int)strcspn(p + 6, "\n"),
	         p + 6);
}

static void open_ctz(void)
{
	struct ctz_config cfg = {
	        .work_dir = work,
	        .monitor_path = AGORA_BIN_DIR "/agora-monitor",
	        .cgroups_disabled = true,
	        .on_task_state = on_state,
	};
	struct ag_error err = {0};
	cr_assert(ctz_open(&cfg, &ctz, &err) == 0, "%s", err.msg);
}

static void setup(void)
{
	agt_root_dir(base, sizeof(base), "ctzrun");
	snprintf(work, sizeof(work), "%s/work", base);
	open_ctz();
}

static void teardown(void)
{
	if (ctz) {
		pid_t m = ctz_monitor_pid(ctz, NULL, "t");
		AG_IGNORE_RESULT(ctz_kill(ctz, NULL, "t", 0));
		for (int i = 0; m > 0 && i < 250 && kill(m, 0) == 0; i++)
			usleep(20000);
		ctz_close(ctz);
	}
	if (base[0]) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
		cr_expect(system(cmd) == 0);
	}
}

TestSuite(ctz_running_recorded, .init = setup, .fini = teardown, .timeout = 60);

Test(ctz_running_recorded, running_is_on_disk_before_it_is_reported)
{
	struct ctz_ts_command cmd = {.shell = "exec sleep 60"};
	struct ctz_task t = {.task_id = "t", .command = &cmd};
	struct ag_error err = {0};
	cr_assert(ctz_launch(ctz, &t, NULL, &err) == 0, "%s", err.msg);
	cr_assert_eq(last.state, PB_TASK_RUNNING);
	cr_assert_str_eq(phase_at_running, "running",
	                 "the record said `%s` when TASK_RUNNING was reported", phase_at_running);

	/* The agent dies, and so do the monitor and the task, before any
	 * exit status is written. */
	pid_t m = ctz_monitor_pid(ctz, NULL, "t");
	cr_assert_gt(m, 0);
	ctz_close(ctz);
	ctz = NULL;
	_cleanup_free_ char *kids = ag_asprintf("/proc/%d/task/%d/children", m, m);
	_cleanup_free_ char *list = NULL;
	AG_IGNORE_RESULT(ag_read_file_at(AT_FDCWD, kids, 4096, &list, NULL));
	cr_assert_eq(kill(m, SIGKILL), 0);
	for (char *p = list; p && *p;) {
		char *end;
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		kill((pid_t)pid, SIGKILL);
		p = end;
	}
	/* The monitor is this process's child (the containerizer forked
	 * it): reaped here, as init would reap it for a dead agent. */
	cr_assert_eq(waitpid(m, NULL, 0), m);

	open_ctz();
	struct ctz_recovery n = {0};
	cr_assert(ctz_recover(ctz, &n, &err) == 0, "%s", err.msg);
	cr_assert_eq(n.lost, 1);
	cr_assert_eq(last.state, PB_TASK_LOST);
	cr_assert_eq(last.reason, PB_REASON_EXECUTOR_TERMINATED, "reason %d: %s", last.reason,
	             last.message);
	cr_assert_null(strstr(last.message, "whether it ran"), "%s", last.message);
}
