/* allocator.c: lifecycle, agents, frameworks and roles of the allocator.
 * Offers, recovery, filters and cycles are in cycle.c; the fair order in
 * sorter.c.
 */
#include "allocator/internal.h"

#include <math.h>

int drf_allocator_new(const struct drf_options *opts, struct drf_allocator **ret_alloc)
{
	static const struct drf_options defaults = {0};
	if (!ret_alloc)
		return -EINVAL;
	if (!opts)
		opts = &defaults;
	if (opts->default_refuse_seconds < 0 || !isfinite(opts->default_refuse_seconds))
		return -EINVAL;
	struct drf_allocator *a = ag_calloc(1, sizeof(*a));
	/* The ids and names are the entities' own copies, kept while mapped. */
	a->str_map.borrow_keys = true;
	a->agent_map.borrow_keys = true;
	a->fw_map.borrow_keys = true;
	a->role_map.borrow_keys = true;
	a->opts = *opts;
	a->opts.min_allocatable = NULL;
	a->opts.fair_share_excluded = NULL;
	a->opts.n_fair_share_excluded = 0;
	double refuse = opts->default_refuse_seconds > 0 ? opts->default_refuse_seconds : 5.0;
	a->default_refuse_ns = llround(refuse * 1e9);
	drf__res_init(&a->scratch, a);
	drf__res_init(&a->view, a);

	/* The root of the role tree: no name, no frameworks of its own. */
	a->cap_roles = 8;
	a->roles = ag_calloc(a->cap_roles, sizeof(*a->roles));
	a->n_roles = 1;
	a->roles[0].name = ag_strdup("");
	a->roles[0].parent = DRF__NONE;
	a->roles[0].weight = 1.0;
	a->roles[0].hpos[0] = a->roles[0].hpos[1] = DRF__NONE;
	for (uint32_t k = 0; k < DRF__MAX_SCALARS; k++)
		a->roles[0].quota[k] = -1;
	drf__res_init(&a->roles[0].view_alloc, a);
	drf__res_init(&a->roles[0].view_quota, a);
	drf__res_init(&a->roles[0].view_consumed, a);

	a->n_excluded_names = opts->n_fair_share_excluded;
	a->excluded_names = ag_calloc(a->n_excluded_names + 1, sizeof(uint32_t));
	for (size_t i = 0; i < a->n_excluded_names; i++) {
		const char *n = opts->fair_share_excluded[i];
		if (!n) {
			drf_allocator_free(a);
			return -EINVAL;
		}
		a->excluded_names[i] = drf__intern(a, n, strlen(n));
	}

	/* cpus, mem, disk, gpus get the first kinds. */
	struct drf_resources *std = NULL;
	int r = drf_resources_parse(a, "cpus:0;mem:0;disk:0;gpus:0", &std);
	drf_resources_free(std);
	if (r < 0) {
		drf_allocator_free(a);
		return r;
	}

	const char *min = opts->min_allocatable ? opts->min_allocatable : "cpus:0.01|mem:32";
	for (const char *p = min; *p;) {
		const char *e = strchr(p, '|');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char *alt = strndup(p, n);
		if (!alt)
			abort();
		struct drf_resources *m = NULL;
		r = drf_resources_parse(a, alt, &m);
		free(alt);
		if (r < 0 || m->nr || m->ni) {
			drf_resources_free(m);
			drf_allocator_free(a);
			return r < 0 ? r : -EINVAL;
		}
		a->min_alloc =
		        ag_realloc(a->min_alloc, (a->n_min_alloc + 1) * sizeof(*a->min_alloc));
		drf__res_init(&a->min_alloc[a->n_min_alloc], a);
		drf__res_quantities(m, a->min_alloc[a->n_min_alloc].s);
		a->n_min_alloc++;
		drf_resources_free(m);
		p += n;
		if (*p == '|')
			p++;
	}
	*ret_alloc = a;
	return 0;
}

void drf_allocator_free(struct drf_allocator *a)
{
	if (!a)
		return;
	for (uint32_t i = 0; i < a->n_agents; i++) {
		free(a->agents[i].id);
		drf__res_fini(&a->agents[i].total);
		drf__res_fini(&a->agents[i].free);
	}
	free(a->agents);
	for (uint32_t i = 0; i < a->n_fws; i++) {
		free(a->fws[i].id);
		free(a->fws[i].frs);
	}
	free(a->fws);
	free(a->frs);
	for (uint32_t i = 0; i < a->n_pairs; i++)
		drf__res_fini(&a->pairs[i].res);
	free(a->pairs);
	for (uint32_t i = 0; i < a->n_roles; i++)
		drf__role_free(&a->roles[i]);
	free(a->roles);
	for (uint32_t i = 0; i < a->n_strs; i++)
		free(a->strs[i]);
	free(a->strs);
	free(a->min_alloc);
	free(a->excluded_names);
	free(a->dirty);
	free(a->suppressed);
	drf__res_fini(&a->scratch);
	drf__res_fini(&a->view);
	ag_map_clear(&a->str_map);
	ag_map_clear(&a->agent_map);
	ag_map_clear(&a->fw_map);
	ag_map_clear(&a->role_map);
	ag_u64map_clear(&a->rec_map);
	ag_u64map_clear(&a->filter_map);
	free(a);
}

/* ---- agents ---- */

static uint32_t agent_find(const struct drf_allocator *a, const char *id)
{
	return id ? drf__strmap_get(&a->agent_map, id) : DRF__NONE;
}

static void totals_account(struct drf_allocator *a, const struct drf_resources *r, int sign)
{
	int64_t q[DRF__MAX_SCALARS];
	drf__res_quantities(r, q);
	for (uint32_t k = 0; k < a->n_sk; k++)
		a->total[k] += sign * q[k];
	a->shares_stale = true;
}

int drf_agent_add(struct drf_allocator *a, const char *agent_id, const struct drf_resources *total)
{
	if (!a || !agent_id || !*agent_id || !total || total->a != a)
		return -EINVAL;
	if (agent_find(a, agent_id) != DRF__NONE)
		return -EEXIST;
	for (uint32_t k = 0; k < a->n_sk; k++)
		if (total->s[k] < 0)
			return -EINVAL;
	uint32_t idx;
	if (a->free_agent != 0) {
		idx = a->free_agent - 1;
		a->free_agent = a->agents[idx].recs; /* free list link */
	} else {
		if (a->n_agents == a->cap_agents) {
			a->cap_agents = a->cap_agents ? a->cap_agents * 2 : 64;
			a->agents = ag_realloc(a->agents, a->cap_agents * sizeof(*a->agents));
		}
		idx = a->n_agents++;
		memset(&a->agents[idx], 0, sizeof(a->agents[idx]));
		drf__res_init(&a->agents[idx].total, a);
		drf__res_init(&a->agents[idx].free, a);
	}
	struct drf__agent *ag = &a->agents[idx];
	ag->id = ag_strdup(agent_id);
	ag->recs = DRF__NONE;
	ag->filters = DRF__NONE;
	drf__res_copy(&ag->total, total);
	drf__res_copy(&ag->free, total);
	ag->has_reserved = drf__has_reserved(total);
	ag->inactive = false;
	drf__strmap_put(&a->agent_map, ag->id, idx);
	a->live_agents++;
	totals_account(a, total, 1);
	drf__reserved_account(a, total, 1);
	drf__agent_mark_dirty(a, idx);
	return 0;
}

int drf_agent_update(struct drf_allocator *a, const char *agent_id,
                     const struct drf_resources *total)
{
	if (!a || !total || total->a != a)
		return -EINVAL;
	uint32_t idx = agent_find(a, agent_id);
	if (idx == DRF__NONE)
		return -ENOENT;
	struct drf__agent *ag = &a->agents[idx];
	struct drf_resources used;
	drf__res_init(&used, a);
	drf__res_copy(&used, &ag->total);
	drf__res_sub(&used, &ag->free);
	if (!drf__res_contains(total, &used)) {
		drf__res_fini(&used);
		return -EBUSY;
	}
	totals_account(a, &ag->total, -1);
	drf__reserved_account(a, &ag->total, -1);
	drf__res_copy(&ag->total, total);
	drf__res_copy(&ag->free, total);
	drf__res_sub(&ag->free, &used);
	drf__res_fini(&used);
	ag->has_reserved = drf__has_reserved(total);
	totals_account(a, total, 1);
	drf__reserved_account(a, total, 1);
	drf__agent_mark_dirty(a, idx);
	return 0;
}

int drf_agent_remove(struct drf_allocator *a, const char *agent_id)
{
	if (!a)
		return -EINVAL;
	uint32_t idx = agent_find(a, agent_id);
	if (idx == DRF__NONE)
		return -ENOENT;
	struct drf__agent *ag = &a->agents[idx];
	while (ag->recs != DRF__NONE)
		drf__rec_release(a, ag->recs, false);
	while (ag->filters != DRF__NONE)
		drf__pair_delete(a, ag->filters, true);
	totals_account(a, &ag->total, -1);
	drf__reserved_account(a, &ag->total, -1);
	drf__strmap_del(&a->agent_map, ag->id);
	free(ag->id);
	ag->id = NULL;
	drf__res_clear(&ag->total);
	drf__res_clear(&ag->free);
	ag->recs = a->free_agent; /* free list link */
	a->free_agent = idx + 1;
	a->live_agents--;
	return 0;
}

int drf_agent_deactivate(struct drf_allocator *a, const char *agent_id)
{
	if (!a)
		return -EINVAL;
	uint32_t idx = agent_find(a, agent_id);
	if (idx == DRF__NONE)
		return -ENOENT;
	a->agents[idx].inactive = true;
	return 0;
}

int drf_agent_activate(struct drf_allocator *a, const char *agent_id)
{
	if (!a)
		return -EINVAL;
	uint32_t idx = agent_find(a, agent_id);
	if (idx == DRF__NONE)
		return -ENOENT;
	if (a->agents[idx].inactive) {
		a->agents[idx].inactive = false;
		drf__agent_mark_dirty(a, idx);
	}
	return 0;
}

int drf_agent_free_resources(struct drf_allocator *a, const char *agent_id,
                             const struct drf_resources **ret_res)
{
	if (!a || !ret_res)
		return -EINVAL;
	uint32_t idx = agent_find(a, agent_id);
	if (idx == DRF__NONE)
		return -ENOENT;
	drf__res_copy(&a->view, &a->agents[idx].free);
	*ret_res = &a->view;
	return 0;
}

/* ---- frameworks ---- */

static uint32_t fw_find(const struct drf_allocator *a, const char *id)
{
	return id ? drf__strmap_get(&a->fw_map, id) : DRF__NONE;
}

uint32_t drf__fr_find(const struct drf_allocator *a, const char *fw_id, const char *role)
{
	uint32_t fw = fw_find(a, fw_id);
	if (fw == DRF__NONE || !role)
		return DRF__NONE;
	uint32_t rid = drf__strmap_get(&a->role_map, role);
	if (rid == DRF__NONE)
		return DRF__NONE;
	const struct drf__framework *f = &a->fws[fw];
	for (uint32_t i = 0; i < f->n_frs; i++)
		if (a->frs[f->frs[i]].role == rid)
			return f->frs[i];
	return DRF__NONE;
}

static uint32_t fr_new(struct drf_allocator *a, uint32_t fw, uint32_t role)
{
	uint32_t idx;
	if (a->free_fr != 0) {
		idx = a->free_fr - 1;
		a->free_fr = a->frs[idx].recs;
	} else {
		if (a->n_frs == a->cap_frs) {
			a->cap_frs = a->cap_frs ? a->cap_frs * 2 : 64;
			a->frs = ag_realloc(a->frs, a->cap_frs * sizeof(*a->frs));
		}
		idx = a->n_frs++;
		memset(&a->frs[idx], 0, sizeof(a->frs[idx]));
	}
	struct drf__fr *f = &a->frs[idx];
	f->fw = fw;
	f->role = role;
	f->hpos = DRF__NONE;
	f->recs = DRF__NONE;
	f->filters = DRF__NONE;
	f->stamp_cycle = 0;
	f->stamp_agent = DRF__NONE;
	f->share = 0;
	f->suppressed = false;
	f->detached = false;
	memset(f->alloc, 0, sizeof(f->alloc));
	struct drf__role *r = &a->roles[role];
	if (r->n_frs == r->cap_frs) {
		r->cap_frs = r->cap_frs ? r->cap_frs * 2 : 4;
		r->frs = ag_realloc(r->frs, r->cap_frs * sizeof(*r->frs));
	}
	f->rpos = r->n_frs;
	r->frs[r->n_frs++] = idx;
	return idx;
}

static void fr_delete(struct drf_allocator *a, uint32_t fr)
{
	struct drf__fr *f = &a->frs[fr];
	while (f->recs != DRF__NONE)
		drf__rec_release(a, f->recs, true);
	while (f->filters != DRF__NONE)
		drf__pair_delete(a, f->filters, true);
	drf__fr_heap_remove(a, fr);
	struct drf__role *r = &a->roles[f->role];
	uint32_t last = r->frs[--r->n_frs];
	r->frs[f->rpos] = last;
	a->frs[last].rpos = f->rpos;
	f->fw = DRF__NONE;
	f->recs = a->free_fr;
	a->free_fr = fr + 1;
}

int drf_framework_add(struct drf_allocator *a, const char *framework_id, const char *const *roles,
                      size_t n_roles, bool active)
{
	if (!a || !framework_id || !*framework_id || !roles || n_roles == 0 || n_roles > 1024)
		return -EINVAL;
	if (fw_find(a, framework_id) != DRF__NONE)
		return -EEXIST;
	/* Validate every role before changing anything. */
	for (size_t i = 0; i < n_roles; i++) {
		if (!roles[i])
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (strcmp(roles[i], roles[j]) == 0)
				return -EINVAL;
		if (!drf__role_name_valid(roles[i]))
			return -EINVAL;
	}
	uint32_t idx;
	if (a->free_fw != 0) {
		idx = a->free_fw - 1;
		a->free_fw = a->fws[idx].n_frs;
	} else {
		if (a->n_fws == a->cap_fws) {
			a->cap_fws = a->cap_fws ? a->cap_fws * 2 : 64;
			a->fws = ag_realloc(a->fws, a->cap_fws * sizeof(*a->fws));
		}
		idx = a->n_fws++;
	}
	struct drf__framework *fw = &a->fws[idx];
	memset(fw, 0, sizeof(*fw));
	fw->id = ag_strdup(framework_id);
	fw->active = active;
	fw->frs = ag_malloc(n_roles * sizeof(*fw->frs));
	drf__strmap_put(&a->fw_map, fw->id, idx);
	for (size_t i = 0; i < n_roles; i++) {
		int err = 0;
		uint32_t rid = drf__role_get_or_create(a, roles[i], &err);
		uint32_t fr = fr_new(a, idx, rid);
		a->fws[idx].frs[a->fws[idx].n_frs++] = fr;
		if (active)
			drf__fr_heap_insert(a, fr);
	}
	if (active)
		a->full_pending = true;
	return 0;
}

void drf__fr_gc(struct drf_allocator *a, uint32_t fr)
{
	struct drf__fr *f = &a->frs[fr];
	if (!f->detached || f->recs != DRF__NONE)
		return;
	struct drf__framework *fw = &a->fws[f->fw];
	for (uint32_t i = 0; i < fw->n_frs; i++)
		if (fw->frs[i] == fr) {
			fw->frs[i] = fw->frs[--fw->n_frs];
			break;
		}
	fr_delete(a, fr);
}

int drf_framework_update_roles(struct drf_allocator *a, const char *framework_id,
                               const char *const *roles, size_t n_roles)
{
	if (!a || !roles || n_roles == 0 || n_roles > 1024)
		return -EINVAL;
	uint32_t idx = fw_find(a, framework_id);
	if (idx == DRF__NONE)
		return -ENOENT;
	for (size_t i = 0; i < n_roles; i++) {
		if (!roles[i] || !drf__role_name_valid(roles[i]))
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (strcmp(roles[i], roles[j]) == 0)
				return -EINVAL;
	}
	/* Leave the roles not in the list. */
	for (uint32_t i = a->fws[idx].n_frs; i-- > 0;) {
		uint32_t fr = a->fws[idx].frs[i];
		struct drf__fr *f = &a->frs[fr];
		bool keep = false;
		for (size_t j = 0; j < n_roles && !keep; j++)
			keep = strcmp(a->roles[f->role].name, roles[j]) == 0;
		if (keep || f->detached)
			continue;
		f->detached = true;
		drf__fr_heap_remove(a, fr);
		while (f->filters != DRF__NONE)
			drf__pair_delete(a, f->filters, true);
		drf__fr_gc(a, fr);
	}
	/* Join the new ones (or come back to a role still being left). */
	for (size_t j = 0; j < n_roles; j++) {
		int err = 0;
		uint32_t rid = drf__role_get_or_create(a, roles[j], &err);
		struct drf__framework *fw = &a->fws[idx];
		uint32_t fr = DRF__NONE;
		for (uint32_t i = 0; i < fw->n_frs; i++)
			if (a->frs[fw->frs[i]].role == rid)
				fr = fw->frs[i];
		if (fr == DRF__NONE) {
			fr = fr_new(a, idx, rid);
			fw = &a->fws[idx];
			fw->frs = ag_realloc(fw->frs, (fw->n_frs + 1) * sizeof(*fw->frs));
			fw->frs[fw->n_frs++] = fr;
		} else if (a->frs[fr].detached) {
			a->frs[fr].detached = false;
			a->frs[fr].suppressed = false;
		} else {
			continue;
		}
		if (fw->active && !a->frs[fr].suppressed)
			drf__fr_heap_insert(a, fr);
	}
	a->full_pending = true;
	return 0;
}

int drf_framework_remove(struct drf_allocator *a, const char *framework_id)
{
	if (!a)
		return -EINVAL;
	uint32_t idx = fw_find(a, framework_id);
	if (idx == DRF__NONE)
		return -ENOENT;
	struct drf__framework *fw = &a->fws[idx];
	for (uint32_t i = 0; i < fw->n_frs; i++)
		fr_delete(a, fw->frs[i]);
	drf__strmap_del(&a->fw_map, fw->id);
	free(fw->id);
	free(fw->frs);
	fw->id = NULL;
	fw->frs = NULL;
	fw->n_frs = a->free_fw; /* free list link */
	a->free_fw = idx + 1;
	return 0;
}

int drf_framework_activate(struct drf_allocator *a, const char *framework_id)
{
	if (!a)
		return -EINVAL;
	uint32_t idx = fw_find(a, framework_id);
	if (idx == DRF__NONE)
		return -ENOENT;
	struct drf__framework *fw = &a->fws[idx];
	if (fw->active)
		return 0;
	fw->active = true;
	for (uint32_t i = 0; i < fw->n_frs; i++)
		if (!a->frs[fw->frs[i]].suppressed && !a->frs[fw->frs[i]].detached)
			drf__fr_heap_insert(a, fw->frs[i]);
	a->full_pending = true;
	return 0;
}

int drf_framework_deactivate(struct drf_allocator *a, const char *framework_id)
{
	if (!a)
		return -EINVAL;
	uint32_t idx = fw_find(a, framework_id);
	if (idx == DRF__NONE)
		return -ENOENT;
	struct drf__framework *fw = &a->fws[idx];
	fw->active = false;
	for (uint32_t i = 0; i < fw->n_frs; i++)
		drf__fr_heap_remove(a, fw->frs[i]);
	return 0;
}

/* Apply fn to the framework's (framework, role) for `role`, or all. */
static int for_frs(struct drf_allocator *a, const char *framework_id, const char *role,
                   void (*fn)(struct drf_allocator *, uint32_t))
{
	if (!a)
		return -EINVAL;
	uint32_t idx = fw_find(a, framework_id);
	if (idx == DRF__NONE)
		return -ENOENT;
	if (role) {
		uint32_t fr = drf__fr_find(a, framework_id, role);
		if (fr == DRF__NONE)
			return -ENOENT;
		fn(a, fr);
		return 0;
	}
	for (uint32_t i = 0; i < a->fws[idx].n_frs; i++)
		fn(a, a->fws[idx].frs[i]);
	return 0;
}

static void fr_suppress(struct drf_allocator *a, uint32_t fr)
{
	struct drf__fr *f = &a->frs[fr];
	if (f->suppressed || f->hpos == DRF__NONE) {
		f->suppressed = true;
		return;
	}
	f->suppressed = true;
	if (a->n_suppressed == a->cap_suppressed) {
		a->cap_suppressed = a->cap_suppressed ? a->cap_suppressed * 2 : 16;
		a->suppressed = ag_realloc(a->suppressed, a->cap_suppressed * sizeof(uint32_t));
	}
	a->suppressed[a->n_suppressed++] = fr;
}

void drf__suppressed_flush(struct drf_allocator *a)
{
	for (uint32_t i = 0; i < a->n_suppressed; i++) {
		uint32_t fr = a->suppressed[i];
		/* revived, removed or reused meanwhile: nothing to do */
		if (a->frs[fr].fw != DRF__NONE && a->frs[fr].suppressed)
			drf__fr_heap_remove(a, fr);
	}
	a->n_suppressed = 0;
}

static void fr_revive(struct drf_allocator *a, uint32_t fr)
{
	struct drf__fr *f = &a->frs[fr];
	if (f->detached)
		return;
	f->suppressed = false;
	while (f->filters != DRF__NONE)
		drf__pair_delete(a, f->filters, true);
	if (a->fws[f->fw].active)
		drf__fr_heap_insert(a, fr);
	a->full_pending = true;
}

int drf_framework_suppress(struct drf_allocator *a, const char *framework_id, const char *role)
{
	return for_frs(a, framework_id, role, fr_suppress);
}

int drf_framework_revive(struct drf_allocator *a, const char *framework_id, const char *role)
{
	return for_frs(a, framework_id, role, fr_revive);
}

int drf_framework_share(struct drf_allocator *a, const char *framework_id, const char *role,
                        double *ret_share)
{
	if (!a || !ret_share)
		return -EINVAL;
	uint32_t fr = drf__fr_find(a, framework_id, role);
	if (fr == DRF__NONE)
		return -ENOENT;
	*ret_share = drf__share(a, a->frs[fr].alloc);
	return 0;
}

int drf_framework_allocated(struct drf_allocator *a, const char *framework_id, const char *role,
                            const struct drf_resources **ret_res)
{
	if (!a || !ret_res)
		return -EINVAL;
	uint32_t fr = drf__fr_find(a, framework_id, role);
	if (fr == DRF__NONE)
		return -ENOENT;
	drf__res_clear(&a->view);
	memcpy(a->view.s, a->frs[fr].alloc, sizeof(a->frs[fr].alloc));
	*ret_res = &a->view;
	return 0;
}

/* ---- roles ---- */

int drf_role_set_weight(struct drf_allocator *a, const char *role, double weight)
{
	if (!a || !role || !(weight > 0) || !isfinite(weight))
		return -EINVAL;
	int err = 0;
	uint32_t rid = drf__role_get_or_create(a, role, &err);
	if (rid == DRF__NONE)
		return err;
	a->roles[rid].weight = weight;
	a->shares_stale = true;
	a->full_pending = true;
	return 0;
}

int drf_role_set_quota(struct drf_allocator *a, const char *role, const struct drf_resources *limit)
{
	if (!a || !role || (limit && (limit->a != a || limit->nr || limit->ni)))
		return -EINVAL;
	if (limit)
		for (uint32_t k = 0; k < a->n_sk; k++)
			if (limit->s[k] < 0 || (limit->s[k] && a->sk[k].role != DRF__NONE))
				return -EINVAL;
	int err = 0;
	uint32_t rid = drf__role_get_or_create(a, role, &err);
	if (rid == DRF__NONE)
		return err;
	struct drf__role *r = &a->roles[rid];
	if (r->has_quota)
		a->n_quota_roles--;
	r->has_quota = false;
	for (uint32_t k = 0; k < DRF__MAX_SCALARS; k++)
		r->quota[k] = -1;
	if (limit) {
		for (uint32_t k = 0; k < a->n_sk; k++)
			if (limit->s[k] || (limit->present & (1u << k))) {
				r->quota[k] = limit->s[k];
				r->has_quota = true;
			}
	}
	if (r->has_quota)
		a->n_quota_roles++;
	a->full_pending = true;
	return 0;
}

size_t drf_role_count(const struct drf_allocator *a)
{
	return a ? a->n_roles - 1 : 0;
}

int drf_role_get(struct drf_allocator *a, size_t i, struct drf_role_info *ret_info)
{
	if (!a || !ret_info)
		return -EINVAL;
	if (i + 1 >= a->n_roles)
		return -ENOENT;
	if (a->shares_stale)
		drf__shares_refresh(a);
	struct drf__role *r = &a->roles[i + 1];
	drf__res_clear(&r->view_alloc);
	memcpy(r->view_alloc.s, r->alloc, sizeof(r->alloc));
	drf__res_clear(&r->view_consumed);
	memcpy(r->view_consumed.s, r->consumed, sizeof(r->consumed));
	drf__res_clear(&r->view_quota);
	for (uint32_t k = 0; k < DRF__MAX_SCALARS; k++)
		if (r->quota[k] >= 0) {
			r->view_quota.s[k] = r->quota[k];
			r->view_quota.present |= 1u << k;
		}
	*ret_info = (struct drf_role_info){
	        .name = r->name,
	        .weight = r->weight,
	        .share = r->share,
	        .allocated = &r->view_alloc,
	        .quota = r->has_quota ? &r->view_quota : NULL,
	        .consumed = &r->view_consumed,
	        .n_frameworks = r->n_frs,
	};
	return 0;
}

const char *drf_role_framework(const struct drf_allocator *a, size_t i, size_t j)
{
	if (!a || i + 1 >= a->n_roles)
		return NULL;
	const struct drf__role *r = &a->roles[i + 1];
	if (j >= r->n_frs)
		return NULL;
	return a->fws[a->frs[r->frs[j]].fw].id;
}

int drf_role_find(const struct drf_allocator *a, const char *role, size_t *ret_index)
{
	if (!a || !role || !ret_index)
		return -EINVAL;
	uint32_t rid = drf__strmap_get(&a->role_map, role);
	if (rid == DRF__NONE || rid == 0)
		return -ENOENT;
	*ret_index = rid - 1;
	return 0;
}
