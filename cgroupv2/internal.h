/* internal.h: helpers shared by the cgroupv2 sources and their unit tests.
 * Not part of the public API. */
#ifndef AGORA_CGROUPV2_INTERNAL_H
#define AGORA_CGROUPV2_INTERNAL_H

#include "cgroupv2/cgroupv2.h"

/* Largest interface file we read; cgroup.procs of a big cgroup is the
 * biggest (about 8 bytes per pid). */
#define CG__FILE_MAX           (16u << 20)
#define CG__DEFAULT_TIMEOUT_MS 5000u

/* Find `key` in flat-keyed text ("key value\n" lines: cpu.stat,
 * memory.events, cgroup.events, cgroup.stat). A value "max" is CG_MAX.
 * -ENOENT when the key is absent, -EBADMSG when its value is not a number. */
AG_WARN_UNUSED int cg__parse_flat_keyed(const char *text, const char *key, uint64_t *ret);

/* Nested-keyed text ("MAJ:MIN key=value key=value\n": io.stat, io.max).
 * With `line` (e.g. "8:0") the value of `key` on that line; with NULL the
 * sum of `key` over all lines (saturating at CG_MAX; a "max" value counts as
 * CG_MAX). -ENOENT when no line has the key, -EBADMSG on a bad value. */
AG_WARN_UNUSED int cg__parse_nested_keyed(const char *text, const char *line, const char *key,
                                          uint64_t *ret);

/* A single-value file ("123\n" or "max\n"). */
AG_WARN_UNUSED int cg__parse_value(const char *text, uint64_t *ret);

/* pids in `cgroup.procs` text, malloc'd, caller frees. */
AG_WARN_UNUSED int cg__parse_pids(const char *text, pid_t **ret, size_t *ret_n);

/* Check a caller's cgroup path: components separated by '/', leading and
 * repeated slashes allowed; "." and ".." components, components longer than
 * NAME_MAX and control characters are refused (-EINVAL). With allow_empty,
 * "" and "/" (rootfd itself) are accepted. On success *ret_rel (may be NULL)
 * points into `path` past the leading slashes. */
AG_WARN_UNUSED int cg__path_check(const char *path, bool allow_empty, const char **ret_rel);

/* Open `rel` (already checked) beneath dirfd with `flags`, using openat2
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS|RESOLVE_NO_XDEV
 * where the kernel has it (5.6+), else one O_NOFOLLOW openat per component.
 * Returns the fd or -errno. */
AG_WARN_UNUSED int cg__open_beneath(int dirfd, const char *rel, int flags);

/* Best-effort printable name of the directory behind `fd` (from
 * /proc/self/fd), for messages; falls back to "cgroup fd N". */
void cg__fd_name(int fd, char *buf, size_t size);

/* Controllers of a cgroup: parsed `cgroup.controllers` or
 * `cgroup.subtree_control`. */
AG_WARN_UNUSED int cg__read_controllers(int dirfd, const char *file, unsigned *ret_mask);

/* Kill fallback for kernels without cgroup.kill (< 5.14); exposed so the
 * host tests can run it on newer kernels. */
AG_WARN_UNUSED int cg__kill_by_signal(int dirfd);

/* Wait until `cgroup.events` has `key` == want (bounded). */
AG_WARN_UNUSED int cg__wait_event(int dirfd, const char *key, uint64_t want, unsigned timeout_ms);

/* Controllers bound to cgroup v1 hierarchies, from the text of
 * /proc/cgroups (non-zero hierarchy id, enabled) or /proc/self/mountinfo
 * (fstype "cgroup" with the controller in its options); v1 calls io
 * "blkio". Both cut `text` up in place. */
unsigned cg__v1_from_proc_cgroups(char *text);
unsigned cg__v1_from_mountinfo(char *text);

/* The controller bit that owns an interface file ("memory.max" -> CG_MEMORY),
 * or 0 for core files and unknown prefixes. */
unsigned cg__controller_of_file(const char *file);

#endif
