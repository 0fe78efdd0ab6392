/* libFuzzer target for the master's request handling, in-process: one
 * master (registry in a temporary work dir, HTTP on a loopback port, the
 * allocator) lives across inputs, and each input is one HTTP request to it
 * from a client socket, run on the master's loop until answered (streams
 * are cut after a few turns, which exercises the disconnect paths too).
 *
 * Input: byte 0 picks the endpoint (scheduler, agent, operator), whether
 * the request carries a Mesos-Stream-Id of a stream the master handed out
 * earlier (bit 2), and whether it leaves out the Agora-Agent-Secret header
 * with the last secret the master issued an agent (bit 3: without it the
 * agent calls are refused 403); the rest is the body. State accumulates across
 * inputs, as in a running master: frameworks and agents subscribed by one
 * input are there for the next; every RESET_EVERY inputs the master is shut
 * down (as on SIGTERM, which also checks that teardown frees everything)
 * and started afresh so that runs stay fast. A crash, a sanitizer report or
 * a request left unanswered is a finding. */
#include "common/log.h"
#include "fuzz_loop.h"
#include "master/master.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RESET_EVERY 2000

static struct ms_master M;
static char last_stream_id[64];
static char last_secret[80];
static char dir[64];
static unsigned inputs;

static void remove_dir(void)
{
	if (dir[0])
		fz_remove_tree(dir);
}

static void fuzz_fini(void)
{
	ms_http_free(M.http);
	ms_master_fini(&M);
	event_base_free(M.base);
	ms_registry_close(M.registry);
	free(M.id);
	ms_flags_free(&M.flags);
	remove_dir();
	dir[0] = '\0';
	memset(&M, 0, sizeof(M));
	last_stream_id[0] = '\0';
	last_secret[0] = '\0';
}

static void fuzz_init(void)
{
	struct ag_error err = {0};
	signal(SIGPIPE, SIG_IGN);
	ms_flags_init(&M.flags);
	ag_log_set_level(AG_LOG_ERROR);
	static bool registered;
	if (!registered) {
		registered = true;
		atexit(remove_dir);
	}
	snprintf(dir, sizeof(dir), "/tmp/fuzz-master-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	free(M.flags.work_dir);
	M.flags.work_dir = ag_strdup(dir);
	/* Re-offers within the input's loop turns, not 250ms later. */
	M.flags.allocation_batch_ns = 0;
	M.start_ns = ag_now_ns();
	if (ms_registry_open(dir, MS_REGISTRY_SYNC_NORMAL, &M.registry, NULL, &err) < 0)
		abort();
	M.id = ms_uuid();
	M.base = event_base_new();
	struct ms_http_options hopts = {.ip = "127.0.0.1", .port = 0, .max_body = 1 << 20};
	if (!M.base || ms_http_new(M.base, &hopts, &M.http, &err) < 0 ||
	    ms_master_init(&M, &err) < 0 || ms_recover_state(&M, &err) < 0 ||
	    ms_operator_routes(&M) < 0 || ms_scheduler_routes(&M) < 0 || ms_agent_routes(&M) < 0) {
		fprintf(stderr, "fuzz_master: %s\n", err.msg);
		abort();
	}
}

/* Remember a Mesos-Stream-Id the master sent, for later inputs. */
static void note_stream_id(const char *resp, size_t len)
{
	const char *h = memmem(resp, len, "Mesos-Stream-Id: ", 17);
	if (!h)
		return;
	h += 17;
	size_t n = 0;
	while (h + n < resp + len && h[n] != '\r' && n < sizeof(last_stream_id) - 1)
		n++;
	memcpy(last_stream_id, h, n);
	last_stream_id[n] = '\0';
}

/* Remember the secret of a REGISTERED the master sent. */
static void note_secret(const char *resp, size_t len)
{
	static const char key[] = "\"agent_secret\":\"";
	const char *h = memmem(resp, len, key, sizeof(key) - 1);
	if (!h)
		return;
	h += sizeof(key) - 1;
	size_t n = 0;
	while (h + n < resp + len && h[n] != '"' && n < sizeof(last_secret) - 1)
		n++;
	memcpy(last_secret, h, n);
	last_secret[n] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (M.base && ++inputs % RESET_EVERY == 0)
		fuzz_fini();
	if (!M.base)
		fuzz_init();
	if (size < 1)
		return 0;
	static const char *const paths[] = {"/api/v1/scheduler", "/api/v1/agent", "/api/v1"};
	const char *path = paths[data[0] % 3];
	bool with_sid = data[0] & 0x4;
	bool with_secret = !(data[0] & 0x8) && last_secret[0];
	const char *body = (const char *)data + 1;
	size_t len = size - 1;

	int fd = fz_connect(M.base, ms_http_port(M.http), "fuzz_master");
	char head[768];
	int n = snprintf(head, sizeof(head),
	                 "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	                 "Accept: application/json\r\n%s%s%s%s%s%sContent-Length: %zu\r\n\r\n",
	                 path, with_sid ? "Mesos-Stream-Id: " : "", with_sid ? last_stream_id : "",
	                 with_sid ? "\r\n" : "", with_secret ? "Agora-Agent-Secret: " : "",
	                 with_secret ? last_secret : "", with_secret ? "\r\n" : "", len);
	if (send(fd, head, (size_t)n, MSG_NOSIGNAL) != n ||
	    (len && send(fd, body, len, MSG_NOSIGNAL) != (ssize_t)len))
		abort();

	/* A stream answers with its head and first records and stays open:
	 * a few more turns, then the client goes away. */
	char resp[16384];
	size_t got = fz_read_answer(M.base, fd, resp, sizeof(resp), 200, 21);
	if (!got)
		__builtin_trap(); /* the master never answered */
	note_stream_id(resp, got);
	note_secret(resp, got);
	fz_close_reset(fd);
	for (int turn = 0; turn < 5; turn++)
		event_base_loop(M.base, EVLOOP_NONBLOCK);
	return 0;
}
