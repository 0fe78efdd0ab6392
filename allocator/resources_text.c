/* resources_text.c: Mesos resource text in and out, and reading a
 * resources object entry by entry.
 */
#include "allocator/internal.h"

#include <ctype.h>
#include <inttypes.h>

/* ---- parsing ---- */

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	return p;
}

static bool is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.' || c == '/';
}

static int parse_u64(const char **pp, uint64_t *ret)
{
	const char *p = skip_ws(*pp);
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	uint64_t v = 0;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*pp = skip_ws(p);
	*ret = v;
	return 0;
}

/* A non-negative decimal into thousandths, rounding half up past three
 * decimals. */
static int parse_milli(const char **pp, int64_t *ret)
{
	const char *p = skip_ws(*pp);
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	int64_t whole = 0;
	for (; isdigit((unsigned char)*p); p++) {
		if (whole > (INT64_MAX / 1000 - 9) / 10)
			return -EINVAL;
		whole = whole * 10 + (*p - '0');
	}
	int64_t frac = 0;
	if (*p == '.') {
		p++;
		int digits = 0;
		bool round_up = false;
		for (; isdigit((unsigned char)*p); p++, digits++) {
			if (digits < 3)
				frac = frac * 10 + (*p - '0');
			else if (digits == 3)
				round_up = *p >= '5';
		}
		if (digits == 0)
			return -EINVAL;
		for (int d = digits; d < 3; d++)
			frac *= 10;
		frac += round_up;
	}
	*pp = skip_ws(p);
	*ret = whole * 1000 + frac;
	return 0;
}

/* Names seen by the checking pass, to catch "x:1;x:[1-2]" before any
 * state changes. */
struct seen {
	struct {
		const char *name;
		size_t len;
		int type;
	} v[64];
	size_t n;
};

static int seen_check(struct drf_allocator *a, struct seen *sn, const char *name, size_t len,
                      int type)
{
	for (size_t i = 0; i < sn->n; i++)
		if (sn->v[i].len == len && memcmp(sn->v[i].name, name, len) == 0)
			return sn->v[i].type == type ? 0 : -EINVAL;
	if (sn->n < AG_ARRAY_SIZE(sn->v)) {
		sn->v[sn->n].name = name;
		sn->v[sn->n].len = len;
		sn->v[sn->n++].type = type;
	}
	char buf[128];
	if (len >= sizeof(buf))
		return 0;
	memcpy(buf, name, len);
	buf[len] = 0;
	uint32_t nid = drf__strmap_get(&a->str_map, buf);
	if (nid == DRF__NONE)
		return 0;
	int t = drf__name_type(a, nid);
	return t >= 0 && t != type ? -EINVAL : 0;
}

/* One `name(role):value` entry. With `sn` set this is the checking pass:
 * nothing is created or interned and `out` is not touched, so a bad text
 * leaves the allocator as it was. */
static int parse_entry(struct drf_allocator *a, const char **pp, struct drf_resources *out,
                       struct seen *sn)
{
	bool dry = sn != NULL;
	const char *p = skip_ws(*pp);
	const char *name = p;
	while (is_name_char(*p))
		p++;
	size_t name_len = (size_t)(p - name);
	if (name_len == 0)
		return -EINVAL;
	uint32_t role = DRF__NONE;
	p = skip_ws(p);
	if (*p == '(') {
		const char *rs = ++p;
		while (*p && *p != ')')
			p++;
		if (*p != ')' || p == rs)
			return -EINVAL;
		if (!(p - rs == 1 && *rs == '*')) {
			char *rn = ag_malloc((size_t)(p - rs) + 1);
			memcpy(rn, rs, (size_t)(p - rs));
			rn[p - rs] = 0;
			int err = -EINVAL;
			if (dry)
				err = drf__role_name_valid(rn) ? 0 : -EINVAL;
			else if ((role = drf__role_get_or_create(a, rn, &err)) != DRF__NONE)
				err = 0;
			free(rn);
			if (err < 0)
				return err;
		}
		p = skip_ws(p + 1);
	}
	if (*p != ':')
		return -EINVAL;
	p = skip_ws(p + 1);
	int type = *p == '['   ? DRF_RESOURCE_RANGES
	           : *p == '{' ? DRF_RESOURCE_SET
	                       : DRF_RESOURCE_SCALAR;
	uint32_t kind = 0;
	int r;
	if (dry)
		r = seen_check(a, sn, name, name_len, type);
	else
		r = drf__kind_lookup(a, drf__intern(a, name, name_len), role, type, true, &kind);
	if (r < 0)
		return r;
	if (type == DRF_RESOURCE_RANGES) {
		struct drf_resources one;
		drf__res_init(&one, a);
		p++;
		if (*skip_ws(p) != ']') {
			for (;;) {
				uint64_t b, e;
				if (parse_u64(&p, &b) < 0 || *p != '-')
					goto bad_range;
				p++;
				if (parse_u64(&p, &e) < 0 || e < b)
					goto bad_range;
				/* one range at a time keeps the list sorted */
				struct drf_resources single;
				drf__res_init(&single, a);
				uint16_t k16 = (uint16_t)kind;
				struct drf_range rg = {b, e};
				single.rk = &k16;
				single.r = &rg;
				single.nr = 1;
				if (!dry)
					drf__ranges_add(&one, &single);
				if (*p == ',') {
					p++;
					continue;
				}
				break;
			}
		}
		p = skip_ws(p);
		if (*p != ']')
			goto bad_range;
		p++;
		if (!dry)
			drf__ranges_add(out, &one);
		drf__res_fini(&one);
		*pp = skip_ws(p);
		return 0;
	bad_range:
		drf__res_fini(&one);
		return -EINVAL;
	}
	if (type == DRF_RESOURCE_SET) {
		p = skip_ws(p + 1);
		while (*p != '}') {
			const char *is = p;
			while (*p && *p != ',' && *p != '}')
				p++;
			const char *ie = p;
			while (ie > is && (ie[-1] == ' ' || ie[-1] == '\t'))
				ie--;
			if (!*p || ie == is)
				return -EINVAL;
			if (!dry) {
				struct drf_resources single;
				drf__res_init(&single, a);
				uint16_t k16 = (uint16_t)kind;
				uint32_t item = drf__intern(a, is, (size_t)(ie - is));
				single.ik = &k16;
				single.it = &item;
				single.ni = 1;
				drf__items_merge(out, &single, true);
			}
			if (*p == ',')
				p = skip_ws(p + 1);
		}
		*pp = skip_ws(p + 1);
		return 0;
	}
	int64_t v;
	if (parse_milli(&p, &v) < 0)
		return -EINVAL;
	if (!dry) {
		out->s[kind] += v;
		out->present |= 1u << kind;
	}
	*pp = p;
	return 0;
}

static int parse_all(struct drf_allocator *a, const char *text, struct drf_resources *out,
                     struct seen *sn)
{
	const char *p = skip_ws(text);
	while (*p) {
		int err = parse_entry(a, &p, out, sn);
		if (err < 0)
			return err;
		if (*p == ';')
			p = skip_ws(p + 1);
		else if (*p)
			return -EINVAL;
	}
	return 0;
}

int drf_resources_parse(struct drf_allocator *a, const char *text, struct drf_resources **ret_res)
{
	if (!a || !text || !ret_res)
		return -EINVAL;
	/* Check everything first: only a good text creates roles and names. */
	struct seen sn = {.n = 0};
	int err = parse_all(a, text, NULL, &sn);
	if (err < 0)
		return err;
	struct drf_resources *r = drf_resources_new(a);
	err = parse_all(a, text, r, NULL);
	if (err < 0) {
		drf_resources_free(r);
		return err;
	}
	*ret_res = r;
	return 0;
}

/* Entry layout: non-zero scalars, then one per range kind, then one per set
 * kind, found by scanning (objects are small). */
struct span {
	int type;
	uint32_t kind;
	uint32_t first, n; /* in r/it */
};

static bool entry_at(const struct drf_resources *r, size_t i, struct span *ret)
{
	size_t idx = 0;
	for (uint32_t k = 0; k < r->a->n_sk; k++) {
		if (!r->s[k])
			continue;
		if (idx++ == i) {
			*ret = (struct span){DRF_RESOURCE_SCALAR, k, 0, 0};
			return true;
		}
	}
	for (uint32_t j = 0; j < r->nr;) {
		uint32_t s = j;
		while (j < r->nr && r->rk[j] == r->rk[s])
			j++;
		if (idx++ == i) {
			*ret = (struct span){DRF_RESOURCE_RANGES, r->rk[s], s, j - s};
			return true;
		}
	}
	for (uint32_t j = 0; j < r->ni;) {
		uint32_t s = j;
		while (j < r->ni && r->ik[j] == r->ik[s])
			j++;
		if (idx++ == i) {
			*ret = (struct span){DRF_RESOURCE_SET, r->ik[s], s, j - s};
			return true;
		}
	}
	return false;
}

size_t drf_resources_entries(const struct drf_resources *r)
{
	size_t n = 0;
	struct span sp;
	while (entry_at(r, n, &sp))
		n++;
	return n;
}

int drf_resources_entry(const struct drf_resources *r, size_t i, struct drf_resource *ret_entry)
{
	struct span sp;
	if (!entry_at(r, i, &sp))
		return -ENOENT;
	const struct drf_allocator *a = r->a;
	const struct drf__kind *k = sp.type == DRF_RESOURCE_SCALAR   ? &a->sk[sp.kind]
	                            : sp.type == DRF_RESOURCE_RANGES ? &a->rk[sp.kind]
	                                                             : &a->ik[sp.kind];
	struct drf_resource e = {
	        .name = a->strs[k->name],
	        .role = k->role == DRF__NONE ? NULL : a->roles[k->role].name,
	        .type = (enum drf_resource_type)sp.type,
	};
	if (sp.type == DRF_RESOURCE_SCALAR)
		e.scalar_milli = r->s[sp.kind];
	else if (sp.type == DRF_RESOURCE_RANGES) {
		e.ranges = &r->r[sp.first];
		e.n_ranges = sp.n;
	} else
		e.n_items = sp.n;
	*ret_entry = e;
	return 0;
}

const char *drf_resources_item(const struct drf_resources *r, size_t i, size_t j)
{
	struct span sp;
	if (!entry_at(r, i, &sp) || sp.type != DRF_RESOURCE_SET || j >= sp.n)
		return NULL;
	return r->a->strs[r->it[sp.first + j]];
}

struct sbuf {
	char *buf;
	size_t len, pos;
};

AG_PRINTF(2, 3) static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t room = b->pos < b->len ? b->len - b->pos : 0;
	int n = vsnprintf(room ? b->buf + b->pos : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->pos += (size_t)n;
}

size_t drf_resources_format(const struct drf_resources *r, char *buf, size_t len)
{
	struct sbuf b = {buf, len, 0};
	if (len)
		buf[0] = 0;
	size_t n = drf_resources_entries(r);
	for (size_t i = 0; i < n; i++) {
		struct drf_resource e;
		if (drf_resources_entry(r, i, &e) < 0)
			continue; /* i < n: cannot happen */
		sb_printf(&b, "%s%s", i ? ";" : "", e.name);
		if (e.role)
			sb_printf(&b, "(%s)", e.role);
		if (e.type == DRF_RESOURCE_SCALAR) {
			int64_t v = e.scalar_milli;
			sb_printf(&b, ":%s%" PRId64, v < 0 ? "-" : "", (v < 0 ? -v : v) / 1000);
			if (v % 1000) {
				char frac[8];
				snprintf(frac, sizeof(frac), "%03d",
				         (int)((v < 0 ? -v : v) % 1000));
				for (int d = 2; d > 0 && frac[d] == '0'; d--)
					frac[d] = 0;
				sb_printf(&b, ".%s", frac);
			}
		} else if (e.type == DRF_RESOURCE_RANGES) {
			sb_printf(&b, ":[");
			for (size_t j = 0; j < e.n_ranges; j++)
				sb_printf(&b, "%s%" PRIu64 "-%" PRIu64, j ? "," : "",
				          e.ranges[j].begin, e.ranges[j].end);
			sb_printf(&b, "]");
		} else {
			sb_printf(&b, ":{");
			for (size_t j = 0; j < e.n_items; j++)
				sb_printf(&b, "%s%s", j ? "," : "", drf_resources_item(r, i, j));
			sb_printf(&b, "}");
		}
	}
	return b.pos;
}
