/* sorter.c: the two-level fair order, in the manner of Mesos's
 * hierarchical DRF sorter.
 *
 * Every role keeps a binary heap of its children plus one "self" entry
 * standing for its own frameworks (Mesos's virtual "." leaf), keyed by
 * (weighted dominant share, name); and a heap of its frameworks keyed by
 * (dominant share in the role, name). An allocation changes one framework
 * and the roles above it, so keeping the order costs O(depth * log n)
 * rather than a sort per agent. Walking candidates in order enumerates each
 * heap lazily (a small auxiliary heap of indices), so a cycle that takes
 * the first candidate pays O(1) per level.
 */
#include "allocator/internal.h"

/* ---- heaps ---- */

static inline bool hless(const struct drf__hent *x, const struct drf__hent *y)
{
	if (x->key != y->key)
		return x->key < y->key;
	int c = strcmp(x->name, y->name);
	if (c)
		return c < 0;
	return x->ref < y->ref;
}

static inline uint32_t *posp(struct drf_allocator *a, bool roles, uint32_t ref)
{
	return roles ? &a->roles[ref >> 1].hpos[ref & 1] : &a->frs[ref].hpos;
}

static void heap_set(struct drf_allocator *a, struct drf__heap *h, bool roles, uint32_t i,
                     struct drf__hent e)
{
	h->v[i] = e;
	*posp(a, roles, e.ref) = i;
}

static void heap_up(struct drf_allocator *a, struct drf__heap *h, bool roles, uint32_t i)
{
	struct drf__hent e = h->v[i];
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (!hless(&e, &h->v[p]))
			break;
		heap_set(a, h, roles, i, h->v[p]);
		i = p;
	}
	heap_set(a, h, roles, i, e);
}

static void heap_down(struct drf_allocator *a, struct drf__heap *h, bool roles, uint32_t i)
{
	struct drf__hent e = h->v[i];
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && hless(&h->v[c + 1], &h->v[c]))
			c++;
		if (!hless(&h->v[c], &e))
			break;
		heap_set(a, h, roles, i, h->v[c]);
		i = c;
	}
	heap_set(a, h, roles, i, e);
}

static void heap_push(struct drf_allocator *a, struct drf__heap *h, bool roles, struct drf__hent e)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 4;
		h->v = ag_realloc(h->v, h->cap * sizeof(*h->v));
	}
	h->v[h->n++] = e;
	heap_up(a, h, roles, h->n - 1);
}

static void heap_remove(struct drf_allocator *a, struct drf__heap *h, bool roles, uint32_t i)
{
	*posp(a, roles, h->v[i].ref) = DRF__NONE;
	h->n--;
	if (i == h->n)
		return;
	uint32_t ref = h->v[h->n].ref;
	heap_set(a, h, roles, i, h->v[h->n]);
	heap_up(a, h, roles, i);
	if (*posp(a, roles, ref) == i)
		heap_down(a, h, roles, i);
}

static void heap_rekey(struct drf_allocator *a, struct drf__heap *h, bool roles, uint32_t i,
                       double key)
{
	double old = h->v[i].key;
	h->v[i].key = key;
	if (key < old)
		heap_up(a, h, roles, i);
	else if (key > old)
		heap_down(a, h, roles, i);
}

static void heap_rebuild(struct drf_allocator *a, struct drf__heap *h, bool roles)
{
	for (uint32_t i = 0; i < h->n; i++) {
		uint32_t ref = h->v[i].ref;
		if (roles) {
			const struct drf__role *r = &a->roles[ref >> 1];
			h->v[i].key = (ref & 1) ? r->own_share : r->share;
		} else {
			h->v[i].key = a->frs[ref].share;
		}
	}
	for (uint32_t i = h->n / 2; i-- > 0;)
		heap_down(a, h, roles, i);
	for (uint32_t i = 0; i < h->n; i++)
		*posp(a, roles, h->v[i].ref) = i;
}

/* Lazy in-order enumeration of a heap that does not change meanwhile. */
struct hiter {
	const struct drf__heap *h;
	uint32_t *aux;
	uint32_t n, cap;
	uint32_t stack[32];
};

static void hiter_push(struct hiter *it, uint32_t idx)
{
	if (it->n == it->cap) {
		uint32_t *nb = ag_malloc(it->cap * 2 * sizeof(*nb));
		memcpy(nb, it->aux, it->n * sizeof(*nb));
		if (it->aux != it->stack)
			free(it->aux);
		it->aux = nb;
		it->cap *= 2;
	}
	const struct drf__hent *v = it->h->v;
	uint32_t i = it->n++;
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (!hless(&v[idx], &v[it->aux[p]]))
			break;
		it->aux[i] = it->aux[p];
		i = p;
	}
	it->aux[i] = idx;
}

static void hiter_init(struct hiter *it, const struct drf__heap *h)
{
	it->h = h;
	it->aux = it->stack;
	it->n = 0;
	it->cap = AG_ARRAY_SIZE(it->stack);
	if (h->n)
		hiter_push(it, 0);
}

static bool hiter_next(struct hiter *it, uint32_t *ret_idx)
{
	if (it->n == 0)
		return false;
	const struct drf__hent *v = it->h->v;
	uint32_t top = it->aux[0];
	uint32_t last = it->aux[--it->n];
	uint32_t i = 0;
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= it->n)
			break;
		if (c + 1 < it->n && hless(&v[it->aux[c + 1]], &v[it->aux[c]]))
			c++;
		if (!hless(&v[it->aux[c]], &v[last]))
			break;
		it->aux[i] = it->aux[c];
		i = c;
	}
	if (it->n)
		it->aux[i] = last;
	uint32_t l = 2 * top + 1;
	if (l < it->h->n)
		hiter_push(it, l);
	if (l + 1 < it->h->n)
		hiter_push(it, l + 1);
	*ret_idx = top;
	return true;
}

static void hiter_fini(struct hiter *it)
{
	if (it->aux != it->stack)
		free(it->aux);
}

/* ---- shares ---- */

double drf__share(const struct drf_allocator *a, const int64_t *alloc)
{
	double s = 0;
	for (uint32_t k = 0; k < a->n_sk; k++) {
		if (a->total[k] <= 0 || a->excluded[k] || alloc[k] <= 0)
			continue;
		double x = (double)alloc[k] / (double)a->total[k];
		if (x > s)
			s = x;
	}
	return s;
}

void drf__account(struct drf_allocator *a, uint32_t fr, const int64_t *q, int sign)
{
	struct drf__fr *f = &a->frs[fr];
	uint32_t n = a->n_sk;
	for (uint32_t k = 0; k < n; k++)
		f->alloc[k] += sign * q[k];
	f->share = drf__share(a, f->alloc);
	uint32_t rid = f->role;
	struct drf__role *r = &a->roles[rid];
	if (f->hpos != DRF__NONE)
		heap_rekey(a, &r->fws, false, f->hpos, f->share);
	for (uint32_t k = 0; k < n; k++)
		r->own[k] += sign * q[k];
	r->own_share = drf__share(a, r->own) / r->weight;
	if (r->hpos[1] != DRF__NONE)
		heap_rekey(a, &r->children, true, r->hpos[1], r->own_share);
	for (;;) {
		r = &a->roles[rid];
		for (uint32_t k = 0; k < n; k++)
			r->alloc[k] += sign * q[k];
		r->share = drf__share(a, r->alloc) / r->weight;
		if (r->parent == DRF__NONE)
			break;
		if (r->hpos[0] != DRF__NONE)
			heap_rekey(a, &a->roles[r->parent].children, true, r->hpos[0], r->share);
		rid = r->parent;
	}
}

void drf__quota_account(struct drf_allocator *a, uint32_t role, const int64_t *q, int sign)
{
	for (uint32_t rid = role; rid != DRF__NONE; rid = a->roles[rid].parent) {
		struct drf__role *r = &a->roles[rid];
		for (uint32_t k = 0; k < a->n_sk; k++)
			r->consumed[k] += sign * q[k];
	}
}

/* Only roles with frameworks in their subtree's heaps take part in their
 * parent's order, and a role's self entry only while it has frameworks of
 * its own: a walk never steps over idle roles (reservation-only or
 * quota-only roles sort first, at share 0, and would otherwise be visited
 * for every agent). */
static void active_add(struct drf_allocator *a, uint32_t role, int d)
{
	for (uint32_t rid = role; rid != DRF__NONE; rid = a->roles[rid].parent) {
		struct drf__role *r = &a->roles[rid];
		uint32_t before = r->active;
		r->active += (uint32_t)d;
		if (r->parent == DRF__NONE)
			continue;
		struct drf__heap *ph = &a->roles[r->parent].children;
		if (before == 0 && r->active > 0)
			heap_push(a, ph, true,
			          (struct drf__hent){
			                  .key = r->share, .name = r->name, .ref = 2 * rid});
		else if (before > 0 && r->active == 0)
			heap_remove(a, ph, true, r->hpos[0]);
	}
}

void drf__fr_heap_insert(struct drf_allocator *a, uint32_t fr)
{
	struct drf__fr *f = &a->frs[fr];
	if (f->hpos != DRF__NONE)
		return;
	f->share = drf__share(a, f->alloc);
	struct drf__role *r = &a->roles[f->role];
	struct drf__hent e = {.key = f->share, .name = a->fws[f->fw].id, .ref = fr};
	heap_push(a, &r->fws, false, e);
	if (r->fws.n == 1)
		heap_push(a, &r->children, true,
		          (struct drf__hent){
		                  .key = r->own_share, .name = r->name, .ref = 2 * f->role + 1});
	active_add(a, f->role, 1);
}

void drf__fr_heap_remove(struct drf_allocator *a, uint32_t fr)
{
	struct drf__fr *f = &a->frs[fr];
	if (f->hpos == DRF__NONE)
		return;
	struct drf__role *r = &a->roles[f->role];
	heap_remove(a, &r->fws, false, f->hpos);
	if (r->fws.n == 0)
		heap_remove(a, &r->children, true, r->hpos[1]);
	active_add(a, f->role, -1);
}

void drf__shares_refresh(struct drf_allocator *a)
{
	for (uint32_t i = 0; i < a->n_frs; i++)
		if (a->frs[i].fw != DRF__NONE)
			a->frs[i].share = drf__share(a, a->frs[i].alloc);
	for (uint32_t i = 0; i < a->n_roles; i++) {
		struct drf__role *r = &a->roles[i];
		r->share = drf__share(a, r->alloc) / r->weight;
		r->own_share = drf__share(a, r->own) / r->weight;
	}
	for (uint32_t i = 0; i < a->n_roles; i++) {
		heap_rebuild(a, &a->roles[i].fws, false);
		heap_rebuild(a, &a->roles[i].children, true);
	}
	a->shares_stale = false;
}

/* ---- roles ---- */

bool drf__role_name_valid(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || name[0] == '/' || name[len - 1] == '/')
		return false;
	const char *c = name;
	while (*c) {
		const char *e = strchr(c, '/');
		size_t n = e ? (size_t)(e - c) : strlen(c);
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)c[i] <= ' ' || c[i] == '\\' || c[i] == '(' ||
			    c[i] == ')' || c[i] == ';' || c[i] == ':' || c[i] == ',' || c[i] == 127)
				return false;
		if (n > 1 && c[0] == '-')
			return false;
		c += n;
		if (*c == '/')
			c++;
	}
	/* "*" is Mesos's default role and only valid alone. */
	if (strchr(name, '*') && strcmp(name, "*") != 0)
		return false;
	return true;
}

uint32_t drf__role_get_or_create(struct drf_allocator *a, const char *name, int *ret_err)
{
	uint32_t id = drf__strmap_get(&a->role_map, name);
	if (id != DRF__NONE)
		return id;
	if (!drf__role_name_valid(name)) {
		*ret_err = -EINVAL;
		return DRF__NONE;
	}
	uint32_t parent = 0;
	const char *slash = strrchr(name, '/');
	if (slash) {
		char *pn = strndup(name, (size_t)(slash - name));
		if (!pn)
			abort();
		parent = drf__role_get_or_create(a, pn, ret_err);
		free(pn);
		if (parent == DRF__NONE)
			return DRF__NONE;
	}
	if (a->n_roles == a->cap_roles) {
		a->cap_roles = a->cap_roles ? a->cap_roles * 2 : 8;
		a->roles = ag_realloc(a->roles, a->cap_roles * sizeof(*a->roles));
	}
	id = a->n_roles++;
	struct drf__role *r = &a->roles[id];
	memset(r, 0, sizeof(*r));
	r->name = ag_strdup(name);
	r->parent = parent;
	r->depth = a->roles[parent].depth + 1;
	r->weight = 1.0;
	for (uint32_t k = 0; k < DRF__MAX_SCALARS; k++)
		r->quota[k] = -1;
	r->hpos[0] = r->hpos[1] = DRF__NONE;
	drf__res_init(&r->view_alloc, a);
	drf__res_init(&r->view_quota, a);
	drf__res_init(&r->view_consumed, a);
	drf__strmap_put(&a->role_map, r->name, id);
	return id;
}

bool drf__role_within(const struct drf_allocator *a, uint32_t role, uint32_t ancestor)
{
	for (uint32_t r = role; r != DRF__NONE; r = a->roles[r].parent)
		if (r == ancestor)
			return true;
	return false;
}

void drf__role_free(struct drf__role *r)
{
	free(r->name);
	free(r->children.v);
	free(r->fws.v);
	free(r->frs);
	drf__res_fini(&r->view_alloc);
	drf__res_fini(&r->view_quota);
	drf__res_fini(&r->view_consumed);
}

/* ---- walking the fair order ---- */

static bool walk_role(struct drf_allocator *a, uint32_t role, drf__role_fn role_ok, drf__try_fn try,
                      void *ctx)
{
	struct hiter it;
	uint32_t idx;
	bool done = false;
	hiter_init(&it, &a->roles[role].children);
	while (!done && hiter_next(&it, &idx)) {
		uint32_t ref = a->roles[role].children.v[idx].ref;
		uint32_t r = ref >> 1;
		if (ref & 1) {
			if (a->roles[r].fws.n == 0 || !role_ok(a, r, ctx))
				continue;
			struct hiter fit;
			uint32_t fidx;
			hiter_init(&fit, &a->roles[r].fws);
			while (hiter_next(&fit, &fidx)) {
				if (try(a, r, a->roles[r].fws.v[fidx].ref, ctx)) {
					done = true;
					break;
				}
			}
			hiter_fini(&fit);
		} else if (a->roles[r].active) {
			done = walk_role(a, r, role_ok, try, ctx);
		}
	}
	hiter_fini(&it);
	return done;
}

bool drf__walk(struct drf_allocator *a, drf__role_fn role_ok, drf__try_fn try, void *ctx)
{
	if (a->n_suppressed)
		drf__suppressed_flush(a);
	if (a->shares_stale)
		drf__shares_refresh(a);
	if (a->roles[0].active == 0)
		return false;
	return walk_role(a, 0, role_ok, try, ctx);
}
