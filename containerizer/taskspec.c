/* taskspec.c: task specs as OCI JSON, starting from the runtime's default
 * spec (capabilities, masked paths, seccomp, /proc /dev /sys mounts), so the
 * agent inherits every safe default agora-run has. */
#include "containerizer/taskspec.h"
#include "containerizer/policy.h"
#include "runtime/runtime.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#define CPU_PERIOD_US 100000

void ctz_ts_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Top-level names the host view never binds: the container gets its own. */
static bool host_view_skips(const char *name)
{
	static const char *const skip[] = {".",   "..",  "proc", "sys",       "dev",
	                                   "tmp", "run", "mnt",  "lost+found"};
	for (size_t i = 0; i < AG_ARRAY_SIZE(skip); i++)
		if (strcmp(name, skip[i]) == 0)
			return true;
	return false;
}

static int mkdir_p_at(int dirfd, const char *path)
{
	_cleanup_free_ char *p = ag_strdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdirat(dirfd, p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdirat(dirfd, p, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int ctz_ts_host_view_prepare(const char *rootfs_dir, char ***ret_dirs, struct ag_error *err)
{
	if (mkdir(rootfs_dir, 0755) < 0 && errno != EEXIST)
		return ag_error_set(err, errno, "create the host view root `%s`", rootfs_dir);
	_cleanup_close_ int rfd = open(rootfs_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return ag_error_set(err, errno, "open `%s`", rootfs_dir);
	DIR *d = opendir("/");
	if (!d)
		return ag_error_set(err, errno, "list the host's /");
	char **dirs = NULL;
	size_t n = 0;
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d)) && r == 0) {
		if (host_view_skips(de->d_name))
			continue;
		struct stat lst, st;
		if (fstatat(dirfd(d), de->d_name, &lst, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISLNK(lst.st_mode)) {
			/* /bin -> usr/bin stays a link, so paths read the same. */
			char target[4096];
			ssize_t len = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
			if (len <= 0)
				continue;
			target[len] = '\0';
			if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISDIR(st.st_mode))
				continue;
			if (symlinkat(target, rfd, de->d_name) < 0 && errno != EEXIST)
				r = ag_error_set(err, errno, "symlink `%s` in `%s`", de->d_name,
				                 rootfs_dir);
			continue;
		}
		if (!S_ISDIR(lst.st_mode))
			continue;
		if (mkdirat(rfd, de->d_name, 0755) < 0 && errno != EEXIST) {
			r = ag_error_set(err, errno, "create `%s` in `%s`", de->d_name, rootfs_dir);
			continue;
		}
		dirs = ag_realloc(dirs, (n + 2) * sizeof(*dirs));
		dirs[n++] = ag_strdup(de->d_name);
		dirs[n] = NULL;
	}
	closedir(d);
	/* Mount points of the container's own file systems, made here once
	 * so that concurrent launches never race to create them. */
	static const char *const own[] = {"proc", "sys", "dev",
	                                  "tmp",  "run", &CTZ_TS_SANDBOX_PATH[1]};
	for (size_t i = 0; i < AG_ARRAY_SIZE(own) && r == 0; i++) {
		int k = mkdir_p_at(rfd, own[i]);
		if (k < 0)
			r = ag_error_set(err, -k, "create `%s` in `%s`", own[i], rootfs_dir);
	}
	if (r < 0) {
		ctz_ts_strv_free(dirs);
		return r;
	}
	if (!dirs)
		dirs = ag_calloc(1, sizeof(*dirs));
	*ret_dirs = dirs;
	return 0;
}

static json_t *mount_obj(const char *dst, const char *type, const char *src, const char *opts[])
{
	json_t *m = json_pack("{s:s, s:s, s:s}", "destination", dst, "type", type, "source", src);
	json_t *o = json_array();
	for (size_t i = 0; opts && opts[i]; i++)
		json_array_append_new(o, json_string(opts[i]));
	json_object_set_new(m, "options", o);
	return m;
}

static void set_resources(json_t *linux_obj, const struct ctz_ts_limits *lim)
{
	json_t *res = json_object();
	json_t *unified = json_object();
	if (lim->mem_bytes) {
		json_object_set_new(res, "memory",
		                    json_pack("{s:I}", "limit", (json_int_t)lim->mem_bytes));
		/* An OOM kill ends the whole task, as the Mesos memory
		 * limitation destroys the container: no half-killed tasks. */
		json_object_set_new(unified, "memory.oom.group", json_string("1"));
	}
	if (lim->cpus > 0) {
		json_int_t quota = (json_int_t)llround(lim->cpus * CPU_PERIOD_US);
		if (quota < 1000)
			quota = 1000; /* the kernel's minimum */
		json_object_set_new(res, "cpu",
		                    json_pack("{s:I, s:I}", "quota", quota, "period",
		                              (json_int_t)CPU_PERIOD_US));
		long weight = lround(lim->cpus * 100);
		weight = weight < 1 ? 1 : weight > 10000 ? 10000 : weight;
		char w[24];
		snprintf(w, sizeof(w), "%ld", weight);
		json_object_set_new(unified, "cpu.weight", json_string(w));
	}
	uint64_t pids = lim->pids_max ? lim->pids_max : CTZ_TS_DEFAULT_PIDS_MAX;
	json_object_set_new(res, "pids", json_pack("{s:I}", "limit", (json_int_t)pids));
	if (json_object_size(unified))
		json_object_set_new(res, "unified", unified);
	else
		json_decref(unified);
	if (lim->device_rules) {
		json_t *rules = json_array();
		json_array_append_new(rules, json_pack("{s:b, s:s}", "allow", 0, "access", "rwm"));
		size_t i;
		json_t *d;
		json_array_foreach (json_object_get(linux_obj, "devices"), i, d) {
			const char *t = json_string_value(json_object_get(d, "type"));
			json_t *maj = json_object_get(d, "major"),
			       *min = json_object_get(d, "minor");
			/* The runtime's parser checks the entry; a fifo or a
			 * malformed one gets no rule. */
			if (!t ||
			    !(strcmp(t, "c") == 0 || strcmp(t, "u") == 0 || strcmp(t, "b") == 0) ||
			    !json_is_integer(maj) || !json_is_integer(min))
				continue;
			json_array_append_new(rules,
			                      json_pack("{s:b, s:s, s:O, s:O, s:s}", "allow", 1,
			                                "type", t[0] == 'b' ? "b" : "c", "major",
			                                maj, "minor", min, "access", "rwm"));
		}
		json_object_set_new(res, "devices", rules);
	}
	json_object_set_new(linux_obj, "resources", res);
}

static json_t *sandbox_mount(const char *sandbox)
{
	const char *opts[] = {"rbind", "rw", "nosuid", "nodev", "rprivate", NULL};
	return mount_obj(CTZ_TS_SANDBOX_PATH, "bind", sandbox, opts);
}

static int dump(json_t *spec, char **ret_json, struct ag_error *err)
{
	char *text = json_dumps(spec, JSON_COMPACT);
	json_decref(spec);
	if (!text)
		return ag_error_set(err, ENOMEM, "encode the task spec");
	*ret_json = text;
	return 0;
}

/* ---- rlimits above int64 ---- */

/* RLIM_INFINITY (2^64-1) is a number agora-run takes but jansson cannot
 * hold: the master hands such values on as their digits (proto reads
 * integers above int64 so), and a spec may say "unlimited". Each rlimit of
 * the spec given so becomes a tagged string, which dump_spec() writes back
 * as the bare number. The tag starts with a NUL, which no string of a task
 * can hold (the decoders refuse it), so nothing else is rewritten. */
#define BIG_TAG     "\0u64:"
#define BIG_TAG_LEN 5
#define BIG_TEXT    "\"\\u0000u64:" /* how json_dumps() writes the tag */

static void rlimit_as_number(json_t *rl, const char *key)
{
	const char *v = json_string_value(json_object_get(rl, key));
	if (!v)
		return;
	const char *digits = strcmp(v, "unlimited") == 0 ? "18446744073709551615" : v;
	size_t n = strlen(digits);
	if (n == 0 || n > 20 || strspn(digits, "0123456789") != n ||
	    (n == 20 && strcmp(digits, "18446744073709551615") > 0))
		return; /* agora-run's to refuse, naming the field */
	char tagged[BIG_TAG_LEN + 21];
	memcpy(tagged, BIG_TAG, BIG_TAG_LEN);
	memcpy(tagged + BIG_TAG_LEN, digits, n);
	json_object_set_new(rl, key, json_stringn(tagged, BIG_TAG_LEN + n));
}

static void rlimits_as_numbers(json_t *spec)
{
	size_t i;
	json_t *rl;
	json_array_foreach (json_object_get(json_object_get(spec, "process"), "rlimits"), i, rl) {
		rlimit_as_number(rl, "soft");
		rlimit_as_number(rl, "hard");
	}
}

/* dump() with each tagged string put back as its bare digits. */
static int dump_spec(json_t *spec, char **ret_json, struct ag_error *err)
{
	int r = dump(spec, ret_json, err);
	if (r < 0 || !strstr(*ret_json, BIG_TEXT))
		return r;
	char *text = *ret_json, *out = text;
	for (const char *p = text; *p;) {
		if (strncmp(p, BIG_TEXT, strlen(BIG_TEXT)) == 0) {
			p += strlen(BIG_TEXT);
			while (*p >= '0' && *p <= '9')
				*out++ = *p++;
			p++; /* the closing quote */
		} else {
			*out++ = *p++;
		}
	}
	*out = '\0';
	return 0;
}

static json_t *default_spec(struct ag_error *err)
{
	_cleanup_free_ char *text = rt_spec_default_json();
	json_error_t je;
	json_t *spec = text ? json_loads(text, 0, &je) : NULL;
	if (!spec)
		ag_error_set(err, EINVAL, "the runtime's default spec does not parse");
	return spec;
}

int ctz_ts_command_spec_json(const struct ctz_ts_command *cmd, const struct ctz_ts_limits *lim,
                             const char *rootfs_dir, char *const *host_dirs, const char *sandbox,
                             const char *hide_dir, char **ret_json, struct ag_error *err)
{
	if (!cmd->shell && (!cmd->argv || !cmd->argv[0]))
		return ag_error_set(err, EINVAL, "command: needs a shell command or arguments");
	json_t *spec = default_spec(err);
	if (!spec)
		return -EINVAL;

	json_t *proc = json_object_get(spec, "process");
	json_t *args = json_array();
	if (cmd->shell) {
		json_array_append_new(args, json_string("/bin/sh"));
		json_array_append_new(args, json_string("-c"));
		json_array_append_new(args, json_string(cmd->shell));
	} else {
		for (size_t i = 0; cmd->argv[i]; i++)
			json_array_append_new(args, json_string(cmd->argv[i]));
	}
	json_object_set_new(proc, "args", args);
	json_t *env = json_array();
	json_array_append_new(env,
	                      json_string("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
	                                  "/sbin:/bin"));
	json_array_append_new(env, json_string("MESOS_SANDBOX=" CTZ_TS_SANDBOX_PATH));
	for (size_t i = 0; cmd->env && cmd->env[i]; i++)
		json_array_append_new(env, json_string(cmd->env[i]));
	json_object_set_new(proc, "env", env);
	json_object_set_new(proc, "cwd", json_string(CTZ_TS_SANDBOX_PATH));
	json_object_set_new(
	        proc, "user",
	        json_pack("{s:I, s:I}", "uid", (json_int_t)cmd->uid, "gid", (json_int_t)cmd->gid));
	if (cmd->uid != 0) {
		/* A task of a user holds no capability (the exec as that user
		 * would drop them anyway), and its bounding set none that raises
		 * privileges: the default's CAP_SETUID, CAP_DAC_OVERRIDE, ... are
		 * what a setuid binary could otherwise regain. A task the policy
		 * lets run as root keeps the default set. */
		json_t *bnd = json_array();
		for (size_t i = 0; i < ctz_pol_n_safe_caps; i++)
			json_array_append_new(bnd, json_string(ctz_pol_safe_caps[i]));
		json_object_set_new(proc, "capabilities", json_pack("{s:o}", "bounding", bnd));
	}
	json_object_set_new(spec, "root",
	                    json_pack("{s:s, s:b}", "path", rootfs_dir, "readonly", 1));
	json_object_del(spec, "hostname"); /* the host's uts namespace */

	/* The host's directories first, then the default /proc, /dev, /sys
	 * mounts, then the private /tmp, /run and the sandbox. */
	json_t *mounts = json_array();
	const char *ro[] = {"rbind", "rro", "nosuid", "nodev", "rprivate", NULL};
	for (size_t i = 0; host_dirs && host_dirs[i]; i++) {
		_cleanup_free_ char *src = ag_asprintf("/%s", host_dirs[i]);
		json_array_append_new(mounts, mount_obj(src, "bind", src, ro));
	}
	size_t k;
	json_t *m;
	json_array_foreach (json_object_get(spec, "mounts"), k, m)
		json_array_append(mounts, m);
	const char *tmp[] = {"nosuid", "nodev", "mode=1777", NULL};
	json_array_append_new(mounts, mount_obj("/tmp", "tmpfs", "tmpfs", tmp));
	const char *run[] = {"nosuid", "nodev", "mode=755", NULL};
	json_array_append_new(mounts, mount_obj("/run", "tmpfs", "tmpfs", run));
	json_array_append_new(mounts, sandbox_mount(sandbox));
	json_object_set_new(spec, "mounts", mounts);

	json_t *lx = json_object_get(spec, "linux");
	json_t *ns = json_array();
	const char *types[] = {"pid", "mount", "ipc", "cgroup"};
	for (size_t i = 0; i < AG_ARRAY_SIZE(types); i++)
		json_array_append_new(ns, json_pack("{s:s}", "type", types[i]));
	json_object_set_new(lx, "namespaces", ns);
	if (hide_dir)
		json_array_append_new(json_object_get(lx, "maskedPaths"), json_string(hide_dir));
	set_resources(lx, lim);
	return dump(spec, ret_json, err);
}

int ctz_ts_oci_spec_json(const char *json, const char *images_dir, const struct ctz_ts_limits *lim,
                         const char *sandbox, char **ret_json, struct ag_error *err)
{
	json_error_t je;
	json_t *spec = json_loads(json, 0, &je);
	if (!spec || !json_is_object(spec)) {
		json_decref(spec);
		return ag_error_set(err, EINVAL, "spec: not a JSON object (line %d: %s)", je.line,
		                    je.text);
	}
	const char *image =
	        json_string_value(json_object_get(json_object_get(spec, "root"), "path"));
	if (!image || !*image || strchr(image, '/') || strcmp(image, ".") == 0 ||
	    strcmp(image, "..") == 0) {
		int r = ag_error_msg(err, EINVAL,
		                     "root.path: must name an image of the agent (no '/'), got "
		                     "`%s`",
		                     image ? image : "(none)");
		json_decref(spec);
		return r;
	}
	_cleanup_free_ char *root = ag_asprintf("%s/%s", images_dir, image);
	struct stat st;
	if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		int r = ag_error_msg(err, ENOENT, "root.path: no image `%s` in `%s`", image,
		                     images_dir);
		json_decref(spec);
		return r;
	}
	json_object_set_new(json_object_get(spec, "root"), "path", json_string(root));

	json_t *mounts = json_object_get(spec, "mounts");
	if (!json_is_array(mounts)) {
		mounts = json_array();
		json_object_set_new(spec, "mounts", mounts);
	}
	json_array_append_new(mounts, sandbox_mount(sandbox));

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
	bool has_pid = false, has_mount = false;
	size_t i;
	json_t *n;
	json_array_foreach (ns, i, n) {
		const char *t = json_string_value(json_object_get(n, "type"));
		if (t && strcmp(t, "pid") == 0) {
			/* The monitor relies on the init's death ending the task:
			 * a pid namespace of its own, never the host's. */
			json_object_del(n, "path");
			has_pid = true;
		}
		if (t && strcmp(t, "mount") == 0)
			has_mount = true;
	}
	if (!has_pid)
		json_array_append_new(ns, json_pack("{s:s}", "type", "pid"));
	if (!has_mount)
		json_array_append_new(ns, json_pack("{s:s}", "type", "mount"));
	set_resources(lx, lim);
	rlimits_as_numbers(spec);
	return dump_spec(spec, ret_json, err);
}
