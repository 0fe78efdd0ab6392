/* userns.h: root without danger (issue 15, item 1).
 *
 * A task whose user is root runs as uid 0 inside a user namespace of its
 * own whose ids 0..size-1 map to a range of unprivileged host ids that the
 * agent hands out from a pool (--userns_range FIRST-LAST, --userns_size):
 * one range per task, disjoint from every other task's, recorded in the
 * task's record (run/<cid>/userns) before its container is created,
 * released when the task ended and its container is gone, and rebuilt
 * from the records at recovery. The host's uid 0 stays behind
 * --policy_allow_root.
 *
 * The default pool, 1879048192-1946157055 (0x70000000-0x73FFFFFF): 1,024
 * ranges of 65,536 ids, above the ranges useradd gives /etc/subuid and
 * /etc/subgid (100000-600100000) and systemd-nspawn's container ranges
 * (524288-1879048191), below systemd's foreign range (0x7FFE0000) and
 * 2^31 (ids some tools read as negative). */
#ifndef AGORA_CONTAINERIZER_USERNS_H
#define AGORA_CONTAINERIZER_USERNS_H

#include "common/common.h"

#include <stdbool.h>
#include <stdint.h>

#define CTZ_USERNS_DEFAULT_FIRST 1879048192u /* 0x70000000 */
#define CTZ_USERNS_DEFAULT_LAST  1946157055u /* 0x73FFFFFF */
#define CTZ_USERNS_DEFAULT_SIZE  65536u
/* The lowest host id a pool may start at: 0-65535 are the host's own
 * users (root, system users, nobody). */
#define CTZ_USERNS_MIN_FIRST 65536u

/* The most ranges a pool may hold (root tasks at once on one agent). */
#define CTZ_USERNS_MAX_SLOTS 65536u

/* A pool of host ids; count 0: none (root tasks are refused unless
 * --policy_allow_root lets them be the host's root). */
struct ctz_userns_pool {
	uint32_t first; /* host id */
	uint32_t count; /* ids in the pool */
	uint32_t size;  /* ids per task */
};

/* --userns_range: "FIRST-LAST" (decimal host ids) or "none". On "none",
 * *ret_first = *ret_last = 0. Errors name the flag and say why. */
AG_WARN_UNUSED int ctz_userns_parse_range(const char *text, uint32_t *ret_first, uint32_t *ret_last,
                                          struct ag_error *err);

/* The pool of FIRST-LAST (0-0: none) with `size` ids per task: refused,
 * naming the flags, when it holds no whole range of `size` ids. */
AG_WARN_UNUSED int ctz_userns_pool_of(uint32_t first, uint32_t last, uint32_t size,
                                      struct ctz_userns_pool *ret, struct ag_error *err);

/* How many tasks' ranges the pool holds. */
uint32_t ctz_userns_slots(const struct ctz_userns_pool *p);

/* Is the pool clear of the host's users and groups (passwd and group
 * entries) and of the subordinate ranges of /etc/subuid and /etc/subgid?
 * A task whose ids another user holds could be signalled, traced or have
 * its files read by that user. -EEXIST naming the first overlap. */
AG_WARN_UNUSED int ctz_userns_pool_check_host(const struct ctz_userns_pool *p,
                                              const char *subuid_path, const char *subgid_path,
                                              struct ag_error *err);

/* Add a user namespace of its own to the OCI spec `json` (malloc'd,
 * replaced): linux.namespaces gets {"type": "user"} unless it has one
 * without a path, linux.uidMappings and gidMappings become
 * 0 -> host_id, `size` ids. */
AG_WARN_UNUSED int ctz_userns_apply(char **json, uint32_t host_id, uint32_t size,
                                    struct ag_error *err);

#endif
