/* convert.c: records between the wire's form (proto's structs and JSON)
 * and the allocator's: resources both ways, and the MasterInfo record. */
#include "master/master.h"

#include <inttypes.h>
#include <string.h>

static bool text_safe(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (strchr(";:,{}[]()\n\r\t ", *s))
			return false;
	return true;
}

int ms_resources_from_pb(struct ms_master *m, const struct pb_resource *r, size_t n,
                         struct drf_resources **ret, struct ag_error *err)
{
	/* The allocator speaks Mesos resource text; going through it keeps one
	 * parser for the rules (repeated names add up, one type per name). */
	char *text = ag_strdup("");
	for (size_t i = 0; i < n; i++) {
		const struct pb_resource *x = &r[i];
		const char *role = pb_resource_reserved_role(x);
		if (!text_safe(x->name) || (role && !text_safe(role))) {
			free(text);
			return ag_error_msg(err, EINVAL, "resources[%zu]: unsupported name or role",
			                    i);
		}
		char *val = NULL;
		if (x->type == PB_VALUE_SCALAR) {
			if (x->scalar_milli < 0) {
				free(text);
				return ag_error_msg(err, EINVAL,
				                    "resources[%zu] (%s): negative scalar", i,
				                    x->name);
			}
			val = ag_asprintf("%" PRId64 ".%03" PRId64, x->scalar_milli / 1000,
			                  x->scalar_milli % 1000);
		} else if (x->type == PB_VALUE_RANGES) {
			val = ag_strdup("[");
			for (size_t j = 0; j < x->n_ranges; j++) {
				if (x->ranges[j].begin > x->ranges[j].end) {
					free(val);
					free(text);
					return ag_error_msg(
					        err, EINVAL,
					        "resources[%zu] (%s): range begin > end", i,
					        x->name);
				}
				char *v2 =
				        ag_asprintf("%s%s%" PRIu64 "-%" PRIu64, val, j ? "," : "",
				                    x->ranges[j].begin, x->ranges[j].end);
				free(val);
				val = v2;
			}
			char *v2 = ag_asprintf("%s]", val);
			free(val);
			val = v2;
			if (x->n_ranges == 0) {
				free(val);
				continue;
			}
		} else if (x->type == PB_VALUE_SET) {
			val = ag_strdup("{");
			for (size_t j = 0; j < x->n_items; j++) {
				if (!text_safe(x->items[j])) {
					free(val);
					free(text);
					return ag_error_msg(
					        err, EINVAL,
					        "resources[%zu] (%s): unsupported set item", i,
					        x->name);
				}
				char *v2 = ag_asprintf("%s%s%s", val, j ? "," : "", x->items[j]);
				free(val);
				val = v2;
			}
			char *v2 = ag_asprintf("%s}", val);
			free(val);
			val = v2;
			if (x->n_items == 0) {
				free(val);
				continue;
			}
		} else {
			free(text);
			return ag_error_msg(err, EINVAL,
			                    "resources[%zu] (%s): type must be SCALAR, "
			                    "RANGES or SET",
			                    i, x->name);
		}
		char *t2 = ag_asprintf("%s%s%s%s%s%s:%s", text, *text ? ";" : "", x->name,
		                       role ? "(" : "", role ? role : "", role ? ")" : "", val);
		free(val);
		free(text);
		text = t2;
	}
	int rc = drf_resources_parse(m->alloc, text, ret);
	if (rc < 0)
		ag_error_msg(err, -rc, "resources `%s` cannot be used (a name with two types?)",
		             text);
	free(text);
	return rc;
}

int ms_resources_from_json(struct ms_master *m, const json_t *arr, struct drf_resources **ret,
                           struct ag_error *err)
{
	/* Decode through a TaskInfo shell: the resource table is the proto's. */
	struct pb_arena *a = pb_arena_new();
	json_t *res = arr ? json_incref((json_t *)arr) : json_array();
	json_t *shell = json_pack("{s:s, s:{s:s}, s:{s:s}, s:o}", "name", "x", "task_id", "value",
	                          "x", "agent_id", "value", "x", "resources", res);
	struct pb_task_info ti;
	int rc = pb_task_info_decode(a, shell, "resources", &ti, err);
	if (rc == 0)
		rc = ms_resources_from_pb(m, ti.resources, ti.n_resources, ret, err);
	json_decref(shell);
	pb_arena_free(a);
	return rc;
}

json_t *ms_resources_to_json(const struct drf_resources *r, unsigned flags, const char *alloc_role)
{
	size_t n = drf_resources_entries(r);
	struct pb_resource *pr = ag_calloc(n ? n : 1, sizeof(*pr));
	struct pb_reservation *rv = ag_calloc(n ? n : 1, sizeof(*rv));
	const char ***items = ag_calloc(n ? n : 1, sizeof(*items));
	struct pb_range **ranges = ag_calloc(n ? n : 1, sizeof(*ranges));
	for (size_t i = 0; i < n; i++) {
		struct drf_resource e;
		/* i < n: cannot fail; an empty entry is written if it did. */
		if (drf_resources_entry(r, i, &e) < 0)
			e = (struct drf_resource){.name = ""};
		pr[i].name = e.name;
		if (e.role) {
			rv[i].type = PB_RESERVATION_STATIC;
			rv[i].role = e.role;
			pr[i].reservations = &rv[i];
			pr[i].n_reservations = 1;
		}
		pr[i].allocation_role = alloc_role;
		switch (e.type) {
		case DRF_RESOURCE_SCALAR:
			pr[i].type = PB_VALUE_SCALAR;
			pr[i].scalar_milli = e.scalar_milli;
			break;
		case DRF_RESOURCE_RANGES:
			pr[i].type = PB_VALUE_RANGES;
			ranges[i] = ag_calloc(e.n_ranges ? e.n_ranges : 1, sizeof(**ranges));
			for (size_t j = 0; j < e.n_ranges; j++) {
				ranges[i][j].begin = e.ranges[j].begin;
				ranges[i][j].end = e.ranges[j].end;
			}
			pr[i].ranges = ranges[i];
			pr[i].n_ranges = e.n_ranges;
			break;
		case DRF_RESOURCE_SET:
			pr[i].type = PB_VALUE_SET;
			items[i] = ag_calloc(e.n_items ? e.n_items : 1, sizeof(char *));
			for (size_t j = 0; j < e.n_items; j++)
				items[i][j] = drf_resources_item(r, i, j);
			pr[i].items = items[i];
			pr[i].n_items = e.n_items;
			break;
		}
	}
	json_t *j = pb_resources_to_json(pr, n, flags);
	for (size_t i = 0; i < n; i++) {
		free(items[i]);
		free(ranges[i]);
	}
	free(items);
	free(ranges);
	free(rv);
	free(pr);
	return j;
}

unsigned ms_framework_res_flags(const struct ms_framework *fw)
{
	unsigned f = 0;
	if (fw->caps & PB_CAP_BIT(PB_CAP_RESERVATION_REFINEMENT))
		f |= PB_RES_REFINED;
	if (fw->caps & PB_CAP_BIT(PB_CAP_MULTI_ROLE))
		f |= PB_RES_ALLOCATION_INFO;
	return f;
}

json_t *ms_master_info_json(struct ms_master *m)
{
	uint32_t ip = 0;
	unsigned a, b, c, d;
	if (sscanf(m->flags.ip, "%u.%u.%u.%u", &a, &b, &c, &d) == 4)
		ip = a | b << 8 | c << 16 | d << 24;
	char *pid = ag_asprintf("master@%s:%u", m->flags.ip, ms_http_port(m->http));
	struct pb_master_info mi = {
	        .id = m->id,
	        .ip = ip,
	        .port = ms_http_port(m->http),
	        .pid = pid,
	        .hostname = m->flags.ip,
	        .version = AGORA_VERSION,
	        .address_ip = m->flags.ip,
	};
	json_t *j = pb_master_info_to_json(&mi);
	free(pid);
	return j;
}
