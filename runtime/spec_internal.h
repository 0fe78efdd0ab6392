/* spec_internal.h: what the config.json parser's files share (private to
 * runtime/): the parse context that tracks the JSON path of the value being
 * read, so every error can name it, and typed getters that check a value's
 * JSON type before anyone looks at it.
 *
 * Getters return 0 when the key is absent, 1 when it was read, and -EINVAL
 * (with the error set) when it is present but wrong.
 */
#ifndef AGORA_RUNTIME_SPEC_INTERNAL_H
#define AGORA_RUNTIME_SPEC_INTERNAL_H

#include "runtime/runtime.h"

#include <jansson.h>

#define RT__PATH_MAX 512

/* jansson holds integers as int64 only; the pre-pass (rt__bignum_rewrite)
 * turns integer literals outside that range into strings made of this tag
 * and the literal's text, so they reach the getters exactly. The tag has a
 * NUL byte (refused in every string a user may write) and a random nonce
 * drawn per parse, so no string in a config.json can pass for a number. */
#define RT__BIGNUM_TAG_LEN 22 /* "\0u64:" + 16 hex + ":" */

struct rt__ctx {
	struct ag_error *err;
	char path[RT__PATH_MAX];
	size_t len;
	bool bignums; /* the pre-pass rewrote something: `tag` is set */
	char tag[RT__BIGNUM_TAG_LEN];
};

/* Rewrite the integer literals of `json` that do not fit in int64 (see
 * above) with c->tag, which it draws. Returns 0 with *ret NULL when there
 * are none (the common case: c->tag is left unset), 1 with a malloc'd copy
 * in *ret (caller frees) and its length. */
AG_WARN_UNUSED int rt__bignum_rewrite(struct rt__ctx *c, const char *json, size_t len, char **ret,
                                      size_t *ret_len);

/* The literal text of `v` when it is a rewritten out-of-range integer
 * ("18446744073709551615", "-99999999999999999999"), else NULL. */
const char *rt__bignum_text(const struct rt__ctx *c, const json_t *v);

/* Path handling: push returns the old length, pop restores it. Keys that
 * are not plain identifiers (annotation and sysctl names) are written
 * ["like.this"] so the path stays unambiguous. */
size_t rt__push_key(struct rt__ctx *c, const char *key);
size_t rt__push_index(struct rt__ctx *c, size_t i);
void rt__pop(struct rt__ctx *c, size_t saved);

/* "<path>[.key]: <reason>" and, when `got` is not NULL, ", got <json>".
 * `key` may be NULL (the current path is the value). Returns -EINVAL. */
int rt__fail(struct rt__ctx *c, const char *key, const json_t *got, const char *fmt, ...)
        AG_PRINTF(4, 5);

/* Typed getters of obj[key]. A missing key with `required` set is an
 * error ("<path>.key: is required"). */
AG_WARN_UNUSED int rt__get_obj(struct rt__ctx *c, json_t *obj, const char *key, bool required,
                               json_t **ret);
AG_WARN_UNUSED int rt__get_arr(struct rt__ctx *c, json_t *obj, const char *key, bool required,
                               json_t **ret);
AG_WARN_UNUSED int rt__get_bool(struct rt__ctx *c, json_t *obj, const char *key, bool *ret);
/* A string, copied (caller frees) when ret is not NULL. */
AG_WARN_UNUSED int rt__get_str(struct rt__ctx *c, json_t *obj, const char *key, bool required,
                               char **ret);
/* A security module's label at `key` (a string): 0 when absent or empty,
 * else refused naming `lsm`, which this runtime does not apply. */
AG_WARN_UNUSED int rt__refuse_label(struct rt__ctx *c, json_t *obj, const char *key,
                                    const char *lsm);
/* An integer within [min, max]; `what` completes "must be ..." in the error
 * ("an integer between 10 and 1000"). Floats and strings are refused. */
AG_WARN_UNUSED int rt__get_int(struct rt__ctx *c, json_t *obj, const char *key, bool required,
                               int64_t min, int64_t max, const char *what, int64_t *ret);

/* An unsigned integer within [min, max], up to UINT64_MAX: integers
 * jansson cannot hold come through the bignum pre-pass. */
AG_WARN_UNUSED int rt__get_u64(struct rt__ctx *c, json_t *obj, const char *key, bool required,
                               uint64_t min, uint64_t max, const char *what, uint64_t *ret);

/* A JSON string a user wrote (not a rewritten integer). */
bool rt__is_str(const struct rt__ctx *c, const json_t *v);

/* Checks a string element at the current path; returns 0 or -EINVAL. */
typedef int (*rt__str_check_fn)(struct rt__ctx *c, const json_t *v, const char *s);

/* An array of strings, copied into a NULL-terminated vector (caller frees
 * with rt__strv_free). Each element is passed to `check` (may be NULL). */
AG_WARN_UNUSED int rt__get_strv(struct rt__ctx *c, json_t *obj, const char *key, bool required,
                                rt__str_check_fn check, char ***ret, size_t *ret_n);
/* A JSON object of string values, copied into an rt_kv array; each key is
 * passed to `check_key` (may be NULL) with the path at that key. */
AG_WARN_UNUSED int rt__get_kv(struct rt__ctx *c, json_t *obj, const char *key,
                              rt__str_check_fn check_key, struct rt_kv **ret, size_t *ret_n);

void rt__strv_free(char **v);
void rt__kv_free(struct rt_kv *kv, size_t n);

/* Element checks shared by several sections. */
AG_WARN_UNUSED int rt__check_abs_path(struct rt__ctx *c, const json_t *v, const char *s);
AG_WARN_UNUSED int rt__check_env(struct rt__ctx *c, const json_t *v, const char *s);
bool rt__path_has_dotdot(const char *s);

/* The sections (spec_process.c, spec_linux.c, spec_seccomp.c). */
AG_WARN_UNUSED int rt__parse_process(struct rt__ctx *c, json_t *proc, struct rt_process *p);
AG_WARN_UNUSED int rt__parse_linux(struct rt__ctx *c, json_t *linux_obj, struct rt_spec *spec);
AG_WARN_UNUSED int rt__parse_seccomp(struct rt__ctx *c, json_t *obj, struct rt_seccomp **ret);
void rt__seccomp_free(struct rt_seccomp *s);
void rt__resources_free(struct rt_resources *r);
void rt__devices_free(struct rt_device *d, size_t n);

#endif
