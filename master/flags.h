/* flags.h: agora-master's command line.
 *
 * Flags are written `--name=value` or `--name value`. Durations are in the
 * grammar of every agora program (ag_parse_duration, common.h): a number
 * and a unit as Mesos writes them (ns, us, ms, secs, mins, hrs, days,
 * weeks) or s, m, h, d, w; a bare number means seconds.
 */
#ifndef AGORA_MASTER_FLAGS_H
#define AGORA_MASTER_FLAGS_H

#include "common/common.h"
#include "common/log.h"
#include "master/registry.h"

#define MS_DEFAULT_WORK_DIR "/var/lib/agora-master"

struct ms_flags {
	char *ip;
	uint16_t port; /* 0: pick a free port and print it */
	char *work_dir;
	uint64_t heartbeat_interval_ns;
	uint64_t agent_ping_timeout_ns;
	unsigned max_agent_ping_timeouts;
	/* Agents known from the registry that have not re-registered this
	 * long after the master started (or was elected) are unreachable. */
	uint64_t agent_reregister_timeout_ns;
	uint64_t offer_timeout_ns; /* 0: offers never time out */
	uint64_t allocation_interval_ns;
	/* Resources coming back (tasks ended, offers declined or partly used)
	 * wait this long before they are offered again, so that one offer
	 * carries what several tasks freed on an agent; 0: at the end of the
	 * loop turn. */
	uint64_t allocation_batch_ns;
	size_t max_body_size;
	/* Bounds of what GET_TASKS / GET_FRAMEWORKS keep of the past (oldest
	 * dropped first); 0 keeps nothing. */
	size_t max_completed_tasks_per_framework;
	size_t max_completed_frameworks;
	/* Every client is bounded: streams open at once (more get 503), and
	 * what one stream may leave queued before it is closed as a slow
	 * consumer. */
	unsigned max_operator_event_stream_subscribers;
	unsigned max_scheduler_streams;
	size_t max_stream_queue;
	size_t max_operator_stream_queue;
	/* Tombstones of removed frameworks kept in the registry and in
	 * memory (newest kept); a pruned id may subscribe again. */
	size_t registry_max_removed_frameworks;
	/* --zk: zk://[user:pass@]host:port[,...]/path (master/zk.h); NULL:
	 * a single master. */
	char *zk;
	uint64_t zk_session_timeout_ns;
	enum ag_log_level log_level;
	enum ms_registry_sync registry_sync;
	bool help;
};

/* Fill `f` with the defaults. Strings in `f` are malloc'ed; free them with
 * ms_flags_free(). */
void ms_flags_init(struct ms_flags *f);
void ms_flags_free(struct ms_flags *f);

/* Parse argv[1..]. On a bad flag or value, returns -EINVAL with a message
 * naming the flag. --help sets f->help and stops. */
AG_WARN_UNUSED int ms_flags_parse(struct ms_flags *f, int argc, char **argv, struct ag_error *err);

/* Write the --help text, with defaults, to `out`. */
void ms_flags_usage(FILE *out, const char *argv0);

#endif
