/* Host tests of the master's scheduler and agent endpoints, as processes:
 * agora-master on a free loopback port, a simulated agent speaking
 * docs/agent-protocol.md and a scripted framework speaking the v1
 * scheduler API, both over real sockets. */
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

static void stop_master(void)
{
	if (master_pid > 0) {
		kill(master_pid, SIGKILL);
		waitpid(master_pid, NULL, 0);
	}
	master_pid = 0;
}

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/agora-sched-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(work_dir, sizeof(work_dir), "%s/wd", tmp);
	snprintf(log_path, sizeof(log_path), "%s/master.log", tmp);
	master_pid = 0;
}

/* Every connection a test opened, closed in teardown (a stream may stay
 * open until the test ends; the sanitizer build checks for leaks). */
static struct mc_conn *opened[64];
static size_t n_opened;

static void teardown(void)
{
	for (size_t i = 0; i < n_opened; i++)
		mc_close(opened[i]);
	n_opened = 0;
	stop_master();
	nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(sched, .init = setup, .fini = teardown, .timeout = 60);

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
		                        "--allocation_interval=200ms"};
		int n = 6;
		for (int i = 0; args && args[i]; i++)
			argv[n++] = args[i];
		int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
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

/* ---- a stream: framework or agent ------------------------------------- */

struct peer {
	struct mc_conn *c;
	char stream_id[128];
	char id[256]; /* framework or agent id */
	const char *path;
};

/* POST `body` on a new connection and keep it as a stream. Returns the
 * HTTP status. */
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

/* The next record of type `type` (others skipped) within `ms`; NULL on
 * timeout or end of stream. */
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
		cr_assert_eq(strtoull(chunk, NULL, 10), strlen(nl + 1), "one record per chunk");
		json_t *j = json_loads(nl + 1, 0, NULL);
		free(chunk);
		cr_assert_not_null(j);
		if (strcmp(json_string_value(json_object_get(j, "type")), type) == 0)
			return j;
		json_decref(j);
	}
	return NULL;
}

/* A call on its own connection; the status, and the body in `ret` (may be
 * NULL). */
static int peer_call(struct peer *p, const char *body, char **ret)
{
	char headers[256];
	snprintf(headers, sizeof(headers),
	         "Content-Type: application/json\r\nMesos-Stream-Id: %s\r\n", p->stream_id);
	struct mc_response r = {0};
	cr_assert_eq(mc_request(port, "POST", p->path, headers, body, &r), 0);
	if (ret)
		*ret = strdup(r.body ? r.body : "");
	int s = r.status;
	mc_response_free(&r);
	return s;
}

static const char *jstr(json_t *j, const char *path)
{
	/* "a.b.c": object keys; a number selects an array element. */
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *save, *k = strtok_r(buf, ".", &save); k && j; k = strtok_r(NULL, ".", &save))
		j = json_is_array(j) ? json_array_get(j, strtoul(k, NULL, 10))
		                     : json_object_get(j, k);
	return json_string_value(j);
}

/* ---- the simulated agent ---------------------------------------------- */

static void agent_register(struct peer *a, const char *resources)
{
	char body[1024];
	snprintf(body, sizeof(body),
	         "{\"type\":\"REGISTER\",\"register\":{\"agent_info\":{\"hostname\":\"a1\","
	         "\"port\":5051,\"resources\":%s},\"version\":\"0.1.0\"}}",
	         resources);
	cr_assert_eq(peer_open(a, "/api/v1/agent", body), 200);
	cr_assert_neq(a->stream_id[0], '\0');
	json_t *ev = peer_next(a, "REGISTERED", 3000);
	cr_assert_not_null(ev);
	snprintf(a->id, sizeof(a->id), "%s", jstr(ev, "registered.agent_id.value"));
	json_decref(ev);
}

static const char *const UUIDS[] = {"MDEyMzQ1Njc4OWFiY2RlZg==", "ZmVkY2JhOTg3NjU0MzIxMA=="};

static int agent_update(struct peer *a, const char *fw, const char *task, const char *state,
                        const char *uuid)
{
	char body[2048];
	snprintf(body, sizeof(body),
	         "{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":\"%s\"},\"status_update\":{"
	         "\"framework_id\":{\"value\":\"%s\"},\"status\":{\"task_id\":{\"value\":\"%s\"},"
	         "\"state\":\"%s\",\"source\":\"SOURCE_EXECUTOR\",\"agent_id\":{\"value\":\"%s\"},"
	         "\"timestamp\":1700000000.5,\"uuid\":\"%s\"}}}",
	         a->id, fw, task, state, a->id, uuid);
	return peer_call(a, body, NULL);
}

/* ---- the scripted framework -------------------------------------------- */

static void fw_subscribe(struct peer *f, const char *id, const char *caps)
{
	char body[1024], idpart[300] = "";
	if (id)
		snprintf(idpart, sizeof(idpart), "\"id\":{\"value\":\"%s\"},", id);
	snprintf(body, sizeof(body),
	         "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{%s\"user\":\"root\","
	         "\"name\":\"fw\",\"failover_timeout\":2,\"capabilities\":[%s]}}}",
	         idpart, caps ? caps : "");
	cr_assert_eq(peer_open(f, "/api/v1/scheduler", body), 200);
	cr_assert_neq(f->stream_id[0], '\0');
	json_t *ev = peer_next(f, "SUBSCRIBED", 3000);
	cr_assert_not_null(ev);
	snprintf(f->id, sizeof(f->id), "%s", jstr(ev, "subscribed.framework_id.value"));
	json_decref(ev);
}

static int fw_call(struct peer *f, const char *fmt_body, ...) AG_PRINTF(2, 3);
static int fw_call(struct peer *f, const char *fmt, ...)
{
	char body[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	return peer_call(f, body, NULL);
}

static int fw_launch(struct peer *f, const char *offer, const char *agent, const char *task,
                     const char *cpus)
{
	return fw_call(
	        f,
	        "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"%s\"},\"accept\":{"
	        "\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\","
	        "\"launch\":{\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":\"%s\"},"
	        "\"agent_id\":{\"value\":\"%s\"},\"resources\":[{\"name\":\"cpus\",\"type\":"
	        "\"SCALAR\",\"scalar\":{\"value\":%s}}],\"command\":{\"value\":\"true\"}}]}}]"
	        "}}",
	        f->id, offer, task, agent, cpus);
}

#define AGENT_RES "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":2}}]"

/* ---- tests ------------------------------------------------------------- */

Test(sched, launch_runs_and_finishes_with_acknowledgements)
{
	start_master(NULL);
	struct peer a, f;
	agent_register(&a, AGENT_RES);
	fw_subscribe(&f, NULL, NULL);
	json_t *ev = peer_next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev, "no offer");
	cr_assert_str_eq(jstr(ev, "offers.offers.0.url.address.ip"), "127.0.0.1");
	cr_assert_str_eq(jstr(ev, "offers.offers.0.agent_id.value"), a.id);
	char offer[256];
	snprintf(offer, sizeof(offer), "%s", jstr(ev, "offers.offers.0.id.value"));
	json_decref(ev);

	cr_assert_eq(fw_launch(&f, offer, a.id, "t1", "1"), 202);
	json_t *run = peer_next(&a, "RUN_TASK", 3000);
	cr_assert_not_null(run);
	cr_assert_str_eq(jstr(run, "run_task.task.task_id.value"), "t1");
	cr_assert_str_eq(jstr(run, "run_task.framework_info.id.value"), f.id);
	json_decref(run);

	cr_assert_eq(agent_update(&a, f.id, "t1", "TASK_RUNNING", UUIDS[0]), 202);
	ev = peer_next(&f, "UPDATE", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(jstr(ev, "update.status.state"), "TASK_RUNNING");
	cr_assert_str_eq(jstr(ev, "update.status.agent_id.value"), a.id);
	cr_assert_str_eq(jstr(ev, "update.status.uuid"), UUIDS[0]);
	json_decref(ev);
	cr_assert_eq(fw_call(&f,
	                     "{\"type\":\"ACKNOWLEDGE\",\"framework_id\":{\"value\":\"%s\"},"
	                     "\"acknowledge\":{\"agent_id\":{\"value\":\"%s\"},\"task_id\":{"
	                     "\"value\":\"t1\"},\"uuid\":\"%s\"}}",
	                     f.id, a.id, UUIDS[0]),
	             202);
	json_t *ack = peer_next(&a, "STATUS_UPDATE_ACK", 3000);
	cr_assert_not_null(ack);
	cr_assert_str_eq(jstr(ack, "status_update_ack.uuid"), UUIDS[0]);
	json_decref(ack);

	cr_assert_eq(agent_update(&a, f.id, "t1", "TASK_FINISHED", UUIDS[1]), 202);
	ev = peer_next(&f, "UPDATE", 3000);
	cr_assert_str_eq(jstr(ev, "update.status.state"), "TASK_FINISHED");
	json_decref(ev);
	/* The cpu comes back in a new offer once the task ended. */
	ev = peer_next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev);
	json_decref(ev);
	peer_close(&a);
	peer_close(&f);
}

Test(sched, calls_need_the_right_stream_id)
{
	start_master(NULL);
	struct peer f;
	fw_subscribe(&f, NULL, NULL);
	char good[128];
	snprintf(good, sizeof(good), "%s", f.stream_id);
#define revive "{\"type\":\"REVIVE\",\"framework_id\":{\"value\":\"%s\"}}"
	cr_assert_eq(fw_call(&f, revive, f.id), 202);
	snprintf(f.stream_id, sizeof(f.stream_id), "wrong");
	cr_assert_eq(fw_call(&f, revive, f.id), 400);
	snprintf(f.stream_id, sizeof(f.stream_id), "%s", good);
	cr_assert_eq(fw_call(&f, revive, "no-such-framework"), 400);
	cr_assert_eq(fw_call(&f, "{\"type\":\"REVIVE\"}"), 400);
	cr_assert_eq(fw_call(&f, "{\"type\":\"NOPE\",\"framework_id\":{\"value\":\"x\"}}"), 400);
	cr_assert_eq(fw_call(&f, "{not json"), 400);
	/* A subscribe carrying a stream id is refused. */
	char *body = NULL;
	cr_assert_eq(peer_call(&f,
	                       "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{"
	                       "\"user\":\"u\",\"name\":\"n\"}}}",
	                       &body),
	             400);
	cr_assert(strstr(body, "Mesos-Stream-Id"), "%s", body);
	free(body);
	/* Gone stream: the framework is known but not subscribed. */
	peer_close(&f);
	usleep(200 * 1000);
	cr_assert_eq(fw_call(&f, revive, f.id), 403);
#undef revive
}

Test(sched, invalid_launches_get_task_error_or_lost)
{
	start_master(NULL);
	struct peer a, f;
	agent_register(&a, AGENT_RES);
	fw_subscribe(&f, NULL, NULL);
	json_t *ev = peer_next(&f, "OFFERS", 3000);
	char offer[256];
	snprintf(offer, sizeof(offer), "%s", jstr(ev, "offers.offers.0.id.value"));
	json_decref(ev);
	/* More cpus than offered. */
	cr_assert_eq(fw_launch(&f, offer, a.id, "big", "5"), 202);
	ev = peer_next(&f, "UPDATE", 3000);
	cr_assert_str_eq(jstr(ev, "update.status.state"), "TASK_ERROR");
	cr_assert_str_eq(jstr(ev, "update.status.reason"), "REASON_TASK_INVALID");
	cr_assert_str_eq(jstr(ev, "update.status.source"), "SOURCE_MASTER");
	cr_assert(strstr(jstr(ev, "update.status.message"), "more resources"));
	cr_assert_null(
	        json_object_get(json_object_get(json_object_get(ev, "update"), "status"), "uuid"));
	json_decref(ev);
	/* The offer is used now: a second accept is an invalid offer. */
	cr_assert_eq(fw_launch(&f, offer, a.id, "again", "1"), 202);
	ev = peer_next(&f, "UPDATE", 3000);
	cr_assert_str_eq(jstr(ev, "update.status.state"), "TASK_LOST");
	cr_assert_str_eq(jstr(ev, "update.status.reason"), "REASON_INVALID_OFFERS");
	json_decref(ev);
	/* A '/' in the task id. The failed accept filtered the agent for the
	 * default 5 s: revive to get it offered again. */
	cr_assert_eq(fw_call(&f, "{\"type\":\"REVIVE\",\"framework_id\":{\"value\":\"%s\"}}", f.id),
	             202);
	ev = peer_next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev);
	snprintf(offer, sizeof(offer), "%s", jstr(ev, "offers.offers.0.id.value"));
	json_decref(ev);
	cr_assert_eq(fw_launch(&f, offer, a.id, "a/b", "1"), 202);
	ev = peer_next(&f, "UPDATE", 3000);
	cr_assert_str_eq(jstr(ev, "update.status.state"), "TASK_ERROR");
	cr_assert(strstr(jstr(ev, "update.status.message"), "a/b"));
	json_decref(ev);
}

Test(sched, decline_filter_is_honoured_over_time)
{
	start_master(NULL);
	struct peer a, f;
	agent_register(&a, AGENT_RES);
	fw_subscribe(&f, NULL, NULL);
	json_t *ev = peer_next(&f, "OFFERS", 3000);
	char offer[256];
	snprintf(offer, sizeof(offer), "%s", jstr(ev, "offers.offers.0.id.value"));
	json_decref(ev);
	cr_assert_eq(
	        fw_call(&f,
	                "{\"type\":\"DECLINE\",\"framework_id\":{\"value\":\"%s\"},\"decline\":"
	                "{\"offer_ids\":[{\"value\":\"%s\"}],\"filters\":{\"refuse_seconds\":2}"
	                "}}",
	                f.id, offer),
	        202);
	uint64_t t0 = ag_now_ns();
	cr_assert_null(peer_next(&f, "OFFERS", 1500), "offered again inside the filter");
	ev = peer_next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev, "never offered again after the filter");
	double waited = (double)(ag_now_ns() - t0) / 1e9;
	cr_assert(waited >= 1.9 && waited < 3.5, "offered after %.2f s", waited);
	json_decref(ev);
}

Test(sched, reconcile_answers_known_and_unknown_tasks)
{
	start_master(NULL);
	struct peer a, f;
	agent_register(&a, AGENT_RES);
	fw_subscribe(&f, NULL, NULL);
	json_t *ev = peer_next(&f, "OFFERS", 3000);
	char offer[256];
	snprintf(offer, sizeof(offer), "%s", jstr(ev, "offers.offers.0.id.value"));
	json_decref(ev);
	cr_assert_eq(fw_launch(&f, offer, a.id, "t1", "1"), 202);
	cr_assert_eq(agent_update(&a, f.id, "t1", "TASK_RUNNING", UUIDS[0]), 202);
	json_decref(peer_next(&f, "UPDATE", 3000));
	cr_assert_eq(fw_call(&f,
	                     "{\"type\":\"RECONCILE\",\"framework_id\":{\"value\":\"%s\"},"
	                     "\"reconcile\":{\"tasks\":[]}}",
	                     f.id),
	             202);
	ev = peer_next(&f, "UPDATE", 3000);
	cr_assert_str_eq(jstr(ev, "update.status.state"), "TASK_RUNNING");
	cr_assert_str_eq(jstr(ev, "update.status.reason"), "REASON_RECONCILIATION");
	json_decref(ev);
	cr_assert_eq(fw_call(&f,
	                     "{\"type\":\"RECONCILE\",\"framework_id\":{\"value\":\"%s\"},"
	                     "\"reconcile\":{\"tasks\":[{\"task_id\":{\"value\":\"zz\"},"
	                     "\"agent_id\":{\"value\":\"%s\"}}]}}",
	                     f.id, a.id),
	             202);
	ev = peer_next(&f, "UPDATE", 3000);
	cr_assert_str_eq(jstr(ev, "update.status.task_id.value"), "zz");
	cr_assert_str_eq(jstr(ev, "update.status.state"), "TASK_LOST");
	json_decref(ev);
}

Test(sched, framework_failover_within_and_after_timeout)
{
	start_master(NULL);
	struct peer f, f2;
	fw_subscribe(&f, NULL, NULL);
	char id[256];
	snprintf(id, sizeof(id), "%s", f.id);
	peer_close(&f);
	usleep(300 * 1000);
	/* Within failover_timeout (2 s): same id. */
	fw_subscribe(&f2, id, NULL);
	cr_assert_str_eq(f2.id, id);
	peer_close(&f2);
	usleep(2500 * 1000);
	/* After it: removed, and its re-subscription gets only ERROR. */
	char body[512];
	snprintf(body, sizeof(body),
	         "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"id\":{\"value\":"
	         "\"%s\"},\"user\":\"root\",\"name\":\"fw\"}}}",
	         id);
	struct peer f3;
	cr_assert_eq(peer_open(&f3, "/api/v1/scheduler", body), 200);
	json_t *ev = peer_next(&f3, "ERROR", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(jstr(ev, "error.message"), "Framework has been removed");
	json_decref(ev);
}

Test(sched, agent_loss_makes_tasks_lost)
{
	start_master((const char *const[]){"--agent_ping_timeout=300ms",
	                                   "--max_agent_ping_timeouts=2", NULL});
	struct peer a, f;
	agent_register(&a, AGENT_RES);
	fw_subscribe(&f, NULL, NULL);
	json_t *ev = peer_next(&f, "OFFERS", 3000);
	char offer[256];
	snprintf(offer, sizeof(offer), "%s", jstr(ev, "offers.offers.0.id.value"));
	json_decref(ev);
	cr_assert_eq(fw_launch(&f, offer, a.id, "t1", "1"), 202);
	cr_assert_eq(agent_update(&a, f.id, "t1", "TASK_RUNNING", UUIDS[0]), 202);
	json_decref(peer_next(&f, "UPDATE", 3000));
	/* No heartbeats from now on. */
	ev = peer_next(&f, "UPDATE", 3000);
	cr_assert_not_null(ev, "no TASK_LOST");
	cr_assert_str_eq(jstr(ev, "update.status.state"), "TASK_LOST");
	cr_assert_str_eq(jstr(ev, "update.status.reason"), "REASON_AGENT_REMOVED");
	json_decref(ev);
}

Test(sched, master_sigkill_restart_keeps_frameworks_and_rebuilds_tasks)
{
	start_master(NULL);
	struct peer a, f;
	agent_register(&a, AGENT_RES);
	fw_subscribe(&f, NULL, NULL);
	json_t *ev = peer_next(&f, "OFFERS", 3000);
	char offer[256];
	snprintf(offer, sizeof(offer), "%s", jstr(ev, "offers.offers.0.id.value"));
	json_decref(ev);
	cr_assert_eq(fw_launch(&f, offer, a.id, "t1", "1"), 202);
	json_t *run = peer_next(&a, "RUN_TASK", 3000);
	cr_assert_not_null(run);
	char fwinfo[2048], task[2048];
	char *s = json_dumps(json_object_get(json_object_get(run, "run_task"), "framework_info"),
	                     JSON_COMPACT);
	snprintf(fwinfo, sizeof(fwinfo), "%s", s);
	free(s);
	s = json_dumps(json_object_get(json_object_get(run, "run_task"), "task"), JSON_COMPACT);
	snprintf(task, sizeof(task), "%s", s);
	free(s);
	json_decref(run);
	peer_close(&a);
	peer_close(&f);

	stop_master();
	start_master(NULL);
	char body[8192];
	snprintf(body, sizeof(body),
	         "{\"type\":\"REREGISTER\",\"agent_id\":{\"value\":\"%s\"},\"reregister\":{"
	         "\"agent_info\":{\"id\":{\"value\":\"%s\"},\"hostname\":\"a1\",\"port\":5051,"
	         "\"resources\":" AGENT_RES "},\"version\":\"0.1.0\",\"frameworks\":[%s],"
	         "\"tasks\":[{\"framework_id\":{\"value\":\"%s\"},\"task\":%s,\"status\":{"
	         "\"task_id\":{\"value\":\"t1\"},\"state\":\"TASK_RUNNING\"}}]}}",
	         a.id, a.id, fwinfo, f.id, task);
	struct peer a2;
	cr_assert_eq(peer_open(&a2, "/api/v1/agent", body), 200);
	ev = peer_next(&a2, "REGISTERED", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(jstr(ev, "registered.agent_id.value"), a.id);
	json_decref(ev);

	/* The operator sees the rebuilt task. */
	struct mc_response r = {0};
	cr_assert_eq(mc_request(port, "POST", "/api/v1", "Content-Type: application/json\r\n",
	                        "{\"type\":\"GET_TASKS\"}", &r),
	             0);
	cr_assert_eq(r.status, 200);
	cr_assert(strstr(r.body, "\"t1\"") && strstr(r.body, "TASK_RUNNING"), "%s", r.body);
	mc_response_free(&r);

	struct peer f2;
	fw_subscribe(&f2, f.id, NULL);
	cr_assert_str_eq(f2.id, f.id);
	cr_assert_eq(fw_call(&f2,
	                     "{\"type\":\"RECONCILE\",\"framework_id\":{\"value\":\"%s\"},"
	                     "\"reconcile\":{\"tasks\":[]}}",
	                     f2.id),
	             202);
	ev = peer_next(&f2, "UPDATE", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(jstr(ev, "update.status.task_id.value"), "t1");
	cr_assert_str_eq(jstr(ev, "update.status.state"), "TASK_RUNNING");
	json_decref(ev);
}

Test(sched, operator_weights_persist_and_teardown_removes)
{
	start_master(NULL);
	struct mc_response r = {0};
	const char *ct = "Content-Type: application/json\r\n";
	cr_assert_eq(mc_request(port, "POST", "/api/v1", ct,
	                        "{\"type\":\"UPDATE_WEIGHTS\",\"update_weights\":{"
	                        "\"weight_infos\":[{\"role\":\"web\",\"weight\":2.5}]}}",
	                        &r),
	             0);
	cr_assert_eq(r.status, 200);
	cr_assert_null(mc_header(&r, "Content-Type"));
	mc_response_free(&r);
	stop_master();
	start_master(NULL);
	cr_assert_eq(mc_request(port, "POST", "/api/v1", ct, "{\"type\":\"GET_WEIGHTS\"}", &r), 0);
	cr_assert(strstr(r.body, "\"web\"") && strstr(r.body, "2.5"), "%s", r.body);
	mc_response_free(&r);

	struct peer f;
	fw_subscribe(&f, NULL, NULL);
	char body[512];
	snprintf(body, sizeof(body),
	         "{\"type\":\"TEARDOWN\",\"teardown\":{\"framework_id\":{\"value\":\"%s\"}}}",
	         f.id);
	cr_assert_eq(mc_request(port, "POST", "/api/v1", ct, body, &r), 0);
	cr_assert_eq(r.status, 200);
	mc_response_free(&r);
	json_t *ev = peer_next(&f, "ERROR", 3000);
	cr_assert_not_null(ev);
	json_decref(ev);
	cr_assert_eq(mc_request(port, "POST", "/api/v1", ct, body, &r), 0);
	cr_assert_eq(r.status, 400);
	mc_response_free(&r);
	cr_assert_eq(mc_request(port, "POST", "/api/v1", ct,
	                        "{\"type\":\"MARK_AGENT_GONE\",\"mark_agent_gone\":{"
	                        "\"agent_id\":{\"value\":\"nope\"}}}",
	                        &r),
	             0);
	cr_assert_eq(r.status, 404);
	mc_response_free(&r);
}

/* ---- gaps: partitions, unknown calls, bad agent input ------------------- */

/* An operator call; the parsed body (NULL when not JSON). */
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

Test(sched, partition_aware_tasks_become_unreachable_and_stay_listed)
{
	start_master((const char *const[]){"--agent_ping_timeout=300ms",
	                                   "--max_agent_ping_timeouts=2", NULL});
	struct peer a, f;
	agent_register(&a, AGENT_RES);
	fw_subscribe(&f, NULL, "{\"type\":\"PARTITION_AWARE\"}");
	json_t *ev = peer_next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev);
	char offer[256];
	snprintf(offer, sizeof(offer), "%s", jstr(ev, "offers.offers.0.id.value"));
	json_decref(ev);
	cr_assert_eq(fw_launch(&f, offer, a.id, "t1", "1"), 202);
	cr_assert_eq(agent_update(&a, f.id, "t1", "TASK_RUNNING", UUIDS[0]), 202);
	json_decref(peer_next(&f, "UPDATE", 3000));
	/* No heartbeats from now on. */
	ev = peer_next(&f, "UPDATE", 3000);
	cr_assert_not_null(ev, "no TASK_UNREACHABLE");
	cr_assert_str_eq(jstr(ev, "update.status.state"), "TASK_UNREACHABLE");
	json_decref(ev);
	int status;
	json_t *tasks = op_call("{\"type\":\"GET_TASKS\"}", &status);
	cr_assert_eq(status, 200);
	cr_assert_eq(json_array_size(json_object_get(json_object_get(tasks, "get_tasks"), "tasks")),
	             0);
	cr_assert_str_eq(jstr(tasks, "get_tasks.unreachable_tasks.0.task_id.value"), "t1");
	cr_assert_str_eq(jstr(tasks, "get_tasks.unreachable_tasks.0.state"), "TASK_UNREACHABLE");
	json_decref(tasks);
	json_t *state = op_call("{\"type\":\"GET_STATE\"}", &status);
	cr_assert_str_eq(jstr(state, "get_state.get_tasks.unreachable_tasks.0.task_id.value"),
	                 "t1");
	json_decref(state);
}

Test(sched, recovered_agents_that_never_come_back_become_unreachable)
{
	start_master(NULL);
	struct peer a;
	agent_register(&a, AGENT_RES);
	peer_close(&a);
	stop_master();
	start_master((const char *const[]){"--agent_ping_timeout=300ms",
	                                   "--max_agent_ping_timeouts=2", NULL});
	int status;
	json_t *agents = op_call("{\"type\":\"GET_AGENTS\"}", &status);
	cr_assert_eq(status, 200);
	cr_assert_str_eq(jstr(agents, "get_agents.recovered_agents.0.id.value"), a.id);
	json_decref(agents);
	usleep(1500 * 1000);
	agents = op_call("{\"type\":\"GET_AGENTS\"}", &status);
	cr_assert_eq(json_array_size(json_object_get(json_object_get(agents, "get_agents"),
	                                             "recovered_agents")),
	             0, "still expected after the ping timeout");
	json_decref(agents);
	FILE *log = fopen(log_path, "r");
	char line[1024];
	bool seen = false;
	while (log && fgets(line, sizeof(line), log))
		seen |= strstr(line, a.id) && strstr(line, "unreachable");
	if (log)
		fclose(log);
	cr_assert(seen, "no 'unreachable' line in the log");
}

Test(sched, unknown_scheduler_call_is_400_naming_it)
{
	start_master(NULL);
	struct peer f;
	fw_subscribe(&f, NULL, NULL);
	char *body = NULL;
	char call[512];
	snprintf(call, sizeof(call),
	         "{\"type\":\"FLY_TO_THE_MOON\",\"framework_id\":{\"value\":\"%s\"}}", f.id);
	cr_assert_eq(peer_call(&f, call, &body), 400);
	cr_assert(strstr(body, "FLY_TO_THE_MOON"), "%s", body);
	free(body);
}

Test(sched, bad_agent_input_is_refused_and_state_is_intact)
{
	start_master((const char *const[]){"--max_body_size=4KiB", NULL});
	struct peer a, f;
	agent_register(&a, AGENT_RES);
	fw_subscribe(&f, NULL, NULL);
	json_t *ev = peer_next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev);
	json_decref(ev);
	int status;
	json_t *before = op_call("{\"type\":\"GET_STATE\"}", &status);
	cr_assert_eq(status, 200);

	char big[8192];
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "{\"type\":\"HEARTBEAT\"}", 20);
	char wrong_uuid[1024];
	snprintf(wrong_uuid, sizeof(wrong_uuid),
	         "{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":\"%s\"},\"status_update\":{"
	         "\"framework_id\":{\"value\":\"%s\"},\"status\":{\"task_id\":{\"value\":\"t1\"},"
	         "\"state\":\"TASK_RUNNING\",\"uuid\":\"c2hvcnQ=\"}}}",
	         a.id, f.id);
	const struct {
		const char *body;
		int status;
		const char *names;
	} cases[] = {
	        {"{\"type\":", 400, NULL},
	        {"[]", 400, NULL},
	        {"{\"type\":\"SELF_DESTRUCT\"}", 400, "SELF_DESTRUCT"},
	        {"{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":7}}", 400, NULL},
	        {"{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":\"x\"}}", 400, NULL},
	        {wrong_uuid, 400, "uuid"},
	        {big, 413, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *body = NULL;
		int s = peer_call(&a, cases[i].body, &body);
		cr_assert_eq(s, cases[i].status, "case %zu: %d %s", i, s, body);
		if (cases[i].names)
			cr_assert(strstr(body, cases[i].names), "case %zu: %s", i, body);
		free(body);
	}
	/* The stream still works and nothing changed. */
	cr_assert_eq(agent_update(&a, f.id, "nope", "TASK_RUNNING", UUIDS[0]), 202);
	json_t *after = op_call("{\"type\":\"GET_STATE\"}", &status);
	cr_assert_eq(status, 200);
	cr_assert(json_equal(json_object_get(json_object_get(before, "get_state"), "get_agents"),
	                     json_object_get(json_object_get(after, "get_state"), "get_agents")));
	cr_assert(json_equal(json_object_get(json_object_get(before, "get_state"), "get_tasks"),
	                     json_object_get(json_object_get(after, "get_state"), "get_tasks")));
	cr_assert(
	        json_equal(json_object_get(json_object_get(before, "get_state"), "get_frameworks"),
	                   json_object_get(json_object_get(after, "get_state"), "get_frameworks")));
	json_decref(before);
	json_decref(after);
}

/* ---- operator stream, offer timeout, suppress/revive, agent gone -------- */

static void op_subscribe(struct peer *o)
{
	cr_assert_eq(peer_open(o, "/api/v1", "{\"type\":\"SUBSCRIBE\"}"), 200);
}

static int fw_ack(struct peer *f, const char *agent, const char *task, const char *uuid)
{
	return fw_call(f,
	               "{\"type\":\"ACKNOWLEDGE\",\"framework_id\":{\"value\":\"%s\"},"
	               "\"acknowledge\":{\"agent_id\":{\"value\":\"%s\"},\"task_id\":{\"value\":"
	               "\"%s\"},\"uuid\":\"%s\"}}",
	               f->id, agent, task, uuid);
}

Test(sched, operator_subscribe_streams_snapshot_and_events)
{
	start_master(NULL);
	struct peer a, b, f, o;
	agent_register(&a, AGENT_RES);
	op_subscribe(&o);
	json_t *ev = peer_next(&o, "SUBSCRIBED", 3000);
	cr_assert_not_null(ev, "no SUBSCRIBED");
	cr_assert_str_eq(jstr(ev, "subscribed.get_state.get_agents.agents.0.agent_info.id.value"),
	                 a.id);
	cr_assert(json_is_number(
	        json_object_get(json_object_get(ev, "subscribed"), "heartbeat_interval_seconds")));
	json_decref(ev);

	agent_register(&b, AGENT_RES);
	ev = peer_next(&o, "AGENT_ADDED", 3000);
	cr_assert_not_null(ev, "no AGENT_ADDED");
	cr_assert_str_eq(jstr(ev, "agent_added.agent.agent_info.id.value"), b.id);
	json_decref(ev);

	fw_subscribe(&f, NULL, NULL);
	ev = peer_next(&o, "FRAMEWORK_ADDED", 3000);
	cr_assert_not_null(ev, "no FRAMEWORK_ADDED");
	cr_assert_str_eq(jstr(ev, "framework_added.framework.framework_info.id.value"), f.id);
	json_decref(ev);

	ev = peer_next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev);
	char offer[256], agent[256];
	snprintf(offer, sizeof(offer), "%s", jstr(ev, "offers.offers.0.id.value"));
	snprintf(agent, sizeof(agent), "%s", jstr(ev, "offers.offers.0.agent_id.value"));
	json_decref(ev);
	struct peer *on = strcmp(agent, a.id) == 0 ? &a : &b;
	cr_assert_eq(fw_launch(&f, offer, agent, "t1", "1"), 202);
	ev = peer_next(&o, "TASK_ADDED", 3000);
	cr_assert_not_null(ev, "no TASK_ADDED");
	cr_assert_str_eq(jstr(ev, "task_added.task.task_id.value"), "t1");
	cr_assert_str_eq(jstr(ev, "task_added.task.framework_id.value"), f.id);
	cr_assert_str_eq(jstr(ev, "task_added.task.state"), "TASK_STAGING");
	json_decref(ev);

	cr_assert_eq(agent_update(on, f.id, "t1", "TASK_RUNNING", UUIDS[0]), 202);
	ev = peer_next(&o, "TASK_UPDATED", 3000);
	cr_assert_not_null(ev, "no TASK_UPDATED");
	cr_assert_str_eq(jstr(ev, "task_updated.state"), "TASK_RUNNING");
	cr_assert_str_eq(jstr(ev, "task_updated.framework_id.value"), f.id);
	cr_assert_str_eq(jstr(ev, "task_updated.status.task_id.value"), "t1");
	json_decref(ev);

	/* A new subscriber's snapshot has the framework and the task. */
	struct peer o2;
	op_subscribe(&o2);
	ev = peer_next(&o2, "SUBSCRIBED", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(jstr(ev, "subscribed.get_state.get_tasks.tasks.0.task_id.value"), "t1");
	cr_assert_str_eq(jstr(ev, "subscribed.get_state.get_tasks.tasks.0.state"), "TASK_RUNNING");
	cr_assert_str_eq(
	        jstr(ev,
	             "subscribed.get_state.get_frameworks.frameworks.0.framework_info.id.value"),
	        f.id);
	json_decref(ev);
	peer_close(&o2);

	int status;
	char body[512];
	snprintf(body, sizeof(body),
	         "{\"type\":\"TEARDOWN\",\"teardown\":{\"framework_id\":{\"value\":\"%s\"}}}",
	         f.id);
	json_decref(op_call(body, &status));
	cr_assert_eq(status, 200);
	ev = peer_next(&o, "FRAMEWORK_REMOVED", 3000);
	cr_assert_not_null(ev, "no FRAMEWORK_REMOVED");
	cr_assert_str_eq(jstr(ev, "framework_removed.framework_info.id.value"), f.id);
	json_decref(ev);

	snprintf(body, sizeof(body),
	         "{\"type\":\"MARK_AGENT_GONE\",\"mark_agent_gone\":{\"agent_id\":{"
	         "\"value\":\"%s\"}}}",
	         b.id);
	json_decref(op_call(body, &status));
	cr_assert_eq(status, 200);
	ev = peer_next(&o, "AGENT_REMOVED", 3000);
	cr_assert_not_null(ev, "no AGENT_REMOVED");
	cr_assert_str_eq(jstr(ev, "agent_removed.agent_id.value"), b.id);
	json_decref(ev);
}

Test(sched, offer_timeout_rescinds_and_reoffers)
{
	start_master((const char *const[]){"--offer_timeout=300ms", NULL});
	struct peer a, f;
	agent_register(&a, AGENT_RES);
	fw_subscribe(&f, NULL, NULL);
	json_t *ev = peer_next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev);
	char offer[256];
	snprintf(offer, sizeof(offer), "%s", jstr(ev, "offers.offers.0.id.value"));
	json_decref(ev);
	uint64_t t0 = ag_now_ns();
	ev = peer_next(&f, "RESCIND", 3000);
	cr_assert_not_null(ev, "no RESCIND");
	cr_assert_str_eq(jstr(ev, "rescind.offer_id.value"), offer);
	cr_assert_geq(ag_now_ns() - t0, 200 * 1000000ull, "rescinded before the timeout");
	json_decref(ev);
	/* The resources come back in a new offer. */
	ev = peer_next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev, "not offered again");
	cr_assert_str_neq(jstr(ev, "offers.offers.0.id.value"), offer);
	json_decref(ev);
	/* The rescinded offer is gone: launching on it is an invalid offer. */
	cr_assert_eq(fw_launch(&f, offer, a.id, "late", "1"), 202);
	ev = peer_next(&f, "UPDATE", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(jstr(ev, "update.status.state"), "TASK_LOST");
	cr_assert_str_eq(jstr(ev, "update.status.reason"), "REASON_INVALID_OFFERS");
	json_decref(ev);
}

Test(sched, suppress_stops_offers_and_revive_resumes_them)
{
	start_master(NULL);
	struct peer a, f;
	agent_register(&a, AGENT_RES);
	fw_subscribe(&f, NULL, NULL);
	json_t *ev = peer_next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev);
	char offer[256];
	snprintf(offer, sizeof(offer), "%s", jstr(ev, "offers.offers.0.id.value"));
	json_decref(ev);
	cr_assert_eq(
	        fw_call(&f, "{\"type\":\"SUPPRESS\",\"framework_id\":{\"value\":\"%s\"}}", f.id),
	        202);
	/* Declined with no filter: only the suppression keeps it back. */
	cr_assert_eq(fw_call(&f,
	                     "{\"type\":\"DECLINE\",\"framework_id\":{\"value\":\"%s\"},"
	                     "\"decline\":{\"offer_ids\":[{\"value\":\"%s\"}],"
	                     "\"filters\":{\"refuse_seconds\":0}}}",
	                     f.id, offer),
	             202);
	/* Several allocation intervals (200 ms) pass without an offer. */
	ev = peer_next(&f, "OFFERS", 1200);
	cr_assert_null(ev, "offered while suppressed");
	cr_assert_eq(fw_call(&f, "{\"type\":\"REVIVE\",\"framework_id\":{\"value\":\"%s\"}}", f.id),
	             202);
	ev = peer_next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev, "no offer after REVIVE");
	cr_assert_str_eq(jstr(ev, "offers.offers.0.agent_id.value"), a.id);
	json_decref(ev);
}

Test(sched, mark_agent_gone_on_a_live_agent)
{
	start_master(NULL);
	struct peer a, f;
	agent_register(&a, AGENT_RES);
	fw_subscribe(&f, NULL, "{\"type\":\"PARTITION_AWARE\"}");
	json_t *ev = peer_next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev);
	char offer[256];
	snprintf(offer, sizeof(offer), "%s", jstr(ev, "offers.offers.0.id.value"));
	json_decref(ev);
	cr_assert_eq(fw_launch(&f, offer, a.id, "t1", "1"), 202);
	cr_assert_eq(agent_update(&a, f.id, "t1", "TASK_RUNNING", UUIDS[0]), 202);
	ev = peer_next(&f, "UPDATE", 3000);
	cr_assert_not_null(ev);
	json_decref(ev);
	cr_assert_eq(fw_ack(&f, a.id, "t1", UUIDS[0]), 202);

	int status;
	char body[512];
	snprintf(body, sizeof(body),
	         "{\"type\":\"MARK_AGENT_GONE\",\"mark_agent_gone\":{\"agent_id\":{"
	         "\"value\":\"%s\"}}}",
	         a.id);
	json_decref(op_call(body, &status));
	cr_assert_eq(status, 200);
	ev = peer_next(&f, "UPDATE", 3000);
	cr_assert_not_null(ev, "no update for the task");
	cr_assert_str_eq(jstr(ev, "update.status.task_id.value"), "t1");
	cr_assert_str_eq(jstr(ev, "update.status.state"), "TASK_GONE_BY_OPERATOR");
	json_decref(ev);
	/* The agent's stream ends. */
	cr_assert_null(peer_next(&a, "NONE", 3000));
	/* Twice is fine; its resources are not offered again. */
	json_decref(op_call(body, &status));
	cr_assert_eq(status, 200);
	cr_assert_null(peer_next(&f, "OFFERS", 800), "a gone agent's resources were offered");
	json_t *agents = op_call("{\"type\":\"GET_AGENTS\"}", &status);
	cr_assert_eq(status, 200);
	json_t *list = json_object_get(json_object_get(agents, "get_agents"), "agents");
	for (size_t i = 0; i < json_array_size(list); i++)
		cr_assert_str_neq(jstr(json_array_get(list, i), "agent_info.id.value"), a.id);
	json_decref(agents);
	/* Its status updates are no longer taken. */
	cr_assert_neq(agent_update(&a, f.id, "t1", "TASK_FINISHED", UUIDS[1]), 202);
}

Test(sched, agent_attributes_are_in_offers_and_agent_info)
{
	start_master(NULL);
	struct peer a, f;
	const char *body =
	        "{\"type\":\"REGISTER\",\"register\":{\"agent_info\":{\"hostname\":\"a1\","
	        "\"port\":5051,\"resources\":" AGENT_RES ",\"attributes\":[{\"name\":\"rack\","
	        "\"type\":\"TEXT\",\"text\":{\"value\":\"r1\"}}]},\"version\":\"0.1.0\"}}";
	cr_assert_eq(peer_open(&a, "/api/v1/agent", body), 200);
	json_t *ev = peer_next(&a, "REGISTERED", 3000);
	cr_assert_not_null(ev);
	snprintf(a.id, sizeof(a.id), "%s", jstr(ev, "registered.agent_id.value"));
	json_decref(ev);
	fw_subscribe(&f, NULL, NULL);
	ev = peer_next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(jstr(ev, "offers.offers.0.attributes.0.name"), "rack");
	cr_assert_str_eq(jstr(ev, "offers.offers.0.attributes.0.text.value"), "r1");
	json_decref(ev);
	int status;
	json_t *agents = op_call("{\"type\":\"GET_AGENTS\"}", &status);
	cr_assert_eq(status, 200);
	cr_assert_str_eq(jstr(agents, "get_agents.agents.0.agent_info.attributes.0.name"), "rack");
	cr_assert_str_eq(jstr(agents, "get_agents.agents.0.agent_info.id.value"), a.id);
	cr_assert_str_eq(jstr(agents, "get_agents.agents.0.agent_info.hostname"), "a1");
	json_decref(agents);
}

/* ---- batching: STATUS_UPDATES, OFFERS per cycle, --allocation_batch ---- */

static int agent_updates2(struct peer *a, const char *fw, const char *t1, const char *u1,
                          const char *t2, const char *u2, const char *state, char **ret_body)
{
	char body[2048];
	snprintf(
	        body, sizeof(body),
	        "{\"type\":\"STATUS_UPDATES\",\"agent_id\":{\"value\":\"%s\"},\"status_updates\":"
	        "{\"updates\":[{\"framework_id\":{\"value\":\"%s\"},\"status\":{\"task_id\":{"
	        "\"value\":\"%s\"},\"state\":\"%s\",\"source\":\"SOURCE_EXECUTOR\",\"agent_id\":{"
	        "\"value\":\"%s\"},\"timestamp\":1700000000.5,\"uuid\":\"%s\"}},{\"framework_id\":{"
	        "\"value\":\"%s\"},\"status\":{\"task_id\":{\"value\":\"%s\"},\"state\":\"%s\","
	        "\"uuid\":\"%s\"}}]}}",
	        a->id, fw, t1, state, a->id, u1, fw, t2, state, u2);
	return peer_call(a, body, ret_body);
}

/* Two tasks on one agent from one offer; their RUN_TASKs read. */
static void launch_two(struct peer *a, struct peer *f)
{
	json_t *ev = peer_next(f, "OFFERS", 3000);
	cr_assert_not_null(ev, "no offer");
	char offer[256];
	snprintf(offer, sizeof(offer), "%s", jstr(ev, "offers.offers.0.id.value"));
	json_decref(ev);
	cr_assert_eq(fw_call(f,
	                     "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"%s\"},\"accept\":{"
	                     "\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":[{\"type\":"
	                     "\"LAUNCH\",\"launch\":{\"task_infos\":[{\"name\":\"t\",\"task_id\":{"
	                     "\"value\":\"t1\"},\"agent_id\":{\"value\":\"%s\"},\"resources\":[{"
	                     "\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1}}],"
	                     "\"command\":{\"value\":\"true\"}},{\"name\":\"t\",\"task_id\":{"
	                     "\"value\":\"t2\"},\"agent_id\":{\"value\":\"%s\"},\"resources\":[{"
	                     "\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1}}],"
	                     "\"command\":{\"value\":\"true\"}}]}}],\"filters\":{"
	                     "\"refuse_seconds\":0}}}",
	                     f->id, offer, a->id, a->id),
	             202);
	for (int i = 0; i < 2; i++) {
		json_t *run = peer_next(a, "RUN_TASK", 3000);
		cr_assert_not_null(run);
		json_decref(run);
	}
}

Test(sched, status_updates_carries_several_updates_in_order)
{
	start_master(NULL);
	struct peer a, f;
	agent_register(&a, AGENT_RES);
	fw_subscribe(&f, NULL, NULL);
	launch_two(&a, &f);

	/* A bad second update refuses the whole request, naming it; the
	 * first is not applied either. */
	char *body = NULL;
	cr_assert_eq(agent_updates2(&a, f.id, "t1", UUIDS[0], "t2", "aGk=", "TASK_RUNNING", &body),
	             400);
	cr_assert_not_null(strstr(body, "status_updates.updates[1].status.uuid"), "%s", body);
	free(body);
	cr_assert_null(peer_next(&f, "UPDATE", 300));

	cr_assert_eq(agent_updates2(&a, f.id, "t1", UUIDS[0], "t2", UUIDS[1], "TASK_RUNNING", NULL),
	             202);
	const char *tasks[] = {"t1", "t2"};
	for (int i = 0; i < 2; i++) {
		json_t *ev = peer_next(&f, "UPDATE", 3000);
		cr_assert_not_null(ev);
		cr_assert_str_eq(jstr(ev, "update.status.task_id.value"), tasks[i]);
		cr_assert_str_eq(jstr(ev, "update.status.state"), "TASK_RUNNING");
		cr_assert_str_eq(jstr(ev, "update.status.uuid"), UUIDS[i]);
		/* The second status had no agent_id: the master adds it. */
		cr_assert_str_eq(jstr(ev, "update.status.agent_id.value"), a.id);
		json_decref(ev);
	}
	for (int i = 0; i < 2; i++)
		cr_assert_eq(fw_ack(&f, a.id, tasks[i], UUIDS[i]), 202);
	for (int i = 0; i < 2; i++) {
		json_t *ack = peer_next(&a, "STATUS_UPDATE_ACK", 3000);
		cr_assert_not_null(ack);
		cr_assert_str_eq(jstr(ack, "status_update_ack.task_id.value"), tasks[i]);
		json_decref(ack);
	}
	peer_close(&a);
	peer_close(&f);
}

Test(sched, one_offers_event_carries_the_offers_of_a_cycle)
{
	start_master(NULL);
	struct peer a1, a2, f;
	agent_register(&a1, AGENT_RES);
	agent_register(&a2, AGENT_RES);
	fw_subscribe(&f, NULL, NULL);
	json_t *ev = peer_next(&f, "OFFERS", 3000);
	cr_assert_not_null(ev);
	cr_assert_eq(json_array_size(json_object_get(json_object_get(ev, "offers"), "offers")), 2);
	json_decref(ev);
	peer_close(&a1);
	peer_close(&a2);
	peer_close(&f);
}

Test(sched, resources_freed_within_the_batch_delay_come_back_in_one_offer)
{
	const char *args[] = {"--allocation_batch=1secs", "--allocation_interval=1hrs", NULL};
	start_master(args);
	struct peer a, f;
	agent_register(&a, AGENT_RES);
	fw_subscribe(&f, NULL, NULL);
	launch_two(&a, &f);
	const char *tasks[] = {"t1", "t2"};
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(agent_update(&a, f.id, tasks[i], "TASK_FINISHED", UUIDS[i]), 202);
		json_t *ev = peer_next(&f, "UPDATE", 3000);
		cr_assert_not_null(ev);
		json_decref(ev);
	}
	/* Both cpus in one offer, not one offer per task. */
	json_t *ev = peer_next(&f, "OFFERS", 5000);
	cr_assert_not_null(ev);
	json_t *offers = json_object_get(json_object_get(ev, "offers"), "offers");
	cr_assert_eq(json_array_size(offers), 1);
	json_t *res = json_object_get(json_array_get(offers, 0), "resources");
	double cpus = 0;
	for (size_t i = 0; i < json_array_size(res); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(res, i), "name")),
		           "cpus") == 0)
			cpus += json_number_value(json_object_get(
			        json_object_get(json_array_get(res, i), "scalar"), "value"));
	cr_assert_float_eq(cpus, 2.0, 1e-9);
	json_decref(ev);
	peer_close(&a);
	peer_close(&f);
}
