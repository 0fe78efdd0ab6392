/* uri.c: the pure part of the fetcher: what a URI is, the name it is saved
 * as, whether it is an archive, its cache key. */
#include "fetcher/fetcher.h"

#include <string.h>
#include <strings.h>

static bool has_prefix_ci(const char *s, const char *p)
{
	return strncasecmp(s, p, strlen(p)) == 0;
}

enum fetch_kind fetch_uri_kind(const char *v)
{
	if (!v || !*v)
		return FETCH_KIND_BAD;
	if (has_prefix_ci(v, "http://") || has_prefix_ci(v, "https://"))
		return v[strcspn(v, ":") + 3] ? FETCH_KIND_HTTP : FETCH_KIND_BAD;
	if (has_prefix_ci(v, "file://"))
		return v[7] == '/' ? FETCH_KIND_FILE : FETCH_KIND_BAD;
	if (v[0] == '/')
		return FETCH_KIND_FILE;
	/* Any other scheme (ftp://, hdfs://, s3://...) is not supported;
	 * what has none is a path. */
	const char *colon = strstr(v, "://");
	if (colon && strcspn(v, "/") > (size_t)(colon - v))
		return FETCH_KIND_BAD;
	return FETCH_KIND_RELATIVE;
}

/* A relative name inside the sandbox: no leading '/', no empty, "." or
 * ".." component. */
static bool safe_relative(const char *p, size_t n)
{
	if (n == 0 || p[0] == '/')
		return false;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && p[j] != '/')
			j++;
		size_t len = j - i;
		if (len == 0 || (len == 1 && p[i] == '.') ||
		    (len == 2 && p[i] == '.' && p[i + 1] == '.'))
			return false;
		i = j + 1;
		if (j + 1 == n)
			return false; /* a trailing '/' */
	}
	return memchr(p, '\0', n) == NULL;
}

char *fetch_output_name(const struct fetch_uri *u)
{
	if (u->output_file) {
		size_t n = strlen(u->output_file);
		return safe_relative(u->output_file, n) && n < 4096 ? ag_strdup(u->output_file)
		                                                    : NULL;
	}
	if (!u->value)
		return NULL;
	const char *v = u->value;
	const char *path = v;
	enum fetch_kind k = fetch_uri_kind(v);
	if (k == FETCH_KIND_HTTP) {
		const char *host = strstr(v, "://") + 3;
		path = host + strcspn(host, "/?#");
	} else if (k == FETCH_KIND_FILE && has_prefix_ci(v, "file://")) {
		path = v + 7;
	}
	size_t end = strcspn(path, k == FETCH_KIND_HTTP ? "?#" : "");
	size_t start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	if (end == start)
		return NULL; /* ends in '/', or no path */
	size_t n = end - start;
	if (!safe_relative(path + start, n) || n > 255)
		return NULL;
	return ag_asprintf("%.*s", (int)n, path + start);
}

bool fetch_is_archive(const char *name)
{
	static const char *const suffixes[] = {".tar",    ".tar.gz", ".tgz", ".tar.bz2", ".tbz2",
	                                       ".tar.xz", ".txz",    ".zip", ".tar.bz",  ".tbz"};
	size_t n = strlen(name);
	for (size_t i = 0; i < AG_ARRAY_SIZE(suffixes); i++) {
		size_t s = strlen(suffixes[i]);
		if (n > s && strcasecmp(name + n - s, suffixes[i]) == 0)
			return true;
	}
	return false;
}

char *fetch_cache_key(uid_t uid, const char *uri)
{
	/* FNV-1a, 64 bits, over "uid\nuri". */
	uint64_t h = 0xcbf29ce484222325ULL;
	char u[32];
	int un = snprintf(u, sizeof(u), "%u\n", (unsigned)uid);
	for (int i = 0; i < un; i++)
		h = (h ^ (unsigned char)u[i]) * 0x100000001b3ULL;
	for (const char *p = uri; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	return ag_asprintf("%016llx", (unsigned long long)h);
}

int fetch_uri_check(const struct fetch_uri *u, const char *frameworks_home, const char *field,
                    struct ag_error *err)
{
	if (!u->value || !*u->value)
		return ag_error_msg(err, EINVAL, "%s.value: empty", field);
	if (strlen(u->value) > 8192)
		return ag_error_msg(err, EINVAL, "%s.value: longer than 8192 bytes", field);
	for (const char *p = u->value; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return ag_error_msg(err, EINVAL, "%s.value: a control character", field);
	switch (fetch_uri_kind(u->value)) {
	case FETCH_KIND_BAD:
		return ag_error_msg(err, EINVAL,
		                    "%s.value: `%.256s`: not supported (http://, https://, "
		                    "file://, an absolute path, or a path relative to the agent's "
		                    "--frameworks_home)",
		                    field, u->value);
	case FETCH_KIND_RELATIVE:
		if (!frameworks_home || !*frameworks_home)
			return ag_error_msg(
			        err, EINVAL,
			        "%s.value: `%.256s` is a relative path and the agent has "
			        "no --frameworks_home to resolve it under",
			        field, u->value);
		if (!safe_relative(u->value, strlen(u->value)))
			return ag_error_msg(err, EINVAL,
			                    "%s.value: `%.256s`: a relative path must stay under "
			                    "--frameworks_home (no `..`, no empty component)",
			                    field, u->value);
		break;
	case FETCH_KIND_HTTP:
	case FETCH_KIND_FILE:
		break;
	}
	_cleanup_free_ char *name = fetch_output_name(u);
	if (!name) {
		if (u->output_file)
			return ag_error_msg(
			        err, EINVAL,
			        "%s.output_file: `%.256s`: must be a relative name inside "
			        "the sandbox (no absolute path, no `..`, no empty "
			        "component)",
			        field, u->output_file);
		return ag_error_msg(err, EINVAL,
		                    "%s.value: `%.256s`: no file name in its path to save it as; "
		                    "give output_file",
		                    field, u->value);
	}
	return 0;
}
