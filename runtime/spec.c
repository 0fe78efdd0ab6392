/* spec.c: config.json → struct rt_spec. The top level, root, hostname,
 * mounts, hooks and annotations; process is in spec_process.c, linux.* in
 * spec_linux.c and linux.seccomp in spec_seccomp.c.
 *
 * Everything is checked before rt_spec_parse returns: the launcher trusts
 * the struct and never re-validates, so a hole here is a hole in the
 * container. */
#include "runtime/spec_internal.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>

static const char *const ns_names[RT_NS_COUNT] = {
        [RT_NS_PID] = "pid",       [RT_NS_NETWORK] = "network", [RT_NS_MOUNT] = "mount",
        [RT_NS_IPC] = "ipc",       [RT_NS_UTS] = "uts",         [RT_NS_USER] = "user",
        [RT_NS_CGROUP] = "cgroup",
};

const char *rt_ns_type_name(enum rt_ns_type t)
{
	if ((unsigned)t >= RT_NS_COUNT)
		return "unknown";
	return ns_names[t];
}

/* ---- root ------------------------------------------------------------- */

/* Join `base` and `rel` lexically, dropping "." components and doubled
 * slashes. The path is the bundle owner's own host path, so ".." is kept
 * as written; realpath(3) is not used as the root need not exist yet. */
static char *path_join(const char *base, const char *rel)
{
	char *raw = ag_asprintf("%s/%s", base, rel);
	char *out = ag_malloc(strlen(raw) + 2);
	size_t o = 0;
	for (const char *p = raw; *p;) {
		while (*p == '/')
			p++;
		const char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p);
		if (len > 0 && !(len == 1 && p[0] == '.')) {
			out[o++] = '/';
			memcpy(out + o, p, len);
			o += len;
		}
		p = end;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	free(raw);
	return out;
}

static int parse_root(struct rt__ctx *c, json_t *root, const char *bundle, struct rt_spec *s)
{
	_cleanup_free_ char *path = NULL;
	int r = rt__get_str(c, root, "path", true, &path);
	if (r < 0)
		return r;
	if (path[0] == '\0')
		return rt__fail(c, "path", json_object_get(root, "path"), "must not be empty");
	r = rt__get_bool(c, root, "readonly", &s->root_readonly);
	if (r < 0)
		return r;
	if (path[0] == '/') {
		s->root_path = path_join("/", path);
		return 0;
	}
	_cleanup_free_ char *cwd = NULL;
	if (!bundle || bundle[0] != '/') {
		cwd = getcwd(NULL, 0);
		if (!cwd)
			return ag_error_set(c->err, errno, "root.path: resolve \"%s\"", path);
	}
	_cleanup_free_ char *base = NULL;
	if (!bundle)
		base = ag_strdup(cwd);
	else if (bundle[0] != '/')
		base = path_join(cwd, bundle);
	else
		base = ag_strdup(bundle);
	s->root_path = path_join(base, path);
	return 0;
}

/* ---- mounts ----------------------------------------------------------- */

enum rt_mopt_kind { RT_MOPT_SET, RT_MOPT_CLEAR, RT_MOPT_PROPAGATION, RT_MOPT_RRO };

static const struct {
	const char *name;
	enum rt_mopt_kind kind;
	unsigned long flags;
} rt_mount_options[] = {
        {"ro", RT_MOPT_SET, MS_RDONLY},
        /* Recursive read-only (runc, crun): every submount of an rbind too. */
        {"rro", RT_MOPT_RRO, MS_RDONLY},
        {"rw", RT_MOPT_CLEAR, MS_RDONLY},
        {"nosuid", RT_MOPT_SET, MS_NOSUID},
        {"suid", RT_MOPT_CLEAR, MS_NOSUID},
        {"nodev", RT_MOPT_SET, MS_NODEV},
        {"dev", RT_MOPT_CLEAR, MS_NODEV},
        {"noexec", RT_MOPT_SET, MS_NOEXEC},
        {"exec", RT_MOPT_CLEAR, MS_NOEXEC},
        {"sync", RT_MOPT_SET, MS_SYNCHRONOUS},
        {"async", RT_MOPT_CLEAR, MS_SYNCHRONOUS},
        {"dirsync", RT_MOPT_SET, MS_DIRSYNC},
        {"remount", RT_MOPT_SET, MS_REMOUNT},
        {"mand", RT_MOPT_SET, MS_MANDLOCK},
        {"nomand", RT_MOPT_CLEAR, MS_MANDLOCK},
        {"bind", RT_MOPT_SET, MS_BIND},
        {"rbind", RT_MOPT_SET, MS_BIND | MS_REC},
        {"relatime", RT_MOPT_SET, MS_RELATIME},
        {"norelatime", RT_MOPT_CLEAR, MS_RELATIME},
        {"strictatime", RT_MOPT_SET, MS_STRICTATIME},
        {"nostrictatime", RT_MOPT_CLEAR, MS_STRICTATIME},
        {"noatime", RT_MOPT_SET, MS_NOATIME},
        {"atime", RT_MOPT_CLEAR, MS_NOATIME},
        {"nodiratime", RT_MOPT_SET, MS_NODIRATIME},
        {"diratime", RT_MOPT_CLEAR, MS_NODIRATIME},
        {"private", RT_MOPT_PROPAGATION, MS_PRIVATE},
        {"rprivate", RT_MOPT_PROPAGATION, MS_PRIVATE | MS_REC},
        {"shared", RT_MOPT_PROPAGATION, MS_SHARED},
        {"rshared", RT_MOPT_PROPAGATION, MS_SHARED | MS_REC},
        {"slave", RT_MOPT_PROPAGATION, MS_SLAVE},
        {"rslave", RT_MOPT_PROPAGATION, MS_SLAVE | MS_REC},
        {"unbindable", RT_MOPT_PROPAGATION, MS_UNBINDABLE},
        {"runbindable", RT_MOPT_PROPAGATION, MS_UNBINDABLE | MS_REC},
};

static int parse_mount_options(struct rt__ctx *c, json_t *m, struct rt_mount *mnt)
{
	char **opts = NULL;
	size_t n = 0;
	int r = rt__get_strv(c, m, "options", false, NULL, &opts, &n);
	if (r <= 0)
		return r;
	size_t datalen = 0;
	for (size_t i = 0; i < n; i++)
		datalen += strlen(opts[i]) + 1;
	char *data = ag_calloc(datalen + 1, 1);
	size_t used = 0;
	for (size_t i = 0; i < n && r >= 0; i++) {
		const char *o = opts[i];
		if (o[0] == '\0') {
			size_t s = rt__push_key(c, "options");
			rt__push_index(c, i);
			r = rt__fail(c, NULL, json_array_get(json_object_get(m, "options"), i),
			             "must not be empty");
			rt__pop(c, s);
			break;
		}
		size_t k;
		for (k = 0; k < AG_ARRAY_SIZE(rt_mount_options); k++) {
			if (strcmp(o, rt_mount_options[k].name) == 0)
				break;
		}
		if (k == AG_ARRAY_SIZE(rt_mount_options)) {
			/* Appended at a tracked offset: strcat would be quadratic
			 * in a spec with a million options. */
			if (used)
				data[used++] = ',';
			size_t len = strlen(o);
			memcpy(data + used, o, len + 1);
			used += len;
			continue;
		}
		unsigned long f = rt_mount_options[k].flags;
		switch (rt_mount_options[k].kind) {
		case RT_MOPT_SET:
			mnt->flags |= f;
			mnt->clear_flags &= ~f;
			break;
		case RT_MOPT_CLEAR:
			mnt->clear_flags |= f;
			mnt->flags &= ~f;
			break;
		case RT_MOPT_RRO:
			mnt->flags |= f;
			mnt->clear_flags &= ~f;
			mnt->recursive_ro = true;
			break;
		case RT_MOPT_PROPAGATION:
			/* One propagation type per mount: the last one wins,
			 * as with mount(8). */
			mnt->propagation = f;
			break;
		}
	}
	rt__strv_free(opts);
	if (r < 0 || data[0] == '\0') {
		free(data);
		return r;
	}
	mnt->data = data;
	return 1;
}

static int parse_mounts(struct rt__ctx *c, json_t *top, struct rt_spec *s)
{
	json_t *arr = NULL;
	int r = rt__get_arr(c, top, "mounts", false, &arr);
	if (r <= 0)
		return r;
	size_t n = json_array_size(arr);
	s->mounts = ag_calloc(n ? n : 1, sizeof(*s->mounts));
	size_t saved = rt__push_key(c, "mounts");
	size_t i;
	json_t *m;
	json_array_foreach (arr, i, m) {
		size_t s2 = rt__push_index(c, i);
		struct rt_mount *mnt = &s->mounts[i];
		s->n_mounts = i + 1;
		if (!json_is_object(m))
			r = rt__fail(c, NULL, m, "must be an object");
		else if ((r = rt__get_str(c, m, "destination", true, &mnt->destination)) > 0) {
			size_t s3 = rt__push_key(c, "destination");
			r = rt__check_abs_path(c, json_object_get(m, "destination"),
			                       mnt->destination);
			rt__pop(c, s3);
		}
		if (r >= 0)
			r = rt__get_str(c, m, "type", false, &mnt->type);
		if (r >= 0)
			r = rt__get_str(c, m, "source", false, &mnt->source);
		if (r >= 0)
			r = parse_mount_options(c, m, mnt);
		if (r >= 0 && mnt->type && mnt->type[0] == '\0')
			r = rt__fail(c, "type", json_object_get(m, "type"), "must not be empty");
		/* Caught here rather than as an EINVAL from mount(2) halfway
		 * through setting up the container. */
		if (r >= 0 && !mnt->type && !(mnt->flags & MS_BIND))
			r = rt__fail(c, "type", NULL,
			             "is required unless the mount is a bind mount");
		if (r >= 0 && !mnt->source && (mnt->flags & MS_BIND))
			r = rt__fail(c, "source", NULL, "is required for a bind mount");
		rt__pop(c, s2);
		if (r < 0)
			break;
	}
	rt__pop(c, saved);
	return r < 0 ? r : 1;
}

/* ---- hooks ------------------------------------------------------------ */

static const char *const hook_keys[RT_HOOK_COUNT] = {
        [RT_HOOK_CREATE_RUNTIME] = "createRuntime",
        [RT_HOOK_CREATE_CONTAINER] = "createContainer",
        [RT_HOOK_START_CONTAINER] = "startContainer",
        [RT_HOOK_POSTSTART] = "poststart",
        [RT_HOOK_POSTSTOP] = "poststop",
        [RT_HOOK_PRESTART] = "prestart",
};

static int parse_hook(struct rt__ctx *c, json_t *h, struct rt_hook *hook)
{
	if (!json_is_object(h))
		return rt__fail(c, NULL, h, "must be an object");
	int r = rt__get_str(c, h, "path", true, &hook->path);
	if (r < 0)
		return r;
	size_t saved = rt__push_key(c, "path");
	r = rt__check_abs_path(c, json_object_get(h, "path"), hook->path);
	rt__pop(c, saved);
	if (r < 0)
		return r;
	if ((r = rt__get_strv(c, h, "args", false, NULL, &hook->args, NULL)) < 0)
		return r;
	if ((r = rt__get_strv(c, h, "env", false, rt__check_env, &hook->env, NULL)) < 0)
		return r;
	int64_t t = 0;
	r = rt__get_int(c, h, "timeout", false, 1, INT32_MAX, "a positive integer (seconds)", &t);
	if (r < 0)
		return r;
	hook->timeout = (int)t;
	return 0;
}

static int parse_hooks(struct rt__ctx *c, json_t *top, struct rt_hooks *hooks)
{
	json_t *obj = NULL;
	int r = rt__get_obj(c, top, "hooks", false, &obj);
	if (r <= 0)
		return r;
	size_t saved = rt__push_key(c, "hooks");
	for (int k = 0; k < RT_HOOK_COUNT; k++) {
		json_t *arr = NULL;
		r = rt__get_arr(c, obj, hook_keys[k], false, &arr);
		if (r < 0)
			goto out;
		if (r == 0)
			continue;
		size_t n = json_array_size(arr);
		hooks->list[k] = ag_calloc(n ? n : 1, sizeof(struct rt_hook));
		size_t s2 = rt__push_key(c, hook_keys[k]);
		for (size_t i = 0; i < n && r >= 0; i++) {
			size_t s3 = rt__push_index(c, i);
			hooks->n[k] = i + 1;
			r = parse_hook(c, json_array_get(arr, i), &hooks->list[k][i]);
			rt__pop(c, s3);
		}
		rt__pop(c, s2);
		if (r < 0)
			goto out;
	}
	r = 1;
out:
	rt__pop(c, saved);
	return r;
}

/* ---- top level -------------------------------------------------------- */

static int check_version(struct rt__ctx *c, json_t *top, struct rt_spec *s)
{
	int r = rt__get_str(c, top, "ociVersion", true, &s->oci_version);
	if (r < 0)
		return r;
	/* Only major version 1 exists; a 2.x spec may mean things we would
	 * silently get wrong. */
	if (strncmp(s->oci_version, "1.", 2) != 0)
		return rt__fail(c, "ociVersion", json_object_get(top, "ociVersion"),
		                "unsupported version (this runtime supports 1.x)");
	return 0;
}

static int check_hostname(struct rt__ctx *c, json_t *top, struct rt_spec *s)
{
	int r = rt__get_str(c, top, "hostname", false, &s->hostname);
	if (r <= 0)
		return r;
	json_t *v = json_object_get(top, "hostname");
	if (strlen(s->hostname) > 64)
		return rt__fail(c, "hostname", v, "must be at most 64 bytes");
	/* Without its own UTS namespace the container would rename the host. */
	if (!s->ns[RT_NS_UTS].enabled)
		return rt__fail(c, "hostname", v, "needs a \"uts\" namespace in linux.namespaces");
	return 0;
}

static int parse_top(struct rt__ctx *c, json_t *top, const char *bundle, struct rt_spec *s)
{
	int r;
	if ((r = check_version(c, top, s)) < 0)
		return r;

	json_t *obj = NULL;
	if ((r = rt__get_obj(c, top, "process", false, &obj)) < 0)
		return r;
	size_t saved;
	if (r > 0) {
		s->has_process = true;
		saved = rt__push_key(c, "process");
		r = rt__parse_process(c, obj, &s->process);
		rt__pop(c, saved);
		if (r < 0)
			return r;
	}

	if ((r = rt__get_obj(c, top, "root", true, &obj)) < 0)
		return r;
	saved = rt__push_key(c, "root");
	r = parse_root(c, obj, bundle, s);
	rt__pop(c, saved);
	if (r < 0)
		return r;

	if ((r = parse_mounts(c, top, s)) < 0)
		return r;

	if ((r = rt__get_obj(c, top, "linux", false, &obj)) < 0)
		return r;
	if (r > 0) {
		saved = rt__push_key(c, "linux");
		r = rt__parse_linux(c, obj, s);
		rt__pop(c, saved);
		if (r < 0)
			return r;
	}
	/* After linux: needs to know the namespaces. */
	if ((r = check_hostname(c, top, s)) < 0)
		return r;
	if ((r = rt__get_str(c, top, "domainname", false, NULL)) < 0)
		return r;
	if ((r = parse_hooks(c, top, &s->hooks)) < 0)
		return r;
	r = rt__get_kv(c, top, "annotations", NULL, &s->annotations, &s->n_annotations);
	if (r < 0)
		return r;
	return 0;
}

/* Parse `json` into *ret_top (the caller json_decref()s it), refusing
 * duplicate keys (two readers could pick different ones); `what` names the
 * document in a syntax error. jansson holds int64 only: integers beyond it
 * (RLIM_INFINITY, masks with bit 63) are rewritten as tagged strings and the
 * text parsed again, only then, so documents without them pay nothing. The
 * tags hold a NUL, which every getter refuses in a string a user wrote. (A
 * syntax error's column on the line of a rewritten integer is then counted
 * in the rewritten text.) */
static int load_json(struct rt__ctx *c, const char *what, const char *json, size_t len,
                     json_t **ret_top)
{
	if (len > RT_SPEC_MAX_BYTES)
		return ag_error_set(c->err, 0, "%s: %zu bytes is over the limit of %u bytes", what,
		                    len, RT_SPEC_MAX_BYTES);
	_cleanup_free_ char *rewritten = NULL;
	size_t rlen = 0;
	json_error_t jerr;
	json_t *top = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!top && strstr(jerr.text, "too big")) {
		int r = rt__bignum_rewrite(c, json, len, &rewritten, &rlen);
		if (r < 0)
			return r;
		if (r > 0)
			top = json_loadb(rewritten, rlen, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
			                 &jerr);
	}
	if (!top)
		return ag_error_set(c->err, 0, "%s: line %d, column %d: %s", what, jerr.line,
		                    jerr.column, jerr.text);
	if (!json_is_object(top)) {
		int r = rt__fail(c, NULL, top, "must be a JSON object");
		json_decref(top);
		return r;
	}
	*ret_top = top;
	return 0;
}

int rt_spec_parse(const char *json, size_t len, const char *bundle, struct rt_spec **ret_spec,
                  struct ag_error *err)
{
	struct rt__ctx c = {.err = err};
	json_t *top = NULL;
	int r = load_json(&c, "config.json", json, len, &top);
	if (r < 0)
		return r;
	struct rt_spec *s = ag_calloc(1, sizeof(*s));
	r = parse_top(&c, top, bundle, s);
	json_decref(top);
	if (r < 0) {
		rt_spec_free(s);
		return r;
	}
	*ret_spec = s;
	return 0;
}

int rt_process_parse(const char *json, size_t len, struct rt_process **ret_process,
                     struct ag_error *err)
{
	/* Paths start at "process", so an error reads as it would for the
	 * same object inside a config.json. */
	struct rt__ctx c = {.err = err};
	size_t saved = rt__push_key(&c, "process");
	json_t *top = NULL;
	int r = load_json(&c, "process", json, len, &top);
	if (r < 0)
		return r;
	struct rt_process *p = ag_calloc(1, sizeof(*p));
	r = rt__parse_process(&c, top, p);
	rt__pop(&c, saved);
	json_decref(top);
	if (r < 0) {
		rt_process_free(p);
		return r;
	}
	*ret_process = p;
	return 0;
}

/* Reads `path` (at most RT_SPEC_MAX_BYTES) into *ret_buf (caller frees). */
static int read_doc(const char *path, char **ret_buf, size_t *ret_len, struct ag_error *err)
{
	int r = ag_read_file_at(AT_FDCWD, path, RT_SPEC_MAX_BYTES, ret_buf, ret_len);
	if (r == -EFBIG)
		return ag_error_set(err, 0, "%s: over the limit of %u bytes", path,
		                    RT_SPEC_MAX_BYTES);
	if (r < 0)
		return ag_error_set(err, -r, "read %s", path);
	return 0;
}

int rt_spec_load(const char *bundle, struct rt_spec **ret_spec, struct ag_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	_cleanup_free_ char *path = ag_asprintf("%s/config.json", bundle);
	int r = read_doc(path, &buf, &len, err);
	if (r < 0)
		return r;
	r = rt_spec_parse(buf, len, bundle, ret_spec, err);
	if (r < 0)
		ag_error_wrap(err, "%s", path);
	return r;
}

int rt_process_load(const char *path, struct rt_process **ret_process, struct ag_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = read_doc(path, &buf, &len, err);
	if (r < 0)
		return r;
	r = rt_process_parse(buf, len, ret_process, err);
	if (r < 0)
		ag_error_wrap(err, "%s", path);
	return r;
}

/* ---- free ------------------------------------------------------------- */

static void process_clear(struct rt_process *p)
{
	rt__strv_free(p->args);
	rt__strv_free(p->env);
	free(p->cwd);
	free(p->user.additional_gids);
	free(p->rlimits);
}

void rt_process_free(struct rt_process *p)
{
	if (!p)
		return;
	process_clear(p);
	free(p);
}

void rt_spec_free(struct rt_spec *s)
{
	if (!s)
		return;
	free(s->oci_version);
	process_clear(&s->process);
	free(s->root_path);
	free(s->hostname);
	for (size_t i = 0; s->mounts && i < s->n_mounts; i++) {
		free(s->mounts[i].destination);
		free(s->mounts[i].type);
		free(s->mounts[i].source);
		free(s->mounts[i].data);
	}
	free(s->mounts);
	for (int i = 0; i < RT_NS_COUNT; i++)
		free(s->ns[i].path);
	free(s->uid_mappings);
	free(s->gid_mappings);
	rt__resources_free(&s->resources);
	free(s->cgroups_path);
	rt__seccomp_free(s->seccomp);
	rt__strv_free(s->masked_paths);
	rt__strv_free(s->readonly_paths);
	rt__kv_free(s->sysctl, s->n_sysctl);
	rt__devices_free(s->devices, s->n_devices);
	for (int k = 0; k < RT_HOOK_COUNT; k++) {
		for (size_t i = 0; s->hooks.list[k] && i < s->hooks.n[k]; i++) {
			free(s->hooks.list[k][i].path);
			rt__strv_free(s->hooks.list[k][i].args);
			rt__strv_free(s->hooks.list[k][i].env);
		}
		free(s->hooks.list[k]);
	}
	rt__kv_free(s->annotations, s->n_annotations);
	free(s);
}
