/* build.c: JSON builders for what the master and agent send. Only set
 * fields are written; integers are jansson integers (bare), scalars are
 * reals, enums are names, bytes padded base64. */
#include "proto/internal.h"

#include <ctype.h>
#include <string.h>

void pb__set(json_t *o, const char *key, json_t *v)
{
	if (v)
		json_object_set_new(o, key, v);
}

void pb__set_str(json_t *o, const char *key, const char *s)
{
	if (s)
		json_object_set_new(o, key, json_string(s));
}

void pb__set_id(json_t *o, const char *key, const char *id)
{
	if (id)
		json_object_set_new(o, key, pb_id_to_json(id));
}

void pb__set_bytes(json_t *o, const char *key, struct pb_bytes b)
{
	if (!b.data)
		return;
	_cleanup_free_ char *s = pb_base64_encode(b.data, b.len);
	json_object_set_new(o, key, json_string(s));
}

json_t *pb__strings_to_json(const char *const *v, size_t n)
{
	if (n == 0)
		return NULL;
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i] ? v[i] : ""));
	return a;
}

json_t *pb__labels_to_json(const struct pb_label *l, size_t n)
{
	if (n == 0)
		return NULL;
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_object();
		pb__set_str(e, "key", l[i].key ? l[i].key : "");
		pb__set_str(e, "value", l[i].value);
		json_array_append_new(a, e);
	}
	return json_pack("{s:o}", "labels", a);
}

json_t *pb__typed(const char *name, json_t *payload)
{
	json_t *o = json_object();
	json_object_set_new(o, "type", json_string(name));
	if (payload) {
		char key[64];
		size_t i = 0;
		for (; name[i] && i < sizeof(key) - 1; i++)
			key[i] = (char)tolower((unsigned char)name[i]);
		key[i] = '\0';
		json_object_set_new(o, key, payload);
	}
	return o;
}

json_t *pb_id_to_json(const char *value)
{
	return json_pack("{s:s}", "value", value ? value : "");
}

json_t *pb_time_to_json(int64_t ns)
{
	return json_pack("{s:I}", "nanoseconds", (json_int_t)ns);
}

static json_t *ranges_to_json(const struct pb_range *r, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:I,s:I}", "begin", (json_int_t)r[i].begin,
		                                   "end", (json_int_t)r[i].end));
	return json_pack("{s:o}", "range", a);
}

static json_t *reservation_to_json(const struct pb_reservation *r)
{
	json_t *o = json_object();
	const char *t = pb__enum_name(&pb__e_reservation_type, (int)r->type);
	pb__set_str(o, "type", t);
	pb__set_str(o, "role", r->role);
	pb__set_str(o, "principal", r->principal);
	return o;
}

json_t *pb_resource_to_json(const struct pb_resource *r, unsigned flags)
{
	json_t *o = json_object();
	pb__set_str(o, "name", r->name ? r->name : "");
	const char *type = pb__enum_name(&pb__e_value_type, (int)r->type);
	pb__set_str(o, "type", type ? type : "SCALAR");
	switch (r->type) {
	case PB_VALUE_RANGES:
		json_object_set_new(o, "ranges", ranges_to_json(r->ranges, r->n_ranges));
		break;
	case PB_VALUE_SET: {
		json_t *items = pb__strings_to_json(r->items, r->n_items);
		json_object_set_new(o, "set",
		                    items ? json_pack("{s:o}", "item", items) : json_object());
		break;
	}
	default:
		json_object_set_new(o, "scalar",
		                    json_pack("{s:f}", "value", (double)r->scalar_milli / 1000.0));
		break;
	}
	const char *reserved = pb_resource_reserved_role(r);
	if (!(flags & PB_RES_REFINED))
		pb__set_str(o, "role", reserved ? reserved : "*");
	if (!(flags & (PB_RES_REFINED | PB_RES_OPERATOR)) && reserved && r->n_reservations > 0) {
		/* Old format: the singular reservation carries only the
		 * principal and labels; the role is in `role`. */
		const struct pb_reservation *last = &r->reservations[r->n_reservations - 1];
		json_t *res = json_object();
		pb__set_str(res, "principal", last->principal);
		json_object_set_new(o, "reservation", res);
	}
	if (r->disk)
		json_object_set_new(o, "disk", json_deep_copy(r->disk));
	if (r->revocable)
		json_object_set_new(o, "revocable", json_object());
	if (r->shared)
		json_object_set_new(o, "shared", json_object());
	if ((flags & PB_RES_ALLOCATION_INFO) && r->allocation_role)
		json_object_set_new(o, "allocation_info",
		                    json_pack("{s:s}", "role", r->allocation_role));
	if ((flags & (PB_RES_REFINED | PB_RES_OPERATOR)) && r->n_reservations > 0) {
		json_t *a = json_array();
		for (size_t i = 0; i < r->n_reservations; i++)
			json_array_append_new(a, reservation_to_json(&r->reservations[i]));
		json_object_set_new(o, "reservations", a);
	}
	return o;
}

json_t *pb_resources_to_json(const struct pb_resource *r, size_t n, unsigned flags)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, pb_resource_to_json(&r[i], flags));
	return a;
}

json_t *pb_attribute_to_json(const struct pb_attribute *at)
{
	json_t *o = json_object();
	pb__set_str(o, "name", at->name ? at->name : "");
	const char *type = pb__enum_name(&pb__e_value_type, (int)at->type);
	pb__set_str(o, "type", type ? type : "TEXT");
	switch (at->type) {
	case PB_VALUE_SCALAR:
		json_object_set_new(o, "scalar", json_pack("{s:f}", "value", at->scalar));
		break;
	case PB_VALUE_RANGES:
		json_object_set_new(o, "ranges", ranges_to_json(at->ranges, at->n_ranges));
		break;
	case PB_VALUE_SET: {
		json_t *items = pb__strings_to_json(at->items, at->n_items);
		json_object_set_new(o, "set",
		                    items ? json_pack("{s:o}", "item", items) : json_object());
		break;
	}
	default:
		json_object_set_new(o, "text",
		                    json_pack("{s:s}", "value", at->text ? at->text : ""));
		break;
	}
	return o;
}

static json_t *attributes_to_json(const struct pb_attribute *a, size_t n)
{
	if (n == 0)
		return NULL;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, pb_attribute_to_json(&a[i]));
	return arr;
}

json_t *pb_framework_info_to_json(const struct pb_framework_info *fi)
{
	json_t *o = json_object();
	pb__set_str(o, "user", fi->user ? fi->user : "");
	pb__set_str(o, "name", fi->name ? fi->name : "");
	pb__set_id(o, "id", fi->id);
	json_object_set_new(o, "failover_timeout", json_real(fi->failover_timeout));
	json_object_set_new(o, "checkpoint", json_boolean(fi->checkpoint));
	pb__set_str(o, "role", fi->role);
	pb__set(o, "roles", pb__strings_to_json(fi->roles, fi->n_roles));
	pb__set_str(o, "hostname", fi->hostname);
	pb__set_str(o, "principal", fi->principal);
	pb__set_str(o, "webui_url", fi->webui_url);
	if (fi->capabilities) {
		json_t *caps = json_array();
		for (int c = 1; c < (int)pb__e_fw_capability.n; c++) {
			if (fi->capabilities & PB_CAP_BIT(c))
				json_array_append_new(
				        caps,
				        json_pack("{s:s}", "type", pb__e_fw_capability.names[c]));
		}
		json_object_set_new(o, "capabilities", caps);
	}
	pb__set(o, "labels", pb__labels_to_json(fi->labels, fi->n_labels));
	return o;
}

json_t *pb_agent_info_to_json(const struct pb_agent_info *ai, unsigned res_flags)
{
	json_t *o = json_object();
	pb__set_str(o, "hostname", ai->hostname ? ai->hostname : "");
	if (ai->port)
		json_object_set_new(o, "port", json_integer(ai->port));
	if (ai->n_resources)
		json_object_set_new(
		        o, "resources",
		        pb_resources_to_json(ai->resources, ai->n_resources, res_flags));
	pb__set(o, "attributes", attributes_to_json(ai->attributes, ai->n_attributes));
	pb__set_id(o, "id", ai->id);
	return o;
}

json_t *pb_master_info_to_json(const struct pb_master_info *mi)
{
	json_t *o = json_object();
	pb__set_str(o, "id", mi->id ? mi->id : "");
	json_object_set_new(o, "ip", json_integer(mi->ip));
	json_object_set_new(o, "port", json_integer(mi->port ? mi->port : 5050));
	pb__set_str(o, "pid", mi->pid);
	pb__set_str(o, "hostname", mi->hostname);
	pb__set_str(o, "version", mi->version);
	if (mi->address_ip) {
		json_t *addr = json_object();
		pb__set_str(addr, "hostname", mi->hostname);
		pb__set_str(addr, "ip", mi->address_ip);
		json_object_set_new(addr, "port", json_integer(mi->port ? mi->port : 5050));
		json_object_set_new(o, "address", addr);
	}
	return o;
}

json_t *pb_task_status_to_json(const struct pb_task_status *st)
{
	json_t *o = json_object();
	pb__set_id(o, "task_id", st->task_id ? st->task_id : "");
	const char *state = pb_task_state_name(st->state);
	pb__set_str(o, "state", state ? state : "TASK_UNKNOWN");
	pb__set_str(o, "message", st->message);
	pb__set_str(o, "source", pb_task_source_name(st->source));
	pb__set_str(o, "reason", pb_task_reason_name(st->reason));
	pb__set_bytes(o, "data", st->data);
	pb__set_id(o, "agent_id", st->agent_id);
	pb__set_id(o, "executor_id", st->executor_id);
	if (st->has_timestamp)
		json_object_set_new(o, "timestamp", json_real(st->timestamp));
	pb__set_bytes(o, "uuid", st->uuid);
	if (st->has_healthy)
		json_object_set_new(o, "healthy", json_boolean(st->healthy));
	if (st->check_status)
		json_object_set_new(o, "check_status", json_deep_copy(st->check_status));
	pb__set(o, "labels", pb__labels_to_json(st->labels, st->n_labels));
	if (st->container_status) {
		json_object_set_new(o, "container_status", json_deep_copy(st->container_status));
	} else if (st->container_id || st->executor_pid > 0) {
		json_t *cs = json_object();
		pb__set_id(cs, "container_id", st->container_id);
		if (st->executor_pid > 0)
			json_object_set_new(cs, "executor_pid", json_integer(st->executor_pid));
		json_object_set_new(o, "container_status", cs);
	}
	if (st->has_unreachable_time)
		json_object_set_new(o, "unreachable_time",
		                    pb_time_to_json(st->unreachable_time_ns));
	return o;
}

json_t *pb_offer_to_json(const struct pb_offer *of, unsigned res_flags)
{
	json_t *o = json_object();
	pb__set_id(o, "id", of->id ? of->id : "");
	pb__set_id(o, "framework_id", of->framework_id ? of->framework_id : "");
	pb__set_id(o, "agent_id", of->agent_id ? of->agent_id : "");
	pb__set_str(o, "hostname", of->hostname ? of->hostname : "");
	json_t *addr = json_object();
	pb__set_str(addr, "hostname", of->hostname);
	pb__set_str(addr, "ip", of->url_ip ? of->url_ip : "");
	json_object_set_new(addr, "port", json_integer(of->url_port ? of->url_port : 5051));
	json_t *url = json_object();
	pb__set_str(url, "scheme", of->url_scheme ? of->url_scheme : "http");
	json_object_set_new(url, "address", addr);
	pb__set_str(url, "path", of->url_path);
	json_object_set_new(o, "url", url);
	if (of->n_resources)
		json_object_set_new(
		        o, "resources",
		        pb_resources_to_json(of->resources, of->n_resources, res_flags));
	pb__set(o, "attributes", attributes_to_json(of->attributes, of->n_attributes));
	if (of->n_executor_ids) {
		json_t *a = json_array();
		for (size_t i = 0; i < of->n_executor_ids; i++)
			json_array_append_new(a, pb_id_to_json(of->executor_ids[i]));
		json_object_set_new(o, "executor_ids", a);
	}
	if ((res_flags & PB_RES_ALLOCATION_INFO) && of->allocation_role)
		json_object_set_new(o, "allocation_info",
		                    json_pack("{s:s}", "role", of->allocation_role));
	return o;
}

json_t *pb_task_to_json(const struct pb_task *t)
{
	json_t *o = json_object();
	pb__set_str(o, "name", t->name ? t->name : "");
	pb__set_id(o, "task_id", t->task_id ? t->task_id : "");
	pb__set_id(o, "framework_id", t->framework_id ? t->framework_id : "");
	pb__set_id(o, "executor_id", t->executor_id);
	pb__set_id(o, "agent_id", t->agent_id ? t->agent_id : "");
	const char *state = pb_task_state_name(t->state);
	pb__set_str(o, "state", state ? state : "TASK_UNKNOWN");
	if (t->n_resources)
		json_object_set_new(
		        o, "resources",
		        pb_resources_to_json(t->resources, t->n_resources, PB_RES_OPERATOR));
	if (t->n_statuses) {
		json_t *a = json_array();
		for (size_t i = 0; i < t->n_statuses; i++)
			json_array_append_new(a, pb_task_status_to_json(&t->statuses[i]));
		json_object_set_new(o, "statuses", a);
	}
	pb__set_str(o, "status_update_state", pb_task_state_name(t->status_update_state));
	pb__set_bytes(o, "status_update_uuid", t->status_update_uuid);
	/* The parts of the TaskInfo the operator view repeats, in Task's
	 * field order. */
	static const char *const copied[] = {"labels", "discovery", "container", "health_check",
	                                     "kill_policy"};
	for (size_t i = 0; i < AG_ARRAY_SIZE(copied); i++) {
		json_t *v = json_object_get(t->task_info, copied[i]);
		if (v)
			json_object_set_new(o, copied[i], json_deep_copy(v));
	}
	pb__set_str(o, "user", t->user);
	return o;
}
