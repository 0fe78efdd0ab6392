/* vm-guest tier: a container without a cgroup namespace of its own leaves
 * the cgroup2 hierarchy's options alone. A fresh cgroup2 mount in the
 * host's cgroup namespace applies its options (none) to the whole
 * hierarchy, clearing e.g. memory_localevents or nsdelegate that the host
 * mounted it with; agora-run binds the host's mount instead. Here, in the
 * test VM, the guest's options may be changed for the test. */
#include "agbundle.h"
#include "agtest.h"
#include "common/common.h"

#include <stdio.h>
#include <sys/mount.h>

/* The super options of the mount at /sys/fs/cgroup (mountinfo's last
 * field), without "rw". */
static char *cgroup2_options(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	cr_assert_not_null(f);
	char line[1024];
	char *opts = NULL;
	while (!opts && fgets(line, sizeof(line), f)) {
		if (!strstr(line, " /sys/fs/cgroup ") || !strstr(line, " - cgroup2 "))
			continue;
		char *last = strrchr(line, ' ');
		last[strcspn(last, "\n")] = '\0';
		opts = ag_strdup(last + 1);
	}
	fclose(f);
	cr_assert_not_null(opts, "no cgroup2 mount on /sys/fs/cgroup");
	if (strncmp(opts, "rw,", 3) == 0)
		memmove(opts, opts + 3, strlen(opts + 3) + 1);
	else if (strcmp(opts, "rw") == 0)
		opts[0] = '\0';
	return opts;
}

TestSuite(cgroupfs_guest, .fini = bundle_cleanup_all);

Test(cgroupfs_guest, a_container_without_cgroupns_keeps_the_hierarchys_options)
{
	_cleanup_free_ char *before = cgroup2_options();
	_cleanup_free_ char *with =
	        strstr(before, "memory_localevents")
	                ? ag_strdup(before)
	                : ag_asprintf("%s%smemory_localevents", before, *before ? "," : "");
	cr_assert_eq(mount(NULL, "/sys/fs/cgroup", NULL, MS_REMOUNT, with), 0, "remount %s: %s",
	             with, strerror(errno));
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sh", "-c", "test -e /sys/fs/cgroup/cgroup.controllers"));
	bundle_drop_namespace(&b, "cgroup");
	bundle_write(&b);
	char *out = NULL, *err = NULL;
	int rc = agora_run(&b, &out, &err, ARGS("run", "cgopts"));
	_cleanup_free_ char *after = cgroup2_options();
	/* The guest's options as they were, whatever happened. */
	mount(NULL, "/sys/fs/cgroup", NULL, MS_REMOUNT, before);
	cr_assert_eq(rc, 0, "run: exit %d, stdout: %s, stderr: %s", rc, out, err);
	free(out);
	free(err);
	cr_assert_not_null(strstr(after, "memory_localevents"),
	                   "the container's mount cleared the hierarchy's options: %s -> %s", with,
	                   after);
	bundle_done(&b);
}
