/* proto.h: agora's wire types. The Mesos v1 HTTP API subset the master and
 * agent speak (JSON only), RecordIO framing, and agora's own master<->agent
 * protocol (docs/agent-protocol.md). The shapes and mapping rules are those
 * of docs/reference/mesos-v1-subset.md.
 *
 * Decoding: everything a client sends (scheduler calls, operator calls,
 * agent messages; scheduler events for test clients) is checked against a
 * table of the Mesos messages, at every depth, following stout's rules:
 * numeric strings for numbers, exponents for doubles, "true"/"false" for
 * bools, a lone value for a one-element array, null = absent, unknown keys
 * ignored, enums by name only (a number is an error, an unknown name drops
 * an optional field), bytes in base64. The result is a *normalized* JSON
 * tree (only known fields, canonical types, padded base64) plus plain C
 * structs that point into it. Errors name the field and the reason
 * ("call.accept.offer_ids[0].value: must be a string") or list every
 * missing required field ("Missing required fields: subscribe.framework_info.user,
 * subscribe.framework_info.name"); the master returns that text in its 400.
 *
 * Ownership: a decoded message owns a `struct pb_arena` that holds its
 * strings, arrays and JSON; every `const char *`, array and `const json_t *`
 * in it lives until the message's *_free(). Take a reference
 * (json_incref) on a `json` member to keep part of a message longer.
 *
 * Encoding: builders return new jansson trees (the caller json_decref()s)
 * that only hold set fields, enums by name, integers bare, bytes in padded
 * base64; pb_json_dump() makes the one-line ASCII text every client copes
 * with (npm mesos-framework needs one-line ASCII).
 *
 * Nothing here prints, exits or keeps global state. Not thread-safe per
 * object; distinct objects may be used from distinct threads.
 */
#ifndef AGORA_PROTO_H
#define AGORA_PROTO_H

#include "common/common.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bodies and records larger than this are refused (mesos-go's frame cap). */
#define PB_MAX_MESSAGE (4u << 20)
/* Status update uuids are 16 raw bytes. */
#define PB_UUID_LEN 16

/* ---- arena ------------------------------------------------------------ */

/* Memory of decoded messages: freed all at once. Also holds references to
 * the JSON trees the structs point into. */
struct pb_arena;

struct pb_arena *pb_arena_new(void);
/* NULL is fine. */
void pb_arena_free(struct pb_arena *a);

/* ---- JSON text --------------------------------------------------------- */

/* One-line, ASCII-only text of `j` (non-ASCII as \uXXXX). The caller frees
 * the result; *ret_len (may be NULL) gets its length. NULL only when `j` is
 * NULL. */
char *pb_json_dump(const json_t *j, size_t *ret_len);

/* Sets a TaskStatus object's "uuid" (base64) in its place in the message's
 * field order, before the fields that follow it (healthy, labels,
 * container_status…), so a status built in that order stays in it. */
void pb_status_set_uuid(json_t *status, const char *uuid_b64);

/* ---- enums -------------------------------------------------------------
 * Each C enum starts with an unset value 0; the others are the Mesos names,
 * which pb_*_name() returns (NULL for 0 or out of range) and
 * pb_*_from_name() parses (0 when unknown). */

enum pb_task_state {
	PB_TASK_STATE_UNSET,
	PB_TASK_STAGING,
	PB_TASK_STARTING,
	PB_TASK_RUNNING,
	PB_TASK_KILLING,
	PB_TASK_FINISHED,
	PB_TASK_FAILED,
	PB_TASK_KILLED,
	PB_TASK_ERROR,
	PB_TASK_LOST,
	PB_TASK_DROPPED,
	PB_TASK_UNREACHABLE,
	PB_TASK_GONE,
	PB_TASK_GONE_BY_OPERATOR,
	PB_TASK_UNKNOWN,
};
const char *pb_task_state_name(enum pb_task_state s);
enum pb_task_state pb_task_state_from_name(const char *name);
/* FINISHED, FAILED, KILLED, ERROR, LOST, DROPPED, GONE. */
bool pb_task_state_is_terminal(enum pb_task_state s);

enum pb_task_source {
	PB_SOURCE_UNSET,
	PB_SOURCE_MASTER,
	PB_SOURCE_AGENT,
	PB_SOURCE_EXECUTOR,
};
const char *pb_task_source_name(enum pb_task_source s);

enum pb_task_reason {
	PB_REASON_UNSET,
	PB_REASON_COMMAND_EXECUTOR_FAILED,
	PB_REASON_CONTAINER_LAUNCH_FAILED,
	PB_REASON_CONTAINER_LIMITATION,
	PB_REASON_CONTAINER_LIMITATION_DISK,
	PB_REASON_CONTAINER_LIMITATION_MEMORY,
	PB_REASON_CONTAINER_PREEMPTED,
	PB_REASON_CONTAINER_UPDATE_FAILED,
	PB_REASON_MAX_COMPLETION_TIME_REACHED,
	PB_REASON_EXECUTOR_REGISTRATION_TIMEOUT,
	PB_REASON_EXECUTOR_REREGISTRATION_TIMEOUT,
	PB_REASON_EXECUTOR_TERMINATED,
	PB_REASON_EXECUTOR_UNREGISTERED,
	PB_REASON_FRAMEWORK_REMOVED,
	PB_REASON_GC_ERROR,
	PB_REASON_INVALID_FRAMEWORKID,
	PB_REASON_INVALID_OFFERS,
	PB_REASON_IO_SWITCHBOARD_EXITED,
	PB_REASON_MASTER_DISCONNECTED,
	PB_REASON_RECONCILIATION,
	PB_REASON_RESOURCES_UNKNOWN,
	PB_REASON_AGENT_DISCONNECTED,
	PB_REASON_AGENT_REMOVED,
	PB_REASON_AGENT_REMOVED_BY_OPERATOR,
	PB_REASON_AGENT_REREGISTERED,
	PB_REASON_AGENT_RESTARTED,
	PB_REASON_AGENT_UNKNOWN,
	PB_REASON_TASK_KILLED_DURING_LAUNCH,
	PB_REASON_TASK_CHECK_STATUS_UPDATED,
	PB_REASON_TASK_HEALTH_CHECK_STATUS_UPDATED,
	PB_REASON_TASK_GROUP_INVALID,
	PB_REASON_TASK_GROUP_UNAUTHORIZED,
	PB_REASON_TASK_INVALID,
	PB_REASON_TASK_UNAUTHORIZED,
	PB_REASON_TASK_UNKNOWN,
};
const char *pb_task_reason_name(enum pb_task_reason r);

/* FrameworkInfo.Capability.Type; pb_framework_info.capabilities is a mask
 * of PB_CAP_BIT(x). */
enum pb_framework_capability {
	PB_CAP_UNSET,
	PB_CAP_UNKNOWN,
	PB_CAP_REVOCABLE_RESOURCES,
	PB_CAP_TASK_KILLING_STATE,
	PB_CAP_GPU_RESOURCES,
	PB_CAP_SHARED_RESOURCES,
	PB_CAP_PARTITION_AWARE,
	PB_CAP_MULTI_ROLE,
	PB_CAP_RESERVATION_REFINEMENT,
	PB_CAP_REGION_AWARE,
};
#define PB_CAP_BIT(c) (1u << (c))

/* Value.Type: of resources and attributes. */
enum pb_value_type {
	PB_VALUE_UNSET,
	PB_VALUE_SCALAR,
	PB_VALUE_RANGES,
	PB_VALUE_SET,
	PB_VALUE_TEXT,
};

enum pb_reservation_type {
	PB_RESERVATION_UNSET,
	PB_RESERVATION_UNKNOWN,
	PB_RESERVATION_STATIC,
	PB_RESERVATION_DYNAMIC,
};

enum pb_container_type {
	PB_CONTAINER_UNSET,
	PB_CONTAINER_DOCKER,
	PB_CONTAINER_MESOS,
};

enum pb_image_type {
	PB_IMAGE_UNSET,
	PB_IMAGE_APPC,
	PB_IMAGE_DOCKER,
};

enum pb_health_check_type {
	PB_HEALTH_CHECK_UNSET,
	PB_HEALTH_CHECK_UNKNOWN,
	PB_HEALTH_CHECK_COMMAND,
	PB_HEALTH_CHECK_HTTP,
	PB_HEALTH_CHECK_TCP,
};

enum pb_operation_type {
	PB_OPERATION_UNSET,
	PB_OPERATION_UNKNOWN,
	PB_OPERATION_LAUNCH,
	PB_OPERATION_LAUNCH_GROUP,
	PB_OPERATION_RESERVE,
	PB_OPERATION_UNRESERVE,
	PB_OPERATION_CREATE,
	PB_OPERATION_DESTROY,
	PB_OPERATION_GROW_VOLUME,
	PB_OPERATION_SHRINK_VOLUME,
	PB_OPERATION_CREATE_DISK,
	PB_OPERATION_DESTROY_DISK,
};

/* ---- shared types ------------------------------------------------------ */

struct pb_bytes {
	const uint8_t *data; /* NULL when absent */
	size_t len;
};

struct pb_range {
	uint64_t begin; /* inclusive */
	uint64_t end;   /* inclusive */
};

struct pb_reservation {
	enum pb_reservation_type type;
	const char *role; /* NULL when absent */
	const char *principal;
};

/* A Mesos Resource. Scalars are kept in thousandths, as Mesos rounds them to
 * three decimals (and as the DRF allocator counts them). The old
 * `reservation` (singular) decodes as one entry of `reservations`. */
struct pb_resource {
	const char *name;
	enum pb_value_type type; /* SCALAR, RANGES or SET; the master refuses TEXT */
	int64_t scalar_milli;
	const struct pb_range *ranges;
	size_t n_ranges;
	const char *const *items; /* SET */
	size_t n_items;
	const char *role;                          /* deprecated `role`; NULL when absent */
	const char *allocation_role;               /* allocation_info.role; NULL when absent */
	const struct pb_reservation *reservations; /* innermost last */
	size_t n_reservations;
	bool revocable;
	bool shared;
	const json_t *disk; /* DiskInfo, normalized; NULL when absent */
};

/* The role `r` is reserved for: the last reservation's role, else `role`
 * unless it is "*"; NULL when unreserved. */
const char *pb_resource_reserved_role(const struct pb_resource *r);

struct pb_attribute {
	const char *name;
	enum pb_value_type type;
	double scalar;
	const struct pb_range *ranges;
	size_t n_ranges;
	const char *const *items;
	size_t n_items;
	const char *text;
};

struct pb_label {
	const char *key;
	const char *value; /* NULL when absent */
};

struct pb_env_var {
	const char *name;
	const char *value; /* "" when absent; SECRET variables are refused */
};

struct pb_uri {
	const char *value;
	bool executable;
	bool extract; /* default true */
	bool cache;
	const char *output_file;
};

struct pb_command_info {
	bool shell; /* default true: run `/bin/sh -c value` */
	const char *value;
	const char *const *arguments;
	size_t n_arguments;
	const struct pb_env_var *env;
	size_t n_env;
	const char *user;
	const struct pb_uri *uris;
	size_t n_uris;
};

/* ContainerInfo. Volumes, linux_info, rlimit_info and network_infos are
 * read by the agent from `json` (already normalized and type-checked). */
struct pb_container_info {
	enum pb_container_type type;
	const char *hostname;
	enum pb_image_type image_type; /* mesos.image.type */
	const char *image_name;        /* mesos.image.docker.name or appc.name */
	const json_t *oci;             /* agora's OCI-like spec, verbatim; NULL when absent */
	const json_t *json;            /* the whole ContainerInfo, normalized */
};

struct pb_task_info {
	const char *name;
	const char *task_id;
	const char *agent_id;
	const struct pb_resource *resources;
	size_t n_resources;
	const struct pb_command_info *command;     /* NULL when absent */
	const char *executor_id;                   /* NULL unless an executor is given */
	const struct pb_container_info *container; /* NULL when absent */
	bool has_health_check;
	enum pb_health_check_type health_check_type; /* UNSET: no `type` given */
	bool has_kill_grace;
	int64_t kill_grace_ns;
	struct pb_bytes data;
	const struct pb_label *labels;
	size_t n_labels;
	const json_t *json; /* the whole TaskInfo, normalized: what RUN_TASK forwards */
	/* Set instead of `json` by pb_call_decode_lean() for a TaskInfo it read
	 * without a tree: the normalized TaskInfo as pb_json_dump() writes it. */
	const char *text;
};

struct pb_framework_info {
	const char *user;
	const char *name;
	const char *id; /* NULL when absent or "" */
	double failover_timeout;
	bool checkpoint;
	const char *role; /* deprecated single role; NULL when absent */
	const char *const *roles;
	size_t n_roles;
	const char *hostname;
	const char *principal;
	const char *webui_url;
	uint32_t capabilities; /* PB_CAP_BIT(...) */
	const struct pb_label *labels;
	size_t n_labels;
};

struct pb_agent_info {
	const char *hostname;
	int32_t port; /* 0: absent (Mesos default 5051) */
	const struct pb_resource *resources;
	size_t n_resources;
	const struct pb_attribute *attributes;
	size_t n_attributes;
	const char *id; /* NULL when absent */
};

/* MasterInfo. `ip` is the IPv4 address in network order read as a
 * little-endian u32, as Mesos does. */
struct pb_master_info {
	const char *id;
	uint32_t ip;
	int32_t port;
	const char *pid;
	const char *hostname;
	const char *version;
	const char *address_ip; /* address.ip (dotted); NULL: no address */
};

struct pb_task_status {
	const char *task_id;
	enum pb_task_state state;
	const char *message;
	enum pb_task_source source;
	enum pb_task_reason reason;
	struct pb_bytes data;
	const char *agent_id;
	const char *executor_id;
	bool has_timestamp;
	double timestamp; /* epoch seconds */
	struct pb_bytes uuid;
	bool has_healthy;
	bool healthy;
	const json_t *check_status; /* CheckStatusInfo as given; NULL: none */
	bool has_unreachable_time;
	int64_t unreachable_time_ns;
	const char *container_id;       /* container_status.container_id */
	int32_t executor_pid;           /* container_status.executor_pid; 0: absent */
	const json_t *container_status; /* normalized; wins over the two above on encode */
	const struct pb_label *labels;
	size_t n_labels;
};

struct pb_filters {
	bool has_refuse_seconds;
	double refuse_seconds;
};

/* The refusal time an absent, negative, NaN or huge `refuse_seconds` means:
 * 5 s by default, at most 365 days; 0 means no filter. `f` may be NULL. */
double pb_filters_refuse_seconds(const struct pb_filters *f);

/* An Offer as the master sends it. */
struct pb_offer {
	const char *id;
	const char *framework_id;
	const char *agent_id;
	const char *hostname;
	const char *url_scheme; /* "http" when NULL */
	const char *url_ip;     /* required: npm mesos-framework reads it */
	int32_t url_port;
	const char *url_path; /* optional */
	const struct pb_resource *resources;
	size_t n_resources;
	const struct pb_attribute *attributes;
	size_t n_attributes;
	const char *const *executor_ids;
	size_t n_executor_ids;
	const char *allocation_role; /* NULL: no allocation_info (non-MULTI_ROLE) */
};

/* ---- rules on values (validate.c) -------------------------------------- */

/* Ids (the values of FrameworkID, TaskID, AgentID, ExecutorID, OfferID,
 * ContainerID...) are data, never syntax: 1 to PB_ID_MAX bytes, not "." or "..",
 * without control characters (C0, DEL, C1), '/', '\\' or '"'. Mesos's
 * validateID() refuses the empty id, control characters and both slashes;
 * agora adds the bound (ids name directories: NAME_MAX) and the double
 * quote. The decoders refuse every id breaking it, naming the field. */
#define PB_ID_MAX 255
/* NULL when the `len` bytes at `id` are a valid id, else why not (a static
 * string such as "must not contain '\"'"). */
const char *pb_id_problem(const char *id, size_t len);

/* The largest value of a scalar resource, and of the sum of the scalars of
 * one name in one list (1e9: a petabyte of mem or disk in MB, a billion
 * cpus): totals of 50,000 agents stay far inside int64 thousandths. */
#define PB_SCALAR_MAX 1000000000LL
/* Check that every scalar of `r` is finite, >= 0 and <= PB_SCALAR_MAX, and
 * that the scalars of one name add up to at most that. -EINVAL with a
 * message naming `what[i]` otherwise. */
AG_WARN_UNUSED int pb_resources_check(const struct pb_resource *r, size_t n, const char *what,
                                      struct ag_error *err);
/* The sum of the scalars named `name`, in thousandths. */
int64_t pb_resources_scalar_milli(const struct pb_resource *r, size_t n, const char *name);

/* ---- builders of shared types (new references; the caller decrefs) ----- */

/* How resources are written, per the receiving framework's capabilities:
 *   0                          old format: `role` ("*" or the reserved role)
 *                              and a singular `reservation` when reserved;
 *   PB_RES_REFINED             `reservations[]` only (RESERVATION_REFINEMENT);
 *   PB_RES_OPERATOR            `role` and `reservations[]` (operator API);
 *   PB_RES_ALLOCATION_INFO     add `allocation_info` (MULTI_ROLE). */
#define PB_RES_REFINED         0x1u
#define PB_RES_OPERATOR        0x2u
#define PB_RES_ALLOCATION_INFO 0x4u

json_t *pb_id_to_json(const char *value);
json_t *pb_time_to_json(int64_t ns);
json_t *pb_resource_to_json(const struct pb_resource *r, unsigned flags);
json_t *pb_resources_to_json(const struct pb_resource *r, size_t n, unsigned flags);
json_t *pb_attribute_to_json(const struct pb_attribute *a);
json_t *pb_framework_info_to_json(const struct pb_framework_info *fi);
json_t *pb_agent_info_to_json(const struct pb_agent_info *ai, unsigned res_flags);
json_t *pb_master_info_to_json(const struct pb_master_info *mi);
json_t *pb_task_status_to_json(const struct pb_task_status *st);
json_t *pb_offer_to_json(const struct pb_offer *o, unsigned res_flags);

/* Standalone decoders for JSON the caller already holds (e.g. a TaskInfo it
 * stored): check `j` against the message table (named `what` in errors) and
 * fill *ret with pointers into memory owned by `a`. */
AG_WARN_UNUSED int pb_task_info_decode(struct pb_arena *a, const json_t *j, const char *what,
                                       struct pb_task_info *ret, struct ag_error *err);
AG_WARN_UNUSED int pb_task_status_decode(struct pb_arena *a, const json_t *j, const char *what,
                                         struct pb_task_status *ret, struct ag_error *err);
AG_WARN_UNUSED int pb_framework_info_decode(struct pb_arena *a, const json_t *j, const char *what,
                                            struct pb_framework_info *ret, struct ag_error *err);

/* ---- scheduler API: calls (POST /api/v1/scheduler) ---------------------- */

enum pb_call_type {
	PB_CALL_UNSET,
	PB_CALL_UNKNOWN,
	PB_CALL_SUBSCRIBE,
	PB_CALL_TEARDOWN,
	PB_CALL_ACCEPT,
	PB_CALL_DECLINE,
	PB_CALL_ACCEPT_INVERSE_OFFERS,
	PB_CALL_DECLINE_INVERSE_OFFERS,
	PB_CALL_REVIVE,
	PB_CALL_KILL,
	PB_CALL_SHUTDOWN,
	PB_CALL_ACKNOWLEDGE,
	PB_CALL_ACKNOWLEDGE_OPERATION_STATUS,
	PB_CALL_RECONCILE,
	PB_CALL_RECONCILE_OPERATIONS,
	PB_CALL_MESSAGE,
	PB_CALL_REQUEST,
	PB_CALL_SUPPRESS,
	PB_CALL_UPDATE_FRAMEWORK,
};
const char *pb_call_type_name(enum pb_call_type t);

struct pb_operation {
	enum pb_operation_type type;
	/* LAUNCH: launch.task_infos; LAUNCH_GROUP: launch_group.task_group.tasks */
	const struct pb_task_info *tasks;
	size_t n_tasks;
	const json_t *executor; /* LAUNCH_GROUP's ExecutorInfo, normalized */
	const json_t *json;     /* the whole operation, normalized */
};

struct pb_reconcile_task {
	const char *task_id;
	const char *agent_id; /* NULL when absent */
};

struct pb_call_offers {
	const char *const *offer_ids;
	size_t n_offer_ids;
	const struct pb_operation *operations; /* ACCEPT only */
	size_t n_operations;
	struct pb_filters filters;
};

struct pb_call_roles {
	const char *const *roles; /* none: all roles */
	size_t n_roles;
};

/* A decoded scheduler Call. The payload of `type` is present (the decoder
 * refuses a call without it, except REVIVE and SUPPRESS whose payload is
 * optional); the other members are zero. */
struct pb_call {
	enum pb_call_type type;
	const char *framework_id; /* top level; NULL when absent */
	struct {
		struct pb_framework_info framework_info;
		const char *const *suppressed_roles;
		size_t n_suppressed_roles;
	} subscribe; /* SUBSCRIBE and UPDATE_FRAMEWORK */
	struct pb_call_offers accept;
	struct pb_call_offers decline;
	struct pb_call_roles revive;
	struct pb_call_roles suppress;
	struct {
		const char *task_id;
		const char *agent_id;
		bool has_grace;
		int64_t grace_ns;
	} kill;
	struct {
		const char *executor_id;
		const char *agent_id;
	} shutdown;
	struct {
		const char *agent_id;
		const char *task_id;
		struct pb_bytes uuid; /* any length; the master checks for 16 */
	} acknowledge;
	struct {
		const struct pb_reconcile_task *tasks; /* none: all tasks */
		size_t n_tasks;
	} reconcile;
	struct {
		const char *agent_id;
		const char *executor_id;
		struct pb_bytes data;
	} message;
	struct {
		size_t n_requests;
	} request;
	json_t *json; /* the normalized call */
	struct pb_arena *arena;
};

/* Decode a scheduler Call from `len` bytes of JSON. On success *ret_call is
 * filled in and owns its memory (pb_call_free()). -EINVAL with `err` set
 * for bad input (the master's 400 body), -EMSGSIZE beyond PB_MAX_MESSAGE. */
AG_WARN_UNUSED int pb_call_decode(const char *buf, size_t len, struct pb_call *ret_call,
                                  struct ag_error *err);
/* Free what a decoded call owns and zero it; a zeroed call is fine. */
void pb_call_free(struct pb_call *call);
/* pb_call_decode() for a server that does not need the normalized tree of
 * an ACKNOWLEDGE or an ACCEPT: one in plain form (known fields, strings of
 * printable ASCII without escapes, canonical base64; for ACCEPT, LAUNCH
 * operations of TaskInfos with name, ids, scalar resources and a command
 * only, in the message's field order) is read without building it, and its
 * `json` is NULL (and each TaskInfo's: its `text` is set instead); anything
 * else goes through pb_call_decode(), whose results and errors it has. */
AG_WARN_UNUSED int pb_call_decode_lean(const char *buf, size_t len, struct pb_call *ret_call,
                                       struct ag_error *err);

/* ---- scheduler API: events --------------------------------------------- */

enum pb_event_type {
	PB_EVENT_UNSET,
	PB_EVENT_UNKNOWN,
	PB_EVENT_SUBSCRIBED,
	PB_EVENT_OFFERS,
	PB_EVENT_INVERSE_OFFERS,
	PB_EVENT_RESCIND,
	PB_EVENT_RESCIND_INVERSE_OFFER,
	PB_EVENT_UPDATE,
	PB_EVENT_UPDATE_OPERATION_STATUS,
	PB_EVENT_MESSAGE,
	PB_EVENT_FAILURE,
	PB_EVENT_ERROR,
	PB_EVENT_HEARTBEAT,
};
const char *pb_event_type_name(enum pb_event_type t);

struct pb_event {
	enum pb_event_type type;
	struct {
		const char *framework_id;
		double heartbeat_interval_seconds;        /* 0: absent */
		const struct pb_master_info *master_info; /* NULL: absent */
	} subscribed;
	struct {
		const struct pb_offer *offers;
		size_t n_offers;
		unsigned res_flags; /* encoding only: PB_RES_* for the framework */
	} offers;
	struct {
		const char *offer_id;
	} rescind;
	struct {
		struct pb_task_status status;
	} update;
	struct {
		const char *agent_id;
		const char *executor_id;
		struct pb_bytes data;
	} message;
	struct {
		const char *agent_id;
		const char *executor_id;
		bool has_status;
		int32_t status;
	} failure;
	struct {
		const char *message;
	} error;
	json_t *json;           /* decoded events: the normalized event */
	struct pb_arena *arena; /* decoded events own their memory */
};

/* The event as JSON (`{"type":"X","x":{...}}`); a new reference. Only the
 * member of `type` is read. NULL for PB_EVENT_UNSET. */
json_t *pb_event_to_json(const struct pb_event *ev);
/* Its one-line ASCII text; the caller frees it. */
char *pb_event_encode(const struct pb_event *ev, size_t *ret_len);
/* For clients (tests, benchmarks, the SDK): decode an event. Free with
 * pb_event_free(). */
AG_WARN_UNUSED int pb_event_decode(const char *buf, size_t len, struct pb_event *ret_ev,
                                   struct ag_error *err);
void pb_event_free(struct pb_event *ev);

/* ---- operator API (POST /api/v1) --------------------------------------- */

enum pb_operator_call_type {
	PB_OP_UNSET,
	PB_OP_UNKNOWN,
	PB_OP_GET_HEALTH,
	PB_OP_GET_FLAGS,
	PB_OP_GET_VERSION,
	PB_OP_GET_METRICS,
	PB_OP_GET_LOGGING_LEVEL,
	PB_OP_SET_LOGGING_LEVEL,
	PB_OP_LIST_FILES,
	PB_OP_READ_FILE,
	PB_OP_GET_STATE,
	PB_OP_GET_AGENTS,
	PB_OP_GET_FRAMEWORKS,
	PB_OP_GET_EXECUTORS,
	PB_OP_GET_OPERATIONS,
	PB_OP_GET_TASKS,
	PB_OP_GET_ROLES,
	PB_OP_GET_WEIGHTS,
	PB_OP_UPDATE_WEIGHTS,
	PB_OP_GET_MASTER,
	PB_OP_SUBSCRIBE,
	PB_OP_RESERVE_RESOURCES,
	PB_OP_UNRESERVE_RESOURCES,
	PB_OP_CREATE_VOLUMES,
	PB_OP_DESTROY_VOLUMES,
	PB_OP_GROW_VOLUME,
	PB_OP_SHRINK_VOLUME,
	PB_OP_GET_MAINTENANCE_STATUS,
	PB_OP_GET_MAINTENANCE_SCHEDULE,
	PB_OP_UPDATE_MAINTENANCE_SCHEDULE,
	PB_OP_START_MAINTENANCE,
	PB_OP_STOP_MAINTENANCE,
	PB_OP_DRAIN_AGENT,
	PB_OP_DEACTIVATE_AGENT,
	PB_OP_REACTIVATE_AGENT,
	PB_OP_GET_QUOTA,
	PB_OP_UPDATE_QUOTA,
	PB_OP_SET_QUOTA,
	PB_OP_REMOVE_QUOTA,
	PB_OP_TEARDOWN,
	PB_OP_MARK_AGENT_GONE,
	PB_OP_KILL_TASK, /* agora's extension: kill one task (docs/operator-api.md) */
};
const char *pb_operator_call_type_name(enum pb_operator_call_type t);

struct pb_weight_info {
	double weight;
	const char *role; /* NULL when absent */
};

struct pb_operator_call {
	enum pb_operator_call_type type;
	struct {
		const struct pb_weight_info *weight_infos;
		size_t n_weight_infos;
	} update_weights;
	struct {
		const char *framework_id;
	} teardown;
	struct {
		const char *agent_id;
	} mark_agent_gone;
	struct {
		const char *agent_id;
		bool has_max_grace;
		int64_t max_grace_ns; /* >= 0 when has_max_grace */
		bool mark_gone;
	} drain_agent;
	struct {
		const char *agent_id;
	} deactivate_agent, reactivate_agent;
	struct {
		const char *task_id;
		const char *framework_id; /* NULL when absent */
		const char *agent_id;     /* NULL when absent */
		bool has_grace;
		int64_t grace_ns; /* >= 0 when has_grace */
	} kill_task;
	json_t *json;
	struct pb_arena *arena;
};

/* Decode an operator master.Call; as pb_call_decode(). Out-of-subset types
 * decode (with their payload unchecked) so the master can refuse them by
 * name. */
AG_WARN_UNUSED int pb_operator_call_decode(const char *buf, size_t len,
                                           struct pb_operator_call *ret_call, struct ag_error *err);
void pb_operator_call_free(struct pb_operator_call *call);

enum pb_operator_event_type {
	PB_OPEV_UNSET,
	PB_OPEV_UNKNOWN,
	PB_OPEV_SUBSCRIBED,
	PB_OPEV_TASK_ADDED,
	PB_OPEV_TASK_UPDATED,
	PB_OPEV_AGENT_ADDED,
	PB_OPEV_AGENT_REMOVED,
	PB_OPEV_FRAMEWORK_ADDED,
	PB_OPEV_FRAMEWORK_UPDATED,
	PB_OPEV_FRAMEWORK_REMOVED,
	PB_OPEV_HEARTBEAT,
};

/* `{"type":"GET_X","get_x":payload}`: a synchronous operator Response (the
 * master builds payloads with the builders above and jansson). `payload` is
 * stolen and may be NULL (no payload key). NULL for an unset type. */
json_t *pb_operator_response(enum pb_operator_call_type type, json_t *payload);
/* The same for operator stream events. */
json_t *pb_operator_event(enum pb_operator_event_type type, json_t *payload);

/* The operator view of a task (master.proto's Task). */
struct pb_task {
	const char *name;
	const char *task_id;
	const char *framework_id;
	const char *executor_id; /* NULL when absent */
	const char *agent_id;
	enum pb_task_state state;
	const struct pb_resource *resources;
	size_t n_resources;
	const struct pb_task_status *statuses;
	size_t n_statuses;
	enum pb_task_state status_update_state; /* UNSET: absent */
	struct pb_bytes status_update_uuid;
	const json_t *task_info; /* optional: container, health_check, kill_policy,
	                          * labels, discovery are copied from it */
	const char *user;
};
json_t *pb_task_to_json(const struct pb_task *t);

/* ---- RecordIO ---------------------------------------------------------- */

/* "<len>\n<data>": a new buffer the caller frees, length in *ret_len. */
char *pb_recordio_frame(const char *data, size_t len, size_t *ret_len);

/* A streaming decoder: bytes go in in any chunks, whole records come out.
 * It keeps at most one partial record (bounded by `max_record`). */
struct pb_recordio_reader;

/* A reader refusing records larger than `max_record` bytes (0: the
 * PB_MAX_MESSAGE default). Free with pb_recordio_reader_free(). */
struct pb_recordio_reader *pb_recordio_reader_new(size_t max_record);
void pb_recordio_reader_free(struct pb_recordio_reader *r);

/* Called for each whole record; `data` is not NUL-terminated and is valid
 * during the call only. A non-zero return stops pb_recordio_reader_feed(),
 * which returns it. */
typedef int (*pb_recordio_fn)(void *ctx, const char *data, size_t len);

/* Feed `len` bytes. Returns 0, the callback's non-zero value, -EBADMSG for a
 * malformed length line, or -EMSGSIZE for a record over the bound (with
 * `err` set). Errors are sticky: the stream cannot be resynchronized. */
AG_WARN_UNUSED int pb_recordio_reader_feed(struct pb_recordio_reader *r, const void *buf,
                                           size_t len, pb_recordio_fn fn, void *ctx,
                                           struct ag_error *err);
/* Bytes of a partial record held (0 at a record boundary). */
size_t pb_recordio_reader_pending(const struct pb_recordio_reader *r);

/* ---- agent protocol (docs/agent-protocol.md) ---------------------------- */

enum pb_agent_msg_type {
	PB_AGENT_UNSET,
	PB_AGENT_UNKNOWN,
	/* agent -> master (POST /api/v1/agent) */
	PB_AGENT_REGISTER,
	PB_AGENT_REREGISTER,
	PB_AGENT_STATUS_UPDATE,
	PB_AGENT_HEARTBEAT,
	/* master -> agent (records on the REGISTER/REREGISTER stream) */
	PB_AGENT_REGISTERED,
	PB_AGENT_RUN_TASK,
	PB_AGENT_KILL_TASK,
	PB_AGENT_STATUS_UPDATE_ACK,
	PB_AGENT_SHUTDOWN_FRAMEWORK,
	PB_AGENT_ERROR,
	/* agent -> master: several STATUS_UPDATEs in one request */
	PB_AGENT_STATUS_UPDATES,
	/* custom executors (protocol version 2, docs/agent-protocol.md) */
	PB_AGENT_FRAMEWORK_MESSAGE, /* master -> agent: a scheduler's MESSAGE */
	PB_AGENT_SHUTDOWN_EXECUTOR, /* master -> agent: a scheduler's SHUTDOWN */
	PB_AGENT_EXECUTOR_MESSAGE,  /* agent -> master: an executor's MESSAGE */
	PB_AGENT_EXECUTOR_EXITED,   /* agent -> master: an executor's container ended */
};
const char *pb_agent_msg_type_name(enum pb_agent_msg_type t);

/* The per-agent secret (docs/agent-protocol.md, Agent secret): 32 random
 * bytes the master issues in REGISTERED, as 64 lower-case hex digits,
 * which the agent presents in this header on REREGISTER and on every POST. */
#define PB_AGENT_SECRET_HEADER "Agora-Agent-Secret"
#define PB_AGENT_SECRET_LEN    64
/* Whether `s` has the form of an agent secret (PB_AGENT_SECRET_LEN
 * lower-case hex digits). */
bool pb_agent_secret_valid(const char *s);

/* A task the agent runs, as it reports it when re-registering. */
struct pb_agent_task {
	const char *framework_id;
	struct pb_task_info task;
	struct pb_task_status status; /* latest state */
	bool has_unacknowledged;      /* the latest update is not acknowledged */
};

/* One status update of an agent (STATUS_UPDATE, or one of STATUS_UPDATES). */
struct pb_status_update {
	const char *framework_id;
	struct pb_task_status status; /* uuid required */
	/* The normalized status as pb_json_dump() writes it. */
	const char *status_text;
};

/* Where a REGISTER/REREGISTER stands among the agent's registrations: the
 * CLOCK_REALTIME ns at which the agent process started, then a count of
 * its registrations from 1. Compared in that order (docs/agent-protocol.md). */
struct pb_registration_order {
	uint64_t agent_started_ns;
	uint64_t seq;
};

struct pb_agent_msg {
	enum pb_agent_msg_type type;
	const char *agent_id; /* top level: every agent->master message but REGISTER */
	struct {
		struct pb_agent_info agent_info;
		const char *version;
		bool unisolated; /* running without cgroup isolation */
		const struct pb_framework_info *frameworks;
		size_t n_frameworks;
		const struct pb_agent_task *tasks;
		size_t n_tasks;
		bool has_order; /* registration_order was sent (optional) */
		struct pb_registration_order order;
	} reg; /* REGISTER and REREGISTER (payload key "register"/"reregister") */
	struct {
		const char *agent_id;
		double heartbeat_interval_seconds;
		const struct pb_master_info *master_info; /* NULL: absent */
		/* The secret the master issued (PB_AGENT_SECRET_LEN hex
		 * digits; the decoder refuses any other form); NULL when it
		 * issued none. */
		const char *agent_secret;
	} registered;
	struct {
		struct pb_framework_info framework_info;
		struct pb_task_info task;
	} run_task;
	struct {
		const char *framework_id;
		const char *task_id;
		bool has_grace;
		int64_t grace_ns;
	} kill_task;
	struct pb_status_update status_update;
	struct {
		const struct pb_status_update *updates; /* in the agent's order */
		size_t n_updates;
	} status_updates;
	struct {
		const char *framework_id;
		const char *task_id;
		struct pb_bytes uuid;
	} status_update_ack;
	struct {
		const char *framework_id;
	} shutdown_framework;
	struct {
		const char *message;
	} error;
	/* FRAMEWORK_MESSAGE, EXECUTOR_MESSAGE: payload keys
	 * "framework_message", "executor_message" */
	struct {
		const char *framework_id;
		const char *executor_id;
		struct pb_bytes data;
	} executor_message;
	struct {
		const char *framework_id;
		const char *executor_id;
	} shutdown_executor;
	struct {
		const char *framework_id;
		const char *executor_id;
		bool has_status;
		int32_t status; /* wait status as Mesos reports it: exit code << 8, or signal */
	} executor_exited;
	json_t *json;
	struct pb_arena *arena;
};

/* Decode an agent protocol message (either direction); as pb_call_decode(). */
AG_WARN_UNUSED int pb_agent_msg_decode(const char *buf, size_t len, struct pb_agent_msg *ret_msg,
                                       struct ag_error *err);
void pb_agent_msg_free(struct pb_agent_msg *msg);
/* pb_agent_msg_decode() for the master: a STATUS_UPDATE or STATUS_UPDATES
 * whose updates are in plain form (as
 * for pb_call_decode_lean(), each status compact, fields in the table's
 * order, values canonical, so that it is its own status_text) is read
 * without a tree, and its `json` is NULL; anything else goes through
 * pb_agent_msg_decode(), whose results and errors it has. */
AG_WARN_UNUSED int pb_agent_msg_decode_lean(const char *buf, size_t len,
                                            struct pb_agent_msg *ret_msg, struct ag_error *err);
/* The message as JSON; a new reference, NULL for an unset type. Task infos
 * are written from their `json` (which must be set). */
json_t *pb_agent_msg_to_json(const struct pb_agent_msg *msg);
char *pb_agent_msg_encode(const struct pb_agent_msg *msg, size_t *ret_len);
/* -1, 0 or 1 as registration `a` comes before, is, or comes after `b`:
 * by agent_started_ns, then by seq. */
int pb_registration_order_cmp(const struct pb_registration_order *a,
                              const struct pb_registration_order *b);
/* {"agent_started_ns":N,"seq":N}, a new reference. */
json_t *pb_registration_order_to_json(const struct pb_registration_order *o);

/* ---- executor API (POST /api/v1/executor on an agent) ------------------ */

enum pb_executor_call_type {
	PB_EXEC_CALL_UNSET,
	PB_EXEC_CALL_UNKNOWN,
	PB_EXEC_CALL_SUBSCRIBE,
	PB_EXEC_CALL_UPDATE,
	PB_EXEC_CALL_MESSAGE,
	PB_EXEC_CALL_HEARTBEAT,
};
const char *pb_executor_call_type_name(enum pb_executor_call_type t);

/* A decoded executor Call (mesos.v1.executor.Call). Decoding is strict as
 * for the scheduler's calls, and checks what Mesos's validation does: the
 * payload of `type` present; an UPDATE's status has a 16-byte uuid, is not
 * TASK_STAGING, and names no other executor. */
struct pb_executor_call {
	enum pb_executor_call_type type;
	const char *executor_id;
	const char *framework_id;
	struct {
		const struct pb_task_info *unacknowledged_tasks;
		size_t n_unacknowledged_tasks;
		const struct pb_task_status *unacknowledged_updates;
		size_t n_unacknowledged_updates;
	} subscribe;
	struct {
		struct pb_task_status status;
		const json_t *status_json; /* normalized */
	} update;
	struct {
		struct pb_bytes data;
	} message;
	json_t *json;
	struct pb_arena *arena;
};

/* Decode an executor Call; as pb_call_decode() (errors name the field:
 * `call.update.status.uuid: ...`). Free with pb_executor_call_free(). */
AG_WARN_UNUSED int pb_executor_call_decode(const char *buf, size_t len,
                                           struct pb_executor_call *ret_call, struct ag_error *err);
void pb_executor_call_free(struct pb_executor_call *call);

/* ---- base64 (standard alphabet) ---------------------------------------- */

/* Padded base64 of `len` bytes; the caller frees it. */
char *pb_base64_encode(const void *data, size_t len);
/* Decode, with or without padding. -EINVAL on a bad character or length.
 * *ret_data (caller frees, NUL-terminated for convenience) and *ret_len. */
AG_WARN_UNUSED int pb_base64_decode(const char *s, size_t slen, uint8_t **ret_data,
                                    size_t *ret_len);

#endif
