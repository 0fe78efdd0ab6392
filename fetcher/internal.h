/* internal.h: what the fetcher's files share. */
#ifndef AGORA_FETCHER_INTERNAL_H
#define AGORA_FETCHER_INTERNAL_H

#include "fetcher/fetcher.h"

/* The limits in force (the defaults filled in). */
struct fetch__limits {
	uint64_t max_bytes, cache_size;
	int64_t stall_ms, timeout_ms;
	int max_redirects;
};
void fetch__limits_of(const struct fetch_config *cfg, struct fetch__limits *ret);

/* Write the content of `u` (any kind but BAD) to `out_fd` from its start:
 * an HTTP download, or a local file read with uid:gid's permissions.
 * Errors name the URI. */
AG_WARN_UNUSED int fetch__get(const struct fetch_config *cfg, const struct fetch__limits *lim,
                              const struct fetch_uri *u, uid_t uid, gid_t gid, int out_fd,
                              struct ag_error *err);

/* The same through the cache: a hit copies the entry; a miss downloads
 * into the cache (evicting the least recently used entries to make room)
 * and copies it; a download larger than the whole cache is not kept. */
AG_WARN_UNUSED int fetch__get_cached(const struct fetch_config *cfg,
                                     const struct fetch__limits *lim, const struct fetch_uri *u,
                                     uid_t uid, gid_t gid, int out_fd, struct ag_error *err);

/* Copy all of `in_fd` (from its start) to `out_fd`. */
AG_WARN_UNUSED int fetch__copy_fd(int in_fd, int out_fd);

/* Unpack the archive `name` of the directory `dir_fd` into that
 * directory. Errors name the archive and the entry. */
AG_WARN_UNUSED int fetch__extract(int dir_fd, const char *name, const struct fetch__limits *lim,
                                  struct ag_error *err);

#endif
