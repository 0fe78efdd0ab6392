/* libFuzzer target for the scheduler Call decoder: any input either decodes
 * into a call that frees cleanly (and re-encodes) or fails with a message;
 * the master's lean decoder gives the same result and error (and, for an
 * ACCEPT it reads without a tree, the same tasks and their normalized text). */
#include "proto/proto.h"

#include <string.h>

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static void check_lean(const uint8_t *data, size_t size, int rc, const struct pb_call *full,
                       const struct ag_error *ferr)
{
	struct pb_call lean = {0};
	struct ag_error err = {0};
	int rl = pb_call_decode_lean((const char *)data, size, &lean, &err);
	if (rl != rc || strcmp(err.msg, ferr->msg) != 0)
		__builtin_trap();
	if (rc == 0 && full->type == PB_CALL_ACKNOWLEDGE) {
		const struct pb_bytes *a = &lean.acknowledge.uuid, *b = &full->acknowledge.uuid;
		if (lean.type != full->type || !same(lean.framework_id, full->framework_id) ||
		    !same(lean.acknowledge.agent_id, full->acknowledge.agent_id) ||
		    !same(lean.acknowledge.task_id, full->acknowledge.task_id) ||
		    a->len != b->len || (a->len && memcmp(a->data, b->data, a->len) != 0))
			__builtin_trap();
	}
	if (rc == 0 && full->type == PB_CALL_ACCEPT && !lean.json) {
		/* Read without a tree: the same offers, operations and tasks, and
		 * each task's text is the full decoder's normalized TaskInfo. */
		const struct pb_call_offers *l = &lean.accept, *f = &full->accept;
		if (l->n_offer_ids != f->n_offer_ids || l->n_operations != f->n_operations ||
		    l->filters.has_refuse_seconds != f->filters.has_refuse_seconds ||
		    l->filters.refuse_seconds != f->filters.refuse_seconds)
			__builtin_trap();
		for (size_t i = 0; i < f->n_offer_ids; i++)
			if (!same(l->offer_ids[i], f->offer_ids[i]))
				__builtin_trap();
		for (size_t i = 0; i < f->n_operations; i++) {
			const struct pb_operation *lo = &l->operations[i], *fo = &f->operations[i];
			if (lo->type != fo->type || lo->n_tasks != fo->n_tasks)
				__builtin_trap();
			for (size_t k = 0; k < fo->n_tasks; k++) {
				const struct pb_task_info *lt = &lo->tasks[k], *ft = &fo->tasks[k];
				char *want = pb_json_dump(ft->json, NULL);
				bool ok = same(lt->text, want) && same(lt->task_id, ft->task_id) &&
				          same(lt->agent_id, ft->agent_id) &&
				          same(lt->name, ft->name) &&
				          lt->n_resources == ft->n_resources &&
				          (lt->command == NULL) == (ft->command == NULL);
				for (size_t r = 0; ok && r < ft->n_resources; r++)
					ok = same(lt->resources[r].name, ft->resources[r].name) &&
					     lt->resources[r].scalar_milli ==
					             ft->resources[r].scalar_milli &&
					     same(lt->resources[r].role, ft->resources[r].role) &&
					     same(lt->resources[r].allocation_role,
					          ft->resources[r].allocation_role);
				if (ok && ft->command)
					ok = lt->command->shell == ft->command->shell &&
					     same(lt->command->value, ft->command->value) &&
					     same(lt->command->user, ft->command->user) &&
					     lt->command->n_arguments == ft->command->n_arguments;
				free(want);
				if (!ok)
					__builtin_trap();
			}
		}
	}
	pb_call_free(&lean);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pb_call call;
	struct ag_error err = {0};
	int rc = pb_call_decode((const char *)data, size, &call, &err);
	if (rc == 0) {
		check_lean(data, size, 0, &call, &err);
		free(pb_json_dump(call.json, NULL));
		pb_call_free(&call);
	} else if (err.msg[0] == '\0') {
		__builtin_trap();
	} else {
		check_lean(data, size, rc, &call, &err);
	}
	/* The same bytes as an event: clients decode what masters send. */
	struct pb_event ev;
	if (pb_event_decode((const char *)data, size, &ev, &err) == 0) {
		json_decref(pb_event_to_json(&ev));
		pb_event_free(&ev);
	}
	return 0;
}
