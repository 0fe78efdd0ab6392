/* The lean ACCEPT reader of pb_call_decode_lean(): an ACCEPT of LAUNCH
 * operations in plain form is read without a tree, each TaskInfo's text
 * being what pb_json_dump() writes for the full decoder's normalized tree;
 * for any other input -- unusual, broken -- the result and the error are
 * the full decoder's. */
#include "proto/proto.h"

#include <criterion/criterion.h>
#include <string.h>

static void same_str(const char *a, const char *b, const char *what, const char *in)
{
	if (!a || !b)
		cr_assert(a == b, "%s: %s vs %s\ninput: %s", what, a ? a : "(null)",
		          b ? b : "(null)", in);
	else
		cr_assert_str_eq(a, b, "%s differs\ninput: %s", what, in);
}

static void same_resource(const struct pb_resource *l, const struct pb_resource *f, const char *in)
{
	same_str(l->name, f->name, "resource name", in);
	cr_assert_eq(l->type, f->type, "resource type\ninput: %s", in);
	cr_assert_eq(l->scalar_milli, f->scalar_milli, "scalar %lld vs %lld\ninput: %s",
	             (long long)l->scalar_milli, (long long)f->scalar_milli, in);
	same_str(l->role, f->role, "resource role", in);
	same_str(l->allocation_role, f->allocation_role, "allocation role", in);
	cr_assert_eq(l->n_ranges, f->n_ranges);
	cr_assert_eq(l->n_items, f->n_items);
	cr_assert_eq(l->n_reservations, f->n_reservations);
	cr_assert_eq(l->revocable, f->revocable);
	cr_assert_eq(l->shared, f->shared);
	cr_assert_eq(l->disk == NULL, f->disk == NULL);
}

static void same_task(const struct pb_task_info *l, const struct pb_task_info *f, const char *in)
{
	same_str(l->name, f->name, "name", in);
	same_str(l->task_id, f->task_id, "task_id", in);
	same_str(l->agent_id, f->agent_id, "agent_id", in);
	cr_assert_eq(l->n_resources, f->n_resources, "resources\ninput: %s", in);
	for (size_t i = 0; i < f->n_resources; i++)
		same_resource(&l->resources[i], &f->resources[i], in);
	cr_assert_eq(l->command == NULL, f->command == NULL, "command\ninput: %s", in);
	if (f->command) {
		const struct pb_command_info *a = l->command, *b = f->command;
		cr_assert_eq(a->shell, b->shell, "shell\ninput: %s", in);
		same_str(a->value, b->value, "command value", in);
		same_str(a->user, b->user, "command user", in);
		cr_assert_eq(a->n_arguments, b->n_arguments, "arguments\ninput: %s", in);
		for (size_t i = 0; i < b->n_arguments; i++)
			same_str(a->arguments[i], b->arguments[i], "argument", in);
		cr_assert_eq(a->n_env, b->n_env);
		cr_assert_eq(a->n_uris, b->n_uris);
	}
	same_str(l->executor_id, f->executor_id, "executor_id", in);
	cr_assert_eq(l->container == NULL, f->container == NULL);
	cr_assert_eq(l->has_health_check, f->has_health_check);
	cr_assert_eq(l->has_kill_grace, f->has_kill_grace);
	cr_assert_eq(l->data.len, f->data.len);
	cr_assert_eq(l->n_labels, f->n_labels);
	/* What the master keeps and forwards in RUN_TASK. */
	if (l->json) {
		cr_assert_null(l->text);
	} else {
		char *want = pb_json_dump(f->json, NULL);
		cr_assert_not_null(l->text, "no text\ninput: %s", in);
		cr_assert_str_eq(l->text, want, "text differs\ninput: %s", in);
		free(want);
	}
}

/* Decode `in` both ways and check they agree; returns whether the lean
 * reader took its own path (no tree). */
static bool both(const char *in, size_t len)
{
	struct pb_call full = {0}, lean = {0};
	struct ag_error ef = {0}, el = {0};
	int rf = pb_call_decode(in, len, &full, &ef);
	int rl = pb_call_decode_lean(in, len, &lean, &el);
	cr_assert_eq(rl, rf, "rc %d vs %d\ninput: %.*s", rl, rf, (int)len, in);
	cr_assert_str_eq(el.msg, ef.msg, "error differs\ninput: %.*s", (int)len, in);
	bool fast = rl == 0 && lean.json == NULL;
	if (rf == 0 && full.type == PB_CALL_ACCEPT) {
		_cleanup_free_ char *s = strndup(in, len);
		cr_assert_eq(lean.type, full.type);
		same_str(lean.framework_id, full.framework_id, "framework_id", s);
		const struct pb_call_offers *a = &lean.accept, *b = &full.accept;
		cr_assert_eq(a->n_offer_ids, b->n_offer_ids, "offer ids\ninput: %s", s);
		for (size_t i = 0; i < b->n_offer_ids; i++)
			same_str(a->offer_ids[i], b->offer_ids[i], "offer id", s);
		cr_assert_eq(a->filters.has_refuse_seconds, b->filters.has_refuse_seconds);
		cr_assert(a->filters.refuse_seconds == b->filters.refuse_seconds,
		          "refuse_seconds %g vs %g\ninput: %s", a->filters.refuse_seconds,
		          b->filters.refuse_seconds, s);
		cr_assert_eq(a->n_operations, b->n_operations, "operations\ninput: %s", s);
		for (size_t i = 0; i < b->n_operations; i++) {
			const struct pb_operation *x = &a->operations[i], *y = &b->operations[i];
			cr_assert_eq(x->type, y->type);
			cr_assert_eq(x->executor == NULL, y->executor == NULL);
			cr_assert_eq(x->n_tasks, y->n_tasks, "tasks\ninput: %s", s);
			for (size_t k = 0; k < y->n_tasks; k++)
				same_task(&x->tasks[k], &y->tasks[k], s);
		}
	}
	pb_call_free(&full);
	pb_call_free(&lean);
	return fast;
}

#define TASK(id)                                                                                   \
	"{\"name\":\"t\",\"task_id\":{\"value\":\"" id "\"},\"agent_id\":{\"value\":\"A-S1\"},"    \
	"\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1}},{"        \
	"\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":128}}],\"command\":{"          \
	"\"value\":\"true\"}}"

/* As bench-master and simple frameworks write it. */
static const char ACCEPT[] =
        "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"F-1\"},\"accept\":{\"offer_ids\":[{"
        "\"value\":\"O-7\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":"
        "[" TASK("t1") "," TASK("t2") "]}}],\"filters\":{\"refuse_seconds\":0}}}";

/* Resources copied from the offer (roles, allocation_info), a command with
 * arguments, fractions, whitespace, two offers and two operations. */
static const char RICH[] =
        "{ \"framework_id\" : {\"value\":\"F-1\"},\n \"type\":\"ACCEPT\", \"accept\":{"
        "\"filters\":{\"refuse_seconds\":2.50},\"offer_ids\":[{\"value\":\"O-7\"},{\"value\":"
        "\"O-8\"}],\"operations\":[{\"launch\":{\"task_infos\":[{\"name\":\"web server\","
        "\"task_id\":{\"value\":\"w.1\"},\"agent_id\":{\"value\":\"A-S1\"},\"resources\":[{"
        "\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.25},\"role\":\"*\","
        "\"allocation_info\":{\"role\":\"web\"}},{\"name\":\"mem\",\"type\":\"SCALAR\","
        "\"scalar\":{\"value\":0.1000000000000000055511}}],\"command\":{\"shell\":false,"
        "\"value\":\"/bin/echo\",\"arguments\":[\"echo\",\"a b\"],\"user\":\"nobody\"}}]},"
        "\"type\":\"LAUNCH\"},{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":[" TASK("t3") "]}}"
                                                                                            "]}}";

Test(proto_lean_accept, plain_accept_is_read_without_a_tree)
{
	cr_assert(both(ACCEPT, strlen(ACCEPT)));
	cr_assert(both(RICH, strlen(RICH)));
	struct pb_call c = {0};
	struct ag_error err = {0};
	cr_assert_eq(pb_call_decode_lean(ACCEPT, strlen(ACCEPT), &c, &err), 0);
	cr_assert_null(c.json);
	cr_assert_eq(c.accept.n_operations, 1);
	cr_assert_eq(c.accept.operations[0].n_tasks, 2);
	const struct pb_task_info *t = &c.accept.operations[0].tasks[1];
	cr_assert_null(t->json);
	/* The normalized text: integers written as the reals they are. */
	cr_assert_str_eq(t->text, "{\"name\":\"t\",\"task_id\":{\"value\":\"t2\"},\"agent_id\":{"
	                          "\"value\":\"A-S1\"},\"resources\":[{\"name\":\"cpus\",\"type\":"
	                          "\"SCALAR\",\"scalar\":{\"value\":1.0}},{\"name\":\"mem\","
	                          "\"type\":\"SCALAR\",\"scalar\":{\"value\":128.0}}],"
	                          "\"command\":{\"value\":\"true\"}}");
	cr_assert_eq(t->resources[1].scalar_milli, 128000);
	cr_assert(t->command->shell);
	cr_assert(c.accept.filters.has_refuse_seconds);
	cr_assert(c.accept.filters.refuse_seconds == 0);
	pb_call_free(&c);

	cr_assert_eq(pb_call_decode_lean(RICH, strlen(RICH), &c, &err), 0);
	cr_assert_eq(c.accept.n_offer_ids, 2);
	cr_assert(c.accept.filters.refuse_seconds == 2.5);
	t = &c.accept.operations[0].tasks[0];
	cr_assert_str_eq(t->resources[0].allocation_role, "web");
	cr_assert_eq(t->resources[0].scalar_milli, 250);
	cr_assert_not(t->command->shell);
	cr_assert_str_eq(t->command->arguments[1], "a b");
	cr_assert(strstr(t->text, "\"scalar\":{\"value\":0.1}"), "%s", t->text);
	pb_call_free(&c);
}

Test(proto_lean_accept, other_accepts_take_the_full_decoder_and_its_errors)
{
	static const char *const cases[] = {
	        /* not plain: fields out of the table's order, a field the lean reader
	         * does not read (container), a RANGES resource, an exponent, a
	         * negative number, an escape, a null, a string for a number, no
	         * filters' value, an empty array, a LAUNCH_GROUP, an operation id,
	         * an unknown key, a DECLINE */
	        "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"F\"},\"accept\":{\"offer_ids\":"
	        "[{\"value\":\"O\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{"
	        "\"task_infos\":[{\"task_id\":{\"value\":\"t\"},\"name\":\"t\",\"agent_id\":{"
	        "\"value\":\"A\"}}]}}]}}",
	        "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"F\"},\"accept\":{\"offer_ids\":"
	        "[{\"value\":\"O\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{"
	        "\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":\"t\"},\"agent_id\":{"
	        "\"value\":\"A\"},\"container\":{\"type\":\"MESOS\"}}]}}]}}",
	        "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"F\"},\"accept\":{\"offer_ids\":"
	        "[{\"value\":\"O\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{"
	        "\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":\"t\"},\"agent_id\":{"
	        "\"value\":\"A\"},\"resources\":[{\"name\":\"ports\",\"type\":\"RANGES\","
	        "\"ranges\":{\"range\":[{\"begin\":1,\"end\":2}]}}]}]}}]}}",
	        "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"F\"},\"accept\":{\"offer_ids\":"
	        "[{\"value\":\"O\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{"
	        "\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":\"t\"},\"agent_id\":{"
	        "\"value\":\"A\"},\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\","
	        "\"scalar\":{\"value\":1e0}}]}]}}]}}",
	        "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"F\"},\"accept\":{\"offer_ids\":"
	        "[{\"value\":\"O\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{"
	        "\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":\"t\"},\"agent_id\":{"
	        "\"value\":\"A\"},\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\","
	        "\"scalar\":{\"value\":-0}}]}]}}]}}",
	        "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"F\"},\"accept\":{\"offer_ids\":"
	        "[{\"value\":\"O\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{"
	        "\"task_infos\":[{\"name\":\"\\u0074\",\"task_id\":{\"value\":\"t\"},\"agent_id\":{"
	        "\"value\":\"A\"}}]}}]}}",
	        "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"F\"},\"accept\":{\"offer_ids\":"
	        "[{\"value\":\"O\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{"
	        "\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":\"t\"},\"agent_id\":{"
	        "\"value\":\"A\"},\"command\":null}]}}]}}",
	        "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"F\"},\"accept\":{\"offer_ids\":"
	        "[{\"value\":\"O\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{"
	        "\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":\"t\"},\"agent_id\":{"
	        "\"value\":\"A\"},\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\","
	        "\"scalar\":{\"value\":\"1\"}}]}]}}]}}",
	        "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"F\"},\"accept\":{\"offer_ids\":"
	        "[{\"value\":\"O\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{"
	        "\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":\"t\"},\"agent_id\":{"
	        "\"value\":\"A\"}}]}}],\"filters\":{}}}",
	        "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"F\"},\"accept\":{\"offer_ids\":"
	        "[{\"value\":\"O\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{"
	        "\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":\"t\"},\"agent_id\":{"
	        "\"value\":\"A\"},\"resources\":[]}]}}]}}",
	        "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"F\"},\"accept\":{\"offer_ids\":"
	        "[{\"value\":\"O\"}],\"operations\":[{\"type\":\"LAUNCH_GROUP\",\"launch_group\":{"
	        "\"executor\":{\"executor_id\":{\"value\":\"e\"}},\"task_group\":{\"tasks\":[{"
	        "\"name\":\"t\",\"task_id\":{\"value\":\"t\"},\"agent_id\":{\"value\":\"A\"}}]}}}]}"
	        "}",
	        "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"F\"},\"accept\":{\"offer_ids\":"
	        "[{\"value\":\"O\"}],\"operations\":[{\"type\":\"LAUNCH\",\"id\":{\"value\":\"op\"}"
	        ","
	        "\"launch\":{\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":\"t\"},"
	        "\"agent_id\":{\"value\":\"A\"}}]}}]}}",
	        "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"F\"},\"x\":1,\"accept\":{"
	        "\"offer_ids\":[{\"value\":\"O\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":"
	        "{"
	        "\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":\"t\"},\"agent_id\":{"
	        "\"value\":\"A\"}}]}}]}}",
	        "{\"type\":\"DECLINE\",\"framework_id\":{\"value\":\"F\"},\"decline\":{\"offer_"
	        "ids\":"
	        "[{\"value\":\"O\"}]}}",
	        /* errors: a missing task id, a bad id, a duplicate key, a float for
	         * an integer field is not here: junk */
	        "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"F\"},\"accept\":{\"offer_ids\":"
	        "[{\"value\":\"O\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{"
	        "\"task_infos\":[{\"name\":\"t\",\"agent_id\":{\"value\":\"A\"}}]}}]}}",
	        "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"F\"},\"accept\":{\"offer_ids\":"
	        "[{\"value\":\"O\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{"
	        "\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":\"a/b\"},\"agent_id\":{"
	        "\"value\":\"A\"}}]}}]}}",
	        "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"F\"},\"accept\":{\"offer_ids\":"
	        "[{\"value\":\"O\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{"
	        "\"task_infos\":[{\"name\":\"t\",\"name\":\"u\",\"task_id\":{\"value\":\"t\"},"
	        "\"agent_id\":{\"value\":\"A\"}}]}}]}}",
	        "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"F\"},\"accept\":{",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert_not(both(cases[i], strlen(cases[i])), "case %zu was plain", i);
	struct pb_call c = {0};
	struct ag_error err = {0};
	cr_assert_eq(pb_call_decode_lean(cases[14], strlen(cases[14]), &c, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "Missing required fields: "
	                          "accept.operations[0].launch.task_infos[0].task_id");
}

/* Every one-byte change of the plain messages (a deterministic cousin of
 * the fuzzer's differential check): both decoders always agree. */
Test(proto_lean_accept, every_one_byte_change_agrees_with_the_full_decoder)
{
	static const char repl[] = {'"', '\\', '{', '}', '[', ']', ',',  ':',    ' ',   '0',
	                            '9', '.',  'e', '-', 'a', 'A', '\0', '\x7f', '\xc3'};
	const char *msgs[] = {ACCEPT, RICH};
	size_t fast = 0;
	for (size_t k = 0; k < AG_ARRAY_SIZE(msgs); k++) {
		size_t n = strlen(msgs[k]);
		char *buf = malloc(n + 1);
		for (size_t i = 0; i < n; i++) {
			for (size_t r = 0; r < sizeof(repl); r++) {
				memcpy(buf, msgs[k], n + 1);
				buf[i] = repl[r];
				fast += both(buf, n);
			}
			/* the byte left out, and the message cut here */
			memcpy(buf, msgs[k], i);
			memcpy(buf + i, msgs[k] + i + 1, n - i);
			fast += both(buf, n - 1);
			fast += both(msgs[k], i);
		}
		free(buf);
	}
	cr_assert_gt(fast, 300, "the plain path should take most value changes (%zu)", fast);
}
