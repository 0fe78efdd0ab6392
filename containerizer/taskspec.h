/* taskspec.h: the OCI spec (JSON) of a task's container.
 *
 * Specs are produced as JSON and then validated by rt_spec_parse, like any
 * spec a user hands agora-run: one validator for every path. */
#ifndef AGORA_AGENT_TASKSPEC_H
#define AGORA_AGENT_TASKSPEC_H

#include "common/common.h"

#include <stdbool.h>
#include <stdint.h>

/* Where the sandbox appears inside every task's container (Mesos' path for
 * containers with an image; MESOS_SANDBOX names it). */
#define CTZ_TS_SANDBOX_PATH "/mnt/mesos/sandbox"

struct ctz_ts_limits {
	double cpus;        /* > 0: cpu.max = cpus periods, cpu.weight = 100 x cpus */
	uint64_t mem_bytes; /* > 0: memory.max */
	uint64_t pids_max;  /* > 0: pids.max */
	/* linux.resources.devices: deny all, then allow the task's own
	 * linux.devices nodes (those the policy let it have); the runtime
	 * adds the standard ones. False with cgroups disabled, where the
	 * runtime refuses device rules it cannot enforce. */
	bool device_rules;
};

#define CTZ_TS_DEFAULT_PIDS_MAX 4096

/* A Mesos command task without an image. */
struct ctz_ts_command {
	const char *shell;       /* run as `/bin/sh -c shell`, or NULL */
	const char *const *argv; /* used when shell is NULL; NULL-terminated */
	const char *const *env;  /* extra "K=V", NULL-terminated, may be NULL */
	uint32_t uid, gid;
};

/* The host's view for command tasks: `rootfs_dir` is an agent-owned empty
 * directory that becomes the container's root; each top-level directory of
 * the host (but /proc, /sys, /dev, /tmp, /run, /mnt) is bound into it
 * recursively read-only, and top-level symlinks (/bin -> usr/bin) are
 * recreated in it. Prepares rootfs_dir (idempotent). The returned list of
 * names (NULL-terminated, malloc'd, free with ctz_ts_strv_free) are the
 * directories to bind. */
AG_WARN_UNUSED int ctz_ts_host_view_prepare(const char *rootfs_dir, char ***ret_dirs,
                                            struct ag_error *err);
void ctz_ts_strv_free(char **v);

/* JSON (malloc'd) of a command task's spec: the host view read-only as
 * root, the sandbox writable at CTZ_TS_SANDBOX_PATH and the working directory,
 * private /tmp and /run, /proc, /dev, /sys as usual, pid, mount, ipc and
 * cgroup namespaces (the host network, as Mesos command tasks have), the
 * default seccomp profile and no_new_privs, and the limits; no
 * capabilities for a task of a user (uid > 0), only ctz_pol_safe_caps in its
 * bounding set; the default capabilities for uid 0.
 * `hide_dir` (may be NULL) is masked (the agent's work directory). */
AG_WARN_UNUSED int ctz_ts_command_spec_json(const struct ctz_ts_command *cmd,
                                            const struct ctz_ts_limits *lim, const char *rootfs_dir,
                                            char *const *host_dirs, const char *sandbox,
                                            const char *hide_dir, char **ret_json,
                                            struct ag_error *err);

/* JSON (malloc'd) of a task given as an OCI-like spec: `root.path` names an
 * image (a directory of `images_dir`, no '/' in the name); the sandbox is
 * added writable at CTZ_TS_SANDBOX_PATH; the limits replace linux.resources; a
 * pid namespace is always there. Errors name the JSON path. */
AG_WARN_UNUSED int ctz_ts_oci_spec_json(const char *json, const char *images_dir,
                                        const struct ctz_ts_limits *lim, const char *sandbox,
                                        char **ret_json, struct ag_error *err);

#endif
