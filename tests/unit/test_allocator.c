/* Unit tests for allocator/: resources, DRF order, offers, filters,
 * quota, reservations, events; random instances against a deliberately
 * simple progressive-filling reference written here. */
#include "agtest.h"
#include "allocator/allocator.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#define SEC(x) ((int64_t)((x) * (double)DRF_NS_PER_SEC))

/* ---- harness: records every offer ---- */

struct rec_offer {
	char fw[64], agent[64], role[64];
	struct drf_resources *res;
};

struct harness {
	struct drf_allocator *a;
	struct rec_offer *offers;
	size_t n, cap;
};

static void on_offer(void *ctx, const struct drf_offer *o)
{
	struct harness *h = ctx;
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 16;
		h->offers = realloc(h->offers, h->cap * sizeof(*h->offers));
	}
	struct rec_offer *r = &h->offers[h->n++];
	snprintf(r->fw, sizeof(r->fw), "%s", o->framework_id);
	snprintf(r->agent, sizeof(r->agent), "%s", o->agent_id);
	snprintf(r->role, sizeof(r->role), "%s", o->role);
	r->res = drf_resources_copy(o->resources);
}

static void h_clear(struct harness *h)
{
	for (size_t i = 0; i < h->n; i++)
		drf_resources_free(h->offers[i].res);
	h->n = 0;
}

static void h_init_opts(struct harness *h, struct drf_options *o)
{
	memset(h, 0, sizeof(*h));
	o->on_offer = on_offer;
	o->ctx = h;
	cr_assert_eq(drf_allocator_new(o, &h->a), 0);
}

static void h_init(struct harness *h)
{
	struct drf_options o = {0};
	h_init_opts(h, &o);
}

static void h_fini(struct harness *h)
{
	h_clear(h);
	free(h->offers);
	drf_allocator_free(h->a);
}

static struct drf_resources *R(struct harness *h, const char *text)
{
	struct drf_resources *r = NULL;
	int e = drf_resources_parse(h->a, text, &r);
	cr_assert_eq(e, 0, "parse `%s`: %d", text, e);
	return r;
}

static void add_agent(struct harness *h, const char *id, const char *text)
{
	struct drf_resources *r = R(h, text);
	cr_assert_eq(drf_agent_add(h->a, id, r), 0);
	drf_resources_free(r);
}

static void add_fw(struct harness *h, const char *id, const char *role)
{
	const char *roles[] = {role};
	cr_assert_eq(drf_framework_add(h->a, id, roles, 1, true), 0);
}

static char *fmt(const struct drf_resources *r)
{
	static char buf[4][512];
	static int i;
	char *b = buf[i++ % 4];
	drf_resources_format(r, b, 512);
	return b;
}

/* ---- resources ---- */

Test(drf_resources, parse_and_format_round_trip)
{
	struct harness h;
	h_init(&h);
	struct drf_resources *r =
	        R(&h, "cpus:1.5;mem:4096;ports:[31005-31010,31000-31004,32000-32000];zones:{b,a}");
	cr_assert_str_eq(fmt(r), "cpus:1.5;mem:4096;ports:[31000-31010,32000-32000];zones:{b,a}");
	cr_assert_eq(drf_resources_scalar(r, "cpus", NULL), 1500);
	drf_resources_free(r);
	r = R(&h, "cpus(eng/web):0.0005;cpus:0.1234;cpus:1");
	cr_assert_eq(drf_resources_scalar(r, "cpus", NULL), 1123);
	cr_assert_eq(drf_resources_scalar(r, "cpus", "eng/web"), 1);
	cr_assert_eq(drf_resources_quantity(r, "cpus"), 1124);
	cr_assert_str_eq(fmt(r), "cpus:1.123;cpus(eng/web):0.001");
	drf_resources_free(r);
	h_fini(&h);
}

Test(drf_resources, bad_text_is_rejected)
{
	struct harness h;
	h_init(&h);
	const char *bad[] = {"cpus", "cpus:", "cpus:-1", "ports:[5-4]", "ports:[1-2",
	                     "cpus:1;;x", "cpus(a b):1", "cpus:1 mem:2", "mem:{a}", ":3"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct drf_resources *r = NULL;
		cr_expect_lt(drf_resources_parse(h.a, bad[i], &r), 0, "`%s` accepted", bad[i]);
		drf_resources_free(r);
	}
	h_fini(&h);
}

Test(drf_resources, ranges_subtract_and_contain)
{
	struct harness h;
	h_init(&h);
	struct drf_resources *a = R(&h, "ports:[1000-2000];cpus:2;s:{x,y,z}");
	struct drf_resources *b = R(&h, "ports:[1000-1009,1500-1500];cpus:0.5;s:{y}");
	cr_assert(drf_resources_contains(a, b));
	cr_assert_not(drf_resources_contains(b, a));
	cr_assert_eq(drf_resources_subtract(a, b), 0);
	cr_assert_str_eq(fmt(a), "cpus:1.5;ports:[1010-1499,1501-2000];s:{x,z}");
	cr_assert_lt(drf_resources_subtract(a, b), 0);
	drf_resources_add(a, b);
	cr_assert_str_eq(fmt(a), "cpus:2;ports:[1000-2000];s:{x,y,z}");
	drf_resources_free(a);
	drf_resources_free(b);
	h_fini(&h);
}

/* ---- the DRF paper's example ---- */

/* Frameworks take one task per offer when it fits and decline the rest;
 * a framework whose task no longer fits declines for a long time. Runs
 * until no offer is made; returns tasks per framework. */
static void run_tasks(struct harness *h, size_t n, const char *const *fws,
                      struct drf_resources **demand, int *tasks)
{
	int64_t now = SEC(1);
	for (int iter = 0; iter < 100000; iter++) {
		h_clear(h);
		if (drf_allocate_dirty(h->a, now) == 0)
			break;
		for (size_t i = 0; i < h->n; i++) {
			struct rec_offer *o = &h->offers[i];
			size_t f = 0;
			while (strcmp(fws[f], o->fw) != 0)
				f++;
			if (drf_resources_contains(o->res, demand[f])) {
				cr_assert_eq(drf_offer_accept(h->a, o->fw, o->agent, o->role, o->res,
				                              demand[f], 0, now),
				             0);
				tasks[f]++;
			} else {
				cr_assert_eq(drf_offer_decline(h->a, o->fw, o->agent, o->role, o->res,
				                               1e6, now),
				             0);
			}
		}
		cr_assert_lt(iter, 99999, "no convergence");
		(void)n;
	}
}

Test(drf, paper_example_gives_a_three_tasks_and_b_two)
{
	struct harness h;
	h_init(&h);
	add_agent(&h, "s1", "cpus:9;mem:18432");
	add_fw(&h, "A", "*");
	add_fw(&h, "B", "*");
	const char *fws[] = {"A", "B"};
	struct drf_resources *d[] = {R(&h, "cpus:1;mem:4096"), R(&h, "cpus:3;mem:1024")};
	int tasks[2] = {0};
	run_tasks(&h, 2, fws, d, tasks);
	cr_assert_eq(tasks[0], 3);
	cr_assert_eq(tasks[1], 2);
	double sa, sb;
	drf_framework_share(h.a, "A", "*", &sa);
	drf_framework_share(h.a, "B", "*", &sb);
	cr_assert_float_eq(sa, 2.0 / 3, 1e-9);
	cr_assert_float_eq(sb, 2.0 / 3, 1e-9);
	drf_resources_free(d[0]);
	drf_resources_free(d[1]);
	h_fini(&h);
}

/* ---- random instances against progressive filling ---- */

static uint64_t rng_next(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

#define RN 4 /* resources: cpus, mem, disk, gpus */
#define FN 8

/* The reference: discrete progressive filling as in the DRF paper. Give one
 * task to the user with the lowest dominant share whose next task fits;
 * ties go to the lower index (the names sort like the indices). */
static void reference_fill(int n, const int64_t *total, int64_t demand[][RN], int *tasks)
{
	int64_t used[RN] = {0};
	int64_t alloc[FN][RN] = {{0}};
	for (;;) {
		int best = -1;
		double best_share = 0;
		for (int i = 0; i < n; i++) {
			bool fits = true;
			for (int r = 0; r < RN; r++)
				if (used[r] + demand[i][r] > total[r])
					fits = false;
			if (!fits)
				continue;
			double s = 0;
			for (int r = 0; r < RN; r++)
				if (total[r] > 0 && (double)alloc[i][r] / (double)total[r] > s)
					s = (double)alloc[i][r] / (double)total[r];
			if (best < 0 || s < best_share) {
				best = i;
				best_share = s;
			}
		}
		if (best < 0)
			return;
		tasks[best]++;
		for (int r = 0; r < RN; r++) {
			used[r] += demand[best][r];
			alloc[best][r] += demand[best][r];
		}
	}
}

static int64_t tasks_fit(const int64_t *have, const int64_t *need)
{
	int64_t k = INT64_MAX;
	for (int r = 0; r < RN; r++)
		if (need[r] > 0 && have[r] / need[r] < k)
			k = have[r] / need[r];
	return k;
}

Test(drf, random_instances_match_progressive_filling)
{
	static const char *names[RN] = {"cpus", "mem", "disk", "gpus"};
	int checked = 0;
	for (uint64_t seed = 1; seed <= 300; seed++) {
		uint64_t s = seed;
		struct harness h;
		struct drf_options o = {.min_allocatable = "cpus:0.001|mem:0.001|disk:0.001|gpus:0.001"};
		h_init_opts(&h, &o);
		int n = 2 + (int)(rng_next(&s) % (FN - 1));
		int64_t total[RN];
		char text[256];
		for (int r = 0; r < RN; r++)
			total[r] = 1000 * (int64_t)(10 + rng_next(&s) % 200);
		snprintf(text, sizeof(text), "cpus:%" PRId64 ";mem:%" PRId64 ";disk:%" PRId64
		         ";gpus:%" PRId64, total[0] / 1000, total[1] / 1000, total[2] / 1000,
		         total[3] / 1000);
		add_agent(&h, "agent", text);
		int64_t demand[FN][RN];
		struct drf_resources *d[FN];
		char fwnames[FN][8];
		const char *fws[FN];
		for (int i = 0; i < n; i++) {
			bool any = false;
			for (int r = 0; r < RN; r++) {
				/* some resources unused by a user, as in real demands */
				demand[i][r] = rng_next(&s) % 3 == 0
				                       ? 0
				                       : 1000 * (int64_t)(1 + rng_next(&s) % 20);
				any = any || demand[i][r];
			}
			if (!any)
				demand[i][0] = 1000;
			snprintf(text, sizeof(text), "cpus:%" PRId64 ";mem:%" PRId64 ";disk:%" PRId64
			         ";gpus:%" PRId64, demand[i][0] / 1000, demand[i][1] / 1000,
			         demand[i][2] / 1000, demand[i][3] / 1000);
			d[i] = R(&h, text);
			snprintf(fwnames[i], sizeof(fwnames[i]), "f%d", i);
			fws[i] = fwnames[i];
			add_fw(&h, fws[i], "*");
		}
		int got[FN] = {0}, want[FN] = {0};
		run_tasks(&h, (size_t)n, fws, d, got);
		reference_fill(n, total, demand, want);
		for (int i = 0; i < n; i++) {
			cr_assert_eq(got[i], want[i], "seed %" PRIu64 " fw %d: allocator %d, reference %d",
			             seed, i, got[i], want[i]);
			const struct drf_resources *alloc = NULL;
			if (got[i])
				cr_assert_eq(drf_allocation_get(h.a, fws[i], "agent", "*", &alloc), 0);
			for (int r = 0; r < RN && got[i]; r++)
				cr_assert_eq(drf_resources_quantity(alloc, names[r]), got[i] * demand[i][r]);
		}
		/* Sharing incentive: each user runs at least what a 1/n static
		 * partition gives it, less one task for discreteness (the paper's
		 * bound for discrete tasks: within one task of the fluid DRF). */
		for (int i = 0; i < n; i++) {
			int64_t part[RN];
			for (int r = 0; r < RN; r++)
				part[r] = total[r] / n;
			cr_assert_geq(got[i] + 1, tasks_fit(part, demand[i]), "seed %" PRIu64, seed);
		}
		/* Envy-freeness, discrete form (envy-free up to one task): with
		 * tasks a user cannot split, the last task of j may tip a tie
		 * (j got it at the same share as i, or cut i off), so i must not
		 * prefer j's allocation less one of j's tasks. */
		for (int i = 0; i < n; i++)
			for (int j = 0; j < n; j++) {
				if (i == j)
					continue;
				int64_t other[RN];
				for (int r = 0; r < RN; r++)
					other[r] = (got[j] ? got[j] - 1 : 0) * demand[j][r];
				cr_assert_leq(tasks_fit(other, demand[i]), got[i],
				              "seed %" PRIu64 ": %d envies %d", seed, i, j);
			}
		for (int i = 0; i < n; i++)
			drf_resources_free(d[i]);
		h_fini(&h);
		checked++;
	}
	cr_assert_eq(checked, 300);
}
