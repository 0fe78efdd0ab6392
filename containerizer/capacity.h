/* capacity.h: what the agent can really isolate and guarantee.
 *
 *   cpus   min(cpuset.cpus.effective of its cgroup, the tightest cpu.max
 *          from its cgroup up to the root), else the online CPUs
 *   mem    the tightest memory.max from its cgroup up, minus what the
 *          agent and the monitors need (CTZ_AGENT_RESERVE); without one,
 *          total memory minus the system's reserve (ctz_mem_reserve)
 *   disk   free space of the work directory's file system
 *   ports  the range flag
 * `--resources` overrides any of them. */
#ifndef AGORA_AGENT_CAPACITY_H
#define AGORA_AGENT_CAPACITY_H

#include "common/common.h"

#include <stdbool.h>
#include <stdint.h>

#define CTZ_GIB           (1024ull * 1024 * 1024)
#define CTZ_MIB           (1024ull * 1024)
#define CTZ_AGENT_RESERVE (64 * CTZ_MIB)
#define CTZ_DEFAULT_PORTS "31000-32000"

struct ctz_capacity_config {
	const char *work_dir;
	const char *cgroup_root;   /* NULL: found */
	const char *cgroup_parent; /* where task cgroups go; checked for controllers */
	const char *ports;         /* "LO-HI", NULL: CTZ_DEFAULT_PORTS */
	const char *resources;     /* Mesos text override "cpus:2;mem:1024;disk:..;ports:[a-b]" */
	bool no_isolation;         /* run without cgroup v2 limits */
};

struct ctz_capacity {
	double cpus;
	uint64_t mem_bytes;
	uint64_t disk_bytes;
	uint32_t port_lo, port_hi;
	bool isolated;  /* false: --no-isolation, limits are not enforced */
	char note[256]; /* why not isolated, or what was overridden */
};

/* "0-3,8,10-11" -> 7. -EINVAL on a malformed list. */
AG_WARN_UNUSED int ctz_cpuset_count(const char *list, unsigned *ret);
/* cpu.max "QUOTA PERIOD" -> QUOTA/PERIOD cpus; "max ..." -> 0 (no limit). */
AG_WARN_UNUSED int ctz_cpu_max_cpus(const char *cpu_max, double *ret);
/* The system's share of a machine without a memory limit: 10% of it, but
 * at least 1 GiB, yet never more than half (small machines and VMs). */
uint64_t ctz_mem_reserve(uint64_t total);
/* "LO-HI" with 1 <= LO <= HI <= 65535. */
AG_WARN_UNUSED int ctz_ports_parse(const char *range, uint32_t *ret_lo, uint32_t *ret_hi);
/* Apply a Mesos resources text (cpus, mem and disk in MB, ports ranges). */
AG_WARN_UNUSED int ctz_capacity_override(struct ctz_capacity *r, const char *text,
                                         struct ag_error *err);

/* Measure. Refuses (-EOPNOTSUPP, with cg_check_controllers' message and
 * a hint) when cgroup v2 controllers are missing, unless no_isolation. */
AG_WARN_UNUSED int ctz_capacity_measure(const struct ctz_capacity_config *cfg,
                                        struct ctz_capacity *ret, struct ag_error *err);

#endif
