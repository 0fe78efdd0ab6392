/* flags.h: the agent's command line (a table for common/flags.h's parser),
 * its flag values in the Mesos formats, and its log level (pure: no I/O),
 * unit-tested in tests/unit/test_agent_flags.c. */
#ifndef AGORA_AGENT_FLAGS_H
#define AGORA_AGENT_FLAGS_H

#include "common/common.h"
#include "common/log.h"
#include "containerizer/userns.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#define AGENT_FLAGS_UNSET UINT64_MAX

/* What the flags say; strings are malloc'ed, NULL when not given (the
 * agent's default then applies). */
struct agent_flags {
	char *master, *work_dir, *hostname, *ip, *cgroup_parent;
	char *resources, *ports, *images_dir;
	char *policy_bind_paths, *policy_allow_host_mounts, *policy_allow_capabilities;
	char *policy_allow_unconfined, *policy_allow_host_namespaces, *policy_allow_root;
	char *policy_allow_sysctls, *policy_allow_devices, *policy_allow_groups;
	char *policy_allow_rlimits, *policy_allow_host_ids;
	char *frameworks_home;             /* relative CommandInfo.uris; NULL: refused */
	size_t fetcher_cache_size;         /* 0: FETCH_DEFAULT_CACHE_SIZE */
	size_t fetcher_max_size;           /* 0: FETCH_DEFAULT_MAX_BYTES */
	uint64_t fetcher_stall_timeout_ns; /* 0: FETCH_DEFAULT_STALL_MS */
	uint16_t port;                     /* operator endpoints; 0: none */
	json_t *attributes;                /* agent_flags_parse_attributes's, or NULL */
	int64_t task_pids_max;             /* 0: CTZ_TS_DEFAULT_PIDS_MAX */
	uint64_t shutdown_grace_ns;        /* AGENT_FLAGS_UNSET: AGENT_SHUTDOWN_GRACE_MS */
	uint64_t sandbox_gc_delay_ns;      /* 0: the default (a week) */
	/* custom executors (agent/executor.h); 0: the defaults */
	uint64_t executor_registration_timeout_ns, executor_reregistration_timeout_ns,
	        recovery_timeout_ns;
	int64_t update_backoff_ms, registration_backoff_ms; /* 0: the defaults */
	/* --userns_range FIRST-LAST (0-0: none) and --userns_size, checked
	 * together into `userns` (containerizer/userns.h). */
	uint32_t userns_range[2], userns_size;
	struct ctz_userns_pool userns;
	bool no_isolation;
	enum ag_log_level log_level;
	bool help;
};

/* The defaults (nothing given, log level info). */
void agent_flags_init(struct agent_flags *f);
void agent_flags_free(struct agent_flags *f);

/* Parse argv[1..]: `--name=value` or `--name value`. On a bad flag or
 * value, -EINVAL with a message naming the flag. --help sets f->help and
 * stops. */
AG_WARN_UNUSED int agent_flags_parse(struct agent_flags *f, int argc, char **argv,
                                     struct ag_error *err);

/* Write the --help text to `out`. */
void agent_flags_usage(FILE *out);

/* Mesos agent attributes, "name:value;name:value" (';' or newline apart),
 * each value typed as Mesos's values::parse types it (spaces removed):
 *   [a-b,c-d]  RANGES (non-negative integers, sorted and coalesced)
 *   {x,y}      SET
 *   a number   SCALAR
 *   else       TEXT
 * *ret is a new JSON array of mesos.v1.Attribute objects (for AgentInfo),
 * owned by the caller; an empty text gives an empty array. Errors name the
 * attribute (or its position when the name is what is wrong). */
AG_WARN_UNUSED int agent_flags_parse_attributes(const char *text, json_t **ret,
                                                struct ag_error *err);

/* --log_level: debug, info, warning (or warn), error, in any case, as the
 * master takes it. 0 with *ret set; -EINVAL with a message naming the flag
 * (*ret untouched). */
AG_WARN_UNUSED int agent_flags_parse_log_level(const char *text, enum ag_log_level *ret,
                                               struct ag_error *err);

#endif
