/* The leader detector (zkdetect/) against a real 3-member ZooKeeper
 * ensemble (scripts/zk-ensemble): leader changes, no leader, the loss of
 * one member and the restart of the whole ensemble, with contenders that
 * write their znodes as Mesos's masters do. */
#include "agtest.h"
#include "tmpdir.h"
#include "zk_ensemble.h"
#include "zkdetect/zkdetect.h"

#include <event2/event.h>

struct seen {
	int calls;
	bool has;
	char host[64];
	int port;
	char why[512];
};

static void on_leader(void *ctx, const struct zkd_leader *l, const char *why)
{
	struct seen *s = ctx;
	s->calls++;
	s->has = l != NULL;
	snprintf(s->host, sizeof(s->host), "%s", l ? l->host : "");
	s->port = l ? l->port : 0;
	snprintf(s->why, sizeof(s->why), "%s", why ? why : "");
}

/* Run the loop until the detector reports `port` (0: no leader), or fail
 * after `secs`. */
static void expect(struct event_base *base, struct seen *s, int port, double secs)
{
	uint64_t deadline = ag_now_ns() + (uint64_t)(secs * 1e9);
	struct timeval tick = {0, 50000};
	while (ag_now_ns() < deadline) {
		if (s->calls && (port ? s->has && s->port == port : !s->has))
			return;
		event_base_loopexit(base, &tick);
		event_base_dispatch(base);
	}
	cr_assert_fail("after %.0f s the detector reports %s%s:%d (%s), not %s port %d", secs,
	               s->calls ? "" : "nothing yet; last ", s->host, s->port, s->why,
	               port ? "the leader at" : "no leader", port);
}

static char dir[256];
static struct zk_ensemble Z;

static void start_ensemble(void)
{
	if (geteuid() != 0)
		AG_SKIP("host tier: runs as root");
	cr_assert_eq(td_make(dir, sizeof(dir), "agora-zkdetect"), 0);
	int r = zk_ensemble_start(&Z, dir, 3);
	if (r == 77)
		AG_SKIP("Debian's zookeeper package is not installed (scripts/install-deps)");
	cr_assert_eq(r, 0, "the ensemble did not start (logs in %s/zk*/log)", dir);
}

static void stop_ensemble(void)
{
	if (Z.members)
		AG_IGNORE_RESULT(zk_ensemble_kill(&Z, 0));
	if (dir[0])
		AG_IGNORE_RESULT(td_remove(dir));
}

TestSuite(zkdetect, .init = start_ensemble, .fini = stop_ensemble, .timeout = 200);

Test(zkdetect, follows_the_lowest_sequence_and_reports_no_leader)
{
	struct event_base *base = event_base_new();
	struct zkd_url u;
	struct ag_error err = {0};
	_cleanup_free_ char *url = zk_ensemble_url(&Z, "/agora/ha");
	cr_assert_eq(zkd_url_parse("--master", url, &u, &err), 0, "%s", err.msg);
	struct seen s = {0};
	struct zkd_detector *d = zkd_detector_new(base, &u, 4000, on_leader, &s, &err);
	cr_assert_not_null(d, "%s", err.msg);
	/* Nothing under the path yet: no leader, and the reason says so. */
	expect(base, &s, 0, 15);
	cr_assert(strstr(s.why, "does not exist"), "%s", s.why);

	_cleanup_free_ char *a_info = zk_mesos_master_info("master-a", "127.0.0.1", 5050);
	struct zk_contender *a = zk_contend(Z.servers, "/agora/ha", a_info);
	cr_assert_not_null(a);
	expect(base, &s, 5050, 15);
	cr_assert_str_eq(s.host, "127.0.0.1");
	/* agora's own MasterInfo, and one with a higher sequence: A leads on. */
	struct zk_contender *b = zk_contend(
	        Z.servers, "/agora/ha",
	        "{\"id\":\"master-b\",\"address\":{\"ip\":\"127.0.0.2\",\"port\":5051}}");
	cr_assert_not_null(b);
	int calls = s.calls;
	expect(base, &s, 5050, 1);
	cr_assert_eq(s.calls, calls, "a contender with a higher sequence was reported");

	/* The one-shot lookup agrees. */
	struct zkd_leader l;
	cr_assert_eq(zkd_find_leader(&u, 10000, &l, &err), 0, "%s", err.msg);
	cr_assert_eq(l.port, 5050);
	cr_assert_str_eq(l.id, "master-a");
	zkd_leader_free(&l);

	/* A leaves (its session closes): B leads. */
	zk_withdraw(a);
	expect(base, &s, 5051, 15);
	cr_assert_str_eq(s.host, "127.0.0.2");
	zk_withdraw(b);
	expect(base, &s, 0, 15);
	cr_assert(strstr(s.why, "no master contends"), "%s", s.why);
	cr_assert_eq(zkd_find_leader(&u, 1500, &l, &err), -ENOENT);
	cr_assert(strstr(err.msg, "no master contends"), "%s", err.msg);

	zkd_detector_free(d);
	zkd_url_free(&u);
	event_base_free(base);
}

Test(zkdetect, survives_the_loss_of_a_member_and_the_restart_of_the_ensemble)
{
	struct event_base *base = event_base_new();
	struct zkd_url u;
	struct ag_error err = {0};
	_cleanup_free_ char *url = zk_ensemble_url(&Z, "/agora");
	cr_assert_eq(zkd_url_parse("--master", url, &u, &err), 0, "%s", err.msg);
	struct seen s = {0};
	struct zkd_detector *d = zkd_detector_new(base, &u, 2000, on_leader, &s, &err);
	cr_assert_not_null(d, "%s", err.msg);
	_cleanup_free_ char *a_info = zk_mesos_master_info("master-a", "127.0.0.1", 6050);
	_cleanup_free_ char *b_info = zk_mesos_master_info("master-b", "127.0.0.1", 6051);
	struct zk_contender *a = zk_contend(Z.servers, "/agora", a_info);
	struct zk_contender *b = zk_contend(Z.servers, "/agora", b_info);
	cr_assert(a && b);
	expect(base, &s, 6050, 15);

	/* The ensemble's leader dies: a quorum remains, and the change of
	 * masters is still seen. */
	int zl = zk_ensemble_leader(&Z);
	cr_assert(zl > 0, "no member of the ensemble leads");
	cr_assert_eq(zk_ensemble_kill(&Z, zl), 0);
	zk_withdraw(a);
	expect(base, &s, 6051, 30);

	/* The whole ensemble goes: after the session timeout the detector
	 * says there is no leader (it cannot know one). */
	cr_assert_eq(zk_ensemble_stop(&Z, 0), 0);
	expect(base, &s, 0, 15);
	cr_assert(strstr(s.why, "no ZooKeeper session"), "%s", s.why);
	/* Back: B's session may have outlived the outage (ZooKeeper restores
	 * sessions from its log) or not; a new contender makes sure someone
	 * contends, and the detector finds whoever leads. */
	cr_assert_eq(zk_ensemble_restart(&Z, 0), 0);
	_cleanup_free_ char *c_info = zk_mesos_master_info("master-c", "127.0.0.1", 6052);
	struct zk_contender *c = zk_contend(Z.servers, "/agora", c_info);
	cr_assert_not_null(c);
	uint64_t deadline = ag_now_ns() + 30000000000ull;
	struct timeval tick = {0, 50000};
	while (ag_now_ns() < deadline && !(s.has && (s.port == 6051 || s.port == 6052))) {
		event_base_loopexit(base, &tick);
		event_base_dispatch(base);
	}
	cr_assert(s.has && (s.port == 6051 || s.port == 6052),
	          "no leader found after the ensemble's restart: %s", s.why);
	zk_withdraw(b);
	expect(base, &s, 6052, 30);
	zk_withdraw(c);
	zkd_detector_free(d);
	zkd_url_free(&u);
	event_base_free(base);
}
