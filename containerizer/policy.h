/* policy.h: what a framework may ask of the agent (issue 6, "Policy";
 * issue 12: an allow-list).
 *
 * Every field of a task, the TaskInfo and the OCI-like spec at
 * container.oci, is in a table here: safe, checked against the policy of
 * the task's role, or refused naming the field and why. A field the table
 * does not know is refused ("unknown field"): nothing a framework writes is
 * dropped or passed on unchecked. docs/agent-daemon.md lists every field's
 * class.
 *
 * By default a task gets no capability that raises privileges (only
 * CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE and CAP_SYS_CHROOT; the
 * 14 of Docker's default inside a user namespace of its own that does not
 * map the host's root), the default seccomp profile, no_new_privs, the
 * default masked and read-only paths, its own pid, mount, ipc and cgroup
 * namespaces, no host mount outside the allowed paths, no device node, no
 * host group but its user's own, no rlimit above the agent's own, no
 * sysctl, no hook, and never uid or gid 0 on the host:
 *   - command tasks run as `command.user`, else `framework_info.user`, else
 *     `nobody`; a user that resolves to uid 0 is refused;
 *   - OCI-like specs (container.oci) may run uid 0 only inside a user
 *     namespace that does not map the host's uid 0.
 *   - the id maps of a user namespace of its own reach no host user, no
 *     subordinate range of /etc/subuid or /etc/subgid and nothing of the
 *     agent's pool (another task's ids); without maps the agent gives it a
 *     range of the pool.
 * Each escalation is allowed per role by an agent flag, a comma-separated
 * list of roles ("*": every role):
 *   --policy_allow_host_mounts      mount any host path or file system
 *   --policy_bind_paths             host path prefixes any role may mount
 *   --policy_allow_capabilities     any capability
 *   --policy_allow_unconfined       a seccomp profile of its own, or
 *                                   process.noNewPrivileges false
 *   --policy_allow_host_namespaces  linux.namespaces[].path, and leaving
 *                                   out the ipc and cgroup namespaces
 *   --policy_allow_root             uid or gid 0 on the host
 *   --policy_allow_sysctls          linux.sysctl
 *   --policy_allow_devices          linux.devices
 *   --policy_allow_groups           host groups its user is not in
 *   --policy_allow_host_ids         id maps of its own that reach a host
 *                                   user, a subordinate range of
 *                                   /etc/subuid or /etc/subgid, or the
 *                                   agent's --userns_range pool
 *   --policy_allow_rlimits          rlimits above the agent's own, and a
 *                                   negative oomScoreAdj
 * A refusal is a TASK_ERROR whose message names the field and the flag. */
#ifndef AGORA_AGENT_POLICY_H
#define AGORA_AGENT_POLICY_H

#include "common/common.h"

#include <jansson.h>
#include <stdint.h>

struct ctz_pol_config {
	const char *bind_paths; /* comma-separated absolute prefixes, NULL: none */
	const char *allow_host_mounts;
	const char *allow_capabilities;
	const char *allow_unconfined;
	const char *allow_host_namespaces;
	const char *allow_root;
	const char *allow_sysctls;
	const char *allow_devices;
	const char *allow_groups;
	const char *allow_rlimits;
	/* Where relative CommandInfo.uris are; NULL: they are refused. */
	const char *frameworks_home;
	const char *allow_host_ids;
	/* The agent's pool of host ids for root tasks (--userns_range, 0 0:
	 * none): other tasks' ids, which no framework's map may reach. */
	uint32_t userns_first, userns_count;
	/* Where the subordinate ranges are; NULL: /etc/subuid, /etc/subgid. */
	const char *subuid_path, *subgid_path;
};

/* The capabilities any task may hold (none of them raises privileges):
 * what a command task's bounding set is. */
extern const char *const ctz_pol_safe_caps[];
extern const size_t ctz_pol_n_safe_caps;

/* Check the TaskInfo `task` (the normalized JSON the agent receives) field
 * by field: 0, or -EPERM / -EINVAL with `err` naming the field
 * ("task.container.volumes: not supported ..."). The spec at
 * container.oci is checked by ctz_pol_check_oci, command.user by ctz_pol_check_uid. */
AG_WARN_UNUSED int ctz_pol_check_task(const struct ctz_pol_config *p, const char *role,
                                      const json_t *task, struct ag_error *err);

/* Check an OCI-like spec for role `role` ("*" when the framework has none).
 * 0, or -EPERM / -EINVAL with `err` naming the field, the role and the
 * flag. */
AG_WARN_UNUSED int ctz_pol_check_oci(const struct ctz_pol_config *p, const char *role,
                                     const json_t *oci, struct ag_error *err);

/* Check the uid a command task would run as (`field` names where it came
 * from, e.g. "task.command.user"). */
AG_WARN_UNUSED int ctz_pol_check_uid(const struct ctz_pol_config *p, const char *role, uint32_t uid,
                                     const char *field, struct ag_error *err);

/* Root without danger (issue 15): an OCI-like spec whose process.user.uid
 * is 0 without a user namespace, for a role not allowed the host's root,
 * or with a user namespace of its own and no id maps at all, gets a user
 * namespace of its own (added to linux.namespaces): true then, and the
 * containerizer maps it to a range of its pool (ctz_task.userns_root).
 * Called before ctz_pol_check_oci, which then checks the spec so. */
bool ctz_pol_oci_userns(const struct ctz_pol_config *p, const char *role, json_t *oci);

/* Complete a spec ctz_pol_check_oci accepted: the default seccomp profile under
 * linux.seccomp and process.noNewPrivileges true when absent, the default
 * masked and read-only paths added to the spec's own, the ipc and cgroup
 * namespaces added unless the role may share the host's, and nosuid,nodev
 * on every mount of a host path. */
void ctz_pol_apply_defaults(const struct ctz_pol_config *p, const char *role, json_t *oci);

/* Is `role` in the comma-separated list (or is the list "*")? */
bool ctz_pol_role_in(const char *list, const char *role);

#endif
