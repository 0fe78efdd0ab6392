/* Host tests of the master's maintenance and kill operator calls
 * (DRAIN_AGENT, DEACTIVATE_AGENT, REACTIVATE_AGENT, agora's KILL_TASK;
 * docs/operator-api.md): agora-master as a process, simulated agents and a
 * scripted framework over loopback (tests/lib/master_sim.h). */
#include "agtest.h"
#include "master_sim.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

TestSuite(ops, .init = sim_init, .fini = sim_fini, .timeout = 60);

/* An operator call expected to answer `want`; the body (may be NULL). */
static json_t *op(int want, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *op(int want, const char *fmt, ...)
{
	char body[2048], head[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	int status;
	json_t *j = sim_op_call(body, &status, head, sizeof(head));
	char *text = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	cr_assert_eq(status, want, "%s -> %d (wanted %d): %s", body, status, want,
	             text ? text : "");
	free(text);
	if (want == 200) {
		/* Mesos-go reads a no-data 200 only without a Content-Type. */
		cr_assert_null(j, "a 200 with a body");
		cr_assert_null(strcasestr(head, "Content-Type"), "%s", head);
	}
	return j;
}

/* The error text of a refused call contains `needle`. */
static void assert_says(json_t *j, const char *needle)
{
	char *text = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	cr_assert(text && strstr(text, needle), "`%s` not in the answer: %s", needle,
	          text ? text : "(none)");
	free(text);
	json_decref(j);
}

/* A framework with one RUNNING task `task` of `cpus` on agent `a`; the
 * RUN_TASK's task and FrameworkInfo as JSON text (malloc'ed) in *ret_task
 * and *ret_fwinfo when not NULL, for a later REREGISTER. */
static void launch_running_cpus(struct sim_peer *f, struct sim_peer *a, const char *task,
                                const char *cpus, const char *extra, const char *uuid,
                                char **ret_task, char **ret_fwinfo)
{
	char offer[256];
	sim_next_offer(f, 3000, offer);
	cr_assert_eq(sim_fw_launch(f, offer, a->id, task, cpus, extra), 202);
	json_t *ev = sim_peer_next(a, "RUN_TASK", 3000);
	cr_assert_not_null(ev, "no RUN_TASK");
	if (ret_task)
		*ret_task = json_dumps(sim_jget(ev, "run_task.task"), JSON_COMPACT);
	if (ret_fwinfo)
		*ret_fwinfo = json_dumps(sim_jget(ev, "run_task.framework_info"), JSON_COMPACT);
	json_decref(ev);
	cr_assert_eq(sim_agent_update(a, f->id, task, "TASK_RUNNING", uuid), 202);
	ev = sim_peer_next(f, "UPDATE", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(sim_jstr(ev, "update.status.state"), "TASK_RUNNING");
	json_decref(ev);
	cr_assert_eq(sim_fw_ack(f, a->id, task, uuid), 202);
}

static void launch_running(struct sim_peer *f, struct sim_peer *a, const char *task,
                           const char *extra, const char *uuid)
{
	launch_running_cpus(f, a, task, "0.5", extra, uuid, NULL, NULL);
}

/* Take the framework's next offer and decline it for `secs`. */
static void decline_next_offer(struct sim_peer *f, int secs)
{
	json_t *ev = sim_peer_next(f, "OFFERS", 3000);
	cr_assert_not_null(ev, "no offer to decline");
	cr_assert_eq(sim_fw_call(f,
	                         "{\"type\":\"DECLINE\",\"framework_id\":{\"value\":\"%s\"},"
	                         "\"decline\":{\"offer_ids\":[{\"value\":\"%s\"}],\"filters\":{"
	                         "\"refuse_seconds\":%d}}}",
	                         f->id, sim_jstr(ev, "offers.offers.0.id.value"), secs),
	             202);
	json_decref(ev);
}

static const char *drain_state(json_t *agent)
{
	return sim_jstr(agent, "drain_info.state");
}

/* ---- KILL_TASK ---------------------------------------------------------- */

Test(ops, kill_task_kills_a_running_task_and_the_framework_sees_it)
{
	struct sim_peer a, f;
	sim_start_with(&a, "a1", &f);
	launch_running(&f, &a, "t1", NULL, SIM_UUIDS[0]);

	/* No framework id: the task id is unique. The grace goes through. */
	json_decref(op(200, "{\"type\":\"KILL_TASK\",\"kill_task\":{\"task_id\":{\"value\":\"t1\"},"
	                    "\"kill_policy\":{\"grace_period\":{\"nanoseconds\":3000000000}}}}"));
	json_t *k = sim_peer_next(&a, "KILL_TASK", 3000);
	cr_assert_not_null(k, "the agent got no KILL_TASK");
	cr_assert_str_eq(sim_jstr(k, "kill_task.task_id.value"), "t1");
	cr_assert_str_eq(sim_jstr(k, "kill_task.framework_id.value"), f.id);
	cr_assert_eq(json_integer_value(json_object_get(
	                     json_object_get(json_object_get(json_object_get(k, "kill_task"),
	                                                     "kill_policy"),
	                                     "grace_period"),
	                     "nanoseconds")),
	             3000000000LL);
	json_decref(k);

	/* The agent's TASK_KILLED reaches the framework as any update does. */
	cr_assert_eq(sim_agent_update(&a, f.id, "t1", "TASK_KILLED", SIM_UUIDS[1]), 202);
	json_t *ev = sim_peer_next(&f, "UPDATE", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(sim_jstr(ev, "update.status.task_id.value"), "t1");
	cr_assert_str_eq(sim_jstr(ev, "update.status.state"), "TASK_KILLED");
	json_decref(ev);

	/* Ended but not yet acknowledged: 409 naming its state, no kill sent. */
	assert_says(op(409,
	               "{\"type\":\"KILL_TASK\",\"kill_task\":{\"task_id\":{\"value\":"
	               "\"t1\"},\"framework_id\":{\"value\":\"%s\"}}}",
	               f.id),
	            "TASK_KILLED");
	cr_assert_null(sim_peer_next(&a, "KILL_TASK", 500));
	/* Acknowledged: in the completed list now, still 409 with its state,
	 * with or without the framework id; a task never seen is 404. */
	cr_assert_eq(sim_fw_ack(&f, a.id, "t1", SIM_UUIDS[1]), 202);
	assert_says(op(409, "{\"type\":\"KILL_TASK\",\"kill_task\":{\"task_id\":{\"value\":"
	                    "\"t1\"}}}"),
	            "TASK_KILLED");
	assert_says(op(409,
	               "{\"type\":\"KILL_TASK\",\"kill_task\":{\"task_id\":{\"value\":"
	               "\"t1\"},\"framework_id\":{\"value\":\"%s\"}}}",
	               f.id),
	            "TASK_KILLED");
	assert_says(op(404, "{\"type\":\"KILL_TASK\",\"kill_task\":{\"task_id\":{\"value\":"
	                    "\"t2\"}}}"),
	            "t2");
	cr_assert_null(sim_peer_next(&a, "KILL_TASK", 300));
}

Test(ops, kill_task_refuses_unknown_ambiguous_and_bad_input)
{
	struct sim_peer a, f1, f2;
	sim_start_with(&a, "a1", &f1);
	launch_running(&f1, &a, "dup", NULL, SIM_UUIDS[0]);
	decline_next_offer(&f1, 60); /* what is left goes to f2 */
	sim_fw_subscribe(&f2, NULL, NULL);
	launch_running(&f2, &a, "dup", NULL, SIM_UUIDS[1]);

	json_t *e = op(400, "{\"type\":\"KILL_TASK\",\"kill_task\":{\"task_id\":{\"value\":"
	                    "\"dup\"}}}");
	char *text = json_dumps(e, JSON_ENCODE_ANY);
	cr_assert(strstr(text, f1.id) && strstr(text, f2.id) && strstr(text, "framework_id"),
	          "the refusal names both frameworks and the field: %s", text);
	free(text);
	json_decref(e);
	cr_assert_null(sim_peer_next(&a, "KILL_TASK", 300), "an ambiguous kill was sent");

	/* With the framework id, only that one is killed. */
	json_decref(op(200,
	               "{\"type\":\"KILL_TASK\",\"kill_task\":{\"task_id\":{\"value\":\"dup\"},"
	               "\"framework_id\":{\"value\":\"%s\"}}}",
	               f2.id));
	json_t *k = sim_peer_next(&a, "KILL_TASK", 3000);
	cr_assert_not_null(k);
	cr_assert_str_eq(sim_jstr(k, "kill_task.framework_id.value"), f2.id);
	cr_assert_null(json_object_get(json_object_get(k, "kill_task"), "kill_policy"),
	               "no grace asked: the task's own policy applies");
	json_decref(k);

	assert_says(op(404, "{\"type\":\"KILL_TASK\",\"kill_task\":{\"task_id\":{\"value\":"
	                    "\"nope\"}}}"),
	            "nope");
	assert_says(op(404, "{\"type\":\"KILL_TASK\",\"kill_task\":{\"task_id\":{\"value\":"
	                    "\"dup\"},\"framework_id\":{\"value\":\"no-such-fw\"}}}"),
	            "no-such-fw");
	assert_says(op(404,
	               "{\"type\":\"KILL_TASK\",\"kill_task\":{\"task_id\":{\"value\":"
	               "\"dup\"},\"framework_id\":{\"value\":\"%s\"},\"agent_id\":{"
	               "\"value\":\"other-agent\"}}}",
	               f1.id),
	            "other-agent");
	assert_says(op(400, "{\"type\":\"KILL_TASK\"}"), "kill_task");
	assert_says(op(400, "{\"type\":\"KILL_TASK\",\"kill_task\":{}}"), "task_id");
	assert_says(op(400, "{\"type\":\"KILL_TASK\",\"kill_task\":{\"task_id\":{\"value\":"
	                    "\"dup\"},\"kill_policy\":{\"grace_period\":{\"nanoseconds\":-1}}}}"),
	            "nanoseconds");
	/* The master is intact. */
	cr_assert_eq(sim_agent_update(&a, f1.id, "dup", "TASK_FINISHED", SIM_UUIDS[2]), 202);
	json_t *ev = sim_peer_next(&f1, "UPDATE", 3000);
	cr_assert_not_null(ev);
	json_decref(ev);
}

/* ---- DEACTIVATE / REACTIVATE --------------------------------------------- */

Test(ops, deactivate_rescinds_and_stops_offers_and_reactivate_resumes_them)
{
	struct sim_peer a, f;
	char offer[256];
	sim_start_offered(&a, "a1", &f, offer);

	json_decref(op(200,
	               "{\"type\":\"DEACTIVATE_AGENT\",\"deactivate_agent\":{\"agent_id\":{"
	               "\"value\":\"%s\"}}}",
	               a.id));
	json_t *ev = sim_peer_next(&f, "RESCIND", 3000);
	cr_assert_not_null(ev, "the outstanding offer was not rescinded");
	cr_assert_str_eq(sim_jstr(ev, "rescind.offer_id.value"), offer);
	json_decref(ev);
	sim_peer_forget(&f, "OFFERS");
	cr_assert_null(sim_peer_next(&f, "OFFERS", 1200), "a deactivated agent was offered");
	json_t *ag = sim_get_agent(a.id);
	cr_assert_not_null(ag);
	cr_assert(json_is_true(json_object_get(ag, "deactivated")));
	cr_assert_null(json_object_get(ag, "drain_info"), "deactivated is not draining");
	json_decref(ag);

	/* REACTIVATE: offers again; twice is fine. */
	for (int i = 0; i < 2; i++)
		json_decref(op(200,
		               "{\"type\":\"REACTIVATE_AGENT\",\"reactivate_agent\":{\"agent_id\":"
		               "{\"value\":\"%s\"}}}",
		               a.id));
	ev = sim_peer_next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev, "no offer after REACTIVATE_AGENT");
	cr_assert_str_eq(sim_jstr(ev, "offers.offers.0.agent_id.value"), a.id);
	json_decref(ev);
	ag = sim_get_agent(a.id);
	cr_assert_null(json_object_get(ag, "deactivated"));
	json_decref(ag);
}

Test(ops, maintenance_calls_refuse_bad_input_naming_the_field)
{
	sim_start_master(NULL, 0);
	struct sim_peer a;
	sim_agent_register(&a, "a1", SIM_AGENT_RES);
	const char *types[] = {"DRAIN_AGENT", "DEACTIVATE_AGENT", "REACTIVATE_AGENT"};
	const char *keys[] = {"drain_agent", "deactivate_agent", "reactivate_agent"};
	for (int i = 0; i < 3; i++) {
		assert_says(op(404, "{\"type\":\"%s\",\"%s\":{\"agent_id\":{\"value\":\"nope\"}}}",
		               types[i], keys[i]),
		            "nope");
		assert_says(op(400, "{\"type\":\"%s\"}", types[i]), keys[i]);
		assert_says(op(400, "{\"type\":\"%s\",\"%s\":{}}", types[i], keys[i]), "agent_id");
	}
	assert_says(op(400,
	               "{\"type\":\"DRAIN_AGENT\",\"drain_agent\":{\"agent_id\":{\"value\":"
	               "\"%s\"},\"max_grace_period\":{\"seconds\":-5}}}",
	               a.id),
	            "max_grace_period");
	assert_says(op(400,
	               "{\"type\":\"DRAIN_AGENT\",\"drain_agent\":{\"agent_id\":{\"value\":"
	               "\"%s\"},\"mark_gone\":\"yes\"}}",
	               a.id),
	            "mark_gone");
	/* None of it changed the agent. */
	json_t *ag = sim_get_agent(a.id);
	cr_assert_not_null(ag);
	cr_assert_null(json_object_get(ag, "deactivated"));
	cr_assert_null(json_object_get(ag, "drain_info"));
	json_decref(ag);
}

/* ---- DRAIN_AGENT ---------------------------------------------------------- */

Test(ops, drain_kills_tasks_with_capped_grace_then_drained_then_reactivate)
{
	struct sim_peer a, f;
	sim_start_with(&a, "a1", &f);
	/* One task with a long kill policy, one with a short one. */
	launch_running(&f, &a, "long",
	               ",\"kill_policy\":{\"grace_period\":{\"nanoseconds\":10000000000}}",
	               SIM_UUIDS[0]);
	launch_running(&f, &a, "short",
	               ",\"kill_policy\":{\"grace_period\":{\"nanoseconds\":1000000000}}",
	               SIM_UUIDS[1]);

	json_decref(op(200,
	               "{\"type\":\"DRAIN_AGENT\",\"drain_agent\":{\"agent_id\":{\"value\":"
	               "\"%s\"},\"max_grace_period\":{\"seconds\":2,\"nanos\":500000000}}}",
	               a.id));
	int64_t grace[2] = {-1, -1};
	for (int i = 0; i < 2; i++) {
		json_t *k = sim_peer_next(&a, "KILL_TASK", 3000);
		cr_assert_not_null(k, "kill %d of 2 missing", i + 1);
		const char *t = sim_jstr(k, "kill_task.task_id.value");
		json_t *ns = json_object_get(
		        json_object_get(
		                json_object_get(json_object_get(k, "kill_task"), "kill_policy"),
		                "grace_period"),
		        "nanoseconds");
		cr_assert(json_is_integer(ns));
		grace[strcmp(t, "long") == 0 ? 0 : 1] = json_integer_value(ns);
		json_decref(k);
	}
	cr_assert_eq(grace[0], 2500000000LL, "min(10 s, max 2.5 s)");
	cr_assert_eq(grace[1], 1000000000LL, "min(1 s, max 2.5 s)");

	json_t *ag = sim_get_agent(a.id);
	cr_assert_str_eq(drain_state(ag), "DRAINING");
	cr_assert(json_is_true(json_object_get(ag, "deactivated")));
	cr_assert_eq(json_integer_value(json_object_get(
	                     json_object_get(
	                             json_object_get(json_object_get(ag, "drain_info"), "config"),
	                             "max_grace_period"),
	                     "nanoseconds")),
	             2500000000LL);
	json_decref(ag);

	/* One task ends: still draining. */
	cr_assert_eq(sim_agent_update(&a, f.id, "short", "TASK_KILLED", SIM_UUIDS[2]), 202);
	json_t *ev = sim_peer_next(&f, "UPDATE", 3000);
	cr_assert_not_null(ev);
	json_decref(ev);
	ag = sim_get_agent(a.id);
	cr_assert_str_eq(drain_state(ag), "DRAINING");
	json_decref(ag);
	/* The last one: DRAINED; the freed resources are not offered. */
	cr_assert_eq(sim_agent_update(&a, f.id, "long", "TASK_KILLED", SIM_UUIDS[3]), 202);
	ev = sim_peer_next(&f, "UPDATE", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(sim_jstr(ev, "update.status.state"), "TASK_KILLED");
	json_decref(ev);
	ag = sim_get_agent(a.id);
	cr_assert_str_eq(drain_state(ag), "DRAINED");
	json_decref(ag);
	sim_peer_forget(&f, "OFFERS");
	cr_assert_null(sim_peer_next(&f, "OFFERS", 1200), "a drained agent was offered");
	/* Not marked gone: its stream stays. */
	cr_assert_eq(sim_agent_update(&a, f.id, "long", "TASK_KILLED", SIM_UUIDS[3]), 202);

	json_decref(op(200,
	               "{\"type\":\"REACTIVATE_AGENT\",\"reactivate_agent\":{\"agent_id\":{"
	               "\"value\":\"%s\"}}}",
	               a.id));
	sim_peer_forget(&f, "OFFERS");
	ev = sim_peer_next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev, "no offer after REACTIVATE_AGENT");
	json_decref(ev);
	ag = sim_get_agent(a.id);
	cr_assert_null(json_object_get(ag, "drain_info"));
	cr_assert_null(json_object_get(ag, "deactivated"));
	json_decref(ag);
}

Test(ops, drain_with_mark_gone_marks_the_agent_gone_once_drained)
{
	sim_start_master(NULL, 0);
	struct sim_peer a, b, f;
	sim_agent_register(&a, "a1", SIM_AGENT_RES);
	sim_agent_register(&b, "b1", SIM_AGENT_RES);
	sim_fw_subscribe(&f, NULL, NULL);
	json_t *ev = sim_peer_next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev);
	json_decref(ev);

	json_decref(op(200,
	               "{\"type\":\"DRAIN_AGENT\",\"drain_agent\":{\"agent_id\":{\"value\":"
	               "\"%s\"},\"mark_gone\":true}}",
	               a.id));
	/* Nothing ran there: drained at once, then gone: its stream ends and
	 * it is no longer listed; the other agent is untouched. */
	cr_assert_null(sim_peer_next(&a, "NONE", 3000), "the gone agent's stream stayed open");
	json_t *ag = sim_get_agent(a.id);
	cr_assert_null(ag, "a gone agent is listed");
	ag = sim_get_agent(b.id);
	cr_assert_not_null(ag);
	cr_assert_null(json_object_get(ag, "drain_info"));
	json_decref(ag);
	/* A gone agent is refused by the maintenance calls and on return. */
	assert_says(op(404,
	               "{\"type\":\"REACTIVATE_AGENT\",\"reactivate_agent\":{\"agent_id\":{"
	               "\"value\":\"%s\"}}}",
	               a.id),
	            "gone");
	struct sim_peer a2 = {0};
	snprintf(a2.id, sizeof(a2.id), "%s", a.id);
	char body[1024];
	snprintf(body, sizeof(body),
	         "{\"type\":\"REREGISTER\",\"agent_id\":{\"value\":\"%s\"},\"reregister\":{"
	         "\"agent_info\":{\"id\":{\"value\":\"%s\"},\"hostname\":\"a1\",\"port\":5051,"
	         "\"resources\":" SIM_AGENT_RES "},\"version\":\"0.1.0\"}}",
	         a.id, a.id);
	char secret[128];
	snprintf(secret, sizeof(secret), SIM_SECRET_HEADER ": %s\r\n", sim_agent_secret(a.id));
	cr_assert_eq(sim_peer_open_headers(&a2, "/api/v1/agent", secret, body), 200);
	ev = sim_peer_next(&a2, "ERROR", 3000);
	cr_assert_not_null(ev, "a gone agent was re-admitted");
	json_decref(ev);
}

Test(ops, drain_state_survives_a_master_sigkill)
{
	struct sim_peer a, f;
	sim_start_with(&a, "a1", &f);
	char *fwinfo = NULL, *task = NULL;
	launch_running_cpus(&f, &a, "t1", "1", NULL, SIM_UUIDS[0], &task, &fwinfo);
	json_t *ev;

	json_decref(op(200,
	               "{\"type\":\"DRAIN_AGENT\",\"drain_agent\":{\"agent_id\":{\"value\":"
	               "\"%s\"},\"max_grace_period\":{\"seconds\":4},\"mark_gone\":false}}",
	               a.id));
	ev = sim_peer_next(&a, "KILL_TASK", 3000);
	cr_assert_not_null(ev);
	json_decref(ev);
	/* The 200 meant durable: SIGKILL right away. */
	sim_kill_master();
	sim_peer_close(&a);
	sim_peer_close(&f);
	uint16_t old_port = sim_port;
	sim_start_master(NULL, old_port);

	/* The agent comes back with its task still running: the drain goes
	 * on (kill sent again with the drain's grace), it stays deactivated. */
	char tasks[8192], fws[4096];
	snprintf(fws, sizeof(fws), "[%s]", fwinfo);
	snprintf(tasks, sizeof(tasks),
	         "[{\"framework_id\":{\"value\":\"%s\"},\"task\":%s,\"status\":{\"task_id\":{"
	         "\"value\":\"t1\"},\"state\":\"TASK_RUNNING\"}}]",
	         f.id, task);
	sim_agent_reregister(&a, "a1", SIM_AGENT_RES, fws, tasks);
	json_t *k = sim_peer_next(&a, "KILL_TASK", 3000);
	cr_assert_not_null(k, "no kill after the restart");
	cr_assert_str_eq(sim_jstr(k, "kill_task.task_id.value"), "t1");
	json_decref(k);
	json_t *ag = sim_get_agent(a.id);
	cr_assert_not_null(ag);
	cr_assert_str_eq(drain_state(ag), "DRAINING");
	cr_assert(json_is_true(json_object_get(ag, "deactivated")));
	cr_assert_eq(json_integer_value(json_object_get(
	                     json_object_get(
	                             json_object_get(json_object_get(ag, "drain_info"), "config"),
	                             "max_grace_period"),
	                     "nanoseconds")),
	             4000000000LL);
	json_decref(ag);

	/* The framework comes back; its agent is not offered. */
	struct sim_peer f2;
	sim_fw_subscribe(&f2, f.id, NULL);
	cr_assert_null(sim_peer_next(&f2, "OFFERS", 1200), "a draining agent was offered");
	cr_assert_eq(sim_agent_update(&a, f.id, "t1", "TASK_KILLED", SIM_UUIDS[1]), 202);
	ev = sim_peer_next(&f2, "UPDATE", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(sim_jstr(ev, "update.status.state"), "TASK_KILLED");
	json_decref(ev);
	ag = sim_get_agent(a.id);
	cr_assert_str_eq(drain_state(ag), "DRAINED");
	json_decref(ag);

	/* DRAINED is durable too. */
	sim_kill_master();
	sim_peer_close(&a);
	sim_peer_close(&f2);
	sim_start_master(NULL, old_port);
	sim_agent_reregister(&a, "a1", SIM_AGENT_RES, "[]", "[]");
	ag = sim_get_agent(a.id);
	cr_assert_str_eq(drain_state(ag), "DRAINED");
	json_decref(ag);
	struct sim_peer f3;
	sim_fw_subscribe(&f3, f.id, NULL);
	cr_assert_null(sim_peer_next(&f3, "OFFERS", 1200), "a drained agent was offered");
	free(fwinfo);
	free(task);
}

Test(ops, kill_task_on_a_disconnected_agent_is_503_and_drain_waits_for_it)
{
	struct sim_peer a, f;
	sim_start_with(&a, "a1", &f);
	char *fwinfo = NULL, *task = NULL;
	launch_running_cpus(&f, &a, "t1", "1", NULL, SIM_UUIDS[0], &task, &fwinfo);

	/* The agent's stream breaks: the kill cannot be delivered now. */
	sim_peer_close(&a);
	json_t *e = NULL;
	for (int i = 0; i < 50; i++) {
		int st;
		json_decref(e);
		e = sim_op_call("{\"type\":\"KILL_TASK\",\"kill_task\":{\"task_id\":{\"value\":"
		                "\"t1\"}}}",
		                &st, NULL, 0);
		if (st == 503)
			break;
		cr_assert_eq(st, 200);
		usleep(20000);
	}
	assert_says(e, "not connected");

	/* A drain is accepted meanwhile; it kills the task once the agent is
	 * back, and not before. */
	json_decref(op(200,
	               "{\"type\":\"DRAIN_AGENT\",\"drain_agent\":{\"agent_id\":{\"value\":"
	               "\"%s\"}}}",
	               a.id));
	json_t *ag = sim_get_agent(a.id);
	cr_assert_str_eq(drain_state(ag), "DRAINING", "a task still runs there");
	json_decref(ag);
	char tasks[8192], fws[4096];
	snprintf(fws, sizeof(fws), "[%s]", fwinfo);
	snprintf(tasks, sizeof(tasks),
	         "[{\"framework_id\":{\"value\":\"%s\"},\"task\":%s,\"status\":{\"task_id\":{"
	         "\"value\":\"t1\"},\"state\":\"TASK_RUNNING\"}}]",
	         f.id, task);
	free(fwinfo);
	free(task);
	sim_agent_reregister(&a, "a1", SIM_AGENT_RES, fws, tasks);
	json_t *k = sim_peer_next(&a, "KILL_TASK", 3000);
	cr_assert_not_null(k, "no kill once the agent is back");
	cr_assert_str_eq(sim_jstr(k, "kill_task.task_id.value"), "t1");
	json_decref(k);
	cr_assert_eq(sim_agent_update(&a, f.id, "t1", "TASK_KILLED", SIM_UUIDS[1]), 202);
	for (int i = 0; i < 100; i++) {
		ag = sim_get_agent(a.id);
		bool drained = strcmp(drain_state(ag), "DRAINED") == 0;
		json_decref(ag);
		if (drained)
			return;
		usleep(20000);
	}
	cr_assert_fail("not DRAINED after its last task ended");
}

Test(ops, deactivating_an_agent_known_only_from_the_registry_holds_when_it_returns)
{
	sim_start_master(NULL, 0);
	struct sim_peer a;
	sim_agent_register(&a, "a1", SIM_AGENT_RES);
	sim_peer_close(&a);
	uint16_t p = sim_port;
	sim_kill_master();
	sim_start_master(NULL, p);
	/* Not re-registered yet: not in `agents`, but known. */
	cr_assert_null(sim_get_agent(a.id));
	json_decref(op(200,
	               "{\"type\":\"DEACTIVATE_AGENT\",\"deactivate_agent\":{\"agent_id\":{"
	               "\"value\":\"%s\"}}}",
	               a.id));
	sim_agent_reregister(&a, "a1", SIM_AGENT_RES, "[]", "[]");
	json_t *ag = sim_get_agent(a.id);
	cr_assert_not_null(ag);
	cr_assert(json_is_true(json_object_get(ag, "deactivated")));
	json_decref(ag);
	struct sim_peer f;
	sim_fw_subscribe(&f, NULL, NULL);
	cr_assert_null(sim_peer_next(&f, "OFFERS", 1200), "a deactivated agent was offered");
}
