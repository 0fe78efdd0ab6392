/* spec_json.c: the JSON path tracker and the typed getters the config.json
 * parser is built from. Every value is type-checked here before a section
 * parser looks at it, so a section never sees a number where it expects a
 * string. */
#include "runtime/spec_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* Long values are cut in messages: the path and the start of the value are
 * what a user needs, and the message buffer is 1 KiB. */
#define RT__GOT_MAX 80

/* The path is kept on every step of a successful parse, so it is built
 * with plain copies: snprintf here was a tenth of the parse time. */
static void path_append(struct rt__ctx *c, const char *s, size_t n)
{
	size_t room = sizeof(c->path) - 1 - c->len;
	if (n > room)
		n = room;
	memcpy(c->path + c->len, s, n);
	c->len += n;
	c->path[c->len] = '\0';
}

size_t rt__push_key(struct rt__ctx *c, const char *key)
{
	size_t saved = c->len;
	bool plain = *key != '\0';
	for (const char *p = key; *p; p++) {
		if (!isalnum((unsigned char)*p) && *p != '_')
			plain = false;
	}
	if (plain) {
		if (c->len)
			path_append(c, ".", 1);
		path_append(c, key, strlen(key));
	} else {
		path_append(c, "[\"", 2);
		path_append(c, key, strlen(key));
		path_append(c, "\"]", 2);
	}
	return saved;
}

size_t rt__push_index(struct rt__ctx *c, size_t i)
{
	size_t saved = c->len;
	char digits[24];
	size_t n = 0;
	do {
		digits[sizeof(digits) - 1 - n++] = (char)('0' + i % 10);
		i /= 10;
	} while (i && n < sizeof(digits) - 2);
	digits[sizeof(digits) - 1 - n++] = '[';
	path_append(c, digits + sizeof(digits) - n, n);
	path_append(c, "]", 1);
	return saved;
}

void rt__pop(struct rt__ctx *c, size_t saved)
{
	c->len = saved;
	c->path[saved] = '\0';
}

/* In a dumped value, put back the literals the bignum pre-pass turned
 * into tagged strings: the user sees what they wrote. In place: the text
 * only gets shorter. */
static void unmark(const struct rt__ctx *c, char *dump)
{
	char pat[RT__BIGNUM_TAG_LEN + 8];
	int pn = snprintf(pat, sizeof(pat), "\"\\u0000%.*s", RT__BIGNUM_TAG_LEN - 1, c->tag + 1);
	char *p;
	while ((p = strstr(dump, pat))) {
		char *lit = p + pn;
		size_t n = strcspn(lit, "\"");
		memmove(p, lit, n);
		memmove(p + n, lit + n + (lit[n] ? 1 : 0), strlen(lit + n + (lit[n] ? 1 : 0)) + 1);
	}
}

int rt__fail(struct rt__ctx *c, const char *key, const json_t *got, const char *fmt, ...)
{
	size_t saved = key ? rt__push_key(c, key) : c->len;
	char reason[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);

	char gotbuf[RT__GOT_MAX + 4] = "";
	if (got) {
		_cleanup_free_ char *dump = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
		if (dump && c->bignums)
			unmark(c, dump);
		if (dump && strlen(dump) > RT__GOT_MAX)
			snprintf(gotbuf, sizeof(gotbuf), "%.*s...", RT__GOT_MAX, dump);
		else
			snprintf(gotbuf, sizeof(gotbuf), "%s", dump ? dump : "?");
	}
	const char *where = c->len ? c->path : "(top level)";
	int r;
	if (got)
		r = ag_error_set(c->err, 0, "%s: %s, got %s", where, reason, gotbuf);
	else
		r = ag_error_set(c->err, 0, "%s: %s", where, reason);
	rt__pop(c, saved);
	return r;
}

static const char *type_article(json_type t)
{
	switch (t) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "?";
}

/* Shared by the getters: find obj[key] and check its type. */
static int get_typed(struct rt__ctx *c, json_t *obj, const char *key, bool required, json_type type,
                     json_t **ret)
{
	json_t *v = json_object_get(obj, key);
	if (!v) {
		if (required)
			return rt__fail(c, key, NULL, "is required");
		return 0;
	}
	bool ok = json_typeof(v) == type || (type == JSON_TRUE && json_typeof(v) == JSON_FALSE);
	if (type == JSON_STRING && rt__bignum_text(c, v))
		ok = false;
	if (!ok)
		return rt__fail(c, key, v, "must be %s", type_article(type));
	*ret = v;
	return 1;
}

int rt__get_obj(struct rt__ctx *c, json_t *obj, const char *key, bool required, json_t **ret)
{
	*ret = NULL;
	return get_typed(c, obj, key, required, JSON_OBJECT, ret);
}

int rt__get_arr(struct rt__ctx *c, json_t *obj, const char *key, bool required, json_t **ret)
{
	*ret = NULL;
	return get_typed(c, obj, key, required, JSON_ARRAY, ret);
}

int rt__get_bool(struct rt__ctx *c, json_t *obj, const char *key, bool *ret)
{
	json_t *v = NULL;
	int r = get_typed(c, obj, key, false, JSON_TRUE, &v);
	if (r > 0)
		*ret = json_is_true(v);
	return r;
}

int rt__get_str(struct rt__ctx *c, json_t *obj, const char *key, bool required, char **ret)
{
	json_t *v = NULL;
	int r = get_typed(c, obj, key, required, JSON_STRING, &v);
	if (r <= 0)
		return r;
	/* Embedded NULs would make the C string say less than the JSON. */
	if (strlen(json_string_value(v)) != json_string_length(v))
		return rt__fail(c, key, v, "must not contain a NUL byte");
	if (ret) {
		free(*ret);
		*ret = ag_strdup(json_string_value(v));
	}
	return 1;
}

int rt__get_int(struct rt__ctx *c, json_t *obj, const char *key, bool required, int64_t min,
                int64_t max, const char *what, int64_t *ret)
{
	json_t *v = json_object_get(obj, key);
	if (!v) {
		if (required)
			return rt__fail(c, key, NULL, "is required");
		return 0;
	}
	if (!json_is_integer(v))
		return rt__fail(c, key, v, "must be %s", what);
	json_int_t n = json_integer_value(v);
	if (n < min || n > max)
		return rt__fail(c, key, v, "must be %s", what);
	*ret = n;
	return 1;
}

void rt__strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

void rt__kv_free(struct rt_kv *kv, size_t n)
{
	for (size_t i = 0; kv && i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

int rt__get_strv(struct rt__ctx *c, json_t *obj, const char *key, bool required,
                 rt__str_check_fn check, char ***ret, size_t *ret_n)
{
	json_t *arr = NULL;
	int r = rt__get_arr(c, obj, key, required, &arr);
	if (r <= 0)
		return r;
	size_t n = json_array_size(arr);
	char **v = ag_calloc(n + 1, sizeof(char *));
	size_t saved = rt__push_key(c, key);
	size_t i;
	json_t *e;
	json_array_foreach (arr, i, e) {
		size_t s2 = rt__push_index(c, i);
		if (!rt__is_str(c, e))
			r = rt__fail(c, NULL, e, "must be a string");
		else if (strlen(json_string_value(e)) != json_string_length(e))
			r = rt__fail(c, NULL, e, "must not contain a NUL byte");
		else if (check)
			r = check(c, e, json_string_value(e));
		rt__pop(c, s2);
		if (r < 0)
			break;
		v[i] = ag_strdup(json_string_value(e));
	}
	rt__pop(c, saved);
	if (r < 0) {
		rt__strv_free(v);
		return r;
	}
	*ret = v;
	if (ret_n)
		*ret_n = n;
	return 1;
}

int rt__get_kv(struct rt__ctx *c, json_t *obj, const char *key, rt__str_check_fn check_key,
               struct rt_kv **ret, size_t *ret_n)
{
	json_t *o = NULL;
	int r = rt__get_obj(c, obj, key, false, &o);
	if (r <= 0)
		return r;
	size_t n = json_object_size(o);
	struct rt_kv *kv = ag_calloc(n ? n : 1, sizeof(*kv));
	size_t saved = rt__push_key(c, key);
	size_t i = 0;
	const char *k;
	json_t *v;
	json_object_foreach (o, k, v) {
		size_t s2 = rt__push_key(c, k);
		if (check_key)
			r = check_key(c, NULL, k);
		if (r >= 0 && !rt__is_str(c, v))
			r = rt__fail(c, NULL, v, "must be a string");
		else if (r >= 0 && strlen(json_string_value(v)) != json_string_length(v))
			r = rt__fail(c, NULL, v, "must not contain a NUL byte");
		rt__pop(c, s2);
		if (r < 0)
			break;
		kv[i].key = ag_strdup(k);
		kv[i].value = ag_strdup(json_string_value(v));
		i++;
	}
	rt__pop(c, saved);
	if (r < 0) {
		rt__kv_free(kv, i);
		return r;
	}
	*ret = kv;
	*ret_n = n;
	return 1;
}

bool rt__path_has_dotdot(const char *s)
{
	for (const char *p = s; (p = strstr(p, "..")); p += 2) {
		bool start = p == s || p[-1] == '/';
		bool end = p[2] == '\0' || p[2] == '/';
		if (start && end)
			return true;
	}
	return false;
}

int rt__check_abs_path(struct rt__ctx *c, const json_t *v, const char *s)
{
	if (s[0] != '/')
		return rt__fail(c, NULL, v, "must be an absolute path");
	if (rt__path_has_dotdot(s))
		return rt__fail(c, NULL, v, "must not contain a \"..\" component");
	return 0;
}

int rt__check_env(struct rt__ctx *c, const json_t *v, const char *s)
{
	const char *eq = strchr(s, '=');
	if (!eq || eq == s)
		return rt__fail(c, NULL, v, "must be \"KEY=VALUE\"");
	return 0;
}

/* ---- integers beyond int64 -------------------------------------------- */

/* Does the literal digits[0..n) (no sign, no leading zero) exceed `lim`
 * (19 digits)? */
static bool digits_over(const char *digits, size_t n, const char *lim)
{
	if (n != 19)
		return n > 19;
	return memcmp(digits, lim, 19) > 0;
}

int rt__bignum_rewrite(struct rt__ctx *c, const char *json, size_t len, char **ret, size_t *ret_len)
{
	char *out = NULL;
	size_t o = 0, copied = 0, cap = 0;
	*ret = NULL;
	for (size_t i = 0; i < len;) {
		char ch = json[i];
		if (ch == '"') {
			/* Skip the string (with memchr: this pass runs on every
			 * spec, and strings are most of one); a quote after an
			 * odd run of backslashes is escaped. An unterminated
			 * string is jansson's to report. */
			size_t j = i + 1;
			for (;;) {
				const char *q = memchr(json + j, '"', len - j);
				if (!q) {
					j = len;
					break;
				}
				size_t k = (size_t)(q - json), bs = 0;
				while (k - bs > i + 1 && json[k - bs - 1] == '\\')
					bs++;
				j = k + 1;
				if (bs % 2 == 0)
					break;
			}
			i = j;
			continue;
		}
		if (ch != '-' && (ch < '0' || ch > '9')) {
			i++;
			continue;
		}
		size_t start = i;
		bool neg = ch == '-';
		if (neg)
			i++;
		size_t d = i;
		while (i < len && json[i] >= '0' && json[i] <= '9')
			i++;
		size_t nd = i - d;
		bool real = i < len && (json[i] == '.' || json[i] == 'e' || json[i] == 'E');
		/* The rest of a real, or of whatever this is, is skipped. */
		while (i < len && strchr("0123456789.eE+-", json[i]) && json[i] != '\0')
			i++;
		if (real || nd == 0 || json[d] == '0' ||
		    !digits_over(json + d, nd, neg ? "9223372036854775808" : "9223372036854775807"))
			continue;
		if (!c->bignums) {
			uint64_t nonce;
			if (getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce))
				return ag_error_set(c->err, errno, "config.json: getrandom");
			c->tag[0] = '\0';
			snprintf(c->tag + 1, sizeof(c->tag) - 1, "u64:%016llx",
			         (unsigned long long)nonce);
			c->tag[RT__BIGNUM_TAG_LEN - 1] = ':';
			c->bignums = true;
		}
		/* "\u0000u64:<nonce>:" is 6 + 21 bytes, plus two quotes. */
		size_t lit = i - start;
		size_t need = o + (start - copied) + 30 + lit + (len - i) + 1;
		if (need > cap) {
			cap = need * 2;
			out = ag_realloc(out, cap);
		}
		memcpy(out + o, json + copied, start - copied);
		o += start - copied;
		o += (size_t)sprintf(out + o, "\"\\u0000%.*s%.*s\"", RT__BIGNUM_TAG_LEN - 1,
		                     c->tag + 1, (int)lit, json + start);
		copied = i;
	}
	if (!out)
		return 0;
	memcpy(out + o, json + copied, len - copied);
	o += len - copied;
	out[o] = '\0';
	*ret = out;
	*ret_len = o;
	return 1;
}

const char *rt__bignum_text(const struct rt__ctx *c, const json_t *v)
{
	if (!c->bignums || !json_is_string(v) || json_string_length(v) <= RT__BIGNUM_TAG_LEN)
		return NULL;
	const char *s = json_string_value(v);
	if (memcmp(s, c->tag, RT__BIGNUM_TAG_LEN) != 0)
		return NULL;
	return s + RT__BIGNUM_TAG_LEN;
}

bool rt__is_str(const struct rt__ctx *c, const json_t *v)
{
	return json_is_string(v) && !rt__bignum_text(c, v);
}

int rt__get_u64(struct rt__ctx *c, json_t *obj, const char *key, bool required, uint64_t min,
                uint64_t max, const char *what, uint64_t *ret)
{
	json_t *v = json_object_get(obj, key);
	if (!v) {
		if (required)
			return rt__fail(c, key, NULL, "is required");
		return 0;
	}
	uint64_t n;
	const char *big = rt__bignum_text(c, v);
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		n = (uint64_t)json_integer_value(v);
	} else if (big && big[0] != '-') {
		/* Only literals above INT64_MAX are rewritten, all digits. */
		errno = 0;
		n = strtoull(big, NULL, 10);
		if (errno == ERANGE)
			return rt__fail(c, key, v, "must be %s", what);
	} else {
		return rt__fail(c, key, v, "must be %s", what);
	}
	if (n < min || n > max)
		return rt__fail(c, key, v, "must be %s", what);
	*ret = n;
	return 1;
}

int rt__refuse_label(struct rt__ctx *c, json_t *obj, const char *key, const char *lsm)
{
	_cleanup_free_ char *v = NULL;
	int r = rt__get_str(c, obj, key, false, &v);
	if (r < 0 || !v || !*v)
		return r < 0 ? r : 0;
	return rt__fail(c, key, json_object_get(obj, key),
	                "is not supported: agora-run applies no %s labels (it has no Linux "
	                "security module support)",
	                lsm);
}
