/* state.c: what survives the CLI exiting.
 *
 *   <root>/<id>/state.json   id, pid, pid start time, bundle, rootfs,
 *                            cgroup, created time, owner, annotations
 *   <root>/<id>/exec.fifo    present while the container waits for start
 *   <root>/<id>/config.json  the spec as created (for exec)
 *
 * The status is never stored: it is computed each time from the process
 * (its start time tells a reused pid apart), the fifo and the cgroup.
 */
#include "internal.h"

#include "common/proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char *const status_names[] = {
        [RT_STATUS_CREATING] = "creating", [RT_STATUS_CREATED] = "created",
        [RT_STATUS_RUNNING] = "running",   [RT_STATUS_PAUSED] = "paused",
        [RT_STATUS_STOPPED] = "stopped",
};

const char *rt_status_name(enum rt_status s)
{
	return (unsigned)s < AG_ARRAY_SIZE(status_names) ? status_names[s] : "unknown";
}

bool rt_id_is_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n == 0 || n > 128 || id[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
		if (!ok)
			return false;
	}
	return true;
}

void rt_state_free_contents(struct rt_state *st)
{
	if (!st)
		return;
	free(st->id);
	free(st->bundle);
	free(st->rootfs);
	free(st->cgroup_path);
	for (size_t i = 0; i < st->n_annotations; i++) {
		free(st->annotations[i].key);
		free(st->annotations[i].value);
	}
	free(st->annotations);
	memset(st, 0, sizeof(*st));
}

int rt__pid_start_ticks(pid_t pid, uint64_t *ret_ticks, bool *ret_zombie)
{
	struct ag_proc_stat ps;
	int r = ag_proc_stat_read(pid, &ps);
	if (r < 0)
		return r;
	*ret_ticks = ps.start_ticks;
	if (ret_zombie)
		*ret_zombie = ps.state == 'Z' || ps.state == 'X';
	return 0;
}

int rt__state_root_open(const struct rt_options *o, bool create, int *ret_fd, struct ag_error *err)
{
	const char *root = o->state_root ? o->state_root : RT_DEFAULT_STATE_ROOT;
	if (create && mkdir(root, 0700) < 0 && errno != EEXIST)
		return ag_error_set(err, errno, "create the state root `%s`", root);
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ag_error_set(err, errno, "open the state root `%s`", root);
	*ret_fd = fd;
	return 0;
}

int rt__state_dir_create(int rootfd, const char *id, int *ret_fd, struct ag_error *err)
{
	if (mkdirat(rootfd, id, 0700) < 0) {
		if (errno == EEXIST)
			return ag_error_msg(err, EEXIST, "container `%s` already exists", id);
		return ag_error_set(err, errno, "create the state of `%s`", id);
	}
	int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return ag_error_set(err, errno, "open the state of `%s`", id);
	*ret_fd = fd;
	return 0;
}

int rt__state_dir_open(int rootfd, const char *id, int *ret_fd, struct ag_error *err)
{
	int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return ag_error_msg(err, ENOENT, "container `%s` does not exist", id);
		return ag_error_set(err, errno, "open the state of `%s`", id);
	}
	*ret_fd = fd;
	return 0;
}

int rt__state_dir_remove(int rootfd, const char *id)
{
	int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	if (unlinkat(rootfd, id, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int rt__state_write(int dirfd, const struct rt_state *st, struct ag_error *err)
{
	json_t *j = json_pack("{s:s, s:I, s:I, s:s, s:s, s:I, s:I}", "id", st->id, "pid",
	                      (json_int_t)st->pid, "pid_start", (json_int_t)st->pid_start_ticks,
	                      "bundle", st->bundle ? st->bundle : "", "rootfs",
	                      st->rootfs ? st->rootfs : "", "created_ns",
	                      (json_int_t)st->created_unix_ns, "owner", (json_int_t)st->owner);
	if (!j)
		return ag_error_set(err, ENOMEM, "encode state.json");
	if (st->cgroup_path)
		json_object_set_new(j, "cgroup", json_string(st->cgroup_path));
	json_t *ann = json_object();
	for (size_t i = 0; i < st->n_annotations; i++)
		json_object_set_new(ann, st->annotations[i].key,
		                    json_string(st->annotations[i].value));
	json_object_set_new(j, "annotations", ann);
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		return ag_error_set(err, ENOMEM, "encode state.json");
	int r = ag_write_file_atomic_at(dirfd, "state.json", text, strlen(text), 0600);
	free(text);
	if (r < 0)
		return ag_error_set(err, -r, "write state.json of `%s`", st->id);
	return 0;
}

static char *dup_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && *s ? ag_strdup(s) : NULL;
}

static bool cgroup_frozen(int cgroup_rootfd, const char *path)
{
	if (cgroup_rootfd < 0 || !path)
		return false;
	_cleanup_free_ char *file = ag_asprintf("%s/cgroup.freeze", path);
	char *v = NULL;
	if (ag_read_file_at(cgroup_rootfd, file, 64, &v, NULL) < 0)
		return false;
	bool frozen = v[0] == '1';
	free(v);
	return frozen;
}

int rt__state_read(int dirfd, const char *id, bool cgroups_enabled, int cgroup_rootfd,
                   struct rt_state *ret, struct ag_error *err)
{
	char *text = NULL;
	int r = ag_read_file_at(dirfd, "state.json", 1 << 20, &text, NULL);
	if (r == -ENOENT) {
		/* The directory exists but create has not written its state
		 * yet (or died before): it is being created. */
		*ret = (struct rt_state){.id = ag_strdup(id), .status = RT_STATUS_CREATING};
		return 0;
	}
	if (r < 0)
		return ag_error_set(err, -r, "read state.json of `%s`", id);
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	free(text);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		return ag_error_set(err, EBADMSG, "state.json of `%s` is damaged", id);
	}
	struct rt_state st = {0};
	st.id = ag_strdup(id);
	st.pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
	st.pid_start_ticks = (uint64_t)json_integer_value(json_object_get(j, "pid_start"));
	st.bundle = dup_str(j, "bundle");
	st.rootfs = dup_str(j, "rootfs");
	st.cgroup_path = dup_str(j, "cgroup");
	st.created_unix_ns = json_integer_value(json_object_get(j, "created_ns"));
	st.owner = (uid_t)json_integer_value(json_object_get(j, "owner"));
	json_t *ann = json_object_get(j, "annotations");
	if (json_is_object(ann) && json_object_size(ann)) {
		st.annotations = ag_calloc(json_object_size(ann), sizeof(*st.annotations));
		const char *k;
		json_t *v;
		json_object_foreach (ann, k, v) {
			st.annotations[st.n_annotations].key = ag_strdup(k);
			st.annotations[st.n_annotations].value =
			        ag_strdup(json_string_value(v) ? json_string_value(v) : "");
			st.n_annotations++;
		}
	}
	json_decref(j);

	uint64_t ticks = 0;
	bool zombie = false;
	if (st.pid <= 0)
		st.status = RT_STATUS_CREATING;
	else if (rt__pid_start_ticks(st.pid, &ticks, &zombie) < 0 || ticks != st.pid_start_ticks ||
	         zombie)
		st.status = RT_STATUS_STOPPED;
	else if (faccessat(dirfd, "exec.fifo", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		st.status = RT_STATUS_CREATED;
	else if (cgroups_enabled && cgroup_frozen(cgroup_rootfd, st.cgroup_path))
		st.status = RT_STATUS_PAUSED;
	else
		st.status = RT_STATUS_RUNNING;
	*ret = st;
	return 0;
}

char *rt_state_to_json(const struct rt_state *st)
{
	json_t *j = json_pack("{s:s, s:s, s:s}", "ociVersion", "1.0.2", "id", st->id, "status",
	                      rt_status_name(st->status));
	if (!j)
		return NULL;
	if (st->pid > 0 && (st->status == RT_STATUS_CREATED || st->status == RT_STATUS_RUNNING ||
	                    st->status == RT_STATUS_PAUSED))
		json_object_set_new(j, "pid", json_integer(st->pid));
	if (st->bundle)
		json_object_set_new(j, "bundle", json_string(st->bundle));
	if (st->rootfs)
		json_object_set_new(j, "rootfs", json_string(st->rootfs));
	if (st->created_unix_ns) {
		time_t secs = (time_t)(st->created_unix_ns / 1000000000);
		struct tm tm;
		char when[64];
		gmtime_r(&secs, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		char full[96];
		snprintf(full, sizeof(full), "%s.%09lldZ", when,
		         (long long)(st->created_unix_ns % 1000000000));
		json_object_set_new(j, "created", json_string(full));
	}
	json_t *ann = json_object();
	for (size_t i = 0; i < st->n_annotations; i++)
		json_object_set_new(ann, st->annotations[i].key,
		                    json_string(st->annotations[i].value));
	json_object_set_new(j, "annotations", ann);
	char *out = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return out;
}

int rt_pid_file_write(const char *path, pid_t pid, struct ag_error *err)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
	int r = ag_write_file_atomic_at(AT_FDCWD, path, buf, (size_t)n, 0644);
	if (r < 0)
		return ag_error_set(err, -r, "write the pid file `%s`", path);
	return 0;
}
