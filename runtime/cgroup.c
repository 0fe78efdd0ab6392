/* cgroup.c: the container's cgroup, through cgroupv2/.
 *
 * One leaf per container, <parent>/<id> under the cgroup2 root (or
 * linux.cgroupsPath), with the controllers enabled top-down and the OCI
 * resources converted to v2 values. On a host where cpu, memory, pids and io
 * cannot be had from cgroup v2 (hybrid hosts), creation is refused with the
 * reason, unless cgroups are disabled altogether.
 */
#include "internal.h"
#include "cgroupv2/cgroupv2.h"

#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <string.h>

#define RT_CG_WANT (CG_CPU | CG_MEMORY | CG_PIDS | CG_IO)

int rt__cg_root(const struct rt_options *o, int *ret_fd)
{
	return cg_root_open(o->cgroup_root, ret_fd, NULL);
}

static int cgroup_path(const struct rt_options *o, const char *id, const struct rt_spec *spec,
                       char **ret)
{
	if (spec->cgroups_path) {
		const char *p = spec->cgroups_path;
		while (*p == '/')
			p++;
		if (!*p)
			return -EINVAL;
		*ret = ag_strdup(p);
		return 0;
	}
	const char *parent = o->cgroup_parent ? o->cgroup_parent : RT_DEFAULT_CGROUP_PARENT;
	*ret = ag_asprintf("%s/%s", parent, id);
	return 0;
}

static uint64_t mem_value(int64_t v)
{
	return v < 0 ? CG_MAX : (uint64_t)v;
}

static int limits_from_spec(const struct rt_resources *res, struct cg_limits *l,
                            struct cg_io_max **ret_io, struct cg_kv **ret_kv, struct ag_error *err)
{
	*l = (struct cg_limits){0};
	const struct rt_resources_memory *m = &res->memory;
	if (m->has_limit) {
		l->has_memory_max = true;
		l->memory_max = mem_value(m->limit);
	}
	if (m->has_reservation) {
		l->has_memory_low = true;
		l->memory_low = mem_value(m->reservation);
	}
	if (m->has_swap) {
		uint64_t swap = 0;
		int r = cg_swap_max_from_memsw(m->has_limit ? m->limit : -1, m->swap, &swap);
		if (r == -EINVAL)
			return ag_error_set(
			        err, 0,
			        "linux.resources.memory.swap: must be at least the memory "
			        "limit (it counts memory plus swap)");
		if (r == 0) {
			l->has_memory_swap_max = true;
			l->memory_swap_max = swap;
		}
	}
	const struct rt_resources_cpu *c = &res->cpu;
	if (c->has_quota || c->has_period) {
		l->has_cpu_max = true;
		l->cpu_max_quota = (!c->has_quota || c->quota < 0) ? CG_MAX : (uint64_t)c->quota;
		l->cpu_max_period = c->has_period ? c->period : 0;
	}
	if (c->has_shares) {
		l->has_cpu_weight = true;
		l->cpu_weight = cg_cpu_weight_from_shares(c->shares);
	}
	l->cpuset_cpus = c->cpus;
	l->cpuset_mems = c->mems;
	if (res->has_pids_limit) {
		l->has_pids_max = true;
		l->pids_max = res->pids_limit > 0 ? (uint64_t)res->pids_limit : CG_MAX;
	}
	if (res->has_blkio_weight) {
		l->has_io_weight = true;
		l->io_weight = cg_io_weight_from_blkio(res->blkio_weight);
	}
	if (res->n_throttles) {
		/* One io.max line per device, merging its four kinds. */
		struct cg_io_max *io = ag_calloc(res->n_throttles, sizeof(*io));
		size_t n = 0;
		for (size_t i = 0; i < res->n_throttles; i++) {
			const struct rt_throttle *t = &res->throttles[i];
			size_t k = 0;
			while (k < n && !(io[k].major == t->major && io[k].minor == t->minor))
				k++;
			if (k == n) {
				io[n].major = (uint32_t)t->major;
				io[n].minor = (uint32_t)t->minor;
				n++;
			}
			uint64_t rate = t->rate ? t->rate : CG_MAX;
			switch (t->kind) {
			case RT_THROTTLE_READ_BPS:
				io[k].rbps = rate;
				break;
			case RT_THROTTLE_WRITE_BPS:
				io[k].wbps = rate;
				break;
			case RT_THROTTLE_READ_IOPS:
				io[k].riops = rate;
				break;
			case RT_THROTTLE_WRITE_IOPS:
				io[k].wiops = rate;
				break;
			}
		}
		l->io_max = io;
		l->n_io_max = n;
		*ret_io = io;
	}
	if (res->n_unified) {
		struct cg_kv *kv = ag_calloc(res->n_unified, sizeof(*kv));
		for (size_t i = 0; i < res->n_unified; i++)
			kv[i] = (struct cg_kv){res->unified[i].key, res->unified[i].value};
		l->unified = kv;
		l->n_unified = res->n_unified;
		*ret_kv = kv;
	}
	return 0;
}

static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; (p = strstr(p, word)); p += n) {
		if ((p == list || p[-1] == ' ' || p[-1] == '\n') &&
		    (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
			return true;
	}
	return false;
}

/* hugetlb is enabled top-down for the leaf `path` (which exists), as
 * cg_create does for the controllers agora always uses. */
static int hugetlb_enable(int cg_rootfd, const char *path, struct ag_error *err)
{
	_cleanup_free_ char *dir = ag_strdup("");
	const char *p = path;
	for (;;) {
		_cleanup_free_ char *ctl =
		        ag_asprintf("%s%scgroup.controllers", dir, *dir ? "/" : "");
		_cleanup_free_ char *sub =
		        ag_asprintf("%s%scgroup.subtree_control", dir, *dir ? "/" : "");
		_cleanup_free_ char *have = NULL, *on = NULL;
		int r = ag_read_file_at(cg_rootfd, ctl, 4096, &have, NULL);
		if (r == 0)
			r = ag_read_file_at(cg_rootfd, sub, 4096, &on, NULL);
		if (r < 0)
			return ag_error_set(err, -r, "read the controllers of `/%s`", dir);
		if (!has_word(have, "hugetlb"))
			return ag_error_set(err, 0,
			                    "the hugetlb controller is not available in `/%s` "
			                    "(cgroup.controllers: %.*s)",
			                    dir, (int)strcspn(have, "\n"), have);
		if (!has_word(on, "hugetlb") &&
		    (r = ag_write_file_at(cg_rootfd, sub, "+hugetlb", 8)) < 0)
			return ag_error_set(err, -r, "enable hugetlb in `/%s`", dir);
		const char *slash = strchr(p, '/');
		if (!slash)
			return 0;
		free(dir);
		dir = ag_asprintf("%.*s", (int)(slash - path), path);
		p = slash + 1;
	}
}

/* The cpu fields cg_limits has no member for; the kernel's error names
 * the file, the message the field. */
static int cpu_extra_apply(int fd, const struct rt_resources_cpu *c, struct ag_error *err)
{
	char v[32];
	int r;
	if (c->has_burst) {
		int n = snprintf(v, sizeof(v), "%" PRIu64, c->burst);
		if ((r = ag_write_file_at(fd, "cpu.max.burst", v, (size_t)n)) < 0)
			return ag_error_set(
			        err, -r, "linux.resources.cpu.burst: write %s to cpu.max.burst%s",
			        v, r == -EINVAL ? " (it may not exceed the quota)" : "");
	}
	if (c->has_idle) {
		int n = snprintf(v, sizeof(v), "%" PRId64, c->idle);
		if ((r = ag_write_file_at(fd, "cpu.idle", v, (size_t)n)) < 0)
			return ag_error_set(err, -r,
			                    "linux.resources.cpu.idle: write %s to cpu.idle", v);
	}
	return 0;
}

static int hugepages_apply(int cg_rootfd, const char *path, int fd, const struct rt_resources *res,
                           struct ag_error *err)
{
	if (!res->n_hugepages)
		return 0;
	int r = hugetlb_enable(cg_rootfd, path, err);
	if (r < 0)
		return ag_error_wrap(err, "linux.resources.hugepageLimits");
	for (size_t i = 0; i < res->n_hugepages; i++) {
		const struct rt_hugepage_limit *h = &res->hugepages[i];
		_cleanup_free_ char *file = ag_asprintf("hugetlb.%s.max", h->page_size);
		char v[32];
		int n = snprintf(v, sizeof(v), "%" PRIu64, h->limit);
		r = ag_write_file_at(fd, file, v, (size_t)n);
		if (r == -ENOENT)
			return ag_error_set(err, 0,
			                    "linux.resources.hugepageLimits[%zu].pageSize: this "
			                    "kernel has no %s huge pages (no %s)",
			                    i, h->page_size, file);
		if (r < 0)
			return ag_error_set(err, -r,
			                    "linux.resources.hugepageLimits[%zu]: write %s to %s",
			                    i, v, file);
	}
	return 0;
}

int rt__cg_setup(const struct rt_options *o, int cg_rootfd, const char *id,
                 const struct rt_spec *spec, int *ret_fd, char **ret_path, struct ag_error *err)
{
	if (cg_rootfd < 0) {
		int fd = -1;
		if (cg_root_open(o->cgroup_root, &fd, err) == 0) {
			close(fd);
			return ag_error_set(err, EAGAIN,
			                    "the cgroup2 hierarchy appeared meanwhile");
		}
		return ag_error_wrap(err,
		                     "no cgroup v2 hierarchy (use --cgroup-manager=disabled to "
		                     "run without cgroups)");
	}
	_cleanup_free_ char *path = NULL;
	if (cgroup_path(o, id, spec, &path) < 0)
		return ag_error_set(err, 0, "linux.cgroupsPath: must name a cgroup, got `%s`",
		                    spec->cgroups_path);
	/* The parent of the leaf decides what the leaf can use. */
	_cleanup_free_ char *parent = ag_strdup(path);
	char *slash = strrchr(parent, '/');
	if (slash)
		*slash = '\0';
	else
		parent[0] = '\0';
	unsigned have = 0;
	int r = cg_check_controllers(cg_rootfd, parent, RT_CG_WANT, &have, err);
	if (r < 0)
		return ag_error_wrap(err, "refusing to create `%s` without resource limits", id);

	int fd = -1;
	r = cg_create(cg_rootfd, path, RT_CG_WANT | CG_CPUSET, &fd, err);
	if (r < 0)
		return ag_error_wrap(err, "cgroup of `%s`", id);
	/* Device rules hold before any process is in the cgroup: the init
	 * is cloned into it after this. Every container gets them, with or
	 * without linux.resources.devices (the defaults, the rest denied). */
	r = rt__devcg_apply(fd, spec, err);
	if (r < 0) {
		close(fd);
		AG_IGNORE_RESULT(cg_remove(cg_rootfd, path, 0, 0, NULL));
		return ag_error_wrap(err, "linux.resources.devices");
	}
	if (spec->has_resources) {
		struct cg_limits l;
		_cleanup_free_ struct cg_io_max *io = NULL;
		_cleanup_free_ struct cg_kv *kv = NULL;
		r = limits_from_spec(&spec->resources, &l, &io, &kv, err);
		if (r == 0)
			r = cg_apply_limits(fd, &l, err);
		if (r == 0)
			r = cpu_extra_apply(fd, &spec->resources.cpu, err);
		if (r == 0)
			r = hugepages_apply(cg_rootfd, path, fd, &spec->resources, err);
		if (r < 0) {
			close(fd);
			/* The limit's error is the one reported; an empty
			 * cgroup left behind is removed with the container. */
			AG_IGNORE_RESULT(cg_remove(cg_rootfd, path, 0, 0, NULL));
			return r;
		}
	}
	*ret_fd = fd;
	*ret_path = TAKE_PTR(path);
	return 0;
}

int rt__cg_check_disabled(const struct rt_spec *spec, struct ag_error *err)
{
	const struct rt_resources *res = &spec->resources;
	if (res->n_dev_rules)
		return ag_error_set(err, 0,
		                    "linux.resources.devices: device rules cannot be enforced "
		                    "with cgroups disabled (they need a cgroup v2 BPF device "
		                    "program); remove them or run with cgroups");
	if (res->n_hugepages)
		return ag_error_set(err, 0,
		                    "linux.resources.hugepageLimits: cannot be applied with "
		                    "cgroups disabled");
	return 0;
}

int rt__cg_destroy(int cg_rootfd, const char *path)
{
	if (cg_rootfd < 0)
		return 0;
	return cg_remove(cg_rootfd, path, 0, 0, NULL);
}

int rt__cg_open(int cg_rootfd, const char *path, int *ret_fd, struct ag_error *err)
{
	return cg_open(cg_rootfd, path, ret_fd, err);
}

int rt__cg_signal_all(int cg_rootfd, const char *path, int sig)
{
	_cleanup_close_ int fd = -1;
	int r = cg_open(cg_rootfd, path, &fd, NULL);
	if (r < 0)
		return r;
	if (sig == SIGKILL)
		return cg_kill(fd);
	pid_t *pids = NULL;
	size_t n = 0;
	r = cg_procs(fd, &pids, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		kill(pids[i], sig);
	free(pids);
	return 0;
}

int rt__cg_freeze(int cg_rootfd, const char *path, bool frozen, struct ag_error *err)
{
	_cleanup_close_ int fd = -1;
	int r = cg_open(cg_rootfd, path, &fd, err);
	if (r < 0)
		return r;
	r = cg_freeze(fd, frozen, 0);
	if (r < 0)
		return ag_error_set(err, -r, "%s the cgroup `%s`", frozen ? "freeze" : "thaw",
		                    path);
	return 0;
}

uint64_t rt__cg_oom_kills(int cg_rootfd, const char *path)
{
	/* One file, not all of cg_stats_read(): this runs after every `run`. */
	_cleanup_free_ char *file = ag_asprintf("%s/memory.events", path);
	_cleanup_free_ char *text = NULL;
	if (ag_read_file_at(cg_rootfd, file, 4096, &text, NULL) < 0)
		return 0;
	const char *p = strstr(text, "oom_kill ");
	return p ? strtoull(p + 9, NULL, 10) : 0;
}

int rt__cg_pids(int cg_rootfd, const char *path, pid_t **ret, size_t *ret_n)
{
	_cleanup_close_ int fd = -1;
	int r = cg_open(cg_rootfd, path, &fd, NULL);
	if (r < 0)
		return r;
	return cg_procs(fd, ret, ret_n);
}

int rt__cg_set_cpu_mem(int cg_rootfd, const char *path, double cpus, uint64_t mem_bytes,
                       struct ag_error *err)
{
	_cleanup_close_ int fd = -1;
	int r = cg_open(cg_rootfd, path, &fd, err);
	if (r < 0)
		return r;
	struct cg_limits l = {0};
	if (mem_bytes > 0) {
		l.has_memory_max = true;
		l.memory_max = mem_bytes;
	}
	if (cpus > 0) {
		l.has_cpu_max = l.has_cpu_weight = true;
		l.cpu_max_quota = cg_cpu_max_from_cpus(cpus, 0);
		l.cpu_max_period = 100000;
		l.cpu_weight = cg_cpu_weight_from_cpus(cpus);
	}
	return cg_apply_limits(fd, &l, err);
}

int rt__cg_stats_json(int cg_rootfd, const char *path, const char *id, char **ret_json,
                      struct ag_error *err)
{
	_cleanup_close_ int fd = -1;
	int r = cg_open(cg_rootfd, path, &fd, err);
	if (r < 0)
		return r;
	struct cg_stats s;
	r = cg_stats_read(fd, &s);
	if (r < 0)
		return ag_error_set(err, -r, "read the statistics of `%s`", path);
	json_t *j = json_pack("{s:s}", "id", id);
	if (s.has_cpu)
		json_object_set_new(j, "cpu",
		                    json_pack("{s:I, s:I, s:I}", "usage_usec",
		                              (json_int_t)s.cpu_usage_usec, "user_usec",
		                              (json_int_t)s.cpu_user_usec, "system_usec",
		                              (json_int_t)s.cpu_system_usec));
	if (s.has_cpu_throttling) {
		json_t *cpu = json_object_get(j, "cpu");
		if (cpu) {
			json_object_set_new(cpu, "nr_periods",
			                    json_integer((json_int_t)s.cpu_nr_periods));
			json_object_set_new(cpu, "nr_throttled",
			                    json_integer((json_int_t)s.cpu_nr_throttled));
			json_object_set_new(cpu, "throttled_usec",
			                    json_integer((json_int_t)s.cpu_throttled_usec));
		}
	}
	if (s.has_memory) {
		json_t *mem = json_pack("{s:I, s:I, s:I}", "current", (json_int_t)s.memory_current,
		                        "oom", (json_int_t)s.memory_oom, "oom_kill",
		                        (json_int_t)s.memory_oom_kill);
		if (s.has_memory_peak)
			json_object_set_new(mem, "peak", json_integer((json_int_t)s.memory_peak));
		if (s.has_swap)
			json_object_set_new(mem, "swap_current",
			                    json_integer((json_int_t)s.swap_current));
		json_object_set_new(j, "memory", mem);
	}
	if (s.has_pids) {
		json_t *p = json_pack("{s:I}", "current", (json_int_t)s.pids_current);
		if (s.pids_max != CG_MAX)
			json_object_set_new(p, "max", json_integer((json_int_t)s.pids_max));
		json_object_set_new(j, "pids", p);
	}
	if (s.has_io)
		json_object_set_new(j, "io",
		                    json_pack("{s:I, s:I}", "rbytes", (json_int_t)s.io_rbytes,
		                              "wbytes", (json_int_t)s.io_wbytes));
	*ret_json = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return *ret_json ? 0 : -ENOMEM;
}
