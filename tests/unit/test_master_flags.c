/* Unit tests for agora-master's flags and the HTTP layer's header checks. */
#include "agtest.h"
#include "master/flags.h"
#include "master/http.h"

static int parse(struct ms_flags *f, struct ag_error *err, int argc, ...)
{
	static char argv0[] = "agora-master";
	char *argv[16] = {argv0};
	va_list ap;
	va_start(ap, argc);
	for (int i = 1; i <= argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	return ms_flags_parse(f, argc + 1, argv, err);
}

Test(master_flags, defaults_are_the_documented_ones)
{
	struct ms_flags f;
	ms_flags_init(&f);
	cr_assert_str_eq(f.ip, "127.0.0.1");
	cr_assert_eq(f.port, 5050);
	cr_assert_str_eq(f.work_dir, MS_DEFAULT_WORK_DIR);
	cr_assert_eq(f.heartbeat_interval_ns, 5000000000ull);
	cr_assert_eq(f.agent_ping_timeout_ns, 15000000000ull);
	cr_assert_eq(f.max_agent_ping_timeouts, 5);
	cr_assert_eq(f.offer_timeout_ns, 0);
	cr_assert_eq(f.allocation_interval_ns, 1000000000ull);
	cr_assert_eq(f.allocation_batch_ns, 250000000ull);
	cr_assert_eq(f.max_body_size, 4u << 20);
	cr_assert_eq(f.registry_sync, MS_REGISTRY_SYNC_FULL);
	cr_assert_eq(f.max_completed_tasks_per_framework, 1000);
	cr_assert_eq(f.max_completed_frameworks, 50);
	ms_flags_free(&f);
}

Test(master_flags, completed_bounds_take_zero_and_refuse_junk)
{
	struct ms_flags f;
	struct ag_error err = {0};
	ms_flags_init(&f);
	cr_assert_eq(parse(&f, &err, 3, "--max_completed_tasks_per_framework=0",
	                   "--max_completed_frameworks", "7"),
	             0, "%s", err.msg);
	cr_assert_eq(f.max_completed_tasks_per_framework, 0);
	cr_assert_eq(f.max_completed_frameworks, 7);
	cr_assert_eq(parse(&f, &err, 1, "--max_completed_frameworks=-1"), -EINVAL);
	cr_assert(strstr(err.msg, "--max_completed_frameworks"), "%s", err.msg);
	cr_assert_eq(parse(&f, &err, 1, "--max_completed_tasks_per_framework=lots"), -EINVAL);
	cr_assert(strstr(err.msg, "--max_completed_tasks_per_framework"), "%s", err.msg);
	ms_flags_free(&f);
}

Test(master_flags, both_spellings_and_units)
{
	struct ms_flags f;
	struct ag_error err = {0};
	ms_flags_init(&f);
	int r = parse(&f, &err, 8, "--port=0", "--ip", "127.0.0.2", "--work_dir=/tmp/x",
	              "--heartbeat_interval", "500ms", "--offer_timeout=1.5mins",
	              "--log_level=WARNING");
	cr_assert_eq(r, 0, "%s", err.msg);
	cr_assert_eq(f.port, 0);
	cr_assert_str_eq(f.ip, "127.0.0.2");
	cr_assert_str_eq(f.work_dir, "/tmp/x");
	cr_assert_eq(f.heartbeat_interval_ns, 500000000ull);
	cr_assert_eq(f.offer_timeout_ns, 90000000000ull);
	cr_assert_eq(f.log_level, AG_LOG_WARN);
	r = parse(&f, &err, 4, "--offer_timeout=off", "--max_body_size=1MiB",
	          "--registry_sync=normal", "--allocation_batch=0");
	cr_assert_eq(r, 0, "%s", err.msg);
	cr_assert_eq(f.offer_timeout_ns, 0);
	cr_assert_eq(f.allocation_batch_ns, 0);
	cr_assert_eq(f.max_body_size, 1u << 20);
	cr_assert_eq(f.registry_sync, MS_REGISTRY_SYNC_NORMAL);
	ms_flags_free(&f);
}

Test(master_flags, bad_values_name_the_flag)
{
	struct ms_flags f;
	struct ag_error err = {0};
	ms_flags_init(&f);
	cr_assert_eq(parse(&f, &err, 1, "--port=70000"), -EINVAL);
	cr_assert(strstr(err.msg, "--port"), "%s", err.msg);
	cr_assert_eq(parse(&f, &err, 1, "--heartbeat_interval=soon"), -EINVAL);
	cr_assert(strstr(err.msg, "--heartbeat_interval"), "%s", err.msg);
	cr_assert_eq(parse(&f, &err, 1, "--heartbeat_interval=0s"), -EINVAL);
	cr_assert_eq(parse(&f, &err, 1, "--max_agent_ping_timeouts=-1"), -EINVAL);
	cr_assert(strstr(err.msg, "--max_agent_ping_timeouts"), "%s", err.msg);
	cr_assert_eq(parse(&f, &err, 1, "--log_level=loud"), -EINVAL);
	cr_assert(strstr(err.msg, "--log_level"), "%s", err.msg);
	cr_assert_eq(parse(&f, &err, 1, "--nope=1"), -EINVAL);
	cr_assert(strstr(err.msg, "--nope"), "%s", err.msg);
	cr_assert_eq(parse(&f, &err, 1, "--port"), -EINVAL);
	cr_assert(strstr(err.msg, "missing value"), "%s", err.msg);
	cr_assert_eq(parse(&f, &err, 1, "stray"), -EINVAL);
	cr_assert_eq(parse(&f, &err, 1, "--work_dir="), -EINVAL);
	ms_flags_free(&f);
}

Test(master_flags, help_stops_parsing)
{
	struct ms_flags f;
	ms_flags_init(&f);
	cr_assert_eq(parse(&f, NULL, 2, "--help", "--bogus"), 0);
	cr_assert(f.help);
	ms_flags_free(&f);
}

/* The grammar itself is tests/unit/test_duration.c's (common/duration.c);
 * here, that the master's flags use it and name themselves. */
Test(master_flags, durations)
{
	struct ms_flags f;
	struct ag_error err = {0};
	ms_flags_init(&f);
	cr_assert_eq(
	        parse(&f, &err, 3, "--heartbeat_interval=15", "--agent_ping_timeout", "1.5mins"), 0,
	        "%s", err.msg);
	cr_assert_eq(f.heartbeat_interval_ns, 15000000000ull);
	cr_assert_eq(f.agent_ping_timeout_ns, 90000000000ull);
	cr_assert_eq(parse(&f, &err, 2, "--heartbeat_interval=5s", "--allocation_batch=2hrs"), 0,
	             "%s", err.msg);
	cr_assert_eq(f.heartbeat_interval_ns, 5000000000ull);
	cr_assert_eq(f.allocation_batch_ns, 7200000000000ull);
	const char *bad[] = {"", "-1s", "5 secs", "nan", "1e-3s", "5SECS", "5sec"};
	for (size_t i = 0; i < AG_ARRAY_SIZE(bad); i++) {
		_cleanup_free_ char *arg = ag_asprintf("--heartbeat_interval=%s", bad[i]);
		cr_assert_eq(parse(&f, &err, 1, arg), -EINVAL, "`%s` accepted", bad[i]);
		cr_assert(strstr(err.msg, "--heartbeat_interval: a duration is a number >= 0 and a "
		                          "unit, one of ns us ms secs mins hrs days weeks"),
		          "%s", err.msg);
	}
	cr_assert_eq(parse(&f, &err, 1, "--heartbeat_interval=1000000weeks"), -ERANGE);
	cr_assert(strstr(err.msg, "--heartbeat_interval: a duration is at most"), "%s", err.msg);
	cr_assert_eq(f.heartbeat_interval_ns, 5000000000ull, "unchanged by refused values");
	ms_flags_free(&f);
}

Test(master_http, content_type_is_json)
{
	cr_assert(ms_http_content_type_is_json("application/json"));
	cr_assert(ms_http_content_type_is_json("Application/JSON"));
	cr_assert(ms_http_content_type_is_json("application/json; charset=utf-8"));
	cr_assert(ms_http_content_type_is_json(" application/json "));
	cr_assert_not(ms_http_content_type_is_json(NULL));
	cr_assert_not(ms_http_content_type_is_json(""));
	cr_assert_not(ms_http_content_type_is_json("application/x-protobuf"));
	cr_assert_not(ms_http_content_type_is_json("application/jsonx"));
	cr_assert_not(ms_http_content_type_is_json("text/plain"));
	cr_assert_not(ms_http_content_type_is_json("application/json, text/plain"));
}

Test(master_http, accept_allows_json)
{
	cr_assert(ms_http_accept_allows_json(NULL));
	cr_assert(ms_http_accept_allows_json(""));
	cr_assert(ms_http_accept_allows_json("*/*"));
	cr_assert(ms_http_accept_allows_json("application/*"));
	cr_assert(ms_http_accept_allows_json("application/json"));
	cr_assert(ms_http_accept_allows_json("text/html, application/json;q=0.9"));
	cr_assert(ms_http_accept_allows_json("text/html,*/*;q=0.1"));
	cr_assert_not(ms_http_accept_allows_json("text/html"));
	cr_assert_not(ms_http_accept_allows_json("application/x-protobuf"));
	cr_assert_not(ms_http_accept_allows_json("application/json;q=0"));
	cr_assert_not(ms_http_accept_allows_json("text/*"));
}
