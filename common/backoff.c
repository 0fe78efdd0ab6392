/* backoff.c: the reconnect backoff with jitter (common.h). */
#include "common/common.h"

#include <sys/random.h>

int64_t ag_backoff_next(struct ag_backoff *b)
{
	b->step_ms = b->step_ms ? b->step_ms * 2 : b->base_ms;
	if (b->step_ms > b->max_ms)
		b->step_ms = b->max_ms;
	if (b->step_ms < 0)
		b->step_ms = 0;
	uint32_t rnd = 0;
	/* Jitter needs no secret: the clock will do if the pool is not ready. */
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (uint32_t)ag_now_ns();
	return b->step_ms / 2 + (int64_t)(rnd % (uint64_t)(b->step_ms / 2 + 1));
}

void ag_backoff_reset(struct ag_backoff *b)
{
	b->step_ms = 0;
}
