/* offers.c: offers from the allocator to frameworks, their timeouts and
 * rescinds, and ACCEPT / DECLINE. */
#include "common/log.h"
#include "master/master.h"

#include <inttypes.h>
#include <string.h>

struct ms_offer *ms_offer_find(struct ms_master *m, const char *id)
{
	return id ? ag_map_get(&m->offers, id) : NULL;
}

void ms_offer_drop(struct ms_master *m, struct ms_offer *o)
{
	ag_map_del(&m->offers, o->id);
	if (o->timeout)
		event_free(o->timeout);
	drf_resources_free(o->res);
	free(o->role);
	free(o->id);
	free(o);
}

void ms_offer_rescind(struct ms_master *m, struct ms_offer *o, bool tell)
{
	ms_alloc_check(drf_offer_rescind(m->alloc, o->fw->id, o->agent->id, o->role, o->res),
	               "rescind offer", o->id);
	if (tell)
		ms_framework_send(o->fw, json_pack("{s:s, s:{s:o}}", "type", "RESCIND", "rescind",
		                                   "offer_id", pb_id_to_json(o->id)));
	ms_offer_drop(m, o);
	ms_allocate_soon(m);
}

void ms_offers_rescind_matching(struct ms_master *m, struct ms_framework *fw,
                                struct ms_agent *agent, bool tell)
{
	struct ag_map_iter it;
	for (ag_map_iter_init(&it); ag_map_iter_next(&m->offers, &it);) {
		struct ms_offer *o = it.e->value;
		if ((!fw || o->fw == fw) && (!agent || o->agent == agent))
			ms_offer_rescind(m, o, tell);
	}
}

static void offer_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct ms_offer *o = arg;
	(void)fd;
	(void)what;
	ag_debug("offer %s to framework %s timed out", o->id, o->fw->id);
	ms_offer_rescind(o->fw->m, o, true);
}

#define MS_OFFERS_PER_EVENT 200

static void offers_send(struct ms_framework *fw)
{
	json_t *offers = fw->offers_out;
	fw->offers_out = NULL;
	ms_framework_send(
	        fw, json_pack("{s:s, s:{s:o}}", "type", "OFFERS", "offers", "offers", offers));
}

void ms_on_offer(void *ctx, const struct drf_offer *d)
{
	struct ms_master *m = ctx;
	struct ms_framework *fw = ms_framework_find(m, d->framework_id);
	struct ms_agent *agent = ag_map_get(&m->agents, d->agent_id);
	if (!fw || !agent) {
		/* Cannot happen: both are removed from the allocator with us. */
		ag_err("offer for unknown framework %s or agent %s", d->framework_id, d->agent_id);
		return;
	}
	struct ms_offer *o = ag_calloc(1, sizeof(*o));
	o->id = ag_asprintf("%s-O%" PRIu64, m->id, m->next_offer++);
	o->fw = fw;
	o->agent = agent;
	o->role = ag_strdup(d->role);
	o->res = drf_resources_copy(d->resources);
	ag_map_put(&m->offers, o->id, o);
	if (m->flags.offer_timeout_ns) {
		o->timeout = evtimer_new(m->base, offer_timeout, o);
		struct timeval tv = {(time_t)(m->flags.offer_timeout_ns / 1000000000),
		                     (suseconds_t)(m->flags.offer_timeout_ns % 1000000000 / 1000)};
		evtimer_add(o->timeout, &tv);
	}

	bool multi = fw->caps & PB_CAP_BIT(PB_CAP_MULTI_ROLE);
	unsigned flags = ms_framework_res_flags(fw);
	json_t *res = ms_resources_to_json(o->res, flags, multi ? o->role : NULL);
	json_t *url = json_pack("{s:s, s:{s:s, s:s, s:i}, s:s}", "scheme", "http", "address",
	                        "hostname", agent->hostname, "ip", agent->ip, "port", agent->port,
	                        "path", "/slave(1)");
	json_t *offer = json_pack("{s:o, s:o, s:o, s:s, s:o, s:o}", "id", pb_id_to_json(o->id),
	                          "framework_id", pb_id_to_json(fw->id), "agent_id",
	                          pb_id_to_json(agent->id), "hostname", agent->hostname, "url", url,
	                          "resources", res);
	if (agent->attributes)
		json_object_set(offer, "attributes", agent->attributes);
	if (multi)
		json_object_set_new(offer, "allocation_info", json_pack("{s:s}", "role", o->role));
	if (!fw->offers_out)
		fw->offers_out = json_array();
	json_array_append_new(fw->offers_out, offer);
	/* An event well under the 4 MB record cap of clients (mesos-go) and
	 * the stream's slow-consumer bound, at 10,000 agents too. */
	if (json_array_size(fw->offers_out) >= MS_OFFERS_PER_EVENT)
		offers_send(fw);
}

void ms_offers_flush(struct ms_master *m)
{
	struct ag_map_iter it;
	for (ag_map_iter_init(&it); ag_map_iter_next(&m->frameworks, &it);) {
		struct ms_framework *fw = it.e->value;
		if (fw->offers_out)
			offers_send(fw);
	}
}

/* LAUNCH against offers that are not all valid: nothing runs (reference
 * §2, "Other LAUNCH outcomes"). */
static void drop_launches(struct ms_master *m, struct ms_framework *fw,
                          const struct pb_call_offers *acc, const char *msg)
{
	bool pa = fw->caps & PB_CAP_BIT(PB_CAP_PARTITION_AWARE);
	for (size_t i = 0; i < acc->n_operations; i++)
		for (size_t j = 0; j < acc->operations[i].n_tasks; j++) {
			const struct pb_task_info *ti = &acc->operations[i].tasks[j];
			ms_task_send_master_update(m, fw, ti->task_id, ti->agent_id,
			                           pa ? PB_TASK_DROPPED : PB_TASK_LOST,
			                           PB_REASON_INVALID_OFFERS, msg);
		}
}

void ms_accept(struct ms_master *m, struct ms_framework *fw, const struct pb_call_offers *acc,
               bool decline_only)
{
	double refuse = pb_filters_refuse_seconds(&acc->filters);
	int64_t now = (int64_t)ag_now_ns();
	size_t n = acc->n_offer_ids;
	struct ms_offer **offers = ag_calloc(n ? n : 1, sizeof(*offers));
	char msg[512] = "";
	size_t n_valid = 0;
	for (size_t i = 0; i < n; i++) {
		struct ms_offer *o = ms_offer_find(m, acc->offer_ids[i]);
		bool dup = false;
		for (size_t k = 0; k < n_valid; k++)
			dup |= offers[k] == o;
		if (!o || o->fw != fw || dup) {
			if (!msg[0])
				snprintf(msg, sizeof(msg),
				         "Offer %s is no longer valid (unknown, used, rescinded, "
				         "or not this framework's)",
				         acc->offer_ids[i]);
			continue;
		}
		if (n_valid && o->agent != offers[0]->agent && !msg[0])
			snprintf(msg, sizeof(msg), "Offers %s and %s are on different agents",
			         offers[0]->id, o->id);
		offers[n_valid++] = o;
	}
	if (!decline_only && !n && !msg[0])
		snprintf(msg, sizeof(msg), "No offers given to ACCEPT");

	if (decline_only || msg[0]) {
		if (!decline_only)
			drop_launches(m, fw, acc, msg);
		for (size_t i = 0; i < n_valid; i++) {
			struct ms_offer *o = offers[i];
			ms_alloc_check(drf_offer_decline(m->alloc, fw->id, o->agent->id, o->role,
			                                 o->res, decline_only ? refuse : 0, now),
			               "decline offer", o->id);
			ms_offer_drop(m, o);
		}
		free(offers);
		ms_allocate_batched(m);
		return;
	}

	struct ms_agent *agent = offers[0]->agent;
	struct drf_resources **left = ag_calloc(n_valid, sizeof(*left));
	for (size_t i = 0; i < n_valid; i++)
		left[i] = drf_resources_copy(offers[i]->res);
	for (size_t i = 0; i < acc->n_operations; i++) {
		const struct pb_operation *op = &acc->operations[i];
		if (op->type == PB_OPERATION_LAUNCH_GROUP) {
			/* Answered, never dropped: each task of the group ends
			 * TASK_ERROR saying why; the offer's resources stay
			 * unused. */
			ag_warn("framework %s: LAUNCH_GROUP of %zu tasks: task groups are not "
			        "supported yet; TASK_ERROR",
			        fw->id, op->n_tasks);
			for (size_t j = 0; j < op->n_tasks; j++)
				ms_task_send_master_update(
				        m, fw, op->tasks[j].task_id, agent->id, PB_TASK_ERROR,
				        PB_REASON_TASK_GROUP_INVALID,
				        "task groups (LAUNCH_GROUP): not supported yet by agora");
			continue;
		}
		if (op->type != PB_OPERATION_LAUNCH) {
			ag_warn("framework %s: operation %d is not supported; ignored", fw->id,
			        (int)op->type);
			continue;
		}
		for (size_t j = 0; j < op->n_tasks; j++) {
			const struct pb_task_info *ti = &op->tasks[j];
			/* Filled only on an error: the message the TASK_ERROR carries. */
			struct ag_error err;
			int bad = ms_task_validate(fw, ti, agent->id, &err);
			struct drf_resources *res = NULL;
			if (bad == 0 &&
			    (bad = ms_resources_from_pb(m, ti->resources, ti->n_resources, &res,
			                                &err)) < 0)
				bad = ag_error_wrap(&err, "Task uses invalid resources");
			/* A custom executor's first task on the agent takes
			 * its resources too (executors.c). */
			struct drf_resources *exec_res = NULL;
			if (bad == 0 && ti->executor_id) {
				bad = ms_executor_check(m, fw, agent->id, ti, &exec_res, &err);
				if (bad == 0 && exec_res)
					drf_resources_add(res, exec_res);
			}
			size_t k = 0;
			if (bad == 0) {
				while (k < n_valid && !drf_resources_contains(left[k], res))
					k++;
				if (k == n_valid) {
					char want[200], have[200];
					drf_resources_format(res, want, sizeof(want));
					drf_resources_format(left[0], have, sizeof(have));
					bad = ag_error_msg(
					        &err, EINVAL,
					        "Task uses more resources %s than available %s",
					        want, have);
				}
			}
			/* Contained in left[k] (above): cannot fail. */
			if (bad == 0 && drf_resources_subtract(left[k], res) < 0)
				bad = ag_error_msg(
				        &err, EINVAL,
				        "Task uses more resources than the offers have left");
			if (bad == 0 && exec_res)
				/* What the task itself holds: contained. */
				bad = drf_resources_subtract(res, exec_res);
			if (bad < 0) {
				drf_resources_free(exec_res);
				drf_resources_free(res);
				ms_task_send_master_update(m, fw, ti->task_id, agent->id,
				                           PB_TASK_ERROR, PB_REASON_TASK_INVALID,
				                           err.msg);
				continue;
			}
			if (ti->executor_id)
				ms_executor_add(m, fw, agent->id, ti, offers[k]->role, exec_res);
			ms_task_launch(m, fw, agent, ti, offers[k]->role, res);
		}
	}
	for (size_t i = 0; i < n_valid; i++) {
		struct ms_offer *o = offers[i];
		struct drf_resources *used = drf_resources_copy(o->res);
		/* left[i] is what of o->res no task took: contained. Were it
		 * not, the whole offer stays used (nothing is over-offered). */
		ms_alloc_check(drf_resources_subtract(used, left[i]),
		               "account the launches of offer", o->id);
		ms_alloc_check(drf_offer_accept(m->alloc, fw->id, agent->id, o->role, o->res, used,
		                                refuse, now),
		               "accept offer", o->id);
		drf_resources_free(used);
		drf_resources_free(left[i]);
		ms_offer_drop(m, o);
	}
	free(left);
	free(offers);
	ms_allocate_batched(m);
}
