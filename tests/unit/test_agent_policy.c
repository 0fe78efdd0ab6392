/* The agent's policy: every escalation refused by default, naming the
 * field and the flag, and allowed for the roles the flags list. */
#include "containerizer/policy.h"

#include <criterion/criterion.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static json_t *spec(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	cr_assert(j, "%s", je.text);
	return j;
}

static void refused(const struct ctz_pol_config *p, const char *role, const char *text,
                    const char *needle)
{
	json_t *j = spec(text);
	struct ag_error err = {0};
	/* -EPERM for an escalation, -EINVAL for what no role may have */
	int r = ctz_pol_check_oci(p, role, j, &err);
	cr_expect(r == -EPERM || r == -EINVAL, "%s: allowed", text);
	cr_expect(strstr(err.msg, needle), "`%s` not in `%s`", needle, err.msg);
	json_decref(j);
}

static void allowed(const struct ctz_pol_config *p, const char *role, const char *text)
{
	json_t *j = spec(text);
	struct ag_error err = {0};
	cr_expect(ctz_pol_check_oci(p, role, j, &err) == 0, "%s: %s", text, err.msg);
	json_decref(j);
}

#define USER "\"process\":{\"user\":{\"uid\":1000,\"gid\":1000}"

Test(policy, role_lists)
{
	cr_expect(ctz_pol_role_in("web,db", "db"));
	cr_expect(ctz_pol_role_in("web,db", "web"));
	cr_expect(!ctz_pol_role_in("web,db", "we"));
	cr_expect(!ctz_pol_role_in("webdb", "web"));
	cr_expect(ctz_pol_role_in("*", "anything"));
	cr_expect(!ctz_pol_role_in(NULL, "web"));
	cr_expect(!ctz_pol_role_in("", "web"));
}

Test(policy, a_plain_spec_is_allowed)
{
	struct ctz_pol_config p = {0};
	allowed(&p, "web",
	        "{\"root\":{\"path\":\"busybox\"}," USER
	        ",\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]}},"
	        "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}],"
	        "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"}]}}");
}

Test(policy, extra_capabilities_name_the_set_the_cap_and_the_flag)
{
	struct ctz_pol_config p = {0};
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
	struct ctz_pol_config p = {.bind_paths = "/srv/data,/opt/shared/"};
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

/* A symlink below an allowed path (a task with it writable can make one)
 * does not lead a later task's mount out of it. */
Test(policy, host_paths_are_checked_as_resolved)
{
	char dir[] = "/tmp/agora-pol-XXXXXX";
	cr_assert(mkdtemp(dir));
	char link[64], sub[64], text[512];
	snprintf(link, sizeof(link), "%s/etc", dir);
	snprintf(sub, sizeof(sub), "%s/d", dir);
	cr_assert(symlink("/etc", link) == 0);
	cr_assert(mkdir(sub, 0755) == 0);
	struct ctz_pol_config p = {.bind_paths = dir};
	snprintf(text, sizeof(text),
	         "{" USER
	         "},\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\",\"source\":\"%s\"}]}",
	         link);
	refused(&p, "web", text, "mounts[0].source: a bind mount of the host's");
	snprintf(text, sizeof(text),
	         "{" USER "},\"mounts\":[{\"destination\":\"/x\",\"type\":\"overlay\",\"options\":"
	         "[\"lowerdir=%s\"]}]}",
	         link);
	refused(&p, "web", text, "mounts[0].options[0]: the overlay layer");
	snprintf(text, sizeof(text),
	         "{" USER
	         "},\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\",\"source\":\"%s\"}]}",
	         sub);
	allowed(&p, "web", text);
	unlink(link);
	rmdir(sub);
	rmdir(dir);
}

Test(policy, seccomp_and_no_new_privs)
{
	struct ctz_pol_config p = {0};
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
	struct ctz_pol_config p = {0};
	const char *s = "{" USER "},\"linux\":{\"namespaces\":[{\"type\":\"pid\"},"
	                "{\"type\":\"network\",\"path\":\"/proc/1/ns/net\"}]}}";
	refused(&p, "web", s,
	        "container.oci.linux.namespaces[1].path: joining an existing network namespace");
	p.allow_host_namespaces = "web";
	allowed(&p, "web", s);
}

Test(policy, sysctls)
{
	struct ctz_pol_config p = {0};
	const char *s = "{" USER "},\"linux\":{\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"}}}";
	refused(&p, "web", s, "container.oci.linux.sysctl.net.ipv4.ip_forward");
	p.allow_sysctls = "web";
	allowed(&p, "web", s);
}

Test(policy, root_on_the_host)
{
	struct ctz_pol_config p = {0};
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
	cr_expect(ctz_pol_check_uid(&p, "web", 0, "task.command.user", &err) == -EPERM);
	cr_expect(strstr(err.msg, "task.command.user: uid 0"));
	cr_expect(ctz_pol_check_uid(&p, "web", 65534, "task.command.user", &err) == 0);
	p.allow_root = "web";
	allowed(&p, "web", "{\"process\":{\"user\":{\"uid\":0}}}");
	cr_expect(ctz_pol_check_uid(&p, "web", 0, "task.command.user", &err) == 0);
}

Test(policy, defaults_fill_seccomp_no_new_privs_paths_and_namespaces)
{
	struct ctz_pol_config p = {.bind_paths = "/srv"};
	json_t *j = spec("{\"process\":{\"user\":{\"uid\":1}},\"linux\":{\"maskedPaths\":[\"/x\"],"
	                 "\"namespaces\":[{\"type\":\"pid\"}]},\"mounts\":[{\"destination\":\"/d\","
	                 "\"type\":\"bind\",\"source\":\"/srv/d\",\"options\":[\"rbind\"]}]}");
	ctz_pol_apply_defaults(&p, "web", j);
	cr_expect(json_is_true(json_object_get(json_object_get(j, "process"), "noNewPrivileges")));
	json_t *lx = json_object_get(j, "linux");
	cr_expect(json_object_get(json_object_get(lx, "seccomp"), "defaultAction"));
	/* the spec's own masked path kept, the defaults added */
	_cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
	cr_expect(strstr(text, "\"maskedPaths\":[\"/x\",\"/proc/acpi\""), "%s", text);
	cr_expect(strstr(text, "\"/proc/kcore\""), "%s", text);
	cr_expect(strstr(text, "\"readonlyPaths\":[\"/proc/bus\""), "%s", text);
	cr_expect(strstr(text, "{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":\"cgroup\"}"), "%s",
	          text);
	/* a host path is mounted nosuid,nodev */
	cr_expect(strstr(text, "\"options\":[\"rbind\",\"nosuid\",\"nodev\"]"), "%s", text);
	json_decref(j);

	/* a role that may share the host's namespaces and mount anything
	 * gets what it asked */
	p.allow_host_namespaces = "web";
	p.allow_host_mounts = "web";
	j = spec("{\"process\":{\"user\":{\"uid\":1}},\"linux\":{\"namespaces\":[]},"
	         "\"mounts\":[{\"destination\":\"/d\",\"type\":\"bind\",\"source\":\"/e\"}]}");
	ctz_pol_apply_defaults(&p, "web", j);
	cr_expect_eq(json_array_size(json_object_get(json_object_get(j, "linux"), "namespaces")),
	             0);
	cr_expect_null(json_object_get(json_array_get(json_object_get(j, "mounts"), 0), "options"));
	json_decref(j);
}

/* ---- issue 12: the allow-list ---- */

#include "runtime/runtime.h"

#include <grp.h>
#include <sys/resource.h>

static void refused_task(const char *text, const char *needle)
{
	struct ctz_pol_config p = {0};
	json_t *j = spec(text);
	struct ag_error err = {0};
	cr_expect(ctz_pol_check_task(&p, "web", j, &err) < 0, "%s: allowed", text);
	cr_expect(strstr(err.msg, needle), "`%s` not in `%s`", needle, err.msg);
	json_decref(j);
}

/* Every field of the runtime's own default spec is in the table: with
 * every flag it passes, without flags it is refused for what it asks
 * (uid 0, seccomp ...), never as unknown. */
Test(policy, every_field_of_the_default_spec_is_classified)
{
	_cleanup_free_ char *text = rt_spec_default_json();
	struct ctz_pol_config all = {.allow_host_mounts = "*",
	                             .allow_capabilities = "*",
	                             .allow_unconfined = "*",
	                             .allow_host_namespaces = "*",
	                             .allow_root = "*",
	                             .allow_sysctls = "*",
	                             .allow_devices = "*",
	                             .allow_groups = "*",
	                             .allow_rlimits = "*"};
	allowed(&all, "web", text);
	json_t *j = spec(text);
	struct ag_error err = {0};
	struct ctz_pol_config none = {0};
	cr_expect(ctz_pol_check_oci(&none, "web", j, &err) < 0);
	cr_expect(!strstr(err.msg, "unknown field"), "%s", err.msg);
	json_decref(j);
}

Test(policy, unknown_and_unsupported_fields_are_refused_naming_the_path)
{
	struct ctz_pol_config p = {0};
	refused(&p, "web", "{" USER ",\"ioPriority\":{}}}",
	        "container.oci.process.ioPriority: unknown field");
	refused(&p, "web", "{" USER "},\"vm\":{}}", "container.oci.vm: unknown field");
	refused(&p, "web",
	        "{" USER "},\"mounts\":[{\"destination\":\"/x\",\"type\":\"tmpfs\"},"
	        "{\"destination\":\"/y\",\"type\":\"tmpfs\",\"uidMappings\":[]}]}",
	        "container.oci.mounts[1].uidMappings: unknown field");
	refused(&p, "web", "{\"process\":{\"user\":{\"uid\":1,\"username\":\"x\"}}}",
	        "container.oci.process.user.username: unknown field");
	refused(&p, "web", "{" USER "},\"hooks\":{\"poststop\":[]}}",
	        "container.oci.hooks: hooks run on the host");
	refused(&p, "web", "{" USER "},\"linux\":{\"intelRdt\":{}}}",
	        "container.oci.linux.intelRdt: not supported");
	refused(&p, "web", "{" USER "},\"linux\":{\"resources\":{\"pids\":{\"limit\":-1}}}}",
	        "container.oci.linux.resources: set by the agent");
	refused(&p, "web", "{" USER "},\"linux\":{\"cgroupsPath\":\"/\"}}",
	        "container.oci.linux.cgroupsPath");
	refused(&p, "web", "{" USER ",\"apparmorProfile\":\"x\"}}",
	        "container.oci.process.apparmorProfile: not supported");
	refused(&p, "web", "{" USER ",\"terminal\":true}}", "container.oci.process.terminal");
	refused(&p, "web",
	        "{" USER "},\"linux\":{\"devices\":[{\"path\":\"/dev/x\",\"type\":\"p\","
	        "\"color\":1}]}}",
	        "container.oci.linux.devices[0].color: unknown field");
	/* even a role allowed everything cannot have what the agent does not
	 * know or would run on the host */
	struct ctz_pol_config all = {
	        .allow_host_mounts = "*", .allow_root = "*", .allow_devices = "*"};
	refused(&all, "web", "{" USER "},\"hooks\":{}}", "container.oci.hooks");
	refused(&all, "web", "{" USER ",\"scheduler\":{}}}", "container.oci.process.scheduler");
}

#define PRIV "[\"CAP_SETUID\"]"

Test(policy, privilege_raising_capabilities_in_every_set)
{
	struct ctz_pol_config p = {0};
	static const char *const sets[] = {"bounding", "effective", "permitted", "inheritable",
	                                   "ambient"};
	static const char *const raising[] = {
	        "CAP_SETUID",     "CAP_SETGID", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH",
	        "CAP_FOWNER",     "CAP_CHOWN",  "CAP_SYS_ADMIN",    "CAP_SYS_PTRACE",
	        "CAP_SYS_MODULE", "CAP_MKNOD",  "CAP_NET_RAW",      "cap_setuid"};
	for (size_t s = 0; s < 5; s++)
		for (size_t c = 0; c < sizeof(raising) / sizeof(*raising); c++) {
			char text[512], needle[128];
			snprintf(text, sizeof(text),
			         "{" USER ",\"capabilities\":{\"%s\":[\"%s\"]}}}", sets[s],
			         raising[c]);
			snprintf(needle, sizeof(needle),
			         "container.oci.process.capabilities.%s: %s is not allowed",
			         sets[s], raising[c]);
			refused(&p, "web", text, needle);
		}
	allowed(&p, "web",
	        "{" USER ",\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"cap_audit_write\","
	        "\"CAP_NET_BIND_SERVICE\",\"CAP_SYS_CHROOT\"],\"ambient\":[\"CAP_KILL\"]}}}");
	/* Docker's 14 inside a user namespace of its own that does not map
	 * the host's root; CAP_SYS_ADMIN still not */
#define USERNS                                                                                     \
	"\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,"     \
	"\"hostID\":200000,\"size\":65536}],\"gidMappings\":[{\"containerID\":0,\"hostID\":"       \
	"200000,"                                                                                  \
	"\"size\":65536}]}"
	allowed(&p, "web",
	        "{\"process\":{\"user\":{\"uid\":0,\"gid\":0},\"capabilities\":{\"bounding\":"
	        "[\"CAP_SETUID\",\"CAP_DAC_OVERRIDE\",\"CAP_CHOWN\"],\"effective\":" PRIV
	        "}}," USERNS "}");
	refused(&p, "web",
	        "{\"process\":{\"user\":{\"uid\":0,\"gid\":0},\"capabilities\":{\"bounding\":"
	        "[\"CAP_SYS_ADMIN\"]}}," USERNS "}",
	        "CAP_SYS_ADMIN is not allowed");
	/* a user namespace that maps the host's root is no shelter */
	refused(&p, "web",
	        "{" USER ",\"capabilities\":{\"effective\":" PRIV "}},\"linux\":{\"namespaces\":"
	        "[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":"
	        "65536}],\"gidMappings\":[{\"containerID\":0,\"hostID\":200000,\"size\":65536}]}}",
	        "capabilities.effective: CAP_SETUID");
	p.allow_capabilities = "web";
	allowed(&p, "web", "{" USER ",\"capabilities\":{\"ambient\":[\"CAP_SYS_ADMIN\"]}}}");
}

Test(policy, mounts_of_every_type)
{
	struct ctz_pol_config p = {.bind_paths = "/srv/data"};
#define M(x) "{" USER "},\"mounts\":[" x "]}"
	refused(&p, "web",
	        M("{\"destination\":\"/h\",\"type\":\"overlay\",\"source\":\"overlay\","
	          "\"options\":[\"lowerdir=/etc:/srv\"]}"),
	        "container.oci.mounts[0].options[0]: the overlay layer `/etc` of the host");
	refused(&p, "web",
	        M("{\"destination\":\"/h\",\"type\":\"overlay\",\"options\":[\"lowerdir=/srv/data/a"
	          "\",\"upperdir=/var/u\",\"workdir=/srv/data/w\"]}"),
	        "mounts[0].options[1]: the overlay layer `/var/u`");
	refused(&p, "web",
	        M("{\"destination\":\"/h\",\"type\":\"overlay\",\"options\":[\"lowerdir=/srv/data/"
	          "a\\\\:/etc\"]}"),
	        "escaped characters");
	allowed(&p, "web",
	        M("{\"destination\":\"/h\",\"type\":\"overlay\",\"options\":[\"lowerdir=/srv/data/"
	          "a:"
	          "/srv/data/b\",\"upperdir=/srv/data/u\",\"workdir=/srv/data/"
	          "w\",\"index=off\"]}"));
	refused(&p, "web",
	        M("{\"destination\":\"/h\",\"type\":\"overlay\",\"options\":[\"lowerdir+=/srv/data/"
	          "a\"]}"),
	        "mounts[0].options[0]: the option `lowerdir+=/srv/data/a`");
	refused(&p, "web", M("{\"destination\":\"/d\",\"type\":\"ext4\",\"source\":\"/dev/vda1\"}"),
	        "container.oci.mounts[0].type: a mount of type `ext4`");
	refused(&p, "web", M("{\"destination\":\"/d\",\"source\":\"/dev/vda1\"}"),
	        "container.oci.mounts[0].type: a mount of type `(none)`");
	refused(&p, "web", M("{\"destination\":\"/x/proc\",\"type\":\"proc\"}"),
	        "mounts[0].destination: proc may be mounted only at /proc");
	refused(&p, "web", M("{\"destination\":\"/s\",\"type\":\"sysfs\"}"),
	        "sysfs may be mounted only at /sys");
	refused(&p, "web",
	        M("{\"destination\":\"/t\",\"type\":\"tmpfs\",\"options\":[\"size=1m\","
	          "\"mpol=bind\"]}"),
	        "mounts[0].options[1]: the option `mpol=bind` is not one this agent allows for a "
	        "tmpfs mount");
	refused(&p, "web",
	        M("{\"destination\":\"/c\",\"type\":\"cgroup\",\"options\":[\"nsdelegate\"]}"),
	        "mounts[0].options[0]");
	refused(&p, "web",
	        M("{\"destination\":\"/t\",\"type\":\"tmpfs\",\"options\":[\"rshared\"]}"),
	        "mounts[0].options[0]: `rshared` on a mount");
	refused(&p, "web",
	        M("{\"destination\":\"/d\",\"type\":\"bind\",\"source\":\"/srv/data\","
	          "\"options\":[\"rbind\",\"dev\"]}"),
	        "mounts[0].options[1]: `dev` on a mount of a host path");
	/* a pseudo file system with the bind option is a bind of its source */
	refused(&p, "web",
	        M("{\"destination\":\"/d\",\"type\":\"tmpfs\",\"source\":\"/etc\","
	          "\"options\":[\"bind\"]}"),
	        "mounts[0].source: a bind mount of the host's `/etc`");
	refused(&p, "web", M("{\"destination\":\"/d\",\"type\":\"bind\",\"source\":\"srv/data\"}"),
	        "mounts[0].source");
	allowed(&p, "web",
	        M("{\"destination\":\"/proc\",\"type\":\"proc\",\"options\":[\"hidepid=2\"]},"
	          "{\"destination\":\"/"
	          "dev\",\"type\":\"tmpfs\",\"options\":[\"nosuid\",\"mode=755\","
	          "\"size=65536k\"]},{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"options\":"
	          "[\"newinstance\",\"ptmxmode=0666\",\"gid=5\"]},{\"destination\":\"/dev/mqueue\","
	          "\"type\":\"mqueue\"},{\"destination\":\"/sys\",\"type\":\"sysfs\",\"options\":"
	          "[\"ro\"]},{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"options\":"
	          "[\"ro\",\"rslave\"]},{\"destination\":\"/d\",\"type\":\"bind\",\"source\":"
	          "\"/srv/data/x\",\"options\":[\"rbind\",\"ro\"]}"));
	refused(&p, "web", "{" USER "},\"linux\":{\"rootfsPropagation\":\"rshared\"}}",
	        "container.oci.linux.rootfsPropagation");
	p.allow_host_mounts = "web";
	allowed(&p, "web",
	        M("{\"destination\":\"/d\",\"type\":\"ext4\",\"source\":\"/dev/vda1\",\"options\":"
	          "[\"data=ordered\"]},{\"destination\":\"/h\",\"type\":\"overlay\",\"options\":["
	          "\"lowerdir=/etc\"]}"));
}

/* A group of the host that nobody (65534) is not in: disk, else shadow. */
static gid_t foreign_group(void)
{
	struct group *g = getgrnam("disk");
	if (!g)
		g = getgrnam("shadow");
	if (!g)
		cr_skip_test("the host has no disk or shadow group");
	return g->gr_gid;
}

Test(policy, host_groups_and_gid_0)
{
	struct ctz_pol_config p = {0};
	gid_t g = foreign_group();
	char text[1024], needle[128];
	snprintf(text, sizeof(text),
	         "{\"process\":{\"user\":{\"uid\":65534,\"gid\":65534,\"additionalGids\":[%u]}}}",
	         (unsigned)g);
	snprintf(needle, sizeof(needle),
	         "container.oci.process.user.additionalGids[0]: the host's group %u", (unsigned)g);
	refused(&p, "web", text, needle);
	snprintf(text, sizeof(text), "{\"process\":{\"user\":{\"uid\":65534,\"gid\":%u}}}",
	         (unsigned)g);
	refused(&p, "web", text, "container.oci.process.user.gid: the host's group");
	refused(&p, "web", "{\"process\":{\"user\":{\"uid\":65534,\"gid\":0}}}",
	        "container.oci.process.user.gid: gid 0 on the host");
	refused(&p, "web",
	        "{\"process\":{\"user\":{\"uid\":65534,\"gid\":65534,\"additionalGids\":[0]}}}",
	        "additionalGids[0]: gid 0 on the host (no user namespace) is not allowed for role "
	        "\"web\" (agent flag --policy_allow_root)");
	/* a gid no host group has is anyone's */
	allowed(&p, "web",
	        "{\"process\":{\"user\":{\"uid\":65534,\"gid\":65534,\"additionalGids\":"
	        "[3999999]}}}");
	/* in a user namespace: every host id the maps reach */
	snprintf(text, sizeof(text),
	         "{\"process\":{\"user\":{\"uid\":1,\"gid\":1}},\"linux\":{\"namespaces\":[{"
	         "\"type\":"
	         "\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":200000,\"size\":10}],"
	         "\"gidMappings\":[{\"containerID\":0,\"hostID\":200000,\"size\":10},"
	         "{\"containerID\":10,\"hostID\":%u,\"size\":1}]}}",
	         (unsigned)g);
	snprintf(needle, sizeof(needle),
	         "container.oci.linux.gidMappings[1]: maps the host's group %u", (unsigned)g);
	refused(&p, "web", text, needle);
	refused(&p, "web",
	        "{\"process\":{\"user\":{\"uid\":1,\"gid\":1}},\"linux\":{\"namespaces\":[{"
	        "\"type\":"
	        "\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":10}],"
	        "\"gidMappings\":[{\"containerID\":0,\"hostID\":200000,\"size\":10}]}}",
	        "container.oci.linux.uidMappings[0]: a mapping of the host's uid 0");
	refused(&p, "web",
	        "{\"process\":{\"user\":{\"uid\":1,\"gid\":1}},\"linux\":{\"namespaces\":[{"
	        "\"type\":"
	        "\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":200000,\"size\":10}],"
	        "\"gidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":10}]}}",
	        "container.oci.linux.gidMappings[0]: a mapping of the host's gid 0");
	p.allow_groups = "web";
	allowed(&p, "web", text);
	snprintf(text, sizeof(text),
	         "{\"process\":{\"user\":{\"uid\":65534,\"gid\":65534,\"additionalGids\":[%u]}}}",
	         (unsigned)g);
	allowed(&p, "web", text);
}

Test(policy, device_nodes)
{
	struct ctz_pol_config p = {0};
	const char *s = "{" USER "},\"linux\":{\"devices\":[{\"path\":\"/dev/vda\",\"type\":\"b\","
	                "\"major\":254,\"minor\":0,\"fileMode\":438}]}}";
	refused(&p, "web", s,
	        "container.oci.linux.devices[0]: a device node (`/dev/vda`) is not allowed for "
	        "role \"web\" (agent flag --policy_allow_devices)");
	p.allow_devices = "web";
	allowed(&p, "web", s);
}

Test(policy, rlimits_are_bounded_by_the_agents_own)
{
	struct ctz_pol_config p = {0};
	struct rlimit rt;
	cr_assert(getrlimit(RLIMIT_RTPRIO, &rt) == 0);
	char text[512];
	if (rt.rlim_max != RLIM_INFINITY && rt.rlim_max < 99) {
		snprintf(text, sizeof(text),
		         "{" USER
		         ",\"rlimits\":[{\"type\":\"RLIMIT_RTPRIO\",\"soft\":0,\"hard\":%llu}]}}",
		         (unsigned long long)rt.rlim_max + 1);
		refused(&p, "web", text, "container.oci.process.rlimits[0].hard: RLIMIT_RTPRIO");
		p.allow_rlimits = "web";
		allowed(&p, "web", text);
		p.allow_rlimits = NULL;
	}
	struct rlimit nf;
	cr_assert(getrlimit(RLIMIT_NOFILE, &nf) == 0);
	snprintf(text, sizeof(text),
	         "{" USER
	         ",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1024,\"hard\":%llu}]}}",
	         (unsigned long long)nf.rlim_max);
	allowed(&p, "web", text);
	/* Above int64 the master passes values on as digits, and a spec may
	 * say "unlimited": bounded the same. */
	if (nf.rlim_max != RLIM_INFINITY) {
		static const char *const big[] = {"\"unlimited\"", "\"18446744073709551615\""};
		for (size_t i = 0; i < 2; i++) {
			snprintf(text, sizeof(text),
			         "{" USER ",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":"
			         "1024,\"hard\":%s}]}}",
			         big[i]);
			refused(&p, "web", text,
			        "container.oci.process.rlimits[0].hard: RLIMIT_NOFILE");
		}
	}
	refused(&p, "web", "{" USER ",\"oomScoreAdj\":-500}}",
	        "container.oci.process.oomScoreAdj: a negative oomScoreAdj");
	allowed(&p, "web", "{" USER ",\"oomScoreAdj\":500}}");
}

Test(policy, taskinfo_fields_are_classified)
{
#define TASK "{\"name\":\"t\",\"task_id\":{\"value\":\"t\"},\"agent_id\":{\"value\":\"a\"},"
	struct ctz_pol_config p = {0};
	struct ag_error err = {0};
	json_t *ok = spec(TASK "\"resources\":[],\"command\":{\"value\":\"true\",\"shell\":true,"
	                       "\"environment\":{\"variables\":[{\"name\":\"A\",\"value\":\"1\","
	                       "\"type\":\"VALUE\"}]}},\"labels\":{\"labels\":[]},\"kill_policy\":"
	                       "{\"grace_period\":{\"nanoseconds\":1}},\"data\":\"eA==\"}");
	cr_expect(ctz_pol_check_task(&p, "web", ok, &err) == 0, "%s", err.msg);
	json_decref(ok);
	refused_task(TASK "\"container\":{\"type\":\"MESOS\",\"volumes\":[]}}",
	             "task.container.volumes: not supported");
	refused_task(TASK "\"container\":{\"type\":\"DOCKER\"}}",
	             "task.container.type: `DOCKER` is not supported");
	refused_task(TASK "\"container\":{\"type\":\"MESOS\",\"mesos\":{\"image\":{}}}}",
	             "task.container.mesos.image: not supported");
	refused_task(TASK "\"container\":{\"type\":\"MESOS\",\"linux_info\":{}}}",
	             "task.container.linux_info");
	refused_task(TASK "\"executor\":{}}", "task.executor: not supported");
	refused_task(TASK "\"health_check\":{}}", "task.health_check.type: required");
	/* The fetcher (issue 15): URIs are checked, each field named. */
	refused_task(TASK "\"command\":{\"value\":\"x\",\"uris\":[{\"value\":\"\"}]}}",
	             "task.command.uris[0].value: empty");
	refused_task(TASK "\"command\":{\"value\":\"x\",\"uris\":[{\"value\":\"s3://b/k\"}]}}",
	             "task.command.uris[0].value: `s3://b/k`: not supported");
	refused_task(TASK "\"command\":{\"value\":\"x\",\"uris\":[{\"value\":\"fw/x\"}]}}",
	             "no --frameworks_home");
	refused_task(TASK "\"command\":{\"value\":\"x\",\"uris\":[{\"value\":\"/a\","
	                  "\"output_file\":\"/etc/x\"}]}}",
	             "task.command.uris[0].output_file: `/etc/x`");
	refused_task(TASK "\"command\":{\"value\":\"x\",\"uris\":[{\"value\":\"/a\","
	                  "\"mode\":1}]}}",
	             "task.command.uris[0].mode: unknown field");
	json_t *uris = spec(TASK "\"command\":{\"value\":\"x\",\"uris\":[{\"value\":"
	                         "\"http://h/a.tgz\",\"extract\":true,\"cache\":true,"
	                         "\"executable\":false,\"output_file\":\"b/a.tgz\"}]}}");
	cr_expect(ctz_pol_check_task(&p, "web", uris, &err) == 0, "%s", err.msg);
	json_decref(uris);
	refused_task(TASK "\"command\":{\"value\":\"x\",\"environment\":{\"variables\":[{\"name\":"
	                  "\"A\",\"type\":\"SECRET\"}]}}}",
	             "task.command.environment.variables[0].type: `SECRET` is not supported");
	refused_task(TASK "\"command\":{\"value\":\"x\"},\"container\":{\"type\":\"MESOS\","
	                  "\"oci\":{}}}",
	             "task.command: a task with container.oci");
	refused_task(TASK "\"future\":1}", "task.future: unknown field");
}
