/* agora-run's /sys/fs/cgroup for a container without a cgroup namespace of
 * its own: the host's cgroup2 tree from its root, read-only. (That it is
 * the host's mount bound, which leaves the host's cgroup2 options alone, is
 * tested in the vm tier: tests/vm/test_runtime_cgroupfs_guest.c.) */
#include "agbundle.h"
#include "agtest.h"
#include "common/common.h"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

TestSuite(cgroupfs, .fini = bundle_cleanup_all);

/* Where the host has its cgroup2 root, or NULL. */
static const char *host_cgroup2(void)
{
	static const char *const paths[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
	for (size_t i = 0; i < AG_ARRAY_SIZE(paths); i++) {
		struct statfs sfs;
		_cleanup_free_ char *type = ag_asprintf("%s/cgroup.type", paths[i]);
		if (statfs(paths[i], &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC &&
		    access(type, F_OK) < 0)
			return paths[i];
	}
	return NULL;
}

Test(cgroupfs, without_a_cgroup_namespace_the_host_tree_from_its_root_read_only)
{
	const char *host = host_cgroup2();
	if (!host)
		AG_SKIP("this host has no cgroup2 mount of the hierarchy's root");
	/* A cgroup of the test's own, to be seen from inside. */
	char name[64];
	snprintf(name, sizeof(name), "agora-cgroupfs-test-%d", (int)getpid());
	_cleanup_free_ char *mine = ag_asprintf("%s/%s", host, name);
	cr_assert_eq(mkdir(mine, 0755), 0, "mkdir %s: %s", mine, strerror(errno));
	_cleanup_free_ char *script = ag_asprintf(
	        "cd /sys/fs/cgroup; test -e cgroup.controllers && echo controllers; "
	        "test -e cgroup.type && echo type; test -d %s && echo mine; "
	        "busybox mkdir other 2>&1; busybox grep ' /sys/fs/cgroup ' /proc/self/mountinfo",
	        name);
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sh", "-c", script));
	bundle_drop_namespace(&b, "cgroup");
	_cleanup_free_ char *out = run_probe(&b, "cgfs");
	rmdir(mine);
	cr_assert_not_null(strstr(out, "controllers\n"), "%s", out);
	cr_assert_null(strstr(out, "type\n"), "a cgroup below the root: %s", out);
	cr_assert_not_null(strstr(out, "mine\n"), "not the host's tree: %s", out);
	cr_assert_not_null(strstr(out, "Read-only file system"), "%s", out);
	cr_assert_not_null(strstr(out, " /sys/fs/cgroup ro,"), "%s", out);
	cr_assert_not_null(strstr(out, " - cgroup2 "), "%s", out);
	bundle_done(&b);
}
