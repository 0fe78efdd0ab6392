/* Host tests of the messages a framework's TASK_ERROR carries for a LAUNCH
 * the master refuses (ms_task_validate and the resource checks of an
 * ACCEPT): agora-master as a process, a simulated agent and a scripted
 * framework over real sockets (tests/lib/master_sim.h). The texts are
 * what frameworks see, so they are asserted whole. */
#include "agtest.h"
#include "common/common.h"
#include "master_sim.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

TestSuite(task_errors, .init = sim_init, .fini = sim_fini, .timeout = 60);

#define REVIVE "{\"type\":\"REVIVE\",\"framework_id\":{\"value\":\"%s\"}}"

/* The id of the first offer of the framework's next OFFERS (256 bytes). */
static void next_offer(struct sim_peer *f, char *ret_offer)
{
	json_t *ev = sim_peer_next(f, "OFFERS", 3000);
	sim_peer_forget(f, NULL);
	cr_assert_not_null(ev, "no offer");
	snprintf(ret_offer, 256, "%s", sim_jstr(ev, "offers.offers.0.id.value"));
	json_decref(ev);
}

/* The message of the TASK_ERROR (REASON_TASK_INVALID, from the master)
 * of `task` that the framework gets next; malloc'd. */
static char *task_error(struct sim_peer *f, const char *task)
{
	json_t *ev = sim_peer_next(f, "UPDATE", 3000);
	sim_peer_forget(f, NULL);
	cr_assert_not_null(ev, "no UPDATE for %s", task);
	cr_assert_str_eq(sim_jstr(ev, "update.status.task_id.value"), task);
	cr_assert_str_eq(sim_jstr(ev, "update.status.state"), "TASK_ERROR");
	cr_assert_str_eq(sim_jstr(ev, "update.status.reason"), "REASON_TASK_INVALID");
	cr_assert_str_eq(sim_jstr(ev, "update.status.source"), "SOURCE_MASTER");
	char *msg = strdup(sim_jstr(ev, "update.status.message"));
	json_decref(ev);
	return msg;
}

/* LAUNCH `task` (using `cpus`, with `extra` fields, on `agent`) on the
 * framework's next offer; the message of its TASK_ERROR. */
static char *refused(struct sim_peer *f, const char *agent, const char *task, const char *cpus,
                     const char *extra)
{
	char offer[256];
	cr_assert_eq(sim_fw_call(f, REVIVE, f->id), 202);
	next_offer(f, offer);
	cr_assert_eq(sim_fw_launch(f, offer, agent, task, cpus, extra), 202);
	return task_error(f, task);
}

Test(task_errors, each_refused_launch_names_its_problem)
{
	sim_start_master(NULL, 0);
	struct sim_peer a, f;
	sim_agent_register(&a, "a1", SIM_AGENT_RES);
	sim_fw_subscribe(&f, NULL, NULL);

	char *msg = refused(&f, "another-agent", "t-agent", "1", NULL);
	char want[512];
	snprintf(want, sizeof(want), "Task uses agent another-agent but the offers are on agent %s",
	         a.id);
	cr_expect_str_eq(msg, want);
	free(msg);

	msg = refused(&f, a.id, "t-health", "1", ",\"health_check\":{}");
	cr_expect_str_eq(msg, "Task's health check is invalid: 'HealthCheck.type' is required");
	free(msg);

	msg = refused(&f, a.id, "t-big", "5", NULL);
	cr_expect(strncmp(msg, "Task uses more resources ", 25) == 0 &&
	                  strstr(msg, " than available "),
	          "%s", msg);
	free(msg);

	msg = refused(&f, a.id, "t-both", "1",
	              ",\"executor\":{\"executor_id\":{\"value\":\"e\"},\"command\":{\"value\":"
	              "\"true\"}}");
	cr_expect_str_eq(msg, "Task should have at least one (but not both) of CommandInfo or "
	                      "ExecutorInfo present");
	free(msg);

	/* A task id in use. */
	char offer[256];
	cr_assert_eq(sim_fw_call(&f, REVIVE, f.id), 202);
	next_offer(&f, offer);
	cr_assert_eq(sim_fw_launch(&f, offer, a.id, "t1", "1", NULL), 202);
	json_t *ev = sim_peer_next(&f, "UPDATE", 500); /* other records kept */
	cr_assert_null(ev, "t1 was launched, not refused: %s",
	               ev ? sim_jstr(ev, "update.status.message") : "");
	msg = refused(&f, a.id, "t1", "0.5", NULL);
	cr_expect_str_eq(msg, "Task has duplicate ID: t1");
	free(msg);
}
