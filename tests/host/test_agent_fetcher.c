/* The fetcher against the real agent (issue 15, part 5): CommandInfo.uris
 * fetched from an HTTP server this test runs on 127.0.0.1 (libevent, its
 * own thread, counting requests per path), from files, and from
 * --frameworks_home; archives made here with libarchive; tasks of user
 * `nobody` read and run what was fetched. --no_isolation: no cgroups
 * needed. */
#include "agentd_harness.h"
#include "agtest.h"
#include "common/common.h"
#include "fetcher/fetcher.h"

#include <archive.h>
#include <archive_entry.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

static char work[64], www[96], home[96];
static pid_t agent = -1;
static int op_port;

/* ---- the HTTP server ---- */

#define SLOW_MAX 8
static struct {
	pthread_mutex_t mu;
	struct event_base *base;
	struct evhttp *http;
	struct event *tick;
	pthread_t thread;
	int port;
	bool stop;
	char paths[64][64];
	int counts[64];
	int n;
	struct evhttp_request *slow[SLOW_MAX]; /* held open, never answered */
	int n_slow;
} srv = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int srv_count(const char *path)
{
	pthread_mutex_lock(&srv.mu);
	int c = 0;
	for (int i = 0; i < srv.n; i++)
		if (strcmp(srv.paths[i], path) == 0)
			c = srv.counts[i];
	pthread_mutex_unlock(&srv.mu);
	return c;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	(void)arg;
	const char *uri = evhttp_request_get_uri(req);
	char path[64];
	snprintf(path, sizeof(path), "%.*s", (int)strcspn(uri, "?"), uri);
	pthread_mutex_lock(&srv.mu);
	int i = 0;
	while (i < srv.n && strcmp(srv.paths[i], path) != 0)
		i++;
	if (i == srv.n && srv.n < 64)
		snprintf(srv.paths[srv.n++], sizeof(srv.paths[0]), "%s", path);
	if (i < 64)
		srv.counts[i]++;
	if (strncmp(path, "/slow/", 6) == 0 && srv.n_slow < SLOW_MAX) {
		/* Headers, then nothing: a download that never ends. */
		srv.slow[srv.n_slow++] = req;
		pthread_mutex_unlock(&srv.mu);
		evhttp_send_reply_start(req, 200, "OK");
		return;
	}
	pthread_mutex_unlock(&srv.mu);
	if (strncmp(path, "/redirect/", 10) == 0) {
		char to[80];
		snprintf(to, sizeof(to), "/%s", path + 10);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Location", to);
		evhttp_send_reply(req, 302, "Found", NULL);
		return;
	}
	char file[256];
	snprintf(file, sizeof(file), "%s%s", www, path);
	int fd = strstr(path, "..") ? -1 : open(file, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		evhttp_send_error(req, 404, "Not Found");
		return;
	}
	struct evbuffer *b = evbuffer_new();
	evbuffer_add_file(b, fd, 0, st.st_size);
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (__atomic_load_n(&srv.stop, __ATOMIC_SEQ_CST))
		event_base_loopbreak(srv.base);
}

static void *srv_main(void *arg)
{
	(void)arg;
	event_base_dispatch(srv.base);
	return NULL;
}

static void srv_start(void)
{
	srv.base = event_base_new();
	srv.http = evhttp_new(srv.base);
	srv.port = ah_free_port();
	cr_assert(evhttp_bind_socket(srv.http, "127.0.0.1", (uint16_t)srv.port) == 0);
	evhttp_set_gencb(srv.http, on_request, NULL);
	srv.tick = event_new(srv.base, -1, EV_PERSIST, on_tick, NULL);
	struct timeval tv = {0, 50000};
	event_add(srv.tick, &tv);
	srv.stop = false;
	srv.n = srv.n_slow = 0;
	cr_assert(pthread_create(&srv.thread, NULL, srv_main, NULL) == 0);
}

static void srv_stop(void)
{
	if (!srv.base)
		return;
	__atomic_store_n(&srv.stop, true, __ATOMIC_SEQ_CST);
	pthread_join(srv.thread, NULL);
	event_free(srv.tick);
	evhttp_free(srv.http);
	event_base_free(srv.base);
	srv.base = NULL;
}

/* ---- files and archives ---- */

static void put_file(const char *dir, const char *name, const char *content, size_t len)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f, "%s", p);
	cr_assert_eq(fwrite(content, 1, len, f), len);
	fclose(f);
}

struct ent {
	const char *path;
	char type;        /* 'f' file, 'd' dir, 'l' symlink, 'h' hardlink */
	const char *data; /* content, or the link's target */
};

/* An archive of `ents` in www/name; `fmt` "zip" or a tar filter: "gz",
 * "xz", "bz2". */
static void put_archive(const char *name, const char *fmt, const struct ent *ents, size_t n)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", www, name);
	struct archive *a = archive_write_new();
	if (strcmp(fmt, "zip") == 0) {
		archive_write_set_format_zip(a);
	} else {
		archive_write_set_format_pax_restricted(a);
		if (strcmp(fmt, "gz") == 0)
			archive_write_add_filter_gzip(a);
		else if (strcmp(fmt, "xz") == 0)
			archive_write_add_filter_xz(a);
		else
			archive_write_add_filter_bzip2(a);
	}
	cr_assert_eq(archive_write_open_filename(a, p), ARCHIVE_OK, "%s", archive_error_string(a));
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, ents[i].path);
		archive_entry_set_perm(e, ents[i].type == 'd' ? 0755 : 0644);
		if (ents[i].type == 'f') {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, (la_int64_t)strlen(ents[i].data));
		} else if (ents[i].type == 'd') {
			archive_entry_set_filetype(e, AE_IFDIR);
		} else if (ents[i].type == 'l') {
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, ents[i].data);
		} else {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, ents[i].data);
		}
		cr_assert(archive_write_header(a, e) >= ARCHIVE_WARN, "%s",
		          archive_error_string(a));
		if (ents[i].type == 'f')
			archive_write_data(a, ents[i].data, strlen(ents[i].data));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
}

/* ---- the agent ---- */

static const char *agent_extra[8];

static void start_agent(void)
{
	char bin[512], master[64], log[128], port[16];
	const char *b = getenv("AGORA_BUILD_DIR");
	snprintf(bin, sizeof(bin), "%s/bin/agora-agent", b ? b : "build");
	snprintf(master, sizeof(master), "127.0.0.1:%d", fm.port);
	snprintf(log, sizeof(log), "%s.log", work);
	op_port = ah_free_port();
	snprintf(port, sizeof(port), "%d", op_port);
	const char *argv[32] = {bin,
	                        "--master",
	                        master,
	                        "--work_dir",
	                        work,
	                        "--no_isolation",
	                        "--hostname",
	                        "h1",
	                        "--update_backoff_ms",
	                        "200",
	                        "--resources",
	                        "cpus:4;mem:1024",
	                        "--port",
	                        port,
	                        "--frameworks_home",
	                        home,
	                        "--fetcher_cache_size",
	                        "3000B"};
	size_t n = 18;
	for (size_t i = 0; agent_extra[i]; i++)
		argv[n++] = agent_extra[i];
	agent = ah_spawn(log, argv);
	cr_assert(agent > 0);
}

static void setup(void)
{
	agt_root_dir(work, sizeof(work), "fetcher");
	snprintf(www, sizeof(www), "%s.www", work);
	snprintf(home, sizeof(home), "%s.home", work);
	cr_assert(mkdir(www, 0755) == 0 && mkdir(home, 0755) == 0);
	srv_start();
	cr_assert(fm_start() == 0);
	start_agent();
	WAIT_FOR(fm_registers() >= 1, 10);
}

static void teardown(void)
{
	if (agent > 0) {
		kill(agent, SIGTERM);
		waitpid(agent, NULL, 0);
		agent = -1;
	}
	srv_stop();
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
	         "for f in %s/run/*/monitor; do [ -f $f ] && kill -9 $(sed -n 's/^pid=//p' $f) "
	         "2>/dev/null; done; sleep 0.2; cp %s.log /tmp/last-fetcher.log; rm -rf %s %s.log "
	         "%s %s %s.sbx",
	         work, work, work, work, www, home, work);
	if (work[0])
		cr_expect(system(cmd) == 0);
}

TestSuite(agent_fetcher, .init = setup, .fini = teardown, .timeout = 90);

/* A command task of framework user `nobody`: `cmd` a shell command and
 * `uris` a JSON array (neither with a '"' that needs escaping beyond what
 * is written). */
static void run_uris_as(const char *user, const char *id, const char *cmd, const char *uris)
{
	char extra[8192];
	snprintf(extra, sizeof(extra), ",\"command\":{\"value\":\"%s\",\"uris\":%s}", cmd, uris);
	fm_run_task(id, user, NULL, NULL, extra);
}

static void run_uris(const char *id, const char *cmd, const char *uris)
{
	run_uris_as("nobody", id, cmd, uris);
}

static bool ended(const char *id)
{
	static const char *const term[] = {"TASK_FINISHED", "TASK_FAILED", "TASK_KILLED",
	                                   "TASK_ERROR", "TASK_LOST"};
	for (size_t i = 0; i < AG_ARRAY_SIZE(term); i++)
		if (fm_count(id, term[i]) >= 1)
			return true;
	return false;
}

/* The last update of `id`: state, reason, message. */
static void last_update(const char *id, char *state, char *reason, char *msg, size_t msg_n)
{
	state[0] = reason[0] = msg[0] = '\0';
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd; i++)
		if (strcmp(fm.upd[i].task, id) == 0) {
			snprintf(state, 32, "%s", fm.upd[i].state);
			snprintf(reason, 64, "%s", fm.upd[i].reason);
			snprintf(msg, msg_n, "%s", fm.upd[i].msg);
		}
	pthread_mutex_unlock(&fm.mu);
}

/* What the task printed (the `data` of /files/read). */
static void task_stdout(const char *id, char *out, size_t n)
{
	char path[256], body[16384];
	snprintf(path, sizeof(path), "/files/read?task=%s&file=stdout", id);
	cr_assert_eq(ah_http_get(op_port, path, body, sizeof(body)), 200, "%s", body);
	json_t *j = json_loads(body, 0, NULL);
	const char *data = json_string_value(json_object_get(j, "data"));
	cr_assert_not_null(data, "%s", body);
	snprintf(out, n, "%s", data);
	json_decref(j);
}

/* The task ends FINISHED having printed `want`. */
static void expect_finished(const char *id, const char *want)
{
	WAIT_FOR(ended(id), 30);
	char state[32], reason[64], msg[512], out[8192];
	last_update(id, state, reason, msg, sizeof(msg));
	task_stdout(id, out, sizeof(out));
	cr_assert_str_eq(state, "TASK_FINISHED", "%s: %s %s (%s); printed: %s", id, state, reason,
	                 msg, out);
	cr_expect(strstr(out, want), "`%s` not in what %s printed: %s", want, id, out);
}

/* The task ends FAILED (REASON_CONTAINER_LAUNCH_FAILED, Mesos's reason for a
 * failed fetch) with `needle` in its message, and never ran. */
static void expect_fetch_failed(const char *id, const char *needle)
{
	WAIT_FOR(ended(id), 30);
	char state[32], reason[64], msg[512];
	last_update(id, state, reason, msg, sizeof(msg));
	cr_assert_str_eq(state, "TASK_FAILED", "%s: %s %s (%s)", id, state, reason, msg);
	cr_expect_str_eq(reason, "REASON_CONTAINER_LAUNCH_FAILED");
	cr_expect(strstr(msg, "Failed to fetch URIs"), "%s", msg);
	cr_expect(strstr(msg, needle), "`%s` not in `%s`", needle, msg);
	cr_expect_eq(fm_count(id, "TASK_RUNNING"), -1, "%s ran", id);
}

#define URL(path) "http://127.0.0.1:%d" path

Test(agent_fetcher, plain_file_and_executable_owned_by_the_task_user)
{
	put_file(www, "hello.txt", "hello from the server\n", 22);
	put_file(www, "run.sh", "#!/bin/sh\necho ran as $(id -u)\n", 31);
	char uris[1024];
	snprintf(uris, sizeof(uris),
	         "[{\"value\":\"" URL(
	                 "/hello.txt") "\",\"extract\":false},"
	                               "{\"value\":\"" URL(
	                                       "/redirect/run.sh") "\",\"executable\":true,"
	                                                           "\"output_file\":\"bin/tool\"}]",
	         srv.port, srv.port);
	run_uris("plain", "cat hello.txt && ./bin/tool && stat -c '%U %a' hello.txt bin/tool",
	         uris);
	expect_finished("plain", "hello from the server");
	char out[4096];
	task_stdout("plain", out, sizeof(out));
	cr_expect(strstr(out, "ran as 65534"), "%s", out);
	cr_expect(strstr(out, "nobody 644\nnobody 755"), "%s", out);
	/* As Mesos: STARTING once the fetch is done, then RUNNING. */
	char states[256];
	fm_states("plain", states, sizeof(states));
	cr_expect(strstr(states, "TASK_STARTING TASK_RUNNING"), "%s", states);
	cr_expect_eq(srv_count("/run.sh"), 1, "the redirect was not followed");
}

Test(agent_fetcher, each_archive_type_is_extracted)
{
	static const char *const fmts[] = {"gz", "xz", "bz2", "zip"};
	static const char *const names[] = {"a.tar.gz", "b.tar.xz", "c.tar.bz2", "d.zip"};
	char uris[2048] = "[";
	for (size_t i = 0; i < 4; i++) {
		char data[64], path[64];
		snprintf(data, sizeof(data), "content of %s\n", names[i]);
		snprintf(path, sizeof(path), "dir-%s/file", fmts[i]);
		struct ent ents[] = {{"", 'd', NULL}, {path, 'f', data}};
		char dir[32];
		snprintf(dir, sizeof(dir), "dir-%s", fmts[i]);
		ents[0].path = dir;
		put_archive(names[i], fmts[i], ents, 2);
		size_t len = strlen(uris);
		snprintf(uris + len, sizeof(uris) - len, "%s{\"value\":\"" URL("/%s") "\"}",
		         i ? "," : "", srv.port, names[i]);
	}
	strcat(uris, "]");
	run_uris("archives", "cat dir-gz/file dir-xz/file dir-bz2/file dir-zip/file", uris);
	expect_finished("archives", "content of a.tar.gz\ncontent of b.tar.xz\ncontent of "
	                            "c.tar.bz2\ncontent of d.zip\n");
}

Test(agent_fetcher, cache_hit_downloads_once_for_two_tasks)
{
	put_file(www, "shared.txt", "shared\n", 7);
	char uris[512];
	snprintf(uris, sizeof(uris), "[{\"value\":\"" URL("/shared.txt") "\",\"cache\":true}]",
	         srv.port);
	/* Both at once: the second waits for the first's download. */
	run_uris("c1", "cat shared.txt", uris);
	run_uris("c2", "cat shared.txt", uris);
	expect_finished("c1", "shared");
	expect_finished("c2", "shared");
	run_uris("c3", "cat shared.txt", uris);
	expect_finished("c3", "shared");
	cr_expect_eq(srv_count("/shared.txt"), 1, "the server saw %d requests",
	             srv_count("/shared.txt"));
}

Test(agent_fetcher, cache_bound_evicts_the_least_recently_used)
{
	/* --fetcher_cache_size 3000B: two of 2000 bytes do not fit. */
	char big[2001];
	memset(big, 'x', 2000);
	big[2000] = '\0';
	put_file(www, "one.bin", big, 2000);
	put_file(www, "two.bin", big, 2000);
	char u1[256], u2[256];
	snprintf(u1, sizeof(u1), "[{\"value\":\"" URL("/one.bin") "\",\"cache\":true}]", srv.port);
	snprintf(u2, sizeof(u2), "[{\"value\":\"" URL("/two.bin") "\",\"cache\":true}]", srv.port);
	run_uris("e1", "wc -c one.bin", u1);
	expect_finished("e1", "2000 one.bin");
	run_uris("e2", "wc -c two.bin", u2);
	expect_finished("e2", "2000 two.bin");
	run_uris("e3", "wc -c one.bin", u1); /* evicted by two.bin: fetched again */
	expect_finished("e3", "2000 one.bin");
	cr_expect_eq(srv_count("/one.bin"), 2);
	cr_expect_eq(srv_count("/two.bin"), 1);
	char cmd[256], out[64] = "";
	snprintf(cmd, sizeof(cmd), "du -cb %s/fetcher-cache/???????????????? | tail -1", work);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	cr_assert_not_null(fgets(out, sizeof(out), p));
	pclose(p);
	cr_expect_eq(atoi(out), 2000, "the cache holds %s", out);
}

Test(agent_fetcher, http_404_fails_the_task_naming_the_uri)
{
	char uris[256], want[128];
	snprintf(uris, sizeof(uris), "[{\"value\":\"" URL("/missing.tgz") "\"}]", srv.port);
	snprintf(want, sizeof(want), "`" URL("/missing.tgz") "`: HTTP status 404", srv.port);
	run_uris("nf", "true", uris);
	expect_fetch_failed("nf", want);
}

Test(agent_fetcher, local_files_are_read_as_the_task_user)
{
	put_file(home, "secret", "root only\n", 10);
	char p[256];
	snprintf(p, sizeof(p), "%s/secret", home);
	cr_assert(chmod(p, 0600) == 0);
	char uris[512];
	snprintf(uris, sizeof(uris), "[{\"value\":\"file://%s\"}]", p);
	run_uris("sec", "cat secret", uris);
	expect_fetch_failed("sec", "Permission denied");
}

Test(agent_fetcher, frameworks_home_relative_path)
{
	cr_assert(mkdir(strcat(strcpy((char[128]){0}, home), "/tools"), 0755) == 0);
	put_file(home, "tools/hi.sh", "#!/bin/sh\necho hi from home\n", 28);
	run_uris("rel", "./hi.sh", "[{\"value\":\"tools/hi.sh\",\"executable\":true}]");
	expect_finished("rel", "hi from home");
}

/* Each archive writes outside the sandbox its own way; each is refused
 * naming the entry, and nothing lands outside. */
Test(agent_fetcher, malicious_archives_are_refused)
{
	struct ent dotdot[] = {{"ok", 'f', "fine\n"}, {"../escaped-dotdot", 'f', "x\n"}};
	struct ent absolute[] = {{"/tmp/agora-fetcher-escaped-abs", 'f', "x\n"}};
	struct ent symlink_out[] = {{"out", 'l', "../../../../etc"}};
	struct ent symlink_abs[] = {{"etc", 'l', "/etc"}};
	struct ent hard_out[] = {{"pw", 'h', "../../../../etc/passwd"}};
	struct ent chain[] = {{"b", 'l', "."}, {"x", 'l', "b/.."}};
	/* Links that each look inside, then a hardlink through them to the
	 * agent's database (<work>/sandboxes/<cid>/c is <work>). */
	struct ent hard_chain[] = {
	        {"b", 'l', "."}, {"x", 'l', "b/.."}, {"c", 'l', "x/.."}, {"h", 'h', "c/agent.db"}};
	put_archive("dotdot.tar.gz", "gz", dotdot, 2);
	put_archive("abs.tar.gz", "gz", absolute, 1);
	put_archive("sym.tar.gz", "gz", symlink_out, 1);
	put_archive("symabs.zip", "zip", symlink_abs, 1);
	put_archive("hard.tar.xz", "xz", hard_out, 1);
	put_archive("chain.tar.bz2", "bz2", chain, 2);
	put_archive("hardchain.tar.gz", "gz", hard_chain, 4);
	struct {
		const char *id, *file, *needle;
	} cases[] = {
	        {"m-dotdot", "dotdot.tar.gz", "entry `../escaped-dotdot`"},
	        {"m-abs", "abs.tar.gz", "entry `/tmp/agora-fetcher-escaped-abs`"},
	        {"m-sym", "sym.tar.gz", "entry `out`: a symlink to `../../../../etc` leads"},
	        {"m-symabs", "symabs.zip", "entry `etc`: a symlink to `/etc`"},
	        {"m-hard", "hard.tar.xz", "entry `pw`: a hardlink to `../../../../etc/passwd`"},
	        {"m-chain", "chain.tar.bz2", "entry `x`"},
	        {"m-hardchain", "hardchain.tar.gz", "entry `h`: a hardlink to `c/agent.db`"},
	};
	for (size_t i = 0; i < AG_ARRAY_SIZE(cases); i++) {
		char uris[256];
		snprintf(uris, sizeof(uris), "[{\"value\":\"" URL("/%s") "\"}]", srv.port,
		         cases[i].file);
		run_uris(cases[i].id, "true", uris);
	}
	for (size_t i = 0; i < AG_ARRAY_SIZE(cases); i++)
		expect_fetch_failed(cases[i].id, cases[i].needle);
	char p[256];
	snprintf(p, sizeof(p), "%s/sandboxes/escaped-dotdot", work);
	cr_expect(access(p, F_OK) < 0, "%s was written", p);
	cr_expect(access("/tmp/agora-fetcher-escaped-abs", F_OK) < 0);
	snprintf(p, sizeof(p), "%s/agent.db", work);
	struct stat st;
	cr_assert(stat(p, &st) == 0);
	cr_expect_eq(st.st_nlink, 1, "agent.db was linked into a sandbox");
	cr_expect_eq(st.st_uid, 0);
}

Test(agent_fetcher, bad_uris_are_task_errors_naming_the_field)
{
	run_uris("b1", "true", "[{\"value\":\"\"}]");
	run_uris("b2", "true", "[{\"value\":\"ftp://h/x\"}]");
	run_uris("b3", "true", "[{\"value\":\"http://h/x\",\"output_file\":\"../x\"}]");
	const char *want[] = {"task.command.uris[0].value: empty",
	                      "task.command.uris[0].value: `ftp://h/x`: not supported",
	                      "task.command.uris[0].output_file: `../x`"};
	const char *ids[] = {"b1", "b2", "b3"};
	for (int i = 0; i < 3; i++) {
		WAIT_FOR(ended(ids[i]), 20);
		char state[32], reason[64], msg[512];
		last_update(ids[i], state, reason, msg, sizeof(msg));
		cr_expect_str_eq(state, "TASK_ERROR", "%s: %s", ids[i], msg);
		cr_expect(strstr(msg, want[i]), "`%s` not in `%s`", want[i], msg);
	}
}

/* A download that never ends: the agent heartbeats and launches other
 * tasks meanwhile; a kill ends the fetch (TASK_KILLED, never run). */
Test(agent_fetcher, a_slow_download_blocks_nothing)
{
	char uris[256];
	snprintf(uris, sizeof(uris), "[{\"value\":\"" URL("/slow/big.tgz") "\"}]", srv.port);
	run_uris("slow", "true", uris);
	WAIT_FOR(srv_count("/slow/big.tgz") == 1, 10);
	int hb = fm.heartbeats;
	double t0 = ah_now_s();
	fm_run_task("quick", "nobody", "echo quick", NULL, NULL);
	expect_finished("quick", "quick");
	double took = ah_now_s() - t0;
	cr_expect(took < 10, "another task took %.1f s to run", took);
	WAIT_FOR(fm.heartbeats >= hb + 3, 10);
	cr_expect_eq(fm_count("slow", "TASK_STARTING"), -1, "STARTING before the fetch ended");
	char body[4096];
	cr_expect_eq(ah_http_get(op_port, "/containers", body, sizeof(body)), 200);
	cr_expect(strstr(body, "fetching"), "%s", body);
	fm_send("{\"type\":\"KILL_TASK\",\"kill_task\":{\"framework_id\":{\"value\":\"F0\"},"
	        "\"task_id\":{\"value\":\"slow\"}}}");
	WAIT_FOR(ended("slow"), 20);
	char state[32], reason[64], msg[512];
	last_update("slow", state, reason, msg, sizeof(msg));
	cr_expect_str_eq(state, "TASK_KILLED", "%s", msg);
	cr_expect_str_eq(reason, "REASON_TASK_KILLED_DURING_LAUNCH");
}

/* SIGKILLed while fetching: the restarted agent fails the task (never
 * relaunched, never run) and says why. */
Test(agent_fetcher, agent_killed_during_a_fetch_never_launches_the_task)
{
	char uris[256];
	snprintf(uris, sizeof(uris), "[{\"value\":\"" URL("/slow/k.tgz") "\"}]", srv.port);
	run_uris("k", "true", uris);
	WAIT_FOR(srv_count("/slow/k.tgz") == 1, 10);
	kill(agent, SIGKILL);
	waitpid(agent, NULL, 0);
	start_agent();
	WAIT_FOR(ended("k"), 30);
	char state[32], reason[64], msg[512];
	last_update("k", state, reason, msg, sizeof(msg));
	cr_expect_str_eq(state, "TASK_FAILED", "%s", msg);
	cr_expect_str_eq(reason, "REASON_AGENT_RESTARTED");
	cr_expect(strstr(msg, "URIs were fetched"), "%s", msg);
	cr_expect_eq(fm_count("k", "TASK_RUNNING"), -1);
	usleep(500000);
	cr_expect_eq(srv_count("/slow/k.tgz"), 1, "fetched again after the restart");
}

/* ---- the library's limits, in-process (fetcher.h) ---- */

static int fetch_here(const struct fetch_config *cfg, const char *path, struct ag_error *err)
{
	char url[256], sbx[128];
	snprintf(url, sizeof(url), URL("%s"), srv.port, path);
	snprintf(sbx, sizeof(sbx), "%s.sbx", work);
	mkdir(sbx, 0755);
	struct fetch_uri u = {.value = url, .output_file = "out"};
	return fetch_all(cfg, &u, 1, sbx, 0, 0, err);
}

Test(agent_fetcher, a_stalled_download_times_out)
{
	struct fetch_config cfg = {.stall_timeout_ms = 1000};
	struct ag_error err = {0};
	double t0 = ah_now_s();
	cr_expect_eq(fetch_here(&cfg, "/slow/stall", &err), -ETIMEDOUT, "%s", err.msg);
	cr_expect(ah_now_s() - t0 < 10);
	cr_expect(strstr(err.msg, "timed out"), "%s", err.msg);
	cr_expect(strstr(err.msg, "--fetcher_stall_timeout"), "%s", err.msg);
}

Test(agent_fetcher, downloads_past_the_size_limit_fail)
{
	char big[4001];
	memset(big, 'y', 4000);
	put_file(www, "big.bin", big, 4000);
	struct fetch_config cfg = {.max_bytes = 1000};
	struct ag_error err = {0};
	cr_expect_eq(fetch_here(&cfg, "/big.bin", &err), -EFBIG, "%s", err.msg);
	cr_expect(strstr(err.msg, "--fetcher_max_size"), "%s", err.msg);
	cfg.max_bytes = 4000;
	cr_expect_eq(fetch_here(&cfg, "/big.bin", &err), 0, "%s", err.msg);
}

Test(agent_fetcher, redirects_are_bounded)
{
	struct fetch_config cfg = {.max_redirects = 3};
	struct ag_error err = {0};
	/* /redirect/redirect/redirect/redirect/x: four hops. */
	put_file(www, "x", "x", 1);
	cr_expect_lt(fetch_here(&cfg, "/redirect/redirect/redirect/redirect/x", &err), 0);
	cr_expect(strstr(err.msg, "redirect"), "%s", err.msg);
	cfg.max_redirects = 4;
	cr_expect_eq(fetch_here(&cfg, "/redirect/redirect/redirect/redirect/x", &err), 0, "%s",
	             err.msg);
}

/* A small archive of a large content (a compression bomb's shape). */
Test(agent_fetcher, archive_content_past_the_size_limit_fails)
{
	static char big[5001];
	memset(big, 'z', 5000);
	struct ent ents[] = {{"big", 'f', big}};
	put_archive("bomb.tar.gz", "gz", ents, 1);
	struct fetch_config cfg = {.max_bytes = 3000};
	char url[256], sbx[128];
	snprintf(url, sizeof(url), URL("/bomb.tar.gz"), srv.port);
	snprintf(sbx, sizeof(sbx), "%s.sbx", work);
	mkdir(sbx, 0755);
	struct fetch_uri u = {.value = url, .extract = true};
	struct ag_error err = {0};
	cr_expect_eq(fetch_all(&cfg, &u, 1, sbx, 0, 0, &err), -EFBIG, "%s", err.msg);
	cr_expect(strstr(err.msg, "its content is more than the limit of 3000 bytes"), "%s",
	          err.msg);
}

/* A task of user root runs as uid 0 in a user namespace of the agent's
 * pool: what was fetched is its own there (the range's root on the host). */
Test(agent_fetcher, a_root_task_in_a_user_namespace_owns_what_was_fetched)
{
	put_file(www, "r.sh", "#!/bin/sh\necho root ran as $(id -u)\n", 36);
	char uris[512];
	snprintf(uris, sizeof(uris), "[{\"value\":\"" URL("/r.sh") "\",\"executable\":true}]",
	         srv.port);
	run_uris_as("root", "uroot", "./r.sh && stat -c '%u %a' r.sh && touch r.sh && echo rw",
	            uris);
	expect_finished("uroot", "root ran as 0\n0 755\nrw");
}
