/* The agent's policy: every escalation refused by default, naming the
 * field and the flag, and allowed for the roles the flags list. */
#include "agent/policy.h"

#include <criterion/criterion.h>
#include <string.h>

static json_t *spec(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	cr_assert(j, "%s", je.text);
	return j;
}

static void refused(const struct pol_config *p, const char *role, const char *text,
                    const char *needle)
{
	json_t *j = spec(text);
	struct ag_error err = {0};
	cr_expect(pol_check_oci(p, role, j, &err) == -EPERM, "%s: allowed", text);
	cr_expect(strstr(err.msg, needle), "`%s` not in `%s`", needle, err.msg);
	json_decref(j);
}

static void allowed(const struct pol_config *p, const char *role, const char *text)
{
	json_t *j = spec(text);
	struct ag_error err = {0};
	cr_expect(pol_check_oci(p, role, j, &err) == 0, "%s: %s", text, err.msg);
	json_decref(j);
}

#define USER "\"process\":{\"user\":{\"uid\":1000,\"gid\":1000}"

Test(policy, role_lists)
{
	cr_expect(pol_role_in("web,db", "db"));
	cr_expect(pol_role_in("web,db", "web"));
	cr_expect(!pol_role_in("web,db", "we"));
	cr_expect(!pol_role_in("webdb", "web"));
	cr_expect(pol_role_in("*", "anything"));
	cr_expect(!pol_role_in(NULL, "web"));
	cr_expect(!pol_role_in("", "web"));
}

Test(policy, a_plain_spec_is_allowed)
{
	struct pol_config p = {0};
	allowed(&p, "web",
	        "{\"root\":{\"path\":\"busybox\"}," USER
	        ",\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_CHOWN\"]}},"
	        "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}],"
	        "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"}]}}");
}

Test(policy, extra_capabilities_name_the_set_the_cap_and_the_flag)
{
	struct pol_config p = {0};
	const char *s =
	        "{" USER ",\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_SYS_ADMIN\"]}}}";
	refused(&p, "web", s,
	        "container.oci.process.capabilities.bounding: CAP_SYS_ADMIN is not allowed for "
	        "role \"web\" (agent flag --policy_allow_capabilities)");
	p.allow_capabilities = "db,web";
	allowed(&p, "web", s);
	refused(&p, "other", s, "CAP_SYS_ADMIN");
}

Test(policy, host_bind_mounts_outside_the_allowed_paths)
{
	struct pol_config p = {.bind_paths = "/srv/data,/opt/shared/"};
	const char *etc = "{" USER "},\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\","
	                  "\"source\":\"/etc\"}]}";
	refused(&p, "web", etc,
	        "container.oci.mounts[0].source: a bind mount of the host's `/etc`");
	refused(&p, "web",
	        "{" USER "},\"mounts\":[{\"destination\":\"/x\",\"source\":\"/srv/data/../../etc\","
	        "\"options\":[\"rbind\"]}]}",
	        "mounts[0].source");
	refused(&p, "web",
	        "{" USER "},\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\","
	        "\"source\":\"/srv/database\"}]}",
	        "mounts[0].source");
	allowed(&p, "web",
	        "{" USER "},\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\","
	        "\"source\":\"/srv/data/a\"},{\"destination\":\"/y\",\"type\":\"bind\","
	        "\"source\":\"/opt/shared\"}]}");
	p.allow_host_mounts = "web";
	allowed(&p, "web", etc);
}

Test(policy, seccomp_and_no_new_privs)
{
	struct pol_config p = {0};
	const char *s =
	        "{" USER "},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"}}}";
	refused(&p, "web", s, "container.oci.linux.seccomp:");
	refused(&p, "web", "{\"process\":{\"user\":{\"uid\":1},\"noNewPrivileges\":false}}",
	        "container.oci.process.noNewPrivileges");
	p.allow_unconfined = "*";
	allowed(&p, "web", s);
}

Test(policy, joining_host_namespaces)
{
	struct pol_config p = {0};
	const char *s = "{" USER "},\"linux\":{\"namespaces\":[{\"type\":\"pid\"},"
	                "{\"type\":\"network\",\"path\":\"/proc/1/ns/net\"}]}}";
	refused(&p, "web", s,
	        "container.oci.linux.namespaces[1].path: joining an existing network namespace");
	p.allow_host_namespaces = "web";
	allowed(&p, "web", s);
}

Test(policy, sysctls)
{
	struct pol_config p = {0};
	const char *s = "{" USER "},\"linux\":{\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"}}}";
	refused(&p, "web", s, "container.oci.linux.sysctl.net.ipv4.ip_forward");
	p.allow_sysctls = "web";
	allowed(&p, "web", s);
}

Test(policy, root_on_the_host)
{
	struct pol_config p = {0};
	refused(&p, "web", "{\"process\":{\"user\":{\"uid\":0}}}",
	        "container.oci.process.user.uid: uid 0 on the host");
	refused(&p, "web", "{\"process\":{}}", "process.user.uid");
	refused(&p, "web",
	        "{\"process\":{\"user\":{\"uid\":0}},\"linux\":{\"namespaces\":[{\"type\":\"user\"}"
	        "],"
	        "\"uidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":65536}]}}",
	        "uid 0 mapped to the host's uid 0");
	allowed(&p, "web",
	        "{\"process\":{\"user\":{\"uid\":0}},\"linux\":{\"namespaces\":[{\"type\":\"user\"}"
	        "],"
	        "\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]}}");
	struct ag_error err = {0};
	cr_expect(pol_check_uid(&p, "web", 0, "task.command.user", &err) == -EPERM);
	cr_expect(strstr(err.msg, "task.command.user: uid 0"));
	cr_expect(pol_check_uid(&p, "web", 65534, "task.command.user", &err) == 0);
	p.allow_root = "web";
	allowed(&p, "web", "{\"process\":{\"user\":{\"uid\":0}}}");
	cr_expect(pol_check_uid(&p, "web", 0, "task.command.user", &err) == 0);
}

Test(policy, defaults_fill_seccomp_and_no_new_privs)
{
	json_t *j = spec("{\"process\":{\"user\":{\"uid\":1}}}");
	pol_apply_defaults(j);
	cr_expect(json_is_true(json_object_get(json_object_get(j, "process"), "noNewPrivileges")));
	cr_expect(json_object_get(json_object_get(json_object_get(j, "linux"), "seccomp"),
	                          "defaultAction"));
	json_decref(j);
}
