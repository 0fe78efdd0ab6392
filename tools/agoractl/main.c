/* agoractl: the operator's command line for an agora cluster. Reads the
 * master's operator API (POST /api/v1) and the agents' endpoints
 * (/containers, /files/read); `run` submits one task through the framework
 * SDK. Tables by default, --json for scripts. */
#include "tools/agoractl/agoractl.h"

#include "proto/proto.h"

#include <string.h>
#include <strings.h>

/* Set while agents are asked for what the master forgot (tasks --all):
 * an agent without endpoints is then not an error. */
static bool agents_quiet;

static void usage(FILE *f)
{
	fputs("usage: agoractl [--master HOST:PORT] [--json] [-q] [--no-trunc] COMMAND [ARGS]\n"
	      "\n"
	      "  agents                     agents of the cluster\n"
	      "  frameworks                 frameworks\n"
	      "  tasks [--all]              tasks (--all: with completed and unreachable ones)\n"
	      "  roles                      roles, their weights and allocations\n"
	      "  inspect ID                 the master's full record of a task, agent or "
	      "framework\n"
	      "  containers                 containers, from every agent's /containers\n"
	      "  logs TASK [-f] [--tail N] [--stderr]   a task's output\n"
	      "  stats TASK                 a task's container statistics\n"
	      "  kill TASK [--grace D]      kill a task (operator KILL_TASK); D: its grace "
	      "period\n"
	      "                             (10s, 1m, 500ms; default: the task's kill policy)\n"
	      "  weights set ROLE WEIGHT    set a role's weight\n"
	      "  teardown FRAMEWORK         kill a framework's tasks and remove it\n"
	      "  drain AGENT [--timeout D] [--mark-gone]\n"
	      "                             no new tasks there, kill its tasks (grace at most "
	      "D),\n"
	      "                             then drained (and gone with --mark-gone)\n"
	      "  deactivate AGENT           no new offers from an agent; its tasks keep running\n"
	      "  reactivate AGENT           end a drain or a deactivation\n"
	      "  gone AGENT                 mark an agent gone for good (its tasks are lost)\n"
	      "  run [OPTIONS] -- CMD...    run one task, stream its states and output, exit with\n"
	      "                             its status (agoractl run --help)\n"
	      "\n"
	      "IDs may be given in full, in their short form, or as a unique prefix.\n"
	      "Options: --master (or AGORA_MASTER; default 127.0.0.1:5050; HOST:PORT,HOST:PORT,... "
	      "tries each\n"
	      "and follows a standby's 307; zk://HOST:PORT,.../PATH asks ZooKeeper for the "
	      "leader), --json (stable machine\n"
	      "output), -q (ids only), --no-trunc (full ids, RFC 3339 times), --rfc3339.\n"
	      "Exit codes: 0 ok, 1 refused or not found, 2 usage, 3 master or agent unreachable.\n",
	      f);
}

static double ns_time(const json_t *t)
{
	return (double)json_integer_value(json_object_get(t, "nanoseconds")) / 1e9;
}

static bool id_matches(const char *id, const char *q, bool *exact)
{
	*exact = strcmp(id, q) == 0;
	if (*exact || strncmp(id, q, strlen(q)) == 0)
		return true;
	size_t n = strlen(id);
	if (n > 37 && id[8] == '-' && id[36] == '-') {
		char s[128];
		snprintf(s, sizeof(s), "%.8s%s", id, id + 36);
		return strcmp(s, q) == 0;
	}
	return false;
}

/* The one element of `arr` whose `key` id matches `q`; NULL when none or
 * several (*n_matches says which). */
static json_t *find_one(json_t *arr, const char *key, const char *q, int *n_matches)
{
	json_t *found = NULL, *e;
	size_t i;
	*n_matches = 0;
	json_array_foreach (arr, i, e) {
		const char *id = key ? ctl_id(e, key) : NULL;
		if (!key)
			id = ctl_id(json_object_get(e, "agent_info"), "id");
		bool exact;
		if (id && id_matches(id, q, &exact)) {
			if (exact) {
				*n_matches = 1;
				return e;
			}
			found = e;
			(*n_matches)++;
		}
	}
	return *n_matches == 1 ? found : NULL;
}

static json_t *get(struct ctl *c, const char *type, const char *key, int *rc)
{
	json_t *r = NULL;
	*rc = ctl_operator(c, type, NULL, &r);
	if (*rc)
		return NULL;
	json_t *p = json_incref(json_object_get(r, key));
	json_decref(r);
	if (!p) {
		fprintf(stderr, "agoractl: the master's %s reply has no `%s`\n", type, key);
		*rc = CTL_ERR;
	}
	return p;
}

static json_t *agent_containers(const json_t *a, int *rc);
static const char *field(const json_t *o, const char *k1, const char *k2);

/* The master keeps a bounded list of ended tasks per framework
 * (--max_completed_tasks_per_framework); the agents keep a task's container
 * until sandbox GC. Add the tasks only the agents still have, as they have
 * them, to `tasks` (marked "source":"agent"). A task is the same when both
 * its id and its framework match (two frameworks may use one id). */
static void add_agent_tasks(struct ctl *c, json_t *tasks)
{
	int rc;
	json_t *g = get(c, "GET_AGENTS", "get_agents", &rc), *a;
	size_t i;
	agents_quiet = true;
	json_array_foreach (json_object_get(g, "agents"), i, a) {
		json_t *cs = agent_containers(a, &rc), *ct, *t;
		size_t k, m;
		json_array_foreach (cs, k, ct) {
			const char *tid = field(ct, "task_id", "task"),
			           *fid = field(ct, "framework_id", "framework");
			bool known = false;
			json_array_foreach (tasks, m, t)
				if (tid && strcmp(ctl_id(t, "task_id") ?: "", tid) == 0 &&
				    (!fid || strcmp(ctl_id(t, "framework_id") ?: "", fid) == 0))
					known = true;
			if (!tid || known)
				continue;
			json_t *nt = json_pack(
			        "{s:o, s:o, s:s?, s:s}", "task_id", pb_id_to_json(tid), "agent_id",
			        json_incref(
			                json_object_get(json_object_get(a, "agent_info"), "id")),
			        "state", field(ct, "state", "status"), "source", "agent");
			if (fid)
				json_object_set_new(nt, "framework_id", pb_id_to_json(fid));
			json_array_append_new(tasks, nt);
		}
		json_decref(cs);
	}
	agents_quiet = false;
	json_decref(g);
}

static json_t *all_tasks(struct ctl *c, bool all, int *rc)
{
	json_t *g = get(c, "GET_TASKS", "get_tasks", rc);
	if (!g)
		return NULL;
	json_t *out = json_array();
	const char *lists[] = {"tasks", "unreachable_tasks", "completed_tasks"};
	for (size_t k = 0; k < (all ? 3u : 1u); k++)
		json_array_extend(out, json_object_get(g, lists[k]));
	json_decref(g);
	if (all)
		add_agent_tasks(c, out);
	return out;
}

json_t *ctl_find_task(struct ctl *c, const char *id, int *rc)
{
	json_t *tasks = all_tasks(c, true, rc);
	if (!tasks)
		return NULL;
	int n;
	json_t *t = json_incref(find_one(tasks, "task_id", id, &n));
	json_decref(tasks);
	if (!t) {
		fprintf(stderr, "agoractl: %s task `%s`%s\n", n ? "more than one" : "no", id,
		        n ? ": give more of its id" : " at the master (see agoractl tasks --all)");
		*rc = CTL_ERR;
	}
	return t;
}

static double last_update(const json_t *t)
{
	json_t *st = json_object_get(t, "statuses");
	size_t n = json_array_size(st);
	return n ? json_number_value(json_object_get(json_array_get(st, n - 1), "timestamp")) : 0;
}

/* The end of every list verb: the JSON array (--json) or the table
 * (unless -q printed bare ids), then both trees freed. */
static int list_finish(struct ctl *c, struct ctl_table *tb, json_t *out, json_t *g)
{
	if (c->json)
		ctl_print_json(out);
	ctl_table_done(tb, !c->json && !c->quiet);
	json_decref(out);
	json_decref(g);
	return CTL_OK;
}

static int cmd_tasks(struct ctl *c)
{
	int rc;
	json_t *tasks = all_tasks(c, c->all, &rc);
	if (!tasks)
		return rc;
	struct ctl_table tb;
	ctl_table_init(&tb, 6, "TASK ID", "NAME", "STATE", "FRAMEWORK", "AGENT", "UPDATED");
	json_t *out = json_array(), *t;
	size_t i;
	json_array_foreach (tasks, i, t) {
		const char *id = ctl_id(t, "task_id"),
		           *st = json_string_value(json_object_get(t, "state"));
		const char *fw = ctl_id(t, "framework_id"), *ag = ctl_id(t, "agent_id");
		const char *name = json_string_value(json_object_get(t, "name"));
		double up = last_update(t);
		if (c->quiet) {
			puts(id);
			continue;
		}
		json_array_append_new(out,
		                      json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:f, s:s}", "id",
		                                id, "name", name, "state", st, "framework_id", fw,
		                                "agent_id", ag, "updated", up, "source",
		                                json_object_get(t, "source") ? "agent" : "master"));
		_cleanup_free_ char *sid = ctl_short_id(c, id), *sfw = ctl_short_id(c, fw),
		                    *sag = ctl_short_id(c, ag), *tm = ctl_time(c, up),
		                    *sname = ctl_short_id(c, name);
		ctl_table_add(&tb, sid, sname, st && !strncmp(st, "TASK_", 5) ? st + 5 : st, sfw,
		              sag, tm);
	}
	if (c->json)
		ctl_print_json(out);
	ctl_table_done(&tb, !c->json && !c->quiet);
	json_decref(out);
	json_decref(tasks);
	return CTL_OK;
}

static int cmd_agents(struct ctl *c)
{
	int rc;
	json_t *g = get(c, "GET_AGENTS", "get_agents", &rc);
	if (!g)
		return rc;
	struct ctl_table tb;
	ctl_table_init(&tb, 7, "AGENT ID", "HOSTNAME", "ADDRESS", "CPUS", "MEM", "STATE",
	               "REGISTERED");
	json_t *out = json_array(), *a;
	size_t i;
	json_array_foreach (json_object_get(g, "agents"), i, a) {
		json_t *ai = json_object_get(a, "agent_info");
		const char *id = ctl_id(ai, "id"),
		           *host = json_string_value(json_object_get(ai, "hostname"));
		/* The agent's address: the host of its pid ("slave(1)@ip:port"),
		 * and its operator port when it serves one. */
		const char *pid = json_string_value(json_object_get(a, "pid"));
		const char *at = pid ? strchr(pid, '@') : NULL;
		int aport = (int)json_integer_value(json_object_get(ai, "port"));
		_cleanup_free_ char *addr =
		        !at ? NULL
		        : aport > 0
		                ? ag_asprintf("%.*s:%d", (int)strcspn(at + 1, ":"), at + 1, aport)
		                : ag_asprintf("%.*s", (int)strcspn(at + 1, ":"), at + 1);
		json_t *total = json_object_get(a, "total_resources");
		json_t *alloc = json_object_get(a, "allocated_resources");
		bool active = json_is_true(json_object_get(a, "active"));
		const char *state = active ? "active" : "inactive";
		const char *drain = json_string_value(
		        json_object_get(json_object_get(a, "drain_info"), "state"));
		if (drain && strcmp(drain, "DRAINED") == 0)
			state = "drained";
		else if (drain)
			state = "draining";
		else if (json_is_true(json_object_get(a, "deactivated")))
			state = "deactivated";
		double reg = ns_time(json_object_get(a, "registered_time"));
		if (c->quiet) {
			puts(id);
			continue;
		}
		json_array_append_new(
		        out, json_pack("{s:s?, s:s?, s:s?, s:i, s:f, s:f, s:f, s:f, s:s, s:f}",
		                       "id", id, "hostname", host, "address", addr, "port",
		                       (int)json_integer_value(json_object_get(ai, "port")), "cpus",
		                       ctl_scalar(total, "cpus"), "cpus_allocated",
		                       ctl_scalar(alloc, "cpus"), "mem", ctl_scalar(total, "mem"),
		                       "mem_allocated", ctl_scalar(alloc, "mem"), "state", state,
		                       "registered", reg));
		_cleanup_free_ char *sid = ctl_short_id(c, id), *tm = ctl_time(c, reg);
		_cleanup_free_ char *cpus = ag_asprintf("%.2g/%.2g", ctl_scalar(alloc, "cpus"),
		                                        ctl_scalar(total, "cpus"));
		_cleanup_free_ char *mem = ag_asprintf("%.0f/%.0f MiB", ctl_scalar(alloc, "mem"),
		                                       ctl_scalar(total, "mem"));
		ctl_table_add(&tb, sid, host, addr, cpus, mem, state, tm);
	}
	return list_finish(c, &tb, out, g);
}

static int cmd_frameworks(struct ctl *c)
{
	int rc;
	json_t *g = get(c, "GET_FRAMEWORKS", "get_frameworks", &rc);
	if (!g)
		return rc;
	struct ctl_table tb;
	ctl_table_init(&tb, 6, "FRAMEWORK ID", "NAME", "USER", "ROLE", "STATE", "REGISTERED");
	json_t *out = json_array(), *f;
	size_t i;
	json_array_foreach (json_object_get(g, "frameworks"), i, f) {
		json_t *fi = json_object_get(f, "framework_info");
		const char *id = ctl_id(fi, "id"),
		           *name = json_string_value(json_object_get(fi, "name"));
		const char *user = json_string_value(json_object_get(fi, "user"));
		const char *role = json_string_value(json_object_get(fi, "role"));
		json_t *roles = json_object_get(fi, "roles");
		_cleanup_free_ char *rl = NULL;
		if (!role && json_array_size(roles)) {
			json_t *r;
			size_t k;
			json_array_foreach (roles, k, r) {
				char *n = ag_asprintf("%s%s%s", rl ? rl : "", rl ? "," : "",
				                      json_string_value(r));
				free(rl);
				rl = n;
			}
			role = rl;
		}
		const char *state = json_is_true(json_object_get(f, "connected")) ? "connected"
		                    : json_is_true(json_object_get(f, "active"))  ? "disconnected"
		                                                                  : "inactive";
		double reg = ns_time(json_object_get(f, "registered_time"));
		if (c->quiet) {
			puts(id);
			continue;
		}
		json_array_append_new(out, json_pack("{s:s?, s:s?, s:s?, s:s?, s:s, s:f}", "id", id,
		                                     "name", name, "user", user, "role", role,
		                                     "state", state, "registered", reg));
		_cleanup_free_ char *sid = ctl_short_id(c, id), *tm = ctl_time(c, reg);
		ctl_table_add(&tb, sid, name, user, role, state, tm);
	}
	return list_finish(c, &tb, out, g);
}

static int cmd_roles(struct ctl *c)
{
	int rc;
	json_t *g = get(c, "GET_ROLES", "get_roles", &rc);
	if (!g)
		return rc;
	struct ctl_table tb;
	ctl_table_init(&tb, 5, "ROLE", "WEIGHT", "FRAMEWORKS", "CPUS", "MEM");
	json_t *out = json_array(), *r;
	size_t i;
	json_array_foreach (json_object_get(g, "roles"), i, r) {
		const char *name = json_string_value(json_object_get(r, "name"));
		double w = json_number_value(json_object_get(r, "weight"));
		size_t nf = json_array_size(json_object_get(r, "frameworks"));
		json_t *res = json_object_get(r, "resources");
		if (c->quiet) {
			puts(name);
			continue;
		}
		json_array_append_new(out, json_pack("{s:s?, s:f, s:i, s:f, s:f}", "name", name,
		                                     "weight", w, "frameworks", (int)nf, "cpus",
		                                     ctl_scalar(res, "cpus"), "mem",
		                                     ctl_scalar(res, "mem")));
		_cleanup_free_ char *ws = ag_asprintf("%g", w), *fs = ag_asprintf("%zu", nf);
		_cleanup_free_ char *cs = ag_asprintf("%g", ctl_scalar(res, "cpus"));
		_cleanup_free_ char *ms = ag_asprintf("%.0f MiB", ctl_scalar(res, "mem"));
		ctl_table_add(&tb, name, ws, fs, cs, ms);
	}
	return list_finish(c, &tb, out, g);
}

static int cmd_inspect(struct ctl *c, const char *q)
{
	int rc, n1 = 0, n2 = 0, n3 = 0;
	json_t *tasks = all_tasks(c, true, &rc);
	if (!tasks)
		return rc;
	json_t *ag = get(c, "GET_AGENTS", "get_agents", &rc);
	json_t *fw = ag ? get(c, "GET_FRAMEWORKS", "get_frameworks", &rc) : NULL;
	if (!fw) {
		json_decref(tasks);
		json_decref(ag);
		return rc;
	}
	json_t *t = find_one(tasks, "task_id", q, &n1);
	json_t *a = find_one(json_object_get(ag, "agents"), NULL, q, &n2);
	json_t *f = NULL, *e;
	size_t i;
	json_array_foreach (json_object_get(fw, "frameworks"), i, e) {
		bool exact;
		const char *id = ctl_id(json_object_get(e, "framework_info"), "id");
		if (id && id_matches(id, q, &exact))
			f = e, n3++;
	}
	int n = n1 + n2 + n3;
	rc = CTL_OK;
	if (n == 1)
		ctl_print_json(t ? t : a ? a : f);
	else {
		fprintf(stderr, "agoractl: %s task, agent or framework `%s`%s\n",
		        n ? "more than one" : "no", q, n ? ": give more of its id" : "");
		rc = CTL_ERR;
	}
	json_decref(tasks);
	json_decref(ag);
	json_decref(fw);
	return rc;
}

/* The agent (GET_AGENTS entry, new reference) with id `agent_id`. */
static json_t *find_agent(struct ctl *c, const char *agent_id, int *rc)
{
	json_t *g = get(c, "GET_AGENTS", "get_agents", rc);
	if (!g)
		return NULL;
	int n;
	json_t *a = json_incref(find_one(json_object_get(g, "agents"), NULL, agent_id, &n));
	json_decref(g);
	if (!a) {
		fprintf(stderr, "agoractl: agent `%s` is not registered with the master\n",
		        agent_id);
		*rc = CTL_ERR;
	}
	return a;
}

/* An agent's operator address; false (printed) when it has none. */
static bool agent_address(const json_t *a, char *host, size_t hlen, int *port)
{
	const json_t *ai = json_object_get(a, "agent_info");
	const char *pid = json_string_value(json_object_get(a, "pid"));
	*port = (int)json_integer_value(json_object_get(ai, "port"));
	const char *at = pid ? strchr(pid, '@') : NULL;
	if (at)
		snprintf(host, hlen, "%.*s", (int)strcspn(at + 1, ":"), at + 1);
	else
		snprintf(host, hlen, "%s", json_string_value(json_object_get(ai, "hostname")));
	if (*port <= 0) {
		if (agents_quiet)
			return false;
		fprintf(stderr,
		        "agoractl: agent %s has no operator endpoints (start it with --port N)\n",
		        ctl_id(ai, "id"));
		return false;
	}
	return true;
}

/* GET `path` of agent `a`: 0 and the reply, or an exit code (printed). */
static int agent_get(const json_t *a, const char *path, struct ctl_http_reply *r)
{
	char host[256];
	int port;
	if (!agent_address(a, host, sizeof(host), &port))
		return CTL_ERR;
	int e = ctl_http_request(host, port, "GET", path, NULL, 10, r);
	if (e < 0 && agents_quiet)
		return CTL_UNREACHABLE;
	if (e < 0) {
		fprintf(stderr, "agoractl: cannot reach agent %s at %s:%d (%s)\n",
		        ctl_id(json_object_get(a, "agent_info"), "id"), host, port, strerror(-e));
		return CTL_UNREACHABLE;
	}
	if (r->status != 200 && agents_quiet) {
		ctl_http_reply_free(r);
		return CTL_ERR;
	}
	if (r->status != 200) {
		fprintf(stderr, "agoractl: agent at %s:%d answered %d to GET %s: %s\n", host, port,
		        r->status, path, r->body);
		ctl_http_reply_free(r);
		return CTL_ERR;
	}
	return CTL_OK;
}

/* The containers of agent `a` as an array (new reference), or NULL. */
static json_t *agent_containers(const json_t *a, int *rc)
{
	struct ctl_http_reply r;
	*rc = agent_get(a, "/containers", &r);
	if (*rc)
		return NULL;
	json_t *j = json_loads(r.body, 0, NULL);
	ctl_http_reply_free(&r);
	if (json_is_object(j) && json_is_array(json_object_get(j, "containers"))) {
		json_t *arr = json_incref(json_object_get(j, "containers"));
		json_decref(j);
		j = arr;
	}
	if (!json_is_array(j)) {
		if (!agents_quiet)
			fprintf(stderr, "agoractl: an agent's /containers is not a JSON list\n");
		json_decref(j);
		*rc = CTL_ERR;
		return NULL;
	}
	return j;
}

/* A string field that may be a Mesos id object. */
static const char *field(const json_t *o, const char *k1, const char *k2)
{
	for (int i = 0; i < 2; i++) {
		json_t *v = json_object_get(o, i ? k2 : k1);
		if (json_is_object(v))
			v = json_object_get(v, "value");
		if (json_is_string(v))
			return json_string_value(v);
	}
	return NULL;
}

static int cmd_containers(struct ctl *c)
{
	int rc;
	json_t *g = get(c, "GET_AGENTS", "get_agents", &rc);
	if (!g)
		return rc;
	struct ctl_table tb;
	ctl_table_init(&tb, 6, "CONTAINER", "TASK", "STATE", "PHASE", "PID", "AGENT");
	json_t *out = json_array(), *a;
	size_t i;
	rc = CTL_OK;
	json_array_foreach (json_object_get(g, "agents"), i, a) {
		int r;
		json_t *cs = agent_containers(a, &r);
		if (!cs) {
			rc = r;
			continue;
		}
		const char *aid = ctl_id(json_object_get(a, "agent_info"), "id");
		json_t *ct;
		size_t k;
		json_array_foreach (cs, k, ct) {
			const char *cid = field(ct, "container_id", "id");
			if (c->quiet) {
				puts(cid ? cid : "-");
				continue;
			}
			json_t *o = json_deep_copy(ct);
			json_object_set_new(o, "agent_id", json_string(aid));
			json_array_append_new(out, o);
			json_t *pid = json_object_get(ct, "monitor_pid");
			if (!pid)
				pid = json_object_get(ct, "pid");
			_cleanup_free_ char *ps =
			        json_is_integer(pid) ? ag_asprintf("%lld", json_integer_value(pid))
			                             : NULL;
			_cleanup_free_ char *sa = ctl_short_id(c, aid), *sc = ctl_short_id(c, cid);
			const char *st = field(ct, "state", "status");
			ctl_table_add(&tb, sc, field(ct, "task_id", "task"),
			              st && !strncmp(st, "TASK_", 5) ? st + 5 : st,
			              field(ct, "phase", "phase"), ps, sa);
		}
		json_decref(cs);
	}
	if (c->json)
		ctl_print_json(out);
	ctl_table_done(&tb, !c->json && !c->quiet);
	json_decref(out);
	json_decref(g);
	return rc;
}

static char *url_encode(const char *s)
{
	char *o = ag_malloc(strlen(s) * 3 + 1), *p = o;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-_.~", ch))
			*p++ = (char)ch;
		else
			p += sprintf(p, "%%%02X", ch);
	}
	*p = '\0';
	return o;
}

int ctl_task_output(struct ctl *c, const json_t *task, const char *file, long *offset, FILE *out)
{
	int rc;
	json_t *a = find_agent(c, ctl_id(task, "agent_id"), &rc);
	if (!a)
		return rc;
	_cleanup_free_ char *tid = url_encode(ctl_id(task, "task_id"));
	_cleanup_free_ char *fid = url_encode(ctl_id(task, "framework_id") ?: "");
	/* The agent answers {"data", "offset", "size"} a chunk at a time
	 * (at most 1 MiB): read on to the end of what is there. */
	for (;;) {
		_cleanup_free_ char *path =
		        ag_asprintf("/files/read?task=%s&framework=%s&file=%s&offset=%ld&length=%d",
		                    tid, fid, file, *offset, 1 << 20);
		struct ctl_http_reply r;
		rc = agent_get(a, path, &r);
		if (rc)
			break;
		json_t *j = json_loads(r.body, 0, NULL);
		const char *data = r.body;
		size_t len = r.len;
		long size = -1;
		if (json_is_object(j) && json_is_string(json_object_get(j, "data"))) {
			data = json_string_value(json_object_get(j, "data"));
			len = json_string_length(json_object_get(j, "data"));
			if (json_is_integer(json_object_get(j, "size")))
				size = (long)json_integer_value(json_object_get(j, "size"));
		}
		fwrite(data, 1, len, out);
		fflush(out);
		*offset += (long)len;
		json_decref(j);
		ctl_http_reply_free(&r);
		if (len == 0 || size < 0 || *offset >= size)
			break;
	}
	json_decref(a);
	return rc;
}

static int cmd_logs(struct ctl *c, const char *id, const char *file)
{
	int rc;
	json_t *t = ctl_find_task(c, id, &rc);
	if (!t)
		return rc;
	long off = 0;
	if (c->tail >= 0) {
		/* The whole file, then its last N lines. */
		char *buf = NULL;
		size_t blen = 0;
		FILE *m = open_memstream(&buf, &blen);
		rc = ctl_task_output(c, t, file, &off, m);
		fclose(m);
		if (rc == CTL_OK) {
			const char *p = buf + blen;
			long n = 0;
			if (p > buf && p[-1] == '\n')
				p--;
			while (p > buf && !(p[-1] == '\n' && ++n >= c->tail))
				p--;
			if (c->tail == 0)
				p = buf + blen;
			fwrite(p, 1, (size_t)(buf + blen - p), stdout);
		}
		free(buf);
	} else {
		rc = ctl_task_output(c, t, file, &off, stdout);
	}
	while (rc == CTL_OK && c->follow) {
		const char *st = json_string_value(json_object_get(t, "state"));
		if (st && pb_task_state_is_terminal(pb_task_state_from_name(st)))
			break;
		sleep(1);
		json_decref(t);
		int r2;
		t = ctl_find_task(c, id, &r2);
		if (!t)
			break; /* ended and gone from the master */
		rc = ctl_task_output(c, t, file, &off, stdout);
	}
	json_decref(t);
	return rc;
}

static int cmd_stats(struct ctl *c, const char *id)
{
	int rc;
	json_t *t = ctl_find_task(c, id, &rc);
	if (!t)
		return rc;
	json_t *a = find_agent(c, ctl_id(t, "agent_id"), &rc);
	json_t *cs = a ? agent_containers(a, &rc) : NULL;
	json_t *found = NULL, *ct;
	size_t i;
	json_array_foreach (cs, i, ct) {
		const char *tid = field(ct, "task_id", "task");
		if (tid && strcmp(tid, ctl_id(t, "task_id")) == 0)
			found = ct;
	}
	if (cs && !found) {
		fprintf(stderr,
		        "agoractl: agent has no container for task `%s` (ended and cleaned up?)\n",
		        ctl_id(t, "task_id"));
		rc = CTL_ERR;
	}
	json_t *st = found ? json_object_get(found, "usage") : NULL;
	if (found && !json_is_object(st) && json_is_string(json_object_get(found, "usage_error"))) {
		fprintf(stderr, "agoractl: no statistics for task `%s`: %s\n", ctl_id(t, "task_id"),
		        json_string_value(json_object_get(found, "usage_error")));
		rc = CTL_ERR;
		found = NULL;
	}
	if (found) {
		if (!json_is_object(st))
			st = found;
		if (c->json) {
			ctl_print_json(st);
		} else {
			struct ctl_table tb;
			ctl_table_init(&tb, 2, "STAT", "VALUE");
			const char *k;
			json_t *v;
			json_object_foreach (st, k, v) {
				if (json_is_object(v) || json_is_array(v))
					continue;
				_cleanup_free_ char *vs = json_dumps(v, JSON_ENCODE_ANY);
				ctl_table_add(&tb, k, vs);
			}
			ctl_table_done(&tb, true);
		}
	}
	json_decref(cs);
	json_decref(a);
	json_decref(t);
	return rc;
}

static int cmd_kill(struct ctl *c, const char *id)
{
	int rc;
	json_t *t = ctl_find_task(c, id, &rc);
	if (!t)
		return rc;
	json_t *p = json_pack("{s:O, s:O}", "task_id", json_object_get(t, "task_id"),
	                      "framework_id", json_object_get(t, "framework_id"));
	if (json_object_get(t, "agent_id"))
		json_object_set(p, "agent_id", json_object_get(t, "agent_id"));
	if (c->grace_ns >= 0)
		json_object_set_new(p, "kill_policy",
		                    json_pack("{s:{s:I}}", "grace_period", "nanoseconds",
		                              (json_int_t)c->grace_ns));
	rc = ctl_operator(c, "KILL_TASK", p, NULL);
	if (rc == CTL_OK && !c->quiet)
		printf("%s\n", ctl_id(t, "task_id"));
	json_decref(t);
	return rc;
}

static int resolve(struct ctl *c, const char *what, const char *q, char **ret)
{
	int rc, n;
	if (strcmp(what, "framework") == 0) {
		json_t *g = get(c, "GET_FRAMEWORKS", "get_frameworks", &rc);
		if (!g)
			return rc;
		json_t *f = NULL, *e;
		size_t i;
		n = 0;
		json_array_foreach (json_object_get(g, "frameworks"), i, e) {
			bool exact;
			const char *id = ctl_id(json_object_get(e, "framework_info"), "id");
			if (id && id_matches(id, q, &exact))
				f = e, n++;
		}
		*ret = n == 1 ? ag_strdup(ctl_id(json_object_get(f, "framework_info"), "id"))
		              : NULL;
		json_decref(g);
	} else {
		json_t *g = get(c, "GET_AGENTS", "get_agents", &rc);
		if (!g)
			return rc;
		json_t *a = find_one(json_object_get(g, "agents"), NULL, q, &n);
		*ret = a ? ag_strdup(ctl_id(json_object_get(a, "agent_info"), "id")) : NULL;
		json_decref(g);
	}
	if (!*ret) {
		fprintf(stderr, "agoractl: %s %s `%s`%s\n", n ? "more than one" : "no", what, q,
		        n ? ": give more of its id" : "");
		return CTL_ERR;
	}
	return CTL_OK;
}

static int cmd_id_call(struct ctl *c, const char *what, const char *q, const char *type,
                       const char *key)
{
	_cleanup_free_ char *id = NULL;
	int rc = resolve(c, what, q, &id);
	if (rc)
		return rc;
	rc = ctl_operator(c, type, json_pack("{s:o}", key, pb_id_to_json(id)), NULL);
	if (rc == CTL_OK)
		puts(id);
	return rc;
}

static int cmd_drain(struct ctl *c, const char *q)
{
	_cleanup_free_ char *id = NULL;
	int rc = resolve(c, "agent", q, &id);
	if (rc)
		return rc;
	json_t *p =
	        json_pack("{s:o, s:b}", "agent_id", pb_id_to_json(id), "mark_gone", c->mark_gone);
	if (c->timeout_ns >= 0)
		json_object_set_new(p, "max_grace_period",
		                    json_pack("{s:I, s:i}", "seconds",
		                              (json_int_t)(c->timeout_ns / 1000000000), "nanos",
		                              (int)(c->timeout_ns % 1000000000)));
	rc = ctl_operator(c, "DRAIN_AGENT", p, NULL);
	if (rc == CTL_OK)
		puts(id);
	return rc;
}

static int cmd_weights(struct ctl *c, int argc, char **argv)
{
	double w = 0;
	char *end = NULL;
	if (argc != 4 || strcmp(argv[1], "set") != 0 || (w = strtod(argv[3], &end), *end) ||
	    !(w > 0)) {
		fprintf(stderr, "usage: agoractl weights set ROLE WEIGHT (WEIGHT > 0)\n");
		return CTL_USAGE;
	}
	int rc = ctl_operator(
	        c, "UPDATE_WEIGHTS",
	        json_pack("{s:[{s:s, s:f}]}", "weight_infos", "role", argv[2], "weight", w), NULL);
	if (rc == CTL_OK && !c->quiet)
		printf("%s %g\n", argv[2], w);
	return rc;
}

int main(int argc, char **argv)
{
	struct ctl c = {.tail = -1, .grace_ns = -1, .timeout_ns = -1};
	const char *master = getenv("AGORA_MASTER");
	const char *file = "stdout";
	char *pos[8];
	int npos = 0, i;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (npos > 0 && strcmp(pos[0], "run") == 0)
			break; /* run parses its own options */
		if (strcmp(a, "--master") == 0 && i + 1 < argc)
			master = argv[++i];
		else if (strncmp(a, "--master=", 9) == 0)
			master = a + 9;
		else if (strcmp(a, "--json") == 0)
			c.json = true;
		else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
			c.quiet = true;
		else if (strcmp(a, "--no-trunc") == 0)
			c.no_trunc = true;
		else if (strcmp(a, "--rfc3339") == 0)
			c.rfc3339 = true;
		else if (strcmp(a, "--all") == 0 || strcmp(a, "-a") == 0)
			c.all = true;
		else if (strcmp(a, "-f") == 0 || strcmp(a, "--follow") == 0)
			c.follow = true;
		else if (strcmp(a, "--stderr") == 0)
			file = "stderr";
		else if (strcmp(a, "--tail") == 0 && i + 1 < argc)
			c.tail = atol(argv[++i]);
		else if (strcmp(a, "--mark-gone") == 0)
			c.mark_gone = true;
		else if ((strcmp(a, "--grace") == 0 || strcmp(a, "--timeout") == 0) &&
		         i + 1 < argc) {
			int64_t *dst = a[2] == 'g' ? &c.grace_ns : &c.timeout_ns;
			struct ag_error derr = {0};
			if (ag_parse_duration_flag(a, argv[++i], dst, &derr) < 0) {
				fprintf(stderr, "agoractl: %s\n", derr.msg);
				return CTL_USAGE;
			}
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return CTL_OK;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "agoractl: unknown option `%s` (agoractl --help)\n", a);
			return CTL_USAGE;
		} else if (npos < (int)AG_ARRAY_SIZE(pos))
			pos[npos++] = argv[i];
		else
			return usage(stderr), CTL_USAGE;
	}
	if (npos == 0)
		return usage(stderr), CTL_USAGE;
	c.master = master ? master : "127.0.0.1:5050";
	int resolved = ctl_resolve_master(&c);
	if (resolved != CTL_OK)
		return resolved;
	const char *v = pos[0];
	int rc = -1;
	/* Options of one verb are an error elsewhere, not silently ignored. */
	const char *opt = NULL, *owner = NULL;
	if (c.grace_ns >= 0 && strcmp(v, "kill") != 0)
		opt = "--grace", owner = "kill";
	else if (c.timeout_ns >= 0 && strcmp(v, "drain") != 0)
		opt = "--timeout", owner = "drain";
	else if (c.mark_gone && strcmp(v, "drain") != 0)
		opt = "--mark-gone", owner = "drain";
	if (opt) {
		fprintf(stderr, "agoractl: %s is an option of `%s`, not of `%s`\n", opt, owner, v);
		free(c.host);
		return CTL_USAGE;
	}
#define NEED(n, u)                                                                                 \
	if (npos != (n)) {                                                                         \
		fprintf(stderr, "usage: agoractl %s\n", u);                                        \
		rc = CTL_USAGE;                                                                    \
	} else
	if (strcmp(v, "agents") == 0) {
		NEED(1, "agents") rc = cmd_agents(&c);
	} else if (strcmp(v, "frameworks") == 0) {
		NEED(1, "frameworks") rc = cmd_frameworks(&c);
	} else if (strcmp(v, "tasks") == 0) {
		NEED(1, "tasks [--all]") rc = cmd_tasks(&c);
	} else if (strcmp(v, "roles") == 0) {
		NEED(1, "roles") rc = cmd_roles(&c);
	} else if (strcmp(v, "inspect") == 0) {
		NEED(2, "inspect ID") rc = cmd_inspect(&c, pos[1]);
	} else if (strcmp(v, "containers") == 0) {
		NEED(1, "containers") rc = cmd_containers(&c);
	} else if (strcmp(v, "logs") == 0) {
		NEED(2, "logs TASK [-f] [--tail N] [--stderr]") rc = cmd_logs(&c, pos[1], file);
	} else if (strcmp(v, "stats") == 0) {
		NEED(2, "stats TASK") rc = cmd_stats(&c, pos[1]);
	} else if (strcmp(v, "kill") == 0) {
		NEED(2, "kill TASK [--grace DURATION]") rc = cmd_kill(&c, pos[1]);
	} else if (strcmp(v, "weights") == 0) {
		rc = cmd_weights(&c, npos, pos);
	} else if (strcmp(v, "teardown") == 0) {
		NEED(2, "teardown FRAMEWORK")
		rc = cmd_id_call(&c, "framework", pos[1], "TEARDOWN", "framework_id");
	} else if (strcmp(v, "gone") == 0) {
		NEED(2, "gone AGENT")
		rc = cmd_id_call(&c, "agent", pos[1], "MARK_AGENT_GONE", "agent_id");
	} else if (strcmp(v, "drain") == 0) {
		NEED(2, "drain AGENT [--timeout DURATION] [--mark-gone]")
		rc = cmd_drain(&c, pos[1]);
	} else if (strcmp(v, "deactivate") == 0) {
		NEED(2, "deactivate AGENT")
		rc = cmd_id_call(&c, "agent", pos[1], "DEACTIVATE_AGENT", "agent_id");
	} else if (strcmp(v, "reactivate") == 0) {
		NEED(2, "reactivate AGENT")
		rc = cmd_id_call(&c, "agent", pos[1], "REACTIVATE_AGENT", "agent_id");
	} else if (strcmp(v, "run") == 0) {
		rc = ctl_run(&c, argc - i, argv + i);
	} else {
		fprintf(stderr, "agoractl: unknown command `%s` (agoractl --help)\n", v);
		rc = CTL_USAGE;
	}
	free(c.host);
	ctl_masters_free(&c);
	return rc;
}
