/* held.c: see held.h. */
#include "agent/held.h"

#include "common/common.h"

#include <string.h>

void agent_held_push(struct held *h, const char *framework_id, const char *task_id,
                     const char *state, json_t *status)
{
	struct agent_held_update *u = ag_calloc(1, sizeof(*u));
	u->framework_id = ag_strdup(framework_id);
	u->task_id = ag_strdup(task_id);
	u->state = ag_strdup(state);
	u->status = json_incref(status);
	if (!h->tail)
		h->tail = &h->head;
	*h->tail = u;
	h->tail = &u->next;
	h->n++;
}

bool agent_held_has_task(const struct held *h, const char *framework_id, const char *task_id)
{
	for (const struct agent_held_update *u = h->head; u; u = u->next)
		if (strcmp(u->task_id, task_id) == 0 && strcmp(u->framework_id, framework_id) == 0)
			return true;
	return false;
}

void agent_held_pop(struct held *h)
{
	struct agent_held_update *u = h->head;
	if (!u)
		return;
	h->head = u->next;
	if (!h->head)
		h->tail = &h->head;
	h->n--;
	free(u->framework_id);
	free(u->task_id);
	free(u->state);
	json_decref(u->status);
	free(u);
}

void agent_held_clear(struct held *h)
{
	while (h->head)
		agent_held_pop(h);
}
