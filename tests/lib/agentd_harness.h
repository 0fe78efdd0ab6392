/* agentd_harness.h: a fake master for driving the real agora-agent as a
 * process: a libevent HTTP server on 127.0.0.1 (its own thread) speaking
 * the master's side of docs/agent-protocol.md. It records every status
 * update by uuid and acknowledges the second copy only (so every update
 * must be re-sent), or the first with `ack_first`. Shared by the host
 * test (tests/host/test_agentd.c), the vm-guest test and bench/agent; it
 * has no test framework in it. */
#ifndef AGORA_AGENTD_HARNESS_H
#define AGORA_AGENTD_HARNESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

struct ctz_upd_rec {
	/* `task` is the task id for framework F0, "FW/ID" for another. */
	char task[64], fw[64], tid[64], state[32], uuid[32], msg[512], reason[64];
	char healthy[8]; /* "true", "false", "" when absent */
	char check[256]; /* check_status as compact JSON, "" when absent */
	int count;
	uint64_t first_ns; /* ag_now_ns() at the first copy */
};

#define FM_MAX_UPDATES 4096
#define FM_MAX_PENDING 512

/* Every field is under `mu` once fm_start() returned. */
struct fm {
	pthread_mutex_t mu;
	struct event_base *base;
	struct evhttp *http;
	struct event *notify, *hb;
	pthread_t thread;
	int port;
	struct evhttp_request *stream;
	int registers, reregisters, heartbeats, bad;
	char last_reg[16384];
	struct ctz_upd_rec upd[FM_MAX_UPDATES];
	int n_upd;
	char *pending[FM_MAX_PENDING];
	int n_pending;
	bool drop;
	bool ack_first; /* acknowledge the first copy (benchmarks) */
	bool quiet;     /* do not print the updates' messages */
	bool silent;    /* send no heartbeats (the agent's watchdog) */
	/* Refuse (400, naming the field, as the master refuses a bad id)
	 * every STATUS_UPDATE(S) holding an update of this framework; the
	 * other updates of a refused batch are not recorded either. */
	char refuse_fw[64];
	int refused; /* requests so refused */
	/* The bodies of the other agent->master messages (EXECUTOR_MESSAGE,
	 * EXECUTOR_EXITED), one a line, as far as they fit. */
	char others[32768];
};
extern struct fm fm;

/* Listen on 127.0.0.1 (fm.port) and serve from a thread. 0 or -1. */
int fm_start(void);
/* Queue a master->agent record for the current stream. */
void fm_send(const char *json);
/* End the current stream (the agent must re-register). */
void fm_drop(void);
/* The updates of `task` in order of arrival, as "STATE STATE ...". */
void fm_states(const char *task, char *out, size_t n);
/* How many copies of `task`'s `state` arrived; -1 when none. */
int fm_count(const char *task, const char *state);
/* REGISTERs plus REREGISTERs. */
int fm_registers(void);
/* RUN_TASK for framework F0 (role "web"), `resources` a JSON array text
 * (NULL: 0.1 cpus), `command` a shell command (NULL: none), `extra` more
 * TaskInfo fields starting with ',' (may be NULL). */
void fm_run_task(const char *id, const char *user, const char *command, const char *resources,
                 const char *extra);
/* The same for framework `fw` (its updates are recorded as "FW/ID"). */
void fm_run_task_fw(const char *fw, const char *id, const char *user, const char *command,
                    const char *resources, const char *extra);

/* A port free right now on 127.0.0.1 (the kernel's pick, released). */
int ah_free_port(void);
/* GET `path` from 127.0.0.1:port: the status code (-1: no connection),
 * the body into out. */
int ah_http_get(int port, const char *path, char *out, size_t n);
/* fork+exec `bin` with `argv` (NULL-terminated, argv[0] included), its
 * stderr appended to `log`. Returns the pid. */
pid_t ah_spawn(const char *log, const char *const argv[]);
/* CLOCK_MONOTONIC seconds. */
double ah_now_s(void);

/* For tests (criterion's cr_assert, used only where this is expanded):
 * polls `cond` every 50 ms for up to `secs` seconds, then asserts it. */
#define WAIT_FOR(cond, secs)                                                                       \
	do {                                                                                       \
		double _end = ah_now_s() + (secs);                                                 \
		while (!(cond) && ah_now_s() < _end)                                               \
			usleep(50000);                                                             \
		cr_assert(cond, "timed out waiting for " #cond);                                   \
	} while (0)

#endif
