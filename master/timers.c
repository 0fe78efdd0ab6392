/* timers.c: the timers that drive the master: allocation cycles (the
 * periodic one, the one at the end of a loop turn, the batched one),
 * heartbeats on every stream, and the check that finds agents that stopped
 * answering. */
#include "common/log.h"
#include "master/master.h"

#include <time.h>

static void alloc_soon_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ms_master *m = arg;
	(void)fd;
	(void)what;
	if (drf_allocator_pending(m->alloc)) {
		drf_allocate_dirty(m->alloc, (int64_t)ag_now_ns());
		ms_offers_flush(m);
	}
}

void ms_allocate_soon(struct ms_master *m)
{
	/* One pending zero-delay event however many changes this turn makes:
	 * a burst of declines costs one cycle, not one each. */
	if (!evtimer_pending(m->alloc_soon, NULL)) {
		struct timeval zero = {0, 0};
		evtimer_add(m->alloc_soon, &zero);
	}
}

void ms_allocate_batched(struct ms_master *m)
{
	uint64_t ns = m->flags.allocation_batch_ns;
	if (!ns) {
		ms_allocate_soon(m);
		return;
	}
	if (!evtimer_pending(m->alloc_batch, NULL)) {
		struct timeval tv = {(time_t)(ns / 1000000000),
		                     (suseconds_t)(ns % 1000000000 / 1000)};
		evtimer_add(m->alloc_batch, &tv);
	}
}

static void alloc_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ms_master *m = arg;
	(void)fd;
	(void)what;
	/* Nothing changed since the last cycle and no filter can have
	 * expired: a full cycle would walk every agent to offer nothing. */
	if (drf_allocator_idle(m->alloc))
		return;
	drf_allocate_all(m->alloc, (int64_t)ag_now_ns());
	ms_offers_flush(m);
}

static void heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ms_master *m = arg;
	(void)fd;
	(void)what;
	/* One record for every stream; a stream that refuses it is closing
	 * and its close callback deals with its owner. */
	static const char hb[] = "{\"type\":\"HEARTBEAT\"}";
	struct ms_record *rec = ms_record_new(hb, sizeof(hb) - 1);
	struct ag_map_iter it;
	for (ag_map_iter_init(&it); ag_map_iter_next(&m->frameworks, &it);) {
		struct ms_framework *fw = it.e->value;
		if (fw->stream)
			AG_IGNORE_RESULT(ms_stream_send_record(fw->stream, rec));
	}
	for (ag_map_iter_init(&it); ag_map_iter_next(&m->agents, &it);) {
		struct ms_agent *a = it.e->value;
		if (a->stream)
			AG_IGNORE_RESULT(ms_stream_send_record(a->stream, rec));
	}
	for (size_t i = 0; i < m->n_subscribers; i++)
		AG_IGNORE_RESULT(ms_stream_send_record(m->subscribers[i], rec));
	ms_record_unref(rec);
}

static void agent_check_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ms_master *m = arg;
	(void)fd;
	(void)what;
	uint64_t now = ag_now_ns();
	uint64_t limit = m->flags.agent_ping_timeout_ns * m->flags.max_agent_ping_timeouts;
	struct ag_map_iter it;
	for (ag_map_iter_init(&it); ag_map_iter_next(&m->agents, &it);) {
		struct ms_agent *a = it.e->value;
		/* An agent recovered from the registry that has not re-registered
		 * since this master started (or was elected) has
		 * --agent_reregister_timeout from then, as in Mesos. */
		bool recovered = !a->active && a->last_seen_ns == 0;
		uint64_t seen = recovered ? m->start_ns : a->last_seen_ns;
		uint64_t max = recovered ? m->flags.agent_reregister_timeout_ns : limit;
		if ((a->active || recovered) && !a->unreachable && !a->gone && now - seen > max) {
			ag_warn("agent %s (%s): %s for %.1f s: unreachable", a->id, a->hostname,
			        recovered ? "not re-registered" : "no heartbeat",
			        (double)(now - seen) / 1e9);
			ms_agent_lost(m, a, false);
		}
	}
}

static struct timeval to_timeval(uint64_t ns)
{
	struct timeval tv = {(time_t)(ns / 1000000000), (suseconds_t)(ns % 1000000000 / 1000)};
	return tv;
}

int ms_timers_start(struct ms_master *m, struct ag_error *err)
{
	m->alloc_soon = evtimer_new(m->base, alloc_soon_cb, m);
	m->alloc_batch = evtimer_new(m->base, alloc_soon_cb, m);
	m->alloc_timer = event_new(m->base, -1, EV_PERSIST, alloc_timer_cb, m);
	m->heartbeat = event_new(m->base, -1, EV_PERSIST, heartbeat_cb, m);
	m->agent_checker = event_new(m->base, -1, EV_PERSIST, agent_check_cb, m);
	if (!m->alloc_soon || !m->alloc_batch || !m->alloc_timer || !m->heartbeat ||
	    !m->agent_checker)
		return ag_error_msg(err, ENOMEM, "cannot create the master's timers");
	struct timeval tv = to_timeval(m->flags.allocation_interval_ns);
	evtimer_add(m->alloc_timer, &tv);
	tv = to_timeval(m->flags.heartbeat_interval_ns);
	evtimer_add(m->heartbeat, &tv);
	uint64_t check = m->flags.agent_ping_timeout_ns / 2;
	if (m->flags.agent_reregister_timeout_ns / 2 < check)
		check = m->flags.agent_reregister_timeout_ns / 2;
	tv = to_timeval(check ? check : 1000000);
	evtimer_add(m->agent_checker, &tv);
	return 0;
}

void ms_timers_stop(struct ms_master *m)
{
	struct event *evs[] = {m->alloc_soon, m->alloc_batch, m->alloc_timer, m->heartbeat,
	                       m->agent_checker};
	for (size_t i = 0; i < AG_ARRAY_SIZE(evs); i++)
		if (evs[i])
			event_free(evs[i]);
}
