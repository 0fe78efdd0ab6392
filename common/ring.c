/* ring.c: see ring.h. */
#include "common/ring.h"

#include "common/common.h"

void *ag_ring_push(struct ag_ring *r, size_t max, void *p)
{
	if (max == 0)
		return p;
	if (r->len == r->cap && r->cap < max) {
		size_t n = r->cap ? r->cap * 2 : 8;
		if (n > max)
			n = max;
		void **v = ag_calloc(n, sizeof(*v));
		for (size_t i = 0; i < r->len; i++)
			v[i] = r->v[(r->head + i) % r->cap];
		free(r->v);
		r->v = v;
		r->cap = n;
		r->head = 0;
	}
	void *out = NULL;
	if (r->len == r->cap) {
		/* Full at its bound (or a bound lowered since): drop the oldest. */
		out = r->v[r->head];
		r->v[r->head] = p;
		r->head = (r->head + 1) % r->cap;
		return out;
	}
	r->v[(r->head + r->len) % r->cap] = p;
	r->len++;
	return out;
}

void ag_ring_clear(struct ag_ring *r)
{
	free(r->v);
	*r = (struct ag_ring){0};
}
