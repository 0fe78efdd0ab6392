/* spec_process.c: the process section of config.json: args, env, cwd,
 * user, capabilities (as CAP_* bitmasks), rlimits, noNewPrivileges,
 * oomScoreAdj, terminal. */
#include "runtime/spec_internal.h"

#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/resource.h>

static const struct {
	const char *name;
	int resource;
} rlimit_table[] = {
        {"RLIMIT_AS", RLIMIT_AS},
        {"RLIMIT_CORE", RLIMIT_CORE},
        {"RLIMIT_CPU", RLIMIT_CPU},
        {"RLIMIT_DATA", RLIMIT_DATA},
        {"RLIMIT_FSIZE", RLIMIT_FSIZE},
        {"RLIMIT_LOCKS", RLIMIT_LOCKS},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
        {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
        {"RLIMIT_NICE", RLIMIT_NICE},
        {"RLIMIT_NOFILE", RLIMIT_NOFILE},
        {"RLIMIT_NPROC", RLIMIT_NPROC},
        {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
        {"RLIMIT_RTTIME", RLIMIT_RTTIME},
        {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"RLIMIT_STACK", RLIMIT_STACK},
};

int rt_rlimit_from_name(const char *name)
{
	for (size_t k = 0; name && k < AG_ARRAY_SIZE(rlimit_table); k++)
		if (strcmp(name, rlimit_table[k].name) == 0)
			return rlimit_table[k].resource;
	return -1;
}

static int parse_rlimits(struct rt__ctx *c, json_t *proc, struct rt_process *p)
{
	json_t *arr = NULL;
	int r = rt__get_arr(c, proc, "rlimits", false, &arr);
	if (r <= 0)
		return r;
	size_t n = json_array_size(arr);
	p->rlimits = ag_calloc(n ? n : 1, sizeof(*p->rlimits));
	size_t saved = rt__push_key(c, "rlimits");
	size_t i;
	json_t *e;
	json_array_foreach (arr, i, e) {
		size_t s2 = rt__push_index(c, i);
		struct rt_rlimit *rl = &p->rlimits[i];
		_cleanup_free_ char *type = NULL;
		uint64_t soft = 0, hard = 0;
		if (!json_is_object(e)) {
			r = rt__fail(c, NULL, e, "must be an object");
			goto out;
		}
		r = rt__get_str(c, e, "type", true, &type);
		if (r < 0)
			goto out;
		rl->resource = rt_rlimit_from_name(type);
		if (rl->resource < 0) {
			r = rt__fail(c, "type", NULL, "unknown rlimit \"%s\"", type);
			goto out;
		}
		for (size_t k = 0; k < i; k++) {
			if (p->rlimits[k].resource == rl->resource) {
				r = rt__fail(c, "type", NULL, "duplicate rlimit \"%s\"", type);
				goto out;
			}
		}
		/* RLIM_INFINITY is 2^64-1, as other tools write it. */
		const char *what = "an integer between 0 and 18446744073709551615";
		r = rt__get_u64(c, e, "soft", true, 0, UINT64_MAX, what, &soft);
		if (r < 0)
			goto out;
		r = rt__get_u64(c, e, "hard", true, 0, UINT64_MAX, what, &hard);
		if (r < 0)
			goto out;
		if (soft > hard) {
			r = rt__fail(c, "soft", json_object_get(e, "soft"),
			             "must not exceed hard (%llu)", (unsigned long long)hard);
			goto out;
		}
		rl->soft = soft;
		rl->hard = hard;
		p->n_rlimits = i + 1;
	out:
		rt__pop(c, s2);
		if (r < 0)
			break;
	}
	rt__pop(c, saved);
	return r < 0 ? r : 1;
}

/* "CAP_X" in any case; libcap's cap_from_name also takes bare numbers and
 * lower-case names without the prefix, which the OCI spec does not. */
int rt_cap_from_name(const char *name)
{
	cap_value_t cap;
	if (strncasecmp(name, "CAP_", 4) != 0 || cap_from_name(name, &cap) < 0 || cap < 0 ||
	    cap > 63)
		return -EINVAL;
	return cap;
}

static int check_cap(struct rt__ctx *c, const json_t *v, const char *s)
{
	if (rt_cap_from_name(s) < 0)
		return rt__fail(c, NULL, NULL, "unknown capability \"%s\"", json_string_value(v));
	return 0;
}

static int parse_capset(struct rt__ctx *c, json_t *caps, const char *key, uint64_t *ret)
{
	char **names = NULL;
	size_t n = 0;
	int r = rt__get_strv(c, caps, key, false, check_cap, &names, &n);
	if (r <= 0)
		return r;
	uint64_t mask = 0;
	for (size_t i = 0; i < n; i++)
		mask |= UINT64_C(1) << rt_cap_from_name(names[i]);
	rt__strv_free(names);
	*ret = mask;
	return 1;
}

static int parse_user(struct rt__ctx *c, json_t *proc, struct rt_user *u)
{
	json_t *user = NULL;
	int r = rt__get_obj(c, proc, "user", false, &user);
	if (r <= 0)
		return r;
	size_t saved = rt__push_key(c, "user");
	int64_t v = 0;
	/* (uid_t)-1 means "no change" to setresuid(2); never a real id. */
	const char *what = "an integer between 0 and 4294967294";
	r = rt__get_int(c, user, "uid", true, 0, UINT32_MAX - 1, what, &v);
	if (r < 0)
		goto out;
	u->uid = (uint32_t)v;
	r = rt__get_int(c, user, "gid", true, 0, UINT32_MAX - 1, what, &v);
	if (r < 0)
		goto out;
	u->gid = (uint32_t)v;
	r = rt__get_int(c, user, "umask", false, 0, 0777, "an integer between 0 and 511 (0777)",
	                &v);
	if (r < 0)
		goto out;
	if (r > 0) {
		u->has_umask = true;
		u->umask = (uint32_t)v;
	}
	json_t *gids = NULL;
	r = rt__get_arr(c, user, "additionalGids", false, &gids);
	if (r < 0)
		goto out;
	if (r > 0) {
		size_t n = json_array_size(gids);
		u->additional_gids = ag_calloc(n ? n : 1, sizeof(uint32_t));
		size_t s2 = rt__push_key(c, "additionalGids");
		for (size_t i = 0; i < n; i++) {
			json_t *g = json_array_get(gids, i);
			if (!json_is_integer(g) || json_integer_value(g) < 0 ||
			    json_integer_value(g) > UINT32_MAX - 1) {
				size_t s3 = rt__push_index(c, i);
				r = rt__fail(c, NULL, g, "must be %s", what);
				rt__pop(c, s3);
				break;
			}
			u->additional_gids[i] = (uint32_t)json_integer_value(g);
			u->n_additional_gids = i + 1;
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

int rt__parse_process(struct rt__ctx *c, json_t *proc, struct rt_process *p)
{
	int r;
	json_t *args = json_object_get(proc, "args");
	if (!args || !json_is_array(args) || json_array_size(args) == 0)
		return rt__fail(c, "args", args, "must be a non-empty array of strings");
	r = rt__get_strv(c, proc, "args", true, NULL, &p->args, &p->n_args);
	if (r < 0)
		return r;
	if (p->args[0][0] == '\0') {
		size_t s0 = rt__push_key(c, "args");
		rt__push_index(c, 0);
		r = rt__fail(c, NULL, json_array_get(args, 0), "must name the program to run");
		rt__pop(c, s0);
		return r;
	}
	r = rt__get_strv(c, proc, "env", false, rt__check_env, &p->env, &p->n_env);
	if (r < 0)
		return r;
	if (r == 0)
		p->env = ag_calloc(1, sizeof(char *));
	r = rt__get_str(c, proc, "cwd", true, &p->cwd);
	if (r < 0)
		return r;
	size_t saved = rt__push_key(c, "cwd");
	r = rt__check_abs_path(c, json_object_get(proc, "cwd"), p->cwd);
	rt__pop(c, saved);
	if (r < 0)
		return r;
	r = parse_user(c, proc, &p->user);
	if (r < 0)
		return r;

	json_t *caps = NULL;
	r = rt__get_obj(c, proc, "capabilities", false, &caps);
	if (r < 0)
		return r;
	if (r > 0) {
		p->has_caps = true;
		saved = rt__push_key(c, "capabilities");
		if ((r = parse_capset(c, caps, "bounding", &p->caps.bounding)) >= 0 &&
		    (r = parse_capset(c, caps, "effective", &p->caps.effective)) >= 0 &&
		    (r = parse_capset(c, caps, "inheritable", &p->caps.inheritable)) >= 0 &&
		    (r = parse_capset(c, caps, "permitted", &p->caps.permitted)) >= 0)
			r = parse_capset(c, caps, "ambient", &p->caps.ambient);
		rt__pop(c, saved);
		if (r < 0)
			return r;
	}
	r = parse_rlimits(c, proc, p);
	if (r < 0)
		return r;
	r = rt__get_bool(c, proc, "noNewPrivileges", &p->no_new_privileges);
	if (r < 0)
		return r;
	r = rt__get_bool(c, proc, "terminal", &p->terminal);
	if (r < 0)
		return r;
	int64_t v;
	r = rt__get_int(c, proc, "oomScoreAdj", false, -1000, 1000,
	                "an integer between -1000 and 1000", &v);
	if (r < 0)
		return r;
	if (r > 0) {
		p->has_oom_score_adj = true;
		p->oom_score_adj = (int)v;
	}
	json_t *cs = NULL;
	if ((r = rt__get_obj(c, proc, "consoleSize", false, &cs)) < 0)
		return r;
	if (cs) {
		/* struct winsize holds unsigned shorts. */
		const char *what = "an integer between 0 and 65535";
		int64_t h = 0, w = 0;
		saved = rt__push_key(c, "consoleSize");
		if ((r = rt__get_int(c, cs, "height", true, 0, UINT16_MAX, what, &h)) >= 0)
			r = rt__get_int(c, cs, "width", true, 0, UINT16_MAX, what, &w);
		rt__pop(c, saved);
		if (r < 0)
			return r;
		p->has_console_size = true;
		p->console_rows = (uint16_t)h;
		p->console_cols = (uint16_t)w;
	}
	/* Labels of security modules this runtime does not apply: refused
	 * when set, never type-checked and dropped (an empty string asks for
	 * nothing). */
	if ((r = rt__refuse_label(c, proc, "apparmorProfile", "AppArmor")) < 0 ||
	    (r = rt__refuse_label(c, proc, "selinuxLabel", "SELinux")) < 0)
		return r;
	return 0;
}
