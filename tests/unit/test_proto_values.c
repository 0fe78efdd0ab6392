/* Rules on values beyond their types (proto/validate.c): ids are data,
 * never syntax, at every entry point of the decoders; resource scalars are
 * finite and bounded. */
#include "proto/proto.h"
#include "proto_check.h"

#include <criterion/criterion.h>
#include <string.h>

Test(proto_ids, valid_ids_pass)
{
	const char *ok[] = {"a", "F0-0001", "task 1", "t.1", "...", "é-ünïcode", "a:b@c=d"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		cr_expect_null(pb_id_problem(ok[i], strlen(ok[i])), "`%s` refused", ok[i]);
	char max[PB_ID_MAX + 1];
	memset(max, 'x', PB_ID_MAX);
	max[PB_ID_MAX] = '\0';
	cr_expect_null(pb_id_problem(max, PB_ID_MAX));
}

Test(proto_ids, invalid_ids_are_refused_with_why)
{
	static const struct {
		const char *id;
		size_t len;
		const char *why;
	} bad[] = {
	        {"", 0, "must not be empty"},
	        {".", 1, "must not be '.' or '..'"},
	        {"..", 2, "must not be '.' or '..'"},
	        {"my\"fw", 5, "must not contain '\"'"},
	        {"a/b", 3, "must not contain '/' or '\\'"},
	        {"a\\b", 3, "must not contain '/' or '\\'"},
	        {"a\nb", 3, "must not contain control characters"},
	        {"a\tb", 3, "must not contain control characters"},
	        {"a\x7f", 2, "must not contain control characters"},
	        {"a\xc2\x85", 3, "must not contain control characters"}, /* U+0085 NEL */
	        {"a\0b", 3, "must not contain control characters"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = pb_id_problem(bad[i].id, bad[i].len);
		cr_expect_not_null(why, "case %zu accepted", i);
		if (why)
			cr_expect_str_eq(why, bad[i].why, "case %zu", i);
	}
	char over[PB_ID_MAX + 2];
	memset(over, 'x', PB_ID_MAX + 1);
	over[PB_ID_MAX + 1] = '\0';
	cr_expect_str_eq(pb_id_problem(over, PB_ID_MAX + 1), "must be at most 255 bytes");
}

/* Both decoders refuse `text` with `msg`: the lean one gives the full
 * decoder's answer. */
static void call_refused(const char *text, const char *msg)
{
	pt_call_refused(text, msg);
	pt_call_refused_lean(text, msg);
}

Test(proto_ids, scheduler_calls_name_the_bad_id)
{
	call_refused("{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":\"u\","
	             "\"name\":\"n\",\"id\":{\"value\":\"my\\\"fw\"}}}}",
	             "call.subscribe.framework_info.id.value: not a valid id: must not contain "
	             "'\"'");
	call_refused("{\"framework_id\":{\"value\":\"F\\\\0\"},\"type\":\"TEARDOWN\"}",
	             "call.framework_id.value: not a valid id: must not contain '/' or '\\'");
	call_refused("{\"framework_id\":{\"value\":\"F0\"},\"type\":\"ACCEPT\",\"accept\":{"
	             "\"offer_ids\":[{\"value\":\"O1\"}],\"operations\":[{\"type\":\"LAUNCH\","
	             "\"launch\":{\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":\"..\"},"
	             "\"agent_id\":{\"value\":\"S0\"},\"command\":{\"value\":\"true\"}}]}}]}}",
	             "call.accept.operations[0].launch.task_infos[0].task_id.value: not a valid "
	             "id: must not be '.' or '..'");
	call_refused("{\"framework_id\":{\"value\":\"F0\"},\"type\":\"DECLINE\",\"decline\":{"
	             "\"offer_ids\":[{\"value\":\"O\\u0001\"}]}}",
	             "call.decline.offer_ids[0].value: not a valid id: must not contain control "
	             "characters");
	/* The lean ACKNOWLEDGE path. */
	call_refused(
	        "{\"framework_id\":{\"value\":\"F0\"},\"type\":\"ACKNOWLEDGE\",\"acknowledge\":"
	        "{\"agent_id\":{\"value\":\"S0\"},\"task_id\":{\"value\":\"a/b\"},\"uuid\":"
	        "\"AAAAAAAAAAAAAAAAAAAAAA==\"}}",
	        "call.acknowledge.task_id.value: not a valid id: must not contain '/' or '\\'");
	call_refused("{\"framework_id\":{\"value\":\"F0\"},\"type\":\"KILL\",\"kill\":{\"task_id\":"
	             "{\"value\":\"\"}}}",
	             "call.kill.task_id.value: not a valid id: must not be empty");
}

Test(proto_ids, an_empty_framework_id_still_asks_for_a_new_framework)
{
	const char *text = "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":"
	                   "\"u\",\"name\":\"n\",\"id\":{\"value\":\"\"}}}}";
	struct pb_call c = {0};
	struct ag_error err = {0};
	cr_assert_eq(pb_call_decode(text, strlen(text), &c, &err), 0, "%s", err.msg);
	cr_expect_null(c.subscribe.framework_info.id);
	pb_call_free(&c);
}

#define UUID_B64 "AAAAAAAAAAAAAAAAAAAAAA=="

Test(proto_ids, agent_messages_name_the_bad_id)
{
	/* One bad framework id in a batch of plain updates. */
	pt_agent_msg_refused_lean(
	        "{\"type\":\"STATUS_UPDATES\",\"agent_id\":{\"value\":\"S0\"},\"status_updates\":{"
	        "\"updates\":[{\"framework_id\":{\"value\":\"ok\"},\"status\":{\"task_id\":{"
	        "\"value\":\"t1\"},\"state\":\"TASK_RUNNING\",\"uuid\":\"" UUID_B64 "\"}},"
	        "{\"framework_id\":{\"value\":\"my\\\"fw\"},\"status\":{\"task_id\":{\"value\":"
	        "\"t2\"},\"state\":\"TASK_RUNNING\",\"uuid\":\"" UUID_B64 "\"}}]}}",
	        "message.status_updates.updates[1].framework_id.value: not a valid id: must not "
	        "contain '\"'");
	pt_agent_msg_refused_lean(
	        "{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":\"S0\"},\"status_update\":{"
	        "\"framework_id\":{\"value\":\"F0\"},\"status\":{\"task_id\":{\"value\":\"t/1\"},"
	        "\"state\":\"TASK_RUNNING\",\"uuid\":\"" UUID_B64 "\"}}}",
	        "message.status_update.status.task_id.value: not a valid id: must not contain '/' "
	        "or '\\'");
	pt_agent_msg_refused_lean(
	        "{\"type\":\"REGISTER\",\"register\":{\"agent_info\":{\"hostname\":\"h\","
	        "\"id\":{\"value\":\"S\\n0\"}}}}",
	        "message.register.agent_info.id.value: not a valid id: must not contain "
	        "control characters");
}

/* ---- resources ---- */

static int check_resources(const char *json_array_text, struct ag_error *err)
{
	char *text = NULL;
	int n = asprintf(&text,
	                 "{\"type\":\"REGISTER\",\"register\":{\"agent_info\":{\"hostname\":\"h\","
	                 "\"resources\":%s}}}",
	                 json_array_text);
	cr_assert_gt(n, 0);
	struct pb_agent_msg m = {0};
	int r = pb_agent_msg_decode(text, strlen(text), &m, err);
	free(text);
	cr_assert_eq(r, 0, "%s", err->msg);
	r = pb_resources_check(m.reg.agent_info.resources, m.reg.agent_info.n_resources,
	                       "agent_info.resources", err);
	pb_agent_msg_free(&m);
	return r;
}

#define SCALAR(name, v) "{\"name\":\"" name "\",\"type\":\"SCALAR\",\"scalar\":{\"value\":" v "}}"

Test(proto_resources, finite_bounded_scalars_pass)
{
	struct ag_error err = {0};
	cr_expect_eq(check_resources("[" SCALAR("cpus", "4") "," SCALAR(
	                                     "mem", "1000000000") "," SCALAR("disk", "0") "]",
	                             &err),
	             0, "%s", err.msg);
	cr_expect_eq(
	        check_resources("[" SCALAR("cpus", "500000000") "," SCALAR("cpus", "500000000") "]",
	                        &err),
	        0, "%s", err.msg);
}

Test(proto_resources, infinite_negative_and_huge_scalars_are_refused)
{
	struct {
		const char *res, *msg;
	} bad[] = {
	        {"[" SCALAR("mem", "1") "," SCALAR("cpus", "\"Infinity\"") "]",
	         "agent_info.resources[1].scalar.value (cpus): must be a finite number from 0 to "
	         "1000000000"},
	        {"[" SCALAR("cpus", "-1") "]",
	         "agent_info.resources[0].scalar.value (cpus): must be a finite number from 0 to "
	         "1000000000"},
	        {"[" SCALAR("mem", "1e300") "]",
	         "agent_info.resources[0].scalar.value (mem): must be a finite number from 0 to "
	         "1000000000"},
	        {"[" SCALAR("mem", "1000000000.001") "]",
	         "agent_info.resources[0].scalar.value (mem): must be a finite number from 0 to "
	         "1000000000"},
	        {"[" SCALAR("cpus", "600000000") "," SCALAR("mem", "1") "," SCALAR("cpus",
	                                                                           "600000000") "]",
	         "agent_info.resources (cpus): the values of one name add up to more than "
	         "1000000000"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ag_error err = {0};
		cr_expect_eq(check_resources(bad[i].res, &err), -EINVAL, "case %zu accepted", i);
		cr_expect_str_eq(err.msg, bad[i].msg, "case %zu", i);
	}
}

Test(proto_resources, scalar_sums_by_name)
{
	struct ag_error err = {0};
	char *text = NULL;
	cr_assert_gt(asprintf(&text,
	                      "{\"type\":\"REGISTER\",\"register\":{\"agent_info\":{"
	                      "\"hostname\":\"h\",\"resources\":[" SCALAR("cpus", "0.5") "," SCALAR(
	                              "mem", "0") "," SCALAR("cpus", "1.25") "]}}}"),
	             0);
	struct pb_agent_msg m = {0};
	cr_assert_eq(pb_agent_msg_decode(text, strlen(text), &m, &err), 0, "%s", err.msg);
	free(text);
	const struct pb_agent_info *ai = &m.reg.agent_info;
	cr_expect_eq(pb_resources_scalar_milli(ai->resources, ai->n_resources, "cpus"), 1750);
	cr_expect_eq(pb_resources_scalar_milli(ai->resources, ai->n_resources, "mem"), 0);
	cr_expect_eq(pb_resources_scalar_milli(ai->resources, ai->n_resources, "gpus"), 0);
	pb_agent_msg_free(&m);
}

/* ---- integers beyond int64 ---- */

#define LAUNCH_HEAD                                                                                \
	"{\"framework_id\":{\"value\":\"F0\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":[{"    \
	"\"value\":\"O1\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":[{"    \
	"\"name\":\"t\",\"task_id\":{\"value\":\"t1\"},\"agent_id\":{\"value\":\"S0\"},"
#define LAUNCH_TAIL "}]}}]}}"

Test(proto_values, rlim_infinity_decodes_as_its_digits)
{
	const char *text = LAUNCH_HEAD
	        "\"command\":{\"value\":\"echo \\\"18446744073709551615\"},\"container\":{\"type\":"
	        "\"MESOS\",\"rlimit_info\":{\"rlimits\":[{\"type\":\"RLMT_CORE\",\"hard\":"
	        "18446744073709551615,\"soft\":\"+018446744073709551615\"},{\"type\":\"RLMT_"
	        "NOFILE\","
	        "\"hard\":9223372036854775808,\"soft\":1024}]},\"oci\":{\"process\":{\"rlimits\":[{"
	        "\"hard\":18446744073709551615}]}}}" LAUNCH_TAIL;
	struct pb_call c = {0};
	struct ag_error err = {0};
	cr_assert_eq(pb_call_decode(text, strlen(text), &c, &err), 0, "%s", err.msg);
	const json_t *ti = c.accept.operations[0].tasks[0].json;
	json_t *rl = json_object_get(
	        json_object_get(json_object_get(ti, "container"), "rlimit_info"), "rlimits");
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(rl, 0), "hard")),
	                 "18446744073709551615");
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(rl, 0), "soft")),
	                 "18446744073709551615");
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(rl, 1), "hard")),
	                 "9223372036854775808");
	cr_expect_eq(json_integer_value(json_object_get(json_array_get(rl, 1), "soft")), 1024);
	/* In the OCI-like spec, kept verbatim but for the digits' quotes. */
	json_t *oci = json_object_get(json_object_get(ti, "container"), "oci");
	json_t *hard = json_object_get(
	        json_array_get(json_object_get(json_object_get(oci, "process"), "rlimits"), 0),
	        "hard");
	cr_expect_str_eq(json_string_value(hard), "18446744073709551615");
	/* Strings are left alone, escaped quotes included. */
	cr_expect_str_eq(c.accept.operations[0].tasks[0].command->value,
	                 "echo \"18446744073709551615");
	pb_call_free(&c);
}

Test(proto_values, integers_beyond_their_field_are_refused)
{
	struct {
		const char *text, *msg;
	} bad[] = {
	        {LAUNCH_HEAD
	         "\"command\":{\"value\":\"true\"},\"container\":{\"type\":\"MESOS\","
	         "\"rlimit_info\":{\"rlimits\":[{\"hard\":18446744073709551616}]}}" LAUNCH_TAIL,
	         NULL},
	        {LAUNCH_HEAD "\"resources\":[{\"name\":\"ports\",\"type\":\"RANGES\",\"ranges\":{"
	                     "\"range\":[{\"begin\":1,\"end\":18446744073709551615}]}}],"
	                     "\"command\":{\"value\":\"true\"}" LAUNCH_TAIL,
	         "call.accept.operations[0].launch.task_infos[0].resources[0].ranges.range[0].end: "
	         "out of range (at most 9223372036854775807)"},
	        {LAUNCH_HEAD
	         "\"command\":{\"value\":\"true\"},\"container\":{\"type\":\"MESOS\","
	         "\"rlimit_info\":{\"rlimits\":[{\"hard\":-18446744073709551615}]}}" LAUNCH_TAIL,
	         NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pb_call c = {0};
		struct ag_error err = {0};
		cr_expect_eq(pb_call_decode(bad[i].text, strlen(bad[i].text), &c, &err), -EINVAL,
		             "case %zu accepted", i);
		if (bad[i].msg)
			cr_expect_str_eq(err.msg, bad[i].msg, "case %zu", i);
		else
			cr_expect(strstr(err.msg, "too big") != NULL, "case %zu: %s", i, err.msg);
		pb_call_free(&c);
	}
}
