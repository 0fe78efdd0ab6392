/* policy.c: every field of a task classified; escalations a role is not
 * allowed refused (policy.h). */
#include "containerizer/policy.h"
#include "containerizer/checks.h"
#include "fetcher/fetcher.h"
#include "runtime/runtime.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

const char *const ctz_pol_safe_caps[] = {
        "CAP_AUDIT_WRITE",
        "CAP_KILL",
        "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT",
};
const size_t ctz_pol_n_safe_caps = AG_ARRAY_SIZE(ctz_pol_safe_caps);

/* Docker's 14: what a task may hold inside a user namespace of its own
 * (there they reach only what the namespace owns). */
static const char *const userns_caps[] = {
        "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
        "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
        "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
        "CAP_KILL",    "CAP_AUDIT_WRITE",
};

#define PATH_CAP 512

bool ctz_pol_role_in(const char *list, const char *role)
{
	if (!list || !*list)
		return false;
	size_t rl = strlen(role);
	for (const char *p = list; *p;) {
		const char *e = strchrnul(p, ',');
		size_t n = (size_t)(e - p);
		if ((n == 1 && *p == '*') || (n == rl && strncmp(p, role, n) == 0))
			return true;
		p = *e ? e + 1 : e;
	}
	return false;
}

static int refuse(struct ag_error *err, const char *field, const char *what, const char *role,
                  const char *flag)
{
	return ag_error_msg(err, EPERM, "%s: %s is not allowed for role \"%s\" (agent flag --%s)",
	                    field, what, role, flag);
}

/* ---- the table -------------------------------------------------------- */

enum cls {
	SAFE,    /* taken as it is (the runtime validates its form) */
	CHECKED, /* checked below against the role's policy */
	REFUSED, /* never: `why` says so */
	OBJ,     /* an object whose members are in `sub` */
	ARR,     /* an array of objects whose members are in `sub` */
};

struct field {
	const char *key;
	enum cls cls;
	const struct field *sub;
	const char *why;
};

/* clang-format off */
#define F(k, c)      {k, c, NULL, NULL}
#define SUB(k, c, s) {k, c, s, NULL}
#define NO(k, why)   {k, REFUSED, NULL, why}
#define END          {NULL, SAFE, NULL, NULL}
/* clang-format on */

/* container.oci, as runtime/spec*.c reads it */
static const struct field oci_user[] = {F("uid", CHECKED), F("gid", CHECKED), F("umask", SAFE),
                                        F("additionalGids", CHECKED), END};
static const struct field oci_caps[] = {F("bounding", CHECKED),    F("effective", CHECKED),
                                        F("inheritable", CHECKED), F("permitted", CHECKED),
                                        F("ambient", CHECKED),     END};
static const struct field oci_rlimit[] = {F("type", CHECKED), F("soft", CHECKED),
                                          F("hard", CHECKED), END};
static const struct field oci_process[] = {
        F("terminal", CHECKED),
        NO("consoleSize", "not supported (tasks have no terminal)"),
        SUB("user", OBJ, oci_user),
        F("args", SAFE),
        F("env", SAFE),
        F("cwd", SAFE),
        SUB("capabilities", OBJ, oci_caps),
        SUB("rlimits", ARR, oci_rlimit),
        F("noNewPrivileges", CHECKED),
        F("oomScoreAdj", CHECKED),
        NO("apparmorProfile", "not supported (the runtime has no AppArmor support)"),
        NO("selinuxLabel", "not supported (the runtime has no SELinux support)"),
        END};
static const struct field oci_root[] = {F("path", CHECKED), F("readonly", SAFE), END};
static const struct field oci_mount[] = {F("destination", CHECKED), F("type", CHECKED),
                                         F("source", CHECKED), F("options", CHECKED), END};
static const struct field oci_ns[] = {F("type", CHECKED), F("path", CHECKED), END};
static const struct field oci_idmap[] = {F("containerID", SAFE), F("hostID", CHECKED),
                                         F("size", CHECKED), END};
static const struct field oci_device[] = {
        F("path", CHECKED),     F("type", CHECKED), F("major", CHECKED), F("minor", CHECKED),
        F("fileMode", CHECKED), F("uid", CHECKED),  F("gid", CHECKED),   END};
static const struct field oci_personality[] = {F("domain", SAFE), F("flags", SAFE), END};
static const struct field oci_linux[] = {
        SUB("namespaces", ARR, oci_ns),
        SUB("uidMappings", ARR, oci_idmap),
        SUB("gidMappings", ARR, oci_idmap),
        NO("resources", "set by the agent from the task's cpus and mem resources and "
                        "--task_pids_max; remove it"),
        NO("cgroupsPath", "the agent places each task's cgroup; remove it"),
        F("seccomp", CHECKED),
        F("maskedPaths", CHECKED),
        F("readonlyPaths", CHECKED),
        F("sysctl", CHECKED),
        SUB("devices", ARR, oci_device),
        F("rootfsPropagation", CHECKED),
        SUB("personality", OBJ, oci_personality),
        NO("mountLabel", "not supported (the runtime has no SELinux support)"),
        NO("intelRdt", "not supported (the runtime has no Intel RDT support)"),
        END};
static const struct field oci_top[] = {
        F("ociVersion", SAFE),
        F("hostname", SAFE),
        NO("domainname", "not supported (the runtime does not set it)"),
        F("annotations", SAFE),
        SUB("root", OBJ, oci_root),
        SUB("process", OBJ, oci_process),
        SUB("mounts", ARR, oci_mount),
        NO("hooks", "hooks run on the host as the agent (root); tasks cannot have them"),
        SUB("linux", OBJ, oci_linux),
        END};

/* TaskInfo, as the normalizer (proto/messages.c) leaves it */
static const struct field task_env_var[] = {F("name", SAFE), F("value", SAFE), F("type", CHECKED),
                                            NO("secret", "secrets are not supported by this agent"),
                                            END};
static const struct field task_environment[] = {SUB("variables", ARR, task_env_var), END};
static const struct field task_uri[] = {F("value", CHECKED),       F("executable", SAFE),
                                        F("extract", SAFE),        F("cache", SAFE),
                                        F("output_file", CHECKED), END};
static const struct field task_command[] = {SUB("uris", ARR, task_uri),
                                            SUB("environment", OBJ, task_environment),
                                            F("shell", SAFE),
                                            F("value", SAFE),
                                            F("arguments", SAFE),
                                            F("user", CHECKED),
                                            END};
static const struct field task_mesos[] = {
        NO("image", "not supported (give an OCI-like spec at container.oci; its root.path "
                    "names an image of the agent)"),
        END};
static const struct field task_container[] = {
        F("type", CHECKED),
        NO("volumes", "not supported (use container.oci.mounts)"),
        NO("hostname", "not supported (use container.oci.hostname)"),
        NO("docker", "not supported (Docker containers)"),
        SUB("mesos", OBJ, task_mesos),
        NO("network_infos", "not supported (tasks use the host's network)"),
        NO("linux_info", "not supported (use container.oci.process.capabilities and "
                         "container.oci.linux)"),
        NO("rlimit_info", "not supported (use container.oci.process.rlimits)"),
        NO("tty_info", "not supported (tasks have no terminal)"),
        F("oci", CHECKED),
        END};
static const struct field task_top[] = {
        F("name", SAFE),
        F("task_id", SAFE),
        F("agent_id", SAFE),
        F("resources", SAFE),
        NO("executor", "not supported (executors)"),
        SUB("command", OBJ, task_command),
        SUB("container", OBJ, task_container),
        F("data", SAFE),
        F("health_check", CHECKED),
        F("check", CHECKED),
        F("kill_policy", SAFE),
        F("labels", SAFE),
        F("discovery", SAFE),
        NO("max_completion_time", "not supported (this agent does not enforce it)"),
        NO("limits", "not supported (a task's limits are its resources)"),
        END};

static size_t push(char *path, size_t len, const char *key, size_t idx)
{
	int n = key ? snprintf(path + len, PATH_CAP - len, ".%.64s", key)
	            : snprintf(path + len, PATH_CAP - len, "[%zu]", idx);
	if (n < 0)
		return len;
	return len + (size_t)n < PATH_CAP ? len + (size_t)n : PATH_CAP - 1;
}

/* Every member of `obj` known to `tab`; REFUSED ones and unknown ones
 * refused naming the path. Values of the wrong JSON type are left to the
 * runtime's parser, which names them too. */
static int walk(const json_t *obj, const struct field *tab, char *path, size_t len,
                struct ag_error *err)
{
	if (!json_is_object(obj))
		return 0;
	const char *key;
	json_t *v;
	json_object_foreach ((json_t *)obj, key, v) {
		const struct field *f = tab;
		while (f->key && strcmp(f->key, key) != 0)
			f++;
		size_t l2 = push(path, len, key, 0);
		int r = 0;
		if (!f->key)
			r = ag_error_msg(err, EINVAL,
			                 "%s: unknown field (this agent refuses what it does not "
			                 "know)",
			                 path);
		else if (f->cls == REFUSED)
			r = ag_error_msg(err, EINVAL, "%s: %s", path, f->why);
		else if (f->cls == OBJ)
			r = walk(v, f->sub, path, l2, err);
		else if (f->cls == ARR) {
			size_t i;
			json_t *e;
			json_array_foreach (v, i, e) {
				size_t l3 = push(path, l2, NULL, i);
				r = walk(e, f->sub, path, l3, err);
				if (r < 0)
					break;
			}
		}
		if (r < 0)
			return r;
		path[len] = '\0';
	}
	return 0;
}

/* ---- host paths ------------------------------------------------------- */

/* `path` is `prefix` or below it (component-wise, after a lexical check
 * that there is no ".." to climb out). */
static bool path_under(const char *path, const char *prefix, size_t plen)
{
	while (plen > 1 && prefix[plen - 1] == '/')
		plen--;
	if (strncmp(path, prefix, plen) != 0)
		return false;
	return path[plen] == '\0' || path[plen] == '/' || (plen == 1 && prefix[0] == '/');
}

/* `path` under one of the prefixes of `list`, each resolved first when
 * `resolve` (a prefix may itself be a symlink the operator made). */
static bool under_list(const char *list, const char *path, bool resolve)
{
	for (const char *p = list; *p;) {
		const char *e = strchrnul(p, ',');
		if (e > p && *p == '/') {
			_cleanup_free_ char *prefix = ag_asprintf("%.*s", (int)(e - p), p);
			_cleanup_free_ char *real = resolve ? realpath(prefix, NULL) : NULL;
			const char *q = real ? real : prefix;
			if (path_under(path, q, strlen(q)))
				return true;
		}
		p = *e ? e + 1 : e;
	}
	return false;
}

/* Under an allowed prefix as written and, when it exists, as resolved: a
 * symlink planted below an allowed path (by a task that has it writable)
 * must not lead the mount elsewhere. */
static bool bind_allowed(const char *list, const char *src)
{
	if (!list || src[0] != '/' || strstr(src, "/../") || strstr(src, "/./") ||
	    (strlen(src) >= 3 && strcmp(src + strlen(src) - 3, "/..") == 0))
		return false;
	if (!under_list(list, src, false))
		return false;
	_cleanup_free_ char *real = realpath(src, NULL);
	return !real || under_list(list, real, true);
}

static bool host_path_ok(const struct ctz_pol_config *p, const char *role, const char *path)
{
	return ctz_pol_role_in(p->allow_host_mounts, role) || bind_allowed(p->bind_paths, path);
}

/* ---- mounts ----------------------------------------------------------- */

static bool in_list(const char *const *l, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i], s) == 0)
			return true;
	return false;
}

/* The option flags runtime/spec.c knows (mount(2) flags). */
static const char *const mount_flags[] = {
        "ro",         "rro",         "rw",
        "nosuid",     "suid",        "nodev",
        "dev",        "noexec",      "exec",
        "sync",       "async",       "dirsync",
        "remount",    "mand",        "nomand",
        "bind",       "rbind",       "relatime",
        "norelatime", "strictatime", "nostrictatime",
        "noatime",    "atime",       "nodiratime",
        "diratime",   "private",     "rprivate",
        "shared",     "rshared",     "slave",
        "rslave",     "unbindable",  "runbindable",
};

struct fs_type {
	const char *name;
	const char *only_at; /* the one destination allowed, or NULL */
	const char *const *data;
	size_t n_data;
};

static const char *const proc_data[] = {"hidepid", "subset", "gid"};
static const char *const tmpfs_data[] = {"size", "nr_blocks", "nr_inodes", "mode",    "uid",
                                         "gid",  "huge",      "inode32",   "inode64", "noswap"};
static const char *const devpts_data[] = {"newinstance", "ptmxmode", "mode", "gid", "uid", "max"};
static const char *const overlay_data[] = {"lowerdir", "upperdir", "workdir",   "redirect_dir",
                                           "index",    "metacopy", "xino",      "userxattr",
                                           "volatile", "uuid",     "nfs_export"};

/* The pseudo file systems any task may mount: each a new instance of its
 * own (in the task's namespaces), never a host path. proc and sysfs only
 * where the masked and read-only paths cover them. cgroup takes no data:
 * cgroup2's mount options are the whole hierarchy's. */
static const struct fs_type pseudo_fs[] = {
        {"proc", "/proc", proc_data, AG_ARRAY_SIZE(proc_data)},
        {"sysfs", "/sys", NULL, 0},
        {"tmpfs", NULL, tmpfs_data, AG_ARRAY_SIZE(tmpfs_data)},
        {"devpts", NULL, devpts_data, AG_ARRAY_SIZE(devpts_data)},
        {"mqueue", NULL, NULL, 0},
        {"cgroup", NULL, NULL, 0},
        {"cgroup2", NULL, NULL, 0},
};

static bool has_option(const json_t *m, const char *a, const char *b)
{
	size_t i;
	json_t *o;
	json_array_foreach (json_object_get(m, "options"), i, o) {
		const char *s = json_string_value(o);
		if (s && (strcmp(s, a) == 0 || (b && strcmp(s, b) == 0)))
			return true;
	}
	return false;
}

static bool is_bind(const json_t *m)
{
	const char *type = json_string_value(json_object_get(m, "type"));
	return (type && strcmp(type, "bind") == 0) || has_option(m, "bind", "rbind");
}

/* A mount of a host path: bind or overlay (the layers are host paths). */
static bool is_host_mount(const json_t *m)
{
	const char *type = json_string_value(json_object_get(m, "type"));
	return is_bind(m) || (type && strcmp(type, "overlay") == 0);
}

#define MOUNT_FLAGS "agent flags --policy_bind_paths, --policy_allow_host_mounts"

/* overlay's lowerdir=/a:/b, upperdir=, workdir=: each a host path. */
static int check_overlay_paths(const struct ctz_pol_config *p, const char *role, const char *field,
                               const char *val, struct ag_error *err)
{
	if (strchr(val, '\\') || strchr(val, ','))
		return ag_error_msg(err, EINVAL,
		                    "%s: escaped characters in overlay paths are not supported",
		                    field);
	_cleanup_free_ char *copy = ag_strdup(val);
	char *save = NULL;
	for (char *l = strtok_r(copy, ":", &save); l; l = strtok_r(NULL, ":", &save)) {
		if (!host_path_ok(p, role, l))
			return ag_error_msg(err, EPERM,
			                    "%s: the overlay layer `%s` of the host is not allowed "
			                    "for role \"%s\" (" MOUNT_FLAGS ")",
			                    field, l, role);
	}
	return 0;
}

static int check_mount(const struct ctz_pol_config *p, const char *role, const json_t *m,
                       const char *base, struct ag_error *err)
{
	char field[PATH_CAP];
	bool any_host = ctz_pol_role_in(p->allow_host_mounts, role);
	const char *type = json_string_value(json_object_get(m, "type"));
	const char *dst = json_string_value(json_object_get(m, "destination"));
	bool bind = is_bind(m);
	bool overlay = !bind && type && strcmp(type, "overlay") == 0;
	const struct fs_type *fs = NULL;
	for (size_t k = 0; !bind && type && k < AG_ARRAY_SIZE(pseudo_fs); k++)
		if (strcmp(pseudo_fs[k].name, type) == 0)
			fs = &pseudo_fs[k];

	if (bind) {
		const char *src = json_string_value(json_object_get(m, "source"));
		if (!host_path_ok(p, role, src ? src : "")) {
			snprintf(field, sizeof(field), "%.400s.source", base);
			return ag_error_msg(
			        err, EPERM,
			        "%s: a bind mount of the host's `%s` is not allowed for "
			        "role \"%s\" (" MOUNT_FLAGS ")",
			        field, src ? src : "", role);
		}
	} else if (!fs && !overlay) {
		if (any_host)
			return 0; /* any file system: the runtime checks the form */
		snprintf(field, sizeof(field), "%.400s.type", base);
		char what[128];
		snprintf(what, sizeof(what), "a mount of type `%.64s` (a file system of the host)",
		         type ? type : "(none)");
		return refuse(err, field, what, role, "policy_allow_host_mounts");
	}
	if (fs && fs->only_at && (!dst || strcmp(dst, fs->only_at) != 0)) {
		snprintf(field, sizeof(field), "%.400s.destination", base);
		return ag_error_msg(err, EINVAL,
		                    "%s: %s may be mounted only at %s (where the masked and "
		                    "read-only paths cover it)",
		                    field, fs->name, fs->only_at);
	}

	size_t i;
	json_t *o;
	json_array_foreach (json_object_get(m, "options"), i, o) {
		const char *s = json_string_value(o);
		snprintf(field, sizeof(field), "%.400s.options[%zu]", base, i);
		if (!s)
			continue; /* the runtime refuses non-strings */
		if (in_list(mount_flags, AG_ARRAY_SIZE(mount_flags), s)) {
			bool shared = strcmp(s, "shared") == 0 || strcmp(s, "rshared") == 0;
			bool host_unsafe = (bind || overlay) &&
			                   (strcmp(s, "suid") == 0 || strcmp(s, "dev") == 0);
			if ((shared || host_unsafe) && !any_host) {
				char what[128];
				snprintf(what, sizeof(what), "`%s` on %s", s,
				         shared ? "a mount (its mounts would reach the host)"
				                : "a mount of a host path");
				return refuse(err, field, what, role, "policy_allow_host_mounts");
			}
			continue;
		}
		size_t klen = strcspn(s, "=");
		char key[64];
		snprintf(key, sizeof(key), "%.*s", (int)(klen < 63 ? klen : 63), s);
		if (overlay && in_list(overlay_data, AG_ARRAY_SIZE(overlay_data), key)) {
			bool is_path = strcmp(key, "lowerdir") == 0 ||
			               strcmp(key, "upperdir") == 0 || strcmp(key, "workdir") == 0;
			if (is_path) {
				int r = check_overlay_paths(p, role, field,
				                            s + klen + (s[klen] ? 1 : 0), err);
				if (r < 0)
					return r;
			}
			continue;
		}
		if (fs && in_list(fs->data, fs->n_data, key))
			continue;
		if (any_host)
			continue;
		return ag_error_msg(err, EINVAL,
		                    "%s: the option `%.64s` is not one this agent allows for a "
		                    "%s mount",
		                    field, s,
		                    bind      ? "bind"
		                    : overlay ? "overlay"
		                              : fs->name);
	}
	return 0;
}

/* ---- capabilities ----------------------------------------------------- */

static bool name_in(const char *const *l, size_t n, const char *c)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(l[i], c) == 0)
			return true;
	return false;
}

/* ---- users and groups ------------------------------------------------- */

struct userns {
	bool has;        /* linux.namespaces has "user" */
	bool own;        /* ... without a path: a new one, with the maps below */
	bool maps_uid0;  /* uidMappings reach the host's uid 0 */
	bool maps_gid0;  /* gidMappings reach the host's gid 0 */
	size_t uid0_map; /* the mapping that does */
	size_t gid0_map;
};

static bool range_has(const json_t *map, json_int_t id)
{
	json_int_t h = json_integer_value(json_object_get(map, "hostID"));
	json_int_t s = json_integer_value(json_object_get(map, "size"));
	return id >= h && id < h + s;
}

static void userns_of(const json_t *lx, struct userns *u)
{
	*u = (struct userns){0};
	size_t i;
	json_t *n;
	json_array_foreach (json_object_get(lx, "namespaces"), i, n) {
		const char *t = json_string_value(json_object_get(n, "type"));
		if (t && strcmp(t, "user") == 0) {
			u->has = true;
			u->own = !json_object_get(n, "path");
		}
	}
	json_array_foreach (json_object_get(lx, "uidMappings"), i, n)
		if (!u->maps_uid0 && range_has(n, 0)) {
			u->maps_uid0 = true;
			u->uid0_map = i;
		}
	json_array_foreach (json_object_get(lx, "gidMappings"), i, n)
		if (!u->maps_gid0 && range_has(n, 0)) {
			u->maps_gid0 = true;
			u->gid0_map = i;
		}
}

/* The host id of container id `id` through `maps`; -1 when unmapped. */
static int64_t to_host(const json_t *maps, json_int_t id)
{
	size_t i;
	json_t *m;
	json_array_foreach (maps, i, m) {
		json_int_t c = json_integer_value(json_object_get(m, "containerID"));
		json_int_t h = json_integer_value(json_object_get(m, "hostID"));
		json_int_t s = json_integer_value(json_object_get(m, "size"));
		if (id >= c && id < c + s)
			return h + (id - c);
	}
	return -1;
}

/* May a task running as host uid `uid` hold host gid `gid`? Yes when no
 * host group has that id, or it is a group of the host user `uid`. */
static bool host_group_ok(int64_t uid, uint32_t gid, char *name, size_t n)
{
	char user[256] = "";
	gid_t primary = (gid_t)-1;
	struct passwd *pw = uid >= 0 ? getpwuid((uid_t)uid) : NULL;
	if (pw) {
		snprintf(user, sizeof(user), "%s", pw->pw_name);
		primary = pw->pw_gid;
	}
	struct group *gr = getgrgid(gid);
	if (!gr)
		return true;
	snprintf(name, n, "%s", gr->gr_name);
	if (!user[0])
		return false;
	if (primary == gid)
		return true;
	for (char **m = gr->gr_mem; m && *m; m++)
		if (strcmp(*m, user) == 0)
			return true;
	return false;
}

static int check_gid(const struct ctz_pol_config *p, const char *role, const char *field,
                     int64_t host_uid, json_int_t gid, struct ag_error *err)
{
	if (gid == 0) {
		if (ctz_pol_role_in(p->allow_root, role))
			return 0;
		return refuse(err, field, "gid 0 on the host (no user namespace)", role,
		              "policy_allow_root");
	}
	if (gid < 0 || gid > UINT32_MAX || ctz_pol_role_in(p->allow_groups, role))
		return 0; /* out of range: the runtime refuses it */
	char name[256] = "";
	if (host_group_ok(host_uid, (uint32_t)gid, name, sizeof(name)))
		return 0;
	return ag_error_msg(err, EPERM,
	                    "%s: the host's group %lld (`%s`) is not a group of the task's user "
	                    "(uid %lld) and is not allowed for role \"%s\" (agent flag "
	                    "--policy_allow_groups)",
	                    field, (long long)gid, name, (long long)host_uid, role);
}

/* In a user namespace of its own a task may become any id of its maps:
 * no host group there but its user's own. */
static int check_gid_maps(const struct ctz_pol_config *p, const char *role, const json_t *maps,
                          int64_t host_uid, struct ag_error *err)
{
	if (ctz_pol_role_in(p->allow_groups, role))
		return 0;
	/* The host's groups in the ranges first, checked once the getgrent
	 * walk is over (host_group_ok uses getgrgid). */
	gid_t *in = NULL;
	size_t *at = NULL, n = 0;
	setgrent();
	struct group *gr;
	while ((gr = getgrent())) {
		size_t i;
		json_t *m;
		json_array_foreach (maps, i, m) {
			if (gr->gr_gid == 0 || !range_has(m, gr->gr_gid))
				continue;
			in = ag_realloc(in, (n + 1) * sizeof(*in));
			at = ag_realloc(at, (n + 1) * sizeof(*at));
			in[n] = gr->gr_gid;
			at[n++] = i;
			break;
		}
	}
	endgrent();
	int r = 0;
	for (size_t k = 0; k < n && r == 0; k++) {
		char name[256] = "";
		if (host_group_ok(host_uid, in[k], name, sizeof(name)))
			continue;
		r = ag_error_msg(err, EPERM,
		                 "container.oci.linux.gidMappings[%zu]: maps the host's group %u "
		                 "(`%s`), not a group of the task's user (uid %lld); not allowed "
		                 "for role \"%s\" (agent flag --policy_allow_groups)",
		                 at[k], (unsigned)in[k], name, (long long)host_uid, role);
	}
	free(in);
	free(at);
	return r;
}

/* The host ids a map of the task's own reaches: [*lo, *end). False for a
 * map of the wrong form (the runtime's parser refuses it). */
static bool map_range(const json_t *m, int64_t *lo, int64_t *end)
{
	const json_t *h = json_object_get(m, "hostID"), *s = json_object_get(m, "size");
	if (!json_is_integer(h) || !json_is_integer(s) || json_integer_value(h) < 0 ||
	    json_integer_value(s) <= 0 || json_integer_value(h) > UINT32_MAX ||
	    json_integer_value(s) > UINT32_MAX)
		return false;
	*lo = json_integer_value(h);
	*end = *lo + json_integer_value(s);
	return true;
}

static bool ranges_meet(int64_t lo, int64_t end, uint64_t start, uint64_t n)
{
	return n && (uint64_t)lo < start + n && start < (uint64_t)end;
}

/* A line of /etc/subuid or /etc/subgid ("name-or-id:start:count") that
 * `lo`-`end` meets: its number, the line in `line`; 0 when none. */
static int sub_line_met(const char *path, int64_t lo, int64_t end, char *line, size_t n)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return 0; /* no subordinate ranges on this host */
	int lineno = 0, found = 0;
	while (!found && fgets(line, (int)n, f)) {
		lineno++;
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2 &&
		    ranges_meet(lo, end, strtoull(c1 + 1, NULL, 10), strtoull(c2 + 1, NULL, 10)))
			found = lineno;
	}
	fclose(f);
	if (found)
		line[strcspn(line, "\n")] = '\0';
	return found;
}

static int host_ids_refused(struct ag_error *err, const char *key, size_t i, int64_t lo,
                            int64_t end, const char *what, const char *role)
{
	return ag_error_msg(err, EPERM,
	                    "container.oci.linux.%s[%zu]: host ids %lld-%lld reach %s, not "
	                    "allowed for role \"%s\" (agent flag --policy_allow_host_ids); "
	                    "leave out uidMappings and gidMappings and the agent maps the "
	                    "namespace to a range of host ids of its own",
	                    key, i, (long long)lo, (long long)(end - 1), what, role);
}

/* The id maps of a user namespace of the task's own give it every host id
 * they reach (uid 0 inside holds Docker's 14 capabilities over them): never
 * a host user's uid (a group's gid is check_gid_maps'), a subordinate range
 * of another user or the agent's pool, which is other tasks' ids. The
 * host's uid and gid 0 are check_users' (--policy_allow_root). */
static int check_host_ids(const struct ctz_pol_config *p, const char *role, const json_t *lx,
                          struct ag_error *err)
{
	if (ctz_pol_role_in(p->allow_host_ids, role))
		return 0;
	static const char *const keys[] = {"uidMappings", "gidMappings"};
	for (size_t k = 0; k < AG_ARRAY_SIZE(keys); k++) {
		bool uids = k == 0;
		const char *sub = uids ? (p->subuid_path ? p->subuid_path : "/etc/subuid")
		                       : (p->subgid_path ? p->subgid_path : "/etc/subgid");
		size_t i;
		json_t *m;
		json_array_foreach (json_object_get(lx, keys[k]), i, m) {
			int64_t lo, end;
			if (!map_range(m, &lo, &end))
				continue;
			char what[640];
			if (ranges_meet(lo, end, p->userns_first, p->userns_count)) {
				snprintf(what, sizeof(what),
				         "the agent's pool of ids for root tasks (--userns_range "
				         "%u-%u: other tasks' ids)",
				         p->userns_first, p->userns_first + p->userns_count - 1);
				return host_ids_refused(err, keys[k], i, lo, end, what, role);
			}
			char line[256];
			int at = sub_line_met(sub, lo, end, line, sizeof(line));
			if (at) {
				snprintf(what, sizeof(what),
				         "the subordinate ids of `%s` line %d (`%.200s`: that "
				         "user's)",
				         sub, at, line);
				return host_ids_refused(err, keys[k], i, lo, end, what, role);
			}
			if (!uids)
				continue;
			bool met = false;
			setpwent();
			struct passwd *pw;
			while (!met && (pw = getpwent()))
				if (pw->pw_uid != 0 && ranges_meet(lo, end, pw->pw_uid, 1)) {
					met = true;
					snprintf(what, sizeof(what),
					         "the uid %u of the host's user `%.64s`",
					         (unsigned)pw->pw_uid, pw->pw_name);
				}
			endpwent();
			if (met)
				return host_ids_refused(err, keys[k], i, lo, end, what, role);
		}
	}
	return 0;
}

/* ---- rlimits ---------------------------------------------------------- */

/* An rlimit's value as the agent hands it to the runtime: an integer, or
 * (above int64, as the master passes RLIM_INFINITY on) a string of digits
 * or "unlimited". False for anything the runtime refuses. */
static bool rlimit_value(const json_t *v, uint64_t *ret)
{
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return false;
		*ret = (uint64_t)json_integer_value(v);
		return true;
	}
	const char *s = json_string_value(v);
	if (!s)
		return false;
	if (strcmp(s, "unlimited") == 0) {
		*ret = UINT64_MAX;
		return true;
	}
	size_t n = strlen(s);
	if (n == 0 || n > 20 || strspn(s, "0123456789") != n)
		return false;
	errno = 0;
	unsigned long long u = strtoull(s, NULL, 10);
	if (errno == ERANGE)
		return false;
	*ret = u;
	return true;
}

/* No rlimit above the agent's own hard limit: the runtime sets them as
 * root, so a task could otherwise lift RLIMIT_RTPRIO, RLIMIT_MEMLOCK or
 * RLIMIT_NICE past what any process of the host's has. */
static int check_rlimits(const struct ctz_pol_config *p, const char *role, const json_t *proc,
                         struct ag_error *err)
{
	if (ctz_pol_role_in(p->allow_rlimits, role))
		return 0;
	size_t i;
	json_t *e;
	json_array_foreach (json_object_get(proc, "rlimits"), i, e) {
		const char *type = json_string_value(json_object_get(e, "type"));
		int res = rt_rlimit_from_name(type);
		struct rlimit own;
		if (res < 0 || getrlimit(res, &own) < 0)
			continue; /* the runtime refuses an unknown type */
		static const char *const keys[] = {"soft", "hard"};
		for (size_t k = 0; k < AG_ARRAY_SIZE(keys); k++) {
			uint64_t want;
			if (!rlimit_value(json_object_get(e, keys[k]), &want))
				continue; /* the runtime refuses those */
			if (own.rlim_max == RLIM_INFINITY || want <= own.rlim_max)
				continue;
			char field[128], what[160];
			snprintf(field, sizeof(field), "container.oci.process.rlimits[%zu].%s", i,
			         keys[k]);
			snprintf(what, sizeof(what),
			         "%s %llu, above the agent's own hard limit %llu", type,
			         (unsigned long long)want, (unsigned long long)own.rlim_max);
			return refuse(err, field, what, role, "policy_allow_rlimits");
		}
	}
	const json_t *adj = json_object_get(proc, "oomScoreAdj");
	if (json_is_integer(adj) && json_integer_value(adj) < 0)
		return refuse(err, "container.oci.process.oomScoreAdj",
		              "a negative oomScoreAdj (harder to kill than the host's processes)",
		              role, "policy_allow_rlimits");
	return 0;
}

/* ---- the checks ------------------------------------------------------- */

int ctz_pol_check_uid(const struct ctz_pol_config *p, const char *role, uint32_t uid,
                      const char *field, struct ag_error *err)
{
	if (uid == 0 && !ctz_pol_role_in(p->allow_root, role))
		return refuse(err, field, "uid 0 on the host (no user namespace)", role,
		              "policy_allow_root");
	return 0;
}

bool ctz_pol_oci_userns(const struct ctz_pol_config *p, const char *role, json_t *oci)
{
	json_t *lx = json_object_get(oci, "linux");
	json_t *ns = json_object_get(lx, "namespaces");
	const json_t *uid =
	        json_object_get(json_object_get(json_object_get(oci, "process"), "user"), "uid");
	if (!json_is_object(oci) || (lx && !json_is_object(lx)) || (ns && !json_is_array(ns)))
		return false; /* ctz_pol_check_oci names what is wrong */
	struct userns u;
	userns_of(lx, &u);
	bool no_maps = !json_object_get(lx, "uidMappings") && !json_object_get(lx, "gidMappings");
	if (u.has)
		return u.own && no_maps;
	/* An absent uid is 0, as check_users reads it. */
	if ((uid && !json_is_integer(uid)) || json_integer_value(uid) != 0 ||
	    ctz_pol_role_in(p->allow_root, role) || !no_maps)
		return false;
	if (!lx) {
		lx = json_object();
		json_object_set_new(oci, "linux", lx);
	}
	if (!ns) {
		ns = json_array();
		json_object_set_new(lx, "namespaces", ns);
	}
	json_array_append_new(ns, json_pack("{s:s}", "type", "user"));
	return true;
}

static int check_caps(const struct ctz_pol_config *p, const char *role, const json_t *proc,
                      const struct userns *u, struct ag_error *err)
{
	if (ctz_pol_role_in(p->allow_capabilities, role))
		return 0;
	static const char *const sets[] = {"bounding", "effective", "permitted", "inheritable",
	                                   "ambient"};
	bool in_own_userns = u->own && !u->maps_uid0 && !u->maps_gid0;
	const json_t *caps = json_object_get(proc, "capabilities");
	for (size_t s = 0; s < AG_ARRAY_SIZE(sets); s++) {
		size_t i;
		json_t *v;
		json_array_foreach (json_object_get(caps, sets[s]), i, v) {
			const char *c = json_string_value(v);
			if (c && (name_in(ctz_pol_safe_caps, ctz_pol_n_safe_caps, c) ||
			          (in_own_userns &&
			           name_in(userns_caps, AG_ARRAY_SIZE(userns_caps), c))))
				continue;
			char field[128];
			snprintf(field, sizeof(field), "container.oci.process.capabilities.%s",
			         sets[s]);
			return ag_error_msg(
			        err, EPERM,
			        "%s: %.64s is not allowed for role \"%s\" (agent flag "
			        "--policy_allow_capabilities); without it a task may hold "
			        "CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE and "
			        "CAP_SYS_CHROOT, "
			        "and Docker's default 14 in a user namespace of its own",
			        field, c ? c : "a non-string capability", role);
		}
	}
	return 0;
}

static int check_users(const struct ctz_pol_config *p, const char *role, const json_t *proc,
                       const json_t *lx, const struct userns *u, struct ag_error *err)
{
	bool root_ok = ctz_pol_role_in(p->allow_root, role);
	const json_t *user = json_object_get(proc, "user");
	json_int_t uid = json_integer_value(json_object_get(user, "uid"));
	if (!root_ok) {
		if (uid == 0 && (!u->has || u->maps_uid0))
			return refuse(err, "container.oci.process.user.uid",
			              u->has ? "uid 0 mapped to the host's uid 0"
			                     : "uid 0 on the host (no user namespace)",
			              role, "policy_allow_root");
		char field[128];
		if (u->own && u->maps_uid0) {
			snprintf(field, sizeof(field), "container.oci.linux.uidMappings[%zu]",
			         u->uid0_map);
			return refuse(err, field, "a mapping of the host's uid 0", role,
			              "policy_allow_root");
		}
		if (u->own && u->maps_gid0) {
			snprintf(field, sizeof(field), "container.oci.linux.gidMappings[%zu]",
			         u->gid0_map);
			return refuse(err, field, "a mapping of the host's gid 0", role,
			              "policy_allow_root");
		}
	}
	if (u->own) {
		int r = check_host_ids(p, role, lx, err);
		if (r < 0)
			return r;
		int64_t host_uid = to_host(json_object_get(lx, "uidMappings"), uid);
		return check_gid_maps(p, role, json_object_get(lx, "gidMappings"), host_uid, err);
	}
	/* the ids are the host's (or, in a joined user namespace the role may
	 * join, taken as the host's: the stricter reading) */
	int r = check_gid(p, role, "container.oci.process.user.gid", uid,
	                  json_integer_value(json_object_get(user, "gid")), err);
	size_t i;
	json_t *g;
	json_array_foreach (json_object_get(user, "additionalGids"), i, g) {
		if (r < 0)
			break;
		char field[128];
		snprintf(field, sizeof(field), "container.oci.process.user.additionalGids[%zu]", i);
		r = check_gid(p, role, field, uid, json_integer_value(g), err);
	}
	return r;
}

int ctz_pol_check_oci(const struct ctz_pol_config *p, const char *role, const json_t *oci,
                      struct ag_error *err)
{
	char field[PATH_CAP] = "container.oci";
	size_t i;
	json_t *v;
	if (!json_is_object(oci))
		return ag_error_msg(err, EINVAL, "container.oci: must be a JSON object");
	int r = walk(oci, oci_top, field, strlen(field), err);
	if (r < 0)
		return r;

	/* mounts of every type */
	json_array_foreach (json_object_get(oci, "mounts"), i, v) {
		snprintf(field, sizeof(field), "container.oci.mounts[%zu]", i);
		if (json_is_object(v) && (r = check_mount(p, role, v, field, err)) < 0)
			return r;
	}

	/* capabilities */
	const json_t *proc = json_object_get(oci, "process");
	const json_t *lx = json_object_get(oci, "linux");
	struct userns u;
	userns_of(lx, &u);
	if ((r = check_caps(p, role, proc, &u, err)) < 0)
		return r;

	/* seccomp and no_new_privs */
	if (!ctz_pol_role_in(p->allow_unconfined, role)) {
		if (json_object_get(lx, "seccomp"))
			return refuse(err, "container.oci.linux.seccomp",
			              "a seccomp profile other than the default", role,
			              "policy_allow_unconfined");
		const json_t *nnp = json_object_get(proc, "noNewPrivileges");
		if (nnp && !json_is_true(nnp))
			return refuse(err, "container.oci.process.noNewPrivileges",
			              "noNewPrivileges false", role, "policy_allow_unconfined");
	}

	/* host namespaces */
	if (!ctz_pol_role_in(p->allow_host_namespaces, role)) {
		json_array_foreach (json_object_get(lx, "namespaces"), i, v) {
			if (!json_object_get(v, "path"))
				continue;
			snprintf(field, sizeof(field), "container.oci.linux.namespaces[%zu].path",
			         i);
			char what[128];
			const char *t = json_string_value(json_object_get(v, "type"));
			snprintf(what, sizeof(what), "joining an existing %.32s namespace",
			         t ? t : "(untyped)");
			return refuse(err, field, what, role, "policy_allow_host_namespaces");
		}
	}

	/* sysctls */
	if (!ctz_pol_role_in(p->allow_sysctls, role)) {
		const json_t *sc = json_object_get(lx, "sysctl");
		if (json_object_size(sc) > 0) {
			const char *key = json_object_iter_key(json_object_iter((json_t *)sc));
			snprintf(field, sizeof(field), "container.oci.linux.sysctl.%.64s", key);
			return refuse(err, field, "setting a sysctl", role, "policy_allow_sysctls");
		}
	}

	/* root and groups on the host */
	if ((r = check_users(p, role, proc, lx, &u, err)) < 0)
		return r;

	/* device nodes */
	if (!ctz_pol_role_in(p->allow_devices, role)) {
		json_array_foreach (json_object_get(lx, "devices"), i, v) {
			snprintf(field, sizeof(field), "container.oci.linux.devices[%zu]", i);
			const char *path = json_string_value(json_object_get(v, "path"));
			char what[160];
			snprintf(what, sizeof(what), "a device node (`%.64s`)", path ? path : "");
			return refuse(err, field, what, role, "policy_allow_devices");
		}
	}

	/* rlimits, oomScoreAdj */
	if ((r = check_rlimits(p, role, proc, err)) < 0)
		return r;

	/* no terminal; no propagation back to the host */
	if (json_is_true(json_object_get(proc, "terminal")))
		return ag_error_msg(err, EINVAL,
		                    "container.oci.process.terminal: not supported (tasks have no "
		                    "terminal)");
	const char *prop = json_string_value(json_object_get(lx, "rootfsPropagation"));
	if (prop && (strcmp(prop, "shared") == 0 || strcmp(prop, "rshared") == 0) &&
	    !ctz_pol_role_in(p->allow_host_mounts, role))
		return refuse(err, "container.oci.linux.rootfsPropagation",
		              "shared propagation (its mounts would reach the host)", role,
		              "policy_allow_host_mounts");
	return 0;
}

int ctz_pol_check_task(const struct ctz_pol_config *p, const char *role, const json_t *task,
                       struct ag_error *err)
{
	(void)p;
	(void)role;
	char path[PATH_CAP] = "task";
	int r = walk(task, task_top, path, strlen(path), err);
	if (r < 0)
		return r;
	const json_t *c = json_object_get(task, "container");
	const char *type = json_string_value(json_object_get(c, "type"));
	if (c && (!type || strcmp(type, "MESOS") != 0))
		return ag_error_msg(err, EINVAL,
		                    "task.container.type: `%.32s` is not supported (MESOS only)",
		                    type ? type : "(none)");
	if (json_object_get(c, "oci") && json_object_get(task, "command"))
		return ag_error_msg(err, EINVAL,
		                    "task.command: a task with container.oci runs the spec's "
		                    "process.args; give one or the other");
	/* Their own fields, as the agent will run them (containerizer/checks.c). */
	const json_t *hc = json_object_get(task, "health_check");
	if (hc && (r = ctz_check_parse(hc, true, "task.health_check", NULL, err)) < 0)
		return r;
	const json_t *ck = json_object_get(task, "check");
	if (ck && (r = ctz_check_parse(ck, false, "task.check", NULL, err)) < 0)
		return r;
	size_t i;
	json_t *v;
	json_array_foreach (json_object_get(json_object_get(task, "command"), "uris"), i, v) {
		char field[64];
		snprintf(field, sizeof(field), "task.command.uris[%zu]", i);
		const json_t *out = json_object_get(v, "output_file");
		struct fetch_uri u = {.value = json_string_value(json_object_get(v, "value")),
		                      .output_file = json_string_value(out)};
		if (out && !json_is_string(out))
			return ag_error_msg(err, EINVAL, "%s.output_file: not a string", field);
		r = fetch_uri_check(&u, p->frameworks_home, field, err);
		if (r < 0)
			return r;
	}
	json_array_foreach (
	        json_object_get(json_object_get(json_object_get(task, "command"), "environment"),
	                        "variables"),
	        i, v) {
		const char *t = json_string_value(json_object_get(v, "type"));
		if (t && strcmp(t, "VALUE") != 0)
			return ag_error_msg(
			        err, EINVAL,
			        "task.command.environment.variables[%zu].type: `%.32s` is "
			        "not supported (VALUE only)",
			        i, t);
	}
	return 0;
}

/* ---- defaults --------------------------------------------------------- */

/* The runtime's default spec, parsed once (the agent is one thread). */
static const json_t *default_spec(void)
{
	static json_t *spec;
	if (!spec) {
		_cleanup_free_ char *text = rt_spec_default_json();
		spec = text ? json_loads(text, 0, NULL) : NULL;
	}
	return spec;
}

/* Add each string of `defaults` missing from lx[key]. */
static void add_paths(json_t *lx, const char *key, const json_t *defaults)
{
	json_t *have = json_object_get(lx, key);
	if (!json_is_array(have)) {
		have = json_array();
		json_object_set_new(lx, key, have);
	}
	size_t i, k;
	json_t *d, *h;
	json_array_foreach (defaults, i, d) {
		bool found = false;
		json_array_foreach (have, k, h)
			if (json_equal(h, d))
				found = true;
		if (!found)
			json_array_append(have, d);
	}
}

void ctz_pol_apply_defaults(const struct ctz_pol_config *p, const char *role, json_t *oci)
{
	json_t *lx = json_object_get(oci, "linux");
	if (!json_is_object(lx)) {
		lx = json_object();
		json_object_set_new(oci, "linux", lx);
	}
	const json_t *def = default_spec();
	const json_t *dlx = json_object_get(def, "linux");
	if (!json_object_get(lx, "seccomp") && json_object_get(dlx, "seccomp"))
		json_object_set_new(lx, "seccomp", json_deep_copy(json_object_get(dlx, "seccomp")));
	json_t *proc = json_object_get(oci, "process");
	if (json_is_object(proc) && !json_object_get(proc, "noNewPrivileges"))
		json_object_set_new(proc, "noNewPrivileges", json_true());
	add_paths(lx, "maskedPaths", json_object_get(dlx, "maskedPaths"));
	add_paths(lx, "readonlyPaths", json_object_get(dlx, "readonlyPaths"));

	if (!ctz_pol_role_in(p->allow_host_namespaces, role)) {
		json_t *ns = json_object_get(lx, "namespaces");
		if (!json_is_array(ns)) {
			ns = json_array();
			json_object_set_new(lx, "namespaces", ns);
		}
		static const char *const own[] = {"ipc", "cgroup"};
		for (size_t k = 0; k < AG_ARRAY_SIZE(own); k++) {
			bool found = false;
			size_t i;
			json_t *n;
			json_array_foreach (ns, i, n) {
				const char *t = json_string_value(json_object_get(n, "type"));
				if (t && strcmp(t, own[k]) == 0)
					found = true;
			}
			if (!found)
				json_array_append_new(ns, json_pack("{s:s}", "type", own[k]));
		}
	}

	if (!ctz_pol_role_in(p->allow_host_mounts, role)) {
		size_t i;
		json_t *m;
		json_array_foreach (json_object_get(oci, "mounts"), i, m) {
			if (!is_host_mount(m))
				continue;
			json_t *opts = json_object_get(m, "options");
			if (!json_is_array(opts)) {
				opts = json_array();
				json_object_set_new(m, "options", opts);
			}
			if (!has_option(m, "nosuid", NULL))
				json_array_append_new(opts, json_string("nosuid"));
			if (!has_option(m, "nodev", NULL))
				json_array_append_new(opts, json_string("nodev"));
		}
	}
}
