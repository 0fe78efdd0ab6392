/* bench-master: agora-master under simulated agents and one framework.
 *
 * Starts build/bin/agora-master on a free loopback port, then, in this one
 * process on one libevent loop: --agents simulated agents (each a REGISTER
 * stream on its own connection; their STATUS_UPDATE and HEARTBEAT posts go
 * over a shared pool of keep-alive connections) and one framework that
 * launches tasks as fast as offers come. Each task: LAUNCH -> the agent
 * answers TASK_RUNNING -> (acknowledged) TASK_FINISHED -> acknowledged.
 * With --hold the agents never finish their tasks, so that the master holds
 * --tasks live tasks when its RSS is read.
 *
 * Prints one line:
 *   agents=<A> tasks=<T> launches_per_s=<x> p99_offer_to_running_ms=<x>
 *   master_rss_mb=<x>
 * launches_per_s is tasks / (time from the first offer to the last task
 * reaching TASK_RUNNING at the framework); offer_to_running is, per task,
 * from the framework receiving the offer to receiving TASK_RUNNING; RSS is
 * the master's VmHWM. */
#include "bench/machine.h"
#include "common/common.h"
#include "common/proc.h"
#include "master_client.h"

#include <event2/event.h>
#include <event2/http.h>
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_POST_CONNS 1024

struct agent {
	int idx;
	struct evhttp_connection *conn;
	char id[96];
	char stream_id[64];
	char secret[80];     /* the master issued it in REGISTERED */
	struct evbuffer *in; /* partial RecordIO */
	bool registered;
	/* Updates produced by the records of one read, sent together. */
	struct evbuffer *batch;
	int n_batch;
};

static struct {
	struct event_base *base;
	uint16_t port;
	pid_t master;
	int n_agents, n_tasks, cpus_per_agent;
	bool hold;
	bool single_updates; /* one STATUS_UPDATE per request, no STATUS_UPDATES */
	long update_posts, updates_sent, offers_seen, accepts;
	/* Agents with queued updates, flushed once the loop has run every
	 * callback of this turn (evhttp calls us once per chunk, and every
	 * record is its own chunk). */
	struct agent **dirty;
	int n_dirty;
	struct event *flush;
	struct agent *agents;
	int n_registered, reg_inflight, next_reg;
	struct evhttp_connection *post[MAX_POST_CONNS];
	int n_post;
	unsigned post_rr;
	/* framework */
	struct evhttp_connection *fw_conn;
	struct evbuffer *fw_in;
	char fw_id[96], fw_stream[64];
	int launched, running, finished, errors;
	uint64_t *offer_ns, *running_ns;
	uint64_t first_offer_ns, last_running_ns, last_finished_ns;
	double cpu_at_first_offer_s;      /* the master's utime+stime then */
	double self_cpu_at_first_offer_s; /* this process's */
	struct event *heartbeat, *watchdog;
	uint64_t last_progress_ns;
	int last_progress_count;
} B;

static const char UUID_RUNNING[] = "MDEyMzQ1Njc4OWFiY2RlZg==";
static const char UUID_FINISHED[] = "ZmVkY2JhOTg3NjU0MzIxMA==";

static void die(const char *msg)
{
	fprintf(stderr, "bench-master: %s\n", msg);
	if (B.master > 0)
		kill(B.master, SIGKILL);
	exit(1);
}

static void post_done(struct evhttp_request *req, void *arg)
{
	(void)arg;
	int code = req ? evhttp_request_get_response_code(req) : 0;
	if (code != 202) {
		B.errors++;
		if (B.errors < 5)
			fprintf(stderr, "bench-master: post answered %d\n", code);
	}
}

/* A new JSON POST request answered to `done(req, arg)`; its body (a chunk
 * callback for streams) is the caller's to add. */
static struct evhttp_request *json_request(void (*done)(struct evhttp_request *, void *), void *arg)
{
	struct evhttp_request *req = evhttp_request_new(done, arg);
	if (!req)
		die("evhttp_request_new");
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", "127.0.0.1");
	evhttp_add_header(h, "Content-Type", "application/json");
	return req;
}

/* `secret`: the agent's (docs/agent-protocol.md, Agent secret); NULL for
 * the framework. */
static void post(const char *path, const char *stream_id, const char *secret, const char *body,
                 size_t len)
{
	struct evhttp_connection *c = B.post[B.post_rr++ % (unsigned)B.n_post];
	struct evhttp_request *req = json_request(post_done, NULL);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Mesos-Stream-Id", stream_id);
	if (secret && secret[0])
		evhttp_add_header(h, "Agora-Agent-Secret", secret);
	evbuffer_add(evhttp_request_get_output_buffer(req), body, len);
	if (evhttp_make_request(c, req, EVHTTP_REQ_POST, path) != 0)
		die("evhttp_make_request");
}

/* The string value after `key` ("task_id":{"value":") in `s`, copied. */
static bool scan_value(const char *s, const char *key, char *out, size_t n)
{
	const char *p = strstr(s, key);
	if (!p)
		return false;
	p += strlen(key);
	const char *e = strchr(p, '"');
	if (!e || (size_t)(e - p) >= n)
		return false;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return true;
}

/* Call `fn` for each complete RecordIO record in `in`. */
static void records(struct evbuffer *in, void (*fn)(void *, char *, size_t), void *arg)
{
	for (;;) {
		size_t avail = evbuffer_get_length(in);
		if (avail < 2)
			return;
		struct evbuffer_ptr nl = evbuffer_search(in, "\n", 1, NULL);
		if (nl.pos < 0)
			return;
		char lenbuf[24];
		if (nl.pos >= (ev_ssize_t)sizeof(lenbuf))
			die("bad record length");
		evbuffer_copyout(in, lenbuf, (size_t)nl.pos);
		lenbuf[nl.pos] = '\0';
		size_t len = strtoull(lenbuf, NULL, 10);
		if (avail < (size_t)nl.pos + 1 + len)
			return;
		evbuffer_drain(in, (size_t)nl.pos + 1);
		char *rec = malloc(len + 1);
		evbuffer_remove(in, rec, len);
		rec[len] = '\0';
		fn(arg, rec, len);
		free(rec);
	}
}

/* ---- agents ----------------------------------------------------------- */

/* Queue one update of `a`; agent_flush() sends the queue. */
static void agent_update(struct agent *a, const char *fw, const char *task, const char *state,
                         const char *uuid)
{
	evbuffer_add_printf(a->batch,
	                    "%s{\"framework_id\":{\"value\":\"%s\"},\"status\":{\"task_id\":{"
	                    "\"value\":\"%s\"},\"state\":\"%s\",\"source\":\"SOURCE_EXECUTOR\","
	                    "\"agent_id\":{\"value\":\"%s\"},\"timestamp\":1700000000.5,\"uuid\":"
	                    "\"%s\"}}",
	                    a->n_batch ? "," : "", fw, task, state, a->id, uuid);
	if (!a->n_batch++ && !B.single_updates) {
		B.dirty[B.n_dirty++] = a;
		if (B.n_dirty == 1)
			event_active(B.flush, EV_TIMEOUT, 0);
	}
}

/* The queued updates in one request, as an agent sends what became due
 * together: STATUS_UPDATE for one, STATUS_UPDATES for more. */
static void agent_flush(struct agent *a)
{
	if (!a->n_batch)
		return;
	size_t len = evbuffer_get_length(a->batch);
	const char *items = (const char *)evbuffer_pullup(a->batch, -1);
	char *body = malloc(len + 256);
	int n = a->n_batch == 1
	                ? snprintf(body, len + 256,
	                           "{\"type\":\"STATUS_UPDATE\",\"agent_id\":{\"value\":\"%s\"},"
	                           "\"status_update\":%.*s}",
	                           a->id, (int)len, items)
	                : snprintf(body, len + 256,
	                           "{\"type\":\"STATUS_UPDATES\",\"agent_id\":{\"value\":\"%s\"},"
	                           "\"status_updates\":{\"updates\":[%.*s]}}",
	                           a->id, (int)len, items);
	post("/api/v1/agent", a->stream_id, a->secret, body, (size_t)n);
	B.update_posts++;
	B.updates_sent += a->n_batch;
	free(body);
	evbuffer_drain(a->batch, len);
	a->n_batch = 0;
}

static void register_more(void);

static void agent_record_one(struct agent *a, char *rec);

static void agent_record(void *arg, char *rec, size_t len)
{
	(void)len;
	struct agent *a = arg;
	agent_record_one(a, rec);
	if (B.single_updates)
		agent_flush(a);
}

static void agent_record_one(struct agent *a, char *rec)
{
	char task[128], fw[96];
	if (strstr(rec, "\"RUN_TASK\"")) {
		if (!scan_value(rec, "\"task_id\":{\"value\":\"", task, sizeof(task)))
			die("RUN_TASK without task_id");
		const char *fi = strstr(rec, "\"framework_info\"");
		if (!fi || !scan_value(fi, "\"id\":{\"value\":\"", fw, sizeof(fw)))
			snprintf(fw, sizeof(fw), "%s", B.fw_id);
		agent_update(a, fw, task, "TASK_RUNNING", UUID_RUNNING);
	} else if (strstr(rec, "\"STATUS_UPDATE_ACK\"")) {
		if (B.hold)
			return;
		char uuid[64];
		if (!scan_value(rec, "\"uuid\":\"", uuid, sizeof(uuid)) ||
		    strcmp(uuid, UUID_RUNNING) != 0)
			return; /* FINISHED acknowledged: done */
		scan_value(rec, "\"task_id\":{\"value\":\"", task, sizeof(task));
		scan_value(rec, "\"framework_id\":{\"value\":\"", fw, sizeof(fw));
		agent_update(a, fw, task, "TASK_FINISHED", UUID_FINISHED);
	} else if (strstr(rec, "\"REGISTERED\"")) {
		if (!scan_value(rec, "\"agent_id\":{\"value\":\"", a->id, sizeof(a->id)))
			die("REGISTERED without agent_id");
		/* None from a master older than secrets (--master BIN). */
		scan_value(rec, "\"agent_secret\":\"", a->secret, sizeof(a->secret));
		a->registered = true;
		B.n_registered++;
		B.reg_inflight--;
		register_more();
	}
}

static void agent_chunk(struct evhttp_request *req, void *arg)
{
	struct agent *a = arg;
	if (!a->stream_id[0]) {
		const char *sid = evhttp_find_header(evhttp_request_get_input_headers(req),
		                                     "Mesos-Stream-Id");
		if (sid)
			snprintf(a->stream_id, sizeof(a->stream_id), "%s", sid);
	}
	evbuffer_add_buffer(a->in, evhttp_request_get_input_buffer(req));
	records(a->in, agent_record, a);
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	for (int i = 0; i < B.n_dirty; i++)
		agent_flush(B.dirty[i]);
	B.n_dirty = 0;
}

static void stream_done(struct evhttp_request *req, void *arg)
{
	(void)arg;
	if (B.finished < B.n_tasks || B.hold) {
		fprintf(stderr, "bench-master: a stream ended (%d)\n",
		        req ? evhttp_request_get_response_code(req) : 0);
		die("stream lost");
	}
}

static void agent_register(struct agent *a)
{
	a->conn = evhttp_connection_base_new(B.base, NULL, "127.0.0.1", B.port);
	if (!a->conn)
		die("connect (raise ulimit -n?)");
	evhttp_connection_set_timeout(a->conn, 3600);
	a->in = evbuffer_new();
	a->batch = evbuffer_new();
	struct evhttp_request *req = json_request(stream_done, a);
	evhttp_request_set_chunked_cb(req, agent_chunk);
	evbuffer_add_printf(evhttp_request_get_output_buffer(req),
	                    "{\"type\":\"REGISTER\",\"register\":{\"agent_info\":{\"hostname\":"
	                    "\"sim%d\",\"port\":5051,\"resources\":[{\"name\":\"cpus\",\"type\":"
	                    "\"SCALAR\",\"scalar\":{\"value\":%d}},{\"name\":\"mem\",\"type\":"
	                    "\"SCALAR\",\"scalar\":{\"value\":%d}}]},\"version\":\"0.1.0\"}}",
	                    a->idx, B.cpus_per_agent, B.cpus_per_agent * 128);
	if (evhttp_make_request(a->conn, req, EVHTTP_REQ_POST, "/api/v1/agent") != 0)
		die("evhttp_make_request");
}

static void framework_subscribe(void);

static void register_more(void)
{
	while (B.reg_inflight < 256 && B.next_reg < B.n_agents) {
		B.reg_inflight++;
		agent_register(&B.agents[B.next_reg++]);
	}
	if (B.n_registered == B.n_agents && !B.fw_conn)
		framework_subscribe();
}

static void heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	char body[256];
	for (int i = 0; i < B.n_agents; i++) {
		struct agent *a = &B.agents[i];
		if (!a->registered)
			continue;
		int n = snprintf(body, sizeof(body),
		                 "{\"type\":\"HEARTBEAT\",\"agent_id\":{\"value\":\"%s\"}}", a->id);
		post("/api/v1/agent", a->stream_id, a->secret, body, (size_t)n);
	}
}

/* ---- the framework ------------------------------------------------------ */

static void fw_call(const char *body, size_t len)
{
	post("/api/v1/scheduler", B.fw_stream, NULL, body, len);
}

static double master_cpu_s(void);
static double self_cpu_s(void);

static void fw_offers(json_t *ev)
{
	uint64_t now = ag_now_ns();
	if (!B.first_offer_ns) {
		B.first_offer_ns = now;
		B.cpu_at_first_offer_s = master_cpu_s();
		B.self_cpu_at_first_offer_s = self_cpu_s();
	}
	json_t *offers = json_object_get(json_object_get(ev, "offers"), "offers");
	size_t i;
	json_t *o;
	char *body = malloc(1 << 16);
	json_array_foreach (offers, i, o) {
		const char *oid =
		        json_string_value(json_object_get(json_object_get(o, "id"), "value"));
		const char *aid =
		        json_string_value(json_object_get(json_object_get(o, "agent_id"), "value"));
		double cpus = 0;
		size_t k;
		json_t *r;
		json_array_foreach (json_object_get(o, "resources"), k, r)
			if (strcmp(json_string_value(json_object_get(r, "name")), "cpus") == 0)
				cpus += json_number_value(
				        json_object_get(json_object_get(r, "scalar"), "value"));
		int fit = (int)(cpus + 1e-9);
		B.offers_seen++;
		if (fit > B.n_tasks - B.launched)
			fit = B.n_tasks - B.launched;
		size_t n = 0;
		if (fit <= 0) {
			n = (size_t)snprintf(
			        body, 1 << 16,
			        "{\"type\":\"DECLINE\",\"framework_id\":{\"value\":\"%s\"},"
			        "\"decline\":{\"offer_ids\":[{\"value\":\"%s\"}],"
			        "\"filters\":{\"refuse_seconds\":3600}}}",
			        B.fw_id, oid);
			fw_call(body, n);
			continue;
		}
		n = (size_t)snprintf(
		        body, 1 << 16,
		        "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"%s\"},"
		        "\"accept\":{\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":"
		        "[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":[",
		        B.fw_id, oid);
		for (int t = 0; t < fit; t++) {
			int id = B.launched++;
			B.offer_ns[id] = now;
			n += (size_t)snprintf(
			        body + n, (1 << 16) - n,
			        "%s{\"name\":\"t\",\"task_id\":{\"value\":\"t%d\"},\"agent_id\":{"
			        "\"value\":\"%s\"},\"resources\":[{\"name\":\"cpus\",\"type\":"
			        "\"SCALAR\","
			        "\"scalar\":{\"value\":1}},{\"name\":\"mem\",\"type\":\"SCALAR\","
			        "\"scalar\":{\"value\":128}}],\"command\":{\"value\":\"true\"}}",
			        t ? "," : "", id, aid);
		}
		n += (size_t)snprintf(body + n, (1 << 16) - n,
		                      "]}}],\"filters\":{\"refuse_seconds\":0}}}");
		fw_call(body, n);
	}
	free(body);
}

static void finish(void);

/* A task's status: count it and acknowledge it (one ACKNOWLEDGE per update
 * that carries a uuid, as the API requires). */
static void fw_status(const char *state, const char *task, const char *agent, const char *uuid)
{
	uint64_t now = ag_now_ns();
	int id = task && task[0] == 't' ? atoi(task + 1) : -1;
	if (state && strcmp(state, "TASK_RUNNING") == 0) {
		if (id >= 0 && id < B.n_tasks && !B.running_ns[id]) {
			B.running_ns[id] = now;
			B.running++;
			B.last_running_ns = now;
		}
	} else if (state && strcmp(state, "TASK_FINISHED") == 0) {
		B.finished++;
		B.last_finished_ns = now;
	} else {
		B.errors++;
		if (B.errors < 5)
			fprintf(stderr, "bench-master: task %s: %s\n", task ? task : "?",
			        state ? state : "?");
	}
	if (uuid) {
		char body[512];
		int n = snprintf(body, sizeof(body),
		                 "{\"type\":\"ACKNOWLEDGE\",\"framework_id\":{\"value\":\"%s\"},"
		                 "\"acknowledge\":{\"agent_id\":{\"value\":\"%s\"},\"task_id\":{"
		                 "\"value\":\"%s\"},\"uuid\":\"%s\"}}",
		                 B.fw_id, agent, task, uuid);
		fw_call(body, (size_t)n);
	}
	if ((B.hold && B.running == B.n_tasks) || (!B.hold && B.finished == B.n_tasks))
		finish();
}

static void fw_update(json_t *ev)
{
	json_t *st = json_object_get(json_object_get(ev, "update"), "status");
	fw_status(json_string_value(json_object_get(st, "state")),
	          json_string_value(json_object_get(json_object_get(st, "task_id"), "value")),
	          json_string_value(json_object_get(json_object_get(st, "agent_id"), "value")),
	          json_string_value(json_object_get(st, "uuid")));
}

/* An UPDATE as the master writes it, read without a tree (the records
 * are most of what this client reads): false when it is not one. */
static bool fw_update_text(const char *rec)
{
	static const char head[] = "{\"type\":\"UPDATE\",\"update\":{\"status\":{";
	if (strncmp(rec, head, sizeof(head) - 1) != 0)
		return false;
	char state[64], task[128], agent[96], uuid[64];
	if (!scan_value(rec, "\"task_id\":{\"value\":\"", task, sizeof(task)) ||
	    !scan_value(rec, "\"state\":\"", state, sizeof(state)) ||
	    !scan_value(rec, "\"agent_id\":{\"value\":\"", agent, sizeof(agent)))
		return false;
	bool has_uuid = scan_value(rec, "\"uuid\":\"", uuid, sizeof(uuid));
	fw_status(state, task, agent, has_uuid ? uuid : NULL);
	return true;
}

static void fw_record(void *arg, char *rec, size_t len)
{
	(void)arg;
	if (fw_update_text(rec))
		return;
	json_error_t e;
	json_t *ev = json_loadb(rec, len, 0, &e);
	if (!ev)
		die("framework: bad record");
	const char *type = json_string_value(json_object_get(ev, "type"));
	if (strcmp(type, "SUBSCRIBED") == 0) {
		snprintf(B.fw_id, sizeof(B.fw_id), "%s",
		         json_string_value(json_object_get(
		                 json_object_get(json_object_get(ev, "subscribed"), "framework_id"),
		                 "value")));
	} else if (strcmp(type, "OFFERS") == 0) {
		fw_offers(ev);
	} else if (strcmp(type, "UPDATE") == 0) {
		fw_update(ev);
	} else if (strcmp(type, "ERROR") == 0) {
		die("framework got ERROR");
	}
	json_decref(ev);
}

static void fw_chunk(struct evhttp_request *req, void *arg)
{
	(void)arg;
	if (!B.fw_stream[0]) {
		const char *sid = evhttp_find_header(evhttp_request_get_input_headers(req),
		                                     "Mesos-Stream-Id");
		if (sid)
			snprintf(B.fw_stream, sizeof(B.fw_stream), "%s", sid);
	}
	evbuffer_add_buffer(B.fw_in, evhttp_request_get_input_buffer(req));
	records(B.fw_in, fw_record, NULL);
}

static void framework_subscribe(void)
{
	B.fw_conn = evhttp_connection_base_new(B.base, NULL, "127.0.0.1", B.port);
	evhttp_connection_set_timeout(B.fw_conn, 3600);
	B.fw_in = evbuffer_new();
	struct evhttp_request *req = json_request(stream_done, NULL);
	evhttp_request_set_chunked_cb(req, fw_chunk);
	evbuffer_add_printf(evhttp_request_get_output_buffer(req),
	                    "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":"
	                    "\"root\",\"name\":\"bench\",\"failover_timeout\":60}}}");
	evhttp_make_request(B.fw_conn, req, EVHTTP_REQ_POST, "/api/v1/scheduler");
}

/* ---- the master process -------------------------------------------------- */

static void start_master(const char *bin, const char *work_dir, const char *const *extra)
{
	char wd[512];
	snprintf(wd, sizeof(wd), "--work_dir=%s", work_dir);
	const char *argv[32] = {bin, "--port=0", "--log_level=warning", wd,
	                        "--registry_sync=normal"};
	int n = 5;
	for (int i = 0; extra[i] && n < 31; i++)
		argv[n++] = extra[i];
	if (mc_spawn_master(argv, -1, 10000, &B.master, &B.port) < 0)
		die("the master did not start");
}

static double master_mem_mb(const char *field)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)B.master);
	FILE *f = fopen(path, "r");
	double kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, field, strlen(field)) == 0)
			kb = strtod(line + strlen(field), NULL);
	if (f)
		fclose(f);
	return kb / 1024.0;
}

/* The master's CPU time (user + system) so far, in seconds. */
static double master_cpu_s(void)
{
	struct ag_proc_stat ps;
	if (ag_proc_stat_read(B.master, &ps) < 0)
		return -1;
	return (double)(ps.utime + ps.stime) / (double)sysconf(_SC_CLK_TCK);
}

/* This process's CPU time (user + system) so far, in seconds. */
static double self_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void finish(void)
{
	uint64_t *lat = malloc(sizeof(*lat) * (size_t)B.n_tasks);
	int n = 0;
	for (int i = 0; i < B.n_tasks; i++)
		if (B.running_ns[i])
			lat[n++] = B.running_ns[i] - B.offer_ns[i];
	qsort(lat, (size_t)n, sizeof(*lat), cmp_u64);
	double p99 = n ? (double)lat[(size_t)((n - 1) * 0.99)] / 1e6 : -1;
	double secs = (double)(B.last_running_ns - B.first_offer_ns) / 1e9;
	double cpu = master_cpu_s() - B.cpu_at_first_offer_s;
	double self = self_cpu_s() - B.self_cpu_at_first_offer_s;
	printf("agents=%d tasks=%d launches_per_s=%.0f p99_offer_to_running_ms=%.2f "
	       "master_rss_mb=%.1f master_cpu_us_per_launch=%.1f bench_cpu_us_per_launch=%.1f\n",
	       B.n_agents, B.n_tasks, secs > 0 ? B.running / secs : 0, p99, master_mem_mb("VmHWM:"),
	       B.running ? cpu * 1e6 / B.running : -1, B.running ? self * 1e6 / B.running : -1);
	bench_print_machine(stdout);
	fprintf(stderr, "bench-master: master VmRSS now %.1f MB\n", master_mem_mb("VmRSS:"));
	fprintf(stderr, "bench-master: %.2f updates per agent request, %.2f tasks per offer\n",
	        B.update_posts ? (double)B.updates_sent / (double)B.update_posts : 0,
	        B.offers_seen ? (double)B.launched / (double)B.offers_seen : 0);
	if (!B.hold)
		fprintf(stderr, "bench-master: all finished after %.2f s; %d errors\n",
		        (double)(B.last_finished_ns - B.first_offer_ns) / 1e9, B.errors);
	fflush(stdout);
	free(lat);
	event_base_loopbreak(B.base);
}

static void watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	int progress = B.n_registered + B.running + B.finished;
	uint64_t now = ag_now_ns();
	if (progress != B.last_progress_count) {
		B.last_progress_count = progress;
		B.last_progress_ns = now;
	} else if (now - B.last_progress_ns > 30ull * 1000000000) {
		fprintf(stderr,
		        "bench-master: stuck: registered=%d launched=%d running=%d finished=%d\n",
		        B.n_registered, B.launched, B.running, B.finished);
		die("no progress for 30 s");
	}
}

int main(int argc, char **argv)
{
	B.n_agents = 1000;
	B.n_tasks = 100000;
	B.cpus_per_agent = 16;
	B.n_post = 64;
	const char *bin = NULL;
	/* The bench's own master flags, then any --master_arg. */
	const char *extra[16] = {"--allocation_interval=1secs"};
	int n_extra = 1;
	static const struct option opts[] = {{"agents", required_argument, NULL, 'a'},
	                                     {"tasks", required_argument, NULL, 't'},
	                                     {"cpus", required_argument, NULL, 'c'},
	                                     {"hold", no_argument, NULL, 'h'},
	                                     {"post_conns", required_argument, NULL, 'p'},
	                                     {"master", required_argument, NULL, 'm'},
	                                     {"master_arg", required_argument, NULL, 'x'},
	                                     {"single_updates", no_argument, NULL, 's'},
	                                     {NULL, 0, NULL, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			B.n_agents = atoi(optarg);
			break;
		case 't':
			B.n_tasks = atoi(optarg);
			break;
		case 'c':
			B.cpus_per_agent = atoi(optarg);
			break;
		case 'h':
			B.hold = true;
			break;
		case 'p':
			B.n_post = atoi(optarg);
			break;
		case 'm':
			bin = optarg;
			break;
		case 's':
			B.single_updates = true;
			break;
		case 'x':
			if (n_extra + 1 >= (int)AG_ARRAY_SIZE(extra))
				die("too many --master_arg");
			extra[n_extra++] = optarg;
			break;
		default:
			fprintf(stderr,
			        "usage: %s [--agents N] [--tasks N] [--cpus N] [--hold] "
			        "[--post_conns N] [--master BIN] [--single_updates] "
			        "[--master_arg --flag=value]...\n",
			        argv[0]);
			return 2;
		}
	}
	if (B.n_agents <= 0 || B.n_tasks <= 0 || B.cpus_per_agent <= 0 || B.n_post <= 0 ||
	    B.n_post > MAX_POST_CONNS)
		die("counts must be positive");
	char binbuf[4096];
	if (!bin) {
		/* agora-master next to this program. */
		ssize_t n = readlink("/proc/self/exe", binbuf, sizeof(binbuf) - 32);
		if (n <= 0)
			die("readlink");
		binbuf[n] = '\0';
		char *slash = strrchr(binbuf, '/');
		strcpy(slash + 1, "agora-master");
		bin = binbuf;
	}
	signal(SIGPIPE, SIG_IGN);

	/* One stream per agent, the post pool and the framework, in this
	 * process and in the master. */
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if ((rlim_t)B.n_agents + B.n_post + 64 > rl.rlim_cur) {
		fprintf(stderr, "bench-master: %d agents need %d descriptors; the limit is %llu\n",
		        B.n_agents, B.n_agents + B.n_post + 64, (unsigned long long)rl.rlim_cur);
		return 1;
	}

	char work_dir[] = "/tmp/bench-master-XXXXXX";
	if (!mkdtemp(work_dir))
		die("mkdtemp");
	start_master(bin, work_dir, extra);

	/* As the master does: a connection's interest changes within a loop
	 * turn cost one epoll_ctl, not one each (a tenth of this client's CPU
	 * without it). */
	struct event_config *cfg = event_config_new();
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	B.base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (!B.base)
		die("event_base_new");
	B.agents = calloc((size_t)B.n_agents, sizeof(*B.agents));
	B.dirty = calloc((size_t)B.n_agents, sizeof(*B.dirty));
	B.flush = event_new(B.base, -1, 0, flush_cb, NULL);
	B.offer_ns = calloc((size_t)B.n_tasks, sizeof(uint64_t));
	B.running_ns = calloc((size_t)B.n_tasks, sizeof(uint64_t));
	for (int i = 0; i < B.n_agents; i++)
		B.agents[i].idx = i;
	for (int i = 0; i < B.n_post; i++) {
		B.post[i] = evhttp_connection_base_new(B.base, NULL, "127.0.0.1", B.port);
		evhttp_connection_set_timeout(B.post[i], 600);
	}
	B.heartbeat = event_new(B.base, -1, EV_PERSIST, heartbeat_cb, NULL);
	event_add(B.heartbeat, &(struct timeval){.tv_sec = 5});
	B.watchdog = event_new(B.base, -1, EV_PERSIST, watchdog_cb, NULL);
	event_add(B.watchdog, &(struct timeval){.tv_sec = 1});
	B.last_progress_ns = ag_now_ns();
	register_more();
	event_base_dispatch(B.base);

	kill(B.master, SIGTERM);
	waitpid(B.master, NULL, 0);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench-master: could not remove %s\n", work_dir);
	return B.errors ? 1 : 0;
}
