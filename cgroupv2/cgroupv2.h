/* cgroupv2.h: agora's cgroup v2 library, for the launcher (agora-run) and
 * the agent.
 *
 * Every call works relative to directory fds: a root fd from cg_root_open()
 * (the cgroup2 mount, or any cgroup directory the caller was delegated) and
 * cgroup fds from cg_create()/cg_open(). Paths given by callers are checked
 * (no "..", no "." and no control characters in a component) and resolved
 * beneath the root fd without following symlinks, so a path that came from a
 * container spec cannot reach outside the cgroup tree.
 *
 * The v2 rules the API is shaped by (Documentation/admin-guide/cgroup-v2.rst):
 * - a controller is usable in a cgroup only if it is listed in that cgroup's
 *   `cgroup.controllers`, i.e. enabled in its parent's
 *   `cgroup.subtree_control`; enabling goes top-down;
 * - "no internal processes": a non-root cgroup that has controllers enabled
 *   for its children cannot hold processes itself, so processes live in
 *   leaves only and agora never puts any into an intermediate cgroup;
 * - on hybrid hosts (systemd's hybrid mode) cpu, memory, pids, io and
 *   cpuset are bound to v1 hierarchies and cannot be used from v2 at all.
 *
 * Functions return 0 or -errno. Those whose failures a user reads take a
 * `struct ag_error *err` (may be NULL). Output parameters (`ret_*`) are
 * written only on success unless their comment says otherwise. The library
 * never prints and never keeps global state.
 */
#ifndef AGORA_CGROUPV2_H
#define AGORA_CGROUPV2_H

#include "common/common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- controllers ------------------------------------------------------ */

/* Controllers agora uses, as a bit mask. The order is the order of names in
 * messages. */
enum cg_controller {
	CG_CPU = 1u << 0,
	CG_MEMORY = 1u << 1,
	CG_PIDS = 1u << 2,
	CG_IO = 1u << 3,
	CG_CPUSET = 1u << 4,
};
#define CG_CONTROLLERS_ALL (CG_CPU | CG_MEMORY | CG_PIDS | CG_IO | CG_CPUSET)

/* The v2 name of one controller bit ("cpu", "io", ...), or NULL. */
const char *cg_controller_name(unsigned controller);

/* Parse a space-separated controller list as found in `cgroup.controllers`
 * and `cgroup.subtree_control`. Names agora does not use (hugetlb, rdma,
 * misc) are ignored. Never fails. */
unsigned cg_controllers_parse(const char *list);

/* ---- discovery -------------------------------------------------------- */

/* Open the cgroup2 hierarchy: `mountpoint` (any directory on a cgroup2
 * filesystem; checked with fstatfs), or with NULL /sys/fs/cgroup when that
 * is cgroup2 (unified hosts) and else /sys/fs/cgroup/unified (hybrid
 * hosts). *ret_fd is O_PATH|O_DIRECTORY|O_CLOEXEC and owned by the caller.
 * Errors: -ENOENT/-ENOTDIR/-EACCES from open, -ENODEV when the directory is
 * not cgroup2. */
AG_WARN_UNUSED int cg_root_open(const char *mountpoint, int *ret_fd, struct ag_error *err);

/* Check that the controllers in `want` (CG_* mask) can be used by cgroups
 * created under `parent` (relative to rootfd; NULL or "" for rootfd itself;
 * when it does not exist yet, its deepest existing ancestor is checked, as
 * cg_create() would enable controllers from there down).
 *
 * Returns 0 when all are available, -EOPNOTSUPP when some are not, with a
 * message naming the missing ones and why: bound to cgroup v1 (hybrid host,
 * detected from /proc/cgroups or /proc/self/mountinfo), not delegated by an
 * ancestor, or not provided by the kernel. *ret_have_mask (may be NULL) is
 * written on success AND on -EOPNOTSUPP: it is the answer callers that run
 * without some limits need. */
AG_WARN_UNUSED int cg_check_controllers(int rootfd, const char *parent, unsigned want,
                                        unsigned *ret_have_mask, struct ag_error *err);

/* ---- hierarchy -------------------------------------------------------- */

/* Create the cgroup `path` (e.g. "agora/ctr-1"; a leading '/' means the same,
 * relative to rootfd) with every missing level (mode 0755), enabling the
 * `controllers` top-down in each ancestor's `cgroup.subtree_control`, from
 * rootfd's own down to the leaf's parent; controllers an ancestor does not
 * offer are skipped (use cg_check_controllers() to insist), controllers
 * already enabled are not written again. The leaf gets nothing enabled, so
 * processes can go into it.
 *
 * An existing leaf is fine (EEXIST is not an error). When an ancestor holds
 * processes the kernel refuses to enable controllers (EBUSY, "no internal
 * processes"); the message says so.
 *
 * *ret_dirfd (may be NULL) is an O_RDONLY|O_DIRECTORY|O_CLOEXEC fd of the
 * leaf, usable with clone3(CLONE_INTO_CGROUP) and every cg_* call taking a
 * dirfd; the caller closes it. */
AG_WARN_UNUSED int cg_create(int rootfd, const char *path, unsigned controllers, int *ret_dirfd,
                             struct ag_error *err);

/* Open the existing cgroup `path` (as for cg_create; "" or NULL: rootfd
 * itself) as O_RDONLY|O_DIRECTORY|O_CLOEXEC, caller closes. -ENOENT when it
 * does not exist, -EINVAL for a refused path. */
AG_WARN_UNUSED int cg_open(int rootfd, const char *path, int *ret_dirfd, struct ag_error *err);

enum cg_remove_flags {
	/* Also remove the ancestors named in `path` that are left empty
	 * (deepest first; never rootfd itself), stopping quietly at the first
	 * one still in use. To bound what may go, pass the fd of the subtree
	 * agora owns as rootfd (e.g. the fd of "agora" with path "ctr-1"). */
	CG_REMOVE_PARENTS = 1u << 0,
};

/* Remove the cgroup `path` and everything below it: kill the processes in
 * the subtree (cg_kill), wait up to `timeout_ms` (0: 5000) for
 * `cgroup.events` to say "populated 0", then rmdir the descendants
 * depth-first and the cgroup itself. A cgroup that does not exist is not an
 * error (removal is idempotent). -ETIMEDOUT when processes outlive the
 * timeout (e.g. stuck in uninterruptible sleep); then nothing is removed. */
AG_WARN_UNUSED int cg_remove(int rootfd, const char *path, unsigned flags, unsigned timeout_ms,
                             struct ag_error *err);

/* ---- processes -------------------------------------------------------- */

/* Move `pid` (0: the caller) into the cgroup by writing `cgroup.procs`.
 * Prefer clone3(CLONE_INTO_CGROUP) for new processes: it places the child
 * atomically and is ~10x cheaper. */
AG_WARN_UNUSED int cg_enter(int dirfd, pid_t pid);

/* The pids in this cgroup's own `cgroup.procs` (not its descendants'), in a
 * malloc'd array the caller frees; *ret_n may be 0 (then *ret is still a
 * valid pointer to free). */
AG_WARN_UNUSED int cg_procs(int dirfd, pid_t **ret, size_t *ret_n);

/* Whether the cgroup or any descendant has processes (`cgroup.events`). */
AG_WARN_UNUSED int cg_is_populated(int dirfd, bool *ret_populated);

/* SIGKILL every process in the cgroup and its descendants. Uses
 * `cgroup.kill` (5.14+), which the kernel makes race-free against forks;
 * before 5.14 it freezes the subtree (if `cgroup.freeze` exists, 5.2+) and
 * SIGKILLs every pid found in `cgroup.procs` until none is left (bounded).
 * Does not wait for the processes to be gone: see cg_wait_empty(). */
AG_WARN_UNUSED int cg_kill(int dirfd);

/* Wait until `cgroup.events` says "populated 0", at most timeout_ms
 * (0: 5000). The wait is a poll(2) on `cgroup.events`, which the kernel
 * signals on change, re-checked every 50 ms in case a wakeup is missed.
 * -ETIMEDOUT when still populated. */
AG_WARN_UNUSED int cg_wait_empty(int dirfd, unsigned timeout_ms);

/* Freeze (true) or thaw (false) the cgroup and its descendants through
 * `cgroup.freeze` (5.2+, -ENOENT before), then wait up to timeout_ms
 * (0: 5000) until `cgroup.events` reports "frozen" as asked. -ETIMEDOUT when
 * the state is not reached in time (the request stays in effect). */
AG_WARN_UNUSED int cg_freeze(int dirfd, bool frozen, unsigned timeout_ms);

/* ---- limits ----------------------------------------------------------- */

/* "max": no limit, in every uint64_t limit below. */
#define CG_MAX UINT64_MAX

/* One `io.max` line. A field 0 is left as it is (the kernel refuses 0 and 1
 * as limits anyway); CG_MAX removes that limit. */
struct cg_io_max {
	uint32_t major, minor;
	uint64_t rbps, wbps, riops, wiops;
};

/* A raw write: `key` is a file name in the cgroup directory (no '/', not
 * starting with '.'; the process-moving files cgroup.procs, cgroup.threads
 * and cgroup.kill are refused). */
struct cg_kv {
	const char *key;
	const char *value;
};

/* Limits to apply, in cgroup v2 terms (the runtime converts OCI values with
 * the helpers below). Only what is set is written: a has_ flag for numbers,
 * non-NULL for strings, n_ > 0 for arrays. Strings and arrays are borrowed. */
struct cg_limits {
	bool has_memory_max, has_memory_high, has_memory_low, has_memory_swap_max;
	uint64_t memory_max, memory_high, memory_low; /* bytes, or CG_MAX */
	uint64_t memory_swap_max; /* bytes of swap alone (not memory+swap), or CG_MAX */

	bool has_cpu_max, has_cpu_weight;
	uint64_t cpu_max_quota;  /* µs per period, or CG_MAX */
	uint64_t cpu_max_period; /* µs; 0: keep the current period */
	uint64_t cpu_weight;     /* 1..10000 */

	const char *cpuset_cpus, *cpuset_mems; /* e.g. "0-1", "0" */

	bool has_pids_max;
	uint64_t pids_max; /* or CG_MAX */

	bool has_io_weight;
	uint64_t io_weight; /* 1..10000, the "default" weight */
	const struct cg_io_max *io_max;
	size_t n_io_max;

	const struct cg_kv *unified; /* written last, in order */
	size_t n_unified;
};

/* Write the limits that are set into the cgroup `dirfd`, in the order
 * cpuset, memory, cpu, pids, io, unified. Stops at the first failure, whose
 * message names the file, the value and the cgroup, e.g.
 * "write `memory.max` = `1024` in /sys/fs/cgroup/agora/x: Device or resource
 * busy"; a file missing because its controller is not enabled for this
 * cgroup says so. Values out of range are refused before any write
 * (-EINVAL). */
AG_WARN_UNUSED int cg_apply_limits(int dirfd, const struct cg_limits *l, struct ag_error *err);

/* OCI (cgroup v1 scale) to v2 conversions; pure functions. */

/* cpu.shares 2..262144 to cpu.weight 1..10000, as crun and runc do:
 * 1 + ((shares - 2) * 9999) / 262142; out-of-range shares are clamped; 0
 * (unset) gives the kernel default, 100. */
uint64_t cg_cpu_weight_from_shares(uint64_t shares);

/* blkio.weight 10..1000 to io.weight 1..10000: 1 + (w - 10) * 9999 / 990;
 * clamped; 0 (unset) gives the kernel default, 100. */
uint64_t cg_io_weight_from_blkio(uint16_t weight);

/* Mesos' mapping of a cpu request to a weight: 100 x cpus, clamped to
 * 1..10000 (NaN and negatives give 1). */
uint64_t cg_cpu_weight_from_cpus(double cpus);

/* cpu.max quota for `cpus` cpus over `period` µs (0: 100000), at least
 * 1000 µs (the kernel's minimum quota); cpus <= 0 or NaN gives CG_MAX. */
uint64_t cg_cpu_max_from_cpus(double cpus, uint64_t period);

/* OCI's memory.swap is memory+swap; v2's memory.swap.max is swap alone.
 * `memsw` < 0 (-1: unlimited) gives CG_MAX; memsw 0 means unset and gives
 * -ENODATA; memsw < limit is -EINVAL; limit < 0 (unlimited memory) with a
 * finite memsw is -EINVAL, as runc refuses it. */
AG_WARN_UNUSED int cg_swap_max_from_memsw(int64_t limit, int64_t memsw, uint64_t *ret_swap_max);

/* ---- statistics ------------------------------------------------------- */

struct cg_stats {
	bool has_cpu; /* cpu.stat: usage (any v2 cgroup) */
	uint64_t cpu_usage_usec, cpu_user_usec, cpu_system_usec;
	bool has_cpu_throttling; /* cpu.stat: only with the cpu controller */
	uint64_t cpu_nr_periods, cpu_nr_throttled, cpu_throttled_usec;

	bool has_memory; /* memory.current, memory.events */
	uint64_t memory_current, memory_oom, memory_oom_kill;
	bool has_memory_peak; /* memory.peak: 5.19+ */
	uint64_t memory_peak;
	bool has_swap; /* memory.swap.current */
	uint64_t swap_current;

	bool has_pids;
	uint64_t pids_current, pids_max; /* pids_max may be CG_MAX */

	bool has_io; /* io.stat, summed over devices */
	uint64_t io_rbytes, io_wbytes;
};

/* Read what the cgroup offers into *ret (on success only). Files of controllers
 * that are not enabled are skipped, leaving their has_ flag false; only a
 * read or parse failure of a file that exists is an error. */
AG_WARN_UNUSED int cg_stats_read(int dirfd, struct cg_stats *ret);

#endif
