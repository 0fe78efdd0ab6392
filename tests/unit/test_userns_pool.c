/* Root without danger (issue 15): the agent's --userns_range and
 * --userns_size, the pool's check against the host's users and
 * subordinate ranges, the spec of a task in a user namespace of its own,
 * and which OCI-like specs get one. */
#include "agent/flags.h"
#include "containerizer/policy.h"
#include "containerizer/userns.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int parse(struct agent_flags *f, struct ag_error *err, const char *a1, const char *a2,
                 const char *a3, const char *a4)
{
	static char prog[] = "agora-agent";
	char *argv[] = {prog, (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL};
	int argc = 1;
	while (argv[argc])
		argc++;
	agent_flags_init(f);
	return agent_flags_parse(f, argc, argv, err);
}

Test(userns_flags, the_default_pool_holds_1024_ranges_of_65536_above_subuid_and_below_2_31)
{
	struct agent_flags f;
	struct ag_error err = {0};
	cr_assert(parse(&f, &err, NULL, NULL, NULL, NULL) == 0, "%s", err.msg);
	cr_expect_eq(f.userns.first, 1879048192u);
	cr_expect_eq(f.userns.size, 65536u);
	cr_expect_eq(ctz_userns_slots(&f.userns), 1024u);
	cr_expect_lt((uint64_t)f.userns.first + f.userns.count, 1ull << 31);
	/* useradd's SUB_UID_MAX default (600100000) and its last range */
	cr_expect_gt(f.userns.first, 600100000u + 65536u);
	agent_flags_free(&f);

	cr_assert(parse(&f, &err, "--userns_range", "none", NULL, NULL) == 0, "%s", err.msg);
	cr_expect_eq(f.userns.count, 0u);
	cr_expect_eq(ctz_userns_slots(&f.userns), 0u);
	agent_flags_free(&f);

	cr_assert(parse(&f, &err, "--userns_range=200000000-200999999", "--userns_size", "1000",
	                NULL) == 0,
	          "%s", err.msg);
	cr_expect_eq(f.userns.first, 200000000u);
	cr_expect_eq(f.userns.count, 1000000u);
	cr_expect_eq(ctz_userns_slots(&f.userns), 1000u);
	agent_flags_free(&f);
}

Test(userns_flags, bad_ranges_and_sizes_are_refused_naming_the_flag)
{
	static const struct {
		const char *flag, *value, *msg;
	} bad[] = {
	        {"--userns_range", "", "--userns_range: FIRST-LAST (host ids, decimal) or `none`"},
	        {"--userns_range", "100000", "--userns_range: FIRST-LAST"},
	        {"--userns_range", "a-b", "--userns_range: FIRST-LAST"},
	        {"--userns_range", "100000-", "--userns_range: FIRST-LAST"},
	        {"--userns_range", "-5-10", "--userns_range: FIRST-LAST"},
	        {"--userns_range", "200000-100000", "`200000-100000` begins after its end"},
	        {"--userns_range", "0-1000000", "reaches below 65536: 0-65535 are the host's own"},
	        {"--userns_range", "65535-1000000", "reaches below 65536"},
	        {"--userns_range", "4294901760-4294967295", "holds 4294967295"},
	        {"--userns_range", "100000-5000000000", "--userns_range: FIRST-LAST"},
	        {"--userns_range", "100000-165534",
	         "--userns_range: 100000-165534 holds 65535 ids, less than one task's range of "
	         "65536 (--userns_size)"},
	        {"--userns_size", "1",
	         "--userns_range: 1879048192-1946157055 holds 67108864 ranges of 1 ids "
	         "(--userns_size), more than the 65536 an agent hands out"},
	        {"--userns_size", "0", "--userns_size: a number of ids per task"},
	        {"--userns_size", "-1", "--userns_size: a number of ids per task"},
	        {"--userns_size", "4294967296", "--userns_size: a number of ids per task"},
	        {"--userns_size", "lots", "--userns_size: a number of ids per task"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct agent_flags f;
		struct ag_error err = {0};
		cr_expect(parse(&f, &err, bad[i].flag, bad[i].value, NULL, NULL) == -EINVAL,
		          "%s %s accepted", bad[i].flag, bad[i].value);
		cr_expect(strstr(err.msg, bad[i].msg), "%s %s: `%s`", bad[i].flag, bad[i].value,
		          err.msg);
		agent_flags_free(&f);
	}
}

static char *write_tmp(const char *text)
{
	char *p = strdup("/tmp/agora-subid-XXXXXX");
	int fd = mkstemp(p);
	cr_assert(fd >= 0);
	cr_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	return p;
}

Test(userns_pool, a_pool_overlapping_a_subordinate_range_or_a_host_user_is_refused)
{
	struct ctz_userns_pool p;
	struct ag_error err = {0};
	cr_assert(ctz_userns_pool_of(300000, 431071, 65536, &p, &err) == 0, "%s", err.msg);
	char *clear = write_tmp("alice:100000:65536\nbob:431072:65536\n");
	char *overlap = write_tmp("alice:100000:65536\nbob:400000:65536\n");
	cr_expect(ctz_userns_pool_check_host(&p, clear, clear, &err) == 0, "%s", err.msg);
	cr_expect(ctz_userns_pool_check_host(&p, overlap, clear, &err) == -EEXIST);
	cr_expect(strstr(err.msg, "--userns_range: 300000-431071 overlaps the subordinate ids of"),
	          "%s", err.msg);
	cr_expect(strstr(err.msg, "line 2 (`bob:400000:65536`)"), "%s", err.msg);
	cr_expect(ctz_userns_pool_check_host(&p, clear, overlap, &err) == -EEXIST);
	/* The host's own users: nobody (65534) in a pool starting below it
	 * cannot be made (65536 is the lowest first id), so take one that
	 * holds uid 65534 as a raw pool. */
	struct ctz_userns_pool raw = {.first = 60000, .count = 10000, .size = 1000};
	cr_expect(ctz_userns_pool_check_host(&raw, clear, clear, &err) == -EEXIST);
	cr_expect(strstr(err.msg, "of the host's user `nobody`"), "%s", err.msg);
	struct ctz_userns_pool none = {.size = 65536};
	cr_expect(ctz_userns_pool_check_host(&none, overlap, overlap, &err) == 0);
	unlink(clear);
	unlink(overlap);
	free(clear);
	free(overlap);
}

Test(userns_pool, a_spec_gets_a_user_namespace_of_its_own_mapped_to_the_range)
{
	struct ag_error err = {0};
	char *json = strdup("{\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"user\","
	                    "\"path\":\"/proc/1/ns/user\"}],\"uidMappings\":[{\"containerID\":0,"
	                    "\"hostID\":0,\"size\":1}]}}");
	cr_assert(ctz_userns_apply(&json, 2000000000u, 65536, &err) == 0, "%s", err.msg);
	cr_expect_str_eq(json,
	                 "{\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"user\"}],"
	                 "\"uidMappings\":[{\"containerID\":0,\"hostID\":2000000000,\"size\":"
	                 "65536}],\"gidMappings\":[{\"containerID\":0,\"hostID\":2000000000,"
	                 "\"size\":65536}]}}");
	free(json);
	json = strdup("{}");
	cr_assert(ctz_userns_apply(&json, 70000, 1, &err) == 0, "%s", err.msg);
	cr_expect_str_eq(json, "{\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":"
	                       "[{\"containerID\":0,\"hostID\":70000,\"size\":1}],\"gidMappings\":"
	                       "[{\"containerID\":0,\"hostID\":70000,\"size\":1}]}}");
	free(json);
}

static bool wants(const struct ctz_pol_config *p, const char *spec, char **ret_after)
{
	json_t *oci = json_loads(spec, 0, NULL);
	cr_assert(oci, "%s", spec);
	bool w = ctz_pol_oci_userns(p, "web", oci);
	*ret_after = json_dumps(json_object_get(oci, "linux"), JSON_COMPACT);
	json_decref(oci);
	return w;
}

Test(userns_policy, uid_0_without_a_user_namespace_gets_one_unless_the_role_may_be_host_root)
{
	struct ctz_pol_config none = {0}, root_ok = {.allow_root = "web"};
	char *after = NULL;
	cr_expect(wants(&none, "{\"process\":{\"user\":{\"uid\":0}}}", &after));
	cr_expect_str_eq(after, "{\"namespaces\":[{\"type\":\"user\"}]}");
	free(after);
	cr_expect(wants(&none,
	                "{\"process\":{\"user\":{\"uid\":0}},\"linux\":{\"namespaces\":[{\"type\":"
	                "\"pid\"}]}}",
	                &after));
	cr_expect_str_eq(after, "{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"user\"}]}");
	free(after);
	/* a user namespace of its own without maps: the pool maps it */
	cr_expect(wants(&none,
	                "{\"process\":{\"user\":{\"uid\":1000}},\"linux\":{\"namespaces\":["
	                "{\"type\":\"user\"}]}}",
	                &after));
	free(after);
	/* the host's root where the role may be it; its own maps; a joined
	 * namespace; a user; junk (ctz_pol_check_oci refuses it) */
	cr_expect(!wants(&root_ok, "{\"process\":{\"user\":{\"uid\":0}}}", &after));
	free(after);
	cr_expect(!wants(&none,
	                 "{\"process\":{\"user\":{\"uid\":0}},\"linux\":{\"namespaces\":[{\"type\":"
	                 "\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,"
	                 "\"size\":1}]}}",
	                 &after));
	free(after);
	cr_expect(!wants(&none,
	                 "{\"process\":{\"user\":{\"uid\":0}},\"linux\":{\"namespaces\":[{\"type\":"
	                 "\"user\",\"path\":\"/proc/1/ns/user\"}]}}",
	                 &after));
	free(after);
	cr_expect(wants(&none, "{\"process\":{\"args\":[\"sh\"]}}", &after), "no uid is uid 0");
	free(after);
	cr_expect(!wants(&none, "{\"process\":{\"user\":{\"uid\":\"0\"}}}", &after));
	free(after);
	cr_expect(!wants(&none, "{\"process\":{\"user\":{\"uid\":1000}}}", &after));
	free(after);
	cr_expect(!wants(&none, "{\"process\":{\"user\":{\"uid\":0}},\"linux\":[]}", &after));
	free(after);
}
