/* discover.c: finding the cgroup2 hierarchy and telling which controllers
 * can be used, and why not. */
#include "cgroupv2/internal.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/vfs.h>

static int open_cgroup2(const char *path, int *ret_fd, unsigned long *ret_type)
{
	_cleanup_close_ int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* fstatfs on the fd we keep, not statfs on the path: the check then
	 * holds for the directory actually used. */
	struct statfs sfs;
	if (fstatfs(fd, &sfs) < 0)
		return -errno;
	*ret_type = (unsigned long)sfs.f_type;
	if (sfs.f_type != CGROUP2_SUPER_MAGIC)
		return -ENODEV;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int cg_root_open(const char *mountpoint, int *ret_fd, struct ag_error *err)
{
	unsigned long type = 0;
	int fd = -1, r;
	if (mountpoint) {
		r = open_cgroup2(mountpoint, &fd, &type);
		if (r == -ENODEV)
			return ag_error_set(
			        err, ENODEV,
			        "`%s` is not on a cgroup2 filesystem (statfs type 0x%lx); "
			        "mount one with `mount -t cgroup2 none %s`",
			        mountpoint, type, mountpoint);
		if (r < 0)
			return ag_error_set(err, r, "open cgroup2 mount `%s`", mountpoint);
		*ret_fd = fd;
		return 0;
	}

	/* Unified hosts mount cgroup2 at /sys/fs/cgroup; systemd's hybrid mode
	 * puts a tmpfs there with the v1 hierarchies and cgroup2 (without
	 * controllers) at /sys/fs/cgroup/unified. */
	static const char *const candidates[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
	for (size_t i = 0; i < AG_ARRAY_SIZE(candidates); i++) {
		r = open_cgroup2(candidates[i], &fd, &type);
		if (r == 0) {
			*ret_fd = fd;
			return 0;
		}
		if (r != -ENODEV && r != -ENOENT && r != -ENOTDIR)
			return ag_error_set(err, r, "open `%s`", candidates[i]);
	}
	return ag_error_set(err, ENODEV,
	                    "no cgroup2 filesystem at /sys/fs/cgroup or /sys/fs/cgroup/unified "
	                    "(cgroup v1 only host?); mount one with "
	                    "`mount -t cgroup2 none /sys/fs/cgroup` or boot with "
	                    "systemd.unified_cgroup_hierarchy=1");
}

/* ---- why a controller is missing -------------------------------------- */

/* v1 name of a controller in /proc/cgroups and in v1 mount options. */
static const char *v1_name(unsigned c)
{
	return c == CG_IO ? "blkio" : cg_controller_name(c);
}

unsigned cg__v1_from_proc_cgroups(char *text)
{
	unsigned mask = 0;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[64];
		unsigned hier, num, enabled;
		if (sscanf(line, "%63s %u %u %u", name, &hier, &num, &enabled) != 4)
			continue; /* the "#subsys_name ..." header */
		for (unsigned c = 1; c & CG_CONTROLLERS_ALL; c <<= 1)
			if (hier != 0 && enabled && strcmp(name, v1_name(c)) == 0)
				mask |= c;
	}
	return mask;
}

unsigned cg__v1_from_mountinfo(char *text)
{
	unsigned mask = 0;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		/* "36 25 0:31 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu,cpuacct":
		 * fstype "cgroup" is v1 ("cgroup2" is not matched); the super
		 * options are the last field (spaces in paths are \040). */
		char *sep = strstr(line, " - cgroup ");
		if (!sep)
			continue;
		char *opts = strrchr(sep, ' ') + 1;
		for (char *s2 = NULL, *o = strtok_r(opts, ",", &s2); o;
		     o = strtok_r(NULL, ",", &s2))
			for (unsigned c = 1; c & CG_CONTROLLERS_ALL; c <<= 1)
				if (strcmp(o, v1_name(c)) == 0)
					mask |= c;
	}
	return mask;
}

/* Controllers bound to a cgroup v1 hierarchy. /proc/cgroups has them with a
 * non-zero hierarchy id; kernels built without cgroup v1 support may lack
 * the file (and then nothing is bound to v1 anyway), so the mount table is
 * the fallback. */
static unsigned v1_bound(void)
{
	_cleanup_free_ char *text = NULL;
	if (ag_read_file_at(AT_FDCWD, "/proc/cgroups", 1 << 16, &text, NULL) == 0)
		return cg__v1_from_proc_cgroups(text);
	if (ag_read_file_at(AT_FDCWD, "/proc/self/mountinfo", 1 << 22, &text, NULL) == 0)
		return cg__v1_from_mountinfo(text);
	return 0;
}

/* "cpu, memory and pids"-style list into buf. */
static void names_list(unsigned mask, char *buf, size_t size)
{
	size_t off = 0;
	buf[0] = '\0';
	for (unsigned c = 1; c & CG_CONTROLLERS_ALL; c <<= 1) {
		if (!(mask & c))
			continue;
		int n = snprintf(buf + off, size - off, "%s%s", off ? ", " : "",
		                 cg_controller_name(c));
		if (n < 0 || (size_t)n >= size - off)
			return;
		off += (size_t)n;
	}
}

static bool plural(unsigned mask)
{
	return (mask & (mask - 1)) != 0;
}

/* Append one reason to msg; `groups` > 1 prefixes it with the names. */
static void append_reason(char *msg, size_t size, unsigned mask, int groups, const char *fmt_one,
                          const char *fmt_many, const char *tail)
{
	size_t off = strlen(msg);
	char names[128];
	names_list(mask, names, sizeof(names));
	if (off && off < size)
		off += (size_t)snprintf(msg + off, size - off, "; ");
	if (groups > 1 && off < size)
		off += (size_t)snprintf(msg + off, size - off, "%s: ", names);
	if (off < size)
		off += (size_t)snprintf(msg + off, size - off, "%s",
		                        plural(mask) ? fmt_many : fmt_one);
	if (off < size)
		snprintf(msg + off, size - off, "%s", tail);
}

int cg_check_controllers(int rootfd, const char *parent, unsigned want, unsigned *ret_have_mask,
                         struct ag_error *err)
{
	const char *rel;
	if (cg__path_check(parent, true, &rel) < 0)
		return ag_error_set(err, 0,
		                    "cgroup path `%s`: refused (\"..\", \".\" or a control "
		                    "character in a component)",
		                    parent);

	/* The deepest existing ancestor (inclusive) of `parent`. */
	_cleanup_free_ char *p = ag_strdup(rel);
	_cleanup_close_ int dfd = -1;
	for (;;) {
		int fd = cg__open_beneath(rootfd, p, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			dfd = fd;
			break;
		}
		if (fd != -ENOENT || p[0] == '\0')
			return ag_error_set(err, fd, "open cgroup `%s`", rel);
		char *slash = strrchr(p, '/');
		if (slash)
			*slash = '\0';
		else
			p[0] = '\0';
	}

	char where[512];
	cg__fd_name(dfd, where, sizeof(where));
	unsigned have = 0, top = 0;
	int r = cg__read_controllers(dfd, "cgroup.controllers", &have);
	if (r < 0)
		return ag_error_set(err, r, "read `cgroup.controllers` in %s", where);
	unsigned missing = want & CG_CONTROLLERS_ALL & ~have;
	if (ret_have_mask)
		*ret_have_mask = have;
	if (!missing)
		return 0;

	r = cg__read_controllers(rootfd, "cgroup.controllers", &top);
	if (r < 0)
		top = 0;
	unsigned v1 = v1_bound();
	unsigned undelegated = missing & top;
	unsigned hybrid = missing & ~top & v1;
	unsigned absent = missing & ~top & ~v1;
	int groups = !!undelegated + !!hybrid + !!absent;

	char names[128], reasons[AG_ERROR_MSG_MAX] = "";
	names_list(missing, names, sizeof(names));
	if (hybrid)
		append_reason(
		        reasons, sizeof(reasons), hybrid, groups,
		        "this host is in hybrid mode and it is bound to a cgroup v1 hierarchy",
		        "this host is in hybrid mode and they are bound to cgroup v1 "
		        "hierarchies",
		        " (see /proc/cgroups); boot with systemd.unified_cgroup_hierarchy=1 "
		        "or use --cgroup-manager=disabled");
	if (undelegated)
		append_reason(reasons, sizeof(reasons), undelegated, groups,
		              "it is available higher up but not enabled",
		              "they are available higher up but not enabled",
		              " in the cgroup.subtree_control of the cgroups above (enable "
		              "top-down, or ask whoever delegated this subtree)");
	if (absent)
		append_reason(reasons, sizeof(reasons), absent, groups,
		              "this kernel does not provide it",
		              "this kernel does not provide them",
		              " (not built in, or turned off with cgroup_disable= on the kernel "
		              "command line; see /proc/cgroups)");
	ag_error_set(err, 0, "cgroup v2 controller%s %s %s not available under %s: %s",
	             plural(missing) ? "s" : "", names, plural(missing) ? "are" : "is", where,
	             reasons);
	/* A condition of the host, not of a syscall: no strerror in the text,
	 * but callers still get a code to test. */
	if (err)
		err->code = EOPNOTSUPP;
	return -EOPNOTSUPP;
}
