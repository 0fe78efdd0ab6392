/* The normalizer names the field of an error by its full path, array
 * indices of any number of digits included (proto/schema.c builds the path
 * for every field it walks). */
#include "proto/proto.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

/* An ACCEPT whose `n`-th offer id (0-based) has a number for its value. */
static char *accept_with_bad_offer_id(size_t n)
{
	size_t cap = 64 + 16 * (n + 1), len = 0;
	char *s = malloc(cap);
	cr_assert_not_null(s);
	len += (size_t)snprintf(s, cap, "{\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":[");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "{\"value\":\"o\"},");
	len += (size_t)snprintf(s + len, cap - len, "{\"value\":7}]}}");
	cr_assert_lt(len, cap);
	return s;
}

Test(proto_paths, indices_of_several_digits)
{
	static const size_t idx[] = {0, 9, 10, 12, 100, 1234};
	for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
		char *text = accept_with_bad_offer_id(idx[i]);
		struct pb_call c = {0};
		struct ag_error err = {0};
		cr_assert_eq(pb_call_decode(text, strlen(text), &c, &err), -EINVAL);
		char want[128];
		snprintf(want, sizeof(want), "call.accept.offer_ids[%zu].value: must be a string",
		         idx[i]);
		cr_expect_str_eq(err.msg, want);
		free(text);
	}
}

Test(proto_paths, nested_keys_and_indices)
{
	const char *text = "{\"type\":\"ACCEPT\",\"accept\":{\"operations\":[{\"type\":\"LAUNCH\","
	                   "\"launch\":{\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":"
	                   "\"t\"},\"agent_id\":{\"value\":\"a\"},\"resources\":[{\"name\":"
	                   "\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1}},{\"name\":"
	                   "\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":\"x\"}}]}]}}]}}";
	struct pb_call c = {0};
	struct ag_error err = {0};
	cr_assert_eq(pb_call_decode(text, strlen(text), &c, &err), -EINVAL);
	cr_expect_str_eq(err.msg, "call.accept.operations[0].launch.task_infos[0].resources[1]."
	                          "scalar.value: must be a number");
}
