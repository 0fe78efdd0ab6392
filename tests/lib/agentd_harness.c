/* agentd_harness.c: see agentd_harness.h. */
#include "agentd_harness.h"

#include "common/common.h"
#include "proto/proto.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct fm fm;

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

/* One status update from the agent (fm.mu held). */
static void on_update(const struct pb_status_update *su)
{
	const struct pb_task_status *s = &su->status;
	char *u = pb_base64_encode(s->uuid.data, s->uuid.len);
	struct ctz_upd_rec *r = NULL;
	for (int i = 0; i < fm.n_upd; i++)
		if (strcmp(fm.upd[i].uuid, u) == 0)
			r = &fm.upd[i];
	if (!r && fm.n_upd < FM_MAX_UPDATES) {
		r = &fm.upd[fm.n_upd++];
		const char *fw = su->framework_id ? su->framework_id : "";
		snprintf(r->fw, sizeof(r->fw), "%s", fw);
		snprintf(r->tid, sizeof(r->tid), "%s", s->task_id);
		if (strcmp(fw, "F0") == 0)
			snprintf(r->task, sizeof(r->task), "%s", s->task_id);
		else
			snprintf(r->task, sizeof(r->task), "%s/%s", fw, s->task_id);
		snprintf(r->state, sizeof(r->state), "%s", pb_task_state_name(s->state));
		snprintf(r->uuid, sizeof(r->uuid), "%s", u);
		snprintf(r->msg, sizeof(r->msg), "%s", s->message ? s->message : "");
		r->first_ns = ag_now_ns();
		if (s->has_healthy)
			snprintf(r->healthy, sizeof(r->healthy), "%s",
			         s->healthy ? "true" : "false");
		if (s->check_status) {
			char *c = json_dumps(s->check_status, JSON_COMPACT | JSON_SORT_KEYS);
			snprintf(r->check, sizeof(r->check), "%s", c ? c : "");
			free(c);
		}
		if (s->reason != PB_REASON_UNSET)
			snprintf(r->reason, sizeof(r->reason), "%s",
			         pb_task_reason_name(s->reason));
		if (s->message && !fm.quiet)
			fprintf(stderr, "fake master: %s %s: %s\n", r->task, r->state, s->message);
	}
	/* Acknowledge from the second copy on: every update must be re-sent
	 * once. Every later copy is acknowledged too, as a master does: an
	 * agent killed before it read an acknowledgement sends the update
	 * again after its restart, and would wait for an ack forever. */
	if (r && ++r->count >= (fm.ack_first ? 1 : 2)) {
		char ack[512];
		snprintf(ack, sizeof(ack),
		         "{\"type\":\"STATUS_UPDATE_ACK\",\"status_update_ack\":{"
		         "\"framework_id\":{\"value\":\"%s\"},\"task_id\":{\"value\":\"%"
		         "s\"},"
		         "\"uuid\":\"%s\"}}",
		         r->fw, r->tid, u);
		stream_send(ack);
	}
	free(u);
}

/* The index of the first update of fm.refuse_fw in `m`; -1: none. */
static long refused_update(const struct pb_agent_msg *m)
{
	if (!fm.refuse_fw[0])
		return -1;
	if (m->type == PB_AGENT_STATUS_UPDATE)
		return m->status_update.framework_id &&
		                       strcmp(m->status_update.framework_id, fm.refuse_fw) == 0
		               ? 0
		               : -1;
	for (size_t i = 0; i < m->status_updates.n_updates; i++)
		if (strcmp(m->status_updates.updates[i].framework_id, fm.refuse_fw) == 0)
			return (long)i;
	return -1;
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
	} else if ((m.type == PB_AGENT_STATUS_UPDATE || m.type == PB_AGENT_STATUS_UPDATES) &&
	           refused_update(&m) >= 0) {
		char why[256];
		if (m.type == PB_AGENT_STATUS_UPDATE)
			snprintf(why, sizeof(why),
			         "message.status_update.framework_id.value: refused by the test");
		else
			snprintf(why, sizeof(why),
			         "message.status_updates.updates[%ld].framework_id.value: refused "
			         "by "
			         "the test",
			         refused_update(&m));
		fm.refused++;
		struct evbuffer *b = evbuffer_new();
		evbuffer_add(b, why, strlen(why));
		evhttp_send_reply(req, 400, "Bad Request", b);
		evbuffer_free(b);
	} else if (m.type == PB_AGENT_STATUS_UPDATE || m.type == PB_AGENT_STATUS_UPDATES) {
		if (m.type == PB_AGENT_STATUS_UPDATE)
			on_update(&m.status_update);
		for (size_t i = 0; i < m.status_updates.n_updates; i++)
			on_update(&m.status_updates.updates[i]);
		evhttp_send_reply(req, 202, "Accepted", NULL);
	} else if (m.type != PB_AGENT_HEARTBEAT) {
		/* EXECUTOR_MESSAGE, EXECUTOR_EXITED: kept as they came */
		size_t used = strlen(fm.others);
		snprintf(fm.others + used, sizeof(fm.others) - used, "%s\n", body);
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
	if (!fm.silent)
		stream_send("{\"type\":\"HEARTBEAT\"}");
	pthread_mutex_unlock(&fm.mu);
}

static void *fm_main(void *arg)
{
	(void)arg;
	event_base_dispatch(fm.base);
	return NULL;
}

int fm_start(void)
{
	evthread_use_pthreads();
	pthread_mutex_init(&fm.mu, NULL);
	fm.base = event_base_new();
	fm.http = evhttp_new(fm.base);
	evhttp_set_gencb(fm.http, on_request, NULL);
	struct evhttp_bound_socket *s = evhttp_bind_socket_with_handle(fm.http, "127.0.0.1", 0);
	if (!s)
		return -1;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	getsockname(evhttp_bound_socket_get_fd(s), (struct sockaddr *)&sin, &sl);
	fm.port = ntohs(sin.sin_port);
	fm.notify = event_new(fm.base, -1, 0, on_notify, NULL);
	fm.hb = event_new(fm.base, -1, EV_PERSIST, on_hb, NULL);
	struct timeval one = {1, 0};
	event_add(fm.hb, &one);
	return pthread_create(&fm.thread, NULL, fm_main, NULL) == 0 ? 0 : -1;
}

void fm_send(const char *json)
{
	pthread_mutex_lock(&fm.mu);
	if (fm.n_pending < FM_MAX_PENDING)
		fm.pending[fm.n_pending++] = strdup(json);
	event_active(fm.notify, 0, 0);
	pthread_mutex_unlock(&fm.mu);
}

void fm_drop(void)
{
	pthread_mutex_lock(&fm.mu);
	fm.drop = true;
	event_active(fm.notify, 0, 0);
	pthread_mutex_unlock(&fm.mu);
}

/* The updates of `task` in order, as "STATE(count) ..." */
void fm_states(const char *task, char *out, size_t n)
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

int fm_count(const char *task, const char *state)
{
	int c = -1;
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd; i++)
		if (strcmp(fm.upd[i].task, task) == 0 && strcmp(fm.upd[i].state, state) == 0)
			c = fm.upd[i].count;
	pthread_mutex_unlock(&fm.mu);
	return c;
}

int fm_registers(void)
{
	pthread_mutex_lock(&fm.mu);
	int n = fm.registers + fm.reregisters;
	pthread_mutex_unlock(&fm.mu);
	return n;
}

void fm_run_task(const char *id, const char *user, const char *command, const char *resources,
                 const char *extra)
{
	fm_run_task_fw("F0", id, user, command, resources, extra);
}

void fm_run_task_fw(const char *fw, const char *id, const char *user, const char *command,
                    const char *resources, const char *extra)
{
	char buf[8192];
	snprintf(buf, sizeof(buf),
	         "{\"type\":\"RUN_TASK\",\"run_task\":{\"framework_info\":{\"user\":\"%s\","
	         "\"name\":\"fw\",\"id\":{\"value\":\"%s\"},\"roles\":[\"web\"]},\"task\":{"
	         "\"name\":\"%s\",\"task_id\":{\"value\":\"%s\"},\"agent_id\":{\"value\":\"A-1\"},"
	         "\"resources\":%s%s%s%s%s}}}",
	         user, fw, id, id,
	         resources ? resources
	                   : "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.1}}]",
	         command ? ",\"command\":{\"value\":\"" : "", command ? command : "",
	         command ? "\"}" : "", extra ? extra : "");
	fm_send(buf);
}

int ah_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sin);
	int port = -1;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == 0)
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

int ah_http_get(int port, const char *path, char *out, size_t n)
{
	out[0] = '\0';
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET,
	                          .sin_port = htons((uint16_t)port),
	                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	char req[1024];
	int l = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	if (write(fd, req, (size_t)l) != l) {
		close(fd);
		return -1;
	}
	size_t cap = 1 << 20, got = 0;
	char *resp = malloc(cap);
	ssize_t k;
	while (got < cap - 1 && (k = read(fd, resp + got, cap - 1 - got)) > 0)
		got += (size_t)k;
	resp[got] = '\0';
	close(fd);
	int code = -1;
	sscanf(resp, "HTTP/1.%*d %d", &code);
	const char *body = strstr(resp, "\r\n\r\n");
	snprintf(out, n, "%s", body ? body + 4 : "");
	free(resp);
	return code;
}

pid_t ah_spawn(const char *log, const char *const argv[])
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0)
			dup2(fd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

double ah_now_s(void)
{
	return (double)ag_now_ns() / 1e9;
}
