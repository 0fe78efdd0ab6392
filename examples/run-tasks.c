/* run-tasks: an example framework on libagora-scheduler (<agora/scheduler.h>).
 *
 *   run-tasks [--master HOST:PORT] [--image NAME] [N]
 *
 * Runs N tasks (default 3) across the cluster: the first from an OCI-like spec
 * (rootfs NAME, default busybox, in the agents' images directory), the others
 * plain commands. Acknowledges updates, prints state changes, tears down when
 * all ended; exits 0 if all FINISHED, 1 otherwise. Task ids: example-PID-I. */
#include <agora/scheduler.h>

#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define MAX_TASKS 64
/* The OCI-like spec of the first task, built through jansson (the image
 * path is data, never pasted into JSON text). */
static json_t *oci_spec(const char *image)
{
	return json_pack("{s:s, s:s, s:{s:s, s:b}, s:{s:s, s:{s:i, s:i}, s:[s], s:[s, s, s]},"
	                 " s:{s:[{s:s}, {s:s}]}}",
	                 "ociVersion", "1.0.2", "hostname", "example-oci", "root", "path", image,
	                 "readonly", 1, "process", "cwd", "/", "user", "uid", 65534, "gid", 65534,
	                 "env", "PATH=/bin", "args", "/bin/sh", "-c", "echo hello from $(hostname)",
	                 "linux", "namespaces", "type", "uts", "type", "ipc");
}

struct fw {
	struct event_base *base;
	const char *image;
	int n, launched, ended, failed, rc;
	enum ags_task_state state[MAX_TASKS];
};

static void on_subscribed(struct ags *s, void *ctx, const char *fid, double hb)
{
	(void)s;
	(void)ctx;
	printf("subscribed as framework %s (heartbeat %.0fs)\n", fid, hb);
}

static void on_offers(struct ags *s, void *ctx, const struct ags_offer *offers, size_t n)
{
	struct fw *f = ctx;
	for (size_t i = 0; i < n; i++) {
		const struct ags_offer *o = &offers[i];
		double cpus = ags_offer_scalar(o, "cpus"), mem = ags_offer_scalar(o, "mem");
		struct ags_task tasks[MAX_TASKS];
		char ids[MAX_TASKS][32], cmds[MAX_TASKS][96];
		json_t *oci = NULL;
		size_t k = 0;
		/* One task per 0.1 cpu and 32 MiB left in the offer. */
		while (f->launched < f->n && cpus >= 0.1 && mem >= 32) {
			int t = f->launched++;
			snprintf(ids[k], sizeof(ids[k]), "example-%d-%d", (int)getpid(), t);
			snprintf(cmds[k], sizeof(cmds[k]), "echo task %d on $(hostname); sleep 1",
			         t);
			tasks[k] = (struct ags_task){.task_id = ids[k], .cpus = 0.1, .mem = 32};
			if (t == 0) {
				oci = oci_spec(f->image);
				tasks[k].oci = oci;
			} else {
				tasks[k].command = cmds[k];
			}
			printf("launching %s on agent %s (%s)\n", ids[k], o->agent_id,
			       t == 0 ? "OCI-like spec" : "command");
			cpus -= 0.1, mem -= 32, k++;
		}
		int r = k > 0 ? ags_launch(s, o->id, o->agent_id, tasks, k, -1)
		              : ags_decline(s, &o->id, 1, 30);
		if (r < 0) {
			fprintf(stderr, "%s offer %s: %s\n", k > 0 ? "launch on" : "decline", o->id,
			        strerror(-r));
			f->launched -= (int)k; /* not sent: launched from a later offer */
		}
		json_decref(oci);
	}
	if (f->launched == f->n)
		if (ags_suppress(s, NULL) < 0) /* offers still come, and are declined */
			fprintf(stderr, "suppress offers: not sent\n");
}

static void on_update(struct ags *s, void *ctx, const struct ags_task_status *st)
{
	struct fw *f = ctx;
	int t = -1;
	sscanf(st->task_id, "example-%*d-%d", &t);
	printf("%s: %s%s%s\n", st->task_id, ags_task_state_name(st->state), st->message ? ": " : "",
	       st->message ? st->message : "");
	if (t < 0 || t >= f->n || ags_task_state_is_terminal(f->state[t]))
		return;
	f->state[t] = st->state;
	if (ags_task_state_is_terminal(st->state)) {
		f->ended++;
		f->failed += st->state != AGS_TASK_FINISHED;
	}
	if (f->ended == f->n) {
		printf("all %d tasks ended, %d failed\n", f->n, f->failed);
		f->rc = f->failed ? 1 : 0;
		if (ags_teardown(s) < 0) {
			fprintf(stderr, "teardown: not sent\n");
			f->rc = 1;
			event_base_loopbreak(f->base);
		}
	}
}

static void on_error(struct ags *s, void *ctx, const char *message)
{
	(void)s;
	fprintf(stderr, "run-tasks: the master says: %s\n", message);
	((struct fw *)ctx)->rc = 2;
}

static void on_disconnected(struct ags *s, void *ctx, const char *why)
{
	(void)s;
	(void)ctx;
	fprintf(stderr, "run-tasks: %s; reconnecting\n", why);
}

static void on_call_failed(struct ags *s, void *ctx, const char *type, int code, const char *body)
{
	(void)s;
	(void)ctx;
	fprintf(stderr, "run-tasks: %s refused (%d): %s\n", type, code, body);
}

static void on_closed(struct ags *s, void *ctx)
{
	(void)s;
	event_base_loopbreak(((struct fw *)ctx)->base);
}

int main(int argc, char **argv)
{
	struct fw f = {.n = 3, .image = "busybox", .rc = 1};
	const char *master = getenv("AGORA_MASTER");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--master") == 0 && i + 1 < argc)
			master = argv[++i];
		else if (strcmp(argv[i], "--image") == 0 && i + 1 < argc)
			f.image = argv[++i];
		else if ((f.n = atoi(argv[i])) < 1 || f.n > MAX_TASKS) {
			fprintf(stderr,
			        "usage: run-tasks [--master HOST:PORT] [--image NAME] [N]\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	f.base = event_base_new();
	struct ags_config cfg = {
	        .master = master, .name = "run-tasks", .user = "nobody", .failover_timeout = 300};
	struct ags_callbacks cb = {.subscribed = on_subscribed,
	                           .offers = on_offers,
	                           .update = on_update,
	                           .error = on_error,
	                           .disconnected = on_disconnected,
	                           .call_failed = on_call_failed,
	                           .closed = on_closed,
	                           .auto_ack = true};
	struct ags *s = ags_new(f.base, &cfg, &cb, &f);
	if (!s)
		return fprintf(stderr, "run-tasks: bad master address `%s`\n", master), 2;
	ags_start(s);
	event_base_dispatch(f.base);
	ags_free(s);
	event_base_free(f.base);
	return f.rc;
}
