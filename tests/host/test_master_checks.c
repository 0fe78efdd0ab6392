/* The master and health checks (docs/checks.md): a TaskInfo's
 * health_check and check reach the agent in RUN_TASK, and an agent's
 * TASK_RUNNING updates with `healthy`, `check_status` and their reasons
 * reach the scheduler as they were sent and show in GET_TASKS. The real
 * agora-master with a simulated agent (tests/lib/master_sim.c), then with
 * the real agora-agent (tests/lib/agent_proc.c) running the checks. */
#include "agent_proc.h"
#include "agtest.h"
#include "master_sim.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

/* ---- with the real agent ---------------------------------------------------- */

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

/* The next UPDATE within `ms` for a change of health (its reason), every
 * update before it acknowledged (a check's updates carry the health too,
 * unchanged); NULL when none came. */
static json_t *next_health_update(struct sim_peer *f, const char *agent_id, int ms)
{
	for (json_t *ev; (ev = sim_peer_next(f, "UPDATE", ms));) {
		const char *uuid = sim_jstr(ev, "update.status.uuid");
		if (uuid)
			cr_assert_eq(sim_fw_ack(f, agent_id, "hc1", uuid), 202);
		const char *reason = sim_jstr(ev, "update.status.reason");
		if (reason && strcmp(reason, "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED") == 0)
			return ev;
		json_decref(ev);
	}
	return NULL;
}

Test(master_checks, the_real_agents_health_check_reaches_the_scheduler_through_the_master,
     .timeout = 120)
{
	sim_start_master(NULL, 0);
	char work[400];
	snprintf(work, sizeof(work), "%s/agent", sim_dir);
	pid_t agent = ap_start(work, sim_port, free_port(), NULL, NULL);
	cr_assert(agent > 0);
	struct sim_peer f;
	sim_fw_subscribe(&f, NULL, NULL);
	json_t *ev = sim_peer_next(&f, "OFFERS", 15000);
	cr_assert_not_null(ev, "no offer from the real agent");
	char offer[256], agent_id[256];
	snprintf(offer, sizeof(offer), "%s", sim_jstr(ev, "offers.offers.0.id.value"));
	snprintf(agent_id, sizeof(agent_id), "%s", sim_jstr(ev, "offers.offers.0.agent_id.value"));
	json_decref(ev);
	/* Healthy while its file is there; then unhealthy and killed. */
	int st = sim_fw_call(
	        &f,
	        "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"%s\"},\"accept\":{"
	        "\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\","
	        "\"launch\":{\"task_infos\":[{\"name\":\"hc\",\"task_id\":{\"value\":\"hc1\"},"
	        "\"agent_id\":{\"value\":\"%s\"},\"resources\":[{\"name\":\"cpus\","
	        "\"type\":\"SCALAR\",\"scalar\":{\"value\":0.1}}],\"command\":{\"value\":"
	        "\"touch ok; sleep 2; rm ok; sleep 100\",\"user\":\"nobody\"},"
	        "\"health_check\":{\"type\":\"COMMAND\",\"command\":{\"value\":\"test -e ok\"},"
	        "\"delay_seconds\":0,\"interval_seconds\":0.3,\"grace_period_seconds\":5,"
	        "\"consecutive_failures\":2,\"timeout_seconds\":5},"
	        "\"check\":{\"type\":\"COMMAND\",\"command\":{\"command\":{\"value\":"
	        "\"test -e ok\"}},\"delay_seconds\":0,\"interval_seconds\":0.3}}]}}]}}",
	        f.id, offer, agent_id);
	cr_assert_eq(st, 202);
	ev = next_health_update(&f, agent_id, 20000);
	cr_assert_not_null(ev, "no update with healthy");
	cr_expect(json_is_true(sim_jget(ev, "update.status.healthy")));
	cr_expect_str_eq(sim_jstr(ev, "update.status.state"), "TASK_RUNNING");
	cr_expect_str_eq(sim_jstr(ev, "update.status.reason"),
	                 "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED");
	json_decref(ev);
	/* GET_TASKS shows the latest status with its health and the check's
	 * result (once the check ran). */
	json_t *gt = NULL, *last = NULL;
	for (int i = 0; i < 100; i++, usleep(50000)) {
		json_decref(gt);
		gt = sim_get_tasks();
		json_t *sts = sim_jget(gt, "get_tasks.tasks.0.statuses");
		last = json_array_get(sts, json_array_size(sts) - 1);
		if (json_object_get(last, "check_status"))
			break;
	}
	cr_assert_not_null(json_object_get(last, "check_status"), "no check_status in GET_TASKS");
	cr_expect(json_is_true(json_object_get(last, "healthy")));
	cr_expect(json_is_integer(sim_jget(last, "check_status.command.exit_code")));
	cr_expect_eq(json_integer_value(sim_jget(last, "check_status.command.exit_code")), 0);
	json_decref(gt);
	ev = next_health_update(&f, agent_id, 20000);
	cr_assert_not_null(ev, "no update with healthy false");
	cr_expect(json_is_false(sim_jget(ev, "update.status.healthy")));
	json_decref(ev);
	ev = next_health_update(&f, agent_id, 20000);
	cr_assert_not_null(ev, "no terminal update");
	cr_expect_str_eq(sim_jstr(ev, "update.status.state"), "TASK_KILLED");
	cr_expect(json_is_false(sim_jget(ev, "update.status.healthy")));
	cr_expect_str_eq(sim_jstr(ev, "update.status.reason"),
	                 "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED");
	json_decref(ev);
	ap_stop(&agent, SIGTERM);
	ap_kill_monitors(work);
}
