/* issue 16, item 3: after a master restart (or a failover), the agents of
 * the registry have --agent_reregister_timeout to come back. Until they do
 * (or it passes), reconciling a task the master does not know yet gets no
 * answer, as in Mesos: not TASK_LOST "unknown" while its agent may still
 * report it. Agents that do not return within the timeout become
 * unreachable and their tasks are lost as for any agent loss. agora-master
 * as a process with simulated agents and frameworks (master_sim). */
#include "agtest.h"
#include "master_sim.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

TestSuite(master_failover, .init = sim_init, .fini = sim_fini, .timeout = 90);

static int reconcile(struct sim_peer *f, const char *tasks)
{
	return sim_fw_call(f,
	                   "{\"type\":\"RECONCILE\",\"framework_id\":{\"value\":\"%s\"},"
	                   "\"reconcile\":{\"tasks\":%s}}",
	                   f->id, tasks);
}

/* t1 runs on agent `a` for framework `f`; the master is then SIGKILLed and
 * started again with `args`; the framework re-subscribes (as `f`), the
 * agent does not come back. The RUN_TASK's framework_info and task in
 * *ret_fwinfo and *ret_task (the caller frees them). */
static void t1_running_then_restart(struct sim_peer *a, struct sim_peer *f, const char *const *args,
                                    char **ret_fwinfo, char **ret_task)
{
	char offer[256];
	sim_start_offered(a, "a1", f, offer);
	cr_assert_eq(sim_fw_launch(f, offer, a->id, "t1", "1", NULL), 202);
	json_t *run = sim_peer_next(a, "RUN_TASK", 3000);
	cr_assert_not_null(run);
	*ret_fwinfo = json_dumps(sim_jget(run, "run_task.framework_info"), JSON_COMPACT);
	*ret_task = json_dumps(sim_jget(run, "run_task.task"), JSON_COMPACT);
	json_decref(run);
	cr_assert_eq(sim_agent_update(a, f->id, "t1", "TASK_RUNNING", SIM_UUIDS[0]), 202);
	sim_expect_update(f, "TASK_RUNNING");
	char id[256];
	snprintf(id, sizeof(id), "%s", f->id);
	sim_peer_close(a);
	sim_peer_close(f);
	sim_kill_master();
	sim_start_master(args, 0);
	sim_fw_subscribe(f, id, NULL);
	cr_assert_str_eq(f->id, id);
}

Test(master_failover, reconcile_waits_for_agents_that_may_still_reregister)
{
	struct sim_peer a, f;
	char *fwinfo, *task;
	t1_running_then_restart(&a, &f,
	                        (const char *const[]){"--agent_reregister_timeout=1hrs", NULL},
	                        &fwinfo, &task);
	/* Explicit reconciliation, without and with the agent: the master
	 * does not know t1 yet and its agent may still report it. */
	cr_assert_eq(reconcile(&f, "[{\"task_id\":{\"value\":\"t1\"}}]"), 202);
	char with_agent[512];
	snprintf(with_agent, sizeof(with_agent),
	         "[{\"task_id\":{\"value\":\"t1\"},\"agent_id\":{\"value\":\"%s\"}}]", a.id);
	cr_assert_eq(reconcile(&f, with_agent), 202);
	json_t *ev = sim_peer_next(&f, "UPDATE", 1500);
	cr_assert_null(ev, "an update while the agent may still re-register: %s",
	               ev ? json_dumps(ev, JSON_COMPACT) : "");

	/* The agent comes back with t1: reconciliation answers RUNNING. */
	char *fws = NULL, *tasks = NULL;
	cr_assert_geq(asprintf(&fws, "[%s]", fwinfo), 0);
	cr_assert_geq(asprintf(&tasks,
	                       "[{\"framework_id\":{\"value\":\"%s\"},\"task\":%s,\"status\":{"
	                       "\"task_id\":{\"value\":\"t1\"},\"state\":\"TASK_RUNNING\"}}]",
	                       f.id, task),
	              0);
	sim_agent_reregister(&a, "a1", SIM_AGENT_RES, fws, tasks);
	sim_peer_forget(&f, NULL);
	cr_assert_eq(reconcile(&f, "[{\"task_id\":{\"value\":\"t1\"}}]"), 202);
	ev = sim_peer_next(&f, "UPDATE", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(sim_jstr(ev, "update.status.state"), "TASK_RUNNING");
	json_decref(ev);

	/* A task nobody has, once every agent is back: TASK_LOST at once. */
	cr_assert_eq(reconcile(&f, "[{\"task_id\":{\"value\":\"nope\"}}]"), 202);
	ev = sim_peer_next(&f, "UPDATE", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(sim_jstr(ev, "update.status.task_id.value"), "nope");
	cr_assert_str_eq(sim_jstr(ev, "update.status.state"), "TASK_LOST");
	json_decref(ev);
	free(fws);
	free(tasks);
	free(fwinfo);
	free(task);
}

Test(master_failover, agents_not_back_within_the_reregister_timeout_lose_their_tasks)
{
	struct sim_peer a, f;
	char *fwinfo, *task;
	t1_running_then_restart(&a, &f,
	                        (const char *const[]){"--agent_reregister_timeout=1500ms", NULL},
	                        &fwinfo, &task);
	free(fwinfo);
	free(task);
	cr_assert_eq(reconcile(&f, "[{\"task_id\":{\"value\":\"t1\"}}]"), 202);
	json_t *ev = sim_peer_next(&f, "UPDATE", 800);
	cr_assert_null(ev, "an update before --agent_reregister_timeout");
	/* Past the timeout the agent is unreachable: the same reconciliation
	 * is answered, TASK_LOST (the framework is not partition-aware). */
	sleep(2);
	cr_assert(sim_log_has("not re-registered for [0-9.]+ s: unreachable"));
	cr_assert_eq(reconcile(&f, "[{\"task_id\":{\"value\":\"t1\"}}]"), 202);
	ev = sim_peer_next(&f, "UPDATE", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(sim_jstr(ev, "update.status.task_id.value"), "t1");
	cr_assert_str_eq(sim_jstr(ev, "update.status.state"), "TASK_LOST");
	json_decref(ev);
	int status = 0;
	json_t *agents = sim_op_call("{\"type\":\"GET_AGENTS\"}", &status, NULL, 0);
	cr_assert_eq(status, 200);
	cr_assert_eq(json_array_size(sim_jget(agents, "get_agents.recovered_agents")), 0);
	json_decref(agents);
}
