/* Host tests: an agent cannot be impersonated (issue 12, part 6;
 * docs/agent-protocol.md, Agent secret). agora-master as a process with
 * simulated agents and frameworks (tests/lib/master_sim), and the real
 * agora-agent against it: the secret the master issues at the first
 * registration, required on REREGISTER, STATUS_UPDATE(S) and HEARTBEAT
 * (403 and nothing changed without it), durable on both sides across a
 * SIGKILL; a registration_order from the future; the migration of agents
 * admitted before secrets. */
#include "master_sim.h"
#include "registry_test.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

TestSuite(asecret, .init = sim_init, .fini = sim_fini, .timeout = 120);

#define ORDER(start, seq) "{\"agent_started_ns\":" #start ",\"seq\":" #seq "}"
#define EVIL_RES          "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1000}}]"
#define OTHER_SECRET      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static char *task_state(const char *task)
{
	json_t *gt = sim_get_tasks();
	const char *s = sim_listed(gt, "tasks", task);
	char *copy = strdup(s ? s : "(not running)");
	json_decref(gt);
	return copy;
}

/* A registration (REGISTER or REREGISTER `body`) on a connection of its own,
 * with `secret` in the secret header (NULL: none). A refusal's body in
 * *ret_body (malloc'ed, "" for an accepted one, whose stream is closed at
 * once). The HTTP status. */
static int try_register(const char *body, const char *secret, char **ret_body)
{
	struct mc_conn *c = mc_connect(sim_port);
	cr_assert_not_null(c);
	char hdr[160] = "";
	if (secret)
		snprintf(hdr, sizeof(hdr), SIM_SECRET_HEADER ": %s\r\n", secret);
	struct mc_response r = {0};
	cr_assert_eq(mc_post_json(c, "/api/v1/agent", hdr, body, &r), 0);
	if (r.status != 200)
		cr_assert_eq(mc_read_body(c, &r), 0);
	mc_close(c);
	*ret_body = strdup(r.status != 200 && r.body ? r.body : "");
	int status = r.status;
	mc_response_free(&r);
	return status;
}

/* A POST of the agent protocol with the stream id `sid` and `secret` (NULL:
 * no header): the status; the body (malloc'ed) in *ret when not NULL. */
static int agent_post(const char *sid, const char *secret, const char *body, char **ret)
{
	char headers[512], hdr[160] = "";
	if (secret)
		snprintf(hdr, sizeof(hdr), SIM_SECRET_HEADER ": %s\r\n", secret);
	snprintf(headers, sizeof(headers),
	         "Content-Type: application/json\r\nMesos-Stream-Id: %s\r\n%s", sid, hdr);
	struct mc_response r = {0};
	cr_assert_eq(mc_request(sim_port, "POST", "/api/v1/agent", headers, body, &r), 0);
	if (ret)
		*ret = strdup(r.body ? r.body : "");
	int s = r.status;
	mc_response_free(&r);
	return s;
}

/* A STATUS_UPDATE (`batch` false) or a STATUS_UPDATES of one update. */
static char *update_body(bool batch, const char *agent, const char *fw, const char *task,
                         const char *state, const char *uuid)
{
	char *b = NULL;
	cr_assert_geq(
	        asprintf(&b,
	                 "{\"type\":\"%s\",\"agent_id\":{\"value\":\"%s\"},\"%s\":%s{"
	                 "\"framework_id\":{\"value\":\"%s\"},\"status\":{\"task_id\":{"
	                 "\"value\":\"%s\"},\"state\":\"%s\",\"source\":\"SOURCE_EXECUTOR\","
	                 "\"agent_id\":{\"value\":\"%s\"},\"timestamp\":1700000000.5,\"uuid\":"
	                 "\"%s\"}}%s}",
	                 batch ? "STATUS_UPDATES" : "STATUS_UPDATE", agent,
	                 batch ? "status_updates" : "status_update", batch ? "{\"updates\":[" : "",
	                 fw, task, state, agent, uuid, batch ? "]}" : ""),
	        0);
	return b;
}

/* Agent `a` registered, framework `f` subscribed, task t1 launched on `a`,
 * RUNNING and acknowledged. Its TaskInfo and FrameworkInfo (malloc'ed) in
 * *ret_task and *ret_fw for a REREGISTER. */
static void t1_running(struct sim_peer *a, struct sim_peer *f, char **ret_task, char **ret_fw)
{
	sim_agent_register(a, "a1", SIM_AGENT_RES);
	cr_expect_eq(strlen(sim_agent_secret(a->id)), 64, "REGISTERED carried no secret");
	sim_fw_subscribe(f, NULL, NULL);
	char offer[256];
	sim_next_offer(f, 3000, offer);
	cr_assert_eq(sim_fw_launch(f, offer, a->id, "t1", "1", NULL), 202);
	json_t *run = sim_peer_next(a, "RUN_TASK", 3000);
	cr_assert_not_null(run, "no RUN_TASK");
	*ret_task = json_dumps(sim_jget(run, "run_task.task"), JSON_COMPACT);
	*ret_fw = json_dumps(sim_jget(run, "run_task.framework_info"), JSON_COMPACT);
	json_decref(run);
	cr_assert_eq(sim_agent_update(a, f->id, "t1", "TASK_RUNNING", SIM_UUIDS[0]), 202);
	json_t *ev = sim_peer_next(f, "UPDATE", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(sim_jstr(ev, "update.status.state"), "TASK_RUNNING");
	json_decref(ev);
	cr_assert_eq(sim_fw_ack(f, a->id, "t1", SIM_UUIDS[0]), 202);
}

/* ---- the reproduction ------------------------------------------------------ */

/* Issue 12: a REREGISTER with the real agent's id, no tasks, hostname
 * "evil", 1,000 cpus and registration_order at 2^63-1 turned the agent's
 * running task TASK_LOST, replaced its record and locked the real agent
 * out (409). Any task can send it (command tasks share the host's
 * network). */
Test(asecret, an_impersonating_reregister_is_refused_and_changes_nothing)
{
	sim_start_master(NULL, 0);
	struct sim_peer a = {0}, f = {0}, a2 = {0};
	char *task = NULL, *fwinfo = NULL, *why = NULL;
	t1_running(&a, &f, &task, &fwinfo);

	char *evil = sim_agent_reregister_body(a.id, "evil", EVIL_RES, "[]", "[]",
	                                       ORDER(9223372036854775807, 1));
	int status = try_register(evil, NULL, &why);
	cr_assert_eq(status, 403, "the impersonator was answered %d: %s", status, why);
	cr_expect(strstr(why, SIM_SECRET_HEADER " header is missing"), "%s", why);
	free(why);
	cr_expect(sim_log_has(" WARN +agent .*REREGISTER from .* without a secret: refused"),
	          "no warning in %s", sim_log_path);

	/* Nothing changed: t1 runs, the framework heard nothing, the agent's
	 * record is its own. */
	char *st = task_state("t1");
	cr_expect_str_eq(st, "TASK_RUNNING");
	free(st);
	cr_expect_null(sim_peer_next(&f, "UPDATE", 500), "the framework heard of t1");
	json_t *ag = sim_get_agent(a.id);
	cr_assert_not_null(ag);
	cr_expect_str_eq(sim_jstr(ag, "agent_info.hostname"), "a1");
	cr_expect(json_is_true(sim_jget(ag, "active")));
	cr_expect_float_eq(json_number_value(sim_jget(ag, "total_resources.0.scalar.value")), 2.0,
	                   1e-9);
	json_decref(ag);

	/* The real agent keeps working on its stream... */
	char hb[400];
	snprintf(hb, sizeof(hb), "{\"type\":\"HEARTBEAT\",\"agent_id\":{\"value\":\"%s\"}}", a.id);
	cr_expect_eq(sim_peer_call(&a, hb, NULL), 202);
	cr_expect_null(sim_peer_next(&a, "KILL_TASK", 300));
	cr_expect_null(sim_peer_next(&a, "ERROR", 100));
	/* ...and is not locked out: it re-registers (reporting t1) with an
	 * order of now, which the impersonator's end-of-time order would
	 * have made stale. */
	char id[256], list[8192], order[128];
	snprintf(id, sizeof(id), "%s", a.id);
	snprintf(list, sizeof(list),
	         "[{\"framework_id\":{\"value\":\"%s\"},\"task\":%s,\"status\":{\"task_id\":{"
	         "\"value\":\"t1\"},\"state\":\"TASK_RUNNING\"}}]",
	         f.id, task);
	snprintf(order, sizeof(order), "{\"agent_started_ns\":%llu,\"seq\":1}",
	         (unsigned long long)(uint64_t)ag_wall_ns());
	char fws[8192];
	snprintf(fws, sizeof(fws), "[%s]", fwinfo);
	sim_peer_close(&a);
	snprintf(a2.id, sizeof(a2.id), "%s", id);
	sim_agent_reregister_order(&a2, "a1", SIM_AGENT_RES, fws, list, order);
	cr_expect_null(sim_peer_next(&f, "UPDATE", 500), "the re-registration ended t1");
	cr_assert_eq(sim_agent_update(&a2, f.id, "t1", "TASK_FINISHED", SIM_UUIDS[1]), 202);
	sim_expect_update(&f, "TASK_FINISHED");
	free(evil);
	free(task);
	free(fwinfo);
	sim_stop_master_clean();
}

/* ---- a wrong secret, on every call ---------------------------------------- */

Test(asecret, a_wrong_or_missing_secret_is_403_on_every_call)
{
	sim_start_master(NULL, 0);
	struct sim_peer a = {0}, f = {0};
	char *task = NULL, *fwinfo = NULL, *why = NULL;
	t1_running(&a, &f, &task, &fwinfo);
	const char *secret = sim_agent_secret(a.id);

	/* REREGISTER: another secret, a prefix of it, the header empty. */
	char *rereg = sim_agent_reregister_body(a.id, "a1", SIM_AGENT_RES, "[]", "[]", NULL);
	cr_expect_eq(try_register(rereg, OTHER_SECRET, &why), 403);
	cr_expect(strstr(why, "header is not the agent's secret"), "%s", why);
	free(why);
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "%.63s", secret);
	cr_expect_eq(try_register(rereg, prefix, &why), 403);
	free(why);
	cr_expect_eq(try_register(rereg, "", &why), 403);
	free(why);

	/* STATUS_UPDATE, STATUS_UPDATES and HEARTBEAT on the agent's own
	 * stream id (what a sniffer of the loopback could learn): the secret
	 * is still required. */
	char *fail = update_body(false, a.id, f.id, "t1", "TASK_FAILED", SIM_UUIDS[2]);
	cr_expect_eq(agent_post(a.stream_id, OTHER_SECRET, fail, &why), 403);
	cr_expect(strstr(why, "STATUS_UPDATE of agent"), "%s", why);
	free(why);
	cr_expect_eq(agent_post(a.stream_id, NULL, fail, NULL), 403);
	char *batch = update_body(true, a.id, f.id, "t1", "TASK_FAILED", SIM_UUIDS[2]);
	cr_expect_eq(agent_post(a.stream_id, OTHER_SECRET, batch, NULL), 403);
	char hb[400];
	snprintf(hb, sizeof(hb), "{\"type\":\"HEARTBEAT\",\"agent_id\":{\"value\":\"%s\"}}", a.id);
	cr_expect_eq(agent_post(a.stream_id, OTHER_SECRET, hb, NULL), 403);
	cr_expect_eq(agent_post(a.stream_id, NULL, hb, NULL), 403);

	/* Nothing changed. */
	char *st = task_state("t1");
	cr_expect_str_eq(st, "TASK_RUNNING");
	free(st);
	cr_expect_null(sim_peer_next(&f, "UPDATE", 500), "a refused update reached the framework");
	cr_expect(sim_log_has(" WARN +agent .*STATUS_UPDATE from .* with a wrong secret: refused"),
	          "no warning in %s", sim_log_path);

	/* With the secret, the same calls are taken. */
	cr_expect_eq(agent_post(a.stream_id, secret, hb, NULL), 202);
	cr_expect_eq(agent_post(a.stream_id, secret, batch, NULL), 202);
	sim_expect_update(&f, "TASK_FAILED");
	free(batch);
	free(fail);
	free(rereg);
	free(task);
	free(fwinfo);
	sim_stop_master_clean();
}

/* ---- registration_order from the future ---------------------------------- */

Test(asecret, a_registration_order_from_the_future_is_refused)
{
	sim_start_master(NULL, 0);
	struct sim_peer a = {0}, a2 = {0};
	sim_agent_register(&a, "a1", SIM_AGENT_RES);
	const char *secret = sim_agent_secret(a.id);
	char order[128], *why = NULL;

	/* An hour ahead, with the agent's own secret: refused, naming the
	 * field; the agent's stream stays. */
	snprintf(order, sizeof(order), "{\"agent_started_ns\":%llu,\"seq\":1}",
	         (unsigned long long)((uint64_t)ag_wall_ns() + 3600ull * 1000000000u));
	char *body = sim_agent_reregister_body(a.id, "a1", SIM_AGENT_RES, "[]", "[]", order);
	cr_assert_eq(try_register(body, secret, &why), 400);
	cr_expect(strstr(why, "reregister.registration_order.agent_started_ns: "),
	          "the field is not named: %s", why);
	cr_expect(strstr(why, "more than 300 s ahead of the master's clock"), "%s", why);
	free(why);
	free(body);
	char hb[400];
	snprintf(hb, sizeof(hb), "{\"type\":\"HEARTBEAT\",\"agent_id\":{\"value\":\"%s\"}}", a.id);
	cr_expect_eq(sim_peer_call(&a, hb, NULL), 202, "the refused one replaced the stream");

	/* A new agent's REGISTER too. */
	snprintf(order, sizeof(order), "{\"agent_started_ns\":%llu,\"seq\":1}",
	         (unsigned long long)((uint64_t)ag_wall_ns() + 600ull * 1000000000u));
	char *reg = NULL;
	cr_assert_geq(asprintf(&reg,
	                       "{\"type\":\"REGISTER\",\"register\":{\"agent_info\":{\"hostname\":"
	                       "\"a2\",\"resources\":" SIM_AGENT_RES
	                       "},\"registration_order\":%s}}",
	                       order),
	              0);
	cr_assert_eq(try_register(reg, NULL, &why), 400);
	cr_expect(strstr(why, "register.registration_order.agent_started_ns: "), "%s", why);
	free(why);
	free(reg);

	/* Within the bound it is taken, and the agent is not locked out. */
	snprintf(order, sizeof(order), "{\"agent_started_ns\":%llu,\"seq\":1}",
	         (unsigned long long)(uint64_t)ag_wall_ns());
	char id[256];
	snprintf(id, sizeof(id), "%s", a.id);
	sim_peer_close(&a);
	snprintf(a2.id, sizeof(a2.id), "%s", id);
	sim_agent_reregister_order(&a2, "a1", SIM_AGENT_RES, "[]", "[]", order);
	cr_expect_eq(sim_peer_call(&a2, hb, NULL), 202);
	sim_stop_master_clean();
}

/* A REREGISTER of an id of the master's form it has not handed out yet
 * (made up by a task) may not take the id of the next agent to register:
 * the two would share one record, one allocator entry and one secret. */
Test(asecret, an_id_squatted_by_a_reregister_is_not_handed_out_again)
{
	sim_start_master(NULL, 0);
	struct sim_peer a = {0}, squat = {0}, b = {0};
	sim_agent_register(&a, "a1", SIM_AGENT_RES);
	size_t n = strlen(a.id);
	cr_assert(n > 3 && strcmp(a.id + n - 3, "-S0") == 0, "agent id %s", a.id);
	char next[256];
	snprintf(next, sizeof(next), "%.*s-S1", (int)(n - 3), a.id);
	snprintf(squat.id, sizeof(squat.id), "%s", next);
	sim_agent_reregister(&squat, "evil", SIM_AGENT_RES, "[]", "[]");
	sim_agent_register(&b, "a2", SIM_AGENT_RES);
	cr_expect_str_neq(b.id, next, "the new agent got the squatted id");
	cr_expect_str_neq(sim_agent_secret(b.id), sim_agent_secret(next));
	json_t *ag = sim_get_agent(b.id);
	cr_assert_not_null(ag);
	cr_expect_str_eq(sim_jstr(ag, "agent_info.hostname"), "a2");
	json_decref(ag);
	ag = sim_get_agent(next);
	cr_assert_not_null(ag);
	cr_expect_str_eq(sim_jstr(ag, "agent_info.hostname"), "evil");
	json_decref(ag);
	sim_stop_master_clean();
}

/* ---- durability ------------------------------------------------------------- */

static mode_t mode_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

Test(asecret, the_secret_survives_a_master_sigkill_and_is_not_reissued)
{
	sim_start_master(NULL, 0);
	struct sim_peer a = {0}, a2 = {0};
	sim_agent_register(&a, "a1", SIM_AGENT_RES);
	char id[256], secret[80], path[400], *why = NULL;
	snprintf(id, sizeof(id), "%s", a.id);
	snprintf(secret, sizeof(secret), "%s", sim_agent_secret(id));
	sim_peer_close(&a);
	sim_kill_master();
	/* Only the master's user reads the registry: it holds the secrets. */
	snprintf(path, sizeof(path), "%s/registry.db", sim_work_dir);
	cr_expect_eq(mode_of(path), 0600, "registry.db is %o", mode_of(path));
	snprintf(path, sizeof(path), "%s/registry.db-wal", sim_work_dir);
	cr_expect(mode_of(path) == (mode_t)-1 || mode_of(path) == 0600, "registry.db-wal is %o",
	          mode_of(path));

	sim_start_master(NULL, 0);
	char *body = sim_agent_reregister_body(id, "evil", EVIL_RES, "[]", "[]", NULL);
	cr_expect_eq(try_register(body, NULL, &why), 403, "%s", why);
	free(why);
	cr_expect_eq(try_register(body, OTHER_SECRET, &why), 403, "%s", why);
	free(why);
	free(body);
	/* With it: in, and REGISTERED carries no new secret. */
	snprintf(a2.id, sizeof(a2.id), "%s", id);
	char hdr[160];
	snprintf(hdr, sizeof(hdr), SIM_SECRET_HEADER ": %s\r\n", secret);
	body = sim_agent_reregister_body(id, "a1", SIM_AGENT_RES, "[]", "[]", NULL);
	cr_assert_eq(sim_peer_open_headers(&a2, "/api/v1/agent", hdr, body), 200);
	free(body);
	json_t *ev = sim_peer_next(&a2, "REGISTERED", 3000);
	cr_assert_not_null(ev);
	cr_expect_null(sim_jget(ev, "registered.agent_secret"), "the secret was sent again");
	json_decref(ev);
	json_t *ag = sim_get_agent(id);
	cr_assert_not_null(ag);
	cr_expect_str_eq(sim_jstr(ag, "agent_info.hostname"), "a1");
	char *shown = json_dumps(ag, JSON_COMPACT);
	cr_expect_null(strstr(shown, secret), "GET_AGENTS shows the secret");
	free(shown);
	json_decref(ag);
	sim_stop_master_clean();
}

/* The registry of a master older than secrets: schema 1, an agent without
 * one. Its first re-registration gets one (the trust-on-first-use window
 * docs/agent-protocol.md describes); from then on it is required. */
Test(asecret, an_agent_admitted_before_secrets_gets_one_at_its_next_registration)
{
	char db[400];
	cr_assert_eq(mkdir(sim_work_dir, 0700), 0);
	snprintf(db, sizeof(db), "%s/registry.db", sim_work_dir);
	rgt_create_v1(db,
	              "INSERT INTO agents VALUES ('S-old', 'a1', '{\"hostname\":\"a1\"}', 1, 0);");

	sim_start_master(NULL, 0);
	cr_expect_eq(mode_of(db), 0600, "the old registry stays %o", mode_of(db));
	struct sim_peer a = {0}, a2 = {0};
	snprintf(a.id, sizeof(a.id), "S-old");
	sim_agent_reregister(&a, "a1", SIM_AGENT_RES, "[]", "[]");
	const char *secret = sim_agent_secret("S-old");
	cr_assert_eq(strlen(secret), 64, "no secret issued: `%s`", secret);
	cr_expect(sim_log_has(" WARN +agent S-old .*had no secret .*issued one"),
	          "no warning in %s", sim_log_path);

	/* Durable at once, in the migrated schema. */
	sqlite3 *s = NULL;
	cr_assert_eq(sqlite3_open_v2(db, &s, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *q = NULL;
	cr_assert_eq(
	        sqlite3_prepare_v2(s, "SELECT secret FROM agents WHERE id = 'S-old'", -1, &q, NULL),
	        SQLITE_OK);
	cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
	cr_expect_str_eq((const char *)sqlite3_column_text(q, 0), secret);
	sqlite3_finalize(q);
	sqlite3_close(s);

	/* Its REGISTERED may have been lost with the connection: until the
	 * agent presents the secret, a re-registration without one is issued
	 * another (and the first is void). */
	char first[80], second[80];
	snprintf(first, sizeof(first), "%s", secret);
	sim_peer_close(&a);
	char *plain = sim_agent_reregister_body("S-old", "a1", SIM_AGENT_RES, "[]", "[]", NULL);
	cr_assert_eq(sim_peer_open(&a2, "/api/v1/agent", plain), 200);
	free(plain);
	json_t *ev = sim_peer_next(&a2, "REGISTERED", 3000);
	cr_assert_not_null(ev);
	cr_assert_not_null(sim_jstr(ev, "registered.agent_secret"), "no second secret");
	snprintf(second, sizeof(second), "%s", sim_jstr(ev, "registered.agent_secret"));
	json_decref(ev);
	cr_expect_str_neq(second, first);
	cr_expect(
	        sim_log_has("S-old .*the one issued at its last registration was never presented"));

	/* Presented once (a HEARTBEAT), it is required: without it, or with
	 * the void one, 403. */
	char hb[400];
	snprintf(hb, sizeof(hb), "{\"type\":\"HEARTBEAT\",\"agent_id\":{\"value\":\"S-old\"}}");
	cr_expect_eq(agent_post(a2.stream_id, first, hb, NULL), 403);
	cr_expect_eq(agent_post(a2.stream_id, second, hb, NULL), 202);
	char *why = NULL;
	char *body = sim_agent_reregister_body("S-old", "evil", EVIL_RES, "[]", "[]", NULL);
	cr_expect_eq(try_register(body, NULL, &why), 403, "%s", why);
	free(why);
	cr_expect_eq(try_register(body, first, &why), 403, "%s", why);
	free(why);
	free(body);
	cr_expect_eq(agent_post(a2.stream_id, second, hb, NULL), 202, "the refusals changed it");
	sim_stop_master_clean();
}

/* ---- the real agent --------------------------------------------------------- */

static pid_t agent_pid = -1;
static char agent_dir[400], agent_log[400];

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

static void start_agent(int op_port)
{
	char bin[512], master[64], port[16];
	const char *b = getenv("AGORA_BUILD_DIR");
	snprintf(bin, sizeof(bin), "%s/bin/agora-agent", b ? b : "build");
	snprintf(master, sizeof(master), "127.0.0.1:%u", sim_port);
	snprintf(port, sizeof(port), "%d", op_port);
	agent_pid = fork();
	cr_assert_geq(agent_pid, 0);
	if (agent_pid == 0) {
		/* Not outliving a test that failed half way. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() == 1)
			_exit(127);
		int fd = open(agent_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		dup2(fd, 2);
		const char *argv[] = {bin,          "--master",    master,
		                      "--work_dir", agent_dir,     "--no_isolation",
		                      "--hostname", "h1",          "--registration_backoff_ms",
		                      "100",        "--resources", "cpus:2;mem:1024",
		                      "--port",     port,          NULL};
		execv(bin, (char *const *)argv);
		_exit(127);
	}
}

static void kill_agent(void)
{
	if (agent_pid > 0) {
		kill(agent_pid, SIGKILL);
		waitpid(agent_pid, NULL, 0);
	}
	agent_pid = -1;
}

/* The only agent's GetAgents.Agent once it is active (with a
 * reregistered_time when `rereg`) within `secs`; NULL otherwise. */
static json_t *wait_active(bool rereg, double secs)
{
	for (uint64_t end = (uint64_t)ag_wall_ns() + (uint64_t)(secs * 1e9);
	     (uint64_t)ag_wall_ns() < end; usleep(50000)) {
		int status;
		json_t *g = sim_op_call("{\"type\":\"GET_AGENTS\"}", &status, NULL, 0);
		json_t *ag = sim_jget(g, "get_agents.agents.0");
		if (status == 200 && ag && json_is_true(json_object_get(ag, "active")) &&
		    (!rereg || json_object_get(ag, "reregistered_time"))) {
			json_incref(ag);
			json_decref(g);
			return ag;
		}
		json_decref(g);
	}
	return NULL;
}

static char *read_secret_file(void)
{
	char path[500], buf[256] = "";
	snprintf(path, sizeof(path), "%s/agent-secret", agent_dir);
	FILE *fp = fopen(path, "re");
	if (!fp)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return strdup(buf);
}

static bool agent_log_has(const char *ere)
{
	char cmd[900];
	snprintf(cmd, sizeof(cmd), "grep -qE -- '%s' %s", ere, agent_log);
	return system(cmd) == 0;
}

/* The real agent keeps its secret across its own SIGKILL and the master's,
 * and one that presents another secret is kept out with a log line that
 * says why. */
Test(asecret, the_real_agent_keeps_its_secret_across_sigkills, .timeout = 180)
{
	snprintf(agent_dir, sizeof(agent_dir), "%s/agent", sim_dir);
	snprintf(agent_log, sizeof(agent_log), "%s/agent.log", sim_dir);
	cr_assert_eq(mkdir(agent_dir, 0755), 0);
	sim_start_master(NULL, 0);
	int op_port = free_port();
	start_agent(op_port);
	json_t *ag = wait_active(false, 20);
	cr_assert_not_null(ag, "the agent did not register (log %s)", agent_log);
	char id[256];
	snprintf(id, sizeof(id), "%s", sim_jstr(ag, "agent_info.id.value"));
	json_decref(ag);
	/* The master has it once it sent REGISTERED; the agent, once it
	 * stored the secret and then its id, and logged so. */
	bool stored = false;
	for (int i = 0; i < 200 && !stored; i++, usleep(50000))
		stored = agent_log_has("registered as ");
	cr_assert(stored, "the agent did not log its registration (%s)", agent_log);

	char path[500];
	snprintf(path, sizeof(path), "%s/agent-secret", agent_dir);
	cr_expect_eq(mode_of(path), 0600, "agent-secret is %o", mode_of(path));
	char *secret = read_secret_file();
	cr_assert_not_null(secret);
	cr_assert_eq(strlen(secret), 65, "`%s`", secret);
	cr_expect_eq(secret[64], '\n');
	secret[64] = '\0';

	/* The master holds the same. */
	char db[400];
	snprintf(db, sizeof(db), "%s/registry.db", sim_work_dir);
	sqlite3 *s = NULL;
	cr_assert_eq(sqlite3_open_v2(db, &s, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *q = NULL;
	cr_assert_eq(sqlite3_prepare_v2(s, "SELECT secret FROM agents WHERE id = ?1", -1, &q, NULL),
	             SQLITE_OK);
	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
	cr_expect_str_eq((const char *)sqlite3_column_text(q, 0), secret);
	sqlite3_finalize(q);
	sqlite3_close(s);

	/* The agent SIGKILLed and started again: back in with its secret. */
	kill_agent();
	start_agent(op_port);
	ag = wait_active(true, 20);
	cr_assert_not_null(ag, "the restarted agent did not re-register (log %s)", agent_log);
	cr_expect_str_eq(sim_jstr(ag, "agent_info.id.value"), id);
	json_decref(ag);

	/* The master SIGKILLed and started again on its port: the agent's
	 * re-registration is taken on the secret in the registry. */
	uint16_t port = sim_port;
	sim_kill_master();
	sim_start_master(NULL, port);
	ag = wait_active(true, 30);
	cr_assert_not_null(ag, "the agent did not re-register with the restarted master");
	cr_expect_str_eq(sim_jstr(ag, "agent_info.id.value"), id);
	json_decref(ag);
	cr_expect_not(sim_log_has("refused"), "the master refused the agent (%s)", sim_log_path);
	char *again = read_secret_file();
	cr_expect_str_eq(again, strcat(secret, "\n"), "the secret changed");
	free(again);

	/* Another secret in its file: the master keeps it out (403), and the
	 * agent says why. */
	kill_agent();
	FILE *fp = fopen(path, "we");
	cr_assert_not_null(fp);
	fputs(OTHER_SECRET "\n", fp);
	fclose(fp);
	start_agent(op_port);
	bool said = false;
	for (int i = 0; i < 200 && !said; i++, usleep(50000))
		said = agent_log_has("answered 403 to the registration: it holds a secret for this "
		                     "agent that the agent presented another");
	cr_expect(said, "the agent did not say why it was refused (%s)", agent_log);
	cr_expect(sim_log_has("REREGISTER from .* with a wrong secret: refused"));
	kill_agent();

	/* A file that does not hold a secret stops the agent at start,
	 * naming it. */
	fp = fopen(path, "we");
	cr_assert_not_null(fp);
	fputs("not a secret\n", fp);
	fclose(fp);
	start_agent(op_port);
	int status = 0;
	for (int i = 0; i < 200 && agent_pid > 0; i++) {
		if (waitpid(agent_pid, &status, WNOHANG) == agent_pid)
			agent_pid = -1; /* reaped: never signalled again */
		else
			usleep(50000);
	}
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) != 0, "the agent ran (status %d)",
	          status);
	cr_expect(agent_log_has("agent-secret` does not hold a secret from the master"),
	          "no error naming the file in %s", agent_log);
	kill_agent();
	free(secret);
	sim_stop_master_clean();
}
