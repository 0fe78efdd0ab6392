/* operator.c: the agent's operator endpoints. Not written yet: --port is
 * accepted and refused with a clear message (see the issue 6 notes). */
#include "agent/agent.h"

int agent_operator_start(struct agent *a, struct ag_error *err)
{
	return ag_error_msg(err, ENOSYS,
	                    "--port %d: the operator endpoints (GET /containers, GET "
	                    "/files/read) are not implemented yet",
	                    a->port);
}
