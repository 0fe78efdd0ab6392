/* master_sim.h: agora-master as a process for criterion tests, with a
 * simulated agent (docs/agent-protocol.md) and scripted framework and
 * operator peers over real loopback sockets.
 *
 * One master per test process (criterion forks a process per test): the
 * sim_* globals describe it. Failures are criterion assertions. */
#ifndef AGORA_TEST_MASTER_SIM_H
#define AGORA_TEST_MASTER_SIM_H

#include "master_client.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

extern char sim_dir[256];      /* the test's temporary directory */
extern char sim_work_dir[300]; /* the master's --work_dir, inside it */
extern char sim_log_path[300]; /* the master's stderr, all its runs, inside it */
extern uint16_t sim_port;      /* the master's port once started */
extern pid_t sim_master_pid;

/* A temporary directory; sim_fini() kills the master (SIGKILL), closes every
 * peer and removes the directory. */
void sim_init(void);
void sim_fini(void);
/* Start agora-master (AGORA_BUILD_DIR/bin, else build/bin) with a 1 s
 * heartbeat and 200 ms allocation interval, plus the NULL-terminated
 * `args` (may be NULL); `fixed_port` 0: a free port. Waits for its port. */
void sim_start_master(const char *const *args, uint16_t fixed_port);
/* SIGKILL it and reap it. */
void sim_kill_master(void);
/* Close every connection, stop the master with SIGTERM and assert that it
 * exited 0 with no sanitizer report in its log (in a sanitizer build, a
 * leak in what the test drove fails it). */
void sim_stop_master_clean(void);

struct sim_peer {
	struct mc_conn *c;
	char stream_id[128];
	char id[256]; /* framework or agent id */
	const char *path;
	json_t *backlog; /* records read while waiting for another type */
};

/* POST `body` to `path` and keep the connection as a stream; the HTTP
 * status. */
int sim_peer_open(struct sim_peer *p, const char *path, const char *body);
/* The same with extra header lines (each ending in \r\n; may be NULL). */
int sim_peer_open_headers(struct sim_peer *p, const char *path, const char *headers,
                          const char *body);
void sim_peer_close(struct sim_peer *p);
/* The next record of type `type` (NULL: of any type) within `ms`, first
 * from the backlog of records read while waiting for another type
 * (HEARTBEATs are dropped);
 * NULL on timeout or end of stream. A chunk that is not exactly one
 * record fails the test. The caller frees it with json_decref(). */
json_t *sim_peer_next(struct sim_peer *p, const char *type, int ms);
/* Drop the backlog's records of `type` (NULL: all). */
void sim_peer_forget(struct sim_peer *p, const char *type);
/* A call with the peer's stream id, on its own connection: the status;
 * the body (malloc'ed) in *ret when ret is not NULL. */
int sim_peer_call(struct sim_peer *p, const char *body, char **ret);

/* The value at a dotted path ("a.0.b": object keys, a number selects an
 * array element); NULL when absent. */
json_t *sim_jget(json_t *j, const char *path);
/* The string at a dotted path; NULL when absent or not a string. */
const char *sim_jstr(json_t *j, const char *path);
/* The id of the first offer of `f`'s next OFFERS within `ms` (asserting
 * that one came), into ret_offer. */
void sim_next_offer(struct sim_peer *f, int ms, char ret_offer[static 256]);
/* sim_start_master(NULL, 0), an agent `hostname` with SIM_AGENT_RES
 * registered as `a` and a new framework `f`. */
void sim_start_with(struct sim_peer *a, const char *hostname, struct sim_peer *f);
/* sim_start_with() and the id of the framework's first offer. */
void sim_start_offered(struct sim_peer *a, const char *hostname, struct sim_peer *f,
                       char ret_offer[static 256]);
/* A line of the master's log (sim_log_path) matches the extended regex
 * `ere`. */
bool sim_log_has(const char *ere);
/* The sum of the scalar resource `name` in an OFFERS event's first offer. */
double sim_offered(json_t *ev, const char *name);

/* The header of the agent secret (docs/agent-protocol.md, Agent secret). */
#define SIM_SECRET_HEADER "Agora-Agent-Secret"
/* The secret the master issued the simulated agent `id` (read from its
 * REGISTERED; kept until sim_init()), "" when none. The agent's calls
 * (sim_peer_call on the agent endpoint) and re-registrations carry it. */
const char *sim_agent_secret(const char *id);

/* Register a simulated agent named `hostname` with `resources` (JSON
 * array); its id in a->id. */
void sim_agent_register(struct sim_peer *a, const char *hostname, const char *resources);
/* The same with a whole AgentInfo (JSON object text), for the fields
 * sim_agent_register() does not write (attributes). */
void sim_agent_register_info(struct sim_peer *a, const char *agent_info);
/* Re-register with its id, reporting `tasks_json` (a JSON array of
 * {framework_id, task, status}) and `frameworks_json` (FrameworkInfos). */
void sim_agent_reregister(struct sim_peer *a, const char *hostname, const char *resources,
                          const char *frameworks_json, const char *tasks_json);
/* The same with the payload's registration_order set to `order` (JSON
 * object text; NULL: none, as sim_agent_reregister()). */
void sim_agent_reregister_order(struct sim_peer *a, const char *hostname, const char *resources,
                                const char *frameworks_json, const char *tasks_json,
                                const char *order);
/* The body sim_agent_reregister_order() sends for agent `id`, to send
 * otherwise (a registration the master should refuse). The caller frees it. */
char *sim_agent_reregister_body(const char *id, const char *hostname, const char *resources,
                                const char *frameworks_json, const char *tasks_json,
                                const char *order);
/* A STATUS_UPDATE for `task` of `fw` in `state` with `uuid` (base64). */
int sim_agent_update(struct sim_peer *a, const char *fw, const char *task, const char *state,
                     const char *uuid);

/* A new framework (no id) or a re-subscription; caps is a JSON list body
 * (may be NULL). Its failover_timeout is 30 s. */
void sim_fw_subscribe(struct sim_peer *f, const char *id, const char *caps);
/* The same with a failover_timeout of `failover_secs`. */
void sim_fw_subscribe_failover(struct sim_peer *f, const char *id, const char *caps,
                               double failover_secs);
int sim_fw_call(struct sim_peer *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The framework's TEARDOWN call: its HTTP status. */
int sim_fw_teardown(struct sim_peer *f);
/* The framework's next UPDATE within 3 s (asserted to come) is of a task
 * in `state` (expected). */
void sim_expect_update(struct sim_peer *f, const char *state);
/* ACCEPT `offer` with one command task `task` using `cpus`, refusing
 * nothing (refuse_seconds 0): what is left of the offer comes back at the
 * next allocation. The HTTP status. */
int sim_fw_launch(struct sim_peer *f, const char *offer, const char *agent, const char *task,
                  const char *cpus, const char *extra_task_fields);
/* ACCEPT `offer` with one LAUNCH of the `n` command tasks `tasks` (ids) on
 * `agent`, each using `cpus` and with `extra_task_fields` (may be NULL),
 * and `filters` (a Filters object; NULL: none, so that Mesos's default
 * 5 s refusal applies to what is left of the offer). The HTTP status. */
int sim_fw_launch_tasks(struct sim_peer *f, const char *offer, const char *agent,
                        const char *const *tasks, size_t n, const char *cpus,
                        const char *extra_task_fields, const char *filters);
int sim_fw_ack(struct sim_peer *f, const char *agent, const char *task, const char *uuid);

/* An operator call: the parsed body (NULL when not JSON), the status in
 * *status, the raw response head in `head` when not NULL. */
json_t *sim_op_call(const char *body, int *status, char *head, size_t head_len);
/* An operator call of the body that `fmt` formats, whose answer is
 * dropped: its status. */
int sim_op_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* SUBSCRIBE with `body` (200, asserted) and the framework id of its
 * SUBSCRIBED (asserted to come) in f->id. */
void sim_fw_subscribe_body(struct sim_peer *f, const char *body);
/* SUBSCRIBE as the framework `id` (user root, name fw), asserting the 200;
 * what comes on the stream is the caller's to read. */
void sim_fw_open_as(struct sim_peer *f, const char *id);
/* The answer to GET_TASKS (asserting 200); json_decref() it. */
json_t *sim_get_tasks(void);
/* The state of `task` in a GET_TASKS answer's list `list` (tasks,
 * unreachable_tasks, completed_tasks), NULL when it is not there. */
const char *sim_listed(json_t *gt, const char *list, const char *task);
/* The GetAgents.Agent of `agent_id` from GET_AGENTS; NULL when not listed. */
json_t *sim_get_agent(const char *agent_id);

extern const char *const SIM_UUIDS[4];
#define SIM_AGENT_RES "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":2}}]"

#endif
