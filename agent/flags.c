/* flags.c: Mesos-format flag values and the log level (flags.h); durations
 * are common/duration.c's. */
#include "agent/flags.h"

#include "common/flags.h"
#include "containerizer/containerizer.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int agent_flags_parse_log_level(const char *text, enum ag_log_level *ret, struct ag_error *err)
{
	if (ag_log_level_parse(text, ret) < 0)
		return ag_error_msg(err, EINVAL,
		                    "--log_level: `%s` is not one of debug, info, warning, error",
		                    text ? text : "");
	return 0;
}

/* A decimal number as a whole ("8", "-1.5", "2e3"): SCALAR, as Mesos's
 * numify<double> would have it (non-finite values are not numbers here). */
static bool scalar_of(const char *s, double *ret)
{
	if (!*s || isspace((unsigned char)*s))
		return false;
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1])))
		return false; /* no "inf", "nan", "0x.." */
	if (strspn(s, "0123456789+-.eE") != strlen(s))
		return false; /* strtod would read "0x10" too */
	char *end = NULL;
	errno = 0;
	double v = strtod(s, &end);
	if (*end || errno || !isfinite(v))
		return false;
	*ret = v;
	return true;
}

struct range {
	uint64_t b, e;
};

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return x->b < y->b ? -1 : x->b > y->b;
}

static bool u64_of(const char *s, size_t n, uint64_t *ret)
{
	if (n == 0 || n > 20)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*ret = v;
	return true;
}

/* "[a-b,c-d]" (brackets checked by the caller). */
static int ranges_of(const char *name, const char *v, json_t **ret, struct ag_error *err)
{
	size_t len = strlen(v);
	if (len < 2 || v[len - 1] != ']' || strchr(v + 1, '[') || strchr(v, ']') != v + len - 1)
		return ag_error_msg(err, EINVAL,
		                    "--attributes: `%s`: ranges are written [BEGIN-END,...], got "
		                    "`%s`",
		                    name, v);
	struct range *rs = NULL;
	size_t n = 0;
	const char *p = v + 1, *end = v + len - 1;
	int r = 0;
	while (p < end && r == 0) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		const char *dash = memchr(p, '-', (size_t)(stop - p));
		struct range x;
		if (stop == p) {
			p = stop + 1; /* an empty item, as Mesos's tokenizer skips it */
			continue;
		}
		if (!dash || !u64_of(p, (size_t)(dash - p), &x.b) ||
		    !u64_of(dash + 1, (size_t)(stop - dash - 1), &x.e))
			r = ag_error_msg(err, EINVAL,
			                 "--attributes: `%s`: `%.*s` is not a range BEGIN-END of "
			                 "non-negative integers",
			                 name, (int)(stop - p), p);
		else if (x.b > x.e)
			r = ag_error_msg(err, EINVAL,
			                 "--attributes: `%s`: range `%.*s` begins after its end",
			                 name, (int)(stop - p), p);
		else {
			rs = ag_realloc(rs, (n + 1) * sizeof(*rs));
			rs[n++] = x;
		}
		p = stop + 1;
	}
	if (r == 0 && n == 0)
		r = ag_error_msg(err, EINVAL, "--attributes: `%s`: expecting one or more ranges",
		                 name);
	if (r < 0) {
		free(rs);
		return r;
	}
	qsort(rs, n, sizeof(*rs), range_cmp);
	json_t *arr = json_array();
	struct range cur = rs[0];
	for (size_t i = 1; i <= n; i++) {
		if (i < n && (rs[i].b <= cur.e || rs[i].b - 1 == cur.e)) {
			if (rs[i].e > cur.e)
				cur.e = rs[i].e;
			continue;
		}
		json_array_append_new(arr, json_pack("{s:I, s:I}", "begin", (json_int_t)cur.b,
		                                     "end", (json_int_t)cur.e));
		if (i < n)
			cur = rs[i];
	}
	free(rs);
	*ret = json_pack("{s:o}", "range", arr);
	return 0;
}

/* One attribute; `value` has no spaces. */
static int attribute_of(const char *name, const char *value, json_t **ret, struct ag_error *err)
{
	int depth_sq = 0, depth_cu = 0, depth_par = 0;
	for (const char *p = value; *p; p++) {
		depth_sq += (*p == '[') - (*p == ']');
		depth_cu += (*p == '{') - (*p == '}');
		depth_par += (*p == '(') - (*p == ')');
		if (depth_sq < 0 || depth_cu < 0 || depth_par < 0)
			break;
	}
	if (depth_sq || depth_cu || depth_par)
		return ag_error_msg(err, EINVAL, "--attributes: `%s`: mismatched brackets in `%s`",
		                    name, value);
	const char *sq = strchr(value, '['), *cu = strchr(value, '{');
	double d;
	if (sq == value) {
		json_t *ranges = NULL;
		int r = ranges_of(name, value, &ranges, err);
		if (r < 0)
			return r;
		*ret = json_pack("{s:s, s:s, s:o}", "name", name, "type", "RANGES", "ranges",
		                 ranges);
	} else if (sq) {
		return ag_error_msg(err, EINVAL,
		                    "--attributes: `%s`: unexpected '[' in `%s` (ranges start with "
		                    "it)",
		                    name, value);
	} else if (cu == value) {
		size_t len = strlen(value);
		if (value[len - 1] != '}' || strchr(value + 1, '{') ||
		    strchr(value, '}') != value + len - 1)
			return ag_error_msg(
			        err, EINVAL,
			        "--attributes: `%s`: sets are written {a,b,...}, got `%s`", name,
			        value);
		json_t *items = json_array();
		_cleanup_free_ char *copy = ag_asprintf("%.*s", (int)(len - 2), value + 1);
		char *save = NULL;
		for (char *it = strtok_r(copy, ",", &save); it; it = strtok_r(NULL, ",", &save))
			json_array_append_new(items, json_string(it));
		*ret = json_pack("{s:s, s:s, s:{s:o}}", "name", name, "type", "SET", "set", "item",
		                 items);
	} else if (cu) {
		return ag_error_msg(
		        err, EINVAL,
		        "--attributes: `%s`: unexpected '{' in `%s` (sets start with it)", name,
		        value);
	} else if (scalar_of(value, &d)) {
		*ret = json_pack("{s:s, s:s, s:{s:f}}", "name", name, "type", "SCALAR", "scalar",
		                 "value", d);
	} else {
		*ret = json_pack("{s:s, s:s, s:{s:s}}", "name", name, "type", "TEXT", "text",
		                 "value", value);
	}
	if (!*ret)
		return ag_error_msg(err, EINVAL, "--attributes: `%s`: `%s` is not valid UTF-8",
		                    name, value);
	return 0;
}

int agent_flags_parse_attributes(const char *text, json_t **ret, struct ag_error *err)
{
	json_t *arr = json_array();
	_cleanup_free_ char *copy = ag_strdup(text ? text : "");
	char *save = NULL;
	size_t pos = 0;
	for (char *kv = strtok_r(copy, ";\n", &save); kv; kv = strtok_r(NULL, ";\n", &save)) {
		pos++;
		char *colon = strchr(kv, ':');
		if (!colon || colon == kv) {
			json_decref(arr);
			return ag_error_msg(err, EINVAL,
			                    "--attributes: item %zu `%s`: expected NAME:VALUE", pos,
			                    kv);
		}
		*colon = '\0';
		/* Mesos removes every space from the value before typing it. */
		char *w = colon + 1;
		for (char *r = colon + 1; *r; r++)
			if (*r != ' ')
				*w++ = *r;
		*w = '\0';
		if (!colon[1]) {
			json_decref(arr);
			return ag_error_msg(err, EINVAL, "--attributes: `%s`: the value is empty",
			                    kv);
		}
		json_t *a = NULL;
		int r = attribute_of(kv, colon + 1, &a, err);
		if (r < 0) {
			json_decref(arr);
			return r;
		}
		json_array_append_new(arr, a);
	}
	*ret = arr;
	return 0;
}

/* ---- the command line ---- */

static int parse_log_level(const struct ag_flag *fl, const char *v, void *field,
                           struct ag_error *err)
{
	(void)fl;
	return agent_flags_parse_log_level(v, field, err);
}

static int parse_attributes(const struct ag_flag *fl, const char *v, void *field,
                            struct ag_error *err)
{
	(void)fl;
	json_t **p = field, *a = NULL;
	int r = agent_flags_parse_attributes(v, &a, err);
	if (r < 0)
		return r;
	json_decref(*p); /* the last one counts */
	*p = a;
	return 0;
}

static int parse_pids_max(const struct ag_flag *fl, const char *v, void *field,
                          struct ag_error *err)
{
	int64_t n;
	if (ag_parse_i64(v, &n) < 0 || n < 1)
		return ag_error_msg(err, EINVAL, "--%s: a number of processes >= 1, got `%s`",
		                    fl->name, v);
	*(int64_t *)field = n;
	return 0;
}

static int parse_ms(const struct ag_flag *fl, const char *v, void *field, struct ag_error *err)
{
	int64_t n;
	if (ag_parse_i64(v, &n) < 0 || n < 0)
		return ag_error_msg(
		        err, EINVAL,
		        "--%s: a number of milliseconds >= 0 (0: the default), got `%s`", fl->name,
		        v);
	*(int64_t *)field = n;
	return 0;
}

static int parse_userns_range(const struct ag_flag *fl, const char *v, void *field,
                              struct ag_error *err)
{
	(void)fl;
	uint32_t *range = field;
	return ctz_userns_parse_range(v, &range[0], &range[1], err);
}

static int parse_userns_size(const struct ag_flag *fl, const char *v, void *field,
                             struct ag_error *err)
{
	int64_t n;
	if (ag_parse_i64(v, &n) < 0 || n < 1 || n > UINT32_MAX)
		return ag_error_msg(err, EINVAL,
		                    "--%s: a number of ids per task, 1 to 4294967295 (65536: "
		                    "the whole 16-bit range), got `%s`",
		                    fl->name, v);
	*(uint32_t *)field = (uint32_t)n;
	return 0;
}

#define OFF(field) offsetof(struct agent_flags, field)
#define STR(name, field, def, help)                                                                \
	{                                                                                          \
		name, AG_FLAG_STRING, OFF(field), def, help, AG_FLAG_EMPTY_OK, NULL                \
	}
#define ROLES(name, field, help) STR(name, field, "none", "roles (comma list, \"*\": all) " help)

static const struct ag_flag flags[] = {
        STR("master", master, NULL,
            "HOST:PORT, HOST:PORT,... (307s followed) or zk://HOST:PORT,.../PATH (required)"),
        STR("work_dir", work_dir, NULL, "database, records, sandboxes (required, absolute)"),
        STR("hostname", hostname, "uname", "reported hostname"),
        {"port", AG_FLAG_PORT, OFF(port), "0", "operator endpoints on IP:N (0: none)", 0, NULL},
        STR("ip", ip, "127.0.0.1", "operator endpoints' address"),
        STR("cgroup_parent", cgroup_parent, CTZ_DEFAULT_CGROUP_PARENT,
            "tasks' cgroups, below the cgroup2 root"),
        STR("resources", resources, "measured", "override: cpus:2;mem:1024;disk:..;ports:[a-b]"),
        {"attributes", AG_FLAG_CUSTOM, OFF(attributes), "none",
         "rack:r1;cores:8;ports:[1-9];tags:{a,b} (Mesos)", 0, parse_attributes},
        {"executor_shutdown_grace_period", AG_FLAG_DURATION, OFF(shutdown_grace_ns), "5secs",
         "a task's grace at a framework's shutdown without its own kill_policy", AG_FLAG_ZERO_OK,
         NULL},
        {"executor_registration_timeout", AG_FLAG_DURATION, OFF(executor_registration_timeout_ns),
         "1mins", "a new executor must SUBSCRIBE within this, else it is shut down", 0, NULL},
        {"executor_reregistration_timeout", AG_FLAG_DURATION,
         OFF(executor_reregistration_timeout_ns), "15secs",
         "after a restart, an executor must SUBSCRIBE again within this", 0, NULL},
        {"recovery_timeout", AG_FLAG_DURATION, OFF(recovery_timeout_ns), "15mins",
         "executors wait this long for a restarted agent (MESOS_RECOVERY_TIMEOUT)", 0, NULL},
        {"task_pids_max", AG_FLAG_CUSTOM, OFF(task_pids_max), "4096", "pids.max of every task", 0,
         parse_pids_max},
        STR("ports", ports, "31000-32000", "port range LO-HI"),
        STR("images_dir", images_dir, "<work_dir>/images", "rootfs images of OCI-like specs"),
        {"no_isolation", AG_FLAG_BOOL, OFF(no_isolation), NULL, "run without cgroup v2 limits", 0,
         NULL},
        {"no-isolation", AG_FLAG_BOOL, OFF(no_isolation), NULL, NULL, 0, NULL},
        {"sandbox_gc_delay", AG_FLAG_DURATION, OFF(sandbox_gc_delay_ns), "1weeks",
         "keep ended sandboxes this long", AG_FLAG_ZERO_OK, NULL},
        STR("policy_bind_paths", policy_bind_paths, "none", "host paths any role may bind (P,..)"),
        ROLES("policy_allow_host_mounts", policy_allow_host_mounts, "allowed any mount"),
        ROLES("policy_allow_capabilities", policy_allow_capabilities, "allowed any capability"),
        ROLES("policy_allow_unconfined", policy_allow_unconfined,
              "allowed their own seccomp profile"),
        ROLES("policy_allow_host_namespaces", policy_allow_host_namespaces,
              "allowed to join or keep host namespaces"),
        ROLES("policy_allow_root", policy_allow_root, "allowed the host's uid or gid 0"),
        ROLES("policy_allow_sysctls", policy_allow_sysctls, "allowed linux.sysctl"),
        ROLES("policy_allow_devices", policy_allow_devices, "allowed linux.devices"),
        ROLES("policy_allow_groups", policy_allow_groups, "allowed other host groups"),
        ROLES("policy_allow_rlimits", policy_allow_rlimits,
              "allowed rlimits above the agent's own"),
        ROLES("policy_allow_host_ids", policy_allow_host_ids,
              "allowed id maps reaching host users, subordinate ids or the pool"),
        {"userns_range", AG_FLAG_CUSTOM, OFF(userns_range), "1879048192-1946157055",
         "host ids for root tasks' user namespaces (FIRST-LAST, or none)", 0, parse_userns_range},
        {"userns_size", AG_FLAG_CUSTOM, OFF(userns_size), "65536",
         "host ids per root task (uid 0..N-1 inside)", 0, parse_userns_size},
        STR("frameworks_home", frameworks_home, "none",
            "directory of relative CommandInfo.uris (none: refused)"),
        {"fetcher_cache_size", AG_FLAG_BYTES, OFF(fetcher_cache_size), "2GiB",
         "bytes the fetcher's cache keeps (least recently used evicted)", 0, NULL},
        {"fetcher_max_size", AG_FLAG_BYTES, OFF(fetcher_max_size), "1GiB",
         "largest download, and archive content, the fetcher takes", 0, NULL},
        {"fetcher_stall_timeout", AG_FLAG_DURATION, OFF(fetcher_stall_timeout_ns), "1mins",
         "a download that stalls this long fails", 0, NULL},
        {"update_backoff_ms", AG_FLAG_CUSTOM, OFF(update_backoff_ms), "10000",
         "first status update retry", 0, parse_ms},
        {"registration_backoff_ms", AG_FLAG_CUSTOM, OFF(registration_backoff_ms), "1000",
         "first re-registration delay", 0, parse_ms},
        {"log_level", AG_FLAG_CUSTOM, OFF(log_level), "info", "debug, info, warning or error", 0,
         parse_log_level},
};

void agent_flags_init(struct agent_flags *f)
{
	*f = (struct agent_flags){
	        .shutdown_grace_ns = AGENT_FLAGS_UNSET,
	        .log_level = AG_LOG_INFO,
	        .userns_range = {CTZ_USERNS_DEFAULT_FIRST, CTZ_USERNS_DEFAULT_LAST},
	        .userns_size = CTZ_USERNS_DEFAULT_SIZE,
	};
	f->userns = (struct ctz_userns_pool){
	        .first = CTZ_USERNS_DEFAULT_FIRST,
	        .count = CTZ_USERNS_DEFAULT_LAST - CTZ_USERNS_DEFAULT_FIRST + 1,
	        .size = CTZ_USERNS_DEFAULT_SIZE,
	};
}

void agent_flags_free(struct agent_flags *f)
{
	ag_flags_free(flags, AG_ARRAY_SIZE(flags), f);
	json_decref(f->attributes);
	f->attributes = NULL;
}

int agent_flags_parse(struct agent_flags *f, int argc, char **argv, struct ag_error *err)
{
	int r = ag_flags_parse(flags, AG_ARRAY_SIZE(flags), f, argc, argv, &f->help, err);
	if (r < 0 || f->help)
		return r;
	return ctz_userns_pool_of(f->userns_range[0], f->userns_range[1], f->userns_size,
	                          &f->userns, err);
}

void agent_flags_usage(FILE *out)
{
	fputs("usage: agora-agent --master HOST:PORT --work_dir DIR [options]\n\n", out);
	ag_flags_usage(out, flags, AG_ARRAY_SIZE(flags));
}
