/* master_link.h: the agent's side of docs/agent-protocol.md over libevent's
 * HTTP client, on the agent's event loop.
 *
 * One connection carries the REGISTER/REREGISTER stream (RecordIO records of
 * master->agent messages); another carries the POSTs (STATUS_UPDATE,
 * HEARTBEAT) with the stream's Mesos-Stream-Id. A lost stream, a non-200
 * answer, an ERROR, or no record for 5 heartbeat intervals makes the link
 * re-register after a backoff with jitter (base doubling to max). Each
 * registration carries the link's registration_order (the time the link
 * was made, a count from 1), so that the master refuses one it reads after
 * a newer one.
 *
 * The master issues the agent a secret in its first REGISTERED
 * (docs/agent-protocol.md, Agent secret). The link keeps it in
 * cfg.secret_path (mode 0600, written and synced before the agent learns
 * its id) and presents it on every REREGISTER and POST.
 *
 * Standby masters (docs/agent-daemon.md, Standby masters): cfg.master may
 * name several masters, HOST:PORT,HOST:PORT,...: the link tries them in
 * turn and follows a 307's Location to the leader; or zk://.../PATH: the
 * link follows the leader ZooKeeper names (zkdetect.h), re-registering (with
 * the agent's tasks, as after a master restart) at each change, and waits
 * while there is none. */
#ifndef AGORA_AGENT_MASTER_LINK_H
#define AGORA_AGENT_MASTER_LINK_H

#include "proto/proto.h"

#include <event2/event.h>
#include <stdbool.h>

struct agent_ml_link;

struct agent_ml_callbacks {
	/* The REGISTER or REREGISTER message to send now (a new reference;
	 * the link adds its registration_order). */
	json_t *(*registration)(void *ctx);
	/* REGISTERED arrived: the agent id, the heartbeat interval. */
	void (*registered)(void *ctx, const char *agent_id, double heartbeat_s);
	/* Any other record (RUN_TASK, KILL_TASK, ...). */
	void (*message)(void *ctx, const struct pb_agent_msg *m);
	/* The stream is gone: why, and when the next registration goes. */
	void (*disconnected)(void *ctx, const char *why, int64_t retry_ms);
	/* The secret the master issued could not be written (why): it is
	 * used from memory, and written again at each heartbeat until that
	 * works; an agent killed meanwhile cannot re-register. May be NULL. */
	void (*secret_unsaved)(void *ctx, const char *why);
	/* With several masters or zk:// (cfg.master): the link now talks to
	 * the master at host:port (followed a 307, tried the next one, or
	 * ZooKeeper named a new leader), or (host NULL) ZooKeeper names none
	 * and the link waits: why. May be NULL. */
	void (*master_changed)(void *ctx, const char *host, int port, const char *why);
};

struct agent_ml_config {
	/* The --master text (agent_ml_check_master()); when NULL, the one
	 * master at host:port. */
	const char *master;
	const char *host;
	int port;
	int64_t backoff_base_ms; /* 0: 1 s */
	int64_t backoff_max_ms;  /* 0: 60 s */
	/* Where the master's secret for this agent is kept; NULL: in memory
	 * only. */
	const char *secret_path;
};

/* Check the --master text: HOST:PORT, a list of them separated by ',', or
 * a zk:// URL (zkdetect.h). 0, or -EINVAL with a message naming --master
 * and what is wrong. */
AG_WARN_UNUSED int agent_ml_check_master(const char *master, struct ag_error *err);

/* Free with agent_ml_free(). Nothing is sent until agent_ml_start() (a
 * zk:// master is watched from now on). NULL when the ZooKeeper detector
 * cannot be started (why in `err`). */
AG_WARN_UNUSED struct agent_ml_link *agent_ml_new(struct event_base *base,
                                                  const struct agent_ml_config *cfg,
                                                  const struct agent_ml_callbacks *cb, void *ctx,
                                                  struct ag_error *err);
void agent_ml_free(struct agent_ml_link *l);
/* Read the secret kept at cfg.secret_path, if there is one: 0 (also when
 * there is no file), or -errno with a message naming the file (one that
 * does not hold a secret is -EBADMSG). Before agent_ml_start(). */
AG_WARN_UNUSED int agent_ml_load_secret(struct agent_ml_link *l, struct ag_error *err);
/* Register now. */
void agent_ml_start(struct agent_ml_link *l);
/* Registered on a live stream. */
bool agent_ml_registered(const struct agent_ml_link *l);
/* POST an agent->master message (needs a stream; dropped otherwise, since
 * every message that must arrive is retried by its owner). */
AG_WARN_UNUSED int agent_ml_post(struct agent_ml_link *l, const char *body);
/* Who hears the master's answer to one POST (agent_ml_post_answer): `fn` gets
 * its HTTP status (0: none came, the connection failed) and its body
 * (NUL-terminated, "" when none). Caller-owned; it must live until `fn`
 * is called, or until agent_ml_free(), after which it never is. */
struct agent_ml_answer {
	void (*fn)(struct agent_ml_answer *ans, int status, const char *body);
};
/* agent_ml_post() with the master's answer handed to `ans`. When it fails
 * (-errno), `ans` is never called. */
AG_WARN_UNUSED int agent_ml_post_answer(struct agent_ml_link *l, const char *body,
                                        struct agent_ml_answer *ans);
/* Handle one record (the JSON of a master->agent message) as if it had
 * arrived on the stream: for drivers that feed the agent without a master
 * (tests/fuzz/fuzz_agent.c). 0; -EBADMSG for a record that does not decode
 * and -EPERM for an ERROR, after which the link re-registers, as on the
 * stream. */
AG_WARN_UNUSED int agent_ml_feed_record(struct agent_ml_link *l, const char *data, size_t len);

#endif
