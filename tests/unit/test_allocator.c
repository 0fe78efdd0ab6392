/* Unit tests for allocator/: the DRF paper's example, weights, quota,
 * reservations, filters, suppress/revive, events, order, bad input. */
#include "drf_harness.h"

/* ---- the DRF paper's example ---- */

Test(drf, paper_example_gives_a_three_tasks_and_b_two)
{
	struct harness h;
	h_init(&h);
	add_agent(&h, "s1", "cpus:9;mem:18432");
	add_fw(&h, "A", "*");
	add_fw(&h, "B", "*");
	const char *fws[] = {"A", "B"};
	struct drf_resources *d[] = {R(&h, "cpus:1;mem:4096"), R(&h, "cpus:3;mem:1024")};
	int tasks[2] = {0};
	run_tasks(&h, 2, fws, d, tasks);
	cr_assert_eq(tasks[0], 3);
	cr_assert_eq(tasks[1], 2);
	double sa, sb;
	cr_assert_eq(drf_framework_share(h.a, "A", "*", &sa), 0);
	cr_assert_eq(drf_framework_share(h.a, "B", "*", &sb), 0);
	cr_assert_float_eq(sa, 2.0 / 3, 1e-9);
	cr_assert_float_eq(sb, 2.0 / 3, 1e-9);
	drf_resources_free(d[0]);
	drf_resources_free(d[1]);
	h_fini(&h);
}

/* ---- weights, quota, reservations ---- */

Test(drf, role_of_weight_two_converges_to_twice_the_share)
{
	struct harness h;
	h_init(&h);
	char id[16];
	for (int i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "a%03d", i);
		add_agent(&h, id, "cpus:1;mem:1024");
	}
	cr_assert_eq(drf_role_set_weight(h.a, "heavy", 2), 0);
	add_fw(&h, "fh", "heavy");
	add_fw(&h, "fl", "light");
	accept_all(&h, SEC(1));
	size_t ih, il;
	struct drf_role_info heavy, light;
	cr_assert_eq(drf_role_find(h.a, "heavy", &ih), 0);
	cr_assert_eq(drf_role_find(h.a, "light", &il), 0);
	cr_assert_eq(drf_role_get(h.a, ih, &heavy), 0);
	cr_assert_eq(drf_role_get(h.a, il, &light), 0);
	double sh = (double)drf_resources_quantity(heavy.allocated, "cpus") / 300000;
	double sl = (double)drf_resources_quantity(light.allocated, "cpus") / 300000;
	cr_assert_float_eq(sh + sl, 1.0, 1e-9);
	/* within one agent of the exact 2:1 split */
	cr_assert_float_eq(sh, 2 * sl, 3.0 / 300, "heavy %f light %f", sh, sl);
	cr_assert_float_eq(heavy.share, sh / 2, 1e-9);
	cr_assert_float_eq(heavy.weight, 2.0, 0);
	h_fini(&h);
}

Test(drf, quota_limit_is_never_exceeded)
{
	struct harness h;
	h_init(&h);
	char id[16];
	for (int i = 0; i < 10; i++) {
		snprintf(id, sizeof(id), "a%d", i);
		add_agent(&h, id, "cpus:4;mem:4096");
	}
	struct drf_resources *q = R(&h, "cpus:10");
	cr_assert_eq(drf_role_set_quota(h.a, "q", q), 0);
	drf_resources_free(q);
	add_fw(&h, "f1", "q");
	add_fw(&h, "f2", "q/sub");
	int64_t cpus = 0;
	for (int iter = 0; iter < 100; iter++) {
		h_clear(&h);
		if (drf_allocate_dirty(h.a, SEC(1)) == 0)
			break;
		for (size_t i = 0; i < h.n; i++) {
			cpus += drf_resources_quantity(h.offers[i].res, "cpus");
			cr_assert_leq(cpus, 10000, "quota exceeded: %" PRId64, cpus);
			struct rec_offer *o = &h.offers[i];
			cr_assert_eq(drf_offer_accept(h.a, o->fw, o->agent, o->role, o->res, o->res,
			                              0, SEC(1)),
			             0);
		}
	}
	cr_assert_eq(cpus, 10000);
	size_t iq;
	struct drf_role_info info;
	cr_assert_eq(drf_role_find(h.a, "q", &iq), 0);
	cr_assert_eq(drf_role_get(h.a, iq, &info), 0);
	cr_assert_eq(drf_resources_quantity(info.consumed, "cpus"), 10000);
	cr_assert_eq(drf_resources_scalar(info.quota, "cpus", NULL), 10000);
	/* mem has no limit: all of it was offered */
	cr_assert_eq(drf_resources_quantity(info.allocated, "mem"), 40960000);
	h_fini(&h);
}

Test(drf, quota_of_zero_forbids_a_resource)
{
	struct harness h;
	h_init(&h);
	struct drf_resources *q = R(&h, "gpus:0");
	cr_assert_eq(drf_role_set_quota(h.a, "nogpu", q), 0);
	drf_resources_free(q);
	add_fw(&h, "f", "nogpu/child");
	add_agent(&h, "a", "cpus:4;mem:4096;gpus:2");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	cr_assert_str_eq(fmt(h.offers[0].res), "cpus:4;mem:4096");
	h_fini(&h);
}

Test(drf, reservations_go_only_to_their_role_and_count_toward_quota)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "ops", "ops");
	add_fw(&h, "web", "eng/web");
	struct drf_resources *q = R(&h, "cpus:5");
	cr_assert_eq(drf_role_set_quota(h.a, "eng", q), 0);
	drf_resources_free(q);
	add_agent(&h, "r1", "cpus(eng):4;mem(eng):1024;cpus:2;mem:512;ports(eng):[10-20]");
	accept_all(&h, SEC(1));
	for (size_t i = 0; i < h.n; i++)
		cr_assert_fail("unexpected offer");
	const struct drf_resources *got;
	cr_assert_eq(drf_framework_allocated(h.a, "ops", "ops", &got), 0);
	int64_t ops_cpus = drf_resources_quantity(got, "cpus");
	cr_assert_eq(drf_framework_allocated(h.a, "web", "eng/web", &got), 0);
	int64_t web_cpus = drf_resources_quantity(got, "cpus");
	cr_assert_eq(ops_cpus + web_cpus, 6000);
	/* web got the reservation; eng's quota 5 with 4 reserved leaves 1 */
	cr_assert_eq(drf_allocation_get(h.a, "web", "r1", "eng/web", &got), 0);
	cr_assert_eq(drf_resources_scalar(got, "cpus", "eng"), 4000, "%s", fmt(got));
	cr_assert_leq(drf_resources_scalar(got, "cpus", NULL), 1000);
	cr_assert_eq(drf_allocation_get(h.a, "ops", "r1", "ops", &got), 0);
	cr_assert_eq(drf_resources_scalar(got, "cpus", "eng"), 0);
	cr_assert_eq(drf_resources_scalar(got, "mem", "eng"), 0);
	size_t ie;
	struct drf_role_info info;
	cr_assert_eq(drf_role_find(h.a, "eng", &ie), 0);
	cr_assert_eq(drf_role_get(h.a, ie, &info), 0);
	cr_assert_leq(drf_resources_quantity(info.consumed, "cpus"), 5000);
	h_fini(&h);
}

Test(drf, unused_reservation_is_not_offered_to_other_roles)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "ops", "ops");
	add_agent(&h, "r1", "cpus(eng):4;mem(eng):1024");
	h_clear(&h);
	cr_assert_eq(drf_allocate_dirty(h.a, SEC(1)), 0);
	/* a child of eng may use it */
	add_fw(&h, "web", "eng/web");
	cr_assert_eq(drf_allocate_dirty(h.a, SEC(1)), 1);
	cr_assert_str_eq(h.offers[0].fw, "web");
	cr_assert_str_eq(fmt(h.offers[0].res), "cpus(eng):4;mem(eng):1024");
	h_fini(&h);
}

/* ---- filters, suppress, revive ---- */

Test(drf, filter_expires_exactly_at_refuse_seconds)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "f", "*");
	add_agent(&h, "a", "cpus:2;mem:1024");
	cr_assert_eq(drf_allocate_dirty(h.a, SEC(100)), 1);
	struct rec_offer o = h.offers[0];
	cr_assert_eq(drf_offer_decline(h.a, "f", "a", "*", o.res, 5, SEC(100)), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, SEC(100)), 0);
	cr_assert_eq(drf_allocate_all(h.a, SEC(105) - 1), 0);
	cr_assert_eq(drf_allocate_all(h.a, SEC(105)), 1);
	h_fini(&h);
}

Test(drf, idle_until_something_changes_or_a_filter_or_quota_exists)
{
	struct harness h;
	h_init(&h);
	cr_assert(drf_allocator_idle(h.a));
	add_fw(&h, "f", "*");
	add_agent(&h, "a", "cpus:2;mem:1024");
	cr_assert_not(drf_allocator_idle(h.a));
	cr_assert_eq(drf_allocate_dirty(h.a, SEC(100)), 1);
	/* Everything is offered: a full cycle would offer nothing. */
	cr_assert(drf_allocator_idle(h.a));
	cr_assert_eq(drf_allocate_all(h.a, SEC(100)), 0);
	struct rec_offer o = h.offers[0];
	/* A filter can expire with time: not idle while it is held. */
	cr_assert_eq(drf_offer_decline(h.a, "f", "a", "*", o.res, 5, SEC(100)), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, SEC(100)), 0);
	cr_assert_not(drf_allocator_idle(h.a));
	cr_assert_eq(drf_allocate_all(h.a, SEC(105)), 1);
	/* The expired filter went in that cycle. */
	cr_assert(drf_allocator_idle(h.a));
	/* Quota: recoveries elsewhere change the headroom. */
	struct drf_resources *q = R(&h, "cpus:1");
	cr_assert_eq(drf_role_set_quota(h.a, "q", q), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, SEC(105)), 0);
	cr_assert_not(drf_allocator_idle(h.a));
	drf_resources_free(q);
	h_fini(&h);
}

Test(drf, default_refuse_is_five_seconds_and_zero_means_no_filter)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "f", "*");
	add_agent(&h, "a", "cpus:2;mem:1024");
	cr_assert_eq(drf_allocate_dirty(h.a, SEC(0)), 1);
	cr_assert_eq(drf_offer_decline(h.a, "f", "a", "*", h.offers[0].res, -1, SEC(0)), 0);
	cr_assert_eq(drf_allocate_all(h.a, SEC(4.999)), 0);
	cr_assert_eq(drf_allocate_all(h.a, SEC(5)), 1);
	cr_assert_eq(drf_offer_decline(h.a, "f", "a", "*", h.offers[1].res, 0, SEC(5)), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, SEC(5)), 1);
	h_fini(&h);
}

Test(drf, filter_does_not_hide_a_larger_offer)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "f", "*");
	add_agent(&h, "a", "cpus:4;mem:4096");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	struct drf_resources *task = R(&h, "cpus:1;mem:1024");
	/* one task, the rest refused for an hour */
	cr_assert_eq(drf_offer_accept(h.a, "f", "a", "*", h.offers[0].res, task, 3600, 0), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, SEC(1)), 0);
	/* the task ends: a new offer would hold more than was refused */
	cr_assert_eq(drf_resources_recover(h.a, "f", "a", "*", task), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, SEC(2)), 1);
	cr_assert_str_eq(fmt(h.offers[1].res), "cpus:4;mem:4096");
	drf_resources_free(task);
	h_fini(&h);
}

Test(drf, filtered_framework_lets_the_next_one_have_the_agent)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "f1", "*");
	add_fw(&h, "f2", "*");
	add_agent(&h, "a", "cpus:4;mem:4096");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	cr_assert_str_eq(h.offers[0].fw, "f1"); /* tie: by name */
	cr_assert_eq(drf_offer_decline(h.a, "f1", "a", "*", h.offers[0].res, 10, 0), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	cr_assert_str_eq(h.offers[1].fw, "f2");
	h_fini(&h);
}

Test(drf, suppress_stops_offers_and_revive_clears_filters)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "f", "*");
	add_agent(&h, "a", "cpus:4;mem:4096");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	cr_assert_eq(drf_offer_decline(h.a, "f", "a", "*", h.offers[0].res, 1000, 0), 0);
	cr_assert_eq(drf_framework_suppress(h.a, "f", NULL), 0);
	cr_assert_eq(drf_allocate_all(h.a, SEC(2000)), 0); /* filter gone, still suppressed */
	cr_assert_eq(drf_framework_revive(h.a, "f", "*"), 0);
	cr_assert(drf_allocator_pending(h.a));
	cr_assert_eq(drf_allocate_dirty(h.a, SEC(2000)), 1);
	cr_assert_eq(drf_offer_decline(h.a, "f", "a", "*", h.offers[1].res, 1000, SEC(2000)), 0);
	cr_assert_eq(drf_allocate_all(h.a, SEC(2001)), 0);
	cr_assert_eq(drf_framework_revive(h.a, "f", NULL), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, SEC(2001)), 1, "revive clears the filter");
	cr_assert_eq(drf_framework_suppress(h.a, "f", "nope"), -ENOENT);
	h_fini(&h);
}

Test(drf, framework_changes_roles_and_keeps_what_it_holds)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "f", "old");
	add_agent(&h, "a", "cpus:4;mem:4096");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	const char *roles[] = {"new"};
	cr_assert_eq(drf_framework_update_roles(h.a, "f", roles, 1), 0);
	add_agent(&h, "b", "cpus:4;mem:4096");
	h_clear(&h);
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	cr_assert_str_eq(h.offers[0].role, "new");
	cr_assert_str_eq(h.offers[0].agent, "b");
	/* the allocation in the old role is still there, and recoverable */
	size_t io;
	struct drf_role_info info;
	cr_assert_eq(drf_role_find(h.a, "old", &io), 0);
	cr_assert_eq(drf_role_get(h.a, io, &info), 0);
	cr_assert_eq(drf_resources_quantity(info.allocated, "cpus"), 4000);
	struct drf_resources *all = R(&h, "cpus:4;mem:4096");
	cr_assert_eq(drf_offer_decline(h.a, "f", "a", "old", all, 5, 0), 0);
	cr_assert_eq(drf_role_get(h.a, io, &info), 0);
	cr_assert_eq(drf_resources_quantity(info.allocated, "cpus"), 0);
	cr_assert_eq(info.n_frameworks, 0);
	h_clear(&h);
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1, "offered again, in the new role");
	cr_assert_str_eq(h.offers[0].role, "new");
	/* back to both */
	const char *both[] = {"new", "old"};
	cr_assert_eq(drf_framework_update_roles(h.a, "f", both, 2), 0);
	cr_assert_eq(drf_role_get(h.a, io, &info), 0);
	cr_assert_eq(info.n_frameworks, 1);
	drf_resources_free(all);
	h_fini(&h);
}

Test(drf, inactive_framework_gets_no_offers)
{
	struct harness h;
	h_init(&h);
	const char *roles[] = {"*"};
	cr_assert_eq(drf_framework_add(h.a, "f", roles, 1, false), 0);
	add_agent(&h, "a", "cpus:4;mem:4096");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 0);
	cr_assert_eq(drf_framework_activate(h.a, "f"), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	cr_assert_eq(drf_framework_deactivate(h.a, "f"), 0);
	cr_assert_eq(drf_offer_rescind(h.a, "f", "a", "*", h.offers[0].res), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 0);
	h_fini(&h);
}

/* ---- events ---- */

Test(drf, removing_an_agent_with_outstanding_offers)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "f", "*");
	add_agent(&h, "a", "cpus:4;mem:4096");
	add_agent(&h, "b", "cpus:4;mem:4096");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 2);
	double share;
	cr_assert_eq(drf_framework_share(h.a, "f", "*", &share), 0);
	cr_assert_float_eq(share, 1.0, 1e-12);
	cr_assert_eq(drf_agent_remove(h.a, "a"), 0);
	cr_assert_eq(drf_framework_share(h.a, "f", "*", &share), 0);
	cr_assert_float_eq(share, 1.0, 1e-12); /* holds all of what is left */
	const struct drf_resources *got;
	cr_assert_eq(drf_allocation_get(h.a, "f", "a", "*", &got), -ENOENT);
	cr_assert_eq(drf_offer_decline(h.a, "f", "a", "*", h.offers[0].res, 5, 0), -ENOENT);
	cr_assert_eq(drf_framework_allocated(h.a, "f", "*", &got), 0);
	cr_assert_eq(drf_resources_quantity(got, "cpus"), 4000);
	cr_assert_eq(drf_agent_remove(h.a, "a"), -ENOENT);
	/* the id can come back */
	add_agent(&h, "a", "cpus:8;mem:4096");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	cr_assert_str_eq(fmt(h.offers[2].res), "cpus:8;mem:4096");
	h_fini(&h);
}

Test(drf, removing_a_framework_recovers_its_resources)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "f1", "*");
	add_agent(&h, "a", "cpus:4;mem:4096");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	add_fw(&h, "f2", "*");
	cr_assert_eq(drf_framework_remove(h.a, "f1"), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	cr_assert_str_eq(h.offers[1].fw, "f2");
	cr_assert_str_eq(fmt(h.offers[1].res), "cpus:4;mem:4096");
	h_fini(&h);
}

Test(drf, event_cycle_touches_only_dirty_agents)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "f", "*");
	char id[16];
	for (int i = 0; i < 50; i++) {
		snprintf(id, sizeof(id), "a%d", i);
		add_agent(&h, id, "cpus:4;mem:4096");
	}
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 50);
	cr_assert_not(drf_allocator_pending(h.a));
	struct drf_resources *part = R(&h, "cpus:1;mem:100");
	cr_assert_eq(drf_resources_recover(h.a, "f", "a7", "*", part), 0);
	cr_assert_eq(drf_resources_recover(h.a, "f", "a9", "*", part), 0);
	cr_assert_eq(drf_resources_recover(h.a, "f", "a7", "*", part), 0);
	cr_assert(drf_allocator_pending(h.a));
	h_clear(&h);
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 2);
	cr_assert_str_eq(h.offers[0].agent, "a7");
	cr_assert_str_eq(fmt(h.offers[0].res), "cpus:2;mem:200");
	cr_assert_str_eq(h.offers[1].agent, "a9");
	drf_resources_free(part);
	h_fini(&h);
}

Test(drf, inactive_agent_keeps_allocations_and_gets_no_offers)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "f", "*");
	add_agent(&h, "a", "cpus:4;mem:4096");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	struct drf_resources *part = R(&h, "cpus:1");
	cr_assert_eq(drf_agent_deactivate(h.a, "a"), 0);
	cr_assert_eq(drf_resources_recover(h.a, "f", "a", "*", part), 0);
	cr_assert_eq(drf_allocate_all(h.a, 0), 0);
	const struct drf_resources *got;
	cr_assert_eq(drf_allocation_get(h.a, "f", "a", "*", &got), 0);
	cr_assert_str_eq(fmt(got), "cpus:3;mem:4096");
	cr_assert_eq(drf_agent_activate(h.a, "a"), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	cr_assert_str_eq(fmt(h.offers[1].res), "cpus:1");
	cr_assert_eq(drf_agent_activate(h.a, "zz"), -ENOENT);
	drf_resources_free(part);
	h_fini(&h);
}

Test(drf, agent_update_changes_what_is_offered)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "f", "*");
	add_agent(&h, "a", "cpus:4;mem:4096");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	struct drf_resources *small = R(&h, "cpus:2;mem:4096");
	cr_assert_eq(drf_agent_update(h.a, "a", small), -EBUSY);
	struct drf_resources *big = R(&h, "cpus:6;mem:4096");
	cr_assert_eq(drf_agent_update(h.a, "a", big), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	cr_assert_str_eq(fmt(h.offers[1].res), "cpus:2");
	drf_resources_free(small);
	drf_resources_free(big);
	h_fini(&h);
}

Test(drf, amounts_below_the_minimum_are_not_offered)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "f", "*");
	add_agent(&h, "a", "cpus:0.009;mem:31;disk:100");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 0);
	add_agent(&h, "b", "cpus:0.01");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	h_fini(&h);
}

/* ---- order ---- */

Test(drf, frees_go_to_lowest_dominant_share)
{
	struct harness h;
	h_init(&h);
	add_fw(&h, "f1", "*");
	add_fw(&h, "f2", "*");
	for (int i = 0; i < 4; i++) {
		char id[16];
		snprintf(id, sizeof(id), "a%d", i);
		add_agent(&h, id, "cpus:1;mem:1024");
	}
	/* alternating: f1, f2, f1, f2 */
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 4);
	cr_assert_str_eq(h.offers[0].fw, "f1");
	cr_assert_str_eq(h.offers[1].fw, "f2");
	cr_assert_str_eq(h.offers[2].fw, "f1");
	cr_assert_str_eq(h.offers[3].fw, "f2");
	/* f2 gives one back: it is lower now and gets it again */
	cr_assert_eq(drf_offer_decline(h.a, "f2", "a3", "*", h.offers[3].res, 0, 0), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	cr_assert_str_eq(h.offers[4].fw, "f2");
	h_fini(&h);
}

Test(drf, roles_are_ordered_level_by_level)
{
	struct harness h;
	h_init(&h);
	/* eng has two busy children; ops one framework. Each level is fair:
	 * ops gets as much as all of eng. */
	add_fw(&h, "w1", "eng/web");
	add_fw(&h, "w2", "eng/db");
	add_fw(&h, "o1", "ops");
	for (int i = 0; i < 40; i++) {
		char id[16];
		snprintf(id, sizeof(id), "a%02d", i);
		add_agent(&h, id, "cpus:1;mem:1024");
	}
	accept_all(&h, 0);
	size_t ie, io, iw;
	struct drf_role_info eng, ops, web;
	cr_assert_eq(drf_role_find(h.a, "eng", &ie), 0);
	cr_assert_eq(drf_role_find(h.a, "ops", &io), 0);
	cr_assert_eq(drf_role_find(h.a, "eng/web", &iw), 0);
	cr_assert_eq(drf_role_get(h.a, ie, &eng), 0);
	cr_assert_eq(drf_role_get(h.a, io, &ops), 0);
	cr_assert_eq(drf_role_get(h.a, iw, &web), 0);
	cr_assert_eq(drf_resources_quantity(eng.allocated, "cpus"), 20000);
	cr_assert_eq(drf_resources_quantity(ops.allocated, "cpus"), 20000);
	cr_assert_eq(drf_resources_quantity(web.allocated, "cpus"), 10000);
	cr_assert_eq(web.n_frameworks, 1);
	cr_assert_str_eq(drf_role_framework(h.a, iw, 0), "w1");
	cr_assert_null(drf_role_framework(h.a, iw, 1));
	cr_assert_eq(eng.n_frameworks, 0);
	h_fini(&h);
}

Test(drf, roles_leave_and_rejoin_the_order)
{
	struct harness h;
	h_init(&h);
	/* idle roles (quota only, reservations only) take no part */
	struct drf_resources *q = R(&h, "cpus:100");
	for (int i = 0; i < 20; i++) {
		char role[16];
		snprintf(role, sizeof(role), "idle%d", i);
		cr_assert_eq(drf_role_set_quota(h.a, role, q), 0);
	}
	drf_resources_free(q);
	add_agent(&h, "r", "cpus(idle3):1;mem(idle3):64");
	add_fw(&h, "A", "x/a");
	add_fw(&h, "B", "y");
	for (int i = 0; i < 4; i++) {
		char id[16];
		snprintf(id, sizeof(id), "a%d", i);
		add_agent(&h, id, "cpus:1;mem:1024");
	}
	cr_assert_eq(drf_framework_deactivate(h.a, "A"), 0);
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 4);
	for (size_t i = 0; i < h.n; i++)
		cr_assert_str_eq(h.offers[i].fw, "B");
	cr_assert_eq(drf_framework_activate(h.a, "A"), 0);
	for (int i = 4; i < 8; i++) {
		char id[16];
		snprintf(id, sizeof(id), "a%d", i);
		add_agent(&h, id, "cpus:1;mem:1024");
	}
	/* x (share 0) comes back first and gets the new agents until even */
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 4);
	for (size_t i = 4; i < h.n; i++)
		cr_assert_str_eq(h.offers[i].fw, "A", "offer %zu", i);
	h_fini(&h);
}

Test(drf, excluded_resources_do_not_count_in_shares)
{
	struct harness h;
	const char *excl[] = {"gpus"};
	struct drf_options o = {.fair_share_excluded = excl, .n_fair_share_excluded = 1};
	h_init_opts(&h, &o);
	add_fw(&h, "g", "*");
	add_agent(&h, "a", "cpus:1;mem:1024;gpus:8");
	add_agent(&h, "b", "cpus:1;mem:1024");
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 2);
	struct drf_resources *cm = R(&h, "cpus:1;mem:1024");
	/* g keeps only the gpus of a */
	cr_assert_eq(drf_resources_recover(h.a, "g", "a", "*", cm), 0);
	cr_assert_eq(drf_resources_recover(h.a, "g", "b", "*", cm), 0);
	double share;
	cr_assert_eq(drf_framework_share(h.a, "g", "*", &share), 0);
	cr_assert_float_eq(share, 0.0, 0);
	drf_resources_free(cm);
	h_fini(&h);
}

/* ---- bad input ---- */

Test(drf, bad_input_is_refused_and_changes_nothing)
{
	struct harness h;
	h_init(&h);
	const char *bad_roles[] = {"ok", "/bad"};
	cr_assert_eq(drf_framework_add(h.a, "f", bad_roles, 2, true), -EINVAL);
	const char *dup[] = {"x", "x"};
	cr_assert_eq(drf_framework_add(h.a, "f", dup, 2, true), -EINVAL);
	cr_assert_eq(drf_framework_add(h.a, "f", NULL, 0, true), -EINVAL);
	size_t idx;
	cr_assert_eq(drf_role_find(h.a, "ok", &idx), -ENOENT, "a refused framework made a role");
	add_fw(&h, "f", "*");
	const char *r1[] = {"*"};
	cr_assert_eq(drf_framework_add(h.a, "f", r1, 1, true), -EEXIST);
	add_agent(&h, "a", "cpus:4;mem:4096");
	struct drf_resources *r = R(&h, "cpus:1");
	cr_assert_eq(drf_agent_add(h.a, "a", r), -EEXIST);
	cr_assert_eq(drf_allocate_dirty(h.a, 0), 1);
	struct drf_resources *too_much = R(&h, "cpus:5");
	cr_assert_eq(drf_offer_decline(h.a, "f", "a", "*", too_much, 5, 0), -EINVAL);
	cr_assert_eq(drf_offer_decline(h.a, "nope", "a", "*", r, 5, 0), -ENOENT);
	cr_assert_eq(drf_offer_decline(h.a, "f", "a", "other", r, 5, 0), -ENOENT);
	cr_assert_eq(drf_offer_accept(h.a, "f", "a", "*", r, too_much, 5, 0), -EINVAL);
	cr_assert_eq(drf_role_set_weight(h.a, "x", 0), -EINVAL);
	cr_assert_eq(drf_role_set_weight(h.a, "x", NAN), -EINVAL);
	struct drf_resources *ports = R(&h, "ports:[1-2]");
	cr_assert_eq(drf_role_set_quota(h.a, "x", ports), -EINVAL);
	const struct drf_resources *got;
	cr_assert_eq(drf_allocation_get(h.a, "f", "a", "*", &got), 0);
	cr_assert_str_eq(fmt(got), "cpus:4;mem:4096");
	drf_resources_free(r);
	drf_resources_free(too_much);
	drf_resources_free(ports);
	h_fini(&h);
}
