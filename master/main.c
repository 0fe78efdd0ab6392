/* agora-master: the daemon's edge. Parses flags, opens the registry, runs
 * the HTTP server on one libevent loop, logs what fails, and shuts down
 * cleanly on SIGTERM/SIGINT. */
#include "common/log.h"
#include "master/master.h"
#include "master/zk.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

/* mkdir -p, the last component 0700: the registry is the cluster's
 * membership and is nobody else's business. */
static int make_work_dir(const char *path, struct ag_error *err)
{
	_cleanup_free_ char *p = ag_strdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return ag_error_set(err, errno, "--work_dir: create `%s`", p);
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return ag_error_set(err, errno, "--work_dir: create `%s`", p);
	struct stat st;
	if (stat(p, &st) < 0)
		return ag_error_set(err, errno, "--work_dir: stat `%s`", p);
	if (!S_ISDIR(st.st_mode))
		return ag_error_msg(err, ENOTDIR, "--work_dir: `%s` is not a directory", p);
	if (st.st_mode & 077)
		ag_warn("--work_dir `%s` is accessible to others (mode %03o); 0700 is advised", p,
		        st.st_mode & 0777);
	return 0;
}

static int count(const void *row, void *arg)
{
	(void)row;
	(*(size_t *)arg)++;
	return 0;
}
static int count_weight(const char *role, double w, void *arg)
{
	(void)role;
	(void)w;
	(*(size_t *)arg)++;
	return 0;
}

static int recover(struct ms_master *m, bool created, struct ag_error *err)
{
	int r = ms_registry_meta_get(m->registry, "master_id", &m->id, err);
	if (r == -ENOENT) {
		m->id = ms_uuid();
		r = ms_registry_meta_set(m->registry, "master_id", m->id, err);
	}
	if (r < 0)
		return r;
	/* Before anything is loaded: a lowered --registry_max_removed_frameworks
	 * takes effect at once. */
	r = ms_registry_frameworks_prune_removed(
	        m->registry, m->flags.registry_max_removed_frameworks, NULL, NULL, err);
	if (r < 0)
		return r;
	size_t agents = 0, frameworks = 0, weights = 0;
	r = ms_registry_agents_foreach(m->registry, (ms_registry_agent_cb)count, &agents, err);
	if (r == 0)
		r = ms_registry_frameworks_foreach(m->registry, (ms_registry_framework_cb)count,
		                                   &frameworks, err);
	if (r == 0)
		r = ms_registry_weights_foreach(m->registry, count_weight, &weights, err);
	if (r < 0)
		return r;
	ag_info("master %s: registry %s (schema %d): %zu agents, %zu frameworks, %zu weights",
	        m->id, created ? "created" : "recovered", ms_registry_schema_version(m->registry),
	        agents, frameworks, weights);
	return 0;
}

/* One descriptor per connection: the caps on streams
 * (--max_scheduler_streams, --max_operator_event_stream_subscribers) and
 * the agents need more than the usual soft limit of 1024. Take what the
 * hard limit allows, and say so when even that is short of the caps. */
static void raise_nofile(const struct ms_flags *f)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	uint64_t want =
	        (uint64_t)f->max_scheduler_streams + f->max_operator_event_stream_subscribers + 64;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
		ag_warn("open files are limited to %llu (RLIMIT_NOFILE), fewer than the streams "
		        "allowed (--max_scheduler_streams + "
		        "--max_operator_event_stream_subscribers) "
		        "and agents need: connections beyond it are refused",
		        (unsigned long long)rl.rlim_cur);
}

/* --zk: this master was elected. Agents that do not come back are
 * counted from now, not from the start of the process. */
static int elected(struct ms_master *m, struct ag_error *err)
{
	int r = ms_zk_registry_open(m->zk, &m->registry, err);
	if (r == 0)
		r = ms_registry_frameworks_prune_removed(
		        m->registry, m->flags.registry_max_removed_frameworks, NULL, NULL, err);
	if (r == 0)
		r = ms_recover_state(m, err);
	if (r < 0)
		return r;
	size_t agents = 0, frameworks = 0;
	AG_IGNORE_RESULT(
	        ms_registry_agents_foreach(m->registry, (ms_registry_agent_cb)count, &agents, err));
	AG_IGNORE_RESULT(ms_registry_frameworks_foreach(
	        m->registry, (ms_registry_framework_cb)count, &frameworks, err));
	ag_info("registry recovered from ZooKeeper: %zu agents, %zu frameworks", agents,
	        frameworks);
	m->start_ns = ag_now_ns();
	m->start_wall_ns = ag_wall_ns();
	return 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct ms_master *m = arg;
	(void)what;
	if (m->stopping) {
		ag_warn("%s again: stopping now", strsignal((int)sig));
		event_base_loopbreak(m->base);
		return;
	}
	m->stopping = true;
	ag_info("%s: shutting down", strsignal((int)sig));
	ms_http_stop_accepting(m->http);
	ms_http_close_streams(m->http);
	/* A short grace for the final chunks of the streams to leave. */
	struct timeval grace = {0, 100 * 1000};
	event_base_loopexit(m->base, &grace);
}

int main(int argc, char **argv)
{
	struct ms_master m = {0};
	struct ag_error err = {0};
	int status = 1;

	ms_flags_init(&m.flags);
	if (ms_flags_parse(&m.flags, argc, argv, &err) < 0) {
		fprintf(stderr, "agora-master: %s\n", err.msg);
		ms_flags_free(&m.flags);
		return 2;
	}
	if (m.flags.zk) {
		/* A bad --zk is a usage error, found before anything starts. */
		struct ms_zk_url url = {0};
		if (ms_zk_url_parse("zk", m.flags.zk, &url, &err) < 0) {
			fprintf(stderr, "agora-master: %s\n", err.msg);
			ms_flags_free(&m.flags);
			return 2;
		}
		ms_zk_url_free(&url);
	}
	if (m.flags.help) {
		ms_flags_usage(stdout, argv[0]);
		ms_flags_free(&m.flags);
		return 0;
	}
	ag_log_set_level(m.flags.log_level);
	m.start_ns = ag_now_ns();

	/* A client that vanishes mid-write must give EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	raise_nofile(&m.flags);

	struct event *sigterm = NULL, *sigint = NULL;
	bool created = false;
	/* With --zk the registry is in ZooKeeper, read once elected; the
	 * master's id is its own (as a Mesos master's). */
	if (m.flags.zk)
		m.id = ms_uuid();
	if (make_work_dir(m.flags.work_dir, &err) < 0 ||
	    (!m.flags.zk && (ms_registry_open(m.flags.work_dir, m.flags.registry_sync, &m.registry,
	                                      &created, &err) < 0 ||
	                     recover(&m, created, &err) < 0))) {
		ag_err("%s", err.msg);
		goto out;
	}

	/* epoll changes are batched per loop turn: evhttp turns read and
	 * write interest on and off around every request, and most of those
	 * changes cancel out before the loop polls again. No fd is dup()ed
	 * while registered, the changelist's one caveat. */
	struct event_config *cfg = event_config_new();
	if (cfg) {
		event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
		/* Background work (writes to operator streams, see
		 * ms_stream_set_background) yields to new events every 32
		 * callbacks: a thousand subscribers' writes never hold a
		 * request up for long. */
		event_config_set_max_dispatch_interval(cfg, NULL, 32, MS_PRIORITY_BACKGROUND);
	}
	m.base = cfg ? event_base_new_with_config(cfg) : NULL;
	if (cfg)
		event_config_free(cfg);
	/* Everything at the default (middle) priority but the background. */
	if (m.base && event_base_priority_init(m.base, MS_PRIORITY_BACKGROUND + 1) < 0) {
		ag_err("event_base_priority_init failed");
		goto out;
	}
	if (!m.base) {
		ag_err("event_base_new failed");
		goto out;
	}
	struct ms_http_options hopts = {
	        .ip = m.flags.ip,
	        .port = m.flags.port,
	        .max_body = m.flags.max_body_size,
	        .stream_max_pending = m.flags.max_stream_queue,
	};
	if (ms_http_new(m.base, &hopts, &m.http, &err) < 0) {
		ag_err("%s", err.msg);
		goto out;
	}
	if (ms_master_init(&m, &err) < 0 || (!m.flags.zk && ms_recover_state(&m, &err) < 0)) {
		ag_err("%s", err.msg);
		goto out;
	}
	if (ms_operator_routes(&m) < 0 || ms_scheduler_routes(&m) < 0 || ms_agent_routes(&m) < 0 ||
	    ms_zk_routes(&m) < 0) {
		ag_err("cannot route the APIs");
		goto out;
	}
	sigterm = evsignal_new(m.base, SIGTERM, on_signal, &m);
	sigint = evsignal_new(m.base, SIGINT, on_signal, &m);
	if (!sigterm || !sigint || evsignal_add(sigterm, NULL) < 0 ||
	    evsignal_add(sigint, NULL) < 0) {
		ag_err("cannot watch SIGTERM/SIGINT");
		goto out;
	}

	/* On stdout, alone on its line, for scripts and tests that start us
	 * with --port 0. */
	printf("listening on %s:%u\n", m.flags.ip, ms_http_port(m.http));
	fflush(stdout);
	ag_info("listening on %s:%u (work_dir %s)", m.flags.ip, ms_http_port(m.http),
	        m.flags.work_dir);

	if (m.flags.zk && ms_zk_start(&m, elected, &m.zk, &err) < 0) {
		ag_err("%s", err.msg);
		goto out;
	}

	if (event_base_dispatch(m.base) < 0) {
		ag_err("event loop failed");
		goto out;
	}
	/* A leader that lost its ZooKeeper session exits 1 (zk.h). */
	status = ms_zk_lost(m.zk) ? 1 : 0;
out:
	/* Streams first: their close callbacks still use the state. */
	ms_http_free(m.http);
	ms_master_fini(&m);
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	if (m.base)
		event_base_free(m.base);
	/* The registry before the ZooKeeper session it uses; closing the
	 * session deletes our node at once: a standby takes over without
	 * waiting for the session to expire. */
	ms_registry_close(m.registry);
	ms_zk_free(m.zk);
	if (status == 0)
		ag_info("stopped");
	free(m.id);
	ms_flags_free(&m.flags);
	return status;
}
