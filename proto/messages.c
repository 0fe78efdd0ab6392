/* messages.c: the tables of the Mesos v1 messages of the subset (field
 * names, kinds, required and repeated flags, enum names), in the field
 * order of the .proto files, which is also the order fields are written in.
 * Facts from apache/mesos include/mesos/v1/{mesos,scheduler/scheduler,
 * master/master}.proto; agora's agent protocol at the end. Parts the master
 * and agent never read (DiscoveryInfo, CheckInfo, DiskInfo, ...) are kept
 * as verbatim objects (PB__RAW). */
#include "proto/internal.h"

#define ENUM(var, ...)                                                                             \
	static const char *const var##_names[] = {NULL, __VA_ARGS__};                              \
	const struct pb__enum var = {var##_names, AG_ARRAY_SIZE(var##_names)}
#define LOCAL_ENUM(var, ...)                                                                       \
	static const char *const var##_names[] = {NULL, __VA_ARGS__};                              \
	static const struct pb__enum var = {var##_names, AG_ARRAY_SIZE(var##_names)}

/* ---- enums (order = the C enums of proto.h) ---- */

ENUM(pb__e_task_state, "TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING",
     "TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_ERROR", "TASK_LOST", "TASK_DROPPED",
     "TASK_UNREACHABLE", "TASK_GONE", "TASK_GONE_BY_OPERATOR", "TASK_UNKNOWN");
ENUM(pb__e_source, "SOURCE_MASTER", "SOURCE_AGENT", "SOURCE_EXECUTOR");
ENUM(pb__e_reason, "REASON_COMMAND_EXECUTOR_FAILED", "REASON_CONTAINER_LAUNCH_FAILED",
     "REASON_CONTAINER_LIMITATION", "REASON_CONTAINER_LIMITATION_DISK",
     "REASON_CONTAINER_LIMITATION_MEMORY", "REASON_CONTAINER_PREEMPTED",
     "REASON_CONTAINER_UPDATE_FAILED", "REASON_MAX_COMPLETION_TIME_REACHED",
     "REASON_EXECUTOR_REGISTRATION_TIMEOUT", "REASON_EXECUTOR_REREGISTRATION_TIMEOUT",
     "REASON_EXECUTOR_TERMINATED", "REASON_EXECUTOR_UNREGISTERED", "REASON_FRAMEWORK_REMOVED",
     "REASON_GC_ERROR", "REASON_INVALID_FRAMEWORKID", "REASON_INVALID_OFFERS",
     "REASON_IO_SWITCHBOARD_EXITED", "REASON_MASTER_DISCONNECTED", "REASON_RECONCILIATION",
     "REASON_RESOURCES_UNKNOWN", "REASON_AGENT_DISCONNECTED", "REASON_AGENT_REMOVED",
     "REASON_AGENT_REMOVED_BY_OPERATOR", "REASON_AGENT_REREGISTERED", "REASON_AGENT_RESTARTED",
     "REASON_AGENT_UNKNOWN", "REASON_TASK_KILLED_DURING_LAUNCH", "REASON_TASK_CHECK_STATUS_UPDATED",
     "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED", "REASON_TASK_GROUP_INVALID",
     "REASON_TASK_GROUP_UNAUTHORIZED", "REASON_TASK_INVALID", "REASON_TASK_UNAUTHORIZED",
     "REASON_TASK_UNKNOWN");
ENUM(pb__e_fw_capability, "UNKNOWN", "REVOCABLE_RESOURCES", "TASK_KILLING_STATE", "GPU_RESOURCES",
     "SHARED_RESOURCES", "PARTITION_AWARE", "MULTI_ROLE", "RESERVATION_REFINEMENT", "REGION_AWARE");
ENUM(pb__e_value_type, "SCALAR", "RANGES", "SET", "TEXT");
ENUM(pb__e_reservation_type, "UNKNOWN", "STATIC", "DYNAMIC");
ENUM(pb__e_container_type, "DOCKER", "MESOS");
ENUM(pb__e_image_type, "APPC", "DOCKER");
ENUM(pb__e_health_check_type, "UNKNOWN", "COMMAND", "HTTP", "TCP");
ENUM(pb__e_operation_type, "UNKNOWN", "LAUNCH", "LAUNCH_GROUP", "RESERVE", "UNRESERVE", "CREATE",
     "DESTROY", "GROW_VOLUME", "SHRINK_VOLUME", "CREATE_DISK", "DESTROY_DISK");
ENUM(pb__e_call_type, "UNKNOWN", "SUBSCRIBE", "TEARDOWN", "ACCEPT", "DECLINE",
     "ACCEPT_INVERSE_OFFERS", "DECLINE_INVERSE_OFFERS", "REVIVE", "KILL", "SHUTDOWN", "ACKNOWLEDGE",
     "ACKNOWLEDGE_OPERATION_STATUS", "RECONCILE", "RECONCILE_OPERATIONS", "MESSAGE", "REQUEST",
     "SUPPRESS", "UPDATE_FRAMEWORK");
ENUM(pb__e_event_type, "UNKNOWN", "SUBSCRIBED", "OFFERS", "INVERSE_OFFERS", "RESCIND",
     "RESCIND_INVERSE_OFFER", "UPDATE", "UPDATE_OPERATION_STATUS", "MESSAGE", "FAILURE", "ERROR",
     "HEARTBEAT");
ENUM(pb__e_operator_call_type, "UNKNOWN", "GET_HEALTH", "GET_FLAGS", "GET_VERSION", "GET_METRICS",
     "GET_LOGGING_LEVEL", "SET_LOGGING_LEVEL", "LIST_FILES", "READ_FILE", "GET_STATE", "GET_AGENTS",
     "GET_FRAMEWORKS", "GET_EXECUTORS", "GET_OPERATIONS", "GET_TASKS", "GET_ROLES", "GET_WEIGHTS",
     "UPDATE_WEIGHTS", "GET_MASTER", "SUBSCRIBE", "RESERVE_RESOURCES", "UNRESERVE_RESOURCES",
     "CREATE_VOLUMES", "DESTROY_VOLUMES", "GROW_VOLUME", "SHRINK_VOLUME", "GET_MAINTENANCE_STATUS",
     "GET_MAINTENANCE_SCHEDULE", "UPDATE_MAINTENANCE_SCHEDULE", "START_MAINTENANCE",
     "STOP_MAINTENANCE", "DRAIN_AGENT", "DEACTIVATE_AGENT", "REACTIVATE_AGENT", "GET_QUOTA",
     "UPDATE_QUOTA", "SET_QUOTA", "REMOVE_QUOTA", "TEARDOWN", "MARK_AGENT_GONE",
     /* agora's extension (docs/operator-api.md) */
     "KILL_TASK");
ENUM(pb__e_operator_event_type, "UNKNOWN", "SUBSCRIBED", "TASK_ADDED", "TASK_UPDATED",
     "AGENT_ADDED", "AGENT_REMOVED", "FRAMEWORK_ADDED", "FRAMEWORK_UPDATED", "FRAMEWORK_REMOVED",
     "HEARTBEAT");
ENUM(pb__e_agent_msg_type, "UNKNOWN", "REGISTER", "REREGISTER", "STATUS_UPDATE", "HEARTBEAT",
     "REGISTERED", "RUN_TASK", "KILL_TASK", "STATUS_UPDATE_ACK", "SHUTDOWN_FRAMEWORK", "ERROR",
     "STATUS_UPDATES", "FRAMEWORK_MESSAGE", "SHUTDOWN_EXECUTOR", "EXECUTOR_MESSAGE",
     "EXECUTOR_EXITED");
ENUM(pb__e_executor_call_type, "UNKNOWN", "SUBSCRIBE", "UPDATE", "MESSAGE", "HEARTBEAT");

LOCAL_ENUM(e_env_type, "UNKNOWN", "VALUE", "SECRET");
LOCAL_ENUM(e_volume_mode, "RW", "RO");
LOCAL_ENUM(e_volume_source_type, "UNKNOWN", "DOCKER_VOLUME", "HOST_PATH", "SANDBOX_PATH", "SECRET",
           "CSI_VOLUME");
LOCAL_ENUM(e_sandbox_type, "UNKNOWN", "SELF", "PARENT");
LOCAL_ENUM(e_docker_network, "HOST", "BRIDGE", "NONE", "USER");
LOCAL_ENUM(e_ip_protocol, "IPv4", "IPv6");
LOCAL_ENUM(e_ipc_mode, "UNKNOWN", "PRIVATE", "SHARE_PARENT");
LOCAL_ENUM(e_executor_type, "UNKNOWN", "DEFAULT", "CUSTOM");
LOCAL_ENUM(e_master_capability, "UNKNOWN", "AGENT_UPDATE", "AGENT_DRAINING", "QUOTA_V2");
/* CapabilityInfo.Capability: Linux capabilities without "CAP_". */
LOCAL_ENUM(e_linux_capability, "UNKNOWN", "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER",
           "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE",
           "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE",
           "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT",
           "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE",
           "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
           "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE");
LOCAL_ENUM(e_rlimit_type, "UNKNOWN", "RLMT_AS", "RLMT_CORE", "RLMT_CPU", "RLMT_DATA", "RLMT_FSIZE",
           "RLMT_LOCKS", "RLMT_MEMLOCK", "RLMT_MSGQUEUE", "RLMT_NICE", "RLMT_NOFILE", "RLMT_NPROC",
           "RLMT_RSS", "RLMT_RTPRIO", "RLMT_RTTIME", "RLMT_SIGPENDING", "RLMT_STACK");

/* ---- field macros ---- */

#define R PB__REQ
#define N PB__REP
#define F_STR(n, fl)                                                                               \
	{                                                                                          \
		n, PB__STRING, fl, NULL, NULL                                                      \
	}
#define F_BYTES(n, fl)                                                                             \
	{                                                                                          \
		n, PB__BYTES, fl, NULL, NULL                                                       \
	}
#define F_BOOL(n, fl)                                                                              \
	{                                                                                          \
		n, PB__BOOL, fl, NULL, NULL                                                        \
	}
#define F_I32(n, fl)                                                                               \
	{                                                                                          \
		n, PB__INT32, fl, NULL, NULL                                                       \
	}
#define F_I64(n, fl)                                                                               \
	{                                                                                          \
		n, PB__INT64, fl, NULL, NULL                                                       \
	}
#define F_U32(n, fl)                                                                               \
	{                                                                                          \
		n, PB__UINT32, fl, NULL, NULL                                                      \
	}
#define F_U64(n, fl)                                                                               \
	{                                                                                          \
		n, PB__UINT64, fl, NULL, NULL                                                      \
	}
#define F_DBL(n, fl)                                                                               \
	{                                                                                          \
		n, PB__DOUBLE, fl, NULL, NULL                                                      \
	}
#define F_ENUM(n, fl, e)                                                                           \
	{                                                                                          \
		n, PB__ENUM, fl, NULL, &(e)                                                        \
	}
#define F_MSG(n, fl, m)                                                                            \
	{                                                                                          \
		n, PB__MSG, fl, &(m), NULL                                                         \
	}
#define F_MAP(n, m)                                                                                \
	{                                                                                          \
		n, PB__MAP, 0, &(m), NULL                                                          \
	}
#define F_RAW(n, fl)                                                                               \
	{                                                                                          \
		n, PB__RAW, fl, NULL, NULL                                                         \
	}
#define F_END                                                                                      \
	{                                                                                          \
		NULL, 0, 0, NULL, NULL                                                             \
	}

#define MSG(var, ...)                                                                              \
	static const struct pb__field var##_fields[] = {__VA_ARGS__, F_END};                       \
	static const struct pb__msg var = {#var, var##_fields}
#define PUBLIC_MSG(var, ...)                                                                       \
	static const struct pb__field var##_fields[] = {__VA_ARGS__, F_END};                       \
	const struct pb__msg var = {#var, var##_fields}

/* ---- shared types ---- */

MSG(m_id, F_STR("value", R | PB__ID));
/* FrameworkInfo.id and Call.framework_id: "" asks for a new framework. */
MSG(m_fw_id, F_STR("value", R | PB__ID | PB__ID_EMPTY));
static const struct pb__msg m_container_id;
MSG(m_container_id, F_STR("value", R | PB__ID), F_MSG("parent", 0, m_container_id));
MSG(m_scalar, F_DBL("value", R));
MSG(m_range, F_U64("begin", R), F_U64("end", R));
MSG(m_ranges, F_MSG("range", N, m_range));
MSG(m_set, F_STR("item", N));
MSG(m_text, F_STR("value", R));
MSG(m_label, F_STR("key", R), F_STR("value", 0));
MSG(m_labels, F_MSG("labels", N, m_label));
MSG(m_time, F_I64("nanoseconds", R));
MSG(m_allocation_info, F_STR("role", 0));
MSG(m_reservation, F_ENUM("type", 0, pb__e_reservation_type), F_STR("role", 0),
    F_STR("principal", 0), F_MSG("labels", 0, m_labels));
MSG(m_resource, F_STR("name", R), F_ENUM("type", R, pb__e_value_type), F_MSG("scalar", 0, m_scalar),
    F_MSG("ranges", 0, m_ranges), F_MSG("set", 0, m_set), F_STR("role", 0),
    F_MSG("reservation", 0, m_reservation), F_RAW("disk", 0), F_RAW("revocable", 0),
    F_RAW("shared", 0), F_MSG("allocation_info", 0, m_allocation_info),
    F_MSG("reservations", N, m_reservation), F_MSG("provider_id", 0, m_id));
MSG(m_attribute, F_STR("name", R), F_ENUM("type", R, pb__e_value_type),
    F_MSG("scalar", 0, m_scalar), F_MSG("ranges", 0, m_ranges), F_MSG("set", 0, m_set),
    F_MSG("text", 0, m_text));
MSG(m_kill_policy, F_MSG("grace_period", 0, m_time));
MSG(m_filters, F_DBL("refuse_seconds", 0));

/* CommandInfo */
MSG(m_env_var, F_STR("name", R), F_ENUM("type", 0, e_env_type), F_STR("value", 0),
    F_RAW("secret", 0));
MSG(m_environment, F_MSG("variables", N, m_env_var));
MSG(m_uri, F_STR("value", R), F_BOOL("executable", 0), F_BOOL("extract", 0), F_BOOL("cache", 0),
    F_STR("output_file", 0));
MSG(m_command, F_MSG("uris", N, m_uri), F_MSG("environment", 0, m_environment), F_BOOL("shell", 0),
    F_STR("value", 0), F_STR("arguments", N), F_STR("user", 0));

/* ContainerInfo */
MSG(m_named, F_STR("name", R), F_STR("id", 0), F_MSG("labels", 0, m_labels));
MSG(m_docker_image, F_STR("name", R), F_RAW("credential", 0), F_RAW("config", 0));
MSG(m_image, F_ENUM("type", R, pb__e_image_type), F_MSG("appc", 0, m_named),
    F_MSG("docker", 0, m_docker_image), F_BOOL("cached", 0));
MSG(m_host_path, F_STR("path", R), F_RAW("mount_propagation", 0));
MSG(m_sandbox_path, F_ENUM("type", 0, e_sandbox_type), F_STR("path", R));
MSG(m_volume_source, F_ENUM("type", 0, e_volume_source_type), F_RAW("docker_volume", 0),
    F_MSG("host_path", 0, m_host_path), F_MSG("sandbox_path", 0, m_sandbox_path),
    F_RAW("secret", 0), F_RAW("csi_volume", 0));
MSG(m_volume, F_STR("container_path", R), F_STR("host_path", 0), F_ENUM("mode", R, e_volume_mode),
    F_MSG("image", 0, m_image), F_MSG("source", 0, m_volume_source));
MSG(m_port_mapping, F_U32("host_port", R), F_U32("container_port", R), F_STR("protocol", 0));
MSG(m_parameter, F_STR("key", R), F_STR("value", R));
MSG(m_docker_info, F_STR("image", R), F_ENUM("network", 0, e_docker_network),
    F_MSG("port_mappings", N, m_port_mapping), F_BOOL("privileged", 0),
    F_MSG("parameters", N, m_parameter), F_BOOL("force_pull_image", 0));
MSG(m_mesos_info, F_MSG("image", 0, m_image));
MSG(m_ip_address, F_ENUM("protocol", 0, e_ip_protocol), F_STR("ip_address", 0));
MSG(m_network_info, F_MSG("ip_addresses", N, m_ip_address), F_STR("name", 0), F_STR("groups", N),
    F_MSG("labels", 0, m_labels), F_MSG("port_mappings", N, m_port_mapping));
MSG(m_capability_info, F_ENUM("capabilities", N, e_linux_capability));
MSG(m_seccomp, F_STR("profile_name", 0), F_BOOL("unconfined", 0));
MSG(m_linux_info, F_MSG("capability_info", 0, m_capability_info),
    F_MSG("bounding_capabilities", 0, m_capability_info),
    F_MSG("effective_capabilities", 0, m_capability_info), F_BOOL("share_pid_namespace", 0),
    F_MSG("seccomp", 0, m_seccomp), F_ENUM("ipc_mode", 0, e_ipc_mode), F_U32("shm_size", 0),
    F_BOOL("share_cgroups", 0));
MSG(m_rlimit, F_ENUM("type", 0, e_rlimit_type), F_U64("hard", PB__U64_FULL),
    F_U64("soft", PB__U64_FULL));
MSG(m_rlimit_info, F_MSG("rlimits", N, m_rlimit));
MSG(m_window_size, F_U32("rows", R), F_U32("columns", R));
MSG(m_tty_info, F_MSG("window_size", 0, m_window_size));
MSG(m_container, F_ENUM("type", R, pb__e_container_type), F_MSG("volumes", N, m_volume),
    F_STR("hostname", 0), F_MSG("docker", 0, m_docker_info), F_MSG("mesos", 0, m_mesos_info),
    F_MSG("network_infos", N, m_network_info), F_MSG("linux_info", 0, m_linux_info),
    F_MSG("rlimit_info", 0, m_rlimit_info), F_MSG("tty_info", 0, m_tty_info), F_RAW("oci", 0));

/* HealthCheck */
MSG(m_http_check, F_STR("scheme", 0), F_U32("port", R), F_STR("path", 0), F_U32("statuses", N));
MSG(m_tcp_check, F_U32("port", R));
MSG(m_health_check, F_DBL("delay_seconds", 0), F_DBL("interval_seconds", 0),
    F_DBL("timeout_seconds", 0), F_U32("consecutive_failures", 0), F_DBL("grace_period_seconds", 0),
    F_ENUM("type", 0, pb__e_health_check_type), F_MSG("command", 0, m_command),
    F_MSG("http", 0, m_http_check), F_MSG("tcp", 0, m_tcp_check));

MSG(m_executor, F_ENUM("type", 0, e_executor_type), F_MSG("executor_id", R, m_id),
    F_MSG("framework_id", 0, m_id), F_MSG("command", 0, m_command),
    F_MSG("container", 0, m_container), F_MSG("resources", N, m_resource), F_STR("name", 0),
    F_STR("source", 0), F_BYTES("data", 0), F_RAW("discovery", 0),
    F_MSG("shutdown_grace_period", 0, m_time), F_MSG("labels", 0, m_labels));

PUBLIC_MSG(pb__m_task_info, F_STR("name", R), F_MSG("task_id", R, m_id), F_MSG("agent_id", R, m_id),
           F_MSG("resources", N, m_resource), F_MSG("executor", 0, m_executor),
           F_MSG("command", 0, m_command), F_MSG("container", 0, m_container), F_BYTES("data", 0),
           F_MSG("health_check", 0, m_health_check), F_RAW("check", 0),
           F_MSG("kill_policy", 0, m_kill_policy), F_MSG("labels", 0, m_labels),
           F_RAW("discovery", 0), F_MSG("max_completion_time", 0, m_time),
           F_MAP("limits", m_scalar));

MSG(m_container_status, F_MSG("container_id", 0, m_container_id),
    F_MSG("network_infos", N, m_network_info), F_RAW("cgroup_info", 0), F_U32("executor_pid", 0));
PUBLIC_MSG(pb__m_task_status, F_MSG("task_id", R, m_id), F_ENUM("state", R, pb__e_task_state),
           F_STR("message", 0), F_ENUM("source", 0, pb__e_source),
           F_ENUM("reason", 0, pb__e_reason), F_BYTES("data", 0), F_MSG("agent_id", 0, m_id),
           F_MSG("executor_id", 0, m_id), F_DBL("timestamp", 0), F_BYTES("uuid", 0),
           F_BOOL("healthy", 0), F_RAW("check_status", 0), F_MSG("labels", 0, m_labels),
           F_MSG("container_status", 0, m_container_status), F_MSG("unreachable_time", 0, m_time),
           F_RAW("limitation", 0));

MSG(m_fw_capability, F_ENUM("type", 0, pb__e_fw_capability));
MSG(m_offer_filters, F_RAW("min_allocatable_resources", 0));
PUBLIC_MSG(pb__m_framework_info, F_STR("user", R), F_STR("name", R), F_MSG("id", 0, m_fw_id),
           F_DBL("failover_timeout", 0), F_BOOL("checkpoint", 0), F_STR("role", 0),
           F_STR("roles", N), F_STR("hostname", 0), F_STR("principal", 0), F_STR("webui_url", 0),
           F_MSG("capabilities", N, m_fw_capability), F_MSG("labels", 0, m_labels),
           F_MAP("offer_filters", m_offer_filters));

MSG(m_address, F_STR("hostname", 0), F_STR("ip", 0), F_I32("port", R));
MSG(m_url, F_STR("scheme", R), F_MSG("address", R, m_address), F_STR("path", 0), F_RAW("query", 0),
    F_STR("fragment", 0));
MSG(m_master_capability, F_ENUM("type", 0, e_master_capability));
MSG(m_master_info, F_STR("id", R), F_U32("ip", R), F_U32("port", R), F_STR("pid", 0),
    F_STR("hostname", 0), F_STR("version", 0), F_MSG("address", 0, m_address), F_RAW("domain", 0),
    F_MSG("capabilities", N, m_master_capability));
MSG(m_agent_info, F_STR("hostname", R), F_I32("port", 0), F_MSG("resources", N, m_resource),
    F_MSG("attributes", N, m_attribute), F_MSG("id", 0, m_id), F_RAW("domain", 0));
MSG(m_offer, F_MSG("id", R, m_id), F_MSG("framework_id", R, m_id), F_MSG("agent_id", R, m_id),
    F_STR("hostname", R), F_MSG("url", 0, m_url), F_RAW("domain", 0),
    F_MSG("resources", N, m_resource), F_MSG("attributes", N, m_attribute),
    F_MSG("executor_ids", N, m_id), F_RAW("unavailability", 0),
    F_MSG("allocation_info", 0, m_allocation_info));

/* ---- scheduler Call ---- */

MSG(m_launch, F_MSG("task_infos", N, pb__m_task_info));
MSG(m_task_group, F_MSG("tasks", N, pb__m_task_info));
MSG(m_launch_group, F_MSG("executor", R, m_executor), F_MSG("task_group", R, m_task_group));
MSG(m_operation, F_ENUM("type", 0, pb__e_operation_type), F_MSG("id", 0, m_id),
    F_MSG("launch", 0, m_launch), F_MSG("launch_group", 0, m_launch_group), F_RAW("reserve", 0),
    F_RAW("unreserve", 0), F_RAW("create", 0), F_RAW("destroy", 0), F_RAW("grow_volume", 0),
    F_RAW("shrink_volume", 0), F_RAW("create_disk", 0), F_RAW("destroy_disk", 0));
MSG(m_subscribe, F_MSG("framework_info", R, pb__m_framework_info), F_STR("suppressed_roles", N),
    F_RAW("offer_constraints", 0));
MSG(m_accept, F_MSG("offer_ids", N, m_id), F_MSG("operations", N, m_operation),
    F_MSG("filters", 0, m_filters));
MSG(m_decline, F_MSG("offer_ids", N, m_id), F_MSG("filters", 0, m_filters));
MSG(m_roles, F_STR("roles", N));
MSG(m_kill, F_MSG("task_id", R, m_id), F_MSG("agent_id", 0, m_id),
    F_MSG("kill_policy", 0, m_kill_policy));
MSG(m_shutdown, F_MSG("executor_id", R, m_id), F_MSG("agent_id", R, m_id));
MSG(m_acknowledge, F_MSG("agent_id", R, m_id), F_MSG("task_id", R, m_id), F_BYTES("uuid", R));
MSG(m_reconcile_task, F_MSG("task_id", R, m_id), F_MSG("agent_id", 0, m_id));
MSG(m_reconcile, F_MSG("tasks", N, m_reconcile_task));
MSG(m_call_message, F_MSG("agent_id", R, m_id), F_MSG("executor_id", R, m_id), F_BYTES("data", R));
MSG(m_request_entry, F_MSG("agent_id", 0, m_id), F_MSG("resources", N, m_resource));
MSG(m_request, F_MSG("requests", N, m_request_entry));

PUBLIC_MSG(pb__m_call, F_MSG("framework_id", 0, m_fw_id), F_ENUM("type", 0, pb__e_call_type),
           F_MSG("subscribe", 0, m_subscribe), F_MSG("accept", 0, m_accept),
           F_MSG("decline", 0, m_decline), F_RAW("accept_inverse_offers", 0),
           F_RAW("decline_inverse_offers", 0), F_MSG("revive", 0, m_roles),
           F_MSG("kill", 0, m_kill), F_MSG("shutdown", 0, m_shutdown),
           F_MSG("acknowledge", 0, m_acknowledge), F_RAW("acknowledge_operation_status", 0),
           F_MSG("reconcile", 0, m_reconcile), F_RAW("reconcile_operations", 0),
           F_MSG("message", 0, m_call_message), F_MSG("request", 0, m_request),
           F_MSG("suppress", 0, m_roles), F_MSG("update_framework", 0, m_subscribe));

/* ---- scheduler Event ---- */

MSG(m_subscribed, F_MSG("framework_id", R, m_id), F_DBL("heartbeat_interval_seconds", 0),
    F_MSG("master_info", 0, m_master_info));
MSG(m_offers, F_MSG("offers", N, m_offer), F_RAW("inverse_offers", 0));
MSG(m_rescind, F_MSG("offer_id", R, m_id));
MSG(m_update, F_MSG("status", R, pb__m_task_status));
MSG(m_failure, F_MSG("agent_id", 0, m_id), F_MSG("executor_id", 0, m_id), F_I32("status", 0));
MSG(m_error, F_STR("message", R));

PUBLIC_MSG(pb__m_event, F_ENUM("type", 0, pb__e_event_type), F_MSG("subscribed", 0, m_subscribed),
           F_MSG("offers", 0, m_offers), F_RAW("inverse_offers", 0), F_MSG("rescind", 0, m_rescind),
           F_RAW("rescind_inverse_offer", 0), F_MSG("update", 0, m_update),
           F_RAW("update_operation_status", 0), F_MSG("message", 0, m_call_message),
           F_MSG("failure", 0, m_failure), F_MSG("error", 0, m_error));

/* ---- operator Call (only the payloads of the subset are checked) ---- */

MSG(m_weight_info, F_DBL("weight", R), F_STR("role", 0));
MSG(m_update_weights, F_MSG("weight_infos", N, m_weight_info));
MSG(m_op_teardown, F_MSG("framework_id", R, m_id));
MSG(m_op_mark_agent_gone, F_MSG("agent_id", R, m_id));
/* google.protobuf.Duration, as stout's JSON writes any message. */
MSG(m_pb_duration, F_I64("seconds", 0), F_I32("nanos", 0));
MSG(m_op_drain_agent, F_MSG("agent_id", R, m_id), F_MSG("max_grace_period", 0, m_pb_duration),
    F_BOOL("mark_gone", 0));
MSG(m_op_agent_id, F_MSG("agent_id", R, m_id));
MSG(m_op_kill_task, F_MSG("task_id", R, m_id), F_MSG("framework_id", 0, m_id),
    F_MSG("agent_id", 0, m_id), F_MSG("kill_policy", 0, m_kill_policy));

PUBLIC_MSG(pb__m_operator_call, F_ENUM("type", 0, pb__e_operator_call_type),
           F_MSG("update_weights", 0, m_update_weights), F_MSG("teardown", 0, m_op_teardown),
           F_MSG("mark_agent_gone", 0, m_op_mark_agent_gone),
           F_MSG("drain_agent", 0, m_op_drain_agent), F_MSG("deactivate_agent", 0, m_op_agent_id),
           F_MSG("reactivate_agent", 0, m_op_agent_id), F_MSG("kill_task", 0, m_op_kill_task));

/* ---- agora's agent protocol (docs/agent-protocol.md) ---- */

MSG(m_agent_task, F_MSG("framework_id", R, m_id), F_MSG("task", R, pb__m_task_info),
    F_MSG("status", R, pb__m_task_status), F_BOOL("unacknowledged", 0));
MSG(m_registration_order, F_U64("agent_started_ns", R), F_U64("seq", R));
MSG(m_register, F_MSG("agent_info", R, m_agent_info), F_STR("version", 0), F_BOOL("unisolated", 0),
    F_MSG("frameworks", N, pb__m_framework_info), F_MSG("tasks", N, m_agent_task),
    F_MSG("registration_order", 0, m_registration_order));
MSG(m_registered, F_MSG("agent_id", R, m_id), F_DBL("heartbeat_interval_seconds", 0),
    F_MSG("master_info", 0, m_master_info), F_STR("agent_secret", 0));
MSG(m_run_task, F_MSG("framework_info", R, pb__m_framework_info),
    F_MSG("task", R, pb__m_task_info));
MSG(m_kill_task, F_MSG("framework_id", R, m_id), F_MSG("task_id", R, m_id),
    F_MSG("kill_policy", 0, m_kill_policy));
MSG(m_status_update, F_MSG("framework_id", R, m_id), F_MSG("status", R, pb__m_task_status));
MSG(m_status_updates, F_MSG("updates", R | N, m_status_update));
MSG(m_status_update_ack, F_MSG("framework_id", R, m_id), F_MSG("task_id", R, m_id),
    F_BYTES("uuid", R));
MSG(m_shutdown_framework, F_MSG("framework_id", R, m_id));
/* framework_message (master -> agent), executor_message (agent -> master) */
MSG(m_executor_message, F_MSG("framework_id", R, m_id), F_MSG("executor_id", R, m_id),
    F_BYTES("data", R));
MSG(m_shutdown_executor, F_MSG("framework_id", R, m_id), F_MSG("executor_id", R, m_id));
MSG(m_executor_exited, F_MSG("framework_id", R, m_id), F_MSG("executor_id", R, m_id),
    F_I32("status", 0));

PUBLIC_MSG(pb__m_agent_msg, F_ENUM("type", 0, pb__e_agent_msg_type), F_MSG("agent_id", 0, m_id),
           F_MSG("register", 0, m_register), F_MSG("reregister", 0, m_register),
           F_MSG("registered", 0, m_registered), F_MSG("run_task", 0, m_run_task),
           F_MSG("kill_task", 0, m_kill_task), F_MSG("status_update", 0, m_status_update),
           F_MSG("status_update_ack", 0, m_status_update_ack),
           F_MSG("shutdown_framework", 0, m_shutdown_framework), F_MSG("error", 0, m_error),
           F_MSG("status_updates", 0, m_status_updates),
           F_MSG("framework_message", 0, m_executor_message),
           F_MSG("shutdown_executor", 0, m_shutdown_executor),
           F_MSG("executor_message", 0, m_executor_message),
           F_MSG("executor_exited", 0, m_executor_exited));

/* ---- executor Call (mesos/v1/executor/executor.proto) ---- */

MSG(m_exec_update, F_MSG("status", R, pb__m_task_status));
MSG(m_exec_subscribe, F_MSG("unacknowledged_tasks", N, pb__m_task_info),
    F_MSG("unacknowledged_updates", N, m_exec_update));
MSG(m_exec_message, F_BYTES("data", R));

PUBLIC_MSG(pb__m_executor_call, F_MSG("executor_id", R, m_id), F_MSG("framework_id", R, m_id),
           F_ENUM("type", 0, pb__e_executor_call_type), F_MSG("subscribe", 0, m_exec_subscribe),
           F_MSG("update", 0, m_exec_update), F_MSG("message", 0, m_exec_message));
