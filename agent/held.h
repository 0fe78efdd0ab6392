/* held.h: status updates the durable queue (updates.c) could not take, as
 * when the work directory is full: kept in memory, in order, and offered
 * to the queue again until it takes them. */
#ifndef AGORA_AGENT_HELD_H
#define AGORA_AGENT_HELD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct agent_held_update {
	char *framework_id, *task_id, *state;
	json_t *status; /* a TaskStatus without uuid, as ctz_upd_enqueue takes it */
	struct agent_held_update *next;
};

struct held {
	struct agent_held_update *head, **tail;
	size_t n;
};

/* Append (copies the strings, takes a reference to `status`). */
void agent_held_push(struct held *h, const char *framework_id, const char *task_id,
                     const char *state, json_t *status);
/* An update of this task is held (a later one must wait behind it). */
bool agent_held_has_task(const struct held *h, const char *framework_id, const char *task_id);
/* Remove and free the first one. */
void agent_held_pop(struct held *h);
void agent_held_clear(struct held *h);

#endif
