/* agoractl's HTTP (tools/agoractl/http.c, through libevent's evhttp) against
 * a fake master on a loopback port the test holds: a chunked reply is read
 * whole, a request carries Host and the JSON call, and each way of not
 * reaching the master (refused, silent, a name that does not resolve) is
 * exit 3 with the cause named. The real agoractl program is run. */
#include "agtest.h"
#include "common/common.h"

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

TestSuite(agoractl_http, .timeout = 60);

static int listen_any(int *ret_port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(fd, 4), 0);
	socklen_t len = sizeof(a);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*ret_port = ntohs(a.sin_port);
	return fd;
}

struct run {
	pid_t pid;
	FILE *out, *err;
};

/* Start build/bin/agoractl --master MASTER ARGS...; stdout and stderr go
 * to temporary files read by finish(). */
static struct run start(const char *master, const char *const *args)
{
	const char *build = getenv("AGORA_BUILD_DIR");
	cr_assert_not_null(build, "AGORA_BUILD_DIR is not set (run through ctest)");
	_cleanup_free_ char *bin = ag_asprintf("%s/bin/agoractl", build);
	struct run r = {.out = tmpfile(), .err = tmpfile()};
	r.pid = fork();
	cr_assert_geq(r.pid, 0);
	if (r.pid == 0) {
		const char *argv[16] = {bin, "--master", master};
		size_t n = 3;
		for (size_t i = 0; args[i] && n < 15; i++)
			argv[n++] = args[i];
		argv[n] = NULL;
		dup2(fileno(r.out), 1);
		dup2(fileno(r.err), 2);
		execv(bin, (char **)argv);
		_exit(127);
	}
	return r;
}

static char *slurp(FILE *f)
{
	rewind(f);
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n = getdelim(&buf, &cap, '\0', f);
	if (n < 0) {
		free(buf);
		return ag_strdup("");
	}
	fclose(f);
	return buf;
}

/* Wait for the program (at most `limit_s`); its exit status. */
static int finish(struct run *r, int limit_s, char **ret_out, char **ret_err)
{
	int st = 0;
	for (int i = 0; i < limit_s * 10; i++) {
		if (waitpid(r->pid, &st, WNOHANG) == r->pid)
			goto done;
		usleep(100000);
	}
	kill(r->pid, SIGKILL);
	waitpid(r->pid, &st, 0);
	cr_assert_fail("agoractl did not end within %d s", limit_s);
done:
	*ret_out = slurp(r->out);
	*ret_err = slurp(r->err);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Read one request (headers and Content-Length body) from `fd`. */
static char *read_request(int fd)
{
	char buf[8192];
	size_t len = 0;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		cr_assert_eq(poll(&p, 1, 10000), 1, "no request came");
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		cr_assert_gt(n, 0);
		len += (size_t)n;
		buf[len] = '\0';
		char *eoh = strstr(buf, "\r\n\r\n");
		const char *cl = strcasestr(buf, "Content-Length:");
		if (eoh && (!cl || len >= (size_t)(eoh + 4 - buf) + strtoul(cl + 15, NULL, 10)))
			return ag_strdup(buf);
	}
}

Test(agoractl_http, chunked_reply_is_read_whole)
{
	int port;
	_cleanup_close_ int lfd = listen_any(&port);
	_cleanup_free_ char *master = ag_asprintf("127.0.0.1:%d", port);
	struct run r = start(master, (const char *const[]){"agents", "--json", NULL});
	_cleanup_close_ int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	cr_assert_geq(c, 0);
	_cleanup_free_ char *req = read_request(c);
	cr_assert(strncmp(req, "POST /api/v1 HTTP/1.1\r\n", 23) == 0, "%s", req);
	_cleanup_free_ char *host = ag_asprintf("Host: 127.0.0.1:%d\r\n", port);
	cr_assert_not_null(strstr(req, host), "%s", req);
	cr_assert_not_null(strstr(req, "Content-Type: application/json\r\n"), "%s", req);
	cr_assert_not_null(strstr(req, "\"type\":\"GET_AGENTS\""), "%s", req);
	/* The reply in three chunks, one cut inside a JSON string. */
	const char *reply = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	                    "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
	                    "14\r\n{\"type\":\"GET_AGENTS\"\r\n"
	                    "1a\r\n,\"get_agents\":{\"agents\":[\r\n"
	                    "3\r\n]}}\r\n0\r\n\r\n";
	cr_assert_eq(ag_write_all(c, reply, strlen(reply)), 0);
	char *out, *err;
	int rc = finish(&r, 20, &out, &err);
	cr_assert_eq(rc, 0, "exit %d, stderr: %s", rc, err);
	cr_assert_str_eq(out, "[]\n", "stdout: %s", out);
	free(out);
	free(err);
}

Test(agoractl_http, refused_is_exit_3_naming_it)
{
	int port;
	int lfd = listen_any(&port);
	close(lfd); /* nothing listens there now */
	_cleanup_free_ char *master = ag_asprintf("127.0.0.1:%d", port);
	struct run r = start(master, (const char *const[]){"agents", NULL});
	char *out, *err;
	cr_assert_eq(finish(&r, 20, &out, &err), 3, "stderr: %s", err);
	_cleanup_free_ char *want =
	        ag_asprintf("cannot reach the master at 127.0.0.1:%d (connection refused)", port);
	cr_assert_not_null(strstr(err, want), "stderr: %s", err);
	free(out);
	free(err);
}

Test(agoractl_http, silent_master_times_out_in_10s_with_exit_3)
{
	int port;
	_cleanup_close_ int lfd = listen_any(&port); /* accepted by the kernel, never answered */
	cr_assert_geq(lfd, 0);
	_cleanup_free_ char *master = ag_asprintf("127.0.0.1:%d", port);
	uint64_t t0 = ag_now_ns();
	struct run r = start(master, (const char *const[]){"agents", NULL});
	char *out, *err;
	cr_assert_eq(finish(&r, 30, &out, &err), 3, "stderr: %s", err);
	double s = (double)(ag_now_ns() - t0) / 1e9;
	cr_assert(s >= 9.5 && s < 25, "gave up after %.1f s, not the 10 s timeout", s);
	cr_assert_not_null(strstr(err, "(connection timed out)"), "stderr: %s", err);
	free(out);
	free(err);
}

Test(agoractl_http, unknown_host_is_exit_3)
{
	struct run r = start("no-such-host.invalid:5050", (const char *const[]){"agents", NULL});
	char *out, *err;
	cr_assert_eq(finish(&r, 30, &out, &err), 3, "stderr: %s", err);
	cr_assert_not_null(strstr(err, "cannot reach the master at no-such-host.invalid:5050"),
	                   "stderr: %s", err);
	free(out);
	free(err);
}
