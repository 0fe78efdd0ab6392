/* A kill whose deadline cannot be recorded (the work directory's disk is
 * full) does not wait for a grace period that would not survive a restart:
 * the containerizer in-process, its work directory on a 3 MiB tmpfs
 * mounted for the test, a real task under its agora-monitor. Before, the
 * failed state write was dropped: ctz_kill answered 0, sent the SIGTERM
 * that the task ignores, and the task ran on for the whole grace (and for
 * good, had the agent been killed meanwhile: its record said "running"). */
#include "agtest.h"
#include "common/common.h"
#include "containerizer/containerizer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static char base[64], work[96], fill[96];
static bool mounted;
static struct ctz *ctz;
static enum pb_task_state last = PB_TASK_STAGING;
static int n_updates;

static void on_state(void *ctx, const struct ctz_update *u)
{
	(void)ctx;
	last = u->state;
	n_updates++;
}

static void setup(void)
{
	agt_root_dir(base, sizeof(base), "ctzfull");
	snprintf(work, sizeof(work), "%s/work", base);
	snprintf(fill, sizeof(fill), "%s/work/fill", base);
	mounted = agt_mount_tmpfs(work, "3m");
	struct ctz_config cfg = {
	        .work_dir = work,
	        .monitor_path = AGORA_BIN_DIR "/agora-monitor",
	        .cgroups_disabled = true,
	        .on_task_state = on_state,
	};
	struct ag_error err = {0};
	cr_assert(ctz_open(&cfg, &ctz, &err) == 0, "%s", err.msg);
}

static void teardown(void)
{
	if (ctz) {
		pid_t m = ctz_monitor_pid(ctz, NULL, "t");
		AG_IGNORE_RESULT(ctz_kill(ctz, NULL, "t", 0)); /* whatever is left */
		for (int i = 0; m > 0 && i < 250 && kill(m, 0) == 0; i++)
			usleep(20000);
		ctz_close(ctz);
	}
	if (mounted)
		cr_expect(umount2(work, MNT_DETACH) == 0);
	if (base[0]) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
		cr_expect(system(cmd) == 0);
	}
}

TestSuite(ctz_kill_unrecorded, .init = setup, .fini = teardown, .timeout = 60);

/* Fill the tmpfs to the last byte. */
static void fill_up(void)
{
	agt_fill_up(fill);
}

Test(ctz_kill_unrecorded, a_kill_that_cannot_be_recorded_kills_at_once)
{
	/* A task that ignores SIGTERM: only the SIGKILL at the end of the
	 * grace (or at once) ends it. */
	struct ctz_ts_command cmd = {.shell = "trap '' TERM; while :; do sleep 1; done"};
	struct ctz_task t = {.task_id = "t", .command = &cmd};
	struct ag_error err = {0};
	cr_assert(ctz_launch(ctz, &t, NULL, &err) == 0, "%s", err.msg);
	cr_assert_eq(last, PB_TASK_RUNNING);

	fill_up();
	int r = ctz_kill(ctz, NULL, "t", 60 * 1000);
	cr_expect_eq(r, -ENOSPC, "ctz_kill: %d (%s)", r, strerror(-r));
	/* The monitor needs room for the task's exit status. */
	cr_assert(unlink(fill) == 0);

	/* Ended within seconds, not after the minute of grace. */
	for (int i = 0;
	     i < 100 && !(n_updates && last != PB_TASK_RUNNING && last != PB_TASK_KILLING); i++) {
		struct pollfd p = {.fd = ctz_fd(ctz), .events = POLLIN};
		if (poll(&p, 1, 100) > 0)
			cr_assert(ctz_dispatch(ctz) >= 0);
	}
	cr_assert(last == PB_TASK_KILLED || last == PB_TASK_LOST,
	          "the task is still %s 10 s after a kill whose grace could not be recorded",
	          pb_task_state_name(last));
}
