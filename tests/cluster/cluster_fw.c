/* cluster-fw: a scripted Mesos v1 framework for the cluster tier, driven
 * line by line on stdin by a shell test (tests/cluster/test_cluster.sh). It
 * speaks the scheduler API over HTTP to the master (SUBSCRIBE stream, OFFERS,
 * ACCEPT/LAUNCH, UPDATE, ACKNOWLEDGE, KILL, RECONCILE) and the operator API
 * (GET_TASKS, GET_AGENTS), acknowledges every update that carries a uuid and
 * keeps each task's history of (state, uuid) to find lost or duplicated
 * updates. Every command answers exactly one line on stdout, starting with
 * "OK" or "ERR"; a log of every event goes to stderr.
 *
 * usage: cluster-fw MASTER_IP PORT
 *
 * commands:
 *   sub [pa] [ID]           SUBSCRIBE (PARTITION_AWARE with "pa"; with the
 *                           framework id ID, or the one we had: re-subscribe),
 *                           retried for 15 s -> OK <framework id>
 *   launch TASK HOST CMD..  take an offer of agent HOST (waits up to 15 s),
 *                           ACCEPT it with one LAUNCH -> OK <agent id>
 *   launchoci TASK HOST OCI-JSON  the same, a task with that
 *                           container.oci (agora's extension)
 *   launchr TASK HOST CPUS MEM CMD..  launch with those resources (not 0.1
 *                           cpus and 16 MB)
 *   offerattrs HOST         the attributes of HOST's latest offer (waits up
 *                           to 15 s for one) -> OK <JSON array, sorted keys>
 *   agentattrs HOST         GET_AGENTS: agent_info.attributes of HOST
 *                           -> OK <JSON array, sorted keys>
 *   wait TASK STATE SECS    until the task's latest state is STATE
 *   settle TASK SECS        until the task is past STAGING/STARTING
 *                           -> OK <state> <reason> <message>
 *   kill TASK [GRACE_S]     KILL (with a kill_policy grace period)
 *   decline SECS            DECLINE every offer held (refuse_seconds SECS)
 *   reconcile [SECS]        RECONCILE all; collect answers for SECS (2)
 *                           -> OK task=STATE,... (none: no answer;
 *                           terminal acknowledged tasks are not answered)
 *   state TASK              -> OK <latest state> <reason> <message>
 *   history TASK            -> OK STATE/uuid8 ... (uuid8: first 8 chars or
 *                           "-" for master-generated updates)
 *   check                   every task: no uuid seen twice after its ack
 *                           unless marked "redelivered", no agent state
 *                           reported twice with different uuids
 *   tasks                   operator GET_TASKS -> OK task=STATE,...
 *   agents                  operator GET_AGENTS -> OK <n> host:active,...
 *   pump SECS               just process events for SECS
 *   quit
 */
#include "master_client.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint16_t port;
static struct mc_conn *stream;
static char stream_id[160];
static char fw_id[256];
static bool partition_aware;

struct ctz_updates {
	char state[40];
	char uuid[40]; /* "" for master-generated updates */
	char reason[64];
	char source[32];
};

struct task {
	char id[64];
	char agent_id[128];
	char host[64];
	struct ctz_updates h[64];
	int n;
	int redelivered; /* the same uuid delivered again (after our ack) */
	char latest[40], reason[64], message[256];
	char recon[40]; /* the state in the last reconciliation answer */
};

static struct task tasks[256];
static int n_tasks;

struct offer {
	char id[160], agent_id[128], host[64];
	json_t *resources;
};
static struct offer offers[64];
static int n_offers;
/* The attributes of each host's latest offer (offerattrs). */
static struct {
	char host[64];
	char *attrs;
} offer_attrs[16];
/* Resources of the next launch (launchr). */
static double launch_cpus = 0.1, launch_mem = 16;

static void note_offer_attrs(const char *host, const json_t *attrs)
{
	int i = 0;
	while (i < 16 && offer_attrs[i].host[0] && strcmp(offer_attrs[i].host, host) != 0)
		i++;
	if (i == 16)
		return;
	snprintf(offer_attrs[i].host, sizeof(offer_attrs[i].host), "%s", host);
	free(offer_attrs[i].attrs);
	offer_attrs[i].attrs =
	        attrs ? json_dumps(attrs, JSON_COMPACT | JSON_SORT_KEYS) : strdup("none");
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

__attribute__((format(printf, 1, 2))) static void logf_(const char *fmt, ...)
{
	va_list ap;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(stderr, "[fw %ld.%03ld] ", (long)ts.tv_sec % 1000, ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

__attribute__((format(printf, 1, 2))) static void reply(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Append to a NUL-terminated buffer of `cap` bytes, truncating. */
__attribute__((format(printf, 3, 4))) static void appendf(char *out, size_t cap, const char *fmt,
                                                          ...)
{
	size_t l = strlen(out);
	if (l + 1 >= cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out + l, cap - l, fmt, ap);
	va_end(ap);
}

static struct task *task_get(const char *id, bool create)
{
	for (int i = 0; i < n_tasks; i++)
		if (strcmp(tasks[i].id, id) == 0)
			return &tasks[i];
	if (!create || n_tasks == 256)
		return NULL;
	struct task *t = &tasks[n_tasks++];
	memset(t, 0, sizeof(*t));
	snprintf(t->id, sizeof(t->id), "%s", id);
	return t;
}

static const char *jstr(json_t *j, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *save, *k = strtok_r(buf, ".", &save); k && j; k = strtok_r(NULL, ".", &save))
		j = json_is_array(j) ? json_array_get(j, strtoul(k, NULL, 10))
		                     : json_object_get(j, k);
	return json_string_value(j);
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

/* A scheduler call on its own connection: the HTTP status (or -errno). */
static int call(const char *body)
{
	char headers[256];
	snprintf(headers, sizeof(headers),
	         "Content-Type: application/json\r\nMesos-Stream-Id: %s\r\n", stream_id);
	struct mc_response r = {0};
	int err = mc_request(port, "POST", "/api/v1/scheduler", headers, body, &r);
	if (err < 0)
		return err;
	int s = r.status;
	if (s != 202)
		logf_("call answered %d: %s <- %s", s, nz(r.body), body);
	mc_response_free(&r);
	return s;
}

/* An operator call: the parsed answer or NULL. */
static json_t *operator_call(const char *type)
{
	char body[128];
	snprintf(body, sizeof(body), "{\"type\":\"%s\"}", type);
	struct mc_response r = {0};
	int err =
	        mc_request(port, "POST", "/api/v1", "Content-Type: application/json\r\n", body, &r);
	json_t *j = NULL;
	if (err == 0 && r.status == 200)
		j = json_loads(r.body, 0, NULL);
	else
		logf_("operator %s: err %d status %d %s", type, err, r.status, nz(r.body));
	mc_response_free(&r);
	return j;
}

static void stream_drop(const char *why)
{
	if (!stream)
		return;
	logf_("stream closed: %s", why);
	mc_close(stream);
	stream = NULL;
	for (int i = 0; i < n_offers; i++)
		json_decref(offers[i].resources);
	n_offers = 0;
}

static void on_update(json_t *status)
{
	const char *tid = nz(jstr(status, "task_id.value"));
	const char *state = nz(jstr(status, "state"));
	const char *uuid = jstr(status, "uuid");
	const char *agent = jstr(status, "agent_id.value");
	struct task *t = task_get(tid, true);
	if (!t)
		return;
	bool seen = false;
	if (uuid)
		for (int i = 0; i < t->n; i++)
			if (strcmp(t->h[i].uuid, uuid) == 0)
				seen = true;
	logf_("UPDATE %s %s reason=%s source=%s uuid=%s%s msg=%s", tid, state,
	      nz(jstr(status, "reason")), nz(jstr(status, "source")), uuid ? uuid : "-",
	      seen ? " (again)" : "", nz(jstr(status, "message")));
	if (seen) {
		t->redelivered++;
	} else if (t->n < 64) {
		struct ctz_updates *u = &t->h[t->n++];
		snprintf(u->state, sizeof(u->state), "%s", state);
		snprintf(u->uuid, sizeof(u->uuid), "%s", uuid ? uuid : "");
		snprintf(u->reason, sizeof(u->reason), "%s", nz(jstr(status, "reason")));
		snprintf(u->source, sizeof(u->source), "%s", nz(jstr(status, "source")));
	}
	if (strcmp(nz(jstr(status, "reason")), "REASON_RECONCILIATION") == 0 &&
	    strcmp(nz(jstr(status, "source")), "SOURCE_MASTER") == 0 && !uuid)
		snprintf(t->recon, sizeof(t->recon), "%s", state);
	snprintf(t->latest, sizeof(t->latest), "%s", state);
	snprintf(t->reason, sizeof(t->reason), "%s", nz(jstr(status, "reason")));
	snprintf(t->message, sizeof(t->message), "%s", nz(jstr(status, "message")));
	if (agent && !t->agent_id[0])
		snprintf(t->agent_id, sizeof(t->agent_id), "%s", agent);
	if (uuid && agent) {
		char body[1024];
		snprintf(body, sizeof(body),
		         "{\"type\":\"ACKNOWLEDGE\",\"framework_id\":{\"value\":\"%s\"},"
		         "\"acknowledge\":{\"agent_id\":{\"value\":\"%s\"},\"task_id\":{\"value\":"
		         "\"%s\"},\"uuid\":\"%s\"}}",
		         fw_id, agent, tid, uuid);
		int s = call(body);
		if (s != 202)
			logf_("ACKNOWLEDGE %s %s: %d", tid, uuid, s);
	}
}

static void on_event(json_t *ev)
{
	const char *type = nz(jstr(ev, "type"));
	if (strcmp(type, "OFFERS") == 0) {
		json_t *arr = json_object_get(json_object_get(ev, "offers"), "offers");
		size_t i;
		json_t *o;
		json_array_foreach (arr, i, o) {
			if (n_offers == 64)
				break;
			struct offer *of = &offers[n_offers++];
			snprintf(of->id, sizeof(of->id), "%s", nz(jstr(o, "id.value")));
			snprintf(of->agent_id, sizeof(of->agent_id), "%s",
			         nz(jstr(o, "agent_id.value")));
			snprintf(of->host, sizeof(of->host), "%s", nz(jstr(o, "hostname")));
			of->resources = json_incref(json_object_get(o, "resources"));
			note_offer_attrs(of->host, json_object_get(o, "attributes"));
			logf_("OFFER %s from %s (%s)", of->id, of->host, of->agent_id);
		}
	} else if (strcmp(type, "RESCIND") == 0) {
		const char *id = nz(jstr(ev, "rescind.offer_id.value"));
		for (int i = 0; i < n_offers; i++)
			if (strcmp(offers[i].id, id) == 0) {
				json_decref(offers[i].resources);
				offers[i] = offers[--n_offers];
				break;
			}
		logf_("RESCIND %s", id);
	} else if (strcmp(type, "UPDATE") == 0) {
		on_update(json_object_get(json_object_get(ev, "update"), "status"));
	} else if (strcmp(type, "HEARTBEAT") == 0) {
		/* nothing */
	} else {
		char *s = json_dumps(ev, JSON_COMPACT);
		logf_("EVENT %s", s);
		free(s);
		if (strcmp(type, "ERROR") == 0)
			stream_drop("ERROR event");
	}
}

/* Process stream events for up to `ms` (or until `done` says so). */
static void pump(int ms, bool (*done)(void *), void *arg)
{
	uint64_t deadline = now_ms() + (uint64_t)ms;
	for (;;) {
		if (done && done(arg))
			return;
		uint64_t now = now_ms();
		if (now >= deadline)
			return;
		int left = (int)(deadline - now);
		if (!stream) {
			usleep((useconds_t)(left < 50 ? left : 50) * 1000);
			continue;
		}
		if (stream->len == 0) {
			struct pollfd pfd = {.fd = stream->fd, .events = POLLIN};
			int r = poll(&pfd, 1, left < 100 ? left : 100);
			if (r == 0)
				continue;
		}
		char *chunk = NULL;
		size_t len = 0;
		int err = mc_read_chunk(stream, &chunk, &len);
		if (err < 0 || len == 0) {
			free(chunk);
			stream_drop(err < 0 ? strerror(-err) : "last chunk");
			continue;
		}
		char *nl = strchr(chunk, '\n');
		json_t *j = nl ? json_loads(nl + 1, 0, NULL) : NULL;
		if (!j)
			logf_("bad record: %s", chunk);
		else
			on_event(j);
		json_decref(j);
		free(chunk);
	}
}

static bool subscribe_once(const char *id)
{
	char body[1024], idpart[300] = "", top[320] = "";
	if (id && id[0]) {
		snprintf(idpart, sizeof(idpart), "\"id\":{\"value\":\"%s\"},", id);
		snprintf(top, sizeof(top), "\"framework_id\":{\"value\":\"%s\"},", id);
	}
	snprintf(body, sizeof(body),
	         "{\"type\":\"SUBSCRIBE\",%s\"subscribe\":{\"framework_info\":{%s\"user\":"
	         "\"nobody\","
	         "\"name\":\"cluster-fw%s\",\"failover_timeout\":120,\"checkpoint\":true,"
	         "\"capabilities\":[%s]}}}",
	         top, idpart, partition_aware ? "-pa" : "",
	         partition_aware ? "{\"type\":\"PARTITION_AWARE\"}" : "");
	struct mc_conn *c = mc_connect(port);
	if (!c)
		return false;
	struct mc_response r = {0};
	if (mc_post_json(c, "/api/v1/scheduler", NULL, body, &r) < 0 || r.status != 200) {
		logf_("SUBSCRIBE: status %d", r.status);
		mc_close(c);
		return false;
	}
	const char *sid = mc_header(&r, "Mesos-Stream-Id");
	snprintf(stream_id, sizeof(stream_id), "%s", nz(sid));
	stream_drop("re-subscribing");
	stream = c;
	fw_id[0] = '\0';
	/* The first record must be SUBSCRIBED. */
	char *chunk = NULL;
	size_t len = 0;
	if (mc_read_chunk(c, &chunk, &len) < 0 || len == 0) {
		free(chunk);
		stream_drop("no SUBSCRIBED");
		return false;
	}
	char *nl = strchr(chunk, '\n');
	json_t *j = nl ? json_loads(nl + 1, 0, NULL) : NULL;
	const char *fid = jstr(j, "subscribed.framework_id.value");
	if (!fid) {
		logf_("SUBSCRIBE: first record: %s", chunk);
		json_decref(j);
		free(chunk);
		stream_drop("not SUBSCRIBED");
		return false;
	}
	snprintf(fw_id, sizeof(fw_id), "%s", fid);
	logf_("SUBSCRIBED %s stream %s", fw_id, stream_id);
	json_decref(j);
	free(chunk);
	return true;
}

static struct offer *offer_for(const char *host)
{
	for (int i = 0; i < n_offers; i++)
		if (strcmp(offers[i].host, host) == 0)
			return &offers[i];
	return NULL;
}

static bool have_offer(void *host)
{
	return offer_for(host) != NULL;
}

/* The scalar `name` of an offer's resources, 0 when absent. */
static double scalar(json_t *res, const char *name)
{
	size_t i;
	json_t *r;
	json_array_foreach (res, i, r) {
		if (strcmp(nz(jstr(r, "name")), name) == 0)
			return json_number_value(
			        json_object_get(json_object_get(r, "scalar"), "value"));
	}
	return 0;
}

/* launch TASK HOST CMD, or (oci) launchoci TASK HOST OCI-JSON: a task
 * with that container.oci and no command. */
static void cmd_launch(char *args, bool oci)
{
	char *save;
	char *tid = strtok_r(args, " ", &save);
	char *host = strtok_r(NULL, " ", &save);
	const char *cmd = save;
	if (!tid || !host || !cmd || !*cmd) {
		reply("ERR usage: launch TASK HOST CMD | launchoci TASK HOST OCI-JSON");
		return;
	}
	json_t *spec = NULL;
	if (oci) {
		json_error_t jerr;
		spec = json_loads(cmd, 0, &jerr);
		if (!spec) {
			reply("ERR bad OCI JSON: %s", jerr.text);
			return;
		}
		cmd = "true";
	}
	if (!stream) {
		json_decref(spec);
		reply("ERR not subscribed");
		return;
	}
	if (!offer_for(host)) {
		char revive[512];
		snprintf(revive, sizeof(revive),
		         "{\"type\":\"REVIVE\",\"framework_id\":{\"value\":\"%s\"}}", fw_id);
		call(revive);
	}
	pump(15000, have_offer, host);
	struct offer *of = offer_for(host);
	if (!of) {
		json_decref(spec);
		reply("ERR no offer from %s in 15 s", host);
		return;
	}
	if (scalar(of->resources, "cpus") < launch_cpus ||
	    scalar(of->resources, "mem") < launch_mem) {
		json_decref(spec);
		reply("ERR offer %s from %s too small", of->id, host);
		return;
	}
	json_t *task =
	        json_pack("{s:s, s:{s:s}, s:{s:s}, s:[{s:s, s:s, s:{s:f}}, {s:s, s:s, s:{s:f}}],"
	                  " s:{s:b, s:s}}",
	                  "name", tid, "task_id", "value", tid, "agent_id", "value", of->agent_id,
	                  "resources", "name", "cpus", "type", "SCALAR", "scalar", "value",
	                  launch_cpus, "name", "mem", "type", "SCALAR", "scalar", "value",
	                  launch_mem, "command", "shell", 1, "value", cmd);
	if (spec) {
		/* the spec's process.args run: the agent refuses a command too */
		json_object_del(task, "command");
		json_object_set_new(task, "container",
		                    json_pack("{s:s, s:o}", "type", "MESOS", "oci", spec));
	}
	json_t *body = json_pack("{s:s, s:{s:s}, s:{s:[{s:s}], s:[{s:s, s:{s:[o]}}], s:{s:f}}}",
	                         "type", "ACCEPT", "framework_id", "value", fw_id, "accept",
	                         "offer_ids", "value", of->id, "operations", "type", "LAUNCH",
	                         "launch", "task_infos", task, "filters", "refuse_seconds", 0.0);
	char *s = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	struct task *t = task_get(tid, true);
	snprintf(t->agent_id, sizeof(t->agent_id), "%s", of->agent_id);
	snprintf(t->host, sizeof(t->host), "%s", host);
	char agent[128];
	snprintf(agent, sizeof(agent), "%s", of->agent_id);
	json_decref(of->resources);
	*of = offers[--n_offers];
	int st = call(s);
	logf_("ACCEPT %s on %s: %d", tid, host, st);
	free(s);
	if (st != 202)
		reply("ERR ACCEPT answered %d", st);
	else
		reply("OK %s", agent);
}

struct want {
	struct task *t;
	const char *state;
};

static bool reached(void *arg)
{
	struct want *w = arg;
	return strcmp(w->t->latest, w->state) == 0;
}

static void cmd_wait(char *args)
{
	char tid[64], state[40];
	double secs;
	if (sscanf(args, "%63s %39s %lf", tid, state, &secs) != 3) {
		reply("ERR usage: wait TASK STATE SECS");
		return;
	}
	struct want w = {task_get(tid, true), state};
	pump((int)(secs * 1000), reached, &w);
	if (reached(&w))
		reply("OK %s", state);
	else
		reply("ERR %s is %s (reason %s: %s)", tid, w.t->latest[0] ? w.t->latest : "none",
		      w.t->reason, w.t->message);
}

static bool settled(void *arg)
{
	struct task *t = arg;
	return t->latest[0] && strcmp(t->latest, "TASK_STAGING") != 0 &&
	       strcmp(t->latest, "TASK_STARTING") != 0;
}

/* Until the task is running or ended, whichever. */
static void cmd_settle(char *args)
{
	char tid[64];
	double secs;
	if (sscanf(args, "%63s %lf", tid, &secs) != 2) {
		reply("ERR usage: settle TASK SECS");
		return;
	}
	struct task *t = task_get(tid, true);
	pump((int)(secs * 1000), settled, t);
	if (settled(t))
		reply("OK %s %s %s", t->latest, t->reason[0] ? t->reason : "-", t->message);
	else
		reply("ERR %s is %s", tid, t->latest[0] ? t->latest : "none");
}

/* DECLINE every offer held, refusing them for SECS. */
static void cmd_decline(char *args)
{
	double secs = atof(args);
	int n = 0;
	while (n_offers > 0) {
		struct offer *of = &offers[--n_offers];
		char body[1024];
		snprintf(body, sizeof(body),
		         "{\"type\":\"DECLINE\",\"framework_id\":{\"value\":\"%s\"},\"decline\":{"
		         "\"offer_ids\":[{\"value\":\"%s\"}],\"filters\":{\"refuse_seconds\":%g}}}",
		         fw_id, of->id, secs);
		json_decref(of->resources);
		if (call(body) == 202)
			n++;
	}
	reply("OK %d", n);
}

static void cmd_kill(char *args)
{
	struct task *t = task_get(strtok(args, " "), false);
	const char *grace = strtok(NULL, " ");
	if (!t) {
		reply("ERR unknown task");
		return;
	}
	char body[1024], policy[128] = "";
	if (grace)
		snprintf(policy, sizeof(policy),
		         ",\"kill_policy\":{\"grace_period\":{\"nanoseconds\":%lld}}",
		         (long long)(atof(grace) * 1e9));
	snprintf(body, sizeof(body),
	         "{\"type\":\"KILL\",\"framework_id\":{\"value\":\"%s\"},\"kill\":{\"task_id\":{"
	         "\"value\":\"%s\"},\"agent_id\":{\"value\":\"%s\"}%s}}",
	         fw_id, t->id, t->agent_id, policy);
	int s = call(body);
	if (s == 202)
		reply("OK");
	else
		reply("ERR KILL answered %d", s);
}

/* task=STATE,... of a GET_TASKS list into out. */
static void list_tasks(json_t *arr, const char *tag, char *out, size_t cap)
{
	size_t i;
	json_t *t;
	json_array_foreach (arr, i, t) {
		size_t l = strlen(out);
		snprintf(out + l, cap - l, "%s%s=%s%s", l ? "," : "", nz(jstr(t, "task_id.value")),
		         nz(jstr(t, "state")), tag);
	}
}

static void cmd_tasks(void)
{
	json_t *j = operator_call("GET_TASKS");
	if (!j) {
		reply("ERR GET_TASKS failed");
		return;
	}
	json_t *g = json_object_get(j, "get_tasks");
	char out[8192] = "";
	list_tasks(json_object_get(g, "tasks"), "", out, sizeof(out));
	list_tasks(json_object_get(g, "unreachable_tasks"), "(unreachable)", out, sizeof(out));
	list_tasks(json_object_get(g, "completed_tasks"), "(completed)", out, sizeof(out));
	json_decref(j);
	reply("OK %s", out);
}

static void cmd_agents(void)
{
	json_t *j = operator_call("GET_AGENTS");
	if (!j) {
		reply("ERR GET_AGENTS failed");
		return;
	}
	json_t *arr = json_object_get(json_object_get(j, "get_agents"), "agents");
	char out[4096] = "";
	size_t i;
	json_t *a;
	json_array_foreach (arr, i, a) {
		size_t l = strlen(out);
		snprintf(out + l, sizeof(out) - l, "%s%s:%s", l ? "," : "",
		         nz(jstr(a, "agent_info.hostname")),
		         json_is_true(json_object_get(a, "active")) ? "active" : "inactive");
	}
	size_t n = json_array_size(arr);
	json_decref(j);
	reply("OK %zu %s", n, out);
}

static void cmd_offerattrs(const char *host)
{
	if (!offer_for(host)) {
		char revive[512];
		snprintf(revive, sizeof(revive),
		         "{\"type\":\"REVIVE\",\"framework_id\":{\"value\":\"%s\"}}", fw_id);
		call(revive);
	}
	pump(15000, have_offer, (void *)host);
	for (int i = 0; i < 16; i++)
		if (offer_attrs[i].attrs && strcmp(offer_attrs[i].host, host) == 0) {
			reply("OK %s", offer_attrs[i].attrs);
			return;
		}
	reply("ERR no offer from %s in 15 s", host);
}

static void cmd_agentattrs(const char *host)
{
	json_t *j = operator_call("GET_AGENTS");
	if (!j) {
		reply("ERR GET_AGENTS failed");
		return;
	}
	json_t *arr = json_object_get(json_object_get(j, "get_agents"), "agents");
	size_t i;
	json_t *a;
	json_array_foreach (arr, i, a) {
		if (strcmp(nz(jstr(a, "agent_info.hostname")), host) != 0)
			continue;
		json_t *at = json_object_get(json_object_get(a, "agent_info"), "attributes");
		char *s = at ? json_dumps(at, JSON_COMPACT | JSON_SORT_KEYS) : strdup("none");
		reply("OK %s", s);
		free(s);
		json_decref(j);
		return;
	}
	json_decref(j);
	reply("ERR no agent %s", host);
}

static __attribute__((noinline)) void cmd_reconcile(char *args)
{
	double secs = 2;
	sscanf(args, "%lf", &secs);
	char body[512];
	snprintf(body, sizeof(body),
	         "{\"type\":\"RECONCILE\",\"framework_id\":{\"value\":\"%s\"},\"reconcile\":{"
	         "\"tasks\":[]}}",
	         fw_id);
	for (int i = 0; i < n_tasks; i++)
		tasks[i].recon[0] = '\0';
	int s = call(body);
	if (s != 202) {
		reply("ERR RECONCILE answered %d", s);
		return;
	}
	pump((int)(secs * 1000), NULL, NULL);
	char out[8192] = "";
	for (int i = 0; i < n_tasks; i++) {
		size_t l = strlen(out);
		int w = snprintf(out + l, sizeof(out) - l, "%s%s=%s", l ? "," : "", tasks[i].id,
		                 tasks[i].recon[0] ? tasks[i].recon : "none");
		if (w < 0 || (size_t)w >= sizeof(out) - l) {
			out[l] = '\0'; /* full: whole entries only */
			break;
		}
	}
	reply("OK %s", out);
}

static void cmd_history(char *args)
{
	struct task *t = task_get(strtok(args, " "), false);
	if (!t) {
		reply("ERR unknown task");
		return;
	}
	char out[4096] = "";
	for (int i = 0; i < t->n; i++) {
		size_t l = strlen(out);
		snprintf(out + l, sizeof(out) - l, "%s%s/%.8s", l ? " " : "", t->h[i].state,
		         t->h[i].uuid[0] ? t->h[i].uuid : "-");
	}
	reply("OK %s redelivered=%d", out, t->redelivered);
}

/* Agent updates (with a uuid): each state at most once per task. Master
 * updates (no uuid: reconciliation, loss) are not counted. */
static void cmd_check(void)
{
	char out[4096] = "";
	for (int i = 0; i < n_tasks; i++) {
		struct task *t = &tasks[i];
		for (int a = 0; a < t->n; a++)
			for (int b = a + 1; b < t->n; b++)
				if (t->h[a].uuid[0] && t->h[b].uuid[0] &&
				    strcmp(t->h[a].state, t->h[b].state) == 0) {
					appendf(out, sizeof(out), "%s%s: %s twice (uuids %s %s)",
					        out[0] ? "; " : "", t->id, t->h[a].state,
					        t->h[a].uuid, t->h[b].uuid);
				}
	}
	if (out[0])
		reply("ERR %s", out);
	else
		reply("OK");
}

int main(int argc, char **argv)
{
	if (argc != 3 || mc_set_addr(argv[1]) < 0) {
		fprintf(stderr, "usage: cluster-fw MASTER_IP PORT\n");
		return 2;
	}
	port = (uint16_t)atoi(argv[2]);
	setvbuf(stderr, NULL, _IOLBF, 0);
	char line[4096];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		logf_("> %s", line);
		char *sp = strchr(line, ' ');
		char *args = sp ? sp + 1 : line + strlen(line);
		if (sp)
			*sp = '\0';
		if (strcmp(line, "sub") == 0) {
			char *a = strtok(args, " ");
			if (a && strcmp(a, "pa") == 0) {
				partition_aware = true;
				a = strtok(NULL, " ");
			}
			char id[256];
			snprintf(id, sizeof(id), "%s", a ? a : fw_id);
			uint64_t deadline = now_ms() + 15000;
			bool ok = false;
			while (!(ok = subscribe_once(id)) && now_ms() < deadline)
				usleep(200000);
			if (ok)
				reply("OK %s", fw_id);
			else
				reply("ERR SUBSCRIBE failed for 15 s");
		} else if (strcmp(line, "launch") == 0) {
			cmd_launch(args, false);
		} else if (strcmp(line, "launchoci") == 0) {
			cmd_launch(args, true);
		} else if (strcmp(line, "launchr") == 0) {
			/* TASK HOST CPUS MEM CMD..: drop CPUS MEM from the line */
			char tid[256], host[64], rest[4096];
			int used = 0;
			if (sscanf(args, "%255s %63s %lf %lf %n", tid, host, &launch_cpus,
			           &launch_mem, &used) < 4 ||
			    !args[used]) {
				reply("ERR usage: launchr TASK HOST CPUS MEM CMD..");
			} else {
				snprintf(rest, sizeof(rest), "%s %s %s", tid, host, args + used);
				cmd_launch(rest, false);
			}
			launch_cpus = 0.1;
			launch_mem = 16;
		} else if (strcmp(line, "offerattrs") == 0) {
			cmd_offerattrs(args);
		} else if (strcmp(line, "agentattrs") == 0) {
			cmd_agentattrs(args);
		} else if (strcmp(line, "wait") == 0) {
			cmd_wait(args);
		} else if (strcmp(line, "settle") == 0) {
			cmd_settle(args);
		} else if (strcmp(line, "decline") == 0) {
			cmd_decline(args);
		} else if (strcmp(line, "kill") == 0) {
			cmd_kill(args);
		} else if (strcmp(line, "reconcile") == 0) {
			cmd_reconcile(args);
		} else if (strcmp(line, "state") == 0) {
			struct task *t = task_get(args, false);
			if (t)
				reply("OK %s %s %s", t->latest[0] ? t->latest : "none",
				      t->reason[0] ? t->reason : "-", t->message);
			else
				reply("ERR unknown task");
		} else if (strcmp(line, "history") == 0) {
			cmd_history(args);
		} else if (strcmp(line, "check") == 0) {
			cmd_check();
		} else if (strcmp(line, "tasks") == 0) {
			cmd_tasks();
		} else if (strcmp(line, "agents") == 0) {
			cmd_agents();
		} else if (strcmp(line, "pump") == 0) {
			pump((int)(atof(args) * 1000), NULL, NULL);
			reply("OK");
		} else if (strcmp(line, "quit") == 0) {
			reply("OK");
			break;
		} else {
			reply("ERR unknown command %s", line);
		}
	}
	stream_drop("quit");
	return 0;
}
