/* util.c: the arena, base64, enum names and JSON text. */
#include "proto/internal.h"

#include <string.h>

/* ---- arena ---- */

struct pb__block {
	struct pb__block *next;
	size_t used, size;
	max_align_t data[];
};

struct pb_arena {
	struct pb__block *blocks;
	json_t **refs;
	size_t n_refs, cap_refs;
};

struct pb_arena *pb_arena_new(void)
{
	return ag_calloc(1, sizeof(struct pb_arena));
}

void pb_arena_free(struct pb_arena *a)
{
	if (!a)
		return;
	for (struct pb__block *b = a->blocks, *next; b; b = next) {
		next = b->next;
		free(b);
	}
	for (size_t i = 0; i < a->n_refs; i++)
		json_decref(a->refs[i]);
	free(a->refs);
	free(a);
}

void *pb__alloc(struct pb_arena *a, size_t size)
{
	size_t align = sizeof(max_align_t);
	size = (size + align - 1) / align * align;
	if (size == 0)
		size = align;
	struct pb__block *b = a->blocks;
	if (!b || b->size - b->used < size) {
		/* Big requests get a block of their own so a message of many
		 * small arrays still packs them together. */
		size_t bsize = size > 4096 ? size : 4096;
		b = ag_malloc(sizeof(*b) + bsize);
		b->used = 0;
		b->size = bsize;
		if (size > 4096 && a->blocks) {
			b->next = a->blocks->next;
			a->blocks->next = b;
		} else {
			b->next = a->blocks;
			a->blocks = b;
		}
	}
	void *p = (char *)b->data + b->used;
	b->used += size;
	memset(p, 0, size);
	return p;
}

json_t *pb__keep(struct pb_arena *a, json_t *j)
{
	if (!j)
		return NULL;
	if (a->n_refs == a->cap_refs) {
		a->cap_refs = a->cap_refs ? a->cap_refs * 2 : 4;
		a->refs = ag_realloc(a->refs, a->cap_refs * sizeof(*a->refs));
	}
	a->refs[a->n_refs++] = json_incref(j);
	return j;
}

/* ---- base64 ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *pb_base64_encode(const void *data, size_t len)
{
	const uint8_t *p = data;
	char *out = ag_malloc((len + 2) / 3 * 4 + 1);
	size_t o = 0, i = 0;
	for (; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int pb_base64_decode(const char *s, size_t slen, uint8_t **ret_data, size_t *ret_len)
{
	/* Padding is optional (Go's RawStdEncoding peers omit it), but when
	 * present it must complete the last quantum. */
	size_t n = slen;
	if (n % 4 == 0 && n >= 4 && s[n - 1] == '=')
		n -= s[n - 2] == '=' ? 2 : 1;
	if (n % 4 == 1)
		return -EINVAL;
	_cleanup_free_ uint8_t *out = ag_malloc(n / 4 * 3 + 3);
	size_t o = 0;
	uint32_t acc = 0;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value((unsigned char)s[i]);
		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		if (++k == 4) {
			out[o++] = (uint8_t)(acc >> 16);
			out[o++] = (uint8_t)(acc >> 8);
			out[o++] = (uint8_t)acc;
			acc = 0;
			k = 0;
		}
	}
	if (k == 2) {
		if (acc & 0xf) /* non-canonical trailing bits */
			return -EINVAL;
		out[o++] = (uint8_t)(acc >> 4);
	} else if (k == 3) {
		if (acc & 0x3)
			return -EINVAL;
		out[o++] = (uint8_t)(acc >> 10);
		out[o++] = (uint8_t)(acc >> 2);
	}
	out[o] = '\0';
	*ret_len = o;
	*ret_data = TAKE_PTR(out);
	return 0;
}

/* ---- enums ---- */

const char *pb__enum_name(const struct pb__enum *e, int v)
{
	if (v <= 0 || (size_t)v >= e->n)
		return NULL;
	return e->names[v];
}

int pb__enum_value(const struct pb__enum *e, const char *name)
{
	for (size_t i = 1; i < e->n; i++) {
		if (strcmp(e->names[i], name) == 0)
			return (int)i;
	}
	return 0;
}

const char *pb_task_state_name(enum pb_task_state s)
{
	return pb__enum_name(&pb__e_task_state, (int)s);
}

enum pb_task_state pb_task_state_from_name(const char *name)
{
	return (enum pb_task_state)pb__enum_value(&pb__e_task_state, name);
}

bool pb_task_state_is_terminal(enum pb_task_state s)
{
	switch (s) {
	case PB_TASK_FINISHED:
	case PB_TASK_FAILED:
	case PB_TASK_KILLED:
	case PB_TASK_ERROR:
	case PB_TASK_LOST:
	case PB_TASK_DROPPED:
	case PB_TASK_GONE:
		return true;
	default:
		return false;
	}
}

const char *pb_task_source_name(enum pb_task_source s)
{
	return pb__enum_name(&pb__e_source, (int)s);
}

const char *pb_task_reason_name(enum pb_task_reason r)
{
	return pb__enum_name(&pb__e_reason, (int)r);
}

const char *pb_call_type_name(enum pb_call_type t)
{
	return pb__enum_name(&pb__e_call_type, (int)t);
}

const char *pb_event_type_name(enum pb_event_type t)
{
	return pb__enum_name(&pb__e_event_type, (int)t);
}

const char *pb_operator_call_type_name(enum pb_operator_call_type t)
{
	return pb__enum_name(&pb__e_operator_call_type, (int)t);
}

const char *pb_agent_msg_type_name(enum pb_agent_msg_type t)
{
	return pb__enum_name(&pb__e_agent_msg_type, (int)t);
}

const char *pb_executor_call_type_name(enum pb_executor_call_type t)
{
	return pb__enum_name(&pb__e_executor_call_type, (int)t);
}

/* ---- JSON text ---- */

char *pb_json_dump(const json_t *j, size_t *ret_len)
{
	if (!j)
		return NULL;
	/* 16 significant digits print 0.1 as 0.1 (17 would print
	 * 0.10000000000000001) and still carry microsecond timestamps. */
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(16) |
	                                JSON_ENCODE_ANY);
	if (!s)
		abort(); /* jansson fails only on allocation */
	if (ret_len)
		*ret_len = strlen(s);
	return s;
}

void pb_status_set_uuid(json_t *status, const char *uuid_b64)
{
	/* The TaskStatus fields after "uuid" in the message table (messages.c). */
	static const char *const after[] = {"healthy",          "check_status",     "labels",
	                                    "container_status", "unreachable_time", "limitation"};
	json_t *moved[sizeof(after) / sizeof(after[0])] = {0};
	for (size_t i = 0; i < sizeof(after) / sizeof(after[0]); i++) {
		moved[i] = json_incref(json_object_get(status, after[i]));
		if (moved[i])
			json_object_del(status, after[i]);
	}
	json_object_set_new(status, "uuid", json_string(uuid_b64));
	for (size_t i = 0; i < sizeof(after) / sizeof(after[0]); i++)
		if (moved[i])
			json_object_set_new(status, after[i], moved[i]);
}
