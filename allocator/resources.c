/* resources.c: resource vectors (scalars, ranges, sets) and their
 * arithmetic; the text form is in resources_text.c.
 *
 * A scalar is an int64 of thousandths, Mesos's fixed three decimals, so sums
 * and differences are exact. Each distinct (name, reservation role) is a
 * kind interned by the allocator; a vector is a dense array by kind.
 */
#include "allocator/internal.h"

/* ---- interning ---- */

uint32_t drf__intern(struct drf_allocator *a, const char *s, size_t len)
{
	char stackbuf[128];
	char *key = len < sizeof(stackbuf) ? stackbuf : ag_malloc(len + 1);
	memcpy(key, s, len);
	key[len] = 0;
	uint32_t id = drf__strmap_get(&a->str_map, key);
	if (id == DRF__NONE) {
		if (a->n_strs == a->cap_strs) {
			a->cap_strs = a->cap_strs ? a->cap_strs * 2 : 32;
			a->strs = ag_realloc(a->strs, a->cap_strs * sizeof(*a->strs));
		}
		id = a->n_strs++;
		a->strs[id] = ag_strdup(key);
		drf__strmap_put(&a->str_map, a->strs[id], id);
	}
	if (key != stackbuf)
		free(key);
	return id;
}

static struct drf__kind *kinds_of(struct drf_allocator *a, int type, uint32_t **ret_n,
                                  uint32_t *ret_max)
{
	switch (type) {
	case DRF_RESOURCE_SCALAR:
		*ret_n = &a->n_sk;
		*ret_max = DRF__MAX_SCALARS;
		return a->sk;
	case DRF_RESOURCE_RANGES:
		*ret_n = &a->n_rk;
		*ret_max = DRF__MAX_RANGES;
		return a->rk;
	default:
		*ret_n = &a->n_ik;
		*ret_max = DRF__MAX_SETS;
		return a->ik;
	}
}

/* The type a name already has, or -1. */
int drf__name_type(const struct drf_allocator *a, uint32_t name)
{
	for (uint32_t i = 0; i < a->n_sk; i++)
		if (a->sk[i].name == name)
			return DRF_RESOURCE_SCALAR;
	for (uint32_t i = 0; i < a->n_rk; i++)
		if (a->rk[i].name == name)
			return DRF_RESOURCE_RANGES;
	for (uint32_t i = 0; i < a->n_ik; i++)
		if (a->ik[i].name == name)
			return DRF_RESOURCE_SET;
	return -1;
}

int drf__kind_lookup(struct drf_allocator *a, uint32_t name, uint32_t role, int type, bool create,
                     uint32_t *ret_kind)
{
	uint32_t *n, max;
	struct drf__kind *k = kinds_of(a, type, &n, &max);
	uint32_t base = DRF__NONE;
	for (uint32_t i = 0; i < *n; i++) {
		if (k[i].name != name)
			continue;
		if (k[i].role == role) {
			*ret_kind = i;
			return 0;
		}
		if (k[i].role == DRF__NONE)
			base = i;
	}
	if (!create)
		return -ENOENT;
	int t = drf__name_type(a, name);
	if (t >= 0 && t != type)
		return -EINVAL;
	uint32_t need = 1 + (role != DRF__NONE && base == DRF__NONE);
	if (*n + need > max)
		return -ENOSPC;
	if (base == DRF__NONE) {
		base = (*n)++;
		k[base] = (struct drf__kind){.name = name,
		                             .role = DRF__NONE,
		                             .base = (uint16_t)base,
		                             .type = (uint8_t)type};
		if (type == DRF_RESOURCE_SCALAR)
			for (size_t i = 0; i < a->n_excluded_names; i++)
				if (a->excluded_names[i] == name)
					a->excluded[base] = true;
		if (role == DRF__NONE) {
			*ret_kind = base;
			return 0;
		}
	}
	uint32_t id = (*n)++;
	k[id] = (struct drf__kind){
	        .name = name, .role = role, .base = (uint16_t)base, .type = (uint8_t)type};
	*ret_kind = id;
	return 0;
}

/* ---- vectors ---- */

void drf__res_init(struct drf_resources *r, struct drf_allocator *a)
{
	memset(r, 0, sizeof(*r));
	r->a = a;
}

void drf__res_fini(struct drf_resources *r)
{
	if (!r)
		return;
	free(r->rk);
	free(r->r);
	free(r->ik);
	free(r->it);
	r->rk = NULL;
	r->r = NULL;
	r->ik = NULL;
	r->it = NULL;
	r->nr = r->cr = r->ni = r->ci = 0;
}

void drf__res_clear(struct drf_resources *r)
{
	memset(r->s, 0, sizeof(r->s));
	r->present = 0;
	r->nr = 0;
	r->ni = 0;
}

static void ranges_reserve(struct drf_resources *r, uint32_t n)
{
	if (n <= r->cr)
		return;
	uint32_t c = r->cr ? r->cr : 2;
	while (c < n)
		c *= 2;
	r->rk = ag_realloc(r->rk, c * sizeof(*r->rk));
	r->r = ag_realloc(r->r, c * sizeof(*r->r));
	r->cr = c;
}

static void items_reserve(struct drf_resources *r, uint32_t n)
{
	if (n <= r->ci)
		return;
	uint32_t c = r->ci ? r->ci : 4;
	while (c < n)
		c *= 2;
	r->ik = ag_realloc(r->ik, c * sizeof(*r->ik));
	r->it = ag_realloc(r->it, c * sizeof(*r->it));
	r->ci = c;
}

void drf__res_copy(struct drf_resources *dst, const struct drf_resources *src)
{
	if (dst == src)
		return;
	/* Kinds at or past n_sk are zero in every vector: kinds only grow. */
	memcpy(dst->s, src->s, src->a->n_sk * sizeof(int64_t));
	dst->present = src->present;
	ranges_reserve(dst, src->nr);
	if (src->nr) {
		memcpy(dst->rk, src->rk, src->nr * sizeof(*src->rk));
		memcpy(dst->r, src->r, src->nr * sizeof(*src->r));
	}
	dst->nr = src->nr;
	items_reserve(dst, src->ni);
	if (src->ni) {
		memcpy(dst->ik, src->ik, src->ni * sizeof(*src->ik));
		memcpy(dst->it, src->it, src->ni * sizeof(*src->it));
	}
	dst->ni = src->ni;
}

static inline int range_cmp(uint16_t ka, const struct drf_range *a, uint16_t kb,
                            const struct drf_range *b)
{
	if (ka != kb)
		return ka < kb ? -1 : 1;
	if (a->begin != b->begin)
		return a->begin < b->begin ? -1 : 1;
	return 0;
}

/* Scratch arrays for merging: on the stack when small. */
struct rbuf {
	uint16_t *k;
	struct drf_range *r;
	uint32_t n;
	uint16_t ks[32];
	struct drf_range rs[32];
};

static void rbuf_init(struct rbuf *b, uint32_t cap)
{
	b->n = 0;
	if (cap <= 32) {
		b->k = b->ks;
		b->r = b->rs;
	} else {
		b->k = ag_malloc(cap * sizeof(*b->k));
		b->r = ag_malloc(cap * sizeof(*b->r));
	}
}

static void rbuf_push(struct rbuf *b, uint16_t k, struct drf_range r)
{
	/* Coalesce with the previous range of the same kind when they overlap
	 * or touch. */
	if (b->n && b->k[b->n - 1] == k &&
	    (b->r[b->n - 1].end == UINT64_MAX || r.begin <= b->r[b->n - 1].end + 1)) {
		if (r.end > b->r[b->n - 1].end)
			b->r[b->n - 1].end = r.end;
		return;
	}
	b->k[b->n] = k;
	b->r[b->n] = r;
	b->n++;
}

static void rbuf_store(struct rbuf *b, struct drf_resources *dst)
{
	ranges_reserve(dst, b->n);
	if (b->n) {
		memcpy(dst->rk, b->k, b->n * sizeof(*b->k));
		memcpy(dst->r, b->r, b->n * sizeof(*b->r));
	}
	dst->nr = b->n;
	if (b->k != b->ks) {
		free(b->k);
		free(b->r);
	}
}

void drf__ranges_add(struct drf_resources *dst, const struct drf_resources *src)
{
	if (src->nr == 0)
		return;
	if (dst->nr == 0) {
		ranges_reserve(dst, src->nr);
		memcpy(dst->rk, src->rk, src->nr * sizeof(*src->rk));
		memcpy(dst->r, src->r, src->nr * sizeof(*src->r));
		dst->nr = src->nr;
		return;
	}
	struct rbuf b;
	rbuf_init(&b, dst->nr + src->nr);
	uint32_t i = 0, j = 0;
	while (i < dst->nr || j < src->nr) {
		if (j >= src->nr || (i < dst->nr && range_cmp(dst->rk[i], &dst->r[i], src->rk[j],
		                                              &src->r[j]) <= 0)) {
			rbuf_push(&b, dst->rk[i], dst->r[i]);
			i++;
		} else {
			rbuf_push(&b, src->rk[j], src->r[j]);
			j++;
		}
	}
	rbuf_store(&b, dst);
}

/* dst -= src (src need not be contained: what is not in dst is ignored). */
static void ranges_sub(struct drf_resources *dst, const struct drf_resources *src)
{
	if (src->nr == 0 || dst->nr == 0)
		return;
	if (src->nr == dst->nr && memcmp(src->rk, dst->rk, src->nr * sizeof(*src->rk)) == 0 &&
	    memcmp(src->r, dst->r, src->nr * sizeof(*src->r)) == 0) {
		dst->nr = 0;
		return;
	}
	struct rbuf b;
	rbuf_init(&b, dst->nr + src->nr);
	uint32_t j = 0;
	for (uint32_t i = 0; i < dst->nr; i++) {
		uint16_t k = dst->rk[i];
		uint64_t lo = dst->r[i].begin, hi = dst->r[i].end;
		/* skip src ranges entirely before this one */
		while (j < src->nr && (src->rk[j] < k || (src->rk[j] == k && src->r[j].end < lo)))
			j++;
		uint32_t jj = j;
		bool gone = false;
		while (jj < src->nr && src->rk[jj] == k && src->r[jj].begin <= hi) {
			const struct drf_range *s = &src->r[jj];
			if (s->begin > lo)
				rbuf_push(&b, k, (struct drf_range){lo, s->begin - 1});
			if (s->end >= hi) {
				gone = true;
				break;
			}
			lo = s->end + 1;
			jj++;
		}
		if (!gone)
			rbuf_push(&b, k, (struct drf_range){lo, hi});
	}
	rbuf_store(&b, dst);
}

static bool ranges_contains(const struct drf_resources *a, const struct drf_resources *b)
{
	uint32_t i = 0;
	for (uint32_t j = 0; j < b->nr; j++) {
		while (i < a->nr && (a->rk[i] < b->rk[j] ||
		                     (a->rk[i] == b->rk[j] && a->r[i].end < b->r[j].begin)))
			i++;
		if (i >= a->nr || a->rk[i] != b->rk[j] || a->r[i].begin > b->r[j].begin ||
		    a->r[i].end < b->r[j].end)
			return false;
	}
	return true;
}

static inline int item_cmp(uint16_t ka, uint32_t a, uint16_t kb, uint32_t b)
{
	if (ka != kb)
		return ka < kb ? -1 : 1;
	return a < b ? -1 : a > b;
}

void drf__items_merge(struct drf_resources *dst, const struct drf_resources *src, bool add)
{
	if (src->ni == 0 || (!add && dst->ni == 0))
		return;
	uint32_t cap = dst->ni + src->ni;
	uint16_t *k = ag_malloc(cap * sizeof(*k));
	uint32_t *it = ag_malloc(cap * sizeof(*it));
	uint32_t n = 0, i = 0, j = 0;
	while (i < dst->ni || j < src->ni) {
		int c = i >= dst->ni   ? 1
		        : j >= src->ni ? -1
		                       : item_cmp(dst->ik[i], dst->it[i], src->ik[j], src->it[j]);
		if (c < 0) {
			k[n] = dst->ik[i];
			it[n++] = dst->it[i++];
		} else if (c == 0) {
			if (add) {
				k[n] = dst->ik[i];
				it[n++] = dst->it[i];
			}
			i++;
			j++;
		} else {
			if (add) {
				k[n] = src->ik[j];
				it[n++] = src->it[j];
			}
			j++;
		}
	}
	free(dst->ik);
	free(dst->it);
	dst->ik = k;
	dst->it = it;
	dst->ni = n;
	dst->ci = cap;
}

static bool items_contains(const struct drf_resources *a, const struct drf_resources *b)
{
	uint32_t i = 0;
	for (uint32_t j = 0; j < b->ni; j++) {
		while (i < a->ni && item_cmp(a->ik[i], a->it[i], b->ik[j], b->it[j]) < 0)
			i++;
		if (i >= a->ni || item_cmp(a->ik[i], a->it[i], b->ik[j], b->it[j]) != 0)
			return false;
	}
	return true;
}

void drf__res_add(struct drf_resources *dst, const struct drf_resources *src)
{
	uint32_t n = dst->a->n_sk;
	for (uint32_t i = 0; i < n; i++)
		dst->s[i] += src->s[i];
	dst->present |= src->present;
	drf__ranges_add(dst, src);
	drf__items_merge(dst, src, true);
}

void drf__res_sub(struct drf_resources *dst, const struct drf_resources *src)
{
	uint32_t n = dst->a->n_sk;
	for (uint32_t i = 0; i < n; i++)
		dst->s[i] -= src->s[i];
	ranges_sub(dst, src);
	drf__items_merge(dst, src, false);
}

bool drf__res_contains(const struct drf_resources *a, const struct drf_resources *b)
{
	uint32_t n = a->a->n_sk;
	for (uint32_t i = 0; i < n; i++)
		if (a->s[i] < b->s[i])
			return false;
	return ranges_contains(a, b) && items_contains(a, b);
}

bool drf__res_empty(const struct drf_resources *r)
{
	uint32_t n = r->a->n_sk;
	for (uint32_t i = 0; i < n; i++)
		if (r->s[i])
			return false;
	return r->nr == 0 && r->ni == 0;
}

void drf__res_quantities(const struct drf_resources *r, int64_t *ret_q)
{
	const struct drf_allocator *a = r->a;
	memset(ret_q, 0, a->n_sk * sizeof(int64_t));
	for (uint32_t i = 0; i < a->n_sk; i++)
		ret_q[a->sk[i].base] += r->s[i];
}

/* ---- public object ---- */

struct drf_resources *drf_resources_new(struct drf_allocator *a)
{
	struct drf_resources *r = ag_malloc(sizeof(*r));
	drf__res_init(r, a);
	return r;
}

struct drf_resources *drf_resources_copy(const struct drf_resources *r)
{
	struct drf_resources *c = drf_resources_new(r->a);
	drf__res_copy(c, r);
	return c;
}

void drf_resources_free(struct drf_resources *r)
{
	if (!r)
		return;
	drf__res_fini(r);
	free(r);
}

void drf_resources_add(struct drf_resources *dst, const struct drf_resources *src)
{
	drf__res_add(dst, src);
}

int drf_resources_subtract(struct drf_resources *dst, const struct drf_resources *src)
{
	if (!drf__res_contains(dst, src))
		return -EINVAL;
	drf__res_sub(dst, src);
	return 0;
}

bool drf_resources_contains(const struct drf_resources *a, const struct drf_resources *b)
{
	return drf__res_contains(a, b);
}

bool drf_resources_is_empty(const struct drf_resources *r)
{
	return drf__res_empty(r);
}

static uint32_t role_by_name(const struct drf_allocator *a, const char *role)
{
	if (!role || strcmp(role, "*") == 0)
		return DRF__NONE;
	uint32_t r = drf__strmap_get(&a->role_map, role);
	return r == DRF__NONE ? DRF__NONE - 1 : r;
}

int64_t drf_resources_scalar(const struct drf_resources *r, const char *name, const char *role)
{
	const struct drf_allocator *a = r->a;
	uint32_t nid = drf__strmap_get(&a->str_map, name);
	uint32_t rid = role_by_name(a, role);
	for (uint32_t i = 0; i < a->n_sk; i++)
		if (a->sk[i].name == nid && a->sk[i].role == rid)
			return r->s[i];
	return 0;
}

int64_t drf_resources_quantity(const struct drf_resources *r, const char *name)
{
	const struct drf_allocator *a = r->a;
	uint32_t nid = drf__strmap_get(&a->str_map, name);
	int64_t sum = 0;
	for (uint32_t i = 0; i < a->n_sk; i++)
		if (a->sk[i].name == nid)
			sum += r->s[i];
	return sum;
}
