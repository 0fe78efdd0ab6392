/* The master and health checks (docs/checks.md): a TaskInfo's
 * health_check and check reach the agent in RUN_TASK, and an agent's
 * TASK_RUNNING updates with `healthy`, `check_status` and their reasons
 * reach the scheduler as they were sent and show in GET_TASKS. The real
 * agora-master with a simulated agent (tests/lib/master_sim.c). */
#include "agtest.h"
#include "master_sim.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

TestSuite(master_checks, .init = sim_init, .fini = sim_fini, .timeout = 60);

#define HEALTH                                                                                     \
	",\"health_check\":{\"type\":\"TCP\",\"tcp\":{\"port\":8080},\"interval_seconds\":1,"      \
	"\"consecutive_failures\":2}"
#define CHECK                                                                                      \
	",\"check\":{\"type\":\"COMMAND\",\"command\":{\"command\":{\"value\":\"true\"}},"         \
	"\"interval_seconds\":1}"

/* The agent's TASK_RUNNING update with `healthy` and a check_status. */
static int update_with_checks(struct sim_peer *a, const char *fw, const char *uuid, bool healthy,
                              int exit_code, const char *reason)
{
	char body[2048];
	snprintf(body, sizeof(body),
	         "{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":\"%s\"},\"status_update\":{"
	         "\"framework_id\":{\"value\":\"%s\"},\"status\":{\"task_id\":{\"value\":\"t1\"},"
	         "\"state\":\"TASK_RUNNING\",\"source\":\"SOURCE_EXECUTOR\",\"reason\":\"%s\","
	         "\"agent_id\":{\"value\":\"%s\"},\"timestamp\":1700000000.5,\"uuid\":\"%s\","
	         "\"healthy\":%s,\"check_status\":{\"type\":\"COMMAND\",\"command\":{"
	         "\"exit_code\":%d}}}}}",
	         a->id, fw, reason, a->id, uuid, healthy ? "true" : "false", exit_code);
	return sim_peer_call(a, body, NULL);
}

/* The next UPDATE of the framework: asserted to come. */
static json_t *next_update(struct sim_peer *f)
{
	json_t *ev = sim_peer_next(f, "UPDATE", 3000);
	cr_assert_not_null(ev, "no UPDATE");
	return ev;
}

Test(master_checks, healthy_and_check_status_reach_the_scheduler_and_get_tasks)
{
	struct sim_peer a, f;
	char offer[256];
	sim_start_offered(&a, "h1", &f, offer);
	cr_assert_eq(sim_fw_launch(&f, offer, a.id, "t1", "0.1", HEALTH CHECK), 202);
	json_t *run = sim_peer_next(&a, "RUN_TASK", 3000);
	cr_assert_not_null(run, "no RUN_TASK");
	cr_expect_str_eq(sim_jstr(run, "run_task.task.health_check.type"), "TCP");
	cr_expect_eq(json_integer_value(sim_jget(run, "run_task.task.health_check.tcp.port")),
	             8080);
	cr_expect_str_eq(sim_jstr(run, "run_task.task.check.command.command.value"), "true");
	json_decref(run);

	cr_assert_eq(sim_agent_update(&a, f.id, "t1", "TASK_RUNNING", SIM_UUIDS[0]), 202);
	json_t *ev = next_update(&f);
	cr_expect_null(sim_jget(ev, "update.status.healthy"));
	json_decref(ev);
	cr_assert_eq(sim_fw_ack(&f, a.id, "t1", SIM_UUIDS[0]), 202);

	/* Healthy, then unhealthy: each TASK_RUNNING forwarded whole. */
	cr_assert_eq(update_with_checks(&a, f.id, SIM_UUIDS[1], true, 0,
	                                "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED"),
	             202);
	ev = next_update(&f);
	cr_expect_str_eq(sim_jstr(ev, "update.status.state"), "TASK_RUNNING");
	cr_expect(json_is_true(sim_jget(ev, "update.status.healthy")));
	cr_expect_str_eq(sim_jstr(ev, "update.status.reason"),
	                 "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED");
	cr_expect_eq(
	        json_integer_value(sim_jget(ev, "update.status.check_status.command.exit_code")),
	        0);
	json_decref(ev);
	cr_assert_eq(sim_fw_ack(&f, a.id, "t1", SIM_UUIDS[1]), 202);

	cr_assert_eq(update_with_checks(&a, f.id, SIM_UUIDS[2], false, 7,
	                                "REASON_TASK_CHECK_STATUS_UPDATED"),
	             202);
	ev = next_update(&f);
	cr_expect(json_is_false(sim_jget(ev, "update.status.healthy")));
	cr_expect_str_eq(sim_jstr(ev, "update.status.reason"), "REASON_TASK_CHECK_STATUS_UPDATED");
	cr_expect_eq(
	        json_integer_value(sim_jget(ev, "update.status.check_status.command.exit_code")),
	        7);
	json_decref(ev);

	/* GET_TASKS: the task's health check, and its latest status with the
	 * health and the check's result. */
	json_t *gt = sim_get_tasks();
	json_t *t = sim_jget(gt, "get_tasks.tasks.0");
	cr_assert_not_null(t, "no task listed");
	cr_expect_str_eq(sim_jstr(t, "health_check.type"), "TCP");
	json_t *sts = sim_jget(t, "statuses");
	json_t *last = json_array_get(sts, json_array_size(sts) - 1);
	cr_assert_not_null(last, "no statuses");
	cr_expect(json_is_false(json_object_get(last, "healthy")));
	cr_expect_eq(json_integer_value(sim_jget(last, "check_status.command.exit_code")), 7);
	json_decref(gt);
}
