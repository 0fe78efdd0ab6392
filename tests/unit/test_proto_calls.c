/* Scheduler and operator calls: round trips of every call type through the
 * normalizer, and each of stout's decoding rules. */
#include "proto/proto.h"
#include "proto_check.h"

#include <criterion/criterion.h>
#include <string.h>

static struct pb_call decode_ok(const char *text)
{
	struct pb_call c = {0};
	struct ag_error err = {0};
	int r = pb_call_decode(text, strlen(text), &c, &err);
	cr_assert_eq(r, 0, "decode failed: %s\ninput: %s", err.msg, text);
	return c;
}

/* Canonical text in, the same text out. */
static void round_trip(const char *text)
{
	struct pb_call c = decode_ok(text);
	char *out = pb_json_dump(c.json, NULL);
	cr_expect_str_eq(out, text);
	free(out);
	pb_call_free(&c);
}

Test(proto_calls, every_call_type_round_trips)
{
	round_trip("{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":\"root\","
	           "\"name\":\"fw\",\"failover_timeout\":604800.0,\"checkpoint\":true,\"roles\":["
	           "\"web\"],"
	           "\"hostname\":\"h1\",\"capabilities\":[{\"type\":\"MULTI_ROLE\"},{\"type\":"
	           "\"PARTITION_AWARE\"},{\"type\":\"TASK_KILLING_STATE\"}]}}}");
	round_trip("{\"framework_id\":{\"value\":\"F0\"},\"type\":\"TEARDOWN\"}");
	round_trip(
	        "{\"framework_id\":{\"value\":\"F0\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_"
	        "ids\":"
	        "[{\"value\":\"O7\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_"
	        "infos\":"
	        "[{\"name\":\"t1\",\"task_id\":{\"value\":\"t1\"},\"agent_id\":{\"value\":\"S0\"},"
	        "\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.5},"
	        "\"allocation_info\":{\"role\":\"web\"}},{\"name\":\"ports\",\"type\":\"RANGES\","
	        "\"ranges\":{\"range\":[{\"begin\":31000,\"end\":31000}]}}],\"command\":{\"shell\":"
	        "true,\"value\":\"sleep 100\"}}]}}],\"filters\":{\"refuse_seconds\":5.0}}}");
	round_trip("{\"framework_id\":{\"value\":\"F0\"},\"type\":\"DECLINE\",\"decline\":{\"offer_"
	           "ids\":"
	           "[{\"value\":\"O8\"}],\"filters\":{\"refuse_seconds\":30.0}}}");
	round_trip("{\"framework_id\":{\"value\":\"F0\"},\"type\":\"REVIVE\",\"revive\":{\"roles\":"
	           "[\"web\"]}}");
	round_trip("{\"framework_id\":{\"value\":\"F0\"},\"type\":\"SUPPRESS\",\"suppress\":{"
	           "\"roles\":"
	           "[\"web\"]}}");
	round_trip("{\"framework_id\":{\"value\":\"F0\"},\"type\":\"KILL\",\"kill\":{\"task_id\":"
	           "{\"value\":\"t1\"},\"agent_id\":{\"value\":\"S0\"},\"kill_policy\":{\"grace_"
	           "period\":"
	           "{\"nanoseconds\":5000000000}}}}");
	round_trip("{\"framework_id\":{\"value\":\"F0\"},\"type\":\"SHUTDOWN\",\"shutdown\":"
	           "{\"executor_id\":{\"value\":\"e1\"},\"agent_id\":{\"value\":\"S0\"}}}");
	round_trip("{\"framework_id\":{\"value\":\"F0\"},\"type\":\"ACKNOWLEDGE\",\"acknowledge\":"
	           "{\"agent_id\":{\"value\":\"S0\"},\"task_id\":{\"value\":\"t1\"},\"uuid\":"
	           "\"MDEyMzQ1Njc4OWFiY2RlZg==\"}}");
	round_trip(
	        "{\"framework_id\":{\"value\":\"F0\"},\"type\":\"RECONCILE\",\"reconcile\":"
	        "{\"tasks\":[{\"task_id\":{\"value\":\"t1\"},\"agent_id\":{\"value\":\"S0\"}}]}}");
	round_trip("{\"framework_id\":{\"value\":\"F0\"},\"type\":\"MESSAGE\",\"message\":"
	           "{\"agent_id\":{\"value\":\"S0\"},\"executor_id\":{\"value\":\"e1\"},\"data\":"
	           "\"aGVsbG8=\"}}");
	round_trip("{\"framework_id\":{\"value\":\"F0\"},\"type\":\"REQUEST\",\"request\":"
	           "{\"requests\":[{\"agent_id\":{\"value\":\"S0\"}}]}}");
	round_trip("{\"framework_id\":{\"value\":\"F0\"},\"type\":\"UPDATE_FRAMEWORK\","
	           "\"update_framework\":{\"framework_info\":{\"user\":\"u\",\"name\":\"n\",\"id\":"
	           "{\"value\":\"F0\"}}}}");
}

Test(proto_calls, typed_fields_are_filled_in)
{
	struct pb_call c =
	        decode_ok("{\"framework_id\":{\"value\":\"F0\"},\"type\":\"ACCEPT\",\"accept\":{"
	                  "\"offer_ids\":["
	                  "{\"value\":\"O1\"},{\"value\":\"O2\"}],\"operations\":[{\"type\":"
	                  "\"LAUNCH\",\"launch\":"
	                  "{\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":\"t1\"},\"agent_"
	                  "id\":{\"value\":"
	                  "\"S0\"},\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\","
	                  "\"scalar\":{\"value\":"
	                  "0.1234},\"reservations\":[{\"type\":\"STATIC\",\"role\":\"eng\"}]},{"
	                  "\"name\":\"zones\","
	                  "\"type\":\"SET\",\"set\":{\"item\":[\"a\",\"b\"]}}],\"command\":{"
	                  "\"value\":\"true\","
	                  "\"environment\":{\"variables\":[{\"name\":\"A\",\"value\":\"1\"}]}},"
	                  "\"health_check\":{},"
	                  "\"kill_policy\":{\"grace_period\":{\"nanoseconds\":7}}}]}}]}}");
	cr_assert_eq(c.type, PB_CALL_ACCEPT);
	cr_expect_str_eq(c.framework_id, "F0");
	cr_assert_eq(c.accept.n_offer_ids, 2);
	cr_expect_str_eq(c.accept.offer_ids[1], "O2");
	cr_expect_not(c.accept.filters.has_refuse_seconds);
	cr_expect_eq(pb_filters_refuse_seconds(&c.accept.filters), 5.0);
	cr_assert_eq(c.accept.n_operations, 1);
	cr_assert_eq(c.accept.operations[0].type, PB_OPERATION_LAUNCH);
	cr_assert_eq(c.accept.operations[0].n_tasks, 1);
	const struct pb_task_info *t = &c.accept.operations[0].tasks[0];
	cr_expect_str_eq(t->task_id, "t1");
	cr_expect_str_eq(t->agent_id, "S0");
	cr_assert_eq(t->n_resources, 2);
	cr_expect_eq(t->resources[0].scalar_milli, 123);
	cr_expect_str_eq(pb_resource_reserved_role(&t->resources[0]), "eng");
	cr_expect_eq(t->resources[1].type, PB_VALUE_SET);
	cr_assert_eq(t->resources[1].n_items, 2);
	cr_expect_str_eq(t->resources[1].items[1], "b");
	cr_assert_not_null(t->command);
	cr_expect(t->command->shell);
	cr_expect_str_eq(t->command->env[0].name, "A");
	cr_expect(t->has_health_check);
	cr_expect_eq(t->health_check_type, PB_HEALTH_CHECK_UNSET);
	cr_expect(t->has_kill_grace);
	cr_expect_eq(t->kill_grace_ns, 7);
	cr_expect_null(t->container);
	pb_call_free(&c);
}

Test(proto_calls, numeric_strings_exponents_and_bool_strings)
{
	struct pb_call c = decode_ok(
	        "{\"type\":\"KILL\",\"kill\":{\"task_id\":{\"value\":\"t\"},\"kill_policy\":"
	        "{\"grace_period\":{\"nanoseconds\":\"5000000000\"}}}}");
	cr_expect_eq(c.kill.grace_ns, 5000000000LL);
	pb_call_free(&c);

	c = decode_ok(
	        "{\"type\":\"DECLINE\",\"decline\":{\"filters\":{\"refuse_seconds\":1e-08}}}");
	cr_expect(c.decline.filters.has_refuse_seconds);
	cr_expect_float_eq(c.decline.filters.refuse_seconds, 1e-8, 1e-20);
	pb_call_free(&c);

	c = decode_ok(
	        "{\"type\":\"DECLINE\",\"decline\":{\"filters\":{\"refuse_seconds\":\"3e1\"}}}");
	cr_expect_eq(c.decline.filters.refuse_seconds, 30.0);
	pb_call_free(&c);

	c = decode_ok("{\"type\":\"DECLINE\",\"decline\":{\"filters\":{\"refuse_seconds\":"
	              "\"Infinity\"}}}");
	cr_expect_eq(pb_filters_refuse_seconds(&c.decline.filters), 365.0 * 24 * 3600);
	pb_call_free(&c);

	c = decode_ok("{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":\"u\","
	              "\"name\":\"n\",\"checkpoint\":\"true\",\"failover_timeout\":\"10\"}}}");
	cr_expect(c.subscribe.framework_info.checkpoint);
	cr_expect_eq(c.subscribe.framework_info.failover_timeout, 10.0);
	pb_call_free(&c);

	/* An integral real is an integer. */
	c = decode_ok("{\"type\":\"REQUEST\",\"request\":{\"requests\":[{\"resources\":[{\"name\":"
	              "\"ports\",\"type\":\"RANGES\",\"ranges\":{\"range\":[{\"begin\":31000.0,"
	              "\"end\":\"31001\"}]}}]}]}}");
	char *out = pb_json_dump(c.json, NULL);
	cr_expect(strstr(out, "{\"begin\":31000,\"end\":31001}") != NULL, "%s", out);
	free(out);
	pb_call_free(&c);
}

Test(proto_calls, bad_numbers_name_the_field)
{
	pt_call_refused(
	        "{\"type\":\"KILL\",\"kill\":{\"task_id\":{\"value\":\"t\"},\"kill_policy\":"
	        "{\"grace_period\":{\"nanoseconds\":0.5}}}}",
	        "call.kill.kill_policy.grace_period.nanoseconds: must be an integer");
	pt_call_refused(
	        "{\"type\":\"KILL\",\"kill\":{\"task_id\":{\"value\":\"t\"},\"kill_policy\":"
	        "{\"grace_period\":{\"nanoseconds\":\"12abc\"}}}}",
	        "call.kill.kill_policy.grace_period.nanoseconds: must be an integer");
	pt_call_refused(
	        "{\"type\":\"REQUEST\",\"request\":{\"requests\":[{\"resources\":[{\"name\":"
	        "\"p\",\"type\":\"RANGES\",\"ranges\":{\"range\":[{\"begin\":-1,\"end\":2}]}}]}]}}",
	        "call.request.requests[0].resources[0].ranges.range[0].begin: must not be "
	        "negative");
	pt_call_refused(
	        "{\"type\":\"DECLINE\",\"decline\":{\"filters\":{\"refuse_seconds\":\"x\"}}}",
	        "call.decline.filters.refuse_seconds: must be a number");
	pt_call_refused("{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":\"u\","
	                "\"name\":\"n\",\"checkpoint\":\"yes\"}}}",
	                "call.subscribe.framework_info.checkpoint: must be a boolean");
}

Test(proto_calls, lone_values_are_one_element_arrays)
{
	struct pb_call c = decode_ok("{\"type\":\"DECLINE\",\"decline\":{\"offer_ids\":"
	                             "{\"value\":\"O1\"}}}");
	cr_assert_eq(c.decline.n_offer_ids, 1);
	cr_expect_str_eq(c.decline.offer_ids[0], "O1");
	pb_call_free(&c);
	c = decode_ok("{\"type\":\"REVIVE\",\"revive\":{\"roles\":\"web\"}}");
	cr_assert_eq(c.revive.n_roles, 1);
	cr_expect_str_eq(c.revive.roles[0], "web");
	pb_call_free(&c);
}

Test(proto_calls, npm_subscribe_full_of_nulls_decodes)
{
	/* mesos-framework 0.5.3, as captured (§7.5), and HEAD's additions. */
	struct pb_call c = decode_ok(
	        "{\"framework_id\":null,\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{"
	        "\"user\":\"root\",\"name\":\"x\",\"id\":null,\"failover_timeout\":604800,"
	        "\"checkpoint\":null,\"role\":\"*\",\"roles\":[],\"hostname\":null,\"principal\":"
	        "null,"
	        "\"webui_url\":null,\"capabilities\":[],\"labels\":null},\"suppressed_roles\":[]},"
	        "\"accept\":null,\"decline\":null,\"kill\":null,\"unknown_key\":{\"x\":1}}");
	cr_expect_eq(c.type, PB_CALL_SUBSCRIBE);
	cr_expect_null(c.framework_id);
	cr_expect_null(c.subscribe.framework_info.id);
	cr_expect_str_eq(c.subscribe.framework_info.role, "*");
	cr_expect_eq(c.subscribe.framework_info.n_roles, 0);
	cr_expect_eq(c.subscribe.framework_info.capabilities, 0);
	cr_expect_eq(c.subscribe.framework_info.failover_timeout, 604800.0);
	char *out = pb_json_dump(c.json, NULL);
	cr_expect_str_eq(out,
	                 "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":"
	                 "\"root\",\"name\":\"x\",\"failover_timeout\":604800.0,\"role\":\"*\"}}}");
	free(out);
	pb_call_free(&c);

	/* REVIVE without payload; RECONCILE-all with "tasks":[]; null filters. */
	c = decode_ok("{\"framework_id\":{\"value\":\"F\"},\"type\":\"REVIVE\"}");
	cr_expect_eq(c.revive.n_roles, 0);
	pb_call_free(&c);
	c = decode_ok("{\"type\":\"RECONCILE\",\"reconcile\":{\"tasks\":[]}}");
	cr_expect_eq(c.reconcile.n_tasks, 0);
	pb_call_free(&c);
	c = decode_ok("{\"type\":\"DECLINE\",\"decline\":{\"offer_ids\":[{\"value\":\"O\"}],"
	              "\"filters\":null}}");
	cr_expect_eq(pb_filters_refuse_seconds(&c.decline.filters), 5.0);
	pb_call_free(&c);
}

Test(proto_calls, enums_by_name_only)
{
	pt_call_refused("{\"type\":3}", "call.type: must be an enum name, not a number");
	pt_call_refused("{\"type\":\"NOPE\"}", "Expecting 'type' to be present");
	pt_call_refused("{}", "Expecting 'type' to be present");
	/* Unknown names in optional fields are dropped, also inside arrays. */
	struct pb_call c = decode_ok("{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{"
	                             "\"user\":\"u\",\"name\":"
	                             "\"n\",\"capabilities\":[{\"type\":\"FUTURE_THING\"},{"
	                             "\"type\":\"MULTI_ROLE\"}]}}}");
	cr_expect_eq(c.subscribe.framework_info.capabilities, PB_CAP_BIT(PB_CAP_MULTI_ROLE));
	pb_call_free(&c);
	/* ... and refused in required ones. */
	pt_call_refused("{\"type\":\"ACCEPT\",\"accept\":{\"operations\":[{\"type\":\"LAUNCH\","
	                "\"launch\":{\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":\"t\"},"
	                "\"agent_id\":{\"value\":\"a\"},\"resources\":[{\"name\":\"cpus\",\"type\":"
	                "\"FOO\"}]}]}}]}}",
	                "call.accept.operations[0].launch.task_infos[0].resources[0].type: unknown "
	                "value 'FOO'");
	pt_call_refused("{\"type\":\"ACCEPT\",\"accept\":{\"operations\":[{\"type\":1}]}}",
	                "call.accept.operations[0].type: must be an enum name, not a number");
}

Test(proto_calls, base64_with_and_without_padding)
{
	struct pb_call c = decode_ok("{\"type\":\"ACKNOWLEDGE\",\"acknowledge\":{\"agent_id\":"
	                             "{\"value\":\"S\"},\"task_id\":{\"value\":\"t\"},\"uuid\":"
	                             "\"MDEyMzQ1Njc4OWFiY2RlZg\"}}");
	cr_assert_eq(c.acknowledge.uuid.len, 16);
	cr_expect_eq(memcmp(c.acknowledge.uuid.data, "0123456789abcdef", 16), 0);
	char *out = pb_json_dump(c.json, NULL);
	cr_expect(strstr(out, "\"MDEyMzQ1Njc4OWFiY2RlZg==\"") != NULL, "%s", out);
	free(out);
	pb_call_free(&c);

	c = decode_ok("{\"type\":\"MESSAGE\",\"message\":{\"agent_id\":{\"value\":\"S\"},"
	              "\"executor_id\":{\"value\":\"e\"},\"data\":\"aGk\"}}");
	cr_assert_eq(c.message.data.len, 2);
	cr_expect_eq(memcmp(c.message.data.data, "hi", 2), 0);
	pb_call_free(&c);

	pt_call_refused("{\"type\":\"ACKNOWLEDGE\",\"acknowledge\":{\"agent_id\":{\"value\":\"S\"},"
	                "\"task_id\":{\"value\":\"t\"},\"uuid\":\"!!!!\"}}",
	                "call.acknowledge.uuid: invalid base64");
	/* npm HEAD's MESSAGE: a serialized ByteBuffer object. */
	pt_call_refused("{\"type\":\"MESSAGE\",\"message\":{\"agent_id\":{\"value\":\"S\"},"
	                "\"executor_id\":{\"value\":\"e\"},\"data\":{\"type\":\"Buffer\"}}}",
	                "call.message.data: must be a base64 string");
}

Test(proto_calls, missing_required_fields_list_dotted_paths)
{
	pt_call_refused("{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{}}}",
	                "Missing required fields: subscribe.framework_info.user, "
	                "subscribe.framework_info.name");
	pt_call_refused(
	        "{\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":[{}],\"operations\":[{\"type\":"
	        "\"LAUNCH\",\"launch\":{\"task_infos\":[{\"task_id\":{},\"agent_id\":{\"value\":"
	        "\"a\"},\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{}}]}]}}]}"
	        "}",
	        "Missing required fields: accept.offer_ids[0].value, "
	        "accept.operations[0].launch.task_infos[0].name, "
	        "accept.operations[0].launch.task_infos[0].task_id.value, "
	        "accept.operations[0].launch.task_infos[0].resources[0].scalar.value");
	pt_call_refused("{\"type\":\"ACKNOWLEDGE\",\"acknowledge\":{}}",
	                "Missing required fields: acknowledge.agent_id, acknowledge.task_id, "
	                "acknowledge.uuid");
	pt_call_refused("{\"type\":\"ACCEPT\"}", "Expecting 'accept' to be present");
	/* npm 0.5.3's SHUTDOWN puts its payload under `kill`. */
	pt_call_refused("{\"type\":\"SHUTDOWN\",\"kill\":{\"task_id\":{\"value\":\"t\"}}}",
	                "Expecting 'shutdown' to be present");
}

Test(proto_calls, type_errors_name_the_path)
{
	pt_call_refused("{\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":[{\"value\":7}]}}",
	                "call.accept.offer_ids[0].value: must be a string");
	pt_call_refused("{\"type\":\"ACCEPT\",\"accept\":[1]}", "call.accept: must be an object");
	pt_call_refused("[]", "call: must be an object");
	struct pb_call c = {0};
	struct ag_error err = {0};
	cr_expect_eq(pb_call_decode("{\"type\":", 8, &c, &err), -EINVAL);
	cr_expect(strncmp(err.msg, "Failed to parse JSON", 20) == 0, "%s", err.msg);
	cr_expect_eq(pb_call_decode("{\"a\":\"\\u0000\"}", 14, &c, &err), -EINVAL);
}

Test(proto_calls, oci_spec_is_kept_verbatim)
{
	struct pb_call c = decode_ok(
	        "{\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":[{\"value\":\"O\"}],\"operations\":"
	        "[{"
	        "\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":[{\"name\":\"hello\",\"task_id\":{"
	        "\"value\":\"hello-1\"},\"agent_id\":{\"value\":\"A1\"},\"resources\":[{\"name\":"
	        "\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":64}}],\"container\":{\"type\":"
	        "\"MESOS\",\"oci\":{\"process\":{\"args\":[\"/bin/sh\",\"-c\",\"echo "
	        "hi\"],\"env\":["
	        "\"A=1\"],\"cwd\":\"/\"},\"root\":{\"path\":\"busybox\",\"readonly\":true},"
	        "\"hostname\":\"hello\"}}}]}}]}}");
	const struct pb_task_info *t = &c.accept.operations[0].tasks[0];
	cr_assert_not_null(t->container);
	cr_expect_eq(t->container->type, PB_CONTAINER_MESOS);
	cr_assert_not_null(t->container->oci);
	char *oci = pb_json_dump(t->container->oci, NULL);
	cr_expect_str_eq(oci,
	                 "{\"process\":{\"args\":[\"/bin/sh\",\"-c\",\"echo hi\"],\"env\":"
	                 "[\"A=1\"],\"cwd\":\"/\"},\"root\":{\"path\":\"busybox\",\"readonly\":"
	                 "true},\"hostname\":\"hello\"}");
	free(oci);
	cr_expect_null(t->command);
	pb_call_free(&c);
	pt_call_refused("{\"type\":\"ACCEPT\",\"accept\":{\"operations\":[{\"type\":\"LAUNCH\","
	                "\"launch\":{\"task_infos\":[{\"name\":\"h\",\"task_id\":{\"value\":\"h\"},"
	                "\"agent_id\":{\"value\":\"A\"},\"container\":{\"type\":\"MESOS\",\"oci\":"
	                "\"x\"}}]}}]}}",
	                "call.accept.operations[0].launch.task_infos[0].container.oci: must be an "
	                "object");
}

Test(proto_calls, task_info_can_be_decoded_again_from_its_json)
{
	struct pb_call c = decode_ok(
	        "{\"type\":\"ACCEPT\",\"accept\":{\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{"
	        "\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":\"t1\"},\"agent_id\":{"
	        "\"value\":\"S\"},\"container\":{\"type\":\"MESOS\",\"mesos\":{\"image\":{\"type\":"
	        "\"DOCKER\",\"docker\":{\"name\":\"busybox\"}}}}}]}}]}}");
	struct pb_arena *a = pb_arena_new();
	struct pb_task_info t;
	struct ag_error err = {0};
	cr_assert_eq(pb_task_info_decode(a, c.accept.operations[0].tasks[0].json, "task", &t, &err),
	             0, "%s", err.msg);
	pb_call_free(&c); /* the arena keeps what t points to */
	cr_expect_str_eq(t.task_id, "t1");
	cr_expect_eq(t.container->image_type, PB_IMAGE_DOCKER);
	cr_expect_str_eq(t.container->image_name, "busybox");
	json_t *bad = json_pack("{s:s}", "name", "x");
	cr_expect_eq(pb_task_info_decode(a, bad, "task", &t, &err), -EINVAL);
	cr_expect_str_eq(err.msg, "Missing required fields: task_id, agent_id");
	json_decref(bad);
	pb_arena_free(a);
}

Test(proto_operator, calls_decode)
{
	struct pb_operator_call c = {0};
	struct ag_error err = {0};
	const char *s =
	        "{\"type\":\"UPDATE_WEIGHTS\",\"update_weights\":{\"weight_infos\":[{\"role\":"
	        "\"web\",\"weight\":2.0}]}}";
	cr_assert_eq(pb_operator_call_decode(s, strlen(s), &c, &err), 0, "%s", err.msg);
	cr_assert_eq(c.update_weights.n_weight_infos, 1);
	cr_expect_str_eq(c.update_weights.weight_infos[0].role, "web");
	cr_expect_eq(c.update_weights.weight_infos[0].weight, 2.0);
	pb_operator_call_free(&c);

	s = "{\"type\":\"MARK_AGENT_GONE\",\"mark_agent_gone\":{\"agent_id\":{\"value\":\"S3\"}}}";
	cr_assert_eq(pb_operator_call_decode(s, strlen(s), &c, &err), 0, "%s", err.msg);
	cr_expect_str_eq(c.mark_agent_gone.agent_id, "S3");
	pb_operator_call_free(&c);

	s = "{\"type\":\"TEARDOWN\",\"teardown\":{\"framework_id\":{\"value\":\"F0\"}}}";
	cr_assert_eq(pb_operator_call_decode(s, strlen(s), &c, &err), 0, "%s", err.msg);
	cr_expect_str_eq(c.teardown.framework_id, "F0");
	pb_operator_call_free(&c);

	static const char *const plain[] = {"GET_HEALTH", "GET_VERSION",    "GET_STATE",
	                                    "GET_AGENTS", "GET_FRAMEWORKS", "GET_TASKS",
	                                    "GET_ROLES",  "GET_WEIGHTS",    "GET_MASTER",
	                                    "SUBSCRIBE",  "GET_QUOTA"};
	for (size_t i = 0; i < AG_ARRAY_SIZE(plain); i++) {
		char buf[64];
		snprintf(buf, sizeof(buf), "{\"type\":\"%s\"}", plain[i]);
		cr_assert_eq(pb_operator_call_decode(buf, strlen(buf), &c, &err), 0, "%s", err.msg);
		cr_expect_str_eq(pb_operator_call_type_name(c.type), plain[i]);
		pb_operator_call_free(&c);
	}

	s = "{\"type\":\"TEARDOWN\"}";
	cr_expect_eq(pb_operator_call_decode(s, strlen(s), &c, &err), -EINVAL);
	cr_expect_str_eq(err.msg, "Expecting 'teardown' to be present");
	s = "{\"type\":\"UPDATE_WEIGHTS\",\"update_weights\":{\"weight_infos\":[{\"role\":\"w\"}]}"
	    "}";
	cr_expect_eq(pb_operator_call_decode(s, strlen(s), &c, &err), -EINVAL);
	cr_expect_str_eq(err.msg, "Missing required fields: update_weights.weight_infos[0].weight");
	s = "{\"type\":16}";
	cr_expect_eq(pb_operator_call_decode(s, strlen(s), &c, &err), -EINVAL);
	cr_expect_str_eq(err.msg, "call.type: must be an enum name, not a number");
}

Test(proto_operator, maintenance_and_kill_task_decode)
{
	struct pb_operator_call c = {0};
	struct ag_error err = {0};
	const char *s =
	        "{\"type\":\"DRAIN_AGENT\",\"drain_agent\":{\"agent_id\":{\"value\":\"S3\"},"
	        "\"max_grace_period\":{\"seconds\":2,\"nanos\":500000000},"
	        "\"mark_gone\":true}}";
	cr_assert_eq(pb_operator_call_decode(s, strlen(s), &c, &err), 0, "%s", err.msg);
	cr_expect_eq(c.type, PB_OP_DRAIN_AGENT);
	cr_expect_str_eq(c.drain_agent.agent_id, "S3");
	cr_expect(c.drain_agent.has_max_grace);
	cr_expect_eq(c.drain_agent.max_grace_ns, 2500000000LL);
	cr_expect(c.drain_agent.mark_gone);
	pb_operator_call_free(&c);

	/* Everything but the agent is optional. */
	s = "{\"type\":\"DRAIN_AGENT\",\"drain_agent\":{\"agent_id\":{\"value\":\"S3\"}}}";
	cr_assert_eq(pb_operator_call_decode(s, strlen(s), &c, &err), 0, "%s", err.msg);
	cr_expect_not(c.drain_agent.has_max_grace);
	cr_expect_not(c.drain_agent.mark_gone);
	pb_operator_call_free(&c);

	s = "{\"type\":\"DEACTIVATE_AGENT\",\"deactivate_agent\":{\"agent_id\":{\"value\":\"S1\"}}"
	    "}";
	cr_assert_eq(pb_operator_call_decode(s, strlen(s), &c, &err), 0, "%s", err.msg);
	cr_expect_str_eq(c.deactivate_agent.agent_id, "S1");
	pb_operator_call_free(&c);
	s = "{\"type\":\"REACTIVATE_AGENT\",\"reactivate_agent\":{\"agent_id\":{\"value\":\"S2\"}}"
	    "}";
	cr_assert_eq(pb_operator_call_decode(s, strlen(s), &c, &err), 0, "%s", err.msg);
	cr_expect_str_eq(c.reactivate_agent.agent_id, "S2");
	pb_operator_call_free(&c);

	s = "{\"type\":\"KILL_TASK\",\"kill_task\":{\"task_id\":{\"value\":\"t1\"},"
	    "\"framework_id\":{\"value\":\"F0\"},\"agent_id\":{\"value\":\"S0\"},"
	    "\"kill_policy\":{\"grace_period\":{\"nanoseconds\":7}}}}";
	cr_assert_eq(pb_operator_call_decode(s, strlen(s), &c, &err), 0, "%s", err.msg);
	cr_expect_eq(c.type, PB_OP_KILL_TASK);
	cr_expect_str_eq(pb_operator_call_type_name(c.type), "KILL_TASK");
	cr_expect_str_eq(c.kill_task.task_id, "t1");
	cr_expect_str_eq(c.kill_task.framework_id, "F0");
	cr_expect_str_eq(c.kill_task.agent_id, "S0");
	cr_expect(c.kill_task.has_grace);
	cr_expect_eq(c.kill_task.grace_ns, 7);
	pb_operator_call_free(&c);
	s = "{\"type\":\"KILL_TASK\",\"kill_task\":{\"task_id\":{\"value\":\"t1\"}}}";
	cr_assert_eq(pb_operator_call_decode(s, strlen(s), &c, &err), 0, "%s", err.msg);
	cr_expect_null(c.kill_task.framework_id);
	cr_expect_null(c.kill_task.agent_id);
	cr_expect_not(c.kill_task.has_grace);
	pb_operator_call_free(&c);

	/* Refusals name the field. */
	static const struct {
		const char *body, *msg;
	} bad[] = {
	        {"{\"type\":\"DRAIN_AGENT\"}", "Expecting 'drain_agent' to be present"},
	        {"{\"type\":\"DEACTIVATE_AGENT\",\"deactivate_agent\":{}}", "agent_id"},
	        {"{\"type\":\"KILL_TASK\",\"kill_task\":{}}", "task_id"},
	        {"{\"type\":\"DRAIN_AGENT\",\"drain_agent\":{\"agent_id\":{\"value\":\"S\"},"
	         "\"max_grace_period\":{\"seconds\":1,\"nanos\":1000000000}}}",
	         "drain_agent.max_grace_period"},
	        {"{\"type\":\"DRAIN_AGENT\",\"drain_agent\":{\"agent_id\":{\"value\":\"S\"},"
	         "\"max_grace_period\":{\"seconds\":-1}}}",
	         "drain_agent.max_grace_period"},
	        {"{\"type\":\"DRAIN_AGENT\",\"drain_agent\":{\"agent_id\":{\"value\":\"S\"},"
	         "\"max_grace_period\":{\"seconds\":9223372036854775807}}}",
	         "drain_agent.max_grace_period"},
	        {"{\"type\":\"KILL_TASK\",\"kill_task\":{\"task_id\":{\"value\":\"t\"},"
	         "\"kill_policy\":{\"grace_period\":{\"nanoseconds\":-5}}}}",
	         "kill_task.kill_policy.grace_period.nanoseconds"},
	};
	for (size_t i = 0; i < AG_ARRAY_SIZE(bad); i++) {
		err.msg[0] = '\0';
		cr_expect_eq(pb_operator_call_decode(bad[i].body, strlen(bad[i].body), &c, &err),
		             -EINVAL, "%s", bad[i].body);
		cr_expect(strstr(err.msg, bad[i].msg), "`%s` not in `%s`", bad[i].msg, err.msg);
	}
}
