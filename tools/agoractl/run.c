/* run.c: `agoractl run`, like mesos-execute: one task through a framework
 * of its own (the SDK), its state changes on stderr, its output on stdout
 * and stderr (from the agent's files endpoint), and its status as ours. */
#include "tools/agoractl/agoractl.h"

#include "proto/proto.h"
#include "sdk/scheduler.h"

#include <event2/event.h>
#include <signal.h>
#include <string.h>
#include <time.h>

struct run {
	struct ctl *c;
	struct event_base *base;
	struct ags_task task;
	char task_id[64];
	char *agent_id, *framework_id;
	bool launched, ended, no_output;
	long off_out, off_err;
	int rc;
	struct event *poll, *sigint;
};

static void output(struct run *r)
{
	if (!r->agent_id || r->no_output)
		return;
	json_t *t = json_pack("{s:o, s:o, s:o}", "task_id", pb_id_to_json(r->task_id), "agent_id",
	                      pb_id_to_json(r->agent_id), "framework_id",
	                      pb_id_to_json(r->framework_id ? r->framework_id : ""));
	if (ctl_task_output(r->c, t, "stdout", &r->off_out, stdout) != CTL_OK ||
	    ctl_task_output(r->c, t, "stderr", &r->off_err, stderr) != CTL_OK) {
		fprintf(stderr, "agoractl: (the task's output is not available)\n");
		r->no_output = true;
	}
	json_decref(t);
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	output(arg);
}

static void on_subscribed(struct ags *s AG_UNUSED, void *ctx, const char *fid, double hb AG_UNUSED)
{
	struct run *r = ctx;
	free(r->framework_id);
	r->framework_id = ag_strdup(fid);
}

static void on_offers(struct ags *s, void *ctx, const struct ags_offer *offers, size_t n)
{
	struct run *r = ctx;
	for (size_t i = 0; i < n; i++) {
		const struct ags_offer *o = &offers[i];
		if (!r->launched && ags_offer_scalar(o, "cpus") >= r->task.cpus &&
		    ags_offer_scalar(o, "mem") >= r->task.mem) {
			r->launched = true;
			r->agent_id = ag_strdup(o->agent_id);
			fprintf(stderr, "agoractl: launching task %s on agent %s (%s)\n",
			        r->task_id, o->agent_id, o->hostname);
			int e = ags_launch(s, o->id, o->agent_id, &r->task, 1, -1);
			if (e < 0) {
				/* Not sent: the next offer is tried. */
				fprintf(stderr, "agoractl: launch task %s: %s\n", r->task_id,
				        strerror(-e));
				r->launched = false;
				free(r->agent_id);
				r->agent_id = NULL;
			}
		} else {
			/* Best effort: an offer not declined is held until the
			 * framework ends, which the run does soon. */
			AG_IGNORE_RESULT(ags_decline(s, &o->id, 1, r->launched ? 3600 : 1));
		}
	}
	if (r->launched) /* best effort: offers that still come are declined */
		AG_IGNORE_RESULT(ags_suppress(s, NULL));
}

static int exit_status(const struct ags_task_status *st)
{
	int code;
	switch (st->state) {
	case AGS_TASK_FINISHED:
		return 0;
	case AGS_TASK_FAILED:
		if (st->message && sscanf(st->message, "Command exited with status %d", &code) == 1)
			return code;
		return 1;
	case AGS_TASK_KILLED:
		return 137;
	default:
		return 125; /* never ran, or lost: not the task's own status */
	}
}

static void on_update(struct ags *s, void *ctx, const struct ags_task_status *st)
{
	struct run *r = ctx;
	if (strcmp(st->task_id, r->task_id) != 0 || r->ended)
		return;
	fprintf(stderr, "agoractl: %s %s%s%s\n", r->task_id, ags_task_state_name(st->state),
	        st->message ? ": " : "", st->message ? st->message : "");
	if (st->state == AGS_TASK_RUNNING && !evtimer_pending(r->poll, NULL)) {
		struct timeval tv = {1, 0};
		event_add(r->poll, &tv);
	}
	if (ags_task_state_is_terminal(st->state)) {
		r->ended = true;
		event_del(r->poll);
		output(r);
		r->rc = exit_status(st);
		/* auto_ack acknowledges the update first. Without a teardown
		 * the master keeps the framework until its failover timeout;
		 * the run ends either way. */
		int e = ags_teardown(s);
		if (e < 0) {
			fprintf(stderr, "agoractl: tear the framework down: %s\n", strerror(-e));
			event_base_loopbreak(r->base);
		}
	}
}

static void on_error(struct ags *s AG_UNUSED, void *ctx, const char *msg)
{
	fprintf(stderr, "agoractl: the master ended the run: %s\n", msg);
	((struct run *)ctx)->rc = 125;
}

static void on_disconnected(struct ags *s AG_UNUSED, void *ctx, const char *why)
{
	struct run *r = ctx;
	fprintf(stderr, "agoractl: %s; reconnecting to %s:%d\n", why, r->c->host, r->c->port);
}

static void on_call_failed(struct ags *s AG_UNUSED, void *ctx AG_UNUSED, const char *type, int code,
                           const char *body)
{
	fprintf(stderr, "agoractl: the master refused %s (%d): %s\n", type, code, body);
}

static void on_closed(struct ags *s AG_UNUSED, void *ctx)
{
	event_base_loopbreak(((struct run *)ctx)->base);
}

static void on_sigint(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct run *r = arg;
	fprintf(stderr, "agoractl: interrupted: tearing the run down\n");
	r->rc = 130;
	r->ended = true;
	event_base_loopbreak(r->base);
}

/* --spec with a COMMAND or --env: the command becomes the spec's
 * process.args (under /bin/sh -c, as without a spec) and each K=V is added
 * to process.env, replacing a variable of the same name. */
static int spec_take_command(json_t *oci, const char *spec, const char *cmd, const char **env,
                             size_t n_env)
{
	json_t *proc = json_object_get(oci, "process");
	if (!proc) {
		proc = json_object();
		json_object_set_new(oci, "process", proc);
	}
	if (!json_is_object(proc)) {
		fprintf(stderr, "agoractl: --spec %s: process: not a JSON object\n", spec);
		return -1;
	}
	if (cmd)
		json_object_set_new(proc, "args", json_pack("[s, s, s]", "/bin/sh", "-c", cmd));
	if (!n_env)
		return 0;
	json_t *penv = json_object_get(proc, "env");
	if (!penv) {
		penv = json_array();
		json_object_set_new(proc, "env", penv);
	}
	if (!json_is_array(penv)) {
		fprintf(stderr, "agoractl: --spec %s: process.env: not an array\n", spec);
		return -1;
	}
	for (size_t i = 0; i < n_env; i++) {
		const char *eq = strchr(env[i], '=');
		size_t klen = eq ? (size_t)(eq - env[i]) : strlen(env[i]);
		size_t j;
		json_t *v;
		json_array_foreach (penv, j, v) {
			const char *s = json_string_value(v);
			if (s && strncmp(s, env[i], klen) == 0 && s[klen] == '=') {
				json_array_remove(penv, j);
				break;
			}
		}
		json_array_append_new(penv, eq ? json_string(env[i]) : json_sprintf("%s=", env[i]));
	}
	return 0;
}

static void run_usage(FILE *f)
{
	fputs("usage: agoractl run [--name NAME] [--cpus N] [--mem MIB] [--user USER] [--role "
	      "ROLE]\n"
	      "                    [--env K=V]... [--spec FILE] [--] [COMMAND...]\n"
	      "  COMMAND runs under /bin/sh -c; --spec FILE is an OCI-like spec (container.oci):\n"
	      "  a COMMAND then replaces its process.args and --env adds to its process.env.\n"
	      "  Exit status: the task's (0 FINISHED, N its exit status, 137 KILLED), 125 when\n"
	      "  it never ran or was lost, 3 when the master cannot be reached.\n",
	      f);
}

int ctl_run(struct ctl *c, int argc, char **argv)
{
	struct run r = {.c = c, .rc = 125};
	/* A failover timeout so that a master restart or a lost stream does
	 * not end the run: the SDK re-subscribes within it. */
	struct ags_config cfg = {
	        .master = c->master, .name = "agoractl run", .failover_timeout = 300};
	const char *spec = NULL;
	const char *env[32];
	size_t n_env = 0;
	r.task = (struct ags_task){.cpus = 0.1, .mem = 64};
	int i;
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		bool more = i + 1 < argc;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (strcmp(a, "--name") == 0 && more)
			r.task.name = argv[++i];
		else if (strcmp(a, "--cpus") == 0 && more)
			r.task.cpus = atof(argv[++i]);
		else if (strcmp(a, "--mem") == 0 && more)
			r.task.mem = atof(argv[++i]);
		else if (strcmp(a, "--user") == 0 && more)
			cfg.user = argv[++i];
		else if (strcmp(a, "--role") == 0 && more)
			cfg.role = argv[++i];
		else if (strcmp(a, "--spec") == 0 && more)
			spec = argv[++i];
		else if (strcmp(a, "--env") == 0 && more && n_env < AG_ARRAY_SIZE(env))
			env[n_env++] = argv[++i];
		else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			return run_usage(stdout), CTL_OK;
		else if (a[0] == '-')
			return run_usage(stderr), CTL_USAGE;
		else
			break;
	}
	_cleanup_free_ char *cmd = NULL;
	for (; i < argc; i++) {
		char *n = ag_asprintf("%s%s%s", cmd ? cmd : "", cmd ? " " : "", argv[i]);
		free(cmd);
		cmd = n;
	}
	json_t *oci = NULL;
	if (spec) {
		json_error_t je;
		oci = json_load_file(spec, 0, &je);
		if (!json_is_object(oci)) {
			fprintf(stderr, "agoractl: --spec %s: %s (line %d)\n", spec,
			        oci ? "not a JSON object" : je.text, je.line);
			json_decref(oci);
			return CTL_USAGE;
		}
	}
	if (!cmd && !oci)
		return run_usage(stderr), CTL_USAGE;
	if (oci && (cmd || n_env) && spec_take_command(oci, spec, cmd, env, n_env) < 0) {
		json_decref(oci);
		return CTL_USAGE;
	}
	/* Root tasks are refused by default agent policy: run as nobody. */
	if (!cfg.user && geteuid() == 0)
		cfg.user = "nobody";
	snprintf(r.task_id, sizeof(r.task_id), "run-%ld-%d", (long)(ag_wall_ns() / 1000000000),
	         (int)getpid());
	r.task.task_id = r.task_id;
	/* With a spec, the command and the environment went into it: the
	 * agent runs a spec's process.args and refuses a command beside it. */
	r.task.command = oci ? NULL : cmd;
	r.task.oci = oci;
	r.task.env = oci ? NULL : env;
	r.task.n_env = oci ? 0 : n_env;
	/* Reach the master first, for the same message as every verb. */
	json_t *probe = NULL;
	int rc = ctl_operator(c, "GET_HEALTH", NULL, &probe);
	json_decref(probe);
	if (rc) {
		json_decref(oci);
		return rc;
	}
	r.base = event_base_new();
	r.poll = evtimer_new(r.base, on_poll, &r);
	r.sigint = evsignal_new(r.base, SIGINT, on_sigint, &r);
	event_add(r.sigint, NULL);
	struct ags_callbacks cb = {.subscribed = on_subscribed,
	                           .offers = on_offers,
	                           .update = on_update,
	                           .error = on_error,
	                           .disconnected = on_disconnected,
	                           .call_failed = on_call_failed,
	                           .closed = on_closed,
	                           .auto_ack = true};
	struct ags *s = ags_new(r.base, &cfg, &cb, &r);
	ags_start(s);
	event_base_dispatch(r.base);
	if (r.rc == 130 && ags_subscribed(s)) {
		/* Interrupted: take the task down with the framework. */
		int e = ags_teardown(s);
		if (e < 0)
			fprintf(stderr, "agoractl: tear the framework down: %s\n", strerror(-e));
		else
			event_base_dispatch(r.base);
	}
	ags_free(s);
	event_free(r.poll);
	event_free(r.sigint);
	event_base_free(r.base);
	json_decref(oci);
	free(r.agent_id);
	free(r.framework_id);
	return r.rc;
}
