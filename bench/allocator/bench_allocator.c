/* bench-allocator: the DRF allocator at data-centre scale, in-process.
 *
 *   bench-allocator [--cpu] [--refuse=S] [AGENTSxFRAMEWORKS ...]
 *                                  (default 1000x50 10000x1000 50000x6000)
 *
 * Times are wall-clock; with --cpu they are the process's CPU time, which
 * stays meaningful on a machine shared with other loads. --refuse=S makes
 * the declines of decline_cycle_ms filter for S seconds (cycles 1 s apart),
 * to see what live filters cost a cycle.
 * Agents are cpus:24;mem:4096;disk:4096;ports:[31000-32000], frameworks all
 * in one role. Each scale runs in its own child process so rss_mb is that
 * scale's peak. Prints one line per scale:
 *   agents=A frameworks=F cycle_ms cycle with every agent free
 *     decline_cycle_ms median of 10 full cycles, each after every framework
 *                      declined every offer with refuse_seconds=0
 *     event_us         mean over 1000 agents of: one agent's resources
 *                      recovered -> drf_allocate_dirty() -> its offer out
 *     add_agent_us     mean drf_agent_add()
 *     rss_mb           peak resident set of the process
 */
#include "allocator/allocator.h"
#include "bench/machine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct offer {
	const char *fw, *agent;
};

struct bench {
	struct offer *offers;
	size_t n, cap;
};

static void on_offer(void *ctx, const struct drf_offer *o)
{
	struct bench *b = ctx;
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 1024;
		b->offers = realloc(b->offers, b->cap * sizeof(*b->offers));
		if (!b->offers)
			abort();
	}
	/* The ids are the allocator's own strings, alive while the framework
	 * and the agent are. */
	b->offers[b->n++] = (struct offer){o->framework_id, o->agent_id};
}

static clockid_t bench_clock = CLOCK_MONOTONIC;
static double bench_refuse = 0;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(bench_clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

static void decline_all(struct drf_allocator *a, struct bench *b, int64_t now)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct drf_resources *res;
		if (drf_allocation_get(a, b->offers[i].fw, b->offers[i].agent, "bench", &res) < 0 ||
		    drf_offer_decline(a, b->offers[i].fw, b->offers[i].agent, "bench", res, 0,
		                      now) < 0) {
			fprintf(stderr, "decline failed\n");
			exit(1);
		}
	}
	b->n = 0;
}

static int run(long n_agents, long n_fws)
{
	struct bench b = {0};
	struct drf_options opts = {.on_offer = on_offer, .ctx = &b};
	struct drf_allocator *a;
	if (drf_allocator_new(&opts, &a) < 0)
		return 1;
	struct drf_resources *total;
	if (drf_resources_parse(a, "cpus:24;mem:4096;disk:4096;ports:[31000-32000]", &total) < 0)
		return 1;
	const char *roles[] = {"bench"};
	char id[32];
	for (long i = 0; i < n_fws; i++) {
		snprintf(id, sizeof(id), "fw-%06ld", i);
		if (drf_framework_add(a, id, roles, 1, true) < 0)
			return 1;
	}
	double t0 = now_s();
	for (long i = 0; i < n_agents; i++) {
		snprintf(id, sizeof(id), "agent-%06ld", i);
		if (drf_agent_add(a, id, total) < 0)
			return 1;
	}
	double add_agent_us = (now_s() - t0) * 1e6 / (double)n_agents;
	int64_t now = DRF_NS_PER_SEC;

	t0 = now_s();
	size_t offers = drf_allocate_all(a, now);
	double cycle_ms = (now_s() - t0) * 1e3;
	if (offers != (size_t)n_agents) {
		fprintf(stderr, "expected %ld offers, got %zu\n", n_agents, offers);
		return 1;
	}

	double dc[10];
	for (int i = 0; i < 10; i++) {
		now += DRF_NS_PER_SEC;
		decline_all(a, &b, now);
		t0 = now_s();
		offers = drf_allocate_all(a, now);
		dc[i] = (now_s() - t0) * 1e3;
		if (offers != (size_t)n_agents && bench_refuse == 0) {
			fprintf(stderr, "decline cycle: %zu offers\n", offers);
			return 1;
		}
	}
	qsort(dc, 10, sizeof(dc[0]), cmp_double);
	double decline_cycle_ms = (dc[4] + dc[5]) / 2;

	/* Events: one agent's offer comes back and goes out again. */
	struct offer *held = malloc(b.n * sizeof(*held));
	size_t n_held = b.n;
	memcpy(held, b.offers, b.n * sizeof(*held));
	b.n = 0;
	int samples = n_agents < 1000 ? (int)n_agents : 1000;
	double ev_total = 0;
	for (int i = 0; i < samples; i++) {
		struct offer *o = &held[(size_t)i * n_held / (size_t)samples];
		const struct drf_resources *res;
		if (drf_allocation_get(a, o->fw, o->agent, "bench", &res) < 0)
			return 1;
		struct drf_resources *copy = drf_resources_copy(res);
		now += 1000;
		t0 = now_s();
		if (drf_offer_decline(a, o->fw, o->agent, "bench", copy, 0, now) < 0)
			return 1;
		size_t n = drf_allocate_dirty(a, now);
		ev_total += now_s() - t0;
		drf_resources_free(copy);
		if (n != 1 || b.n != 1) {
			fprintf(stderr, "event: %zu offers\n", n);
			return 1;
		}
		*o = b.offers[0];
		b.n = 0;
	}
	double event_us = ev_total * 1e6 / samples;

	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("agents=%ld frameworks=%ld cycle_ms=%.2f decline_cycle_ms=%.2f event_us=%.2f "
	       "add_agent_us=%.3f rss_mb=%.1f\n",
	       n_agents, n_fws, cycle_ms, decline_cycle_ms, event_us, add_agent_us,
	       (double)ru.ru_maxrss / 1024.0);
	fflush(stdout);
	free(held);
	free(b.offers);
	drf_resources_free(total);
	drf_allocator_free(a);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *defaults[] = {"1000x50", "10000x1000", "50000x6000"};
	const char *const *scales = defaults;
	int n = 3;
	int first = 1;
	for (; first < argc && strncmp(argv[first], "--", 2) == 0; first++) {
		if (strcmp(argv[first], "--cpu") == 0)
			bench_clock = CLOCK_PROCESS_CPUTIME_ID;
		else if (strncmp(argv[first], "--refuse=", 9) == 0)
			bench_refuse = atof(argv[first] + 9);
		else {
			fprintf(stderr, "usage: %s [--cpu] [--refuse=S] [AGENTSxFRAMEWORKS ...]\n",
			        argv[0]);
			return 2;
		}
	}
	if (argc > first) {
		scales = (const char *const *)argv + first;
		n = argc - first;
	}
	int rc = 0;
	for (int i = 0; i < n; i++) {
		long agents, fws;
		if (sscanf(scales[i], "%ldx%ld", &agents, &fws) != 2 || agents <= 0 || fws <= 0) {
			fprintf(stderr, "usage: %s [--cpu] [--refuse=S] [AGENTSxFRAMEWORKS ...]\n",
			        argv[0]);
			return 2;
		}
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0)
			_exit(run(agents, fws));
		int status;
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "scale %s failed\n", scales[i]);
			rc = 1;
		}
	}
	bench_print_machine(stdout);
	return rc;
}
