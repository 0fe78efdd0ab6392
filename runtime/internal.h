/* internal.h: what the runtime's files share and nobody else sees. */
#ifndef AGORA_RUNTIME_INTERNAL_H
#define AGORA_RUNTIME_INTERNAL_H

#include "runtime/runtime.h"

#include <linux/filter.h>
#include <sys/types.h>

#define RT_DEFAULT_STATE_ROOT    "/run/agora-run"
#define RT_DEFAULT_CGROUP_PARENT "agora"

/* ---- state (state.c) ---------------------------------------------------- */

/* Open (and with `create`, make) the state root, 0700. */
AG_WARN_UNUSED int rt__state_root_open(const struct rt_options *o, bool create, int *ret_fd,
                                       struct ag_error *err);

/* Create the state directory of a new container: refuses an existing id. */
AG_WARN_UNUSED int rt__state_dir_create(int rootfd, const char *id, int *ret_fd,
                                        struct ag_error *err);

/* Open an existing container's state directory; -ENOENT with a clear
 * message when there is no such container. */
AG_WARN_UNUSED int rt__state_dir_open(int rootfd, const char *id, int *ret_fd,
                                      struct ag_error *err);

/* Write state.json atomically in `dirfd`. */
AG_WARN_UNUSED int rt__state_write(int dirfd, const struct rt_state *st, struct ag_error *err);

/* Read state.json from `dirfd` and compute the status now. */
AG_WARN_UNUSED int rt__state_read(int dirfd, const char *id, bool cgroups_enabled,
                                  int cgroup_rootfd, struct rt_state *ret, struct ag_error *err);

/* Remove a container's state directory and what is inside it. */
AG_WARN_UNUSED int rt__state_dir_remove(int rootfd, const char *id);

/* starttime (field 22) of /proc/<pid>/stat, and whether it is a zombie. */
AG_WARN_UNUSED int rt__pid_start_ticks(pid_t pid, uint64_t *ret_ticks, bool *ret_zombie);

/* ---- the roots a call works in (container.c) --------------------------- */

/* The state root, and the cgroup root (-1 when cgroups are off or there is
 * none), opened for one call. */
struct rt__roots {
	const struct rt_options *o;
	int rootfd;
	int cg_rootfd;
};

AG_WARN_UNUSED int rt__roots_open(struct rt__roots *c, const struct rt_options *o, bool create,
                                  struct ag_error *err);
void rt__roots_close(struct rt__roots *c);

/* The preamble of every call on an existing container: open the roots and
 * read its state into *st (and its state directory into *ret_dirfd, when
 * not NULL). On failure nothing is left open; else undo with
 * rt__container_close(). */
AG_WARN_UNUSED int rt__container_open(struct rt__roots *c, const struct rt_options *o,
                                      const char *id, int *ret_dirfd, struct rt_state *st,
                                      struct ag_error *err);
void rt__container_close(struct rt__roots *c, struct rt_state *st);

/* A pidfd for `pid` if it is still the process that started at `ticks`
 * (/proc starttime), else -ESRCH: a reused pid is never taken for it. */
AG_WARN_UNUSED int rt__pidfd_open_checked(pid_t pid, uint64_t ticks, int *ret_fd);

/* The directory of the compiled seccomp filters; `buf` holds the default. */
const char *rt__seccomp_cache_dir(const struct rt_options *o, char *buf, size_t n);

/* Waits for the caller's child `pid` (its pidfd `pidfd`), forwarding
 * SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH to it;
 * with a terminal `console` (>= 0), relaying it to `io` (NULL: stdin and
 * stdout) meanwhile. *ret_status: its exit code or 128 + its signal. */
AG_WARN_UNUSED int rt__wait_forwarding(pid_t pid, int pidfd, int console, const struct rt_stdio *io,
                                       bool follow_size, int *ret_status);

/* ---- seccomp (seccomp.c) ------------------------------------------------ */

struct rt_bpf {
	struct sock_fprog prog; /* filter points into `buf` */
	void *buf;
};

/* The compiled filter for `sc`: from the cache in `cache_dir` when a
 * filter of the same profile text is there, else compiled with libseccomp
 * and stored. `cache_dir` may be NULL (no cache). */
AG_WARN_UNUSED int rt__seccomp_get(const struct rt_seccomp *sc, const char *cache_dir,
                                   struct rt_bpf *ret, struct ag_error *err);
void rt__bpf_free(struct rt_bpf *b);

/* ---- the launch (launch.c, mounts.c, security.c) ------------------------ */

struct rt_launch {
	const struct rt_options *o;
	const char *id;
	const char *bundle;
	const struct rt_spec *spec;
	struct rt_stdio io;
	int cgroup_fd;           /* leaf cgroup dir for CLONE_INTO_CGROUP, or -1 */
	int state_fd;            /* container's state directory */
	bool wait_start;         /* create: wait on exec.fifo before exec */
	struct rt_bpf bpf;       /* prog.len 0: no seccomp */
	int ns_fds[RT_NS_COUNT]; /* namespaces to join, or -1 */
	int console_fd;          /* out: process.terminal's pty master, or -1 */
	int sysfs_tree;          /* rt__launch's: the host's sysfs alone, or -1 */
};

/* The parent <-> child protocol of a launch or an exec: one
 * SOCK_SEQPACKET message each (launch.c has the sequence). */
enum rt__msg_type {
	RT_MSG_GO = 1,  /* parent -> child: maps written / hooks done */
	RT_MSG_HOOKS,   /* child -> parent: mounts done, run create hooks */
	RT_MSG_READY,   /* child -> parent: waiting for start */
	RT_MSG_ERROR,   /* child -> parent: setup failed, message follows */
	RT_MSG_CONSOLE, /* child -> parent: the terminal's master (SCM_RIGHTS) */
};

struct rt__msg {
	int32_t type;
	int32_t code;
	char text[AG_ERROR_MSG_MAX];
};

/* Sends a message of `type`, with e's code and text when `e` is not NULL.
 * 0 or -errno. */
AG_WARN_UNUSED int rt__msg_send(int fd, int type, const struct ag_error *e);
/* 0 on a message, -EPIPE on EOF. An fd that came with it is stored in
 * *ret_fd when that is not NULL (-1 if none), else closed. */
AG_WARN_UNUSED int rt__msg_recv(int fd, struct rt__msg *m, int *ret_fd);

/* Clone the container's init and drive it to the point where it waits for
 * start (or, with !wait_start, execs). On success *ret_pid and *ret_pidfd
 * are set; on failure no process is left. */
AG_WARN_UNUSED int rt__launch(struct rt_launch *l, pid_t *ret_pid, int *ret_pidfd,
                              struct ag_error *err);

/* In the child (an init or an exec'd process), after its namespaces and
 * root: a session of its own, the terminal `tty_peer` (>= 0; consumed) as
 * its controlling terminal and stdio, and its cwd resolved inside the root
 * (rt__chdir_in_root). */
AG_WARN_UNUSED int rt__child_settle(int tty_peer, const char *cwd, struct ag_error *err);

/* In the child: everything about the root file system, up to and including
 * pivot_root; `before_pivot` (may be NULL) runs just before pivot_root (the
 * createRuntime/createContainer hooks). `root_fd` (>= 0) is the root
 * opened beforehand (O_PATH), used instead of its path: the container's
 * root in a user namespace may not be allowed to reach that path. Errors
 * are filled in `err`. `sysfs_tree` (>= 0): a detached mount of the host's
 * sysfs without its submounts (open_tree by rt__launch before the user
 * namespace existed), what a sysfs mount becomes when the kernel refuses a
 * new one (a user namespace without a network namespace of its own);
 * closed once the mounts are done. */
typedef int (*rt_hook_cb)(void *ctx, struct ag_error *err);
AG_WARN_UNUSED int rt__rootfs_setup(const struct rt_spec *spec, const char *bundle, bool in_userns,
                                    int root_fd, const int *src_fds, int sysfs_tree,
                                    rt_hook_cb before_pivot, void *ctx, struct ag_error *err);

/* In the child, before it becomes root in a new user namespace: the
 * source of each bind mount of the spec opened (O_PATH), -1 for the other
 * mounts, in *ret_fds (spec->n_mounts entries; NULL when there are no
 * mounts), for rt__rootfs_setup's `src_fds`. With the ids that created the
 * container, which may reach paths (a 0700 directory of the host's root)
 * that the container's root, mapped to another host id, may not. */
AG_WARN_UNUSED int rt__bind_sources_open(const struct rt_spec *spec, const char *bundle,
                                         int **ret_fds, struct ag_error *err);
void rt__bind_sources_close(int *fds, size_t n);

/* In the child: process.oomScoreAdj, if set. Lowering it needs
 * CAP_SYS_RESOURCE in the user namespace that owns the host's. */
AG_WARN_UNUSED int rt__oom_score_adj_write(const struct rt_process *p, struct ag_error *err);

/* In the child: linux.personality, if set. Before rt__security_apply:
 * seccomp may refuse personality(2); the persona survives execve. */
AG_WARN_UNUSED int rt__personality_set(const struct rt_spec *spec, struct ag_error *err);

/* In the child: rlimits, user and groups, capabilities, no_new_privs and
 * seccomp, in the order that keeps each step possible. */
AG_WARN_UNUSED int rt__security_apply(const struct rt_process *p, const struct rt_bpf *bpf,
                                      struct ag_error *err);

/* In the child, before pivot_root: the nodes of linux.devices (bind
 * mounts of the host's nodes in a user namespace). */
AG_WARN_UNUSED int rt__devices_create(int rootfd, const struct rt_spec *spec, bool in_userns,
                                      struct ag_error *err);

/* In the child, once its root is the container's: chdir to `cwd` resolved
 * inside that root (rt__open_in_root: no symlink, ".." or /proc magic link
 * leads out), then checked with getcwd. Errors name process.cwd. */
AG_WARN_UNUSED int rt__chdir_in_root(const char *cwd, struct ag_error *err);

/* Resolve `path` inside the root `rootfd` (no escape through symlinks or
 * ".."), creating missing directories when `mkdirs`, and the last
 * component as a directory or (with `as_file`) an empty file. Returns an
 * O_PATH fd. */
AG_WARN_UNUSED int rt__open_in_root(int rootfd, const char *path, bool create, bool as_file,
                                    int *ret_fd);

/* Find `file` for execve: a path with '/' is used as is; otherwise PATH
 * from `env` (or the default PATH) is searched. *ret is malloc'd. */
AG_WARN_UNUSED int rt__find_executable(const char *file, char *const env[], char **ret);

/* What the spec asks for that this launcher refuses, checked once before
 * anything is created: sysctls that the container's namespaces do not
 * cover (writing them would change the host). */
AG_WARN_UNUSED int rt__launch_check(const struct rt_spec *spec, struct ag_error *err);

/* A warning to o->warn (stderr without one; `o` may be NULL). */
AG_PRINTF(2, 3) void rt__warn(const struct rt_options *o, const char *fmt, ...);

/* Run every hook of one kind with the state JSON on its stdin, in the
 * runtime's namespaces; one that fails is a warning (rt__warn) and the
 * others still run, as the OCI spec has it for poststart and poststop. */
void rt__hooks_run_all(const struct rt_options *o, const struct rt_spec *spec,
                       enum rt_hook_kind kind, const char *state_json);

/* Run the hooks of one kind with the state JSON on their stdin; with
 * `join_pidfd` >= 0 each runs in that process's mount namespace (the
 * createContainer hooks), its path resolved in ours. */
AG_WARN_UNUSED int rt__hooks_run(const struct rt_spec *spec, enum rt_hook_kind kind,
                                 const char *state_json, int join_pidfd, struct ag_error *err);

/* ---- the terminal (console.c) ------------------------------------------ */

/* In the child, after pivot_root: a pty from the container's devpts, sized
 * by consoleSize; *ret_master and *ret_peer are close-on-exec. */
AG_WARN_UNUSED int rt__console_open(const struct rt_process *p, int *ret_master, int *ret_peer,
                                    struct ag_error *err);
/* In the child: the terminal (rt__console_open), its master sent to the
 * parent on `sync_fd` (RT_MSG_CONSOLE) and closed; *ret_peer is the peer. */
AG_WARN_UNUSED int rt__console_handover(const struct rt_process *p, int sync_fd, int *ret_peer,
                                        struct ag_error *err);
/* In the child, after setsid: `peer` becomes its controlling terminal and
 * its stdin, stdout and stderr; `peer` itself is closed. */
AG_WARN_UNUSED int rt__console_attach(int peer, struct ag_error *err);
/* One message of `len` bytes carrying `fd` (SCM_RIGHTS). 0 or -errno. */
AG_WARN_UNUSED int rt__fd_send(int sock, const void *data, size_t len, int fd);
/* Receives one message; *ret_fd is a close-on-exec fd that came with it,
 * or -1. Returns its length or -errno. */
AG_WARN_UNUSED ssize_t rt__fd_recv(int sock, void *data, size_t len, int *ret_fd);
/* The master to an OCI console socket, with the pty's name as the data. */
AG_WARN_UNUSED int rt__console_send(int sock, int master, struct ag_error *err);
/* Relays `master` to `out` and `in` to it until the process behind
 * `pidfd` exits or the terminal closes; `in`, when a terminal, is put in
 * raw mode meanwhile and (with `follow_size`) its size copied, now and at
 * each rt__console_note_winch() (async-signal-safe). */
AG_WARN_UNUSED int rt__console_relay(int master, int in, int out, int pidfd, bool follow_size);
void rt__console_note_winch(void);

/* ---- device rules (devcgroup.c) ---------------------------------------- */

struct bpf_insn;

/* The rules every container gets after the spec's (null, zero, full,
 * random, urandom, tty, console, ptmx, pts/N): a static table. */
size_t rt__devcg_defaults(const struct rt_dev_rule **ret);

/* The BPF_PROG_TYPE_CGROUP_DEVICE program deciding `rules` followed by the
 * defaults: later rules override earlier ones, bit by bit of the access
 * asked for; nothing matched is denied. *ret (malloc'd) has *ret_n
 * instructions. */
AG_WARN_UNUSED int rt__devcg_build(const struct rt_dev_rule *rules, size_t n_rules,
                                   struct bpf_insn **ret, size_t *ret_n);

/* Load a program built by rt__devcg_build; *ret_fd is close-on-exec. The
 * error quotes the verifier's last line when the kernel refuses it. */
AG_WARN_UNUSED int rt__devcg_load(const struct bpf_insn *insns, size_t n, int *ret_fd,
                                  struct ag_error *err);

/* Build, load and attach (BPF_F_ALLOW_MULTI) the program of the spec's
 * linux.resources.devices to the cgroup `cgfd`, with mknod allowed for the
 * nodes of linux.devices (the init makes them inside the cgroup). */
AG_WARN_UNUSED int rt__devcg_apply(int cgfd, const struct rt_spec *spec, struct ag_error *err);

/* ---- cgroups (cgroup.c) ------------------------------------------------ */

/* Open the cgroup2 root named by the options (or found); -errno if none. */
AG_WARN_UNUSED int rt__cg_root(const struct rt_options *o, int *ret_fd);

/* Create the container's leaf cgroup, checking that cpu, memory, pids and
 * io are usable (refusing with the reason otherwise) and applying the
 * spec's resources. *ret_fd is the leaf for CLONE_INTO_CGROUP, *ret_path
 * its path relative to the root (malloc'd). */
AG_WARN_UNUSED int rt__cg_setup(const struct rt_options *o, int cg_rootfd, const char *id,
                                const struct rt_spec *spec, int *ret_fd, char **ret_path,
                                struct ag_error *err);
/* With cgroups disabled: refuses a spec whose device rules or huge page
 * limits would otherwise be silently dropped, naming the field. */
AG_WARN_UNUSED int rt__cg_check_disabled(const struct rt_spec *spec, struct ag_error *err);
AG_WARN_UNUSED int rt__cg_destroy(int cg_rootfd, const char *path);
AG_WARN_UNUSED int rt__cg_open(int cg_rootfd, const char *path, int *ret_fd, struct ag_error *err);
AG_WARN_UNUSED int rt__cg_signal_all(int cg_rootfd, const char *path, int sig);
AG_WARN_UNUSED int rt__cg_freeze(int cg_rootfd, const char *path, bool frozen,
                                 struct ag_error *err);
/* OOM kills seen by the cgroup (memory.events oom_kill), 0 if unknown. */
uint64_t rt__cg_oom_kills(int cg_rootfd, const char *path);
AG_WARN_UNUSED int rt__cg_pids(int cg_rootfd, const char *path, pid_t **ret, size_t *ret_n);
/* Write memory.max (mem_bytes > 0) and cpu.max, cpu.weight (cpus > 0) of
 * the cgroup `path`. */
AG_WARN_UNUSED int rt__cg_set_cpu_mem(int cg_rootfd, const char *path, double cpus,
                                      uint64_t mem_bytes, struct ag_error *err);
AG_WARN_UNUSED int rt__cg_stats_json(int cg_rootfd, const char *path, const char *id,
                                     char **ret_json, struct ag_error *err);

#endif
