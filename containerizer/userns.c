/* userns.c: the pool of host id ranges for root tasks (userns.h), their
 * records and the spec of a task in a user namespace of its own. */
#include "containerizer/userns.h"
#include "containerizer/ctz_internal.h"

#include <ctype.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- the flags ---- */

static bool u32_of(const char *s, size_t n, uint32_t *ret)
{
	if (n == 0 || n > 10)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*ret = (uint32_t)v;
	return true;
}

int ctz_userns_parse_range(const char *text, uint32_t *ret_first, uint32_t *ret_last,
                           struct ag_error *err)
{
	if (!text)
		text = "";
	if (strcmp(text, "none") == 0) {
		*ret_first = *ret_last = 0;
		return 0;
	}
	const char *dash = strchr(text, '-');
	uint32_t first, last;
	if (!dash || !u32_of(text, (size_t)(dash - text), &first) ||
	    !u32_of(dash + 1, strlen(dash + 1), &last))
		return ag_error_msg(err, EINVAL,
		                    "--userns_range: FIRST-LAST (host ids, decimal) or `none`, got "
		                    "`%s`",
		                    text);
	if (first > last)
		return ag_error_msg(err, EINVAL, "--userns_range: `%s` begins after its end", text);
	if (first < CTZ_USERNS_MIN_FIRST)
		return ag_error_msg(err, EINVAL,
		                    "--userns_range: `%s` reaches below %u: 0-65535 are the host's "
		                    "own users (root, system users, nobody), never a task's",
		                    text, CTZ_USERNS_MIN_FIRST);
	if (last == UINT32_MAX)
		return ag_error_msg(err, EINVAL,
		                    "--userns_range: `%s` holds 4294967295, which is (uid_t)-1, "
		                    "no id",
		                    text);
	*ret_first = first;
	*ret_last = last;
	return 0;
}

int ctz_userns_pool_of(uint32_t first, uint32_t last, uint32_t size, struct ctz_userns_pool *ret,
                       struct ag_error *err)
{
	if (size == 0)
		return ag_error_msg(err, EINVAL, "--userns_size: at least 1 id per task, got 0");
	if (first == 0 && last == 0) {
		*ret = (struct ctz_userns_pool){.size = size};
		return 0;
	}
	uint64_t n = (uint64_t)last - first + 1;
	if (n < size)
		return ag_error_msg(err, EINVAL,
		                    "--userns_range: %u-%u holds %llu ids, less than one task's "
		                    "range of %u (--userns_size)",
		                    first, last, (unsigned long long)n, size);
	if (n / size > CTZ_USERNS_MAX_SLOTS)
		return ag_error_msg(err, EINVAL,
		                    "--userns_range: %u-%u holds %llu ranges of %u ids "
		                    "(--userns_size), more than the %u an agent hands out: give "
		                    "it a smaller range or a larger size",
		                    first, last, (unsigned long long)(n / size), size,
		                    CTZ_USERNS_MAX_SLOTS);
	*ret = (struct ctz_userns_pool){.first = first, .count = (uint32_t)n, .size = size};
	return 0;
}

uint32_t ctz_userns_slots(const struct ctz_userns_pool *p)
{
	return p->count && p->size ? p->count / p->size : 0;
}

/* ---- the host's users ---- */

static bool overlaps(const struct ctz_userns_pool *p, uint64_t start, uint64_t n)
{
	return n && start < (uint64_t)p->first + p->count && p->first < start + n;
}

/* /etc/subuid or /etc/subgid: "name-or-id:start:count" lines. */
static int check_sub_file(const struct ctz_userns_pool *p, const char *path, struct ag_error *err)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return 0; /* no subordinate ranges on this host */
	char line[512];
	int lineno = 0, r = 0;
	while (r == 0 && fgets(line, sizeof(line), f)) {
		lineno++;
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		unsigned long long start = strtoull(c1 + 1, NULL, 10),
		                   n = strtoull(c2 + 1, NULL, 10);
		if (!overlaps(p, start, n))
			continue;
		line[strcspn(line, "\n")] = '\0';
		r = ag_error_msg(err, EEXIST,
		                 "--userns_range: %u-%u overlaps the subordinate ids of `%s` line "
		                 "%d (`%s`): that user could enter a user namespace holding a "
		                 "root task's ids; give the agent a range of its own",
		                 p->first, p->first + p->count - 1, path, lineno, line);
	}
	fclose(f);
	return r;
}

int ctz_userns_pool_check_host(const struct ctz_userns_pool *p, const char *subuid_path,
                               const char *subgid_path, struct ag_error *err)
{
	if (!p->count)
		return 0;
	int r = 0;
	setpwent();
	struct passwd *pw;
	while (r == 0 && (pw = getpwent()))
		if (overlaps(p, pw->pw_uid, 1))
			r = ag_error_msg(
			        err, EEXIST,
			        "--userns_range: %u-%u holds the uid %u of the host's user "
			        "`%s`: a root task would be that user",
			        p->first, p->first + p->count - 1, (unsigned)pw->pw_uid,
			        pw->pw_name);
	endpwent();
	if (r < 0)
		return r;
	setgrent();
	struct group *gr;
	while (r == 0 && (gr = getgrent()))
		if (overlaps(p, gr->gr_gid, 1))
			r = ag_error_msg(
			        err, EEXIST,
			        "--userns_range: %u-%u holds the gid %u of the host's group "
			        "`%s`: a root task would be in that group",
			        p->first, p->first + p->count - 1, (unsigned)gr->gr_gid,
			        gr->gr_name);
	endgrent();
	if (r == 0)
		r = check_sub_file(p, subuid_path ? subuid_path : "/etc/subuid", err);
	if (r == 0)
		r = check_sub_file(p, subgid_path ? subgid_path : "/etc/subgid", err);
	return r;
}

/* ---- the spec ---- */

int ctz_userns_apply(char **json, uint32_t host_id, uint32_t size, struct ag_error *err)
{
	json_error_t je;
	json_t *spec = json_loads(*json, 0, &je);
	if (!json_is_object(spec)) {
		json_decref(spec);
		return ag_error_msg(err, EINVAL, "spec: not a JSON object (line %d: %s)", je.line,
		                    je.text);
	}
	json_t *lx = json_object_get(spec, "linux");
	if (!json_is_object(lx)) {
		lx = json_object();
		json_object_set_new(spec, "linux", lx);
	}
	json_t *ns = json_object_get(lx, "namespaces");
	if (!json_is_array(ns)) {
		ns = json_array();
		json_object_set_new(lx, "namespaces", ns);
	}
	bool has = false;
	size_t i;
	json_t *n;
	json_array_foreach (ns, i, n) {
		const char *t = json_string_value(json_object_get(n, "type"));
		if (t && strcmp(t, "user") == 0) {
			json_object_del(n, "path"); /* a new one, never the host's */
			has = true;
		}
	}
	if (!has)
		json_array_append_new(ns, json_pack("{s:s}", "type", "user"));
	json_t *map = json_pack("[{s:i, s:I, s:I}]", "containerID", 0, "hostID",
	                        (json_int_t)host_id, "size", (json_int_t)size);
	json_object_set(lx, "uidMappings", map);
	json_object_set_new(lx, "gidMappings", map);
	char *text = json_dumps(spec, JSON_COMPACT);
	json_decref(spec);
	if (!text)
		return ag_error_set(err, ENOMEM, "encode the task spec");
	free(*json);
	*json = text;
	return 0;
}

/* ---- the containerizer's side ---- */

bool ctz__userns_held(const struct ctz_entry *e)
{
	/* Ended and its monitor gone: the init died with its pid namespace,
	 * so no process holds the range's ids any more. */
	return e->userns_size && (e->st.phase != CTZ_DONE || e->monitor_pidfd >= 0);
}

int ctz__userns_alloc(struct ctz *c, uint32_t *ret_host_id, struct ag_error *err)
{
	const struct ctz_userns_pool *p = &c->cfg.userns;
	uint32_t n = ctz_userns_slots(p);
	if (n == 0)
		return ag_error_msg(err, EPERM,
		                    "uid 0 in a user namespace: the agent has no pool of host ids "
		                    "for it (--userns_range none)");
	_cleanup_free_ bool *used = ag_calloc(n, sizeof(*used));
	uint64_t end = (uint64_t)p->first + (uint64_t)n * p->size;
	for (const struct ctz_entry *e = c->entries; e; e = e->next) {
		if (!ctz__userns_held(e))
			continue;
		/* A record of another pool (the flags changed) still holds
		 * whatever it overlaps of this one. */
		uint64_t lo = e->userns_host_id, hi = lo + e->userns_size;
		if (hi <= p->first || lo >= end)
			continue;
		if (lo < p->first)
			lo = p->first;
		if (hi > end)
			hi = end;
		for (uint64_t s = (lo - p->first) / p->size; s <= (hi - 1 - p->first) / p->size;
		     s++)
			used[s] = true;
	}
	for (uint32_t k = 0; k < n; k++) {
		uint32_t s = (c->userns_next + k) % n;
		if (used[s])
			continue;
		/* The next launch starts after it: a range just released is
		 * the last to be handed out again. */
		c->userns_next = (s + 1) % n;
		*ret_host_id = p->first + s * p->size;
		return 0;
	}
	return ag_error_msg(err, EAGAIN,
	                    "no free range of host ids for a root task: all %u ranges of %u ids "
	                    "in --userns_range %u-%u are held by tasks still running (a larger "
	                    "--userns_range or a smaller --userns_size holds more)",
	                    n, p->size, p->first, (uint32_t)(end - 1));
}

int ctz__mkdir_in_root(const char *root, const char *path)
{
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	_cleanup_free_ char *p = ag_strdup(path);
	char *save = NULL;
	for (char *name = strtok_r(p, "/", &save); name; name = strtok_r(NULL, "/", &save)) {
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
			close(fd);
			return -EINVAL;
		}
		if (mkdirat(fd, name, 0755) < 0 && errno != EEXIST) {
			int e = errno;
			close(fd);
			return -e;
		}
		/* Never through a symlink an image may hold. */
		int next = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(fd);
		if (next < 0)
			return -e;
		fd = next;
	}
	close(fd);
	return 0;
}

int ctz__userns_write(const char *run_dir, uint32_t host_id, uint32_t size)
{
	char text[64];
	snprintf(text, sizeof(text), "host_id=%u\nsize=%u\n", host_id, size);
	_cleanup_close_ int dfd = open(run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	return ag_write_file_durable_at(dfd, "userns", text, strlen(text), 0600);
}

int ctz__userns_read(const char *run_dir, uint32_t *ret_host_id, uint32_t *ret_size)
{
	_cleanup_free_ char *path = ag_asprintf("%s/userns", run_dir);
	_cleanup_free_ char *text = NULL;
	int r = ag_read_file_at(AT_FDCWD, path, 256, &text, NULL);
	if (r < 0)
		return r;
	unsigned long long h = 0, s = 0;
	if (sscanf(text, "host_id=%llu\nsize=%llu", &h, &s) != 2 || h > UINT32_MAX || s == 0 ||
	    s > UINT32_MAX)
		return -EBADMSG;
	*ret_host_id = (uint32_t)h;
	*ret_size = (uint32_t)s;
	return 0;
}
