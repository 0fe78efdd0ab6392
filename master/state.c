/* state.c: the master's state as a whole: setting it up and tearing it
 * down, ids, clocks, and the checks every part of it shares. The timers
 * that drive it are timers.c's; records in and out are convert.c's and
 * send.c's. */
#include "common/log.h"
#include "master/master.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>

void ms_uuid_bytes(uint8_t b[PB_UUID_LEN])
{
	if (getrandom(b, PB_UUID_LEN, 0) != PB_UUID_LEN)
		abort(); /* getrandom on 16 bytes only fails before boot's entropy */
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
}

char *ms_uuid(void)
{
	uint8_t b[PB_UUID_LEN];
	ms_uuid_bytes(b);
	return ag_asprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	                   b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
	                   b[12], b[13], b[14], b[15]);
}

bool ms_log_every(int64_t *last_ns)
{
	int64_t now = (int64_t)ag_now_ns();
	if (*last_ns && now - *last_ns < 10 * (int64_t)1000000000)
		return false;
	*last_ns = now;
	return true;
}

void ms_alloc_check(int r, const char *what, const char *id)
{
	if (r < 0)
		ag_err("allocator: %s `%s`: %s (the master and its allocator disagree)", what, id,
		       strerror(-r));
}

int ms_master_init(struct ms_master *m, struct ag_error *err)
{
	struct drf_options o = {.on_offer = ms_on_offer, .ctx = m, .default_refuse_seconds = 5};
	int r = drf_allocator_new(&o, &m->alloc);
	if (r < 0)
		return ag_error_msg(err, -r, "cannot create the allocator");
	m->start_wall_ns = ag_wall_ns();
	/* Offer ids only need to be unique while offers live, but a framework
	 * may hold an id from before a restart: start past any old one. */
	m->next_offer = (uint64_t)m->start_wall_ns / 1000;
	return ms_timers_start(m, err);
}

void ms_master_fini(struct ms_master *m)
{
	struct ag_map_iter it;
	for (ag_map_iter_init(&it); ag_map_iter_next(&m->offers, &it);) {
		struct ms_offer *o = it.e->value;
		ms_offer_drop(m, o);
	}
	for (ag_map_iter_init(&it); ag_map_iter_next(&m->frameworks, &it);)
		ms_framework_free(it.e->value);
	for (size_t i = 0; i < m->completed_frameworks.len; i++)
		ms_framework_free(ag_ring_get(&m->completed_frameworks, i));
	ag_ring_clear(&m->completed_frameworks);
	for (ag_map_iter_init(&it); ag_map_iter_next(&m->agents, &it);)
		ms_agent_free(it.e->value);
	ag_map_clear(&m->offers);
	ag_map_clear(&m->frameworks);
	ag_map_clear(&m->agents);
	ag_map_clear(&m->removed_frameworks);
	free(m->subscribers);
	m->subscribers = NULL;
	m->n_subscribers = 0;
	ms_timers_stop(m);
	ms_drain_fini(m);
	ms_durable_fini(m);
	drf_allocator_free(m->alloc);
	m->alloc = NULL;
}
