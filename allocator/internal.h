/* internal.h: the allocator's private data model, shared by its files.
 *
 * Everything is kept in dense arrays indexed by small integers (agents,
 * frameworks, (framework, role) pairs, roles); caller ids are mapped to
 * those by open-addressing hash tables. Resource vectors are fixed arrays of
 * int64 thousandths indexed by an interned "scalar kind" (name plus
 * reservation role), so arithmetic is a short loop with no allocation.
 */
#ifndef AGORA_ALLOCATOR_INTERNAL_H
#define AGORA_ALLOCATOR_INTERNAL_H

#include "allocator/allocator.h"
#include "common/common.h"
#include "common/map.h"

#include <string.h>

#define DRF__MAX_SCALARS 32 /* distinct (scalar name, reservation) kinds */
#define DRF__MAX_RANGES  16
#define DRF__MAX_SETS    16
#define DRF__NONE        UINT32_MAX

/* ---- hash tables (common/map.h) ---- */

/* Caller ids (borrowed: the entity's own copy) and interned strings map to
 * dense indices, (framework-role x agent) pairs to a pair's index. The
 * tables store index + 1, as a value is never NULL; DRF__NONE is "none". */
static inline void *drf__idx_value(uint32_t idx)
{
	return (void *)((uintptr_t)idx + 1);
}
static inline uint32_t drf__value_idx(void *v)
{
	return v ? (uint32_t)((uintptr_t)v - 1) : DRF__NONE;
}
/* Keys are borrowed: each must live, unchanged, while it is in the map. */
static inline uint32_t drf__strmap_get(const struct ag_map *m, const char *key)
{
	return drf__value_idx(ag_map_get(m, key));
}
static inline void drf__strmap_put(struct ag_map *m, const char *key, uint32_t idx)
{
	ag_map_put(m, key, drf__idx_value(idx));
}
static inline void drf__strmap_del(struct ag_map *m, const char *key)
{
	ag_map_del(m, key);
}
static inline uint32_t drf__u64map_get(const struct ag_u64map *m, uint64_t key)
{
	return drf__value_idx(ag_u64map_get(m, key));
}
static inline void drf__u64map_put(struct ag_u64map *m, uint64_t key, uint32_t idx)
{
	ag_u64map_put(m, key, drf__idx_value(idx));
}
static inline void drf__u64map_del(struct ag_u64map *m, uint64_t key)
{
	ag_u64map_del(m, key);
}

/* ---- resources (resources.c) ---- */

struct drf_resources {
	struct drf_allocator *a;
	int64_t s[DRF__MAX_SCALARS]; /* by scalar kind */
	/* Scalar kinds named in the text, zero or not ("gpus:0" as a quota
	 * limit means none, where an absent name means no limit). */
	uint32_t present;
	/* ranges sorted by (kind, begin), disjoint and not adjacent per kind */
	uint16_t *rk;
	struct drf_range *r;
	uint32_t nr, cr;
	/* set items sorted by (kind, item id) */
	uint16_t *ik;
	uint32_t *it;
	uint32_t ni, ci;
};

/* A resource kind: a name with a reservation role (DRF__NONE: none). */
struct drf__kind {
	uint32_t name; /* interned string id */
	uint32_t role;
	uint16_t base; /* the unreserved kind of the same name */
	uint8_t type;
};

void drf__res_init(struct drf_resources *r, struct drf_allocator *a);
void drf__res_fini(struct drf_resources *r);
void drf__res_clear(struct drf_resources *r);
void drf__res_copy(struct drf_resources *dst, const struct drf_resources *src);
void drf__res_add(struct drf_resources *dst, const struct drf_resources *src);
/* dst -= src, assuming src is contained in dst. */
void drf__res_sub(struct drf_resources *dst, const struct drf_resources *src);
bool drf__res_contains(const struct drf_resources *a, const struct drf_resources *b);
bool drf__res_empty(const struct drf_resources *r);
/* Fold scalars onto their base (unreserved) kinds, dropping ranges/sets. */
void drf__res_quantities(const struct drf_resources *r, int64_t *ret_q);
uint32_t drf__intern(struct drf_allocator *a, const char *s, size_t len);
/* The type a resource name already has, or -1. */
AG_WARN_UNUSED int drf__name_type(const struct drf_allocator *a, uint32_t name);
/* The kind of (name, role) with `type`, created when `create`; -EINVAL when
 * the name has another type, -ENOSPC past the kind limits. */
AG_WARN_UNUSED int drf__kind_lookup(struct drf_allocator *a, uint32_t name, uint32_t role, int type,
                                    bool create, uint32_t *ret_kind);
void drf__ranges_add(struct drf_resources *dst, const struct drf_resources *src);
/* dst's set items plus (add) or minus src's. */
void drf__items_merge(struct drf_resources *dst, const struct drf_resources *src, bool add);

/* ---- entities ---- */

struct drf__agent {
	char *id; /* NULL: free slot */
	struct drf_resources total;
	struct drf_resources free;
	uint32_t recs;    /* list of allocation records (via a_next) */
	uint32_t filters; /* list of filters (via a_next) */
	uint32_t dirty_stamp;
	bool dirty;
	bool has_reserved;
	bool inactive; /* disconnected: keeps its allocations, gets no offers */
};

/* An allocation record or a filter for (framework-role, agent). */
struct drf__pair {
	uint32_t fr, agent;
	uint32_t a_prev, a_next; /* in the agent's list */
	uint32_t f_prev, f_next; /* in the framework-role's list */
	int64_t expiry;          /* filters only */
	struct drf_resources res;
	bool used;
};

/* A framework subscribed to a role. */
struct drf__fr {
	uint32_t fw, role;
	uint32_t hpos; /* position in the role's heap, DRF__NONE when out */
	uint32_t rpos; /* position in the role's framework list */
	uint32_t recs; /* allocation records */
	uint32_t filters;
	uint32_t stamp_cycle, stamp_agent; /* one offer per agent per cycle */
	double share;
	int64_t alloc[DRF__MAX_SCALARS]; /* quantities by base kind */
	bool suppressed;
	/* the framework left the role: no offers, kept until its allocations
	 * there are recovered (as Mesos keeps it in the role's sorter) */
	bool detached;
};

struct drf__framework {
	char *id; /* NULL: free slot */
	uint32_t *frs;
	uint32_t n_frs;
	bool active;
};

struct drf__hent {
	double key;
	const char *name;
	uint32_t ref;
};

struct drf__heap {
	struct drf__hent *v;
	uint32_t n, cap;
};

struct drf__role {
	char *name;
	uint32_t parent; /* DRF__NONE for the root */
	uint32_t depth;
	uint32_t hpos[2]; /* in the parent's heap; of the self entry in ours */
	double weight;
	bool has_quota;
	int64_t quota[DRF__MAX_SCALARS];    /* by base kind, -1 = no limit */
	int64_t consumed[DRF__MAX_SCALARS]; /* toward quota, subtree */
	int64_t alloc[DRF__MAX_SCALARS];    /* subtree, by base kind */
	int64_t own[DRF__MAX_SCALARS];      /* this role's own frameworks */
	double share, own_share;
	uint32_t active; /* frameworks in the heaps of the subtree */
	/* children plus this role's own frameworks (ref = 2*role+1) */
	struct drf__heap children;
	struct drf__heap fws;
	uint32_t *frs; /* every subscribed (framework, role), for GET_ROLES */
	uint32_t n_frs, cap_frs;
	struct drf_resources view_alloc, view_quota, view_consumed;
};

struct drf_allocator {
	struct drf_options opts;
	/* interned strings */
	char **strs;
	uint32_t n_strs, cap_strs;
	struct ag_map str_map;
	/* resource kinds: scalars, ranges, sets */
	struct drf__kind sk[DRF__MAX_SCALARS], rk[DRF__MAX_RANGES], ik[DRF__MAX_SETS];
	uint32_t n_sk, n_rk, n_ik;
	bool excluded[DRF__MAX_SCALARS];
	uint32_t *excluded_names; /* interned ids */
	size_t n_excluded_names;
	struct drf_resources *min_alloc;
	size_t n_min_alloc;
	int64_t default_refuse_ns;
	/* cluster totals by base kind, for shares */
	int64_t total[DRF__MAX_SCALARS];
	bool shares_stale;

	struct drf__agent *agents;
	uint32_t n_agents, cap_agents, free_agent;
	struct ag_map agent_map;
	uint32_t live_agents;

	struct drf__framework *fws;
	uint32_t n_fws, cap_fws, free_fw;
	struct ag_map fw_map;

	struct drf__fr *frs;
	uint32_t n_frs, cap_frs, free_fr;

	struct drf__role *roles;
	uint32_t n_roles, cap_roles;
	struct ag_map role_map;
	uint32_t n_quota_roles;

	struct drf__pair *pairs;
	uint32_t n_pairs, cap_pairs, free_pair;
	struct ag_u64map rec_map, filter_map;
	uint32_t n_filters;

	uint32_t *dirty;
	uint32_t n_dirty, cap_dirty;
	/* suppressed (framework, role)s still in a heap, taken out before the
	 * next walk, so suppress itself is O(1) */
	uint32_t *suppressed;
	uint32_t n_suppressed, cap_suppressed;
	bool full_pending;
	uint32_t cycle;

	/* scratch for cycles */
	struct drf_resources scratch;
	struct drf__hent *enum_buf;
	uint32_t enum_cap;
	struct drf_resources view;
};

/* ---- roles and ordering (sorter.c) ---- */

bool drf__role_name_valid(const char *name);
uint32_t drf__role_get_or_create(struct drf_allocator *a, const char *name, int *ret_err);
bool drf__role_within(const struct drf_allocator *a, uint32_t role, uint32_t ancestor);
double drf__share(const struct drf_allocator *a, const int64_t *alloc);
/* fr's allocation in its role changed by +q or -q (sign): update shares and
 * positions up the role tree. `unreserved_q` is the part counting toward
 * quota (NULL when none). */
void drf__account(struct drf_allocator *a, uint32_t fr, const int64_t *q, int sign);
void drf__quota_account(struct drf_allocator *a, uint32_t role, const int64_t *q, int sign);
void drf__fr_heap_insert(struct drf_allocator *a, uint32_t fr);
void drf__fr_heap_remove(struct drf_allocator *a, uint32_t fr);
/* Take the (framework, role)s suppressed since the last walk out of their
 * heaps. */
void drf__suppressed_flush(struct drf_allocator *a);
void drf__shares_refresh(struct drf_allocator *a);
void drf__role_free(struct drf__role *r);

/* Walk candidates in fair order; `try` returns true when it made an offer,
 * which ends the walk. */
typedef bool (*drf__try_fn)(struct drf_allocator *a, uint32_t role, uint32_t fr, void *ctx);
typedef bool (*drf__role_fn)(struct drf_allocator *a, uint32_t role, void *ctx);
bool drf__walk(struct drf_allocator *a, drf__role_fn role_ok, drf__try_fn try, void *ctx);

/* ---- shared by allocator.c and cycle.c ---- */

uint32_t drf__fr_find(const struct drf_allocator *a, const char *fw_id, const char *role);
/* Drop a detached (framework, role) once it holds nothing. */
void drf__fr_gc(struct drf_allocator *a, uint32_t fr);
/* Delete a filter (filter=true) or an empty allocation record. */
void drf__pair_delete(struct drf_allocator *a, uint32_t pid, bool filter);
/* Take an allocation record away from its framework; to_agent: give the
 * resources back to the agent (otherwise the agent is going away). */
void drf__rec_release(struct drf_allocator *a, uint32_t pid, bool to_agent);
void drf__agent_mark_dirty(struct drf_allocator *a, uint32_t agent);
bool drf__has_reserved(const struct drf_resources *r);
/* Reservations count toward their role's quota consumption. */
void drf__reserved_account(struct drf_allocator *a, const struct drf_resources *r, int sign);

#endif
