/* Host tests of how the master keeps and ends tasks, as processes:
 * agora-master on a free loopback port, simulated agents speaking
 * docs/agent-protocol.md and scripted frameworks speaking the v1 scheduler
 * API over real sockets. Covered: a launch lost in flight (the agent
 * re-registers without the task), agents back from a partition (TASK_LOST
 * tasks killed, TASK_UNREACHABLE ones running again), TASK_KILLING and the
 * TASK_KILLING_STATE capability, GET_TASKS' unreachable_tasks and
 * completed_tasks and GET_FRAMEWORKS' completed_frameworks with their
 * bounds, teardown and MARK_AGENT_GONE as an operator sees them. */
#include "agtest.h"
#include "master_client.h"
#include "proto/proto.h"

#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

static char tmp[256], work_dir[300], log_path[300];
static pid_t master_pid;
static uint16_t port;

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static struct mc_conn *opened[64];
static size_t n_opened;

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/agora-mtasks-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(work_dir, sizeof(work_dir), "%s/wd", tmp);
	snprintf(log_path, sizeof(log_path), "%s/master.log", tmp);
	master_pid = 0;
}

static void teardown(void)
{
	for (size_t i = 0; i < n_opened; i++)
		mc_close(opened[i]);
	n_opened = 0;
	if (master_pid > 0) {
		kill(master_pid, SIGKILL);
		waitpid(master_pid, NULL, 0);
	}
	master_pid = 0;
	nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(mtasks, .init = setup, .fini = teardown, .timeout = 60);

/* Start the master (extra flags NULL-terminated) and wait for its port. */
static void start_master(const char *const *args)
{
	int out[2];
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		const char *b = getenv("AGORA_BUILD_DIR");
		char bin[512], wd[320];
		snprintf(bin, sizeof(bin), "%s/bin/agora-master", b ? b : "build");
		snprintf(wd, sizeof(wd), "--work_dir=%s", work_dir);
		const char *argv[32] = {bin,
		                        "--port=0",
		                        "--log_level=debug",
		                        wd,
		                        "--heartbeat_interval=1secs",
		                        "--allocation_interval=100ms"};
		int n = 6;
		for (int i = 0; args && args[i]; i++)
			argv[n++] = args[i];
		int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		dup2(out[1], 1);
		dup2(logfd, 2);
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	close(out[1]);
	char line[256];
	size_t len = 0;
	struct pollfd pfd = {.fd = out[0], .events = POLLIN};
	while (len < sizeof(line) - 1 && poll(&pfd, 1, 5000) == 1) {
		if (read(out[0], line + len, 1) <= 0 || line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	close(out[0]);
	unsigned p;
	cr_assert_eq(sscanf(line, "listening on 127.0.0.1:%u", &p), 1, "master did not start");
	master_pid = pid;
	port = (uint16_t)p;
}

/* Close every connection, stop the master with SIGTERM and check it exited
 * 0 with a clean log: in an AGORA_SANITIZE build a leak or a sanitizer
 * report in what these tests drove fails them. */
static void stop_clean(void)
{
	for (size_t i = 0; i < n_opened; i++)
		mc_close(opened[i]);
	n_opened = 0;
	cr_assert_eq(kill(master_pid, SIGTERM), 0);
	int status = -1;
	for (int i = 0; i < 100 && waitpid(master_pid, &status, WNOHANG) == 0; i++)
		usleep(50 * 1000);
	master_pid = 0;
	char log[65536] = "";
	FILE *f = fopen(log_path, "r");
	if (f) {
		size_t n = fread(log, 1, sizeof(log) - 1, f);
		log[n] = '\0';
		fclose(f);
	}
	cr_assert(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d",
	          status);
	cr_assert_null(strstr(log, "Sanitizer"), "%s", log);
	cr_assert_null(strstr(log, "runtime error"), "%s", log);
}

/* ---- streams: frameworks, agents, operators ---------------------------- */

struct peer {
	struct mc_conn *c;
	char stream_id[128];
	char id[256];
	const char *path;
};

static int peer_open(struct peer *p, const char *path, const char *body)
{
	memset(p, 0, sizeof(*p));
	p->path = path;
	p->c = mc_connect(port);
	cr_assert_not_null(p->c);
	cr_assert_lt(n_opened, 64);
	opened[n_opened++] = p->c;
	char head[1024];
	int n = snprintf(head, sizeof(head),
	                 "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	                 "Content-Length: %zu\r\n\r\n",
	                 path, strlen(body));
	cr_assert_eq(mc_send(p->c, head, (size_t)n), 0);
	cr_assert_eq(mc_send(p->c, body, strlen(body)), 0);
	struct mc_response r = {0};
	cr_assert_eq(mc_read_head(p->c, &r), 0);
	const char *sid = mc_header(&r, "Mesos-Stream-Id");
	if (sid)
		snprintf(p->stream_id, sizeof(p->stream_id), "%s", sid);
	int status = r.status;
	mc_response_free(&r);
	return status;
}

static void peer_close(struct peer *p)
{
	for (size_t i = 0; i < n_opened; i++)
		if (opened[i] == p->c)
			opened[i] = opened[--n_opened];
	if (p->c)
		mc_close(p->c);
	p->c = NULL;
}

/* The next record within `ms`, of type `type` (others skipped) or of any
 * type when `type` is NULL; NULL on timeout or end of stream. */
static json_t *peer_next(struct peer *p, const char *type, int ms)
{
	uint64_t deadline = ag_now_ns() + (uint64_t)ms * 1000000;
	while (ag_now_ns() < deadline) {
		if (p->c->len == 0) {
			struct pollfd pfd = {.fd = p->c->fd, .events = POLLIN};
			int left = (int)((deadline - ag_now_ns()) / 1000000);
			if (poll(&pfd, 1, left > 0 ? left : 0) != 1)
				return NULL;
		}
		char *chunk = NULL;
		size_t len = 0;
		if (mc_read_chunk(p->c, &chunk, &len) < 0 || len == 0) {
			free(chunk);
			return NULL;
		}
		char *nl = strchr(chunk, '\n');
		cr_assert_not_null(nl, "record without a length line: %s", chunk);
		json_t *j = json_loads(nl + 1, 0, NULL);
		free(chunk);
		cr_assert_not_null(j);
		const char *t = json_string_value(json_object_get(j, "type"));
		if (!type || (t && strcmp(t, type) == 0))
			return j;
		json_decref(j);
	}
	return NULL;
}

/* The next record that is not a HEARTBEAT. */
static json_t *peer_next_event(struct peer *p, int ms)
{
	for (;;) {
		json_t *j = peer_next(p, NULL, ms);
		if (!j || strcmp(json_string_value(json_object_get(j, "type")), "HEARTBEAT") != 0)
			return j;
		json_decref(j);
	}
}

static int peer_call(struct peer *p, const char *body)
{
	char headers[256];
	snprintf(headers, sizeof(headers),
	         "Content-Type: application/json\r\nMesos-Stream-Id: %s\r\n", p->stream_id);
	struct mc_response r = {0};
	cr_assert_eq(mc_request(port, "POST", p->path, headers, body, &r), 0);
	int s = r.status;
	mc_response_free(&r);
	return s;
}

static json_t *jget(json_t *j, const char *path)
{
	/* "a.b.c": object keys; a number selects an array element. */
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *save, *k = strtok_r(buf, ".", &save); k && j; k = strtok_r(NULL, ".", &save))
		j = json_is_array(j) ? json_array_get(j, strtoul(k, NULL, 10))
		                     : json_object_get(j, k);
	return j;
}

static const char *jstr(json_t *j, const char *path)
{
	return json_string_value(jget(j, path));
}

static json_t *op_call(const char *body, int *status)
{
	struct mc_response r = {0};
	cr_assert_eq(
	        mc_request(port, "POST", "/api/v1", "Content-Type: application/json\r\n", body, &r),
	        0);
	if (status)
		*status = r.status;
	json_t *j = r.body ? json_loads(r.body, 0, NULL) : NULL;
	mc_response_free(&r);
	return j;
}

static json_t *get_tasks(void)
{
	int status;
	json_t *j = op_call("{\"type\":\"GET_TASKS\"}", &status);
	cr_assert_eq(status, 200);
	cr_assert_not_null(j);
	return j;
}

/* The state of `task` in GET_TASKS list `list` (tasks, unreachable_tasks,
 * completed_tasks), NULL when it is not there. */
static const char *listed(json_t *gt, const char *list, const char *task)
{
	json_t *arr = jget(gt, "get_tasks"), *t;
	size_t i;
	json_array_foreach (json_object_get(arr, list), i, t)
		if (strcmp(jstr(t, "task_id.value"), task) == 0)
			return jstr(t, "state");
	return NULL;
}

/* ---- the simulated agent ------------------------------------------------ */

#define AGENT_RES "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":2}}]"

static void agent_register(struct peer *a)
{
	cr_assert_eq(peer_open(a, "/api/v1/agent",
	                       "{\"type\":\"REGISTER\",\"register\":{\"agent_info\":{\"hostname\":"
	                       "\"a1\",\"port\":5051,\"resources\":" AGENT_RES
	                       "},\"version\":\"0.1.0\"}}"),
	             200);
	json_t *ev = peer_next(a, "REGISTERED", 3000);
	cr_assert_not_null(ev);
	snprintf(a->id, sizeof(a->id), "%s", jstr(ev, "registered.agent_id.value"));
	json_decref(ev);
}

/* Re-register as agent `id` reporting `tasks` (a JSON array of
 * {framework_id, task, status}) of the framework whose FrameworkInfo is
 * `fwinfo`. REGISTERED must be the first record. */
static void agent_reregister(struct peer *a, const char *id, const char *fwinfo, const char *tasks)
{
	char *body = NULL;
	cr_assert_geq(asprintf(&body,
	                       "{\"type\":\"REREGISTER\",\"agent_id\":{\"value\":\"%s\"},"
	                       "\"reregister\":{\"agent_info\":{\"id\":{\"value\":\"%s\"},"
	                       "\"hostname\":\"a1\",\"port\":5051,\"resources\":" AGENT_RES
	                       "},\"version\":\"0.1.0\",\"frameworks\":[%s],\"tasks\":%s}}",
	                       id, id, fwinfo, tasks),
	              0);
	cr_assert_eq(peer_open(a, "/api/v1/agent", body), 200);
	free(body);
	snprintf(a->id, sizeof(a->id), "%s", id);
	json_t *ev = peer_next_event(a, 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(jstr(ev, "type"), "REGISTERED");
	json_decref(ev);
}

static void agent_heartbeat(struct peer *a)
{
	char body[512];
	snprintf(body, sizeof(body), "{\"type\":\"HEARTBEAT\",\"agent_id\":{\"value\":\"%s\"}}",
	         a->id);
	cr_assert_eq(peer_call(a, body), 202);
}

static int uuid_n;

/* A STATUS_UPDATE with a fresh uuid, written to `uuid` (25 bytes). */
static int agent_update(struct peer *a, const char *fw, const char *task, const char *state,
                        char *uuid)
{
	uint8_t raw[PB_UUID_LEN] = {0};
	snprintf((char *)raw, sizeof(raw), "u%d-%s", ++uuid_n, task);
	char *b64 = pb_base64_encode(raw, sizeof(raw));
	snprintf(uuid, 25, "%s", b64);
	free(b64);
	char body[2048];
	snprintf(body, sizeof(body),
	         "{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":\"%s\"},\"status_update\":{"
	         "\"framework_id\":{\"value\":\"%s\"},\"status\":{\"task_id\":{\"value\":\"%s\"},"
	         "\"state\":\"%s\",\"source\":\"SOURCE_EXECUTOR\",\"agent_id\":{\"value\":\"%s\"},"
	         "\"timestamp\":1700000000.5,\"uuid\":\"%s\"}}}",
	         a->id, fw, task, state, a->id, uuid);
	return peer_call(a, body);
}

/* ---- the scripted framework ----------------------------------------------- */

static void fw_subscribe(struct peer *f, const char *caps)
{
	char body[1024];
	snprintf(body, sizeof(body),
	         "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":\"root\","
	         "\"name\":\"fw\",\"failover_timeout\":30,\"capabilities\":[%s]}}}",
	         caps ? caps : "");
	cr_assert_eq(peer_open(f, "/api/v1/scheduler", body), 200);
	json_t *ev = peer_next(f, "SUBSCRIBED", 3000);
	cr_assert_not_null(ev);
	snprintf(f->id, sizeof(f->id), "%s", jstr(ev, "subscribed.framework_id.value"));
	json_decref(ev);
}

static int fw_ack(struct peer *f, const char *agent, const char *task, const char *uuid)
{
	char body[1024];
	snprintf(body, sizeof(body),
	         "{\"type\":\"ACKNOWLEDGE\",\"framework_id\":{\"value\":\"%s\"},\"acknowledge\":{"
	         "\"agent_id\":{\"value\":\"%s\"},\"task_id\":{\"value\":\"%s\"},\"uuid\":\"%s\"}}",
	         f->id, agent, task, uuid);
	return peer_call(f, body);
}

/* Take the next offer and launch `n` tasks of `cpus` each, ids
 * `names[i]`, on it. */
static void fw_launch(struct peer *f, const char *agent, const char *const *names, size_t n,
                      const char *cpus)
{
	json_t *ev = peer_next(f, "OFFERS", 3000);
	cr_assert_not_null(ev, "no offer");
	char offer[256];
	snprintf(offer, sizeof(offer), "%s", jstr(ev, "offers.offers.0.id.value"));
	json_decref(ev);
	char infos[4096] = "";
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(infos);
		snprintf(
		        infos + l, sizeof(infos) - l,
		        "%s{\"name\":\"t\",\"task_id\":{\"value\":\"%s\"},\"agent_id\":{\"value\":"
		        "\"%s\"},\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{"
		        "\"value\":%s}}],\"command\":{\"value\":\"true\"}}",
		        i ? "," : "", names[i], agent, cpus);
	}
	char body[8192];
	snprintf(body, sizeof(body),
	         "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"%s\"},\"accept\":{"
	         "\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\","
	         "\"launch\":{\"task_infos\":[%s]}}],\"filters\":{\"refuse_seconds\":0}}}",
	         f->id, offer, infos);
	cr_assert_eq(peer_call(f, body), 202);
}

/* A RUN_TASK read from the agent's stream: the task and FrameworkInfo as
 * JSON text (malloc'ed), for a later REREGISTER. */
static void agent_take_run(struct peer *a, const char *task, char **ret_task, char **ret_fw)
{
	json_t *run = peer_next(a, "RUN_TASK", 3000);
	cr_assert_not_null(run, "no RUN_TASK for %s", task);
	cr_assert_str_eq(jstr(run, "run_task.task.task_id.value"), task);
	if (ret_task)
		*ret_task = json_dumps(jget(run, "run_task.task"), JSON_COMPACT);
	if (ret_fw)
		*ret_fw = json_dumps(jget(run, "run_task.framework_info"), JSON_COMPACT);
	json_decref(run);
}

/* {framework_id, task, status} as a REREGISTER lists it. */
static char *reported(const char *fw, const char *task_json, const char *task, const char *state)
{
	char *s = NULL;
	cr_assert_geq(asprintf(&s,
	                       "{\"framework_id\":{\"value\":\"%s\"},\"task\":%s,\"status\":{"
	                       "\"task_id\":{\"value\":\"%s\"},\"state\":\"%s\"}}",
	                       fw, task_json, task, state),
	              0);
	return s;
}

/* Sum of the scalar `name` in an OFFERS event's first offer. */
static double offered(json_t *ev, const char *name)
{
	double sum = 0;
	json_t *r;
	size_t i;
	json_array_foreach (jget(ev, "offers.offers.0.resources"), i, r)
		if (strcmp(jstr(r, "name"), name) == 0)
			sum += json_number_value(jget(r, "scalar.value"));
	return sum;
}

/* ---- a launch lost in flight ---------------------------------------------- */

static void lost_launch(const char *caps, const char *want_state)
{
	start_master(NULL);
	struct peer a, f, o;
	agent_register(&a);
	fw_subscribe(&f, caps);
	cr_assert_eq(peer_open(&o, "/api/v1", "{\"type\":\"SUBSCRIBE\"}"), 200);
	fw_launch(&f, a.id, (const char *const[]){"lost", "kept"}, 2, "1");
	char *kept_task = NULL, *fwinfo = NULL;
	/* The agent takes `kept`; `lost` never reaches it (its RUN_TASK is
	 * read here and dropped, as by an agent that died before recording
	 * it). */
	json_t *r1 = peer_next(&a, "RUN_TASK", 3000), *r2 = peer_next(&a, "RUN_TASK", 3000);
	cr_assert(r1 && r2);
	json_t *kept = strcmp(jstr(r1, "run_task.task.task_id.value"), "kept") == 0 ? r1 : r2;
	kept_task = json_dumps(jget(kept, "run_task.task"), JSON_COMPACT);
	fwinfo = json_dumps(jget(kept, "run_task.framework_info"), JSON_COMPACT);
	json_decref(r1);
	json_decref(r2);
	char uuid[25];
	cr_assert_eq(agent_update(&a, f.id, "kept", "TASK_RUNNING", uuid), 202);
	json_t *ev = peer_next(&f, "UPDATE", 3000);
	cr_assert_str_eq(jstr(ev, "update.status.task_id.value"), "kept");
	json_decref(ev);
	cr_assert_eq(fw_ack(&f, a.id, "kept", uuid), 202);
	json_t *gt = get_tasks();
	cr_assert_str_eq(listed(gt, "tasks", "lost"), "TASK_STAGING");
	json_decref(gt);

	/* The agent restarts and re-registers with `kept` only. */
	char id[256];
	snprintf(id, sizeof(id), "%s", a.id);
	peer_close(&a);
	char *rep = reported(f.id, kept_task, "kept", "TASK_RUNNING"), list[8192];
	snprintf(list, sizeof(list), "[%s]", rep);
	struct peer a2;
	agent_reregister(&a2, id, fwinfo, list);

	ev = peer_next(&f, "UPDATE", 3000);
	cr_assert_not_null(ev, "no update for the lost launch");
	cr_assert_str_eq(jstr(ev, "update.status.task_id.value"), "lost");
	cr_assert_str_eq(jstr(ev, "update.status.state"), want_state);
	cr_assert_str_eq(jstr(ev, "update.status.source"), "SOURCE_MASTER");
	cr_assert_str_eq(jstr(ev, "update.status.reason"), "REASON_RECONCILIATION");
	cr_assert_str_eq(jstr(ev, "update.status.message"), "Task is unknown to the agent");
	cr_assert_str_eq(jstr(ev, "update.status.agent_id.value"), id);
	cr_assert_null(jget(ev, "update.status.uuid"), "a master update has no uuid");
	json_decref(ev);
	/* Its cpu is free again: offered, while `kept` holds the other. */
	ev = peer_next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev, "the lost task's resources were not offered again");
	cr_assert_float_eq(offered(ev, "cpus"), 1.0, 1e-9);
	json_decref(ev);
	/* Nothing about `kept`: the agent has it. */
	cr_assert_null(peer_next(&f, "UPDATE", 500));

	/* Operators saw it end. */
	for (;;) {
		ev = peer_next(&o, "TASK_UPDATED", 3000);
		cr_assert_not_null(ev, "no TASK_UPDATED for the lost launch");
		if (strcmp(jstr(ev, "task_updated.status.task_id.value"), "lost") == 0)
			break;
		json_decref(ev);
	}
	cr_assert_str_eq(jstr(ev, "task_updated.state"), want_state);
	cr_assert_str_eq(jstr(ev, "task_updated.framework_id.value"), f.id);
	cr_assert_str_eq(jstr(ev, "task_updated.status.reason"), "REASON_RECONCILIATION");
	json_decref(ev);

	gt = get_tasks();
	cr_assert_null(listed(gt, "tasks", "lost"));
	cr_assert_str_eq(listed(gt, "completed_tasks", "lost"), want_state);
	cr_assert_str_eq(listed(gt, "tasks", "kept"), "TASK_RUNNING");
	cr_assert_null(listed(gt, "completed_tasks", "kept"));
	json_decref(gt);

	free(rep);
	free(kept_task);
	free(fwinfo);
	stop_clean();
}

Test(mtasks, lost_launch_is_task_lost_when_the_agent_reregisters_without_it)
{
	lost_launch(NULL, "TASK_LOST");
}

Test(mtasks, lost_launch_is_task_dropped_for_a_partition_aware_framework)
{
	lost_launch("{\"type\":\"PARTITION_AWARE\"}", "TASK_DROPPED");
}

Test(mtasks, a_launch_after_the_reregistration_is_not_lost)
{
	start_master(NULL);
	struct peer a, f;
	agent_register(&a);
	/* The stream drops and the agent re-registers (nothing to report);
	 * then a launch goes on the new stream and the agent re-registers
	 * again, this time reporting it: it stays. */
	char id[256];
	snprintf(id, sizeof(id), "%s", a.id);
	peer_close(&a);
	struct peer a2, a3;
	agent_reregister(&a2, id, "", "[]");
	fw_subscribe(&f, NULL);
	fw_launch(&f, id, (const char *const[]){"t1"}, 1, "1");
	char *task = NULL, *fwinfo = NULL;
	agent_take_run(&a2, "t1", &task, &fwinfo);
	char *rep = reported(f.id, task, "t1", "TASK_STAGING"), list[8192];
	snprintf(list, sizeof(list), "[%s]", rep);
	peer_close(&a2);
	agent_reregister(&a3, id, fwinfo, list);
	cr_assert_null(peer_next(&f, "UPDATE", 800), "a task the agent reported was ended");
	json_t *gt = get_tasks();
	cr_assert_str_eq(listed(gt, "tasks", "t1"), "TASK_STAGING");
	json_decref(gt);
	free(rep);
	free(task);
	free(fwinfo);
	stop_clean();
}

/* ---- agents back from a partition ----------------------------------------- */

#define PING_FLAGS                                                                                 \
	(const char *const[])                                                                      \
	{                                                                                          \
		"--agent_ping_timeout=1secs", "--max_agent_ping_timeouts=2", NULL                  \
	}

/* Launch `t1` on a fresh agent, running and acknowledged; the agent then
 * goes silent until the master reports the task with `lost_state`. */
static void run_then_partition(struct peer *a, struct peer *f, const char *caps,
                               const char *lost_state, char **ret_task, char **ret_fw)
{
	start_master(PING_FLAGS);
	agent_register(a);
	fw_subscribe(f, caps);
	fw_launch(f, a->id, (const char *const[]){"t1"}, 1, "1");
	agent_take_run(a, "t1", ret_task, ret_fw);
	char uuid[25];
	cr_assert_eq(agent_update(a, f->id, "t1", "TASK_RUNNING", uuid), 202);
	json_t *ev = peer_next(f, "UPDATE", 3000);
	cr_assert_str_eq(jstr(ev, "update.status.state"), "TASK_RUNNING");
	json_decref(ev);
	cr_assert_eq(fw_ack(f, a->id, "t1", uuid), 202);
	ev = peer_next(f, "UPDATE", 6000);
	cr_assert_not_null(ev, "no %s", lost_state);
	cr_assert_str_eq(jstr(ev, "update.status.state"), lost_state);
	cr_assert_str_eq(jstr(ev, "update.status.reason"), "REASON_AGENT_REMOVED");
	json_decref(ev);
}

Test(mtasks, a_task_reported_lost_is_killed_when_its_agent_comes_back)
{
	struct peer a, f;
	char *task = NULL, *fwinfo = NULL;
	run_then_partition(&a, &f, NULL, "TASK_LOST", &task, &fwinfo);
	json_t *gt = get_tasks();
	cr_assert_null(listed(gt, "tasks", "t1"));
	cr_assert_null(listed(gt, "unreachable_tasks", "t1"),
	               "not PARTITION_AWARE: not an unreachable task");
	cr_assert_str_eq(listed(gt, "completed_tasks", "t1"), "TASK_LOST");
	json_decref(gt);

	/* Back, still running it. */
	char id[256];
	snprintf(id, sizeof(id), "%s", a.id);
	peer_close(&a);
	char *rep = reported(f.id, task, "t1", "TASK_RUNNING"), list[8192];
	snprintf(list, sizeof(list), "[%s]", rep);
	struct peer a2;
	agent_reregister(&a2, id, fwinfo, list);
	json_t *ev = peer_next_event(&a2, 3000);
	/* The master's ping timeout is 2 s here: keep the agent alive. */
	agent_heartbeat(&a2);
	cr_assert_not_null(ev, "the agent was not told to kill the task");
	cr_assert_str_eq(jstr(ev, "type"), "KILL_TASK");
	cr_assert_str_eq(jstr(ev, "kill_task.task_id.value"), "t1");
	cr_assert_str_eq(jstr(ev, "kill_task.framework_id.value"), f.id);
	json_decref(ev);
	/* It stays TASK_LOST for the framework: no update, not listed live. */
	cr_assert_null(peer_next(&f, "UPDATE", 500));
	gt = get_tasks();
	cr_assert_null(listed(gt, "tasks", "t1"));
	cr_assert_str_eq(listed(gt, "completed_tasks", "t1"), "TASK_LOST");
	json_decref(gt);

	/* Its updates from before the kill are acknowledged and answered with
	 * another KILL_TASK; the framework does not hear of them. */
	agent_heartbeat(&a2);
	char uuid[25];
	cr_assert_eq(agent_update(&a2, f.id, "t1", "TASK_RUNNING", uuid), 202);
	ev = peer_next(&a2, "STATUS_UPDATE_ACK", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(jstr(ev, "status_update_ack.uuid"), uuid);
	json_decref(ev);
	ev = peer_next(&a2, "KILL_TASK", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(jstr(ev, "kill_task.task_id.value"), "t1");
	json_decref(ev);
	cr_assert_eq(agent_update(&a2, f.id, "t1", "TASK_KILLED", uuid), 202);
	cr_assert_null(peer_next(&f, "UPDATE", 500));
	free(rep);
	free(task);
	free(fwinfo);
	stop_clean();
}

Test(mtasks, a_partition_aware_task_runs_again_when_its_agent_comes_back)
{
	struct peer a, f;
	char *task = NULL, *fwinfo = NULL;
	run_then_partition(&a, &f, "{\"type\":\"PARTITION_AWARE\"}", "TASK_UNREACHABLE", &task,
	                   &fwinfo);
	json_t *gt = get_tasks();
	cr_assert_null(listed(gt, "tasks", "t1"));
	cr_assert_str_eq(listed(gt, "unreachable_tasks", "t1"), "TASK_UNREACHABLE");
	cr_assert_null(listed(gt, "completed_tasks", "t1"));
	json_decref(gt);

	char id[256];
	snprintf(id, sizeof(id), "%s", a.id);
	peer_close(&a);
	char *rep = reported(f.id, task, "t1", "TASK_RUNNING"), list[8192];
	snprintf(list, sizeof(list), "[%s]", rep);
	struct peer a2;
	agent_reregister(&a2, id, fwinfo, list);
	json_t *ev = peer_next(&f, "UPDATE", 3000);
	cr_assert_not_null(ev, "no TASK_RUNNING when the agent came back");
	cr_assert_str_eq(jstr(ev, "update.status.task_id.value"), "t1");
	cr_assert_str_eq(jstr(ev, "update.status.state"), "TASK_RUNNING");
	cr_assert_str_eq(jstr(ev, "update.status.source"), "SOURCE_MASTER");
	cr_assert_str_eq(jstr(ev, "update.status.reason"), "REASON_AGENT_REREGISTERED");
	json_decref(ev);
	/* Not killed. */
	agent_heartbeat(&a2);
	cr_assert_null(peer_next(&a2, "KILL_TASK", 500));
	agent_heartbeat(&a2);
	gt = get_tasks();
	cr_assert_str_eq(listed(gt, "tasks", "t1"), "TASK_RUNNING");
	cr_assert_null(jget(gt, "get_tasks.unreachable_tasks"), "an empty list is omitted");
	json_decref(gt);
	/* Booked again: one cpu of two offered (the filter is 0 s). */
	ev = peer_next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev);
	cr_assert_float_eq(offered(ev, "cpus"), 1.0, 1e-9);
	json_decref(ev);
	free(rep);
	free(task);
	free(fwinfo);
	stop_clean();
}

Test(mtasks, mark_agent_gone_completes_unreachable_tasks)
{
	struct peer a, f;
	run_then_partition(&a, &f, "{\"type\":\"PARTITION_AWARE\"}", "TASK_UNREACHABLE", NULL,
	                   NULL);
	char body[512];
	snprintf(body, sizeof(body),
	         "{\"type\":\"MARK_AGENT_GONE\",\"mark_agent_gone\":{\"agent_id\":{\"value\":"
	         "\"%s\"}}}",
	         a.id);
	int status;
	json_decref(op_call(body, &status));
	cr_assert_eq(status, 200);
	json_t *ev = peer_next(&f, "UPDATE", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(jstr(ev, "update.status.state"), "TASK_GONE_BY_OPERATOR");
	cr_assert_str_eq(jstr(ev, "update.status.reason"), "REASON_AGENT_REMOVED_BY_OPERATOR");
	json_decref(ev);
	json_t *gt = get_tasks();
	cr_assert_null(listed(gt, "tasks", "t1"));
	cr_assert_null(listed(gt, "unreachable_tasks", "t1"));
	cr_assert_str_eq(listed(gt, "completed_tasks", "t1"), "TASK_GONE_BY_OPERATOR");
	json_decref(gt);
	stop_clean();
}

/* ---- TASK_KILLING ------------------------------------------------------- */

static void killing(const char *caps, bool forwarded)
{
	start_master(NULL);
	struct peer a, f;
	agent_register(&a);
	fw_subscribe(&f, caps);
	fw_launch(&f, a.id, (const char *const[]){"t1"}, 1, "1");
	agent_take_run(&a, "t1", NULL, NULL);
	char u1[25], u2[25], u3[25];
	cr_assert_eq(agent_update(&a, f.id, "t1", "TASK_RUNNING", u1), 202);
	json_t *ev = peer_next(&f, "UPDATE", 3000);
	json_decref(ev);
	cr_assert_eq(fw_ack(&f, a.id, "t1", u1), 202);
	json_decref(peer_next(&a, "STATUS_UPDATE_ACK", 3000));

	cr_assert_eq(agent_update(&a, f.id, "t1", "TASK_KILLING", u2), 202);
	if (forwarded) {
		ev = peer_next(&f, "UPDATE", 3000);
		cr_assert_not_null(ev);
		cr_assert_str_eq(jstr(ev, "update.status.state"), "TASK_KILLING");
		cr_assert_str_eq(jstr(ev, "update.status.uuid"), u2);
		json_decref(ev);
		cr_assert_eq(fw_ack(&f, a.id, "t1", u2), 202);
	} else {
		cr_assert_null(peer_next(&f, "UPDATE", 800),
		               "TASK_KILLING sent to a framework without TASK_KILLING_STATE");
	}
	/* Either way the agent's retries of it stop. */
	ev = peer_next(&a, "STATUS_UPDATE_ACK", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(jstr(ev, "status_update_ack.uuid"), u2);
	json_decref(ev);
	json_t *gt = get_tasks();
	cr_assert_str_eq(listed(gt, "tasks", "t1"), forwarded ? "TASK_KILLING" : "TASK_RUNNING");
	json_decref(gt);

	cr_assert_eq(agent_update(&a, f.id, "t1", "TASK_KILLED", u3), 202);
	ev = peer_next(&f, "UPDATE", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(jstr(ev, "update.status.state"), "TASK_KILLED");
	json_decref(ev);
	stop_clean();
}

Test(mtasks, task_killing_is_not_sent_without_task_killing_state)
{
	killing(NULL, false);
}

Test(mtasks, task_killing_is_sent_with_task_killing_state)
{
	killing("{\"type\":\"TASK_KILLING_STATE\"}", true);
}

/* ---- completed tasks and frameworks ------------------------------------------ */

Test(mtasks, completed_tasks_are_kept_up_to_the_bound_oldest_dropped)
{
	start_master((const char *const[]){"--max_completed_tasks_per_framework=2", NULL});
	struct peer a, f;
	agent_register(&a);
	fw_subscribe(&f, NULL);
	const char *names[] = {"c1", "c2", "c3"};
	fw_launch(&f, a.id, names, 3, "0.5");
	for (size_t i = 0; i < 3; i++) {
		char uuid[25];
		cr_assert_eq(agent_update(&a, f.id, names[i], "TASK_FINISHED", uuid), 202);
		json_t *ev = peer_next(&f, "UPDATE", 3000);
		cr_assert_str_eq(jstr(ev, "update.status.task_id.value"), names[i]);
		json_decref(ev);
		/* Until acknowledged, an ended task is still a task. */
		json_t *gt = get_tasks();
		cr_assert_str_eq(listed(gt, "tasks", names[i]), "TASK_FINISHED");
		json_decref(gt);
		cr_assert_eq(fw_ack(&f, a.id, names[i], uuid), 202);
	}
	json_t *gt = get_tasks();
	json_t *done = jget(gt, "get_tasks.completed_tasks");
	cr_assert_eq(json_array_size(done), 2, "the bound is 2");
	cr_assert_str_eq(jstr(done, "0.task_id.value"), "c2");
	cr_assert_str_eq(jstr(done, "1.task_id.value"), "c3");
	cr_assert_str_eq(jstr(done, "1.state"), "TASK_FINISHED");
	cr_assert_str_eq(jstr(done, "1.framework_id.value"), f.id);
	cr_assert_str_eq(jstr(done, "1.statuses.0.state"), "TASK_FINISHED");
	cr_assert_eq(json_array_size(jget(gt, "get_tasks.tasks")), 0);
	json_decref(gt);
	/* GET_STATE carries the same lists. */
	int status;
	json_t *st = op_call("{\"type\":\"GET_STATE\"}", &status);
	cr_assert_eq(status, 200);
	cr_assert_eq(json_array_size(jget(st, "get_state.get_tasks.completed_tasks")), 2);
	json_decref(st);
	stop_clean();
}

Test(mtasks, teardown_completes_the_framework_and_its_tasks)
{
	start_master((const char *const[]){"--max_completed_frameworks=1", NULL});
	struct peer a, f, o;
	agent_register(&a);
	fw_subscribe(&f, NULL);
	fw_launch(&f, a.id, (const char *const[]){"t1"}, 1, "1");
	agent_take_run(&a, "t1", NULL, NULL);
	char uuid[25];
	cr_assert_eq(agent_update(&a, f.id, "t1", "TASK_RUNNING", uuid), 202);
	json_decref(peer_next(&f, "UPDATE", 3000));
	cr_assert_eq(fw_ack(&f, a.id, "t1", uuid), 202);
	cr_assert_eq(peer_open(&o, "/api/v1", "{\"type\":\"SUBSCRIBE\"}"), 200);
	json_decref(peer_next(&o, "SUBSCRIBED", 3000));

	char body[512];
	snprintf(body, sizeof(body),
	         "{\"type\":\"TEARDOWN\",\"teardown\":{\"framework_id\":{\"value\":\"%s\"}}}",
	         f.id);
	int status;
	json_decref(op_call(body, &status));
	cr_assert_eq(status, 200);
	json_t *ev = peer_next(&a, "SHUTDOWN_FRAMEWORK", 3000);
	cr_assert_not_null(ev);
	json_decref(ev);
	ev = peer_next(&o, "TASK_UPDATED", 3000);
	cr_assert_not_null(ev, "no TASK_UPDATED for the torn-down framework's task");
	cr_assert_str_eq(jstr(ev, "task_updated.state"), "TASK_KILLED");
	cr_assert_str_eq(jstr(ev, "task_updated.status.reason"), "REASON_FRAMEWORK_REMOVED");
	cr_assert_str_eq(jstr(ev, "task_updated.status.source"), "SOURCE_MASTER");
	json_decref(ev);

	json_t *gt = get_tasks();
	cr_assert_null(listed(gt, "tasks", "t1"));
	cr_assert_str_eq(listed(gt, "completed_tasks", "t1"), "TASK_KILLED");
	json_decref(gt);
	json_t *fws = op_call("{\"type\":\"GET_FRAMEWORKS\"}", &status);
	cr_assert_eq(status, 200);
	cr_assert_eq(json_array_size(jget(fws, "get_frameworks.frameworks")), 0);
	json_t *done = jget(fws, "get_frameworks.completed_frameworks");
	cr_assert_eq(json_array_size(done), 1);
	cr_assert_str_eq(jstr(done, "0.framework_info.id.value"), f.id);
	cr_assert(json_is_false(jget(done, "0.active")));
	cr_assert(json_is_false(jget(done, "0.connected")));
	cr_assert(json_is_integer(jget(done, "0.unregistered_time.nanoseconds")));
	cr_assert(json_is_integer(jget(done, "0.registered_time.nanoseconds")));
	json_decref(fws);

	/* The bound: a second removed framework pushes the first out, its
	 * tasks with it. */
	struct peer f2;
	fw_subscribe(&f2, NULL);
	snprintf(body, sizeof(body),
	         "{\"type\":\"TEARDOWN\",\"teardown\":{\"framework_id\":{\"value\":\"%s\"}}}",
	         f2.id);
	json_decref(op_call(body, &status));
	cr_assert_eq(status, 200);
	fws = op_call("{\"type\":\"GET_FRAMEWORKS\"}", &status);
	done = jget(fws, "get_frameworks.completed_frameworks");
	cr_assert_eq(json_array_size(done), 1);
	cr_assert_str_eq(jstr(done, "0.framework_info.id.value"), f2.id);
	json_decref(fws);
	gt = get_tasks();
	cr_assert_null(listed(gt, "completed_tasks", "t1"));
	json_decref(gt);
	/* Its agent's later updates are acknowledged, not forwarded. */
	cr_assert_eq(agent_update(&a, f.id, "t1", "TASK_KILLED", uuid), 202);
	ev = peer_next(&a, "STATUS_UPDATE_ACK", 3000);
	cr_assert_not_null(ev);
	json_decref(ev);
	stop_clean();
}

Test(mtasks, a_framework_removed_while_its_agent_was_away_is_shut_down_on_return)
{
	start_master(NULL);
	struct peer a, f;
	agent_register(&a);
	fw_subscribe(&f, NULL);
	fw_launch(&f, a.id, (const char *const[]){"t1"}, 1, "1");
	char *task = NULL, *fwinfo = NULL;
	agent_take_run(&a, "t1", &task, &fwinfo);
	char id[256];
	snprintf(id, sizeof(id), "%s", a.id);
	peer_close(&a);
	usleep(200 * 1000);
	char body[512];
	snprintf(body, sizeof(body),
	         "{\"type\":\"TEARDOWN\",\"teardown\":{\"framework_id\":{\"value\":\"%s\"}}}",
	         f.id);
	int status;
	json_decref(op_call(body, &status));
	cr_assert_eq(status, 200);
	/* Its SHUTDOWN_FRAMEWORK had no stream to go on: it comes after the
	 * re-registration's REGISTERED. */
	char *rep = reported(f.id, task, "t1", "TASK_RUNNING"), list[8192];
	snprintf(list, sizeof(list), "[%s]", rep);
	struct peer a2;
	agent_reregister(&a2, id, fwinfo, list);
	json_t *ev = peer_next_event(&a2, 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(jstr(ev, "type"), "SHUTDOWN_FRAMEWORK");
	cr_assert_str_eq(jstr(ev, "shutdown_framework.framework_id.value"), f.id);
	json_decref(ev);
	json_t *gt = get_tasks();
	cr_assert_null(listed(gt, "tasks", "t1"));
	json_decref(gt);
	free(rep);
	free(task);
	free(fwinfo);
	stop_clean();
}

Test(mtasks, a_kill_while_the_agent_is_away_is_sent_when_it_returns)
{
	start_master(NULL);
	struct peer a, f;
	agent_register(&a);
	fw_subscribe(&f, NULL);
	fw_launch(&f, a.id, (const char *const[]){"t1", "t2"}, 2, "1");
	char *t1 = NULL, *t2 = NULL, *fwinfo = NULL;
	json_t *r1 = peer_next(&a, "RUN_TASK", 3000), *r2 = peer_next(&a, "RUN_TASK", 3000);
	cr_assert(r1 && r2);
	bool first = strcmp(jstr(r1, "run_task.task.task_id.value"), "t1") == 0;
	t1 = json_dumps(jget(first ? r1 : r2, "run_task.task"), JSON_COMPACT);
	t2 = json_dumps(jget(first ? r2 : r1, "run_task.task"), JSON_COMPACT);
	fwinfo = json_dumps(jget(r1, "run_task.framework_info"), JSON_COMPACT);
	json_decref(r1);
	json_decref(r2);
	char id[256];
	snprintf(id, sizeof(id), "%s", a.id);
	peer_close(&a);
	usleep(200 * 1000);
	char body[512];
	snprintf(body, sizeof(body),
	         "{\"type\":\"KILL\",\"framework_id\":{\"value\":\"%s\"},\"kill\":{\"task_id\":{"
	         "\"value\":\"t1\"}}}",
	         f.id);
	cr_assert_eq(peer_call(&f, body), 202);
	char *p1 = reported(f.id, t1, "t1", "TASK_RUNNING");
	char *p2 = reported(f.id, t2, "t2", "TASK_RUNNING"), list[16384];
	snprintf(list, sizeof(list), "[%s,%s]", p1, p2);
	struct peer a2;
	agent_reregister(&a2, id, fwinfo, list);
	json_t *ev = peer_next_event(&a2, 3000);
	cr_assert_not_null(ev, "the kill was not sent again");
	cr_assert_str_eq(jstr(ev, "type"), "KILL_TASK");
	cr_assert_str_eq(jstr(ev, "kill_task.task_id.value"), "t1");
	json_decref(ev);
	/* Once: another re-registration does not kill it again, nor t2. */
	peer_close(&a2);
	struct peer a3;
	agent_reregister(&a3, id, fwinfo, list);
	cr_assert_null(peer_next(&a3, "KILL_TASK", 800));
	free(p1);
	free(p2);
	free(t1);
	free(t2);
	free(fwinfo);
	stop_clean();
}

Test(mtasks, a_framework_past_its_failover_timeout_is_a_completed_framework)
{
	start_master(NULL);
	struct peer f;
	cr_assert_eq(peer_open(&f, "/api/v1/scheduler",
	                       "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{"
	                       "\"user\":\"root\",\"name\":\"brief\",\"failover_timeout\":0.3}}}"),
	             200);
	json_t *ev = peer_next(&f, "SUBSCRIBED", 3000);
	cr_assert_not_null(ev);
	char id[256];
	snprintf(id, sizeof(id), "%s", jstr(ev, "subscribed.framework_id.value"));
	json_decref(ev);
	peer_close(&f);
	/* Disconnected, within its failover timeout: still a framework. */
	usleep(100 * 1000);
	int status;
	json_t *fws = op_call("{\"type\":\"GET_FRAMEWORKS\"}", &status);
	cr_assert_str_eq(jstr(fws, "get_frameworks.frameworks.0.framework_info.id.value"), id);
	cr_assert(json_is_false(jget(fws, "get_frameworks.frameworks.0.connected")));
	cr_assert_null(jget(fws, "get_frameworks.completed_frameworks"));
	json_decref(fws);
	usleep(700 * 1000);
	fws = op_call("{\"type\":\"GET_FRAMEWORKS\"}", &status);
	cr_assert_eq(status, 200);
	cr_assert_eq(json_array_size(jget(fws, "get_frameworks.frameworks")), 0);
	json_t *done = jget(fws, "get_frameworks.completed_frameworks");
	cr_assert_eq(json_array_size(done), 1);
	cr_assert_str_eq(jstr(done, "0.framework_info.id.value"), id);
	cr_assert_str_eq(jstr(done, "0.framework_info.name"), "brief");
	cr_assert(json_is_false(jget(done, "0.active")));
	cr_assert(json_is_false(jget(done, "0.connected")));
	cr_assert(json_is_integer(jget(done, "0.unregistered_time.nanoseconds")));
	json_decref(fws);
	stop_clean();
}

Test(mtasks, no_completed_frameworks_with_a_zero_bound)
{
	start_master((const char *const[]){"--max_completed_frameworks=0", NULL});
	struct peer f;
	fw_subscribe(&f, NULL);
	char body[512];
	snprintf(body, sizeof(body),
	         "{\"type\":\"TEARDOWN\",\"teardown\":{\"framework_id\":{\"value\":\"%s\"}}}",
	         f.id);
	int status;
	json_decref(op_call(body, &status));
	cr_assert_eq(status, 200);
	json_t *fws = op_call("{\"type\":\"GET_FRAMEWORKS\"}", &status);
	cr_assert_eq(status, 200);
	cr_assert_eq(json_array_size(jget(fws, "get_frameworks.frameworks")), 0);
	cr_assert_null(jget(fws, "get_frameworks.completed_frameworks"));
	json_decref(fws);
	stop_clean();
}
