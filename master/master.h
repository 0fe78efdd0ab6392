/* master.h: the master daemon's state, shared by main.c and the endpoint
 * handlers.
 *
 * Ownership. struct ms_master owns every framework, agent, offer and task
 * (through its maps); a framework owns its tasks; streams are owned by the
 * HTTP server and only borrowed here until their close callback runs.
 * Everything runs on the one libevent loop: no locks.
 *
 * Durability. What a restarted master must know (framework ids and their
 * failover timeouts, admitted agents, weights) is written to the registry
 * before the call that created it is answered; tasks are rebuilt from the
 * agents' re-registrations. */
#ifndef AGORA_MASTER_MASTER_H
#define AGORA_MASTER_MASTER_H

#include "allocator/allocator.h"
#include "master/flags.h"
#include "master/http.h"
#include "common/map.h"
#include "common/ring.h"
#include "master/registry.h"
#include "proto/proto.h"

#ifndef AGORA_VERSION
#define AGORA_VERSION "0.0.0"
#endif

#define MS_STREAM_ID_LEN 37 /* a textual uuid and its NUL */

struct ms_master;

struct ms_framework {
	struct ms_master *m;
	char *id;
	json_t *info;    /* FrameworkInfo, normalized, with `id` set */
	char *info_text; /* the same as pb_json_dump() writes it: RUN_TASK */
	char **roles;    /* what it subscribes to in the allocator */
	size_t n_roles;
	uint32_t caps; /* PB_CAP_BIT(...) */
	double failover_timeout_s;
	char *principal;
	struct ms_stream *stream; /* NULL: disconnected */
	char stream_id[MS_STREAM_ID_LEN];
	bool recovered;         /* known from the registry or an agent, not subscribed since */
	bool recorded;          /* its FrameworkInfo as it is now is in the registry */
	struct event *failover; /* armed while disconnected */
	struct ag_map tasks;    /* task id -> struct ms_task */
	json_t *offers_out;     /* offers of this allocation cycle not sent yet */
	int64_t registered_ns, reregistered_ns, unregistered_ns; /* wall clock */
	/* Ended tasks (struct ms_task, oldest first) for GET_TASKS'
	 * completed_tasks, at most --max_completed_tasks_per_framework. */
	struct ag_ring completed;
	/* Its custom executors: "agent_id/executor_id" -> struct ms_executor
	 * (executors.c). */
	struct ag_map executors;
};

enum ms_drain_state {
	MS_DRAIN_NONE,
	MS_DRAIN_DRAINING, /* its tasks are being killed */
	MS_DRAIN_DRAINED,  /* none left running */
};

struct ms_agent {
	struct ms_master *m;
	char *id;
	char *hostname;
	char *ip; /* the address its REGISTER came from: offers' url.address.ip */
	int port;
	char *version;
	/* AgentInfo, normalized, with `id` set, as pb_json_dump() text: a
	 * jansson tree of it costs about 2 KB per agent. */
	char *info;
	json_t *attributes;          /* its attributes for offers; NULL: none */
	struct drf_resources *total; /* NULL until it (re-)registers */
	struct ms_stream *stream;
	char stream_id[MS_STREAM_ID_LEN];
	bool active;           /* registered with the allocator since the master started */
	bool unreachable;      /* missed its heartbeats: its tasks were lost */
	bool gone;             /* marked gone by an operator: never re-admitted */
	uint64_t last_seen_ns; /* monotonic: last message from it; 0: never seen by this master */
	/* Its tasks that have not ended (completed ones are not here), linked
	 * through ms_task.agent_prev/agent_next: what a re-registration or a
	 * loss walks without visiting every task of the cluster. */
	struct ms_task *tasks;
	int64_t registered_ns, reregistered_ns;
	/* The registration_order of the last registration accepted with one
	 * (memory only: a restarted master takes any). Older or equal ones
	 * are refused: they come from an abandoned connection or a dead
	 * process of the agent, and their task lists are out of date. */
	bool has_order;
	struct pb_registration_order order;
	/* The secret it was issued (PB_AGENT_SECRET_LEN hex digits), durable
	 * in the registry; every REREGISTER and POST of the agent must carry
	 * it. NULL: none yet (admitted by a master older than secrets; the
	 * next registration gets one). */
	char *secret;
	/* Issued on a re-registration (an agent admitted before secrets) and
	 * not presented since: a REREGISTER without one gets a new one (its
	 * REGISTERED may have been lost with the connection; the agent has
	 * nothing else to go on). Memory only: a restarted master requires
	 * what its registry holds. */
	bool secret_unconfirmed;
	/* Maintenance (drain.c), durable in the registry: deactivated agents
	 * get no offers; draining ones have their tasks killed. */
	bool deactivated;
	enum ms_drain_state drain;
	bool drain_has_max_grace, drain_mark_gone;
	int64_t drain_max_grace_ns;
};

struct ms_offer {
	char *id;
	struct ms_framework *fw;
	struct ms_agent *agent;
	char *role;
	struct drf_resources *res;
	struct event *timeout; /* --offer_timeout; NULL when off */
};

struct ms_task {
	char *id;
	struct ms_framework *fw;
	char *agent_id;
	char *role;
	/* TaskInfo, normalized (what RUN_TASK carried), and the latest
	 * TaskStatus (NULL while staging), kept as compact JSON text: a
	 * jansson tree costs about 4 KB per TaskInfo and 2 KB per status,
	 * text a tenth of it; they are parsed only when a task is shown. */
	char *info;
	struct drf_resources *res;
	enum pb_task_state state;
	char *status;
	/* The last update the agent sent that the framework has not
	 * acknowledged yet (the agent keeps one outstanding per task), as
	 * the TaskStatus text sent on the wire; NULL when none. */
	char *pending;
	uint8_t pending_uuid[PB_UUID_LEN];
	/* Its place in its agent's list (agent NULL once completed). */
	struct ms_agent *agent;
	struct ms_task *agent_prev, *agent_next;
	bool booked;       /* its resources are allocated in the allocator */
	bool seen;         /* scratch: reported by the re-registering agent */
	bool kill_pending; /* KILLed while its agent was disconnected */
};

struct ms_master {
	struct ms_flags flags;
	struct event_base *base;
	struct ms_http *http;
	struct ms_registry *registry;
	struct ms_zk *zk; /* --zk: the contender (zk.h); NULL: the only master */
	char *id;         /* kept in the registry: stable across restarts */
	uint64_t start_ns;
	int64_t start_wall_ns;
	bool stopping;

	struct drf_allocator *alloc;
	struct ag_map frameworks;         /* id -> struct ms_framework */
	struct ag_map agents;             /* id -> struct ms_agent */
	struct ag_map offers;             /* id -> struct ms_offer */
	struct ag_map removed_frameworks; /* id -> (void *)1: refused on re-subscribe */
	/* Removed frameworks (struct ms_framework, oldest first) for
	 * GET_FRAMEWORKS' completed_frameworks, at most
	 * --max_completed_frameworks; each keeps its completed tasks. */
	struct ag_ring completed_frameworks;
	uint64_t next_framework, next_agent, next_offer;
	size_t completed_tasks;

	struct event *alloc_timer;      /* periodic full cycle */
	struct event *alloc_soon;       /* zero-delay: one dirty cycle per loop turn */
	struct event *alloc_batch;      /* --allocation_batch after recovered resources */
	struct event *heartbeat;        /* HEARTBEAT on every stream */
	struct event *agent_checker;    /* missed agent heartbeats */
	struct event *drain_check;      /* zero-delay: DRAINING -> DRAINED (drain.c) */
	struct ms_stream **subscribers; /* operator SUBSCRIBE streams */
	size_t n_subscribers;
	size_t n_scheduler_streams; /* frameworks with a stream */
	/* When a refusal over a cap was last logged (ms_log_every). */
	int64_t op_refused_log_ns, sched_refused_log_ns;

	/* While the registry cannot be written (durable.c): why, since when
	 * (monotonic), and the probe that finds out when it can again. */
	char *registry_error; /* NULL: healthy */
	uint64_t registry_error_since_ns;
	struct event *registry_probe;
};

/* ---- state.c -------------------------------------------------------- */

/* Set up the allocator and the timers after the HTTP server exists. */
AG_WARN_UNUSED int ms_master_init(struct ms_master *m, struct ag_error *err);
/* Free every framework, agent, offer and task, the allocator and timers. */
void ms_master_fini(struct ms_master *m);
/* A random v4 uuid as text; the caller frees it. */
char *ms_uuid(void);
void ms_uuid_bytes(uint8_t out[PB_UUID_LEN]);

/* Whether a repeated warning may be logged now: at most one per 10 s per
 * `last_ns` (the monotonic time of the last one, updated). */
bool ms_log_every(int64_t *last_ns);
/* The result `r` of an allocator call that the master's own state says
 * cannot fail (both know the ids): a failure means the two disagree, a
 * bug logged at ERROR with `what` and `id`. */
void ms_alloc_check(int r, const char *what, const char *id);

/* ---- convert.c ------------------------------------------------------ */

/* Resources from the wire into the allocator's form. -EINVAL with a
 * message naming the resource for what cannot be represented. The caller
 * frees *ret with drf_resources_free(). */
AG_WARN_UNUSED int ms_resources_from_pb(struct ms_master *m, const struct pb_resource *r, size_t n,
                                        struct drf_resources **ret, struct ag_error *err);
/* The same from normalized Resource JSON (an array). */
AG_WARN_UNUSED int ms_resources_from_json(struct ms_master *m, const json_t *arr,
                                          struct drf_resources **ret, struct ag_error *err);
/* Resources as Resource JSON, written with PB_RES_* `flags`; `alloc_role`
 * is put in allocation_info when flags ask for it. A new reference. */
json_t *ms_resources_to_json(const struct drf_resources *r, unsigned flags, const char *alloc_role);
/* The PB_RES_* flags a framework's capabilities call for. */
unsigned ms_framework_res_flags(const struct ms_framework *fw);
json_t *ms_master_info_json(struct ms_master *m);

/* ---- send.c --------------------------------------------------------- */

/* Send `ev` (stolen) as one record on the framework's stream; dropped when
 * it is disconnected. */
void ms_framework_send(struct ms_framework *fw, json_t *ev);
/* UPDATE with `status_text` (a TaskStatus as pb_json_dump() writes it) on
 * the framework's stream: the same bytes as ms_framework_send() of the
 * event built as JSON, without building it. */
void ms_framework_send_update_text(struct ms_framework *fw, const char *status_text);
/* The same on an agent's stream. */
void ms_agent_send(struct ms_agent *a, json_t *msg);
/* Send an operator event (stolen) to every operator subscriber. */
void ms_operator_broadcast(struct ms_master *m, json_t *ev);
/* Answer a request whose body a pb_*_decode() refused with `rc`/`err`:
 * 413 for -EMSGSIZE, else 400 with the decoder's message, or naming the
 * client's unknown `type`. */
void ms_reply_decode_error(struct evhttp_request *req, int rc, const struct ag_error *err,
                           const char *body, size_t len);

/* ---- timers.c ------------------------------------------------------- */

/* Create and arm the allocation, heartbeat and agent-check timers. */
AG_WARN_UNUSED int ms_timers_start(struct ms_master *m, struct ag_error *err);
/* Free them (those that were created). */
void ms_timers_stop(struct ms_master *m);
/* Ask for one drf_allocate_dirty() at the end of this loop turn. */
void ms_allocate_soon(struct ms_master *m);
/* Ask for one drf_allocate_dirty() --allocation_batch from the first such
 * request (not from the last: the delay is bounded): for resources coming
 * back, so that an agent's offer carries what several tasks freed. Mesos
 * re-offers them at its next batch allocation. */
void ms_allocate_batched(struct ms_master *m);

/* ---- frameworks.c --------------------------------------------------- */

struct ms_framework *ms_framework_find(struct ms_master *m, const char *id);
/* SUBSCRIBE on the scheduler endpoint: answers `req`. */
void ms_framework_subscribe(struct ms_master *m, struct evhttp_request *req,
                            const struct pb_call *call);
/* A known framework with no stream (re-registered agent's task, registry):
 * created disconnected, inactive in the allocator. NULL (logged) when its
 * FrameworkInfo does not decode. */
AG_WARN_UNUSED struct ms_framework *ms_framework_recover(struct ms_master *m, const char *id,
                                                         const json_t *info);
/* Record it removed, then kill its tasks, drop its offers and forget it
 * (`fw` may be freed). When the removal cannot be recorded nothing
 * changes: -errno with `err` set (the registry's episode is noted). */
AG_WARN_UNUSED int ms_framework_remove(struct ms_master *m, struct ms_framework *fw,
                                       const char *why, struct ag_error *err);
/* Forget the oldest removed frameworks beyond
 * --registry_max_removed_frameworks, in the registry and in memory (a
 * pruned id may subscribe again, as in Mesos). 0 or -errno (logged). */
AG_WARN_UNUSED int ms_removed_frameworks_prune(struct ms_master *m);
json_t *ms_framework_json(struct ms_master *m, struct ms_framework *fw);
void ms_framework_free(struct ms_framework *fw);

/* ---- offers.c ------------------------------------------------------- */

/* The allocator's callback: the offer is recorded and queued on its
 * framework; ms_offers_flush() sends the queue as one OFFERS event (Mesos
 * sends an allocation's offers together). */
void ms_on_offer(void *ctx, const struct drf_offer *o);
/* Send every framework's queued offers; after each allocation cycle. */
void ms_offers_flush(struct ms_master *m);
struct ms_offer *ms_offer_find(struct ms_master *m, const char *id);
/* Forget an offer (not its resources: the caller has told the allocator). */
void ms_offer_drop(struct ms_master *m, struct ms_offer *o);
/* Take the offer back: allocator recovery and, when `tell`, RESCIND. */
void ms_offer_rescind(struct ms_master *m, struct ms_offer *o, bool tell);
/* Rescind every offer of a framework, or on an agent (NULL: any). */
void ms_offers_rescind_matching(struct ms_master *m, struct ms_framework *fw,
                                struct ms_agent *agent, bool tell);
void ms_accept(struct ms_master *m, struct ms_framework *fw, const struct pb_call_offers *acc,
               bool decline_only);

/* ---- tasks.c -------------------------------------------------------- */

struct ms_task *ms_task_find(struct ms_framework *fw, const char *id);
/* A master-generated update (no uuid) to the framework. */
void ms_task_send_master_update(struct ms_master *m, struct ms_framework *fw, const char *task_id,
                                const char *agent_id, enum pb_task_state state,
                                enum pb_task_reason reason, const char *message);
/* The agent reported a status (`status_text`: its normalized TaskStatus as
 * pb_json_dump() writes it). */
void ms_task_status_update(struct ms_master *m, struct ms_agent *agent, const char *framework_id,
                           const struct pb_task_status *st, const char *status_text);
/* Validate a TaskInfo of a LAUNCH (reference §2): 0, or -EINVAL with
 * `err` (not NULL) naming the problem, the message the framework's
 * TASK_ERROR carries. */
AG_WARN_UNUSED int ms_task_validate(struct ms_framework *fw, const struct pb_task_info *ti,
                                    const char *agent_id, struct ag_error *err);
/* Whether the master is done with a task in `s`: terminal, or
 * TASK_GONE_BY_OPERATOR (terminal in Mesos too). */
bool ms_task_state_ended(enum pb_task_state s);
/* Record a validated task (taking `res`, booked in the allocator by the
 * accept) and send RUN_TASK to its agent. */
void ms_task_launch(struct ms_master *m, struct ms_framework *fw, struct ms_agent *agent,
                    const struct pb_task_info *ti, const char *role, struct drf_resources *res);
/* A task a re-registering agent reports (taking `res`; the caller books
 * them and sets `booked`). */
struct ms_task *ms_task_adopt(struct ms_master *m, struct ms_framework *fw, struct ms_agent *a,
                              const char *role, const json_t *info, struct drf_resources *res);
/* KILL_TASK for a task on `a` (default grace period). */
void ms_task_kill_on_agent(struct ms_agent *a, const char *fw_id, const char *task_id);
/* The framework acknowledged `uuid`: 0, -ENOENT when no such update. */
AG_WARN_UNUSED int ms_task_acknowledge(struct ms_master *m, struct ms_framework *fw,
                                       const char *task_id, const uint8_t *uuid);
/* Set the task's state, recover its resources when it no longer holds
 * them (ended, unreachable), and tell operator subscribers. */
void ms_task_transition(struct ms_master *m, struct ms_task *t, enum pb_task_state state,
                        const json_t *status);
/* A transition the master decides on its own (agent lost, task unknown to
 * its agent, framework removed): the status is SOURCE_MASTER with `reason`
 * and `message`, recorded, sent to operator subscribers and, when `tell`,
 * to the framework as an UPDATE without uuid. */
void ms_task_master_transition(struct ms_master *m, struct ms_task *t, enum pb_task_state state,
                               enum pb_task_reason reason, const char *message, bool tell);
/* The task ended and nothing more will come for it: out of its
 * framework's tasks and its agent's list, into the framework's completed
 * tasks (the oldest beyond the bound is freed). Resources were recovered
 * when it ended. */
void ms_task_remove(struct ms_master *m, struct ms_task *t);
void ms_task_free(struct ms_task *t);
json_t *ms_task_json(struct ms_task *t);
/* Replace the task's latest status with `status` (may be NULL). */
void ms_task_set_status(struct ms_task *t, const json_t *status);
void ms_reconcile(struct ms_master *m, struct ms_framework *fw, const struct pb_call *call);
void ms_kill(struct ms_master *m, struct ms_framework *fw, const struct pb_call *call);
/* An agent became unreachable or was marked gone: its tasks are lost. */
void ms_tasks_agent_lost(struct ms_master *m, struct ms_agent *a, bool by_operator);

/* ---- scheduler.c / agents.c / operator.c ---------------------------- */

AG_WARN_UNUSED int ms_scheduler_routes(struct ms_master *m);
AG_WARN_UNUSED int ms_agent_routes(struct ms_master *m);
/* Route the operator API (POST /api/v1) and GET /health. */
AG_WARN_UNUSED int ms_operator_routes(struct ms_master *m);
/* Load the registry's agents, frameworks and weights into memory. */
AG_WARN_UNUSED int ms_recover_state(struct ms_master *m, struct ag_error *err);
void ms_agent_free(struct ms_agent *a);
/* Mark unreachable (missed heartbeats) or gone (operator). */
void ms_agent_lost(struct ms_master *m, struct ms_agent *a, bool by_operator);
json_t *ms_agent_json(struct ms_master *m, struct ms_agent *a);
/* Its AgentInfo as a new tree. */
json_t *ms_agent_info_json(const struct ms_agent *a);

/* ---- executors.c ---------------------------------------------------- */

/* A task with TaskInfo.executor: 0 when it may launch, *ret_new the
 * resources of the executor to allocate now (its first task on the
 * agent; NULL when none: known already, or it has none); -EINVAL with the
 * message of the framework's TASK_ERROR (naming the field) otherwise. */
AG_WARN_UNUSED int ms_executor_check(struct ms_master *m, struct ms_framework *fw,
                                     const char *agent_id, const struct pb_task_info *ti,
                                     struct drf_resources **ret_new, struct ag_error *err);
/* Record the executor of a launched task (a no-op when known), taking
 * `res` (booked by the accept; may be NULL). */
void ms_executor_add(struct ms_master *m, struct ms_framework *fw, const char *agent_id,
                     const struct pb_task_info *ti, const char *role, struct drf_resources *res);
/* The executor of a task a re-registering agent reports, when the master
 * does not know it (it restarted, or the agent was lost): recorded, its
 * resources booked. */
void ms_executor_adopt(struct ms_master *m, struct ms_framework *fw, struct ms_agent *agent,
                       const struct pb_task_info *ti, const char *role);
/* EXECUTOR_EXITED from an agent: its resources recovered, FAILURE sent. */
void ms_executor_exited(struct ms_master *m, struct ms_agent *agent,
                        const struct pb_agent_msg *msg);
/* EXECUTOR_MESSAGE from an agent: a MESSAGE event to its framework. */
void ms_executor_message_from_agent(struct ms_master *m, struct ms_agent *agent,
                                    const struct pb_agent_msg *msg);
/* The scheduler calls MESSAGE and SHUTDOWN: to the executor's agent. */
void ms_executor_message(struct ms_master *m, struct ms_framework *fw, const struct pb_call *call);
void ms_executor_shutdown(struct ms_master *m, struct ms_framework *fw, const struct pb_call *call);
/* The agent is lost or gone: its executors' resources are recovered. */
void ms_executors_agent_lost(struct ms_master *m, struct ms_agent *agent);
/* Forget every executor of `fw` (the allocator took their resources back
 * with the framework). */
void ms_executors_free(struct ms_framework *fw);
size_t ms_executors_on_agent(struct ms_framework *fw, const char *agent_id);

/* ---- limits.c -------------------------------------------------------- */

/* Bounds on free text, in bytes (docs/operator-api.md, "Bounds"). */
#define MS_MAX_NAME         1024 /* FrameworkInfo.name, TaskInfo.name */
#define MS_MAX_USER         256  /* LOGIN_NAME_MAX */
#define MS_MAX_HOSTNAME     255  /* a DNS name (RFC 1035) */
#define MS_MAX_PRINCIPAL    1024
#define MS_MAX_URL          2048
#define MS_MAX_LABELS       64 /* labels of one message; attributes of an agent */
#define MS_MAX_LABEL_KEY    256
#define MS_MAX_LABEL_VALUE  4096
#define MS_MAX_LABELS_BYTES 16384 /* keys and values of one message's labels */
/* An agent's TaskStatus.message: cut (ms_text_truncate), not refused. */
#define MS_MAX_STATUS_MESSAGE 4096

/* 0, or -EINVAL with a message naming the field (`what` is its path) that
 * is longer than its bound, for a 400. */
AG_WARN_UNUSED int ms_check_framework_info_text(const struct pb_framework_info *fi,
                                                const char *what, struct ag_error *err);
AG_WARN_UNUSED int ms_check_task_info_text(const struct pb_task_info *ti, const char *what,
                                           struct ag_error *err);
/* The free text of a scheduler call: the FrameworkInfo of SUBSCRIBE and
 * UPDATE_FRAMEWORK, the tasks of ACCEPT's launches. */
AG_WARN_UNUSED int ms_check_call_text(const struct pb_call *call, struct ag_error *err);
/* The AgentInfo of a REGISTER/REREGISTER: hostname and attributes. */
AG_WARN_UNUSED int ms_check_agent_text(const struct pb_agent_msg *msg, struct ag_error *err);
/* `s` (UTF-8) cut to at most `max` bytes on a character boundary, with a
 * note of how much was cut appended (the result may exceed `max` by the
 * note, under 64 bytes). The caller frees it. */
char *ms_text_truncate(const char *s, size_t max);

/* ---- durable.c ------------------------------------------------------ */

/* Note the result `r` of a registry write (`err` says why it failed):
 * a failure of the disk starts an episode of an unwritable registry (one
 * ERROR line, the master unhealthy, a probe write every second), a success
 * ends one. Returns `r`. */
AG_WARN_UNUSED int ms_registry_wrote(struct ms_master *m, int r, const struct ag_error *err);
/* Answer 503: `what` ("Cannot record the framework") was not done because
 * the registry cannot be written, and why. */
void ms_reply_unwritable(struct evhttp_request *req, const char *what, const struct ag_error *err);
/* NULL while the master is healthy, else why it is not. */
const char *ms_unhealthy_reason(const struct ms_master *m);
/* Free durable.c's state (ms_master_fini() calls it). */
void ms_durable_fini(struct ms_master *m);

/* ---- drain.c --------------------------------------------------------- */

/* Load the agents' maintenance state from the registry (ms_recover_state()
 * calls it once the agents are loaded). */
AG_WARN_UNUSED int ms_drain_recover(struct ms_master *m, struct ag_error *err);
/* Free drain.c's timer (ms_master_fini() calls it). */
void ms_drain_fini(struct ms_master *m);
/* DRAIN_AGENT, DEACTIVATE_AGENT, REACTIVATE_AGENT: answers `req`. */
void ms_drain_operator(struct ms_master *m, struct evhttp_request *req,
                       const struct pb_operator_call *call);
/* agora's KILL_TASK: answers `req`. */
void ms_kill_task_operator(struct ms_master *m, struct evhttp_request *req,
                           const struct pb_operator_call *call);
/* Send KILL_TASK for `t` to its agent (dropped when it is disconnected). */
void ms_task_send_kill(struct ms_master *m, struct ms_task *t, bool has_grace, int64_t grace_ns);
/* Add `deactivated` and `drain_info` to a GetAgents.Agent. */
void ms_drain_agent_json(const struct ms_agent *a, json_t *j);
/* An agent (re-)registered: keep it deactivated, go on draining it. */
void ms_drain_agent_registered(struct ms_master *m, struct ms_agent *a);
/* A task reached a terminal state: its agent may now be DRAINED. */
void ms_drain_task_ended(struct ms_master *m, const struct ms_task *t);
void ms_drain_check_soon(struct ms_master *m);

#endif
