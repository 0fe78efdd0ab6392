/* spec_seccomp.c: linux.seccomp → struct rt_seccomp, in libseccomp's own
 * numbers (SCMP_ACT_*, SCMP_ARCH_*, SCMP_CMP_*) so the launcher hands them
 * to seccomp_rule_add_array as they are. Syscall names are not resolved
 * here: a name one kernel or libseccomp lacks is skipped at load time, as
 * runc and crun do, so one profile serves several kernels. */
#include "runtime/spec_internal.h"

#include "common/map.h"

#include <ctype.h>
#include <seccomp.h>
#include <string.h>

enum { RT_ACT_ERRNO_RET = 1 << 0 }; /* the action takes errnoRet */

static const struct {
	const char *name;
	uint32_t action;
	unsigned flags;
} rt_actions[] = {
        {"SCMP_ACT_KILL", SCMP_ACT_KILL, 0},
        {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, 0},
        {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, 0},
        {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, 0},
        {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), RT_ACT_ERRNO_RET},
        {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), RT_ACT_ERRNO_RET},
        {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, 0},
        {"SCMP_ACT_LOG", SCMP_ACT_LOG, 0},
};

static const struct {
	const char *name;
	int op;
} rt_ops[] = {
        {"SCMP_CMP_NE", SCMP_CMP_NE},
        {"SCMP_CMP_LT", SCMP_CMP_LT},
        {"SCMP_CMP_LE", SCMP_CMP_LE},
        {"SCMP_CMP_EQ", SCMP_CMP_EQ},
        {"SCMP_CMP_GE", SCMP_CMP_GE},
        {"SCMP_CMP_GT", SCMP_CMP_GT},
        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

/* SECCOMP_FILTER_FLAG_* from linux/seccomp.h, spelled out because older
 * headers lack the newer ones. NEW_LISTENER is absent on purpose: it needs
 * SCMP_ACT_NOTIFY and a listener, which this runtime does not offer. */
static const struct {
	const char *name;
	unsigned flag;
} rt_filter_flags[] = {
        {"SECCOMP_FILTER_FLAG_TSYNC", 1u << 0},
        {"SECCOMP_FILTER_FLAG_LOG", 1u << 1},
        {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", 1u << 2},
        {"SECCOMP_FILTER_FLAG_TSYNC_ESRCH", 1u << 4},
        {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 1u << 5},
};

/* Read obj[action_key] (+ obj[errno_key]) into one libseccomp action. */
static int parse_action(struct rt__ctx *c, json_t *obj, const char *action_key,
                        const char *errno_key, uint32_t *ret)
{
	_cleanup_free_ char *name = NULL;
	int r = rt__get_str(c, obj, action_key, true, &name);
	if (r < 0)
		return r;
	size_t k;
	for (k = 0; k < AG_ARRAY_SIZE(rt_actions); k++) {
		if (strcmp(name, rt_actions[k].name) == 0)
			break;
	}
	if (k == AG_ARRAY_SIZE(rt_actions)) {
		if (strcmp(name, "SCMP_ACT_NOTIFY") == 0)
			return rt__fail(c, action_key, NULL,
			                "SCMP_ACT_NOTIFY is not supported (no seccomp listener)");
		return rt__fail(c, action_key, NULL, "unknown action \"%s\"", name);
	}
	int64_t e = EPERM;
	r = rt__get_int(c, obj, errno_key, false, 0, 4095, "an integer between 0 and 4095", &e);
	if (r < 0)
		return r;
	if (r > 0 && !(rt_actions[k].flags & RT_ACT_ERRNO_RET))
		return rt__fail(c, errno_key, json_object_get(obj, errno_key),
		                "only applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE");
	*ret = rt_actions[k].action;
	if (rt_actions[k].flags & RT_ACT_ERRNO_RET)
		*ret |= (uint32_t)e & 0xffffu;
	return 0;
}

static int check_arch(struct rt__ctx *c, const json_t *v, const char *s)
{
	(void)v;
	char lower[32];
	size_t n = 0;
	if (strncmp(s, "SCMP_ARCH_", 10) == 0 && strlen(s + 10) < sizeof(lower)) {
		for (const char *p = s + 10; *p; p++)
			lower[n++] = (char)tolower((unsigned char)*p);
	}
	lower[n] = '\0';
	/* SCMP_ARCH_NATIVE resolves to 0; the spec wants a named arch. */
	if (n == 0 || seccomp_arch_resolve_name(lower) == 0)
		return rt__fail(c, NULL, NULL, "unknown architecture \"%s\"", s);
	return 0;
}

static uint32_t arch_number(const char *s)
{
	char lower[32];
	size_t n = 0;
	for (const char *p = s + 10; *p && n < sizeof(lower) - 1; p++)
		lower[n++] = (char)tolower((unsigned char)*p);
	lower[n] = '\0';
	return seccomp_arch_resolve_name(lower);
}

static int parse_arches(struct rt__ctx *c, json_t *obj, struct rt_seccomp *sc)
{
	char **names = NULL;
	size_t n = 0;
	int r = rt__get_strv(c, obj, "architectures", false, check_arch, &names, &n);
	if (r <= 0)
		return r;
	sc->arches = ag_calloc(n ? n : 1, sizeof(uint32_t));
	for (size_t i = 0; i < n && r >= 0; i++) {
		uint32_t a = arch_number(names[i]);
		for (size_t j = 0; j < sc->n_arches; j++) {
			if (sc->arches[j] == a) {
				size_t saved = rt__push_key(c, "architectures");
				rt__push_index(c, i);
				r = rt__fail(c, NULL, NULL, "duplicate architecture \"%s\"",
				             names[i]);
				rt__pop(c, saved);
			}
		}
		if (r >= 0)
			sc->arches[sc->n_arches++] = a;
	}
	rt__strv_free(names);
	return r;
}

static int parse_flags(struct rt__ctx *c, json_t *obj, struct rt_seccomp *sc)
{
	json_t *arr = NULL;
	int r = rt__get_arr(c, obj, "flags", false, &arr);
	if (r <= 0)
		return r;
	size_t saved = rt__push_key(c, "flags");
	size_t i;
	json_t *e;
	json_array_foreach (arr, i, e) {
		size_t s2 = rt__push_index(c, i);
		size_t k = AG_ARRAY_SIZE(rt_filter_flags);
		if (!rt__is_str(c, e)) {
			r = rt__fail(c, NULL, e, "must be a string");
		} else {
			for (k = 0; k < AG_ARRAY_SIZE(rt_filter_flags); k++) {
				if (strcmp(json_string_value(e), rt_filter_flags[k].name) == 0)
					break;
			}
			if (k == AG_ARRAY_SIZE(rt_filter_flags))
				r = rt__fail(c, NULL, NULL, "unknown flag \"%s\"",
				             json_string_value(e));
		}
		rt__pop(c, s2);
		if (r < 0)
			break;
		sc->flags |= rt_filter_flags[k].flag;
	}
	rt__pop(c, saved);
	return r;
}

static int parse_arg(struct rt__ctx *c, json_t *a, struct rt_seccomp_arg *arg)
{
	if (!json_is_object(a))
		return rt__fail(c, NULL, a, "must be an object");
	int64_t v = 0;
	int r = rt__get_int(c, a, "index", true, 0, 5, "an integer between 0 and 5", &v);
	if (r < 0)
		return r;
	arg->index = (unsigned)v;
	/* The whole uint64 range: masks with bit 63 set are common. */
	const char *nn = "an integer between 0 and 18446744073709551615";
	if ((r = rt__get_u64(c, a, "value", true, 0, UINT64_MAX, nn, &arg->value)) < 0)
		return r;
	arg->value_two = 0;
	if ((r = rt__get_u64(c, a, "valueTwo", false, 0, UINT64_MAX, nn, &arg->value_two)) < 0)
		return r;
	_cleanup_free_ char *op = NULL;
	if ((r = rt__get_str(c, a, "op", true, &op)) < 0)
		return r;
	for (size_t k = 0; k < AG_ARRAY_SIZE(rt_ops); k++) {
		if (strcmp(op, rt_ops[k].name) == 0) {
			arg->op = rt_ops[k].op;
			return 0;
		}
	}
	return rt__fail(c, "op", NULL, "unknown operator \"%s\"", op);
}

static int parse_args(struct rt__ctx *c, json_t *sys, struct rt_seccomp_rule *rule)
{
	json_t *arr = NULL;
	int r = rt__get_arr(c, sys, "args", false, &arr);
	if (r <= 0)
		return r;
	size_t n = json_array_size(arr);
	rule->args = ag_calloc(n ? n : 1, sizeof(*rule->args));
	size_t saved = rt__push_key(c, "args");
	for (size_t i = 0; i < n && r >= 0; i++) {
		size_t s2 = rt__push_index(c, i);
		r = parse_arg(c, json_array_get(arr, i), &rule->args[i]);
		/* libseccomp refuses two comparisons of one argument in a rule
		 * (EINVAL at load); catch it here with the path. */
		for (size_t j = 0; r >= 0 && j < i; j++) {
			if (rule->args[j].index == rule->args[i].index)
				r = rt__fail(c, "index",
				             json_object_get(json_array_get(arr, i), "index"),
				             "argument already compared in this rule (args[%zu]); "
				             "use a second rule",
				             j);
		}
		if (r >= 0)
			rule->n_args = i + 1;
		rt__pop(c, s2);
	}
	rt__pop(c, saved);
	return r;
}

static int check_syscall_name(struct rt__ctx *c, const json_t *v, const char *s)
{
	if (s[0] == '\0')
		return rt__fail(c, NULL, v, "must be a non-empty syscall name");
	return 0;
}

static int parse_rule(struct rt__ctx *c, json_t *sys, struct rt_seccomp_rule *rule)
{
	if (!json_is_object(sys))
		return rt__fail(c, NULL, sys, "must be an object");
	json_t *names = json_object_get(sys, "names");
	if (!json_is_array(names) || json_array_size(names) == 0)
		return rt__fail(c, "names", names, "must be a non-empty array of syscall names");
	int r = rt__get_strv(c, sys, "names", true, check_syscall_name, &rule->names,
	                     &rule->n_names);
	if (r < 0)
		return r;
	if ((r = parse_action(c, sys, "action", "errnoRet", &rule->action)) < 0)
		return r;
	return parse_args(c, sys, rule);
}

struct rt_buf {
	unsigned char *p;
	size_t len, cap;
};

static void buf_put(struct rt_buf *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = ag_realloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void buf_u64(struct rt_buf *b, uint64_t v)
{
	buf_put(b, &v, sizeof(v));
}

/* Everything the compiled filter depends on, in order, with lengths:
 * the same profile always gives the same bytes, whatever its JSON looked
 * like, and different profiles never do. */
static void canonical_seccomp(struct rt_seccomp *sc)
{
	struct rt_buf b = {0};
	buf_put(&b, "AGSC1", 5);
	buf_u64(&b, sc->default_action);
	buf_u64(&b, sc->flags);
	buf_u64(&b, sc->n_arches);
	for (size_t i = 0; i < sc->n_arches; i++)
		buf_u64(&b, sc->arches[i]);
	buf_u64(&b, sc->n_rules);
	for (size_t i = 0; i < sc->n_rules; i++) {
		const struct rt_seccomp_rule *r = &sc->rules[i];
		buf_u64(&b, r->action);
		buf_u64(&b, r->n_names);
		for (size_t n = 0; n < r->n_names; n++) {
			size_t len = strlen(r->names[n]);
			buf_u64(&b, len);
			buf_put(&b, r->names[n], len);
		}
		buf_u64(&b, r->n_args);
		for (size_t a = 0; a < r->n_args; a++) {
			buf_u64(&b, r->args[a].index);
			buf_u64(&b, (uint64_t)r->args[a].op);
			buf_u64(&b, r->args[a].value);
			buf_u64(&b, r->args[a].value_two);
		}
	}
	sc->canonical = b.p;
	sc->canonical_len = b.len;
	/* 64-bit FNV-1a: a fast, well-spread hash for a cache key; collisions
	 * are caught by comparing the canonical bytes as well. */
	sc->hash = ag_hash_bytes(b.p, b.len);
}

int rt__parse_seccomp(struct rt__ctx *c, json_t *obj, struct rt_seccomp **ret)
{
	struct rt_seccomp *sc = ag_calloc(1, sizeof(*sc));
	int r = parse_action(c, obj, "defaultAction", "defaultErrnoRet", &sc->default_action);
	if (r < 0)
		goto fail;
	if ((r = parse_arches(c, obj, sc)) < 0 || (r = parse_flags(c, obj, sc)) < 0)
		goto fail;
	if (json_object_get(obj, "listenerPath")) {
		r = rt__fail(c, "listenerPath", NULL,
		             "is not supported (this runtime has no seccomp notify)");
		goto fail;
	}
	json_t *arr = NULL;
	if ((r = rt__get_arr(c, obj, "syscalls", false, &arr)) < 0)
		goto fail;
	size_t n = json_array_size(arr);
	sc->rules = ag_calloc(n ? n : 1, sizeof(*sc->rules));
	size_t saved = rt__push_key(c, "syscalls");
	for (size_t i = 0; i < n && r >= 0; i++) {
		size_t s2 = rt__push_index(c, i);
		sc->n_rules = i + 1;
		r = parse_rule(c, json_array_get(arr, i), &sc->rules[i]);
		rt__pop(c, s2);
	}
	rt__pop(c, saved);
	if (r < 0)
		goto fail;
	canonical_seccomp(sc);
	*ret = sc;
	return 0;
fail:
	rt__seccomp_free(sc);
	return r;
}

void rt__seccomp_free(struct rt_seccomp *s)
{
	if (!s)
		return;
	free(s->arches);
	for (size_t i = 0; s->rules && i < s->n_rules; i++) {
		rt__strv_free(s->rules[i].names);
		free(s->rules[i].args);
	}
	free(s->rules);
	free(s->canonical);
	free(s);
}
