/* Unit tests for allocator/: resources, DRF order, offers, filters,
 * quota, reservations, events; random instances against a deliberately
 * simple progressive-filling reference written here. */
#include "agtest.h"
#include "allocator/allocator.h"

#include <errno.h>
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
	const char *bad[] = {"cpus",       "cpus:",     "cpus:-1",     "ports:[5-4]",
	                     "ports:[1-2", "cpus:1;;x", "cpus(a b):1", "cpus:1 mem:2",
	                     "mem:{a}",    ":3"};
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
				cr_assert_eq(drf_offer_accept(h->a, o->fw, o->agent, o->role,
				                              o->res, demand[f], 0, now),
				             0);
				tasks[f]++;
			} else {
				cr_assert_eq(drf_offer_decline(h->a, o->fw, o->agent, o->role,
				                               o->res, 1e6, now),
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
		struct drf_options o = {.min_allocatable =
		                                "cpus:0.001|mem:0.001|disk:0.001|gpus:0.001"};
		h_init_opts(&h, &o);
		int n = 2 + (int)(rng_next(&s) % (FN - 1));
		int64_t total[RN];
		char text[256];
		for (int r = 0; r < RN; r++)
			total[r] = 1000 * (int64_t)(10 + rng_next(&s) % 200);
		snprintf(text, sizeof(text),
		         "cpus:%" PRId64 ";mem:%" PRId64 ";disk:%" PRId64 ";gpus:%" PRId64,
		         total[0] / 1000, total[1] / 1000, total[2] / 1000, total[3] / 1000);
		add_agent(&h, "agent", text);
		int64_t demand[FN][RN];
		struct drf_resources *d[FN];
		char fwnames[FN][16];
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
			snprintf(text, sizeof(text),
			         "cpus:%" PRId64 ";mem:%" PRId64 ";disk:%" PRId64 ";gpus:%" PRId64,
			         demand[i][0] / 1000, demand[i][1] / 1000, demand[i][2] / 1000,
			         demand[i][3] / 1000);
			d[i] = R(&h, text);
			snprintf(fwnames[i], sizeof(fwnames[i]), "f%d", i);
			fws[i] = fwnames[i];
			add_fw(&h, fws[i], "*");
		}
		int got[FN] = {0}, want[FN] = {0};
		run_tasks(&h, (size_t)n, fws, d, got);
		reference_fill(n, total, demand, want);
		for (int i = 0; i < n; i++) {
			cr_assert_eq(got[i], want[i],
			             "seed %" PRIu64 " fw %d: allocator %d, reference %d", seed, i,
			             got[i], want[i]);
			const struct drf_resources *alloc = NULL;
			if (got[i])
				cr_assert_eq(drf_allocation_get(h.a, fws[i], "agent", "*", &alloc),
				             0);
			for (int r = 0; r < RN && got[i]; r++)
				cr_assert_eq(drf_resources_quantity(alloc, names[r]),
				             got[i] * demand[i][r]);
		}
		/* Sharing incentive: each user runs at least what a 1/n static
		 * partition gives it, less one task for discreteness (the paper's
		 * bound for discrete tasks: within one task of the fluid DRF). */
		for (int i = 0; i < n; i++) {
			int64_t part[RN];
			for (int r = 0; r < RN; r++)
				part[r] = total[r] / n;
			cr_assert_geq(got[i] + 1, tasks_fit(part, demand[i]), "seed %" PRIu64,
			              seed);
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

/* ---- weights, quota, reservations ---- */

/* Accept every offer in full (tasks use everything) until nothing is
 * offered. */
static void accept_all(struct harness *h, int64_t now)
{
	for (int iter = 0; iter < 10000; iter++) {
		h_clear(h);
		if (drf_allocate_dirty(h->a, now) == 0)
			return;
		for (size_t i = 0; i < h->n; i++) {
			struct rec_offer *o = &h->offers[i];
			cr_assert_eq(drf_offer_accept(h->a, o->fw, o->agent, o->role, o->res,
			                              o->res, 0, now),
			             0);
		}
	}
	cr_assert_fail("no convergence");
}

Test(drf, role_of_weight_two_converges_to_twice_the_share)
{
	struct harness h;
	h_init(&h);
	char id[16];
	for (int i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "a%03d", i);
		add_agent(&h, id, "cpus:1;mem:1024");
	}
	cr_assert_eq(drf_role_set_weight(h.a, "heavy", 2), 0);
	add_fw(&h, "fh", "heavy");
	add_fw(&h, "fl", "light");
	accept_all(&h, SEC(1));
	size_t ih, il;
	struct drf_role_info heavy, light;
	cr_assert_eq(drf_role_find(h.a, "heavy", &ih), 0);
	cr_assert_eq(drf_role_find(h.a, "light", &il), 0);
	cr_assert_eq(drf_role_get(h.a, ih, &heavy), 0);
	cr_assert_eq(drf_role_get(h.a, il, &light), 0);
	double sh = (double)drf_resources_quantity(heavy.allocated, "cpus") / 300000;
	double sl = (double)drf_resources_quantity(light.allocated, "cpus") / 300000;
	cr_assert_float_eq(sh + sl, 1.0, 1e-9);
	/* within one agent of the exact 2:1 split */
	cr_assert_float_eq(sh, 2 * sl, 3.0 / 300, "heavy %f light %f", sh, sl);
	cr_assert_float_eq(heavy.share, sh / 2, 1e-9);
	cr_assert_float_eq(heavy.weight, 2.0, 0);
	h_fini(&h);
}

Test(drf, quota_limit_is_never_exceeded)
{
	struct harness h;
	h_init(&h);
	char id[16];
	for (int i = 0; i < 10; i++) {
		snprintf(id, sizeof(id), "a%d", i);
		add_agent(&h, id, "cpus:4;mem:4096");
	}
	struct drf_resources *q = R(&h, "cpus:10");
	cr_assert_eq(drf_role_set_quota(h.a, "q", q), 0);
	drf_resources_free(q);
	add_fw(&h, "f1", "q");
	add_fw(&h, "f2", "q/sub");
	int64_t cpus = 0;
	for (int iter = 0; iter < 100; iter++) {
		h_clear(&h);
		if (drf_allocate_dirty(h.a, SEC(1)) == 0)
			break;
		for (size_t i = 0; i < h.n; i++) {
			cpus += drf_resources_quantity(h.offers[i].res, "cpus");
			cr_assert_leq(cpus, 10000, "quota exceeded: %" PRId64, cpus);
			struct rec_offer *o = &h.offers[i];
			drf_offer_accept(h.a, o->fw, o->agent, o->role, o->res, o->res, 0, SEC(1));
		}
	}
	cr_assert_eq(cpus, 10000);
	size_t iq;
	struct drf_role_info info;
	cr_assert_eq(drf_role_find(h.a, "q", &iq), 0);
	cr_assert_eq(drf_role_get(h.a, iq, &info), 0);
	cr_assert_eq(drf_resources_quantity(info.consumed, "cpus"), 10000);
	cr_assert_eq(drf_resources_scalar(info.quota, "cpus", NULL), 10000);
	/* mem has no limit: all of it was offered */
	cr_assert_eq(drf_resources_quantity(info.allocated, "mem"), 40960000);
	h_fini(&h);
}

Test(drf, quota_of_zero_forbids_a_resource)
{
	struct harness h;
	h_init(&h);
	struct drf_resources *q = R(&h, "gpus:0");
	cr_assert_eq(drf_role_set_quota(h.a, "nogpu", q), 0);
	drf_resources_free(q);
	add_fw(&h, "f", "nogpu/child");
	add_agent(&h, "a", "cpus:4;mem:4096;gpus:2");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	cr_assert_str_eq(fmt(h.offers[0].res), "cpus:4;mem:4096");
	h_fini(&h);
}

Test(drf, reservations_go_only_to_their_role_and_count_toward_quota)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "ops", "ops");
	add_fw(&h, "web", "eng/web");
	struct drf_resources *q = R(&h, "cpus:5");
	cr_assert_eq(drf_role_set_quota(h.a, "eng", q), 0);
	drf_resources_free(q);
	add_agent(&h, "r1", "cpus(eng):4;mem(eng):1024;cpus:2;mem:512;ports(eng):[10-20]");
	accept_all(&h, SEC(1));
	for (size_t i = 0; i < h.n; i++)
		cr_assert_fail("unexpected offer");
	const struct drf_resources *got;
	cr_assert_eq(drf_framework_allocated(h.a, "ops", "ops", &got), 0);
	int64_t ops_cpus = drf_resources_quantity(got, "cpus");
	cr_assert_eq(drf_framework_allocated(h.a, "web", "eng/web", &got), 0);
	int64_t web_cpus = drf_resources_quantity(got, "cpus");
	cr_assert_eq(ops_cpus + web_cpus, 6000);
	/* web got the reservation; eng's quota 5 with 4 reserved leaves 1 */
	cr_assert_eq(drf_allocation_get(h.a, "web", "r1", "eng/web", &got), 0);
	cr_assert_eq(drf_resources_scalar(got, "cpus", "eng"), 4000, "%s", fmt(got));
	cr_assert_leq(drf_resources_scalar(got, "cpus", NULL), 1000);
	cr_assert_eq(drf_allocation_get(h.a, "ops", "r1", "ops", &got), 0);
	cr_assert_eq(drf_resources_scalar(got, "cpus", "eng"), 0);
	cr_assert_eq(drf_resources_scalar(got, "mem", "eng"), 0);
	size_t ie;
	struct drf_role_info info;
	cr_assert_eq(drf_role_find(h.a, "eng", &ie), 0);
	cr_assert_eq(drf_role_get(h.a, ie, &info), 0);
	cr_assert_leq(drf_resources_quantity(info.consumed, "cpus"), 5000);
	h_fini(&h);
}

Test(drf, unused_reservation_is_not_offered_to_other_roles)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "ops", "ops");
	add_agent(&h, "r1", "cpus(eng):4;mem(eng):1024");
	h_clear(&h);
	cr_assert_eq(drf_allocate_dirty(h.a, SEC(1)), 0);
	/* a child of eng may use it */
	add_fw(&h, "web", "eng/web");
	cr_assert_eq(drf_allocate_dirty(h.a, SEC(1)), 1);
	cr_assert_str_eq(h.offers[0].fw, "web");
	cr_assert_str_eq(fmt(h.offers[0].res), "cpus(eng):4;mem(eng):1024");
	h_fini(&h);
}

/* ---- filters, suppress, revive ---- */

Test(drf, filter_expires_exactly_at_refuse_seconds)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "f", "*");
	add_agent(&h, "a", "cpus:2;mem:1024");
	cr_assert_eq(drf_allocate_dirty(h.a, SEC(100)), 1);
	struct rec_offer o = h.offers[0];
	cr_assert_eq(drf_offer_decline(h.a, "f", "a", "*", o.res, 5, SEC(100)), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, SEC(100)), 0);
	cr_assert_eq(drf_allocate_all(h.a, SEC(105) - 1), 0);
	cr_assert_eq(drf_allocate_all(h.a, SEC(105)), 1);
	h_fini(&h);
}

Test(drf, default_refuse_is_five_seconds_and_zero_means_no_filter)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "f", "*");
	add_agent(&h, "a", "cpus:2;mem:1024");
	cr_assert_eq(drf_allocate_dirty(h.a, SEC(0)), 1);
	cr_assert_eq(drf_offer_decline(h.a, "f", "a", "*", h.offers[0].res, -1, SEC(0)), 0);
	cr_assert_eq(drf_allocate_all(h.a, SEC(4.999)), 0);
	cr_assert_eq(drf_allocate_all(h.a, SEC(5)), 1);
	cr_assert_eq(drf_offer_decline(h.a, "f", "a", "*", h.offers[1].res, 0, SEC(5)), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, SEC(5)), 1);
	h_fini(&h);
}

Test(drf, filter_does_not_hide_a_larger_offer)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "f", "*");
	add_agent(&h, "a", "cpus:4;mem:4096");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	struct drf_resources *task = R(&h, "cpus:1;mem:1024");
	/* one task, the rest refused for an hour */
	cr_assert_eq(drf_offer_accept(h.a, "f", "a", "*", h.offers[0].res, task, 3600, 0), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, SEC(1)), 0);
	/* the task ends: a new offer would hold more than was refused */
	cr_assert_eq(drf_resources_recover(h.a, "f", "a", "*", task), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, SEC(2)), 1);
	cr_assert_str_eq(fmt(h.offers[1].res), "cpus:4;mem:4096");
	drf_resources_free(task);
	h_fini(&h);
}

Test(drf, filtered_framework_lets_the_next_one_have_the_agent)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "f1", "*");
	add_fw(&h, "f2", "*");
	add_agent(&h, "a", "cpus:4;mem:4096");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	cr_assert_str_eq(h.offers[0].fw, "f1"); /* tie: by name */
	cr_assert_eq(drf_offer_decline(h.a, "f1", "a", "*", h.offers[0].res, 10, 0), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	cr_assert_str_eq(h.offers[1].fw, "f2");
	h_fini(&h);
}

Test(drf, suppress_stops_offers_and_revive_clears_filters)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "f", "*");
	add_agent(&h, "a", "cpus:4;mem:4096");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	cr_assert_eq(drf_offer_decline(h.a, "f", "a", "*", h.offers[0].res, 1000, 0), 0);
	cr_assert_eq(drf_framework_suppress(h.a, "f", NULL), 0);
	cr_assert_eq(drf_allocate_all(h.a, SEC(2000)), 0); /* filter gone, still suppressed */
	cr_assert_eq(drf_framework_revive(h.a, "f", "*"), 0);
	cr_assert(drf_allocator_pending(h.a));
	cr_assert_eq(drf_allocate_dirty(h.a, SEC(2000)), 1);
	cr_assert_eq(drf_offer_decline(h.a, "f", "a", "*", h.offers[1].res, 1000, SEC(2000)), 0);
	cr_assert_eq(drf_allocate_all(h.a, SEC(2001)), 0);
	cr_assert_eq(drf_framework_revive(h.a, "f", NULL), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, SEC(2001)), 1, "revive clears the filter");
	cr_assert_eq(drf_framework_suppress(h.a, "f", "nope"), -ENOENT);
	h_fini(&h);
}

Test(drf, inactive_framework_gets_no_offers)
{
	struct harness h;
	h_init(&h);
	const char *roles[] = {"*"};
	cr_assert_eq(drf_framework_add(h.a, "f", roles, 1, false), 0);
	add_agent(&h, "a", "cpus:4;mem:4096");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 0);
	cr_assert_eq(drf_framework_activate(h.a, "f"), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	cr_assert_eq(drf_framework_deactivate(h.a, "f"), 0);
	cr_assert_eq(drf_offer_rescind(h.a, "f", "a", "*", h.offers[0].res), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 0);
	h_fini(&h);
}

/* ---- events ---- */

Test(drf, removing_an_agent_with_outstanding_offers)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "f", "*");
	add_agent(&h, "a", "cpus:4;mem:4096");
	add_agent(&h, "b", "cpus:4;mem:4096");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 2);
	double share;
	cr_assert_eq(drf_framework_share(h.a, "f", "*", &share), 0);
	cr_assert_float_eq(share, 1.0, 1e-12);
	cr_assert_eq(drf_agent_remove(h.a, "a"), 0);
	cr_assert_eq(drf_framework_share(h.a, "f", "*", &share), 0);
	cr_assert_float_eq(share, 1.0, 1e-12); /* holds all of what is left */
	const struct drf_resources *got;
	cr_assert_eq(drf_allocation_get(h.a, "f", "a", "*", &got), -ENOENT);
	cr_assert_eq(drf_offer_decline(h.a, "f", "a", "*", h.offers[0].res, 5, 0), -ENOENT);
	cr_assert_eq(drf_framework_allocated(h.a, "f", "*", &got), 0);
	cr_assert_eq(drf_resources_quantity(got, "cpus"), 4000);
	cr_assert_eq(drf_agent_remove(h.a, "a"), -ENOENT);
	/* the id can come back */
	add_agent(&h, "a", "cpus:8;mem:4096");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	cr_assert_str_eq(fmt(h.offers[2].res), "cpus:8;mem:4096");
	h_fini(&h);
}

Test(drf, removing_a_framework_recovers_its_resources)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "f1", "*");
	add_agent(&h, "a", "cpus:4;mem:4096");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	add_fw(&h, "f2", "*");
	cr_assert_eq(drf_framework_remove(h.a, "f1"), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	cr_assert_str_eq(h.offers[1].fw, "f2");
	cr_assert_str_eq(fmt(h.offers[1].res), "cpus:4;mem:4096");
	h_fini(&h);
}

Test(drf, event_cycle_touches_only_dirty_agents)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "f", "*");
	char id[16];
	for (int i = 0; i < 50; i++) {
		snprintf(id, sizeof(id), "a%d", i);
		add_agent(&h, id, "cpus:4;mem:4096");
	}
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 50);
	cr_assert_not(drf_allocator_pending(h.a));
	struct drf_resources *part = R(&h, "cpus:1;mem:100");
	cr_assert_eq(drf_resources_recover(h.a, "f", "a7", "*", part), 0);
	cr_assert_eq(drf_resources_recover(h.a, "f", "a9", "*", part), 0);
	cr_assert_eq(drf_resources_recover(h.a, "f", "a7", "*", part), 0);
	cr_assert(drf_allocator_pending(h.a));
	h_clear(&h);
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 2);
	cr_assert_str_eq(h.offers[0].agent, "a7");
	cr_assert_str_eq(fmt(h.offers[0].res), "cpus:2;mem:200");
	cr_assert_str_eq(h.offers[1].agent, "a9");
	drf_resources_free(part);
	h_fini(&h);
}

Test(drf, inactive_agent_keeps_allocations_and_gets_no_offers)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "f", "*");
	add_agent(&h, "a", "cpus:4;mem:4096");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	struct drf_resources *part = R(&h, "cpus:1");
	cr_assert_eq(drf_agent_deactivate(h.a, "a"), 0);
	cr_assert_eq(drf_resources_recover(h.a, "f", "a", "*", part), 0);
	cr_assert_eq(drf_allocate_all(h.a, 0), 0);
	const struct drf_resources *got;
	cr_assert_eq(drf_allocation_get(h.a, "f", "a", "*", &got), 0);
	cr_assert_str_eq(fmt(got), "cpus:3;mem:4096");
	cr_assert_eq(drf_agent_activate(h.a, "a"), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	cr_assert_str_eq(fmt(h.offers[1].res), "cpus:1");
	cr_assert_eq(drf_agent_activate(h.a, "zz"), -ENOENT);
	drf_resources_free(part);
	h_fini(&h);
}

Test(drf, agent_update_changes_what_is_offered)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "f", "*");
	add_agent(&h, "a", "cpus:4;mem:4096");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	struct drf_resources *small = R(&h, "cpus:2;mem:4096");
	cr_assert_eq(drf_agent_update(h.a, "a", small), -EBUSY);
	struct drf_resources *big = R(&h, "cpus:6;mem:4096");
	cr_assert_eq(drf_agent_update(h.a, "a", big), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	cr_assert_str_eq(fmt(h.offers[1].res), "cpus:2");
	drf_resources_free(small);
	drf_resources_free(big);
	h_fini(&h);
}

Test(drf, amounts_below_the_minimum_are_not_offered)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "f", "*");
	add_agent(&h, "a", "cpus:0.009;mem:31;disk:100");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 0);
	add_agent(&h, "b", "cpus:0.01");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	h_fini(&h);
}

/* ---- order ---- */

Test(drf, frees_go_to_lowest_dominant_share)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "f1", "*");
	add_fw(&h, "f2", "*");
	for (int i = 0; i < 4; i++) {
		char id[16];
		snprintf(id, sizeof(id), "a%d", i);
		add_agent(&h, id, "cpus:1;mem:1024");
	}
	/* alternating: f1, f2, f1, f2 */
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 4);
	cr_assert_str_eq(h.offers[0].fw, "f1");
	cr_assert_str_eq(h.offers[1].fw, "f2");
	cr_assert_str_eq(h.offers[2].fw, "f1");
	cr_assert_str_eq(h.offers[3].fw, "f2");
	/* f2 gives one back: it is lower now and gets it again */
	cr_assert_eq(drf_offer_decline(h.a, "f2", "a3", "*", h.offers[3].res, 0, 0), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	cr_assert_str_eq(h.offers[4].fw, "f2");
	h_fini(&h);
}

Test(drf, roles_are_ordered_level_by_level)
{
	struct harness h;
	h_init(&h);
	/* eng has two busy children; ops one framework. Each level is fair:
	 * ops gets as much as all of eng. */
	add_fw(&h, "w1", "eng/web");
	add_fw(&h, "w2", "eng/db");
	add_fw(&h, "o1", "ops");
	for (int i = 0; i < 40; i++) {
		char id[16];
		snprintf(id, sizeof(id), "a%02d", i);
		add_agent(&h, id, "cpus:1;mem:1024");
	}
	accept_all(&h, 0);
	size_t ie, io, iw;
	struct drf_role_info eng, ops, web;
	cr_assert_eq(drf_role_find(h.a, "eng", &ie), 0);
	cr_assert_eq(drf_role_find(h.a, "ops", &io), 0);
	cr_assert_eq(drf_role_find(h.a, "eng/web", &iw), 0);
	cr_assert_eq(drf_role_get(h.a, ie, &eng), 0);
	cr_assert_eq(drf_role_get(h.a, io, &ops), 0);
	cr_assert_eq(drf_role_get(h.a, iw, &web), 0);
	cr_assert_eq(drf_resources_quantity(eng.allocated, "cpus"), 20000);
	cr_assert_eq(drf_resources_quantity(ops.allocated, "cpus"), 20000);
	cr_assert_eq(drf_resources_quantity(web.allocated, "cpus"), 10000);
	cr_assert_eq(web.n_frameworks, 1);
	cr_assert_str_eq(drf_role_framework(h.a, iw, 0), "w1");
	cr_assert_null(drf_role_framework(h.a, iw, 1));
	cr_assert_eq(eng.n_frameworks, 0);
	h_fini(&h);
}

Test(drf, roles_leave_and_rejoin_the_order)
{
	struct harness h;
	h_init(&h);
	/* idle roles (quota only, reservations only) take no part */
	struct drf_resources *q = R(&h, "cpus:100");
	for (int i = 0; i < 20; i++) {
		char role[16];
		snprintf(role, sizeof(role), "idle%d", i);
		cr_assert_eq(drf_role_set_quota(h.a, role, q), 0);
	}
	drf_resources_free(q);
	add_agent(&h, "r", "cpus(idle3):1;mem(idle3):64");
	add_fw(&h, "A", "x/a");
	add_fw(&h, "B", "y");
	for (int i = 0; i < 4; i++) {
		char id[16];
		snprintf(id, sizeof(id), "a%d", i);
		add_agent(&h, id, "cpus:1;mem:1024");
	}
	cr_assert_eq(drf_framework_deactivate(h.a, "A"), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 4);
	for (size_t i = 0; i < h.n; i++)
		cr_assert_str_eq(h.offers[i].fw, "B");
	cr_assert_eq(drf_framework_activate(h.a, "A"), 0);
	for (int i = 4; i < 8; i++) {
		char id[16];
		snprintf(id, sizeof(id), "a%d", i);
		add_agent(&h, id, "cpus:1;mem:1024");
	}
	/* x (share 0) comes back first and gets the new agents until even */
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 4);
	for (size_t i = 4; i < h.n; i++)
		cr_assert_str_eq(h.offers[i].fw, "A", "offer %zu", i);
	h_fini(&h);
}

Test(drf, excluded_resources_do_not_count_in_shares)
{
	struct harness h;
	const char *excl[] = {"gpus"};
	struct drf_options o = {.fair_share_excluded = excl, .n_fair_share_excluded = 1};
	h_init_opts(&h, &o);
	add_fw(&h, "g", "*");
	add_agent(&h, "a", "cpus:1;mem:1024;gpus:8");
	add_agent(&h, "b", "cpus:1;mem:1024");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 2);
	struct drf_resources *cm = R(&h, "cpus:1;mem:1024");
	/* g keeps only the gpus of a */
	cr_assert_eq(drf_resources_recover(h.a, "g", "a", "*", cm), 0);
	cr_assert_eq(drf_resources_recover(h.a, "g", "b", "*", cm), 0);
	double share;
	cr_assert_eq(drf_framework_share(h.a, "g", "*", &share), 0);
	cr_assert_float_eq(share, 0.0, 0);
	drf_resources_free(cm);
	h_fini(&h);
}

/* ---- bad input ---- */

Test(drf_resources, parser_survives_random_text)
{
	struct harness h;
	h_init(&h);
	static const char alphabet[] = "cpusmemports:;()[]{}-,.*/0123456789 ab\t\n";
	uint64_t s = 42;
	char text[64];
	for (int i = 0; i < 20000; i++) {
		size_t n = rng_next(&s) % (sizeof(text) - 1);
		for (size_t j = 0; j < n; j++)
			text[j] = alphabet[rng_next(&s) % (sizeof(alphabet) - 1)];
		text[n] = 0;
		struct drf_resources *r = NULL;
		if (drf_resources_parse(h.a, text, &r) == 0) {
			/* what parses formats to text that parses to the same */
			char out[512];
			drf_resources_format(r, out, sizeof(out));
			struct drf_resources *again = NULL;
			cr_assert_eq(drf_resources_parse(h.a, out, &again), 0, "`%s` -> `%s`", text,
			             out);
			cr_assert(drf_resources_contains(r, again) &&
			                  drf_resources_contains(again, r),
			          "`%s` -> `%s`", text, out);
			drf_resources_free(again);
		}
		drf_resources_free(r);
	}
	h_fini(&h);
}

Test(drf, bad_input_is_refused_and_changes_nothing)
{
	struct harness h;
	h_init(&h);
	const char *bad_roles[] = {"ok", "/bad"};
	cr_assert_eq(drf_framework_add(h.a, "f", bad_roles, 2, true), -EINVAL);
	const char *dup[] = {"x", "x"};
	cr_assert_eq(drf_framework_add(h.a, "f", dup, 2, true), -EINVAL);
	cr_assert_eq(drf_framework_add(h.a, "f", NULL, 0, true), -EINVAL);
	size_t idx;
	cr_assert_eq(drf_role_find(h.a, "ok", &idx), -ENOENT, "a refused framework made a role");
	add_fw(&h, "f", "*");
	const char *r1[] = {"*"};
	cr_assert_eq(drf_framework_add(h.a, "f", r1, 1, true), -EEXIST);
	add_agent(&h, "a", "cpus:4;mem:4096");
	struct drf_resources *r = R(&h, "cpus:1");
	cr_assert_eq(drf_agent_add(h.a, "a", r), -EEXIST);
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	struct drf_resources *too_much = R(&h, "cpus:5");
	cr_assert_eq(drf_offer_decline(h.a, "f", "a", "*", too_much, 5, 0), -EINVAL);
	cr_assert_eq(drf_offer_decline(h.a, "nope", "a", "*", r, 5, 0), -ENOENT);
	cr_assert_eq(drf_offer_decline(h.a, "f", "a", "other", r, 5, 0), -ENOENT);
	cr_assert_eq(drf_offer_accept(h.a, "f", "a", "*", r, too_much, 5, 0), -EINVAL);
	cr_assert_eq(drf_role_set_weight(h.a, "x", 0), -EINVAL);
	cr_assert_eq(drf_role_set_weight(h.a, "x", NAN), -EINVAL);
	struct drf_resources *ports = R(&h, "ports:[1-2]");
	cr_assert_eq(drf_role_set_quota(h.a, "x", ports), -EINVAL);
	const struct drf_resources *got;
	cr_assert_eq(drf_allocation_get(h.a, "f", "a", "*", &got), 0);
	cr_assert_str_eq(fmt(got), "cpus:4;mem:4096");
	drf_resources_free(r);
	drf_resources_free(too_much);
	drf_resources_free(ports);
	h_fini(&h);
}

/* ---- random event sequences: the books always balance ---- */

struct held {
	char fw[16], agent[16], role[16];
	struct drf_resources *res;
	bool offer; /* an outstanding offer (else: used by tasks) */
};

struct tfilter {
	char fw[16], agent[16], role[16];
	struct drf_resources *res;
	int64_t expiry;
};

struct world {
	struct harness h;
	uint64_t rng;
	int64_t now;
	char agents[64][16];
	bool agent_live[64];
	struct drf_resources *agent_total[64];
	bool fw_suppressed[16];
	char fws[16][16];
	bool fw_live[16], fw_active[16];
	const char *fw_roles[16][2];
	size_t fw_nroles[16];
	struct held *held;
	size_t n_held, cap_held;
	struct tfilter filters[4096];
	size_t n_filters;
	size_t n_offers, n_reserved_offers;
};

static void held_add(struct world *w, const char *fw, const char *agent, const char *role,
                     struct drf_resources *res, bool offer)
{
	if (w->n_held == w->cap_held) {
		w->cap_held = w->cap_held ? w->cap_held * 2 : 64;
		w->held = realloc(w->held, w->cap_held * sizeof(*w->held));
	}
	struct held *x = &w->held[w->n_held++];
	snprintf(x->fw, sizeof(x->fw), "%s", fw);
	snprintf(x->agent, sizeof(x->agent), "%s", agent);
	snprintf(x->role, sizeof(x->role), "%s", role);
	x->res = res;
	x->offer = offer;
}

static void held_drop(struct world *w, size_t i)
{
	drf_resources_free(w->held[i].res);
	w->held[i] = w->held[--w->n_held];
}

static void held_drop_matching(struct world *w, const char *fw, const char *agent)
{
	for (size_t i = w->n_held; i-- > 0;)
		if ((fw && strcmp(w->held[i].fw, fw) == 0) ||
		    (agent && strcmp(w->held[i].agent, agent) == 0))
			held_drop(w, i);
	for (size_t i = w->n_filters; i-- > 0;)
		if ((fw && strcmp(w->filters[i].fw, fw) == 0) ||
		    (agent && strcmp(w->filters[i].agent, agent) == 0)) {
			drf_resources_free(w->filters[i].res);
			w->filters[i] = w->filters[--w->n_filters];
		}
}

static void filter_set(struct world *w, const struct held *x, int64_t expiry)
{
	for (size_t i = 0; i < w->n_filters; i++) {
		struct tfilter *f = &w->filters[i];
		if (!strcmp(f->fw, x->fw) && !strcmp(f->agent, x->agent) &&
		    !strcmp(f->role, x->role)) {
			drf_resources_free(f->res);
			f->res = drf_resources_copy(x->res);
			f->expiry = expiry;
			return;
		}
	}
	cr_assert_lt(w->n_filters, 4096);
	struct tfilter *f = &w->filters[w->n_filters++];
	snprintf(f->fw, sizeof(f->fw), "%s", x->fw);
	snprintf(f->agent, sizeof(f->agent), "%s", x->agent);
	snprintf(f->role, sizeof(f->role), "%s", x->role);
	f->res = drf_resources_copy(x->res);
	f->expiry = expiry;
}

static void check_books(struct world *w)
{
	struct drf_allocator *a = w->h.a;
	for (int i = 0; i < 64; i++) {
		if (!w->agent_live[i])
			continue;
		const struct drf_resources *fr;
		cr_assert_eq(drf_agent_free_resources(a, w->agents[i], &fr), 0);
		struct drf_resources *sum = drf_resources_copy(fr);
		for (size_t j = 0; j < w->n_held; j++)
			if (!strcmp(w->held[j].agent, w->agents[i]))
				drf_resources_add(sum, w->held[j].res);
		/* what the allocator holds per pair is what the test holds */
		for (int f = 0; f < 16; f++) {
			if (!w->fw_live[f])
				continue;
			for (size_t r = 0; r < w->fw_nroles[f]; r++) {
				struct drf_resources *mine = drf_resources_new(a);
				for (size_t j = 0; j < w->n_held; j++)
					if (!strcmp(w->held[j].agent, w->agents[i]) &&
					    !strcmp(w->held[j].fw, w->fws[f]) &&
					    !strcmp(w->held[j].role, w->fw_roles[f][r]))
						drf_resources_add(mine, w->held[j].res);
				const struct drf_resources *theirs;
				int e = drf_allocation_get(a, w->fws[f], w->agents[i],
				                           w->fw_roles[f][r], &theirs);
				if (e == -ENOENT)
					cr_assert(drf_resources_is_empty(mine));
				else
					cr_assert(drf_resources_contains(theirs, mine) &&
					                  drf_resources_contains(mine, theirs),
					          "pair %s/%s/%s: allocator %s, test %s", w->fws[f],
					          w->agents[i], w->fw_roles[f][r], fmt(theirs),
					          fmt(mine));
				drf_resources_free(mine);
			}
		}
		cr_assert(drf_resources_contains(sum, w->agent_total[i]) &&
		                  drf_resources_contains(w->agent_total[i], sum),
		          "agent %s: free + held = %s, total %s", w->agents[i], fmt(sum),
		          fmt(w->agent_total[i]));
		drf_resources_free(sum);
	}
	size_t ic;
	struct drf_role_info info;
	if (drf_role_find(a, "c", &ic) == 0) {
		cr_assert_eq(drf_role_get(a, ic, &info), 0);
		cr_assert_leq(drf_resources_quantity(info.consumed, "cpus"), 20000);
	}
}

static void world_offer(void *ctx, const struct drf_offer *o)
{
	struct world *w = ctx;
	int f = 0;
	while (strcmp(w->fws[f], o->framework_id) != 0 || !w->fw_live[f])
		f++;
	cr_assert(w->fw_active[f], "offer to inactive %s", o->framework_id);
	cr_assert_not(w->fw_suppressed[f], "offer to suppressed %s", o->framework_id);
	for (size_t i = 0; i < w->n_filters; i++) {
		struct tfilter *t = &w->filters[i];
		if (!strcmp(t->fw, o->framework_id) && !strcmp(t->agent, o->agent_id) &&
		    !strcmp(t->role, o->role) && w->now < t->expiry)
			cr_assert_not(drf_resources_contains(t->res, o->resources),
			              "filtered offer %s", fmt(o->resources));
	}
	held_add(w, o->framework_id, o->agent_id, o->role, drf_resources_copy(o->resources), true);
	w->n_offers++;
	w->n_reserved_offers += drf_resources_scalar(o->resources, "cpus", "a") > 0;
}

static int pick(struct world *w, int n)
{
	return (int)(rng_next(&w->rng) % (uint64_t)n);
}

Test(drf, random_event_sequences_keep_the_books_balanced)
{
	static const char *role_pool[] = {"a", "a/b", "c", "*"};
	size_t offers = 0, reserved_offers = 0;
	for (uint64_t seed = 1; seed <= 40; seed++) {
		struct world *w = calloc(1, sizeof(*w));
		struct drf_options o = {.on_offer = world_offer, .ctx = w};
		cr_assert_eq(drf_allocator_new(&o, &w->h.a), 0);
		struct drf_allocator *a = w->h.a;
		w->rng = seed;
		struct drf_resources *q = R(&w->h, "cpus:20");
		cr_assert_eq(drf_role_set_quota(a, "c", q), 0);
		drf_resources_free(q);
		cr_assert_eq(drf_role_set_weight(a, "a", 1.5), 0);
		for (int step = 0; step < 400; step++) {
			int op = pick(w, 12);
			int i = pick(w, 64), f = pick(w, 16);
			char text[160];
			if (op == 0 && !w->agent_live[i]) {
				snprintf(w->agents[i], 16, "ag%d", i);
				snprintf(text, sizeof(text), "cpus:%d;mem:%d;ports:[%d-%d]%s",
				         1 + pick(w, 16), 256 * (1 + pick(w, 16)), 1000 + i * 10,
				         1005 + i * 10,
				         pick(w, 3) == 0 ? ";cpus(a):2;mem(a):128" : "");
				add_agent(&w->h, w->agents[i], text);
				w->agent_live[i] = true;
				drf_resources_free(w->agent_total[i]);
				w->agent_total[i] = R(&w->h, text);
			} else if (op == 1 && w->agent_live[i] && pick(w, 3) == 0) {
				cr_assert_eq(drf_agent_remove(a, w->agents[i]), 0);
				held_drop_matching(w, NULL, w->agents[i]);
				w->agent_live[i] = false;
			} else if (op == 2 && !w->fw_live[f]) {
				snprintf(w->fws[f], 16, "fw%d", f);
				w->fw_nroles[f] = 1 + (size_t)pick(w, 2);
				w->fw_roles[f][0] = role_pool[pick(w, 4)];
				w->fw_roles[f][1] = role_pool[pick(w, 4)];
				if (w->fw_roles[f][1] == w->fw_roles[f][0])
					w->fw_nroles[f] = 1;
				w->fw_active[f] = pick(w, 4) != 0;
				w->fw_suppressed[f] = false;
				cr_assert_eq(drf_framework_add(a, w->fws[f], w->fw_roles[f],
				                               w->fw_nroles[f], w->fw_active[f]),
				             0);
				w->fw_live[f] = true;
			} else if (op == 3 && w->fw_live[f] && pick(w, 3) == 0) {
				cr_assert_eq(drf_framework_remove(a, w->fws[f]), 0);
				held_drop_matching(w, w->fws[f], NULL);
				w->fw_live[f] = false;
			} else if (op == 4 && w->fw_live[f]) {
				w->fw_active[f] = !w->fw_active[f];
				cr_assert_eq(w->fw_active[f]
				                     ? drf_framework_activate(a, w->fws[f])
				                     : drf_framework_deactivate(a, w->fws[f]),
				             0);
			} else if (op == 5 && w->fw_live[f]) {
				if (pick(w, 2)) {
					cr_assert_eq(drf_framework_suppress(a, w->fws[f], NULL), 0);
					w->fw_suppressed[f] = true;
				} else {
					cr_assert_eq(drf_framework_revive(a, w->fws[f], NULL), 0);
					w->fw_suppressed[f] = false;
					for (size_t k = w->n_filters; k-- > 0;)
						if (!strcmp(w->filters[k].fw, w->fws[f])) {
							drf_resources_free(w->filters[k].res);
							w->filters[k] = w->filters[--w->n_filters];
						}
				}
			} else if (op == 6 || op == 7) {
				w->now += SEC(0.25) * pick(w, 8);
				if (op == 6)
					drf_allocate_dirty(a, w->now);
				else
					drf_allocate_all(a, w->now);
			} else if (op >= 8 && w->n_held) {
				size_t k = (size_t)pick(w, (int)w->n_held);
				struct held x = w->held[k];
				if (x.offer && op == 8) {
					/* accept half the cpus and the first port */
					int64_t c = drf_resources_scalar(x.res, "cpus", NULL) / 2;
					struct drf_resource e;
					size_t n = drf_resources_entries(x.res);
					uint64_t port = 0;
					for (size_t j = 0; j < n; j++)
						if (drf_resources_entry(x.res, j, &e) == 0 &&
						    e.type == DRF_RESOURCE_RANGES)
							port = e.ranges[0].begin;
					if (port)
						snprintf(text, sizeof(text),
						         "cpus:%" PRId64 ".%03d;ports:[%" PRIu64
						         "-%" PRIu64 "]",
						         c / 1000, (int)(c % 1000), port, port);
					else
						snprintf(text, sizeof(text),
						         "cpus:%" PRId64 ".%03d", c / 1000,
						         (int)(c % 1000));
					struct drf_resources *used = R(&w->h, text);
					double refuse = pick(w, 3);
					cr_assert_eq(drf_offer_accept(a, x.fw, x.agent, x.role,
					                              x.res, used, refuse, w->now),
					             0);
					struct drf_resources *unused = drf_resources_copy(x.res);
					cr_assert_eq(drf_resources_subtract(unused, used), 0);
					w->held[k].res = unused;
					if (refuse > 0 && !drf_resources_is_empty(unused))
						filter_set(w, &w->held[k], w->now + SEC(refuse));
					drf_resources_free(x.res);
					held_drop(w, k);
					if (!drf_resources_is_empty(used))
						held_add(w, x.fw, x.agent, x.role, used, false);
					else
						drf_resources_free(used);
				} else if (x.offer && op == 9) {
					double refuse = pick(w, 4);
					cr_assert_eq(drf_offer_decline(a, x.fw, x.agent, x.role,
					                               x.res, refuse, w->now),
					             0);
					if (refuse > 0)
						filter_set(w, &x, w->now + SEC(refuse));
					held_drop(w, k);
				} else {
					cr_assert_eq(x.offer ? drf_offer_rescind(a, x.fw, x.agent,
					                                         x.role, x.res)
					                     : drf_resources_recover(a, x.fw,
					                                             x.agent,
					                                             x.role, x.res),
					             0);
					held_drop(w, k);
				}
			}
			check_books(w);
		}
		offers += w->n_offers;
		reserved_offers += w->n_reserved_offers;
		for (size_t k = 0; k < w->n_held; k++)
			drf_resources_free(w->held[k].res);
		for (size_t k = 0; k < w->n_filters; k++)
			drf_resources_free(w->filters[k].res);
		free(w->held);
		for (int k = 0; k < 64; k++)
			drf_resources_free(w->agent_total[k]);
		drf_allocator_free(a);
		free(w);
	}
	/* the sequences did exercise offers, reservations included */
	cr_assert_gt(offers, 2000, "%zu offers", offers);
	cr_assert_gt(reserved_offers, 100, "%zu offers with reserved cpus", reserved_offers);
}
