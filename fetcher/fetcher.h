/* fetcher.h: Mesos's fetcher: the files of CommandInfo.uris put into a
 * task's sandbox before the task starts (docs/agent-daemon.md, "The
 * fetcher").
 *
 * A URI is http:// or https:// (libcurl: redirects followed up to a bound,
 * HTTP errors such as 404 are failures, a stall timeout, an overall timeout
 * and a size limit), file:// or an absolute path (read with the task user's
 * permissions, never the agent's), or a relative path resolved under the
 * agent's --frameworks_home (refused when it has none). Each is saved in
 * the sandbox as `output_file`, else as the last component of its path;
 * `executable` makes it executable; `extract` unpacks a .tar, .tar.gz,
 * .tgz, .tar.bz2, .tbz2, .tar.xz, .txz or .zip into the sandbox (libarchive),
 * refusing any entry that would land outside it (an absolute path, a `..`,
 * a symlink or hardlink leading out, a device node), naming the entry;
 * `cache` keeps the download in a cache directory keyed by the task's
 * user and the URI, bounded in bytes with least-recently-used eviction,
 * shared by every task of the agent; concurrent fetches of one entry
 * download once (a lock per entry).
 *
 * Everything fetched is owned by the task's user (fetch_own_tree, the one
 * place that decides it). The blocking fetch (fetch_all) runs in a child
 * process started by fetch_job_start: the caller's event loop only watches
 * a pidfd, so a slow download or a long extraction never blocks it, and a
 * crash in a decompressor takes down only the child.
 */
#ifndef AGORA_FETCHER_H
#define AGORA_FETCHER_H

#include "common/common.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define FETCH_DEFAULT_CACHE_SIZE    (2ULL << 30) /* Mesos's --fetcher_cache_size */
#define FETCH_DEFAULT_MAX_BYTES     (1ULL << 30)
#define FETCH_DEFAULT_STALL_MS      60000   /* Mesos's --fetcher_stall_timeout */
#define FETCH_DEFAULT_TIMEOUT_MS    3600000 /* a whole download */
#define FETCH_DEFAULT_MAX_REDIRECTS 10

/* One CommandInfo.URI. */
struct fetch_uri {
	const char *value;
	bool executable;
	bool extract;
	bool cache;
	const char *output_file; /* NULL: the last component of the URI's path */
};

struct fetch_config {
	const char *cache_dir;       /* NULL: `cache` is ignored (fetched directly) */
	uint64_t cache_size;         /* bytes the cache may hold; 0: the default */
	const char *frameworks_home; /* NULL: relative URIs are refused */
	int64_t stall_timeout_ms;    /* a download slower than 1 byte/s this long fails */
	int64_t timeout_ms;          /* a whole download; <= 0: the default */
	uint64_t max_bytes;          /* one download, and one archive's content; 0: default */
	int max_redirects;           /* <= 0: the default */
};

enum fetch_kind {
	FETCH_KIND_BAD,      /* empty, or a scheme not supported */
	FETCH_KIND_HTTP,     /* http:// or https:// */
	FETCH_KIND_FILE,     /* file:///abs or /abs */
	FETCH_KIND_RELATIVE, /* under --frameworks_home */
};

/* ---- pure (no I/O) ---- */

/* What kind of URI `value` is (NULL: FETCH_KIND_BAD). */
enum fetch_kind fetch_uri_kind(const char *value);

/* Check one URI before anything is fetched: `field` names it in errors
 * ("task.command.uris[0]"), as "FIELD.value: why" or "FIELD.output_file:
 * why". `frameworks_home` NULL refuses relative paths, naming the flag.
 * 0 or -EINVAL. */
AG_WARN_UNUSED int fetch_uri_check(const struct fetch_uri *u, const char *frameworks_home,
                                   const char *field, struct ag_error *err);

/* The name the URI is saved as in the sandbox (malloc'd): output_file,
 * else the last component of the URI's path (without its query or
 * fragment); NULL when there is none or it is not a safe relative name
 * (empty, absolute, with a `..` component, or empty components). */
char *fetch_output_name(const struct fetch_uri *u);

/* Whether `name` is an archive `extract` unpacks, by its suffix (as
 * Mesos decides). */
bool fetch_is_archive(const char *name);

/* The cache's name of the entry of (uid, uri): 16 hex digits (malloc'd).
 * Not collision-proof: the entry also records the whole key, compared on
 * every hit. */
char *fetch_cache_key(uid_t uid, const char *uri);

/* ---- blocking ---- */

/* Fetch `n` URIs into the directory `sandbox`, in order, then give the
 * fetched files to uid:gid (fetch_own_tree). Blocks for as long as the
 * downloads take and changes the process's file-system ids while it reads
 * local files: call it in a child process (fetch_job_start does). 0, or
 * -errno with `err` naming the URI and why ("`http://h/x`: HTTP status
 * 404"). */
AG_WARN_UNUSED int fetch_all(const struct fetch_config *cfg, const struct fetch_uri *uris, size_t n,
                             const char *sandbox, uid_t uid, gid_t gid, struct ag_error *err);

/* Give everything under `dir` (`dir` included; symlinks themselves, never
 * what they point to; no mount crossed) to uid:gid: what a task's user
 * needs to read, run and replace what was fetched for it. */
AG_WARN_UNUSED int fetch_own_tree(const char *dir, uid_t uid, gid_t gid, struct ag_error *err);

/* ---- in a child process ---- */

struct fetch_job;

/* Start fetch_all in a child process (it dies with its parent). The
 * strings are copied by the fork: the caller's may go. *ret is freed by
 * fetch_job_finish or fetch_job_abort. */
AG_WARN_UNUSED int fetch_job_start(const struct fetch_config *cfg, const struct fetch_uri *uris,
                                   size_t n, const char *sandbox, uid_t uid, gid_t gid,
                                   struct fetch_job **ret, struct ag_error *err);

/* A pidfd, readable once the child ended. */
int fetch_job_fd(const struct fetch_job *j);

/* After fetch_job_fd is readable: reap the child, free the job. 0, or
 * -errno with the child's message in `err`. */
AG_WARN_UNUSED int fetch_job_finish(struct fetch_job *j, struct ag_error *err);

/* Kill the child (SIGKILL), reap it, free the job. NULL is fine. */
void fetch_job_abort(struct fetch_job *j);

#endif
