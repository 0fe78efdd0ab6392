/* libFuzzer target for the scheduler Call decoder: any input either decodes
 * into a call that frees cleanly (and re-encodes) or fails with a message;
 * the master's lean decoder gives the same result and error. */
#include "proto/proto.h"

#include <string.h>

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static void check_lean(const uint8_t *data, size_t size, int rc, const struct pb_call *full,
                       const struct ag_error *ferr)
{
	struct pb_call lean = {0};
	struct ag_error err = {0};
	int rl = pb_call_decode_lean((const char *)data, size, &lean, &err);
	if (rl != rc || strcmp(err.msg, ferr->msg) != 0)
		__builtin_trap();
	if (rc == 0 && full->type == PB_CALL_ACKNOWLEDGE) {
		const struct pb_bytes *a = &lean.acknowledge.uuid, *b = &full->acknowledge.uuid;
		if (lean.type != full->type || !same(lean.framework_id, full->framework_id) ||
		    !same(lean.acknowledge.agent_id, full->acknowledge.agent_id) ||
		    !same(lean.acknowledge.task_id, full->acknowledge.task_id) ||
		    a->len != b->len || (a->len && memcmp(a->data, b->data, a->len) != 0))
			__builtin_trap();
	}
	pb_call_free(&lean);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pb_call call;
	struct ag_error err = {0};
	int rc = pb_call_decode((const char *)data, size, &call, &err);
	if (rc == 0) {
		check_lean(data, size, 0, &call, &err);
		free(pb_json_dump(call.json, NULL));
		pb_call_free(&call);
	} else if (err.msg[0] == '\0') {
		__builtin_trap();
	} else {
		check_lean(data, size, rc, &call, &err);
	}
	/* The same bytes as an event: clients decode what masters send. */
	struct pb_event ev;
	if (pb_event_decode((const char *)data, size, &ev, &err) == 0) {
		json_decref(pb_event_to_json(&ev));
		pb_event_free(&ev);
	}
	return 0;
}
