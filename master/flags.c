/* flags.c: see flags.h. */
#include "master/flags.h"

#include <ctype.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#define NS_PER_S 1000000000ull

enum ms__flag_kind {
	F_STRING,
	F_PORT,
	F_DURATION,
	F_COUNT,
	F_LIMIT, /* a size_t count, 0 allowed */
	F_BYTES,
	F_LOG_LEVEL,
	F_SYNC
};

struct ms__flag {
	const char *name;
	enum ms__flag_kind kind;
	size_t offset;
	const char *def; /* shown by --help */
	const char *help;
};

#define OFF(field) offsetof(struct ms_flags, field)

static const struct ms__flag ms__flags[] = {
        {"ip", F_STRING, OFF(ip), "127.0.0.1", "IP address to listen on"},
        {"port", F_PORT, OFF(port), "5050", "port to listen on (0: pick a free one and print it)"},
        {"work_dir", F_STRING, OFF(work_dir), MS_DEFAULT_WORK_DIR,
         "where the registry is kept (created 0700)"},
        {"heartbeat_interval", F_DURATION, OFF(heartbeat_interval_ns), "5secs",
         "interval of HEARTBEAT events on scheduler and operator streams"},
        {"agent_ping_timeout", F_DURATION, OFF(agent_ping_timeout_ns), "15secs",
         "an agent that is silent this long has missed a ping"},
        {"max_agent_ping_timeouts", F_COUNT, OFF(max_agent_ping_timeouts), "5",
         "missed pings after which an agent is unreachable"},
        {"offer_timeout", F_DURATION, OFF(offer_timeout_ns), "off",
         "rescind offers not answered within this (off: never)"},
        {"allocation_interval", F_DURATION, OFF(allocation_interval_ns), "1secs",
         "interval between batch allocations"},
        {"allocation_batch", F_DURATION, OFF(allocation_batch_ns), "250ms",
         "recovered resources (ended tasks, declined or partly used offers) are offered "
         "again after this delay, several at once (0: at once)"},
        {"max_body_size", F_BYTES, OFF(max_body_size), "4MiB",
         "request bodies larger than this get 413"},
        {"max_completed_tasks_per_framework", F_LIMIT, OFF(max_completed_tasks_per_framework),
         "1000", "ended tasks kept per framework for GET_TASKS.completed_tasks"},
        {"max_completed_frameworks", F_LIMIT, OFF(max_completed_frameworks), "50",
         "removed frameworks kept for GET_FRAMEWORKS.completed_frameworks"},
        {"max_operator_event_stream_subscribers", F_COUNT,
         OFF(max_operator_event_stream_subscribers), "1000",
         "open operator SUBSCRIBE streams at most; more get 503"},
        {"max_scheduler_streams", F_COUNT, OFF(max_scheduler_streams), "1000",
         "subscribed frameworks (scheduler streams) at most; more get 503"},
        {"max_stream_queue", F_BYTES, OFF(max_stream_queue), "8MiB",
         "output queued on a scheduler or agent stream beyond which it is closed as a slow "
         "consumer"},
        {"max_operator_stream_queue", F_BYTES, OFF(max_operator_stream_queue), "1MiB",
         "output queued on an operator SUBSCRIBE stream beyond which it is closed as a slow "
         "consumer"},
        {"registry_max_removed_frameworks", F_LIMIT, OFF(registry_max_removed_frameworks), "10000",
         "ids of removed frameworks kept to refuse their re-subscription (oldest pruned "
         "first)"},
        {"log_level", F_LOG_LEVEL, OFF(log_level), "info", "debug, info, warning or error"},
        {"registry_sync", F_SYNC, OFF(registry_sync), "full",
         "full: commits survive power loss; normal: they survive a killed process only"},
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
	        .log_level = AG_LOG_INFO,
	        .registry_sync = MS_REGISTRY_SYNC_FULL,
	};
}

void ms_flags_free(struct ms_flags *f)
{
	free(f->ip);
	free(f->work_dir);
	f->ip = f->work_dir = NULL;
}

/* A decimal number with an optional fraction, then a unit from `units`. */
static int ms__parse_scaled(const char *s, const char *const *names, const double *scales, size_t n,
                            double bare_scale, double *ret)
{
	if (!s || !*s || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
		return -EINVAL;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	double scale = -1;
	if (*end == '\0') {
		scale = bare_scale;
	} else {
		for (size_t i = 0; i < n; i++)
			if (strcasecmp(end, names[i]) == 0)
				scale = scales[i];
	}
	if (scale < 0)
		return -EINVAL;
	*ret = v * scale;
	return 0;
}

int ms_parse_bytes(const char *s, uint64_t *ret)
{
	static const char *const names[] = {"B", "KB", "KiB", "MB", "MiB", "GB", "GiB"};
	static const double scales[] = {1, 1e3, 1024, 1e6, 1048576, 1e9, 1073741824};
	double v;
	if (ms__parse_scaled(s, names, scales, AG_ARRAY_SIZE(names), 1, &v) < 0)
		return -EINVAL;
	if (v >= 1.8e19)
		return -ERANGE;
	*ret = (uint64_t)llround(v);
	return 0;
}

static int ms__set(struct ms_flags *f, const struct ms__flag *fl, const char *v,
                   struct ag_error *err)
{
	void *p = (char *)f + fl->offset;
	uint64_t u;
	switch (fl->kind) {
	case F_STRING:
		if (!*v)
			return ag_error_msg(err, EINVAL, "--%s: must not be empty", fl->name);
		free(*(char **)p);
		*(char **)p = ag_strdup(v);
		return 0;
	case F_PORT:
		if (ag_parse_u64(v, &u) < 0 || u > 65535)
			return ag_error_msg(err, EINVAL,
			                    "--%s: `%s` is not a port number (0 to 65535)",
			                    fl->name, v);
		*(uint16_t *)p = (uint16_t)u;
		return 0;
	case F_DURATION:
		if (fl->offset == OFF(offer_timeout_ns) && strcasecmp(v, "off") == 0) {
			*(uint64_t *)p = 0;
			return 0;
		}
		{
			char flag[64];
			int64_t ns;
			snprintf(flag, sizeof(flag), "--%s", fl->name);
			int r = ag_parse_duration_flag(flag, v, &ns, err);
			if (r < 0)
				return r;
			u = (uint64_t)ns;
		}
		if (u == 0 && fl->offset != OFF(offer_timeout_ns) &&
		    fl->offset != OFF(allocation_batch_ns))
			return ag_error_msg(err, EINVAL, "--%s: must be greater than 0", fl->name);
		*(uint64_t *)p = u;
		return 0;
	case F_COUNT:
		if (ag_parse_u64(v, &u) < 0 || u == 0 || u > 1000000)
			return ag_error_msg(err, EINVAL, "--%s: `%s` is not a count (1 to 1000000)",
			                    fl->name, v);
		*(unsigned *)p = (unsigned)u;
		return 0;
	case F_LIMIT:
		if (ag_parse_u64(v, &u) < 0 || u > 1000000)
			return ag_error_msg(err, EINVAL, "--%s: `%s` is not a count (0 to 1000000)",
			                    fl->name, v);
		*(size_t *)p = (size_t)u;
		return 0;
	case F_BYTES:
		if (ms_parse_bytes(v, &u) < 0 || u == 0 || u > (1ull << 31))
			return ag_error_msg(err, EINVAL,
			                    "--%s: `%s` is not a size between 1 byte and 2GiB "
			                    "(e.g. 4MiB)",
			                    fl->name, v);
		*(size_t *)p = (size_t)u;
		return 0;
	case F_LOG_LEVEL:
		if (ag_log_level_parse(v, (enum ag_log_level *)p) < 0)
			return ag_error_msg(err, EINVAL,
			                    "--%s: `%s` is not one of debug, info, warning, error",
			                    fl->name, v);
		return 0;
	case F_SYNC:
		if (strcmp(v, "full") == 0)
			*(enum ms_registry_sync *)p = MS_REGISTRY_SYNC_FULL;
		else if (strcmp(v, "normal") == 0)
			*(enum ms_registry_sync *)p = MS_REGISTRY_SYNC_NORMAL;
		else
			return ag_error_msg(err, EINVAL, "--%s: `%s` is not full or normal",
			                    fl->name, v);
		return 0;
	}
	return -EINVAL;
}

int ms_flags_parse(struct ms_flags *f, int argc, char **argv, struct ag_error *err)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			f->help = true;
			return 0;
		}
		if (strncmp(a, "--", 2) != 0)
			return ag_error_msg(err, EINVAL,
			                    "unexpected argument `%s` (flags are --name=value)", a);
		const char *name = a + 2;
		const char *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		const struct ms__flag *fl = NULL;
		for (size_t k = 0; k < AG_ARRAY_SIZE(ms__flags); k++)
			if (strlen(ms__flags[k].name) == nlen &&
			    strncmp(ms__flags[k].name, name, nlen) == 0)
				fl = &ms__flags[k];
		if (!fl)
			return ag_error_msg(err, EINVAL, "unknown flag `--%.*s` (see --help)",
			                    (int)nlen, name);
		const char *v;
		if (eq) {
			v = eq + 1;
		} else {
			if (i + 1 >= argc)
				return ag_error_msg(err, EINVAL, "--%s: missing value", fl->name);
			v = argv[++i];
		}
		int r = ms__set(f, fl, v, err);
		if (r < 0)
			return r;
	}
	return 0;
}

void ms_flags_usage(FILE *out, const char *argv0)
{
	fprintf(out,
	        "Usage: %s [--flag=value | --flag value]...\n\n"
	        "agora-master: the cluster's master (Mesos v1 HTTP API).\n\n",
	        argv0);
	for (size_t k = 0; k < AG_ARRAY_SIZE(ms__flags); k++)
		fprintf(out, "  --%-38s %s (default: %s)\n", ms__flags[k].name, ms__flags[k].help,
		        ms__flags[k].def);
	fprintf(out, "  --%-38s %s\n", "help", "print this and exit");
}
