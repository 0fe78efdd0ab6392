/* The one wall clock and the one monotonic clock (common/util.c). */
#include "agtest.h"
#include "common/common.h"

#include <time.h>

Test(clock, wall_is_the_realtime_clock_in_ns_since_the_epoch)
{
	struct timespec a, b;
	clock_gettime(CLOCK_REALTIME, &a);
	int64_t w = ag_wall_ns();
	clock_gettime(CLOCK_REALTIME, &b);
	int64_t lo = (int64_t)a.tv_sec * 1000000000 + a.tv_nsec;
	int64_t hi = (int64_t)b.tv_sec * 1000000000 + b.tv_nsec;
	cr_assert(lo <= w && w <= hi, "%lld not in [%lld, %lld]", (long long)w, (long long)lo,
	          (long long)hi);
	/* Seconds since 1970, not since boot: after 2020-01-01. */
	cr_assert_gt(w / 1000000000, 1577836800);
}

Test(clock, monotonic_never_goes_back_and_counts_ns)
{
	uint64_t prev = ag_now_ns();
	for (int i = 0; i < 1000; i++) {
		uint64_t t = ag_now_ns();
		cr_assert_geq(t, prev);
		prev = t;
	}
	uint64_t t0 = ag_now_ns();
	usleep(20000);
	uint64_t d = ag_now_ns() - t0;
	cr_assert_geq(d, 20000000, "a 20 ms sleep took %llu ns", (unsigned long long)d);
}
