/* checks.c: health checks and checks on the agent's loop (checks.h). */
#include "agent/checks.h"
#include "common/map.h"
#include "containerizer/checks.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

struct agent_checks {
	struct event_base *base;
	struct agent_checks_ops ops;
	void *ctx;
	struct ag_map tasks; /* key(fw, task) -> struct tchecks */
	int devnull;         /* COMMAND checks' stdio */
	uint64_t runs;
};

struct tchecks;

/* One check of a task: between runs `timer` is the next run; during one
 * it is the run's timeout and `io` watches its socket or pidfd. */
struct runner {
	struct tchecks *t;
	struct ctz_check_spec spec;
	struct event *timer;
	struct event *io;
	int fd; /* the run's socket or pidfd; -1 between runs */
	pid_t pid;
	bool timed_out;
	bool connected, sent; /* HTTP */
	char buf[128];        /* HTTP: the status line */
	size_t n;
	uint32_t failures; /* health: consecutive */
	bool done;         /* health: the task is being killed, no more runs */
};

struct tchecks {
	struct agent_checks *ch;
	char *key, *fw, *task;
	uint64_t start_ns;
	bool initializing; /* health: no success yet */
	bool has_healthy, healthy;
	json_t *check_status; /* the last reported, or NULL */
	struct runner *health, *check;
	int busy;     /* inside a report */
	bool stopped; /* stopped while busy: freed when the report returns */
};

/* The outcome of one run. */
struct outcome {
	bool ok;       /* health's verdict */
	bool has_code; /* exit code or HTTP status; TCP: the connect's verdict */
	int code;
	char why[160];
};

static char *key_of(const char *fw, const char *task)
{
	return ag_asprintf("%zu:%s/%s", strlen(fw), fw, task);
}

/* ---- a run's end -------------------------------------------------------- */

static void schedule(struct runner *r, int64_t ms)
{
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (ms % 1000) * 1000};
	evtimer_del(r->timer);
	evtimer_add(r->timer, &tv);
}

static void run_cleanup(struct runner *r)
{
	if (r->io) {
		event_free(r->io);
		r->io = NULL;
	}
	if (r->fd >= 0) {
		if (r->spec.type == CTZ_CHECK_COMMAND && r->pid > 0) {
			/* Not reaped yet: the group is still its own. */
			kill(-r->pid, SIGKILL);
			syscall(SYS_pidfd_send_signal, r->fd, SIGKILL, NULL, 0);
			siginfo_t si;
			waitid(P_PIDFD, (id_t)r->fd, &si, WEXITED);
		}
		close(r->fd);
		r->fd = -1;
	}
	r->pid = 0;
	r->timed_out = r->connected = r->sent = false;
	r->n = 0;
}

static void report(struct tchecks *t, bool health_changed, bool kill, const char *why)
{
	struct agent_checks *ch = t->ch;
	struct agent_check_report rep = {
	        .framework_id = t->fw,
	        .task_id = t->task,
	        .health_changed = health_changed,
	        .has_healthy = t->has_healthy,
	        .healthy = t->healthy,
	        .kill = kill,
	        .check_status = t->check_status,
	        .why = why,
	};
	t->busy++;
	ch->ops.report(ch->ctx, &rep);
	t->busy--;
}

static void tchecks_free(struct tchecks *t);

static void health_result(struct runner *r, const struct outcome *o)
{
	struct tchecks *t = r->t;
	if (o->ok) {
		t->initializing = false;
		r->failures = 0;
		if (!t->has_healthy || !t->healthy) {
			t->has_healthy = t->healthy = true;
			report(t, true, false, NULL);
		}
		return;
	}
	uint64_t now = ag_now_ns();
	if (t->initializing && now - t->start_ns < (uint64_t)r->spec.grace_ms * 1000000)
		return; /* within the grace period, before the first success */
	r->failures++;
	bool kill = r->failures >= r->spec.consecutive_failures;
	bool changed = !t->has_healthy || t->healthy;
	t->has_healthy = true;
	t->healthy = false;
	if (kill)
		r->done = true;
	if (changed || kill)
		report(t, true, kill, o->why);
}

static json_t *check_result(const struct runner *r, const struct outcome *o)
{
	const char *type = ctz_check_type_name(r->spec.type);
	json_t *res = json_object();
	if (o->has_code) {
		switch (r->spec.type) {
		case CTZ_CHECK_COMMAND:
			json_object_set_new(res, "exit_code", json_integer(o->code));
			break;
		case CTZ_CHECK_HTTP:
			json_object_set_new(res, "status_code", json_integer(o->code));
			break;
		case CTZ_CHECK_TCP:
			json_object_set_new(res, "succeeded", json_boolean(o->code));
			break;
		}
	}
	static const char *const member[] = {NULL, "command", "http", "tcp"};
	return json_pack("{s:s, s:o}", "type", type, member[r->spec.type], res);
}

static void check_status_result(struct runner *r, const struct outcome *o)
{
	struct tchecks *t = r->t;
	json_t *now = check_result(r, o);
	if (t->check_status && json_equal(t->check_status, now)) {
		json_decref(now);
		return;
	}
	json_decref(t->check_status);
	t->check_status = now;
	report(t, false, false, o->why[0] ? o->why : NULL);
}

/* The run is over: the next one is scheduled, then the outcome told (the
 * report may stop the task's checks). */
static void finish(struct runner *r, struct outcome *o)
{
	struct tchecks *t = r->t;
	run_cleanup(r);
	t->ch->runs++;
	if (r->spec.health)
		health_result(r, o);
	else
		check_status_result(r, o);
	if (t->stopped) {
		if (!t->busy)
			tchecks_free(t);
		return;
	}
	if (!r->done)
		schedule(r, r->spec.interval_ms);
}

static void fail(struct runner *r, const char *fmt, ...) AG_PRINTF(2, 3);
static void fail(struct runner *r, const char *fmt, ...)
{
	struct outcome o = {0};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(o.why, sizeof(o.why), fmt, ap);
	va_end(ap);
	finish(r, &o);
}

/* ---- HTTP and TCP --------------------------------------------------------- */

static void on_sock(evutil_socket_t fd, short what, void *arg);

static void watch(struct runner *r, short what, event_callback_fn fn)
{
	if (r->io)
		event_free(r->io);
	r->io = event_new(r->t->ch->base, r->fd, what, fn, r);
	event_add(r->io, NULL);
}

/* The request, once connected: small enough for one non-blocking send on
 * a fresh socket. */
static void http_send(struct runner *r)
{
	char req[1280];
	int n = snprintf(req, sizeof(req),
	                 "GET %s HTTP/1.1\r\nHost: " CTZ_CHECK_TARGET_IPV4
	                 ":%u\r\nUser-Agent: agora-agent\r\nAccept: */*\r\nConnection: "
	                 "close\r\n\r\n",
	                 r->spec.path, r->spec.port);
	ssize_t w = send(r->fd, req, (size_t)n, MSG_NOSIGNAL);
	if (w != n) {
		fail(r, "HTTP check: send the request to port %u: %s", r->spec.port,
		     w < 0 ? strerror(errno) : "short write");
		return;
	}
	r->sent = true;
	watch(r, EV_READ | EV_PERSIST, on_sock);
}

static void http_read(struct runner *r)
{
	ssize_t n = recv(r->fd, r->buf + r->n, sizeof(r->buf) - 1 - r->n, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		fail(r, "HTTP check: read the answer from port %u: %s", r->spec.port,
		     strerror(errno));
		return;
	}
	r->n += (size_t)n;
	r->buf[r->n] = '\0';
	if (n > 0 && !strchr(r->buf, '\n') && r->n < sizeof(r->buf) - 1)
		return; /* more to come */
	unsigned code = 0;
	char c = 0;
	if (sscanf(r->buf, "HTTP/%*1[0-9].%*1[0-9] %3u%c", &code, &c) < 1 || code < 100 ||
	    code > 599) {
		fail(r, "HTTP check: port %u answered no HTTP status line", r->spec.port);
		return;
	}
	struct outcome o = {.has_code = true, .code = (int)code, .ok = code >= 200 && code < 400};
	if (!o.ok)
		snprintf(o.why, sizeof(o.why), "HTTP check: GET %.64s on port %u: status %u",
		         r->spec.path, r->spec.port, code);
	finish(r, &o);
}

static void on_sock(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct runner *r = arg;
	if (!r->connected) {
		int e = 0;
		socklen_t len = sizeof(e);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
			e = errno;
		if (e) {
			/* Refused: the task does not listen; a clear "no". */
			struct outcome o = {.has_code = r->spec.type == CTZ_CHECK_TCP &&
			                                e == ECONNREFUSED};
			snprintf(o.why, sizeof(o.why), "%s check: connect to port %u: %s",
			         ctz_check_type_name(r->spec.type), r->spec.port, strerror(e));
			finish(r, &o);
			return;
		}
		r->connected = true;
		if (r->spec.type == CTZ_CHECK_TCP) {
			struct outcome o = {.ok = true, .has_code = true, .code = 1};
			finish(r, &o);
			return;
		}
		http_send(r);
		return;
	}
	http_read(r);
}

static void start_net(struct runner *r)
{
	r->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->fd < 0) {
		fail(r, "%s check: socket: %s", ctz_check_type_name(r->spec.type), strerror(errno));
		return;
	}
	/* Closed with a reset: a check leaves no TIME_WAIT behind (1,000
	 * tasks checked every second would keep 60,000), as HAProxy's
	 * checks do. */
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	setsockopt(r->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(r->spec.port)};
	inet_pton(AF_INET, CTZ_CHECK_TARGET_IPV4, &sa.sin_addr);
	if (connect(r->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		struct outcome o = {.has_code =
		                            r->spec.type == CTZ_CHECK_TCP && errno == ECONNREFUSED};
		snprintf(o.why, sizeof(o.why), "%s check: connect to port %u: %s",
		         ctz_check_type_name(r->spec.type), r->spec.port, strerror(errno));
		finish(r, &o);
		return;
	}
	/* On the loopback the handshake is usually over when connect()
	 * returns: one poll(2) then spares the loop's epoll_ctl calls. */
	struct pollfd pf = {.fd = r->fd, .events = POLLOUT};
	if (poll(&pf, 1, 0) == 1) {
		on_sock(r->fd, EV_WRITE, r);
		return;
	}
	/* Writable once connected (or refused): on_sock tells which. */
	watch(r, EV_WRITE, on_sock);
}

/* ---- COMMAND ---------------------------------------------------------------- */

static void on_pidfd(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct runner *r = arg;
	siginfo_t si = {0};
	if (waitid(P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return;
	r->pid = 0; /* reaped: nothing left to kill */
	int code = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
	if (r->timed_out) {
		fail(r, "COMMAND check: timed out after %.3g s (killed)",
		     (double)r->spec.timeout_ms / 1000.0);
		return;
	}
	struct outcome o = {.has_code = true, .code = code, .ok = code == 0};
	if (!o.ok)
		snprintf(o.why, sizeof(o.why), "COMMAND check: %s %d",
		         si.si_code == CLD_EXITED ? "exited with status" : "killed by signal",
		         si.si_code == CLD_EXITED ? code : si.si_status);
	finish(r, &o);
}

static void start_command(struct runner *r)
{
	struct tchecks *t = r->t;
	struct agent_checks *ch = t->ch;
	struct ag_error err = {0};
	int pidfd = -1;
	pid_t pid = 0;
	if (ch->ops.exec(ch->ctx, t->fw, t->task, r->spec.argv, r->spec.env, ch->devnull, &pidfd,
	                 &pid, &err) < 0) {
		fail(r, "COMMAND check: %s", err.msg);
		return;
	}
	r->fd = pidfd;
	r->pid = pid;
	watch(r, EV_READ | EV_PERSIST, on_pidfd);
}

/* ---- timers ---------------------------------------------------------------- */

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct runner *r = arg;
	if (r->fd >= 0) {
		/* The run's timeout. */
		if (r->spec.type == CTZ_CHECK_COMMAND) {
			if (r->pid > 0) {
				r->timed_out = true;
				kill(-r->pid, SIGKILL);
				syscall(SYS_pidfd_send_signal, r->fd, SIGKILL, NULL, 0);
			}
			return; /* on_pidfd ends the run */
		}
		fail(r, "%s check: no answer from port %u in %.3g s",
		     ctz_check_type_name(r->spec.type), r->spec.port,
		     (double)r->spec.timeout_ms / 1000.0);
		return;
	}
	schedule(r, r->spec.timeout_ms);
	if (r->spec.type == CTZ_CHECK_COMMAND)
		start_command(r);
	else
		start_net(r);
}

/* ---- tasks ------------------------------------------------------------------ */

static struct runner *runner_new(struct tchecks *t, struct ctz_check_spec *spec)
{
	struct runner *r = ag_calloc(1, sizeof(*r));
	r->t = t;
	r->spec = *spec;
	*spec = (struct ctz_check_spec){0};
	r->fd = -1;
	r->timer = evtimer_new(t->ch->base, on_timer, r);
	schedule(r, r->spec.delay_ms);
	return r;
}

static void runner_free(struct runner *r)
{
	if (!r)
		return;
	run_cleanup(r);
	event_free(r->timer);
	ctz_check_spec_free(&r->spec);
	free(r);
}

static void tchecks_free(struct tchecks *t)
{
	runner_free(t->health);
	runner_free(t->check);
	json_decref(t->check_status);
	free(t->key);
	free(t->fw);
	free(t->task);
	free(t);
}

/* Out of the map; freed now, or when the report under way returns. */
static void tchecks_stop(struct tchecks *t)
{
	ag_map_del(&t->ch->tasks, t->key);
	if (t->health)
		evtimer_del(t->health->timer);
	if (t->check)
		evtimer_del(t->check->timer);
	if (t->busy)
		t->stopped = true;
	else
		tchecks_free(t);
}

struct agent_checks *agent_checks_new(struct event_base *base, const struct agent_checks_ops *ops,
                                      void *ctx)
{
	struct agent_checks *ch = ag_calloc(1, sizeof(*ch));
	ch->base = base;
	ch->ops = *ops;
	ch->ctx = ctx;
	ch->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	return ch;
}

void agent_checks_free(struct agent_checks *ch)
{
	if (!ch)
		return;
	struct ag_map_iter it;
	for (ag_map_iter_init(&it); ag_map_iter_next(&ch->tasks, &it);)
		tchecks_free(it.e->value);
	ag_map_clear(&ch->tasks);
	if (ch->devnull >= 0)
		close(ch->devnull);
	free(ch);
}

int agent_checks_start(struct agent_checks *ch, const char *framework_id, const char *task_id,
                       const json_t *task_info, const struct agent_checks_resume *resume,
                       struct ag_error *err)
{
	const json_t *hc = json_object_get(task_info, "health_check");
	const json_t *ck = json_object_get(task_info, "check");
	struct ctz_check_spec hs = {0}, cs = {0};
	int r = 0;
	if (hc)
		r = ctz_check_parse(hc, true, "task.health_check", &hs, err);
	if (r == 0 && ck)
		r = ctz_check_parse(ck, false, "task.check", &cs, err);
	_cleanup_free_ char *key = key_of(framework_id, task_id);
	struct tchecks *old = ag_map_get(&ch->tasks, key);
	if (old)
		tchecks_stop(old);
	if (r < 0 || (!hc && !ck)) {
		ctz_check_spec_free(&hs);
		ctz_check_spec_free(&cs);
		return r;
	}
	struct tchecks *t = ag_calloc(1, sizeof(*t));
	t->ch = ch;
	t->key = TAKE_PTR(key);
	t->fw = ag_strdup(framework_id);
	t->task = ag_strdup(task_id);
	t->start_ns = ag_now_ns();
	t->initializing = true;
	if (resume) {
		t->has_healthy = resume->has_healthy;
		t->healthy = resume->healthy;
		/* Healthy once: past the grace period, as it was. */
		t->initializing = !resume->has_healthy;
		if (resume->check_status)
			t->check_status = json_deep_copy(resume->check_status);
	}
	if (hc)
		t->health = runner_new(t, &hs);
	if (ck)
		t->check = runner_new(t, &cs);
	ag_map_put(&ch->tasks, t->key, t);
	return 0;
}

void agent_checks_stop(struct agent_checks *ch, const char *framework_id, const char *task_id)
{
	_cleanup_free_ char *key = key_of(framework_id, task_id);
	struct tchecks *t = ag_map_get(&ch->tasks, key);
	if (t)
		tchecks_stop(t);
}

size_t agent_checks_tasks(const struct agent_checks *ch)
{
	return ch->tasks.size;
}

uint64_t agent_checks_runs(const struct agent_checks *ch)
{
	return ch->runs;
}
