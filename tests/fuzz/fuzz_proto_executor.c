/* libFuzzer target for the executor Call decoder (the body of the agent's
 * POST /api/v1/executor, docs/executor-api.md): any input is decoded or
 * refused with a message; a decoded call's normalized form decodes again
 * to the same call. Seeds: corpus-proto/exec-*.json. */
#include "proto/proto.h"

#include <string.h>

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pb_executor_call c;
	struct ag_error err = {0};
	int rc = pb_executor_call_decode((const char *)data, size, &c, &err);
	if (rc != 0) {
		if (err.msg[0] == '\0' || (rc != -EINVAL && rc != -EMSGSIZE))
			__builtin_trap(); /* a refusal says why */
		return 0;
	}
	/* What the decoder guarantees the agent. */
	if (!c.executor_id || !c.framework_id || c.type == PB_EXEC_CALL_UNSET)
		__builtin_trap();
	if (c.type == PB_EXEC_CALL_UPDATE &&
	    (c.update.status.uuid.len != PB_UUID_LEN || !c.update.status.task_id ||
	     c.update.status.state == PB_TASK_STAGING || !c.update.status_json))
		__builtin_trap();
	for (size_t i = 0; i < c.subscribe.n_unacknowledged_tasks; i++)
		if (!c.subscribe.unacknowledged_tasks[i].task_id)
			__builtin_trap();
	size_t len;
	char *s = pb_json_dump(c.json, &len);
	struct pb_executor_call again;
	if (pb_executor_call_decode(s, len, &again, &err) != 0)
		__builtin_trap(); /* the normalized form is accepted */
	if (again.type != c.type || !same(again.executor_id, c.executor_id) ||
	    !same(again.framework_id, c.framework_id) ||
	    again.subscribe.n_unacknowledged_tasks != c.subscribe.n_unacknowledged_tasks ||
	    again.subscribe.n_unacknowledged_updates != c.subscribe.n_unacknowledged_updates ||
	    again.message.data.len != c.message.data.len)
		__builtin_trap();
	pb_executor_call_free(&again);
	free(s);
	pb_executor_call_free(&c);
	return 0;
}
