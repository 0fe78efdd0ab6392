/* durable.c: the master while its registry cannot be written (a full or
 * failing disk under --work_dir; docs/operator-api.md, "A full disk").
 *
 * The callers write the registry before they change anything or answer:
 * a call whose write fails changes nothing and is answered 503 saying so.
 * Here is the episode around those failures: the first one logs one ERROR
 * line and makes the master unhealthy (GET /health 503 with the reason,
 * GET_HEALTH healthy:false); later ones in the same episode log at debug
 * level only. A probe write every second (or any caller's write) that
 * succeeds ends it: one INFO line, healthy again, and the work that waited
 * for a write (a drained agent's DRAINED and mark_gone) goes on. */
#include "common/log.h"
#include "master/master.h"

#include <inttypes.h>
#include <string.h>

/* The meta key the probe writes (the wall clock in ns, as text). */
#define PROBE_META_KEY   "write_probe"
#define PROBE_INTERVAL_S 1

static bool is_write_failure(int r)
{
	/* -ENOENT: no such row (a mark_gone or remove of an unknown key);
	 * -EINVAL: a value the registry refuses. Neither is about the disk. */
	return r < 0 && r != -ENOENT && r != -EINVAL;
}

static void writable_again(struct ms_master *m)
{
	ag_info("the registry can be written again (after %.1f s): calls that record state are "
	        "served again",
	        (double)(ag_now_ns() - m->registry_error_since_ns) / 1e9);
	free(m->registry_error);
	m->registry_error = NULL;
	if (m->registry_probe)
		evtimer_del(m->registry_probe);
	/* A DRAINED or mark_gone that could not be recorded is retried. */
	ms_drain_check_soon(m);
}

static void probe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ms_master *m = arg;
	(void)fd;
	(void)what;
	if (!m->registry_error)
		return;
	/* A batch is opened and closed within one handler; never across
	 * loop turns. Should one be open, its commit reports. */
	if (!ms_registry_in_batch(m->registry)) {
		char now[32];
		snprintf(now, sizeof(now), "%" PRId64, ag_wall_ns());
		struct ag_error err = {0};
		int r = ms_registry_meta_set(m->registry, PROBE_META_KEY, now, &err);
		/* Its outcome is the episode's state: nothing else to do. */
		AG_IGNORE_RESULT(ms_registry_wrote(m, r, &err));
	}
	if (m->registry_error) {
		struct timeval tv = {PROBE_INTERVAL_S, 0};
		evtimer_add(m->registry_probe, &tv);
	}
}

int ms_registry_wrote(struct ms_master *m, int r, const struct ag_error *err)
{
	if (r == 0) {
		if (m->registry_error)
			writable_again(m);
		return 0;
	}
	if (!is_write_failure(r))
		return r;
	const char *why = err && err->msg[0] ? err->msg : strerror(-r);
	if (!m->registry_error) {
		m->registry_error_since_ns = ag_now_ns();
		ag_err("the registry cannot be written (%s): %s; calls that must record state are "
		       "answered 503 and the master reports itself unhealthy until a write "
		       "succeeds again (tried every %d s)",
		       strerror(-r), why, PROBE_INTERVAL_S);
		if (!m->registry_probe && m->base)
			m->registry_probe = evtimer_new(m->base, probe_cb, m);
		if (m->registry_probe) {
			struct timeval tv = {PROBE_INTERVAL_S, 0};
			evtimer_add(m->registry_probe, &tv);
		}
	} else {
		ag_debug("the registry still cannot be written: %s", why);
	}
	free(m->registry_error);
	m->registry_error =
	        ag_asprintf("the registry cannot be written (%s): %s", strerror(-r), why);
	return r;
}

void ms_reply_unwritable(struct evhttp_request *req, const char *what, const struct ag_error *err)
{
	if (err && (err->code == ENOENT || err->code == EINVAL)) {
		/* Not the disk: the registry refused the write itself. */
		ms_http_reply_error(req, HTTP_SERVUNAVAIL, "%s: %s", what, err->msg);
		return;
	}
	int code = err && err->code ? err->code : EIO;
	ms_http_reply_error(req, HTTP_SERVUNAVAIL,
	                    "%s: the registry cannot be written (%s): %s; nothing was changed, "
	                    "retry later",
	                    what, strerror(code), err && err->msg[0] ? err->msg : "");
}

const char *ms_unhealthy_reason(const struct ms_master *m)
{
	return m->registry_error;
}

void ms_durable_fini(struct ms_master *m)
{
	if (m->registry_probe)
		event_free(m->registry_probe);
	m->registry_probe = NULL;
	free(m->registry_error);
	m->registry_error = NULL;
}
