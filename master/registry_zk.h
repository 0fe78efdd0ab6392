/* registry_zk.h: the registry kept in ZooKeeper (agora-master --zk), the
 * backend of registry.h's functions when the registry was opened with
 * ms_registry_open_zk(). Private to registry.c and registry_zk.c.
 *
 * Layout under the root (`<--zk path>/registry`), one small znode per
 * record, never one large node (ZooKeeper's limit is 1 MB a node; an
 * agent's record is about 2 KB):
 *   meta/<key>         the value
 *   agents/<id>        {"hostname","info","registered_at_ns","gone","secret"}
 *   frameworks/<id>    {"info","failover_timeout_s","registered_at_ns",
 *                       "removed","removed_at_ns"}
 *   weights/<role>     {"weight"}
 * Names are percent-encoded (roles hold `/`). Everything is read once at
 * open (pipelined) into a cache that the foreach calls walk; every write
 * goes to ZooKeeper first (a multi-op with a check of the fence znode:
 * once the leader's own ephemeral znode is gone, with its session, no
 * write of it succeeds), then to the cache.
 */
#ifndef AGORA_MASTER_REGISTRY_ZK_H
#define AGORA_MASTER_REGISTRY_ZK_H

#include "master/registry.h"

struct ms__regzk;

int ms__regzk_open(struct _zhandle *zh, const char *root, const char *fence,
                   const struct ACL_vector *acl, struct ms__regzk **ret, struct ag_error *err);
void ms__regzk_close(struct ms__regzk *z);
int ms__regzk_begin(struct ms__regzk *z, struct ag_error *err);
int ms__regzk_commit(struct ms__regzk *z, struct ag_error *err);
void ms__regzk_rollback(struct ms__regzk *z);
bool ms__regzk_in_batch(const struct ms__regzk *z);
int ms__regzk_meta_get(struct ms__regzk *z, const char *key, char **ret_value,
                       struct ag_error *err);
int ms__regzk_meta_set(struct ms__regzk *z, const char *key, const char *value,
                       struct ag_error *err);
int ms__regzk_agent_put(struct ms__regzk *z, const struct ms_registry_agent *a,
                        struct ag_error *err);
int ms__regzk_agent_mark_gone(struct ms__regzk *z, const char *id, struct ag_error *err);
int ms__regzk_agent_remove(struct ms__regzk *z, const char *id, struct ag_error *err);
int ms__regzk_agents_foreach(struct ms__regzk *z, ms_registry_agent_cb cb, void *arg);
int ms__regzk_framework_put(struct ms__regzk *z, const struct ms_registry_framework *fw,
                            struct ag_error *err);
int ms__regzk_framework_mark_removed(struct ms__regzk *z, const char *id, struct ag_error *err);
uint64_t ms__regzk_removed_frameworks(const struct ms__regzk *z);
int ms__regzk_frameworks_prune_removed(struct ms__regzk *z, uint64_t keep,
                                       ms_registry_pruned_cb pruned, void *arg,
                                       struct ag_error *err);
int ms__regzk_framework_remove(struct ms__regzk *z, const char *id, struct ag_error *err);
int ms__regzk_frameworks_foreach(struct ms__regzk *z, ms_registry_framework_cb cb, void *arg);
int ms__regzk_weight_set(struct ms__regzk *z, const char *role, double weight,
                         struct ag_error *err);
int ms__regzk_weight_remove(struct ms__regzk *z, const char *role, struct ag_error *err);
int ms__regzk_weights_foreach(struct ms__regzk *z, ms_registry_weight_cb cb, void *arg);

#endif
