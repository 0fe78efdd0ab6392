/* agora-agent as a process against a fake master (a libevent HTTP server in
 * this test speaking the master side of docs/agent-protocol.md): register,
 * tasks that finish, fail and get killed, policy refusals, status updates
 * re-sent until acknowledged and never duplicated, the agent SIGKILLed and
 * restarted, the stream dropped. No cgroups on this host: --no_isolation. */
#include "agtest.h"
#include "proto/proto.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

/* ---- the fake master -------------------------------------------------- */

struct upd_rec {
	char task[64], state[32], uuid[32], msg[512];
	int count;
};

static struct fm {
	pthread_mutex_t mu;
	struct event_base *base;
	struct evhttp *http;
	struct event *notify, *hb;
	pthread_t thread;
	int port;
	struct evhttp_request *stream;
	int registers, reregisters, heartbeats, bad;
	char last_reg[16384];
	struct upd_rec upd[256];
	int n_upd;
	char *pending[64];
	int n_pending;
	bool drop;
} fm;

static void stream_send(const char *json)
{
	if (!fm.stream)
		return;
	size_t n;
	char *f = pb_recordio_frame(json, strlen(json), &n);
	struct evbuffer *b = evbuffer_new();
	evbuffer_add(b, f, n);
	evhttp_send_reply_chunk(fm.stream, b);
	evbuffer_free(b);
	free(f);
}

static void on_close(struct evhttp_connection *c, void *arg)
{
	(void)arg;
	pthread_mutex_lock(&fm.mu);
	if (fm.stream && evhttp_request_get_connection(fm.stream) == c)
		fm.stream = NULL;
	pthread_mutex_unlock(&fm.mu);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	(void)arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	char *body = calloc(1, len + 1);
	evbuffer_remove(in, body, len);
	struct pb_agent_msg m;
	struct ag_error err = {0};
	pthread_mutex_lock(&fm.mu);
	if (pb_agent_msg_decode(body, len, &m, &err) < 0) {
		fm.bad++;
		fprintf(stderr, "fake master: bad message: %s: %s\n", err.msg, body);
		pthread_mutex_unlock(&fm.mu);
		evhttp_send_reply(req, 400, "Bad Request", NULL);
		free(body);
		return;
	}
	if (m.type == PB_AGENT_REGISTER || m.type == PB_AGENT_REREGISTER) {
		if (m.type == PB_AGENT_REGISTER)
			fm.registers++;
		else
			fm.reregisters++;
		snprintf(fm.last_reg, sizeof(fm.last_reg), "%s", body);
		if (fm.stream)
			evhttp_send_reply_end(fm.stream);
		fm.stream = req;
		evhttp_connection_set_closecb(evhttp_request_get_connection(req), on_close, NULL);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Mesos-Stream-Id",
		                  "stream-1");
		evhttp_send_reply_start(req, 200, "OK");
		stream_send("{\"type\":\"REGISTERED\",\"registered\":{\"agent_id\":{\"value\":"
		            "\"A-1\"},\"heartbeat_interval_seconds\":1}}");
	} else if (m.type == PB_AGENT_STATUS_UPDATE) {
		const struct pb_task_status *s = &m.status_update.status;
		char *u = pb_base64_encode(s->uuid.data, s->uuid.len);
		struct upd_rec *r = NULL;
		for (int i = 0; i < fm.n_upd; i++)
			if (strcmp(fm.upd[i].uuid, u) == 0)
				r = &fm.upd[i];
		if (!r && fm.n_upd < 256) {
			r = &fm.upd[fm.n_upd++];
			snprintf(r->task, sizeof(r->task), "%s", s->task_id);
			snprintf(r->state, sizeof(r->state), "%s", pb_task_state_name(s->state));
			snprintf(r->uuid, sizeof(r->uuid), "%s", u);
			snprintf(r->msg, sizeof(r->msg), "%s", s->message ? s->message : "");
			if (s->message)
				fprintf(stderr, "fake master: %s %s: %s\n", r->task, r->state,
				        s->message);
		}
		/* Acknowledge the second copy only: every update must be re-sent. */
		if (r && ++r->count == 2) {
			char ack[512];
			snprintf(ack, sizeof(ack),
			         "{\"type\":\"STATUS_UPDATE_ACK\",\"status_update_ack\":{"
			         "\"framework_id\":{\"value\":\"F0\"},\"task_id\":{\"value\":\"%"
			         "s\"},"
			         "\"uuid\":\"%s\"}}",
			         r->task, u);
			stream_send(ack);
		}
		free(u);
		evhttp_send_reply(req, 202, "Accepted", NULL);
	} else {
		fm.heartbeats++;
		evhttp_send_reply(req, 202, "Accepted", NULL);
	}
	pthread_mutex_unlock(&fm.mu);
	pb_agent_msg_free(&m);
	free(body);
}

static void on_notify(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_pending; i++) {
		stream_send(fm.pending[i]);
		free(fm.pending[i]);
	}
	fm.n_pending = 0;
	if (fm.drop && fm.stream) {
		evhttp_send_reply_end(fm.stream);
		fm.stream = NULL;
	}
	fm.drop = false;
	pthread_mutex_unlock(&fm.mu);
}

static void on_hb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	pthread_mutex_lock(&fm.mu);
	stream_send("{\"type\":\"HEARTBEAT\"}");
	pthread_mutex_unlock(&fm.mu);
}

static void *fm_main(void *arg)
{
	(void)arg;
	event_base_dispatch(fm.base);
	return NULL;
}

static void fm_start(void)
{
	evthread_use_pthreads();
	pthread_mutex_init(&fm.mu, NULL);
	fm.base = event_base_new();
	fm.http = evhttp_new(fm.base);
	evhttp_set_gencb(fm.http, on_request, NULL);
	struct evhttp_bound_socket *s = evhttp_bind_socket_with_handle(fm.http, "127.0.0.1", 0);
	cr_assert(s);
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	getsockname(evhttp_bound_socket_get_fd(s), (struct sockaddr *)&sin, &sl);
	fm.port = ntohs(sin.sin_port);
	fm.notify = event_new(fm.base, -1, 0, on_notify, NULL);
	fm.hb = event_new(fm.base, -1, EV_PERSIST, on_hb, NULL);
	struct timeval one = {1, 0};
	event_add(fm.hb, &one);
	pthread_create(&fm.thread, NULL, fm_main, NULL);
}

static void fm_send(const char *json)
{
	pthread_mutex_lock(&fm.mu);
	fm.pending[fm.n_pending++] = strdup(json);
	event_active(fm.notify, 0, 0);
	pthread_mutex_unlock(&fm.mu);
}

static void fm_drop(void)
{
	pthread_mutex_lock(&fm.mu);
	fm.drop = true;
	event_active(fm.notify, 0, 0);
	pthread_mutex_unlock(&fm.mu);
}

/* The updates of `task` in order, as "STATE(count) ..." */
static void fm_states(const char *task, char *out, size_t n)
{
	out[0] = '\0';
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd; i++)
		if (strcmp(fm.upd[i].task, task) == 0) {
			size_t l = strlen(out);
			snprintf(out + l, n - l, "%s%s", l ? " " : "", fm.upd[i].state);
		}
	pthread_mutex_unlock(&fm.mu);
}

static int fm_count(const char *task, const char *state)
{
	int c = -1;
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd; i++)
		if (strcmp(fm.upd[i].task, task) == 0 && strcmp(fm.upd[i].state, state) == 0)
			c = fm.upd[i].count;
	pthread_mutex_unlock(&fm.mu);
	return c;
}

/* No task got the same state under two uuids (no duplicate). */
static void fm_expect_no_duplicates(void)
{
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd; i++)
		for (int j = i + 1; j < fm.n_upd; j++)
			cr_expect(strcmp(fm.upd[i].task, fm.upd[j].task) ||
			                  strcmp(fm.upd[i].state, fm.upd[j].state),
			          "duplicate update %s %s", fm.upd[i].task, fm.upd[i].state);
	pthread_mutex_unlock(&fm.mu);
}

/* ---- the agent -------------------------------------------------------- */

static char work[64];
static pid_t agent = -1;
static int op_port; /* the agent's operator endpoints */

/* A port free right now on 127.0.0.1 (the kernel's pick, released). */
static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sin);
	cr_assert(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	getsockname(fd, (struct sockaddr *)&sin, &sl);
	close(fd);
	return ntohs(sin.sin_port);
}

/* GET `path` from the operator endpoints: the status code (-1 when the
 * connection failed), the body into out. */
static int op_get(const char *path, char *out, size_t n)
{
	out[0] = '\0';
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET,
	                          .sin_port = htons((uint16_t)op_port),
	                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	char req[1024];
	int l = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	cr_assert(write(fd, req, (size_t)l) == l);
	static char resp[1 << 20];
	size_t got = 0;
	ssize_t k;
	while (got < sizeof(resp) - 1 && (k = read(fd, resp + got, sizeof(resp) - 1 - got)) > 0)
		got += (size_t)k;
	resp[got] = '\0';
	close(fd);
	int code = -1;
	sscanf(resp, "HTTP/1.%*d %d", &code);
	const char *body = strstr(resp, "\r\n\r\n");
	snprintf(out, n, "%s", body ? body + 4 : "");
	return code;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void start_agent(void)
{
	char bin[512], master[64], log[128];
	const char *b = getenv("AGORA_BUILD_DIR");
	snprintf(bin, sizeof(bin), "%s/bin/agora-agent", b ? b : "build");
	snprintf(master, sizeof(master), "127.0.0.1:%d", fm.port);
	snprintf(log, sizeof(log), "%s.log", work);
	if (!op_port)
		op_port = free_port();
	char port[16];
	snprintf(port, sizeof(port), "%d", op_port);
	agent = fork();
	cr_assert(agent >= 0);
	if (agent == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		dup2(fd, 2);
		execl(bin, bin, "--master", master, "--work_dir", work, "--no_isolation",
		      "--hostname", "h1", "--update_backoff_ms", "200", "--registration_backoff_ms",
		      "100", "--resources", "cpus:2;mem:1024", "--port", port, (char *)NULL);
		_exit(127);
	}
}

static void kill_agent(int sig)
{
	if (agent > 0) {
		kill(agent, sig);
		waitpid(agent, NULL, 0);
		agent = -1;
	}
}

#define WAIT_FOR(cond, secs)                                                                       \
	do {                                                                                       \
		double _end = now_s() + (secs);                                                    \
		while (!(cond) && now_s() < _end)                                                  \
			usleep(50000);                                                             \
		cr_assert(cond, "timed out waiting for " #cond);                                   \
	} while (0)

static int registers(void)
{
	pthread_mutex_lock(&fm.mu);
	int n = fm.registers + fm.reregisters;
	pthread_mutex_unlock(&fm.mu);
	return n;
}

static void setup(void)
{
	if (geteuid() != 0)
		AG_SKIP("needs root (namespaces, mounts)");
	snprintf(work, sizeof(work), "/tmp/agora-agentd-XXXXXX");
	cr_assert(mkdtemp(work));
	fm_start();
	start_agent();
	WAIT_FOR(registers() >= 1, 10);
}

static void teardown(void)
{
	kill_agent(SIGTERM);
	char cmd[256];
	/* tasks left running: their monitors' pids are recorded in run/ */
	snprintf(cmd, sizeof(cmd),
	         "for f in %s/run/*/monitor; do [ -f $f ] && kill -9 $(sed -n 's/^pid=//p' $f) "
	         "2>/dev/null; done; sleep 0.2; rm -rf %s",
	         work, work);
	if (work[0])
		cr_expect(system(cmd) == 0);
	if (fm.bad)
		cr_expect_eq(fm.bad, 0, "the fake master got messages it could not decode");
}

static void run_task(const char *id, const char *user, const char *command, const char *extra)
{
	char buf[4096];
	snprintf(
	        buf, sizeof(buf),
	        "{\"type\":\"RUN_TASK\",\"run_task\":{\"framework_info\":{\"user\":\"%s\","
	        "\"name\":\"fw\",\"id\":{\"value\":\"F0\"},\"roles\":[\"web\"]},\"task\":{"
	        "\"name\":\"%s\",\"task_id\":{\"value\":\"%s\"},\"agent_id\":{\"value\":\"A-1\"},"
	        "\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.1}}]"
	        "%s%s%s%s}}}",
	        user, id, id, command ? ",\"command\":{\"value\":\"" : "", command ? command : "",
	        command ? "\"}" : "", extra ? extra : "");
	fm_send(buf);
}

static void kill_task(const char *id, int grace_ms)
{
	char buf[512];
	snprintf(buf, sizeof(buf),
	         "{\"type\":\"KILL_TASK\",\"kill_task\":{\"framework_id\":{\"value\":\"F0\"},"
	         "\"task_id\":{\"value\":\"%s\"},\"kill_policy\":{\"grace_period\":{"
	         "\"nanoseconds\":%lld}}}}",
	         id, (long long)grace_ms * 1000000);
	fm_send(buf);
}

static bool states_are(const char *task, const char *want)
{
	char got[512];
	fm_states(task, got, sizeof(got));
	return strcmp(got, want) == 0;
}

TestSuite(agentd, .init = setup, .fini = teardown, .timeout = 90);

Test(agentd, registers_and_runs_a_task_to_finished_with_every_update_acked)
{
	pthread_mutex_lock(&fm.mu);
	cr_expect_eq(fm.registers, 1);
	cr_expect(strstr(fm.last_reg, "\"hostname\":\"h1\""));
	cr_expect(strstr(fm.last_reg, "\"unisolated\":true"));
	pthread_mutex_unlock(&fm.mu);
	run_task("t-ok", "nobody", "sleep 0.3; echo hi", NULL);
	WAIT_FOR(fm_count("t-ok", "TASK_FINISHED") >= 2, 20);
	cr_expect(states_are("t-ok", "TASK_STARTING TASK_RUNNING TASK_FINISHED"));
	/* acked updates are not sent again */
	sleep(2);
	cr_expect_eq(fm_count("t-ok", "TASK_STARTING"), 2);
	cr_expect_eq(fm_count("t-ok", "TASK_RUNNING"), 2);
	cr_expect_eq(fm_count("t-ok", "TASK_FINISHED"), 2);
	/* RUN_TASK is idempotent: nothing launched twice */
	run_task("t-ok", "nobody", "echo again", NULL);
	sleep(1);
	cr_expect(states_are("t-ok", "TASK_STARTING TASK_RUNNING TASK_FINISHED"));
	pthread_mutex_lock(&fm.mu);
	cr_expect(fm.heartbeats >= 1, "the agent sends heartbeats");
	pthread_mutex_unlock(&fm.mu);
	fm_expect_no_duplicates();
}

Test(agentd, failing_and_killed_tasks)
{
	run_task("t-fail", "nobody", "exit 3", NULL);
	run_task("t-kill", "nobody", "sleep 100", NULL);
	WAIT_FOR(fm_count("t-fail", "TASK_FAILED") >= 2, 20);
	WAIT_FOR(fm_count("t-kill", "TASK_RUNNING") >= 1, 20);
	kill_task("t-kill", 300);
	WAIT_FOR(fm_count("t-kill", "TASK_KILLED") >= 2, 20);
	cr_expect(states_are("t-kill", "TASK_STARTING TASK_RUNNING TASK_KILLING TASK_KILLED"));
	fm_expect_no_duplicates();
}

Test(agentd, policy_violations_are_task_errors)
{
	run_task("t-root", "root", "true", NULL);
	run_task("t-caps", "nobody", NULL,
	         ",\"container\":{\"type\":\"MESOS\",\"oci\":{\"root\":{\"path\":\"x\"},"
	         "\"process\":{\"user\":{\"uid\":1000},\"capabilities\":{\"bounding\":["
	         "\"CAP_SYS_ADMIN\"]}}}}");
	WAIT_FOR(fm_count("t-root", "TASK_ERROR") >= 2, 20);
	WAIT_FOR(fm_count("t-caps", "TASK_ERROR") >= 2, 20);
	cr_expect(states_are("t-root", "TASK_ERROR"));
	cr_expect(states_are("t-caps", "TASK_ERROR"));
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd; i++) {
		if (strcmp(fm.upd[i].task, "t-root") == 0)
			cr_expect(strstr(fm.upd[i].msg, "framework_info.user: uid 0"), "%s",
			          fm.upd[i].msg);
		if (strcmp(fm.upd[i].task, "t-caps") == 0)
			cr_expect(strstr(fm.upd[i].msg,
			                 "container.oci.process.capabilities.bounding: "
			                 "CAP_SYS_ADMIN is not allowed for role \"web\""),
			          "%s", fm.upd[i].msg);
	}
	pthread_mutex_unlock(&fm.mu);
}

Test(agentd, sigkilled_agent_reregisters_and_loses_nothing)
{
	run_task("t-short", "nobody", "sleep 2", NULL);
	run_task("t-long", "nobody", "sleep 100", NULL);
	WAIT_FOR(fm_count("t-short", "TASK_RUNNING") >= 2, 20);
	WAIT_FOR(fm_count("t-long", "TASK_RUNNING") >= 2, 20);
	kill_agent(SIGKILL);
	sleep(3); /* t-short ends while the agent is down */
	int before = registers();
	start_agent();
	WAIT_FOR(registers() > before, 10);
	pthread_mutex_lock(&fm.mu);
	cr_expect(fm.reregisters >= 1);
	cr_expect(strstr(fm.last_reg, "\"REREGISTER\""));
	cr_expect(strstr(fm.last_reg, "t-long"), "REREGISTER lists the running task");
	cr_expect(strstr(fm.last_reg, "\"A-1\""));
	pthread_mutex_unlock(&fm.mu);
	WAIT_FOR(fm_count("t-short", "TASK_FINISHED") >= 2, 20);
	cr_expect(states_are("t-short", "TASK_STARTING TASK_RUNNING TASK_FINISHED"));
	/* still running, not relaunched; killable */
	run_task("t-long", "nobody", "sleep 100", NULL);
	kill_task("t-long", 300);
	WAIT_FOR(fm_count("t-long", "TASK_KILLED") >= 2, 20);
	cr_expect(states_are("t-long", "TASK_STARTING TASK_RUNNING TASK_KILLING TASK_KILLED"));
	fm_expect_no_duplicates();
}

Test(agentd, dropped_stream_reregisters)
{
	int before = registers();
	fm_drop();
	WAIT_FOR(registers() > before, 10);
	pthread_mutex_lock(&fm.mu);
	cr_expect_eq(fm.reregisters, 1);
	pthread_mutex_unlock(&fm.mu);
	run_task("t-after", "nobody", "true", NULL);
	WAIT_FOR(fm_count("t-after", "TASK_FINISHED") >= 2, 20);
}

Test(agentd, operator_endpoints_list_containers_and_read_their_output)
{
	char body[65536];
	WAIT_FOR(op_get("/health", body, sizeof(body)) == 200, 10);
	cr_expect(strstr(body, "\"status\":\"ok\""), "%s", body);
	cr_expect(strstr(body, "\"isolated\":false"), "%s", body);
	run_task("t-op", "nobody", "echo hello; echo oops >&2; sleep 100", NULL);
	WAIT_FOR(fm_count("t-op", "TASK_RUNNING") >= 1, 20);

	cr_assert_eq(op_get("/containers", body, sizeof(body)), 200);
	json_t *arr = json_loads(body, 0, NULL);
	cr_assert(json_is_array(arr), "%s", body);
	json_t *c = NULL, *it;
	size_t i;
	json_array_foreach (arr, i, it) {
		if (strcmp(json_string_value(json_object_get(it, "task_id")), "t-op") == 0)
			c = it;
	}
	cr_assert(c, "t-op listed: %s", body);
	cr_expect_str_eq(json_string_value(json_object_get(c, "framework_id")), "F0");
	cr_expect_str_eq(json_string_value(json_object_get(c, "state")), "TASK_RUNNING");
	cr_expect_str_eq(json_string_value(json_object_get(c, "phase")), "running");
	cr_expect(json_is_false(json_object_get(c, "isolated")));
	cr_expect(json_is_null(json_object_get(c, "usage")));
	cr_expect(strstr(json_string_value(json_object_get(c, "usage_error")), "not isolated"),
	          "%s", body);
	char sandbox[256];
	snprintf(sandbox, sizeof(sandbox), "%s/sandboxes/%s", work,
	         json_string_value(json_object_get(c, "container_id")));
	json_decref(arr);

	WAIT_FOR(op_get("/files/read?task=t-op&file=stdout", body, sizeof(body)) == 200 &&
	                 strstr(body, "hello"),
	         10);
	cr_expect_str_eq(body, "{\"data\":\"hello\\n\",\"offset\":0,\"size\":6}\n");
	cr_expect_eq(
	        op_get("/files/read?task=t-op&file=stdout&offset=1&length=3", body, sizeof(body)),
	        200);
	cr_expect_str_eq(body, "{\"data\":\"ell\",\"offset\":1,\"size\":6}\n");
	/* past the end: nothing, at the end */
	cr_expect_eq(op_get("/files/read?task=t-op&file=stdout&offset=100", body, sizeof(body)),
	             200);
	cr_expect_str_eq(body, "{\"data\":\"\",\"offset\":6,\"size\":6}\n");
	cr_expect_eq(op_get("/files/read?task=t-op&file=stderr", body, sizeof(body)), 200);
	cr_expect(strstr(body, "oops"), "%s", body);

	/* bad parameters: 400 naming the field; unknown tasks: 404 */
	cr_expect_eq(op_get("/files/read?task=nope&file=stdout", body, sizeof(body)), 404);
	cr_expect_eq(op_get("/files/read?task=t-op&file=../../agent.db", body, sizeof(body)), 400);
	cr_expect(strstr(body, "\"field\":\"file\""), "%s", body);
	cr_expect_eq(op_get("/files/read?task=t-op&file=%2Fetc%2Fpasswd", body, sizeof(body)), 400);
	cr_expect_eq(op_get("/files/read?file=stdout", body, sizeof(body)), 400);
	cr_expect_eq(op_get("/files/read?task=t-op&file=stdout&offset=-1", body, sizeof(body)),
	             400);
	cr_expect(strstr(body, "\"field\":\"offset\""), "%s", body);
	cr_expect_eq(op_get("/files/read?task=t-op&file=stdout&length=x", body, sizeof(body)), 400);
	cr_expect_eq(op_get("/nothing", body, sizeof(body)), 404);

	/* a task can replace its log by a symlink: it is not followed */
	char p[512];
	snprintf(p, sizeof(p), "%s/stderr", sandbox);
	cr_assert(unlink(p) == 0, "%s: %s", p, strerror(errno));
	cr_assert(symlink("/etc/passwd", p) == 0);
	cr_expect_eq(op_get("/files/read?task=t-op&file=stderr", body, sizeof(body)), 404);
	cr_expect(!strstr(body, "root:"), "%s", body);

	/* after the end: still listed with its final state */
	kill_task("t-op", 300);
	WAIT_FOR(fm_count("t-op", "TASK_KILLED") >= 2, 20);
	cr_assert_eq(op_get("/containers", body, sizeof(body)), 200);
	cr_expect(strstr(body, "\"phase\":\"ended\""), "%s", body);
	cr_expect(strstr(body, "\"state\":\"TASK_KILLED\""), "%s", body);
	cr_expect_eq(op_get("/files/read?task=t-op&file=stdout", body, sizeof(body)), 200);
	cr_expect(strstr(body, "hello"), "%s", body);
}
