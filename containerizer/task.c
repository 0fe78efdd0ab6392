/* task.c: names of task states and reasons. */
#include "containerizer/task.h"

#include <stddef.h>

static const char *const state_names[] = {
        [TASK_STAGING] = "TASK_STAGING",
        [TASK_STARTING] = "TASK_STARTING",
        [TASK_RUNNING] = "TASK_RUNNING",
        [TASK_KILLING] = "TASK_KILLING",
        [TASK_FINISHED] = "TASK_FINISHED",
        [TASK_FAILED] = "TASK_FAILED",
        [TASK_KILLED] = "TASK_KILLED",
        [TASK_ERROR] = "TASK_ERROR",
        [TASK_LOST] = "TASK_LOST",
        [TASK_DROPPED] = "TASK_DROPPED",
        [TASK_UNREACHABLE] = "TASK_UNREACHABLE",
        [TASK_GONE] = "TASK_GONE",
        [TASK_GONE_BY_OPERATOR] = "TASK_GONE_BY_OPERATOR",
        [TASK_UNKNOWN] = "TASK_UNKNOWN",
};

static const char *const reason_names[] = {
        [REASON_COMMAND_EXECUTOR_FAILED] = "REASON_COMMAND_EXECUTOR_FAILED",
        [REASON_CONTAINER_LAUNCH_FAILED] = "REASON_CONTAINER_LAUNCH_FAILED",
        [REASON_CONTAINER_LIMITATION] = "REASON_CONTAINER_LIMITATION",
        [REASON_CONTAINER_LIMITATION_MEMORY] = "REASON_CONTAINER_LIMITATION_MEMORY",
        [REASON_CONTAINER_LIMITATION_DISK] = "REASON_CONTAINER_LIMITATION_DISK",
        [REASON_EXECUTOR_TERMINATED] = "REASON_EXECUTOR_TERMINATED",
        [REASON_AGENT_RESTARTED] = "REASON_AGENT_RESTARTED",
        [REASON_TASK_INVALID] = "REASON_TASK_INVALID",
        [REASON_TASK_KILLED_DURING_LAUNCH] = "REASON_TASK_KILLED_DURING_LAUNCH",
        [REASON_GC_ERROR] = "REASON_GC_ERROR",
};

const char *task_state_name(enum task_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(*state_names) ? state_names[s] : "?";
}

const char *task_reason_name(enum task_reason r)
{
	if (r == REASON_NONE)
		return NULL;
	return (unsigned)r < sizeof(reason_names) / sizeof(*reason_names) ? reason_names[r] : "?";
}

int task_state_is_terminal(enum task_state s)
{
	switch (s) {
	case TASK_FINISHED:
	case TASK_FAILED:
	case TASK_KILLED:
	case TASK_ERROR:
	case TASK_LOST:
	case TASK_DROPPED:
	case TASK_GONE:
	case TASK_GONE_BY_OPERATOR:
		return 1;
	case TASK_STAGING:
	case TASK_STARTING:
	case TASK_RUNNING:
	case TASK_KILLING:
	case TASK_UNREACHABLE:
	case TASK_UNKNOWN:
		return 0;
	}
	return 0;
}
