/* agora-agent follows the leading master (issue 16): named in ZooKeeper
 * (--master zk://..., a real 3-member ensemble from scripts/zk-ensemble,
 * the znodes written by the test in Mesos's format, pointing at the fake
 * master of tests/lib/agentd_harness.c), or found through a list of plain
 * addresses and a 307 from a standby. */
#include "agent_proc.h"
#include "agentd_harness.h"
#include "agtest.h"
#include "tmpdir.h"
#include "zk_ensemble.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <signal.h>
#include <sys/wait.h>

static char work[64];
static pid_t agent = -1;

static void setup(void)
{
	agt_root_dir(work, sizeof(work), "agentzk");
	cr_assert(fm_start() == 0);
}

static void teardown(void)
{
	ap_stop(&agent, SIGTERM);
	ap_kill_monitors(work);
	const char *why = ap_keep_log(work, NULL, NULL);
	cr_expect_str_empty(why, "%s", why);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s.log", work, work);
	cr_expect(system(cmd) == 0);
}

TestSuite(agent_zk, .init = setup, .fini = teardown, .timeout = 240);

static bool log_has(const char *words)
{
	char path[128];
	snprintf(path, sizeof(path), "%s.log", work);
	char *text = ap_slurp(path);
	bool found = strstr(text, words) != NULL;
	free(text);
	return found;
}

Test(agent_zk, reregisters_with_its_tasks_at_each_new_leader_in_zookeeper)
{
	char dir[256];
	struct zk_ensemble z;
	cr_assert_eq(td_make(dir, sizeof(dir), "agora-agentzk-ens"), 0);
	int r = zk_ensemble_start(&z, dir, 3);
	if (r == 77)
		AG_SKIP("Debian's zookeeper package is not installed (scripts/install-deps)");
	cr_assert_eq(r, 0, "the ensemble did not start (logs in %s/zk*/log)", dir);
	char *url = zk_ensemble_url(&z, "/agora");
	agent = ap_start_at(work, url, ah_free_port(), NULL, NULL);
	cr_assert(agent > 0);
	/* No master contends yet: the agent waits, and says why. */
	usleep(3000 * 1000);
	cr_assert_eq(fm_registers(), 0);
	WAIT_FOR(log_has("no leading master"), 10);

	char *a_info = zk_mesos_master_info("master-a", "127.0.0.1", fm.port);
	struct zk_contender *a = zk_contend(z.servers, "/agora", a_info);
	cr_assert_not_null(a);
	WAIT_FOR(fm_registers() >= 1, 15);
	fm_run_task("t-zk", "nobody", "sleep 600", NULL, NULL);
	WAIT_FOR(fm_count("t-zk", "TASK_RUNNING") >= 1, 20);

	/* The leader's session ends and another master leads (at the same
	 * address here: a master restarted on its port): the agent
	 * re-registers at once, with its running task. */
	pthread_mutex_lock(&fm.mu);
	int rereg = fm.reregisters;
	pthread_mutex_unlock(&fm.mu);
	char *b_info = zk_mesos_master_info("master-b", "127.0.0.1", fm.port);
	struct zk_contender *b = zk_contend(z.servers, "/agora", b_info);
	cr_assert_not_null(b);
	double t0 = ah_now_s();
	zk_withdraw(a);
	WAIT_FOR(fm.reregisters > rereg, 15);
	double took = ah_now_s() - t0;
	pthread_mutex_lock(&fm.mu);
	bool has_task = strstr(fm.last_reg, "t-zk") != NULL;
	pthread_mutex_unlock(&fm.mu);
	cr_assert(has_task, "the REREGISTER at the new leader lacks the running task");
	cr_assert(log_has(zk_contender_znode(b)), "the agent did not log the new leader");
	cr_log_info("re-registered %.2f s after the leader's znode went", took);

	/* No task left behind. */
	char kill_task[256];
	snprintf(kill_task, sizeof(kill_task),
	         "{\"type\":\"KILL_TASK\",\"kill_task\":{\"framework_id\":{\"value\":\"F0\"},"
	         "\"task_id\":{\"value\":\"t-zk\"}}}");
	fm_send(kill_task);
	WAIT_FOR(fm_count("t-zk", "TASK_KILLED") >= 1, 20);
	ap_stop(&agent, SIGTERM);
	zk_withdraw(b);
	free(a_info);
	free(b_info);
	free(url);
	zk_ensemble_kill(&z, 0);
	td_remove(dir);
}

/* A standby: answers everything with 307 and the leader in Location, in
 * Mesos's form (//HOST:PORT/PATH). */
static struct {
	struct event_base *base;
	struct evhttp *http;
	pthread_t thread;
	int port, hits;
	bool stop;
	int to; /* the port Location names; 0: the fake master's */
} standby;

static void standby_cb(struct evhttp_request *req, void *arg)
{
	(void)arg;
	char loc[128];
	int to = __atomic_load_n(&standby.to, __ATOMIC_SEQ_CST);
	snprintf(loc, sizeof(loc), "//127.0.0.1:%d%s", to ? to : fm.port,
	         evhttp_request_get_uri(req));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Location", loc);
	__atomic_add_fetch(&standby.hits, 1, __ATOMIC_SEQ_CST);
	evhttp_send_reply(req, 307, "Temporary Redirect", NULL);
}

/* event_base_loopbreak() from another thread does not wake a loop
 * without libevent's threading: the loop looks at `stop` every 50 ms. */
static void standby_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (__atomic_load_n(&standby.stop, __ATOMIC_SEQ_CST))
		event_base_loopbreak(standby.base);
}

static void *standby_run(void *arg)
{
	(void)arg;
	struct event *tick = event_new(standby.base, -1, EV_PERSIST, standby_tick, NULL);
	struct timeval tv = {0, 50000};
	event_add(tick, &tv);
	event_base_dispatch(standby.base);
	event_free(tick);
	return NULL;
}

static void start_standby(void)
{
	standby.base = event_base_new();
	standby.http = evhttp_new(standby.base);
	evhttp_set_gencb(standby.http, standby_cb, NULL);
	struct evhttp_bound_socket *s =
	        evhttp_bind_socket_with_handle(standby.http, "127.0.0.1", 0);
	cr_assert_not_null(s);
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	getsockname(evhttp_bound_socket_get_fd(s), (struct sockaddr *)&sa, &sl);
	standby.port = ntohs(sa.sin_port);
	pthread_create(&standby.thread, NULL, standby_run, NULL);
}

static void stop_standby(void)
{
	__atomic_store_n(&standby.stop, true, __ATOMIC_SEQ_CST);
	pthread_join(standby.thread, NULL);
	evhttp_free(standby.http);
	event_base_free(standby.base);
}

Test(agent_zk, tries_the_masters_of_a_list_and_follows_a_307)
{
	start_standby();
	/* The first master is gone (nothing listens), the second is a
	 * standby: the agent ends up registered with the leader. */
	char master[128];
	snprintf(master, sizeof(master), "127.0.0.1:%d,127.0.0.1:%d", ah_free_port(), standby.port);
	agent = ap_start_at(work, master, ah_free_port(), NULL, NULL);
	WAIT_FOR(fm_registers() >= 1, 20);
	cr_assert(__atomic_load_n(&standby.hits, __ATOMIC_SEQ_CST) >= 1);
	cr_assert(log_has("is not the leader: redirected to 127.0.0.1:"), "no redirect logged");
	ap_stop(&agent, SIGTERM);
	stop_standby();
}

/* The leader ZooKeeper names has not yet seen its election and redirects
 * to the former leader, which is gone: the agent must go back to the one
 * ZooKeeper names (it kept retrying the dead one before). */
Test(agent_zk, goes_back_to_the_zookeeper_leader_after_a_stale_307)
{
	char dir[256];
	struct zk_ensemble z;
	cr_assert_eq(td_make(dir, sizeof(dir), "agora-agentzk-ens"), 0);
	int r = zk_ensemble_start(&z, dir, 3);
	if (r == 77)
		AG_SKIP("Debian's zookeeper package is not installed (scripts/install-deps)");
	cr_assert_eq(r, 0, "the ensemble did not start (logs in %s/zk*/log)", dir);
	start_standby();
	__atomic_store_n(&standby.to, ah_free_port(), __ATOMIC_SEQ_CST); /* nobody there */
	char info[256];
	snprintf(info, sizeof(info),
	         "{\"id\":\"m2\",\"address\":{\"ip\":\"127.0.0.1\",\"port\":%d}}", standby.port);
	struct zk_contender *c = zk_contend(z.servers, "/agora", info);
	cr_assert_not_null(c);
	char *url = zk_ensemble_url(&z, "/agora");
	agent = ap_start_at(work, url, ah_free_port(), NULL, NULL);
	WAIT_FOR(log_has("is not the leader: redirected to 127.0.0.1:"), 15);
	usleep(500 * 1000);
	/* Now it knows it leads: its 307s name the (fake) master. */
	__atomic_store_n(&standby.to, 0, __ATOMIC_SEQ_CST);
	WAIT_FOR(fm_registers() >= 1, 15);
	ap_stop(&agent, SIGTERM);
	stop_standby();
	zk_withdraw(c);
	free(url);
	zk_ensemble_kill(&z, 0);
	td_remove(dir);
}

/* A bad --master is refused at start, naming the flag and what is wrong. */
Test(agent_zk, refuses_a_bad_master_flag)
{
	const char *bad[][2] = {{"zk://h1:2181", "no path"},
	                        {"zk://u:p@h1:2181/agora", "credentials"},
	                        {"127.0.0.1:5050,", "is not HOST:PORT"},
	                        {"127.0.0.1", "is not HOST:PORT"}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char log[128];
		snprintf(log, sizeof(log), "%s.bad%zu", work, i);
		pid_t p = ap_start_at(work, bad[i][0], ah_free_port(), log, NULL);
		int st;
		cr_assert_eq(waitpid(p, &st, 0), p);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2, "`%s`: status %d", bad[i][0], st);
		char *text = ap_slurp(log);
		cr_assert(strstr(text, "--master") && strstr(text, bad[i][1]),
		          "`%s`: the message does not say `%s`: %s", bad[i][0], bad[i][1], text);
		free(text);
		unlink(log);
	}
}
