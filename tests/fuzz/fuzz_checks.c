/* libFuzzer target for the parser of TaskInfo.health_check and
 * TaskInfo.check (containerizer/checks.c), which frameworks write: any
 * JSON must either parse into a spec that frees cleanly or be refused with
 * a message, never crash, leak or read out of bounds. */
#include "containerizer/checks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (!j)
		return 0;
	for (int health = 0; health < 2; health++) {
		struct ctz_check_spec s = {0};
		struct ag_error err = {0};
		if (ctz_check_parse(j, health, "task.check", &s, &err) == 0) {
			/* What the runner relies on. */
			if (s.type < CTZ_CHECK_COMMAND || s.type > CTZ_CHECK_TCP ||
			    s.interval_ms <= 0 || s.timeout_ms <= 0 ||
			    (s.type == CTZ_CHECK_COMMAND && (!s.argv || !s.argv[0])) ||
			    (s.type != CTZ_CHECK_COMMAND && !s.port) ||
			    (s.type == CTZ_CHECK_HTTP && (!s.path || s.path[0] != '/')) ||
			    (health && !s.consecutive_failures))
				__builtin_trap();
			ctz_check_spec_free(&s);
		} else if (err.msg[0] == '\0') {
			__builtin_trap(); /* every refusal tells why */
		}
	}
	json_decref(j);
	return 0;
}
