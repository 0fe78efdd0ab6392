/* libFuzzer target for the agent protocol decoder: a decoded message must
 * also re-encode and decode again. */
#include "proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pb_agent_msg msg;
	struct ag_error err = {0};
	if (pb_agent_msg_decode((const char *)data, size, &msg, &err) != 0) {
		if (err.msg[0] == '\0')
			__builtin_trap();
		return 0;
	}
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
