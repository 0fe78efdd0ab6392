/* An agent started again right after a SIGKILL may find its operator port
 * still held for a moment (the fork of a launch the killed agent was making
 * holds the agent's fds until it dies with it, which a loaded host may take
 * a while to run; seen in tests/host/test_agent_launch_kill.c as "the agent
 * did not register again"). It tries again instead of exiting; a port held
 * for good still stops it, naming the port. */
#include "agent_proc.h"
#include "agentd_harness.h"
#include "agtest.h"

#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static char work[64];
static pid_t agent = -1;
static char logpath[128]; /* the agent's stderr */

static void setup(void)
{
	agt_root_dir(work, sizeof(work), "phold");
	snprintf(logpath, sizeof(logpath), "%s.log", work);
	fm.quiet = true;
	cr_assert(fm_start() == 0);
}

static void teardown(void)
{
	ap_stop(&agent, SIGTERM);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s.log", work, work);
	cr_expect(system(cmd) == 0);
}

TestSuite(agent_port_held, .init = setup, .fini = teardown, .timeout = 60);

/* A listening socket on 127.0.0.1:port (close-on-exec: the agent must not
 * inherit it), as SO_REUSEADDR as the agent's. */
static int hold_port(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	cr_assert(listen(fd, 4) == 0);
	return fd;
}

Test(agent_port_held, a_port_held_for_a_moment_is_waited_for)
{
	int port = ah_free_port();
	int fd = hold_port(port);
	agent = ap_start(work, fm.port, port, NULL, NULL);
	cr_assert(agent > 0);
	usleep(1500000);
	close(fd);
	char body[512] = "";
	int code = 0;
	for (int i = 0; i < 100 && code != 200; i++) {
		cr_assert(waitpid(agent, NULL, WNOHANG) == 0, "the agent exited: %s",
		          ap_slurp(logpath));
		code = ah_http_get(port, "/health", body, sizeof(body));
		if (code != 200)
			usleep(50000);
	}
	cr_expect_eq(code, 200, "GET /health: %d %s", code, body);
	for (int i = 0; i < 200 && fm_registers() == 0; i++)
		usleep(25000);
	cr_expect_gt(fm_registers(), 0, "the agent registered");
	char *text = ap_slurp(logpath);
	cr_expect(strstr(text, "WARN") && strstr(text, "in use"), "%s", text);
	free(text);
}

Test(agent_port_held, a_port_held_for_good_stops_the_agent_naming_it, .timeout = 60)
{
	int port = ah_free_port();
	int fd = hold_port(port);
	agent = ap_start(work, fm.port, port, NULL, NULL);
	cr_assert(agent > 0);
	int st = 0;
	pid_t r = 0;
	for (int i = 0; i < 400 && r == 0; i++) {
		r = waitpid(agent, &st, WNOHANG);
		if (r == 0)
			usleep(50000);
	}
	close(fd);
	cr_assert_eq(r, agent, "the agent still runs after 20 s");
	agent = -1;
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d", st);
	char *text = ap_slurp(logpath);
	char want[64];
	snprintf(want, sizeof(want), "--port %d: cannot listen", port);
	cr_expect(strstr(text, want) && strstr(text, "Address already in use"), "%s", text);
	free(text);
}
