/* ring.h: a bounded FIFO of borrowed pointers (the master's completed tasks
 * and frameworks): the array grows up to the bound it is pushed with. */
#ifndef AGORA_COMMON_RING_H
#define AGORA_COMMON_RING_H

#include <stddef.h>

struct ag_ring {
	void **v;
	size_t cap, len, head; /* head: index of the oldest */
};

/* Append `p`. When that makes more than `max`, the oldest comes back for
 * the caller to free (`p` itself when max is 0); else NULL. */
void *ag_ring_push(struct ag_ring *r, size_t max, void *p);

/* The i-th oldest, i < r->len. */
static inline void *ag_ring_get(const struct ag_ring *r, size_t i)
{
	return r->v[(r->head + i) % r->cap];
}

/* Free the array (not the values); the ring is reusable afterwards. */
void ag_ring_clear(struct ag_ring *r);

#endif
