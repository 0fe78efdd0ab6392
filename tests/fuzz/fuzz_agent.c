/* libFuzzer target for the agent's handling of what reaches it from
 * outside, in-process: one real agent (database, containerizer and operator
 * endpoints in a temporary work dir on tmpfs, no cgroups as with
 * --no_isolation) lives across inputs, and each input is fed to it, then
 * its loop runs a few turns. RUN_TASKs that decode launch real tasks.
 *
 * Input: the low 2 bits of byte 0 pick the channel, the rest is its data:
 *   0  one record of the master's stream (its JSON), handed to the link as
 *      if it had arrived (agent_ml_feed_record);
 *   1  stream bytes (RecordIO) cut into records by the reader the link
 *      uses, each handed over in turn;
 *   2  an HTTP request to the operator endpoints over loopback: bits 2-3 of
 *      byte 0 pick the method (GET, GET, POST, HEAD), bits 4-5 a prefix of
 *      the target ("/files/read?", "/containers", "/health", none) and the
 *      rest is the target, its blanks and control bytes made '+';
 *   3  a valid STATUS_UPDATE_ACK of one of the updates the agent sent
 *      (byte 1 picks which), so acknowledged tasks are forgotten as with a
 *      real master.
 * What the agent sends goes to a sink on the same loop that answers 202
 * and remembers the updates for channel 3. The link is fed a REGISTERED
 * before an input whenever it is not registered (an ERROR or a bad record
 * makes it re-register), so every input reaches the agent.
 *
 * Tasks are kept cheap: a RUN_TASK's command becomes `/bin/echo` with its
 * arguments (`echo fuzz` for a shell command) and an OCI-like spec's
 * process.args `busybox echo fuzz` (image `bb`: /bin/busybox); at most MAX_LIVE tasks run at once.
 * Every RESET_EVERY inputs the tasks are killed and reaped, the agent closed and its work dir
 * removed (also at exit). A crash, a sanitizer report or an operator request left unanswered is a
 * finding. */
#include "agent/agent.h"
#include "agent/flags.h"
#include "common/log.h"
#include "fuzz_loop.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RESET_EVERY 1000
#define MAX_LIVE    4
#define ACKS_KEPT   64

static struct agent A;
static struct event *ctz_ev;
static struct evhttp *sink;
static char dir[64];
static unsigned inputs;

/* Updates the agent sent, for channel 3: a ring of ACK records. */
static char *acks[ACKS_KEPT];
static unsigned n_acks;

/* With a secret: the link writes it to the work dir and presents it. */
static const char REGISTERED[] =
        "{\"type\":\"REGISTERED\",\"registered\":{\"agent_id\":{\"value\":\"A-fuzz\"},"
        "\"heartbeat_interval_seconds\":5.0,\"agent_secret\":"
        "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}}";

static void remove_dir(void)
{
	if (dir[0])
		fz_remove_tree(dir);
}

/* The work dirs of fuzzers that died (a finding ends the process without
 * atexit): fuzz-agent-<pid>-* whose pid is gone. */
static void remove_stale_dirs(const char *base)
{
	_cleanup_free_ char *pattern = ag_asprintf("%s/fuzz-agent-*-*", base);
	glob_t g;
	if (glob(pattern, GLOB_NOSORT, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		long pid = strtol(g.gl_pathv[i] + strlen(base) + strlen("/fuzz-agent-"), NULL, 10);
		if (pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH)
			fz_remove_tree(g.gl_pathv[i]);
	}
	globfree(&g);
}

/* ---- the master's side: a sink for the agent's POSTs ---- */

static void keep_ack(json_t *u)
{
	json_t *fw = json_object_get(json_object_get(u, "framework_id"), "value");
	json_t *st = json_object_get(u, "status");
	json_t *task = json_object_get(json_object_get(st, "task_id"), "value");
	json_t *uuid = json_object_get(st, "uuid");
	if (!json_is_string(fw) || !json_is_string(task) || !json_is_string(uuid))
		return;
	json_t *ack = json_pack("{s:s, s:{s:{s:O}, s:{s:O}, s:O}}", "type", "STATUS_UPDATE_ACK",
	                        "status_update_ack", "framework_id", "value", fw, "task_id",
	                        "value", task, "uuid", uuid);
	unsigned i = n_acks++ % ACKS_KEPT;
	free(acks[i]);
	acks[i] = json_dumps(ack, JSON_COMPACT);
	json_decref(ack);
}

static void on_sink(struct evhttp_request *req, void *arg)
{
	(void)arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	json_t *m = json_loadb((const char *)evbuffer_pullup(in, -1), n, 0, NULL);
	json_t *one = json_object_get(m, "status_update");
	if (one)
		keep_ack(one);
	json_t *many = json_object_get(json_object_get(m, "status_updates"), "updates");
	size_t i;
	json_t *u;
	json_array_foreach (many, i, u)
		keep_ack(u);
	json_decref(m);
	evhttp_send_reply(req, 202, "Accepted", NULL);
}

/* ---- the agent ---- */

static void turns(int n)
{
	for (int i = 0; i < n; i++)
		event_base_loop(A.base, EVLOOP_NONBLOCK);
}

/* Run the loop until fewer than `live` tasks run, for at most `ms`. */
static void drain_tasks(size_t live, int ms)
{
	for (int t = 0; t < ms && ctz_active(A.ctz) >= live; t++) {
		struct pollfd p = {.fd = ctz_fd(A.ctz), .events = POLLIN};
		poll(&p, 1, 1);
		turns(1);
	}
}

static void kill_one(void *ctx, const struct ctz_info *i)
{
	(void)ctx;
	if (!i->ended) /* without grace: nothing to record late, and -ENOENT is fine */
		AG_IGNORE_RESULT(ctz_kill(A.ctz, i->framework_id, i->task_id, 0));
}

static void sigkill_monitor(void *ctx, const struct ctz_info *i)
{
	(void)ctx;
	if (!i->ended && i->monitor_pid > 0)
		kill(i->monitor_pid, SIGKILL);
}

static void fuzz_fini(void)
{
	ctz_foreach(A.ctz, kill_one, NULL);
	drain_tasks(1, 3000);
	ctz_foreach(A.ctz, sigkill_monitor, NULL);
	event_free(ctz_ev);
	evhttp_free(sink);
	agent_fini(&A);
	/* monitors, and (as the subreaper) whatever they left */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	remove_dir();
	dir[0] = '\0';
	memset(&A, 0, sizeof(A));
	for (unsigned i = 0; i < ACKS_KEPT; i++) {
		free(acks[i]);
		acks[i] = NULL;
	}
	n_acks = 0;
}

static void fuzz_fini_at_exit(void)
{
	if (A.base)
		fuzz_fini();
}

static void fuzz_init(void)
{
	struct ag_error err = {0};
	signal(SIGPIPE, SIG_IGN);
	/* FUZZ_AGENT_LOG=debug|info|...: the agent's log, to replay an input */
	enum ag_log_level level = AG_LOG_ERROR;
	const char *lv = getenv("FUZZ_AGENT_LOG");
	if (lv && agent_flags_parse_log_level(lv, &level, &err) < 0)
		abort();
	ag_log_set_level(level);
	/* tmpfs: the database and the records fsync at every step */
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	static bool registered;
	if (!registered) {
		registered = true;
		remove_stale_dirs(base);
		/* orphans of killed monitors come back here to be reaped */
		prctl(PR_SET_CHILD_SUBREAPER, 1);
		atexit(fuzz_fini_at_exit);
	}
	snprintf(dir, sizeof(dir), "%s/fuzz-agent-%d-XXXXXX", base, (int)getpid());
	if (!mkdtemp(dir))
		abort();

	/* An image for OCI-like tasks (root.path "bb"), as in test_agentd. */
	_cleanup_free_ char *img = ag_asprintf(
	        "mkdir -p %s/images/bb/bin && cp /bin/busybox %s/images/bb/bin/ 2>/dev/null", dir,
	        dir);
	if (system(img) != 0)
		fprintf(stderr, "fuzz_agent: no /bin/busybox: OCI-like tasks find no image\n");

	/* The sink's socket first: the link takes the master's port at
	 * agent_init, which makes the loop the sink runs on. */
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof(sa);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 64) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0)
		abort();

	A.work_dir = dir;
	A.hostname = "fuzz";
	A.monitor_path = AGORA_BIN_DIR "/agora-monitor";
	A.master_host = ag_asprintf("127.0.0.1:%d", (int)ntohs(sa.sin_port));
	/* A lost link would re-register after this long: never, within a
	 * reset period; the driver feeds REGISTERED itself. */
	A.registration_backoff_ms = 3600 * 1000;
	struct ctz_capacity_config capc = {.work_dir = dir, .no_isolation = true};
	if (ctz_capacity_measure(&capc, &A.cap, &err) < 0 || agent_init(&A, 0, &err) < 0 ||
	    agent_operator_start(&A, &err) < 0 || agent_recover(&A, &err) < 0) {
		fprintf(stderr, "fuzz_agent: %s\n", err.msg);
		abort();
	}
	sink = evhttp_new(A.base);
	if (!sink || evhttp_accept_socket(sink, lfd) < 0)
		abort();
	evhttp_set_gencb(sink, on_sink, NULL);
	ctz_ev = event_new(A.base, ctz_fd(A.ctz), EV_READ | EV_PERSIST, agent_on_ctz, &A);
	event_add(ctz_ev, NULL);
}

/* ---- inputs ---- */

/* Make a RUN_TASK's process cheap: /bin/echo with the task's arguments,
 * `echo fuzz` for a shell command, `busybox echo fuzz` for an OCI-like spec.
 * Anything else is handed over as it came. */
static char *cheap_task(const char *rec, size_t len)
{
	json_t *m = json_loadb(rec, len, 0, NULL);
	json_t *task = json_object_get(json_object_get(m, "run_task"), "task");
	if (!json_is_object(task)) {
		json_decref(m);
		return NULL;
	}
	json_t *cmd = json_object_get(task, "command");
	if (json_is_object(cmd))
		json_object_set_new(cmd, "value",
		                    json_string(json_is_true(json_object_get(cmd, "shell"))
		                                        ? "echo fuzz"
		                                        : "/bin/echo"));
	json_t *proc = json_object_get(json_object_get(json_object_get(task, "container"), "oci"),
	                               "process");
	if (json_is_object(proc))
		json_object_set_new(proc, "args",
		                    json_pack("[s, s, s]", "/bin/busybox", "echo", "fuzz"));
	char *text = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	return text;
}

static int feed(void *ctx, const char *rec, size_t len)
{
	(void)ctx;
	if (!agent_ml_registered(A.link)) /* a constant REGISTERED record: decodes */
		AG_IGNORE_RESULT(agent_ml_feed_record(A.link, REGISTERED, strlen(REGISTERED)));
	if (memmem(rec, len, "RUN_TASK", 8))
		drain_tasks(MAX_LIVE, 1000);
	char *cheap = memmem(rec, len, "run_task", 8) ? cheap_task(rec, len) : NULL;
	/* A record that does not decode (-EBADMSG) or an ERROR (-EPERM) is
	 * input the agent must survive, not a failure of the harness. */
	if (cheap)
		AG_IGNORE_RESULT(agent_ml_feed_record(A.link, cheap, strlen(cheap)));
	else
		AG_IGNORE_RESULT(agent_ml_feed_record(A.link, rec, len));
	free(cheap);
	turns(2);
	return 0; /* the rest of the stream too, whatever this record did */
}

static void feed_stream(const uint8_t *data, size_t len)
{
	struct pb_recordio_reader *rd = pb_recordio_reader_new(0);
	struct ag_error err = {0};
	/* A stream the reader refuses is fuzz input like any other: what
	 * matters is what the agent did with the records before it. */
	AG_IGNORE_RESULT(pb_recordio_reader_feed(rd, data, len, feed, NULL, &err));
	pb_recordio_reader_free(rd);
}

static void operator_request(uint8_t sel, const uint8_t *data, size_t len)
{
	static const char *const methods[] = {"GET", "GET", "POST", "HEAD"};
	static const char *const prefixes[] = {"/files/read?", "/containers", "/health", ""};
	if (len > 8192)
		len = 8192;
	char target[8192 + 16];
	size_t n = (size_t)snprintf(target, 16, "%s", prefixes[(sel >> 2) & 3]);
	for (size_t i = 0; i < len; i++)
		target[n++] = data[i] <= ' ' || data[i] == 0x7f ? '+' : (char)data[i];
	target[n] = '\0';
	if (!target[0])
		snprintf(target, sizeof(target), "/");

	int fd = fz_connect(A.base, A.port, "fuzz_agent");
	_cleanup_free_ char *req =
	        ag_asprintf("%s %s HTTP/1.1\r\nHost: x\r\n%s\r\n", methods[sel & 3], target,
	                    (sel & 3) == 2 ? "Content-Length: 0\r\n" : "");
	size_t rl = strlen(req);
	if (send(fd, req, rl, MSG_NOSIGNAL) != (ssize_t)rl)
		abort();
	char resp[512];
	if (!fz_read_answer(A.base, fd, resp, sizeof(resp), 2000, 0))
		__builtin_trap(); /* the agent never answered */
	fz_close_reset(fd);
	turns(2);
}

/* A fresh agent every RESET_EVERY inputs. */
static void agent_for_next_input(void)
{
	if (A.base && ++inputs % RESET_EVERY == 0)
		fuzz_fini();
	if (!A.base)
		fuzz_init();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	agent_for_next_input();
	if (size < 1)
		return 0;
	const uint8_t *body = data + 1;
	size_t len = size - 1;
	switch (data[0] & 3) {
	case 0:
		feed(NULL, (const char *)body, len);
		break;
	case 1:
		feed_stream(body, len);
		break;
	case 2:
		operator_request(data[0] >> 2, body, len);
		break;
	case 3:
		if (n_acks) {
			unsigned have = n_acks < ACKS_KEPT ? n_acks : ACKS_KEPT;
			const char *ack = acks[(len ? body[0] : 0) % have];
			feed(NULL, ack, strlen(ack));
		}
		break;
	}
	turns(2);
	return 0;
}
