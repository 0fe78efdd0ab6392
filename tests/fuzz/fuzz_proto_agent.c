/* libFuzzer target for the agent protocol decoder: a decoded message must
 * also re-encode and decode again; the master's lean decoder must give the
 * same result and error. */
#include "proto/proto.h"

#include <string.h>

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool same_bytes(struct pb_bytes a, struct pb_bytes b)
{
	return a.len == b.len && (a.data == NULL) == (b.data == NULL) &&
	       (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

static void check_update(const struct pb_status_update *l, const struct pb_status_update *f)
{
	const struct pb_task_status *a = &l->status, *b = &f->status;
	if (!same(l->framework_id, f->framework_id) || !same(l->status_text, f->status_text) ||
	    !same(a->task_id, b->task_id) || a->state != b->state ||
	    !same(a->message, b->message) || a->source != b->source || a->reason != b->reason ||
	    !same_bytes(a->data, b->data) || !same(a->agent_id, b->agent_id) ||
	    !same(a->executor_id, b->executor_id) || a->has_timestamp != b->has_timestamp ||
	    a->timestamp != b->timestamp || !same_bytes(a->uuid, b->uuid) ||
	    a->has_healthy != b->has_healthy || a->healthy != b->healthy)
		__builtin_trap();
}

/* Lean and full agree on `rc`, the error and every field the master reads. */
static void check_lean(const uint8_t *data, size_t size, int rc, const struct pb_agent_msg *full,
                       const struct ag_error *ferr)
{
	struct pb_agent_msg lean = {0};
	struct ag_error err = {0};
	int rl = pb_agent_msg_decode_lean((const char *)data, size, &lean, &err);
	if (rl != rc || strcmp(err.msg, ferr->msg) != 0)
		__builtin_trap();
	if (rc == 0) {
		if (lean.type != full->type || !same(lean.agent_id, full->agent_id) ||
		    lean.status_updates.n_updates != full->status_updates.n_updates)
			__builtin_trap();
		if (full->type == PB_AGENT_STATUS_UPDATE)
			check_update(&lean.status_update, &full->status_update);
		for (size_t i = 0; i < full->status_updates.n_updates; i++)
			check_update(&lean.status_updates.updates[i],
			             &full->status_updates.updates[i]);
	}
	pb_agent_msg_free(&lean);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pb_agent_msg msg;
	struct ag_error err = {0};
	int rc = pb_agent_msg_decode((const char *)data, size, &msg, &err);
	if (rc != 0) {
		if (err.msg[0] == '\0')
			__builtin_trap();
		check_lean(data, size, rc, &msg, &err);
		return 0;
	}
	check_lean(data, size, 0, &msg, &err);
	size_t len;
	char *s = pb_agent_msg_encode(&msg, &len);
	struct pb_agent_msg again;
	if (pb_agent_msg_decode(s, len, &again, &err) != 0)
		__builtin_trap(); /* what we encode, we must accept */
	pb_agent_msg_free(&again);
	free(s);
	pb_agent_msg_free(&msg);
	return 0;
}
