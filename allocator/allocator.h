/* allocator.h: the DRF offer allocator, the master's brain.
 *
 * A pure library in the design of the Mesos hierarchical DRF allocator and
 * the DRF paper (Ghodsi et al., NSDI 2011): no I/O, no threads, no clock.
 * Every call that depends on time takes `now` (nanoseconds on any monotonic
 * clock the caller chooses), so it is tested and benchmarked in-process.
 *
 * Model
 * - Resources: scalars (cpus, mem, disk, gpus and any named scalar) held in
 *   fixed point thousandths, like Mesos's three decimals; ranges (ports);
 *   sets. A resource reserved for a role is written `name(role):value` as in
 *   Mesos text; it is a distinct resource from the unreserved one.
 * - Roles have hierarchical names (`eng/web`), a weight (default 1) and an
 *   optional quota limit (scalars). Roles are created on first mention (a
 *   framework, a reservation, a weight or a quota) and then kept.
 * - Frameworks subscribe to one or more roles. Agents have total resources.
 *
 * Fair order: roles are ranked, level by level of the role tree, by
 * weighted dominant share (max over resources of allocated/total, divided
 * by weight); frameworks within a role by their dominant share in that role.
 * Ties break by name. Names in `fair_share_excluded` do not count.
 *
 * Offers: a cycle walks agents and hands each agent's free resources to the
 * lowest-share eligible (framework, role): one offer per (framework, agent,
 * role) per cycle, never below the minimum allocatable, cut to quota
 * limits, skipping suppressed roles and filtered pairs. Offered resources
 * stay allocated until the caller reports them used (accept), or recovered
 * (decline, rescind, task end).
 *
 * Ids (agents, frameworks, roles) are caller strings, copied. Functions
 * return 0 or -errno: -ENOENT for an unknown id, -EEXIST for a duplicate,
 * -EINVAL for bad input, -ENOSPC past the fixed limits on distinct resource
 * kinds (32 scalar, 16 range and 16 set kinds, a kind being a name with a
 * reservation role: cpus and cpus(eng) are two). Bad input never changes
 * state. Not thread-safe: one thread (the master's loop) owns an allocator.
 */
#ifndef AGORA_ALLOCATOR_H
#define AGORA_ALLOCATOR_H

#include "common/common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct drf_allocator;
struct drf_resources;

#define DRF_NS_PER_SEC 1000000000LL

/* ---- resources ------------------------------------------------------- */

enum drf_resource_type {
	DRF_RESOURCE_SCALAR,
	DRF_RESOURCE_RANGES,
	DRF_RESOURCE_SET,
};

struct drf_range {
	uint64_t begin; /* inclusive */
	uint64_t end;   /* inclusive */
};

/* One entry of a resources object, as drf_resources_entry() fills it in.
 * Pointers stay valid until the object is changed or freed. */
struct drf_resource {
	const char *name;
	const char *role; /* reservation role, or NULL when unreserved */
	enum drf_resource_type type;
	int64_t scalar_milli;           /* DRF_RESOURCE_SCALAR: value * 1000 */
	const struct drf_range *ranges; /* DRF_RESOURCE_RANGES: sorted, disjoint */
	size_t n_ranges;
	size_t n_items; /* DRF_RESOURCE_SET: read with drf_resources_item() */
};

/* Parse Mesos resource text, e.g. "cpus:24;mem:4096;ports:[31000-32000];
 * cpus(eng):2;zones:{a,b}", into a new object bound to `a`'s name table
 * (names and roles are interned in `a`, so the object must not outlive it).
 * Scalars take up to three decimals (more are rounded to the nearest
 * thousandth). Repeated names add up. The caller frees *ret_res with
 * drf_resources_free(). -EINVAL on a syntax error or when a name is used with
 * two types. */
AG_WARN_UNUSED int drf_resources_parse(struct drf_allocator *a, const char *text,
                                       struct drf_resources **ret_res);

/* A new empty object bound to `a`; the caller frees it. */
struct drf_resources *drf_resources_new(struct drf_allocator *a);

/* A copy of `r`; the caller frees it. */
struct drf_resources *drf_resources_copy(const struct drf_resources *r);

/* Free a resources object; NULL is fine. */
void drf_resources_free(struct drf_resources *r);

/* dst += src. */
void drf_resources_add(struct drf_resources *dst, const struct drf_resources *src);

/* dst -= src; -EINVAL (and dst unchanged) unless src is contained in dst. */
AG_WARN_UNUSED int drf_resources_subtract(struct drf_resources *dst,
                                          const struct drf_resources *src);

/* Whether every resource of `b` is in `a` (a ⊇ b). */
bool drf_resources_contains(const struct drf_resources *a, const struct drf_resources *b);

bool drf_resources_is_empty(const struct drf_resources *r);

/* The value of scalar `name` reserved for `role` (NULL: unreserved) in
 * thousandths; 0 when absent. */
int64_t drf_resources_scalar(const struct drf_resources *r, const char *name, const char *role);

/* Sum of scalar `name` over the unreserved and every reserved entry. */
int64_t drf_resources_quantity(const struct drf_resources *r, const char *name);

/* Entries: scalars first (non-zero ones), then ranges, then sets. */
size_t drf_resources_entries(const struct drf_resources *r);
AG_WARN_UNUSED int drf_resources_entry(const struct drf_resources *r, size_t i,
                                       struct drf_resource *ret_entry);
/* Item `j` of set entry `i`, or NULL when out of bounds. */
const char *drf_resources_item(const struct drf_resources *r, size_t i, size_t j);

/* Mesos text of `r` into buf (always NUL-terminated when len > 0). Returns
 * the length the full text needs, like snprintf. */
size_t drf_resources_format(const struct drf_resources *r, char *buf, size_t len);

/* ---- the allocator ---------------------------------------------------- */

struct drf_offer {
	const char *framework_id;
	const char *agent_id;
	const char *role;
	/* Valid only during the callback: copy it to keep it. */
	const struct drf_resources *resources;
};

/* Called once per offer during drf_allocate_*(). The callback must not call
 * back into the allocator. */
typedef void (*drf_offer_cb)(void *ctx, const struct drf_offer *offer);

struct drf_options {
	/* Alternatives separated by '|': an offer must hold at least one of
	 * them in full. NULL: "cpus:0.01|mem:32" (Mesos's default). */
	const char *min_allocatable;
	/* Resource names left out of dominant shares (e.g. "gpus"). */
	const char *const *fair_share_excluded;
	size_t n_fair_share_excluded;
	/* Used when a decline passes a negative refuse_seconds. 0: 5 s. */
	double default_refuse_seconds;
	drf_offer_cb on_offer;
	void *ctx;
};

/* Create an allocator; the caller frees it with drf_allocator_free().
 * `opts` is copied (NULL: defaults). -EINVAL on a bad option. */
AG_WARN_UNUSED int drf_allocator_new(const struct drf_options *opts,
                                     struct drf_allocator **ret_alloc);

/* Free the allocator and everything it owns; NULL is fine. Resources
 * objects bound to it must be freed first. */
void drf_allocator_free(struct drf_allocator *a);

/* ---- agents ---- */

/* Add an agent with `total` (copied). Its resources are offered at the
 * next drf_allocate_dirty(). */
AG_WARN_UNUSED int drf_agent_add(struct drf_allocator *a, const char *agent_id,
                                 const struct drf_resources *total);

/* Replace an agent's total. -EBUSY when the new total does not contain what
 * is allocated on it now (rescind offers first). */
AG_WARN_UNUSED int drf_agent_update(struct drf_allocator *a, const char *agent_id,
                                    const struct drf_resources *total);

/* Remove an agent together with every allocation and filter on it; the
 * allocations are taken away from their frameworks (the caller rescinds the
 * outstanding offers and loses the tasks). */
AG_WARN_UNUSED int drf_agent_remove(struct drf_allocator *a, const char *agent_id);

/* A disconnected agent keeps its allocations but is not offered until it
 * is activated again (Mesos's deactivateSlave / activateSlave). */
AG_WARN_UNUSED int drf_agent_deactivate(struct drf_allocator *a, const char *agent_id);
AG_WARN_UNUSED int drf_agent_activate(struct drf_allocator *a, const char *agent_id);

/* ---- frameworks ---- */

/* Add a framework subscribed to `roles` (at least one; copied). An inactive
 * framework gets no offers until drf_framework_activate(). */
AG_WARN_UNUSED int drf_framework_add(struct drf_allocator *a, const char *framework_id,
                                     const char *const *roles, size_t n_roles, bool active);

/* Change the roles a framework is subscribed to (UPDATE_FRAMEWORK). In a
 * role it leaves it gets no more offers (its filters there go), and what it
 * holds there stays allocated (and recoverable) until recovered, as in
 * Mesos. Roles kept keep their suppressed state; roles joined start
 * unsuppressed (suppress them after, as UPDATE_FRAMEWORK's suppressed_roles
 * says). */
AG_WARN_UNUSED int drf_framework_update_roles(struct drf_allocator *a, const char *framework_id,
                                              const char *const *roles, size_t n_roles);

/* Remove a framework; everything allocated to it is recovered. */
AG_WARN_UNUSED int drf_framework_remove(struct drf_allocator *a, const char *framework_id);

AG_WARN_UNUSED int drf_framework_activate(struct drf_allocator *a, const char *framework_id);
AG_WARN_UNUSED int drf_framework_deactivate(struct drf_allocator *a, const char *framework_id);

/* Stop offers to the framework in `role` (NULL: all its roles). O(1): the
 * pair leaves the fair order before the next cycle, which then never
 * visits it. */
AG_WARN_UNUSED int drf_framework_suppress(struct drf_allocator *a, const char *framework_id,
                                          const char *role);

/* Undo suppress for `role` (NULL: all roles), clear the framework's filters
 * there, and ask for a full cycle at the next drf_allocate_dirty(). */
AG_WARN_UNUSED int drf_framework_revive(struct drf_allocator *a, const char *framework_id,
                                        const char *role);

/* Dominant share of the framework within `role` (weights do not apply). */
AG_WARN_UNUSED int drf_framework_share(struct drf_allocator *a, const char *framework_id,
                                       const char *role, double *ret_share);

/* What the framework holds in `role` (offered + used): a view owned by the
 * allocator, scalars only, valid until the next allocator call. */
AG_WARN_UNUSED int drf_framework_allocated(struct drf_allocator *a, const char *framework_id,
                                           const char *role, const struct drf_resources **ret_res);

/* ---- offers and recovery ---- */

/* Resources allocated to (framework, agent, role) go back to the agent.
 * When refuse_seconds > 0 the agent is hidden from (framework, role) until
 * `now + refuse_seconds` while what would be offered is contained in
 * `res`; a negative value means the default, 0 means no filter. -EINVAL
 * unless `res` is contained in the allocation. The agent is marked dirty. */
AG_WARN_UNUSED int drf_allocation_recover(struct drf_allocator *a, const char *framework_id,
                                          const char *agent_id, const char *role,
                                          const struct drf_resources *res, double refuse_seconds,
                                          int64_t now);

/* Book `res` (contained in the agent's free resources) as used by
 * (framework, agent, role) without an offer: a restarted master rebuilding
 * the tasks a re-registering agent reports. -EBUSY when the agent's free
 * resources do not contain `res`. */
AG_WARN_UNUSED int drf_allocation_add(struct drf_allocator *a, const char *framework_id,
                                      const char *agent_id, const char *role,
                                      const struct drf_resources *res);

/* The framework declined an offer: recover it with a filter. */
AG_WARN_UNUSED int drf_offer_decline(struct drf_allocator *a, const char *framework_id,
                                     const char *agent_id, const char *role,
                                     const struct drf_resources *offered, double refuse_seconds,
                                     int64_t now);

/* The framework accepted `offered` and launched tasks on `used` (contained
 * in `offered`): `used` stays allocated, the rest is recovered with a filter
 * of refuse_seconds (Mesos applies the accept's filters the same way). */
AG_WARN_UNUSED int drf_offer_accept(struct drf_allocator *a, const char *framework_id,
                                    const char *agent_id, const char *role,
                                    const struct drf_resources *offered,
                                    const struct drf_resources *used, double refuse_seconds,
                                    int64_t now);

/* The master took an offer back: recover it with no filter. */
AG_WARN_UNUSED int drf_offer_rescind(struct drf_allocator *a, const char *framework_id,
                                     const char *agent_id, const char *role,
                                     const struct drf_resources *offered);

/* Tasks ended: their resources are recovered with no filter. */
AG_WARN_UNUSED int drf_resources_recover(struct drf_allocator *a, const char *framework_id,
                                         const char *agent_id, const char *role,
                                         const struct drf_resources *res);

/* What (framework, agent, role) holds (offered + used): a view owned by
 * the allocator valid until the next allocator call; -ENOENT when nothing. */
AG_WARN_UNUSED int drf_allocation_get(struct drf_allocator *a, const char *framework_id,
                                      const char *agent_id, const char *role,
                                      const struct drf_resources **ret_res);

/* An agent's free resources: a view, as above. */
AG_WARN_UNUSED int drf_agent_free_resources(struct drf_allocator *a, const char *agent_id,
                                            const struct drf_resources **ret_res);

/* ---- cycles ---- */

/* Offer the free resources of the agents touched since the last cycle
 * (added, updated, recovered); a full cycle when something asked for one
 * (revive, activation, weights, quota). Returns the number of offers. */
size_t drf_allocate_dirty(struct drf_allocator *a, int64_t now);

/* The periodic full cycle over every agent. Returns the number of offers. */
size_t drf_allocate_all(struct drf_allocator *a, int64_t now);

/* Whether drf_allocate_dirty() has work to do. */
bool drf_allocator_pending(const struct drf_allocator *a);

/* Whether drf_allocate_all() now would offer nothing: nothing pending, no
 * refusal filter (one can expire with time) and no quota (recoveries on one
 * agent change the headroom for others). */
bool drf_allocator_idle(const struct drf_allocator *a);

/* ---- roles (GET_ROLES) ---- */

/* Set a role's weight (> 0; default 1). */
AG_WARN_UNUSED int drf_role_set_weight(struct drf_allocator *a, const char *role, double weight);

/* Set a role's quota limit (unreserved scalars only; copied) or clear it
 * with NULL. Names absent from `limit` are not limited; a name parsed with
 * 0 ("gpus:0") is limited to nothing. A role's consumption (allocations of
 * its subtree plus every reservation for it, allocated or not) never goes
 * above the limit through offers, and a parent's limit covers its
 * children. */
AG_WARN_UNUSED int drf_role_set_quota(struct drf_allocator *a, const char *role,
                                      const struct drf_resources *limit);

struct drf_role_info {
	const char *name;
	double weight;
	double share; /* weighted dominant share of the subtree */
	/* Views owned by the allocator, valid until the next allocator call.
	 * `allocated` is scalars of the subtree (offered + used); `quota` is
	 * NULL without a limit; `consumed` is what counts toward quota. */
	const struct drf_resources *allocated;
	const struct drf_resources *quota;
	const struct drf_resources *consumed;
	size_t n_frameworks; /* subscribed to exactly this role */
};

size_t drf_role_count(const struct drf_allocator *a);

/* Role `i` in [0, drf_role_count()), in creation order (parents first). */
AG_WARN_UNUSED int drf_role_get(struct drf_allocator *a, size_t i, struct drf_role_info *ret_info);

/* Id of framework `j` of role `i`, or NULL when out of bounds. */
const char *drf_role_framework(const struct drf_allocator *a, size_t i, size_t j);

/* Look a role up by name: its index for drf_role_get(). */
AG_WARN_UNUSED int drf_role_find(const struct drf_allocator *a, const char *role,
                                 size_t *ret_index);

#endif
