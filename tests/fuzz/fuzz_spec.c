/* libFuzzer target for the config.json parser: any input must either parse
 * into a spec that frees cleanly or fail with a message, never crash, leak
 * or read out of bounds. The same input goes to the parser of a process
 * object alone (exec --process), which shares the process section's code
 * but starts from another top level. */
#include "runtime/runtime.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rt_spec *spec = NULL;
	struct ag_error err = {0};
	if (rt_spec_parse((const char *)data, size, "/fuzz/bundle", &spec, &err) == 0) {
		rt_spec_free(spec);
	} else if (err.msg[0] == '\0') {
		/* Every failure must tell the user why. */
		__builtin_trap();
	}
	struct rt_process *proc = NULL;
	err = (struct ag_error){0};
	if (rt_process_parse((const char *)data, size, &proc, &err) == 0)
		rt_process_free(proc);
	else if (err.msg[0] == '\0')
		__builtin_trap();
	return 0;
}
