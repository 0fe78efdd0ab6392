/* policy.h: what a framework may ask of the agent (issue 6, "Policy").
 *
 * By default a task gets the default capability set (Docker's 14), the
 * default seccomp profile and no_new_privs, no host bind mounts outside the
 * allowed paths, no host namespaces joined, no sysctls, and never uid 0 on
 * the host:
 *   - command tasks run as `command.user`, else `framework_info.user`, else
 *     `nobody`; a user that resolves to uid 0 is refused (the host's root,
 *     without a user namespace, even with the default capabilities, owns the
 *     host's files through the read-only view's writable holes: /proc/sys,
 *     devices, the sandbox of others);
 *   - OCI-like specs (container.oci) may run uid 0 only inside a user
 *     namespace whose mapping of container uid 0 is not host uid 0.
 * Each escalation is allowed per role by an agent flag, a comma-separated
 * list of roles ("*": every role):
 *   --policy_allow_host_mounts      bind any host path
 *   --policy_bind_paths             host path prefixes any role may bind
 *   --policy_allow_capabilities     capabilities beyond the default set
 *   --policy_allow_unconfined       a seccomp profile of its own, or
 *                                   process.noNewPrivileges false
 *   --policy_allow_host_namespaces  linux.namespaces[].path
 *   --policy_allow_root             uid 0 on the host
 *   --policy_allow_sysctls          linux.sysctl
 * A refusal is a TASK_ERROR whose message names the field and the flag. */
#ifndef AGORA_AGENT_POLICY_H
#define AGORA_AGENT_POLICY_H

#include "common/common.h"

#include <jansson.h>
#include <stdint.h>

struct pol_config {
	const char *bind_paths; /* comma-separated absolute prefixes, NULL: none */
	const char *allow_host_mounts;
	const char *allow_capabilities;
	const char *allow_unconfined;
	const char *allow_host_namespaces;
	const char *allow_root;
	const char *allow_sysctls;
};

/* Check an OCI-like spec for role `role` ("*" when the framework has none).
 * 0, or -EPERM with `err` naming the field, the role and the flag. */
int pol_check_oci(const struct pol_config *p, const char *role, const json_t *oci,
                  struct ag_error *err);

/* Check the uid a command task would run as (`field` names where it came
 * from, e.g. "task.command.user"). */
int pol_check_uid(const struct pol_config *p, const char *role, uint32_t uid, const char *field,
                  struct ag_error *err);

/* Fill in the defaults an OCI-like spec left out: the default seccomp
 * profile under linux.seccomp and process.noNewPrivileges true. */
void pol_apply_defaults(json_t *oci);

/* Is `role` in the comma-separated list (or is the list "*")? */
bool pol_role_in(const char *list, const char *role);

#endif
