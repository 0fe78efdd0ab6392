/* master_sim.c: see master_sim.h. */
#include "master_sim.h"
#include "tmpdir.h"

#include "common/common.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

char sim_dir[256], sim_work_dir[300], sim_log_path[300];
uint16_t sim_port;
pid_t sim_master_pid;

const char *const SIM_UUIDS[4] = {"MDEyMzQ1Njc4OWFiY2RlZg==", "ZmVkY2JhOTg3NjU0MzIxMA==",
                                  "YWFhYWJiYmJjY2NjZGRkZA==", "MTExMTIyMjIzMzMzNDQ0NA=="};

/* Every connection a test opened, closed in sim_fini(). */
static struct mc_conn *opened[64];
static size_t n_opened;
/* Every peer's backlog, released in sim_fini() (peers live on the tests'
 * stacks). */
static json_t *backlogs[64];
static size_t n_backlogs;
/* The secrets the master issued the simulated agents, by agent id: an
 * agent's, whichever connection (peer) speaks for it. */
static struct {
	char id[256];
	char secret[80];
} secrets[64];
static size_t n_secrets;

static void remember_secret(const char *id, const char *secret)
{
	size_t i = 0;
	while (i < n_secrets && strcmp(secrets[i].id, id) != 0)
		i++;
	if (i == n_secrets) {
		cr_assert_lt(n_secrets, 64);
		n_secrets++;
	}
	snprintf(secrets[i].id, sizeof(secrets[i].id), "%s", id);
	snprintf(secrets[i].secret, sizeof(secrets[i].secret), "%s", secret);
}

const char *sim_agent_secret(const char *id)
{
	for (size_t i = 0; i < n_secrets; i++)
		if (strcmp(secrets[i].id, id) == 0)
			return secrets[i].secret;
	return "";
}

/* The secret header line of agent `id` into buf ("" when it has none). */
static const char *secret_header(const char *id, char *buf, size_t len)
{
	const char *s = sim_agent_secret(id);
	snprintf(buf, len, "%s%s%s", s[0] ? SIM_SECRET_HEADER ": " : "", s, s[0] ? "\r\n" : "");
	return buf;
}

static void backlog_release(json_t *b)
{
	for (size_t i = 0; i < n_backlogs; i++)
		if (backlogs[i] == b)
			backlogs[i] = backlogs[--n_backlogs];
	json_decref(b);
}

void sim_init(void)
{
	snprintf(sim_dir, sizeof(sim_dir), "/tmp/agora-sim-XXXXXX");
	cr_assert_not_null(mkdtemp(sim_dir));
	snprintf(sim_work_dir, sizeof(sim_work_dir), "%s/wd", sim_dir);
	snprintf(sim_log_path, sizeof(sim_log_path), "%s/master.log", sim_dir);
	sim_master_pid = 0;
	n_opened = 0;
	n_secrets = 0;
}

void sim_kill_master(void)
{
	if (sim_master_pid > 0) {
		kill(sim_master_pid, SIGKILL);
		waitpid(sim_master_pid, NULL, 0);
	}
	sim_master_pid = 0;
}

/* SIGTERM, so that a sanitizer build reports leaks as the master exits;
 * SIGKILL when it does not stop within 5 s. */
static void stop_master(void)
{
	if (sim_master_pid <= 0)
		return;
	kill(sim_master_pid, SIGCONT); /* a test may have stopped it */
	kill(sim_master_pid, SIGTERM);
	for (int i = 0; i < 500; i++) {
		if (waitpid(sim_master_pid, NULL, WNOHANG) == sim_master_pid) {
			sim_master_pid = 0;
			return;
		}
		usleep(10000);
	}
	sim_kill_master();
}

/* The first sanitizer report line in the master's log (all its runs) into
 * `report`, "" when there is none. */
static void log_report(char *report, size_t size)
{
	report[0] = '\0';
	FILE *f = sim_dir[0] ? fopen(sim_log_path, "re") : NULL;
	char line[4096];
	while (f && fgets(line, sizeof(line), f))
		if (!report[0] && (strstr(line, "Sanitizer") || strstr(line, "runtime error")))
			snprintf(report, size, "%.400s", line);
	if (f)
		fclose(f);
}

static void close_connections(void)
{
	for (size_t i = 0; i < n_opened; i++)
		mc_close(opened[i]);
	n_opened = 0;
}

void sim_stop_master_clean(void)
{
	close_connections();
	cr_assert_gt(sim_master_pid, 0);
	cr_assert_eq(kill(sim_master_pid, SIGTERM), 0);
	int status = -1;
	for (int i = 0; i < 100 && waitpid(sim_master_pid, &status, WNOHANG) == 0; i++)
		usleep(50 * 1000);
	if (status == -1)
		sim_kill_master();
	sim_master_pid = 0;
	cr_assert(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	          "the master did not exit 0 on SIGTERM (status %d, log %s)", status, sim_log_path);
	char report[512];
	log_report(report, sizeof(report));
	cr_assert_eq(report[0], '\0', "the master's log (%s) has a sanitizer report: %s",
	             sim_log_path, report);
}

void sim_fini(void)
{
	close_connections();
	for (size_t i = 0; i < n_backlogs; i++)
		json_decref(backlogs[i]);
	n_backlogs = 0;
	stop_master();
	/* Any sanitizer report in the master's log (all its runs) fails the
	 * test, as redis's harness does. */
	char report[512];
	log_report(report, sizeof(report));
	if (sim_dir[0] && !report[0])
		(void)td_remove(sim_dir);
	cr_assert_eq(report[0], '\0', "the master's log (%s) has a sanitizer report: %s",
	             sim_log_path, report);
	sim_dir[0] = '\0';
}

void sim_start_master(const char *const *args, uint16_t fixed_port)
{
	const char *b = getenv("AGORA_BUILD_DIR");
	char bin[512], wd[320], portarg[32];
	snprintf(bin, sizeof(bin), "%s/bin/agora-master", b ? b : "build");
	snprintf(wd, sizeof(wd), "--work_dir=%s", sim_work_dir);
	snprintf(portarg, sizeof(portarg), "--port=%u", fixed_port);
	const char *argv[32] = {bin,
	                        portarg,
	                        "--log_level=debug",
	                        wd,
	                        "--heartbeat_interval=1secs",
	                        "--allocation_interval=200ms"};
	int n = 6;
	for (int i = 0; args && args[i] && n < 31; i++)
		argv[n++] = args[i];
	_cleanup_close_ int logfd =
	        open(sim_log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	cr_assert_geq(logfd, 0, "open %s: %s", sim_log_path, strerror(errno));
	pid_t pid = 0;
	int r = mc_spawn_master(argv, logfd, 5000, &pid, &sim_port);
	if (pid > 0)
		sim_master_pid = pid;
	cr_assert_eq(r, 0, "master did not start (log: %s)", sim_log_path);
}

int sim_peer_open(struct sim_peer *p, const char *path, const char *body)
{
	return sim_peer_open_headers(p, path, NULL, body);
}

int sim_peer_open_headers(struct sim_peer *p, const char *path, const char *headers,
                          const char *body)
{
	memset(p, 0, sizeof(*p)); /* a peer is opened once; sim_peer_close() first */
	p->path = path;
	p->c = mc_connect(sim_port);
	cr_assert_not_null(p->c);
	cr_assert_lt(n_opened, 64);
	opened[n_opened++] = p->c;
	struct mc_response r = {0};
	cr_assert_eq(mc_post_json(p->c, path, headers, body, &r), 0);
	const char *sid = mc_header(&r, "Mesos-Stream-Id");
	if (sid)
		snprintf(p->stream_id, sizeof(p->stream_id), "%s", sid);
	int status = r.status;
	mc_response_free(&r);
	return status;
}

void sim_peer_forget(struct sim_peer *p, const char *type)
{
	for (size_t i = json_array_size(p->backlog); i-- > 0;)
		if (!type || strcmp(sim_jstr(json_array_get(p->backlog, i), "type"), type) == 0)
			json_array_remove(p->backlog, i);
}

void sim_peer_close(struct sim_peer *p)
{
	backlog_release(p->backlog);
	p->backlog = NULL;
	for (size_t i = 0; i < n_opened; i++)
		if (opened[i] == p->c)
			opened[i] = opened[--n_opened];
	if (p->c)
		mc_close(p->c);
	p->c = NULL;
}

json_t *sim_peer_next(struct sim_peer *p, const char *type, int ms)
{
	for (size_t i = 0; i < json_array_size(p->backlog); i++) {
		json_t *j = json_array_get(p->backlog, i);
		if (!type || strcmp(sim_jstr(j, "type"), type) == 0) {
			json_incref(j);
			json_array_remove(p->backlog, i);
			return j;
		}
	}
	uint64_t deadline = ag_now_ns() + (uint64_t)ms * 1000000;
	while (p->c && ag_now_ns() < deadline) {
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
		cr_assert_eq(strtoull(chunk, NULL, 10), strlen(nl + 1), "one record per chunk");
		json_t *j = json_loads(nl + 1, 0, NULL);
		free(chunk);
		cr_assert_not_null(j);
		const char *t = json_string_value(json_object_get(j, "type"));
		if (t && (type ? strcmp(t, type) == 0 : strcmp(t, "HEARTBEAT") != 0))
			return j;
		if (t && strcmp(t, "HEARTBEAT") != 0) {
			if (!p->backlog) {
				cr_assert_lt(n_backlogs, 64);
				p->backlog = backlogs[n_backlogs++] = json_array();
			}
			json_array_append(p->backlog, j);
		}
		json_decref(j);
	}
	return NULL;
}

int sim_peer_call(struct sim_peer *p, const char *body, char **ret)
{
	char headers[512], secret[128] = "";
	if (p->path && strcmp(p->path, "/api/v1/agent") == 0)
		secret_header(p->id, secret, sizeof(secret));
	snprintf(headers, sizeof(headers),
	         "Content-Type: application/json\r\nMesos-Stream-Id: %s\r\n%s", p->stream_id,
	         secret);
	struct mc_response r = {0};
	cr_assert_eq(mc_request(sim_port, "POST", p->path, headers, body, &r), 0);
	if (ret)
		*ret = strdup(r.body ? r.body : "");
	int s = r.status;
	mc_response_free(&r);
	return s;
}

json_t *sim_jget(json_t *j, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *save, *k = strtok_r(buf, ".", &save); k && j; k = strtok_r(NULL, ".", &save))
		j = json_is_array(j) ? json_array_get(j, strtoul(k, NULL, 10))
		                     : json_object_get(j, k);
	return j;
}

const char *sim_jstr(json_t *j, const char *path)
{
	return json_string_value(sim_jget(j, path));
}

void sim_next_offer(struct sim_peer *f, int ms, char ret_offer[static 256])
{
	json_t *ev = sim_peer_next(f, "OFFERS", ms);
	cr_assert_not_null(ev, "no offer");
	snprintf(ret_offer, 256, "%s", sim_jstr(ev, "offers.offers.0.id.value"));
	json_decref(ev);
}

int sim_op_status(const char *fmt, ...)
{
	char body[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	int status;
	json_decref(sim_op_call(body, &status, NULL, 0));
	return status;
}

json_t *sim_get_tasks(void)
{
	int status;
	json_t *j = sim_op_call("{\"type\":\"GET_TASKS\"}", &status, NULL, 0);
	cr_assert_eq(status, 200);
	cr_assert_not_null(j);
	return j;
}

const char *sim_listed(json_t *gt, const char *list, const char *task)
{
	json_t *arr = sim_jget(gt, "get_tasks"), *t;
	size_t i;
	json_array_foreach (json_object_get(arr, list), i, t)
		if (strcmp(sim_jstr(t, "task_id.value"), task) == 0)
			return sim_jstr(t, "state");
	return NULL;
}

void sim_start_with(struct sim_peer *a, const char *hostname, struct sim_peer *f)
{
	sim_start_master(NULL, 0);
	sim_agent_register(a, hostname, SIM_AGENT_RES);
	sim_fw_subscribe(f, NULL, NULL);
}

void sim_start_offered(struct sim_peer *a, const char *hostname, struct sim_peer *f,
                       char ret_offer[static 256])
{
	sim_start_with(a, hostname, f);
	sim_next_offer(f, 3000, ret_offer);
}

bool sim_log_has(const char *ere)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "grep -qE -- '%s' %s", ere, sim_log_path);
	return system(cmd) == 0;
}

double sim_offered(json_t *ev, const char *name)
{
	double sum = 0;
	json_t *r;
	size_t i;
	json_array_foreach (sim_jget(ev, "offers.offers.0.resources"), i, r)
		if (strcmp(sim_jstr(r, "name"), name) == 0)
			sum += json_number_value(sim_jget(r, "scalar.value"));
	return sum;
}

/* Open `p` as a stream on `path` with `body` (200, with a stream id) and
 * take its id from the string at `id_path` in its first record of `type`. */
static void open_for_id(struct sim_peer *p, const char *path, const char *body, const char *type,
                        const char *id_path)
{
	cr_assert_eq(sim_peer_open(p, path, body), 200);
	cr_assert_neq(p->stream_id[0], '\0');
	json_t *ev = sim_peer_next(p, type, 3000);
	cr_assert_not_null(ev, "no %s", type);
	snprintf(p->id, sizeof(p->id), "%s", sim_jstr(ev, id_path));
	const char *secret = sim_jstr(ev, "registered.agent_secret");
	if (secret)
		remember_secret(p->id, secret);
	json_decref(ev);
}

void sim_agent_register_info(struct sim_peer *a, const char *agent_info)
{
	char *body = NULL;
	cr_assert_geq(asprintf(&body,
	                       "{\"type\":\"REGISTER\",\"register\":{\"agent_info\":%s,"
	                       "\"version\":\"0.2.0\"}}",
	                       agent_info),
	              0);
	open_for_id(a, "/api/v1/agent", body, "REGISTERED", "registered.agent_id.value");
	free(body);
}

void sim_agent_register(struct sim_peer *a, const char *hostname, const char *resources)
{
	char info[2048];
	snprintf(info, sizeof(info), "{\"hostname\":\"%s\",\"port\":5051,\"resources\":%s}",
	         hostname, resources);
	sim_agent_register_info(a, info);
}

char *sim_agent_reregister_body(const char *id, const char *hostname, const char *resources,
                                const char *frameworks_json, const char *tasks_json,
                                const char *order)
{
	char *body = NULL, *extra = NULL;
	cr_assert_geq(asprintf(&extra, ",\"registration_order\":%s", order ? order : ""), 0);
	cr_assert_geq(asprintf(&body,
	                       "{\"type\":\"REREGISTER\",\"agent_id\":{\"value\":\"%s\"},"
	                       "\"reregister\":{\"agent_info\":{\"id\":{\"value\":\"%s\"},"
	                       "\"hostname\":\"%s\",\"port\":5051,\"resources\":%s},"
	                       "\"version\":\"0.2.0\",\"frameworks\":%s,\"tasks\":%s%s}}",
	                       id, id, hostname, resources, frameworks_json, tasks_json,
	                       order ? extra : ""),
	              0);
	free(extra);
	return body;
}

void sim_agent_reregister_order(struct sim_peer *a, const char *hostname, const char *resources,
                                const char *frameworks_json, const char *tasks_json,
                                const char *order)
{
	char id[256];
	snprintf(id, sizeof(id), "%s", a->id);
	if (a->c)
		sim_peer_close(a);
	char *body = sim_agent_reregister_body(id, hostname, resources, frameworks_json, tasks_json,
	                                       order);
	char secret[128];
	cr_assert_eq(sim_peer_open_headers(a, "/api/v1/agent",
	                                   secret_header(id, secret, sizeof(secret)), body),
	             200);
	free(body);
	snprintf(a->id, sizeof(a->id), "%s", id);
	json_t *ev = sim_peer_next(a, "REGISTERED", 3000);
	cr_assert_not_null(ev, "no REGISTERED on re-registration");
	cr_assert_str_eq(sim_jstr(ev, "registered.agent_id.value"), id);
	/* A master that did not know it (its registry is new) issues one. */
	if (sim_jstr(ev, "registered.agent_secret"))
		remember_secret(id, sim_jstr(ev, "registered.agent_secret"));
	json_decref(ev);
}

void sim_agent_reregister(struct sim_peer *a, const char *hostname, const char *resources,
                          const char *frameworks_json, const char *tasks_json)
{
	sim_agent_reregister_order(a, hostname, resources, frameworks_json, tasks_json, NULL);
}

int sim_agent_update(struct sim_peer *a, const char *fw, const char *task, const char *state,
                     const char *uuid)
{
	char body[2048];
	snprintf(body, sizeof(body),
	         "{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":\"%s\"},\"status_update\":{"
	         "\"framework_id\":{\"value\":\"%s\"},\"status\":{\"task_id\":{\"value\":\"%s\"},"
	         "\"state\":\"%s\",\"source\":\"SOURCE_EXECUTOR\",\"agent_id\":{\"value\":\"%s\"},"
	         "\"timestamp\":1700000000.5,\"uuid\":\"%s\"}}}",
	         a->id, fw, task, state, a->id, uuid);
	return sim_peer_call(a, body, NULL);
}

void sim_fw_subscribe_failover(struct sim_peer *f, const char *id, const char *caps,
                               double failover_secs)
{
	char body[1024], idpart[300] = "";
	if (id)
		snprintf(idpart, sizeof(idpart), "\"id\":{\"value\":\"%s\"},", id);
	snprintf(body, sizeof(body),
	         "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{%s\"user\":\"root\","
	         "\"name\":\"fw\",\"failover_timeout\":%g,\"capabilities\":[%s]}}}",
	         idpart, failover_secs, caps ? caps : "");
	open_for_id(f, "/api/v1/scheduler", body, "SUBSCRIBED", "subscribed.framework_id.value");
}

void sim_fw_subscribe_body(struct sim_peer *f, const char *body)
{
	open_for_id(f, "/api/v1/scheduler", body, "SUBSCRIBED", "subscribed.framework_id.value");
}

void sim_fw_open_as(struct sim_peer *f, const char *id)
{
	char body[512];
	snprintf(body, sizeof(body),
	         "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"id\":{\"value\":"
	         "\"%s\"},\"user\":\"root\",\"name\":\"fw\"}}}",
	         id);
	cr_assert_eq(sim_peer_open(f, "/api/v1/scheduler", body), 200);
}

void sim_fw_subscribe(struct sim_peer *f, const char *id, const char *caps)
{
	sim_fw_subscribe_failover(f, id, caps, 30);
}

int sim_fw_call(struct sim_peer *f, const char *fmt, ...)
{
	char body[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	return sim_peer_call(f, body, NULL);
}

int sim_fw_teardown(struct sim_peer *f)
{
	return sim_fw_call(f, "{\"type\":\"TEARDOWN\",\"framework_id\":{\"value\":\"%s\"}}", f->id);
}

void sim_expect_update(struct sim_peer *f, const char *state)
{
	json_t *ev = sim_peer_next(f, "UPDATE", 3000);
	cr_assert_not_null(ev, "no UPDATE (%s)", state);
	cr_expect_str_eq(sim_jstr(ev, "update.status.state"), state);
	json_decref(ev);
}

int sim_fw_launch_tasks(struct sim_peer *f, const char *offer, const char *agent,
                        const char *const *tasks, size_t n, const char *cpus, const char *extra,
                        const char *filters)
{
	char infos[8192] = "", filters_part[256] = "";
	for (size_t i = 0, l = 0; i < n; i++, l = strlen(infos)) {
		cr_assert_lt(l, sizeof(infos) - 1024, "the task infos do not fit");
		snprintf(infos + l, sizeof(infos) - l,
		         "%s{\"name\":\"t\",\"task_id\":{\"value\":\"%s\"},\"agent_id\":{"
		         "\"value\":\"%s\"},\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\","
		         "\"scalar\":{\"value\":%s}}],\"command\":{\"value\":\"true\"}%s}",
		         i ? "," : "", tasks[i], agent, cpus, extra ? extra : "");
	}
	if (filters)
		snprintf(filters_part, sizeof(filters_part), ",\"filters\":%s", filters);
	char *body = NULL;
	cr_assert_geq(asprintf(&body,
	                       "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"%s\"},"
	                       "\"accept\":{\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":[{"
	                       "\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":[%s]}}]%s}}",
	                       f->id, offer, infos, filters_part),
	              0);
	int status = sim_peer_call(f, body, NULL);
	free(body);
	return status;
}

int sim_fw_launch(struct sim_peer *f, const char *offer, const char *agent, const char *task,
                  const char *cpus, const char *extra)
{
	return sim_fw_launch_tasks(f, offer, agent, &task, 1, cpus, extra,
	                           "{\"refuse_seconds\":0}");
}

int sim_fw_ack(struct sim_peer *f, const char *agent, const char *task, const char *uuid)
{
	return sim_fw_call(f,
	                   "{\"type\":\"ACKNOWLEDGE\",\"framework_id\":{\"value\":\"%s\"},"
	                   "\"acknowledge\":{\"agent_id\":{\"value\":\"%s\"},\"task_id\":{"
	                   "\"value\":\"%s\"},\"uuid\":\"%s\"}}",
	                   f->id, agent, task, uuid);
}

json_t *sim_op_call(const char *body, int *status, char *head, size_t head_len)
{
	struct mc_response r = {0};
	cr_assert_eq(mc_request(sim_port, "POST", "/api/v1", "Content-Type: application/json\r\n",
	                        body, &r),
	             0);
	if (status)
		*status = r.status;
	if (head)
		snprintf(head, head_len, "%s", r.head);
	json_t *j = r.body && r.body_len ? json_loads(r.body, 0, NULL) : NULL;
	if (!j && r.body && r.body_len)
		j = json_string(r.body); /* an error text */
	mc_response_free(&r);
	return j;
}

json_t *sim_get_agent(const char *agent_id)
{
	int status;
	json_t *g = sim_op_call("{\"type\":\"GET_AGENTS\"}", &status, NULL, 0);
	cr_assert_eq(status, 200);
	json_t *list = json_object_get(json_object_get(g, "get_agents"), "agents"), *found = NULL;
	for (size_t i = 0; i < json_array_size(list); i++)
		if (strcmp(sim_jstr(json_array_get(list, i), "agent_info.id.value"), agent_id) == 0)
			found = json_incref(json_array_get(list, i));
	json_decref(g);
	return found;
}
