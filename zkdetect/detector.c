/* detector.c: the leader detector and the one-shot lookup (zkdetect.h).
 *
 * The detector's thread owns the ZooKeeper handle and makes the synchronous
 * calls (getChildren with a watch, getData), so that the caller's loop
 * never waits on ZooKeeper. The client's watcher, on the client's own
 * thread, only sets `kick` and signals the thread. A result is published
 * under the lock with a generation, and the loop is woken through an
 * eventfd to read it. */
#include "zkdetect/zkdetect.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
/* The synchronous calls of the multi-threaded client. */
#define THREADED 1
#include <zookeeper/zookeeper.h>

#define ZKD_DEFAULT_SESSION_MS 10000
/* Checked again this often even without a watch firing: a watch lost with
 * a connection is set again on the next read. */
#define ZKD_RECHECK_MS 2000

struct zkd_detector {
	struct event_base *base;
	struct zkd_url url;
	int session_ms;
	zkd_leader_fn fn;
	void *ctx;
	int efd;
	struct event *ev;
	pthread_t thread;
	bool thread_started;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, kick;
	/* Published by the thread, under mu. */
	uint64_t gen;
	bool has;
	struct zkd_leader pub;
	char why[1200];

	/* The loop's side: what it last reported. */
	uint64_t seen;
	bool reported, rep_has;
	char *rep_host, *rep_znode;
	int rep_port;
};

/* The client's ZooKeeper log goes to stderr at WARN by default: a member
 * that is down would print a line per connection attempt into the
 * daemon's log. The caller logs what the detector reports instead. */
static void set_client_log_level(void)
{
	zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
}

static void quiet_client_log(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, set_client_log_level);
}

static void on_zk_event(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	(void)zh;
	(void)type;
	(void)state;
	(void)path;
	struct zkd_detector *d = ctx;
	if (!d)
		return;
	pthread_mutex_lock(&d->mu);
	d->kick = true;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

/* Publish a leader (`l` taken) or none (`l` NULL, with `why`), waking the
 * loop when it differs from the last one published. */
static void publish(struct zkd_detector *d, struct zkd_leader *l, const char *why)
{
	pthread_mutex_lock(&d->mu);
	bool same;
	if (l)
		same = d->has && strcmp(d->pub.host, l->host) == 0 && d->pub.port == l->port &&
		       strcmp(d->pub.znode, l->znode) == 0;
	else
		same = d->gen > 0 && !d->has && strcmp(d->why, why) == 0;
	if (!same) {
		zkd_leader_free(&d->pub);
		d->has = l != NULL;
		if (l) {
			d->pub = *l;
			*l = (struct zkd_leader){0};
			d->why[0] = '\0';
		} else {
			snprintf(d->why, sizeof(d->why), "%s", why);
		}
		d->gen++;
		uint64_t one = 1;
		AG_IGNORE_RESULT(write(d->efd, &one, sizeof(one))); /* an eventfd: it cannot fill */
	}
	pthread_mutex_unlock(&d->mu);
	zkd_leader_free(l);
}

/* One read of the path: 0 with *ret set (ret->host NULL: no contender, `why`
 * says so), or a ZooKeeper error code (the connection is gone: try again). */
static int read_leader(zhandle_t *zh, const char *path, watcher_fn w, void *wctx,
                       struct zkd_leader *ret, char *why, size_t whylen)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		struct String_vector kids = {0};
		int rc = w ? zoo_wget_children(zh, path, w, wctx, &kids)
		           : zoo_get_children(zh, path, 0, &kids);
		if (rc == ZNONODE) {
			if (w) /* watch for its creation */
				(void)zoo_wexists(zh, path, w, wctx, NULL);
			snprintf(why, whylen, "the path `%s` does not exist in ZooKeeper", path);
			return 0;
		}
		if (rc != ZOK)
			return rc;
		int i = zkd_pick_leader((const char *const *)kids.data, kids.count);
		if (i < 0) {
			deallocate_String_vector(&kids);
			snprintf(why, whylen, "no master contends under `%s`", path);
			return 0;
		}
		_cleanup_free_ char *znode = ag_asprintf("%s/%s", path, kids.data[i]);
		deallocate_String_vector(&kids);
		/* MasterInfo is small; Mesos's are a few hundred bytes. */
		char buf[16384];
		int len = (int)sizeof(buf);
		rc = zoo_get(zh, znode, 0, buf, &len, NULL);
		if (rc == ZNONODE)
			continue; /* it left meanwhile: read the children again */
		if (rc != ZOK)
			return rc;
		struct ag_error err = {0};
		if (len < 0 || zkd_parse_master_info(buf, (size_t)len, znode, ret, &err) < 0) {
			snprintf(why, whylen, "%s",
			         len < 0 ? "the leader's znode is empty" : err.msg);
			return 0;
		}
		return 0;
	}
	snprintf(why, whylen, "the contenders under `%s` keep changing", path);
	return 0;
}

static void *run(void *arg)
{
	struct zkd_detector *d = arg;
	zhandle_t *zh = NULL;
	uint64_t lost_since = ag_now_ns();
	char why[1200];
	pthread_mutex_lock(&d->mu);
	while (!d->stop) {
		d->kick = false;
		pthread_mutex_unlock(&d->mu);
		if (!zh) {
			zh = zookeeper_init(d->url.servers, on_zk_event, d->session_ms, NULL, d, 0);
			if (!zh)
				snprintf(why, sizeof(why),
				         "cannot start a ZooKeeper client for `%s`: %s",
				         d->url.servers, strerror(errno));
		}
		int state = zh ? zoo_state(zh) : 0;
		bool connected = state == ZOO_CONNECTED_STATE;
		if (zh && (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE)) {
			zookeeper_close(zh);
			zh = NULL;
			publish(d, NULL, "the ZooKeeper session expired");
			pthread_mutex_lock(&d->mu);
			continue;
		}
		if (connected) {
			struct zkd_leader l = {0};
			why[0] = '\0';
			int rc = read_leader(zh, d->url.path, on_zk_event, d, &l, why, sizeof(why));
			if (rc == ZOK) {
				lost_since = 0;
				publish(d, l.host ? &l : NULL, why);
			} else {
				connected = false;
			}
		}
		if (!connected) {
			uint64_t now = ag_now_ns();
			if (!lost_since)
				lost_since = now;
			/* As Mesos's detector: the last leader stands until the
			 * session would have expired. */
			if (now - lost_since >= (uint64_t)d->session_ms * 1000000ull) {
				snprintf(why, sizeof(why), "no ZooKeeper session with %s for %d ms",
				         d->url.servers, d->session_ms);
				publish(d, NULL, why);
			}
		}
		int wait_ms = connected ? ZKD_RECHECK_MS : 100;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += wait_ms / 1000;
		ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&d->mu);
		while (!d->stop && !d->kick)
			if (pthread_cond_timedwait(&d->cv, &d->mu, &ts) == ETIMEDOUT)
				break;
	}
	pthread_mutex_unlock(&d->mu);
	if (zh)
		zookeeper_close(zh);
	return NULL;
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct zkd_detector *d = arg;
	uint64_t v;
	AG_IGNORE_RESULT(read(fd, &v, sizeof(v))); /* only to clear it */
	pthread_mutex_lock(&d->mu);
	if (d->gen == d->seen) {
		pthread_mutex_unlock(&d->mu);
		return;
	}
	d->seen = d->gen;
	bool has = d->has;
	struct zkd_leader l = {0};
	if (has) {
		l.host = ag_strdup(d->pub.host);
		l.port = d->pub.port;
		l.id = d->pub.id ? ag_strdup(d->pub.id) : NULL;
		l.znode = ag_strdup(d->pub.znode);
	}
	_cleanup_free_ char *why = ag_strdup(d->why);
	pthread_mutex_unlock(&d->mu);
	bool same = d->reported && has == d->rep_has &&
	            (!has || (strcmp(l.host, d->rep_host) == 0 && l.port == d->rep_port &&
	                      strcmp(l.znode, d->rep_znode) == 0));
	if (!same || !d->reported) {
		d->reported = true;
		d->rep_has = has;
		free(d->rep_host);
		free(d->rep_znode);
		d->rep_host = has ? ag_strdup(l.host) : NULL;
		d->rep_znode = has ? ag_strdup(l.znode) : NULL;
		d->rep_port = l.port;
		d->fn(d->ctx, has ? &l : NULL, why);
	}
	zkd_leader_free(&l);
}

struct zkd_detector *zkd_detector_new(struct event_base *base, const struct zkd_url *url,
                                      int session_timeout_ms, zkd_leader_fn fn, void *ctx,
                                      struct ag_error *err)
{
	quiet_client_log();
	struct zkd_detector *d = ag_calloc(1, sizeof(*d));
	d->base = base;
	d->url.servers = ag_strdup(url->servers);
	d->url.path = ag_strdup(url->path);
	d->session_ms = session_timeout_ms > 0 ? session_timeout_ms : ZKD_DEFAULT_SESSION_MS;
	d->fn = fn;
	d->ctx = ctx;
	pthread_mutex_init(&d->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cv, &ca);
	pthread_condattr_destroy(&ca);
	d->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->efd < 0) {
		ag_error_set(err, errno, "eventfd for the ZooKeeper detector");
		zkd_detector_free(d);
		return NULL;
	}
	d->ev = event_new(base, d->efd, EV_READ | EV_PERSIST, on_wake, d);
	event_add(d->ev, NULL);
	int r = pthread_create(&d->thread, NULL, run, d);
	if (r != 0) {
		ag_error_set(err, r, "start the ZooKeeper detector's thread");
		zkd_detector_free(d);
		return NULL;
	}
	d->thread_started = true;
	return d;
}

void zkd_detector_free(struct zkd_detector *d)
{
	if (!d)
		return;
	if (d->thread_started) {
		pthread_mutex_lock(&d->mu);
		d->stop = true;
		pthread_cond_signal(&d->cv);
		pthread_mutex_unlock(&d->mu);
		pthread_join(d->thread, NULL);
	}
	if (d->ev)
		event_free(d->ev);
	if (d->efd >= 0)
		close(d->efd);
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->cv);
	zkd_leader_free(&d->pub);
	free(d->rep_host);
	free(d->rep_znode);
	zkd_url_free(&d->url);
	free(d);
}

/* ---- the one-shot lookup ------------------------------------------------- */

struct once {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool connected;
};

static void on_once_event(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	(void)zh;
	(void)path;
	struct once *o = ctx;
	if (type != ZOO_SESSION_EVENT || state != ZOO_CONNECTED_STATE)
		return;
	pthread_mutex_lock(&o->mu);
	o->connected = true;
	pthread_cond_signal(&o->cv);
	pthread_mutex_unlock(&o->mu);
}

int zkd_find_leader(const struct zkd_url *url, int timeout_ms, struct zkd_leader *ret,
                    struct ag_error *err)
{
	quiet_client_log();
	struct once o = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	uint64_t deadline = ag_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	int session = timeout_ms > 4000 ? timeout_ms : 4000;
	zhandle_t *zh = zookeeper_init(url->servers, on_once_event, session, NULL, &o, 0);
	if (!zh)
		return ag_error_set(err, errno, "cannot start a ZooKeeper client for `%s`",
		                    url->servers);
	int r = -ETIMEDOUT;
	char why[1200] = "";
	for (;;) {
		pthread_mutex_lock(&o.mu);
		while (!o.connected && ag_now_ns() < deadline) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 50 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&o.cv, &o.mu, &ts);
		}
		bool connected = o.connected;
		pthread_mutex_unlock(&o.mu);
		if (!connected) {
			if (!why[0])
				snprintf(why, sizeof(why),
				         "no ZooKeeper session with %s within %d ms", url->servers,
				         timeout_ms);
			break;
		}
		struct zkd_leader l = {0};
		why[0] = '\0';
		int rc = read_leader(zh, url->path, NULL, NULL, &l, why, sizeof(why));
		if (rc == ZOK && l.host) {
			*ret = l;
			r = 0;
			break;
		}
		if (rc != ZOK)
			snprintf(why, sizeof(why), "ZooKeeper at %s: %s", url->servers, zerror(rc));
		if (ag_now_ns() >= deadline) {
			r = strstr(why, "MasterInfo") ? -EBADMSG : -ENOENT;
			break;
		}
		usleep(100 * 1000);
	}
	zookeeper_close(zh);
	if (r < 0)
		return ag_error_msg(err, -r, "no leading master in ZooKeeper: %s", why);
	return 0;
}
