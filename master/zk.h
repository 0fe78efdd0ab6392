/* zk.h: standby masters, contending for leadership through ZooKeeper
 * (agora-master --zk).
 *
 * Each master creates an EPHEMERAL|SEQUENCE znode `<path>/json.info_<seq>`
 * holding its MasterInfo as JSON, as Mesos (>= 0.24) does, so that tools
 * that find Mesos's leader in ZooKeeper find agora's; the lowest sequence
 * leads. A standby answers the API (scheduler, operator, agent) with 307
 * and a Location on the leader (503 while none is known) and serves
 * /health, /master/redirect and the operator's GET_MASTER itself.
 *
 * Never two leaders. A leader that loses its ZooKeeper session, or stays
 * disconnected from the ensemble for a sixth of the negotiated session
 * timeout (the client notices a silent server after two thirds of it, so
 * a sixth still leaves the last sixth before the ensemble can expire the
 * session and elect a successor), stops leading at once: it exits
 * (status 1) on the spot, which ends every stream and connection and
 * writes nothing more (a stream's close callback would act on state that
 * another master may own now), as a Mesos master does ("lost
 * leadership"): its memory may be stale, and its supervisor starts it
 * again as a new contender. Its registry writes are fenced as well
 * (registry_zk.h). A standby that loses its session contends again with
 * a new one.
 *
 * The registry. With --zk it lives in ZooKeeper (registry_zk.h), read by
 * the master once elected (the `elected` callback); a standby holds none.
 *
 * Threads. libzookeeper-mt runs its completions and watchers on its own
 * thread; they only copy what they got into a message and hand it to the
 * master's event loop through a pipe. Master state is touched on the loop
 * only.
 */
#ifndef AGORA_MASTER_ZK_H
#define AGORA_MASTER_ZK_H

#include "common/common.h"

#include <event2/http.h>

struct ms_master;
struct ms_registry;
struct ms_zk;

/* A `zk://[user:pass@]host:port[,host:port...]/path` URL, split. Strings
 * are malloc'ed; free with ms_zk_url_free(). */
struct ms_zk_url {
	char *hosts; /* "h1:2181,h2:2181" as zookeeper_init() takes it */
	char *path;  /* "/agora": absolute, no trailing slash, not "/" */
	char *auth;  /* "user:pass" (digest scheme), or NULL */
};

/* Parse `url` (the value of `flag`, for messages). -EINVAL with a message
 * naming the flag and what is wrong. */
AG_WARN_UNUSED int ms_zk_url_parse(const char *flag, const char *url, struct ms_zk_url *ret,
                                   struct ag_error *err);
void ms_zk_url_free(struct ms_zk_url *u);

/* Start contending (m->flags.zk must be set, m->http and m->base exist):
 * connects to the ensemble in the background and installs the HTTP gate
 * and /master/redirect. The master serves as a standby until it is
 * elected; then `elected` runs on the loop (once) and must return 0, or
 * -errno with `err` (the master then exits). *ret is freed with
 * ms_zk_free(). */
typedef int (*ms_zk_elected_cb)(struct ms_master *m, struct ag_error *err);
AG_WARN_UNUSED int ms_zk_start(struct ms_master *m, ms_zk_elected_cb elected, struct ms_zk **ret,
                               struct ag_error *err);
/* Close the session (the znode goes at once) and free. NULL is allowed. */
void ms_zk_free(struct ms_zk *zk);

/* The registry in ZooKeeper (registry_zk.h) under `<path>/registry`, on
 * this contender's session, fenced on its own znode: for the `elected`
 * callback. Without credentials in --zk its znodes are readable by anyone
 * who can reach the ensemble (they hold the agents' secrets); with them,
 * by this user only. */
AG_WARN_UNUSED int ms_zk_registry_open(struct ms_zk *zk, struct ms_registry **ret,
                                       struct ag_error *err);

/* Whether this master leads: always true without --zk (zk NULL). */
bool ms_zk_leading(const struct ms_zk *zk);

/* Whether this master lost its leadership (or could not contend): it is
 * on its way out and main exits 1. */
bool ms_zk_lost(const struct ms_zk *zk);

/* /master/redirect without --zk: 307 to this master itself. */
AG_WARN_UNUSED int ms_zk_routes(struct ms_master *m);

#endif
