/* task.h: task states and reasons, as plain enums with the Mesos names.
 * The JSON codec (another layer) maps them to and from the protocol. */
#ifndef AGORA_AGENT_TASK_H
#define AGORA_AGENT_TASK_H

#include "common/common.h"

enum task_state {
	TASK_STAGING,
	TASK_STARTING,
	TASK_RUNNING,
	TASK_KILLING,
	TASK_FINISHED,
	TASK_FAILED,
	TASK_KILLED,
	TASK_ERROR,
	TASK_LOST,
	TASK_DROPPED,
	TASK_UNREACHABLE,
	TASK_GONE,
	TASK_GONE_BY_OPERATOR,
	TASK_UNKNOWN,
};

enum task_reason {
	REASON_NONE = -1, /* no reason field */
	REASON_COMMAND_EXECUTOR_FAILED = 0,
	REASON_CONTAINER_LAUNCH_FAILED,
	REASON_CONTAINER_LIMITATION,
	REASON_CONTAINER_LIMITATION_MEMORY,
	REASON_CONTAINER_LIMITATION_DISK,
	REASON_EXECUTOR_TERMINATED,
	REASON_AGENT_RESTARTED,
	REASON_TASK_INVALID,
	REASON_TASK_KILLED_DURING_LAUNCH,
	REASON_GC_ERROR,
};

/* "TASK_RUNNING", ...; "REASON_CONTAINER_LIMITATION_MEMORY", ... (NULL for
 * REASON_NONE). */
const char *task_state_name(enum task_state s);
const char *task_reason_name(enum task_reason r);
/* FINISHED, FAILED, KILLED, ERROR, LOST, DROPPED, GONE, GONE_BY_OPERATOR. */
AG_WARN_UNUSED int task_state_is_terminal(enum task_state s);

#endif
