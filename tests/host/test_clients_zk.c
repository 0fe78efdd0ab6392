/* The clients follow the leading master (issue 16): agoractl and the C
 * scheduler SDK given zk://... (a real 3-member ensemble from
 * scripts/zk-ensemble; the znodes written by the test in Mesos's format,
 * naming a real agora-master) or a list of plain addresses with a standby
 * that answers 307. */
#include "agtest.h"
#include "master_client.h"
#include "tmpdir.h"
#include "sdk/scheduler.h"
#include "zk_ensemble.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

static char dir[256];
static struct zk_ensemble z;
static pid_t master = -1;
static uint16_t master_port;

/* A standby: 307 to the master with Location in Mesos's form. */
static struct {
	struct event_base *base;
	struct evhttp *http;
	pthread_t thread;
	int port, hits;
	bool stop;
} standby;

static void standby_cb(struct evhttp_request *req, void *arg)
{
	(void)arg;
	char loc[256];
	snprintf(loc, sizeof(loc), "//127.0.0.1:%u%s", master_port, evhttp_request_get_uri(req));
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

static void setup(void)
{
	if (geteuid() != 0)
		AG_SKIP("host tier: runs as root");
	cr_assert_eq(td_make(dir, sizeof(dir), "agora-clientszk"), 0);
	char bin[512], wd[300];
	const char *b = getenv("AGORA_BUILD_DIR");
	snprintf(bin, sizeof(bin), "%s/bin/agora-master", b ? b : "build");
	snprintf(wd, sizeof(wd), "--work_dir=%s/master", dir);
	const char *argv[] = {bin, wd, "--port=0", NULL};
	cr_assert_eq(mc_spawn_master(argv, -1, 10000, &master, &master_port), 0);
	start_standby();
}

static void teardown(void)
{
	if (z.members)
		zk_ensemble_kill(&z, 0);
	if (master > 0) {
		kill(master, SIGKILL);
		waitpid(master, NULL, 0);
	}
	if (standby.base) {
		__atomic_store_n(&standby.stop, true, __ATOMIC_SEQ_CST);
		pthread_join(standby.thread, NULL);
		evhttp_free(standby.http);
		event_base_free(standby.base);
	}
	if (dir[0])
		td_remove(dir);
}

TestSuite(clients_zk, .init = setup, .fini = teardown, .timeout = 200);

/* Run agoractl with `master` and `args`; its exit status, its stdout and
 * stderr together in `out`. */
static int agoractl(const char *master_text, const char *args, char *out, size_t n)
{
	const char *b = getenv("AGORA_BUILD_DIR");
	char cmd[2048], path[300];
	snprintf(path, sizeof(path), "%s/agoractl.out", dir);
	snprintf(cmd, sizeof(cmd), "%s/bin/agoractl --master '%s' %s >%s 2>&1", b ? b : "build",
	         master_text, args, path);
	int st = system(cmd);
	FILE *f = fopen(path, "re");
	size_t k = f ? fread(out, 1, n - 1, f) : 0;
	out[k] = '\0';
	if (f)
		fclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(clients_zk, agoractl_tries_a_list_and_follows_a_307)
{
	char out[8192], list[128];
	/* Nothing listens on the first; the second is a standby. */
	snprintf(list, sizeof(list), "127.0.0.1:%d,127.0.0.1:%d", 1, standby.port);
	int rc = agoractl(list, "--json agents", out, sizeof(out));
	cr_assert_eq(rc, 0, "agoractl: %d: %s", rc, out);
	cr_assert_str_eq(out, "[]\n", "no agents, as JSON: %s", out);
	cr_assert(__atomic_load_n(&standby.hits, __ATOMIC_SEQ_CST) >= 1,
	          "the standby was not asked");
	/* A bad list is a usage error naming the flag and the bad part. */
	rc = agoractl("127.0.0.1:5050,:x", "agents", out, sizeof(out));
	cr_assert_eq(rc, 2, "%s", out);
	cr_assert(strstr(out, "--master") && strstr(out, "`:x`"), "%s", out);
}

Test(clients_zk, agoractl_finds_the_leader_in_zookeeper)
{
	char zdir[300];
	snprintf(zdir, sizeof(zdir), "%s/zk", dir);
	int r = zk_ensemble_start(&z, zdir, 3);
	if (r == 77)
		AG_SKIP("Debian's zookeeper package is not installed (scripts/install-deps)");
	cr_assert_eq(r, 0, "the ensemble did not start (logs in %s/zk*/log)", zdir);
	char *url = zk_ensemble_url(&z, "/agora");
	char out[8192];
	/* No master contends: exit 3 (unreachable), saying why. */
	int rc = agoractl(url, "agents", out, sizeof(out));
	cr_assert_eq(rc, 3, "%s", out);
	cr_assert(strstr(out, "does not exist") || strstr(out, "no master contends"), "%s", out);

	char *info = zk_mesos_master_info("m1", "127.0.0.1", master_port);
	struct zk_contender *c = zk_contend(z.servers, "/agora", info);
	cr_assert_not_null(c);
	rc = agoractl(url, "--json agents", out, sizeof(out));
	cr_assert_eq(rc, 0, "%s", out);
	cr_assert_str_eq(out, "[]\n", "no agents, as JSON: %s", out);
	/* A leader that is a standby: the 307 is followed too. */
	char standby_info[256];
	snprintf(standby_info, sizeof(standby_info),
	         "{\"id\":\"m0\",\"address\":{\"ip\":\"127.0.0.1\",\"port\":%d}}", standby.port);
	zk_withdraw(c);
	c = zk_contend(z.servers, "/agora", standby_info);
	cr_assert_not_null(c);
	rc = agoractl(url, "--json agents", out, sizeof(out));
	cr_assert_eq(rc, 0, "%s", out);
	cr_assert(__atomic_load_n(&standby.hits, __ATOMIC_SEQ_CST) >= 1);

	rc = agoractl("zk://127.0.0.1:2181/agora/", "agents", out, sizeof(out));
	cr_assert_eq(rc, 2, "%s", out);
	cr_assert(strstr(out, "--master") && strstr(out, "trailing"), "%s", out);
	zk_withdraw(c);
	free(info);
	free(url);
}

/* ---- the C scheduler SDK ---------------------------------------------- */

struct subs {
	int n;
	char fw[128];
};

static void on_subscribed(struct ags *s, void *ctx, const char *framework_id, double hb)
{
	(void)s;
	(void)hb;
	struct subs *x = ctx;
	x->n++;
	snprintf(x->fw, sizeof(x->fw), "%s", framework_id);
}

/* Run `base` until `*n` reaches `want`, at most `secs`. */
static void loop_until(struct event_base *base, const int *n, int want, double secs)
{
	struct timeval tick = {0, 50000};
	for (int i = 0; i < (int)(secs * 20) && *n < want; i++) {
		event_base_loopexit(base, &tick);
		event_base_dispatch(base);
	}
	cr_assert(*n >= want, "%d subscriptions after %.0f s, not %d", *n, secs, want);
}

Test(clients_zk, sdk_subscribes_again_at_a_new_leader_and_follows_a_307)
{
	char zdir[300];
	snprintf(zdir, sizeof(zdir), "%s/zk", dir);
	int r = zk_ensemble_start(&z, zdir, 3);
	if (r == 77)
		AG_SKIP("Debian's zookeeper package is not installed (scripts/install-deps)");
	cr_assert_eq(r, 0, "the ensemble did not start (logs in %s/zk*/log)", zdir);
	char *url = zk_ensemble_url(&z, "/agora");
	char *info = zk_mesos_master_info("m1", "127.0.0.1", master_port);
	struct zk_contender *a = zk_contend(z.servers, "/agora", info);
	cr_assert_not_null(a);

	struct event_base *base = event_base_new();
	struct subs x = {0};
	struct ags_callbacks cb = {.subscribed = on_subscribed};
	struct ags_config cfg = {.master = url, .name = "zk-test", .failover_timeout = 60};
	struct ags *s = ags_new(base, &cfg, &cb, &x);
	cr_assert_not_null(s);
	ags_start(s);
	loop_until(base, &x.n, 1, 20);
	char fw[128];
	snprintf(fw, sizeof(fw), "%s", x.fw);

	/* The leader's znode goes; the new one names a standby, which
	 * redirects to the master: the framework subscribes again there,
	 * with its id. */
	char standby_info[256];
	snprintf(standby_info, sizeof(standby_info),
	         "{\"id\":\"m0\",\"address\":{\"ip\":\"127.0.0.1\",\"port\":%d}}", standby.port);
	struct zk_contender *b = zk_contend(z.servers, "/agora", standby_info);
	cr_assert_not_null(b);
	zk_withdraw(a);
	loop_until(base, &x.n, 2, 20);
	cr_assert_str_eq(x.fw, fw, "a new framework id after the leader changed");
	cr_assert(__atomic_load_n(&standby.hits, __ATOMIC_SEQ_CST) >= 1, "no 307 followed");
	ags_free(s);

	/* A list: the first cannot be reached, the second is the standby. */
	char list[128];
	snprintf(list, sizeof(list), "127.0.0.1:1,127.0.0.1:%d", standby.port);
	struct subs y = {0};
	struct ags_config cfg2 = {.master = list, .name = "list-test", .backoff_base_ms = 50};
	s = ags_new(base, &cfg2, &cb, &y);
	cr_assert_not_null(s);
	ags_start(s);
	loop_until(base, &y.n, 1, 20);
	ags_free(s);
	/* Bad masters are refused. */
	struct ags_config bad = {.master = "zk://127.0.0.1:2181"};
	cr_assert_null(ags_new(base, &bad, &cb, &y));
	cr_assert_eq(errno, EINVAL);
	bad.master = "127.0.0.1:5050,";
	cr_assert_null(ags_new(base, &bad, &cb, &y));
	event_base_free(base);
	zk_withdraw(b);
	free(info);
	free(url);
}
