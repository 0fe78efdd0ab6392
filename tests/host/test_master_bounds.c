/* Host tests of the master's bounds on its clients (issue 12, part 5):
 * caps on operator and scheduler streams (503 over them), a per-stream
 * queue bound after which a slow stream is closed and logged, broadcasts
 * serialized once, and size limits on free text (400 naming the field).
 * agora-master as a process over loopback (tests/lib/master_sim.h). */
#include "agtest.h"
#include "common/common.h"
#include "common/proc.h"
#include "master_sim.h"

#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

TestSuite(bounds, .init = sim_init, .fini = sim_fini, .timeout = 240);

static double now_ms(void)
{
	return (double)ag_now_ns() / 1e6;
}

/* A string of `n` bytes of `c` (malloc'ed). */
static char *filled(size_t n, char c)
{
	char *s = malloc(n + 1);
	cr_assert_not_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* A SUBSCRIBE body (malloc'ed) whose FrameworkInfo has `name` and
 * `n_labels` labels of `value_len`-byte values. */
static char *subscribe_body(const char *name, size_t n_labels, size_t value_len)
{
	json_t *labels = json_array();
	char *v = filled(value_len, 'v');
	for (size_t i = 0; i < n_labels; i++) {
		char key[32];
		snprintf(key, sizeof(key), "key%zu", i);
		json_array_append_new(labels, json_pack("{s:s, s:s}", "key", key, "value", v));
	}
	free(v);
	json_t *fi =
	        json_pack("{s:s, s:s, s:f}", "user", "root", "name", name, "failover_timeout", 0.0);
	if (n_labels)
		json_object_set_new(fi, "labels", json_pack("{s:o}", "labels", labels));
	else
		json_decref(labels);
	json_t *call =
	        json_pack("{s:s, s:{s:o}}", "type", "SUBSCRIBE", "subscribe", "framework_info", fi);
	char *text = json_dumps(call, JSON_COMPACT);
	json_decref(call);
	return text;
}

/* POST `body` to `path` on a new connection: the status and the body
 * (malloc'ed) in *ret_body when not NULL. The body of a 200 to a SUBSCRIBE
 * (a stream) is not read. */
static int post(const char *path, const char *body, char **ret_body)
{
	struct mc_conn *c = mc_connect(sim_port);
	cr_assert_not_null(c);
	struct mc_response r = {0};
	cr_assert_eq(mc_post_json(c, path, "Connection: close\r\n", body, &r), 0);
	bool stream = r.status == 200 && strstr(body, "SUBSCRIBE");
	if (!stream)
		cr_assert_eq(mc_read_body(c, &r), 0);
	if (ret_body)
		*ret_body = strdup(r.body ? r.body : "");
	int s = r.status;
	mc_response_free(&r);
	mc_close(c);
	return s;
}

/* A 400 whose text names `field`. */
static void assert_400_naming(const char *path, const char *body, const char *field)
{
	char *text = NULL;
	int s = post(path, body, &text);
	cr_assert_eq(s, 400, "status %d: %s", s, text);
	cr_assert(strstr(text, field), "`%s` not named in: %s", field, text);
	free(text);
}

/* An operator SUBSCRIBE that never reads what it is sent, with a small
 * receive buffer so that the master's queue grows soon. The socket. */
static int silent_subscriber(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	int small = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(sim_port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect: %m");
	const char *body = "{\"type\":\"SUBSCRIBE\"}";
	char req[512];
	int n = snprintf(req, sizeof(req),
	                 "POST /api/v1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	                 "Content-Length: %zu\r\n\r\n%s",
	                 strlen(body), body);
	cr_assert_eq(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
	return fd;
}

/* The status of the answer on a silent subscriber's socket, peeked (its
 * bytes stay unread); 0 when nothing came within `ms`. */
static int peek_status(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, ms) != 1)
		return 0;
	char buf[16] = "";
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_PEEK);
	if (n < 12)
		return 0;
	return atoi(buf + 9);
}

/* The master's VmRSS or VmHWM in MB. */
static double master_mem_mb(const char *field)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)sim_master_pid);
	FILE *f = fopen(path, "re");
	cr_assert_not_null(f);
	double kb = -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, strlen(field)) == 0 && line[strlen(field)] == ':')
			kb = strtod(line + strlen(field) + 1, NULL);
	fclose(f);
	cr_assert_geq(kb, 0);
	return kb / 1024;
}

/* The master's CPU time (user + system) in ms. */
static double master_cpu_ms(void)
{
	struct ag_proc_stat ps;
	cr_assert_eq(ag_proc_stat_read(sim_master_pid, &ps), 0);
	return (double)(ps.utime + ps.stime) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

static bool log_has(const char *needle)
{
	return agt_file_has(sim_log_path, needle);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void raise_nofile(rlim_t want)
{
	struct rlimit rl;
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max < want)
		rl.rlim_max = want; /* root may raise it */
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		AG_SKIP("cannot raise RLIMIT_NOFILE to %lu: %m", (unsigned long)want);
}

Test(bounds, operator_subscribers_over_the_cap_get_503_that_says_so)
{
	const char *args[] = {"--max_operator_event_stream_subscribers=3", NULL};
	sim_start_master(args, 0);
	struct sim_peer s[3];
	for (int i = 0; i < 3; i++)
		cr_assert_eq(sim_peer_open(&s[i], "/api/v1", "{\"type\":\"SUBSCRIBE\"}"), 200);
	char *text = NULL;
	cr_assert_eq(post("/api/v1", "{\"type\":\"SUBSCRIBE\"}", &text), 503);
	cr_assert(strstr(text, "--max_operator_event_stream_subscribers"), "%s", text);
	free(text);
	/* Other calls are still served. */
	cr_assert_eq(post("/api/v1", "{\"type\":\"GET_HEALTH\"}", NULL), 200);
	/* A subscriber that leaves frees its place. */
	sim_peer_close(&s[0]);
	int status = 0;
	for (int i = 0; i < 100 && status != 200; i++) {
		usleep(20 * 1000);
		struct sim_peer again;
		status = sim_peer_open(&again, "/api/v1", "{\"type\":\"SUBSCRIBE\"}");
		sim_peer_close(&again);
	}
	cr_assert_eq(status, 200, "the place of a closed subscriber was not freed");
}

Test(bounds, scheduler_streams_over_the_cap_get_503_but_a_failover_does_not_count)
{
	const char *args[] = {"--max_scheduler_streams=2", NULL};
	sim_start_master(args, 0);
	struct sim_peer f1, f2;
	sim_fw_subscribe(&f1, NULL, NULL);
	sim_fw_subscribe(&f2, NULL, NULL);
	char *text = NULL;
	_cleanup_free_ char *body = subscribe_body("third", 0, 0);
	cr_assert_eq(post("/api/v1/scheduler", body, &text), 503);
	cr_assert(strstr(text, "--max_scheduler_streams"), "%s", text);
	free(text);
	/* Nothing of the refused one was kept. */
	json_t *fws = sim_op_call("{\"type\":\"GET_FRAMEWORKS\"}", NULL, NULL, 0);
	cr_assert_eq(json_array_size(sim_jget(fws, "get_frameworks.frameworks")), 2);
	json_decref(fws);
	/* A subscribed framework failing over replaces its own stream. */
	struct sim_peer f1b;
	sim_fw_subscribe(&f1b, f1.id, NULL);
	cr_assert_str_eq(f1b.id, f1.id);
	/* A framework that tears down frees its place. */
	cr_assert_eq(sim_fw_teardown(&f2), 202);
	struct sim_peer f3;
	sim_fw_subscribe(&f3, NULL, NULL);
}

Test(bounds, free_text_beyond_its_bound_is_a_400_naming_the_field)
{
	sim_start_master(NULL, 0);
	_cleanup_free_ char *at_bound = filled(1024, 'n');
	_cleanup_free_ char *over = filled(1025, 'n');
	_cleanup_free_ char *huge = filled(1u << 20, 'n');
	_cleanup_free_ char *b1 = subscribe_body(over, 0, 0);
	assert_400_naming("/api/v1/scheduler", b1, "subscribe.framework_info.name");
	_cleanup_free_ char *b2 = subscribe_body(huge, 0, 0);
	assert_400_naming("/api/v1/scheduler", b2, "subscribe.framework_info.name");
	_cleanup_free_ char *b3 = subscribe_body("fw", 1, 4097);
	assert_400_naming("/api/v1/scheduler", b3,
	                  "subscribe.framework_info.labels.labels[0].value");
	_cleanup_free_ char *b4 = subscribe_body("fw", 65, 1);
	assert_400_naming("/api/v1/scheduler", b4, "subscribe.framework_info.labels");
	/* 16 KiB of labels at most, each value within its own bound. */
	_cleanup_free_ char *b5 = subscribe_body("fw", 5, 4000);
	assert_400_naming("/api/v1/scheduler", b5, "subscribe.framework_info.labels");
	json_t *fws = sim_op_call("{\"type\":\"GET_FRAMEWORKS\"}", NULL, NULL, 0);
	cr_assert_null(sim_jget(fws, "get_frameworks.frameworks.0"), "a refused one was kept");
	json_decref(fws);
	/* At the bounds it is accepted. */
	_cleanup_free_ char *ok = subscribe_body(at_bound, 4, 4000);
	struct sim_peer f;
	sim_fw_subscribe_body(&f, ok);

	/* A task's name in an ACCEPT. */
	struct sim_peer a;
	sim_agent_register(&a, "h1", SIM_AGENT_RES);
	char offer[256];
	sim_next_offer(&f, 3000, offer);
	json_t *call = json_pack(
	        "{s:s, s:{s:s}, s:{s:[{s:s}], s:[{s:s, s:{s:[{s:s, s:{s:s}, s:{s:s}, s:[{s:s, s:s, "
	        "s:{s:f}}], s:{s:s}}]}}]}}",
	        "type", "ACCEPT", "framework_id", "value", f.id, "accept", "offer_ids", "value",
	        offer, "operations", "type", "LAUNCH", "launch", "task_infos", "name", over,
	        "task_id", "value", "t1", "agent_id", "value", a.id, "resources", "name", "cpus",
	        "type", "SCALAR", "scalar", "value", 1.0, "command", "value", "true");
	cr_assert_not_null(call);
	_cleanup_free_ char *acc = json_dumps(call, JSON_COMPACT);
	json_decref(call);
	char *text = NULL;
	cr_assert_eq(sim_peer_call(&f, acc, &text), 400);
	cr_assert(strstr(text, "accept.operations[0].launch.task_infos[0].name"), "%s", text);
	free(text);

	/* An agent's hostname. */
	char reg[2048];
	_cleanup_free_ char *host = filled(256, 'h');
	snprintf(reg, sizeof(reg),
	         "{\"type\":\"REGISTER\",\"register\":{\"agent_info\":{\"hostname\":\"%s\","
	         "\"resources\":%s}}}",
	         host, SIM_AGENT_RES);
	assert_400_naming("/api/v1/agent", reg, "register.agent_info.hostname");
}

Test(bounds, a_slow_operator_subscriber_is_closed_and_logged)
{
	const char *args[] = {"--max_operator_stream_queue=64KiB", NULL};
	sim_start_master(args, 0);
	int fd = silent_subscriber();
	cr_assert_eq(peek_status(fd, 3000), 200);
	/* Events of ~20 KB each until its queue is past the bound. */
	_cleanup_free_ char *name = filled(1024, 'n');
	_cleanup_free_ char *body = subscribe_body(name, 4, 4000);
	bool closed = false;
	for (int i = 0; i < 400 && !closed; i++) {
		struct sim_peer f;
		sim_fw_subscribe_body(&f, body);
		cr_assert_eq(sim_fw_teardown(&f), 202);
		sim_peer_close(&f);
		closed = log_has("slow consumer");
	}
	cr_assert(closed, "the silent subscriber was never closed");
	cr_assert(log_has("operator subscriber 127.0.0.1:"), "the close does not name the peer");
	/* Its connection ends once what was queued has been read. */
	char buf[65536];
	ssize_t n;
	double t0 = now_ms();
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0 && now_ms() - t0 < 10000)
		;
	cr_assert_eq(n, 0, "the stream was not closed");
	close(fd);
	cr_assert_eq(post("/api/v1", "{\"type\":\"GET_HEALTH\"}", NULL), 200);
	sim_stop_master_clean();
}

/* The reproduction: 1,000 operator SUBSCRIBE streams that never read, then
 * frameworks with the largest FrameworkInfo accepted coming and going (and
 * one with a 1 MB name, refused). The master stays responsive and its
 * memory bounded, with its default flags. */
Test(bounds, a_thousand_silent_subscribers_keep_health_fast_and_memory_bounded)
{
	enum { SUBSCRIBERS = 1000, CYCLES = 150, HEALTH_PER_CYCLE = 3, HEALTHS = 450 };
	raise_nofile(4096);
	sim_start_master(NULL, 0);
	static int fds[SUBSCRIBERS];
	for (int i = 0; i < SUBSCRIBERS; i++)
		fds[i] = silent_subscriber();
	for (int i = 0; i < SUBSCRIBERS; i++)
		cr_assert_eq(peek_status(fds[i], 5000), 200, "subscriber %d not served", i);
	double rss_before = master_mem_mb("VmRSS"), cpu_before = master_cpu_ms();

	_cleanup_free_ char *name = filled(1024, 'n');
	_cleanup_free_ char *body = subscribe_body(name, 4, 4000);
	_cleanup_free_ char *huge = filled(1u << 20, 'n');
	_cleanup_free_ char *huge_body = subscribe_body(huge, 0, 0);
	static double health[HEALTHS], subscribed[CYCLES];
	for (int i = 0; i < CYCLES; i++) {
		if (i == CYCLES / 2)
			assert_400_naming("/api/v1/scheduler", huge_body,
			                  "subscribe.framework_info.name");
		struct sim_peer f;
		double t0 = now_ms();
		cr_assert_eq(sim_peer_open(&f, "/api/v1/scheduler", body), 200);
		json_t *ev = sim_peer_next(&f, "SUBSCRIBED", 5000);
		subscribed[i] = now_ms() - t0;
		cr_assert_not_null(ev, "cycle %d: no SUBSCRIBED", i);
		snprintf(f.id, sizeof(f.id), "%s", sim_jstr(ev, "subscribed.framework_id.value"));
		json_decref(ev);
		for (int k = 0; k < HEALTH_PER_CYCLE; k++) {
			t0 = now_ms();
			cr_assert_eq(post("/api/v1", "{\"type\":\"GET_HEALTH\"}", NULL), 200);
			health[i * HEALTH_PER_CYCLE + k] = now_ms() - t0;
		}
		if (getenv("BOUNDS_TRACE"))
			fprintf(stderr, "cycle %d: health %.1f ms subscribed %.1f ms rss %.1f MB\n",
			        i, health[i], subscribed[i], master_mem_mb("VmRSS"));
		cr_assert_eq(sim_fw_teardown(&f), 202);
		sim_peer_close(&f);
	}
	qsort(health, HEALTHS, sizeof(double), cmp_double);
	qsort(subscribed, CYCLES, sizeof(double), cmp_double);
	double p99 = health[HEALTHS * 99 / 100], sub_p99 = subscribed[CYCLES * 99 / 100];
	double rss = master_mem_mb("VmRSS"), hwm = master_mem_mb("VmHWM");
	double cpu = master_cpu_ms() - cpu_before;
	fprintf(stderr,
	        "GET_HEALTH p50 %.2f ms p99 %.2f ms max %.2f ms; SUBSCRIBED p99 %.2f ms max "
	        "%.2f ms; RSS %.1f MB before, %.1f MB after, peak %.1f MB; master CPU %.0f ms "
	        "for %d cycles\n",
	        health[HEALTHS / 2], p99, health[HEALTHS - 1], sub_p99, subscribed[CYCLES - 1],
	        rss_before, rss, hwm, cpu, (int)CYCLES);
	/* Requests held up behind the subscribers' writes would slow most
	 * of them (three follow each event): p50 catches that whatever the
	 * load. The tail is the machine's: p99 was 77 ms (p50 0.22 ms) with a
	 * load average of 23 on 2 cores. */
	cr_assert_leq(health[HEALTHS / 2], 5.0, "GET_HEALTH p50 %.2f ms", health[HEALTHS / 2]);
	cr_assert_leq(p99, 200.0, "GET_HEALTH p99 %.2f ms", p99);
	/* A SUBSCRIBE's wall time includes waiting for a CPU: 285 ms at p99
	 * with a load average of 24 on 2 cores, while the master spent 6.5 ms
	 * of CPU per cycle. So the master's work is bounded by its CPU time,
	 * which the machine's load does not inflate, and the wall time only
	 * loosely. */
	cr_assert_leq(sub_p99, 1000.0, "SUBSCRIBED p99 %.2f ms", sub_p99);
	cr_assert_leq(cpu / CYCLES, 40.0, "the master's CPU per cycle: %.1f ms", cpu / CYCLES);
	cr_assert_leq(hwm, 256.0, "the master's peak RSS is %.1f MB", hwm);
	for (int i = 0; i < SUBSCRIBERS; i++)
		close(fds[i]);
}

/* A new framework that tears itself down; its id in `id`. */
static void subscribe_and_teardown(char *id, size_t len)
{
	struct sim_peer f;
	sim_fw_subscribe(&f, NULL, NULL);
	snprintf(id, len, "%s", f.id);
	cr_assert_eq(sim_fw_teardown(&f), 202);
	sim_peer_close(&f);
}

/* Whether a SUBSCRIBE with framework id `id` is refused as removed. */
static bool refused_as_removed(const char *id)
{
	struct sim_peer f;
	sim_fw_open_as(&f, id);
	json_t *ev = sim_peer_next(&f, NULL, 3000);
	cr_assert_not_null(ev);
	bool refused = strcmp(sim_jstr(ev, "type"), "ERROR") == 0;
	if (refused)
		cr_assert_str_eq(sim_jstr(ev, "error.message"), "Framework has been removed");
	else
		cr_assert_str_eq(sim_jstr(ev, "type"), "SUBSCRIBED");
	json_decref(ev);
	sim_peer_close(&f);
	return refused;
}

Test(bounds, tombstones_of_removed_frameworks_are_pruned_past_the_bound)
{
	const char *args[] = {"--registry_max_removed_frameworks=2", NULL};
	sim_start_master(args, 0);
	char ids[4][256];
	for (int i = 0; i < 4; i++)
		subscribe_and_teardown(ids[i], sizeof(ids[i]));
	/* The two newest are refused, after a restart too; the two oldest
	 * were forgotten and may subscribe again (as in Mesos). */
	sim_kill_master();
	sim_start_master(args, 0);
	cr_assert(refused_as_removed(ids[3]));
	cr_assert(refused_as_removed(ids[2]));
	cr_assert_not(refused_as_removed(ids[1]));

	/* That one left with no failover timeout: removed again, it is now
	 * the newest tombstone (and ids[2] was pruned for it). A lower bound
	 * at a restart takes effect at once. */
	sim_kill_master();
	const char *lower[] = {"--registry_max_removed_frameworks=1", NULL};
	sim_start_master(lower, 0);
	cr_assert(refused_as_removed(ids[1]));
	cr_assert_not(refused_as_removed(ids[3]));
}

/* Broadcast records are queued by reference, framed once for chunked
 * streams: a chunked subscriber gets one record per chunk, an HTTP/1.0 one
 * (no chunking) the bare RecordIO records. */
Test(bounds, shared_events_reach_chunked_and_http_1_0_subscribers_intact)
{
	sim_start_master(NULL, 0);
	struct sim_peer op;
	cr_assert_eq(sim_peer_open(&op, "/api/v1", "{\"type\":\"SUBSCRIBE\"}"), 200);
	json_t *ev = sim_peer_next(&op, "SUBSCRIBED", 3000);
	cr_assert_not_null(ev);
	json_decref(ev);

	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(sim_port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	const char *req = "POST /api/v1 HTTP/1.0\r\nContent-Type: application/json\r\n"
	                  "Content-Length: 20\r\n\r\n{\"type\":\"SUBSCRIBE\"}";
	cr_assert_eq(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));

	/* A large event (shared by reference) and small ones. */
	_cleanup_free_ char *name = filled(1000, 'n');
	_cleanup_free_ char *body = subscribe_body(name, 4, 4000);
	struct sim_peer f;
	cr_assert_eq(sim_peer_open(&f, "/api/v1/scheduler", body), 200);
	ev = sim_peer_next(&op, "FRAMEWORK_ADDED", 3000);
	cr_assert_not_null(ev, "no FRAMEWORK_ADDED on the chunked stream");
	cr_assert_eq(strlen(sim_jstr(ev, "framework_added.framework.framework_info.name")), 1000);
	json_decref(ev);

	/* The HTTP/1.0 stream: head, then `<len>\n<json>` records back to back. */
	static char buf[1 << 20];
	size_t have = 0;
	double t0 = now_ms();
	char *added = NULL;
	while (!added && now_ms() - t0 < 5000 && have < sizeof(buf) - 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 100) != 1)
			continue;
		ssize_t n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
		cr_assert_gt(n, 0);
		have += (size_t)n;
		buf[have] = '\0';
		added = strstr(buf, "\"FRAMEWORK_ADDED\"");
	}
	cr_assert_not_null(added, "no FRAMEWORK_ADDED on the HTTP/1.0 stream");
	cr_assert_null(strstr(buf, "chunked"), "an HTTP/1.0 stream was chunked");
	char *p = strstr(buf, "\r\n\r\n");
	cr_assert_not_null(p);
	p += 4;
	int records = 0;
	while (p < buf + have) {
		char *nl = memchr(p, '\n', (size_t)(buf + have - p));
		if (!nl)
			break;
		size_t len = strtoul(p, NULL, 10);
		if (nl + 1 + len > buf + have)
			break; /* the rest has not come yet */
		json_t *j = json_loadb(nl + 1, len, 0, NULL);
		cr_assert_not_null(j, "record %d is not JSON: %.40s", records, nl + 1);
		json_decref(j);
		records++;
		p = nl + 1 + len;
	}
	cr_assert_geq(records, 2, "SUBSCRIBED and FRAMEWORK_ADDED at least");
	close(fd);
	/* Shared records still queued are released with their streams (a
	 * sanitizer build fails on a leak). */
	sim_stop_master_clean();
}

/* An agent's status message is free text kept with the task, sent to its
 * framework and to every operator subscriber: one beyond 4 KiB is cut on a
 * character boundary and marked, not refused (a refused update would hold
 * up the others of its batch). */
Test(bounds, a_long_status_message_is_cut_and_marked_not_refused)
{
	struct sim_peer a, f;
	char offer[256];
	sim_start_offered(&a, "h1", &f, offer);
	cr_assert_eq(sim_fw_launch(&f, offer, a.id, "t1", "1", NULL), 202);
	json_t *ev = sim_peer_next(&a, "RUN_TASK", 3000);
	cr_assert_not_null(ev);
	json_decref(ev);

	/* "a" and two-byte characters, 10,001 bytes: byte 4096 is in the
	 * middle of one. */
	char *msg = malloc(10002);
	cr_assert_not_null(msg);
	msg[0] = 'a';
	for (int i = 1; i < 10001; i += 2)
		memcpy(msg + i, "\xc3\xa9", 2);
	msg[10001] = '\0';
	json_t *up = json_pack("{s:s, s:{s:s}, s:{s:{s:s}, s:{s:{s:s}, s:s, s:s, s:s, s:{s:s}, "
	                       "s:f, s:s}}}",
	                       "type", "STATUS_UPDATE", "agent_id", "value", a.id, "status_update",
	                       "framework_id", "value", f.id, "status", "task_id", "value", "t1",
	                       "state", "TASK_RUNNING", "message", msg, "source", "SOURCE_EXECUTOR",
	                       "agent_id", "value", a.id, "timestamp", 1700000000.5, "uuid",
	                       SIM_UUIDS[0]);
	free(msg);
	cr_assert_not_null(up);
	_cleanup_free_ char *body = json_dumps(up, JSON_COMPACT);
	json_decref(up);
	cr_assert_eq(sim_peer_call(&a, body, NULL), 202);

	ev = sim_peer_next(&f, "UPDATE", 3000);
	cr_assert_not_null(ev, "no UPDATE");
	const char *got = sim_jstr(ev, "update.status.message");
	cr_assert_not_null(got);
	cr_assert_lt(strlen(got), 4096 + 64, "%zu bytes", strlen(got));
	cr_assert(strstr(got, "bytes cut by the master"), "not marked: ...%s",
	          got + strlen(got) - 40);
	cr_assert_eq(strncmp(got, "a\xc3\xa9\xc3\xa9", 5), 0);
	cr_assert(strstr(got, "\xc3\xa9... [5906 bytes cut"), "not cut on a character: ...%s",
	          got + strlen(got) - 40);
	json_decref(ev);
	cr_assert(log_has("a status message of 10001 bytes cut to 4096"));
	/* The same text is what GET_TASKS keeps. */
	json_t *tasks = sim_op_call("{\"type\":\"GET_TASKS\"}", NULL, NULL, 0);
	const char *kept = sim_jstr(tasks, "get_tasks.tasks.0.statuses.0.message");
	cr_assert_not_null(kept);
	cr_assert_lt(strlen(kept), 4096 + 64);
	json_decref(tasks);
}
