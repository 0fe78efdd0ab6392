/* vm-guest tier: linux.resources.devices enforced by the guest's real
 * cgroup v2 kernel (a BPF device program on the container's cgroup), seen
 * from inside the container: allowed mknod/open succeed (or reach the
 * driver: ENXIO/ENODEV for a device nobody backs), denied ones get EPERM.
 *
 * Each container runs one shell line of probe commands, each printing one
 * line, compared in order with what the rules say (containers are few:
 * each costs about a second under TCG).
 */
#include "agbundle.h"
#include "agtest.h"
#include "common/common.h"

#include <fcntl.h>

static void setup(void)
{
	agbundle_cgroups = true;
}

TestSuite(devices_guest, .init = setup, .fini = bundle_cleanup_all);

struct step {
	const char *cmd;    /* probe arguments */
	const char *expect; /* "ok", "errno=EPERM", or "reached" (not EPERM: the
	                     * cgroup let it through to the driver) */
};

static json_t *rule(bool allow, const char *type, int major, int minor, const char *access)
{
	return json_pack("{s:b, s:s, s:i, s:i, s:s}", "allow", allow, "type", type, "major", major,
	                 "minor", minor, "access", access);
}

static json_t *node(const char *path, const char *type, int major, int minor)
{
	return json_pack("{s:s, s:s, s:i, s:i, s:i}", "path", path, "type", type, "major", major,
	                 "minor", minor, "fileMode", 0600);
}

/* Runs the steps in one container with `rules` (NULL: no
 * linux.resources.devices) and `nodes` (linux.devices, may be NULL). */
static void run_steps(const char *id, json_t *rules, json_t *nodes, const struct step *steps,
                      size_t n)
{
	_cleanup_free_ char *script = ag_strdup("");
	for (size_t i = 0; i < n; i++) {
		char *s = ag_asprintf("%s/bin/probe %s;", script, steps[i].cmd);
		free(script);
		script = s;
	}
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sh", "-c", script));
	json_t *lx = json_object_get(b.cfg, "linux");
	if (rules)
		json_object_set_new(lx, "resources", json_pack("{s:o}", "devices", rules));
	if (nodes)
		json_object_set_new(lx, "devices", nodes);
	bundle_write(&b);
	char *out = NULL, *err = NULL;
	int rc = agora_run(&b, &out, &err, ARGS("run", id));
	cr_assert_eq(rc, 0, "%s: exit %d, out %s, err %s", id, rc, out, err);
	char *line = out;
	for (size_t i = 0; i < n; i++) {
		cr_assert(line && *line, "%s: no output for `%s`; out:\n%s", id, steps[i].cmd, out);
		char *end = strchr(line, '\n');
		cr_assert_not_null(end);
		*end = '\0';
		if (strcmp(steps[i].expect, "reached") == 0)
			cr_assert(strcmp(line, "ok") == 0 || strcmp(line, "errno=ENXIO") == 0 ||
			                  strcmp(line, "errno=ENODEV") == 0,
			          "%s: `%s` gave `%s`, want it let through", id, steps[i].cmd,
			          line);
		else
			cr_assert_str_eq(line, steps[i].expect, "%s: `%s` gave `%s`, want `%s`", id,
			                 steps[i].cmd, line, steps[i].expect);
		line = end + 1;
	}
	free(out);
	free(err);
	bundle_done(&b);
}

Test(devices_guest, the_deny_allow_matrix_from_inside_the_container)
{
	/* The usual leading deny-all, then:
	 *   1 every loop device (b 7:*, wildcard minor)
	 *   2 but loop1 neither read nor written (a later deny wins)
	 *   3 loop2 denied everything, 4 then allowed reading and mknod (a
	 *     later allow wins, for r and m only: w stays denied)
	 *   5 minor 11 of any char major (wildcard major), read and mknod */
	json_t *rules = json_pack("[o, o, o, o, o, o]", rule(false, "a", -1, -1, "rwm"),
	                          rule(true, "b", 7, -1, "rwm"), rule(false, "b", 7, 1, "rw"),
	                          rule(false, "b", 7, 2, "rwm"), rule(true, "b", 7, 2, "rm"),
	                          rule(true, "c", -1, 11, "rm"));
	/* A node the runtime makes (mknod of it is let through for the
	 * runtime): the host's first disk. */
	json_t *nodes = json_pack("[o]", node("/dev/sda", "b", 8, 0));
	const struct step steps[] = {
	        {"mknod /dev/l0 b 7 0", "ok"},
	        {"open /dev/l0 r", "reached"},
	        {"open /dev/l0 w", "reached"},
	        {"mknod /dev/l9 b 7 9", "ok"},
	        {"open /dev/l9 w", "reached"},
	        {"mknod /dev/l1 b 7 1", "ok"},
	        {"open /dev/l1 r", "errno=EPERM"},
	        {"open /dev/l1 w", "errno=EPERM"},
	        {"mknod /dev/l2 b 7 2", "ok"},
	        {"open /dev/l2 r", "reached"},
	        {"open /dev/l2 w", "errno=EPERM"},
	        /* The host's disk: no mknod, and the node the runtime made
	         * cannot be opened. */
	        {"mknod /dev/sdb b 8 16", "errno=EPERM"},
	        {"mknod /dev/sda2 b 8 0", "ok"}, /* as linux.devices has it */
	        {"open /dev/sda r", "errno=EPERM"},
	        {"open /dev/sda w", "errno=EPERM"},
	        /* Char 7:0 is not block 7:0. */
	        {"mknod /dev/c70 c 7 0", "errno=EPERM"},
	        {"mknod /dev/m11 c 99 11", "ok"},
	        {"open /dev/m11 r", "reached"},
	        {"open /dev/m11 w", "errno=EPERM"},
	        {"mknod /dev/n11 c 98 11", "ok"},
	        {"mknod /dev/m12 c 99 12", "errno=EPERM"},
	        {"mknod /dev/mem b 1 1", "errno=EPERM"},
	        {"mknod /dev/mem c 1 1", "errno=EPERM"},
	        /* The defaults hold after the deny-all. */
	        {"open /dev/null w", "ok"},
	        {"open /dev/zero r", "ok"},
	        {"open /dev/urandom r", "ok"},
	        {"open /dev/ptmx r", "ok"},
	        {"mknod /dev/null2 c 1 3", "ok"},
	        {"open /dev/null2 w", "ok"},
	};
	run_steps("matrix", rules, nodes, steps, AG_ARRAY_SIZE(steps));
}

Test(devices_guest, without_rules_only_the_defaults_are_allowed)
{
	/* The case: a container with CAP_MKNOD reaching the loop
	 * driver. Neither a node nor the open gets through. */
	const struct step steps[] = {
	        {"mknod /dev/l0 b 7 0", "errno=EPERM"},
	        {"mknod /dev/vda b 254 0", "errno=EPERM"},
	        {"mknod /dev/mem c 1 1", "errno=EPERM"},
	        {"mknod /dev/tun c 10 200", "errno=EPERM"},
	        {"open /dev/null w", "ok"},
	        {"open /dev/full w", "ok"},
	        {"open /dev/random r", "ok"},
	        {"open /dev/tty r", "reached"}, /* no controlling terminal: ENXIO */
	        {"mknod /dev/zero2 c 1 5", "ok"},
	        {"open /dev/zero2 r", "ok"},
	};
	run_steps("defaults", NULL, NULL, steps, AG_ARRAY_SIZE(steps));
	/* A deny-all alone is the same. */
	run_steps("denyall", json_pack("[o]", rule(false, "a", -1, -1, "rwm")), NULL, steps,
	          AG_ARRAY_SIZE(steps));
}

Test(devices_guest, allow_all_then_a_later_deny)
{
	/* Everything allowed, then mknod of any block device denied. */
	json_t *rules =
	        json_pack("[o, o]", rule(true, "a", -1, -1, "rwm"), rule(false, "b", -1, -1, "m"));
	const struct step steps[] = {
	        {"mknod /dev/l0 b 7 0", "errno=EPERM"}, {"mknod /dev/c99 c 99 1", "ok"},
	        {"open /dev/c99 r", "reached"},         {"open /dev/c99 w", "reached"},
	        {"mknod /dev/c97 c 97 0", "ok"},
	};
	run_steps("allowall", rules, NULL, steps, AG_ARRAY_SIZE(steps));
}

Test(devices_guest, hugepage_limits_are_written_or_refused_naming_the_field)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/true"));
	json_t *lx = json_object_get(b.cfg, "linux");
	json_object_set_new(lx, "resources",
	                    json_pack("{s:[{s:s, s:I}]}", "hugepageLimits", "pageSize", "2MB",
	                              "limit", (json_int_t)8 << 20));
	bundle_write(&b);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("create", "huge")), 0);
	_cleanup_free_ char *v = NULL;
	cr_assert_eq(ag_read_file_at(AT_FDCWD, "/sys/fs/cgroup/agora/huge/hugetlb.2MB.max", 64, &v,
	                             NULL),
	             0);
	cr_assert_str_eq(v, "8388608\n");
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("delete", "--force", "huge")), 0);

	/* A size the kernel does not have. */
	json_object_set_new(
	        lx, "resources",
	        json_pack("{s:[{s:s, s:i}]}", "hugepageLimits", "pageSize", "4MB", "limit", 0));
	bundle_write(&b);
	bundle_run_refused(&b, "huge4",
	                   "linux.resources.hugepageLimits[0].pageSize: this kernel has no "
	                   "4MB huge pages (no hugetlb.4MB.max)");
	bundle_done(&b);
}

static char *cg_file(const char *id, const char *file)
{
	_cleanup_free_ char *p = ag_asprintf("/sys/fs/cgroup/agora/%s/%s", id, file);
	char *v = NULL;
	cr_assert_eq(ag_read_file_at(AT_FDCWD, p, 256, &v, NULL), 0, "read %s", p);
	return v;
}

Test(devices_guest, cpu_burst_and_idle_are_written_or_refused_naming_the_field)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/true"));
	json_t *lx = json_object_get(b.cfg, "linux");
	json_object_set_new(lx, "resources",
	                    json_pack("{s:{s:i, s:i, s:i, s:i}}", "cpu", "quota", 50000, "period",
	                              100000, "burst", 20000, "idle", 1));
	bundle_write(&b);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("create", "burst")), 0);
	_cleanup_free_ char *burst = cg_file("burst", "cpu.max.burst");
	_cleanup_free_ char *idle = cg_file("burst", "cpu.idle");
	cr_assert_str_eq(burst, "20000\n");
	cr_assert_str_eq(idle, "1\n");
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("delete", "--force", "burst")), 0);

	/* More burst than quota: the kernel refuses, the message names the
	 * field. */
	json_object_set_new(lx, "resources",
	                    json_pack("{s:{s:i, s:i, s:i}}", "cpu", "quota", 50000, "period",
	                              100000, "burst", 60000));
	bundle_write(&b);
	bundle_run_refused(&b, "burst2",
	                   "linux.resources.cpu.burst: write 60000 to cpu.max.burst (it may not "
	                   "exceed the quota)");
	bundle_done(&b);
}
