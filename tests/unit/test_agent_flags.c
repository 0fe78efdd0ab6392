/* The agent's flag values: Mesos-format attributes, the log level. */
#include "agent/flags.h"

#include <criterion/criterion.h>
#include <string.h>

/* Durations: tests/unit/test_duration.c (common/duration.c). */

static json_t *attrs(const char *text)
{
	json_t *a = NULL;
	struct ag_error err = {0};
	cr_assert(agent_flags_parse_attributes(text, &a, &err) == 0, "`%s`: %s", text, err.msg);
	return a;
}

static char *dump(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return s;
}

Test(flags, attributes_are_typed_as_mesos_types_them)
{
	char *s = dump(attrs("rack:r1;zone:z2;cores:8;ports:[31000-32000];tags:{a,b}"));
	cr_expect_str_eq(
	        s, "[{\"name\":\"rack\",\"text\":{\"value\":\"r1\"},\"type\":\"TEXT\"},"
	           "{\"name\":\"zone\",\"text\":{\"value\":\"z2\"},\"type\":\"TEXT\"},"
	           "{\"name\":\"cores\",\"scalar\":{\"value\":8.0},\"type\":\"SCALAR\"},"
	           "{\"name\":\"ports\",\"ranges\":{\"range\":[{\"begin\":31000,\"end\":32000}]},"
	           "\"type\":\"RANGES\"},"
	           "{\"name\":\"tags\",\"set\":{\"item\":[\"a\",\"b\"]},\"type\":\"SET\"}]");
	free(s);
}

Test(flags, attribute_values_lose_their_spaces_and_ranges_are_coalesced)
{
	char *s = dump(attrs("p:[ 5-9, 1-3 ,4-4,20-30];w: 1.5 ;n:-2;t:a b\nlast:x"));
	cr_expect_str_eq(
	        s, "[{\"name\":\"p\",\"ranges\":{\"range\":[{\"begin\":1,\"end\":9},{\"begin\":20,"
	           "\"end\":30}]},\"type\":\"RANGES\"},"
	           "{\"name\":\"w\",\"scalar\":{\"value\":1.5},\"type\":\"SCALAR\"},"
	           "{\"name\":\"n\",\"scalar\":{\"value\":-2.0},\"type\":\"SCALAR\"},"
	           "{\"name\":\"t\",\"text\":{\"value\":\"ab\"},\"type\":\"TEXT\"},"
	           "{\"name\":\"last\",\"text\":{\"value\":\"x\"},\"type\":\"TEXT\"}]");
	free(s);
	s = dump(attrs(""));
	cr_expect_str_eq(s, "[]");
	free(s);
	s = dump(attrs("v:inf;h:0x10;e:{}"));
	cr_expect(strstr(s, "\"value\":\"inf\"") && strstr(s, "\"value\":\"0x10\""), "%s", s);
	cr_expect(strstr(s, "\"set\":{\"item\":[]}"), "%s", s);
	free(s);
}

static void expect_error(const char *text, const char *needle)
{
	json_t *a = NULL;
	struct ag_error err = {0};
	cr_expect(agent_flags_parse_attributes(text, &a, &err) < 0, "`%s` accepted", text);
	cr_expect(strstr(err.msg, needle), "`%s`: %s", text, err.msg);
	cr_expect(strstr(err.msg, "--attributes"), "%s", err.msg);
}

Test(flags, bad_attributes_are_refused_naming_the_attribute)
{
	expect_error("rack:r1;zone", "item 2 `zone`: expected NAME:VALUE");
	expect_error(":x", "expected NAME:VALUE");
	expect_error("rack:", "`rack`: the value is empty");
	expect_error("ports:[1-2", "`ports`: mismatched brackets");
	expect_error("ports:[5-1]", "`ports`: range `5-1` begins after its end");
	expect_error("ports:[a-b]", "`ports`: `a-b` is not a range");
	expect_error("ports:[7]", "`ports`: `7` is not a range");
	expect_error("ports:[]", "`ports`: expecting one or more ranges");
	expect_error("ports:x[1-2]", "`ports`: unexpected '['");
	expect_error("tags:x{a}", "`tags`: unexpected '{'");
	expect_error("tags:{a}b", "`tags`: sets are written");
}

Test(flags, log_levels_are_the_masters_in_any_case)
{
	enum ag_log_level l = AG_LOG_ERROR;
	struct ag_error err = {0};
	cr_expect(agent_flags_parse_log_level("debug", &l, &err) == 0 && l == AG_LOG_DEBUG);
	cr_expect(agent_flags_parse_log_level("INFO", &l, &err) == 0 && l == AG_LOG_INFO);
	cr_expect(agent_flags_parse_log_level("Warning", &l, &err) == 0 && l == AG_LOG_WARN);
	cr_expect(agent_flags_parse_log_level("warn", &l, &err) == 0 && l == AG_LOG_WARN);
	cr_expect(agent_flags_parse_log_level("error", &l, &err) == 0 && l == AG_LOG_ERROR);
}

Test(flags, bad_log_levels_are_refused_naming_the_flag)
{
	enum ag_log_level l = AG_LOG_WARN;
	const char *bad[] = {"", "loud", "inf", "errors", " info"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct ag_error err = {0};
		cr_expect(agent_flags_parse_log_level(bad[i], &l, &err) == -EINVAL, "`%s` accepted",
		          bad[i]);
		cr_expect(strstr(err.msg, "--log_level: `") &&
		                  strstr(err.msg, "not one of debug, info, warning, error"),
		          "%s", err.msg);
	}
	cr_expect_eq(l, AG_LOG_WARN, "written only on success");
}
