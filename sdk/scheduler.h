/* scheduler.h: libagora-scheduler, the C SDK for agora frameworks.
 *
 * A framework subscribes to the master (POST /api/v1/scheduler, a RecordIO
 * stream of events), gets a callback per event and answers with calls
 * (accept/launch, decline, kill, acknowledge, ...). The shapes are the Mesos
 * v1 scheduler API (docs/operator-api.md lists what agora's master takes);
 * events are handed over as the small structs below, each with its JSON.
 *
 * Use: `#include <agora/scheduler.h>`, built with
 * `pkg-config --cflags --libs agora-scheduler` (it brings libevent and
 * jansson, which the caller uses too: the loop and the JSON are theirs).
 * This header needs no other of agora's; docs/sdk.md has an example.
 *
 * Threading: one libevent loop, the caller's. Every function must be called
 * from the thread running that loop (callbacks run on it too); nothing here
 * starts a thread or takes a lock.
 *
 * Reconnection: when the stream ends, fails, or stays silent for five
 * heartbeat intervals (the watchdog), the SDK subscribes again after a
 * backoff (doubling from `backoff_base_ms` to `backoff_max_ms`, with
 * jitter), with the framework id it was given, so its tasks are kept (as
 * long as the master keeps the framework: see `failover_timeout`).
 * `disconnected` says why, `subscribed` says it is back; calls still in
 * flight on the lost connection are reported to `call_failed` with code 0. A fatal ERROR
 * event (framework removed, refused subscription) and a TEARDOWN stop the
 * scheduler for good: `closed` is called once, and the loop is the
 * caller's to end.
 *
 * Ownership: every pointer handed to a callback is valid during the call
 * only (copy what you keep). Pointers passed in (config strings, task
 * descriptions, JSON) are borrowed during the call that takes them.
 *
 * Errors: calls return 0 once queued, or -errno (-ENOTCONN while not
 * subscribed: nothing is queued then; retry after `subscribed`). The
 * master's answer arrives later; a refusal (not 202) is reported through
 * `call_failed`. The library never prints and never exits.
 */
#ifndef AGORA_SDK_SCHEDULER_H
#define AGORA_SDK_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A call whose result is dropped is flagged by the compiler: a -errno
 * (nothing queued) ignored is a call silently lost. */
#if defined(__GNUC__) || defined(__clang__)
#define AGS_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define AGS_WARN_UNUSED
#endif

/* The caller's libevent loop (<event2/event.h>) and jansson values
 * (<jansson.h>): declared here only, include those headers to use them. */
struct event_base;
struct json_t;

/* A scheduler: opaque, made by ags_new(), freed by ags_free(). */
struct ags;

/* TaskState of the Mesos v1 API; ags_task_state_name() gives its name. */
enum ags_task_state {
	AGS_TASK_STATE_UNSET,
	AGS_TASK_STAGING,
	AGS_TASK_STARTING,
	AGS_TASK_RUNNING,
	AGS_TASK_KILLING,
	AGS_TASK_FINISHED,
	AGS_TASK_FAILED,
	AGS_TASK_KILLED,
	AGS_TASK_ERROR,
	AGS_TASK_LOST,
	AGS_TASK_DROPPED,
	AGS_TASK_UNREACHABLE,
	AGS_TASK_GONE,
	AGS_TASK_GONE_BY_OPERATOR,
	AGS_TASK_UNKNOWN,
};

/* "TASK_RUNNING" etc.; "TASK_STATE_UNSET" for an unknown value. */
const char *ags_task_state_name(enum ags_task_state s);
/* FINISHED, FAILED, KILLED, ERROR, LOST, DROPPED, GONE. */
bool ags_task_state_is_terminal(enum ags_task_state s);

/* An offer as delivered to `offers`. The common fields, and `json`: the
 * whole Offer as the master sent it (normalized: numbers as numbers, only
 * fields the master knows), for resources, attributes and the rest. */
struct ags_offer {
	const char *id;
	const char *framework_id;
	const char *agent_id;
	const char *hostname;
	const struct json_t *json;
};

/* A TaskStatus as delivered to `update`. `json` is the whole TaskStatus
 * as the master sent it (normalized), for the fields not copied here. */
struct ags_task_status {
	const char *task_id;
	enum ags_task_state state;
	const char *message;     /* NULL: none */
	const char *reason;      /* "REASON_RECONCILIATION" etc.; NULL: none */
	const char *source;      /* "SOURCE_EXECUTOR" etc.; NULL: none */
	const char *agent_id;    /* NULL: none */
	const char *executor_id; /* NULL: none */
	double timestamp;        /* epoch seconds; 0: none */
	const uint8_t *uuid;     /* NULL: an update that needs no acknowledgement */
	size_t uuid_len;
	const uint8_t *data; /* NULL: none */
	size_t data_len;
	bool has_healthy, healthy;
	const struct json_t *json;
};

struct ags_config {
	/* "host:port" or "http://host:port"; NULL: 127.0.0.1:5050. With
	 * standby masters: "h1:5050,h2:5050,..." (tried in turn; a standby's
	 * 307 is followed), or "zk://h1:2181,h2:2181/agora" (the leader named
	 * in ZooKeeper; the framework subscribes again, with its id and
	 * failover_timeout, at each new leader). ags_new() fails with EINVAL
	 * for a bad one. */
	const char *master;
	const char *name;         /* framework name; NULL: "agora-framework" */
	const char *user;         /* NULL: the current user's name */
	const char *role;         /* NULL: "*" */
	const char *framework_id; /* resume this framework; NULL: a new one */
	/* Seconds the master keeps the framework (and its tasks) while its
	 * stream is lost. 0 (as in Mesos) removes it as soon as the stream
	 * breaks: the SDK's re-subscription then gets an ERROR and `closed`.
	 * Set it to survive master restarts and network blips. */
	double failover_timeout;
	bool checkpoint;         /* FrameworkInfo.checkpoint: agents checkpoint its tasks */
	int64_t backoff_base_ms; /* first re-subscription delay; 0: 500 */
	int64_t backoff_max_ms;  /* 0: 30000 */
};

/* Every callback is optional (NULL: the event is ignored). `s` is the
 * scheduler; calls may be made from inside any callback, and ags_free()
 * from `closed` only. */
struct ags_callbacks {
	/* SUBSCRIBED: the first callback, and again after each automatic
	 * re-subscription (with the same framework_id). heartbeat_s is the
	 * master's interval; the watchdog allows five of them. */
	void (*subscribed)(struct ags *s, void *ctx, const char *framework_id, double heartbeat_s);
	/* OFFERS: answer each offer with ags_launch() or ags_decline() (copy
	 * the ids to answer later); an unanswered offer holds its resources
	 * until it is rescinded. Offers do not survive a re-subscription. */
	void (*offers)(struct ags *s, void *ctx, const struct ags_offer *offers, size_t n);
	/* RESCIND: the offer is void (its agent left, was deactivated or is
	 * draining, or the master's --offer_timeout passed); a launch on it
	 * would end TASK_LOST. */
	void (*rescind)(struct ags *s, void *ctx, const char *offer_id);
	/* Acknowledge with ags_acknowledge(status) once handled, or set
	 * `auto_ack` below: the SDK then acknowledges each update as it is
	 * delivered, just before this callback. */
	void (*update)(struct ags *s, void *ctx, const struct ags_task_status *status);
	void (*message)(struct ags *s, void *ctx, const char *agent_id, const char *executor_id,
	                const uint8_t *data, size_t len);
	/* `has_status`: `status` is a wait status (an executor ended). */
	void (*failure)(struct ags *s, void *ctx, const char *agent_id, const char *executor_id,
	                bool has_status, int status);
	/* A fatal ERROR event; `closed` follows. */
	void (*error)(struct ags *s, void *ctx, const char *message);
	/* HEARTBEAT: the master is alive (the SDK's watchdog needs nothing). */
	void (*heartbeat)(struct ags *s, void *ctx);
	/* The stream is gone (`why` says how); the SDK reconnects by itself,
	 * and calls return -ENOTCONN until `subscribed`. */
	void (*disconnected)(struct ags *s, void *ctx, const char *why);
	/* A call was refused: the HTTP code and the master's reason in
	 * `body`. Code 0: no answer came (the master went away, or the SDK
	 * re-subscribed while the call was in flight): the call may or may
	 * not have taken effect; reconcile or retry. A refused TEARDOWN
	 * leaves the scheduler running. */
	void (*call_failed)(struct ags *s, void *ctx, const char *call_type, int code,
	                    const char *body);
	/* Stopped for good (teardown done, or a fatal error); called once,
	 * from a timer of its own, so ags_free() may be called here. */
	void (*closed)(struct ags *s, void *ctx);
	/* Acknowledge each update just before `update`; one that cannot be
	 * sent is reported to `call_failed` ("ACKNOWLEDGE", code 0). */
	bool auto_ack;
};

/* A task to launch on an offer's agent. Resources are scalars (cpus, mem
 * in MiB, disk in MiB; 0: not asked for). Give `command` (run by /bin/sh
 * -c), `oci` (agora's OCI-like spec, written as `container.oci`), or both
 * (the spec's process wins). */
struct ags_task {
	const char *task_id;
	const char *name; /* NULL: task_id */
	double cpus, mem, disk;
	const char *command;
	const struct json_t *oci;
	const char *const *env; /* "NAME=value", for `command.environment` */
	size_t n_env;
};

/* A scheduler on `base` (borrowed: it must outlive the scheduler). `cb` is
 * copied (NULL: no callbacks); `ctx` is passed to each. It does nothing
 * until ags_start(). NULL only for a bad `master` address (errno EINVAL).
 * Free with ags_free(). */
AGS_WARN_UNUSED struct ags *ags_new(struct event_base *base, const struct ags_config *cfg,
                                    const struct ags_callbacks *cb, void *ctx);
/* Close the stream and the connections, free everything; NULL is fine.
 * The framework stays registered at the master (for failover_timeout). */
void ags_free(struct ags *s);
/* Subscribe now (and again, by itself, whenever the stream is lost). Only
 * the first call does anything. */
void ags_start(struct ags *s);

/* The framework id once subscribed (NULL before); valid until ags_free(). */
const char *ags_framework_id(const struct ags *s);
bool ags_subscribed(const struct ags *s);

/* ACCEPT `offer_id` (of `agent_id`) with one LAUNCH of `n` tasks; what is
 * not used is declined for `refuse_seconds` (<0: the master's default,
 * 5 s; 0: no filter). Each task's outcome comes as updates; an invalid
 * task ends TASK_ERROR, a stale offer TASK_LOST. */
AGS_WARN_UNUSED int ags_launch(struct ags *s, const char *offer_id, const char *agent_id,
                               const struct ags_task *tasks, size_t n, double refuse_seconds);
/* DECLINE offers; refuse_seconds as above. */
AGS_WARN_UNUSED int ags_decline(struct ags *s, const char *const *offer_ids, size_t n,
                                double refuse_seconds);
/* KILL a task; agent_id may be NULL. grace_s < 0: the task's kill_policy
 * (else the agent's default). An unknown task is answered with a TASK_LOST
 * update (REASON_RECONCILIATION). */
AGS_WARN_UNUSED int ags_kill(struct ags *s, const char *task_id, const char *agent_id,
                             double grace_s);
/* ACKNOWLEDGE an update: `status` as `update` delivered it (its task_id,
 * agent_id and uuid are read, so a copy of those three works after the
 * callback). Updates without a uuid (the master's own) need none: 0 and
 * nothing is sent. Until acknowledged, the agent sends the update again
 * and holds back that task's later ones. */
AGS_WARN_UNUSED int ags_acknowledge(struct ags *s, const struct ags_task_status *status);
/* RECONCILE `n` tasks (task_ids[i] on agent_ids[i], which may be NULL or
 * hold NULLs); n == 0: every task of the framework. */
AGS_WARN_UNUSED int ags_reconcile(struct ags *s, const char *const *task_ids,
                                  const char *const *agent_ids, size_t n);
/* REVIVE / SUPPRESS offers for `role` (NULL: every role). */
AGS_WARN_UNUSED int ags_revive(struct ags *s, const char *role);
AGS_WARN_UNUSED int ags_suppress(struct ags *s, const char *role);
/* TEARDOWN: kill every task, remove the framework; `closed` follows. */
AGS_WARN_UNUSED int ags_teardown(struct ags *s);
/* Any call: `call` (borrowed; a copy is sent) gets the framework id and is
 * posted, e.g. {"type":"MESSAGE","message":{...}}. */
AGS_WARN_UNUSED int ags_call(struct ags *s, const struct json_t *call);

/* The value of the scalar resource `name` in an offer, summed over its
 * roles and reservations (0 when absent). */
double ags_offer_scalar(const struct ags_offer *o, const char *name);

#endif
