/* spec_linux.c: the linux section of config.json: namespaces, id mappings,
 * resources, cgroupsPath, masked and read-only paths, sysctl. */
#include "runtime/spec_internal.h"

#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/stat.h>

/* ---- namespaces and id mappings --------------------------------------- */

static int parse_namespaces(struct rt__ctx *c, json_t *lx, struct rt_spec *s)
{
	json_t *arr = NULL;
	int r = rt__get_arr(c, lx, "namespaces", false, &arr);
	if (r <= 0)
		return r;
	size_t saved = rt__push_key(c, "namespaces");
	size_t i;
	json_t *e;
	json_array_foreach (arr, i, e) {
		size_t s2 = rt__push_index(c, i);
		_cleanup_free_ char *type = NULL;
		_cleanup_free_ char *path = NULL;
		int t = RT_NS_COUNT;
		if (!json_is_object(e))
			r = rt__fail(c, NULL, e, "must be an object");
		else
			r = rt__get_str(c, e, "type", true, &type);
		for (int k = 0; r >= 0 && k < RT_NS_COUNT; k++) {
			if (strcmp(type, rt_ns_type_name(k)) == 0)
				t = k;
		}
		if (r >= 0 && t == RT_NS_COUNT)
			r = rt__fail(
			        c, "type", NULL,
			        "unknown namespace type \"%s\" (pid, network, mount, ipc, uts, "
			        "user, cgroup)",
			        type);
		if (r >= 0 && s->ns[t].enabled)
			r = rt__fail(c, "type", NULL, "duplicate namespace type \"%s\"", type);
		if (r >= 0)
			r = rt__get_str(c, e, "path", false, &path);
		if (r > 0) {
			size_t s3 = rt__push_key(c, "path");
			r = rt__check_abs_path(c, json_object_get(e, "path"), path);
			rt__pop(c, s3);
		}
		if (r >= 0) {
			s->ns[t].enabled = true;
			s->ns[t].path = TAKE_PTR(path);
		}
		rt__pop(c, s2);
		if (r < 0)
			break;
	}
	rt__pop(c, saved);
	return r < 0 ? r : 1;
}

static int parse_mappings(struct rt__ctx *c, json_t *lx, const char *key,
                          struct rt_id_mapping **ret, size_t *ret_n)
{
	json_t *arr = NULL;
	int r = rt__get_arr(c, lx, key, false, &arr);
	if (r <= 0)
		return r;
	size_t n = json_array_size(arr);
	/* The kernel takes at most 340 lines in uid_map/gid_map (4.15+). */
	if (n > 340)
		return rt__fail(c, key, NULL, "at most 340 mappings are allowed, got %zu", n);
	*ret = ag_calloc(n ? n : 1, sizeof(**ret));
	size_t saved = rt__push_key(c, key);
	const char *what = "an integer between 0 and 4294967295";
	for (size_t i = 0; i < n && r >= 0; i++) {
		json_t *e = json_array_get(arr, i);
		size_t s2 = rt__push_index(c, i);
		int64_t cid = 0, hid = 0, size = 0;
		if (!json_is_object(e))
			r = rt__fail(c, NULL, e, "must be an object");
		if (r >= 0)
			r = rt__get_int(c, e, "containerID", true, 0, UINT32_MAX, what, &cid);
		if (r >= 0)
			r = rt__get_int(c, e, "hostID", true, 0, UINT32_MAX, what, &hid);
		if (r >= 0)
			r = rt__get_int(c, e, "size", true, 1, UINT32_MAX,
			                "an integer between 1 and 4294967295", &size);
		if (r >= 0 &&
		    (cid + size > (int64_t)UINT32_MAX + 1 || hid + size > (int64_t)UINT32_MAX + 1))
			r = rt__fail(c, "size", json_object_get(e, "size"),
			             "makes the range pass 4294967295");
		if (r >= 0) {
			(*ret)[i] = (struct rt_id_mapping){(uint32_t)cid, (uint32_t)hid,
			                                   (uint32_t)size};
			*ret_n = i + 1;
		}
		rt__pop(c, s2);
	}
	rt__pop(c, saved);
	return r < 0 ? r : 1;
}

/* ---- resources -------------------------------------------------------- */

/* "-1 or > 0": the OCI memory values, where 0 would mean "no memory".
 * Tools that treat them as uint64 write 2^64-1 (or another value of 2^63
 * and up) for "no limit": no machine has that much, and the kernel caps
 * memory.max at PAGE_COUNTER_MAX anyway, so they are kept as -1. */
static int get_mem(struct rt__ctx *c, json_t *o, const char *key, bool *has, int64_t *v)
{
	json_t *j = json_object_get(o, key);
	if (j && json_is_integer(j) && json_integer_value(j) == -1) {
		*v = -1;
		*has = true;
		return 1;
	}
	uint64_t u = 0;
	int r = rt__get_u64(c, o, key, false, 1, UINT64_MAX, "a positive integer", &u);
	if (r > 0) {
		*v = u > INT64_MAX ? -1 : (int64_t)u;
		*has = true;
	}
	return r;
}

/* A known key that cgroup v2 (or this runtime) cannot honour: refused,
 * never type-checked and dropped. */
static int refuse_key(struct rt__ctx *c, json_t *o, const char *key, const char *why)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	return rt__fail(c, key, v, "is not supported: %s", why);
}

/* A known boolean whose one value is what cgroup v2 does anyway. */
static int refuse_bool(struct rt__ctx *c, json_t *o, const char *key, bool ok_value,
                       const char *why)
{
	bool v = ok_value;
	int r = rt__get_bool(c, o, key, &v);
	if (r <= 0 || v == ok_value)
		return r;
	return rt__fail(c, key, json_object_get(o, key), "is not supported: %s", why);
}

static int refuse_memory(struct rt__ctx *c, json_t *o)
{
	int r;
	if ((r = refuse_key(c, o, "swappiness",
	                    "cgroup v2 has no per-cgroup swappiness (use "
	                    "memory.swap.max through \"swap\")")) < 0 ||
	    (r = refuse_key(c, o, "kernel",
	                    "cgroup v2 has no separate kernel memory limit (kernel "
	                    "memory counts in memory.max)")) < 0 ||
	    (r = refuse_key(c, o, "kernelTCP",
	                    "cgroup v2 has no separate TCP buffer limit (it counts in "
	                    "memory.max)")) < 0 ||
	    (r = refuse_bool(c, o, "disableOOMKiller", false,
	                     "cgroup v2 cannot disable the OOM killer of a cgroup")) < 0 ||
	    (r = refuse_bool(c, o, "useHierarchy", true, "cgroup v2 is always hierarchical")) < 0 ||
	    (r = refuse_bool(c, o, "checkBeforeUpdate", false,
	                     "it applies to updates, and agora-run has no update "
	                     "command")) < 0)
		return r;
	return 0;
}

static int parse_memory(struct rt__ctx *c, json_t *res, struct rt_resources_memory *m)
{
	json_t *o = NULL;
	int r = rt__get_obj(c, res, "memory", false, &o);
	if (r <= 0)
		return r;
	size_t saved = rt__push_key(c, "memory");
	int64_t ignored;
	if ((r = get_mem(c, o, "limit", &m->has_limit, &m->limit)) >= 0 &&
	    (r = get_mem(c, o, "reservation", &m->has_reservation, &m->reservation)) >= 0 &&
	    (r = get_mem(c, o, "swap", &m->has_swap, &m->swap)) >= 0 &&
	    (r = rt__get_int(c, o, "swappiness", false, 0, 100, "an integer between 0 and 100",
	                     &ignored)) >= 0 &&
	    (r = refuse_memory(c, o)) >= 0) {
		/* OCI swap is memory+swap, so it cannot be below the limit. */
		if (m->has_swap && m->has_limit && m->swap > 0 && m->limit > 0 &&
		    m->swap < m->limit)
			r = rt__fail(c, "swap", json_object_get(o, "swap"),
			             "must be at least memory.limit (%lld)", (long long)m->limit);
	}
	rt__pop(c, saved);
	return r;
}

/* A cpuset list: "0-3,5,7-8". Ids are capped so a typo cannot ask for a
 * bitmap of gigabytes when the launcher parses it. */
static bool cpulist_valid(const char *s)
{
	const char *p = s;
	for (;;) {
		char *end;
		if (*p < '0' || *p > '9')
			return false;
		unsigned long a = strtoul(p, &end, 10), b = a;
		p = end;
		if (*p == '-') {
			p++;
			if (*p < '0' || *p > '9')
				return false;
			b = strtoul(p, &end, 10);
			p = end;
		}
		if (a > b || b >= 65536)
			return false;
		if (*p == '\0')
			return true;
		if (*p != ',')
			return false;
		p++;
	}
}

static int get_cpulist(struct rt__ctx *c, json_t *o, const char *key, char **ret)
{
	int r = rt__get_str(c, o, key, false, ret);
	if (r <= 0)
		return r;
	/* "" is what runc and Docker write for "not set". */
	if ((*ret)[0] == '\0') {
		free(*ret);
		*ret = NULL;
		return 0;
	}
	if (!cpulist_valid(*ret))
		return rt__fail(c, key, json_object_get(o, key),
		                "must be a list of ids and ranges like \"0-3,5\"");
	return 1;
}

static int parse_cpu(struct rt__ctx *c, json_t *res, struct rt_resources_cpu *cpu)
{
	json_t *o = NULL;
	int r = rt__get_obj(c, res, "cpu", false, &o);
	if (r <= 0)
		return r;
	size_t saved = rt__push_key(c, "cpu");
	int64_t v = 0;
	r = rt__get_int(c, o, "quota", false, -1, INT64_MAX, "-1 or a positive integer", &v);
	if (r > 0 && v == 0)
		r = rt__fail(c, "quota", json_object_get(o, "quota"),
		             "must be -1 or a positive "
		             "integer");
	if (r > 0) {
		cpu->has_quota = true;
		cpu->quota = v;
	}
	if (r < 0)
		goto out;
	/* The kernel's bounds for cpu.max's period: 1 ms to 1 s. */
	r = rt__get_int(c, o, "period", false, 1000, 1000000,
	                "an integer between 1000 and 1000000 (microseconds)", &v);
	if (r < 0)
		goto out;
	if (r > 0) {
		cpu->has_period = true;
		cpu->period = (uint64_t)v;
	}
	r = rt__get_int(c, o, "shares", false, 2, 262144, "an integer between 2 and 262144", &v);
	if (r < 0)
		goto out;
	if (r > 0) {
		cpu->has_shares = true;
		cpu->shares = (uint64_t)v;
	}
	if ((r = get_cpulist(c, o, "cpus", &cpu->cpus)) < 0)
		goto out;
	if ((r = get_cpulist(c, o, "mems", &cpu->mems)) < 0)
		goto out;
	/* cpu.max.burst: at most the quota, which the kernel checks. */
	if ((r = rt__get_u64(c, o, "burst", false, 0, UINT32_MAX,
	                     "an integer between 0 and 4294967295 (microseconds)", &cpu->burst)) <
	    0)
		goto out;
	cpu->has_burst = r > 0;
	if ((r = rt__get_int(c, o, "idle", false, 0, 1, "0 or 1", &cpu->idle)) < 0)
		goto out;
	cpu->has_idle = r > 0;
	const char *rt = "cgroup v2 has no real-time bandwidth per cgroup";
	if ((r = refuse_key(c, o, "realtimeRuntime", rt)) < 0 ||
	    (r = refuse_key(c, o, "realtimePeriod", rt)) < 0)
		goto out;
	r = 0;
out:
	rt__pop(c, saved);
	return r;
}

static const char *const throttle_keys[] = {
        [RT_THROTTLE_READ_BPS] = "throttleReadBpsDevice",
        [RT_THROTTLE_WRITE_BPS] = "throttleWriteBpsDevice",
        [RT_THROTTLE_READ_IOPS] = "throttleReadIOPSDevice",
        [RT_THROTTLE_WRITE_IOPS] = "throttleWriteIOPSDevice",
};

static int parse_throttles(struct rt__ctx *c, json_t *bio, struct rt_resources *res)
{
	for (size_t k = 0; k < AG_ARRAY_SIZE(throttle_keys); k++) {
		json_t *arr = NULL;
		int r = rt__get_arr(c, bio, throttle_keys[k], false, &arr);
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		size_t n = json_array_size(arr);
		res->throttles = ag_realloc(res->throttles,
		                            (res->n_throttles + n + 1) * sizeof(*res->throttles));
		size_t saved = rt__push_key(c, throttle_keys[k]);
		for (size_t i = 0; i < n && r >= 0; i++) {
			json_t *e = json_array_get(arr, i);
			struct rt_throttle t = {.kind = (enum rt_throttle_kind)k};
			uint64_t rate = 0;
			size_t s2 = rt__push_index(c, i);
			const char *nn = "a non-negative integer";
			if (!json_is_object(e))
				r = rt__fail(c, NULL, e, "must be an object");
			if (r >= 0)
				r = rt__get_int(c, e, "major", true, 0, UINT32_MAX, nn, &t.major);
			if (r >= 0)
				r = rt__get_int(c, e, "minor", true, 0, UINT32_MAX, nn, &t.minor);
			if (r >= 0)
				r = rt__get_u64(c, e, "rate", true, 0, UINT64_MAX, nn, &rate);
			if (r >= 0) {
				t.rate = rate;
				res->throttles[res->n_throttles++] = t;
			}
			rt__pop(c, s2);
		}
		rt__pop(c, saved);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_blockio(struct rt__ctx *c, json_t *resj, struct rt_resources *res)
{
	json_t *o = NULL;
	int r = rt__get_obj(c, resj, "blockIO", false, &o);
	if (r <= 0)
		return r;
	size_t saved = rt__push_key(c, "blockIO");
	int64_t v = 0;
	r = rt__get_int(c, o, "weight", false, 10, 1000, "an integer between 10 and 1000", &v);
	if (r > 0) {
		res->has_blkio_weight = true;
		res->blkio_weight = (uint16_t)v;
	}
	if (r >= 0)
		r = parse_throttles(c, o, res);
	if (r >= 0)
		r = refuse_key(c, o, "leafWeight", "cgroup v2 has no leaf weight");
	if (r >= 0)
		r = refuse_key(c, o, "weightDevice", "agora-run does not set per-device weights");
	rt__pop(c, saved);
	return r;
}

/* A cgroup v2 file name: "memory.high", never a path that could climb out
 * of the container's cgroup directory. */
static int check_cgroup_file(struct rt__ctx *c, const json_t *v, const char *s)
{
	(void)v;
	if (s[0] == '\0' || strchr(s, '/') || strstr(s, "..") || !strchr(s, '.') || s[0] == '.')
		return rt__fail(c, NULL, NULL,
		                "must be a cgroup file name like \"memory.high\", got \"%s\"", s);
	return 0;
}

/* ---- resources.devices and hugepageLimits ---------------------------- */

/* More would make a BPF program past what is sensible to verify at every
 * container start; real configurations have a few dozen. */
#define RT_DEV_RULES_MAX 1024

static int parse_dev_rule(struct rt__ctx *c, json_t *e, struct rt_dev_rule *d)
{
	if (!json_is_object(e))
		return rt__fail(c, NULL, e, "must be an object");
	if (!json_object_get(e, "allow"))
		return rt__fail(c, "allow", NULL, "is required");
	int r = rt__get_bool(c, e, "allow", &d->allow);
	if (r < 0)
		return r;
	_cleanup_free_ char *type = NULL;
	if ((r = rt__get_str(c, e, "type", false, &type)) < 0)
		return r;
	d->type = 'a';
	if (type) {
		if (strcmp(type, "a") != 0 && strcmp(type, "b") != 0 && strcmp(type, "c") != 0)
			return rt__fail(c, "type", json_object_get(e, "type"),
			                "must be \"a\" (all), \"b\" or \"c\"");
		d->type = type[0];
	}
	/* null and -1 both mean "any", as in runc and crun. */
	static const struct {
		const char *key;
		int64_t max;
		const char *what;
	} nums[] = {
	        {"major", 4095, "-1 (any) or an integer between 0 and 4095"},
	        {"minor", 1048575, "-1 (any) or an integer between 0 and 1048575"},
	};
	for (size_t k = 0; k < AG_ARRAY_SIZE(nums); k++) {
		int64_t v = -1;
		json_t *j = json_object_get(e, nums[k].key);
		if (j && !json_is_null(j) &&
		    (r = rt__get_int(c, e, nums[k].key, false, -1, nums[k].max, nums[k].what, &v)) <
		            0)
			return r;
		*(k == 0 ? &d->major : &d->minor) = (int32_t)v;
	}
	_cleanup_free_ char *access = NULL;
	if ((r = rt__get_str(c, e, "access", false, &access)) < 0)
		return r;
	d->access = access ? 0 : RT_DEV_ACC_ALL;
	for (const char *p = access; p && *p; p++) {
		unsigned bit = *p == 'r'   ? RT_DEV_ACC_READ
		               : *p == 'w' ? RT_DEV_ACC_WRITE
		               : *p == 'm' ? RT_DEV_ACC_MKNOD
		                           : 0;
		if (!bit)
			return rt__fail(c, "access", json_object_get(e, "access"),
			                "must be made of r, w and m");
		d->access |= bit;
	}
	if (!d->access)
		return rt__fail(c, "access", json_object_get(e, "access"),
		                "must be made of r, w and m, not empty");
	return 0;
}

static int parse_dev_rules(struct rt__ctx *c, json_t *o, struct rt_resources *res)
{
	json_t *arr = NULL;
	int r = rt__get_arr(c, o, "devices", false, &arr);
	if (r <= 0)
		return r;
	size_t n = json_array_size(arr);
	if (n > RT_DEV_RULES_MAX)
		return rt__fail(c, "devices", NULL, "at most %d rules are allowed, got %zu",
		                RT_DEV_RULES_MAX, n);
	res->has_devices = true;
	res->dev_rules = ag_calloc(n ? n : 1, sizeof(*res->dev_rules));
	size_t saved = rt__push_key(c, "devices");
	for (size_t i = 0; i < n && r >= 0; i++) {
		size_t s2 = rt__push_index(c, i);
		r = parse_dev_rule(c, json_array_get(arr, i), &res->dev_rules[i]);
		if (r >= 0)
			res->n_dev_rules = i + 1;
		rt__pop(c, s2);
	}
	rt__pop(c, saved);
	return r < 0 ? r : 1;
}

/* A huge page size as the kernel names it in hugetlb.<size>.max: digits
 * and KB, MB or GB ("2MB", "1GB", "64KB"). */
static bool page_size_valid(const char *s)
{
	size_t d = strspn(s, "0123456789");
	return d > 0 && d <= 7 && s[0] != '0' &&
	       (strcmp(s + d, "KB") == 0 || strcmp(s + d, "MB") == 0 || strcmp(s + d, "GB") == 0);
}

static int parse_hugepages(struct rt__ctx *c, json_t *o, struct rt_resources *res)
{
	json_t *arr = NULL;
	int r = rt__get_arr(c, o, "hugepageLimits", false, &arr);
	if (r <= 0)
		return r;
	size_t n = json_array_size(arr);
	res->hugepages = ag_calloc(n ? n : 1, sizeof(*res->hugepages));
	size_t saved = rt__push_key(c, "hugepageLimits");
	for (size_t i = 0; i < n && r >= 0; i++) {
		size_t s2 = rt__push_index(c, i);
		json_t *e = json_array_get(arr, i);
		struct rt_hugepage_limit *h = &res->hugepages[i];
		if (!json_is_object(e))
			r = rt__fail(c, NULL, e, "must be an object");
		if (r >= 0)
			r = rt__get_str(c, e, "pageSize", true, &h->page_size);
		if (r >= 0)
			res->n_hugepages = i + 1;
		if (r >= 0 && !page_size_valid(h->page_size))
			r = rt__fail(c, "pageSize", json_object_get(e, "pageSize"),
			             "must be a huge page size like \"2MB\" or \"1GB\"");
		for (size_t k = 0; r >= 0 && k < i; k++) {
			if (strcmp(res->hugepages[k].page_size, h->page_size) == 0)
				r = rt__fail(c, "pageSize", json_object_get(e, "pageSize"),
				             "duplicate of hugepageLimits[%zu]", k);
		}
		if (r >= 0)
			r = rt__get_u64(c, e, "limit", true, 0, UINT64_MAX,
			                "a non-negative integer", &h->limit);
		rt__pop(c, s2);
	}
	rt__pop(c, saved);
	return r < 0 ? r : 1;
}

static int parse_resources(struct rt__ctx *c, json_t *lx, struct rt_spec *s)
{
	json_t *o = NULL;
	int r = rt__get_obj(c, lx, "resources", false, &o);
	if (r <= 0)
		return r;
	s->has_resources = true;
	struct rt_resources *res = &s->resources;
	size_t saved = rt__push_key(c, "resources");
	json_t *pids = NULL, *ignored = NULL;
	if ((r = parse_memory(c, o, &res->memory)) < 0 || (r = parse_cpu(c, o, &res->cpu)) < 0 ||
	    (r = rt__get_obj(c, o, "pids", false, &pids)) < 0)
		goto out;
	if (pids) {
		size_t s2 = rt__push_key(c, "pids");
		r = rt__get_int(c, pids, "limit", true, -1, INT64_MAX,
		                "-1, 0 (unlimited) or a positive integer", &res->pids_limit);
		rt__pop(c, s2);
		if (r < 0)
			goto out;
		res->has_pids_limit = true;
	}
	if ((r = parse_blockio(c, o, res)) < 0)
		goto out;
	r = rt__get_kv(c, o, "unified", check_cgroup_file, &res->unified, &res->n_unified);
	if (r < 0)
		goto out;
	if ((r = parse_dev_rules(c, o, res)) < 0 || (r = parse_hugepages(c, o, res)) < 0)
		goto out;
	if ((r = rt__get_obj(c, o, "network", false, &ignored)) < 0 ||
	    (r = refuse_key(c, o, "network",
	                    "net_cls and net_prio are cgroup v1 controllers; cgroup v2 has "
	                    "neither")) < 0 ||
	    (r = refuse_key(c, o, "rdma", "agora-run does not set rdma.max")) < 0)
		goto out;
	r = 0;
out:
	rt__pop(c, saved);
	return r;
}

void rt__resources_free(struct rt_resources *r)
{
	free(r->cpu.cpus);
	free(r->cpu.mems);
	free(r->throttles);
	rt__kv_free(r->unified, r->n_unified);
	free(r->dev_rules);
	for (size_t i = 0; r->hugepages && i < r->n_hugepages; i++)
		free(r->hugepages[i].page_size);
	free(r->hugepages);
}

/* ---- sysctl ----------------------------------------------------------- */

/* Only sysctls that live in a namespace the container owns may be set:
 * anything else would change the host (runc refuses them the same way). */
static int check_sysctl_key(struct rt__ctx *c, const json_t *v, const char *k)
{
	(void)v;
	if (k[0] == '\0' || strchr(k, '/') || strstr(k, "..") || k[0] == '.')
		return rt__fail(c, NULL, NULL,
		                "must be a sysctl name like \"net.ipv4.ip_forward\", got \"%s\"",
		                k);
	return 0;
}

static int check_sysctl_ns(struct rt__ctx *c, const struct rt_spec *s, const char *k)
{
	static const char *const ipc[] = {"kernel.msgmax", "kernel.msgmnb",         "kernel.msgmni",
	                                  "kernel.sem",    "kernel.shmall",         "kernel.shmmax",
	                                  "kernel.shmmni", "kernel.shm_rmid_forced"};
	int need = -1;
	if (strncmp(k, "net.", 4) == 0)
		need = RT_NS_NETWORK;
	else if (strncmp(k, "fs.mqueue.", 10) == 0)
		need = RT_NS_IPC;
	else if (strcmp(k, "kernel.hostname") == 0 || strcmp(k, "kernel.domainname") == 0)
		need = RT_NS_UTS;
	for (size_t i = 0; i < AG_ARRAY_SIZE(ipc); i++) {
		if (strcmp(k, ipc[i]) == 0)
			need = RT_NS_IPC;
	}
	size_t saved = rt__push_key(c, k);
	int r = 0;
	if (need < 0)
		r = rt__fail(c, NULL, NULL,
		             "not a namespaced sysctl; setting it would change the host");
	else if (!s->ns[need].enabled)
		r = rt__fail(c, NULL, NULL, "needs a \"%s\" namespace in linux.namespaces",
		             rt_ns_type_name(need));
	rt__pop(c, saved);
	return r;
}

static int parse_sysctl(struct rt__ctx *c, json_t *lx, struct rt_spec *s)
{
	int r = rt__get_kv(c, lx, "sysctl", check_sysctl_key, &s->sysctl, &s->n_sysctl);
	if (r <= 0)
		return r;
	size_t saved = rt__push_key(c, "sysctl");
	for (size_t i = 0; i < s->n_sysctl && r >= 0; i++)
		r = check_sysctl_ns(c, s, s->sysctl[i].key);
	rt__pop(c, saved);
	return r;
}

/* ---- devices ---------------------------------------------------------- */

void rt__devices_free(struct rt_device *d, size_t n)
{
	for (size_t i = 0; d && i < n; i++)
		free(d[i].path);
	free(d);
}

/* Device nodes may only be made under /dev: anywhere else in the rootfs
 * they would be a way around a read-only or nodev mount the user set up. */
static int check_dev_path(struct rt__ctx *c, json_t *e, struct rt_device *d)
{
	int r = rt__get_str(c, e, "path", true, &d->path);
	if (r < 0)
		return r;
	json_t *v = json_object_get(e, "path");
	size_t saved = rt__push_key(c, "path");
	r = rt__check_abs_path(c, v, d->path);
	if (r >= 0 &&
	    (strncmp(d->path, "/dev/", 5) != 0 || d->path[5 + strspn(d->path + 5, "/")] == '\0'))
		r = rt__fail(c, NULL, v, "must be a path under /dev/");
	rt__pop(c, saved);
	return r;
}

static int parse_device(struct rt__ctx *c, json_t *e, struct rt_device *d)
{
	if (!json_is_object(e))
		return rt__fail(c, NULL, e, "must be an object");
	int r = check_dev_path(c, e, d);
	if (r < 0)
		return r;
	_cleanup_free_ char *type = NULL;
	if ((r = rt__get_str(c, e, "type", true, &type)) < 0)
		return r;
	if (strcmp(type, "c") == 0 || strcmp(type, "u") == 0)
		d->type = S_IFCHR;
	else if (strcmp(type, "b") == 0)
		d->type = S_IFBLK;
	else if (strcmp(type, "p") == 0)
		d->type = S_IFIFO;
	else
		return rt__fail(c, "type", json_object_get(e, "type"),
		                "must be \"c\", \"u\", \"b\" or \"p\"");
	/* makedev() keeps 12 bits of major and 20 of minor. */
	int64_t v = 0;
	bool fifo = d->type == S_IFIFO;
	if ((r = rt__get_int(c, e, "major", !fifo, 0, 4095, "an integer between 0 and 4095", &v)) <
	    0)
		return r;
	d->major = (uint32_t)v;
	v = 0;
	if ((r = rt__get_int(c, e, "minor", !fifo, 0, 1048575, "an integer between 0 and 1048575",
	                     &v)) < 0)
		return r;
	d->minor = (uint32_t)v;
	v = 0666;
	/* Permission bits only: no setuid or sticky device nodes. */
	if ((r = rt__get_int(c, e, "fileMode", false, 0, 0777,
	                     "an integer between 0 and 511 (0777)", &v)) < 0)
		return r;
	d->mode = (uint32_t)v;
	const char *what = "an integer between 0 and 4294967294";
	v = 0;
	if ((r = rt__get_int(c, e, "uid", false, 0, UINT32_MAX - 1, what, &v)) < 0)
		return r;
	d->uid = (uint32_t)v;
	v = 0;
	if ((r = rt__get_int(c, e, "gid", false, 0, UINT32_MAX - 1, what, &v)) < 0)
		return r;
	d->gid = (uint32_t)v;
	return 0;
}

static int parse_devices(struct rt__ctx *c, json_t *lx, struct rt_spec *s)
{
	json_t *arr = NULL;
	int r = rt__get_arr(c, lx, "devices", false, &arr);
	if (r <= 0)
		return r;
	size_t n = json_array_size(arr);
	s->devices = ag_calloc(n ? n : 1, sizeof(*s->devices));
	size_t saved = rt__push_key(c, "devices");
	for (size_t i = 0; i < n && r >= 0; i++) {
		size_t s2 = rt__push_index(c, i);
		s->n_devices = i + 1;
		r = parse_device(c, json_array_get(arr, i), &s->devices[i]);
		for (size_t k = 0; r >= 0 && k < i; k++) {
			if (strcmp(s->devices[k].path, s->devices[i].path) == 0)
				r = rt__fail(c, "path",
				             json_object_get(json_array_get(arr, i), "path"),
				             "duplicate of linux.devices[%zu]", k);
		}
		rt__pop(c, s2);
	}
	rt__pop(c, saved);
	return r < 0 ? r : 1;
}

/* ---- rootfsPropagation and personality -------------------------------- */

static int parse_rootfs_propagation(struct rt__ctx *c, json_t *lx, struct rt_spec *s)
{
	static const struct {
		const char *name;
		unsigned long flags;
	} names[] = {
	        {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
	        {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
	        {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
	        {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
	};
	_cleanup_free_ char *v = NULL;
	int r = rt__get_str(c, lx, "rootfsPropagation", false, &v);
	if (r <= 0)
		return r;
	for (size_t i = 0; i < AG_ARRAY_SIZE(names); i++) {
		if (strcmp(v, names[i].name) == 0) {
			s->rootfs_propagation = names[i].flags;
			return 1;
		}
	}
	return rt__fail(c, "rootfsPropagation", json_object_get(lx, "rootfsPropagation"),
	                "must be one of shared, rshared, slave, rslave, private, rprivate, "
	                "unbindable, runbindable");
}

static int parse_personality(struct rt__ctx *c, json_t *lx, struct rt_spec *s)
{
	json_t *o = NULL;
	int r = rt__get_obj(c, lx, "personality", false, &o);
	if (r <= 0)
		return r;
	size_t saved = rt__push_key(c, "personality");
	_cleanup_free_ char *domain = NULL;
	r = rt__get_str(c, o, "domain", true, &domain);
	if (r >= 0) {
		if (strcmp(domain, "LINUX") == 0)
			s->personality.persona = PER_LINUX;
		else if (strcmp(domain, "LINUX32") == 0)
			s->personality.persona = PER_LINUX32;
		else
			r = rt__fail(c, "domain", json_object_get(o, "domain"),
			             "must be \"LINUX\" or \"LINUX32\"");
	}
	/* The flags of personality(2) a container may want; the spec lists
	 * none, runtimes take these names. */
	static const struct {
		const char *name;
		unsigned long flag;
	} flags[] = {
	        {"ADDR_NO_RANDOMIZE", ADDR_NO_RANDOMIZE},
	        {"ADDR_COMPAT_LAYOUT", ADDR_COMPAT_LAYOUT},
	        {"ADDR_LIMIT_32BIT", ADDR_LIMIT_32BIT},
	        {"ADDR_LIMIT_3GB", ADDR_LIMIT_3GB},
	        {"FDPIC_FUNCPTRS", FDPIC_FUNCPTRS},
	        {"MMAP_PAGE_ZERO", MMAP_PAGE_ZERO},
	        {"READ_IMPLIES_EXEC", READ_IMPLIES_EXEC},
	        {"SHORT_INODE", SHORT_INODE},
	        {"STICKY_TIMEOUTS", STICKY_TIMEOUTS},
	        {"UNAME26", UNAME26},
	        {"WHOLE_SECONDS", WHOLE_SECONDS},
	};
	char **names = NULL;
	size_t n = 0;
	if (r >= 0)
		r = rt__get_strv(c, o, "flags", false, NULL, &names, &n);
	for (size_t i = 0; r > 0 && i < n; i++) {
		size_t k;
		for (k = 0; k < AG_ARRAY_SIZE(flags); k++) {
			if (strcmp(names[i], flags[k].name) == 0)
				break;
		}
		if (k == AG_ARRAY_SIZE(flags)) {
			size_t s2 = rt__push_key(c, "flags");
			rt__push_index(c, i);
			r = rt__fail(c, NULL, json_array_get(json_object_get(o, "flags"), i),
			             "unknown personality flag");
			rt__pop(c, s2);
			break;
		}
		s->personality.persona |= flags[k].flag;
	}
	rt__strv_free(names);
	rt__pop(c, saved);
	if (r < 0)
		return r;
	s->personality.set = true;
	return 1;
}

/* ---- linux ------------------------------------------------------------ */

static int check_user_ns(struct rt__ctx *c, const struct rt_spec *s)
{
	bool maps = s->n_uid_mappings || s->n_gid_mappings;
	if (maps && !s->ns[RT_NS_USER].enabled)
		return rt__fail(c, s->n_uid_mappings ? "uidMappings" : "gidMappings", NULL,
		                "needs a \"user\" namespace in linux.namespaces");
	/* A new user namespace without maps runs everything as nobody and
	 * cannot set up its mounts; say so now rather than fail later. */
	if (s->ns[RT_NS_USER].enabled && !s->ns[RT_NS_USER].path &&
	    (!s->n_uid_mappings || !s->n_gid_mappings))
		return rt__fail(c, s->n_uid_mappings ? "gidMappings" : "uidMappings", NULL,
		                "are required with a new \"user\" namespace");
	return 0;
}

static int check_cgroups_path(struct rt__ctx *c, json_t *lx, struct rt_spec *s)
{
	int r = rt__get_str(c, lx, "cgroupsPath", false, &s->cgroups_path);
	if (r <= 0)
		return r;
	json_t *v = json_object_get(lx, "cgroupsPath");
	if (s->cgroups_path[0] == '\0')
		return rt__fail(c, "cgroupsPath", v, "must not be empty");
	if (rt__path_has_dotdot(s->cgroups_path))
		return rt__fail(c, "cgroupsPath", v, "must not contain a \"..\" component");
	return 0;
}

int rt__parse_linux(struct rt__ctx *c, json_t *lx, struct rt_spec *s)
{
	int r;
	json_t *obj = NULL;
	if ((r = parse_namespaces(c, lx, s)) < 0 ||
	    (r = parse_mappings(c, lx, "uidMappings", &s->uid_mappings, &s->n_uid_mappings)) < 0 ||
	    (r = parse_mappings(c, lx, "gidMappings", &s->gid_mappings, &s->n_gid_mappings)) < 0 ||
	    (r = check_user_ns(c, s)) < 0 || (r = parse_resources(c, lx, s)) < 0 ||
	    (r = check_cgroups_path(c, lx, s)) < 0)
		return r;
	if ((r = rt__get_obj(c, lx, "seccomp", false, &obj)) < 0)
		return r;
	if (r > 0) {
		size_t saved = rt__push_key(c, "seccomp");
		r = rt__parse_seccomp(c, obj, &s->seccomp);
		rt__pop(c, saved);
		if (r < 0)
			return r;
	}
	if ((r = rt__get_strv(c, lx, "maskedPaths", false, rt__check_abs_path, &s->masked_paths,
	                      &s->n_masked_paths)) < 0 ||
	    (r = rt__get_strv(c, lx, "readonlyPaths", false, rt__check_abs_path, &s->readonly_paths,
	                      &s->n_readonly_paths)) < 0 ||
	    (r = parse_sysctl(c, lx, s)) < 0)
		return r;
	if ((r = parse_devices(c, lx, s)) < 0 || (r = parse_rootfs_propagation(c, lx, s)) < 0 ||
	    (r = parse_personality(c, lx, s)) < 0)
		return r;
	/* Both act on the container's own mounts: without a mount namespace
	 * the nodes would be made in a tree the host shares, and there is no
	 * root of its own to set the propagation of. */
	if (!s->ns[RT_NS_MOUNT].enabled && (s->n_devices || s->rootfs_propagation))
		return rt__fail(c, s->n_devices ? "devices" : "rootfsPropagation", NULL,
		                "needs a \"mount\" namespace in linux.namespaces");
	/* Known keys this runtime does not act on: refused when they ask for
	 * something, never dropped. */
	if ((r = rt__refuse_label(c, lx, "mountLabel", "SELinux")) < 0 ||
	    (r = rt__get_obj(c, lx, "intelRdt", false, &obj)) < 0)
		return r;
	if (obj)
		return rt__fail(c, "intelRdt", obj,
		                "is not supported: agora-run has no Intel RDT (resctrl) support");
	return 0;
}
