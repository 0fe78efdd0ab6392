/* hierarchy.c: creating, opening and removing cgroups. */
#include "cgroupv2/internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define CG__REFUSED_PATH                                                                           \
	"cgroup path `%s`: refused (empty, \"..\" or \".\" component, over-long name or control "  \
	"character)"

/* Enable `want` (those offered in cgroup.controllers and not yet enabled)
 * in the subtree_control of `fd`. */
static int enable(int fd, unsigned want, struct ag_error *err)
{
	char where[512];
	unsigned avail = 0, enabled = 0;
	int r = cg__read_controllers(fd, "cgroup.controllers", &avail);
	if (r == 0)
		r = cg__read_controllers(fd, "cgroup.subtree_control", &enabled);
	if (r < 0) {
		cg__fd_name(fd, where, sizeof(where));
		return ag_error_set(err, r, "read the controllers of %s", where);
	}
	unsigned todo = want & avail & ~enabled;
	if (!todo)
		return 0;

	char buf[128] = "";
	size_t off = 0;
	for (unsigned c = 1; c & CG_CONTROLLERS_ALL; c <<= 1)
		if (todo & c)
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s+%s",
			                        off ? " " : "", cg_controller_name(c));
	r = ag_write_file_at(fd, "cgroup.subtree_control", buf, off);
	if (r == 0)
		return 0;

	cg__fd_name(fd, where, sizeof(where));
	if (r == -EBUSY) {
		_cleanup_free_ pid_t *pids = NULL;
		size_t n = 0;
		if (cg_procs(fd, &pids, &n) == 0 && n > 0)
			return ag_error_set(
			        err, EBUSY,
			        "write `%s` to `cgroup.subtree_control` in %s: the cgroup "
			        "holds %zu process(es) (pid %d, ...) and cgroup v2 lets a "
			        "cgroup with processes of its own enable no controller for "
			        "its children (\"no internal processes\"); move them into a "
			        "leaf cgroup first",
			        buf, where, n, (int)pids[0]);
	}
	return ag_error_set(err, r, "write `%s` to `cgroup.subtree_control` in %s", buf, where);
}

/* Refuse to step onto another filesystem (a bind mount planted inside the
 * tree): every cgroup2 mount of the hierarchy shares one superblock. */
static int same_dev(int a, int b)
{
	struct stat sa, sb;
	if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0)
		return -errno;
	return sa.st_dev == sb.st_dev ? 0 : -EXDEV;
}

int cg_create(int rootfd, const char *path, unsigned controllers, int *ret_dirfd,
              struct ag_error *err)
{
	const char *rel;
	if (cg__path_check(path, false, &rel) < 0)
		return ag_error_set(err, 0, CG__REFUSED_PATH, path ? path : "(null)");

	_cleanup_close_ int cur = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0)
		return ag_error_set(err, errno, "open the cgroup root");

	const char *c = rel;
	while (*c) {
		const char *end = strchrnul(c, '/');
		const char *next = end;
		while (*next == '/')
			next++;
		bool last = *next == '\0';
		char name[NAME_MAX + 1];
		memcpy(name, c, (size_t)(end - c));
		name[end - c] = '\0';
		int len = (int)(end - rel);

		/* Top-down: the level above must offer a controller before the
		 * level below can enable it for its own children. */
		if (controllers) {
			int r = enable(cur, controllers, err);
			if (r < 0)
				return ag_error_wrap(err, "create cgroup `%s`", rel);
		}
		if (mkdirat(cur, name, 0755) < 0 && errno != EEXIST)
			return ag_error_set(err, errno, "mkdir cgroup `%.*s`", len, rel);
		int fd = openat(cur, name,
		                (last ? O_RDONLY : O_PATH) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return ag_error_set(err, errno, "open cgroup `%.*s`", len, rel);
		int r = same_dev(cur, fd);
		close(cur);
		cur = fd;
		if (r < 0)
			return ag_error_set(err, r, "cgroup `%.*s` is not on the cgroup filesystem",
			                    len, rel);
		c = next;
	}
	if (ret_dirfd)
		*ret_dirfd = TAKE_FD(cur);
	return 0;
}

int cg_open(int rootfd, const char *path, int *ret_dirfd, struct ag_error *err)
{
	const char *rel;
	if (cg__path_check(path, true, &rel) < 0)
		return ag_error_set(err, 0, CG__REFUSED_PATH, path ? path : "(null)");
	int fd = cg__open_beneath(rootfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ag_error_set(err, fd, "open cgroup `%s`", rel);
	*ret_dirfd = fd;
	return 0;
}

/* rmdir `name` in `parent`, retrying EBUSY until the deadline: right after
 * the last process exits, "populated 0" can be seen a moment before the
 * kernel lets the directory go. */
static int rmdir_wait(int parent, const char *name, uint64_t deadline_ns)
{
	for (;;) {
		if (unlinkat(parent, name, AT_REMOVEDIR) == 0)
			return 0;
		if (errno != EBUSY || ag_now_ns() >= deadline_ns)
			return -errno;
		nanosleep(&(struct timespec){.tv_nsec = 5 * 1000 * 1000}, NULL);
	}
}

/* Remove the descendants of `fd`, depth-first. A container with a cgroup
 * namespace may have made any tree below its cgroup. */
static int rmdir_children(int fd, int depth, uint64_t deadline_ns)
{
	if (depth > 256)
		return -ELOOP;
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	int r = 0;
	struct dirent *de;
	while (r == 0 && (de = readdir(d))) {
		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		_cleanup_close_ int child =
		        openat(fd, de->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (child < 0) {
			if (errno != ENOENT)
				r = -errno;
			continue;
		}
		r = rmdir_children(child, depth + 1, deadline_ns);
		if (r == 0) {
			r = rmdir_wait(fd, de->d_name, deadline_ns);
			if (r == -ENOENT)
				r = 0;
		}
	}
	closedir(d);
	return r;
}

/* The parent of the last component of rel (a copy, cut in place), and that
 * component. "a/b/c" -> parent "a/b", name "c"; "c" -> parent "", name "c". */
static void split(char *rel, const char **ret_parent, const char **ret_name)
{
	size_t n = strlen(rel);
	while (n > 0 && rel[n - 1] == '/')
		rel[--n] = '\0';
	char *slash = strrchr(rel, '/');
	if (!slash) {
		*ret_parent = "";
		*ret_name = rel;
		return;
	}
	*ret_name = slash + 1;
	while (slash > rel && slash[-1] == '/')
		slash--;
	*slash = '\0';
	*ret_parent = rel;
}

int cg_remove(int rootfd, const char *path, unsigned flags, unsigned timeout_ms,
              struct ag_error *err)
{
	const char *rel;
	if (cg__path_check(path, false, &rel) < 0)
		return ag_error_set(err, 0, CG__REFUSED_PATH, path ? path : "(null)");
	if (timeout_ms == 0)
		timeout_ms = CG__DEFAULT_TIMEOUT_MS;
	uint64_t deadline = ag_now_ns() + (uint64_t)timeout_ms * 1000000u;

	_cleanup_free_ char *copy = ag_strdup(rel);
	const char *parent_rel, *name;
	split(copy, &parent_rel, &name);

	_cleanup_close_ int parent =
	        cg__open_beneath(rootfd, parent_rel, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (parent == -ENOENT)
		return 0;
	if (parent < 0)
		return ag_error_set(err, parent, "open cgroup `%s`", parent_rel);

	_cleanup_close_ int fd =
	        openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		int r = cg_kill(fd);
		if (r < 0)
			return ag_error_set(err, r, "kill the processes of cgroup `%s`", rel);
		r = cg_wait_empty(fd, timeout_ms);
		if (r == -ETIMEDOUT)
			return ag_error_set(
			        err, ETIMEDOUT,
			        "remove cgroup `%s`: processes were killed but are still "
			        "there after %u ms (uninterruptible sleep? see its "
			        "cgroup.procs)",
			        rel, timeout_ms);
		if (r < 0)
			return ag_error_set(err, r, "remove cgroup `%s`: read `cgroup.events`",
			                    rel);
		r = rmdir_children(fd, 0, deadline);
		if (r < 0)
			return ag_error_set(err, r, "remove the cgroups below `%s`", rel);
		r = rmdir_wait(parent, name, deadline);
		if (r < 0 && r != -ENOENT)
			return ag_error_set(err, r, "rmdir cgroup `%s`", rel);
	} else if (errno != ENOENT) {
		return ag_error_set(err, errno, "open cgroup `%s`", rel);
	}

	if (!(flags & CG_REMOVE_PARENTS) || parent_rel[0] == '\0')
		return 0;
	/* The ancestors named in the path, deepest first; rootfd itself
	 * never. `copy` holds the parent path here and is cut one component
	 * shorter on each round. */
	for (;;) {
		const char *grand, *pname;
		split(copy, &grand, &pname);
		_cleanup_close_ int pfd =
		        cg__open_beneath(rootfd, grand, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (pfd == -ENOENT)
			return 0;
		if (pfd < 0)
			return ag_error_set(err, pfd, "open cgroup `%s`", grand);
		if (unlinkat(pfd, pname, AT_REMOVEDIR) < 0) {
			if (errno == EBUSY || errno == ENOTEMPTY)
				return 0; /* still used by another cgroup or process: keep */
			if (errno != ENOENT)
				return ag_error_set(err, errno, "rmdir cgroup `%s`", pname);
		}
		if (grand[0] == '\0')
			return 0;
	}
}
