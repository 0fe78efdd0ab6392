/* executor.h: libagora-executor, the executor side of agora's C SDK.
 *
 * A custom executor (docs/executor-api.md) is launched by the agent with
 * its framework's first task for it, subscribes to the agent
 * (POST /api/v1/executor, a RecordIO stream of events), gets a callback per
 * event (LAUNCH, KILL, MESSAGE, SHUTDOWN, ...) and reports its tasks'
 * states with age_update(). The shapes are the Mesos v1 executor API.
 *
 * Use: `#include <agora/executor.h>`, built with
 * `pkg-config --cflags --libs agora-executor` (libevent and jansson come
 * with it: the loop and the JSON are the caller's). This header needs no
 * other of agora's; docs/sdk.md has an example.
 *
 * Threading: one libevent loop, the caller's; every function is called
 * from its thread (callbacks run on it). No thread, no lock.
 *
 * Reliability, as Mesos's executor libraries: each update gets a random
 * uuid and is kept until the agent's ACKNOWLEDGED for it (the scheduler
 * acknowledged it); each task is kept as unacknowledged until one of its
 * updates is. Both are sent again with every SUBSCRIBE. When the stream is
 * lost, an executor of a checkpointing framework (MESOS_CHECKPOINT=1)
 * subscribes again with a backoff (doubling to
 * MESOS_SUBSCRIPTION_BACKOFF_MAX) for up to MESOS_RECOVERY_TIMEOUT: the
 * agent may be restarting. Otherwise, or when that time passes, `closed`
 * is called once: the executor should end.
 *
 * Ownership: pointers handed to callbacks are valid during the call only;
 * pointers passed in are borrowed during the call.
 *
 * Errors: calls return 0 once queued, or -errno. The library never prints
 * and never exits. */
#ifndef AGORA_SDK_EXECUTOR_H
#define AGORA_SDK_EXECUTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define AGE_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define AGE_WARN_UNUSED
#endif

struct event_base;
struct json_t;

/* An executor: opaque, made by age_new(), freed by age_free(). */
struct age;

/* TaskState of the Mesos v1 API (the same values as sdk/scheduler.h's). */
enum age_task_state {
	AGE_TASK_STATE_UNSET,
	AGE_TASK_STAGING,
	AGE_TASK_STARTING,
	AGE_TASK_RUNNING,
	AGE_TASK_KILLING,
	AGE_TASK_FINISHED,
	AGE_TASK_FAILED,
	AGE_TASK_KILLED,
	AGE_TASK_ERROR,
	AGE_TASK_LOST,
	AGE_TASK_DROPPED,
	AGE_TASK_UNREACHABLE,
	AGE_TASK_GONE,
	AGE_TASK_GONE_BY_OPERATOR,
	AGE_TASK_UNKNOWN,
};
/* "TASK_RUNNING" etc.; "TASK_STATE_UNSET" for an unknown value. */
const char *age_task_state_name(enum age_task_state s);

/* Where the agent is and who the executor is. Each NULL field is read
 * from the environment the agent gives the executor. */
struct age_config {
	const char *agent_endpoint; /* "host:port"; NULL: MESOS_AGENT_ENDPOINT */
	const char *framework_id;   /* NULL: MESOS_FRAMEWORK_ID */
	const char *executor_id;    /* NULL: MESOS_EXECUTOR_ID */
	/* < 0: from MESOS_CHECKPOINT ("1": true); else 0 false, 1 true */
	int checkpoint;
	double recovery_timeout_s; /* 0: MESOS_RECOVERY_TIMEOUT, else 15 min */
	double backoff_max_s;      /* 0: MESOS_SUBSCRIPTION_BACKOFF_MAX, else 2 s */
};

/* A task as LAUNCH delivers it: its id, name, and the whole TaskInfo. */
struct age_task {
	const char *task_id;
	const char *name;
	const struct json_t *json;
};

/* Every callback is optional. Calls may be made from inside any callback;
 * age_free() from `closed` only. */
struct age_callbacks {
	/* SUBSCRIBED: the first callback, and again after each
	 * re-subscription. The ExecutorInfo, FrameworkInfo and AgentInfo as
	 * the agent sent them; container_id NULL when none. */
	void (*subscribed)(struct age *e, void *ctx, const struct json_t *executor_info,
	                   const struct json_t *framework_info, const struct json_t *agent_info,
	                   const char *container_id);
	/* LAUNCH: run the task; report it with age_update() (TASK_RUNNING,
	 * then a terminal state). */
	void (*launch)(struct age *e, void *ctx, const struct age_task *task);
	/* KILL: end the task and report TASK_KILLED. */
	void (*kill)(struct age *e, void *ctx, const char *task_id);
	/* ACKNOWLEDGED: the scheduler has the update `uuid` of `task_id`, of
	 * `state` (UNSET when the SDK kept no such update: a repeat). The SDK
	 * forgets it before this call. */
	void (*acknowledged)(struct age *e, void *ctx, const char *task_id,
	                     enum age_task_state state, const uint8_t *uuid, size_t len);
	/* MESSAGE from the scheduler. */
	void (*message)(struct age *e, void *ctx, const uint8_t *data, size_t len);
	/* SHUTDOWN: end every task (report them), then end; the agent kills
	 * the container when the grace period
	 * (MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD) runs out. */
	void (*shutdown)(struct age *e, void *ctx);
	/* ERROR from the agent. */
	void (*error)(struct age *e, void *ctx, const char *message);
	/* The stream is gone; the SDK subscribes again by itself when
	 * checkpointing (else `closed` follows). */
	void (*disconnected)(struct age *e, void *ctx, const char *why);
	/* A call was refused (not 202): its type, the HTTP code (0: no
	 * answer), the agent's reason. An UPDATE without an answer stays
	 * kept and goes again with the next SUBSCRIBE. */
	void (*call_failed)(struct age *e, void *ctx, const char *call_type, int code,
	                    const char *body);
	/* Given up for good (`why`): not checkpointing and disconnected, or
	 * MESOS_RECOVERY_TIMEOUT passed without the agent. Called once, from
	 * a timer of its own. */
	void (*closed)(struct age *e, void *ctx, const char *why);
};

/* An executor on `base` (borrowed). NULL with errno EINVAL when the
 * endpoint, the framework id or the executor id is missing (neither given
 * nor in the environment). Nothing happens until age_start(). */
AGE_WARN_UNUSED struct age *age_new(struct event_base *base, const struct age_config *cfg,
                                    const struct age_callbacks *cb, void *ctx);
void age_free(struct age *e);
/* Subscribe now (and again, by itself, as above). */
void age_start(struct age *e);
bool age_subscribed(const struct age *e);
const char *age_framework_id(const struct age *e);
const char *age_executor_id(const struct age *e);

/* Report a state of a task: a TaskStatus with a new uuid, kept until
 * acknowledged (sent now when subscribed, with the next SUBSCRIBE
 * otherwise). `message` and `data` may be NULL. -EINVAL for a bad state
 * (UNSET, STAGING). */
AGE_WARN_UNUSED int age_update(struct age *e, const char *task_id, enum age_task_state state,
                               const char *message, const uint8_t *data, size_t len);
/* MESSAGE to the scheduler (best effort). -ENOTCONN when not subscribed. */
AGE_WARN_UNUSED int age_message(struct age *e, const uint8_t *data, size_t len);
/* Updates not yet acknowledged. */
size_t age_unacknowledged(const struct age *e);

#endif
