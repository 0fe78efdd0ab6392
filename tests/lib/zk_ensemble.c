/* zk_ensemble.c: see zk_ensemble.h. */
#include "zk_ensemble.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
/* The synchronous calls of the multi-threaded client. */
#define THREADED 1
#include <zookeeper/zookeeper.h>

static int run_script(struct zk_ensemble *z, const char *cmd, const char *arg, char *out,
                      size_t outlen)
{
	const char *src = getenv("AGORA_SOURCE_DIR");
	char script[PATH_MAX];
	snprintf(script, sizeof(script), "%s/scripts/zk-ensemble", src ? src : ".");
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		dup2(fds[1], 1);
		execl("/bin/bash", "bash", script, cmd, z->dir, arg, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	size_t n = 0;
	char buf[512];
	ssize_t k;
	while ((k = read(fds[0], buf, sizeof(buf))) > 0)
		for (ssize_t j = 0; j < k; j++)
			if (out && n + 1 < outlen)
				out[n++] = buf[j];
	if (out && outlen)
		out[n] = '\0';
	close(fds[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int zk_ensemble_start(struct zk_ensemble *z, const char *dir, int members)
{
	memset(z, 0, sizeof(*z));
	snprintf(z->dir, sizeof(z->dir), "%s", dir);
	z->members = members;
	char n[16];
	snprintf(n, sizeof(n), "%d", members);
	int r = run_script(z, "start", n, NULL, 0);
	if (r != 0)
		return r;
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/zk.servers", dir);
	FILE *f = fopen(path, "re");
	if (!f || !fgets(z->servers, sizeof(z->servers), f)) {
		if (f)
			fclose(f);
		return 1;
	}
	fclose(f);
	z->servers[strcspn(z->servers, "\n")] = '\0';
	return 0;
}

static int member_cmd(struct zk_ensemble *z, const char *cmd, int i)
{
	char n[16];
	snprintf(n, sizeof(n), "%d", i);
	return run_script(z, cmd, i > 0 ? n : NULL, NULL, 0);
}

int zk_ensemble_stop(struct zk_ensemble *z, int i)
{
	return member_cmd(z, "stop", i);
}

int zk_ensemble_kill(struct zk_ensemble *z, int i)
{
	return member_cmd(z, "kill", i);
}

int zk_ensemble_restart(struct zk_ensemble *z, int i)
{
	return member_cmd(z, "restart", i);
}

int zk_ensemble_leader(struct zk_ensemble *z)
{
	for (int i = 1; i <= z->members; i++) {
		char n[16], out[64];
		snprintf(n, sizeof(n), "%d", i);
		if (run_script(z, "mode", n, out, sizeof(out)) == 0 &&
		    strncmp(out, "leader", 6) == 0)
			return i;
	}
	return 0;
}

char *zk_ensemble_url(const struct zk_ensemble *z, const char *path)
{
	char *s = NULL;
	if (asprintf(&s, "zk://%s%s", z->servers, path) < 0)
		abort();
	return s;
}

struct zk_contender {
	zhandle_t *zh;
	char znode[512];
};

static void ignore_event(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	(void)zh;
	(void)type;
	(void)state;
	(void)path;
	(void)ctx;
}

struct zk_contender *zk_contend(const char *servers, const char *path, const char *json)
{
	zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
	struct zk_contender *c = calloc(1, sizeof(*c));
	c->zh = zookeeper_init(servers, ignore_event, 10000, NULL, NULL, 0);
	if (!c->zh) {
		fprintf(stderr, "zk_contend: zookeeper_init: %s\n", strerror(errno));
		free(c);
		return NULL;
	}
	/* Create each component of the path (a sync call waits for the
	 * session), then the contender. */
	char part[512];
	int rc = ZOK;
	for (const char *p = path + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			snprintf(part, sizeof(part), "%.*s", (int)(p - path), path);
			for (int tries = 0; tries < 100; tries++) {
				rc = zoo_create(c->zh, part, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0,
				                NULL, 0);
				if (rc != ZCONNECTIONLOSS && rc != ZOPERATIONTIMEOUT &&
				    rc != ZINVALIDSTATE)
					break;
				usleep(100 * 1000);
			}
			if (rc != ZOK && rc != ZNODEEXISTS)
				break;
			rc = ZOK;
		}
		if (*p == '\0')
			break;
	}
	if (rc == ZOK) {
		char prefix[600];
		snprintf(prefix, sizeof(prefix), "%s/json.info_", path);
		rc = zoo_create(c->zh, prefix, json, (int)strlen(json), &ZOO_OPEN_ACL_UNSAFE,
		                ZOO_EPHEMERAL_SEQUENTIAL, c->znode, (int)sizeof(c->znode));
	}
	if (rc != ZOK) {
		fprintf(stderr, "zk_contend: create under %s: %s\n", path, zerror(rc));
		zookeeper_close(c->zh);
		free(c);
		return NULL;
	}
	return c;
}

const char *zk_contender_znode(const struct zk_contender *c)
{
	return c->znode;
}

void zk_withdraw(struct zk_contender *c)
{
	if (!c)
		return;
	zookeeper_close(c->zh);
	free(c);
}

char *zk_mesos_master_info(const char *id, const char *ip, int port)
{
	struct in_addr a;
	if (inet_pton(AF_INET, ip, &a) != 1)
		abort();
	char pid[64];
	snprintf(pid, sizeof(pid), "master@%s:%d", ip, port);
	json_t *j = json_pack("{s:s, s:I, s:i, s:s, s:s, s:s, s:{s:s, s:s, s:i}}", "id", id, "ip",
	                      (json_int_t)a.s_addr, "port", port, "pid", pid, "hostname",
	                      "localhost", "version", "1.11.0", "address", "hostname", "localhost",
	                      "ip", ip, "port", port);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}
