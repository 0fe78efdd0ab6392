/* issue 16, items 1 and 2: standby masters with ZooKeeper. A real
 * ZooKeeper server (Debian's `zookeeper` package) is started by each test
 * on a free loopback port with its own data directory, tickTime 100 ms (so
 * that 2 s sessions are allowed: the minimum is 2 x tickTime), and stopped
 * by pid. Two agora-masters contend with --zk: the first leads, the second
 * answers 307 to the leader; their znodes hold MasterInfo as Mesos writes
 * it. A leader cut off from ZooKeeper (its connection goes through a proxy
 * in this test that stops forwarding: the server and the standby see
 * silence, as in a partition) stops leading on its own before the standby
 * is elected: at no instant do both answer as leader.
 *
 * The ZooKeeper harness here is local to this test (the 3-member ensemble
 * of tests/lib belongs to the clients' side of issue 16). */
#include "agtest.h"
#include "master_client.h"
#include "master_sim.h"
#include "master/registry.h"
#include "tmpdir.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <zookeeper/zookeeper.h>

#define ZK_JAR  "/usr/share/java/zookeeper.jar"
#define JAVA    "/usr/bin/java"
#define JSON_HD "Content-Type: application/json\r\nAccept: application/json\r\n"

static char dir[256];
static pid_t zk_pid = -1;
static uint16_t zk_port;
static pid_t masters[2] = {-1, -1};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint16_t free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	          getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static bool port_open(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons(port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* A standalone ZooKeeper server on a free loopback port. */
static void zk_start(void)
{
	if (access(ZK_JAR, R_OK) != 0 || access(JAVA, X_OK) != 0)
		AG_SKIP("the zookeeper package (" ZK_JAR ", " JAVA
		        ") is not installed: scripts/install-deps installs it");
	zk_port = free_port();
	char cfg[320], data[300], log[320];
	snprintf(data, sizeof(data), "%s/zkdata", dir);
	snprintf(cfg, sizeof(cfg), "%s/zoo.cfg", dir);
	snprintf(log, sizeof(log), "%s/zk.log", dir);
	cr_assert_eq(mkdir(data, 0700), 0);
	FILE *f = fopen(cfg, "we");
	cr_assert_not_null(f);
	fprintf(f,
	        "tickTime=100\nminSessionTimeout=200\ndataDir=%s\nclientPort=%u\n"
	        "clientPortAddress=127.0.0.1\nadmin.enableServer=false\nmaxClientCnxns=0\n",
	        data, zk_port);
	fclose(f);
	zk_pid = fork();
	cr_assert_geq(zk_pid, 0);
	if (zk_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(JAVA, JAVA, "-Xmx256m", "-cp", "/etc/zookeeper/conf:" ZK_JAR,
		      "org.apache.zookeeper.server.ZooKeeperServerMain", cfg, (char *)NULL);
		_exit(127);
	}
	int64_t end = now_ms() + 60000;
	while (!port_open(zk_port) && now_ms() < end) {
		cr_assert_eq(waitpid(zk_pid, NULL, WNOHANG), 0, "ZooKeeper exited (log: %s)", log);
		usleep(50 * 1000);
	}
	cr_assert(port_open(zk_port), "ZooKeeper did not listen on %u (log: %s)", zk_port, log);
}

static void stop(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
	}
	*pid = -1;
}

/* ---- a TCP proxy that can stop forwarding (a partition) ---------------- */

static struct {
	int lfd;
	uint16_t port, up_port;
	atomic_bool frozen, stop;
	pthread_t th;
	bool running;
} px;

static void *proxy_main(void *arg)
{
	(void)arg;
	int pairs[16][2];
	int n = 0;
	char buf[65536];
	while (!atomic_load(&px.stop)) {
		if (atomic_load(&px.frozen)) {
			usleep(10 * 1000);
			continue;
		}
		struct pollfd pf[33] = {{.fd = px.lfd, .events = POLLIN}};
		for (int i = 0; i < n; i++) {
			pf[1 + 2 * i] = (struct pollfd){.fd = pairs[i][0], .events = POLLIN};
			pf[2 + 2 * i] = (struct pollfd){.fd = pairs[i][1], .events = POLLIN};
		}
		if (poll(pf, (nfds_t)(1 + 2 * n), 10) <= 0)
			continue;
		if (atomic_load(&px.frozen))
			continue;
		if ((pf[0].revents & POLLIN) && n < 16) {
			int c = accept4(px.lfd, NULL, NULL, SOCK_CLOEXEC);
			int u = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			struct sockaddr_in sa = {.sin_family = AF_INET,
			                         .sin_port = htons(px.up_port),
			                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
			if (c >= 0 && u >= 0 &&
			    connect(u, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
				pairs[n][0] = c;
				pairs[n][1] = u;
				n++;
			} else {
				if (c >= 0)
					close(c);
				if (u >= 0)
					close(u);
			}
		}
		for (int i = 0; i < n; i++) {
			for (int side = 0; side < 2; side++) {
				if (!(pf[1 + 2 * i + side].revents & (POLLIN | POLLHUP | POLLERR)))
					continue;
				ssize_t r = read(pairs[i][side], buf, sizeof(buf));
				bool dead = r <= 0;
				for (ssize_t off = 0; !dead && off < r;) {
					ssize_t w = send(pairs[i][!side], buf + off,
					                 (size_t)(r - off), MSG_NOSIGNAL);
					if (w <= 0)
						dead = true;
					else
						off += w;
				}
				if (dead) {
					close(pairs[i][0]);
					close(pairs[i][1]);
					pairs[i][0] = pairs[i][1] = -1;
				}
			}
		}
		int k = 0;
		for (int i = 0; i < n; i++)
			if (pairs[i][0] >= 0) {
				pairs[k][0] = pairs[i][0];
				pairs[k][1] = pairs[i][1];
				k++;
			}
		n = k;
	}
	for (int i = 0; i < n; i++) {
		close(pairs[i][0]);
		close(pairs[i][1]);
	}
	return NULL;
}

static void proxy_start(uint16_t up_port)
{
	px.up_port = up_port;
	px.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	cr_assert(px.lfd >= 0 && bind(px.lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	          listen(px.lfd, 16) == 0 &&
	          getsockname(px.lfd, (struct sockaddr *)&sa, &len) == 0);
	px.port = ntohs(sa.sin_port);
	atomic_store(&px.frozen, false);
	atomic_store(&px.stop, false);
	cr_assert_eq(pthread_create(&px.th, NULL, proxy_main, NULL), 0);
	px.running = true;
}

static void proxy_stop(void)
{
	if (!px.running)
		return;
	atomic_store(&px.stop, true);
	pthread_join(px.th, NULL);
	close(px.lfd);
	px.running = false;
}

/* ---- masters ------------------------------------------------------------ */

static void setup(void)
{
	if (geteuid() != 0)
		AG_SKIP("host tier: runs as root");
	cr_assert_eq(td_make(dir, sizeof(dir), "agora-master-zk"), 0);
	zk_start();
}

static void teardown(void)
{
	stop(&masters[0]);
	stop(&masters[1]);
	proxy_stop();
	stop(&zk_pid);
	if (dir[0])
		if (!getenv("AGT_KEEP"))
			(void)td_remove(dir);
	dir[0] = '\0';
}

TestSuite(master_zk, .init = setup, .fini = teardown, .timeout = 120);

/* Start master `i` against ZooKeeper on `port`; its port in *ret_port. */
static void start_master(int i, uint16_t port, const char *session, uint16_t *ret_port)
{
	const char *b = getenv("AGORA_BUILD_DIR");
	char bin[512], wd[320], zk[128], st[64], log[320];
	snprintf(bin, sizeof(bin), "%s/bin/agora-master", b ? b : "build");
	snprintf(wd, sizeof(wd), "--work_dir=%s/w%d", dir, i);
	snprintf(zk, sizeof(zk), "--zk=zk://127.0.0.1:%u/agora/ha", port);
	snprintf(st, sizeof(st), "--zk_session_timeout=%s", session);
	snprintf(log, sizeof(log), "%s/m%d.log", dir, i);
	const char *argv[] = {bin, "--port=0", wd, zk, st, "--log_level=debug", NULL};
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	int r = mc_spawn_master(argv, fd, 10000, &masters[i], ret_port);
	close(fd);
	cr_assert_eq(r, 0, "master %d did not start (log: %s)", i, log);
}

/* POST an operator call; the status (-1: no answer), Location in `loc`. */
static int op_call(uint16_t port, const char *body, char *loc, size_t loc_len, char **ret_body)
{
	struct mc_response r = {0};
	if (mc_request(port, "POST", "/api/v1", JSON_HD, body, &r) != 0) {
		mc_response_free(&r);
		return -1;
	}
	if (loc) {
		const char *l = mc_header(&r, "Location");
		snprintf(loc, loc_len, "%s", l ? l : "");
	}
	if (ret_body)
		*ret_body = strdup(r.body ? r.body : "");
	int s = r.status;
	mc_response_free(&r);
	return s;
}

static int leader_status(uint16_t port)
{
	return op_call(port, "{\"type\":\"GET_STATE\"}", NULL, 0, NULL);
}

static void wait_status(uint16_t port, int want, int ms)
{
	int64_t end = now_ms() + ms;
	int s;
	while ((s = leader_status(port)) != want && now_ms() < end)
		usleep(20 * 1000);
	cr_assert_eq(s, want, "master on %u answers GET_STATE %d, not %d", port, s, want);
}

/* A request's status and Location. */
static int request(uint16_t port, const char *method, const char *path, const char *body, char *loc,
                   size_t loc_len)
{
	struct mc_response r = {0};
	cr_assert_eq(mc_request(port, method, path, body ? JSON_HD : NULL, body, &r), 0);
	const char *l = mc_header(&r, "Location");
	snprintf(loc, loc_len, "%s", l ? l : "");
	int s = r.status;
	mc_response_free(&r);
	return s;
}

static zhandle_t *zk_client(void);

static void zk_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	(void)zh;
	(void)type;
	(void)path;
	if (state == ZOO_CONNECTED_STATE)
		atomic_store((atomic_bool *)ctx, true);
}

Test(master_zk, standby_redirects_to_the_leader_and_znodes_hold_master_info)
{
	uint16_t p1, p2;
	start_master(0, zk_port, "10secs", &p1);
	wait_status(p1, 200, 15000);
	start_master(1, zk_port, "10secs", &p2);
	wait_status(p2, 307, 15000);

	char loc[512], want[512];
	/* The operator API, the scheduler API, the agent API: 307 to the
	 * same path on the leader. */
	cr_assert_eq(op_call(p2, "{\"type\":\"GET_STATE\"}", loc, sizeof(loc), NULL), 307);
	snprintf(want, sizeof(want), "http://127.0.0.1:%u/api/v1", p1);
	cr_assert_str_eq(loc, want);
	cr_assert_eq(request(p2, "POST", "/api/v1/scheduler",
	                     "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":"
	                     "{\"user\":\"root\",\"name\":\"zk\"}}}",
	                     loc, sizeof(loc)),
	             307);
	snprintf(want, sizeof(want), "http://127.0.0.1:%u/api/v1/scheduler", p1);
	cr_assert_str_eq(loc, want);
	cr_assert_eq(
	        request(p2, "POST", "/api/v1/agent", "{\"type\":\"REGISTER\"}", loc, sizeof(loc)),
	        307);
	snprintf(want, sizeof(want), "http://127.0.0.1:%u/api/v1/agent", p1);
	cr_assert_str_eq(loc, want);
	/* The leader itself answers. */
	cr_assert_eq(request(p1, "POST", "/api/v1/agent", "{\"type\":\"NOPE\"}", loc, sizeof(loc)),
	             400);

	/* What the standby serves itself. */
	cr_assert_eq(request(p2, "GET", "/health", NULL, loc, sizeof(loc)), 200);
	cr_assert_eq(request(p2, "GET", "/master/redirect", NULL, loc, sizeof(loc)), 307);
	snprintf(want, sizeof(want), "http://127.0.0.1:%u", p1);
	cr_assert_str_eq(loc, want);
	cr_assert_eq(request(p1, "GET", "/master/redirect", NULL, loc, sizeof(loc)), 307);
	cr_assert_str_eq(loc, want);
	char *body = NULL;
	cr_assert_eq(op_call(p2, "{\"type\":\"GET_MASTER\"}", NULL, 0, &body), 200);
	json_t *j = json_loads(body, 0, NULL);
	cr_assert_not_null(j, "GET_MASTER: %s", body);
	json_t *gm = json_object_get(j, "get_master");
	cr_assert_eq(
	        json_integer_value(json_object_get(json_object_get(gm, "master_info"), "port")),
	        p2);
	cr_assert_null(json_object_get(gm, "elected_time"), "a standby was not elected: %s", body);
	json_decref(j);
	free(body);

	/* In ZooKeeper: two ephemeral json.info_ nodes; the lowest is the
	 * leader's MasterInfo, as Mesos writes it. */
	zhandle_t *zh = zk_client();
	struct String_vector kids = {0};
	cr_assert_eq(zoo_get_children(zh, "/agora/ha", 0, &kids), ZOK);
	const char *lowest = NULL;
	int contenders = 0;
	for (int i = 0; i < kids.count; i++) {
		if (strcmp(kids.data[i], "registry") == 0)
			continue; /* the leader's registry (registry_zk.h) */
		contenders++;
		cr_assert_eq(strncmp(kids.data[i], "json.info_", 10), 0, "%s", kids.data[i]);
		cr_assert_eq(strlen(kids.data[i]), 20, "a 10-digit sequence: %s", kids.data[i]);
		if (!lowest || strcmp(kids.data[i], lowest) < 0)
			lowest = kids.data[i];
	}
	cr_assert_eq(contenders, 2);
	char path[128], data[2048];
	snprintf(path, sizeof(path), "/agora/ha/%s", lowest);
	int dlen = sizeof(data) - 1;
	struct Stat st;
	cr_assert_eq(zoo_get(zh, path, 0, data, &dlen, &st), ZOK);
	data[dlen] = '\0';
	cr_assert_neq(st.ephemeralOwner, 0, "the node is ephemeral");
	j = json_loads(data, 0, NULL);
	cr_assert_not_null(j, "%s", data);
	/* 127.0.0.1 as Mesos's uint32: the address bytes in network order
	 * read as a little-endian integer. */
	cr_assert_eq(json_integer_value(json_object_get(j, "ip")), 16777343, "%s", data);
	cr_assert_eq(json_integer_value(json_object_get(j, "port")), p1, "%s", data);
	char pid[64];
	snprintf(pid, sizeof(pid), "master@127.0.0.1:%u", p1);
	cr_assert_str_eq(json_string_value(json_object_get(j, "pid")), pid);
	cr_assert(json_is_string(json_object_get(j, "id")) &&
	          json_is_string(json_object_get(j, "hostname")) &&
	          json_is_string(json_object_get(j, "version")));
	json_t *addr = json_object_get(j, "address");
	cr_assert_str_eq(json_string_value(json_object_get(addr, "ip")), "127.0.0.1");
	cr_assert_eq(json_integer_value(json_object_get(addr, "port")), p1);
	json_decref(j);
	deallocate_String_vector(&kids);

	/* A leader that stops (SIGTERM) closes its session: its node goes at
	 * once and the standby leads well before the 10 s session timeout. */
	int64_t t0 = now_ms();
	kill(masters[0], SIGTERM);
	int status = 0;
	cr_assert_eq(waitpid(masters[0], &status, 0), masters[0]);
	masters[0] = -1;
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	wait_status(p2, 200, 5000);
	cr_assert_lt(now_ms() - t0, 5000);
	cr_assert_eq(zoo_get_children(zh, "/agora/ha", 0, &kids), ZOK);
	cr_assert_eq(kids.count, 2, "the registry and the new leader's node");
	deallocate_String_vector(&kids);
	zookeeper_close(zh);
}

/* Whether the stream on `c` has ended (EOF or error); records are read and
 * dropped. */
static bool stream_ended(struct mc_conn *c)
{
	struct pollfd pf = {.fd = c->fd, .events = POLLIN};
	while (poll(&pf, 1, 0) == 1) {
		char buf[4096];
		ssize_t r = read(c->fd, buf, sizeof(buf));
		if (r <= 0)
			return true;
	}
	return false;
}

Test(master_zk, leader_cut_from_zookeeper_stops_before_a_successor_leads)
{
	/* The leader talks to ZooKeeper through the proxy, the standby
	 * directly. */
	proxy_start(zk_port);
	uint16_t p1, p2;
	start_master(0, px.port, "2secs", &p1);
	wait_status(p1, 200, 15000);
	start_master(1, zk_port, "2secs", &p2);
	wait_status(p2, 307, 15000);

	/* A framework subscribed on the leader. */
	struct mc_conn *c = mc_connect(p1);
	cr_assert_not_null(c);
	struct mc_response r = {0};
	cr_assert_eq(mc_post_json(c, "/api/v1/scheduler", NULL,
	                          "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":"
	                          "{\"user\":\"root\",\"name\":\"zk\"}}}",
	                          &r),
	             0);
	cr_assert_eq(r.status, 200);
	mc_response_free(&r);
	cr_assert_not(stream_ended(c));

	/* The partition: nothing passes between the leader and ZooKeeper. */
	int64_t t0 = now_ms();
	atomic_store(&px.frozen, true);
	int64_t t_stop = -1, t_stream = -1, t_lead = -1;
	int rounds = 0;
	while (now_ms() - t0 < 20000 && t_lead < 0) {
		int s1 = leader_status(p1);
		int s2 = leader_status(p2);
		int64_t t = now_ms();
		rounds++;
		cr_assert(!(s1 == 200 && s2 == 200),
		          "both masters answered as leader %lld ms after the cut",
		          (long long)(t - t0));
		if (t_stop < 0 && s1 != 200)
			t_stop = t;
		if (t_stream < 0 && stream_ended(c))
			t_stream = t;
		if (s2 == 200)
			t_lead = t;
		/* The old leader, once stopped, never serves again. */
		if (t_stop >= 0)
			cr_assert_neq(s1, 200, "the old leader served again");
		usleep(2000);
	}
	cr_assert_geq(t_lead, 0, "the standby never took over");
	cr_assert_geq(t_stop, 0);
	cr_assert_geq(t_stream, 0, "the old leader's scheduler stream did not end");
	cr_assert_lt(t_stream, t_lead, "the stream ended after the successor led");
	/* Well within the session timeout: the client notices the silence
	 * after 2/3 of it, the leader gives up 1/6 later. */
	cr_assert_lt(t_stop - t0, 2000, "stopped leading %lld ms after the cut",
	             (long long)(t_stop - t0));
	/* The session expires 2 s after ZooKeeper last heard from the leader,
	 * which may be up to a third of that before the cut: the successor
	 * may lead before 2 s, but never before the old leader stopped. */
	cr_assert_lt(t_stop, t_lead);
	cr_log_info("cut at 0: old leader stopped at %lld ms, successor led at %lld ms (%d rounds)",
	            (long long)(t_stop - t0), (long long)(t_lead - t0), rounds);
	mc_close(c);

	/* The old leader exits 1 ("lost leadership"), for its supervisor. */
	int status = 0;
	for (int i = 0; i < 100 && waitpid(masters[0], &status, WNOHANG) == 0; i++)
		usleep(20 * 1000);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %#x", status);
	masters[0] = -1;
}

Test(master_zk, no_leader_known_is_503_and_bad_urls_are_refused)
{
	/* Nothing listens there: no leader can be known. */
	uint16_t p, dead = free_port();
	start_master(0, dead, "10secs", &p);
	char *body = NULL;
	cr_assert_eq(op_call(p, "{\"type\":\"GET_STATE\"}", NULL, 0, &body), 503);
	cr_assert(strstr(body, "No leading master is known"), "%s", body);
	free(body);
	char loc[64];
	cr_assert_eq(request(p, "GET", "/health", NULL, loc, sizeof(loc)), 200);
	cr_assert_eq(request(p, "GET", "/master/redirect", NULL, loc, sizeof(loc)), 503);
	stop(&masters[0]);

	const char *bad[] = {"--zk=http://127.0.0.1:2181/agora", "--zk=zk://127.0.0.1:2181",
	                     "--zk=zk://127.0.0.1:2181/", "--zk=zk://127.0.0.1/agora",
	                     "--zk=zk://user@127.0.0.1:2181/agora"};
	const char *b = getenv("AGORA_BUILD_DIR");
	char bin[512], wd[320], log[320];
	snprintf(bin, sizeof(bin), "%s/bin/agora-master", b ? b : "build");
	snprintf(wd, sizeof(wd), "--work_dir=%s/bad", dir);
	snprintf(log, sizeof(log), "%s/bad.log", dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		const char *argv[] = {bin, "--port=0", wd, bad[i], NULL};
		pid_t pid = -1;
		uint16_t port;
		cr_assert_neq(mc_spawn_master(argv, fd, 5000, &pid, &port), 0, "%s", bad[i]);
		close(fd);
		int status = 0;
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0, "%s", bad[i]);
		char text[1024] = "";
		FILE *f = fopen(log, "re");
		size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
		text[n] = '\0';
		if (f)
			fclose(f);
		cr_assert(strstr(text, "--zk"), "%s: the error names the flag: %s", bad[i], text);
	}
}

/* ---- item 3: the registry in ZooKeeper --------------------------------- */

static void setup_sim(void)
{
	setup();
	sim_init();
}

static void teardown_sim(void)
{
	sim_fini();
	teardown();
}

TestSuite(master_zk_registry, .init = setup_sim, .fini = teardown_sim, .timeout = 120);

/* Whether /agora/ha/registry/<dir>/<name> exists. */
static bool znode_exists(zhandle_t *zh, const char *dir_name, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "/agora/ha/registry/%s/%s", dir_name, name);
	struct Stat st;
	return zoo_exists(zh, path, 0, &st) == ZOK;
}

static zhandle_t *zk_client(void)
{
	static atomic_bool connected;
	atomic_store(&connected, false);
	char hosts[64];
	snprintf(hosts, sizeof(hosts), "127.0.0.1:%u", zk_port);
	zoo_set_debug_level((ZooLogLevel)0);
	zhandle_t *zh = zookeeper_init(hosts, zk_watcher, 10000, NULL, &connected, 0);
	cr_assert_not_null(zh);
	/* A JVM just started, on a busy machine: give it time. */
	for (int i = 0; i < 3000 && !atomic_load(&connected); i++)
		usleep(10 * 1000);
	cr_assert(atomic_load(&connected), "no session with ZooKeeper on %u within 30 s", zk_port);
	return zh;
}

Test(master_zk_registry, a_new_leader_reads_the_registry_and_waits_for_agents)
{
	char zkarg[128];
	snprintf(zkarg, sizeof(zkarg), "--zk=zk://127.0.0.1:%u/agora/ha", zk_port);
	sim_start_master((const char *const[]){zkarg, "--zk_session_timeout=2secs", NULL}, 0);
	uint16_t p1 = sim_port, p2;
	wait_status(p1, 200, 15000);
	start_master(1, zk_port, "2secs", &p2);
	wait_status(p2, 307, 15000);

	/* State the registry keeps: an agent (and its secret), a framework,
	 * a weight, a tombstone; and a task, which it does not keep. */
	struct sim_peer a, f, gone;
	char offer[256];
	sim_agent_register(&a, "a1", SIM_AGENT_RES);
	sim_fw_subscribe(&f, NULL, NULL);
	sim_next_offer(&f, 5000, offer);
	cr_assert_eq(sim_fw_launch(&f, offer, a.id, "t1", "1", NULL), 202);
	json_t *run = sim_peer_next(&a, "RUN_TASK", 3000);
	cr_assert_not_null(run);
	char *fwinfo = json_dumps(sim_jget(run, "run_task.framework_info"), JSON_COMPACT);
	char *task = json_dumps(sim_jget(run, "run_task.task"), JSON_COMPACT);
	json_decref(run);
	cr_assert_eq(sim_agent_update(&a, f.id, "t1", "TASK_RUNNING", SIM_UUIDS[0]), 202);
	sim_expect_update(&f, "TASK_RUNNING");
	cr_assert_eq(sim_op_status("{\"type\":\"UPDATE_WEIGHTS\",\"update_weights\":{"
	                           "\"weight_infos\":[{\"role\":\"web/a\",\"weight\":2.5}]}}"),
	             200);
	sim_fw_subscribe(&gone, NULL, NULL);
	cr_assert_eq(sim_fw_teardown(&gone), 202);

	/* One small znode per record. */
	zhandle_t *zh = zk_client();
	cr_assert(znode_exists(zh, "agents", a.id));
	cr_assert(znode_exists(zh, "frameworks", f.id));
	cr_assert(znode_exists(zh, "frameworks", gone.id));
	cr_assert(znode_exists(zh, "weights", "web%2Fa"));
	char path[512], data[8192];
	snprintf(path, sizeof(path), "/agora/ha/registry/agents/%s", a.id);
	int dlen = sizeof(data) - 1;
	cr_assert_eq(zoo_get(zh, path, 0, data, &dlen, NULL), ZOK);
	data[dlen] = '\0';
	cr_assert(strstr(data, sim_agent_secret(a.id)), "the agent's secret: %s", data);
	zookeeper_close(zh);

	/* The leader dies; the standby takes over within the session
	 * timeout and a little. */
	char fid[256], gid[256];
	snprintf(fid, sizeof(fid), "%s", f.id);
	snprintf(gid, sizeof(gid), "%s", gone.id);
	sim_peer_close(&a);
	sim_peer_close(&f);
	sim_peer_close(&gone);
	int64_t t0 = now_ms();
	sim_kill_master();
	wait_status(p2, 200, 10000);
	cr_log_info("the standby led %lld ms after the SIGKILL", (long long)(now_ms() - t0));
	sim_port = p2;

	/* What the registry kept is there. */
	char *body = NULL;
	cr_assert_eq(op_call(p2, "{\"type\":\"GET_WEIGHTS\"}", NULL, 0, &body), 200);
	cr_assert(strstr(body, "web/a") && strstr(body, "2.5"), "%s", body);
	free(body);
	cr_assert_eq(op_call(p2, "{\"type\":\"GET_AGENTS\"}", NULL, 0, &body), 200);
	cr_assert(strstr(body, "recovered_agents") && strstr(body, a.id), "%s", body);
	free(body);
	/* The torn-down framework may not come back. */
	sim_fw_open_as(&gone, gid);
	json_t *ev = sim_peer_next(&gone, "ERROR", 3000);
	cr_assert_not_null(ev, "the removed framework was let back in");
	json_decref(ev);
	sim_peer_close(&gone);
	/* The framework re-subscribes with its id; its task's agent has not
	 * re-registered: reconciliation waits. */
	sim_fw_subscribe(&f, fid, NULL);
	cr_assert_str_eq(f.id, fid);
	cr_assert_eq(sim_fw_call(&f,
	                         "{\"type\":\"RECONCILE\",\"framework_id\":{\"value\":\"%s\"},"
	                         "\"reconcile\":{\"tasks\":[{\"task_id\":{\"value\":\"t1\"}}]}}",
	                         f.id),
	             202);
	ev = sim_peer_next(&f, "UPDATE", 1000);
	cr_assert_null(ev, "TASK_LOST before the agent could re-register");
	/* The agent re-registers with the secret the first leader issued
	 * (from the registry), with its task. */
	char *fws = NULL, *tasks = NULL;
	cr_assert_geq(asprintf(&fws, "[%s]", fwinfo), 0);
	cr_assert_geq(asprintf(&tasks,
	                       "[{\"framework_id\":{\"value\":\"%s\"},\"task\":%s,\"status\":{"
	                       "\"task_id\":{\"value\":\"t1\"},\"state\":\"TASK_RUNNING\"}}]",
	                       fid, task),
	              0);
	sim_agent_reregister(&a, "a1", SIM_AGENT_RES, fws, tasks);
	sim_peer_forget(&f, NULL);
	cr_assert_eq(sim_fw_call(&f,
	                         "{\"type\":\"RECONCILE\",\"framework_id\":{\"value\":\"%s\"},"
	                         "\"reconcile\":{\"tasks\":[]}}",
	                         f.id),
	             202);
	ev = sim_peer_next(&f, "UPDATE", 3000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(sim_jstr(ev, "update.status.state"), "TASK_RUNNING");
	json_decref(ev);
	free(fws);
	free(tasks);
	free(fwinfo);
	free(task);
}

/* ---- the registry's ZooKeeper backend, through registry.h -------------- */

static int collect_weight(const char *role, double w, void *arg)
{
	json_object_set_new(arg, role, json_real(w));
	return 0;
}

static int collect_agent(const struct ms_registry_agent *a, void *arg)
{
	json_object_set_new(arg, a->id,
	                    json_pack("{s:s, s:s, s:b, s:s?}", "hostname", a->hostname, "info",
	                              a->info_json, "gone", a->gone, "secret", a->secret));
	return 0;
}

static int collect_fw(const struct ms_registry_framework *fw, void *arg)
{
	json_object_set_new(
	        arg, fw->id,
	        json_pack("{s:b, s:f}", "removed", fw->removed, "ft", fw->failover_timeout_s));
	return 0;
}

static void collect_pruned(const char *id, void *arg)
{
	json_array_append_new(arg, json_string(id));
}

static json_t *weights_of(struct ms_registry *reg)
{
	struct ag_error err = {0};
	json_t *w = json_object();
	cr_assert_eq(ms_registry_weights_foreach(reg, collect_weight, w, &err), 0, "%s", err.msg);
	return w;
}

Test(master_zk, registry_backend_keeps_records_batches_and_is_fenced)
{
	zhandle_t *zh = zk_client();
	cr_assert_eq(zoo_create(zh, "/t", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0), ZOK);
	cr_assert_eq(
	        zoo_create(zh, "/t/fence", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, NULL, 0),
	        ZOK);
	struct ag_error err = {0};
	struct ms_registry *reg = NULL;
	cr_assert_eq(ms_registry_open_zk(zh, "/t/registry", "/t/fence", &ZOO_OPEN_ACL_UNSAFE, &reg,
	                                 &err),
	             0, "%s", err.msg);
	struct ms_registry_agent a = {.id = "ag-1",
	                              .hostname = "h1",
	                              .info_json = "{\"hostname\":\"h1\"}",
	                              .registered_at_ns = 5,
	                              .secret = "abcd"};
	cr_assert_eq(ms_registry_agent_put(reg, &a, &err), 0, "%s", err.msg);
	cr_assert_eq(ms_registry_agent_mark_gone(reg, "ag-1", &err), 0);
	cr_assert_eq(ms_registry_agent_mark_gone(reg, "nope", &err), -ENOENT);
	struct ms_registry_framework fw = {
	        .id = "fw-0", .info_json = "{}", .failover_timeout_s = 7};
	cr_assert_eq(ms_registry_framework_put(reg, &fw, &err), 0);
	const char *tombs[] = {"fw-1", "fw-2", "fw-3"};
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(ms_registry_framework_mark_removed(reg, tombs[i], &err), 0);
		usleep(2000); /* distinct removal times */
	}
	cr_assert_eq(ms_registry_framework_mark_removed(reg, "fw-1", &err), 0);
	cr_assert_eq(ms_registry_removed_frameworks(reg), 3);
	cr_assert_eq(ms_registry_weight_set(reg, "web/a", 2.5, &err), 0);
	cr_assert_eq(ms_registry_weight_set(reg, "x", 0, &err), -EINVAL);
	cr_assert_eq(ms_registry_meta_set(reg, "k", "v", &err), 0);

	/* A batch rolled back leaves nothing; one committed, everything. */
	cr_assert_eq(ms_registry_begin(reg, &err), 0);
	cr_assert_eq(ms_registry_begin(reg, &err), -EALREADY);
	cr_assert_eq(ms_registry_weight_set(reg, "b1", 1, &err), 0);
	cr_assert_eq(ms_registry_weight_remove(reg, "web/a", &err), 0);
	ms_registry_rollback(reg);
	json_t *w = weights_of(reg);
	cr_assert_eq(json_object_size(w), 1);
	cr_assert_not_null(json_object_get(w, "web/a"));
	json_decref(w);
	cr_assert_eq(ms_registry_begin(reg, &err), 0);
	cr_assert_eq(ms_registry_weight_set(reg, "b1", 1, &err), 0);
	cr_assert_eq(ms_registry_weight_set(reg, "b2", 3, &err), 0);
	cr_assert_eq(ms_registry_commit(reg, &err), 0, "%s", err.msg);

	/* Tombstones beyond the bound go, oldest first. */
	json_t *pruned = json_array();
	cr_assert_eq(ms_registry_frameworks_prune_removed(reg, 1, collect_pruned, pruned, &err), 0);
	cr_assert_eq(json_array_size(pruned), 2);
	cr_assert_str_eq(json_string_value(json_array_get(pruned, 0)), "fw-1");
	cr_assert_str_eq(json_string_value(json_array_get(pruned, 1)), "fw-2");
	json_decref(pruned);
	ms_registry_close(reg);

	/* Read back by a new reader (the next leader), from the znodes. */
	struct Stat st;
	cr_assert_eq(zoo_exists(zh, "/t/registry/weights/web%2Fa", 0, &st), ZOK);
	cr_assert_eq(zoo_exists(zh, "/t/registry/frameworks/fw-1", 0, &st), ZNONODE);
	cr_assert_eq(ms_registry_open_zk(zh, "/t/registry", "/t/fence", &ZOO_OPEN_ACL_UNSAFE, &reg,
	                                 &err),
	             0, "%s", err.msg);
	w = weights_of(reg);
	cr_assert_eq(json_object_size(w), 3);
	cr_assert_float_eq(json_real_value(json_object_get(w, "b2")), 3.0, 1e-9);
	json_decref(w);
	json_t *agents = json_object(), *fws = json_object();
	cr_assert_eq(ms_registry_agents_foreach(reg, collect_agent, agents, &err), 0);
	cr_assert_eq(ms_registry_frameworks_foreach(reg, collect_fw, fws, &err), 0);
	json_t *ag = json_object_get(agents, "ag-1");
	cr_assert_str_eq(json_string_value(json_object_get(ag, "secret")), "abcd");
	cr_assert_str_eq(json_string_value(json_object_get(ag, "info")), "{\"hostname\":\"h1\"}");
	cr_assert(json_is_true(json_object_get(ag, "gone")));
	cr_assert_eq(json_object_size(fws), 2, "fw-0 and the newest tombstone");
	cr_assert(json_is_false(json_object_get(json_object_get(fws, "fw-0"), "removed")));
	cr_assert(json_is_true(json_object_get(json_object_get(fws, "fw-3"), "removed")));
	cr_assert_eq(ms_registry_removed_frameworks(reg), 1);
	json_decref(agents);
	json_decref(fws);
	char *v = NULL;
	cr_assert_eq(ms_registry_meta_get(reg, "k", &v, &err), 0);
	cr_assert_str_eq(v, "v");
	free(v);

	/* The fence gone (the leader's session with it): no write passes,
	 * and the error says why; what was read stays. */
	cr_assert_eq(zoo_delete(zh, "/t/fence", -1), ZOK);
	cr_assert_eq(ms_registry_weight_set(reg, "late", 1, &err), -ENOTCONN);
	cr_assert(strstr(err.msg, "no longer leads") && strstr(err.msg, "/t/fence"), "%s", err.msg);
	cr_assert_eq(zoo_exists(zh, "/t/registry/weights/late", 0, &st), ZNONODE);
	w = weights_of(reg);
	cr_assert_null(json_object_get(w, "late"));
	json_decref(w);
	ms_registry_close(reg);
	zookeeper_close(zh);
}
