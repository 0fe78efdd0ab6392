/* zkdetect.h: find the leading master in ZooKeeper, as Mesos's clients do.
 *
 * Masters started with `--zk zk://h1:2181,h2:2181/agora` contend under the
 * URL's path with EPHEMERAL|SEQUENCE znodes named `json.info_<seq>`, each
 * holding the contender's MasterInfo as JSON; the lowest sequence leads
 * (docs/operator-api.md, Standby masters). This library reads that: a strict
 * parser of the URL, a parser of MasterInfo (agora's and Mesos's: it finds a
 * real Mesos leader too), a detector that watches the path on its own thread
 * and reports each leader change on the caller's libevent loop, and a
 * one-shot lookup for programs without a loop (agoractl, the C SDK).
 *
 * The ZooKeeper C client (libzookeeper-mt) runs its own threads: they only
 * wake the detector's thread, which only publishes a result under a lock and
 * wakes the loop through an eventfd. The caller's callback runs on the
 * caller's loop, never on another thread. */
#ifndef AGORA_ZKDETECT_ZKDETECT_H
#define AGORA_ZKDETECT_ZKDETECT_H

#include "common/common.h"

#include <event2/event.h>
#include <stdbool.h>

/* A parsed `zk://HOST:PORT[,HOST:PORT...]/PATH`. */
struct zkd_url {
	char *servers; /* "h1:2181,h2:2181", as zookeeper_init() takes it */
	char *path;    /* "/agora": absolute, no trailing '/' */
};

/* A leader as read from its MasterInfo. */
struct zkd_leader {
	char *host; /* an IP (address.ip, ip) or a name (address.hostname, hostname) */
	int port;
	char *id;    /* MasterInfo.id, or NULL */
	char *znode; /* the znode it was read from: "/agora/json.info_0000000003" */
};

/* True when `s` names ZooKeeper (starts with "zk://"): the caller then
 * parses it with zkd_url_parse() instead of as HOST:PORT. */
bool zkd_is_url(const char *s);

/* Parse `text` as a ZooKeeper URL for the flag `flag` (e.g. "--master"):
 * one or more HOST:PORT (names, IPv4, or [IPv6]; port 1-65535) separated by
 * ',', then an absolute path of at least one component, without a trailing
 * '/', empty, "." or ".." components. Credentials (`user:pass@`) and query
 * strings are refused as unsupported. 0 and *ret (free with zkd_url_free());
 * -EINVAL with a message naming the flag and what is wrong. */
AG_WARN_UNUSED int zkd_url_parse(const char *flag, const char *text, struct zkd_url *ret,
                                 struct ag_error *err);
void zkd_url_free(struct zkd_url *u);

/* Parse one contender's MasterInfo JSON (`len` bytes; `znode` for messages
 * and ret->znode): the address is address.ip, else address.hostname (with
 * address.port), else Mesos's ip (the IPv4 s_addr as a uint32) or hostname
 * with port, else pid ("master@IP:PORT"). 0 and *ret (free with
 * zkd_leader_free()); -EBADMSG with a message naming the znode. */
AG_WARN_UNUSED int zkd_parse_master_info(const char *json, size_t len, const char *znode,
                                         struct zkd_leader *ret, struct ag_error *err);
void zkd_leader_free(struct zkd_leader *l);

/* The leading contender among `n` child names: the lowest sequence among
 * those named json.info_<digits> (others are ignored). Its index, or -1. */
int zkd_pick_leader(const char *const *children, int n);

/* Called on the caller's loop when the leader changes: `leader` (valid
 * during the call), or NULL with `why` when there is none (no contender
 * under the path, the path does not exist, or no ZooKeeper session for the
 * session timeout). The first call comes once the detector knows either. */
typedef void (*zkd_leader_fn)(void *ctx, const struct zkd_leader *leader, const char *why);

struct zkd_detector;

/* Watch `url` (copied) with ZooKeeper sessions of `session_timeout_ms`
 * (0: 10 s, Mesos's default) and report to `fn` on `base`. NULL with `err`
 * set when the eventfd or the thread cannot be made. Free with
 * zkd_detector_free() on the loop's thread, after which `fn` is never
 * called. */
AG_WARN_UNUSED struct zkd_detector *zkd_detector_new(struct event_base *base,
                                                     const struct zkd_url *url,
                                                     int session_timeout_ms, zkd_leader_fn fn,
                                                     void *ctx, struct ag_error *err);
void zkd_detector_free(struct zkd_detector *d);

/* Look the leader up once, waiting at most `timeout_ms` for a session and a
 * contender: 0 and *ret (free with zkd_leader_free()); -ETIMEDOUT,
 * -ENOENT (no contender) or -EBADMSG with a message naming the URL's
 * servers and path. */
AG_WARN_UNUSED int zkd_find_leader(const struct zkd_url *url, int timeout_ms,
                                   struct zkd_leader *ret, struct ag_error *err);

#endif
