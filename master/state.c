/* state.c: the master's shared plumbing: lifecycle of the state, the
 * allocator's timers, heartbeats, resource conversion between the wire and
 * the allocator, and sending records on streams. */
#include "common/log.h"
#include "master/master.h"

#include <inttypes.h>
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

/* ---- resources ------------------------------------------------------ */

static bool ms__text_safe(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (strchr(";:,{}[]()\n\r\t ", *s))
			return false;
	return true;
}

int ms_resources_from_pb(struct ms_master *m, const struct pb_resource *r, size_t n,
                         struct drf_resources **ret, struct ag_error *err)
{
	/* The allocator speaks Mesos resource text; going through it keeps one
	 * parser for the rules (repeated names add up, one type per name). */
	char *text = ag_strdup("");
	for (size_t i = 0; i < n; i++) {
		const struct pb_resource *x = &r[i];
		const char *role = pb_resource_reserved_role(x);
		if (!ms__text_safe(x->name) || (role && !ms__text_safe(role))) {
			free(text);
			return ag_error_msg(err, EINVAL, "resources[%zu]: unsupported name or role",
			                    i);
		}
		char *val = NULL;
		if (x->type == PB_VALUE_SCALAR) {
			if (x->scalar_milli < 0) {
				free(text);
				return ag_error_msg(err, EINVAL,
				                    "resources[%zu] (%s): negative scalar", i,
				                    x->name);
			}
			val = ag_asprintf("%" PRId64 ".%03" PRId64, x->scalar_milli / 1000,
			                  x->scalar_milli % 1000);
		} else if (x->type == PB_VALUE_RANGES) {
			val = ag_strdup("[");
			for (size_t j = 0; j < x->n_ranges; j++) {
				if (x->ranges[j].begin > x->ranges[j].end) {
					free(val);
					free(text);
					return ag_error_msg(
					        err, EINVAL,
					        "resources[%zu] (%s): range begin > end", i,
					        x->name);
				}
				char *v2 =
				        ag_asprintf("%s%s%" PRIu64 "-%" PRIu64, val, j ? "," : "",
				                    x->ranges[j].begin, x->ranges[j].end);
				free(val);
				val = v2;
			}
			char *v2 = ag_asprintf("%s]", val);
			free(val);
			val = v2;
			if (x->n_ranges == 0) {
				free(val);
				continue;
			}
		} else if (x->type == PB_VALUE_SET) {
			val = ag_strdup("{");
			for (size_t j = 0; j < x->n_items; j++) {
				if (!ms__text_safe(x->items[j])) {
					free(val);
					free(text);
					return ag_error_msg(
					        err, EINVAL,
					        "resources[%zu] (%s): unsupported set item", i,
					        x->name);
				}
				char *v2 = ag_asprintf("%s%s%s", val, j ? "," : "", x->items[j]);
				free(val);
				val = v2;
			}
			char *v2 = ag_asprintf("%s}", val);
			free(val);
			val = v2;
			if (x->n_items == 0) {
				free(val);
				continue;
			}
		} else {
			free(text);
			return ag_error_msg(err, EINVAL,
			                    "resources[%zu] (%s): type must be SCALAR, "
			                    "RANGES or SET",
			                    i, x->name);
		}
		char *t2 = ag_asprintf("%s%s%s%s%s%s:%s", text, *text ? ";" : "", x->name,
		                       role ? "(" : "", role ? role : "", role ? ")" : "", val);
		free(val);
		free(text);
		text = t2;
	}
	int rc = drf_resources_parse(m->alloc, text, ret);
	if (rc < 0)
		ag_error_msg(err, -rc, "resources `%s` cannot be used (a name with two types?)",
		             text);
	free(text);
	return rc;
}

int ms_resources_from_json(struct ms_master *m, const json_t *arr, struct drf_resources **ret,
                           struct ag_error *err)
{
	/* Decode through a TaskInfo shell: the resource table is the proto's. */
	struct pb_arena *a = pb_arena_new();
	json_t *res = arr ? json_incref((json_t *)arr) : json_array();
	json_t *shell = json_pack("{s:s, s:{s:s}, s:{s:s}, s:o}", "name", "x", "task_id", "value",
	                          "x", "agent_id", "value", "x", "resources", res);
	struct pb_task_info ti;
	int rc = pb_task_info_decode(a, shell, "resources", &ti, err);
	if (rc == 0)
		rc = ms_resources_from_pb(m, ti.resources, ti.n_resources, ret, err);
	json_decref(shell);
	pb_arena_free(a);
	return rc;
}

json_t *ms_resources_to_json(const struct drf_resources *r, unsigned flags, const char *alloc_role)
{
	size_t n = drf_resources_entries(r);
	struct pb_resource *pr = ag_calloc(n ? n : 1, sizeof(*pr));
	struct pb_reservation *rv = ag_calloc(n ? n : 1, sizeof(*rv));
	const char ***items = ag_calloc(n ? n : 1, sizeof(*items));
	struct pb_range **ranges = ag_calloc(n ? n : 1, sizeof(*ranges));
	for (size_t i = 0; i < n; i++) {
		struct drf_resource e;
		/* i < n: cannot fail; an empty entry is written if it did. */
		if (drf_resources_entry(r, i, &e) < 0)
			e = (struct drf_resource){.name = ""};
		pr[i].name = e.name;
		if (e.role) {
			rv[i].type = PB_RESERVATION_STATIC;
			rv[i].role = e.role;
			pr[i].reservations = &rv[i];
			pr[i].n_reservations = 1;
		}
		pr[i].allocation_role = alloc_role;
		switch (e.type) {
		case DRF_RESOURCE_SCALAR:
			pr[i].type = PB_VALUE_SCALAR;
			pr[i].scalar_milli = e.scalar_milli;
			break;
		case DRF_RESOURCE_RANGES:
			pr[i].type = PB_VALUE_RANGES;
			ranges[i] = ag_calloc(e.n_ranges ? e.n_ranges : 1, sizeof(**ranges));
			for (size_t j = 0; j < e.n_ranges; j++) {
				ranges[i][j].begin = e.ranges[j].begin;
				ranges[i][j].end = e.ranges[j].end;
			}
			pr[i].ranges = ranges[i];
			pr[i].n_ranges = e.n_ranges;
			break;
		case DRF_RESOURCE_SET:
			pr[i].type = PB_VALUE_SET;
			items[i] = ag_calloc(e.n_items ? e.n_items : 1, sizeof(char *));
			for (size_t j = 0; j < e.n_items; j++)
				items[i][j] = drf_resources_item(r, i, j);
			pr[i].items = items[i];
			pr[i].n_items = e.n_items;
			break;
		}
	}
	json_t *j = pb_resources_to_json(pr, n, flags);
	for (size_t i = 0; i < n; i++) {
		free(items[i]);
		free(ranges[i]);
	}
	free(items);
	free(ranges);
	free(rv);
	free(pr);
	return j;
}

unsigned ms_framework_res_flags(const struct ms_framework *fw)
{
	unsigned f = 0;
	if (fw->caps & PB_CAP_BIT(PB_CAP_RESERVATION_REFINEMENT))
		f |= PB_RES_REFINED;
	if (fw->caps & PB_CAP_BIT(PB_CAP_MULTI_ROLE))
		f |= PB_RES_ALLOCATION_INFO;
	return f;
}

json_t *ms_master_info_json(struct ms_master *m)
{
	uint32_t ip = 0;
	unsigned a, b, c, d;
	if (sscanf(m->flags.ip, "%u.%u.%u.%u", &a, &b, &c, &d) == 4)
		ip = a | b << 8 | c << 16 | d << 24;
	char *pid = ag_asprintf("master@%s:%u", m->flags.ip, ms_http_port(m->http));
	struct pb_master_info mi = {
	        .id = m->id,
	        .ip = ip,
	        .port = ms_http_port(m->http),
	        .pid = pid,
	        .hostname = m->flags.ip,
	        .version = AGORA_VERSION,
	        .address_ip = m->flags.ip,
	};
	json_t *j = pb_master_info_to_json(&mi);
	free(pid);
	return j;
}

/* ---- sending -------------------------------------------------------- */

static void ms__stream_send(ms_stream *s, json_t *ev)
{
	size_t len;
	char *text = pb_json_dump(ev, &len);
	/* -EPIPE / -ENOBUFS: the stream is closing; its close callback
	 * disconnects the owner. */
	AG_IGNORE_RESULT(ms_stream_send(s, text, len));
	free(text);
}

void ms_framework_send(struct ms_framework *fw, json_t *ev)
{
	if (fw->stream)
		ms__stream_send(fw->stream, ev);
	json_decref(ev);
}

void ms_framework_send_update_text(struct ms_framework *fw, const char *status_text)
{
	if (!fw->stream)
		return;
	static const char head[] = "{\"type\":\"UPDATE\",\"update\":{\"status\":";
	size_t n = strlen(status_text);
	char *text = ag_malloc(sizeof(head) - 1 + n + 3);
	memcpy(text, head, sizeof(head) - 1);
	memcpy(text + sizeof(head) - 1, status_text, n);
	memcpy(text + sizeof(head) - 1 + n, "}}", 3);
	/* Refused: the stream is closing (as in ms__stream_send); the
	 * update stays unacknowledged and the agent sends it again. */
	AG_IGNORE_RESULT(ms_stream_send(fw->stream, text, sizeof(head) - 1 + n + 2));
	free(text);
}

void ms_agent_send(struct ms_agent *a, json_t *msg)
{
	if (a->stream)
		ms__stream_send(a->stream, msg);
	json_decref(msg);
}

void ms_operator_broadcast(struct ms_master *m, json_t *ev)
{
	/* Serialized once for every subscriber, and queued by reference when
	 * large: a thousand subscribers cost one copy of the event. */
	if (m->n_subscribers) {
		size_t len;
		char *text = pb_json_dump(ev, &len);
		ms_record *rec = ms_record_new(text, len);
		free(text);
		/* A stream refused here is closed from the loop, later: the
		 * array does not change under this walk. */
		for (size_t i = 0; i < m->n_subscribers; i++)
			AG_IGNORE_RESULT(ms_stream_send_record(m->subscribers[i], rec));
		ms_record_unref(rec);
	}
	json_decref(ev);
}

bool ms_log_every(int64_t *last_ns)
{
	int64_t now = (int64_t)ag_now_ns();
	if (*last_ns && now - *last_ns < 10 * (int64_t)1000000000)
		return false;
	*last_ns = now;
	return true;
}

/* ---- timers --------------------------------------------------------- */

static void ms__alloc_soon_cb(evutil_socket_t fd, short what, void *arg)
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

static void ms__alloc_timer_cb(evutil_socket_t fd, short what, void *arg)
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

static void ms__heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ms_master *m = arg;
	(void)fd;
	(void)what;
	/* One record for every stream; a stream that refuses it is closing
	 * and its close callback deals with its owner. */
	static const char hb[] = "{\"type\":\"HEARTBEAT\"}";
	ms_record *rec = ms_record_new(hb, sizeof(hb) - 1);
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

static void ms__agent_check_cb(evutil_socket_t fd, short what, void *arg)
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
		 * since this master started counts from the start. */
		bool recovered = !a->active && a->last_seen_ns == 0;
		uint64_t seen = recovered ? m->start_ns : a->last_seen_ns;
		if ((a->active || recovered) && !a->unreachable && !a->gone && now - seen > limit) {
			ag_warn("agent %s (%s): no heartbeat for %.1f s: unreachable", a->id,
			        a->hostname, (double)(now - seen) / 1e9);
			ms_agent_lost(m, a, false);
		}
	}
}

static struct timeval ms__tv(uint64_t ns)
{
	struct timeval tv = {(time_t)(ns / 1000000000), (suseconds_t)(ns % 1000000000 / 1000)};
	return tv;
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
	m->alloc_soon = evtimer_new(m->base, ms__alloc_soon_cb, m);
	m->alloc_batch = evtimer_new(m->base, ms__alloc_soon_cb, m);
	m->alloc_timer = event_new(m->base, -1, EV_PERSIST, ms__alloc_timer_cb, m);
	m->heartbeat = event_new(m->base, -1, EV_PERSIST, ms__heartbeat_cb, m);
	m->agent_checker = event_new(m->base, -1, EV_PERSIST, ms__agent_check_cb, m);
	if (!m->alloc_soon || !m->alloc_batch || !m->alloc_timer || !m->heartbeat ||
	    !m->agent_checker)
		return ag_error_msg(err, ENOMEM, "cannot create the master's timers");
	struct timeval tv = ms__tv(m->flags.allocation_interval_ns);
	evtimer_add(m->alloc_timer, &tv);
	tv = ms__tv(m->flags.heartbeat_interval_ns);
	evtimer_add(m->heartbeat, &tv);
	uint64_t check = m->flags.agent_ping_timeout_ns / 2;
	tv = ms__tv(check ? check : 1000000);
	evtimer_add(m->agent_checker, &tv);
	return 0;
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
	struct event *evs[] = {m->alloc_soon, m->alloc_batch, m->alloc_timer, m->heartbeat,
	                       m->agent_checker};
	for (size_t i = 0; i < AG_ARRAY_SIZE(evs); i++)
		if (evs[i])
			event_free(evs[i]);
	ms_drain_fini(m);
	ms_durable_fini(m);
	drf_allocator_free(m->alloc);
	m->alloc = NULL;
}

void ms_reply_decode_error(struct evhttp_request *req, int rc, const struct ag_error *err,
                           const char *body, size_t len)
{
	/* An unknown enum name reads as a missing `type` to the decoders;
	 * name the client's type back (bounded: it is the client's text). */
	json_t *j = rc == -EINVAL && strcmp(err->msg, "Expecting 'type' to be present") == 0
	                    ? json_loadb(body, len, 0, NULL)
	                    : NULL;
	const char *t = json_string_value(json_object_get(j, "type"));
	if (t)
		ms_http_reply_error(req, HTTP_BADREQUEST, "Unknown call type '%.128s'", t);
	else
		ms_http_reply_error(req, rc == -EMSGSIZE ? HTTP_ENTITYTOOLARGE : HTTP_BADREQUEST,
		                    "%s", err->msg);
	json_decref(j);
}
