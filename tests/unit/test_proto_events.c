/* Encoded events, responses and agent messages against the exact JSON of
 * the reference, and their round trips through the decoders. */
#include "proto/proto.h"

#include <criterion/criterion.h>
#include <string.h>

static void expect_json(json_t *j, const char *expected)
{
	cr_assert_not_null(j);
	char *s = pb_json_dump(j, NULL);
	cr_expect_str_eq(s, expected);
	free(s);
	json_decref(j);
}

static const uint8_t uuid[16] = "0123456789abcdef";

static const struct pb_master_info master = {
        .id = "M1",
        .ip = 16842879,
        .port = 5050,
        .pid = "master@127.0.1.1:5050",
        .hostname = "m1",
        .version = "1.11.0",
        .address_ip = "127.0.1.1",
};

Test(proto_events, subscribed_with_heartbeat_interval)
{
	struct pb_event ev = {.type = PB_EVENT_SUBSCRIBED};
	ev.subscribed.framework_id = "F0";
	ev.subscribed.heartbeat_interval_seconds = 15;
	ev.subscribed.master_info = &master;
	expect_json(pb_event_to_json(&ev),
	            "{\"type\":\"SUBSCRIBED\",\"subscribed\":{\"framework_id\":{\"value\":\"F0\"},"
	            "\"heartbeat_interval_seconds\":15.0,\"master_info\":{\"id\":\"M1\",\"ip\":"
	            "16842879,\"port\":5050,\"pid\":\"master@127.0.1.1:5050\",\"hostname\":\"m1\","
	            "\"version\":\"1.11.0\",\"address\":{\"hostname\":\"m1\",\"ip\":\"127.0.1.1\","
	            "\"port\":5050}}}}");
}

static const struct pb_resource offer_res[] = {
        {.name = "cpus", .type = PB_VALUE_SCALAR, .scalar_milli = 4000, .allocation_role = "web"},
        {.name = "ports",
         .type = PB_VALUE_RANGES,
         .ranges = (const struct pb_range[]){{31000, 32000}},
         .n_ranges = 1,
         .allocation_role = "web"},
};
static const struct pb_attribute offer_attr[] = {
        {.name = "rack", .type = PB_VALUE_TEXT, .text = "r1"},
};
static const struct pb_offer offer = {
        .id = "O7",
        .framework_id = "F0",
        .agent_id = "S0",
        .hostname = "a1",
        .url_ip = "10.0.0.5",
        .url_port = 5051,
        .url_path = "/slave(1)",
        .resources = offer_res,
        .n_resources = 2,
        .attributes = offer_attr,
        .n_attributes = 1,
        .allocation_role = "web",
};

#define OFFERS_JSON                                                                                \
	"{\"type\":\"OFFERS\",\"offers\":{\"offers\":[{\"id\":{\"value\":\"O7\"},\"framework_"     \
	"id\":"                                                                                    \
	"{\"value\":\"F0\"},\"agent_id\":{\"value\":\"S0\"},\"hostname\":\"a1\",\"url\":{"         \
	"\"scheme\":"                                                                              \
	"\"http\",\"address\":{\"hostname\":\"a1\",\"ip\":\"10.0.0.5\",\"port\":5051},\"path\":"   \
	"\"/slave(1)\"},\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{"        \
	"\"value\":4.0},\"role\":\"*\",\"allocation_info\":{\"role\":\"web\"}},{\"name\":"         \
	"\"ports\",\"type\":\"RANGES\",\"ranges\":{\"range\":[{\"begin\":31000,\"end\":32000}]},"  \
	"\"role\":\"*\",\"allocation_info\":{\"role\":\"web\"}}],\"attributes\":[{\"name\":"       \
	"\"rack\",\"type\":\"TEXT\",\"text\":{\"value\":\"r1\"}}],\"allocation_info\":{\"role\":"  \
	"\"web\"}}]}}"

Test(proto_events, offers_as_in_the_reference)
{
	struct pb_event ev = {.type = PB_EVENT_OFFERS};
	ev.offers.offers = &offer;
	ev.offers.n_offers = 1;
	ev.offers.res_flags = PB_RES_ALLOCATION_INFO;
	expect_json(pb_event_to_json(&ev), OFFERS_JSON);

	/* Without MULTI_ROLE: no allocation_info anywhere. */
	ev.offers.res_flags = 0;
	char *s = pb_event_encode(&ev, NULL);
	cr_expect_null(strstr(s, "allocation_info"));
	free(s);
}

Test(proto_events, offers_decode_for_clients)
{
	struct pb_event ev;
	struct ag_error err = {0};
	cr_assert_eq(pb_event_decode(OFFERS_JSON, strlen(OFFERS_JSON), &ev, &err), 0, "%s",
	             err.msg);
	cr_assert_eq(ev.type, PB_EVENT_OFFERS);
	cr_assert_eq(ev.offers.n_offers, 1);
	const struct pb_offer *o = &ev.offers.offers[0];
	cr_expect_str_eq(o->id, "O7");
	cr_expect_str_eq(o->url_ip, "10.0.0.5");
	cr_assert_eq(o->n_resources, 2);
	cr_expect_eq(o->resources[0].scalar_milli, 4000);
	cr_expect_eq(o->resources[1].ranges[0].end, 32000);
	cr_expect_null(pb_resource_reserved_role(&o->resources[0]));
	cr_expect_str_eq(o->attributes[0].text, "r1");
	cr_expect_str_eq(o->allocation_role, "web");
	/* Re-encoding the decoded offer gives the same text. */
	struct pb_event again = {.type = PB_EVENT_OFFERS};
	again.offers.offers = ev.offers.offers;
	again.offers.n_offers = 1;
	again.offers.res_flags = PB_RES_ALLOCATION_INFO;
	expect_json(pb_event_to_json(&again), OFFERS_JSON);
	pb_event_free(&ev);
}

#define UPDATE_JSON                                                                                \
	"{\"type\":\"UPDATE\",\"update\":{\"status\":{\"task_id\":{\"value\":\"t1\"},\"state\":"   \
	"\"TASK_FAILED\",\"message\":\"Command exited with status 1\",\"source\":"                 \
	"\"SOURCE_EXECUTOR\",\"agent_id\":{\"value\":\"S0\"},\"executor_id\":{\"value\":\"t1\"},"  \
	"\"timestamp\":1700000000.25,\"uuid\":\"MDEyMzQ1Njc4OWFiY2RlZg==\",\"container_status\":{" \
	"\"container_id\":{\"value\":\"c9\"},\"executor_pid\":4242}}}}"

Test(proto_events, update_with_base64_uuid)
{
	struct pb_event ev = {.type = PB_EVENT_UPDATE};
	ev.update.status = (struct pb_task_status){
	        .task_id = "t1",
	        .state = PB_TASK_FAILED,
	        .message = "Command exited with status 1",
	        .source = PB_SOURCE_EXECUTOR,
	        .agent_id = "S0",
	        .executor_id = "t1",
	        .has_timestamp = true,
	        .timestamp = 1700000000.25,
	        .uuid = {uuid, 16},
	        .container_id = "c9",
	        .executor_pid = 4242,
	};
	expect_json(pb_event_to_json(&ev), UPDATE_JSON);

	struct pb_event d;
	struct ag_error err = {0};
	cr_assert_eq(pb_event_decode(UPDATE_JSON, strlen(UPDATE_JSON), &d, &err), 0, "%s", err.msg);
	cr_expect_eq(d.update.status.state, PB_TASK_FAILED);
	cr_expect_eq(d.update.status.source, PB_SOURCE_EXECUTOR);
	cr_assert_eq(d.update.status.uuid.len, 16);
	cr_expect_eq(memcmp(d.update.status.uuid.data, uuid, 16), 0);
	cr_expect_eq(d.update.status.timestamp, 1700000000.25);
	cr_expect_str_eq(d.update.status.container_id, "c9");
	cr_expect_eq(d.update.status.executor_pid, 4242);
	pb_event_free(&d);
}

Test(proto_events, other_scheduler_events)
{
	struct pb_event ev = {.type = PB_EVENT_RESCIND};
	ev.rescind.offer_id = "O7";
	expect_json(pb_event_to_json(&ev),
	            "{\"type\":\"RESCIND\",\"rescind\":{\"offer_id\":{\"value\":\"O7\"}}}");
	ev = (struct pb_event){.type = PB_EVENT_MESSAGE};
	ev.message.agent_id = "S0";
	ev.message.executor_id = "e1";
	ev.message.data = (struct pb_bytes){(const uint8_t *)"hi", 2};
	expect_json(pb_event_to_json(&ev),
	            "{\"type\":\"MESSAGE\",\"message\":{\"agent_id\":{\"value\":\"S0\"},"
	            "\"executor_id\":{\"value\":\"e1\"},\"data\":\"aGk=\"}}");
	ev = (struct pb_event){.type = PB_EVENT_FAILURE};
	ev.failure.agent_id = "S0";
	ev.failure.executor_id = "e1";
	ev.failure.has_status = true;
	ev.failure.status = 256;
	expect_json(pb_event_to_json(&ev),
	            "{\"type\":\"FAILURE\",\"failure\":{\"agent_id\":{\"value\":\"S0\"},"
	            "\"executor_id\":{\"value\":\"e1\"},\"status\":256}}");
	ev = (struct pb_event){.type = PB_EVENT_ERROR};
	ev.error.message = "Framework has been removed";
	expect_json(pb_event_to_json(&ev),
	            "{\"type\":\"ERROR\",\"error\":{\"message\":\"Framework has been removed\"}}");
	ev = (struct pb_event){.type = PB_EVENT_HEARTBEAT};
	expect_json(pb_event_to_json(&ev), "{\"type\":\"HEARTBEAT\"}");

	/* Each decodes back to the same text. */
	static const char *const texts[] = {
	        "{\"type\":\"RESCIND\",\"rescind\":{\"offer_id\":{\"value\":\"O7\"}}}",
	        "{\"type\":\"MESSAGE\",\"message\":{\"agent_id\":{\"value\":\"S0\"},\"executor_"
	        "id\":"
	        "{\"value\":\"e1\"},\"data\":\"aGk=\"}}",
	        "{\"type\":\"FAILURE\",\"failure\":{\"agent_id\":{\"value\":\"S0\"},\"executor_"
	        "id\":"
	        "{\"value\":\"e1\"},\"status\":256}}",
	        "{\"type\":\"ERROR\",\"error\":{\"message\":\"Framework has been removed\"}}",
	        "{\"type\":\"HEARTBEAT\"}",
	};
	for (size_t i = 0; i < AG_ARRAY_SIZE(texts); i++) {
		struct pb_event d;
		struct ag_error err = {0};
		cr_assert_eq(pb_event_decode(texts[i], strlen(texts[i]), &d, &err), 0, "%s",
		             err.msg);
		expect_json(pb_event_to_json(&d), texts[i]);
		pb_event_free(&d);
	}
}

Test(proto_events, non_ascii_is_escaped)
{
	struct pb_event ev = {.type = PB_EVENT_ERROR};
	ev.error.message = "caf\xc3\xa9";
	char *s = pb_event_encode(&ev, NULL);
	cr_expect_str_eq(s, "{\"type\":\"ERROR\",\"error\":{\"message\":\"caf\\u00E9\"}}");
	free(s);
}

Test(proto_events, resource_formats)
{
	struct pb_reservation resv = {
	        .type = PB_RESERVATION_DYNAMIC, .role = "eng", .principal = "p"};
	struct pb_resource r = {.name = "mem",
	                        .type = PB_VALUE_SCALAR,
	                        .scalar_milli = 64500,
	                        .reservations = &resv,
	                        .n_reservations = 1};
	expect_json(pb_resource_to_json(&r, 0),
	            "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":64.5},\"role\":"
	            "\"eng\",\"reservation\":{\"principal\":\"p\"}}");
	expect_json(
	        pb_resource_to_json(&r, PB_RES_REFINED),
	        "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":64.5},"
	        "\"reservations\":[{\"type\":\"DYNAMIC\",\"role\":\"eng\",\"principal\":\"p\"}]}");
	expect_json(
	        pb_resource_to_json(&r, PB_RES_OPERATOR),
	        "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":64.5},\"role\":"
	        "\"eng\",\"reservations\":[{\"type\":\"DYNAMIC\",\"role\":\"eng\",\"principal\":"
	        "\"p\"}]}");
	struct pb_resource s = {.name = "cpus", .type = PB_VALUE_SCALAR, .scalar_milli = 100};
	expect_json(pb_resource_to_json(&s, 0), "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":"
	                                        "{\"value\":0.1},\"role\":\"*\"}");
}

Test(proto_operator, responses_and_events)
{
	expect_json(pb_operator_response(PB_OP_GET_HEALTH, json_pack("{s:b}", "healthy", 1)),
	            "{\"type\":\"GET_HEALTH\",\"get_health\":{\"healthy\":true}}");
	struct pb_task_status st = {.task_id = "t1",
	                            .state = PB_TASK_RUNNING,
	                            .agent_id = "S0",
	                            .has_timestamp = true,
	                            .timestamp = 1700000001.0};
	json_t *p = json_object();
	json_object_set_new(p, "framework_id", pb_id_to_json("F0"));
	json_object_set_new(p, "status", pb_task_status_to_json(&st));
	json_object_set_new(p, "state", json_string(pb_task_state_name(PB_TASK_RUNNING)));
	expect_json(pb_operator_event(PB_OPEV_TASK_UPDATED, p),
	            "{\"type\":\"TASK_UPDATED\",\"task_updated\":{\"framework_id\":{\"value\":"
	            "\"F0\"},\"status\":{\"task_id\":{\"value\":\"t1\"},\"state\":\"TASK_RUNNING\","
	            "\"agent_id\":{\"value\":\"S0\"},\"timestamp\":1700000001.0},\"state\":"
	            "\"TASK_RUNNING\"}}");
	expect_json(pb_operator_event(PB_OPEV_HEARTBEAT, NULL), "{\"type\":\"HEARTBEAT\"}");

	struct pb_resource cpus = {.name = "cpus", .type = PB_VALUE_SCALAR, .scalar_milli = 4000};
	struct pb_agent_info ai = {
	        .hostname = "a1", .port = 5051, .resources = &cpus, .n_resources = 1, .id = "S0"};
	json_t *agent = json_object();
	json_object_set_new(agent, "agent_info", pb_agent_info_to_json(&ai, PB_RES_OPERATOR));
	json_object_set_new(agent, "active", json_true());
	json_object_set_new(agent, "version", json_string("1.11.0"));
	json_object_set_new(agent, "registered_time", pb_time_to_json(1700000000000000000LL));
	expect_json(pb_operator_response(PB_OP_GET_AGENTS, json_pack("{s:[o]}", "agents", agent)),
	            "{\"type\":\"GET_AGENTS\",\"get_agents\":{\"agents\":[{\"agent_info\":{"
	            "\"hostname\":\"a1\",\"port\":5051,\"resources\":[{\"name\":\"cpus\",\"type\":"
	            "\"SCALAR\",\"scalar\":{\"value\":4.0},\"role\":\"*\"}],\"id\":{\"value\":"
	            "\"S0\"}},\"active\":true,\"version\":\"1.11.0\",\"registered_time\":{"
	            "\"nanoseconds\":1700000000000000000}}]}}");

	struct pb_task t = {.name = "t1",
	                    .task_id = "t1",
	                    .framework_id = "F0",
	                    .agent_id = "S0",
	                    .state = PB_TASK_RUNNING,
	                    .statuses = &st,
	                    .n_statuses = 1,
	                    .status_update_state = PB_TASK_RUNNING,
	                    .status_update_uuid = {uuid, 16}};
	expect_json(pb_task_to_json(&t),
	            "{\"name\":\"t1\",\"task_id\":{\"value\":\"t1\"},\"framework_id\":{\"value\":"
	            "\"F0\"},\"agent_id\":{\"value\":\"S0\"},\"state\":\"TASK_RUNNING\","
	            "\"statuses\":[{\"task_id\":{\"value\":\"t1\"},\"state\":\"TASK_RUNNING\","
	            "\"agent_id\":{\"value\":\"S0\"},\"timestamp\":1700000001.0}],"
	            "\"status_update_state\":\"TASK_RUNNING\",\"status_update_uuid\":"
	            "\"MDEyMzQ1Njc4OWFiY2RlZg==\"}");
}

Test(proto_events, framework_info_round_trips)
{
	const char *roles[] = {"web", "batch"};
	struct pb_framework_info fi = {
	        .user = "root",
	        .name = "fw",
	        .id = "F0",
	        .failover_timeout = 604800,
	        .checkpoint = true,
	        .roles = roles,
	        .n_roles = 2,
	        .capabilities = PB_CAP_BIT(PB_CAP_MULTI_ROLE) | PB_CAP_BIT(PB_CAP_PARTITION_AWARE),
	};
	json_t *j = pb_framework_info_to_json(&fi);
	struct pb_arena *a = pb_arena_new();
	struct pb_framework_info back;
	struct ag_error err = {0};
	cr_assert_eq(pb_framework_info_decode(a, j, "framework_info", &back, &err), 0, "%s",
	             err.msg);
	cr_expect_str_eq(back.id, "F0");
	cr_expect_eq(back.capabilities, fi.capabilities);
	cr_expect_eq(back.n_roles, 2);
	cr_expect_str_eq(back.roles[1], "batch");
	cr_expect(back.checkpoint);
	json_decref(j);
	pb_arena_free(a);
}
