/* zk_ensemble.h: a real ZooKeeper ensemble for C tests (scripts/zk-ensemble
 * does the work: Debian's zookeeper package on loopback ports, own data
 * directories, tickTime 250 ms, every member started and stopped by pid),
 * and contenders that write znodes as Mesos's masters do. */
#ifndef AGORA_TESTS_ZK_ENSEMBLE_H
#define AGORA_TESTS_ZK_ENSEMBLE_H

#include <limits.h>
#include <stdbool.h>

struct zk_ensemble {
	char dir[PATH_MAX];
	char servers[512]; /* "127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3" */
	int members;
};

/* Start `members` members under `dir` (made if missing) and wait until a
 * quorum serves: 0; 77 when the zookeeper package is not installed; else
 * the script's exit status (its reason on stderr). */
int zk_ensemble_start(struct zk_ensemble *z, const char *dir, int members);
/* Stop (SIGTERM, then SIGKILL) member `i` (1..members), or all with 0. */
int zk_ensemble_stop(struct zk_ensemble *z, int i);
/* SIGKILL member `i`, or all with 0. */
int zk_ensemble_kill(struct zk_ensemble *z, int i);
/* Start member `i` (or every stopped one with 0) again; waits for a quorum. */
int zk_ensemble_restart(struct zk_ensemble *z, int i);
/* The member that leads the ensemble now (1..members), or 0. */
int zk_ensemble_leader(struct zk_ensemble *z);
/* "zk://SERVERS" + path (path starts with '/'); free it. */
char *zk_ensemble_url(const struct zk_ensemble *z, const char *path);

/* A contender: its own ZooKeeper session holding one EPHEMERAL|SEQUENCE
 * znode `path`/json.info_<seq> with `json` (the path is created when
 * missing). NULL on failure (why on stderr). zk_withdraw() closes the
 * session, which removes the znode. */
struct zk_contender;
struct zk_contender *zk_contend(const char *servers, const char *path, const char *json);
/* The znode's full path. */
const char *zk_contender_znode(const struct zk_contender *c);
void zk_withdraw(struct zk_contender *c);

/* MasterInfo JSON as Mesos writes it (ip as the s_addr uint32, port, pid,
 * hostname, address{hostname, ip, port}); free it. */
char *zk_mesos_master_info(const char *id, const char *ip, int port);

#endif
