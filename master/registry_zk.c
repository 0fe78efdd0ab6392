/* registry_zk.c: see registry_zk.h. */
#include "master/registry_zk.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zookeeper/zookeeper.h>

enum dir { D_META, D_AGENTS, D_FWS, D_WEIGHTS, D__COUNT };
static const char *const dir_names[D__COUNT] = {"meta", "agents", "frameworks", "weights"};

/* A write of a batch, not sent yet. */
struct pend {
	int type; /* ZOO_CREATE_OP, ZOO_SETDATA_OP, ZOO_DELETE_OP */
	char *path;
	char *data;
};

struct ms__regzk {
	zhandle_t *zh;
	char *root, *fence;
	const struct ACL_vector *acl;
	/* The cache: decoded name -> value (meta: a string; others: an
	 * object), in the order read or written. */
	json_t *dirs[D__COUNT];
	uint64_t n_removed;
	bool in_batch;
	json_t *undo[D__COUNT]; /* the cache at begin */
	uint64_t undo_removed;
	struct pend *ops;
	size_t n_ops;
};

/* A batch's writes go in multi-ops of at most this many bytes of data
 * (ZooKeeper refuses a request over jute.maxbuffer, 1 MB by default). */
#define MULTI_MAX_BYTES (512u << 10)
#define MULTI_MAX_OPS   1000

/* ---- names -------------------------------------------------------------- */

static char *encode(const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(name);
	char *out = ag_malloc(3 * n + 1), *o = out;
	for (const unsigned char *s = (const unsigned char *)name; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_') {
			*o++ = (char)*s;
		} else {
			*o++ = '%';
			*o++ = hex[*s >> 4];
			*o++ = hex[*s & 15];
		}
	}
	*o = '\0';
	return out;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	                              : -1;
}

/* NULL when `s` is not an encoded name. */
static char *decode(const char *s)
{
	char *out = ag_malloc(strlen(s) + 1), *o = out;
	for (; *s; s++) {
		if (*s != '%') {
			*o++ = *s;
			continue;
		}
		int h = hexval(s[1]), l = h < 0 ? -1 : hexval(s[2]);
		if (h < 0 || l < 0 || (h == 0 && l == 0)) {
			free(out);
			return NULL;
		}
		*o++ = (char)(h << 4 | l);
		s += 2;
	}
	*o = '\0';
	return out;
}

static char *node_path(const struct ms__regzk *z, enum dir d, const char *name)
{
	_cleanup_free_ char *enc = encode(name);
	return ag_asprintf("%s/%s/%s", z->root, dir_names[d], enc);
}

static int zkerr(int rc, struct ag_error *err, const char *what, const char *name)
{
	int e = rc == ZNONODE             ? ENOENT
	        : rc == ZNOAUTH           ? EACCES
	        : rc == ZCONNECTIONLOSS   ? ENOTCONN
	        : rc == ZSESSIONEXPIRED   ? ENOTCONN
	        : rc == ZOPERATIONTIMEOUT ? ETIMEDOUT
	                                  : EIO;
	return ag_error_msg(err, e, "registry (ZooKeeper): %s `%s`: %s", what, name, zerror(rc));
}

/* ---- writes ------------------------------------------------------------- */

static void pend_free(struct pend *p)
{
	free(p->path);
	free(p->data);
}

/* Send `ops` after a check of the fence, in one multi-op. */
static int multi(struct ms__regzk *z, const struct pend *ops, size_t n, struct ag_error *err)
{
	zoo_op_t *zops = ag_calloc(n + 1, sizeof(*zops));
	zoo_op_result_t *res = ag_calloc(n + 1, sizeof(*res));
	char **bufs = ag_calloc(n + 1, sizeof(char *));
	zoo_check_op_init(&zops[0], z->fence, -1);
	for (size_t i = 0; i < n; i++) {
		const struct pend *p = &ops[i];
		if (p->type == ZOO_CREATE_OP) {
			bufs[i] = ag_malloc(strlen(p->path) + 1);
			zoo_create_op_init(&zops[i + 1], p->path, p->data, (int)strlen(p->data),
			                   z->acl, 0, bufs[i], (int)strlen(p->path) + 1);
		} else if (p->type == ZOO_SETDATA_OP) {
			zoo_set_op_init(&zops[i + 1], p->path, p->data, (int)strlen(p->data), -1,
			                NULL);
		} else {
			zoo_delete_op_init(&zops[i + 1], p->path, -1);
		}
	}
	int rc = zoo_multi(z->zh, (int)n + 1, zops, res);
	int r = 0;
	if (rc != ZOK) {
		if (res[0].err == ZNONODE)
			r = ag_error_msg(err, ENOTCONN,
			                 "registry (ZooKeeper): not written: this master no longer "
			                 "leads (its node %s is gone)",
			                 z->fence);
		else
			r = zkerr(rc, err, "write", n == 1 ? ops[0].path : z->root);
		/* Which op failed, for the single-write retry below. */
		for (size_t i = 0; i < n && r != -ENOTCONN; i++)
			if (res[i + 1].err != ZOK && res[i + 1].err != ZRUNTIMEINCONSISTENCY) {
				r = res[i + 1].err == ZNODEEXISTS ? -EEXIST
				    : res[i + 1].err == ZNONODE   ? -ENOENT
				                                  : r;
				break;
			}
	}
	for (size_t i = 0; i <= n; i++)
		free(bufs[i]);
	free(bufs);
	free(zops);
	free(res);
	return r;
}

/* Write (value not NULL) or delete the record `name` of `d`, and update the
 * cache. In a batch the write waits for commit. */
static int write_rec(struct ms__regzk *z, enum dir d, const char *name, json_t *value,
                     struct ag_error *err)
{
	bool exists = json_object_get(z->dirs[d], name) != NULL;
	if (!value && !exists)
		return 0;
	struct pend p = {
	        .type = !value   ? ZOO_DELETE_OP
	                : exists ? ZOO_SETDATA_OP
	                         : ZOO_CREATE_OP,
	        .path = node_path(z, d, name),
	        .data = !value                  ? ag_strdup("")
	                : json_is_string(value) ? ag_strdup(json_string_value(value))
	                                        : json_dumps(value, JSON_COMPACT),
	};
	if (!p.data)
		abort();
	if (z->in_batch) {
		z->ops = ag_realloc(z->ops, (z->n_ops + 1) * sizeof(*z->ops));
		z->ops[z->n_ops++] = p;
	} else {
		int r = multi(z, &p, 1, err);
		/* The cache disagrees with ZooKeeper (written by an older
		 * leader after we read): the other way once. */
		if ((r == -EEXIST && p.type == ZOO_CREATE_OP) ||
		    (r == -ENOENT && p.type == ZOO_SETDATA_OP)) {
			p.type = p.type == ZOO_CREATE_OP ? ZOO_SETDATA_OP : ZOO_CREATE_OP;
			r = multi(z, &p, 1, err);
		} else if (r == -ENOENT && p.type == ZOO_DELETE_OP) {
			r = 0;
		}
		pend_free(&p);
		if (r < 0) {
			if (r == -EEXIST || r == -ENOENT)
				r = ag_error_msg(err, EIO,
				                 "registry (ZooKeeper): write `%s/%s` failed",
				                 dir_names[d], name);
			json_decref(value);
			return r;
		}
	}
	if (value)
		json_object_set_new(z->dirs[d], name, value);
	else
		json_object_del(z->dirs[d], name);
	return 0;
}

int ms__regzk_begin(struct ms__regzk *z, struct ag_error *err)
{
	if (z->in_batch)
		return ag_error_msg(err, EALREADY, "registry: a batch is already open");
	for (int d = 0; d < D__COUNT; d++)
		z->undo[d] = json_deep_copy(z->dirs[d]);
	z->undo_removed = z->n_removed;
	z->in_batch = true;
	return 0;
}

static void batch_end(struct ms__regzk *z, bool keep)
{
	for (int d = 0; d < D__COUNT; d++) {
		if (!keep) {
			json_decref(z->dirs[d]);
			z->dirs[d] = z->undo[d];
		} else {
			json_decref(z->undo[d]);
		}
		z->undo[d] = NULL;
	}
	if (!keep)
		z->n_removed = z->undo_removed;
	for (size_t i = 0; i < z->n_ops; i++)
		pend_free(&z->ops[i]);
	free(z->ops);
	z->ops = NULL;
	z->n_ops = 0;
	z->in_batch = false;
}

int ms__regzk_commit(struct ms__regzk *z, struct ag_error *err)
{
	if (!z->in_batch)
		return 0;
	/* In multi-ops of bounded size: each is atomic; a batch larger than
	 * one may be kept in part when a later part fails (nothing of it was
	 * acknowledged). */
	int r = 0;
	for (size_t i = 0; i < z->n_ops && r == 0;) {
		size_t j = i, bytes = 0;
		while (j < z->n_ops && j - i < MULTI_MAX_OPS &&
		       (j == i || bytes + strlen(z->ops[j].data) < MULTI_MAX_BYTES)) {
			bytes += strlen(z->ops[j].data) + strlen(z->ops[j].path);
			j++;
		}
		r = multi(z, z->ops + i, j - i, err);
		if (r == -EEXIST || r == -ENOENT)
			r = ag_error_msg(err, EIO,
			                 "registry (ZooKeeper): a batch disagrees with what "
			                 "ZooKeeper holds");
		i = j;
	}
	batch_end(z, r == 0);
	return r;
}

void ms__regzk_rollback(struct ms__regzk *z)
{
	if (z->in_batch)
		batch_end(z, false);
}

bool ms__regzk_in_batch(const struct ms__regzk *z)
{
	return z->in_batch;
}

/* ---- reading it all at open --------------------------------------------- */

struct loading {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t done, n;
	int rc;
	char **values; /* by index */
};

struct slot {
	struct loading *l;
	size_t i;
};

static void on_loaded(int rc, const char *value, int len, const struct Stat *st, const void *data)
{
	(void)st;
	struct slot *s = (struct slot *)data;
	struct loading *l = s->l;
	char *v =
	        rc == ZOK ? strndup(value ? value : "", value && len > 0 ? (size_t)len : 0) : NULL;
	pthread_mutex_lock(&l->lock);
	if (rc == ZOK)
		l->values[s->i] = v;
	else if (rc != ZNONODE && l->rc == ZOK)
		l->rc = rc;
	l->done++;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->lock);
	free(s);
}

static int load_dir(struct ms__regzk *z, enum dir d, struct ag_error *err)
{
	_cleanup_free_ char *dpath = ag_asprintf("%s/%s", z->root, dir_names[d]);
	struct String_vector kids = {0};
	int rc = zoo_get_children(z->zh, dpath, 0, &kids);
	if (rc != ZOK)
		return zkerr(rc, err, "list", dpath);
	struct loading l = {.n = (size_t)kids.count, .rc = ZOK};
	pthread_mutex_init(&l.lock, NULL);
	pthread_cond_init(&l.cond, NULL);
	l.values = ag_calloc(l.n + 1, sizeof(char *));
	size_t issued = 0;
	/* Pipelined: every read is in flight at once. */
	for (size_t i = 0; i < l.n; i++) {
		_cleanup_free_ char *p = ag_asprintf("%s/%s", dpath, kids.data[i]);
		struct slot *s = ag_malloc(sizeof(*s));
		*s = (struct slot){&l, i};
		rc = zoo_aget(z->zh, p, 0, on_loaded, s);
		if (rc != ZOK) {
			free(s);
			break;
		}
		issued++;
	}
	pthread_mutex_lock(&l.lock);
	while (l.done < issued)
		pthread_cond_wait(&l.cond, &l.lock);
	pthread_mutex_unlock(&l.lock);
	int r = 0;
	if (rc != ZOK || l.rc != ZOK)
		r = zkerr(rc != ZOK ? rc : l.rc, err, "read", dpath);
	for (size_t i = 0; i < l.n && r == 0; i++) {
		if (!l.values[i])
			continue; /* deleted meanwhile */
		_cleanup_free_ char *name = decode(kids.data[i]);
		if (!name) {
			r = ag_error_msg(err, EPROTO,
			                 "registry (ZooKeeper): `%s/%s` is not a name of ours",
			                 dpath, kids.data[i]);
			break;
		}
		json_t *v;
		if (d == D_META) {
			v = json_string(l.values[i]);
		} else {
			json_error_t jerr;
			v = json_loads(l.values[i], 0, &jerr);
			if (!json_is_object(v)) {
				json_decref(v);
				r = ag_error_msg(
				        err, EPROTO,
				        "registry (ZooKeeper): `%s/%s` is not a JSON object", dpath,
				        kids.data[i]);
				break;
			}
			if (d == D_FWS && json_is_true(json_object_get(v, "removed")))
				z->n_removed++;
		}
		json_object_set_new(z->dirs[d], name, v);
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.values[i]);
	free(l.values);
	pthread_mutex_destroy(&l.lock);
	pthread_cond_destroy(&l.cond);
	deallocate_String_vector(&kids);
	return r;
}

static int ensure(struct ms__regzk *z, const char *path, struct ag_error *err)
{
	int rc = zoo_create(z->zh, path, "", 0, z->acl, 0, NULL, 0);
	if (rc != ZOK && rc != ZNODEEXISTS)
		return zkerr(rc, err, "create", path);
	return 0;
}

int ms__regzk_open(struct _zhandle *zh, const char *root, const char *fence,
                   const struct ACL_vector *acl, struct ms__regzk **ret, struct ag_error *err)
{
	struct ms__regzk *z = ag_calloc(1, sizeof(*z));
	z->zh = zh;
	z->root = ag_strdup(root);
	z->fence = ag_strdup(fence);
	z->acl = acl;
	for (int d = 0; d < D__COUNT; d++)
		z->dirs[d] = json_object();
	int r = ensure(z, root, err);
	for (int d = 0; d < D__COUNT && r == 0; d++) {
		_cleanup_free_ char *p = ag_asprintf("%s/%s", root, dir_names[d]);
		r = ensure(z, p, err);
		if (r == 0)
			r = load_dir(z, (enum dir)d, err);
	}
	if (r < 0) {
		ms__regzk_close(z);
		return r;
	}
	*ret = z;
	return 0;
}

void ms__regzk_close(struct ms__regzk *z)
{
	if (!z)
		return;
	ms__regzk_rollback(z);
	for (int d = 0; d < D__COUNT; d++)
		json_decref(z->dirs[d]);
	free(z->root);
	free(z->fence);
	free(z);
}

/* ---- records ------------------------------------------------------------ */

int ms__regzk_meta_get(struct ms__regzk *z, const char *key, char **ret_value, struct ag_error *err)
{
	(void)err;
	json_t *v = json_object_get(z->dirs[D_META], key);
	if (!v)
		return -ENOENT;
	*ret_value = ag_strdup(json_string_value(v));
	return 0;
}

int ms__regzk_meta_set(struct ms__regzk *z, const char *key, const char *value,
                       struct ag_error *err)
{
	return write_rec(z, D_META, key, json_string(value ? value : ""), err);
}

int ms__regzk_agent_put(struct ms__regzk *z, const struct ms_registry_agent *a,
                        struct ag_error *err)
{
	json_t *v = json_pack("{s:s, s:s, s:I, s:b}", "hostname", a->hostname ? a->hostname : "",
	                      "info", a->info_json ? a->info_json : "{}", "registered_at_ns",
	                      (json_int_t)a->registered_at_ns, "gone", a->gone);
	if (a->secret)
		json_object_set_new(v, "secret", json_string(a->secret));
	return write_rec(z, D_AGENTS, a->id, v, err);
}

int ms__regzk_agent_mark_gone(struct ms__regzk *z, const char *id, struct ag_error *err)
{
	json_t *old = json_object_get(z->dirs[D_AGENTS], id);
	if (!old)
		return ag_error_msg(err, ENOENT,
		                    "registry: mark agent gone: `%s` is not registered", id);
	json_t *v = json_deep_copy(old);
	json_object_set_new(v, "gone", json_true());
	return write_rec(z, D_AGENTS, id, v, err);
}

int ms__regzk_agent_remove(struct ms__regzk *z, const char *id, struct ag_error *err)
{
	if (!json_object_get(z->dirs[D_AGENTS], id))
		return ag_error_msg(err, ENOENT, "registry: remove agent: `%s` is not registered",
		                    id);
	return write_rec(z, D_AGENTS, id, NULL, err);
}

int ms__regzk_agents_foreach(struct ms__regzk *z, ms_registry_agent_cb cb, void *arg)
{
	const char *id;
	json_t *v;
	json_object_foreach (z->dirs[D_AGENTS], id, v) {
		struct ms_registry_agent a = {
		        .id = id,
		        .hostname = json_string_value(json_object_get(v, "hostname")),
		        .info_json = json_string_value(json_object_get(v, "info")),
		        .registered_at_ns =
		                (int64_t)json_integer_value(json_object_get(v, "registered_at_ns")),
		        .gone = json_is_true(json_object_get(v, "gone")),
		        .secret = json_string_value(json_object_get(v, "secret")),
		};
		if (!a.hostname)
			a.hostname = "";
		if (!a.info_json)
			a.info_json = "{}";
		int r = cb(&a, arg);
		if (r != 0)
			return r;
	}
	return 0;
}

int ms__regzk_framework_put(struct ms__regzk *z, const struct ms_registry_framework *fw,
                            struct ag_error *err)
{
	json_t *old = json_object_get(z->dirs[D_FWS], fw->id);
	bool was_removed = old && json_is_true(json_object_get(old, "removed"));
	json_t *v = json_pack("{s:s, s:f, s:I, s:b}", "info", fw->info_json ? fw->info_json : "{}",
	                      "failover_timeout_s", fw->failover_timeout_s, "registered_at_ns",
	                      (json_int_t)fw->registered_at_ns, "removed", fw->removed);
	if (fw->removed && old)
		json_object_set(v, "removed_at_ns", json_object_get(old, "removed_at_ns"));
	int r = write_rec(z, D_FWS, fw->id, v, err);
	if (r == 0 && was_removed != fw->removed) {
		if (fw->removed)
			z->n_removed++;
		else
			z->n_removed--;
	}
	return r;
}

int ms__regzk_framework_mark_removed(struct ms__regzk *z, const char *id, struct ag_error *err)
{
	json_t *old = json_object_get(z->dirs[D_FWS], id);
	if (old && json_is_true(json_object_get(old, "removed")))
		return 0;
	json_t *v = json_pack(
	        "{s:s, s:f, s:I, s:b, s:I}", "info", "{}", "failover_timeout_s",
	        old ? json_real_value(json_object_get(old, "failover_timeout_s")) : 0.0,
	        "registered_at_ns",
	        old ? json_integer_value(json_object_get(old, "registered_at_ns")) : (json_int_t)0,
	        "removed", 1, "removed_at_ns", (json_int_t)ag_wall_ns());
	int r = write_rec(z, D_FWS, id, v, err);
	if (r == 0)
		z->n_removed++;
	return r;
}

uint64_t ms__regzk_removed_frameworks(const struct ms__regzk *z)
{
	return z->n_removed;
}

struct tomb {
	const char *id;
	int64_t at;
	size_t order;
};

static int tomb_cmp(const void *a, const void *b)
{
	const struct tomb *x = a, *y = b;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

int ms__regzk_frameworks_prune_removed(struct ms__regzk *z, uint64_t keep,
                                       ms_registry_pruned_cb pruned, void *arg,
                                       struct ag_error *err)
{
	if (z->n_removed <= keep)
		return 0;
	struct tomb *t = ag_calloc(z->n_removed, sizeof(*t));
	size_t n = 0, order = 0;
	const char *id;
	json_t *v;
	json_object_foreach (z->dirs[D_FWS], id, v) {
		order++;
		if (json_is_true(json_object_get(v, "removed")) && n < z->n_removed)
			t[n++] = (struct tomb){
			        id,
			        (int64_t)json_integer_value(json_object_get(v, "removed_at_ns")),
			        order};
	}
	qsort(t, n, sizeof(*t), tomb_cmp);
	size_t drop = n - (keep < n ? keep : n);
	int r = 0;
	for (size_t i = 0; i < drop && r == 0; i++) {
		_cleanup_free_ char *name = ag_strdup(t[i].id);
		r = write_rec(z, D_FWS, name, NULL, err);
		if (r == 0) {
			z->n_removed--;
			if (pruned)
				pruned(name, arg);
		}
	}
	free(t);
	return r;
}

int ms__regzk_framework_remove(struct ms__regzk *z, const char *id, struct ag_error *err)
{
	json_t *old = json_object_get(z->dirs[D_FWS], id);
	if (!old)
		return ag_error_msg(err, ENOENT,
		                    "registry: remove framework: `%s` is not registered", id);
	bool removed = json_is_true(json_object_get(old, "removed"));
	int r = write_rec(z, D_FWS, id, NULL, err);
	if (r == 0 && removed)
		z->n_removed--;
	return r;
}

int ms__regzk_frameworks_foreach(struct ms__regzk *z, ms_registry_framework_cb cb, void *arg)
{
	const char *id;
	json_t *v;
	json_object_foreach (z->dirs[D_FWS], id, v) {
		struct ms_registry_framework fw = {
		        .id = id,
		        .info_json = json_string_value(json_object_get(v, "info")),
		        .failover_timeout_s =
		                json_number_value(json_object_get(v, "failover_timeout_s")),
		        .registered_at_ns =
		                (int64_t)json_integer_value(json_object_get(v, "registered_at_ns")),
		        .removed = json_is_true(json_object_get(v, "removed")),
		};
		if (!fw.info_json)
			fw.info_json = "{}";
		int r = cb(&fw, arg);
		if (r != 0)
			return r;
	}
	return 0;
}

int ms__regzk_weight_set(struct ms__regzk *z, const char *role, double weight, struct ag_error *err)
{
	if (!(weight > 0))
		return ag_error_msg(err, EINVAL, "registry: the weight of role `%s` must be > 0",
		                    role);
	return write_rec(z, D_WEIGHTS, role, json_pack("{s:f}", "weight", weight), err);
}

int ms__regzk_weight_remove(struct ms__regzk *z, const char *role, struct ag_error *err)
{
	if (!json_object_get(z->dirs[D_WEIGHTS], role))
		return ag_error_msg(err, ENOENT, "registry: remove weight: `%s` is not registered",
		                    role);
	return write_rec(z, D_WEIGHTS, role, NULL, err);
}

int ms__regzk_weights_foreach(struct ms__regzk *z, ms_registry_weight_cb cb, void *arg)
{
	const char *role;
	json_t *v;
	json_object_foreach (z->dirs[D_WEIGHTS], role, v) {
		int r = cb(role, json_number_value(json_object_get(v, "weight")), arg);
		if (r != 0)
			return r;
	}
	return 0;
}
