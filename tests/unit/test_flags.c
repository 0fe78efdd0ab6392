/* The one table-driven flag parser (common/flags.c) and the agent's table
 * (agent/flags.c); the master's table has its own tests (test_master_flags). */
#include "agent/flags.h"
#include "agtest.h"
#include "common/flags.h"

#include <stdarg.h>

struct opts {
	char *name;
	uint16_t port;
	uint64_t wait_ns, off_ns, zero_ns;
	unsigned count;
	size_t limit, size;
	bool on, help;
	int custom;
};

static int parse_odd(const struct ag_flag *fl, const char *v, void *field, struct ag_error *err)
{
	int64_t n;
	if (ag_parse_i64(v, &n) < 0 || n % 2 == 0)
		return ag_error_msg(err, EINVAL, "--%s: `%s` is not odd", fl->name, v);
	*(int *)field = (int)n;
	return 0;
}

#define OFF(f) offsetof(struct opts, f)
static const struct ag_flag table[] = {
        {"name", AG_FLAG_STRING, OFF(name), "x", "a name", 0, NULL},
        {"port", AG_FLAG_PORT, OFF(port), "1", "a port", 0, NULL},
        {"wait", AG_FLAG_DURATION, OFF(wait_ns), "1s", "a wait", 0, NULL},
        {"off", AG_FLAG_DURATION, OFF(off_ns), "off", "may be off", AG_FLAG_OFF, NULL},
        {"zero", AG_FLAG_DURATION, OFF(zero_ns), "0", "may be 0", AG_FLAG_ZERO_OK, NULL},
        {"count", AG_FLAG_COUNT, OFF(count), "1", "a count", 0, NULL},
        {"limit", AG_FLAG_LIMIT, OFF(limit), "0", "a limit", 0, NULL},
        {"size", AG_FLAG_BYTES, OFF(size), "1MiB", "a size", 0, NULL},
        {"on", AG_FLAG_BOOL, OFF(on), NULL, "a switch", 0, NULL},
        {"also-on", AG_FLAG_BOOL, OFF(on), NULL, NULL, 0, NULL},
        {"odd", AG_FLAG_CUSTOM, OFF(custom), "1", "an odd number", 0, parse_odd},
};

/* Parse the NULL-ended arguments into *o (zeroed first). */
static int parse(struct opts *o, struct ag_error *err, ...)
{
	char *argv[32] = {(char *)"prog"};
	int argc = 1;
	va_list ap;
	va_start(ap, err);
	for (const char *a; (a = va_arg(ap, const char *)) && argc < 31;)
		argv[argc++] = (char *)a;
	va_end(ap);
	ag_flags_free(table, AG_ARRAY_SIZE(table), o);
	*o = (struct opts){0};
	return ag_flags_parse(table, AG_ARRAY_SIZE(table), o, argc, argv, &o->help, err);
}

Test(flags, every_kind_in_both_spellings)
{
	struct opts o = {0};
	struct ag_error err = {0};
	cr_assert_eq(parse(&o, &err, "--name=a b", "--port", "8080", "--wait=1.5mins", "--off",
	                   "OFF", "--zero=0", "--count", "7", "--limit=0", "--size", "4MiB", "--on",
	                   "--odd=3", NULL),
	             0, "%s", err.msg);
	cr_assert_str_eq(o.name, "a b");
	cr_assert_eq(o.port, 8080);
	cr_assert_eq(o.wait_ns, 90000000000ull);
	cr_assert_eq(o.off_ns, 0);
	cr_assert_eq(o.zero_ns, 0);
	cr_assert_eq(o.count, 7);
	cr_assert_eq(o.limit, 0);
	cr_assert_eq(o.size, 4u << 20);
	cr_assert(o.on);
	cr_assert_eq(o.custom, 3);
	cr_assert(!o.help);
	/* The last one counts; an alias sets the same field. */
	cr_assert_eq(parse(&o, &err, "--name=a", "--name", "b", "--also-on", NULL), 0);
	cr_assert_str_eq(o.name, "b");
	cr_assert(o.on);
	cr_assert_eq(parse(&o, &err, "--odd=1", "--help", "--bogus", NULL), 0);
	cr_assert(o.help, "--help stops before the unknown flag");
	ag_flags_free(table, AG_ARRAY_SIZE(table), &o);
	cr_assert_null(o.name);
}

Test(flags, each_error_names_the_flag_and_what_is_accepted)
{
	static const struct {
		const char *args[3];
		const char *msg;
	} bad[] = {
	        {{"--name="}, "--name: must not be empty"},
	        {{"--port=65536"}, "--port: `65536` is not a port number (0 to 65535)"},
	        {{"--wait=0"}, "--wait: must be greater than 0"},
	        {{"--wait=5 secs"}, "--wait: a duration is a number >= 0 and a unit"},
	        {{"--zero=off"}, "--zero: a duration is a number >= 0 and a unit"},
	        {{"--count=0"}, "--count: `0` is not a count (1 to 1000000)"},
	        {{"--limit=1000001"}, "--limit: `1000001` is not a count (0 to 1000000)"},
	        {{"--size=3GiB"},
	         "--size: `3GiB` is not a size between 1 byte and 2GiB (e.g. 4MiB)"},
	        {{"--on=yes"}, "--on: takes no value, got `yes`"},
	        {{"--odd=2"}, "--odd: `2` is not odd"},
	        {{"--count"}, "--count: missing value"},
	        {{"--nope=1"}, "unknown flag `--nope` (see --help)"},
	        {{"plain"}, "unexpected argument `plain` (flags are --name=value)"},
	};
	for (size_t i = 0; i < AG_ARRAY_SIZE(bad); i++) {
		struct opts o = {0};
		struct ag_error err = {0};
		cr_assert_lt(parse(&o, &err, bad[i].args[0], NULL), 0, "%s", bad[i].args[0]);
		cr_assert(strncmp(err.msg, bad[i].msg, strlen(bad[i].msg)) == 0, "%s: got `%s`",
		          bad[i].args[0], err.msg);
		ag_flags_free(table, AG_ARRAY_SIZE(table), &o);
	}
}

Test(flags, bytes_units)
{
	uint64_t v;
	cr_assert_eq(ag_parse_bytes("65536", &v), 0);
	cr_assert_eq(v, 65536);
	cr_assert_eq(ag_parse_bytes("512KB", &v), 0);
	cr_assert_eq(v, 512000);
	cr_assert_eq(ag_parse_bytes("1.5gib", &v), 0);
	cr_assert_eq(v, 1610612736);
	cr_assert_eq(ag_parse_bytes("4 MiB", &v), -EINVAL);
	cr_assert_eq(ag_parse_bytes("-1", &v), -EINVAL);
	cr_assert_eq(ag_parse_bytes("20000000000GB", &v), -ERANGE);
}

Test(flags, usage_lists_each_flag_with_its_default_but_not_aliases)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ag_flags_usage(f, table, AG_ARRAY_SIZE(table));
	fclose(f);
	cr_assert(strstr(text, "  --port                                   a port (default: 1)\n"),
	          "%s", text);
	cr_assert(strstr(text, "  --on                                     a switch\n"), "%s",
	          text);
	cr_assert_null(strstr(text, "also-on"));
	cr_assert(strstr(text, "  --help "));
	free(text);
}

/* The agent's flags through the table: what main.c hands on. */
static int agent_parse(struct agent_flags *f, struct ag_error *err, int argc, const char **argv)
{
	agent_flags_free(f);
	agent_flags_init(f);
	return agent_flags_parse(f, argc, (char **)argv, err);
}

Test(flags, the_agents_table)
{
	struct agent_flags f;
	struct ag_error err = {0};
	agent_flags_init(&f);
	const char *none[] = {"agora-agent"};
	cr_assert_eq(agent_parse(&f, &err, 1, none), 0);
	cr_assert_null(f.master);
	cr_assert_eq(f.port, 0);
	cr_assert_eq(f.shutdown_grace_ns, AGENT_FLAGS_UNSET, "not given: the agent's default");
	cr_assert_eq(f.log_level, AG_LOG_INFO);
	cr_assert(!f.no_isolation);

	const char *all[] = {"agora-agent",
	                     "--master=127.0.0.1:5050",
	                     "--work_dir",
	                     "/var/lib/a",
	                     "--port=5051",
	                     "--attributes=rack:r1;cores:8",
	                     "--executor_shutdown_grace_period=0",
	                     "--task_pids_max=64",
	                     "--sandbox_gc_delay=2h",
	                     "--no-isolation",
	                     "--policy_allow_root=",
	                     "--update_backoff_ms=30000",
	                     "--log_level=WARN"};
	cr_assert_eq(agent_parse(&f, &err, (int)AG_ARRAY_SIZE(all), all), 0, "%s", err.msg);
	cr_assert_str_eq(f.master, "127.0.0.1:5050");
	cr_assert_str_eq(f.work_dir, "/var/lib/a");
	cr_assert_eq(f.port, 5051);
	cr_assert_eq(json_array_size(f.attributes), 2);
	cr_assert_eq(f.shutdown_grace_ns, 0, "0 is a grace, not the default");
	cr_assert_eq(f.task_pids_max, 64);
	cr_assert_eq(f.sandbox_gc_delay_ns, 7200ull * 1000000000ull);
	cr_assert(f.no_isolation);
	cr_assert_str_eq(f.policy_allow_root, "", "an empty role list is none, as before");
	cr_assert_eq(f.update_backoff_ms, 30000);
	cr_assert_eq(f.log_level, AG_LOG_WARN);

	static const struct {
		const char *arg, *msg;
	} bad[] = {
	        {"--task_pids_max=0", "--task_pids_max: a number of processes >= 1, got `0`"},
	        {"--update_backoff_ms=soon",
	         "--update_backoff_ms: a number of milliseconds >= 0 (0: the default), got `soon`"},
	        {"--log_level=loud",
	         "--log_level: `loud` is not one of debug, info, warning, error"},
	        {"--attributes=rack", "--attributes: item 1 `rack`: expected NAME:VALUE"},
	        {"--executor_shutdown_grace_period=5 secs",
	         "--executor_shutdown_grace_period: a duration is"},
	        {"--port=-1", "--port: `-1` is not a port number (0 to 65535)"},
	};
	for (size_t i = 0; i < AG_ARRAY_SIZE(bad); i++) {
		const char *argv[] = {"agora-agent", bad[i].arg};
		cr_assert_eq(agent_parse(&f, &err, 2, argv), -EINVAL, "%s", bad[i].arg);
		cr_assert(strncmp(err.msg, bad[i].msg, strlen(bad[i].msg)) == 0, "%s: got `%s`",
		          bad[i].arg, err.msg);
	}
	agent_flags_free(&f);
}
