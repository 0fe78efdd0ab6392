/* policy.c: refuse escalations a role is not allowed (policy.h). */
#include "agent/policy.h"
#include "runtime/runtime.h"

#include <string.h>

static const char *const default_caps[] = {
        "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
        "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
        "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
        "CAP_KILL",    "CAP_AUDIT_WRITE",
};

bool pol_role_in(const char *list, const char *role)
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

static bool bind_allowed(const char *list, const char *src)
{
	if (!list || src[0] != '/' || strstr(src, "/../") || strstr(src, "/./") ||
	    (strlen(src) >= 3 && strcmp(src + strlen(src) - 3, "/..") == 0))
		return false;
	for (const char *p = list; *p;) {
		const char *e = strchrnul(p, ',');
		if (e > p && *p == '/' && path_under(src, p, (size_t)(e - p)))
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

static bool is_bind(const json_t *m)
{
	const char *type = json_string_value(json_object_get(m, "type"));
	if (type && strcmp(type, "bind") == 0)
		return true;
	size_t i;
	json_t *o;
	json_array_foreach (json_object_get(m, "options"), i, o) {
		const char *s = json_string_value(o);
		if (s && (strcmp(s, "bind") == 0 || strcmp(s, "rbind") == 0))
			return true;
	}
	return false;
}

static bool default_cap(const char *c)
{
	for (size_t i = 0; i < AG_ARRAY_SIZE(default_caps); i++)
		if (strcmp(default_caps[i], c) == 0)
			return true;
	return false;
}

static bool has_userns(const json_t *lx, bool *ret_maps_root)
{
	size_t i;
	json_t *n;
	bool has = false;
	json_array_foreach (json_object_get(lx, "namespaces"), i, n) {
		const char *t = json_string_value(json_object_get(n, "type"));
		if (t && strcmp(t, "user") == 0)
			has = true;
	}
	*ret_maps_root = false;
	json_array_foreach (json_object_get(lx, "uidMappings"), i, n) {
		json_int_t h = json_integer_value(json_object_get(n, "hostID"));
		json_int_t s = json_integer_value(json_object_get(n, "size"));
		/* any range that holds the host's uid 0 lets the container be it */
		if (h == 0 && s > 0)
			*ret_maps_root = true;
	}
	return has;
}

int pol_check_uid(const struct pol_config *p, const char *role, uint32_t uid, const char *field,
                  struct ag_error *err)
{
	if (uid == 0 && !pol_role_in(p->allow_root, role))
		return refuse(err, field, "uid 0 on the host (no user namespace)", role,
		              "policy_allow_root");
	return 0;
}

int pol_check_oci(const struct pol_config *p, const char *role, const json_t *oci,
                  struct ag_error *err)
{
	char field[256];
	size_t i;
	json_t *v;
	const char *base = "container.oci";

	/* host bind mounts */
	json_array_foreach (json_object_get(oci, "mounts"), i, v) {
		if (!is_bind(v))
			continue;
		const char *src = json_string_value(json_object_get(v, "source"));
		if (pol_role_in(p->allow_host_mounts, role))
			continue;
		if (src && bind_allowed(p->bind_paths, src))
			continue;
		snprintf(field, sizeof(field), "%s.mounts[%zu].source", base, i);
		char what[300];
		snprintf(what, sizeof(what), "a bind mount of the host's `%s`", src ? src : "");
		return ag_error_msg(err, EPERM,
		                    "%s: %s is not allowed for role \"%s\" (agent flags "
		                    "--policy_bind_paths, --policy_allow_host_mounts)",
		                    field, what, role);
	}

	/* capabilities */
	const json_t *proc = json_object_get(oci, "process");
	static const char *const sets[] = {"bounding", "effective", "permitted", "inheritable",
	                                   "ambient"};
	if (!pol_role_in(p->allow_capabilities, role)) {
		const json_t *caps = json_object_get(proc, "capabilities");
		for (size_t s = 0; s < AG_ARRAY_SIZE(sets); s++) {
			json_array_foreach (json_object_get(caps, sets[s]), i, v) {
				const char *c = json_string_value(v);
				if (c && default_cap(c))
					continue;
				snprintf(field, sizeof(field), "%s.process.capabilities.%s", base,
				         sets[s]);
				return refuse(err, field, c ? c : "a non-string capability", role,
				              "policy_allow_capabilities");
			}
		}
	}

	/* seccomp and no_new_privs */
	const json_t *lx = json_object_get(oci, "linux");
	if (!pol_role_in(p->allow_unconfined, role)) {
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
	if (!pol_role_in(p->allow_host_namespaces, role)) {
		json_array_foreach (json_object_get(lx, "namespaces"), i, v) {
			if (!json_object_get(v, "path"))
				continue;
			snprintf(field, sizeof(field), "%s.linux.namespaces[%zu].path", base, i);
			char what[128];
			const char *t = json_string_value(json_object_get(v, "type"));
			snprintf(what, sizeof(what), "joining an existing %s namespace",
			         t ? t : "(untyped)");
			return refuse(err, field, what, role, "policy_allow_host_namespaces");
		}
	}

	/* sysctls */
	if (!pol_role_in(p->allow_sysctls, role)) {
		const json_t *sc = json_object_get(lx, "sysctl");
		if (json_object_size(sc) > 0) {
			const char *key = json_object_iter_key(json_object_iter((json_t *)sc));
			snprintf(field, sizeof(field), "%s.linux.sysctl.%s", base, key);
			return refuse(err, field, "setting a sysctl", role, "policy_allow_sysctls");
		}
	}

	/* root on the host */
	if (!pol_role_in(p->allow_root, role)) {
		const json_t *user = json_object_get(proc, "user");
		json_int_t uid = json_integer_value(json_object_get(user, "uid"));
		bool maps_root;
		bool userns = has_userns(lx, &maps_root);
		if (uid == 0 && (!userns || maps_root))
			return refuse(err, "container.oci.process.user.uid",
			              userns ? "uid 0 mapped to the host's uid 0"
			                     : "uid 0 on the host (no user namespace)",
			              role, "policy_allow_root");
	}
	return 0;
}

void pol_apply_defaults(json_t *oci)
{
	json_t *lx = json_object_get(oci, "linux");
	if (!json_is_object(lx)) {
		lx = json_object();
		json_object_set_new(oci, "linux", lx);
	}
	if (!json_object_get(lx, "seccomp")) {
		_cleanup_free_ char *prof = rt_seccomp_default_profile_json();
		json_t *j = prof ? json_loads(prof, 0, NULL) : NULL;
		if (j)
			json_object_set_new(lx, "seccomp", j);
	}
	json_t *proc = json_object_get(oci, "process");
	if (json_is_object(proc) && !json_object_get(proc, "noNewPrivileges"))
		json_object_set_new(proc, "noNewPrivileges", json_true());
}
