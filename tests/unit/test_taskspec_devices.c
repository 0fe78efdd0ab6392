/* The agent's task specs and device rules (containerizer/taskspec.c): with
 * cgroups, linux.resources.devices denies everything but the task's own
 * linux.devices nodes (the runtime adds the standard ones); without, no
 * rules (the runtime would refuse them). */
#include "containerizer/taskspec.h"
#include "runtime/runtime.h"

#include <criterion/criterion.h>
#include <string.h>

static struct rt_spec *spec_of(const char *devices, bool rules)
{
	char *in = NULL;
	cr_assert_gt(asprintf(&in,
	                      "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"tmp\"},\"process\":{"
	                      "\"args\":[\"true\"],\"cwd\":\"/\"},\"linux\":{\"devices\":%s}}",
	                      devices),
	             0);
	struct ctz_ts_limits lim = {.pids_max = 16, .device_rules = rules};
	struct ag_error err = {0};
	char *json = NULL;
	cr_assert_eq(ctz_ts_oci_spec_json(in, "/", &lim, "/sb", &json, &err), 0, "%s", err.msg);
	free(in);
	struct rt_spec *s = NULL;
	cr_assert_eq(rt_spec_parse(json, strlen(json), "/b", &s, &err), 0, "%s: %s", err.msg, json);
	free(json);
	return s;
}

Test(taskspec_devices, a_task_gets_deny_all_and_its_own_nodes)
{
	struct rt_spec *s =
	        spec_of("[{\"path\":\"/dev/fuse\",\"type\":\"c\",\"major\":10,\"minor\":229},"
	                "{\"path\":\"/dev/loop3\",\"type\":\"b\",\"major\":7,\"minor\":3},"
	                "{\"path\":\"/dev/f\",\"type\":\"p\"}]",
	                true);
	const struct rt_resources *r = &s->resources;
	cr_assert(r->has_devices);
	cr_assert_eq(r->n_dev_rules, 3);
	cr_assert(!r->dev_rules[0].allow);
	cr_assert_eq(r->dev_rules[0].type, 'a');
	cr_assert_eq(r->dev_rules[0].access, RT_DEV_ACC_ALL);
	cr_assert(r->dev_rules[1].allow);
	cr_assert_eq(r->dev_rules[1].type, 'c');
	cr_assert_eq(r->dev_rules[1].major, 10);
	cr_assert_eq(r->dev_rules[1].minor, 229);
	cr_assert_eq(r->dev_rules[1].access, RT_DEV_ACC_ALL);
	cr_assert_eq(r->dev_rules[2].type, 'b');
	cr_assert_eq(r->dev_rules[2].minor, 3);
	rt_spec_free(s);
}

Test(taskspec_devices, without_cgroups_there_are_no_rules)
{
	struct rt_spec *s = spec_of("[]", false);
	cr_assert(!s->resources.has_devices);
	rt_spec_free(s);
	s = spec_of("[]", true);
	cr_assert(s->resources.has_devices);
	cr_assert_eq(s->resources.n_dev_rules, 1);
	rt_spec_free(s);
}
