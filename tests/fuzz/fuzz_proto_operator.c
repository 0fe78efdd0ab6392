/* libFuzzer target for the operator master.Call decoder. */
#include "proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pb_operator_call call;
	struct ag_error err = {0};
	if (pb_operator_call_decode((const char *)data, size, &call, &err) == 0)
		pb_operator_call_free(&call);
	else if (err.msg[0] == '\0')
		__builtin_trap();
	return 0;
}
