/* The lean decoders (pb_call_decode_lean, pb_agent_msg_decode_lean): the
 * plain forms of ACKNOWLEDGE and STATUS_UPDATE are read without a tree, and
 * for any input -- plain, unusual, broken -- the result and the error are
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

static void same_bytes(struct pb_bytes a, struct pb_bytes b, const char *what, const char *in)
{
	cr_assert_eq(a.len, b.len, "%s length\ninput: %s", what, in);
	cr_assert(a.len == 0 || memcmp(a.data, b.data, a.len) == 0, "%s\ninput: %s", what, in);
	cr_assert_eq(a.data == NULL, b.data == NULL, "%s presence\ninput: %s", what, in);
}

/* Decode `in` both ways, check they agree; returns whether the lean
 * decoder took its own path (no tree). */
static bool call_both(const char *in, size_t len)
{
	struct pb_call full = {0}, lean = {0};
	struct ag_error ef = {0}, el = {0};
	int rf = pb_call_decode(in, len, &full, &ef);
	int rl = pb_call_decode_lean(in, len, &lean, &el);
	cr_assert_eq(rl, rf, "rc %d vs %d\ninput: %.*s", rl, rf, (int)len, in);
	cr_assert_str_eq(el.msg, ef.msg, "error differs\ninput: %.*s", (int)len, in);
	bool fast = rl == 0 && lean.json == NULL;
	if (rf == 0) {
		cr_assert_eq(lean.type, full.type);
		same_str(lean.framework_id, full.framework_id, "framework_id", in);
		if (full.type == PB_CALL_ACKNOWLEDGE) {
			same_str(lean.acknowledge.agent_id, full.acknowledge.agent_id, "agent_id",
			         in);
			same_str(lean.acknowledge.task_id, full.acknowledge.task_id, "task_id", in);
			same_bytes(lean.acknowledge.uuid, full.acknowledge.uuid, "uuid", in);
		}
	}
	pb_call_free(&full);
	pb_call_free(&lean);
	return fast;
}

static void same_update(const struct pb_status_update *l, const struct pb_status_update *f,
                        const char *in)
{
	const struct pb_task_status *a = &l->status, *b = &f->status;
	same_str(l->framework_id, f->framework_id, "framework_id", in);
	same_str(l->status_text, f->status_text, "status_text", in);
	same_str(a->task_id, b->task_id, "task_id", in);
	cr_assert_eq(a->state, b->state);
	same_str(a->message, b->message, "message", in);
	cr_assert_eq(a->source, b->source);
	cr_assert_eq(a->reason, b->reason);
	same_bytes(a->data, b->data, "data", in);
	same_str(a->agent_id, b->agent_id, "status.agent_id", in);
	same_str(a->executor_id, b->executor_id, "executor_id", in);
	cr_assert_eq(a->has_timestamp, b->has_timestamp);
	cr_assert(a->timestamp == b->timestamp);
	same_bytes(a->uuid, b->uuid, "uuid", in);
	cr_assert_eq(a->has_healthy, b->has_healthy);
	cr_assert_eq(a->healthy, b->healthy);
	same_str(a->container_id, b->container_id, "container_id", in);
}

static bool agent_both(const char *in, size_t len)
{
	struct pb_agent_msg full = {0}, lean = {0};
	struct ag_error ef = {0}, el = {0};
	int rf = pb_agent_msg_decode(in, len, &full, &ef);
	int rl = pb_agent_msg_decode_lean(in, len, &lean, &el);
	cr_assert_eq(rl, rf, "rc %d vs %d\ninput: %.*s", rl, rf, (int)len, in);
	cr_assert_str_eq(el.msg, ef.msg, "error differs\ninput: %.*s", (int)len, in);
	bool fast = rl == 0 && lean.json == NULL;
	if (rf == 0) {
		cr_assert_eq(lean.type, full.type);
		same_str(lean.agent_id, full.agent_id, "agent_id", in);
		if (full.type == PB_AGENT_STATUS_UPDATE)
			same_update(&lean.status_update, &full.status_update, in);
		cr_assert_eq(lean.status_updates.n_updates, full.status_updates.n_updates);
		for (size_t i = 0; i < full.status_updates.n_updates; i++)
			same_update(&lean.status_updates.updates[i],
			            &full.status_updates.updates[i], in);
	}
	pb_agent_msg_free(&full);
	pb_agent_msg_free(&lean);
	return fast;
}

static const char ACK[] = "{\"type\":\"ACKNOWLEDGE\",\"framework_id\":{\"value\":\"F-1\"},"
                          "\"acknowledge\":{\"agent_id\":{\"value\":\"M-S0\"},\"task_id\":{"
                          "\"value\":\"t7\"},\"uuid\":\"MDEyMzQ1Njc4OWFiY2RlZg==\"}}";

static const char UPDATE[] =
        "{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":\"M-S0\"},\"status_update\":{"
        "\"framework_id\":{\"value\":\"F-1\"},\"status\":{\"task_id\":{\"value\":\"t7\"},"
        "\"state\":\"TASK_FAILED\",\"message\":\"exited 1\",\"source\":\"SOURCE_EXECUTOR\","
        "\"reason\":\"REASON_COMMAND_EXECUTOR_FAILED\",\"data\":\"aGk=\",\"agent_id\":{"
        "\"value\":\"M-S0\"},\"executor_id\":{\"value\":\"e\"},\"timestamp\":1700000000.123456,"
        "\"uuid\":\"MDEyMzQ1Njc4OWFiY2RlZg==\",\"healthy\":false,\"container_status\":{"
        "\"container_id\":{\"value\":\"c-1\"}}}}}";

Test(proto_lean, plain_acknowledge_is_read_without_a_tree)
{
	cr_assert(call_both(ACK, strlen(ACK)));
	/* Whitespace and another key order are plain too. */
	const char *spaced = "{ \"acknowledge\" : {\"uuid\":\"MDEyMzQ1Njc4OWFiY2RlZg==\", "
	                     "\"task_id\":{\"value\":\"t7\"},\"agent_id\":{\"value\":\"a\"}},\n"
	                     "\"framework_id\":{\"value\":\"F\"},\"type\":\"ACKNOWLEDGE\"}\n";
	cr_assert(call_both(spaced, strlen(spaced)));
}

Test(proto_lean, other_acknowledges_take_the_full_decoder_and_its_errors)
{
	static const char *const cases[] = {
	        /* escapes, unpadded base64, an unknown field, another call */
	        "{\"type\":\"ACKNOWLEDGE\",\"framework_id\":{\"value\":\"F\\u0031\"},"
	        "\"acknowledge\":{\"agent_id\":{\"value\":\"a\"},\"task_id\":{\"value\":\"t\"},"
	        "\"uuid\":\"MDEyMzQ1Njc4OWFiY2RlZg==\"}}",
	        "{\"type\":\"ACKNOWLEDGE\",\"framework_id\":{\"value\":\"F\"},\"acknowledge\":{"
	        "\"agent_id\":{\"value\":\"a\"},\"task_id\":{\"value\":\"t\"},\"uuid\":"
	        "\"MDEyMzQ1Njc4OWFiY2RlZg\"}}",
	        "{\"type\":\"ACKNOWLEDGE\",\"framework_id\":{\"value\":\"F\"},\"x\":1,"
	        "\"acknowledge\":{\"agent_id\":{\"value\":\"a\"},\"task_id\":{\"value\":\"t\"},"
	        "\"uuid\":\"MDEyMzQ1Njc4OWFiY2RlZg==\"}}",
	        "{\"type\":\"REVIVE\",\"framework_id\":{\"value\":\"F\"}}",
	        /* errors: a missing field, a bad uuid, a duplicate key, junk */
	        "{\"type\":\"ACKNOWLEDGE\",\"framework_id\":{\"value\":\"F\"},\"acknowledge\":{"
	        "\"agent_id\":{\"value\":\"a\"},\"uuid\":\"MDEyMzQ1Njc4OWFiY2RlZg==\"}}",
	        "{\"type\":\"ACKNOWLEDGE\",\"framework_id\":{\"value\":\"F\"},\"acknowledge\":{"
	        "\"agent_id\":{\"value\":\"a\"},\"task_id\":{\"value\":\"t\"},\"uuid\":\"%%%\"}}",
	        "{\"type\":\"ACKNOWLEDGE\",\"type\":\"ACKNOWLEDGE\",\"framework_id\":{\"value\":"
	        "\"F\"},\"acknowledge\":{\"agent_id\":{\"value\":\"a\"},\"task_id\":{\"value\":"
	        "\"t\"},\"uuid\":\"MDEyMzQ1Njc4OWFiY2RlZg==\"}}",
	        "{\"type\":\"ACKNOWLEDGE\"",
	        "",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert_not(call_both(cases[i], strlen(cases[i])), "case %zu was plain", i);
	/* The error still names the field. */
	struct pb_call c = {0};
	struct ag_error err = {0};
	cr_assert_eq(pb_call_decode_lean(cases[4], strlen(cases[4]), &c, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "Missing required fields: acknowledge.task_id");
}

static const char UPDATES[] =
        "{\"type\":\"STATUS_UPDATES\",\"agent_id\":{\"value\":\"M-S0\"},\"status_updates\":{"
        "\"updates\":[{\"framework_id\":{\"value\":\"F-1\"},\"status\":{\"task_id\":{"
        "\"value\":\"t7\"},\"state\":\"TASK_RUNNING\",\"uuid\":\"MDEyMzQ1Njc4OWFiY2RlZg==\"}},"
        "{\"status\":{\"task_id\":{\"value\":\"t8\"},\"state\":\"TASK_FINISHED\",\"timestamp\":"
        "1.5,\"uuid\":\"ZmVkY2JhOTg3NjU0MzIxMA==\"},\"framework_id\":{\"value\":\"F-2\"}}]}}";

Test(proto_lean, plain_status_updates_are_read_in_order)
{
	cr_assert(agent_both(UPDATES, strlen(UPDATES)));
	struct pb_agent_msg m = {0};
	struct ag_error err = {0};
	cr_assert_eq(pb_agent_msg_decode_lean(UPDATES, strlen(UPDATES), &m, &err), 0);
	cr_assert_eq(m.type, PB_AGENT_STATUS_UPDATES);
	cr_assert_eq(m.status_updates.n_updates, 2);
	cr_assert_str_eq(m.status_updates.updates[0].status.task_id, "t7");
	cr_assert_str_eq(m.status_updates.updates[1].framework_id, "F-2");
	cr_assert_str_eq(m.status_updates.updates[1].status_text,
	                 "{\"task_id\":{\"value\":\"t8\"},\"state\":\"TASK_FINISHED\","
	                 "\"timestamp\":1.5,\"uuid\":\"ZmVkY2JhOTg3NjU0MzIxMA==\"}");
	pb_agent_msg_free(&m);
	/* Empty, or one bad update: the full decoder's error, naming it. */
	const char *empty = "{\"type\":\"STATUS_UPDATES\",\"agent_id\":{\"value\":\"a\"},"
	                    "\"status_updates\":{\"updates\":[]}}";
	cr_assert_not(agent_both(empty, strlen(empty)));
	const char *bad =
	        "{\"type\":\"STATUS_UPDATES\",\"agent_id\":{\"value\":\"a\"},"
	        "\"status_updates\":{\"updates\":[{\"framework_id\":{\"value\":\"F\"},"
	        "\"status\":{\"task_id\":{\"value\":\"t\"},\"state\":\"TASK_RUNNING\","
	        "\"uuid\":\"MDEyMzQ1Njc4OWFiY2RlZg==\"}},{\"framework_id\":{\"value\":\"F\"},"
	        "\"status\":{\"task_id\":{\"value\":\"t\"},\"state\":\"TASK_RUNNING\","
	        "\"uuid\":\"aGk=\"}}]}}";
	cr_assert_not(agent_both(bad, strlen(bad)));
	cr_assert_eq(pb_agent_msg_decode_lean(bad, strlen(bad), &m, &err), -EINVAL);
	cr_assert_str_eq(err.msg,
	                 "message.status_updates.updates[1].status.uuid: must be 16 bytes");
}

Test(proto_lean, plain_status_update_is_its_own_normalized_text)
{
	cr_assert(agent_both(UPDATE, strlen(UPDATE)));
	struct pb_agent_msg m = {0};
	struct ag_error err = {0};
	cr_assert_eq(pb_agent_msg_decode_lean(UPDATE, strlen(UPDATE), &m, &err), 0);
	const char *st = strstr(UPDATE, "\"status\":{") + strlen("\"status\":");
	cr_assert_eq(strlen(m.status_update.status_text), strlen(st) - 2);
	cr_assert_eq(strncmp(m.status_update.status_text, st, strlen(st) - 2), 0);
	pb_agent_msg_free(&m);

	const char *minimal =
	        "{\"status_update\":{\"status\":{\"task_id\":{\"value\":\"t\"},\"state\":"
	        "\"TASK_RUNNING\",\"timestamp\":17.0,\"uuid\":\"MDEyMzQ1Njc4OWFiY2RlZg==\"},"
	        "\"framework_id\":{\"value\":\"F\"}},\"type\":\"STATUS_UPDATE\",\"agent_id\":{"
	        "\"value\":\"a\"}}";
	cr_assert(agent_both(minimal, strlen(minimal)));
}

Test(proto_lean, other_status_updates_take_the_full_decoder_and_its_errors)
{
	static const char *const cases[] = {
	        /* not canonical: field order, spaces, an integer timestamp, 17 digits,
	         * an exponent, an unknown enum, labels */
	        "{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":\"a\"},\"status_update\":{"
	        "\"framework_id\":{\"value\":\"F\"},\"status\":{\"state\":\"TASK_RUNNING\","
	        "\"task_id\":{\"value\":\"t\"},\"uuid\":\"MDEyMzQ1Njc4OWFiY2RlZg==\"}}}",
	        "{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":\"a\"},\"status_update\":{"
	        "\"framework_id\":{\"value\":\"F\"},\"status\":{\"task_id\": {\"value\":\"t\"},"
	        "\"state\":\"TASK_RUNNING\",\"uuid\":\"MDEyMzQ1Njc4OWFiY2RlZg==\"}}}",
	        "{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":\"a\"},\"status_update\":{"
	        "\"framework_id\":{\"value\":\"F\"},\"status\":{\"task_id\":{\"value\":\"t\"},"
	        "\"state\":\"TASK_RUNNING\",\"timestamp\":17,\"uuid\":"
	        "\"MDEyMzQ1Njc4OWFiY2RlZg==\"}}}",
	        "{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":\"a\"},\"status_update\":{"
	        "\"framework_id\":{\"value\":\"F\"},\"status\":{\"task_id\":{\"value\":\"t\"},"
	        "\"state\":\"TASK_RUNNING\",\"timestamp\":0.10000000000000001,\"uuid\":"
	        "\"MDEyMzQ1Njc4OWFiY2RlZg==\"}}}",
	        "{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":\"a\"},\"status_update\":{"
	        "\"framework_id\":{\"value\":\"F\"},\"status\":{\"task_id\":{\"value\":\"t\"},"
	        "\"state\":\"TASK_RUNNING\",\"timestamp\":1e300,\"uuid\":"
	        "\"MDEyMzQ1Njc4OWFiY2RlZg==\"}}}",
	        "{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":\"a\"},\"status_update\":{"
	        "\"framework_id\":{\"value\":\"F\"},\"status\":{\"task_id\":{\"value\":\"t\"},"
	        "\"state\":\"TASK_RUNNING\",\"source\":\"SOURCE_X\",\"uuid\":"
	        "\"MDEyMzQ1Njc4OWFiY2RlZg==\"}}}",
	        "{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":\"a\"},\"status_update\":{"
	        "\"framework_id\":{\"value\":\"F\"},\"status\":{\"task_id\":{\"value\":\"t\"},"
	        "\"state\":\"TASK_RUNNING\",\"uuid\":\"MDEyMzQ1Njc4OWFiY2RlZg==\",\"labels\":{"
	        "\"labels\":[{\"key\":\"k\"}]}}}}",
	        /* no agent_id: the master adds it */
	        "{\"type\":\"STATUS_UPDATE\",\"status_update\":{\"framework_id\":{\"value\":\"F\"},"
	        "\"status\":{\"task_id\":{\"value\":\"t\"},\"state\":\"TASK_RUNNING\",\"uuid\":"
	        "\"MDEyMzQ1Njc4OWFiY2RlZg==\"}}}",
	        /* errors: a short uuid, an unknown state, a missing state, junk */
	        "{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":\"a\"},\"status_update\":{"
	        "\"framework_id\":{\"value\":\"F\"},\"status\":{\"task_id\":{\"value\":\"t\"},"
	        "\"state\":\"TASK_RUNNING\",\"uuid\":\"aGk=\"}}}",
	        "{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":\"a\"},\"status_update\":{"
	        "\"framework_id\":{\"value\":\"F\"},\"status\":{\"task_id\":{\"value\":\"t\"},"
	        "\"state\":\"TASK_SLEEPY\",\"uuid\":\"MDEyMzQ1Njc4OWFiY2RlZg==\"}}}",
	        "{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":\"a\"},\"status_update\":{"
	        "\"framework_id\":{\"value\":\"F\"},\"status\":{\"task_id\":{\"value\":\"t\"},"
	        "\"uuid\":\"MDEyMzQ1Njc4OWFiY2RlZg==\"}}}",
	        "{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":\"a\"},\"status_update\":{",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert_not(agent_both(cases[i], strlen(cases[i])), "case %zu was plain", i);
	struct pb_agent_msg m = {0};
	struct ag_error err = {0};
	cr_assert_eq(pb_agent_msg_decode_lean(cases[8], strlen(cases[8]), &m, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "message.status_update.status.uuid: must be 16 bytes");
	cr_assert_eq(pb_agent_msg_decode_lean(cases[10], strlen(cases[10]), &m, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "Missing required fields: status_update.status.state");
}

/* Every one-byte change of the plain messages (a deterministic cousin of
 * the fuzzers' differential check): both decoders always agree. */
Test(proto_lean, every_one_byte_change_agrees_with_the_full_decoder)
{
	static const char repl[] = {'"', '\\', '{', '}', ',', ':', ' ',  '0',    '9',
	                            '.', 'e',  '-', 'a', 'A', '=', '\0', '\x7f', '\xc3'};
	const char *msgs[] = {ACK, UPDATE, UPDATES};
	size_t fast = 0;
	for (size_t k = 0; k < 3; k++) {
		size_t n = strlen(msgs[k]);
		char *buf = malloc(n + 1);
		for (size_t i = 0; i < n; i++) {
			for (size_t r = 0; r < sizeof(repl); r++) {
				memcpy(buf, msgs[k], n + 1);
				buf[i] = repl[r];
				fast += k == 0 ? call_both(buf, n) : agent_both(buf, n);
			}
			/* and the message cut here */
			fast += k == 0 ? call_both(msgs[k], i) : agent_both(msgs[k], i);
		}
		free(buf);
	}
	cr_assert_gt(fast, 100, "the plain path should take most value changes");
}

/* The agent builds a status in the table's order and adds the uuid last with
 * pb_status_set_uuid(): the text it sends is plain, read without a tree. */
Test(proto_lean, a_status_built_as_the_agent_builds_it_is_plain)
{
	json_t *st =
	        json_pack("{s:{s:s}, s:s, s:s, s:s, s:{s:s}, s:f, s:{s:{s:s}}}", "task_id", "value",
	                  "t1", "state", "TASK_RUNNING", "message", "started", "source",
	                  "SOURCE_EXECUTOR", "agent_id", "value", "A-S0", "timestamp",
	                  1700000000.25, "container_status", "container_id", "value", "c-9");
	pb_status_set_uuid(st, "MDEyMzQ1Njc4OWFiY2RlZg==");
	char *text = pb_json_dump(st, NULL);
	cr_assert(strstr(text, "\"uuid\":\"MDEyMzQ1Njc4OWFiY2RlZg==\",\"container_status\""), "%s",
	          text);
	char *msg = ag_asprintf("{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":\"A-S0\"},"
	                        "\"status_update\":{\"framework_id\":{\"value\":\"F\"},"
	                        "\"status\":%s}}",
	                        text);
	cr_assert(agent_both(msg, strlen(msg)), "not plain: %s", msg);
	struct pb_agent_msg m = {0};
	struct ag_error err = {0};
	cr_assert_eq(pb_agent_msg_decode_lean(msg, strlen(msg), &m, &err), 0);
	cr_assert_str_eq(m.status_update.status.container_id, "c-9");
	cr_assert_str_eq(m.status_update.status_text, text);
	pb_agent_msg_free(&m);
	free(msg);
	free(text);
	json_decref(st);
}
