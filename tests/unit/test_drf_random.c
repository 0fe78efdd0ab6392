/* Randomised allocator tests, seeded and reproducible: instances against
 * a deliberately simple progressive-filling reference written here, and
 * event sequences that check the books after every step. */
#include "drf_harness.h"

/* ---- random instances against progressive filling ---- */

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

static void agent_held_add(struct world *w, const char *fw, const char *agent, const char *role,
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

static void agent_held_drop(struct world *w, size_t i)
{
	drf_resources_free(w->held[i].res);
	w->held[i] = w->held[--w->n_held];
}

static void agent_held_drop_matching(struct world *w, const char *fw, const char *agent)
{
	for (size_t i = w->n_held; i-- > 0;)
		if ((fw && strcmp(w->held[i].fw, fw) == 0) ||
		    (agent && strcmp(w->held[i].agent, agent) == 0))
			agent_held_drop(w, i);
	for (size_t i = w->n_filters; i-- > 0;)
		if ((fw && strcmp(w->filters[i].fw, fw) == 0) ||
		    (agent && strcmp(w->filters[i].agent, agent) == 0)) {
			drf_resources_free(w->filters[i].res);
			w->filters[i] = w->filters[--w->n_filters];
		}
}

static void filter_set(struct world *w, const struct held *x, int64_t expiry)
{
	/* A role the framework has left gets no filter: it is offered
	 * nothing there anyway, and a later rejoin starts unfiltered. */
	size_t fi = 0;
	while (fi < 16 && (!w->fw_live[fi] || strcmp(w->fws[fi], x->fw) != 0))
		fi++;
	bool subscribed = false;
	for (size_t r = 0; fi < 16 && r < w->fw_nroles[fi]; r++)
		subscribed = subscribed || !strcmp(w->fw_roles[fi][r], x->role);
	if (!subscribed)
		return;
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
	bool subscribed = false;
	for (size_t r = 0; r < w->fw_nroles[f]; r++)
		subscribed = subscribed || !strcmp(w->fw_roles[f][r], o->role);
	cr_assert(subscribed, "offer to %s in %s", o->framework_id, o->role);
	for (size_t i = 0; i < w->n_filters; i++) {
		struct tfilter *t = &w->filters[i];
		if (!strcmp(t->fw, o->framework_id) && !strcmp(t->agent, o->agent_id) &&
		    !strcmp(t->role, o->role) && w->now < t->expiry)
			cr_assert_not(drf_resources_contains(t->res, o->resources),
			              "filtered offer %s", fmt(o->resources));
	}
	agent_held_add(w, o->framework_id, o->agent_id, o->role, drf_resources_copy(o->resources),
	               true);
	w->n_offers++;
	w->n_reserved_offers += drf_resources_scalar(o->resources, "cpus", "a") > 0;
}

/* A removed agent takes its filters with it, and so does a removed
 * framework (Mesos: removeSlave / removeFramework): one re-added under the
 * same id starts unfiltered. */
static void filters_drop_matching(struct world *w, const char *fw, const char *agent)
{
	for (size_t k = w->n_filters; k-- > 0;) {
		struct tfilter *t = &w->filters[k];
		if ((fw && !strcmp(t->fw, fw)) || (agent && !strcmp(t->agent, agent))) {
			drf_resources_free(t->res);
			*t = w->filters[--w->n_filters];
		}
	}
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
			int op = pick(w, 13);
			int i = pick(w, 64), f = pick(w, 16);
			char text[160];
			if (op == 0 && !w->agent_live[i]) {
				snprintf(w->agents[i], 16, "ag%d", i);
				/* One pick per statement: the order in which a call's
				 * arguments are evaluated is unspecified, and the
				 * sequence must be the same with every compiler. */
				int cpus = 1 + pick(w, 16);
				int mem = 256 * (1 + pick(w, 16));
				bool reserved = pick(w, 3) == 0;
				snprintf(text, sizeof(text), "cpus:%d;mem:%d;ports:[%d-%d]%s", cpus,
				         mem, 1000 + i * 10, 1005 + i * 10,
				         reserved ? ";cpus(a):2;mem(a):128" : "");
				add_agent(&w->h, w->agents[i], text);
				w->agent_live[i] = true;
				drf_resources_free(w->agent_total[i]);
				w->agent_total[i] = R(&w->h, text);
			} else if (op == 1 && w->agent_live[i] && pick(w, 3) == 0) {
				cr_assert_eq(drf_agent_remove(a, w->agents[i]), 0);
				agent_held_drop_matching(w, NULL, w->agents[i]);
				filters_drop_matching(w, NULL, w->agents[i]);
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
				agent_held_drop_matching(w, w->fws[f], NULL);
				filters_drop_matching(w, w->fws[f], NULL);
				w->fw_live[f] = false;
			} else if (op == 12 && w->fw_live[f]) {
				w->fw_nroles[f] = 1 + (size_t)pick(w, 2);
				w->fw_roles[f][0] = role_pool[pick(w, 4)];
				w->fw_roles[f][1] = role_pool[pick(w, 4)];
				if (w->fw_roles[f][1] == w->fw_roles[f][0])
					w->fw_nroles[f] = 1;
				cr_assert_eq(drf_framework_update_roles(
				                     a, w->fws[f], w->fw_roles[f], w->fw_nroles[f]),
				             0);
				/* roles joined start unsuppressed; this master keeps a
				 * suppressed framework suppressed everywhere */
				if (w->fw_suppressed[f])
					cr_assert_eq(drf_framework_suppress(a, w->fws[f], NULL), 0);
				/* filters of the roles left are gone with them */
				for (size_t k = w->n_filters; k-- > 0;) {
					struct tfilter *t = &w->filters[k];
					bool kept = false;
					for (size_t r = 0; r < w->fw_nroles[f]; r++)
						kept = kept || !strcmp(t->role, w->fw_roles[f][r]);
					if (!strcmp(t->fw, w->fws[f]) && !kept) {
						drf_resources_free(t->res);
						*t = w->filters[--w->n_filters];
					}
				}
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
					agent_held_drop(w, k);
					if (!drf_resources_is_empty(used))
						agent_held_add(w, x.fw, x.agent, x.role, used,
						               false);
					else
						drf_resources_free(used);
				} else if (x.offer && op == 9) {
					double refuse = pick(w, 4);
					cr_assert_eq(drf_offer_decline(a, x.fw, x.agent, x.role,
					                               x.res, refuse, w->now),
					             0);
					if (refuse > 0)
						filter_set(w, &x, w->now + SEC(refuse));
					agent_held_drop(w, k);
				} else {
					cr_assert_eq(x.offer ? drf_offer_rescind(a, x.fw, x.agent,
					                                         x.role, x.res)
					                     : drf_resources_recover(a, x.fw,
					                                             x.agent,
					                                             x.role, x.res),
					             0);
					agent_held_drop(w, k);
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
