/* capacity.h: what the agent can really isolate and guarantee.
 *
 *   cpus   min(cpuset.cpus.effective of its cgroup, the tightest cpu.max
 *          from its cgroup up to the root), else the online CPUs
 *   mem    the tightest memory.max from its cgroup up, minus what the
 *          agent and the monitors need (CAP_AGENT_RESERVE); without one,
 *          total memory minus the system's reserve (cap_mem_reserve)
 *   disk   free space of the work directory's file system
 *   ports  the range flag
 * `--resources` overrides any of them. */
#ifndef AGORA_AGENT_CAPACITY_H
#define AGORA_AGENT_CAPACITY_H

#include "common/common.h"

#include <stdbool.h>
#include <stdint.h>

#define CAP_GIB           (1024ull * 1024 * 1024)
#define CAP_MIB           (1024ull * 1024)
#define CAP_AGENT_RESERVE (64 * CAP_MIB)
#define CAP_DEFAULT_PORTS "31000-32000"

struct cap_config {
	const char *work_dir;
	const char *cgroup_root;   /* NULL: found */
	const char *cgroup_parent; /* where task cgroups go; checked for controllers */
	const char *ports;         /* "LO-HI", NULL: CAP_DEFAULT_PORTS */
	const char *resources;     /* Mesos text override "cpus:2;mem:1024;disk:..;ports:[a-b]" */
	bool no_isolation;         /* run without cgroup v2 limits */
};

struct cap_resources {
	double cpus;
	uint64_t mem_bytes;
	uint64_t disk_bytes;
	uint32_t port_lo, port_hi;
	bool isolated;  /* false: --no-isolation, limits are not enforced */
	char note[256]; /* why not isolated, or what was overridden */
};

/* "0-3,8,10-11" -> 7. -EINVAL on a malformed list. */
AG_WARN_UNUSED int cap_cpuset_count(const char *list, unsigned *ret);
/* cpu.max "QUOTA PERIOD" -> QUOTA/PERIOD cpus; "max ..." -> 0 (no limit). */
AG_WARN_UNUSED int cap_cpu_max_cpus(const char *cpu_max, double *ret);
/* The system's share of a machine without a memory limit: 10% of it, but
 * at least 1 GiB, yet never more than half (small machines and VMs). */
uint64_t cap_mem_reserve(uint64_t total);
/* "LO-HI" with 1 <= LO <= HI <= 65535. */
AG_WARN_UNUSED int cap_ports_parse(const char *range, uint32_t *ret_lo, uint32_t *ret_hi);
/* Apply a Mesos resources text (cpus, mem and disk in MB, ports ranges). */
AG_WARN_UNUSED int cap_override(struct cap_resources *r, const char *text, struct ag_error *err);

/* Measure. Refuses (-EOPNOTSUPP, with cg_check_controllers' message and
 * a hint) when cgroup v2 controllers are missing, unless no_isolation. */
AG_WARN_UNUSED int cap_measure(const struct cap_config *cfg, struct cap_resources *ret,
                               struct ag_error *err);

#endif
