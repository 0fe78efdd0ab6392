/* Unit tests for the master's bounded FIFO (completed tasks and
 * frameworks). */
#include "agtest.h"
#include "common/ring.h"

#include <stdint.h>

#define P(n) ((void *)(uintptr_t)(n))

Test(master_ring, keeps_the_newest_up_to_its_bound_oldest_first)
{
	struct ag_ring r = {0};
	for (uintptr_t i = 1; i <= 20; i++) {
		void *out = ag_ring_push(&r, 12, P(i));
		/* Nothing comes back until the 13th; then each push hands back
		 * the oldest. */
		if (i <= 12)
			cr_assert_null(out, "push %zu", (size_t)i);
		else
			cr_assert_eq(out, P(i - 12), "push %zu", (size_t)i);
	}
	cr_assert_eq(r.len, 12);
	cr_assert_leq(r.cap, 12, "the array never grows past the bound");
	for (size_t i = 0; i < r.len; i++)
		cr_assert_eq(ag_ring_get(&r, i), P(9 + i));
	ag_ring_clear(&r);
	cr_assert_eq(r.len, 0);
	cr_assert_null(r.v);
}

Test(master_ring, a_zero_bound_keeps_nothing)
{
	struct ag_ring r = {0};
	cr_assert_eq(ag_ring_push(&r, 0, P(7)), P(7));
	cr_assert_eq(r.len, 0);
	ag_ring_clear(&r);
}

Test(master_ring, order_survives_growth_after_wrapping)
{
	struct ag_ring r = {0};
	/* Bound 3 first: wraps at once. */
	for (uintptr_t i = 1; i <= 5; i++)
		ag_ring_push(&r, 3, P(i));
	cr_assert_eq(r.len, 3);
	/* A larger bound lets it grow; the order is kept across the copy. */
	for (uintptr_t i = 6; i <= 9; i++)
		cr_assert_null(ag_ring_push(&r, 100, P(i)));
	cr_assert_eq(r.len, 7);
	for (size_t i = 0; i < r.len; i++)
		cr_assert_eq(ag_ring_get(&r, i), P(3 + i), "entry %zu", i);
	ag_ring_clear(&r);
}
