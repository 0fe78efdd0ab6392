/* issue 12, part 3: what ran is never reported as never started. The real
 * agora-agent against the fake master (tests/lib/agentd_harness.c) is sent
 * one task at a time and SIGKILLed 0-50 ms (at random) after a moment of
 * that launch, chosen at random too: the launch began (its sandbox was
 * made), or its container was created (the runtime's state.json), so that
 * kills fall before the record, during the spawn, around the start and
 * after it however slow the host is; then it is started again. 200
 * launches. Each task's command writes "RAN <id>" to its sandbox's stdout
 * first, so its runs are counted from the sandboxes: no task may run twice,
 * none reported as never started (or never launched) may have run, and
 * each that ran ends TASK_FINISHED. AGORA_SEED=N replays one sequence. */
#include "agent_proc.h"
#include "agentd_harness.h"
#include "agtest.h"

#include <dirent.h>
#include <glob.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static char work[64];
static pid_t agent = -1;
static int op_port;

static void start(void)
{
	int before = fm_registers();
	agent = ap_start(work, fm.port, op_port, NULL, NULL);
	cr_assert(agent > 0);
	for (int i = 0; i < 200 && fm_registers() == before; i++)
		usleep(25000);
	cr_assert(fm_registers() > before, "the agent did not register again");
}

static void setup(void)
{
	agt_root_dir(work, sizeof(work), "lkill");
	fm.quiet = true;
	cr_assert(fm_start() == 0);
	op_port = ah_free_port();
	start();
}

static void teardown(void)
{
	ap_stop(&agent, SIGTERM);
	if (!work[0])
		return;
	ap_kill_monitors(work);
	cr_expect_str_eq(ap_keep_log(work, NULL, NULL), "");
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s.log", work, work);
	cr_expect(system(cmd) == 0);
}

TestSuite(agent_launch_kill, .init = setup, .fini = teardown, .timeout = 280);

#define ROUNDS    200
#define PER_ROUND 1
#define TASKS     (ROUNDS * PER_ROUND)

/* How many lines "RAN <id>" all sandboxes' stdout files hold. */
static int runs_of(const char *id, const char *const *texts, size_t n)
{
	char line[96];
	snprintf(line, sizeof(line), "RAN %s\n", id);
	int k = 0;
	for (size_t i = 0; i < n; i++)
		for (const char *p = texts[i]; (p = strstr(p, line)); p += strlen(line))
			if (p == texts[i] || p[-1] == '\n')
				k++;
	return k;
}

/* The names in <work>/sandboxes, one string "\nA\nB\n...\n"; free it. */
static char *sandboxes(void)
{
	char dir[128];
	snprintf(dir, sizeof(dir), "%s/sandboxes", work);
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	fputc('\n', m);
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			fprintf(m, "%s\n", de->d_name);
	if (d)
		closedir(d);
	fclose(m);
	return text;
}

/* A sandbox not in `before` (as from sandboxes()), or NULL; free it. */
static char *new_sandbox(const char *before)
{
	char *now = sandboxes(), *found = NULL;
	for (char *p = now + 1, *nl; !found && (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = '\0';
		char key[300];
		snprintf(key, sizeof(key), "\n%s\n", p);
		if (!strstr(before, key))
			found = strdup(p);
	}
	free(now);
	return found;
}

/* Waits (1 ms polls, at most 10 s) until a launch began (a sandbox not in
 * `before`), or with `created` until its container exists. */
static bool wait_for_launch(const char *before, bool created)
{
	double end = ah_now_s() + 10;
	while (ah_now_s() < end) {
		char *cid = new_sandbox(before);
		bool ok = cid != NULL;
		if (ok && created) {
			/* A task that ends at once may have had its container
			 * created and deleted between two polls on a loaded
			 * machine: output in its sandbox says it was created. */
			char p[256];
			struct stat st;
			snprintf(p, sizeof(p), "%s/runtime/%s/state.json", work, cid);
			ok = access(p, F_OK) == 0;
			snprintf(p, sizeof(p), "%s/sandboxes/%s/stdout", work, cid);
			ok = ok || (stat(p, &st) == 0 && st.st_size > 0);
		}
		free(cid);
		if (ok)
			return true;
		usleep(1000);
	}
	return false;
}

static bool terminal(const char *state)
{
	return strcmp(state, "TASK_FINISHED") == 0 || strcmp(state, "TASK_FAILED") == 0 ||
	       strcmp(state, "TASK_KILLED") == 0 || strcmp(state, "TASK_LOST") == 0 ||
	       strcmp(state, "TASK_ERROR") == 0 || strcmp(state, "TASK_GONE") == 0 ||
	       strcmp(state, "TASK_DROPPED") == 0;
}

/* Every task the agent reported on has a terminal state. */
static bool all_ended(void)
{
	bool ok = true;
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd && ok; i++) {
		bool ended = false;
		for (int j = 0; j < fm.n_upd && !ended; j++)
			ended = strcmp(fm.upd[j].task, fm.upd[i].task) == 0 &&
			        terminal(fm.upd[j].state);
		ok = ended;
	}
	pthread_mutex_unlock(&fm.mu);
	return ok;
}

Test(agent_launch_kill, sigkill_at_random_moments_around_launches_reports_what_really_ran)
{
	const char *seed_env = getenv("AGORA_SEED");
	unsigned seed = seed_env ? (unsigned)atoi(seed_env) : (unsigned)time(NULL);
	srandom(seed);
	cr_log_info("AGORA_SEED=%u", seed);
	for (int r = 0; r < ROUNDS; r++) {
		char *before = sandboxes();
		for (int i = 0; i < PER_ROUND; i++) {
			char id[32], cmd[96];
			snprintf(id, sizeof(id), "k%03d-%d", r, i);
			/* Some end at once, some are still running at the
			 * restart (re-attached) */
			snprintf(cmd, sizeof(cmd), "echo RAN %s; %s", id,
			         i % 2 ? "exec sleep 0.4" : "true");
			fm_run_task(id, "nobody", cmd, NULL, NULL);
		}
		/* The launch's moment, then 0-50 ms. */
		bool created = random() % 2;
		cr_assert(wait_for_launch(before, created), "round %d: the launch never got %s", r,
		          created ? "its container" : "its sandbox");
		free(before);
		usleep((useconds_t)(random() % 51) * 1000);
		ap_stop(&agent, SIGKILL);
		start();
	}
	double end = ah_now_s() + 60;
	while (!all_ended() && ah_now_s() < end)
		usleep(100000);

	char pat[128];
	snprintf(pat, sizeof(pat), "%s/sandboxes/*/stdout", work);
	glob_t g = {0};
	glob(pat, 0, NULL, &g);
	char **texts = calloc(g.gl_pathc + 1, sizeof(*texts));
	for (size_t i = 0; i < g.gl_pathc; i++)
		texts[i] = ap_slurp(g.gl_pathv[i]);

	int ran = 0, never = 0, unknown = 0, unseen = 0, wrong = 0;
	pthread_mutex_lock(&fm.mu);
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < PER_ROUND; i++) {
			char id[32];
			snprintf(id, sizeof(id), "k%03d-%d", r, i);
			int runs = runs_of(id, (const char *const *)texts, g.gl_pathc);
			const struct ctz_upd_rec *fin = NULL;
			int n_upd = 0, n_fin = 0;
			bool claims_never = false;
			for (int j = 0; j < fm.n_upd; j++) {
				const struct ctz_upd_rec *u = &fm.upd[j];
				if (strcmp(u->task, id) != 0)
					continue;
				n_upd++;
				if (terminal(u->state)) {
					fin = u;
					n_fin++;
				}
				if (strstr(u->msg, "never started") ||
				    strstr(u->msg, "before the task was launched"))
					claims_never = true;
			}
			const char *why = NULL;
			if (runs > 1)
				why = "ran more than once";
			else if (claims_never && runs)
				why = "reported as never started, but it ran";
			else if (n_upd && !fin)
				why = "no terminal state";
			else if (n_fin > 1)
				why = "two terminal states";
			else if (runs && strcmp(fin ? fin->state : "", "TASK_FINISHED") != 0 &&
			         strcmp(fin ? fin->state : "", "TASK_LOST") != 0)
				why = "ran, but not reported TASK_FINISHED";
			else if (!runs && fin && strcmp(fin->state, "TASK_FINISHED") == 0)
				why = "reported TASK_FINISHED, but never ran";
			else if (!n_upd && runs)
				why = "ran, but nothing was reported";
			if (why) {
				wrong++;
				cr_log_error("task %s: %s (runs %d; %s %s %s)", id, why, runs,
				             fin ? fin->state : "-", fin ? fin->reason : "",
				             fin ? fin->msg : "");
			}
			if (!n_upd)
				unseen++;
			else if (fin && strcmp(fin->state, "TASK_LOST") == 0)
				unknown++;
			else if (claims_never)
				never++;
			else if (runs == 1)
				ran++;
		}
	}
	pthread_mutex_unlock(&fm.mu);
	fprintf(stderr,
	        "agent_launch_kill: %d launches, %d SIGKILLs (seed %u): %d ran and finished, "
	        "%d never started, %d never reached the agent, %d lost (unknown), %d wrong\n",
	        TASKS, ROUNDS, seed, ran, never, unseen, unknown, wrong);
	cr_expect_eq(wrong, 0, "%d wrong reports (AGORA_SEED=%u)", wrong, seed);
	cr_expect_eq(unknown, 0, "%d tasks ended TASK_LOST: whether they ran was not found out",
	             unknown);
	cr_expect_gt(ran, 0, "no task ran: the test tests nothing");
	cr_expect_gt(never + unseen, 0, "no kill fell before a start: the test tests little");
	for (size_t i = 0; i < g.gl_pathc; i++)
		free(texts[i]);
	free(texts);
	globfree(&g);
}
