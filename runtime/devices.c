/* devices.c: the device nodes of linux.devices, made in the container's
 * /dev before pivot_root.
 *
 * Each node's parent directory is resolved inside the root (openat2
 * RESOLVE_IN_ROOT, created if missing) and the node made relative to it,
 * so a symlink in the rootfs cannot place a device node on the host. The
 * node is then reopened the same way, O_NOFOLLOW, checked to be what was
 * asked for, and chowned/chmodded through its fd, never by path.
 *
 * In a user namespace mknod is not allowed: the host's node of the same
 * path is bind-mounted instead (as crun does), after checking that it is
 * the device the spec names.
 */
#include "internal.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static bool dev_matches(const struct stat *st, const struct rt_device *d)
{
	if ((st->st_mode & S_IFMT) != d->type)
		return false;
	return d->type == S_IFIFO ||
	       (major(st->st_rdev) == d->major && minor(st->st_rdev) == d->minor);
}

/* The node `base` in `dirfd`, checked, opened O_PATH without following. */
static int dev_open_checked(int dirfd, const char *base, const struct rt_device *d, int *ret_fd,
                            struct ag_error *err)
{
	int fd = openat(dirfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return ag_error_set(err, errno, "open `%s` in the container root", d->path);
	if (fstat(fd, &st) < 0 || !dev_matches(&st, d)) {
		close(fd);
		return ag_error_set(err, 0, "`%s` in the container root is not the node just made",
		                    d->path);
	}
	*ret_fd = fd;
	return 0;
}

static int dev_make(int dirfd, const char *base, const struct rt_device *d, struct ag_error *err)
{
	dev_t dev = d->type == S_IFIFO ? 0 : makedev(d->major, d->minor);
	if (mknodat(dirfd, base, d->type | (d->mode & 0777), dev) < 0) {
		if (errno != EEXIST)
			return ag_error_set(err, errno, "mknod `%s`", d->path);
		/* The spec's node replaces what the rootfs or the default /dev
		 * had there (a file, a link, another node; never a directory). */
		if (unlinkat(dirfd, base, 0) < 0 ||
		    mknodat(dirfd, base, d->type | (d->mode & 0777), dev) < 0)
			return ag_error_set(err, errno, "replace `%s` with the device node",
			                    d->path);
	}
	_cleanup_close_ int fd = -1;
	int r = dev_open_checked(dirfd, base, d, &fd, err);
	if (r < 0)
		return r;
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	/* mknod honours the umask; the mode is set again. chown first: it
	 * clears setgid bits a chmod would have set. */
	if (chown(p, d->uid, d->gid) < 0)
		return ag_error_set(err, errno, "chown `%s` to %u:%u", d->path, d->uid, d->gid);
	if (chmod(p, d->mode & 0777) < 0)
		return ag_error_set(err, errno, "chmod `%s`", d->path);
	return 0;
}

static int dev_bind(int dirfd, const char *base, const struct rt_device *d, struct ag_error *err)
{
	_cleanup_close_ int src = open(d->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (src < 0)
		return ag_error_set(err, errno,
		                    "open the host's `%s` (in a user namespace devices are "
		                    "bind-mounted from the host)",
		                    d->path);
	if (fstat(src, &st) < 0 || !dev_matches(&st, d))
		return ag_error_set(err, 0,
		                    "the host's `%s` is not the device the spec names (in a user "
		                    "namespace devices are bind-mounted from the host)",
		                    d->path);
	int f = openat(dirfd, base, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (f < 0 && errno != EEXIST)
		return ag_error_set(err, errno, "create the mount point `%s`", d->path);
	if (f >= 0)
		close(f);
	_cleanup_close_ int dst = openat(dirfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (dst < 0)
		return ag_error_set(err, errno, "open `%s` in the container root", d->path);
	char ps[64], pd[64];
	snprintf(ps, sizeof(ps), "/proc/self/fd/%d", src);
	snprintf(pd, sizeof(pd), "/proc/self/fd/%d", dst);
	if (mount(ps, pd, NULL, MS_BIND, NULL) < 0)
		return ag_error_set(err, errno, "bind the host's `%s`", d->path);
	return 0;
}

int rt__devices_create(int rootfd, const struct rt_spec *spec, bool in_userns, struct ag_error *err)
{
	for (size_t i = 0; i < spec->n_devices; i++) {
		const struct rt_device *d = &spec->devices[i];
		_cleanup_free_ char *dir = ag_strdup(d->path);
		char *slash = strrchr(dir, '/');
		const char *base = d->path + (slash - dir) + 1;
		*slash = '\0';
		_cleanup_close_ int dirfd = -1;
		int r = rt__open_in_root(rootfd, dir, true, false, &dirfd);
		if (r < 0)
			return ag_error_set(err, -r,
			                    "linux.devices[%zu]: open `%s` in the container root",
			                    i, dir);
		r = in_userns ? dev_bind(dirfd, base, d, err) : dev_make(dirfd, base, d, err);
		if (r < 0)
			return ag_error_wrap(err, "linux.devices[%zu]", i);
	}
	return 0;
}
