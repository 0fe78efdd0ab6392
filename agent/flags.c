/* flags.c: Mesos-format flag values and the log level (flags.h); durations
 * are common/duration.c's. */
#include "agent/flags.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int flg_parse_log_level(const char *text, enum ag_log_level *ret, struct ag_error *err)
{
	if (ag_log_level_parse(text, ret) < 0)
		return ag_error_msg(err, EINVAL,
		                    "--log_level: `%s` is not one of debug, info, warning, error",
		                    text ? text : "");
	return 0;
}

/* A decimal number as a whole ("8", "-1.5", "2e3"): SCALAR, as Mesos's
 * numify<double> would have it (non-finite values are not numbers here). */
static bool scalar_of(const char *s, double *ret)
{
	if (!*s || isspace((unsigned char)*s))
		return false;
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1])))
		return false; /* no "inf", "nan", "0x.." */
	if (strspn(s, "0123456789+-.eE") != strlen(s))
		return false; /* strtod would read "0x10" too */
	char *end = NULL;
	errno = 0;
	double v = strtod(s, &end);
	if (*end || errno || !isfinite(v))
		return false;
	*ret = v;
	return true;
}

struct range {
	uint64_t b, e;
};

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return x->b < y->b ? -1 : x->b > y->b;
}

static bool u64_of(const char *s, size_t n, uint64_t *ret)
{
	if (n == 0 || n > 20)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*ret = v;
	return true;
}

/* "[a-b,c-d]" (brackets checked by the caller). */
static int ranges_of(const char *name, const char *v, json_t **ret, struct ag_error *err)
{
	size_t len = strlen(v);
	if (len < 2 || v[len - 1] != ']' || strchr(v + 1, '[') || strchr(v, ']') != v + len - 1)
		return ag_error_msg(err, EINVAL,
		                    "--attributes: `%s`: ranges are written [BEGIN-END,...], got "
		                    "`%s`",
		                    name, v);
	struct range *rs = NULL;
	size_t n = 0;
	const char *p = v + 1, *end = v + len - 1;
	int r = 0;
	while (p < end && r == 0) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		const char *dash = memchr(p, '-', (size_t)(stop - p));
		struct range x;
		if (stop == p) {
			p = stop + 1; /* an empty item, as Mesos's tokenizer skips it */
			continue;
		}
		if (!dash || !u64_of(p, (size_t)(dash - p), &x.b) ||
		    !u64_of(dash + 1, (size_t)(stop - dash - 1), &x.e))
			r = ag_error_msg(err, EINVAL,
			                 "--attributes: `%s`: `%.*s` is not a range BEGIN-END of "
			                 "non-negative integers",
			                 name, (int)(stop - p), p);
		else if (x.b > x.e)
			r = ag_error_msg(err, EINVAL,
			                 "--attributes: `%s`: range `%.*s` begins after its end",
			                 name, (int)(stop - p), p);
		else {
			rs = ag_realloc(rs, (n + 1) * sizeof(*rs));
			rs[n++] = x;
		}
		p = stop + 1;
	}
	if (r == 0 && n == 0)
		r = ag_error_msg(err, EINVAL, "--attributes: `%s`: expecting one or more ranges",
		                 name);
	if (r < 0) {
		free(rs);
		return r;
	}
	qsort(rs, n, sizeof(*rs), range_cmp);
	json_t *arr = json_array();
	struct range cur = rs[0];
	for (size_t i = 1; i <= n; i++) {
		if (i < n && (rs[i].b <= cur.e || rs[i].b - 1 == cur.e)) {
			if (rs[i].e > cur.e)
				cur.e = rs[i].e;
			continue;
		}
		json_array_append_new(arr, json_pack("{s:I, s:I}", "begin", (json_int_t)cur.b,
		                                     "end", (json_int_t)cur.e));
		if (i < n)
			cur = rs[i];
	}
	free(rs);
	*ret = json_pack("{s:o}", "range", arr);
	return 0;
}

/* One attribute; `value` has no spaces. */
static int attribute_of(const char *name, const char *value, json_t **ret, struct ag_error *err)
{
	int depth_sq = 0, depth_cu = 0, depth_par = 0;
	for (const char *p = value; *p; p++) {
		depth_sq += (*p == '[') - (*p == ']');
		depth_cu += (*p == '{') - (*p == '}');
		depth_par += (*p == '(') - (*p == ')');
		if (depth_sq < 0 || depth_cu < 0 || depth_par < 0)
			break;
	}
	if (depth_sq || depth_cu || depth_par)
		return ag_error_msg(err, EINVAL, "--attributes: `%s`: mismatched brackets in `%s`",
		                    name, value);
	const char *sq = strchr(value, '['), *cu = strchr(value, '{');
	double d;
	if (sq == value) {
		json_t *ranges = NULL;
		int r = ranges_of(name, value, &ranges, err);
		if (r < 0)
			return r;
		*ret = json_pack("{s:s, s:s, s:o}", "name", name, "type", "RANGES", "ranges",
		                 ranges);
	} else if (sq) {
		return ag_error_msg(err, EINVAL,
		                    "--attributes: `%s`: unexpected '[' in `%s` (ranges start with "
		                    "it)",
		                    name, value);
	} else if (cu == value) {
		size_t len = strlen(value);
		if (value[len - 1] != '}' || strchr(value + 1, '{') ||
		    strchr(value, '}') != value + len - 1)
			return ag_error_msg(
			        err, EINVAL,
			        "--attributes: `%s`: sets are written {a,b,...}, got `%s`", name,
			        value);
		json_t *items = json_array();
		_cleanup_free_ char *copy = ag_asprintf("%.*s", (int)(len - 2), value + 1);
		char *save = NULL;
		for (char *it = strtok_r(copy, ",", &save); it; it = strtok_r(NULL, ",", &save))
			json_array_append_new(items, json_string(it));
		*ret = json_pack("{s:s, s:s, s:{s:o}}", "name", name, "type", "SET", "set", "item",
		                 items);
	} else if (cu) {
		return ag_error_msg(
		        err, EINVAL,
		        "--attributes: `%s`: unexpected '{' in `%s` (sets start with it)", name,
		        value);
	} else if (scalar_of(value, &d)) {
		*ret = json_pack("{s:s, s:s, s:{s:f}}", "name", name, "type", "SCALAR", "scalar",
		                 "value", d);
	} else {
		*ret = json_pack("{s:s, s:s, s:{s:s}}", "name", name, "type", "TEXT", "text",
		                 "value", value);
	}
	if (!*ret)
		return ag_error_msg(err, EINVAL, "--attributes: `%s`: `%s` is not valid UTF-8",
		                    name, value);
	return 0;
}

int flg_parse_attributes(const char *text, json_t **ret, struct ag_error *err)
{
	json_t *arr = json_array();
	_cleanup_free_ char *copy = ag_strdup(text ? text : "");
	char *save = NULL;
	size_t pos = 0;
	for (char *kv = strtok_r(copy, ";\n", &save); kv; kv = strtok_r(NULL, ";\n", &save)) {
		pos++;
		char *colon = strchr(kv, ':');
		if (!colon || colon == kv) {
			json_decref(arr);
			return ag_error_msg(err, EINVAL,
			                    "--attributes: item %zu `%s`: expected NAME:VALUE", pos,
			                    kv);
		}
		*colon = '\0';
		/* Mesos removes every space from the value before typing it. */
		char *w = colon + 1;
		for (char *r = colon + 1; *r; r++)
			if (*r != ' ')
				*w++ = *r;
		*w = '\0';
		if (!colon[1]) {
			json_decref(arr);
			return ag_error_msg(err, EINVAL, "--attributes: `%s`: the value is empty",
			                    kv);
		}
		json_t *a = NULL;
		int r = attribute_of(kv, colon + 1, &a, err);
		if (r < 0) {
			json_decref(arr);
			return r;
		}
		json_array_append_new(arr, a);
	}
	*ret = arr;
	return 0;
}
