/* agtest.h: helpers shared by agora's criterion tests. */
#ifndef AGORA_AGTEST_H
#define AGORA_AGTEST_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* Skip the current test with a reason, unless CI=true, where a test that
 * cannot run is a failure: CI must run every tier it is given. */
#define AG_SKIP(...)                                                                               \
	do {                                                                                       \
		const char *_ci = getenv("CI");                                                    \
		if (_ci && strcmp(_ci, "true") == 0)                                               \
			cr_assert_fail("CI=true and this test cannot run: " __VA_ARGS__);          \
		else                                                                               \
			cr_skip_test(__VA_ARGS__);                                                 \
	} while (0)

/* Skips the test unless it runs as root (namespaces, mounts), then makes
 * a new directory /tmp/agora-<name>-XXXXXX, its path in `dir` (n bytes). */
static inline void agt_root_dir(char *dir, size_t n, const char *name)
{
	if (geteuid() != 0)
		AG_SKIP("needs root (namespaces, mounts)");
	snprintf(dir, n, "/tmp/agora-%s-XXXXXX", name);
	cr_assert_not_null(mkdtemp(dir), "mkdtemp %s: %s", dir, strerror(errno));
}

/* The one path that the glob(3) pattern `pat` matches (asserting that it
 * matches exactly one); free it. */
static inline char *agt_glob_one(const char *pat)
{
	glob_t g;
	cr_assert(glob(pat, 0, NULL, &g) == 0 && g.gl_pathc == 1, "no single %s", pat);
	char *p = strdup(g.gl_pathv[0]);
	globfree(&g);
	cr_assert_not_null(p);
	return p;
}

/* Makes the directory `dir` and mounts a tmpfs of `size` (e.g. "3m") on
 * it, nosuid, nodev, mode 0755. Asserts; true. */
static inline bool agt_mount_tmpfs(const char *dir, const char *size)
{
	char opts[64];
	snprintf(opts, sizeof(opts), "size=%s,mode=0755", size);
	cr_assert(mkdir(dir, 0755) == 0, "mkdir %s: %s", dir, strerror(errno));
	cr_assert(mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) == 0,
	          "mount a tmpfs: %s", strerror(errno));
	return true;
}

/* Whether a line of the file at `path` (asserting that it opens) contains
 * `needle`. */
static inline bool agt_file_has(const char *path, const char *needle)
{
	FILE *f = fopen(path, "re");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	char line[4096];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

/* Writes a new file `path` until its file system is full to the last byte
 * (asserting that the last write failed with ENOSPC). */
static inline void agt_fill_up(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	static char chunk[4096];
	memset(chunk, 'x', sizeof(chunk));
	ssize_t n;
	while ((n = write(fd, chunk, sizeof(chunk))) > 0)
		;
	while ((n = write(fd, chunk, 1)) > 0)
		;
	cr_assert(n < 0 && errno == ENOSPC, "filled: %s", strerror(errno));
	close(fd);
}

#endif
