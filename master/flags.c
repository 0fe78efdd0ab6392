/* flags.c: see flags.h. */
#include "master/flags.h"

#include "common/flags.h"

#include <string.h>

#define NS_PER_S 1000000000ull

#define OFF(field) offsetof(struct ms_flags, field)

static int parse_log_level(const struct ag_flag *fl, const char *v, void *field,
                           struct ag_error *err)
{
	if (ag_log_level_parse(v, field) < 0)
		return ag_error_msg(err, EINVAL,
		                    "--%s: `%s` is not one of debug, info, warning, error",
		                    fl->name, v);
	return 0;
}

static int parse_sync(const struct ag_flag *fl, const char *v, void *field, struct ag_error *err)
{
	enum ms_registry_sync *p = field;
	if (strcmp(v, "full") == 0)
		*p = MS_REGISTRY_SYNC_FULL;
	else if (strcmp(v, "normal") == 0)
		*p = MS_REGISTRY_SYNC_NORMAL;
	else
		return ag_error_msg(err, EINVAL, "--%s: `%s` is not full or normal", fl->name, v);
	return 0;
}

static const struct ag_flag flags[] = {
        {"ip", AG_FLAG_STRING, OFF(ip), "127.0.0.1", "IP address to listen on", 0, NULL},
        {"port", AG_FLAG_PORT, OFF(port), "5050",
         "port to listen on (0: pick a free one and print it)", 0, NULL},
        {"work_dir", AG_FLAG_STRING, OFF(work_dir), MS_DEFAULT_WORK_DIR,
         "where the registry is kept (created 0700)", 0, NULL},
        {"heartbeat_interval", AG_FLAG_DURATION, OFF(heartbeat_interval_ns), "5secs",
         "interval of HEARTBEAT events on scheduler and operator streams", 0, NULL},
        {"agent_ping_timeout", AG_FLAG_DURATION, OFF(agent_ping_timeout_ns), "15secs",
         "an agent that is silent this long has missed a ping", 0, NULL},
        {"max_agent_ping_timeouts", AG_FLAG_COUNT, OFF(max_agent_ping_timeouts), "5",
         "missed pings after which an agent is unreachable", 0, NULL},
        {"agent_reregister_timeout", AG_FLAG_DURATION, OFF(agent_reregister_timeout_ns), "10mins",
         "agents of the registry that have not re-registered this long after the master "
         "started or was elected are unreachable (their tasks are lost)",
         0, NULL},
        {"offer_timeout", AG_FLAG_DURATION, OFF(offer_timeout_ns), "off",
         "rescind offers not answered within this (off: never)", AG_FLAG_OFF, NULL},
        {"allocation_interval", AG_FLAG_DURATION, OFF(allocation_interval_ns), "1secs",
         "interval between batch allocations", 0, NULL},
        {"allocation_batch", AG_FLAG_DURATION, OFF(allocation_batch_ns), "250ms",
         "recovered resources (ended tasks, declined or partly used offers) are offered "
         "again after this delay, several at once (0: at once)",
         AG_FLAG_ZERO_OK, NULL},
        {"max_body_size", AG_FLAG_BYTES, OFF(max_body_size), "4MiB",
         "request bodies larger than this get 413", 0, NULL},
        {"max_completed_tasks_per_framework", AG_FLAG_LIMIT, OFF(max_completed_tasks_per_framework),
         "1000", "ended tasks kept per framework for GET_TASKS.completed_tasks", 0, NULL},
        {"max_completed_frameworks", AG_FLAG_LIMIT, OFF(max_completed_frameworks), "50",
         "removed frameworks kept for GET_FRAMEWORKS.completed_frameworks", 0, NULL},
        {"max_operator_event_stream_subscribers", AG_FLAG_COUNT,
         OFF(max_operator_event_stream_subscribers), "1000",
         "open operator SUBSCRIBE streams at most; more get 503", 0, NULL},
        {"max_scheduler_streams", AG_FLAG_COUNT, OFF(max_scheduler_streams), "1000",
         "subscribed frameworks (scheduler streams) at most; more get 503", 0, NULL},
        {"max_stream_queue", AG_FLAG_BYTES, OFF(max_stream_queue), "8MiB",
         "output queued on a scheduler or agent stream beyond which it is closed as a slow "
         "consumer",
         0, NULL},
        {"max_operator_stream_queue", AG_FLAG_BYTES, OFF(max_operator_stream_queue), "1MiB",
         "output queued on an operator SUBSCRIBE stream beyond which it is closed as a slow "
         "consumer",
         0, NULL},
        {"registry_max_removed_frameworks", AG_FLAG_LIMIT, OFF(registry_max_removed_frameworks),
         "10000",
         "ids of removed frameworks kept to refuse their re-subscription (oldest pruned "
         "first)",
         0, NULL},
        {"zk", AG_FLAG_STRING, OFF(zk), NULL,
         "zk://[user:pass@]host:port[,host:port...]/path: contend for leadership with "
         "standby masters through ZooKeeper (default: a single master)",
         0, NULL},
        {"zk_session_timeout", AG_FLAG_DURATION, OFF(zk_session_timeout_ns), "10secs",
         "ZooKeeper session timeout: a leader cut off from ZooKeeper stops leading well "
         "within it",
         0, NULL},
        {"log_level", AG_FLAG_CUSTOM, OFF(log_level), "info", "debug, info, warning or error", 0,
         parse_log_level},
        {"registry_sync", AG_FLAG_CUSTOM, OFF(registry_sync), "full",
         "full: commits survive power loss; normal: they survive a killed process only", 0,
         parse_sync},
};

void ms_flags_init(struct ms_flags *f)
{
	*f = (struct ms_flags){
	        .ip = ag_strdup("127.0.0.1"),
	        .port = 5050,
	        .work_dir = ag_strdup(MS_DEFAULT_WORK_DIR),
	        .heartbeat_interval_ns = 5 * NS_PER_S,
	        .agent_ping_timeout_ns = 15 * NS_PER_S,
	        .max_agent_ping_timeouts = 5,
	        .agent_reregister_timeout_ns = 600 * NS_PER_S,
	        .offer_timeout_ns = 0,
	        .allocation_interval_ns = 1 * NS_PER_S,
	        .allocation_batch_ns = 250 * NS_PER_S / 1000,
	        .max_body_size = 4u << 20,
	        .max_completed_tasks_per_framework = 1000,
	        .max_completed_frameworks = 50,
	        .max_operator_event_stream_subscribers = 1000,
	        .max_scheduler_streams = 1000,
	        .max_stream_queue = 8u << 20,
	        .max_operator_stream_queue = 1u << 20,
	        .registry_max_removed_frameworks = 10000,
	        .zk_session_timeout_ns = 10 * NS_PER_S,
	        .log_level = AG_LOG_INFO,
	        .registry_sync = MS_REGISTRY_SYNC_FULL,
	};
}

void ms_flags_free(struct ms_flags *f)
{
	ag_flags_free(flags, AG_ARRAY_SIZE(flags), f);
}

int ms_flags_parse(struct ms_flags *f, int argc, char **argv, struct ag_error *err)
{
	return ag_flags_parse(flags, AG_ARRAY_SIZE(flags), f, argc, argv, &f->help, err);
}

void ms_flags_usage(FILE *out, const char *argv0)
{
	fprintf(out,
	        "Usage: %s [--flag=value | --flag value]...\n\n"
	        "agora-master: the cluster's master (Mesos v1 HTTP API).\n\n",
	        argv0);
	ag_flags_usage(out, flags, AG_ARRAY_SIZE(flags));
}
