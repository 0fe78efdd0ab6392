/* Host tests of agora-master as a process: started on a free loopback port
 * with a fresh work_dir, talked to over real sockets, fed garbage, stopped
 * with SIGTERM and killed with SIGKILL. */
#include "agtest.h"
#include "tmpdir.h"
#include "master/registry.h"
#include "master_client.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

struct proc {
	pid_t pid;
	uint16_t port;
};

static char tmp[256], work_dir[300], log_path[300];
static struct proc master;

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/agora-master-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(work_dir, sizeof(work_dir), "%s/wd", tmp);
	snprintf(log_path, sizeof(log_path), "%s/master.log", tmp);
	master.pid = 0;
}

static void teardown(void)
{
	if (master.pid > 0) {
		kill(master.pid, SIGKILL);
		waitpid(master.pid, NULL, 0);
	}
	(void)td_remove(tmp);
}

TestSuite(master, .init = setup, .fini = teardown, .timeout = 30);

static const char *master_bin(void)
{
	static char path[512];
	const char *b = getenv("AGORA_BUILD_DIR");
	snprintf(path, sizeof(path), "%s/bin/agora-master", b ? b : "build");
	return path;
}

/* Start agora-master with `--port 0` (plus `args`, NULL-terminated) and
 * wait for its "listening on" line. Returns 0, or its exit status + 1000
 * when it exited instead. Its stderr goes to log_path. */
static int start(struct proc *p, const char *const *args)
{
	int out[2];
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		const char *argv[32] = {master_bin(), "--port=0", "--log_level=debug"};
		int n = 3;
		char wd[320];
		snprintf(wd, sizeof(wd), "--work_dir=%s", work_dir);
		argv[n++] = wd;
		for (int i = 0; args && args[i]; i++)
			argv[n++] = args[i];
		int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(out[1], 1);
		dup2(logfd, 2);
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	close(out[1]);
	p->pid = pid;
	char line[256];
	size_t len = 0;
	struct pollfd pfd = {.fd = out[0], .events = POLLIN};
	while (len < sizeof(line) - 1 && poll(&pfd, 1, 5000) == 1) {
		ssize_t n = read(out[0], line + len, 1);
		if (n <= 0)
			break;
		if (line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	close(out[0]);
	unsigned port;
	if (sscanf(line, "listening on 127.0.0.1:%u", &port) == 1) {
		p->port = (uint16_t)port;
		return 0;
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid, "no listening line and still running");
	p->pid = 0;
	return 1000 + (WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

static char *read_log(void)
{
	static char buf[65536];
	int fd = open(log_path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : 0;
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Wait up to `ms` for the process to exit; its status, or -1. */
static int wait_exit(struct proc *p, int ms)
{
	for (int i = 0; i < ms; i++) {
		int status;
		if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
			p->pid = 0;
			return status;
		}
		usleep(1000);
	}
	return -1;
}

static void start_ok(void)
{
	int r = start(&master, NULL);
	cr_assert_eq(r, 0, "agora-master did not start (%d): %s", r, read_log());
}

static void post_api(const char *headers, const char *body, struct mc_response *r)
{
	cr_assert_eq(mc_request(master.port, "POST", "/api/v1", headers, body, r), 0);
}

static void assert_healthy(void)
{
	struct mc_response r;
	cr_assert_eq(mc_request(master.port, "GET", "/health", NULL, NULL, &r), 0);
	cr_assert_eq(r.status, 200);
	mc_response_free(&r);
	post_api("Content-Type: application/json\r\n", "{\"type\":\"GET_HEALTH\"}", &r);
	cr_assert_eq(r.status, 200);
	mc_response_free(&r);
}

/* Stop the master with SIGTERM and check it exited 0 with a clean log: in
 * an AGORA_SANITIZE build, a leak or a sanitizer report fails the test
 * (redis's test harness does the same with its servers' stderr). */
static void stop_clean(void)
{
	cr_assert_eq(kill(master.pid, SIGTERM), 0);
	int status = wait_exit(&master, 2000);
	const char *log = read_log();
	cr_assert(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d: %s",
	          status, log);
	cr_assert_null(strstr(log, "Sanitizer"), "%s", log);
	cr_assert_null(strstr(log, "runtime error"), "%s", log);
}

#define JSON "Content-Type: application/json\r\n"

Test(master, health_endpoint_answers_200)
{
	start_ok();
	struct mc_response r;
	cr_assert_eq(mc_request(master.port, "GET", "/health", NULL, NULL, &r), 0);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.body_len, 0);
	cr_assert_null(mc_header(&r, "Content-Type"));
	mc_response_free(&r);
	cr_assert_eq(mc_request(master.port, "GET", "/nope", NULL, NULL, &r), 0);
	cr_assert_eq(r.status, 404);
	mc_response_free(&r);
	stop_clean();
}

Test(master, operator_get_health_and_get_version)
{
	start_ok();
	struct mc_response r;
	post_api(JSON, "{\"type\":\"GET_HEALTH\"}", &r);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(mc_header(&r, "Content-Type"), "application/json");
	cr_assert_not_null(mc_header(&r, "Content-Length"));
	cr_assert_str_eq(r.body, "{\"type\":\"GET_HEALTH\",\"get_health\":{\"healthy\":true}}");
	mc_response_free(&r);

	/* mesos-go sends Accept: application/json; parameters and case in
	 * Content-Type are tolerated. */
	post_api("Content-Type: Application/JSON; charset=utf-8\r\nAccept: application/json\r\n",
	         "{\"type\":\"GET_VERSION\"}", &r);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "{\"type\":\"GET_VERSION\",\"get_version\":{\"version_info\":"
	                         "{\"version\":\"0.1.0\"}}}");
	mc_response_free(&r);
	stop_clean();
}

Test(master, wrong_content_type_is_415_and_missing_is_400)
{
	start_ok();
	struct mc_response r;
	post_api("Content-Type: application/x-protobuf\r\n", "{\"type\":\"GET_HEALTH\"}", &r);
	cr_assert_eq(r.status, 415);
	cr_assert_str_eq(mc_header(&r, "Content-Type"), "text/plain; charset=utf-8");
	cr_assert_str_eq(r.body, "Expecting 'Content-Type' of application/json");
	mc_response_free(&r);
	post_api(NULL, "{\"type\":\"GET_HEALTH\"}", &r);
	cr_assert_eq(r.status, 400);
	cr_assert(strstr(r.body, "Content-Type"), "%s", r.body);
	mc_response_free(&r);
	stop_clean();
}

Test(master, unacceptable_accept_is_406)
{
	start_ok();
	struct mc_response r;
	post_api(JSON "Accept: application/x-protobuf\r\n", "{\"type\":\"GET_HEALTH\"}", &r);
	cr_assert_eq(r.status, 406);
	cr_assert_str_eq(mc_header(&r, "Content-Type"), "text/plain; charset=utf-8");
	mc_response_free(&r);
	post_api(JSON "Accept: */*\r\n", "{\"type\":\"GET_HEALTH\"}", &r);
	cr_assert_eq(r.status, 200);
	mc_response_free(&r);
	stop_clean();
}

Test(master, bad_json_unknown_types_and_methods_are_named)
{
	start_ok();
	struct mc_response r;
	post_api(JSON, "{\"type\":", &r);
	cr_assert_eq(r.status, 400);
	cr_assert(strstr(r.body, "Failed to parse"), "%s", r.body);
	mc_response_free(&r);
	post_api(JSON, "[1,2]", &r);
	cr_assert_eq(r.status, 400);
	mc_response_free(&r);
	post_api(JSON, "{\"get_health\":{}}", &r);
	cr_assert_eq(r.status, 400);
	cr_assert(strstr(r.body, "type"), "%s", r.body);
	mc_response_free(&r);
	post_api(JSON, "{\"type\":\"LAUNCH_ROCKETS\"}", &r);
	cr_assert_eq(r.status, 400);
	cr_assert(strstr(r.body, "LAUNCH_ROCKETS"), "%s", r.body);
	mc_response_free(&r);
	post_api(JSON, "{\"type\":\"GET_HEALTH\"} trailing", &r);
	cr_assert_eq(r.status, 400);
	mc_response_free(&r);
	cr_assert_eq(mc_request(master.port, "GET", "/api/v1", NULL, NULL, &r), 0);
	cr_assert_eq(r.status, 405);
	cr_assert_str_eq(mc_header(&r, "Allow"), "POST");
	mc_response_free(&r);
	assert_healthy();
	stop_clean();
}

Test(master, oversized_bodies_get_413)
{
	const char *args[] = {"--max_body_size=64KiB", NULL};
	cr_assert_eq(start(&master, args), 0, "%s", read_log());

	/* Declared too large: refused on the headers alone. */
	struct mc_conn *c = mc_connect(master.port);
	cr_assert_not_null(c);
	const char *head =
	        "POST /api/v1 HTTP/1.1\r\nHost: x\r\n" JSON "Content-Length: 70000\r\n\r\n";
	cr_assert_eq(mc_send(c, head, strlen(head)), 0);
	struct mc_response r;
	cr_assert_eq(mc_read_response(c, &r), 0);
	cr_assert_eq(r.status, 413);
	mc_response_free(&r);
	mc_close(c);

	/* Chunked and too large: refused while it arrives. */
	c = mc_connect(master.port);
	head = "POST /api/v1 HTTP/1.1\r\nHost: x\r\n" JSON "Transfer-Encoding: chunked\r\n\r\n";
	cr_assert_eq(mc_send(c, head, strlen(head)), 0);
	static char chunk[8192 + 16];
	int n = snprintf(chunk, sizeof(chunk), "%x\r\n", 8192);
	memset(chunk + n, ' ', 8192);
	memcpy(chunk + n + 8192, "\r\n", 2);
	bool answered = false;
	for (int i = 0; i < 64 && !answered; i++) {
		if (mc_send(c, chunk, (size_t)n + 8192 + 2) < 0)
			break;
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		answered = poll(&pfd, 1, 0) == 1;
	}
	cr_assert_eq(mc_read_response(c, &r), 0);
	cr_assert_eq(r.status, 413);
	mc_response_free(&r);
	mc_close(c);

	/* Just under the limit is fine (and it is not JSON: 400). */
	static char body[60000];
	memset(body, ' ', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	post_api(JSON, body, &r);
	cr_assert_eq(r.status, 400);
	mc_response_free(&r);
	assert_healthy();
	stop_clean();
}

Test(master, keep_alive_and_chunked_request_bodies)
{
	start_ok();
	struct mc_conn *c = mc_connect(master.port);
	cr_assert_not_null(c);
	/* mesos-framework's shape: chunked body, no Accept, keep-alive. */
	const char *req =
	        "POST /api/v1 HTTP/1.1\r\nHost: x\r\n" JSON "Transfer-Encoding: chunked\r\n\r\n"
	        "b\r\n{\"type\":\"GE\r\n"
	        "a\r\nT_HEALTH\"}\r\n"
	        "0\r\n\r\n";
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(mc_send(c, req, strlen(req)), 0);
		struct mc_response r;
		cr_assert_eq(mc_read_response(c, &r), 0);
		cr_assert_eq(r.status, 200);
		cr_assert(strstr(r.body, "\"healthy\":true"), "%s", r.body);
		mc_response_free(&r);
	}
	/* Errors keep the connection too. */
	const char *bad = "POST /api/v1 HTTP/1.1\r\nHost: x\r\n" JSON "Content-Length: 1\r\n\r\n{";
	cr_assert_eq(mc_send(c, bad, strlen(bad)), 0);
	struct mc_response r;
	cr_assert_eq(mc_read_response(c, &r), 0);
	cr_assert_eq(r.status, 400);
	mc_response_free(&r);
	cr_assert_eq(mc_send(c, req, strlen(req)), 0);
	cr_assert_eq(mc_read_response(c, &r), 0);
	cr_assert_eq(r.status, 200);
	mc_response_free(&r);
	mc_close(c);
	stop_clean();
}

Test(master, survives_garbage_half_requests_and_vanishing_clients)
{
	start_ok();
	srand(42);
	/* Random bytes. */
	for (int i = 0; i < 20; i++) {
		struct mc_conn *c = mc_connect(master.port);
		cr_assert_not_null(c);
		char junk[512];
		for (size_t k = 0; k < sizeof(junk); k++)
			junk[k] = (char)(rand() & 0xff);
		(void)mc_send(c, junk, sizeof(junk));
		mc_close(c);
	}
	/* Half a request line, half the headers, a body cut short, bad chunk
	 * sizes, a request line of 100 KiB, a silent connection held open. */
	const char *partial[] = {
	        "POST /api/v1 HT",
	        "POST /api/v1 HTTP/1.1\r\nHost: x\r\nContent-Ty",
	        "POST /api/v1 HTTP/1.1\r\nHost: x\r\n" JSON "Content-Length: 100\r\n\r\n{\"ty",
	        "POST /api/v1 HTTP/1.1\r\nHost: x\r\n" JSON
	        "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n",
	        "POST /api/v1 HTTP/1.1\r\nHost: x\r\n" JSON
	        "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc",
	        "GET / HTTP/7.1\r\n\r\n",
	        "\r\n\r\n\r\n",
	        "POST /api/v1 HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
	};
	struct mc_conn *silent = mc_connect(master.port);
	cr_assert_not_null(silent);
	for (size_t i = 0; i < AG_ARRAY_SIZE(partial); i++) {
		struct mc_conn *c = mc_connect(master.port);
		cr_assert_not_null(c);
		(void)mc_send(c, partial[i], strlen(partial[i]));
		mc_close(c);
		assert_healthy();
	}
	static char longline[100 * 1024];
	memset(longline, 'a', sizeof(longline));
	memcpy(longline, "GET /", 5);
	struct mc_conn *c = mc_connect(master.port);
	(void)mc_send(c, longline, sizeof(longline));
	mc_close(c);
	assert_healthy();
	mc_close(silent);
	assert_healthy();
	stop_clean();
}

Test(master, sigterm_exits_0_within_a_second)
{
	start_ok();
	/* With a client connected: shutdown must not wait for it. */
	struct mc_conn *c = mc_connect(master.port);
	cr_assert_not_null(c);
	assert_healthy();
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(kill(master.pid, SIGTERM), 0);
	int status = wait_exit(&master, 1000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_neq(status, -1, "still running 1 s after SIGTERM");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d: %s", status,
	          read_log());
	mc_close(c);
	cr_assert(strstr(read_log(), "shutting down"));
}

static int count_agent(const struct ms_registry_agent *a, void *arg)
{
	(void)a;
	(*(int *)arg)++;
	return 0;
}

Test(master, sigkill_and_restart_keep_the_registry)
{
	/* Something admitted before: written as the master would. */
	cr_assert_eq(mkdir(work_dir, 0700), 0);
	struct ms_registry *reg = NULL;
	struct ag_error err = {0};
	cr_assert_eq(ms_registry_open(work_dir, MS_REGISTRY_SYNC_FULL, &reg, NULL, &err), 0, "%s",
	             err.msg);
	struct ms_registry_agent a = {.id = "S0", .hostname = "a1", .info_json = "{}"};
	cr_assert_eq(ms_registry_agent_put(reg, &a, &err), 0, "%s", err.msg);
	cr_assert_eq(ms_registry_weight_set(reg, "web", 2, &err), 0, "%s", err.msg);
	ms_registry_close(reg);

	start_ok();
	assert_healthy();
	cr_assert_eq(kill(master.pid, SIGKILL), 0);
	cr_assert_neq(wait_exit(&master, 2000), -1);
	char *log = read_log();
	const char *m = strstr(log, "INFO  master ");
	cr_assert_not_null(m, "%s", log);
	char id[64];
	cr_assert_eq(sscanf(m, "INFO  master %63[^:]", id), 1);
	cr_assert(strstr(log, "registry recovered (schema 3): 1 agents, 0 frameworks, 1 weights"),
	          "%s", log);

	/* Same master id, same contents, after the SIGKILL. */
	start_ok();
	assert_healthy();
	log = read_log();
	const char *second = strstr(strstr(log, "INFO  master ") + 1, "INFO  master ");
	cr_assert_not_null(second, "%s", log);
	char id2[64];
	cr_assert_eq(sscanf(second, "INFO  master %63[^:]", id2), 1);
	cr_assert_str_eq(id, id2);
	cr_assert(strstr(second, "1 agents, 0 frameworks, 1 weights"), "%s", second);
	kill(master.pid, SIGKILL);
	wait_exit(&master, 2000);

	reg = NULL;
	cr_assert_eq(ms_registry_open(work_dir, MS_REGISTRY_SYNC_FULL, &reg, NULL, &err), 0, "%s",
	             err.msg);
	int n = 0;
	cr_assert_eq(ms_registry_agents_foreach(reg, count_agent, &n, NULL), 0);
	cr_assert_eq(n, 1);
	ms_registry_close(reg);
}

Test(master, refuses_a_taken_port_a_taken_work_dir_and_bad_flags)
{
	start_ok();
	char portflag[32];
	snprintf(portflag, sizeof(portflag), "--port=%u", master.port);

	/* Same port, other work_dir. */
	struct proc other = {0};
	char wd2[320];
	snprintf(wd2, sizeof(wd2), "--work_dir=%s/wd2", tmp);
	const char *args[] = {portflag, wd2, NULL};
	cr_assert_eq(start(&other, args), 1001);
	cr_assert(strstr(read_log(), "already in use"), "%s", read_log());

	/* Same work_dir, free port. */
	cr_assert_eq(start(&other, NULL), 1001);
	cr_assert(strstr(read_log(), "in use by another agora-master"), "%s", read_log());

	const char *bad[] = {"--heartbeat_interval=soon", NULL};
	cr_assert_eq(start(&other, bad), 1002);
	cr_assert(strstr(read_log(), "--heartbeat_interval"), "%s", read_log());
	assert_healthy();
	stop_clean();
}
