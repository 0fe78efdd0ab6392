/* test_executor.c: a small custom executor on the executor side of the C
 * SDK (sdk/executor.h), for the host tests (tests/host/test_executor_*.c):
 * the SDK speaks the Mesos v1 executor HTTP API, keeps the updates until
 * ACKNOWLEDGED and subscribes again after an agent's restart; this file is
 * what an executor writes on top.
 *
 * What it does, so that tests can tell from its stdout (the sandbox's
 * `stdout`, one line per fact, flushed):
 *   - prints `env NAME=VALUE` for each MESOS_* variable at start, and
 *     `event TYPE` for each event;
 *   - LAUNCH: TASK_RUNNING; a task named `finish...` then TASK_FINISHED;
 *   - KILL: TASK_KILLED; SHUTDOWN: TASK_KILLED for each running task, exit 0;
 *   - MESSAGE `echo:X`: sends MESSAGE `reply:X`; `exit:N`: exits N;
 *     `mute`: once its stream ends it stops (SIGSTOP) instead of
 *     subscribing again, so that the agent's re-registration timeout ends it;
 *   - ACKNOWLEDGED: prints `acked TASK STATE`;
 *   - the SDK gives up (`closed`): prints why, exits 0.
 */
#include "sdk/executor.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_EXECUTOR_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_EXECUTOR_ASAN 1
#endif
#endif
#ifdef TEST_EXECUTOR_ASAN
/* Sanitizer builds only. This executor runs in its task's container, where
 * LeakSanitizer's exit check (a ptrace()ing helper) cannot stop it: the
 * check died with "LeakSanitizer has encountered a fatal error" and exit
 * status 1, replacing the status the tests assert. */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return 1;
}
#endif

#include <event2/event.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct event_base *base;
static json_t *running; /* task_id -> true */
static bool mute;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void update(struct age *e, const char *task_id, enum age_task_state state)
{
	say("update %s %s", task_id, age_task_state_name(state));
	if (age_update(e, task_id, state, NULL, NULL, 0) < 0)
		say("update %s: refused by the SDK", task_id);
	if (state >= AGE_TASK_FINISHED)
		json_object_del(running, task_id);
}

static void on_subscribed(struct age *e, void *ctx, const json_t *ei, const json_t *fi,
                          const json_t *ai, const char *container_id)
{
	(void)e;
	(void)ctx;
	(void)ei;
	(void)fi;
	say("event SUBSCRIBED");
	say("subscribed container=%s agent=%s", container_id ? container_id : "(none)",
	    json_string_value(json_object_get(json_object_get(ai, "id"), "value")));
}

static void on_launch(struct age *e, void *ctx, const struct age_task *t)
{
	(void)ctx;
	say("event LAUNCH");
	say("launch %s", t->task_id);
	json_object_set_new(running, t->task_id, json_true());
	update(e, t->task_id, AGE_TASK_RUNNING);
	if (t->name && strncmp(t->name, "finish", 6) == 0)
		update(e, t->task_id, AGE_TASK_FINISHED);
}

static void on_kill(struct age *e, void *ctx, const char *task_id)
{
	(void)ctx;
	say("event KILL");
	say("kill %s", task_id);
	update(e, task_id, AGE_TASK_KILLED);
}

static void on_acknowledged(struct age *e, void *ctx, const char *task_id,
                            enum age_task_state state, const uint8_t *uuid, size_t len)
{
	(void)e;
	(void)ctx;
	(void)uuid;
	(void)len;
	say("event ACKNOWLEDGED");
	say("acked %s %s", task_id, age_task_state_name(state));
}

static void on_message(struct age *e, void *ctx, const uint8_t *data, size_t len)
{
	(void)ctx;
	char text[512];
	snprintf(text, sizeof(text), "%.*s", (int)len, (const char *)data);
	say("event MESSAGE");
	say("message %s", text);
	if (strncmp(text, "exit:", 5) == 0) {
		say("exit %d", atoi(text + 5));
		exit(atoi(text + 5));
	} else if (strcmp(text, "mute") == 0) {
		mute = true;
	} else if (strncmp(text, "echo:", 5) == 0) {
		char reply[600];
		snprintf(reply, sizeof(reply), "reply:%s", text + 5);
		if (age_message(e, (const uint8_t *)reply, strlen(reply)) < 0)
			say("message: not subscribed");
	}
}

static void on_shutdown(struct age *e, void *ctx)
{
	(void)ctx;
	say("event SHUTDOWN");
	const char *id;
	json_t *v;
	void *tmp;
	json_object_foreach_safe (running, tmp, id, v) {
		char *copy = strdup(id);
		update(e, copy, AGE_TASK_KILLED);
		free(copy);
	}
	say("shutdown");
	/* the updates' POSTs go before the exit */
	struct timeval tv = {1, 0};
	event_base_loopexit(base, &tv);
}

static void on_disconnected(struct age *e, void *ctx, const char *why)
{
	(void)e;
	(void)ctx;
	say("disconnected: %s", why);
	if (mute) {
		say("mute: stopped, not subscribing again");
		raise(SIGSTOP);
	}
}

static void on_call_failed(struct age *e, void *ctx, const char *type, int code, const char *body)
{
	(void)e;
	(void)ctx;
	say("call %s -> %d %s", type, code, body);
}

static void on_closed(struct age *e, void *ctx, const char *why)
{
	(void)e;
	(void)ctx;
	say("exit: %s", why);
	exit(0);
}

int main(void)
{
	static const char *const vars[] = {
	        "MESOS_FRAMEWORK_ID",
	        "MESOS_EXECUTOR_ID",
	        "MESOS_DIRECTORY",
	        "MESOS_SANDBOX",
	        "MESOS_AGENT_ENDPOINT",
	        "MESOS_CHECKPOINT",
	        "MESOS_RECOVERY_TIMEOUT",
	        "MESOS_SUBSCRIPTION_BACKOFF_MAX",
	        "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
	};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		say("env %s=%s", vars[i], getenv(vars[i]) ? getenv(vars[i]) : "(unset)");
	running = json_object();
	base = event_base_new();
	struct age_callbacks cb = {
	        .subscribed = on_subscribed,
	        .launch = on_launch,
	        .kill = on_kill,
	        .acknowledged = on_acknowledged,
	        .message = on_message,
	        .shutdown = on_shutdown,
	        .disconnected = on_disconnected,
	        .call_failed = on_call_failed,
	        .closed = on_closed,
	};
	struct age_config cfg = {.checkpoint = -1};
	struct age *e = age_new(base, &cfg, &cb, NULL);
	if (!e) {
		say("exit: the MESOS_* environment is incomplete");
		return 2;
	}
	age_start(e);
	event_base_dispatch(base);
	say("exit 0");
	age_free(e);
	json_decref(running);
	event_base_free(base);
	return 0;
}
