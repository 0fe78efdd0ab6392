/* download.c: a URI's content into an fd: HTTP(S) through libcurl, local
 * files read with the task user's permissions. */
#include "fetcher/internal.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <strings.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

void fetch__limits_of(const struct fetch_config *cfg, struct fetch__limits *ret)
{
	*ret = (struct fetch__limits){
	        .max_bytes = cfg->max_bytes ? cfg->max_bytes : FETCH_DEFAULT_MAX_BYTES,
	        .cache_size = cfg->cache_size ? cfg->cache_size : FETCH_DEFAULT_CACHE_SIZE,
	        .stall_ms =
	                cfg->stall_timeout_ms > 0 ? cfg->stall_timeout_ms : FETCH_DEFAULT_STALL_MS,
	        .timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : FETCH_DEFAULT_TIMEOUT_MS,
	        .max_redirects =
	                cfg->max_redirects > 0 ? cfg->max_redirects : FETCH_DEFAULT_MAX_REDIRECTS,
	};
}

int fetch__copy_fd(int in_fd, int out_fd)
{
	if (lseek(in_fd, 0, SEEK_SET) < 0)
		return -errno;
	char buf[65536];
	for (;;) {
		ssize_t n = read(in_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		int r = ag_write_all(out_fd, buf, (size_t)n);
		if (r < 0)
			return r;
	}
}

/* ---- http(s) ---- */

struct sink {
	int fd;
	uint64_t written, max;
	bool too_big;
	int write_errno;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct sink *s = ctx;
	size_t n = size * nmemb;
	if (s->written + n > s->max) {
		s->too_big = true;
		return 0; /* aborts the transfer */
	}
	int r = ag_write_all(s->fd, p, n);
	if (r < 0) {
		s->write_errno = -r;
		return 0;
	}
	s->written += n;
	return n;
}

static int get_http(const struct fetch__limits *lim, const char *url, int out_fd,
                    struct ag_error *err)
{
	static bool inited;
	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return ag_error_msg(err, ENOMEM, "`%s`: libcurl did not initialize", url);
		inited = true;
	}
	CURL *h = curl_easy_init();
	if (!h)
		return ag_error_msg(err, ENOMEM, "`%s`: libcurl did not initialize", url);
	char ebuf[CURL_ERROR_SIZE] = "";
	struct sink s = {.fd = out_fd, .max = lim->max_bytes};
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)lim->max_redirects);
	/* A redirect never leads to file:// or another scheme. */
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, lim->stall_ms);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)((lim->stall_ms + 999) / 1000));
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)lim->timeout_ms);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)lim->max_bytes);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "agora-fetcher/1");
	CURLcode rc = curl_easy_perform(h);
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	if (rc == CURLE_OK)
		return 0;
	if (rc == CURLE_HTTP_RETURNED_ERROR)
		return ag_error_msg(err, EIO, "`%s`: HTTP status %ld", url, status);
	if (s.too_big || rc == CURLE_FILESIZE_EXCEEDED)
		return ag_error_msg(err, EFBIG,
		                    "`%s`: larger than the download limit of %llu bytes (agent "
		                    "flag --fetcher_max_size)",
		                    url, (unsigned long long)lim->max_bytes);
	if (s.write_errno)
		return ag_error_set(err, s.write_errno, "`%s`: write", url);
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return ag_error_msg(err, ETIMEDOUT,
		                    "`%s`: timed out (%s; agent flag --fetcher_stall_timeout)", url,
		                    ebuf[0] ? ebuf : curl_easy_strerror(rc));
	return ag_error_msg(err, EIO, "`%s`: %s", url, ebuf[0] ? ebuf : curl_easy_strerror(rc));
}

/* ---- local files ---- */

/* Open `path` with uid:gid's permissions (file-system ids and groups:
 * root's capabilities do not apply), never the agent's. */
static int open_as(const char *path, uid_t uid, gid_t gid)
{
	bool drop = uid != 0 || gid != 0;
	if (drop) {
		if (setgroups(1, &gid) < 0)
			return -errno;
		setfsgid(gid);
		setfsuid(uid);
		if ((uid_t)setfsuid((uid_t)-1) != uid)
			return -EPERM;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	int e = errno;
	if (drop) {
		setfsuid(0);
		setfsgid(0);
		AG_IGNORE_RESULT(setgroups(0, NULL));
	}
	return fd < 0 ? -e : fd;
}

static int get_local(const struct fetch_config *cfg, const struct fetch__limits *lim,
                     const struct fetch_uri *u, enum fetch_kind k, uid_t uid, gid_t gid, int out_fd,
                     struct ag_error *err)
{
	_cleanup_free_ char *path = NULL;
	if (k == FETCH_KIND_RELATIVE) {
		if (!cfg->frameworks_home || !*cfg->frameworks_home)
			return ag_error_msg(err, EINVAL,
			                    "`%s`: a relative path and the agent has no "
			                    "--frameworks_home",
			                    u->value);
		path = ag_asprintf("%s/%s", cfg->frameworks_home, u->value);
	} else {
		path = ag_strdup(strncasecmp(u->value, "file://", 7) == 0 ? u->value + 7
		                                                          : u->value);
	}
	_cleanup_close_ int fd = open_as(path, uid, gid);
	if (fd < 0)
		return ag_error_set(err, -fd, "`%s`: open `%s` as uid %u", u->value, path,
		                    (unsigned)uid);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return ag_error_set(err, errno, "`%s`: stat `%s`", u->value, path);
	if (!S_ISREG(st.st_mode))
		return ag_error_msg(err, EINVAL, "`%s`: `%s` is not a regular file", u->value,
		                    path);
	if ((uint64_t)st.st_size > lim->max_bytes)
		return ag_error_msg(err, EFBIG,
		                    "`%s`: %lld bytes, more than the limit of %llu (agent flag "
		                    "--fetcher_max_size)",
		                    u->value, (long long)st.st_size,
		                    (unsigned long long)lim->max_bytes);
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		AG_IGNORE_RESULT(fcntl(fd, F_SETFL, fl & ~O_NONBLOCK));
	int r = fetch__copy_fd(fd, out_fd);
	if (r < 0)
		return ag_error_set(err, -r, "`%s`: copy `%s`", u->value, path);
	return 0;
}

int fetch__get(const struct fetch_config *cfg, const struct fetch__limits *lim,
               const struct fetch_uri *u, uid_t uid, gid_t gid, int out_fd, struct ag_error *err)
{
	if (ftruncate(out_fd, 0) < 0 || lseek(out_fd, 0, SEEK_SET) < 0)
		return ag_error_set(err, errno, "`%s`: truncate", u->value);
	enum fetch_kind k = fetch_uri_kind(u->value);
	switch (k) {
	case FETCH_KIND_HTTP:
		return get_http(lim, u->value, out_fd, err);
	case FETCH_KIND_FILE:
	case FETCH_KIND_RELATIVE:
		return get_local(cfg, lim, u, k, uid, gid, out_fd, err);
	case FETCH_KIND_BAD:
		break;
	}
	return ag_error_msg(err, EINVAL, "`%s`: not a supported URI", u->value);
}
