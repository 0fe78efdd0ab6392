/* The agent protocol: every message encodes and decodes back. */
#include "proto/proto.h"

#include <criterion/criterion.h>
#include <string.h>

static const uint8_t uuid[16] = "0123456789abcdef";

/* Encode, decode, re-encode: the two texts must match. */
static void round_trip(const struct pb_agent_msg *m, struct pb_agent_msg *ret)
{
	size_t len;
	char *s = pb_agent_msg_encode(m, &len);
	cr_assert_not_null(s);
	struct ag_error err = {0};
	cr_assert_eq(pb_agent_msg_decode(s, len, ret, &err), 0, "%s\n%s", err.msg, s);
	cr_expect_eq(ret->type, m->type);
	char *again = pb_agent_msg_encode(ret, NULL);
	cr_expect_str_eq(again, s);
	free(again);
	free(s);
}

static json_t *task_json(void)
{
	const char *t = "{\"name\":\"t\",\"task_id\":{\"value\":\"t1\"},\"agent_id\":{\"value\":"
	                "\"S0\"},\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":"
	                "{\"value\":0.5}}],\"command\":{\"value\":\"sleep 1\"}}";
	return json_loads(t, 0, NULL);
}

Test(proto_agent, register_and_reregister)
{
	struct pb_arena *a = pb_arena_new();
	struct ag_error err = {0};
	json_t *tj = task_json();
	struct pb_task_info task;
	cr_assert_eq(pb_task_info_decode(a, tj, "task", &task, &err), 0, "%s", err.msg);
	json_decref(tj);

	struct pb_resource res[] = {
	        {.name = "cpus", .type = PB_VALUE_SCALAR, .scalar_milli = 2000},
	        {.name = "ports",
	         .type = PB_VALUE_RANGES,
	         .ranges = (const struct pb_range[]){{31000, 32000}},
	         .n_ranges = 1},
	};
	struct pb_attribute attr = {.name = "rack", .type = PB_VALUE_TEXT, .text = "r1"};
	struct pb_framework_info fw = {.user = "u", .name = "n", .id = "F0"};
	struct pb_agent_task at = {
	        .framework_id = "F0",
	        .task = task,
	        .status = {.task_id = "t1",
	                   .state = PB_TASK_RUNNING,
	                   .source = PB_SOURCE_EXECUTOR,
	                   .uuid = {uuid, 16}},
	        .has_unacknowledged = true,
	};
	struct pb_agent_msg m = {.type = PB_AGENT_REREGISTER, .agent_id = "S0"};
	m.reg.agent_info = (struct pb_agent_info){.hostname = "a1",
	                                          .port = 5051,
	                                          .resources = res,
	                                          .n_resources = 2,
	                                          .attributes = &attr,
	                                          .n_attributes = 1,
	                                          .id = "S0"};
	m.reg.version = "0.1.0";
	m.reg.unisolated = true;
	m.reg.frameworks = &fw;
	m.reg.n_frameworks = 1;
	m.reg.tasks = &at;
	m.reg.n_tasks = 1;
	struct pb_agent_msg d;
	round_trip(&m, &d);
	cr_expect_str_eq(d.agent_id, "S0");
	cr_expect_str_eq(d.reg.agent_info.hostname, "a1");
	cr_expect_eq(d.reg.agent_info.n_resources, 2);
	cr_expect_eq(d.reg.agent_info.resources[0].scalar_milli, 2000);
	cr_expect(d.reg.unisolated);
	cr_assert_eq(d.reg.n_tasks, 1);
	cr_expect_str_eq(d.reg.tasks[0].task.task_id, "t1");
	cr_expect_eq(d.reg.tasks[0].task.resources[0].scalar_milli, 500);
	cr_expect_eq(d.reg.tasks[0].status.state, PB_TASK_RUNNING);
	cr_expect(d.reg.tasks[0].has_unacknowledged);
	cr_expect_str_eq(d.reg.frameworks[0].id, "F0");
	pb_agent_msg_free(&d);

	m.type = PB_AGENT_REGISTER;
	m.agent_id = NULL;
	m.reg.n_tasks = 0;
	round_trip(&m, &d);
	cr_expect_null(d.agent_id);
	pb_agent_msg_free(&d);
	pb_arena_free(a);
}

Test(proto_agent, registration_order_is_optional_and_typed)
{
	struct pb_agent_msg m = {.type = PB_AGENT_REREGISTER, .agent_id = "S0"};
	m.reg.agent_info = (struct pb_agent_info){.hostname = "a1", .id = "S0"};
	m.reg.has_order = true;
	m.reg.order = (struct pb_registration_order){1700000000123456789ULL, 3};
	struct pb_agent_msg d;
	round_trip(&m, &d);
	cr_expect(d.reg.has_order);
	cr_expect_eq(d.reg.order.agent_started_ns, 1700000000123456789ULL);
	cr_expect_eq(d.reg.order.seq, 3);
	pb_agent_msg_free(&d);

	/* Absent: no order, as from an agent older than the field. */
	m.reg.has_order = false;
	round_trip(&m, &d);
	cr_expect_not(d.reg.has_order);
	pb_agent_msg_free(&d);

	/* Integers as strings are integers (stout). */
	struct ag_error err = {0};
	const char *s = "{\"type\":\"REGISTER\",\"register\":{\"agent_info\":{\"hostname\":\"a\"},"
	                "\"registration_order\":{\"agent_started_ns\":\"5\",\"seq\":1}}}";
	cr_assert_eq(pb_agent_msg_decode(s, strlen(s), &d, &err), 0, "%s", err.msg);
	cr_expect(d.reg.has_order);
	cr_expect_eq(d.reg.order.agent_started_ns, 5);
	cr_expect_eq(d.reg.order.seq, 1);
	pb_agent_msg_free(&d);

	static const struct {
		const char *order, *msg;
	} bad[] = {
	        {"{\"agent_started_ns\":5,\"seq\":\"x\"}",
	         "message.reregister.registration_order.seq: must be an integer"},
	        {"{\"agent_started_ns\":5,\"seq\":1.5}",
	         "message.reregister.registration_order.seq: must be an integer"},
	        {"{\"agent_started_ns\":-5,\"seq\":1}",
	         "message.reregister.registration_order.agent_started_ns: must not be negative"},
	        {"{\"agent_started_ns\":true,\"seq\":1}",
	         "message.reregister.registration_order.agent_started_ns: must be an integer"},
	        {"[1,2]", "message.reregister.registration_order: must be an object"},
	        {"{\"seq\":1}", "Missing required fields: reregister.registration_order."
	                        "agent_started_ns"},
	        {"{\"agent_started_ns\":5}", "Missing required fields: reregister."
	                                     "registration_order.seq"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *body = NULL;
		cr_assert_geq(asprintf(&body,
		                       "{\"type\":\"REREGISTER\",\"agent_id\":{\"value\":\"S0\"},"
		                       "\"reregister\":{\"agent_info\":{\"hostname\":\"a\"},"
		                       "\"registration_order\":%s}}",
		                       bad[i].order),
		              0);
		err = (struct ag_error){0};
		cr_expect_eq(pb_agent_msg_decode(body, strlen(body), &d, &err), -EINVAL, "%s",
		             bad[i].order);
		cr_expect_str_eq(err.msg, bad[i].msg);
		free(body);
	}
}

Test(proto_agent, registration_order_compares_start_then_seq)
{
	struct pb_registration_order a = {100, 2}, b = {100, 3}, c = {101, 1};
	cr_expect_eq(pb_registration_order_cmp(&a, &b), -1);
	cr_expect_eq(pb_registration_order_cmp(&b, &a), 1);
	cr_expect_eq(pb_registration_order_cmp(&a, &a), 0);
	/* A newer process is newer whatever its count. */
	cr_expect_eq(pb_registration_order_cmp(&b, &c), -1);
	cr_expect_eq(pb_registration_order_cmp(&c, &b), 1);
}

Test(proto_agent, master_to_agent_messages)
{
	struct pb_agent_msg d;
	struct pb_agent_msg m = {.type = PB_AGENT_REGISTERED};
	struct pb_master_info mi = {.id = "M", .ip = 1, .port = 5050};
	m.registered.agent_id = "S0";
	m.registered.heartbeat_interval_seconds = 5;
	m.registered.master_info = &mi;
	round_trip(&m, &d);
	cr_expect_str_eq(d.registered.agent_id, "S0");
	cr_expect_eq(d.registered.heartbeat_interval_seconds, 5.0);
	cr_expect_str_eq(d.registered.master_info->id, "M");
	pb_agent_msg_free(&d);

	struct pb_arena *a = pb_arena_new();
	json_t *tj = task_json();
	struct ag_error err = {0};
	m = (struct pb_agent_msg){.type = PB_AGENT_RUN_TASK};
	cr_assert_eq(pb_task_info_decode(a, tj, "task", &m.run_task.task, &err), 0);
	json_decref(tj);
	m.run_task.framework_info =
	        (struct pb_framework_info){.user = "u", .name = "n", .id = "F0"};
	round_trip(&m, &d);
	cr_expect_str_eq(d.run_task.framework_info.id, "F0");
	cr_expect_str_eq(d.run_task.task.command->value, "sleep 1");
	pb_agent_msg_free(&d);
	pb_arena_free(a);

	m = (struct pb_agent_msg){.type = PB_AGENT_KILL_TASK};
	m.kill_task.framework_id = "F0";
	m.kill_task.task_id = "t1";
	m.kill_task.has_grace = true;
	m.kill_task.grace_ns = 3000000000LL;
	round_trip(&m, &d);
	cr_expect_eq(d.kill_task.grace_ns, 3000000000LL);
	pb_agent_msg_free(&d);

	m = (struct pb_agent_msg){.type = PB_AGENT_STATUS_UPDATE_ACK};
	m.status_update_ack.framework_id = "F0";
	m.status_update_ack.task_id = "t1";
	m.status_update_ack.uuid = (struct pb_bytes){uuid, 16};
	round_trip(&m, &d);
	cr_expect_eq(memcmp(d.status_update_ack.uuid.data, uuid, 16), 0);
	pb_agent_msg_free(&d);

	m = (struct pb_agent_msg){.type = PB_AGENT_SHUTDOWN_FRAMEWORK};
	m.shutdown_framework.framework_id = "F0";
	round_trip(&m, &d);
	cr_expect_str_eq(d.shutdown_framework.framework_id, "F0");
	pb_agent_msg_free(&d);

	m = (struct pb_agent_msg){.type = PB_AGENT_ERROR};
	m.error.message = "agent was marked gone";
	round_trip(&m, &d);
	pb_agent_msg_free(&d);

	m = (struct pb_agent_msg){.type = PB_AGENT_HEARTBEAT, .agent_id = "S0"};
	round_trip(&m, &d);
	pb_agent_msg_free(&d);
}

Test(proto_agent, status_updates_need_a_16_byte_uuid)
{
	struct pb_agent_msg d;
	struct pb_agent_msg m = {.type = PB_AGENT_STATUS_UPDATE, .agent_id = "S0"};
	m.status_update.framework_id = "F0";
	m.status_update.status = (struct pb_task_status){.task_id = "t1",
	                                                 .state = PB_TASK_RUNNING,
	                                                 .source = PB_SOURCE_EXECUTOR,
	                                                 .agent_id = "S0",
	                                                 .uuid = {uuid, 16}};
	round_trip(&m, &d);
	cr_expect_eq(d.status_update.status.uuid.len, 16);
	pb_agent_msg_free(&d);

	const char *s =
	        "{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":\"S0\"},"
	        "\"status_update\":{\"framework_id\":{\"value\":\"F0\"},\"status\":{"
	        "\"task_id\":{\"value\":\"t1\"},\"state\":\"TASK_RUNNING\",\"uuid\":\"aGk=\"}}}";
	struct ag_error err = {0};
	cr_expect_eq(pb_agent_msg_decode(s, strlen(s), &d, &err), -EINVAL);
	cr_expect_str_eq(err.msg, "message.status_update.status.uuid: must be 16 bytes");
	s = "{\"type\":\"STATUS_UPDATE\"}";
	cr_expect_eq(pb_agent_msg_decode(s, strlen(s), &d, &err), -EINVAL);
	cr_expect_str_eq(err.msg, "Expecting 'status_update' to be present");
	s = "{\"type\":\"REGISTER\",\"register\":{\"agent_info\":{\"resources\":[{\"name\":\"x\"}]}"
	    "}}";
	cr_expect_eq(pb_agent_msg_decode(s, strlen(s), &d, &err), -EINVAL);
	cr_expect_str_eq(err.msg, "Missing required fields: register.agent_info.hostname, "
	                          "register.agent_info.resources[0].type");
}

/* Found by fuzz_agent: a RUN_TASK whose FrameworkInfo has no id (optional
 * in a FrameworkInfo) reached the agent, which keys tasks by it (strcmp of
 * NULL). The decoder refuses it, naming the field. */
Test(proto_agent, run_task_needs_the_frameworks_id)
{
	struct pb_agent_msg d;
	struct ag_error err = {0};
	const char *s = "{\"type\":\"RUN_TASK\",\"run_task\":{\"framework_info\":{\"user\":\"u\","
	                "\"name\":\"fw\"},\"task\":{\"name\":\"t\",\"task_id\":{\"value\":\"t1\"},"
	                "\"agent_id\":{\"value\":\"S0\"},\"command\":{\"value\":\"true\"}}}}";
	cr_expect_eq(pb_agent_msg_decode(s, strlen(s), &d, &err), -EINVAL);
	cr_expect_str_eq(err.msg, "Missing required fields: run_task.framework_info.id");
}
