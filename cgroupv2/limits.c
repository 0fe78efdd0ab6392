/* limits.c: writing resource limits into a cgroup. */
#include "cgroupv2/internal.h"

#include <inttypes.h>
#include <string.h>

/* Explain a write that failed because the file is missing: usually the
 * controller is not enabled for this cgroup, sometimes the kernel lacks the
 * feature (memory.swap.max without swap accounting, io.weight without
 * blk-iocost). */
static int write_enoent(int dirfd, const char *file, const char *value, const char *where,
                        struct ag_error *err)
{
	unsigned c = cg__controller_of_file(file), have = 0;
	/* The explanation replaces strerror(ENOENT), which would only
	 * mislead ("No such file" for a file the user did not ask to open). */
	if (c && cg__read_controllers(dirfd, "cgroup.controllers", &have) == 0 && !(have & c))
		ag_error_set(
		        err, 0,
		        "write `%s` = `%s` in %s: the %s controller is not enabled for this "
		        "cgroup (it is not in its cgroup.controllers: enable it in the parent's "
		        "cgroup.subtree_control, e.g. create the cgroup with it, and check the "
		        "host offers it)",
		        file, value, where, cg_controller_name(c));
	else
		ag_error_set(
		        err, 0,
		        "write `%s` = `%s` in %s: no such interface file (a misspelt key, or a "
		        "feature this kernel was built without)",
		        file, value, where);
	if (err)
		err->code = ENOENT;
	return -ENOENT;
}

static int write_limit(int dirfd, const char *file, const char *value, struct ag_error *err)
{
	int r = ag_write_file_at(dirfd, file, value, strlen(value));
	if (r == 0)
		return 0;
	char where[512];
	cg__fd_name(dirfd, where, sizeof(where));
	if (r == -ENOENT)
		return write_enoent(dirfd, file, value, where, err);
	return ag_error_set(err, r, "write `%s` = `%s` in %s", file, value, where);
}

static void fmt(char *buf, size_t size, uint64_t v)
{
	if (v == CG_MAX)
		snprintf(buf, size, "max");
	else
		snprintf(buf, size, "%" PRIu64, v);
}

static int write_u64(int dirfd, const char *file, uint64_t v, struct ag_error *err)
{
	char buf[32];
	fmt(buf, sizeof(buf), v);
	return write_limit(dirfd, file, buf, err);
}

/* Keys of the unified map that are not limits: they move or kill
 * processes, or reshape the tree, which is the launcher's job. */
static bool unified_key_ok(const char *key)
{
	static const char *const refused[] = {"cgroup.procs", "cgroup.threads", "cgroup.kill",
	                                      "cgroup.subtree_control", "cgroup.type"};
	if (!key || !*key || key[0] == '.' || strchr(key, '/'))
		return false;
	for (size_t i = 0; i < AG_ARRAY_SIZE(refused); i++)
		if (strcmp(key, refused[i]) == 0)
			return false;
	return true;
}

static int validate(const struct cg_limits *l, struct ag_error *err)
{
	if (l->has_cpu_weight && (l->cpu_weight < 1 || l->cpu_weight > 10000))
		return ag_error_set(err, 0, "cpu.weight %" PRIu64 " is out of range 1..10000",
		                    l->cpu_weight);
	if (l->has_io_weight && (l->io_weight < 1 || l->io_weight > 10000))
		return ag_error_set(err, 0, "io.weight %" PRIu64 " is out of range 1..10000",
		                    l->io_weight);
	if (l->has_cpu_max) {
		/* The kernel's bounds: period 1 ms..1 s, quota at least 1 ms. */
		if (l->cpu_max_period && (l->cpu_max_period < 1000 || l->cpu_max_period > 1000000))
			return ag_error_set(err, 0,
			                    "cpu.max period %" PRIu64
			                    " µs is out of range 1000..1000000",
			                    l->cpu_max_period);
		if (l->cpu_max_quota != CG_MAX && l->cpu_max_quota < 1000)
			return ag_error_set(err, 0, "cpu.max quota %" PRIu64 " µs is below 1000",
			                    l->cpu_max_quota);
	}
	for (size_t i = 0; i < l->n_unified; i++) {
		const struct cg_kv *kv = &l->unified[i];
		if (!unified_key_ok(kv->key))
			return ag_error_set(
			        err, 0,
			        "unified cgroup key `%s` is refused: a key is a file name "
			        "in the cgroup (no '/', no leading '.'), and cgroup.procs, "
			        "cgroup.threads, cgroup.kill, cgroup.subtree_control and "
			        "cgroup.type are not limits",
			        kv->key ? kv->key : "(null)");
		if (!kv->value)
			return ag_error_set(err, 0, "unified cgroup key `%s` has no value",
			                    kv->key);
	}
	return 0;
}

static int write_io_max(int dirfd, const struct cg_io_max *m, struct ag_error *err)
{
	static const char *const names[] = {"rbps", "wbps", "riops", "wiops"};
	const uint64_t vals[] = {m->rbps, m->wbps, m->riops, m->wiops};
	char buf[160];
	size_t off = (size_t)snprintf(buf, sizeof(buf), "%" PRIu32 ":%" PRIu32, m->major, m->minor);
	bool any = false;
	for (size_t i = 0; i < AG_ARRAY_SIZE(names); i++) {
		if (vals[i] == 0)
			continue;
		char v[32];
		fmt(v, sizeof(v), vals[i]);
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, " %s=%s", names[i], v);
		any = true;
	}
	return any ? write_limit(dirfd, "io.max", buf, err) : 0;
}

int cg_apply_limits(int dirfd, const struct cg_limits *l, struct ag_error *err)
{
	int r = validate(l, err);
	if (r < 0)
		return r;

	/* cpuset first: memory placement (cpuset.mems) should hold before the
	 * memory limits make the kernel reclaim. */
	if (l->cpuset_cpus && (r = write_limit(dirfd, "cpuset.cpus", l->cpuset_cpus, err)) < 0)
		return r;
	if (l->cpuset_mems && (r = write_limit(dirfd, "cpuset.mems", l->cpuset_mems, err)) < 0)
		return r;

	/* The guarantee and the throttle before the hard limit, as runc does;
	 * v2 does not require an order between them. */
	if (l->has_memory_low && (r = write_u64(dirfd, "memory.low", l->memory_low, err)) < 0)
		return r;
	if (l->has_memory_high && (r = write_u64(dirfd, "memory.high", l->memory_high, err)) < 0)
		return r;
	if (l->has_memory_max && (r = write_u64(dirfd, "memory.max", l->memory_max, err)) < 0)
		return r;
	if (l->has_memory_swap_max &&
	    (r = write_u64(dirfd, "memory.swap.max", l->memory_swap_max, err)) < 0)
		return r;

	if (l->has_cpu_weight && (r = write_u64(dirfd, "cpu.weight", l->cpu_weight, err)) < 0)
		return r;
	if (l->has_cpu_max) {
		char q[32], buf[64];
		fmt(q, sizeof(q), l->cpu_max_quota);
		/* "quota" alone keeps the current period. */
		if (l->cpu_max_period)
			snprintf(buf, sizeof(buf), "%s %" PRIu64, q, l->cpu_max_period);
		else
			snprintf(buf, sizeof(buf), "%s", q);
		if ((r = write_limit(dirfd, "cpu.max", buf, err)) < 0)
			return r;
	}

	if (l->has_pids_max && (r = write_u64(dirfd, "pids.max", l->pids_max, err)) < 0)
		return r;

	if (l->has_io_weight) {
		char buf[48];
		snprintf(buf, sizeof(buf), "default %" PRIu64, l->io_weight);
		r = ag_write_file_at(dirfd, "io.weight", buf, strlen(buf));
		/* io.weight comes with blk-iocost; kernels with BFQ but not
		 * iocost have io.bfq.weight only (range 1..1000 there). */
		if (r == -ENOENT) {
			char w[32];
			uint64_t bw = l->io_weight > 1000 ? 1000 : l->io_weight;
			snprintf(w, sizeof(w), "%" PRIu64, bw);
			if (ag_write_file_at(dirfd, "io.bfq.weight", w, strlen(w)) == 0)
				r = 0;
		}
		if (r < 0 && (r = write_limit(dirfd, "io.weight", buf, err)) < 0)
			return r;
	}
	for (size_t i = 0; i < l->n_io_max; i++)
		if ((r = write_io_max(dirfd, &l->io_max[i], err)) < 0)
			return r;

	for (size_t i = 0; i < l->n_unified; i++)
		if ((r = write_limit(dirfd, l->unified[i].key, l->unified[i].value, err)) < 0)
			return r;
	return 0;
}
