/* issue 12, part 4: a full disk is survived. The real agora-agent with its
 * work directory on a 3 MiB tmpfs (mounted for the test) against the fake
 * master: the tmpfs is filled while a task runs, a new launch is answered
 * TASK_ERROR at once (never left in STAGING), the running task's end is
 * held in memory and /health answers 503 meanwhile; once space is freed
 * the end arrives, /health is 200 and tasks launch again. */
#include "agent_proc.h"
#include "agentd_harness.h"
#include "agtest.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <errno.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static char base[64], work[96], fill[96];
static bool mounted;
static pid_t agent = -1;
static char agent_log[160];
static int op_port;

static void setup(void)
{
	agt_root_dir(base, sizeof(base), "full");
	snprintf(work, sizeof(work), "%s/work", base);
	snprintf(fill, sizeof(fill), "%s/work/fill", base);
	mounted = agt_mount_tmpfs(work, "3m");
	fm.quiet = true;
	cr_assert(fm_start() == 0);
	op_port = ah_free_port();
	snprintf(agent_log, sizeof(agent_log), "%s/agent.log", base);
	agent = ap_start(work, fm.port, op_port, agent_log, NULL);
	cr_assert(agent > 0);
	WAIT_FOR(fm_registers() >= 1, 10);
}

static void teardown(void)
{
	ap_stop(&agent, SIGTERM);
	if (!base[0])
		return;
	ap_kill_monitors(work);
	cr_expect_str_eq(ap_keep_log(work, agent_log, "agent-disk-full.log"), "");
	char cmd[256];
	if (mounted)
		cr_expect(umount2(work, MNT_DETACH) == 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	cr_expect(system(cmd) == 0);
}

TestSuite(agent_disk_full, .init = setup, .fini = teardown, .timeout = 120);

/* Fill the tmpfs to the last byte. */
static void fill_up(void)
{
	agt_fill_up(fill);
}

static int health(char *out, size_t n)
{
	return ah_http_get(op_port, "/health", out, n);
}

/* The message of `task`'s `state`, "" when none arrived. */
static void message_of(const char *task, const char *state, char *out, size_t n)
{
	out[0] = '\0';
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd; i++)
		if (strcmp(fm.upd[i].task, task) == 0 && strcmp(fm.upd[i].state, state) == 0)
			snprintf(out, n, "%s", fm.upd[i].msg);
	pthread_mutex_unlock(&fm.mu);
}

Test(agent_disk_full, launches_are_answered_and_ends_are_held_until_space_returns)
{
	char body[4096], msg[512];
	fm_run_task("t-run", "nobody", "sleep 2", NULL, NULL);
	WAIT_FOR(fm_count("t-run", "TASK_RUNNING") >= 1, 20);
	cr_assert_eq(health(body, sizeof(body)), 200, "%s", body);

	fill_up();
	/* A launch that cannot be recorded is answered at once. */
	fm_run_task("t-new", "nobody", "echo hi", NULL, NULL);
	WAIT_FOR(fm_count("t-new", "TASK_ERROR") >= 1, 10);
	message_of("t-new", "TASK_ERROR", msg, sizeof(msg));
	cr_expect(strstr(msg, "cannot record the task"), "%s", msg);
	cr_expect_eq(health(body, sizeof(body)), 503, "%s", body);
	cr_expect(strstr(body, "\"unhealthy\""), "%s", body);

	/* t-run ends while the disk is full: its end is held, not lost. */
	WAIT_FOR(health(body, sizeof(body)) == 503 && !strstr(body, "\"held_status_updates\": 0") &&
	                 !strstr(body, "\"held_status_updates\":0"),
	         20);
	sleep(1);
	cr_expect_eq(fm_count("t-run", "TASK_FINISHED"), -1, "arrived while the disk was full?");

	cr_assert(unlink(fill) == 0);
	WAIT_FOR(fm_count("t-run", "TASK_FINISHED") >= 1, 15);
	message_of("t-run", "TASK_FINISHED", msg, sizeof(msg));
	cr_expect(strstr(msg, "status 0"), "%s", msg);
	WAIT_FOR(health(body, sizeof(body)) == 200, 10);
	cr_expect(strstr(body, "\"ok\""), "%s", body);

	/* And launches work again. */
	fm_run_task("t-after", "nobody", "true", NULL, NULL);
	WAIT_FOR(fm_count("t-after", "TASK_FINISHED") >= 1, 20);
}
