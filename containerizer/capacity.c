/* capacity.c: isolated capacity (capacity.h). */
#include "containerizer/capacity.h"
#include "cgroupv2/cgroupv2.h"

#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>

int ctz_cpuset_count(const char *list, unsigned *ret)
{
	unsigned n = 0;
	const char *p = list;
	while (*p == ' ')
		p++;
	while (*p && *p != '\n') {
		char *end;
		unsigned long a = strtoul(p, &end, 10), b;
		if (end == p)
			return -EINVAL;
		p = end;
		b = a;
		if (*p == '-') {
			b = strtoul(++p, &end, 10);
			if (end == p || b < a)
				return -EINVAL;
			p = end;
		}
		n += (unsigned)(b - a + 1);
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return -EINVAL;
	}
	*ret = n;
	return 0;
}

int ctz_cpu_max_cpus(const char *cpu_max, double *ret)
{
	char q[32];
	unsigned long long period = 0;
	if (sscanf(cpu_max, "%31s %llu", q, &period) != 2 || period == 0)
		return -EINVAL;
	if (strcmp(q, "max") == 0) {
		*ret = 0;
		return 0;
	}
	uint64_t quota;
	if (ag_parse_u64(q, &quota) < 0)
		return -EINVAL;
	*ret = (double)quota / (double)period;
	return 0;
}

uint64_t ctz_mem_reserve(uint64_t total)
{
	uint64_t r = total / 10;
	uint64_t floor = CTZ_GIB < total / 2 ? CTZ_GIB : total / 2;
	return r > floor ? r : floor;
}

int ctz_ports_parse(const char *range, uint32_t *ret_lo, uint32_t *ret_hi)
{
	unsigned long lo, hi;
	char tail;
	if (sscanf(range, "%lu-%lu%c", &lo, &hi, &tail) != 2 || lo < 1 || lo > hi || hi > 65535)
		return -EINVAL;
	*ret_lo = (uint32_t)lo;
	*ret_hi = (uint32_t)hi;
	return 0;
}

int ctz_capacity_override(struct ctz_capacity *r, const char *text, struct ag_error *err)
{
	_cleanup_free_ char *copy = ag_strdup(text);
	char *save = NULL;
	for (char *item = strtok_r(copy, ";", &save); item; item = strtok_r(NULL, ";", &save)) {
		char *colon = strchr(item, ':');
		if (!colon)
			return ag_error_msg(err, EINVAL, "--resources: `%s` is not NAME:VALUE",
			                    item);
		*colon = '\0';
		const char *v = colon + 1;
		char *end;
		if (strcmp(item, "ports") == 0) {
			_cleanup_free_ char *rng = ag_strdup(v[0] == '[' ? v + 1 : v);
			char *close_b = strchr(rng, ']');
			if (close_b)
				*close_b = '\0';
			if (ctz_ports_parse(rng, &r->port_lo, &r->port_hi) < 0)
				return ag_error_msg(err, EINVAL,
				                    "--resources: ports: want [LO-HI], got `%s`",
				                    v);
			continue;
		}
		double d = strtod(v, &end);
		if (end == v || *end || !isfinite(d) || d < 0)
			return ag_error_msg(err, EINVAL,
			                    "--resources: %s: want a non-negative number, got `%s`",
			                    item, v);
		if (strcmp(item, "cpus") == 0)
			r->cpus = d;
		else if (strcmp(item, "mem") == 0)
			r->mem_bytes = (uint64_t)(d * CTZ_MIB);
		else if (strcmp(item, "disk") == 0)
			r->disk_bytes = (uint64_t)(d * CTZ_MIB);
		else
			return ag_error_msg(err, EINVAL,
			                    "--resources: unknown resource `%s` (cpus, mem, disk, "
			                    "ports)",
			                    item);
	}
	return 0;
}

/* The agent's own cgroup path (relative to the cgroup2 root), malloc'd. */
static char *own_cgroup(void)
{
	char *buf = NULL;
	if (ag_read_file_at(AT_FDCWD, "/proc/self/cgroup", 1 << 16, &buf, NULL) < 0)
		return NULL;
	char *p = strstr(buf, "0::/");
	char *out = NULL;
	if (p && (p == buf || p[-1] == '\n')) {
		p += 4;
		out = strndup(p, strcspn(p, "\n"));
	}
	free(buf);
	return out;
}

static char *read_cg(int rootfd, const char *dir, const char *file)
{
	_cleanup_free_ char *path = *dir ? ag_asprintf("%s/%s", dir, file) : ag_strdup(file);
	char *v = NULL;
	if (ag_read_file_at(rootfd, path, 4096, &v, NULL) < 0)
		return NULL;
	return v;
}

/* From the agent's cgroup up to the root: the tightest cpu.max and
 * memory.max, and the cpuset of the agent's cgroup. */
static void cgroup_limits(int rootfd, const char *own, double *ret_cpus, uint64_t *ret_mem,
                          unsigned *ret_cpuset)
{
	_cleanup_free_ char *dir = ag_strdup(own);
	char *v = read_cg(rootfd, dir, "cpuset.cpus.effective");
	unsigned n;
	if (v && ctz_cpuset_count(v, &n) == 0 && n > 0)
		*ret_cpuset = n;
	free(v);
	for (;;) {
		if (*dir) {
			v = read_cg(rootfd, dir, "cpu.max");
			double c;
			if (v && ctz_cpu_max_cpus(v, &c) == 0 && c > 0 &&
			    (*ret_cpus == 0 || c < *ret_cpus))
				*ret_cpus = c;
			free(v);
			v = read_cg(rootfd, dir, "memory.max");
			uint64_t m;
			if (v && strncmp(v, "max", 3) != 0 && ag_parse_u64(v, &m) == 0 &&
			    (*ret_mem == 0 || m < *ret_mem))
				*ret_mem = m;
			free(v);
		}
		char *slash = strrchr(dir, '/');
		if (!*dir)
			break;
		if (slash)
			*slash = '\0';
		else
			dir[0] = '\0';
	}
}

int ctz_capacity_measure(const struct ctz_capacity_config *cfg, struct ctz_capacity *ret,
                         struct ag_error *err)
{
	struct ctz_capacity r = {.isolated = !cfg->no_isolation};
	int rootfd = -1;
	int k = cg_root_open(cfg->cgroup_root, &rootfd, NULL);
	if (!cfg->no_isolation) {
		if (k < 0)
			return ag_error_msg(
			        err, EOPNOTSUPP,
			        "no cgroup v2 hierarchy: tasks cannot be isolated (run with "
			        "--no-isolation to run them without limits)");
		struct ag_error cerr = {0};
		k = cg_check_controllers(rootfd, cfg->cgroup_parent, CG_CPU | CG_MEMORY | CG_PIDS,
		                         NULL, &cerr);
		if (k < 0) {
			close(rootfd);
			return ag_error_msg(
			        err, EOPNOTSUPP,
			        "%s; tasks cannot be isolated (run with --no-isolation to "
			        "run them without limits)",
			        cerr.msg);
		}
	} else {
		snprintf(r.note, sizeof(r.note),
		         "--no-isolation: no cgroup limits, tasks are not isolated");
	}

	unsigned cpuset = 0;
	double cpu_max = 0;
	uint64_t mem_max = 0;
	_cleanup_free_ char *own = own_cgroup();
	if (rootfd >= 0 && own)
		cgroup_limits(rootfd, own, &cpu_max, &mem_max, &cpuset);
	if (rootfd >= 0)
		close(rootfd);

	long online = sysconf(_SC_NPROCESSORS_ONLN);
	r.cpus = cpuset ? cpuset : (double)(online > 0 ? online : 1);
	if (cpu_max > 0 && cpu_max < r.cpus)
		r.cpus = cpu_max;

	struct sysinfo si;
	uint64_t total = sysinfo(&si) == 0 ? (uint64_t)si.totalram * si.mem_unit : 0;
	if (mem_max && mem_max < total)
		r.mem_bytes = mem_max > CTZ_AGENT_RESERVE ? mem_max - CTZ_AGENT_RESERVE : 0;
	else
		r.mem_bytes = total - ctz_mem_reserve(total);

	struct statvfs sv;
	if (cfg->work_dir && statvfs(cfg->work_dir, &sv) == 0)
		r.disk_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;

	if (ctz_ports_parse(cfg->ports ? cfg->ports : CTZ_DEFAULT_PORTS, &r.port_lo, &r.port_hi) <
	    0)
		return ag_error_msg(err, EINVAL, "--ports: want LO-HI, got `%s`", cfg->ports);
	if (cfg->resources) {
		k = ctz_capacity_override(&r, cfg->resources, err);
		if (k < 0)
			return k;
	}
	*ret = r;
	return 0;
}
