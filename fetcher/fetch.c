/* fetch.c: the URIs of a task fetched into its sandbox, in a child
 * process, and the fetched files given to the task's user. */
#include "fetcher/internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* openat2 beneath `dir_fd`, through no symlink at all: a link an earlier
 * archive made never redirects a later write. */
static int open_beneath(int dir_fd, const char *path, int flags, mode_t mode)
{
	struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
	                       .mode = (flags & O_CREAT) ? mode : 0,
	                       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
	                                  RESOLVE_NO_MAGICLINKS};
	int fd = (int)syscall(SYS_openat2, dir_fd, path, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

/* The directory of the relative `name` (created as needed) as an fd;
 * *ret_leaf points into `name` at its last component. */
static int open_parent(int sfd, const char *name, const char **ret_leaf)
{
	_cleanup_free_ char *dir = ag_strdup(name);
	char *slash = strrchr(dir, '/');
	if (!slash) {
		*ret_leaf = name;
		int fd = fcntl(sfd, F_DUPFD_CLOEXEC, 3);
		return fd < 0 ? -errno : fd;
	}
	*slash = '\0';
	*ret_leaf = name + (slash - dir) + 1;
	for (char *s = dir;; s++) {
		bool end = *s == '\0';
		if (*s == '/' || end) {
			char c = *s;
			*s = '\0';
			if (mkdirat(sfd, dir, 0755) < 0 && errno != EEXIST)
				return -errno;
			*s = c;
		}
		if (end)
			break;
	}
	return open_beneath(sfd, dir, O_RDONLY | O_DIRECTORY, 0);
}

static int fetch_one(const struct fetch_config *cfg, const struct fetch__limits *lim,
                     const struct fetch_uri *u, int sfd, uid_t uid, gid_t gid, struct ag_error *err)
{
	int r = fetch_uri_check(u, cfg->frameworks_home, "uri", err);
	if (r < 0)
		return r;
	_cleanup_free_ char *name = fetch_output_name(u);
	const char *leaf = NULL;
	_cleanup_close_ int pfd = open_parent(sfd, name, &leaf);
	if (pfd < 0)
		return ag_error_set(err, -pfd, "`%s`: the directory of `%s` in the sandbox",
		                    u->value, name);
	_cleanup_close_ int ofd = open_beneath(pfd, leaf, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (ofd < 0)
		return ag_error_set(err, -ofd, "`%s`: create `%s` in the sandbox", u->value, name);
	if (u->cache && cfg->cache_dir)
		r = fetch__get_cached(cfg, lim, u, uid, gid, ofd, err);
	else
		r = fetch__get(cfg, lim, u, uid, gid, ofd, err);
	if (r < 0)
		return r;
	if (fchmod(ofd, u->executable ? 0755 : 0644) < 0)
		return ag_error_set(err, errno, "`%s`: chmod `%s`", u->value, name);
	if (u->extract && fetch_is_archive(leaf)) {
		r = fetch__extract(pfd, leaf, lim, err);
		if (r < 0)
			return ag_error_wrap(err, "`%s`", u->value);
	}
	return 0;
}

/* ---- ownership ---- */

static int own_at(int dfd, uid_t uid, gid_t gid, int depth, struct ag_error *err)
{
	if (depth > 256)
		return ag_error_msg(err, ELOOP, "give the fetched files to uid %u: nested too deep",
		                    (unsigned)uid);
	int d2 = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
	DIR *d = d2 >= 0 ? fdopendir(d2) : NULL;
	if (!d) {
		if (d2 >= 0)
			close(d2);
		return ag_error_set(err, errno, "give the fetched files to uid %u: list",
		                    (unsigned)uid);
	}
	struct stat top;
	int r = fstat(dfd, &top) < 0 ? -errno : 0;
	struct dirent *de;
	while (r == 0 && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fchownat(dfd, de->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) {
			r = ag_error_set(err, errno, "give `%s` to uid %u", de->d_name,
			                 (unsigned)uid);
			break;
		}
		struct stat st;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode) || st.st_dev != top.st_dev)
			continue; /* no link followed, no mount crossed */
		_cleanup_close_ int sub =
		        openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0)
			r = own_at(sub, uid, gid, depth + 1, err);
	}
	closedir(d);
	return r;
}

int fetch_own_tree(const char *dir, uid_t uid, gid_t gid, struct ag_error *err)
{
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return ag_error_set(err, errno, "open `%s`", dir);
	if (fchown(dfd, uid, gid) < 0)
		return ag_error_set(err, errno, "give `%s` to uid %u", dir, (unsigned)uid);
	return own_at(dfd, uid, gid, 0, err);
}

int fetch_all(const struct fetch_config *cfg, const struct fetch_uri *uris, size_t n,
              const char *sandbox, uid_t uid, gid_t gid, struct ag_error *err)
{
	struct fetch__limits lim;
	fetch__limits_of(cfg, &lim);
	_cleanup_close_ int sfd = open(sandbox, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0)
		return ag_error_set(err, errno, "open the sandbox `%s`", sandbox);
	for (size_t i = 0; i < n; i++) {
		int r = fetch_one(cfg, &lim, &uris[i], sfd, uid, gid, err);
		if (r < 0)
			return r;
	}
	return fetch_own_tree(sandbox, uid, gid, err);
}

/* ---- the child ---- */

struct fetch_job {
	pid_t pid;
	int pidfd;
	int msg_fd;
};

static void child(const struct fetch_config *cfg, const struct fetch_uri *uris, size_t n,
                  const char *sandbox, uid_t uid, gid_t gid, int msg_fd, pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(2);
	/* The parent's handlers (its event loop's) are not ours. */
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	/* Nothing of the parent's but stdio and the message pipe. */
	if (dup2(msg_fd, 3) < 0)
		_exit(2);
	syscall(SYS_close_range, 4U, ~0U, 0U);
	umask(022);
	struct ag_error err = {0};
	int r = fetch_all(cfg, uris, n, sandbox, uid, gid, &err);
	if (r < 0)
		AG_IGNORE_RESULT(ag_write_all(3, err.msg, strlen(err.msg)));
	_exit(r < 0 ? 1 : 0);
}

int fetch_job_start(const struct fetch_config *cfg, const struct fetch_uri *uris, size_t n,
                    const char *sandbox, uid_t uid, gid_t gid, struct fetch_job **ret,
                    struct ag_error *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return ag_error_set(err, errno, "fetcher: pipe");
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return ag_error_set(err, e, "fetcher: fork");
	}
	if (pid == 0) {
		close(p[0]);
		child(cfg, uris, n, sandbox, uid, gid, p[1], parent);
	}
	close(p[1]);
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		int e = errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(p[0]);
		return ag_error_set(err, e, "fetcher: pidfd_open");
	}
	struct fetch_job *j = ag_calloc(1, sizeof(*j));
	j->pid = pid;
	j->pidfd = pidfd;
	j->msg_fd = p[0];
	*ret = j;
	return 0;
}

int fetch_job_fd(const struct fetch_job *j)
{
	return j->pidfd;
}

static void job_free(struct fetch_job *j)
{
	close(j->pidfd);
	close(j->msg_fd);
	free(j);
}

int fetch_job_finish(struct fetch_job *j, struct ag_error *err)
{
	int status = 0;
	pid_t w;
	do
		w = waitpid(j->pid, &status, 0);
	while (w < 0 && errno == EINTR);
	char msg[AG_ERROR_MSG_MAX];
	ssize_t len = 0;
	for (;;) {
		ssize_t k = read(j->msg_fd, msg + len, sizeof(msg) - 1 - (size_t)len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += k;
		if ((size_t)len == sizeof(msg) - 1)
			break;
	}
	msg[len] = '\0';
	job_free(j);
	if (w < 0)
		return ag_error_set(err, errno, "fetcher: wait");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (len > 0)
		return ag_error_msg(err, EIO, "%s", msg);
	if (WIFSIGNALED(status))
		return ag_error_msg(err, EIO, "the fetcher process was killed by signal %s",
		                    sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status))
		                                                   : "?");
	return ag_error_msg(err, EIO, "the fetcher process exited with status %d",
	                    WEXITSTATUS(status));
}

void fetch_job_abort(struct fetch_job *j)
{
	if (!j)
		return;
	syscall(SYS_pidfd_send_signal, j->pidfd, SIGKILL, NULL, 0);
	while (waitpid(j->pid, NULL, 0) < 0 && errno == EINTR)
		;
	job_free(j);
}
