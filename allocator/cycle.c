/* cycle.c: allocation records, filters, recovery and the offer cycles.
 *
 * An allocation record holds what one (framework, role) has on one agent
 * (offered + used); a filter holds what it refused there and until when.
 * Both live in one pool of pairs, found by a hash of (fr, agent) and linked
 * into per-agent and per-(framework, role) lists so removals are O(own).
 */
#include "allocator/internal.h"

#include <math.h>

static inline uint64_t pair_key(uint32_t fr, uint32_t agent)
{
	return ((uint64_t)fr << 32) | agent;
}

static uint32_t pair_new(struct drf_allocator *a, uint32_t fr, uint32_t agent, bool filter)
{
	uint32_t pid;
	if (a->free_pair != 0) {
		pid = a->free_pair - 1;
		a->free_pair = a->pairs[pid].a_next;
		drf__res_clear(&a->pairs[pid].res);
	} else {
		if (a->n_pairs == a->cap_pairs) {
			a->cap_pairs = a->cap_pairs ? a->cap_pairs * 2 : 256;
			a->pairs = ag_realloc(a->pairs, a->cap_pairs * sizeof(*a->pairs));
		}
		pid = a->n_pairs++;
		drf__res_init(&a->pairs[pid].res, a);
	}
	struct drf__pair *p = &a->pairs[pid];
	uint32_t *ahead = filter ? &a->agents[agent].filters : &a->agents[agent].recs;
	uint32_t *fhead = filter ? &a->frs[fr].filters : &a->frs[fr].recs;
	p->fr = fr;
	p->agent = agent;
	p->expiry = 0;
	p->used = true;
	p->a_prev = DRF__NONE;
	p->a_next = *ahead;
	if (*ahead != DRF__NONE)
		a->pairs[*ahead].a_prev = pid;
	*ahead = pid;
	p->f_prev = DRF__NONE;
	p->f_next = *fhead;
	if (*fhead != DRF__NONE)
		a->pairs[*fhead].f_prev = pid;
	*fhead = pid;
	drf__u64map_put(filter ? &a->filter_map : &a->rec_map, pair_key(fr, agent), pid);
	if (filter)
		a->n_filters++;
	return pid;
}

void drf__pair_delete(struct drf_allocator *a, uint32_t pid, bool filter)
{
	struct drf__pair *p = &a->pairs[pid];
	uint32_t *ahead = filter ? &a->agents[p->agent].filters : &a->agents[p->agent].recs;
	uint32_t *fhead = filter ? &a->frs[p->fr].filters : &a->frs[p->fr].recs;
	if (p->a_prev != DRF__NONE)
		a->pairs[p->a_prev].a_next = p->a_next;
	else
		*ahead = p->a_next;
	if (p->a_next != DRF__NONE)
		a->pairs[p->a_next].a_prev = p->a_prev;
	if (p->f_prev != DRF__NONE)
		a->pairs[p->f_prev].f_next = p->f_next;
	else
		*fhead = p->f_next;
	if (p->f_next != DRF__NONE)
		a->pairs[p->f_next].f_prev = p->f_prev;
	drf__u64map_del(filter ? &a->filter_map : &a->rec_map, pair_key(p->fr, p->agent));
	if (filter)
		a->n_filters--;
	p->used = false;
	/* Keep res's arrays for the next user of the slot. */
	p->a_next = a->free_pair;
	a->free_pair = pid + 1;
}

static void unreserved_quantities(const struct drf_allocator *a, const struct drf_resources *r,
                                  int64_t *ret_q)
{
	memset(ret_q, 0, a->n_sk * sizeof(int64_t));
	for (uint32_t k = 0; k < a->n_sk; k++)
		if (a->sk[k].role == DRF__NONE)
			ret_q[k] = r->s[k];
}

/* Book `res` to/from fr: framework and role shares, quota consumption. */
static void book(struct drf_allocator *a, uint32_t fr, const struct drf_resources *res, int sign)
{
	int64_t q[DRF__MAX_SCALARS];
	drf__res_quantities(res, q);
	drf__account(a, fr, q, sign);
	unreserved_quantities(a, res, q);
	drf__quota_account(a, a->frs[fr].role, q, sign);
}

void drf__rec_release(struct drf_allocator *a, uint32_t pid, bool to_agent)
{
	struct drf__pair *p = &a->pairs[pid];
	book(a, p->fr, &p->res, -1);
	if (to_agent) {
		drf__res_add(&a->agents[p->agent].free, &p->res);
		drf__agent_mark_dirty(a, p->agent);
	}
	drf__pair_delete(a, pid, false);
}

void drf__agent_mark_dirty(struct drf_allocator *a, uint32_t agent)
{
	struct drf__agent *ag = &a->agents[agent];
	if (ag->dirty)
		return;
	ag->dirty = true;
	if (a->n_dirty == a->cap_dirty) {
		a->cap_dirty = a->cap_dirty ? a->cap_dirty * 2 : 64;
		a->dirty = ag_realloc(a->dirty, a->cap_dirty * sizeof(*a->dirty));
	}
	a->dirty[a->n_dirty++] = agent;
}

bool drf__has_reserved(const struct drf_resources *r)
{
	const struct drf_allocator *a = r->a;
	for (uint32_t k = 0; k < a->n_sk; k++)
		if (r->s[k] && a->sk[k].role != DRF__NONE)
			return true;
	for (uint32_t i = 0; i < r->nr; i++)
		if (a->rk[r->rk[i]].role != DRF__NONE)
			return true;
	for (uint32_t i = 0; i < r->ni; i++)
		if (a->ik[r->ik[i]].role != DRF__NONE)
			return true;
	return false;
}

void drf__reserved_account(struct drf_allocator *a, const struct drf_resources *r, int sign)
{
	int64_t q[DRF__MAX_SCALARS];
	for (uint32_t k = 0; k < a->n_sk; k++) {
		if (!r->s[k] || a->sk[k].role == DRF__NONE)
			continue;
		memset(q, 0, sizeof(q));
		q[a->sk[k].base] = r->s[k];
		drf__quota_account(a, a->sk[k].role, q, sign);
	}
}

/* ---- recovery ---- */

int drf_allocation_recover(struct drf_allocator *a, const char *framework_id, const char *agent_id,
                           const char *role, const struct drf_resources *res, double refuse_seconds,
                           int64_t now)
{
	if (!a || !res || res->a != a || isnan(refuse_seconds))
		return -EINVAL;
	uint32_t fr = drf__fr_find(a, framework_id, role);
	uint32_t agent = agent_id ? drf__strmap_get(&a->agent_map, agent_id) : DRF__NONE;
	if (fr == DRF__NONE || agent == DRF__NONE)
		return -ENOENT;
	int64_t refuse_ns = refuse_seconds < 0     ? a->default_refuse_ns
	                    : refuse_seconds > 1e9 ? (int64_t)1e18
	                                           : llround(refuse_seconds * 1e9);
	uint32_t pid = drf__u64map_get(&a->rec_map, pair_key(fr, agent));
	if (pid == DRF__NONE)
		return drf__res_empty(res) ? 0 : -ENOENT;
	struct drf__pair *p = &a->pairs[pid];
	if (!drf__res_contains(&p->res, res))
		return -EINVAL;
	if (drf__res_empty(res))
		return 0;
	drf__res_sub(&p->res, res);
	drf__res_add(&a->agents[agent].free, res);
	book(a, fr, res, -1);
	if (drf__res_empty(&p->res))
		drf__pair_delete(a, pid, false);
	if (a->frs[fr].detached) {
		drf__agent_mark_dirty(a, agent);
		drf__fr_gc(a, fr);
		return 0;
	}
	if (refuse_ns > 0) {
		uint32_t f = drf__u64map_get(&a->filter_map, pair_key(fr, agent));
		if (f == DRF__NONE)
			f = pair_new(a, fr, agent, true);
		drf__res_copy(&a->pairs[f].res, res);
		a->pairs[f].expiry = now + refuse_ns;
	}
	drf__agent_mark_dirty(a, agent);
	return 0;
}

/* A restarted master learns of running tasks from re-registering agents:
 * their resources are booked as used without an offer. */
int drf_allocation_add(struct drf_allocator *a, const char *framework_id, const char *agent_id,
                       const char *role, const struct drf_resources *res)
{
	if (!a || !res || res->a != a)
		return -EINVAL;
	uint32_t fr = drf__fr_find(a, framework_id, role);
	uint32_t agent = agent_id ? drf__strmap_get(&a->agent_map, agent_id) : DRF__NONE;
	if (fr == DRF__NONE || agent == DRF__NONE)
		return -ENOENT;
	if (!drf__res_contains(&a->agents[agent].free, res))
		return -EBUSY;
	if (drf__res_empty(res))
		return 0;
	uint32_t rid = drf__u64map_get(&a->rec_map, pair_key(fr, agent));
	if (rid == DRF__NONE)
		rid = pair_new(a, fr, agent, false);
	drf__res_add(&a->pairs[rid].res, res);
	drf__res_sub(&a->agents[agent].free, res);
	book(a, fr, res, 1);
	return 0;
}

int drf_offer_decline(struct drf_allocator *a, const char *framework_id, const char *agent_id,
                      const char *role, const struct drf_resources *offered, double refuse_seconds,
                      int64_t now)
{
	return drf_allocation_recover(a, framework_id, agent_id, role, offered, refuse_seconds,
	                              now);
}

int drf_offer_accept(struct drf_allocator *a, const char *framework_id, const char *agent_id,
                     const char *role, const struct drf_resources *offered,
                     const struct drf_resources *used, double refuse_seconds, int64_t now)
{
	if (!a || !offered || !used || offered->a != a || used->a != a)
		return -EINVAL;
	if (!drf__res_contains(offered, used))
		return -EINVAL;
	struct drf_resources unused;
	drf__res_init(&unused, a);
	drf__res_copy(&unused, offered);
	drf__res_sub(&unused, used);
	int r = drf_allocation_recover(a, framework_id, agent_id, role, &unused, refuse_seconds,
	                               now);
	drf__res_fini(&unused);
	return r;
}

int drf_offer_rescind(struct drf_allocator *a, const char *framework_id, const char *agent_id,
                      const char *role, const struct drf_resources *offered)
{
	return drf_allocation_recover(a, framework_id, agent_id, role, offered, 0, 0);
}

int drf_resources_recover(struct drf_allocator *a, const char *framework_id, const char *agent_id,
                          const char *role, const struct drf_resources *res)
{
	return drf_allocation_recover(a, framework_id, agent_id, role, res, 0, 0);
}

int drf_allocation_get(struct drf_allocator *a, const char *framework_id, const char *agent_id,
                       const char *role, const struct drf_resources **ret_res)
{
	if (!a || !ret_res)
		return -EINVAL;
	uint32_t fr = drf__fr_find(a, framework_id, role);
	uint32_t agent = agent_id ? drf__strmap_get(&a->agent_map, agent_id) : DRF__NONE;
	if (fr == DRF__NONE || agent == DRF__NONE)
		return -ENOENT;
	uint32_t pid = drf__u64map_get(&a->rec_map, pair_key(fr, agent));
	if (pid == DRF__NONE)
		return -ENOENT;
	/* A copy, so the caller may hand it straight back to decline. */
	drf__res_copy(&a->view, &a->pairs[pid].res);
	*ret_res = &a->view;
	return 0;
}

/* ---- cycles ---- */

static bool allocatable(const struct drf_allocator *a, const struct drf_resources *r)
{
	int64_t q[DRF__MAX_SCALARS];
	drf__res_quantities(r, q);
	for (size_t i = 0; i < a->n_min_alloc; i++) {
		const int64_t *m = a->min_alloc[i].s;
		bool ok = true;
		for (uint32_t k = 0; k < a->n_sk && ok; k++)
			ok = q[k] >= m[k];
		if (ok)
			return true;
	}
	if (a->n_min_alloc)
		return false;
	for (uint32_t k = 0; k < a->n_sk; k++)
		if (q[k] > 0)
			return true;
	return false;
}

struct cycle {
	uint32_t agent;
	int64_t now;
	size_t offers;
};

/* What `role` could be offered on the agent now: unreserved free resources
 * and those reserved for the role or an ancestor, cut to quota headroom. */
static bool role_offerable(struct drf_allocator *a, uint32_t role, void *ctx)
{
	struct cycle *c = ctx;
	const struct drf__agent *ag = &a->agents[c->agent];
	struct drf_resources *out = &a->scratch;
	if (!ag->has_reserved) {
		drf__res_copy(out, &ag->free);
	} else {
		drf__res_clear(out);
		for (uint32_t k = 0; k < a->n_sk; k++) {
			uint32_t kr = a->sk[k].role;
			if (kr == DRF__NONE || drf__role_within(a, role, kr))
				out->s[k] = ag->free.s[k];
		}
		for (uint32_t i = 0; i < ag->free.nr; i++) {
			uint32_t kr = a->rk[ag->free.rk[i]].role;
			if (kr != DRF__NONE && !drf__role_within(a, role, kr))
				continue;
			if (out->nr == out->cr) {
				out->cr = out->cr ? out->cr * 2 : 4;
				out->rk = ag_realloc(out->rk, out->cr * sizeof(*out->rk));
				out->r = ag_realloc(out->r, out->cr * sizeof(*out->r));
			}
			out->rk[out->nr] = ag->free.rk[i];
			out->r[out->nr++] = ag->free.r[i];
		}
		for (uint32_t i = 0; i < ag->free.ni; i++) {
			uint32_t kr = a->ik[ag->free.ik[i]].role;
			if (kr != DRF__NONE && !drf__role_within(a, role, kr))
				continue;
			if (out->ni == out->ci) {
				out->ci = out->ci ? out->ci * 2 : 4;
				out->ik = ag_realloc(out->ik, out->ci * sizeof(*out->ik));
				out->it = ag_realloc(out->it, out->ci * sizeof(*out->it));
			}
			out->ik[out->ni] = ag->free.ik[i];
			out->it[out->ni++] = ag->free.it[i];
		}
	}
	if (a->n_quota_roles) {
		for (uint32_t rid = role; rid != DRF__NONE; rid = a->roles[rid].parent) {
			const struct drf__role *r = &a->roles[rid];
			if (!r->has_quota)
				continue;
			for (uint32_t k = 0; k < a->n_sk; k++) {
				if (r->quota[k] < 0 || a->sk[k].role != DRF__NONE)
					continue;
				int64_t head = r->quota[k] - r->consumed[k];
				if (head < 0)
					head = 0;
				if (out->s[k] > head)
					out->s[k] = head;
			}
		}
	}
	return allocatable(a, out);
}

static bool try_offer(struct drf_allocator *a, uint32_t role, uint32_t fr, void *ctx)
{
	struct cycle *c = ctx;
	struct drf__fr *f = &a->frs[fr];
	if (f->stamp_cycle == a->cycle && f->stamp_agent == c->agent)
		return false;
	const struct drf_resources *offer = &a->scratch;
	if (a->n_filters) {
		uint32_t pid = drf__u64map_get(&a->filter_map, pair_key(fr, c->agent));
		if (pid != DRF__NONE) {
			if (c->now >= a->pairs[pid].expiry)
				drf__pair_delete(a, pid, true);
			else if (drf__res_contains(&a->pairs[pid].res, offer))
				return false;
		}
	}
	uint32_t rid = drf__u64map_get(&a->rec_map, pair_key(fr, c->agent));
	if (rid == DRF__NONE)
		rid = pair_new(a, fr, c->agent, false);
	drf__res_add(&a->pairs[rid].res, offer);
	drf__res_sub(&a->agents[c->agent].free, offer);
	book(a, fr, offer, 1);
	f = &a->frs[fr];
	f->stamp_cycle = a->cycle;
	f->stamp_agent = c->agent;
	c->offers++;
	if (a->opts.on_offer) {
		struct drf_offer o = {
		        .framework_id = a->fws[f->fw].id,
		        .agent_id = a->agents[c->agent].id,
		        .role = a->roles[role].name,
		        .resources = offer,
		};
		a->opts.on_offer(a->opts.ctx, &o);
	}
	return true;
}

static void allocate_agent(struct drf_allocator *a, uint32_t agent, struct cycle *c)
{
	if (!a->agents[agent].id || a->agents[agent].inactive ||
	    !allocatable(a, &a->agents[agent].free))
		return;
	c->agent = agent;
	while (drf__walk(a, role_offerable, try_offer, c))
		if (!allocatable(a, &a->agents[agent].free))
			break;
}

size_t drf_allocate_all(struct drf_allocator *a, int64_t now)
{
	if (!a)
		return 0;
	struct cycle c = {.now = now};
	a->cycle++;
	a->full_pending = false;
	for (uint32_t i = 0; i < a->n_dirty; i++)
		a->agents[a->dirty[i]].dirty = false;
	a->n_dirty = 0;
	for (uint32_t i = 0; i < a->n_agents; i++)
		allocate_agent(a, i, &c);
	return c.offers;
}

size_t drf_allocate_dirty(struct drf_allocator *a, int64_t now)
{
	if (!a)
		return 0;
	if (a->full_pending)
		return drf_allocate_all(a, now);
	struct cycle c = {.now = now};
	a->cycle++;
	for (uint32_t i = 0; i < a->n_dirty; i++) {
		uint32_t agent = a->dirty[i];
		a->agents[agent].dirty = false;
		allocate_agent(a, agent, &c);
	}
	a->n_dirty = 0;
	return c.offers;
}

bool drf_allocator_pending(const struct drf_allocator *a)
{
	return a && (a->full_pending || a->n_dirty > 0);
}

bool drf_allocator_idle(const struct drf_allocator *a)
{
	return !a || (!drf_allocator_pending(a) && a->n_filters == 0 && a->n_quota_roles == 0);
}
