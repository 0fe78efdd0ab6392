/* libFuzzer target for the scheduler Call decoder: any input either decodes
 * into a call that frees cleanly (and re-encodes) or fails with a message. */
#include "proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pb_call call;
	struct ag_error err = {0};
	if (pb_call_decode((const char *)data, size, &call, &err) == 0) {
		free(pb_json_dump(call.json, NULL));
		pb_call_free(&call);
	} else if (err.msg[0] == '\0') {
		__builtin_trap();
	}
	/* The same bytes as an event: clients decode what masters send. */
	struct pb_event ev;
	if (pb_event_decode((const char *)data, size, &ev, &err) == 0) {
		json_decref(pb_event_to_json(&ev));
		pb_event_free(&ev);
	}
	return 0;
}
