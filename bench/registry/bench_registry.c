/* bench-registry: the master's registry under SUBSCRIBE/TEARDOWN churn
 * (issue 12, part 8): does its size level off?
 *
 * In-process (default): --cycles cycles of what agora-master writes for a
 * framework that subscribes and tears down: ms_registry_framework_put() of
 * its FrameworkInfo (a name of --name-bytes, 1 KiB by default: the bound on
 * names), ms_registry_framework_mark_removed() and
 * ms_registry_frameworks_prune_removed() to --keep tombstones (the default
 * of --registry_max_removed_frameworks). With --registry_sync normal, as
 * --sync says.
 *
 * Over HTTP (--http): build/bin/agora-master (AGORA_BUILD_DIR/bin) on a
 * free loopback port with --registry_sync=normal (or --sync) and, when
 * --keep is given, --registry_max_removed_frameworks=--keep; each cycle a
 * SUBSCRIBE (read up to its SUBSCRIBED) and a TEARDOWN on the stream's id.
 * tombstones= is then what the bound allows, not a count.
 *
 * Prints, every --every cycles and at the end, one line:
 *   cycles=<n> db_kb=<size of registry.db> wal_kb=<registry.db-wal>
 *   tombstones=<rows removed=1> elapsed_s=<x> cycles_per_s=<x>
 * and at the end the largest db_kb + wal_kb seen. */
#include "common/common.h"
#include "tmpdir.h"
#include "master/registry.h"
#include "master_client.h"

#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct {
	uint64_t cycles, every, keep;
	size_t name_bytes;
	bool http, keep_dir, keep_given;
	enum ms_registry_sync sync;
	char dir[256];
	pid_t master;
	uint16_t port;
	double start;
	uint64_t peak_kb;
} B = {
        .cycles = 1000000,
        .keep = 10000,
        .name_bytes = 1024,
        .sync = MS_REGISTRY_SYNC_NORMAL,
};

static void die(const char *what)
{
	fprintf(stderr, "bench-registry: %s\n", what);
	if (B.master > 0)
		kill(B.master, SIGKILL);
	exit(1);
}

static double now_s(void)
{
	return (double)ag_now_ns() / 1e9;
}

static uint64_t file_kb(const char *name)
{
	char path[320];
	snprintf(path, sizeof(path), "%s/%s", B.dir, name);
	struct stat st;
	return stat(path, &st) == 0 ? (uint64_t)st.st_size / 1024 : 0;
}

static void report(uint64_t done, uint64_t tombstones)
{
	uint64_t db = file_kb("registry.db"), wal = file_kb("registry.db-wal");
	if (db + wal > B.peak_kb)
		B.peak_kb = db + wal;
	double el = now_s() - B.start;
	printf("cycles=%" PRIu64 " db_kb=%" PRIu64 " wal_kb=%" PRIu64 " tombstones=%" PRIu64
	       " elapsed_s=%.1f cycles_per_s=%.0f\n",
	       done, db, wal, tombstones, el, el > 0 ? (double)done / el : 0);
	fflush(stdout);
}

/* The FrameworkInfo the master records for a framework named `name`. */
static char *framework_info(const char *id, const char *name)
{
	return ag_asprintf("{\"user\":\"root\",\"name\":\"%s\",\"id\":{\"value\":\"%s\"},"
	                   "\"failover_timeout\":0}",
	                   name, id);
}

static void run_in_process(const char *name)
{
	struct ms_registry *reg = NULL;
	struct ag_error err = {0};
	if (ms_registry_open(B.dir, B.sync, &reg, NULL, &err) < 0)
		die(err.msg);
	B.start = now_s();
	for (uint64_t i = 1; i <= B.cycles; i++) {
		char id[64];
		snprintf(id, sizeof(id), "bench-master-%08" PRIu64, i);
		_cleanup_free_ char *info = framework_info(id, name);
		struct ms_registry_framework f = {
		        .id = id, .info_json = info, .registered_at_ns = (int64_t)i};
		if (ms_registry_framework_put(reg, &f, &err) < 0 ||
		    ms_registry_framework_mark_removed(reg, id, &err) < 0 ||
		    ms_registry_frameworks_prune_removed(reg, B.keep, NULL, NULL, &err) < 0)
			die(err.msg);
		if (i % B.every == 0 && i != B.cycles)
			report(i, ms_registry_removed_frameworks(reg));
	}
	uint64_t tomb = ms_registry_removed_frameworks(reg);
	report(B.cycles, tomb);
	ms_registry_close(reg);
	printf("after close: db_kb=%" PRIu64 " wal_kb=%" PRIu64 "\n", file_kb("registry.db"),
	       file_kb("registry.db-wal"));
}

/* ---- over HTTP ---------------------------------------------------------- */

static void start_master(void)
{
	const char *b = getenv("AGORA_BUILD_DIR");
	char bin[512], wd[320], keep[64];
	snprintf(bin, sizeof(bin), "%s/bin/agora-master", b ? b : "build");
	snprintf(wd, sizeof(wd), "--work_dir=%s", B.dir);
	snprintf(keep, sizeof(keep), "--registry_max_removed_frameworks=%" PRIu64, B.keep);
	/* Without --keep, the master's default bound (and a master of
	 * before the bound can be measured too). */
	const char *argv[] = {bin,
	                      "--port=0",
	                      "--log_level=warning",
	                      wd,
	                      B.sync == MS_REGISTRY_SYNC_FULL ? "--registry_sync=full"
	                                                      : "--registry_sync=normal",
	                      B.keep_given ? keep : NULL,
	                      NULL};
	if (mc_spawn_master(argv, -1, 10000, &B.master, &B.port) < 0)
		die("the master did not start");
}

/* One SUBSCRIBE read up to its SUBSCRIBED, and a TEARDOWN. */
static void http_cycle(const char *body)
{
	struct mc_conn *c = mc_connect(B.port);
	if (!c)
		die("connect");
	struct mc_response r = {0};
	if (mc_post_json(c, "/api/v1/scheduler", NULL, body, &r) < 0 || r.status != 200)
		die("SUBSCRIBE refused");
	char sid[64];
	snprintf(sid, sizeof(sid), "%s", mc_header(&r, "Mesos-Stream-Id"));
	mc_response_free(&r);
	char *chunk = NULL;
	size_t len = 0;
	if (mc_read_chunk(c, &chunk, &len) < 0 || !len)
		die("no SUBSCRIBED");
	/* `<len>\n{"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"..."` */
	const char *v = strstr(chunk, "\"framework_id\":{\"value\":\"");
	if (!v)
		die("no framework id in SUBSCRIBED");
	v += strlen("\"framework_id\":{\"value\":\"");
	char id[128];
	snprintf(id, sizeof(id), "%.*s", (int)strcspn(v, "\""), v);
	free(chunk);

	char hdrs[160], call[256];
	snprintf(hdrs, sizeof(hdrs), "Content-Type: application/json\r\nMesos-Stream-Id: %s\r\n",
	         sid);
	snprintf(call, sizeof(call), "{\"type\":\"TEARDOWN\",\"framework_id\":{\"value\":\"%s\"}}",
	         id);
	if (mc_request(B.port, "POST", "/api/v1/scheduler", hdrs, call, &r) < 0 || r.status != 202)
		die("TEARDOWN refused");
	mc_response_free(&r);
	mc_close(c);
}

static void run_http(const char *name)
{
	start_master();
	_cleanup_free_ char *body = ag_asprintf(
	        "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":\"root\","
	        "\"name\":\"%s\",\"failover_timeout\":0}}}",
	        name);
	B.start = now_s();
	for (uint64_t i = 1; i <= B.cycles; i++) {
		http_cycle(body);
		if (i % B.every == 0 && i != B.cycles)
			report(i, i < B.keep ? i : B.keep);
	}
	report(B.cycles, B.cycles < B.keep ? B.cycles : B.keep);
	kill(B.master, SIGTERM);
	waitpid(B.master, NULL, 0);
	B.master = 0;
	printf("after the master stopped: db_kb=%" PRIu64 " wal_kb=%" PRIu64 "\n",
	       file_kb("registry.db"), file_kb("registry.db-wal"));
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: bench-registry [--cycles N (1000000)] [--every N (cycles/10)]\n"
	        "                      [--keep N (10000)] [--name-bytes N (1024)]\n"
	        "                      [--sync full|normal (normal)] [--http] [--dir DIR]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"cycles", required_argument, NULL, 'c'},
	        {"every", required_argument, NULL, 'e'},
	        {"keep", required_argument, NULL, 'k'},
	        {"name-bytes", required_argument, NULL, 'n'},
	        {"sync", required_argument, NULL, 's'},
	        {"http", no_argument, NULL, 'H'},
	        {"dir", required_argument, NULL, 'd'},
	        {NULL, 0, NULL, 0},
	};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			B.cycles = strtoull(optarg, NULL, 10);
			break;
		case 'e':
			B.every = strtoull(optarg, NULL, 10);
			break;
		case 'k':
			B.keep = strtoull(optarg, NULL, 10);
			B.keep_given = true;
			break;
		case 'n':
			B.name_bytes = strtoull(optarg, NULL, 10);
			break;
		case 's':
			if (strcmp(optarg, "full") == 0)
				B.sync = MS_REGISTRY_SYNC_FULL;
			else if (strcmp(optarg, "normal") != 0)
				usage();
			break;
		case 'H':
			B.http = true;
			break;
		case 'd':
			snprintf(B.dir, sizeof(B.dir), "%s", optarg);
			B.keep_dir = true;
			break;
		default:
			usage();
		}
	}
	if (!B.cycles || B.name_bytes > (1u << 20))
		usage();
	if (!B.every)
		B.every = B.cycles / 10 ? B.cycles / 10 : 1;
	if (!B.keep_dir) {
		snprintf(B.dir, sizeof(B.dir), "/tmp/bench-registry-XXXXXX");
		if (!mkdtemp(B.dir))
			die("mkdtemp");
	} else if (mkdir(B.dir, 0700) < 0 && errno != EEXIST) {
		die("--dir: cannot create it");
	}
	char *name = ag_malloc(B.name_bytes + 1);
	memset(name, 'n', B.name_bytes);
	name[B.name_bytes] = '\0';
	printf("bench-registry: %s, %" PRIu64 " cycles, name %zu bytes, keep %" PRIu64
	       " tombstones, sync %s, in %s\n",
	       B.http ? "over HTTP (agora-master)" : "in-process", B.cycles, B.name_bytes, B.keep,
	       B.sync == MS_REGISTRY_SYNC_FULL ? "full" : "normal", B.dir);
	if (B.http)
		run_http(name);
	else
		run_in_process(name);
	printf("peak db_kb+wal_kb=%" PRIu64 "\n", B.peak_kb);
	free(name);
	if (!B.keep_dir)
		(void)td_remove(B.dir);
	return 0;
}
