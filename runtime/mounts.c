/* mounts.c: the container's root file system, built in the child's new
 * mount namespace.
 *
 * Every mount target is resolved inside the root with openat2's
 * RESOLVE_IN_ROOT and mounted through /proc/self/fd/N, so a symlink planted
 * in the rootfs (or swapped in during the setup) can never send a mount
 * outside the container (CVE-2021-30465). procfs targets are checked with
 * fstatfs after mounting (CVE-2019-19921), and /dev/null used to mask files
 * is checked to really be the 1:3 character device (CVE-2025-31133 family).
 */
#include "internal.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#define FD_PATH_MAX 64

static void fd_path(char buf[FD_PATH_MAX], int fd)
{
	snprintf(buf, FD_PATH_MAX, "/proc/self/fd/%d", fd);
}

static int openat2_in_root(int rootfd, const char *path, int flags, int *ret_fd)
{
	struct open_how how = {
	        .flags = (uint64_t)(flags | O_CLOEXEC),
	        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	/* EAGAIN: a rename or mount elsewhere raced a ".." lookup and the
	 * kernel could not prove the walk stayed in the root; it asks for a
	 * retry (openat2(2)). Bounded: under attack it is an error. */
	int fd, tries = 0;
	do
		fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	while (fd < 0 && (errno == EAGAIN || errno == EINTR) && ++tries < 64);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

int rt__open_in_root(int rootfd, const char *path, bool create, bool as_file, int *ret_fd)
{
	while (*path == '/')
		path++;
	if (*path == '\0')
		return openat2_in_root(rootfd, ".", O_PATH, ret_fd);

	int fd = -1;
	int r = openat2_in_root(rootfd, path, O_PATH, &fd);
	if (r == 0 || r != -ENOENT || !create) {
		if (r == 0)
			*ret_fd = fd;
		return r;
	}

	/* Walk component by component, creating what is missing. Each new
	 * entry is made relative to the fd of its parent, itself resolved in
	 * the root, so nothing is created outside it. */
	_cleanup_free_ char *copy = ag_strdup(path);
	_cleanup_close_ int parent = -1;
	r = openat2_in_root(rootfd, ".", O_PATH | O_DIRECTORY, &parent);
	if (r < 0)
		return r;
	char *save = NULL;
	_cleanup_free_ char *prefix = ag_calloc(1, strlen(path) + 2);
	for (char *comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		bool last = save == NULL || strspn(save, "/") == strlen(save);
		/* The prefix up to this component, resolved in the root. */
		if (prefix[0])
			strcat(prefix, "/");
		strcat(prefix, comp);
		int child = -1;
		r = openat2_in_root(rootfd, prefix, O_PATH, &child);
		if (r == -ENOENT) {
			if (last && as_file) {
				int f = openat(parent, comp,
				               O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
				if (f < 0 && errno != EEXIST)
					return -errno;
				if (f >= 0)
					close(f);
			} else if (mkdirat(parent, comp, 0755) < 0 && errno != EEXIST) {
				return -errno;
			}
			r = openat2_in_root(rootfd, prefix, O_PATH, &child);
		}
		if (r < 0)
			return r;
		close(parent);
		parent = child;
	}
	*ret_fd = TAKE_FD(parent);
	return 0;
}

int rt__chdir_in_root(const char *cwd, struct ag_error *err)
{
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int fd = -1;
	int r = root < 0 ? -errno : rt__open_in_root(root, cwd, false, false, &fd);
	if (r < 0)
		return ag_error_set(err, -r, "process.cwd: `%s` in the container", cwd);
	if (fchdir(fd) < 0)
		return ag_error_set(err, errno, "process.cwd: chdir `%s`", cwd);
	/* Belt and braces: a directory outside the root has no path from it
	 * (getcwd(3) fails or says "(unreachable)"). */
	char here[4096];
	if (!getcwd(here, sizeof(here)) || here[0] != '/')
		return ag_error_set(err, 0, "process.cwd: `%s` is outside the container root", cwd);
	return 0;
}

/* The flags of the mount that `fd` is on, as MS_* bits that a remount must
 * keep: in a user namespace the kernel refuses to clear locked flags. */
static unsigned long mount_flags_of(int fd)
{
	struct statvfs sv;
	if (fstatvfs(fd, &sv) < 0)
		return 0;
	unsigned long f = 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_RDONLY)
		f |= MS_RDONLY;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

/* Bind-remount what `path` (in the root) resolves to with `flags` added. */
static int remount_at(int rootfd, const char *path, unsigned long add, unsigned long clear,
                      struct ag_error *err)
{
	_cleanup_close_ int fd = -1;
	int r = rt__open_in_root(rootfd, path, false, false, &fd);
	if (r < 0)
		return ag_error_set(err, -r, "open `%s` in the container root", path);
	char p[FD_PATH_MAX];
	fd_path(p, fd);
	unsigned long flags = (mount_flags_of(fd) | add) & ~clear;
	if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | flags, NULL) < 0)
		return ag_error_set(err, errno, "remount `%s`", path);
	return 0;
}

/* "rro": MS_RDONLY on a bind remount covers only its top mount; the
 * submounts an rbind brought along stay writable unless mount_setattr (5.12)
 * sets the attribute on the whole tree. */
static int recursive_ro_at(int rootfd, const char *path, struct ag_error *err)
{
	_cleanup_close_ int fd = -1;
	int r = rt__open_in_root(rootfd, path, false, false, &fd);
	if (r < 0)
		return ag_error_set(err, -r, "open `%s` in the container root", path);
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) <
	    0)
		return ag_error_set(err, errno,
		                    "make `%s` recursively read-only (rro needs mount_setattr, "
		                    "Linux 5.12)",
		                    path);
	return 0;
}

static bool is_dir_fd(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

struct rt_dev {
	const char *name;
	unsigned major, minor;
};

static const struct rt_dev default_devs[] = {
        {"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
        {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

/* The minimal /dev: device nodes (bind mounts of the host's in a user
 * namespace, where mknod is not allowed), and the standard links. */
static int dev_populate(int rootfd, bool in_userns, struct ag_error *err)
{
	_cleanup_close_ int devfd = -1;
	int r = openat2_in_root(rootfd, "dev", O_DIRECTORY | O_RDONLY, &devfd);
	if (r < 0)
		return ag_error_set(err, -r, "open `/dev` in the container root");

	for (size_t i = 0; i < AG_ARRAY_SIZE(default_devs); i++) {
		const struct rt_dev *d = &default_devs[i];
		if (!in_userns) {
			if (mknodat(devfd, d->name, S_IFCHR | 0666, makedev(d->major, d->minor)) <
			            0 &&
			    errno != EEXIST)
				return ag_error_set(err, errno, "mknod `/dev/%s`", d->name);
			/* mknod honours the umask; the nodes must be 0666. */
			if (fchmodat(devfd, d->name, 0666, 0) < 0)
				return ag_error_set(err, errno, "chmod `/dev/%s`", d->name);
			continue;
		}
		int f = openat(devfd, d->name, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0666);
		if (f < 0)
			return ag_error_set(err, errno, "create `/dev/%s`", d->name);
		close(f);
		char host[32];
		snprintf(host, sizeof(host), "/dev/%s", d->name);
		_cleanup_close_ int src = open(host, O_PATH | O_CLOEXEC);
		_cleanup_close_ int dst = -1;
		r = openat2_in_root(devfd, d->name, O_PATH, &dst);
		if (src < 0 || r < 0)
			return ag_error_set(err, src < 0 ? errno : -r, "bind `/dev/%s`", d->name);
		char ps[FD_PATH_MAX], pd[FD_PATH_MAX];
		fd_path(ps, src);
		fd_path(pd, dst);
		if (mount(ps, pd, NULL, MS_BIND, NULL) < 0)
			return ag_error_set(err, errno, "bind `/dev/%s`", d->name);
	}

	static const char *const links[][2] = {
	        {"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"},
	        {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
	        {"pts/ptmx", "ptmx"},
	};
	for (size_t i = 0; i < AG_ARRAY_SIZE(links); i++)
		if (symlinkat(links[i][0], devfd, links[i][1]) < 0 && errno != EEXIST)
			return ag_error_set(err, errno, "symlink `/dev/%s`", links[i][1]);
	return 0;
}

static bool mount_is_bind(const struct rt_mount *m)
{
	return (m->flags & MS_BIND) || (m->type && strcmp(m->type, "bind") == 0);
}

/* The host's cgroup2 mount of the hierarchy's root, if there is one where
 * systems put it (unified, or hybrid's "unified"): a directory of the
 * cgroup2 file system without cgroup.type, which every cgroup but the root
 * has. -1 when there is none. */
static int host_cgroup2_root(void)
{
	static const char *const paths[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
	for (size_t i = 0; i < AG_ARRAY_SIZE(paths); i++) {
		int fd = open(paths[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		struct statfs sfs;
		if (fstatfs(fd, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC &&
		    faccessat(fd, "cgroup.type", F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
			return fd;
		close(fd);
	}
	return -1;
}

/* A container without a cgroup namespace of its own shares the host's: a
 * fresh cgroup2 mount there would show the same tree as the host's mount,
 * but the kernel applies a new mount's options to the whole hierarchy
 * (apply_cgroup_root_flags: no options clear the host's nsdelegate,
 * memory_recursiveprot, ...) and waits for an RCU grace period with the
 * fork lock held (cgroup_favor_dynmods) -- milliseconds of every launch on
 * a busy machine. A bind of the host's root mount shows the same tree with
 * neither. Returns 1 when done, 0 to mount afresh (no such host mount). */
static int cgroup2_bind_host(int rootfd, const struct rt_mount *m, const char *pd,
                             unsigned long flags, struct ag_error *err)
{
	_cleanup_close_ int host = host_cgroup2_root();
	if (host < 0)
		return 0;
	char ph[FD_PATH_MAX];
	fd_path(ph, host);
	if (mount(ph, pd, NULL, MS_BIND, NULL) < 0)
		return 0;
	int r = remount_at(rootfd, m->destination, flags, m->clear_flags, err);
	return r < 0 ? r : 1;
}

static int bind_source_open(const struct rt_mount *m, const char *bundle, int *ret_fd,
                            struct ag_error *err)
{
	if (!m->source)
		return ag_error_set(err, 0, "mount `%s`: a bind mount needs a source",
		                    m->destination);
	_cleanup_free_ char *src = m->source[0] == '/' ? ag_strdup(m->source)
	                                               : ag_asprintf("%s/%s", bundle, m->source);
	int fd = open(src, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return ag_error_set(err, errno, "bind mount source `%s`", src);
	*ret_fd = fd;
	return 0;
}

void rt__bind_sources_close(int *fds, size_t n)
{
	for (size_t i = 0; fds && i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
}

int rt__bind_sources_open(const struct rt_spec *spec, const char *bundle, int **ret_fds,
                          struct ag_error *err)
{
	if (!spec->n_mounts) {
		*ret_fds = NULL;
		return 0;
	}
	int *fds = ag_calloc(spec->n_mounts, sizeof(*fds));
	for (size_t i = 0; i < spec->n_mounts; i++)
		fds[i] = -1;
	for (size_t i = 0; i < spec->n_mounts; i++) {
		if (!mount_is_bind(&spec->mounts[i]))
			continue;
		int r = bind_source_open(&spec->mounts[i], bundle, &fds[i], err);
		if (r < 0) {
			rt__bind_sources_close(fds, spec->n_mounts);
			return ag_error_wrap(err, "mounts[%zu]", i);
		}
	}
	*ret_fds = fds;
	return 0;
}

/* sysfs where the kernel refuses a new one: in a user namespace that does
 * not own the network namespace (the host's, a command task's), whose
 * devices sysfs shows. The host's sysfs alone, read-only: `sysfs_tree`, a
 * detached copy of that one mount made before the user namespace existed
 * (a copy made inside would have to take the submounts too, which the
 * kernel locks to it: the host's /sys/fs/cgroup, debugfs, securityfs...),
 * moved onto `dst`. Its fs/cgroup is then an empty directory, where a
 * cgroup2 mount of the container's own cgroup namespace can go. Without
 * it (open_tree refused to an unprivileged runtime), the host's /sys with
 * its submounts, read-only, as crun does. */
static int host_sysfs(int rootfd, const struct rt_mount *m, int dst, const char *pd,
                      int *sysfs_tree, struct ag_error *err)
{
	if (*sysfs_tree >= 0) {
		if (syscall(SYS_move_mount, *sysfs_tree, "", dst, "",
		            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
			return ag_error_set(err, errno, "move the host's sysfs onto `%s`",
			                    m->destination);
		close(*sysfs_tree);
		*sysfs_tree = -1;
	} else if (mount("/sys", pd, NULL, MS_BIND | MS_REC, NULL) < 0) {
		return ag_error_set(err, errno, "bind the host's /sys on `%s`", m->destination);
	}
	return remount_at(rootfd, m->destination, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0,
	                  err);
}

/* `given_src`: the bind source opened beforehand, or -1. */
static int mount_one(int rootfd, const struct rt_mount *m, const char *bundle, bool in_userns,
                     bool own_cgroupns, int given_src, int *sysfs_tree, struct ag_error *err)
{
	bool bind = mount_is_bind(m);
	_cleanup_close_ int srcfd = -1;
	bool as_file = false;

	if (bind) {
		int r = given_src >= 0 ? ((srcfd = fcntl(given_src, F_DUPFD_CLOEXEC, 3)) < 0
		                                  ? ag_error_set(err, errno, "dup a mount source")
		                                  : 0)
		                       : bind_source_open(m, bundle, &srcfd, err);
		if (r < 0)
			return r;
		as_file = !is_dir_fd(srcfd);
	}

	_cleanup_close_ int dst = -1;
	int r = rt__open_in_root(rootfd, m->destination, true, as_file, &dst);
	if (r < 0)
		return ag_error_set(err, -r, "mount target `%s` in the container root",
		                    m->destination);
	const char *type = m->type;
	if (type && strcmp(type, "proc") == 0 && !is_dir_fd(dst))
		return ag_error_set(err, 0, "mount target `%s` for proc is not a directory",
		                    m->destination);

	char pd[FD_PATH_MAX];
	fd_path(pd, dst);
	unsigned long flags = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);

	if (bind) {
		char ps[FD_PATH_MAX];
		fd_path(ps, srcfd);
		if (mount(ps, pd, NULL, MS_BIND | (m->flags & MS_REC), NULL) < 0)
			return ag_error_set(err, errno, "bind mount `%s` on `%s`", m->source,
			                    m->destination);
		if (flags) {
			r = remount_at(rootfd, m->destination, flags, m->clear_flags, err);
			if (r < 0)
				return r;
		}
		if (m->recursive_ro) {
			r = recursive_ro_at(rootfd, m->destination, err);
			if (r < 0)
				return r;
		}
	} else {
		/* "cgroup" means the container's view of the cgroup v2 tree. */
		if (type && strcmp(type, "cgroup") == 0)
			type = "cgroup2";
		const char *source = m->source ? m->source : type;
		if (type && strcmp(type, "cgroup2") == 0 && !own_cgroupns && !in_userns &&
		    !m->data) {
			r = cgroup2_bind_host(rootfd, m, pd, flags, err);
			if (r < 0)
				return r;
			if (r > 0)
				goto propagation;
		}
		if (mount(source, pd, type, flags, m->data) < 0) {
			int e = errno;
			bool cgroup2 = type && strcmp(type, "cgroup2") == 0;
			if (e == EPERM && in_userns && type && strcmp(type, "sysfs") == 0) {
				r = host_sysfs(rootfd, m, dst, pd, sysfs_tree, err);
				if (r < 0)
					return r;
				goto propagation;
			}
			/* In a user namespace without a cgroup namespace of its
			 * own the kernel refuses cgroup2 (EPERM): the host's
			 * tree, read-only, as crun does (the spec shares the
			 * host's cgroup namespace, /proc/self/cgroup shows its
			 * paths anyway). With one of its own, never the host's
			 * tree: a container sees its own cgroup or nothing. */
			if (e == EPERM && in_userns && cgroup2 && !own_cgroupns &&
			    mount("/sys/fs/cgroup", pd, NULL, MS_BIND | MS_REC, NULL) == 0) {
				r = remount_at(rootfd, m->destination,
				               MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0,
				               err);
				if (r < 0)
					return r;
				goto propagation;
			}
			if (e == EBUSY && cgroup2)
				return ag_error_set(err, e,
				                    "mount cgroup2 on `%s`: a mount of the host's "
				                    "cgroup2 is there already (the kernel refuses "
				                    "the same file system on its own root); the "
				                    "host's tree is not shown instead",
				                    m->destination);
			return ag_error_set(err, e, "mount %s on `%s`%s%s%s", type ? type : "?",
			                    m->destination, m->data ? " (options " : "",
			                    m->data ? m->data : "", m->data ? ")" : "");
		}
		if (type && strcmp(type, "proc") == 0) {
			_cleanup_close_ int check = -1;
			struct statfs sfs;
			if (rt__open_in_root(rootfd, m->destination, false, false, &check) < 0 ||
			    fstatfs(check, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
				return ag_error_set(
				        err, 0,
				        "`%s` is not procfs after mounting it: refusing a "
				        "redirected /proc",
				        m->destination);
		}
		if (type && strcmp(type, "tmpfs") == 0 && strcmp(m->destination, "/dev") == 0) {
			r = dev_populate(rootfd, in_userns, err);
			if (r < 0)
				return r;
		}
	}

propagation:
	if (m->propagation) {
		_cleanup_close_ int again = -1;
		r = rt__open_in_root(rootfd, m->destination, false, false, &again);
		if (r < 0)
			return ag_error_set(err, -r, "reopen `%s`", m->destination);
		char pa[FD_PATH_MAX];
		fd_path(pa, again);
		if (mount(NULL, pa, NULL, m->propagation, NULL) < 0)
			return ag_error_set(err, errno, "set propagation of `%s`", m->destination);
	}
	return 0;
}

/* The host's /dev/null, verified: a masked path must get the real null
 * device even if something swapped the node for a link or another file. */
static int open_dev_null(int *ret_fd, struct ag_error *err)
{
	int fd = open("/dev/null", O_PATH | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0)
		return ag_error_set(err, errno, "open the host's /dev/null");
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 ||
	    minor(st.st_rdev) != 3) {
		close(fd);
		return ag_error_set(err, 0, "the host's /dev/null is not the 1:3 device");
	}
	*ret_fd = fd;
	return 0;
}

static int mask_path(int rootfd, int nullfd, const char *path, struct ag_error *err)
{
	_cleanup_close_ int fd = -1;
	int r = rt__open_in_root(rootfd, path, false, false, &fd);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return ag_error_set(err, -r, "masked path `%s`", path);
	char p[FD_PATH_MAX];
	fd_path(p, fd);
	if (is_dir_fd(fd)) {
		if (mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		          "size=0k,nr_inodes=1") < 0)
			return ag_error_set(err, errno, "mask `%s` with an empty tmpfs", path);
		return 0;
	}
	char pn[FD_PATH_MAX];
	fd_path(pn, nullfd);
	if (mount(pn, p, NULL, MS_BIND, NULL) < 0)
		return ag_error_set(err, errno, "mask `%s` with /dev/null", path);
	return 0;
}

static int readonly_path(int rootfd, const char *path, struct ag_error *err)
{
	_cleanup_close_ int fd = -1;
	int r = rt__open_in_root(rootfd, path, false, false, &fd);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return ag_error_set(err, -r, "read-only path `%s`", path);
	char p[FD_PATH_MAX];
	fd_path(p, fd);
	if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0)
		return ag_error_set(err, errno, "bind `%s` read-only", path);
	return remount_at(rootfd, path, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, err);
}

/* The root bound on itself (pivot_root needs a mount point) from the fd
 * `root_fd` opened before: a clone of its mount tree attached on it.
 * *ret_fd is the root of the new mount. */
static int root_bind_by_fd(int root_fd, const char *path, int *ret_fd, struct ag_error *err)
{
	int tree = (int)syscall(SYS_open_tree, root_fd, "",
	                        OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
	if (tree < 0)
		return ag_error_set(err, errno, "bind the root `%s` on itself (open_tree)", path);
	if (syscall(SYS_move_mount, tree, "", root_fd, "",
	            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
		int e = errno;
		close(tree);
		return ag_error_set(err, e, "bind the root `%s` on itself (move_mount)", path);
	}
	*ret_fd = tree;
	return 0;
}

int rt__rootfs_setup(const struct rt_spec *spec, const char *bundle, bool in_userns, int root_fd,
                     const int *src_fds, int sysfs_tree, rt_hook_cb before_pivot, void *ctx,
                     struct ag_error *err)
{
	/* Nothing done here may propagate back to the host. With a shared or
	 * slave rootfsPropagation the container is to see the host's mount
	 * events under the paths it got: slave then, receiving only; never
	 * shared with the host here, or every mount made below (proc, dev,
	 * the bind mounts) would appear on the host too. */
	unsigned long first = MS_REC | MS_PRIVATE;
	if (spec->rootfs_propagation & (MS_SHARED | MS_SLAVE))
		first = MS_REC | MS_SLAVE;
	if (mount(NULL, "/", NULL, first, NULL) < 0)
		return ag_error_set(err, errno, "make the mount namespace private");

	/* pivot_root needs the new root to be a mount point. */
	_cleanup_close_ int rootfd = -1;
	if (root_fd >= 0) {
		int r = root_bind_by_fd(root_fd, spec->root_path, &rootfd, err);
		if (r < 0)
			return r;
	} else {
		if (mount(spec->root_path, spec->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
			return ag_error_set(err, errno, "bind the root `%s` on itself",
			                    spec->root_path);
		rootfd = open(spec->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0)
			return ag_error_set(err, errno, "open the root `%s`", spec->root_path);
	}

	for (size_t i = 0; i < spec->n_mounts; i++) {
		int r = mount_one(rootfd, &spec->mounts[i], bundle, in_userns,
		                  spec->ns[RT_NS_CGROUP].enabled, src_fds ? src_fds[i] : -1,
		                  &sysfs_tree, err);
		if (r < 0)
			return ag_error_wrap(err, "mounts[%zu]", i);
	}
	if (sysfs_tree >= 0)
		close(sysfs_tree); /* not needed: a sysfs of its own, or none */

	if (spec->n_devices) {
		int r = rt__devices_create(rootfd, spec, in_userns, err);
		if (r < 0)
			return r;
	}

	if (spec->n_masked_paths) {
		_cleanup_close_ int nullfd = -1;
		int r = open_dev_null(&nullfd, err);
		if (r < 0)
			return r;
		for (size_t i = 0; i < spec->n_masked_paths; i++) {
			r = mask_path(rootfd, nullfd, spec->masked_paths[i], err);
			if (r < 0)
				return r;
		}
	}
	for (size_t i = 0; i < spec->n_readonly_paths; i++) {
		int r = readonly_path(rootfd, spec->readonly_paths[i], err);
		if (r < 0)
			return r;
	}

	if (before_pivot) {
		int r = before_pivot(ctx, err);
		if (r < 0)
			return r;
	}

	/* pivot_root(".", ".") stacks the old root on the new one; detaching
	 * it leaves only the container's tree, with no path back out. */
	if (fchdir(rootfd) < 0)
		return ag_error_set(err, errno, "chdir to the root");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return ag_error_set(err, errno, "pivot_root into `%s`", spec->root_path);
	if (umount2(".", MNT_DETACH) < 0)
		return ag_error_set(err, errno, "detach the old root");
	if (chdir("/") < 0)
		return ag_error_set(err, errno, "chdir /");
	/* On the new root only, after the host's tree is gone: "shared" gives
	 * the container a peer group of its own (a slave of the host's, so
	 * mounts still flow in and never out), "private" cuts the flow. */
	if (spec->rootfs_propagation && mount(NULL, "/", NULL, spec->rootfs_propagation, NULL) < 0)
		return ag_error_set(err, errno, "linux.rootfsPropagation: set it on the root");

	if (spec->root_readonly) {
		unsigned long keep = 0;
		struct statvfs sv;
		if (statvfs("/", &sv) == 0) {
			if (sv.f_flag & ST_NOSUID)
				keep |= MS_NOSUID;
			if (sv.f_flag & ST_NODEV)
				keep |= MS_NODEV;
			if (sv.f_flag & ST_NOEXEC)
				keep |= MS_NOEXEC;
		}
		if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) < 0)
			return ag_error_set(err, errno, "make the root read-only");
	}
	return 0;
}
