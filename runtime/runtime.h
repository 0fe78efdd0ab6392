/* runtime.h: agora's container runtime: the OCI runtime-spec task spec as a
 * validated C struct, and the container lifecycle (create, start, state,
 * kill, delete, exec, pause/resume, stats) used by agora-run and the agent.
 *
 * Conventions: functions return 0 or -errno; those whose failures a user
 * reads take `struct ag_error *err` (may be NULL), filled on failure with a
 * message naming the JSON path, syscall or file and the reason.
 */
#ifndef AGORA_RUNTIME_H
#define AGORA_RUNTIME_H

#include "common/common.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* ======================================================================
 * The spec (OCI runtime-spec config.json, Linux subset)
 * ====================================================================== */

/* Sizes of the parser's limits: a spec over these is rejected, not cut. */
#define RT_SPEC_MAX_BYTES (4u << 20)

struct rt_user {
	uint32_t uid;
	uint32_t gid;
	uint32_t *additional_gids;
	size_t n_additional_gids;
	bool has_umask;
	uint32_t umask;
};

struct rt_rlimit {
	int resource; /* RLIMIT_* */
	uint64_t soft;
	uint64_t hard;
};

/* Capability sets as bitmasks of CAP_* numbers (bit n = capability n). */
struct rt_caps {
	uint64_t bounding;
	uint64_t effective;
	uint64_t inheritable;
	uint64_t permitted;
	uint64_t ambient;
};

struct rt_process {
	char **args; /* NULL-terminated, n_args >= 1 */
	size_t n_args;
	char **env; /* NULL-terminated "K=V" */
	size_t n_env;
	char *cwd; /* absolute */
	struct rt_user user;
	bool has_caps; /* absent: no capabilities at all */
	struct rt_caps caps;
	struct rt_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	bool has_oom_score_adj;
	int oom_score_adj;
	bool terminal;
	bool has_console_size; /* consoleSize, applied to the terminal */
	uint16_t console_rows, console_cols;
};

/* Propagation flags are kept apart from the mount flags: they need a second
 * mount(2) call after the first. */
struct rt_mount {
	char *destination;         /* absolute path inside the container */
	char *type;                /* may be NULL for bind mounts */
	char *source;              /* may be NULL */
	unsigned long flags;       /* MS_* set by options (MS_BIND, MS_REC, MS_RDONLY, ...) */
	unsigned long clear_flags; /* MS_* cleared by options ("rw", "suid", ...) */
	unsigned long propagation; /* MS_PRIVATE / MS_SLAVE / MS_SHARED / MS_UNBINDABLE | MS_REC */
	char *data;                /* the options not understood as flags, comma-joined, or NULL */
	bool recursive_ro;         /* "rro": read-only applied to every submount too */
};

enum rt_ns_type {
	RT_NS_PID,
	RT_NS_NETWORK,
	RT_NS_MOUNT,
	RT_NS_IPC,
	RT_NS_UTS,
	RT_NS_USER,
	RT_NS_CGROUP,
	RT_NS_COUNT
};

struct rt_namespace {
	bool enabled; /* listed in linux.namespaces */
	char *path;   /* join this namespace instead of creating one; NULL = new */
};

struct rt_id_mapping {
	uint32_t container_id;
	uint32_t host_id;
	uint32_t size;
};

/* Optional values are a has_ flag plus the value. Memory values are bytes;
 * -1 means "unlimited" where the OCI spec allows it. */
struct rt_resources_memory {
	bool has_limit, has_reservation, has_swap;
	int64_t limit, reservation, swap;
};

struct rt_resources_cpu {
	bool has_quota, has_period, has_shares;
	int64_t quota;   /* -1: no limit */
	uint64_t period; /* µs */
	uint64_t shares; /* cgroup v1 shares, mapped to cpu.weight */
	char *cpus;      /* cpuset.cpus list, or NULL */
	char *mems;      /* cpuset.mems list, or NULL */
	bool has_burst, has_idle;
	uint64_t burst; /* µs, cpu.max.burst */
	int64_t idle;   /* 0 or 1, cpu.idle */
};

enum rt_throttle_kind {
	RT_THROTTLE_READ_BPS,
	RT_THROTTLE_WRITE_BPS,
	RT_THROTTLE_READ_IOPS,
	RT_THROTTLE_WRITE_IOPS,
};

struct rt_throttle {
	enum rt_throttle_kind kind;
	int64_t major, minor;
	uint64_t rate;
};

/* A device node from linux.devices, created in the container's /dev. */
struct rt_device {
	char *path;            /* absolute, under /dev/, no ".." */
	mode_t type;           /* S_IFCHR ("c", "u"), S_IFBLK ("b") or S_IFIFO ("p") */
	uint32_t major, minor; /* 0 for a fifo */
	uint32_t mode;         /* permission bits (fileMode); 0666 when not given */
	uint32_t uid, gid;
};

/* linux.personality: the execution domain set with personality(2). */
struct rt_personality {
	bool set;
	unsigned long persona; /* PER_LINUX or PER_LINUX32, with the flags */
};

struct rt_kv {
	char *key;
	char *value;
};

/* One rule of linux.resources.devices. Rules are evaluated last to first
 * for each access bit asked for; the first rule that names the device and
 * the bit decides it (runc's and crun's "later rules override earlier
 * ones"); a bit no rule decides is denied. */
struct rt_dev_rule {
	bool allow;
	char type;            /* 'a' (any), 'b' or 'c' */
	int32_t major, minor; /* -1: any */
	unsigned access;      /* RT_DEV_ACC_* mask, never 0 */
};

/* The access bits of a device rule (the kernel's BPF_DEVCG_ACC_* values). */
enum {
	RT_DEV_ACC_MKNOD = 1,
	RT_DEV_ACC_READ = 2,
	RT_DEV_ACC_WRITE = 4,
	RT_DEV_ACC_ALL = 7,
};

/* linux.resources.hugepageLimits[]: hugetlb.<size>.max. */
struct rt_hugepage_limit {
	char *page_size; /* "2MB", "1GB": the kernel's file name part */
	uint64_t limit;  /* bytes */
};

struct rt_resources {
	struct rt_resources_memory memory;
	struct rt_resources_cpu cpu;
	bool has_pids_limit;
	int64_t pids_limit; /* -1 or 0: unlimited */
	bool has_blkio_weight;
	uint16_t blkio_weight; /* 10..1000 (v1 scale), mapped to io.weight */
	struct rt_throttle *throttles;
	size_t n_throttles;
	struct rt_kv *unified; /* cgroup v2 file -> value */
	size_t n_unified;
	bool has_devices; /* linux.resources.devices given (even empty) */
	struct rt_dev_rule *dev_rules;
	size_t n_dev_rules;
	struct rt_hugepage_limit *hugepages;
	size_t n_hugepages;
};

/* Seccomp actions, errno and operators are the libseccomp numbers
 * (SCMP_ACT_*, SCMP_CMP_*), already checked by the parser. */
struct rt_seccomp_arg {
	unsigned index;
	uint64_t value;
	uint64_t value_two;
	int op; /* enum scmp_compare */
};

struct rt_seccomp_rule {
	char **names;
	size_t n_names;
	uint32_t action;
	struct rt_seccomp_arg *args;
	size_t n_args;
};

struct rt_seccomp {
	uint32_t default_action;
	uint32_t *arches; /* SCMP_ARCH_* */
	size_t n_arches;
	struct rt_seccomp_rule *rules;
	size_t n_rules;
	unsigned flags; /* SECCOMP_FILTER_FLAG_* requested */
	/* The profile in a compact binary canonical form, built from the
	 * fields above (so profiles that differ only in JSON key order or
	 * spacing are the same), and its 64-bit FNV-1a hash: the key of the
	 * compiled filter cache. The bytes are compared too, so a hash
	 * collision cannot hand one container another's filter. */
	unsigned char *canonical;
	size_t canonical_len;
	uint64_t hash;
};

struct rt_hook {
	char *path;
	char **args; /* NULL-terminated, may be NULL */
	char **env;  /* NULL-terminated, may be NULL */
	int timeout; /* seconds, 0 = none */
};

enum rt_hook_kind {
	RT_HOOK_CREATE_RUNTIME,
	RT_HOOK_CREATE_CONTAINER,
	RT_HOOK_START_CONTAINER,
	RT_HOOK_POSTSTART,
	RT_HOOK_POSTSTOP,
	RT_HOOK_PRESTART, /* deprecated by the spec: run just before createRuntime */
	RT_HOOK_COUNT
};

struct rt_hooks {
	struct rt_hook *list[RT_HOOK_COUNT];
	size_t n[RT_HOOK_COUNT];
};

struct rt_spec {
	char *oci_version;
	/* OCI: process is OPTIONAL in config.json and REQUIRED for start:
	 * without one, create makes the container (its init waits as usual)
	 * and start fails naming `process`; run refuses the spec. */
	bool has_process;
	struct rt_process process; /* all zero without has_process */
	char *root_path;           /* absolute, resolved against the bundle */
	bool root_readonly;
	char *hostname; /* NULL: not set */
	struct rt_mount *mounts;
	size_t n_mounts;
	struct rt_namespace ns[RT_NS_COUNT];
	struct rt_id_mapping *uid_mappings;
	size_t n_uid_mappings;
	struct rt_id_mapping *gid_mappings;
	size_t n_gid_mappings;
	bool has_resources;
	struct rt_resources resources;
	char *cgroups_path;         /* NULL: default (<parent>/<id>) */
	struct rt_seccomp *seccomp; /* NULL: no filter */
	char **masked_paths;
	size_t n_masked_paths;
	char **readonly_paths;
	size_t n_readonly_paths;
	struct rt_kv *sysctl;
	size_t n_sysctl;
	struct rt_device *devices;
	size_t n_devices;
	/* MS_SHARED / MS_SLAVE / MS_PRIVATE / MS_UNBINDABLE (| MS_REC) for the
	 * root after pivot_root; 0: not set (all private, no propagation). */
	unsigned long rootfs_propagation;
	struct rt_personality personality;
	struct rt_hooks hooks;
	struct rt_kv *annotations;
	size_t n_annotations;
};

/* Parse and validate a config.json held in memory. Every value is checked
 * before anything is created; the first problem is reported as
 * "<json.path>: <reason>, got <value>" (e.g. `linux.resources.memory.limit:
 * must be a positive integer, got "1g"`). `bundle` (may be NULL) is used to
 * resolve a relative root.path. On success *ret_spec owns everything and is
 * freed with rt_spec_free(). */
AG_WARN_UNUSED int rt_spec_parse(const char *json, size_t len, const char *bundle,
                                 struct rt_spec **ret_spec, struct ag_error *err);

/* Read <bundle>/config.json and parse it (rt_spec_parse). */
AG_WARN_UNUSED int rt_spec_load(const char *bundle, struct rt_spec **ret_spec,
                                struct ag_error *err);

/* Free a spec; NULL and half-built specs are accepted. */
void rt_spec_free(struct rt_spec *spec);

/* Parse an OCI process object on its own (the schema of config.json's
 * "process"), as `agora-run exec --process` reads it: the same parser and
 * checks as rt_spec_parse, errors named from "process" on
 * (`process.user.uid: must be ...`). apparmorProfile and selinuxLabel are
 * type-checked and not applied: this runtime has no LSM support. On success
 * *ret_process owns everything and is freed with rt_process_free(). */
AG_WARN_UNUSED int rt_process_parse(const char *json, size_t len, struct rt_process **ret_process,
                                    struct ag_error *err);

/* Read the file `path` and parse it (rt_process_parse); errors are
 * prefixed with the path. */
AG_WARN_UNUSED int rt_process_load(const char *path, struct rt_process **ret_process,
                                   struct ag_error *err);

/* Free a process from rt_process_parse(); NULL and half-built accepted. */
void rt_process_free(struct rt_process *p);

/* The CAP_* number of `name`, written as in the OCI spec: "CAP_SYS_ADMIN",
 * any case, the prefix required. -EINVAL for anything else. */
AG_WARN_UNUSED int rt_cap_from_name(const char *name);
/* The RLIMIT_* resource an OCI rlimit `type` names (e.g. "RLIMIT_NOFILE"),
 * or -1 for a name the runtime does not know (or NULL). */
AG_WARN_UNUSED int rt_rlimit_from_name(const char *name);

/* The default config.json that `agora-run spec` writes: pid, network, ipc,
 * uts, mount and cgroup namespaces; `sh` as the process; the 14 Docker
 * capabilities; no_new_privs; Docker's masked and read-only paths; the
 * Docker-like default seccomp profile. Returned text is malloc'd. */
char *rt_spec_default_json(void);

/* The JSON of the Docker-like default seccomp profile alone (malloc'd), as
 * found under linux.seccomp in the default spec. */
char *rt_seccomp_default_profile_json(void);

/* Names for enum rt_ns_type ("pid", "network", ...). */
const char *rt_ns_type_name(enum rt_ns_type t);

/* ======================================================================
 * Containers
 * ====================================================================== */

/* How the runtime is run. Zeroed fields take the defaults. */
struct rt_options {
	const char *state_root;    /* per-container state; default /run/agora-run */
	bool cgroups_disabled;     /* --cgroup-manager=disabled: no cgroup at all */
	const char *cgroup_root;   /* cgroup2 mount; default: found by cgroupv2 */
	const char *cgroup_parent; /* parent of containers' cgroups; default "agora" */
	const char *seccomp_cache; /* compiled filter cache; default <state_root>/.seccomp */
	/* An init to exec as the container's pid 1 instead of the process
	 * (the agent's agora-init), when `init_fd` > 0: an executable fd,
	 * best a sealed memfd (nothing on the host is then reachable through
	 * /proc/1/exe). It is exec'd with execveat(AT_EMPTY_PATH) after every
	 * security setting of the process is applied, as
	 *   agora-init STATUS_FD REPORT_FD EXE ARGV0 ARGS...
	 * with the process's environment; STATUS_FD is `init_status_fd` (> 0,
	 * else -1) kept open across that exec, REPORT_FD the exec.fifo channel
	 * for an exec failure. Where the process's seccomp profile refuses
	 * execveat the process is exec'd directly, as without an init. */
	int init_fd;
	int init_status_fd;
	/* With process.terminal: a connected AF_UNIX socket (> 0) to which
	 * the terminal's master is sent (SCM_RIGHTS, with the pty's name as
	 * the data), as the OCI --console-socket. `create` needs one; `run`
	 * without one relays the terminal to its own stdin and stdout. */
	int console_socket;
	/* Where warnings go: what the OCI spec says to log and go on with (a
	 * failing poststart or poststop hook, a deprecated prestart hook).
	 * NULL: stderr, as "warning: MESSAGE". */
	void (*warn)(void *ctx, const char *msg);
	void *warn_ctx;
};

enum rt_status {
	RT_STATUS_CREATING,
	RT_STATUS_CREATED,
	RT_STATUS_RUNNING,
	RT_STATUS_PAUSED,
	RT_STATUS_STOPPED,
};

/* "creating", "created", "running", "paused", "stopped". */
const char *rt_status_name(enum rt_status s);

/* What the runtime knows of one container: its state.json plus the status
 * computed now. Strings are owned; free with rt_state_free_contents(). */
struct rt_state {
	char *id;
	pid_t pid;                /* init process; 0 when it never started */
	uint64_t pid_start_ticks; /* /proc/<pid>/stat starttime: tells pid reuse apart */
	enum rt_status status;
	char *bundle;
	char *rootfs;
	char *cgroup_path; /* relative to the cgroup root, or NULL */
	int64_t created_unix_ns;
	uid_t owner;
	struct rt_kv *annotations;
	size_t n_annotations;
};

void rt_state_free_contents(struct rt_state *st);

/* The OCI state JSON (ociVersion, id, status, pid, bundle, annotations),
 * one line, malloc'd. */
char *rt_state_to_json(const struct rt_state *st);

/* Standard streams for the container's process; -1 inherits the caller's. */
struct rt_stdio {
	int in, out, err;
};
#define RT_STDIO_INHERIT ((struct rt_stdio){-1, -1, -1})

/* Create container `id` from `spec` (loaded from `bundle`): namespaces,
 * cgroup, mounts, pivot_root, security, all done; the process then waits
 * for rt_container_start() before it execs. Nothing is left behind on
 * failure (no cgroup, mount, state directory or process). On success
 * *ret_pid (may be NULL) is the container's init pid as seen by the caller. */
AG_WARN_UNUSED int rt_container_create(const struct rt_options *o, const char *id,
                                       const char *bundle, const struct rt_spec *spec,
                                       const struct rt_stdio *io, pid_t *ret_pid,
                                       struct ag_error *err);

/* Let a created container exec its process; runs the poststart hooks. */
AG_WARN_UNUSED int rt_container_start(const struct rt_options *o, const char *id,
                                      struct ag_error *err);

/* Whether a container was let go to exec its process by a `start` that may
 * not have finished (its caller killed after opening exec.fifo leaves the
 * container reading as created while its program runs). Running or paused:
 * *ret_started is true. Created: the process is looked at (stopped with
 * SIGSTOP for an instant when it seems to wait, so that the answer cannot
 * change while it is read); let go: *ret_started true and exec.fifo is
 * removed, so that the container reads as running (the poststart hooks are
 * not run); still waiting: *ret_started false, nothing changed, and it
 * waits until a start. -ESRCH when its process is gone (stopped: whether
 * it ran cannot be told here) or ends while it is looked at (a process
 * waiting for its start does not end on its own: it was let go and its
 * parent has its status), -EINVAL when it is still being created. */
AG_WARN_UNUSED int rt_container_start_check(const struct rt_options *o, const char *id,
                                            bool *ret_started, struct ag_error *err);

/* How a container's process ended. */
struct rt_exit {
	int status;      /* exit code, or 128 + the signal that killed it */
	bool oom_killed; /* its cgroup saw an OOM kill (memory.events) */
};

/* Create, start and wait: the caller is the container's parent. Signals
 * SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 received meanwhile are
 * forwarded to the container. The container is deleted afterwards. */
AG_WARN_UNUSED int rt_container_run(const struct rt_options *o, const char *id, const char *bundle,
                                    const struct rt_spec *spec, const struct rt_stdio *io,
                                    struct rt_exit *ret, struct ag_error *err);

/* Read the state of container `id` into *ret (status computed now). */
AG_WARN_UNUSED int rt_container_state(const struct rt_options *o, const char *id,
                                      struct rt_state *ret, struct ag_error *err);

/* All containers under the state root, sorted by id; free each with
 * rt_state_free_contents() and the array with free(). */
AG_WARN_UNUSED int rt_container_list(const struct rt_options *o, struct rt_state **ret,
                                     size_t *ret_n, struct ag_error *err);

/* Send `sig` to the container's init (pidfd, so a reused pid is never
 * signalled); with `all`, to every process of its cgroup. */
AG_WARN_UNUSED int rt_container_kill(const struct rt_options *o, const char *id, int sig, bool all,
                                     struct ag_error *err);

/* Remove a stopped (or created) container: its cgroup, its state, then the
 * poststop hooks. A running one is refused unless `force` (then killed). */
AG_WARN_UNUSED int rt_container_delete(const struct rt_options *o, const char *id, bool force,
                                       struct ag_error *err);

/* What rt_container_exec runs. The process is `process` (a whole OCI
 * process, as from rt_process_load) or, when that is NULL, the container's
 * own process from its config.json with `argv` as its args; the fields
 * from `cwd` on adjust either. */
struct rt_exec {
	const struct rt_process *process;
	char *const *argv; /* NULL-terminated; only and always without process */
	const char *cwd;   /* absolute, in the container; NULL: the process's */
	char *const *env;  /* "K=V", each replacing K or added; may be NULL */
	bool has_uid, has_gid;
	uint32_t uid, gid; /* user.uid and user.gid, when has_ */
	/* CAP_* bits added to the bounding, effective and permitted sets (and
	 * ambient when inheritable is not empty), as runc's --cap. */
	uint64_t add_caps;
	bool no_new_privs;     /* on even if neither the process nor the container asks */
	bool tty;              /* process.terminal on */
	unsigned preserve_fds; /* fds 3 .. 3+N-1 stay open in the process */
	bool detach;           /* return once the process runs; do not wait */
	const char *pid_file;  /* its pid, as the caller sees it, written atomically */
	/* > 2: the process's stdin, stdout and stderr (dup'd over 0, 1 and 2
	 * in the child) instead of the caller's; 0: the caller's. */
	int stdio_fd;
	/* With detach (may be NULL): the process's pidfd (close-on-exec) for
	 * the caller, who then reaps the process through it, instead of
	 * being closed, and its pid (as the caller sees it) in *ret_pid (may
	 * be NULL). The process leads a process group of its own. */
	int *ret_pidfd;
	pid_t *ret_pid;
};

/* Run a process in the running container `id`, set up as its init was: it
 * joins every namespace of the container, its cgroup and its root (the cwd
 * resolved inside the root, never through a symlink or /proc magic link
 * out of it), gets the container's seccomp filter and personality,
 * no_new_privs whenever the container has it, and no capability outside
 * the container's bounding set: a process or an `add_caps` asking for one
 * is refused (-EPERM, the set and capability named). Every fd is closed at
 * exec but stdin, stdout, stderr and the `preserve_fds` (which must be
 * open: checked before this function opens anything).
 *
 * With process.terminal (or `tty`), the process gets a pty from the
 * container's devpts as its controlling terminal and stdio; the master goes
 * to o->console_socket when set (as for create), else, in the foreground,
 * is relayed to the caller's stdin and stdout (as for run). `detach` with a
 * terminal needs the console socket.
 *
 * In the foreground it waits, forwarding signals as rt_container_run does,
 * and sets *ret_status to the exit code, or 128 + the signal that killed
 * it. With `detach` it returns once the process runs (*ret_status 0); the
 * process stays the caller's child until the caller exits, and is then
 * reparented (to the host's init or the nearest subreaper), as with runc. */
AG_WARN_UNUSED int rt_container_exec(const struct rt_options *o, const char *id,
                                     const struct rt_exec *x, int *ret_status,
                                     struct ag_error *err);

/* 0 when fds 3 .. 3+n-1 are all open; else the first closed one is named
 * (a closed one would let a later open(2) of the launcher's own land in
 * the range that is passed on). */
AG_WARN_UNUSED int rt_preserved_fds_check(unsigned n, struct ag_error *err);

/* Write `pid` to the file `path` atomically (runc's --pid-file). */
AG_WARN_UNUSED int rt_pid_file_write(const char *path, pid_t pid, struct ag_error *err);

/* Freeze or thaw every process of the container (cgroup.freeze). */
AG_WARN_UNUSED int rt_container_pause(const struct rt_options *o, const char *id, bool pause,
                                      struct ag_error *err);

/* The pids of the container's processes (from its cgroup, or from /proc
 * when cgroups are disabled). *ret is malloc'd. */
AG_WARN_UNUSED int rt_container_pids(const struct rt_options *o, const char *id, pid_t **ret,
                                     size_t *ret_n, struct ag_error *err);

/* Change the cpu and memory limits of a running container: memory.max
 * (mem_bytes > 0), cpu.max and cpu.weight (cpus > 0) of its cgroup, as
 * `runc update --memory --cpus` does. An executor's container grows and
 * shrinks with its tasks. */
AG_WARN_UNUSED int rt_container_set_limits(const struct rt_options *o, const char *id, double cpus,
                                           uint64_t mem_bytes, struct ag_error *err);

/* Usage of the container as one-line JSON (malloc'd): cpu usage, memory
 * current and peak, pids, OOM kills. */
AG_WARN_UNUSED int rt_container_stats_json(const struct rt_options *o, const char *id,
                                           char **ret_json, struct ag_error *err);

/* Re-execute the running program (with `argv`) from a sealed memfd copy of
 * itself, unless it already runs from one: then /proc/<pid>/exe of this
 * process offers nothing writable (CVE-2019-5736). Returns 0 when already
 * sealed; on success of the re-exec it does not return. */
AG_WARN_UNUSED int rt_exe_ensure_sealed(char **argv, struct ag_error *err);

/* A memfd (close-on-exec, named `name`) holding a copy of the regular file
 * at `path`, sealed against writes, growth and shrinking: a program run from
 * it has nothing on the host behind /proc/<pid>/exe (CVE-2019-5736). */
AG_WARN_UNUSED int rt_sealed_copy(const char *path, const char *name, int *ret_fd,
                                  struct ag_error *err);

/* 1 when this process runs from a sealed memfd, 0 when not, or -errno. */
AG_WARN_UNUSED int rt_exe_is_sealed(void);

/* A container id is 1..128 of [A-Za-z0-9_.-], not starting with '.'. */
bool rt_id_is_valid(const char *id);

#endif
