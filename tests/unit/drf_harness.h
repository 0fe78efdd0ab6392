/* drf_harness.h: what the allocator's unit tests share: an allocator whose
 * offers are recorded, resource helpers, a seeded generator, and two
 * framework behaviours (one task per offer; take everything). */
#ifndef AGORA_DRF_HARNESS_H
#define AGORA_DRF_HARNESS_H

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

static inline void on_offer(void *ctx, const struct drf_offer *o)
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

static inline void h_clear(struct harness *h)
{
	for (size_t i = 0; i < h->n; i++)
		drf_resources_free(h->offers[i].res);
	h->n = 0;
}

static inline void h_init_opts(struct harness *h, struct drf_options *o)
{
	memset(h, 0, sizeof(*h));
	o->on_offer = on_offer;
	o->ctx = h;
	cr_assert_eq(drf_allocator_new(o, &h->a), 0);
}

static inline void h_init(struct harness *h)
{
	struct drf_options o = {0};
	h_init_opts(h, &o);
}

static inline void h_fini(struct harness *h)
{
	h_clear(h);
	free(h->offers);
	drf_allocator_free(h->a);
}

static inline struct drf_resources *R(struct harness *h, const char *text)
{
	struct drf_resources *r = NULL;
	int e = drf_resources_parse(h->a, text, &r);
	cr_assert_eq(e, 0, "parse `%s`: %d", text, e);
	return r;
}

static inline void add_agent(struct harness *h, const char *id, const char *text)
{
	struct drf_resources *r = R(h, text);
	cr_assert_eq(drf_agent_add(h->a, id, r), 0);
	drf_resources_free(r);
}

static inline void add_fw(struct harness *h, const char *id, const char *role)
{
	const char *roles[] = {role};
	cr_assert_eq(drf_framework_add(h->a, id, roles, 1, true), 0);
}

static inline char *fmt(const struct drf_resources *r)
{
	static char buf[4][512];
	static int i;
	char *b = buf[i++ % 4];
	drf_resources_format(r, b, 512);
	return b;
}

/* ---- framework behaviours ---- */

/* Frameworks take one task per offer when it fits and decline the rest;
 * a framework whose task no longer fits declines for a long time. Runs
 * until no offer is made; returns tasks per framework. */
static inline void run_tasks(struct harness *h, size_t n, const char *const *fws,
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

static inline uint64_t rng_next(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

/* Accept every offer in full (tasks use everything) until nothing is
 * offered. */
static inline void accept_all(struct harness *h, int64_t now)
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

#endif
