/* read.c: plain C views of normalized JSON. The normalizer already checked
 * every type, so these readers only look values up; strings point into the
 * tree, arrays are allocated in the arena. */
#include "proto/internal.h"

#include <math.h>
#include <string.h>

const char *pb__str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

const char *pb__id(const json_t *o, const char *key)
{
	return pb__str(json_object_get(o, key), "value");
}

bool pb__bool(const json_t *o, const char *key, bool dflt)
{
	json_t *v = json_object_get(o, key);
	return v ? json_is_true(v) : dflt;
}

int64_t pb__int(const json_t *o, const char *key, int64_t dflt)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

double pb__double(const json_t *o, const char *key, double dflt)
{
	json_t *v = json_object_get(o, key);
	return json_is_number(v) ? json_number_value(v) : dflt;
}

int pb__enum_of(const json_t *o, const char *key, const struct pb__enum *e)
{
	const char *s = pb__str(o, key);
	return s ? pb__enum_value(e, s) : 0;
}

size_t pb__len(const json_t *o, const char *key)
{
	return json_array_size(json_object_get(o, key));
}

struct pb_bytes pb__bytes(struct pb_arena *a, const json_t *o, const char *key)
{
	struct pb_bytes b = {NULL, 0};
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v))
		return b;
	_cleanup_free_ uint8_t *data = NULL;
	size_t len;
	if (pb_base64_decode(json_string_value(v), json_string_length(v), &data, &len) < 0)
		return b;
	uint8_t *copy = pb__alloc(a, len + 1);
	memcpy(copy, data, len);
	b.data = copy;
	b.len = len;
	return b;
}

const char *const *pb__strings(struct pb_arena *a, const json_t *o, const char *key, size_t *ret_n)
{
	json_t *arr = json_object_get(o, key);
	size_t n = json_array_size(arr);
	*ret_n = n;
	if (n == 0)
		return NULL;
	const char **v = pb__new_array(a, const char *, n);
	for (size_t i = 0; i < n; i++)
		v[i] = json_string_value(json_array_get(arr, i));
	return v;
}

const char *const *pb__ids(struct pb_arena *a, const json_t *o, const char *key, size_t *ret_n)
{
	json_t *arr = json_object_get(o, key);
	size_t n = json_array_size(arr);
	*ret_n = n;
	if (n == 0)
		return NULL;
	const char **v = pb__new_array(a, const char *, n);
	for (size_t i = 0; i < n; i++)
		v[i] = pb__str(json_array_get(arr, i), "value");
	return v;
}

static void read_ranges(struct pb_arena *a, const json_t *ranges, const struct pb_range **ret,
                        size_t *ret_n)
{
	json_t *arr = json_object_get(ranges, "range");
	size_t n = json_array_size(arr);
	*ret_n = n;
	*ret = NULL;
	if (n == 0)
		return;
	struct pb_range *v = pb__new_array(a, struct pb_range, n);
	for (size_t i = 0; i < n; i++) {
		json_t *r = json_array_get(arr, i);
		v[i].begin = (uint64_t)pb__int(r, "begin", 0);
		v[i].end = (uint64_t)pb__int(r, "end", 0);
	}
	*ret = v;
}

int64_t pb__scalar_milli(double scalar)
{
	/* Mesos keeps three decimals; round to the nearest thousandth and keep
	 * absurd values from overflowing. */
	if (!(fabs(scalar) < 9e15))
		scalar = scalar < 0 ? -9e15 : 9e15;
	return llround(scalar * 1000.0);
}

static void read_reservation(const json_t *j, struct pb_reservation *r)
{
	r->type = (enum pb_reservation_type)pb__enum_of(j, "type", &pb__e_reservation_type);
	r->role = pb__str(j, "role");
	r->principal = pb__str(j, "principal");
}

static void read_resource(struct pb_arena *a, const json_t *j, struct pb_resource *r)
{
	r->name = pb__str(j, "name");
	r->type = (enum pb_value_type)pb__enum_of(j, "type", &pb__e_value_type);
	r->scalar_milli = pb__scalar_milli(pb__double(json_object_get(j, "scalar"), "value", 0));
	read_ranges(a, json_object_get(j, "ranges"), &r->ranges, &r->n_ranges);
	r->items = pb__strings(a, json_object_get(j, "set"), "item", &r->n_items);
	r->role = pb__str(j, "role");
	r->allocation_role = pb__str(json_object_get(j, "allocation_info"), "role");
	json_t *res = json_object_get(j, "reservations");
	json_t *old = json_object_get(j, "reservation");
	size_t n = json_array_size(res);
	if (n > 0) {
		struct pb_reservation *v = pb__new_array(a, struct pb_reservation, n);
		for (size_t i = 0; i < n; i++)
			read_reservation(json_array_get(res, i), &v[i]);
		r->reservations = v;
		r->n_reservations = n;
	} else if (old) {
		/* The pre-refinement format: the role is in `role`, the
		 * reservation only adds a principal and labels. */
		struct pb_reservation *v = pb__new_array(a, struct pb_reservation, 1);
		read_reservation(old, v);
		if (!v->role)
			v->role = r->role;
		if (v->type == PB_RESERVATION_UNSET)
			v->type = PB_RESERVATION_DYNAMIC;
		r->reservations = v;
		r->n_reservations = 1;
	}
	r->revocable = json_object_get(j, "revocable") != NULL;
	r->shared = json_object_get(j, "shared") != NULL;
	r->disk = json_object_get(j, "disk");
}

void pb__read_resources(struct pb_arena *a, const json_t *arr, const struct pb_resource **ret,
                        size_t *ret_n)
{
	size_t n = json_array_size(arr);
	*ret_n = n;
	*ret = NULL;
	if (n == 0)
		return;
	struct pb_resource *v = pb__new_array(a, struct pb_resource, n);
	for (size_t i = 0; i < n; i++)
		read_resource(a, json_array_get(arr, i), &v[i]);
	*ret = v;
}

const char *pb_resource_reserved_role(const struct pb_resource *r)
{
	if (r->n_reservations > 0 && r->reservations[r->n_reservations - 1].role)
		return r->reservations[r->n_reservations - 1].role;
	if (r->role && strcmp(r->role, "*") != 0)
		return r->role;
	return NULL;
}

void pb__read_attributes(struct pb_arena *a, const json_t *arr, const struct pb_attribute **ret,
                         size_t *ret_n)
{
	size_t n = json_array_size(arr);
	*ret_n = n;
	*ret = NULL;
	if (n == 0)
		return;
	struct pb_attribute *v = pb__new_array(a, struct pb_attribute, n);
	for (size_t i = 0; i < n; i++) {
		json_t *j = json_array_get(arr, i);
		v[i].name = pb__str(j, "name");
		v[i].type = (enum pb_value_type)pb__enum_of(j, "type", &pb__e_value_type);
		v[i].scalar = pb__double(json_object_get(j, "scalar"), "value", 0);
		read_ranges(a, json_object_get(j, "ranges"), &v[i].ranges, &v[i].n_ranges);
		v[i].items = pb__strings(a, json_object_get(j, "set"), "item", &v[i].n_items);
		v[i].text = pb__str(json_object_get(j, "text"), "value");
	}
	*ret = v;
}

void pb__read_labels(struct pb_arena *a, const json_t *labels, const struct pb_label **ret,
                     size_t *ret_n)
{
	json_t *arr = json_object_get(labels, "labels");
	size_t n = json_array_size(arr);
	*ret_n = n;
	*ret = NULL;
	if (n == 0)
		return;
	struct pb_label *v = pb__new_array(a, struct pb_label, n);
	for (size_t i = 0; i < n; i++) {
		v[i].key = pb__str(json_array_get(arr, i), "key");
		v[i].value = pb__str(json_array_get(arr, i), "value");
	}
	*ret = v;
}

static const struct pb_command_info *read_command(struct pb_arena *a, const json_t *j)
{
	if (!j)
		return NULL;
	struct pb_command_info *c = pb__alloc(a, sizeof(*c));
	c->shell = pb__bool(j, "shell", true);
	c->value = pb__str(j, "value");
	c->arguments = pb__strings(a, j, "arguments", &c->n_arguments);
	c->user = pb__str(j, "user");
	json_t *vars = json_object_get(json_object_get(j, "environment"), "variables");
	c->n_env = json_array_size(vars);
	if (c->n_env) {
		struct pb_env_var *v = pb__new_array(a, struct pb_env_var, c->n_env);
		for (size_t i = 0; i < c->n_env; i++) {
			v[i].name = pb__str(json_array_get(vars, i), "name");
			v[i].value = pb__str(json_array_get(vars, i), "value");
			if (!v[i].value)
				v[i].value = "";
		}
		c->env = v;
	}
	json_t *uris = json_object_get(j, "uris");
	c->n_uris = json_array_size(uris);
	if (c->n_uris) {
		struct pb_uri *v = pb__new_array(a, struct pb_uri, c->n_uris);
		for (size_t i = 0; i < c->n_uris; i++) {
			json_t *u = json_array_get(uris, i);
			v[i].value = pb__str(u, "value");
			v[i].executable = pb__bool(u, "executable", false);
			v[i].extract = pb__bool(u, "extract", true);
			v[i].cache = pb__bool(u, "cache", false);
			v[i].output_file = pb__str(u, "output_file");
		}
		c->uris = v;
	}
	return c;
}

static const struct pb_container_info *read_container(struct pb_arena *a, const json_t *j)
{
	if (!j)
		return NULL;
	struct pb_container_info *c = pb__alloc(a, sizeof(*c));
	c->type = (enum pb_container_type)pb__enum_of(j, "type", &pb__e_container_type);
	c->hostname = pb__str(j, "hostname");
	json_t *image = json_object_get(json_object_get(j, "mesos"), "image");
	c->image_type = (enum pb_image_type)pb__enum_of(image, "type", &pb__e_image_type);
	c->image_name = pb__str(json_object_get(image, "docker"), "name");
	if (!c->image_name)
		c->image_name = pb__str(json_object_get(image, "appc"), "name");
	c->oci = json_object_get(j, "oci");
	c->json = j;
	return c;
}

void pb__read_task_info(struct pb_arena *a, const json_t *j, struct pb_task_info *t)
{
	memset(t, 0, sizeof(*t));
	t->name = pb__str(j, "name");
	t->task_id = pb__id(j, "task_id");
	t->agent_id = pb__id(j, "agent_id");
	pb__read_resources(a, json_object_get(j, "resources"), &t->resources, &t->n_resources);
	t->command = read_command(a, json_object_get(j, "command"));
	t->executor_id = pb__id(json_object_get(j, "executor"), "executor_id");
	t->container = read_container(a, json_object_get(j, "container"));
	json_t *hc = json_object_get(j, "health_check");
	t->has_health_check = hc != NULL;
	t->health_check_type =
	        (enum pb_health_check_type)pb__enum_of(hc, "type", &pb__e_health_check_type);
	json_t *grace = json_object_get(json_object_get(j, "kill_policy"), "grace_period");
	t->has_kill_grace = grace != NULL;
	t->kill_grace_ns = pb__int(grace, "nanoseconds", 0);
	t->data = pb__bytes(a, j, "data");
	pb__read_labels(a, json_object_get(j, "labels"), &t->labels, &t->n_labels);
	t->json = j;
}

void pb__read_task_status(struct pb_arena *a, const json_t *j, struct pb_task_status *s)
{
	memset(s, 0, sizeof(*s));
	s->task_id = pb__id(j, "task_id");
	s->state = (enum pb_task_state)pb__enum_of(j, "state", &pb__e_task_state);
	s->message = pb__str(j, "message");
	s->source = (enum pb_task_source)pb__enum_of(j, "source", &pb__e_source);
	s->reason = (enum pb_task_reason)pb__enum_of(j, "reason", &pb__e_reason);
	s->data = pb__bytes(a, j, "data");
	s->agent_id = pb__id(j, "agent_id");
	s->executor_id = pb__id(j, "executor_id");
	s->has_timestamp = json_object_get(j, "timestamp") != NULL;
	s->timestamp = pb__double(j, "timestamp", 0);
	s->uuid = pb__bytes(a, j, "uuid");
	s->has_healthy = json_object_get(j, "healthy") != NULL;
	s->healthy = pb__bool(j, "healthy", false);
	s->check_status = json_object_get(j, "check_status");
	json_t *ut = json_object_get(j, "unreachable_time");
	s->has_unreachable_time = ut != NULL;
	s->unreachable_time_ns = pb__int(ut, "nanoseconds", 0);
	json_t *cs = json_object_get(j, "container_status");
	s->container_status = cs;
	s->container_id = pb__id(cs, "container_id");
	s->executor_pid = (int32_t)pb__int(cs, "executor_pid", 0);
	pb__read_labels(a, json_object_get(j, "labels"), &s->labels, &s->n_labels);
}

void pb__read_framework_info(struct pb_arena *a, const json_t *j, struct pb_framework_info *f)
{
	memset(f, 0, sizeof(*f));
	f->user = pb__str(j, "user");
	f->name = pb__str(j, "name");
	f->id = pb__id(j, "id");
	if (f->id && !*f->id)
		f->id = NULL; /* an empty id asks for a new framework */
	f->failover_timeout = pb__double(j, "failover_timeout", 0);
	f->checkpoint = pb__bool(j, "checkpoint", false);
	f->role = pb__str(j, "role");
	f->roles = pb__strings(a, j, "roles", &f->n_roles);
	f->hostname = pb__str(j, "hostname");
	f->principal = pb__str(j, "principal");
	f->webui_url = pb__str(j, "webui_url");
	json_t *caps = json_object_get(j, "capabilities");
	for (size_t i = 0; i < json_array_size(caps); i++) {
		int c = pb__enum_of(json_array_get(caps, i), "type", &pb__e_fw_capability);
		if (c > 0)
			f->capabilities |= PB_CAP_BIT(c);
	}
	pb__read_labels(a, json_object_get(j, "labels"), &f->labels, &f->n_labels);
}

void pb__read_agent_info(struct pb_arena *a, const json_t *j, struct pb_agent_info *ai)
{
	memset(ai, 0, sizeof(*ai));
	ai->hostname = pb__str(j, "hostname");
	ai->port = (int32_t)pb__int(j, "port", 0);
	pb__read_resources(a, json_object_get(j, "resources"), &ai->resources, &ai->n_resources);
	pb__read_attributes(a, json_object_get(j, "attributes"), &ai->attributes,
	                    &ai->n_attributes);
	ai->id = pb__id(j, "id");
}

const struct pb_master_info *pb__read_master_info(struct pb_arena *a, const json_t *j)
{
	if (!j)
		return NULL;
	struct pb_master_info *m = pb__alloc(a, sizeof(*m));
	m->id = pb__str(j, "id");
	m->ip = (uint32_t)pb__int(j, "ip", 0);
	m->port = (int32_t)pb__int(j, "port", 0);
	m->pid = pb__str(j, "pid");
	m->hostname = pb__str(j, "hostname");
	m->version = pb__str(j, "version");
	m->address_ip = pb__str(json_object_get(j, "address"), "ip");
	return m;
}

void pb__read_offer(struct pb_arena *a, const json_t *j, struct pb_offer *o)
{
	memset(o, 0, sizeof(*o));
	o->id = pb__id(j, "id");
	o->framework_id = pb__id(j, "framework_id");
	o->agent_id = pb__id(j, "agent_id");
	o->hostname = pb__str(j, "hostname");
	json_t *url = json_object_get(j, "url");
	o->url_scheme = pb__str(url, "scheme");
	o->url_ip = pb__str(json_object_get(url, "address"), "ip");
	o->url_port = (int32_t)pb__int(json_object_get(url, "address"), "port", 0);
	o->url_path = pb__str(url, "path");
	pb__read_resources(a, json_object_get(j, "resources"), &o->resources, &o->n_resources);
	pb__read_attributes(a, json_object_get(j, "attributes"), &o->attributes, &o->n_attributes);
	o->executor_ids = pb__ids(a, j, "executor_ids", &o->n_executor_ids);
	o->allocation_role = pb__str(json_object_get(j, "allocation_info"), "role");
}

/* ---- standalone decoders ---- */

static int decode_with(struct pb_arena *a, const struct pb__msg *m, const json_t *j,
                       const char *what, json_t **ret, struct ag_error *err)
{
	json_t *norm;
	int r = pb__normalize(m, j, what, &norm, err);
	if (r < 0)
		return r;
	pb__keep(a, norm);
	json_decref(norm);
	*ret = norm;
	return 0;
}

int pb_task_info_decode(struct pb_arena *a, const json_t *j, const char *what,
                        struct pb_task_info *ret, struct ag_error *err)
{
	json_t *norm;
	int r = decode_with(a, &pb__m_task_info, j, what, &norm, err);
	if (r == 0)
		pb__read_task_info(a, norm, ret);
	return r;
}

int pb_task_status_decode(struct pb_arena *a, const json_t *j, const char *what,
                          struct pb_task_status *ret, struct ag_error *err)
{
	json_t *norm;
	int r = decode_with(a, &pb__m_task_status, j, what, &norm, err);
	if (r == 0)
		pb__read_task_status(a, norm, ret);
	return r;
}

int pb_framework_info_decode(struct pb_arena *a, const json_t *j, const char *what,
                             struct pb_framework_info *ret, struct ag_error *err)
{
	json_t *norm;
	int r = decode_with(a, &pb__m_framework_info, j, what, &norm, err);
	if (r == 0)
		pb__read_framework_info(a, norm, ret);
	return r;
}

double pb_filters_refuse_seconds(const struct pb_filters *f)
{
	const double max = 365.0 * 24 * 3600;
	if (!f || !f->has_refuse_seconds || isnan(f->refuse_seconds) || f->refuse_seconds < 0)
		return 5.0;
	return f->refuse_seconds > max ? max : f->refuse_seconds;
}
