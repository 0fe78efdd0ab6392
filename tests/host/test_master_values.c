/* Host tests of issue 12's "ids are data" and "values are sane" against
 * agora-master as a process (tests/lib/master_sim.h): ids that read as
 * syntax, impossible resources and tasks that use nothing are refused,
 * naming the field; RLIM_INFINITY is taken where the launcher takes it. */
#include "agtest.h"
#include "common/common.h"
#include "master_sim.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

TestSuite(values, .init = sim_init, .fini = sim_fini, .timeout = 60);

#define JSON_HEADERS "Content-Type: application/json\r\n"

/* POST `body` to `path` on a connection of its own: the status, the body
 * in *ret_body (malloc'ed). */
static int post(const char *path, const char *body, char **ret_body)
{
	struct mc_response r = {0};
	cr_assert_eq(mc_request(sim_port, "POST", path, JSON_HEADERS, body, &r), 0);
	int status = r.status;
	*ret_body = strdup(r.body ? r.body : "");
	mc_response_free(&r);
	return status;
}

static size_t agents_listed(void)
{
	int status = 0;
	json_t *j = sim_op_call("{\"type\":\"GET_AGENTS\"}", &status, NULL, 0);
	cr_assert_eq(status, 200);
	size_t n = json_array_size(sim_jget(j, "get_agents.agents"));
	json_decref(j);
	return n;
}

/* ---- ids ------------------------------------------------------------------ */

Test(values, subscribe_with_a_quote_in_the_framework_id_is_refused_naming_the_field)
{
	sim_start_master(NULL, 0);
	char *body = NULL;
	int status = post("/api/v1/scheduler",
	                  "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":"
	                  "\"nobody\",\"name\":\"fw\",\"id\":{\"value\":\"my\\\"fw\"}}}}",
	                  &body);
	cr_expect_eq(status, 400, "SUBSCRIBE with id my\"fw: %d %s", status, body);
	cr_expect(strstr(body, "call.subscribe.framework_info.id.value: not a valid id: must not "
	                       "contain '\"'") != NULL,
	          "%s", body);
	free(body);
	int st = 0;
	json_t *j = sim_op_call("{\"type\":\"GET_FRAMEWORKS\"}", &st, NULL, 0);
	cr_expect_eq(json_array_size(sim_jget(j, "get_frameworks.frameworks")), 0);
	json_decref(j);
	sim_stop_master_clean();
}

Test(values, an_agent_update_with_a_bad_framework_id_is_refused_naming_the_field)
{
	sim_start_master(NULL, 0);
	struct sim_peer a;
	sim_agent_register(&a, "a1", SIM_AGENT_RES);
	char *body = NULL, *ret = NULL;
	cr_assert_geq(asprintf(&body,
	                       "{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":\"%s\"},"
	                       "\"status_update\":{\"framework_id\":{\"value\":\"my\\\"fw\"},"
	                       "\"status\":{\"task_id\":{\"value\":\"t1\"},\"state\":"
	                       "\"TASK_RUNNING\",\"uuid\":\"%s\"}}}",
	                       a.id, SIM_UUIDS[0]),
	              0);
	int status = sim_peer_call(&a, body, &ret);
	cr_expect_eq(status, 400, "%d %s", status, ret);
	cr_expect(strstr(ret, "status_update.framework_id.value: not a valid id") != NULL, "%s",
	          ret);
	free(body);
	free(ret);
	sim_stop_master_clean();
}

Test(values, a_task_id_with_a_slash_is_refused_naming_the_field)
{
	struct sim_peer a, f;
	char offer[256];
	sim_start_offered(&a, "a1", &f, offer);
	char *ret = NULL, *body = NULL;
	cr_assert_geq(
	        asprintf(&body,
	                 "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"%s\"},\"accept\":{"
	                 "\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\","
	                 "\"launch\":{\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":"
	                 "\"../t\"},\"agent_id\":{\"value\":\"%s\"},\"resources\":" SIM_AGENT_RES
	                 ",\"command\":{\"value\":\"true\"}}]}}]}}",
	                 f.id, offer, a.id),
	        0);
	int status = sim_peer_call(&f, body, &ret);
	free(body);
	cr_expect_eq(status, 400, "%d %s", status, ret);
	cr_expect(strstr(ret, "call.accept.operations[0].launch.task_infos[0].task_id.value: not a "
	                      "valid id: must not contain '/'") != NULL,
	          "%s", ret);
	free(ret);
	sim_stop_master_clean();
}

/* ---- resources ------------------------------------------------------------ */

static void register_refused(const char *resources, const char *want)
{
	char *body = NULL, *ret = NULL;
	cr_assert_geq(asprintf(&body,
	                       "{\"type\":\"REGISTER\",\"register\":{\"agent_info\":{\"hostname\":"
	                       "\"evil\",\"port\":5051,\"resources\":%s},\"version\":\"0.1.0\"}}",
	                       resources),
	              0);
	int status = post("/api/v1/agent", body, &ret);
	cr_expect_eq(status, 400, "REGISTER with %s: %d", resources, status);
	cr_expect(strstr(ret, want) != NULL, "REGISTER with %s: %s", resources, ret);
	free(body);
	free(ret);
}

#define SCALAR(name, v) "{\"name\":\"" name "\",\"type\":\"SCALAR\",\"scalar\":{\"value\":" v "}}"

Test(values, register_with_impossible_resources_is_refused_naming_the_field)
{
	sim_start_master(NULL, 0);
	register_refused("[" SCALAR("cpus", "\"Infinity\"") "," SCALAR("mem", "1024") "]",
	                 "agent_info.resources[0].scalar.value (cpus): must be a finite number "
	                 "from 0 to 1000000000");
	register_refused("[" SCALAR("cpus", "4") "," SCALAR("mem", "1e300") "]",
	                 "agent_info.resources[1].scalar.value (mem)");
	register_refused("[" SCALAR("cpus", "-2") "," SCALAR("mem", "1024") "]",
	                 "agent_info.resources[0].scalar.value (cpus)");
	/* Nothing a task could use. */
	register_refused("[" SCALAR("disk", "1024") "]",
	                 "agent_info.resources: no usable resources");
	register_refused("[" SCALAR("cpus", "0") "," SCALAR("mem", "0") "]",
	                 "agent_info.resources: no usable resources");
	register_refused("[]", "agent_info.resources: no usable resources");
	cr_expect_eq(agents_listed(), 0);
	/* A sane agent still gets in, and is listed with its id and
	 * resources. */
	struct sim_peer a;
	sim_agent_register(&a, "a1", "[" SCALAR("cpus", "1000000000") "," SCALAR("mem", "1") "]");
	json_t *ag = sim_get_agent(a.id);
	cr_assert_not_null(ag);
	cr_expect_str_eq(sim_jstr(ag, "agent_info.id.value"), a.id);
	json_decref(ag);
	sim_stop_master_clean();
}

/* ACCEPT the next offer with one task of `resources` (JSON array) and
 * `extra` fields: the status of the call, and the framework's UPDATE for
 * it in *ret_update when not NULL (NULL when none came). */
static int launch_one(struct sim_peer *a, struct sim_peer *f, const char *task,
                      const char *resources, const char *extra, json_t **ret_update)
{
	char offer[256];
	sim_next_offer(f, 3000, offer);
	char *body = NULL, *ret = NULL;
	cr_assert_geq(asprintf(&body,
	                       "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"%s\"},"
	                       "\"accept\":{\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":[{"
	                       "\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":[{\"name\":\"t\","
	                       "\"task_id\":{\"value\":\"%s\"},\"agent_id\":{\"value\":\"%s\"},"
	                       "\"resources\":%s%s}]}}],\"filters\":{\"refuse_seconds\":0}}}",
	                       f->id, offer, task, a->id, resources, extra),
	              0);
	int status = sim_peer_call(f, body, &ret);
	cr_expect_eq(status, 202, "ACCEPT: %d %s", status, ret);
	free(body);
	free(ret);
	if (ret_update)
		*ret_update = status == 202 ? sim_peer_next(f, "UPDATE", 3000) : NULL;
	return status;
}

Test(values, a_task_with_no_cpus_and_no_mem_gets_task_error)
{
	sim_start_master(NULL, 0);
	struct sim_peer a, f;
	sim_agent_register(&a, "a1", "[" SCALAR("cpus", "2") "," SCALAR("mem", "256") "]");
	sim_fw_subscribe(&f, NULL, NULL);
	json_t *up = NULL;
	launch_one(&a, &f, "t0", "[" SCALAR("cpus", "0") "]", ",\"command\":{\"value\":\"true\"}",
	           &up);
	cr_assert_not_null(up, "no UPDATE for t0");
	cr_expect_str_eq(sim_jstr(up, "update.status.state"), "TASK_ERROR");
	cr_expect_str_eq(sim_jstr(up, "update.status.reason"), "REASON_TASK_INVALID");
	cr_expect(strstr(sim_jstr(up, "update.status.message"), "no cpus and no mem") != NULL, "%s",
	          sim_jstr(up, "update.status.message"));
	json_decref(up);
	/* mem alone is enough, and reaches the agent. */
	launch_one(&a, &f, "t1", "[" SCALAR("mem", "32") "]", ",\"command\":{\"value\":\"true\"}",
	           NULL);
	json_t *run = sim_peer_next(&a, "RUN_TASK", 3000);
	cr_assert_not_null(run, "t1 (mem only) was not sent to the agent");
	cr_expect_str_eq(sim_jstr(run, "run_task.task.task_id.value"), "t1");
	json_decref(run);
	sim_stop_master_clean();
}

/* ---- RLIM_INFINITY -------------------------------------------------------- */

Test(values, rlim_infinity_is_accepted_where_the_launcher_takes_it)
{
	sim_start_master(NULL, 0);
	struct sim_peer a, f;
	sim_agent_register(&a, "a1", "[" SCALAR("cpus", "2") "," SCALAR("mem", "256") "]");
	sim_fw_subscribe(&f, NULL, NULL);
	/* The OCI-like spec as agora-run takes it: a bare 2^64-1. */
	launch_one(&a, &f, "oci", "[" SCALAR("cpus", "1") "]",
	           ",\"container\":{\"type\":\"MESOS\",\"oci\":{\"root\":{\"path\":\"img\"},"
	           "\"process\":{\"args\":[\"true\"],\"rlimits\":[{\"type\":\"RLIMIT_CORE\","
	           "\"soft\":18446744073709551615,\"hard\":18446744073709551615}]}}}",
	           NULL);
	json_t *run = sim_peer_next(&a, "RUN_TASK", 3000);
	cr_assert_not_null(run, "the task with RLIM_INFINITY did not reach the agent");
	json_t *hard = sim_jget(run, "run_task.task.container.oci.process.rlimits.0.hard");
	cr_assert_not_null(hard);
	/* jansson holds int64: the agent gets the digits, and writes them
	 * back as the number for the launcher (containerizer/taskspec.c). */
	cr_expect_str_eq(json_string_value(hard), "18446744073709551615");
	json_decref(run);
	/* Mesos's RLimitInfo (uint64, a string in protobuf's JSON), both
	 * ways. */
	launch_one(&a, &f, "mesos", "[" SCALAR("cpus", "1") "]",
	           ",\"command\":{\"value\":\"true\"},\"container\":{\"type\":\"MESOS\","
	           "\"rlimit_info\":{\"rlimits\":[{\"type\":\"RLMT_CORE\",\"hard\":"
	           "\"18446744073709551615\",\"soft\":18446744073709551615}]}}",
	           NULL);
	run = sim_peer_next(&a, "RUN_TASK", 3000);
	cr_assert_not_null(run, "the task with RLimitInfo did not reach the agent");
	cr_expect_str_eq(sim_jstr(run, "run_task.task.container.rlimit_info.rlimits.0.hard"),
	                 "18446744073709551615");
	cr_expect_str_eq(sim_jstr(run, "run_task.task.container.rlimit_info.rlimits.0.soft"),
	                 "18446744073709551615");
	json_decref(run);
	/* Beyond uint64 is still refused. */
	json_t *ev = sim_peer_next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev);
	char offer[256], *body = NULL, *ret = NULL;
	snprintf(offer, sizeof(offer), "%s", sim_jstr(ev, "offers.offers.0.id.value"));
	json_decref(ev);
	cr_assert_geq(asprintf(&body,
	                       "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"%s\"},"
	                       "\"accept\":{\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":[{"
	                       "\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":[{\"name\":\"t\","
	                       "\"task_id\":{\"value\":\"big\"},\"agent_id\":{\"value\":\"%s\"},"
	                       "\"command\":{\"value\":\"true\"},\"container\":{\"type\":"
	                       "\"MESOS\",\"rlimit_info\":{\"rlimits\":[{\"type\":\"RLMT_CORE\","
	                       "\"hard\":18446744073709551616}]}}}]}}]}}",
	                       f.id, offer, a.id),
	              0);
	cr_expect_eq(sim_peer_call(&f, body, &ret), 400, "%s", ret);
	free(body);
	free(ret);
	sim_stop_master_clean();
}
