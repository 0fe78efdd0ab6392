/* hooks.c: OCI hooks, each run as a child with the container's state JSON
 * on its stdin, waited for with its timeout. */
#include "internal.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static const char *const hook_names[RT_HOOK_COUNT] = {
        [RT_HOOK_CREATE_RUNTIME] = "createRuntime",
        [RT_HOOK_CREATE_CONTAINER] = "createContainer",
        [RT_HOOK_START_CONTAINER] = "startContainer",
        [RT_HOOK_POSTSTART] = "poststart",
        [RT_HOOK_POSTSTOP] = "poststop",
        [RT_HOOK_PRESTART] = "prestart",
};

void rt__warn(const struct rt_options *o, const char *fmt, ...)
{
	char msg[AG_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (o && o->warn)
		o->warn(o->warn_ctx, msg);
	else
		fprintf(stderr, "warning: %s\n", msg);
}

static int run_one(const struct rt_hook *h, const char *state_json, int join_pidfd,
                   const char *where, struct ag_error *err)
{
	/* A socket, not a pipe, for the hook's stdin: a hook may exit
	 * without reading it, and a write to a pipe with no reader would
	 * kill us with SIGPIPE; send(MSG_NOSIGNAL) just fails. */
	int in[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0)
		return ag_error_set(err, errno, "%s: socketpair", where);
	char *const empty[] = {NULL};
	char *const argv0[] = {h->path, NULL};
	pid_t pid = fork();
	if (pid < 0) {
		close(in[0]);
		close(in[1]);
		return ag_error_set(err, errno, "%s: fork", where);
	}
	if (pid == 0) {
		dup2(in[0], 0);
		if (join_pidfd < 0) {
			execve(h->path, h->args ? h->args : argv0, h->env ? h->env : empty);
			_exit(127);
		}
		/* The path is resolved in the runtime's namespace, the hook
		 * runs in the container's mount namespace. No close-on-exec on
		 * the fd: a #! script is run through /dev/fd/N. */
		int exe = open(h->path, O_PATH);
		if (exe < 0 || setns(join_pidfd, CLONE_NEWNS) < 0)
			_exit(126);
		syscall(SYS_execveat, exe, "", h->args ? h->args : argv0, h->env ? h->env : empty,
		        AT_EMPTY_PATH);
		_exit(127);
	}
	close(in[0]);
	/* A hook that does not read its stdin must not block us. */
	ssize_t w AG_UNUSED =
	        send(in[1], state_json, strlen(state_json), MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(in[1], SHUT_WR);
	close(in[1]);

	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd >= 0 && h->timeout > 0) {
		struct pollfd p = {.fd = pidfd, .events = POLLIN};
		int n;
		do
			n = poll(&p, 1, h->timeout * 1000);
		while (n < 0 && errno == EINTR);
		if (n == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			close(pidfd);
			return ag_error_set(err, ETIMEDOUT, "%s: `%s` timed out after %d s", where,
			                    h->path, h->timeout);
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return ag_error_set(err, errno, "%s: wait for `%s`", where, h->path);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return ag_error_set(err, 0, "%s: `%s` exited with status %d", where, h->path,
		                    WEXITSTATUS(status));
	return ag_error_set(err, 0, "%s: `%s` was killed by signal %d", where, h->path,
	                    WTERMSIG(status));
}

int rt__hooks_run(const struct rt_spec *spec, enum rt_hook_kind kind, const char *state_json,
                  int join_pidfd, struct ag_error *err)
{
	for (size_t i = 0; i < spec->hooks.n[kind]; i++) {
		char where[64];
		snprintf(where, sizeof(where), "hooks.%s[%zu]", hook_names[kind], i);
		int r = run_one(&spec->hooks.list[kind][i], state_json, join_pidfd, where, err);
		if (r < 0)
			return r;
	}
	return 0;
}

void rt__hooks_run_all(const struct rt_options *o, const struct rt_spec *spec,
                       enum rt_hook_kind kind, const char *state_json)
{
	for (size_t i = 0; i < spec->hooks.n[kind]; i++) {
		char where[64];
		snprintf(where, sizeof(where), "hooks.%s[%zu]", hook_names[kind], i);
		struct ag_error e = {0};
		if (run_one(&spec->hooks.list[kind][i], state_json, -1, where, &e) < 0)
			rt__warn(o, "%s (the next hooks run all the same)", e.msg);
	}
}
