/* schema.c: the normalizer. It walks client JSON along a message table the
 * way stout's protobuf parser does and builds a canonical tree: only known
 * fields, numbers as numbers, bools as bools, arrays as arrays, base64 with
 * padding, enums by known names. A type error stops at once with the path
 * of the field; missing required fields are all collected first and
 * reported together, as protobuf's InitializationErrorString does. */
#include "proto/internal.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <string.h>

#define PATH_MAX_LEN 400
#define MISSING_MAX  700

struct ctx {
	const char *root;
	struct ag_error *err;
	char path[PATH_MAX_LEN];
	size_t len;
	char missing[MISSING_MAX];
	size_t mlen;
	bool missing_cut;
	/* The input is private to the normalizer (pb__parse): values already
	 * in canonical form are shared into the output (a reference, not a
	 * copy) and a message or array that comes out identical, keys in the
	 * same order, is the input itself. The output is the same JSON; only
	 * the allocations differ. */
	bool share;
};

/* `in` as the output when sharing: a new reference. */
static json_t *shared(const json_t *in)
{
	return json_incref((json_t *)in);
}

/* Append ".key" (or "[idx]" when key is NULL) to the path. */
static size_t push(struct ctx *c, const char *key, size_t idx)
{
	/* Called for every field walked (the path is read only on an error):
	 * written without printf, truncated as snprintf would. */
	size_t saved = c->len;
	size_t room = sizeof(c->path) - c->len;
	char num[24];
	const char *parts[3];
	size_t lens[3], np = 0;
	if (key) {
		if (c->len) {
			parts[np] = ".";
			lens[np++] = 1;
		}
		parts[np] = key;
		lens[np++] = strlen(key);
	} else {
		size_t k = sizeof(num);
		num[--k] = ']';
		do
			num[--k] = (char)('0' + idx % 10);
		while ((idx /= 10) != 0);
		num[--k] = '[';
		parts[np] = num + k;
		lens[np++] = sizeof(num) - k;
	}
	size_t n = 0;
	for (size_t i = 0; i < np; i++) {
		size_t take = lens[i] < room - 1 - n ? lens[i] : room - 1 - n;
		memcpy(c->path + c->len + n, parts[i], take);
		n += take;
	}
	c->path[c->len + n] = '\0';
	c->len += n;
	return saved;
}

static void pop(struct ctx *c, size_t saved)
{
	c->len = saved;
	c->path[saved] = '\0';
}

static int fail(struct ctx *c, const char *reason)
{
	return ag_error_msg(c->err, EINVAL, "%s%s%s: %s", c->root, c->len ? "." : "", c->path,
	                    reason);
}

static void add_missing(struct ctx *c, const char *name)
{
	size_t saved = push(c, name, 0);
	size_t room = sizeof(c->missing) - c->mlen;
	int n = snprintf(c->missing + c->mlen, room, "%s%s", c->mlen ? ", " : "", c->path);
	if (n < 0 || (size_t)n >= room) {
		c->missing[c->mlen] = '\0';
		c->missing_cut = true;
	} else {
		c->mlen += (size_t)n;
	}
	pop(c, saved);
}

/* A whole-string integer: optional sign, digits, nothing else. Above
 * INT64_MAX (unsigned only) it is false with *ret_big set. */
static bool parse_int_string(const char *s, bool is_unsigned, json_int_t *ret, bool *ret_big)
{
	const char *p = s;
	bool neg = false;
	if (*p == '-' || *p == '+') {
		neg = *p == '-';
		p++;
	}
	if (!isdigit((unsigned char)*p))
		return false;
	uint64_t v = 0;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (*p)
		return false;
	if (neg) {
		if (is_unsigned && v != 0)
			return false;
		if (v > (uint64_t)INT64_MAX + 1)
			return false;
		*ret = (json_int_t)(0 - v);
		return true;
	}
	/* uint64 above INT64_MAX cannot be a jansson integer. */
	if (v > INT64_MAX) {
		*ret_big = is_unsigned;
		return false;
	}
	*ret = (json_int_t)v;
	return true;
}

static int norm_int(struct ctx *c, const struct pb__field *f, const json_t *in, json_t **out)
{
	bool is_unsigned = f->kind == PB__UINT32 || f->kind == PB__UINT64;
	json_int_t v;
	if (json_is_integer(in)) {
		v = json_integer_value(in);
	} else if (json_is_real(in)) {
		double d = json_real_value(in);
		/* 31000.0 is an integer; 0.5 and 1e300 are not. */
		if (d != floor(d) || d < -9.2e18 || d > 9.2e18)
			return fail(c, "must be an integer");
		v = (json_int_t)d;
	} else if (json_is_string(in)) {
		bool big = false;
		if (!parse_int_string(json_string_value(in), is_unsigned, &v, &big)) {
			if (!big)
				return fail(c, "must be an integer");
			/* RLIM_INFINITY and its kin: kept as the digits, as
			 * protobuf's JSON writes any uint64. */
			if (!(f->flags & PB__U64_FULL))
				return fail(c, "out of range (at most 9223372036854775807)");
			const char *p = json_string_value(in);
			while (*p == '+' || *p == '0')
				p++;
			*out = json_string(p);
			return 0;
		}
	} else {
		return fail(c, "must be an integer");
	}
	if (is_unsigned && v < 0)
		return fail(c, "must not be negative");
	if (f->kind == PB__INT32 && (v < INT32_MIN || v > INT32_MAX))
		return fail(c, "out of range for int32");
	if (f->kind == PB__UINT32 && v > UINT32_MAX)
		return fail(c, "out of range for uint32");
	*out = c->share && json_is_integer(in) ? shared(in) : json_integer(v);
	return 0;
}

static int norm_double(struct ctx *c, const json_t *in, json_t **out)
{
	double d;
	if (json_is_number(in)) {
		d = json_number_value(in);
	} else if (json_is_string(in)) {
		const char *s = json_string_value(in);
		char *end;
		if (!*s || isspace((unsigned char)*s))
			return fail(c, "must be a number");
		d = strtod(s, &end);
		if (*end || isnan(d))
			return fail(c, "must be a number");
	} else {
		return fail(c, "must be a number");
	}
	/* "Infinity" is valid protobuf JSON but jansson cannot hold it; the
	 * largest double means the same to every consumer (a refusal time, a
	 * timeout). */
	if (isinf(d))
		d = d > 0 ? DBL_MAX : -DBL_MAX;
	*out = c->share && json_is_real(in) && json_real_value(in) == d ? shared(in) : json_real(d);
	return 0;
}

static int norm_msg(struct ctx *c, const struct pb__msg *m, const json_t *in, json_t **out);

/* One value of field f (an element when repeated). *out stays NULL when the
 * value is dropped (an unknown enum name). */
static int norm_value(struct ctx *c, const struct pb__field *f, const json_t *in, json_t **out)
{
	*out = NULL;
	switch ((enum pb__kind)f->kind) {
	case PB__STRING:
		if (!json_is_string(in))
			return fail(c, "must be a string");
		if ((f->flags & PB__ID) &&
		    !(json_string_length(in) == 0 && (f->flags & PB__ID_EMPTY))) {
			const char *why =
			        pb_id_problem(json_string_value(in), json_string_length(in));
			if (why) {
				char reason[96];
				snprintf(reason, sizeof(reason), "not a valid id: %s", why);
				return fail(c, reason);
			}
		}
		*out = c->share ? shared(in)
		                : json_stringn(json_string_value(in), json_string_length(in));
		return 0;
	case PB__BYTES: {
		if (!json_is_string(in))
			return fail(c, "must be a base64 string");
		_cleanup_free_ uint8_t *data = NULL;
		size_t len;
		if (pb_base64_decode(json_string_value(in), json_string_length(in), &data, &len) <
		    0)
			return fail(c, "invalid base64");
		_cleanup_free_ char *canon = pb_base64_encode(data, len);
		*out = c->share && strcmp(canon, json_string_value(in)) == 0 ? shared(in)
		                                                             : json_string(canon);
		return 0;
	}
	case PB__BOOL:
		if (json_is_boolean(in)) {
			*out = json_boolean(json_is_true(in));
			return 0;
		}
		if (json_is_string(in) && strcmp(json_string_value(in), "true") == 0) {
			*out = json_true();
			return 0;
		}
		if (json_is_string(in) && strcmp(json_string_value(in), "false") == 0) {
			*out = json_false();
			return 0;
		}
		return fail(c, "must be a boolean");
	case PB__INT32:
	case PB__INT64:
	case PB__UINT32:
	case PB__UINT64:
		return norm_int(c, f, in, out);
	case PB__DOUBLE:
		return norm_double(c, in, out);
	case PB__ENUM: {
		if (json_is_number(in))
			return fail(c, "must be an enum name, not a number");
		if (!json_is_string(in))
			return fail(c, "must be an enum name");
		int v = pb__enum_value(f->enm, json_string_value(in));
		if (v == 0) {
			/* stout drops an unknown name unless the field is
			 * required, where it has nothing to put instead. */
			if (f->flags & PB__REQ) {
				char reason[160];
				snprintf(reason, sizeof(reason), "unknown value '%.100s'",
				         json_string_value(in));
				return fail(c, reason);
			}
			return 0;
		}
		*out = c->share && strcmp(json_string_value(in), f->enm->names[v]) == 0
		               ? shared(in)
		               : json_string(f->enm->names[v]);
		return 0;
	}
	case PB__MSG:
		return norm_msg(c, f->msg, in, out);
	case PB__MAP: {
		if (!json_is_object(in))
			return fail(c, "must be an object");
		json_t *o = json_object();
		const char *k;
		json_t *v;
		json_object_foreach ((json_t *)in, k, v) {
			if (json_is_null(v))
				continue;
			size_t saved = push(c, k, 0);
			json_t *nv;
			int r = norm_msg(c, f->msg, v, &nv);
			pop(c, saved);
			if (r < 0) {
				json_decref(o);
				return r;
			}
			json_object_set_new(o, k, nv);
		}
		*out = o;
		return 0;
	}
	case PB__RAW:
		if (!json_is_object(in))
			return fail(c, "must be an object");
		*out = c->share ? shared(in) : json_deep_copy(in);
		return 0;
	}
	return fail(c, "unsupported field kind");
}

/* Field f's value for `in`: *out is NULL when nothing is kept. */
static int norm_field(struct ctx *c, const struct pb__field *f, const json_t *in, json_t **out)
{
	*out = NULL;
	if (!(f->flags & PB__REP))
		return norm_value(c, f, in, out);
	json_t *arr = json_array();
	if (json_is_array(in)) {
		size_t i;
		json_t *e;
		bool same = c->share;
		json_array_foreach (in, i, e) {
			if (json_is_null(e)) {
				same = false;
				continue;
			}
			size_t saved = push(c, NULL, i);
			json_t *v;
			int r = norm_value(c, f, e, &v);
			pop(c, saved);
			if (r < 0) {
				json_decref(arr);
				return r;
			}
			same = same && v == e;
			if (v)
				json_array_append_new(arr, v);
		}
		if (same && json_array_size(arr) > 0) {
			json_decref(arr);
			*out = shared(in);
			return 0;
		}
	} else {
		/* A lone value is a one-element array (stout). */
		json_t *v;
		int r = norm_value(c, f, in, &v);
		if (r < 0) {
			json_decref(arr);
			return r;
		}
		if (v)
			json_array_append_new(arr, v);
	}
	if (json_array_size(arr) > 0)
		*out = arr;
	else
		json_decref(arr);
	return 0;
}

#define SHARE_MAX_FIELDS 64

/* norm_msg() when sharing (m has at most SHARE_MAX_FIELDS fields): the
 * fields' values first; the input object
 * itself when they are all its own values, in its key order, with no key
 * left out. The same checks and errors, in the same order. */
static int norm_msg_shared(struct ctx *c, const struct pb__msg *m, const json_t *in, json_t **out)
{
	const struct pb__field *fs[SHARE_MAX_FIELDS];
	json_t *vs[SHARE_MAX_FIELDS];
	size_t n = 0;
	int r = 0;
	for (const struct pb__field *f = m->fields; f->name; f++) {
		json_t *v = json_object_get(in, f->name);
		if (!v || json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0)) {
			if (f->flags & PB__REQ)
				add_missing(c, f->name);
			continue;
		}
		size_t saved = push(c, f->name, 0);
		json_t *nv;
		r = norm_field(c, f, v, &nv);
		pop(c, saved);
		if (r < 0)
			goto out;
		if (!nv)
			continue;
		fs[n] = f;
		vs[n++] = nv;
	}
	bool same = n == json_object_size(in);
	void *it = json_object_iter((json_t *)in);
	for (size_t i = 0; same && i < n; i++, it = json_object_iter_next((json_t *)in, it))
		same = it && strcmp(json_object_iter_key(it), fs[i]->name) == 0 &&
		       json_object_iter_value(it) == vs[i];
	if (same) {
		*out = shared(in);
	} else {
		json_t *o = json_object();
		for (size_t i = 0; i < n; i++) {
			json_object_set_new(o, fs[i]->name, vs[i]);
			vs[i] = NULL;
		}
		*out = o;
	}
out:
	for (size_t i = 0; i < n; i++)
		json_decref(vs[i]);
	return r;
}

static int norm_msg(struct ctx *c, const struct pb__msg *m, const json_t *in, json_t **out)
{
	if (!json_is_object(in))
		return fail(c, "must be an object");
	if (c->share) {
		size_t nf = 0;
		while (m->fields[nf].name)
			nf++;
		if (nf <= SHARE_MAX_FIELDS)
			return norm_msg_shared(c, m, in, out);
	}
	json_t *o = json_object();
	for (const struct pb__field *f = m->fields; f->name; f++) {
		json_t *v = json_object_get(in, f->name);
		if (!v || json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0)) {
			if (f->flags & PB__REQ)
				add_missing(c, f->name);
			continue;
		}
		size_t saved = push(c, f->name, 0);
		json_t *nv;
		int r = norm_field(c, f, v, &nv);
		pop(c, saved);
		if (r < 0) {
			json_decref(o);
			return r;
		}
		if (nv)
			json_object_set_new(o, f->name, nv);
	}
	*out = o;
	return 0;
}

int pb__normalize(const struct pb__msg *m, const json_t *in, const char *root, json_t **ret_out,
                  struct ag_error *err)
{
	/* On the stack: a heap block this size (over 1 KB) would make malloc
	 * consolidate its fast bins on every call. */
	struct ctx cbuf = {.root = root, .err = err}, *c = &cbuf;
	json_t *out = NULL;
	int r = norm_msg(c, m, in, &out);
	if (r == 0 && c->mlen > 0) {
		r = ag_error_msg(err, EINVAL, "Missing required fields: %s%s", c->missing,
		                 c->missing_cut ? ", ..." : "");
		json_decref(out);
	}
	if (r < 0)
		return r;
	*ret_out = out;
	return 0;
}

/* Are the `n` digits at `d` (no leading zero) a number in (INT64_MAX,
 * UINT64_MAX]? */
static bool digits_uint64_big(const char *d, size_t n)
{
	if (n < 19 || n > 20)
		return false;
	if (n == 19)
		return memcmp(d, "9223372036854775807", 19) > 0;
	return memcmp(d, "18446744073709551615", 20) <= 0;
}

/* Copy the JSON text `buf` with each integer literal in (INT64_MAX,
 * UINT64_MAX] put in quotes. False when there is none (nothing is
 * allocated then). Strings are skipped whole; anything malformed is left
 * for jansson to report. */
static bool bignum_rewrite(const char *buf, size_t len, char **ret, size_t *ret_len)
{
	char *out = NULL;
	size_t o = 0, copied = 0;
	for (size_t i = 0; i < len;) {
		if (buf[i] == '"') {
			for (i++; i < len && buf[i] != '"'; i++)
				if (buf[i] == '\\')
					i++;
			i++;
			continue;
		}
		bool neg = buf[i] == '-';
		if (!neg && (buf[i] < '0' || buf[i] > '9')) {
			i++;
			continue;
		}
		size_t start = i + neg, e = start;
		while (e < len && buf[e] >= '0' && buf[e] <= '9')
			e++;
		bool real = e < len && (buf[e] == '.' || buf[e] == 'e' || buf[e] == 'E');
		i = e;
		while (i < len && strchr("0123456789.eE+-", buf[i]) && buf[i])
			i++;
		if (neg || real || buf[start] == '0' || !digits_uint64_big(buf + start, e - start))
			continue;
		if (!out)
			out = ag_malloc(len + len / 8 + 64);
		/* Each rewrite adds 2 bytes to at least 19: room for all. */
		memcpy(out + o, buf + copied, start - copied);
		o += start - copied;
		out[o++] = '"';
		memcpy(out + o, buf + start, e - start);
		o += e - start;
		out[o++] = '"';
		copied = e;
	}
	if (!out)
		return false;
	memcpy(out + o, buf + copied, len - copied);
	o += len - copied;
	*ret = out;
	*ret_len = o;
	return true;
}

int pb__parse(const struct pb__msg *m, const char *buf, size_t len, const char *root,
              json_t **ret_out, struct ag_error *err)
{
	if (len > PB_MAX_MESSAGE)
		return ag_error_msg(err, EMSGSIZE, "%s: larger than %u bytes", root,
		                    PB_MAX_MESSAGE);
	json_error_t jerr;
	/* NUL inside strings stays refused (no JSON_ALLOW_NUL): ids end up in
	 * C strings and paths. */
	json_t *in = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!in && strstr(jerr.text, "too big")) {
		/* Integers above int64 (RLIM_INFINITY in a spec) become strings
		 * of their digits, and the text is parsed again: only then, so
		 * that other bodies pay nothing. */
		_cleanup_free_ char *rw = NULL;
		size_t rw_len = 0;
		if (bignum_rewrite(buf, len, &rw, &rw_len))
			in = json_loadb(rw, rw_len, JSON_REJECT_DUPLICATES, &jerr);
	}
	if (!in)
		return ag_error_msg(err, EINVAL, "Failed to parse JSON: %s (line %d, column %d)",
		                    jerr.text, jerr.line, jerr.column);
	struct ctx cbuf = {.root = root, .err = err, .share = true}, *c = &cbuf;
	json_t *out = NULL;
	int r = norm_msg(c, m, in, &out);
	if (r == 0 && c->mlen > 0) {
		r = ag_error_msg(err, EINVAL, "Missing required fields: %s%s", c->missing,
		                 c->missing_cut ? ", ..." : "");
		json_decref(out);
	}
	json_decref(in);
	if (r < 0)
		return r;
	*ret_out = out;
	return 0;
}
