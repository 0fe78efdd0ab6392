/* RLIM_INFINITY from the master to agora-run: the master hands rlimits
 * above int64 on as their digits (jansson holds int64 only), and the
 * agent's spec for the launcher has the bare number again, which
 * rt_spec_parse takes (containerizer/taskspec.c). */
#include "containerizer/taskspec.h"
#include "proto/proto.h"
#include "runtime/runtime.h"

#include <criterion/criterion.h>
#include <string.h>
#include <sys/resource.h>

static struct rt_spec *spec_of(const char *rlimits, char **ret_json)
{
	char *in = NULL;
	cr_assert_gt(asprintf(&in,
	                      "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"tmp\"},\"process\":{"
	                      "\"args\":[\"echo\",\"18446744073709551615\",\"unlimited\"],\"cwd\":"
	                      "\"/\",\"rlimits\":%s}}",
	                      rlimits),
	             0);
	struct ctz_ts_limits lim = {.pids_max = 16};
	struct ag_error err = {0};
	cr_assert_eq(ctz_ts_oci_spec_json(in, "/", &lim, "/sb", ret_json, &err), 0, "%s", err.msg);
	free(in);
	struct rt_spec *s = NULL;
	cr_assert_eq(rt_spec_parse(*ret_json, strlen(*ret_json), "/b", &s, &err), 0, "%s: %s",
	             err.msg, *ret_json);
	return s;
}

Test(agent_rlimits, rlim_infinity_as_digits_or_unlimited_reaches_the_launcher_as_a_number)
{
	char *json = NULL;
	struct rt_spec *s = spec_of("[{\"type\":\"RLIMIT_CORE\",\"soft\":\"unlimited\",\"hard\":"
	                            "\"18446744073709551615\"},{\"type\":\"RLIMIT_NOFILE\","
	                            "\"soft\":512,\"hard\":\"9223372036854775808\"}]",
	                            &json);
	cr_assert_eq(s->process.n_rlimits, 2);
	cr_expect_eq(s->process.rlimits[0].resource, RLIMIT_CORE);
	cr_expect_eq(s->process.rlimits[0].soft, (uint64_t)RLIM_INFINITY);
	cr_expect_eq(s->process.rlimits[0].hard, (uint64_t)RLIM_INFINITY);
	cr_expect_eq(s->process.rlimits[1].soft, 512);
	cr_expect_eq(s->process.rlimits[1].hard, 9223372036854775808ull);
	/* Strings elsewhere stay strings. */
	cr_expect_str_eq(s->process.args[1], "18446744073709551615");
	cr_expect_str_eq(s->process.args[2], "unlimited");
	cr_expect(strstr(json, "\"hard\":18446744073709551615") != NULL, "%s", json);
	rt_spec_free(s);
	free(json);
}

Test(agent_rlimits, what_the_master_hands_on_round_trips)
{
	/* The master's decoder and the agent's spec, end to end. */
	const char *text =
	        "{\"type\":\"RUN_TASK\",\"run_task\":{\"framework_info\":{\"user\":\"u\","
	        "\"name\":\"n\",\"id\":{\"value\":\"F\"}},\"task\":{\"name\":\"t\","
	        "\"task_id\":{\"value\":\"t\"},\"agent_id\":{\"value\":\"A\"},"
	        "\"container\":{\"type\":\"MESOS\",\"oci\":{\"ociVersion\":\"1.0.2\",\"root\":{"
	        "\"path\":\"tmp\"},"
	        "\"process\":{\"args\":[\"true\"],\"cwd\":\"/\",\"rlimits\":[{\"type\":"
	        "\"RLIMIT_AS\",\"soft\":18446744073709551615,\"hard\":"
	        "18446744073709551615}]}}}}}}";
	struct pb_agent_msg m = {0};
	struct ag_error err = {0};
	cr_assert_eq(pb_agent_msg_decode(text, strlen(text), &m, &err), 0, "%s", err.msg);
	char *oci = pb_json_dump(m.run_task.task.container->oci, NULL);
	struct ctz_ts_limits lim = {.pids_max = 16};
	char *json = NULL;
	cr_assert_eq(ctz_ts_oci_spec_json(oci, "/", &lim, "/sb", &json, &err), 0, "%s", err.msg);
	struct rt_spec *s = NULL;
	cr_assert_eq(rt_spec_parse(json, strlen(json), "/b", &s, &err), 0, "%s: %s", err.msg, json);
	cr_assert_eq(s->process.n_rlimits, 1);
	cr_expect_eq(s->process.rlimits[0].hard, (uint64_t)RLIM_INFINITY);
	rt_spec_free(s);
	free(json);
	free(oci);
	pb_agent_msg_free(&m);
}
