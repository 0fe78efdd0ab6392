/* operator.c: the agent's operator endpoints, on its own event loop
 * (libevent evhttp), bound to --ip (127.0.0.1 by default):
 *
 *   GET /health       {"status":"ok", registered, agent_id, isolated, ...}
 *   GET /containers   [{task_id, framework_id, container_id, state, phase,
 *                       isolated, usage | usage_error}]
 *   GET /files/read?task=ID&file=stdout|stderr&offset=N&length=M
 *                     {"data":..., "offset":N, "size":S}
 *   GET /updates/set_aside
 *                     {"set_aside":[{framework_id, task_id, status, answer,
 *                       at}]}: status updates the master refused for good
 *
 * Nothing here takes a path from the request: `file` is one of two names,
 * opened with openat() below the task's sandbox without following links
 * (the task owns its sandbox and could plant a symlink to /etc/shadow). */
#include "agent/agent.h"
#include "agent/executor.h"
#include "common/log.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILES_DEFAULT_LENGTH (64 * 1024)
#define FILES_MAX_LENGTH     (1024 * 1024)

static void reply_json(struct evhttp_request *req, int code, const char *reason, json_t *body)
{
	_cleanup_free_ char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	struct evbuffer *b = evbuffer_new();
	evbuffer_add(b, text, strlen(text));
	evbuffer_add(b, "\n", 1);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	                  "application/json");
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
}

/* JSON strings must be UTF-8; a log may hold anything. Bytes of invalid
 * sequences become '?' (the offsets and sizes stay byte-exact). */
static json_t *bytes_string(char *buf, size_t n)
{
	json_t *s = json_stringn(buf, n);
	if (s)
		return s;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] >= 0x80)
			buf[i] = '?';
	return json_stringn(buf, n);
}

/* The same for a NUL-terminated text that may hold request bytes: a
 * percent-decoded query value can be any byte (`task=%ff`), and a message
 * naming it must still be a JSON string. */
static json_t *text_string(const char *s)
{
	json_t *j = json_string(s);
	if (j)
		return j;
	_cleanup_free_ char *copy = ag_strdup(s);
	return bytes_string(copy, strlen(copy));
}

static void reply_error(struct evhttp_request *req, int code, const char *reason, const char *field,
                        const char *msg)
{
	json_t *j = json_pack("{s:o}", "error", text_string(msg));
	if (field)
		json_object_set_new(j, "field", text_string(field));
	reply_json(req, code, reason, j);
}

/* ---- GET /health ---- */

static void on_health(struct agent *a, struct evhttp_request *req)
{
	json_t *j = json_pack("{s:s, s:b, s:b, s:I}", "status", "ok", "registered",
	                      a->link && agent_ml_registered(a->link), "isolated", a->cap.isolated,
	                      "active_containers", (json_int_t)ctz_active(a->ctz));
	if (a->agent_id)
		json_object_set_new(j, "agent_id", json_string(a->agent_id));
	if (!a->cap.isolated)
		json_object_set_new(j, "note", json_string(a->cap.note));
	/* A work directory that cannot be written to: unhealthy until a
	 * write succeeds again (held updates: agent.c). */
	json_object_set_new(j, "held_status_updates", json_integer((json_int_t)a->held.n));
	if (a->disk_error) {
		json_object_set_new(j, "status", json_string("unhealthy"));
		json_object_set_new(j, "problem", json_string(a->disk_error));
		reply_json(req, 503, "Service Unavailable", j);
		return;
	}
	reply_json(req, 200, "OK", j);
}

/* ---- GET /containers ---- */

struct list_ctx {
	struct agent *a;
	json_t *arr;
};

static void add_container(void *ctx, const struct ctz_info *i)
{
	struct list_ctx *l = ctx;
	struct agent *a = l->a;
	json_t *j = json_pack("{s:s, s:s, s:s, s:b}", "task_id", i->task_id, "container_id",
	                      i->container_id, "phase", i->phase, "isolated", a->cap.isolated);
	const char *fw = i->framework_id;
	if (!*fw) /* a record older than the (framework, task) key */
		fw = ctz_upd_task_framework(a->upd, i->task_id);
	json_object_set_new(j, "framework_id", fw ? json_string(fw) : json_null());
	/* The state as the master is told it; once the terminal update is
	 * acknowledged the task is forgotten there, and the containerizer's
	 * record says how it ended. */
	const char *state = fw && ctz_upd_task_known(a->upd, fw, i->task_id)
	                            ? pb_task_state_name(ctz_upd_task_state(a->upd, fw, i->task_id))
	                    : i->ended ? pb_task_state_name(i->final)
	                               : NULL;
	json_object_set_new(j, "state", state ? json_string(state) : json_null());
	if (i->monitor_pid > 0 && !i->ended)
		json_object_set_new(j, "monitor_pid", json_integer(i->monitor_pid));
	_cleanup_free_ char *usage = NULL;
	struct ag_error err = {0};
	json_t *u = NULL;
	if (ctz_usage_json(a->ctz, i->framework_id, i->task_id, &usage, &err) == 0)
		u = json_loads(usage, 0, NULL);
	if (u) {
		json_object_del(u, "id");
		json_object_set_new(j, "usage", u);
	} else {
		json_object_set_new(j, "usage", json_null());
		json_object_set_new(j, "usage_error",
		                    json_string(err.msg[0] ? err.msg : "usage unreadable"));
	}
	json_array_append_new(l->arr, j);
}

static void on_containers(struct agent *a, struct evhttp_request *req)
{
	struct list_ctx l = {a, json_array()};
	ctz_foreach(a->ctz, add_container, &l);
	reply_json(req, 200, "OK", l.arr);
}

/* ---- GET /files/read ---- */

/* A non-negative decimal that fits int64; -1 otherwise. */
static int64_t param_i64(const char *v)
{
	int64_t n;
	if (!v || ag_parse_i64(v, &n) < 0 || n < 0)
		return -1;
	return n;
}

/* The sandbox of `task` (of `fw`, when given; else of the only framework
 * that has a task with this id). */
struct sbx_lookup {
	const char *fw, *task;
	const char *found_fw;
	char *sandbox;
	bool ambiguous;
};

static void match_sandbox(void *ctx, const struct ctz_info *i)
{
	struct sbx_lookup *l = ctx;
	if (strcmp(i->task_id, l->task) != 0 || (l->fw && strcmp(i->framework_id, l->fw) != 0))
		return;
	if (!l->sandbox) { /* the newest container of that task */
		l->found_fw = i->framework_id;
		l->sandbox = ag_strdup(i->sandbox);
	} else if (strcmp(l->found_fw, i->framework_id) != 0) {
		l->ambiguous = true;
	}
}

/* The name of the first parameter of `query` whose value, percent-decoded,
 * holds a NUL byte (`task=ID%00junk`); NULL when none does. The parsed
 * values are C strings: such a value would be cut at the NUL and match
 * what it is not. */
static const char *param_with_nul(const char *query, char *name, size_t n)
{
	_cleanup_free_ char *copy = ag_strdup(query);
	char *save = NULL;
	for (char *kv = strtok_r(copy, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq)
			continue;
		*eq = '\0';
		size_t len = 0;
		char *v = evhttp_uridecode(eq + 1, 1, &len);
		bool nul = v && memchr(v, '\0', len);
		free(v);
		if (nul) {
			snprintf(name, n, "%s", kv);
			return name;
		}
	}
	return NULL;
}

static void on_files_read(struct agent *a, struct evhttp_request *req)
{
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	struct evkeyvalq q = {0};
	if (evhttp_parse_query_str(query ? query : "", &q) < 0) {
		reply_error(req, 400, "Bad Request", NULL, "malformed query string");
		return;
	}
	char nul_name[64];
	if (query && param_with_nul(query, nul_name, sizeof(nul_name))) {
		_cleanup_free_ char *m =
		        ag_asprintf("`%s` must not contain a NUL byte (%%00)", nul_name);
		reply_error(req, 400, "Bad Request", nul_name, m);
		evhttp_clear_headers(&q);
		return;
	}
	const char *task = evhttp_find_header(&q, "task");
	const char *fw = evhttp_find_header(&q, "framework");
	const char *file = evhttp_find_header(&q, "file");
	const char *off_s = evhttp_find_header(&q, "offset");
	const char *len_s = evhttp_find_header(&q, "length");
	int64_t off = off_s ? param_i64(off_s) : 0;
	int64_t len = len_s ? param_i64(len_s) : FILES_DEFAULT_LENGTH;
	if (!task || !*task)
		reply_error(req, 400, "Bad Request", "task", "`task` (a task id) is required");
	else if (!file || (strcmp(file, "stdout") != 0 && strcmp(file, "stderr") != 0))
		reply_error(req, 400, "Bad Request", "file", "`file` must be stdout or stderr");
	else if (off < 0)
		reply_error(req, 400, "Bad Request", "offset",
		            "`offset` must be a non-negative byte offset");
	else if (len < 0)
		reply_error(req, 400, "Bad Request", "length",
		            "`length` must be a non-negative byte count");
	else {
		struct sbx_lookup l = {.fw = fw, .task = task};
		ctz_foreach(a->ctz, match_sandbox, &l);
		_cleanup_free_ char *sbx = l.sandbox;
		if (l.ambiguous) {
			_cleanup_free_ char *m = ag_asprintf(
			        "task `%s` exists in several frameworks: add framework=ID", task);
			reply_error(req, 400, "Bad Request", "framework", m);
			goto out;
		}
		if (!sbx) {
			_cleanup_free_ char *m =
			        fw ? ag_asprintf("no task `%s` of framework `%s` on this agent",
			                         task, fw)
			           : ag_asprintf("no task `%s` on this agent", task);
			reply_error(req, 404, "Not Found", "task", m);
			goto out;
		}
		if (len > FILES_MAX_LENGTH)
			len = FILES_MAX_LENGTH;
		_cleanup_close_ int dfd = open(sbx, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		_cleanup_close_ int fd =
		        dfd < 0 ? -1
		                : openat(dfd, file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			_cleanup_free_ char *m = ag_asprintf(
			        "task `%s`: no regular file `%s` in its sandbox", task, file);
			reply_error(req, 404, "Not Found", "file", m);
			goto out;
		}
		int64_t size = st.st_size;
		if (off > size)
			off = size;
		if (len > size - off)
			len = size - off;
		_cleanup_free_ char *buf = ag_calloc(1, (size_t)len + 1);
		ssize_t n = len ? pread(fd, buf, (size_t)len, off) : 0;
		if (n < 0) {
			reply_error(req, 500, "Internal Server Error", "file", strerror(errno));
			goto out;
		}
		reply_json(req, 200, "OK",
		           json_pack("{s:o, s:I, s:I}", "data", bytes_string(buf, (size_t)n),
		                     "offset", (json_int_t)off, "size", (json_int_t)size));
	}
out:
	evhttp_clear_headers(&q);
}

/* ---- GET /updates/set_aside ---- */

static void add_aside(void *ctx, const struct ctz_upd_aside_view *v)
{
	json_t *status = json_loads(v->status_json, 0, NULL);
	json_array_append_new(ctx, json_pack("{s:s, s:s, s:o, s:s, s:f}", "framework_id",
	                                     v->framework_id, "task_id", v->task_id, "status",
	                                     status ? status : json_null(), "answer", v->answer,
	                                     "at", v->at));
}

/* The status updates the master refused for good, oldest first. */
static void on_set_aside(struct agent *a, struct evhttp_request *req)
{
	json_t *arr = json_array();
	if (ctz_upd_set_aside_foreach(a->upd, add_aside, arr) < 0) {
		json_decref(arr);
		reply_error(req, 500, "Internal Server Error", NULL,
		            "cannot read the updates set aside from the agent's database");
		return;
	}
	reply_json(req, 200, "OK", json_pack("{s:o}", "set_aside", arr));
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct agent *a = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (!path)
		path = "/";
	if (strcmp(path, "/api/v1/executor") == 0) {
		agent_exec_http(a, req); /* executor.c */
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		reply_error(req, 405, "Method Not Allowed", NULL, "only GET");
		return;
	}
	if (strcmp(path, "/health") == 0)
		on_health(a, req);
	else if (strcmp(path, "/containers") == 0)
		on_containers(a, req);
	else if (strcmp(path, "/files/read") == 0)
		on_files_read(a, req);
	else if (strcmp(path, "/updates/set_aside") == 0)
		on_set_aside(a, req);
	else
		reply_error(req, 404, "Not Found", NULL,
		            "no such endpoint (GET /health, /containers, /files/read, "
		            "/updates/set_aside)");
}

#define OPERATOR_BIND_WAIT_NS (10ull * 1000000000ull)

int agent_operator_start(struct agent *a, struct ag_error *err)
{
	const char *ip = a->ip ? a->ip : "127.0.0.1";
	a->http = evhttp_new(a->base);
	if (!a->http)
		return ag_error_msg(err, ENOMEM, "operator endpoints: evhttp_new");
	evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
	                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(a->http, on_request, a);
	evhttp_set_max_headers_size(a->http, 16 * 1024);
	/* An executor's SUBSCRIBE carries its unacknowledged tasks and
	 * updates (docs/executor-api.md). */
	evhttp_set_max_body_size(a->http, 4 * 1024 * 1024);
	evhttp_set_timeout(a->http, 30);
	/* A restarted agent may find its port held for a moment: a fork of a
	 * launch the killed agent was making holds its fds until it closed
	 * them or died with the agent, which a loaded host may take a while
	 * to run. Taken (by another program) for longer, it is an error. */
	struct evhttp_bound_socket *bs = NULL;
	uint64_t start = ag_now_ns();
	bool warned = false;
	for (;;) {
		errno = 0;
		bs = evhttp_bind_socket_with_handle(a->http, ip, (ev_uint16_t)a->port);
		int e = errno ? errno : EADDRINUSE;
		if (bs || e != EADDRINUSE || ag_now_ns() - start >= OPERATOR_BIND_WAIT_NS) {
			if (!bs)
				return ag_error_set(err, e,
				                    "--ip %s --port %d: cannot listen for the "
				                    "operator endpoints%s",
				                    ip, a->port,
				                    e == EADDRINUSE ? " (still in use after 10 s)"
				                                    : "");
			break;
		}
		if (!warned)
			ag_warn("--ip %s --port %d: in use (by a launch the previous agent was "
			        "making?); trying again for up to 10 s",
			        ip, a->port);
		warned = true;
		usleep(20000);
	}
	/* Port 0 (in-process drivers): the kernel's pick, for them to read. */
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (a->port == 0 &&
	    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl) == 0)
		a->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
		                                         : ((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}
