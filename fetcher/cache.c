/* cache.c: the fetcher's cache, one directory shared by every fetch of
 * the agent (each in its own process):
 *   KEY        the content (KEY = fetch_cache_key(uid, uri))
 *   KEY.uri    "uid\nuri": compared on every hit (the key is a hash)
 *   KEY.lock   flock'ed by whoever reads or fills the entry
 *   KEY.part   a download in progress
 *   .evict     flock'ed while entries are evicted
 * An entry's mtime is its last use: eviction removes the least recently
 * used entries nobody holds until the new one fits. */
#include "fetcher/internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct victim {
	char name[32];
	uint64_t size;
	struct timespec used;
};

static int by_use(const void *a, const void *b)
{
	const struct victim *x = a, *y = b;
	if (x->used.tv_sec != y->used.tv_sec)
		return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
	return x->used.tv_nsec < y->used.tv_nsec ? -1 : x->used.tv_nsec > y->used.tv_nsec;
}

static bool is_key(const char *name)
{
	return strlen(name) == 16 && strspn(name, "0123456789abcdef") == 16;
}

/* Remove `name` and its .uri if nobody holds its lock. */
static bool evict_one(int cfd, const char *name)
{
	char lock[48], uri[48];
	snprintf(lock, sizeof(lock), "%s.lock", name);
	snprintf(uri, sizeof(uri), "%s.uri", name);
	_cleanup_close_ int lfd =
	        openat(cfd, lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lfd < 0 || flock(lfd, LOCK_EX | LOCK_NB) < 0)
		return false;
	bool gone = unlinkat(cfd, name, 0) == 0 || errno == ENOENT;
	unlinkat(cfd, uri, 0);
	return gone;
}

/* Make room for `need` bytes: true when the entries left plus `need` fit
 * in the cache's size. */
static bool make_room(int cfd, const char *keep, uint64_t need, uint64_t size)
{
	_cleanup_close_ int efd =
	        openat(cfd, ".evict", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (efd < 0 || flock(efd, LOCK_EX) < 0)
		return false;
	int dfd = fcntl(cfd, F_DUPFD_CLOEXEC, 3);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return false;
	}
	struct victim *v = NULL;
	size_t n = 0;
	uint64_t total = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat st;
		if (!is_key(de->d_name) || strcmp(de->d_name, keep) == 0 ||
		    fstatat(cfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		v = ag_realloc(v, (n + 1) * sizeof(*v));
		snprintf(v[n].name, sizeof(v[n].name), "%s", de->d_name);
		v[n].size = (uint64_t)st.st_size;
		v[n].used = st.st_mtim;
		total += v[n].size;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(v, n, sizeof(*v), by_use);
	for (size_t i = 0; i < n && total + need > size; i++)
		if (evict_one(cfd, v[i].name))
			total -= v[i].size;
	free(v);
	return total + need <= size;
}

/* The content of KEY.uri for this fetch. */
static char *uri_record(uid_t uid, const char *uri)
{
	return ag_asprintf("%u\n%s", (unsigned)uid, uri);
}

static bool record_matches(int cfd, const char *key, const char *want)
{
	char name[48];
	snprintf(name, sizeof(name), "%s.uri", key);
	_cleanup_free_ char *have = NULL;
	if (ag_read_file_at(cfd, name, 16384, &have, NULL) < 0)
		return false;
	return strcmp(have, want) == 0;
}

int fetch__get_cached(const struct fetch_config *cfg, const struct fetch__limits *lim,
                      const struct fetch_uri *u, uid_t uid, gid_t gid, int out_fd,
                      struct ag_error *err)
{
	if (mkdir(cfg->cache_dir, 0700) < 0 && errno != EEXIST)
		return ag_error_set(err, errno, "`%s`: create the fetcher cache `%s`", u->value,
		                    cfg->cache_dir);
	_cleanup_close_ int cfd = open(cfg->cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cfd < 0)
		return ag_error_set(err, errno, "`%s`: open the fetcher cache `%s`", u->value,
		                    cfg->cache_dir);
	_cleanup_free_ char *key = fetch_cache_key(uid, u->value);
	_cleanup_free_ char *want = uri_record(uid, u->value);
	char lock[48], part[48], urin[48];
	snprintf(lock, sizeof(lock), "%s.lock", key);
	snprintf(part, sizeof(part), "%s.part", key);
	snprintf(urin, sizeof(urin), "%s.uri", key);
	/* Held until the copy is made: the entry is filled once, and never
	 * evicted while it is read. */
	_cleanup_close_ int lfd =
	        openat(cfd, lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lfd < 0 || flock(lfd, LOCK_EX) < 0)
		return ag_error_set(err, errno, "`%s`: lock the cache entry `%s/%s`", u->value,
		                    cfg->cache_dir, lock);
	_cleanup_close_ int dfd = openat(cfd, key, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd >= 0) {
		if (!record_matches(cfd, key, want))
			/* Another URI with the same hash: fetched directly,
			 * the entry left to its owner. */
			return fetch__get(cfg, lim, u, uid, gid, out_fd, err);
		futimens(dfd, NULL); /* used now: the last to be evicted */
		if (ftruncate(out_fd, 0) < 0)
			return ag_error_set(err, errno, "`%s`: truncate", u->value);
		int r = fetch__copy_fd(dfd, out_fd);
		if (r < 0)
			return ag_error_set(err, -r, "`%s`: copy from the cache entry `%s/%s`",
			                    u->value, cfg->cache_dir, key);
		return 0;
	}
	_cleanup_close_ int pfd =
	        openat(cfd, part, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (pfd < 0)
		return ag_error_set(err, errno, "`%s`: create `%s/%s`", u->value, cfg->cache_dir,
		                    part);
	int r = fetch__get(cfg, lim, u, uid, gid, pfd, err);
	struct stat st;
	if (r == 0 && fstat(pfd, &st) < 0)
		r = ag_error_set(err, errno, "`%s`: stat `%s`", u->value, part);
	if (r == 0 && ftruncate(out_fd, 0) < 0)
		r = ag_error_set(err, errno, "`%s`: truncate", u->value);
	if (r == 0) {
		r = fetch__copy_fd(pfd, out_fd);
		if (r < 0)
			ag_error_set(err, -r, "`%s`: copy", u->value);
	}
	if (r < 0 || (uint64_t)st.st_size > lim->cache_size ||
	    !make_room(cfd, key, (uint64_t)st.st_size, lim->cache_size)) {
		/* Failed, or larger than the cache can hold: not kept. */
		unlinkat(cfd, part, 0);
		return r;
	}
	_cleanup_free_ char *rec = ag_strdup(want);
	if (ag_write_file_atomic_at(cfd, urin, rec, strlen(rec), 0600) < 0 ||
	    renameat(cfd, part, cfd, key) < 0) {
		unlinkat(cfd, part, 0);
		unlinkat(cfd, urin, 0);
	}
	return 0;
}
