/* checks.c: HealthCheck and CheckInfo read and checked (checks.h). */
#include "containerizer/checks.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A year: longer delays, intervals and timeouts are surely a mistake, and
 * the bound keeps every figure far from overflowing in ns. */
#define MAX_SECONDS (365.0 * 24 * 3600)

const char *ctz_check_type_name(enum ctz_check_type t)
{
	switch (t) {
	case CTZ_CHECK_COMMAND:
		return "COMMAND";
	case CTZ_CHECK_HTTP:
		return "HTTP";
	case CTZ_CHECK_TCP:
		return "TCP";
	}
	return "?";
}

void ctz_check_spec_free(struct ctz_check_spec *s)
{
	if (!s)
		return;
	for (size_t i = 0; s->argv && s->argv[i]; i++)
		free(s->argv[i]);
	for (size_t i = 0; s->env && s->env[i]; i++)
		free(s->env[i]);
	free(s->argv);
	free(s->env);
	free(s->path);
	*s = (struct ctz_check_spec){0};
}

/* Every member of `obj` is one of `known` (NULL-terminated). */
static int only_known(const json_t *obj, const char *const *known, const char *field,
                      struct ag_error *err)
{
	const char *key;
	json_t *v;
	json_object_foreach ((json_t *)obj, key, v) {
		size_t i = 0;
		while (known[i] && strcmp(known[i], key) != 0)
			i++;
		if (!known[i])
			return ag_error_msg(err, EINVAL,
			                    "%s.%.64s: unknown field (this agent refuses what it "
			                    "does not know)",
			                    field, key);
	}
	return 0;
}

static int object_of(const json_t *j, const char *field, struct ag_error *err)
{
	if (!json_is_object(j))
		return ag_error_msg(err, EINVAL, "%s: must be an object", field);
	return 0;
}

/* A duration in seconds: `name` of `obj`, `def` when absent. `positive`:
 * 0 refused too. */
static int seconds(const json_t *obj, const char *name, double def, bool positive,
                   const char *field, int64_t *ret_ms, struct ag_error *err)
{
	const json_t *v = json_object_get(obj, name);
	double s = def;
	if (v) {
		if (!json_is_number(v))
			return ag_error_msg(err, EINVAL, "%s.%s: must be a number of seconds",
			                    field, name);
		s = json_number_value(v);
	}
	if (!isfinite(s) || s < 0 || (positive && s <= 0))
		return ag_error_msg(err, EINVAL, "%s.%s: %g seconds: must be %s", field, name, s,
		                    positive ? "more than 0" : "0 or more");
	if (s > MAX_SECONDS)
		return ag_error_msg(err, EINVAL, "%s.%s: %g seconds: at most a year (%.0f)", field,
		                    name, s, MAX_SECONDS);
	*ret_ms = (int64_t)llround(s * 1000.0);
	if (positive && *ret_ms == 0)
		*ret_ms = 1;
	return 0;
}

static int port_of(const json_t *obj, const char *field, uint16_t *ret, struct ag_error *err)
{
	const json_t *v = json_object_get(obj, "port");
	if (!v)
		return ag_error_msg(err, EINVAL, "%s.port: required", field);
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65535)
		return ag_error_msg(err, EINVAL, "%s.port: must be a port from 1 to 65535", field);
	*ret = (uint16_t)json_integer_value(v);
	return 0;
}

/* HTTP and TCP checks reach the task over IPv4 (CTZ_CHECK_TARGET_IPV4). */
static int protocol_of(const json_t *obj, const char *field, struct ag_error *err)
{
	const json_t *v = json_object_get(obj, "protocol");
	if (!v)
		return 0;
	const char *p = json_string_value(v);
	if (!p || strcmp(p, "IPv4") != 0)
		return ag_error_msg(err, EINVAL,
		                    "%s.protocol: `%.32s` is not supported (IPv4 only: tasks are "
		                    "reached at " CTZ_CHECK_TARGET_IPV4 ")",
		                    field, p ? p : "(not a string)");
	return 0;
}

static int http_of(const json_t *h, bool health, const char *field, struct ctz_check_spec *s,
                   struct ag_error *err)
{
	static const char *const known_health[] = {"scheme",   "port",     "path",
	                                           "statuses", "protocol", NULL};
	static const char *const known_check[] = {"port", "path", "protocol", NULL};
	int r = object_of(h, field, err);
	if (r == 0)
		r = only_known(h, health ? known_health : known_check, field, err);
	if (r == 0)
		r = port_of(h, field, &s->port, err);
	if (r == 0)
		r = protocol_of(h, field, err);
	if (r < 0)
		return r;
	const json_t *scheme = json_object_get(h, "scheme");
	if (scheme && (!json_is_string(scheme) || strcmp(json_string_value(scheme), "http") != 0))
		return ag_error_msg(err, EINVAL,
		                    "%s.scheme: `%.32s` is not supported (http only: the agent's "
		                    "checks do not speak TLS)",
		                    field,
		                    json_is_string(scheme) ? json_string_value(scheme)
		                                           : "(not a string)");
	if (json_object_get(h, "statuses"))
		return ag_error_msg(err, EINVAL,
		                    "%s.statuses: not supported (a status from 200 to 399 is "
		                    "healthy, as in Mesos, which does not implement it either)",
		                    field);
	const json_t *path = json_object_get(h, "path");
	const char *p = path ? json_string_value(path) : "/";
	if (!p || p[0] != '/' || strlen(p) > 1024)
		return ag_error_msg(err, EINVAL,
		                    "%s.path: must be a string starting with '/', up to 1024 bytes",
		                    field);
	for (const char *c = p; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return ag_error_msg(err, EINVAL,
			                    "%s.path: no spaces or control characters (escape them "
			                    "as %%XX)",
			                    field);
	s->path = ag_strdup(p);
	return 0;
}

static int tcp_of(const json_t *t, const char *field, struct ctz_check_spec *s,
                  struct ag_error *err)
{
	static const char *const known[] = {"port", "protocol", NULL};
	int r = object_of(t, field, err);
	if (r == 0)
		r = only_known(t, known, field, err);
	if (r == 0)
		r = port_of(t, field, &s->port, err);
	if (r == 0)
		r = protocol_of(t, field, err);
	return r;
}

/* A CommandInfo: `value` run by /bin/sh -c (shell, the default) or as
 * argv[0] with `arguments`; `environment.variables` of type VALUE. */
static int command_of(const json_t *c, const char *field, struct ctz_check_spec *s,
                      struct ag_error *err)
{
	static const char *const known[] = {"shell", "value", "arguments", "environment",
	                                    "user",  "uris",  NULL};
	int r = object_of(c, field, err);
	if (r == 0)
		r = only_known(c, known, field, err);
	if (r < 0)
		return r;
	if (json_object_get(c, "user"))
		return ag_error_msg(err, EINVAL,
		                    "%s.user: not supported (a check runs as the task's user)",
		                    field);
	if (json_object_get(c, "uris"))
		return ag_error_msg(err, EINVAL,
		                    "%s.uris: not supported (a check runs in the task's container "
		                    "and sees its sandbox)",
		                    field);
	const json_t *shell = json_object_get(c, "shell");
	if (shell && !json_is_boolean(shell))
		return ag_error_msg(err, EINVAL, "%s.shell: must be true or false", field);
	const char *value = json_string_value(json_object_get(c, "value"));
	if (!value || !*value)
		return ag_error_msg(err, EINVAL, "%s.value: required, the command to run", field);
	const json_t *args = json_object_get(c, "arguments");
	if (args && !json_is_array(args))
		return ag_error_msg(err, EINVAL, "%s.arguments: must be an array of strings",
		                    field);
	size_t i;
	json_t *v;
	json_array_foreach ((json_t *)args, i, v)
		if (!json_is_string(v))
			return ag_error_msg(err, EINVAL, "%s.arguments[%zu]: must be a string",
			                    field, i);
	const json_t *envo = json_object_get(c, "environment");
	const json_t *vars = json_object_get(envo, "variables");
	if (envo && (!json_is_object(envo) || (vars && !json_is_array(vars))))
		return ag_error_msg(err, EINVAL,
		                    "%s.environment: must be {\"variables\": [{\"name\", "
		                    "\"value\"}, ...]}",
		                    field);
	json_array_foreach ((json_t *)vars, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *type = json_string_value(json_object_get(v, "type"));
		if (!name || !*name || strchr(name, '='))
			return ag_error_msg(err, EINVAL,
			                    "%s.environment.variables[%zu].name: required, without "
			                    "'='",
			                    field, i);
		if (type && strcmp(type, "VALUE") != 0)
			return ag_error_msg(err, EINVAL,
			                    "%s.environment.variables[%zu].type: `%.32s` is not "
			                    "supported (VALUE only)",
			                    field, i, type);
		if (json_object_get(v, "value") && !json_is_string(json_object_get(v, "value")))
			return ag_error_msg(err, EINVAL,
			                    "%s.environment.variables[%zu].value: must be a string",
			                    field, i);
	}
	bool sh = !shell || json_is_true(shell);
	size_t na = json_array_size(args);
	s->argv = ag_calloc(na + 4, sizeof(*s->argv));
	if (sh) {
		s->argv[0] = ag_strdup("/bin/sh");
		s->argv[1] = ag_strdup("-c");
		s->argv[2] = ag_strdup(value);
	} else {
		/* As Mesos: value is the program, arguments its whole argv. */
		s->argv[0] = ag_strdup(value);
		for (i = 1; i < na; i++)
			s->argv[i] = ag_strdup(json_string_value(json_array_get(args, i)));
	}
	size_t nv = json_array_size(vars);
	if (nv) {
		s->env = ag_calloc(nv + 1, sizeof(*s->env));
		json_array_foreach ((json_t *)vars, i, v) {
			const char *val = json_string_value(json_object_get(v, "value"));
			s->env[i] =
			        ag_asprintf("%s=%s", json_string_value(json_object_get(v, "name")),
			                    val ? val : "");
		}
	}
	return 0;
}

static int parse(const json_t *j, bool health, const char *field, struct ctz_check_spec *s,
                 struct ag_error *err)
{
	static const char *const known_health[] = {
	        "type", "delay_seconds", "interval_seconds",     "timeout_seconds",      "command",
	        "http", "tcp",           "consecutive_failures", "grace_period_seconds", NULL};
	int r = object_of(j, field, err);
	if (r == 0)
		r = only_known(j, known_health, field, err);
	if (r < 0)
		return r;
	s->health = health;
	if (!health && (json_object_get(j, "consecutive_failures") ||
	                json_object_get(j, "grace_period_seconds")))
		return ag_error_msg(err, EINVAL,
		                    "%s.%s: a field of health checks (task.health_check), not of "
		                    "checks",
		                    field,
		                    json_object_get(j, "consecutive_failures")
		                            ? "consecutive_failures"
		                            : "grace_period_seconds");
	const json_t *type = json_object_get(j, "type");
	const char *t = json_string_value(type);
	if (!type)
		return ag_error_msg(err, EINVAL, "%s.type: required (COMMAND, HTTP or TCP)", field);
	if (t && strcmp(t, "COMMAND") == 0)
		s->type = CTZ_CHECK_COMMAND;
	else if (t && strcmp(t, "HTTP") == 0)
		s->type = CTZ_CHECK_HTTP;
	else if (t && strcmp(t, "TCP") == 0)
		s->type = CTZ_CHECK_TCP;
	else
		return ag_error_msg(err, EINVAL,
		                    "%s.type: `%.32s` is not supported (COMMAND, HTTP or TCP)",
		                    field, t ? t : "(not a string)");
	static const char *const member[] = {NULL, "command", "http", "tcp"};
	for (int k = CTZ_CHECK_COMMAND; k <= CTZ_CHECK_TCP; k++) {
		bool has = json_object_get(j, member[k]) != NULL;
		if (k == (int)s->type && !has)
			return ag_error_msg(err, EINVAL, "%s.%s: required for a %s check", field,
			                    member[k], t);
		if (k != (int)s->type && has)
			return ag_error_msg(err, EINVAL,
			                    "%s.%s: only for a %s check, this one is %s", field,
			                    member[k], ctz_check_type_name(k), t);
	}
	if ((r = seconds(j, "delay_seconds", 15, false, field, &s->delay_ms, err)) < 0 ||
	    (r = seconds(j, "interval_seconds", 10, true, field, &s->interval_ms, err)) < 0 ||
	    (r = seconds(j, "timeout_seconds", 20, true, field, &s->timeout_ms, err)) < 0)
		return r;
	if (health) {
		if ((r = seconds(j, "grace_period_seconds", 10, false, field, &s->grace_ms, err)) <
		    0)
			return r;
		const json_t *cf = json_object_get(j, "consecutive_failures");
		s->consecutive_failures = 3;
		if (cf) {
			if (!json_is_integer(cf) || json_integer_value(cf) < 1 ||
			    json_integer_value(cf) > 1000000)
				return ag_error_msg(err, EINVAL,
				                    "%s.consecutive_failures: must be an integer "
				                    "from 1 to 1000000",
				                    field);
			s->consecutive_failures = (uint32_t)json_integer_value(cf);
		}
	}
	char sub[256];
	switch (s->type) {
	case CTZ_CHECK_COMMAND: {
		/* A HealthCheck's command is a CommandInfo; a CheckInfo's is
		 * {"command": CommandInfo}. */
		const json_t *c = json_object_get(j, "command");
		if (!health) {
			static const char *const known[] = {"command", NULL};
			snprintf(sub, sizeof(sub), "%s.command", field);
			if ((r = object_of(c, sub, err)) < 0 ||
			    (r = only_known(c, known, sub, err)) < 0)
				return r;
			c = json_object_get(c, "command");
			snprintf(sub, sizeof(sub), "%s.command.command", field);
			if (!c)
				return ag_error_msg(err, EINVAL, "%s: required for a COMMAND check",
				                    sub);
		} else {
			snprintf(sub, sizeof(sub), "%s.command", field);
		}
		return command_of(c, sub, s, err);
	}
	case CTZ_CHECK_HTTP:
		snprintf(sub, sizeof(sub), "%s.http", field);
		return http_of(json_object_get(j, "http"), health, sub, s, err);
	case CTZ_CHECK_TCP:
		snprintf(sub, sizeof(sub), "%s.tcp", field);
		return tcp_of(json_object_get(j, "tcp"), sub, s, err);
	}
	return 0;
}

int ctz_check_parse(const json_t *j, bool health, const char *field, struct ctz_check_spec *ret,
                    struct ag_error *err)
{
	struct ctz_check_spec s = {0};
	int r = parse(j, health, field, &s, err);
	if (r < 0 || !ret)
		ctz_check_spec_free(&s);
	else
		*ret = s;
	return r;
}
