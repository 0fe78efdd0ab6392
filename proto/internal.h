/* internal.h: the message tables, the normalizer and the arena shared by
 * proto's files. Not installed. */
#ifndef AGORA_PROTO_INTERNAL_H
#define AGORA_PROTO_INTERNAL_H

#include "proto/proto.h"

/* ---- arena ---- */

void *pb__alloc(struct pb_arena *a, size_t size); /* zeroed */
#define pb__new_array(a, type, n) ((type *)pb__alloc((a), sizeof(type) * (n)))
/* Keep a reference on `j` until the arena is freed; returns `j`. */
json_t *pb__keep(struct pb_arena *a, json_t *j);

/* ---- enum name tables (index = C enum value; [0] is NULL: unset) ---- */

struct pb__enum {
	const char *const *names;
	size_t n;
};

extern const struct pb__enum pb__e_task_state, pb__e_source, pb__e_reason, pb__e_fw_capability,
        pb__e_value_type, pb__e_reservation_type, pb__e_container_type, pb__e_image_type,
        pb__e_health_check_type, pb__e_operation_type, pb__e_call_type, pb__e_event_type,
        pb__e_operator_call_type, pb__e_operator_event_type, pb__e_agent_msg_type,
        pb__e_executor_call_type;

const char *pb__enum_name(const struct pb__enum *e, int v);
AG_WARN_UNUSED int pb__enum_value(const struct pb__enum *e, const char *name);

/* ---- message tables ---- */

enum pb__kind {
	PB__STRING,
	PB__BYTES,
	PB__BOOL,
	PB__INT32,
	PB__INT64,
	PB__UINT32,
	PB__UINT64,
	PB__DOUBLE,
	PB__ENUM,
	PB__MSG,
	PB__MAP, /* string -> message */
	PB__RAW, /* any JSON object, kept verbatim (agora's OCI spec) */
};

#define PB__REQ 0x1u
#define PB__REP 0x2u
/* A string that is an id's value (pb_id_problem); with PB__ID_EMPTY, ""
 * passes too (FrameworkInfo.id, where it asks for a new framework). */
#define PB__ID       0x4u
#define PB__ID_EMPTY 0x8u
/* A uint64 that may exceed INT64_MAX (an rlimit): such a value is kept as
 * the string of its digits, which jansson can hold. */
#define PB__U64_FULL 0x10u

struct pb__msg;

struct pb__field {
	const char *name;
	unsigned char kind;
	unsigned char flags;
	const struct pb__msg *msg;  /* PB__MSG, PB__MAP */
	const struct pb__enum *enm; /* PB__ENUM */
};

struct pb__msg {
	const char *name;
	const struct pb__field *fields; /* ends with a NULL name */
};

extern const struct pb__msg pb__m_call, pb__m_event, pb__m_operator_call, pb__m_agent_msg,
        pb__m_task_info, pb__m_task_status, pb__m_framework_info, pb__m_executor_call;

/* Check `in` against message `m` and build its normalized form in
 * *ret_out (a new reference). `root` names the message in errors. */
AG_WARN_UNUSED int pb__normalize(const struct pb__msg *m, const json_t *in, const char *root,
                                 json_t **ret_out, struct ag_error *err);

/* Parse `len` bytes of JSON text, normalize it against `m`. */
AG_WARN_UNUSED int pb__parse(const struct pb__msg *m, const char *buf, size_t len, const char *root,
                             json_t **ret_out, struct ag_error *err);

/* ---- readers of normalized JSON (types are guaranteed there) ---- */

const char *pb__str(const json_t *o, const char *key); /* NULL when absent */
const char *pb__id(const json_t *o, const char *key);  /* o.key.value */
bool pb__bool(const json_t *o, const char *key, bool dflt);
int64_t pb__int(const json_t *o, const char *key, int64_t dflt);
double pb__double(const json_t *o, const char *key, double dflt);
AG_WARN_UNUSED int pb__enum_of(const json_t *o, const char *key, const struct pb__enum *e);
size_t pb__len(const json_t *o, const char *key); /* array length; 0 when absent */
struct pb_bytes pb__bytes(struct pb_arena *a, const json_t *o, const char *key);
const char *const *pb__strings(struct pb_arena *a, const json_t *o, const char *key, size_t *ret_n);
const char *const *pb__ids(struct pb_arena *a, const json_t *o, const char *key, size_t *ret_n);

/* Typed readers of normalized sub-messages into arena memory. */
/* A Resource's scalar as read.c keeps it: thousandths, clamped. */
int64_t pb__scalar_milli(double scalar);
void pb__read_resources(struct pb_arena *a, const json_t *arr, const struct pb_resource **ret,
                        size_t *ret_n);
void pb__read_attributes(struct pb_arena *a, const json_t *arr, const struct pb_attribute **ret,
                         size_t *ret_n);
void pb__read_labels(struct pb_arena *a, const json_t *labels, const struct pb_label **ret,
                     size_t *ret_n);
void pb__read_task_info(struct pb_arena *a, const json_t *j, struct pb_task_info *ret);
void pb__read_task_status(struct pb_arena *a, const json_t *j, struct pb_task_status *ret);
void pb__read_framework_info(struct pb_arena *a, const json_t *j, struct pb_framework_info *ret);
void pb__read_agent_info(struct pb_arena *a, const json_t *j, struct pb_agent_info *ret);
const struct pb_master_info *pb__read_master_info(struct pb_arena *a, const json_t *j);
void pb__read_offer(struct pb_arena *a, const json_t *j, struct pb_offer *ret);

/* ---- builders ---- */

/* Set o.key = v (stolen) unless v is NULL. */
void pb__set(json_t *o, const char *key, json_t *v);
void pb__set_str(json_t *o, const char *key, const char *s); /* skipped when NULL */
void pb__set_id(json_t *o, const char *key, const char *id); /* skipped when NULL */
void pb__set_bytes(json_t *o, const char *key, struct pb_bytes b);
json_t *pb__strings_to_json(const char *const *v, size_t n); /* NULL when n == 0 */
json_t *pb__labels_to_json(const struct pb_label *l, size_t n);
/* {"type":NAME, lower(NAME): payload}; payload stolen, may be NULL. */
json_t *pb__typed(const char *name, json_t *payload);

/* ---- fast.c: the plain forms of the lean decoders ---- */

/* 1 and *ret filled when `buf` is an ACKNOWLEDGE / a STATUS_UPDATE or
 * STATUS_UPDATES in plain form; 0 when it is not (nothing is allocated
 * then). */
AG_WARN_UNUSED int pb__ack_decode_plain(const char *buf, size_t len, struct pb_call *ret_call);
/* An ACCEPT of LAUNCH operations in plain form (fast.c): 1 with *ret_call
 * filled in (no tree: each TaskInfo's `text`), 0 when not plain. */
AG_WARN_UNUSED int pb__accept_decode_plain(const char *buf, size_t len, struct pb_call *ret_call);
AG_WARN_UNUSED int pb__status_update_decode_plain(const char *buf, size_t len,
                                                  struct pb_agent_msg *ret_msg);

#endif
