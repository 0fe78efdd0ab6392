/* containerizer/checks.c: HealthCheck and CheckInfo read with Mesos's
 * defaults, and every bad field refused naming its path. */
#include "containerizer/checks.h"

#include <criterion/criterion.h>
#include <string.h>

static json_t *j(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);
	cr_assert(v, "%s: %s", text, e.text);
	return v;
}

static void refused(bool health, const char *text, const char *needle)
{
	json_t *v = j(text);
	struct ag_error err = {0};
	struct ctz_check_spec s = {0};
	cr_expect(ctz_check_parse(v, health, health ? "task.health_check" : "task.check", &s,
	                          &err) < 0,
	          "%s: accepted", text);
	cr_expect(strstr(err.msg, needle), "`%s` not in `%s`", needle, err.msg);
	cr_expect_null(s.argv);
	json_decref(v);
}

Test(checks_spec, health_check_defaults_are_mesos_ones)
{
	json_t *v = j("{\"type\":\"TCP\",\"tcp\":{\"port\":8080}}");
	struct ctz_check_spec s = {0};
	struct ag_error err = {0};
	cr_assert(ctz_check_parse(v, true, "hc", &s, &err) == 0, "%s", err.msg);
	cr_expect(s.health);
	cr_expect_eq(s.type, CTZ_CHECK_TCP);
	cr_expect_eq(s.port, 8080);
	cr_expect_eq(s.delay_ms, 15000);
	cr_expect_eq(s.interval_ms, 10000);
	cr_expect_eq(s.timeout_ms, 20000);
	cr_expect_eq(s.grace_ms, 10000);
	cr_expect_eq(s.consecutive_failures, 3);
	ctz_check_spec_free(&s);
	json_decref(v);
}

Test(checks_spec, command_forms_and_environment)
{
	json_t *v =
	        j("{\"type\":\"COMMAND\",\"command\":{\"value\":\"test -e x\",\"environment\":"
	          "{\"variables\":[{\"name\":\"A\",\"value\":\"1\"}]}},\"interval_seconds\":0.5,"
	          "\"grace_period_seconds\":0,\"consecutive_failures\":1}");
	struct ctz_check_spec s = {0};
	struct ag_error err = {0};
	cr_assert(ctz_check_parse(v, true, "hc", &s, &err) == 0, "%s", err.msg);
	cr_expect_str_eq(s.argv[0], "/bin/sh");
	cr_expect_str_eq(s.argv[1], "-c");
	cr_expect_str_eq(s.argv[2], "test -e x");
	cr_expect_null(s.argv[3]);
	cr_expect_str_eq(s.env[0], "A=1");
	cr_expect_eq(s.interval_ms, 500);
	cr_expect_eq(s.grace_ms, 0);
	ctz_check_spec_free(&s);
	json_decref(v);
	/* A CheckInfo's command is {"command": CommandInfo}; shell false
	 * runs value with arguments as its argv. */
	v = j("{\"type\":\"COMMAND\",\"command\":{\"command\":{\"shell\":false,\"value\":"
	      "\"/bin/test\",\"arguments\":[\"test\",\"-e\",\"y\"]}}}");
	cr_assert(ctz_check_parse(v, false, "ck", &s, &err) == 0, "%s", err.msg);
	cr_expect(!s.health);
	cr_expect_str_eq(s.argv[0], "/bin/test");
	cr_expect_str_eq(s.argv[1], "-e");
	cr_expect_str_eq(s.argv[2], "y");
	cr_expect_null(s.argv[3]);
	ctz_check_spec_free(&s);
	json_decref(v);
}

Test(checks_spec, http_path_defaults_to_the_root)
{
	json_t *v = j("{\"type\":\"HTTP\",\"http\":{\"port\":80,\"scheme\":\"http\"}}");
	struct ctz_check_spec s = {0};
	struct ag_error err = {0};
	cr_assert(ctz_check_parse(v, true, "hc", &s, &err) == 0, "%s", err.msg);
	cr_expect_str_eq(s.path, "/");
	ctz_check_spec_free(&s);
	json_decref(v);
}

Test(checks_spec, bad_fields_are_named)
{
	refused(true, "{}", "task.health_check.type: required");
	refused(true, "[]", "task.health_check: must be an object");
	refused(true, "{\"type\":\"UNKNOWN\"}",
	        "task.health_check.type: `UNKNOWN` is not supported");
	refused(true, "{\"type\":\"TCP\"}", "task.health_check.tcp: required for a TCP check");
	refused(true, "{\"type\":\"TCP\",\"tcp\":{\"port\":1},\"http\":{\"port\":1}}",
	        "task.health_check.http: only for a HTTP check, this one is TCP");
	refused(true, "{\"type\":\"TCP\",\"tcp\":{\"port\":0}}",
	        "task.health_check.tcp.port: must be a port from 1 to 65535");
	refused(true, "{\"type\":\"TCP\",\"tcp\":{}}", "task.health_check.tcp.port: required");
	refused(true, "{\"type\":\"TCP\",\"tcp\":{\"port\":1,\"protocol\":\"IPv6\"}}",
	        "task.health_check.tcp.protocol: `IPv6` is not supported");
	refused(true, "{\"type\":\"TCP\",\"tcp\":{\"port\":1},\"delay_seconds\":-2}",
	        "task.health_check.delay_seconds: -2 seconds: must be 0 or more");
	refused(true, "{\"type\":\"TCP\",\"tcp\":{\"port\":1},\"timeout_seconds\":0}",
	        "task.health_check.timeout_seconds: 0 seconds: must be more than 0");
	refused(true, "{\"type\":\"TCP\",\"tcp\":{\"port\":1},\"interval_seconds\":\"5\"}",
	        "task.health_check.interval_seconds: must be a number of seconds");
	refused(true, "{\"type\":\"TCP\",\"tcp\":{\"port\":1},\"grace_period_seconds\":1e9}",
	        "task.health_check.grace_period_seconds: 1e+09 seconds: at most a year");
	refused(true, "{\"type\":\"TCP\",\"tcp\":{\"port\":1},\"consecutive_failures\":0}",
	        "task.health_check.consecutive_failures: must be an integer from 1");
	refused(true, "{\"type\":\"HTTP\",\"http\":{\"port\":1,\"scheme\":\"https\"}}",
	        "task.health_check.http.scheme: `https` is not supported (http only");
	refused(true, "{\"type\":\"HTTP\",\"http\":{\"port\":1,\"statuses\":[200]}}",
	        "task.health_check.http.statuses: not supported");
	refused(true, "{\"type\":\"HTTP\",\"http\":{\"port\":1,\"path\":\"x\"}}",
	        "task.health_check.http.path: must be a string starting with '/'");
	refused(true, "{\"type\":\"HTTP\",\"http\":{\"port\":1,\"path\":\"/a b\"}}",
	        "task.health_check.http.path: no spaces or control characters");
	refused(true, "{\"type\":\"COMMAND\",\"command\":{}}",
	        "task.health_check.command.value: required");
	refused(true, "{\"type\":\"COMMAND\",\"command\":{\"value\":\"x\",\"user\":\"root\"}}",
	        "task.health_check.command.user: not supported");
	refused(true, "{\"type\":\"COMMAND\",\"command\":{\"value\":\"x\",\"uris\":[]}}",
	        "task.health_check.command.uris: not supported");
	refused(true,
	        "{\"type\":\"COMMAND\",\"command\":{\"value\":\"x\",\"environment\":{\"variables\":"
	        "[{\"name\":\"A\",\"type\":\"SECRET\"}]}}}",
	        "task.health_check.command.environment.variables[0].type: `SECRET` is not "
	        "supported");
	refused(true, "{\"type\":\"TCP\",\"tcp\":{\"port\":1},\"future\":1}",
	        "task.health_check.future: unknown field");
	refused(false, "{\"type\":\"TCP\",\"tcp\":{\"port\":1},\"grace_period_seconds\":1}",
	        "task.check.grace_period_seconds: a field of health checks");
	refused(false, "{\"type\":\"COMMAND\",\"command\":{\"value\":\"x\"}}",
	        "task.check.command.value: unknown field");
	refused(false, "{\"type\":\"HTTP\",\"http\":{\"port\":1,\"scheme\":\"http\"}}",
	        "task.check.http.scheme: unknown field");
}
