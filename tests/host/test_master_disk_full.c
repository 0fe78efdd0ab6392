/* issue 12, part 4, the master's side: a full disk is survived. agora-master
 * with its --work_dir (the registry) on a small tmpfs mounted for the test,
 * simulated agents and frameworks over loopback (tests/lib/master_sim.h).
 * The tmpfs is filled: what must be recorded (a new framework's SUBSCRIBE,
 * a new agent's REGISTER, TEARDOWN, UPDATE_WEIGHTS, ...) is refused 503
 * saying the registry cannot be written, and changes nothing; what needs no
 * write (a registered framework's launches and updates, GET calls, a
 * re-subscription or re-registration with nothing new) goes on; /health and
 * GET_HEALTH say unhealthy, logged once. Space is freed: the master is
 * healthy again by itself and the refused calls succeed. After a SIGKILL
 * and a restart, exactly what was acknowledged is there. */
#include "agtest.h"
#include "master_sim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static char fill_path[320];
static bool mounted;

static void setup(void)
{
	if (geteuid() != 0)
		AG_SKIP("needs root (mounts a tmpfs)");
	sim_init();
	snprintf(fill_path, sizeof(fill_path), "%s/fill", sim_work_dir);
	cr_assert_eq(mkdir(sim_work_dir, 0700), 0);
	cr_assert_eq(mount("tmpfs", sim_work_dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	                   "size=2m,mode=0700"),
	             0, "mount a tmpfs: %s", strerror(errno));
	mounted = true;
}

static void teardown(void)
{
	/* The master first (it holds files on the tmpfs), then the mount,
	 * then the directory (sim_fini). */
	sim_kill_master();
	if (mounted)
		cr_expect_eq(umount2(sim_work_dir, MNT_DETACH), 0);
	mounted = false;
	sim_fini();
}

TestSuite(master_disk_full, .init = setup, .fini = teardown, .timeout = 120);

#define WAIT_FOR(cond, ms)                                                                         \
	do {                                                                                       \
		for (int _i = 0; !(cond) && _i < (ms) / 50; _i++)                                  \
			usleep(50 * 1000);                                                         \
		cr_assert(cond, "timed out waiting for " #cond);                                   \
	} while (0)

/* Fill the tmpfs to the last byte. */
static void fill_up(void)
{
	agt_fill_up(fill_path);
}

static void free_space(void)
{
	cr_assert_eq(unlink(fill_path), 0);
}

/* One request: the status, the body (malloc'ed) in *ret_body. */
static int request(const char *method, const char *path, const char *headers, const char *body,
                   char **ret_body)
{
	struct mc_response r = {0};
	cr_assert_eq(mc_request(sim_port, method, path, headers, body, &r), 0);
	*ret_body = strdup(r.body ? r.body : "");
	int s = r.status;
	mc_response_free(&r);
	return s;
}

static int health(char **ret_body)
{
	return request("GET", "/health", NULL, NULL, ret_body);
}

static bool healthy(void)
{
	char *b = NULL;
	int s = health(&b);
	free(b);
	return s == 200;
}

/* GET_HEALTH's `healthy`. */
static bool get_health(void)
{
	int status;
	json_t *j = sim_op_call("{\"type\":\"GET_HEALTH\"}", &status, NULL, 0);
	cr_assert_eq(status, 200);
	json_t *h = sim_jget(j, "get_health.healthy");
	cr_assert(json_is_boolean(h));
	bool v = json_is_true(h);
	json_decref(j);
	return v;
}

static const char *const SUBSCRIBE_NEW =
        "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":\"root\","
        "\"name\":\"late\",\"failover_timeout\":30}}}";
static const char *const REGISTER_NEW =
        "{\"type\":\"REGISTER\",\"register\":{\"agent_info\":{\"hostname\":\"late\","
        "\"port\":5051,\"resources\":" SIM_AGENT_RES "},\"version\":\"0.1.0\"}}";

/* A call that must be refused 503 saying the registry cannot be written. */
static void assert_refused(const char *path, const char *body)
{
	char *answer = NULL;
	int s = request("POST", path,
	                "Content-Type: application/json\r\nAccept: application/json\r\n", body,
	                &answer);
	cr_assert_eq(s, 503, "%s -> %d: %s", body, s, answer);
	cr_assert(strstr(answer, "the registry cannot be written") &&
	                  strstr(answer, "No space left on device"),
	          "the 503 does not say why: %s", answer);
	free(answer);
}

/* How many lines of the master's log (all its runs) contain `needle`. */
static int log_lines(const char *needle)
{
	FILE *f = fopen(sim_log_path, "re");
	cr_assert_not_null(f);
	char line[8192];
	int n = 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

/* Launch `task` from `f`'s next offer on `a` and bring it to RUNNING
 * (acknowledged); then FINISHED (acknowledged). Needs no registry write. */
static void run_task(struct sim_peer *f, struct sim_peer *a, const char *task, int uuid)
{
	json_t *ev = sim_peer_next(f, "OFFERS", 5000);
	cr_assert_not_null(ev, "no offer for %s", task);
	char offer[256];
	snprintf(offer, sizeof(offer), "%s", sim_jstr(ev, "offers.offers.0.id.value"));
	json_decref(ev);
	cr_assert_eq(sim_fw_launch(f, offer, a->id, task, "0.5", NULL), 202);
	ev = sim_peer_next(a, "RUN_TASK", 3000);
	cr_assert_not_null(ev, "no RUN_TASK for %s", task);
	cr_assert_str_eq(sim_jstr(ev, "run_task.task.task_id.value"), task);
	json_decref(ev);
	const char *states[] = {"TASK_RUNNING", "TASK_FINISHED"};
	for (int i = 0; i < 2; i++) {
		const char *uu = SIM_UUIDS[(uuid + i) % 4];
		cr_assert_eq(sim_agent_update(a, f->id, task, states[i], uu), 202);
		ev = sim_peer_next(f, "UPDATE", 3000);
		cr_assert_not_null(ev, "no %s of %s", states[i], task);
		cr_assert_str_eq(sim_jstr(ev, "update.status.state"), states[i]);
		json_decref(ev);
		cr_assert_eq(sim_fw_ack(f, a->id, task, uu), 202);
	}
}

/* The ids listed at `list` of the answer to operator call `type`, as one
 * sorted, comma-separated string at `out`. */
static void ids_of(const char *type, const char *list, const char *id_path, char *out, size_t n)
{
	char body[128];
	snprintf(body, sizeof(body), "{\"type\":\"%s\"}", type);
	int status;
	json_t *j = sim_op_call(body, &status, NULL, 0);
	cr_assert_eq(status, 200);
	json_t *arr = sim_jget(j, list);
	const char *ids[16];
	size_t k = 0;
	for (size_t i = 0; i < json_array_size(arr) && k < 16; i++)
		ids[k++] = sim_jstr(json_array_get(arr, i), id_path);
	for (size_t i = 0; i < k; i++)
		for (size_t m = i + 1; m < k; m++)
			if (strcmp(ids[m], ids[i]) < 0) {
				const char *t = ids[i];
				ids[i] = ids[m];
				ids[m] = t;
			}
	out[0] = '\0';
	for (size_t i = 0; i < k; i++)
		snprintf(out + strlen(out), n - strlen(out), "%s%s", i ? "," : "", ids[i]);
	json_decref(j);
}

static void sorted_pair(const char *x, const char *y, char *out, size_t n)
{
	snprintf(out, n, "%s,%s", strcmp(x, y) < 0 ? x : y, strcmp(x, y) < 0 ? y : x);
}

Test(master_disk_full, refuses_what_it_cannot_record_serves_the_rest_and_recovers)
{
	struct sim_peer a1, f1;
	sim_start_with(&a1, "a1", &f1);
	run_task(&f1, &a1, "before", 0);
	cr_assert(healthy());
	cr_assert(get_health());

	fill_up();

	/* A new framework and a new agent cannot be recorded: 503, twice
	 * (the episode is logged once). */
	for (int i = 0; i < 2; i++) {
		assert_refused("/api/v1/scheduler", SUBSCRIBE_NEW);
		assert_refused("/api/v1/agent", REGISTER_NEW);
	}
	/* Weights neither, and nothing of them is applied. */
	assert_refused("/api/v1", "{\"type\":\"UPDATE_WEIGHTS\",\"update_weights\":{"
	                          "\"weight_infos\":[{\"role\":\"heavy\",\"weight\":3}]}}");

	char *b = NULL;
	cr_assert_eq(health(&b), 503, "%s", b);
	cr_assert(strstr(b, "unhealthy") && strstr(b, "the registry cannot be written"), "%s", b);
	free(b);
	cr_assert(!get_health());

	/* The registered framework goes on launching, its updates flow. */
	run_task(&f1, &a1, "during", 2);
	/* GET calls are answered: still one framework and one agent. */
	char ids[512], want[512];
	ids_of("GET_FRAMEWORKS", "get_frameworks.frameworks", "framework_info.id.value", ids,
	       sizeof(ids));
	cr_assert_str_eq(ids, f1.id);
	ids_of("GET_AGENTS", "get_agents.agents", "agent_info.id.value", ids, sizeof(ids));
	cr_assert_str_eq(ids, a1.id);
	int status;
	json_t *w = sim_op_call("{\"type\":\"GET_WEIGHTS\"}", &status, NULL, 0);
	cr_assert_eq(status, 200);
	cr_assert_eq(json_array_size(sim_jget(w, "get_weights.weight_infos")), 0);
	json_decref(w);
	cr_assert_eq(log_lines("the registry cannot be written"), 1,
	             "the episode is logged once, not per call (log %s)", sim_log_path);

	free_space();
	/* Healthy again by itself, no call needed. */
	WAIT_FOR(healthy(), 5000);
	cr_assert(get_health());
	cr_assert_eq(log_lines("the registry can be written again"), 1);

	struct sim_peer a2, f2;
	sim_fw_subscribe(&f2, NULL, NULL);
	sim_agent_register(&a2, "a2", SIM_AGENT_RES);
	cr_assert_str_neq(f2.id, f1.id);
	cr_assert_str_neq(a2.id, a1.id);
	run_task(&f1, &a1, "after", 0);

	/* SIGKILL: what was acknowledged is all there, and only that. */
	sim_kill_master();
	sim_start_master(NULL, 0);
	ids_of("GET_FRAMEWORKS", "get_frameworks.frameworks", "framework_info.id.value", ids,
	       sizeof(ids));
	sorted_pair(f1.id, f2.id, want, sizeof(want));
	cr_assert_str_eq(ids, want, "frameworks after the restart");
	ids_of("GET_AGENTS", "get_agents.recovered_agents", "id.value", ids, sizeof(ids));
	sorted_pair(a1.id, a2.id, want, sizeof(want));
	cr_assert_str_eq(ids, want, "agents after the restart");
	w = sim_op_call("{\"type\":\"GET_WEIGHTS\"}", &status, NULL, 0);
	cr_assert_eq(status, 200);
	cr_assert_eq(json_array_size(sim_jget(w, "get_weights.weight_infos")), 0,
	             "a refused UPDATE_WEIGHTS was kept");
	json_decref(w);
	cr_assert(healthy());
}

Test(master_disk_full, what_needs_no_write_works_and_a_refused_teardown_changes_nothing)
{
	struct sim_peer a1, f1;
	sim_start_with(&a1, "a1", &f1);
	char fw_id[256];
	snprintf(fw_id, sizeof(fw_id), "%s", f1.id);

	fill_up();
	/* TEARDOWN, by the framework and by an operator: 503, the framework
	 * stays subscribed. */
	char body[512];
	snprintf(body, sizeof(body), "{\"type\":\"TEARDOWN\",\"framework_id\":{\"value\":\"%s\"}}",
	         fw_id);
	char *answer = NULL;
	int s = sim_peer_call(&f1, body, &answer);
	cr_assert_eq(s, 503, "%d: %s", s, answer);
	cr_assert(strstr(answer, "the registry cannot be written"), "%s", answer);
	free(answer);
	snprintf(body, sizeof(body),
	         "{\"type\":\"TEARDOWN\",\"teardown\":{\"framework_id\":{\"value\":\"%s\"}}}",
	         fw_id);
	assert_refused("/api/v1", body);
	/* MARK_AGENT_GONE and DRAIN_AGENT: refused, the agent untouched. */
	snprintf(body, sizeof(body),
	         "{\"type\":\"MARK_AGENT_GONE\",\"mark_agent_gone\":{\"agent_id\":{\"value\":"
	         "\"%s\"}}}",
	         a1.id);
	assert_refused("/api/v1", body);
	snprintf(body, sizeof(body),
	         "{\"type\":\"DRAIN_AGENT\",\"drain_agent\":{\"agent_id\":{\"value\":\"%s\"}}}",
	         a1.id);
	assert_refused("/api/v1", body);
	json_t *ag = sim_get_agent(a1.id);
	cr_assert_not_null(ag, "the agent is no longer listed");
	cr_assert_null(sim_jget(ag, "drain_info"));
	cr_assert_null(sim_jget(ag, "deactivated"));
	json_decref(ag);
	run_task(&f1, &a1, "still", 0);

	/* A failover with the same FrameworkInfo, and a re-registration of
	 * the same agent, record nothing new: they work on a full disk. */
	sim_agent_reregister(&a1, "a1", SIM_AGENT_RES, "[]", "[]");
	sim_peer_close(&f1);
	sim_fw_subscribe(&f1, fw_id, NULL);
	cr_assert_str_eq(f1.id, fw_id);
	run_task(&f1, &a1, "failed-over", 2);
	cr_assert(!healthy(), "healthy again though nothing was written");
	/* One with a new FrameworkInfo must be recorded: refused. */
	snprintf(body, sizeof(body),
	         "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"id\":{\"value\":"
	         "\"%s\"},\"user\":\"root\",\"name\":\"renamed\",\"failover_timeout\":30}}}",
	         fw_id);
	assert_refused("/api/v1/scheduler", body);

	/* Killed while full: the framework was never removed, the agent
	 * never drained or gone. */
	sim_kill_master();
	free_space();
	sim_start_master(NULL, 0);
	char ids[512];
	ids_of("GET_FRAMEWORKS", "get_frameworks.frameworks", "framework_info.id.value", ids,
	       sizeof(ids));
	cr_assert_str_eq(ids, fw_id);
	int status;
	json_t *j = sim_op_call("{\"type\":\"GET_FRAMEWORKS\"}", &status, NULL, 0);
	cr_assert_str_eq(sim_jstr(j, "get_frameworks.frameworks.0.framework_info.name"), "fw",
	                 "the refused rename was kept");
	json_decref(j);
	ids_of("GET_AGENTS", "get_agents.recovered_agents", "id.value", ids, sizeof(ids));
	cr_assert_str_eq(ids, a1.id);
	sim_agent_reregister(&a1, "a1", SIM_AGENT_RES, "[]", "[]");
	ag = sim_get_agent(a1.id);
	cr_assert_not_null(ag);
	cr_assert_null(sim_jget(ag, "drain_info"), "a refused DRAIN_AGENT was kept");
	json_decref(ag);
	/* And the framework can be torn down now. */
	snprintf(body, sizeof(body),
	         "{\"type\":\"TEARDOWN\",\"teardown\":{\"framework_id\":{\"value\":\"%s\"}}}",
	         fw_id);
	j = sim_op_call(body, &status, NULL, 0);
	cr_assert_eq(status, 200);
	json_decref(j);
}
