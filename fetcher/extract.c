/* extract.c: an archive unpacked into the sandbox with libarchive, never
 * outside it.
 *
 * Each entry is checked before it is written, naming it: no absolute path,
 * no `..` component, only files, directories and links (no device node,
 * fifo or socket), a hardlink's target under the same rules and a file
 * extracted before it reached through no symlink, a symlink's
 * target relative and (read lexically from the link's directory) never
 * above the sandbox. libarchive's secure flags refuse writing through a
 * symlink the archive made. Once all is written each symlink is resolved
 * for real beneath the sandbox (openat2 RESOLVE_BENEATH): a chain of links
 * that each looked inside but lead out together (`b -> .`, `x -> b/..`) is
 * refused too. Set-id and sticky bits are dropped; ownership is given
 * afterwards (fetch_own_tree). */
#include "fetcher/internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* No absolute path, no "..". */
static bool path_ok(const char *p)
{
	if (!p || !*p || p[0] == '/')
		return false;
	for (const char *s = p; *s;) {
		size_t n = strcspn(s, "/");
		if (n == 2 && s[0] == '.' && s[1] == '.')
			return false;
		s += n;
		while (*s == '/')
			s++;
	}
	return true;
}

/* `target` read from the directory of `entry`: stays at or below the
 * sandbox's root. */
static bool link_target_ok(const char *entry, const char *target)
{
	if (!target || !*target || target[0] == '/')
		return false;
	int depth = 0;
	/* The link's own directory. */
	for (const char *s = entry; *s;) {
		size_t n = strcspn(s, "/");
		bool last = s[n] == '\0' || s[n + strspn(s + n, "/")] == '\0';
		if (!last && !(n == 1 && s[0] == '.'))
			depth++;
		s += n;
		while (*s == '/')
			s++;
	}
	for (const char *s = target; *s;) {
		size_t n = strcspn(s, "/");
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			if (--depth < 0)
				return false;
		} else if (n > 0 && !(n == 1 && s[0] == '.')) {
			depth++;
		}
		s += n;
		while (*s == '/')
			s++;
	}
	return true;
}

/* A hardlink's target: a regular file extracted before, reached through
 * no symlink at all (a link the archive made could lead anywhere until the
 * final check). */
static bool hard_target_ok(int dir_fd, const char *target)
{
	struct open_how how = {.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW,
	                       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
	                                  RESOLVE_NO_MAGICLINKS};
	int fd = (int)syscall(SYS_openat2, dir_fd, target, &how, sizeof(how));
	if (fd < 0)
		return false;
	struct stat st;
	bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	close(fd);
	return ok;
}

static int resolve_beneath(int dir_fd, const char *path)
{
	struct open_how how = {.flags = O_PATH | O_CLOEXEC,
	                       .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
	int fd = (int)syscall(SYS_openat2, dir_fd, path, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

struct links {
	char **v;
	size_t n;
};

static void links_free(struct links *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int copy_data(struct archive *in, struct archive *out, uint64_t *total, uint64_t max)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	for (;;) {
		int r = archive_read_data_block(in, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			return ARCHIVE_OK;
		if (r < ARCHIVE_OK)
			return r;
		*total += size;
		if (*total > max)
			return ARCHIVE_FATAL - 1; /* ours: too big */
		if (archive_write_data_block(out, buf, size, off) < ARCHIVE_OK)
			return ARCHIVE_FATAL;
	}
}

int fetch__extract(int dir_fd, const char *name, const struct fetch__limits *lim,
                   struct ag_error *err)
{
	_cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return ag_error_set(err, errno, "extract `%s`: open", name);
	/* archive_write_disk works relative to the working directory. */
	_cleanup_close_ int old_cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (old_cwd < 0 || fchdir(dir_fd) < 0)
		return ag_error_set(err, errno, "extract `%s`: enter the sandbox", name);
	struct archive *in = archive_read_new();
	struct archive *out = archive_write_disk_new();
	archive_read_support_format_tar(in);
	archive_read_support_format_gnutar(in);
	archive_read_support_format_zip(in);
	archive_read_support_filter_gzip(in);
	archive_read_support_filter_bzip2(in);
	archive_read_support_filter_xz(in);
	archive_write_disk_set_options(out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
	                                            ARCHIVE_EXTRACT_SECURE_NODOTDOT |
	                                            ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	struct links links = {0};
	uint64_t total = 0;
	int r = 0;
	if (archive_read_open_fd(in, fd, 65536) != ARCHIVE_OK)
		r = ag_error_msg(err, EINVAL, "extract `%s`: %s", name, archive_error_string(in));
	while (r == 0) {
		struct archive_entry *e;
		int k = archive_read_next_header(in, &e);
		if (k == ARCHIVE_EOF)
			break;
		if (k < ARCHIVE_WARN) {
			r = ag_error_msg(err, EINVAL, "extract `%s`: %s", name,
			                 archive_error_string(in));
			break;
		}
		const char *path = archive_entry_pathname(e);
		mode_t type = archive_entry_filetype(e);
		const char *hard = archive_entry_hardlink(e);
		const char *sym = archive_entry_symlink(e);
		if (!path_ok(path)) {
			r = ag_error_msg(
			        err, EPERM,
			        "extract `%s`: entry `%.256s`: an absolute path or `..` would "
			        "write outside the sandbox",
			        name, path ? path : "");
		} else if (hard && (!path_ok(hard) || !hard_target_ok(dir_fd, hard))) {
			r = ag_error_msg(
			        err, EPERM,
			        "extract `%s`: entry `%.256s`: a hardlink to `%.256s`, "
			        "outside the sandbox (or not a file extracted before it, or "
			        "through a symlink)",
			        name, path, hard);
		} else if (!hard && type == AE_IFLNK && !link_target_ok(path, sym)) {
			r = ag_error_msg(
			        err, EPERM,
			        "extract `%s`: entry `%.256s`: a symlink to `%.256s` leads "
			        "outside the sandbox",
			        name, path, sym ? sym : "");
		} else if (!hard && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
			r = ag_error_msg(
			        err, EPERM,
			        "extract `%s`: entry `%.256s`: not a file, directory or link "
			        "(device nodes, fifos and sockets are not extracted)",
			        name, path);
		}
		if (r < 0)
			break;
		archive_entry_set_perm(e, archive_entry_perm(e) & 0777);
		if (type == AE_IFLNK && !hard) {
			links.v = ag_realloc(links.v, (links.n + 1) * sizeof(*links.v));
			links.v[links.n++] = ag_strdup(path);
		}
		if (archive_write_header(out, e) < ARCHIVE_WARN) {
			r = ag_error_msg(err, EPERM, "extract `%s`: entry `%.256s`: %s", name, path,
			                 archive_error_string(out));
			break;
		}
		if (archive_entry_size(e) > 0 && !hard) {
			k = copy_data(in, out, &total, lim->max_bytes);
			if (k == ARCHIVE_FATAL - 1)
				r = ag_error_msg(
				        err, EFBIG,
				        "extract `%s`: its content is more than the limit of "
				        "%llu bytes (agent flag --fetcher_max_size)",
				        name, (unsigned long long)lim->max_bytes);
			else if (k < ARCHIVE_WARN)
				r = ag_error_msg(err, EIO, "extract `%s`: entry `%.256s`: %s", name,
				                 path, archive_error_string(in));
		}
		if (r == 0 && archive_write_finish_entry(out) < ARCHIVE_WARN)
			r = ag_error_msg(err, EIO, "extract `%s`: entry `%.256s`: %s", name, path,
			                 archive_error_string(out));
	}
	archive_read_free(in);
	archive_write_free(out);
	for (size_t i = 0; r == 0 && i < links.n; i++) {
		int k = resolve_beneath(dir_fd, links.v[i]);
		if (k == -EXDEV || k == -ELOOP)
			r = ag_error_msg(
			        err, EPERM,
			        "extract `%s`: entry `%.256s`: a symlink that leads outside "
			        "the sandbox (through other links)",
			        name, links.v[i]);
	}
	links_free(&links);
	if (fchdir(old_cwd) < 0 && r == 0)
		r = ag_error_set(err, errno, "extract `%s`: leave the sandbox", name);
	return r;
}
