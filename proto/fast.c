/* fast.c: lean decoders for the master's busiest messages, the scheduler's
 * ACKNOWLEDGE and ACCEPT and the agents' STATUS_UPDATE: read straight from
 * the text, without a jansson tree or the normalizer.
 *
 * They take only the plain form clients write: known fields, each once,
 * strings of printable ASCII without escapes, values already canonical
 * (padded base64, exact enum names, a timestamp as pb_json_dump() prints
 * it). Anything else -- a syntax error included -- is not theirs: the
 * caller then runs the full decoder, so the results and the error messages
 * are those of the full decoder by construction. */
#include "proto/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct scan {
	const char *p, *end;
	bool compact; /* whitespace is not plain here (pb_json_dump() writes none) */
	bool bad;
};

static void sc_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')) {
		s->bad |= s->compact;
		s->p++;
	}
}

static bool sc_ch(struct scan *s, char c)
{
	sc_ws(s);
	if (s->p < s->end && *s->p == c) {
		s->p++;
		return true;
	}
	return false;
}

/* A string written as it is by pb_json_dump(): printable ASCII but '"'
 * and '\\'. */
static bool sc_str(struct scan *s, const char **ret, size_t *ret_n)
{
	sc_ws(s);
	if (s->p >= s->end || *s->p != '"')
		return false;
	const char *b = ++s->p;
	for (; s->p < s->end && *s->p != '"'; s->p++) {
		unsigned char ch = (unsigned char)*s->p;
		if (ch < 0x20 || ch > 0x7e || ch == '\\')
			return false;
	}
	if (s->p >= s->end)
		return false;
	*ret = b;
	*ret_n = (size_t)(s->p - b);
	s->p++;
	return true;
}

static bool sc_key(struct scan *s, const char **k, size_t *n)
{
	return sc_str(s, k, n) && sc_ch(s, ':');
}

static bool is(const char *k, size_t n, const char *want)
{
	return strlen(want) == n && memcmp(k, want, n) == 0;
}

/* {"value":"<plain string, a valid id>"}: an invalid id is the full
 * decoder's to refuse, naming the field. */
static bool sc_id(struct scan *s, const char **v, size_t *n)
{
	const char *k;
	size_t kn;
	return sc_ch(s, '{') && sc_key(s, &k, &kn) && is(k, kn, "value") && sc_str(s, v, n) &&
	       !pb_id_problem(*v, *n) && sc_ch(s, '}');
}

static const char *dup_str(struct pb_arena *a, const char *s, size_t n)
{
	char *d = pb__alloc(a, n + 1);
	memcpy(d, s, n);
	return d;
}

/* Canonical (padded, as pb_base64_encode() writes it), non-empty base64:
 * its bytes in the arena. */
static bool canon_bytes(struct pb_arena *a, const char *s, size_t n, struct pb_bytes *ret)
{
	if (n == 0 || n % 4 != 0)
		return false;
	_cleanup_free_ uint8_t *data = NULL;
	size_t len;
	if (pb_base64_decode(s, n, &data, &len) < 0)
		return false;
	_cleanup_free_ char *canon = pb_base64_encode(data, len);
	if (strlen(canon) != n || memcmp(canon, s, n) != 0)
		return false;
	uint8_t *copy = pb__alloc(a, len + 1);
	memcpy(copy, data, len);
	*ret = (struct pb_bytes){copy, len};
	return true;
}

/* An enum value by its exact name; 0 when unknown. */
static int enum_of(const struct pb__enum *e, const char *s, size_t n)
{
	char name[64];
	if (n >= sizeof(name))
		return 0;
	memcpy(name, s, n);
	name[n] = '\0';
	return pb__enum_value(e, name);
}

/* A double written as pb_json_dump() writes it (JSON_REAL_PRECISION(16),
 * a ".0" added when there is no '.'), without an exponent. */
static bool sc_canon_double(struct scan *s, double *ret)
{
	sc_ws(s);
	const char *b = s->p;
	while (s->p < s->end && (*s->p == '-' || *s->p == '.' || (*s->p >= '0' && *s->p <= '9')))
		s->p++;
	size_t n = (size_t)(s->p - b);
	char in[40], out[48];
	if (n == 0 || n >= sizeof(in))
		return false;
	memcpy(in, b, n);
	in[n] = '\0';
	char *e;
	double d = strtod(in, &e);
	if (*e)
		return false;
	int k = snprintf(out, sizeof(out), "%.16g", d);
	if (k <= 0 || (size_t)k >= sizeof(out) - 2 || strchr(out, 'e') || strchr(out, 'n') ||
	    strchr(out, 'i'))
		return false;
	if (!strchr(out, '.'))
		strcat(out, ".0");
	if (strcmp(out, in) != 0)
		return false;
	*ret = d;
	return true;
}

static bool sc_end(struct scan *s)
{
	sc_ws(s);
	return s->p == s->end;
}

int pb__ack_decode_plain(const char *buf, size_t len, struct pb_call *ret_call)
{
	if (len > PB_MAX_MESSAGE)
		return 0;
	struct scan s = {buf, buf + len, false, false};
	const char *k, *type = NULL, *fw = NULL, *agent = NULL, *task = NULL, *uuid = NULL;
	size_t kn, tn = 0, fn = 0, an = 0, taskn = 0, un = 0;
	bool payload = false;
	if (!sc_ch(&s, '{'))
		return 0;
	do {
		if (!sc_key(&s, &k, &kn))
			return 0;
		if (is(k, kn, "type") && !type) {
			if (!sc_str(&s, &type, &tn))
				return 0;
		} else if (is(k, kn, "framework_id") && !fw) {
			if (!sc_id(&s, &fw, &fn))
				return 0;
		} else if (is(k, kn, "acknowledge") && !payload) {
			payload = true;
			if (!sc_ch(&s, '{'))
				return 0;
			do {
				if (!sc_key(&s, &k, &kn))
					return 0;
				if (is(k, kn, "agent_id") && !agent) {
					if (!sc_id(&s, &agent, &an))
						return 0;
				} else if (is(k, kn, "task_id") && !task) {
					if (!sc_id(&s, &task, &taskn))
						return 0;
				} else if (is(k, kn, "uuid") && !uuid) {
					if (!sc_str(&s, &uuid, &un))
						return 0;
				} else {
					return 0;
				}
			} while (sc_ch(&s, ','));
			if (!sc_ch(&s, '}'))
				return 0;
		} else {
			return 0;
		}
	} while (sc_ch(&s, ','));
	if (!sc_ch(&s, '}') || !sc_end(&s) || !type || !is(type, tn, "ACKNOWLEDGE") || !fw ||
	    !agent || !task || !uuid)
		return 0;

	struct pb_call c = {0};
	c.arena = pb_arena_new();
	if (!canon_bytes(c.arena, uuid, un, &c.acknowledge.uuid)) {
		pb_arena_free(c.arena);
		return 0;
	}
	c.type = PB_CALL_ACKNOWLEDGE;
	c.framework_id = dup_str(c.arena, fw, fn);
	c.acknowledge.agent_id = dup_str(c.arena, agent, an);
	c.acknowledge.task_id = dup_str(c.arena, task, taskn);
	*ret_call = c;
	return 1;
}

/* TaskStatus fields the plain form may carry, in the message table's order:
 * the normalizer writes them in that order, so a status whose keys come in
 * it, compact, with canonical values, is its own normalized text. */
enum {
	ST_TASK_ID,
	ST_STATE,
	ST_MESSAGE,
	ST_SOURCE,
	ST_REASON,
	ST_DATA,
	ST_AGENT_ID,
	ST_EXECUTOR_ID,
	ST_TIMESTAMP,
	ST_UUID,
	ST_HEALTHY,
	ST_CONTAINER_STATUS,
	ST_N
};

static const char *const st_keys[ST_N] = {
        "task_id",  "state",       "message",   "source", "reason",  "data",
        "agent_id", "executor_id", "timestamp", "uuid",   "healthy", "container_status",
};

static bool sc_status(struct scan *s, struct pb_arena *a, struct pb_task_status *st)
{
	memset(st, 0, sizeof(*st));
	s->compact = true;
	if (!sc_ch(s, '{'))
		return false;
	int last = -1;
	do {
		const char *k, *v;
		size_t kn, vn;
		if (!sc_key(s, &k, &kn))
			return false;
		int f = last + 1;
		while (f < ST_N && !is(k, kn, st_keys[f]))
			f++;
		if (f == ST_N)
			return false; /* unknown, repeated or out of order */
		last = f;
		switch (f) {
		case ST_TASK_ID:
		case ST_AGENT_ID:
		case ST_EXECUTOR_ID:
			if (!sc_id(s, &v, &vn))
				return false;
			*(f == ST_TASK_ID    ? &st->task_id
			  : f == ST_AGENT_ID ? &st->agent_id
			                     : &st->executor_id) = dup_str(a, v, vn);
			break;
		case ST_STATE:
			if (!sc_str(s, &v, &vn) ||
			    !(st->state = (enum pb_task_state)enum_of(&pb__e_task_state, v, vn)))
				return false;
			break;
		case ST_MESSAGE:
			if (!sc_str(s, &v, &vn))
				return false;
			st->message = dup_str(a, v, vn);
			break;
		case ST_SOURCE:
			if (!sc_str(s, &v, &vn) ||
			    !(st->source = (enum pb_task_source)enum_of(&pb__e_source, v, vn)))
				return false;
			break;
		case ST_REASON:
			if (!sc_str(s, &v, &vn) ||
			    !(st->reason = (enum pb_task_reason)enum_of(&pb__e_reason, v, vn)))
				return false;
			break;
		case ST_DATA:
		case ST_UUID:
			if (!sc_str(s, &v, &vn) ||
			    !canon_bytes(a, v, vn, f == ST_DATA ? &st->data : &st->uuid))
				return false;
			break;
		case ST_TIMESTAMP:
			if (!sc_canon_double(s, &st->timestamp))
				return false;
			st->has_timestamp = true;
			break;
		case ST_HEALTHY:
			if ((size_t)(s->end - s->p) >= 4 && memcmp(s->p, "true", 4) == 0) {
				st->healthy = true;
				s->p += 4;
			} else if ((size_t)(s->end - s->p) >= 5 && memcmp(s->p, "false", 5) == 0) {
				s->p += 5;
			} else {
				return false;
			}
			st->has_healthy = true;
			break;
		case ST_CONTAINER_STATUS:
			/* {"container_id":{"value":"…"}}, what agents send */
			if (!sc_ch(s, '{') || !sc_key(s, &k, &kn) || !is(k, kn, "container_id") ||
			    !sc_id(s, &v, &vn) || !sc_ch(s, '}'))
				return false;
			st->container_id = dup_str(a, v, vn);
			break;
		}
	} while (sc_ch(s, ','));
	bool ok =
	        sc_ch(s, '}') && !s->bad && st->task_id && st->state && st->uuid.len == PB_UUID_LEN;
	s->compact = false;
	return ok;
}

/* {"framework_id":{...},"status":{...}} in either order. */
static bool sc_update(struct scan *s, struct pb_arena *a, struct pb_status_update *u)
{
	const char *k, *fw = NULL, *st_b = NULL, *st_e = NULL;
	size_t kn, fn = 0;
	if (!sc_ch(s, '{'))
		return false;
	do {
		if (!sc_key(s, &k, &kn))
			return false;
		if (is(k, kn, "framework_id") && !fw) {
			if (!sc_id(s, &fw, &fn))
				return false;
		} else if (is(k, kn, "status") && !st_b) {
			sc_ws(s);
			st_b = s->p;
			if (!sc_status(s, a, &u->status))
				return false;
			st_e = s->p;
		} else {
			return false;
		}
	} while (sc_ch(s, ','));
	if (!sc_ch(s, '}') || !fw || !st_b)
		return false;
	u->framework_id = dup_str(a, fw, fn);
	u->status_text = dup_str(a, st_b, (size_t)(st_e - st_b));
	return true;
}

/* {"updates":[update, ...]} with at least one update. */
static bool sc_updates(struct scan *s, struct pb_arena *a, struct pb_agent_msg *m)
{
	const char *k;
	size_t kn, n = 0, cap = 0;
	_cleanup_free_ struct pb_status_update *v = NULL;
	if (!sc_ch(s, '{') || !sc_key(s, &k, &kn) || !is(k, kn, "updates") || !sc_ch(s, '['))
		return false;
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			v = ag_realloc(v, cap * sizeof(*v));
		}
		memset(&v[n], 0, sizeof(v[n]));
		if (!sc_update(s, a, &v[n]))
			return false;
		n++;
	} while (sc_ch(s, ','));
	if (!sc_ch(s, ']') || !sc_ch(s, '}'))
		return false;
	struct pb_status_update *out = pb__new_array(a, struct pb_status_update, n);
	memcpy(out, v, n * sizeof(*v));
	m->status_updates.updates = out;
	m->status_updates.n_updates = n;
	return true;
}

int pb__status_update_decode_plain(const char *buf, size_t len, struct pb_agent_msg *ret_msg)
{
	if (len > PB_MAX_MESSAGE)
		return 0;
	struct scan s = {buf, buf + len, false, false};
	const char *k, *type = NULL, *agent = NULL;
	size_t kn, tn = 0, an = 0;
	const char *payload = NULL; /* the payload key seen */
	struct pb_agent_msg m = {0};
	m.arena = pb_arena_new();
	if (!sc_ch(&s, '{'))
		goto plain_not;
	do {
		if (!sc_key(&s, &k, &kn))
			goto plain_not;
		if (is(k, kn, "type") && !type) {
			if (!sc_str(&s, &type, &tn))
				goto plain_not;
		} else if (is(k, kn, "agent_id") && !agent) {
			if (!sc_id(&s, &agent, &an))
				goto plain_not;
		} else if (is(k, kn, "status_update") && !payload) {
			payload = "STATUS_UPDATE";
			if (!sc_update(&s, m.arena, &m.status_update))
				goto plain_not;
		} else if (is(k, kn, "status_updates") && !payload) {
			payload = "STATUS_UPDATES";
			if (!sc_updates(&s, m.arena, &m))
				goto plain_not;
		} else {
			goto plain_not;
		}
	} while (sc_ch(&s, ','));
	if (!sc_ch(&s, '}') || !sc_end(&s) || !type || !payload || !is(type, tn, payload) || !agent)
		goto plain_not;
	m.type = strcmp(payload, "STATUS_UPDATE") == 0 ? PB_AGENT_STATUS_UPDATE
	                                               : PB_AGENT_STATUS_UPDATES;
	m.agent_id = dup_str(m.arena, agent, an);
	*ret_msg = m;
	return 1;
plain_not:
	pb_arena_free(m.arena);
	return 0;
}

/* ---- ACCEPT ----
 *
 * The plain form of an ACCEPT of LAUNCH operations: each TaskInfo has only
 * name, task_id, agent_id, resources (scalar ones: name, type SCALAR,
 * scalar, role, allocation_info.role) and command (shell, value, arguments,
 * user), in the message table's order, each once; numbers without sign or
 * exponent. Each TaskInfo's normalized text -- what pb_json_dump() writes
 * for the full decoder's tree, kept by the master and forwarded in RUN_TASK
 * -- is written here as it is read: its keys are in that order already,
 * strings are written as they came (printable ASCII without escapes, which
 * pb_json_dump() writes as it is), numbers as the real they are. */

struct text {
	char *b;
	size_t n, cap;
};

/* Appends to `t`; nothing when it is NULL (an array whose elements keep
 * texts of their own, or none). */
static void put(struct text *t, const char *s, size_t n)
{
	if (!t)
		return;
	if (t->n + n + 1 > t->cap) {
		t->cap = 2 * (t->n + n + 1);
		t->b = ag_realloc(t->b, t->cap);
	}
	memcpy(t->b + t->n, s, n);
	t->n += n;
	t->b[t->n] = '\0';
}

static void put_s(struct text *t, const char *s)
{
	put(t, s, strlen(s));
}

/* ,"key": (the comma unless `first`) */
static void put_key(struct text *t, bool first, const char *k)
{
	if (!first)
		put(t, ",", 1);
	put(t, "\"", 1);
	put_s(t, k);
	put(t, "\":", 2);
}

static void put_str(struct text *t, const char *v, size_t n)
{
	put(t, "\"", 1);
	put(t, v, n);
	put(t, "\"", 1);
}

/* A number without sign or exponent: an integer of at most 15 digits or a
 * decimal fraction, read as jansson reads it (strtod); `canon` is how
 * pb_json_dump() prints it as a real (JSON_REAL_PRECISION(16), ".0" added
 * when there is no '.'), refused when that would need an exponent. */
static bool sc_number(struct scan *s, double *ret, char canon[48])
{
	sc_ws(s);
	const char *b = s->p;
	if (s->p < s->end && *s->p == '0') {
		s->p++;
	} else {
		if (s->p >= s->end || *s->p < '1' || *s->p > '9')
			return false;
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	}
	size_t int_digits = (size_t)(s->p - b);
	bool frac = s->p < s->end && *s->p == '.';
	if (frac) {
		const char *f = ++s->p;
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
		if (s->p == f)
			return false;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E' || (*s->p >= '0' && *s->p <= '9')))
		return false;
	size_t n = (size_t)(s->p - b);
	char in[40];
	if (n >= sizeof(in) || (!frac && int_digits > 15))
		return false;
	memcpy(in, b, n);
	in[n] = '\0';
	if (!frac) {
		/* At most 15 digits: exact, and printed as they are. */
		memcpy(canon, in, n);
		memcpy(canon + n, ".0", 3);
		*ret = (double)strtoll(in, NULL, 10);
		return true;
	}
	double d = strtod(in, NULL);
	int k = snprintf(canon, 48, "%.16g", d);
	if (k <= 0 || k >= 45 || strpbrk(canon, "eEni"))
		return false;
	if (!strchr(canon, '.'))
		strcat(canon, ".0");
	*ret = d;
	return true;
}

/* {"value":"<id>"} into the text and the arena. */
static bool tx_id(struct scan *s, struct text *t, struct pb_arena *a, const char **ret)
{
	const char *v;
	size_t n;
	if (!sc_id(s, &v, &n))
		return false;
	put_s(t, "{\"value\":");
	put_str(t, v, n);
	put(t, "}", 1);
	*ret = dup_str(a, v, n);
	return true;
}

static bool tx_str(struct scan *s, struct text *t, struct pb_arena *a, const char **ret)
{
	const char *v;
	size_t n;
	if (!sc_str(s, &v, &n))
		return false;
	put_str(t, v, n);
	*ret = dup_str(a, v, n);
	return true;
}

/* Fields are taken in `keys` order, each at most once: the next key must
 * come later in it. Returns its index, or -1. */
static int next_field(struct scan *s, const char *const *keys, int n_keys, int last)
{
	const char *k;
	size_t kn;
	if (!sc_key(s, &k, &kn))
		return -1;
	for (int f = last + 1; f < n_keys; f++)
		if (is(k, kn, keys[f]))
			return f;
	return -1;
}

enum { RS_NAME, RS_TYPE, RS_SCALAR, RS_ROLE, RS_ALLOCATION_INFO, RS_N };
static const char *const rs_keys[RS_N] = {"name", "type", "scalar", "role", "allocation_info"};

static bool tx_resource(struct scan *s, struct text *t, struct pb_arena *a, struct pb_resource *r)
{
	if (!sc_ch(s, '{'))
		return false;
	put(t, "{", 1);
	int last = -1;
	bool scalar = false;
	do {
		int f = next_field(s, rs_keys, RS_N, last);
		if (f < 0)
			return false;
		put_key(t, last < 0, rs_keys[f]);
		last = f;
		const char *k, *v;
		size_t kn, vn;
		switch (f) {
		case RS_NAME:
			if (!tx_str(s, t, a, &r->name))
				return false;
			break;
		case RS_TYPE:
			if (!sc_str(s, &v, &vn) || !is(v, vn, "SCALAR"))
				return false;
			r->type = PB_VALUE_SCALAR;
			put_str(t, v, vn);
			break;
		case RS_SCALAR: {
			double d;
			char canon[48];
			if (!sc_ch(s, '{') || !sc_key(s, &k, &kn) || !is(k, kn, "value") ||
			    !sc_number(s, &d, canon) || !sc_ch(s, '}'))
				return false;
			put_s(t, "{\"value\":");
			put_s(t, canon);
			put(t, "}", 1);
			r->scalar_milli = pb__scalar_milli(d);
			scalar = true;
			break;
		}
		case RS_ROLE:
			if (!tx_str(s, t, a, &r->role))
				return false;
			break;
		case RS_ALLOCATION_INFO:
			if (!sc_ch(s, '{') || !sc_key(s, &k, &kn) || !is(k, kn, "role"))
				return false;
			put_s(t, "{\"role\":");
			if (!tx_str(s, t, a, &r->allocation_role) || !sc_ch(s, '}'))
				return false;
			put(t, "}", 1);
			break;
		}
	} while (sc_ch(s, ','));
	put(t, "}", 1);
	/* name and type are required; a scalar resource without its value is
	 * the full decoder's (it reads 0). */
	return sc_ch(s, '}') && r->name && r->type && scalar;
}

/* One element of an array, read into `elem` (zeroed). */
typedef bool (*tx_one_fn)(struct scan *s, struct text *t, struct pb_arena *a, void *elem);

/* [x, ...] with at least one element (the normalizer drops an empty array),
 * each read by `one`; the elements in the arena. */
static bool tx_array(struct scan *s, struct text *t, struct pb_arena *a, size_t size, tx_one_fn one,
                     void **ret, size_t *ret_n)
{
	if (!sc_ch(s, '['))
		return false;
	put(t, "[", 1);
	_cleanup_free_ char *v = NULL;
	size_t n = 0, cap = 0;
	do {
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			v = ag_realloc(v, cap * size);
		}
		memset(v + n * size, 0, size);
		if (n)
			put(t, ",", 1);
		if (!one(s, t, a, v + n * size))
			return false;
		n++;
	} while (sc_ch(s, ','));
	if (!sc_ch(s, ']'))
		return false;
	put(t, "]", 1);
	char *out = pb__alloc(a, n * size);
	memcpy(out, v, n * size);
	*ret = out;
	*ret_n = n;
	return true;
}

static bool one_str(struct scan *s, struct text *t, struct pb_arena *a, void *elem)
{
	return tx_str(s, t, a, elem);
}

static bool one_resource(struct scan *s, struct text *t, struct pb_arena *a, void *elem)
{
	return tx_resource(s, t, a, elem);
}

enum { CM_SHELL, CM_VALUE, CM_ARGUMENTS, CM_USER, CM_N };
static const char *const cm_keys[CM_N] = {"shell", "value", "arguments", "user"};

static bool tx_command(struct scan *s, struct text *t, struct pb_arena *a,
                       const struct pb_command_info **ret)
{
	struct pb_command_info *c = pb__alloc(a, sizeof(*c));
	c->shell = true;
	if (!sc_ch(s, '{'))
		return false;
	put(t, "{", 1);
	int last = -1;
	do {
		int f = next_field(s, cm_keys, CM_N, last);
		if (f < 0)
			return false;
		put_key(t, last < 0, cm_keys[f]);
		last = f;
		switch (f) {
		case CM_SHELL:
			sc_ws(s);
			if ((size_t)(s->end - s->p) >= 4 && memcmp(s->p, "true", 4) == 0) {
				s->p += 4;
				put_s(t, "true");
			} else if ((size_t)(s->end - s->p) >= 5 && memcmp(s->p, "false", 5) == 0) {
				s->p += 5;
				c->shell = false;
				put_s(t, "false");
			} else {
				return false;
			}
			break;
		case CM_VALUE:
			if (!tx_str(s, t, a, &c->value))
				return false;
			break;
		case CM_ARGUMENTS: {
			void *args;
			if (!tx_array(s, t, a, sizeof(const char *), one_str, &args,
			              &c->n_arguments))
				return false;
			c->arguments = args;
			break;
		}
		case CM_USER:
			if (!tx_str(s, t, a, &c->user))
				return false;
			break;
		}
	} while (sc_ch(s, ','));
	put(t, "}", 1);
	*ret = c;
	return sc_ch(s, '}');
}

enum { TI_NAME, TI_TASK_ID, TI_AGENT_ID, TI_RESOURCES, TI_COMMAND, TI_N };
static const char *const ti_keys[TI_N] = {"name", "task_id", "agent_id", "resources", "command"};

static bool sc_task_info(struct scan *s, struct pb_arena *a, struct pb_task_info *ti)
{
	struct text t = {0};
	bool ok = sc_ch(s, '{');
	if (ok)
		put(&t, "{", 1);
	int last = -1;
	while (ok) {
		int f = next_field(s, ti_keys, TI_N, last);
		if (f < 0) {
			ok = false;
			break;
		}
		put_key(&t, last < 0, ti_keys[f]);
		last = f;
		switch (f) {
		case TI_NAME:
			ok = tx_str(s, &t, a, &ti->name);
			break;
		case TI_TASK_ID:
			ok = tx_id(s, &t, a, &ti->task_id);
			break;
		case TI_AGENT_ID:
			ok = tx_id(s, &t, a, &ti->agent_id);
			break;
		case TI_RESOURCES: {
			void *res = NULL;
			ok = tx_array(s, &t, a, sizeof(struct pb_resource), one_resource, &res,
			              &ti->n_resources);
			ti->resources = res;
			break;
		}
		case TI_COMMAND:
			ok = tx_command(s, &t, a, &ti->command);
			break;
		}
		if (!ok || !sc_ch(s, ','))
			break;
	}
	ok = ok && sc_ch(s, '}') && ti->name && ti->task_id && ti->agent_id;
	if (ok) {
		put(&t, "}", 1);
		ti->text = dup_str(a, t.b, t.n);
	}
	free(t.b);
	return ok;
}

static bool one_task_info(struct scan *s, struct text *t, struct pb_arena *a, void *elem)
{
	(void)t; /* each TaskInfo has a text of its own */
	return sc_task_info(s, a, elem);
}

/* {"type":"LAUNCH","launch":{"task_infos":[...]}}, keys in either order. */
static bool sc_launch(struct scan *s, struct pb_arena *a, struct pb_operation *op)
{
	const char *k, *type = NULL;
	size_t kn, tn = 0;
	bool launch = false;
	if (!sc_ch(s, '{'))
		return false;
	do {
		if (!sc_key(s, &k, &kn))
			return false;
		if (is(k, kn, "type") && !type) {
			if (!sc_str(s, &type, &tn) || !is(type, tn, "LAUNCH"))
				return false;
		} else if (is(k, kn, "launch") && !launch) {
			launch = true;
			void *tis = NULL;
			if (!sc_ch(s, '{') || !sc_key(s, &k, &kn) || !is(k, kn, "task_infos") ||
			    !tx_array(s, NULL, a, sizeof(struct pb_task_info), one_task_info, &tis,
			              &op->n_tasks) ||
			    !sc_ch(s, '}'))
				return false;
			op->tasks = tis;
		} else {
			return false;
		}
	} while (sc_ch(s, ','));
	op->type = PB_OPERATION_LAUNCH;
	return sc_ch(s, '}') && type && launch;
}

static bool one_offer_id(struct scan *s, struct text *t, struct pb_arena *a, void *elem)
{
	const char *v;
	size_t n;
	(void)t;
	if (!sc_id(s, &v, &n))
		return false;
	*(const char **)elem = dup_str(a, v, n);
	return true;
}

static bool one_launch(struct scan *s, struct text *t, struct pb_arena *a, void *elem)
{
	(void)t;
	return sc_launch(s, a, elem);
}

/* {"offer_ids":[...],"operations":[...],"filters":{"refuse_seconds":N}},
 * keys in any order, filters optional. */
static bool sc_accept(struct scan *s, struct pb_arena *a, struct pb_call_offers *acc)
{
	const char *k;
	size_t kn;
	bool ids = false, ops = false, filters = false;
	acc->filters.refuse_seconds = 5.0; /* as the full decoder reads no filters */
	bool ok = sc_ch(s, '{');
	while (ok) {
		ok = sc_key(s, &k, &kn);
		if (!ok)
			break;
		if (is(k, kn, "offer_ids") && !ids) {
			ids = true;
			void *v = NULL;
			ok = tx_array(s, NULL, a, sizeof(const char *), one_offer_id, &v,
			              &acc->n_offer_ids);
			acc->offer_ids = v;
		} else if (is(k, kn, "operations") && !ops) {
			ops = true;
			void *v = NULL;
			ok = tx_array(s, NULL, a, sizeof(struct pb_operation), one_launch, &v,
			              &acc->n_operations);
			acc->operations = v;
		} else if (is(k, kn, "filters") && !filters) {
			filters = true;
			char canon[48];
			ok = sc_ch(s, '{') && sc_key(s, &k, &kn) && is(k, kn, "refuse_seconds") &&
			     sc_number(s, &acc->filters.refuse_seconds, canon) && sc_ch(s, '}');
			acc->filters.has_refuse_seconds = true;
		} else {
			ok = false;
		}
		if (!ok || !sc_ch(s, ','))
			break;
	}
	return ok && sc_ch(s, '}') && ids && ops;
}

int pb__accept_decode_plain(const char *buf, size_t len, struct pb_call *ret_call)
{
	if (len > PB_MAX_MESSAGE)
		return 0;
	struct scan s = {buf, buf + len, false, false};
	const char *k, *type = NULL, *fw = NULL;
	size_t kn, tn = 0, fn = 0;
	bool payload = false;
	struct pb_call c = {0};
	c.arena = pb_arena_new();
	if (!sc_ch(&s, '{'))
		goto plain_not;
	do {
		if (!sc_key(&s, &k, &kn))
			goto plain_not;
		if (is(k, kn, "type") && !type) {
			if (!sc_str(&s, &type, &tn))
				goto plain_not;
		} else if (is(k, kn, "framework_id") && !fw) {
			if (!sc_id(&s, &fw, &fn))
				goto plain_not;
		} else if (is(k, kn, "accept") && !payload) {
			payload = true;
			if (!sc_accept(&s, c.arena, &c.accept))
				goto plain_not;
		} else {
			goto plain_not;
		}
	} while (sc_ch(&s, ','));
	if (!sc_ch(&s, '}') || !sc_end(&s) || !type || !is(type, tn, "ACCEPT") || !fw || !payload)
		goto plain_not;
	c.type = PB_CALL_ACCEPT;
	c.framework_id = dup_str(c.arena, fw, fn);
	*ret_call = c;
	return 1;
plain_not:
	pb_arena_free(c.arena);
	return 0;
}
