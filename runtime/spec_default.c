/* spec_default.c: the config.json that `agora-run spec` writes, and the
 * Docker-like default seccomp profile inside it.
 *
 * The syscall list follows moby's default profile (profiles/seccomp/
 * default.json) as a matter of fact: what it allows unconditionally, plus
 * what it allows for the capabilities we keep by default. Where agora is
 * stricter, the table says so. */
#include "runtime/spec_internal.h"

#include <string.h>

/* Allowed for every container. Absent on purpose, though moby allows them:
 * io_uring_setup/enter/register (a large attack surface; many kernel CVEs,
 * and invisible to seccomp once the rings exist), adjtimex, clock_adjtime
 * and clock_adjtime64 (no container sets the host clock, and reading it
 * is done through clock_gettime). Never allowed, as in moby for containers
 * without CAP_SYS_ADMIN and friends: keyctl, add_key, request_key,
 * userfaultfd, kexec_*, pivot_root, bpf, perf_event_open, mount, umount2,
 * unshare, setns, open_by_handle_at, *_module, acct, swapon/off, reboot,
 * settimeofday, clock_settime. ptrace, process_vm_readv/writev stay
 * denied too (moby allows them on 4.8+): debugging inside a container is
 * opt-in with a profile of one's own. */
static const char *const allowed_syscalls[] = {
        "accept",
        "accept4",
        "access",
        "alarm",
        "bind",
        "brk",
        "capget",
        "capset",
        "chdir",
        "chmod",
        "chown",
        "chown32",
        "chroot",
        "clock_getres",
        "clock_getres_time64",
        "clock_gettime",
        "clock_gettime64",
        "clock_nanosleep",
        "clock_nanosleep_time64",
        "close",
        "close_range",
        "connect",
        "copy_file_range",
        "creat",
        "dup",
        "dup2",
        "dup3",
        "epoll_create",
        "epoll_create1",
        "epoll_ctl",
        "epoll_ctl_old",
        "epoll_pwait",
        "epoll_pwait2",
        "epoll_wait",
        "epoll_wait_old",
        "eventfd",
        "eventfd2",
        "execve",
        "execveat",
        "exit",
        "exit_group",
        "faccessat",
        "faccessat2",
        "fadvise64",
        "fadvise64_64",
        "fallocate",
        "fanotify_mark",
        "fchdir",
        "fchmod",
        "fchmodat",
        "fchown",
        "fchown32",
        "fchownat",
        "fcntl",
        "fcntl64",
        "fdatasync",
        "fgetxattr",
        "flistxattr",
        "flock",
        "fork",
        "fremovexattr",
        "fsetxattr",
        "fstat",
        "fstat64",
        "fstatat64",
        "fstatfs",
        "fstatfs64",
        "fsync",
        "ftruncate",
        "ftruncate64",
        "futex",
        "futex_time64",
        "futex_waitv",
        "futimesat",
        "getcpu",
        "getcwd",
        "getdents",
        "getdents64",
        "getegid",
        "getegid32",
        "geteuid",
        "geteuid32",
        "getgid",
        "getgid32",
        "getgroups",
        "getgroups32",
        "getitimer",
        "getpeername",
        "getpgid",
        "getpgrp",
        "getpid",
        "getppid",
        "getpriority",
        "getrandom",
        "getresgid",
        "getresgid32",
        "getresuid",
        "getresuid32",
        "getrlimit",
        "get_robust_list",
        "getrusage",
        "getsid",
        "getsockname",
        "getsockopt",
        "get_thread_area",
        "gettid",
        "gettimeofday",
        "getuid",
        "getuid32",
        "getxattr",
        "inotify_add_watch",
        "inotify_init",
        "inotify_init1",
        "inotify_rm_watch",
        "io_cancel",
        "ioctl",
        "io_destroy",
        "io_getevents",
        "io_pgetevents",
        "io_pgetevents_time64",
        "ioprio_get",
        "ioprio_set",
        "io_setup",
        "io_submit",
        "ipc",
        "kill",
        "landlock_add_rule",
        "landlock_create_ruleset",
        "landlock_restrict_self",
        "lchown",
        "lchown32",
        "lgetxattr",
        "link",
        "linkat",
        "listen",
        "listxattr",
        "llistxattr",
        "_llseek",
        "lremovexattr",
        "lseek",
        "lsetxattr",
        "lstat",
        "lstat64",
        "madvise",
        "membarrier",
        "memfd_create",
        "memfd_secret",
        "mincore",
        "mkdir",
        "mkdirat",
        "mknod",
        "mknodat",
        "mlock",
        "mlock2",
        "mlockall",
        "mmap",
        "mmap2",
        "mprotect",
        "mq_getsetattr",
        "mq_notify",
        "mq_open",
        "mq_timedreceive",
        "mq_timedreceive_time64",
        "mq_timedsend",
        "mq_timedsend_time64",
        "mq_unlink",
        "mremap",
        "msgctl",
        "msgget",
        "msgrcv",
        "msgsnd",
        "msync",
        "munlock",
        "munlockall",
        "munmap",
        "name_to_handle_at",
        "nanosleep",
        "newfstatat",
        "_newselect",
        "open",
        "openat",
        "openat2",
        "pause",
        "pidfd_open",
        "pidfd_send_signal",
        "pipe",
        "pipe2",
        "pkey_alloc",
        "pkey_free",
        "pkey_mprotect",
        "poll",
        "ppoll",
        "ppoll_time64",
        "prctl",
        "pread64",
        "preadv",
        "preadv2",
        "prlimit64",
        "process_mrelease",
        "pselect6",
        "pselect6_time64",
        "pwrite64",
        "pwritev",
        "pwritev2",
        "read",
        "readahead",
        "readlink",
        "readlinkat",
        "readv",
        "recv",
        "recvfrom",
        "recvmmsg",
        "recvmmsg_time64",
        "recvmsg",
        "remap_file_pages",
        "removexattr",
        "rename",
        "renameat",
        "renameat2",
        "restart_syscall",
        "rmdir",
        "rseq",
        "rt_sigaction",
        "rt_sigpending",
        "rt_sigprocmask",
        "rt_sigqueueinfo",
        "rt_sigreturn",
        "rt_sigsuspend",
        "rt_sigtimedwait",
        "rt_sigtimedwait_time64",
        "rt_tgsigqueueinfo",
        "sched_getaffinity",
        "sched_getattr",
        "sched_getparam",
        "sched_get_priority_max",
        "sched_get_priority_min",
        "sched_getscheduler",
        "sched_rr_get_interval",
        "sched_rr_get_interval_time64",
        "sched_setaffinity",
        "sched_setattr",
        "sched_setparam",
        "sched_setscheduler",
        "sched_yield",
        "seccomp",
        "select",
        "semctl",
        "semget",
        "semop",
        "semtimedop",
        "semtimedop_time64",
        "send",
        "sendfile",
        "sendfile64",
        "sendmmsg",
        "sendmsg",
        "sendto",
        "setfsgid",
        "setfsgid32",
        "setfsuid",
        "setfsuid32",
        "setgid",
        "setgid32",
        "setgroups",
        "setgroups32",
        "setitimer",
        "setpgid",
        "setpriority",
        "setregid",
        "setregid32",
        "setresgid",
        "setresgid32",
        "setresuid",
        "setresuid32",
        "setreuid",
        "setreuid32",
        "setrlimit",
        "set_robust_list",
        "setsid",
        "setsockopt",
        "set_thread_area",
        "set_tid_address",
        "setuid",
        "setuid32",
        "setxattr",
        "shmat",
        "shmctl",
        "shmdt",
        "shmget",
        "shutdown",
        "sigaltstack",
        "signalfd",
        "signalfd4",
        "sigprocmask",
        "sigreturn",
        "socketcall",
        "socketpair",
        "splice",
        "stat",
        "stat64",
        "statfs",
        "statfs64",
        "statx",
        "symlink",
        "symlinkat",
        "sync",
        "sync_file_range",
        "syncfs",
        "sysinfo",
        "tee",
        "tgkill",
        "time",
        "timer_create",
        "timer_delete",
        "timer_getoverrun",
        "timer_gettime",
        "timer_gettime64",
        "timer_settime",
        "timer_settime64",
        "timerfd_create",
        "timerfd_gettime",
        "timerfd_gettime64",
        "timerfd_settime",
        "timerfd_settime64",
        "times",
        "tkill",
        "truncate",
        "truncate64",
        "ugetrlimit",
        "umask",
        "uname",
        "unlink",
        "unlinkat",
        "utime",
        "utimensat",
        "utimensat_time64",
        "utimes",
        "vfork",
        "vmsplice",
        "wait4",
        "waitid",
        "waitpid",
        "write",
        "writev",
#if defined(__x86_64__) || defined(__i386__)
        "arch_prctl",
        "modify_ldt",
#endif
#if defined(__aarch64__) || defined(__arm__)
        "arm_fadvise64_64",
        "arm_sync_file_range",
        "sync_file_range2",
        "breakpoint",
        "cacheflush",
        "set_tls",
#endif
};

/* The architectures of this build: the native one and the compat ABIs it
 * can run. Foreign arches would only make the filter bigger. */
static const char *const default_arches[] = {
#if defined(__x86_64__)
        "SCMP_ARCH_X86_64",
        "SCMP_ARCH_X86",
        "SCMP_ARCH_X32",
#elif defined(__i386__)
        "SCMP_ARCH_X86",
#elif defined(__aarch64__)
        "SCMP_ARCH_AARCH64",
        "SCMP_ARCH_ARM",
#elif defined(__arm__)
        "SCMP_ARCH_ARM",
#endif
};

/* socket(2) is allowed for every family but AF_ALG (38) and AF_VSOCK (40).
 * libseccomp takes one comparison per argument and rule, and an
 * unconditional rule would override any deny, so the allowed families are
 * a union of masked ranges: 0-31, 32-35, 36-37, 39, 41, 42-43, 44-47,
 * 48-63 (AF_MAX is 46 in 6.x). The masks cover only the low 32 bits on
 * purpose: the kernel truncates `family` to int, so junk in the upper half
 * must not turn a denied family into an allowed one. */
static const struct {
	uint64_t mask, value;
} rt_socket_families[] = {
        {0xffffffe0, 0},  {0xfffffffc, 32}, {0xfffffffe, 36}, {0xffffffff, 39},
        {0xffffffff, 41}, {0xfffffffe, 42}, {0xfffffffc, 44}, {0xfffffff0, 48},
};

/* personality(2) values Docker allows: PER_LINUX, UNAME26, ADDR_NO_RANDOMIZE
 * and its UNAME26 combination, and 0xffffffff (query). */
static const uint64_t personalities[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

/* The namespace flags of clone(2): CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC,
 * NEWUSER, NEWPID, NEWNET. */
#define RT_CLONE_NS_MASK 0x7E020000

static json_t *masked_rule(const char *name, unsigned index, uint64_t mask, uint64_t value)
{
	return json_pack("{s:[s], s:s, s:[{s:i, s:I, s:I, s:s}]}", "names", name, "action",
	                 "SCMP_ACT_ALLOW", "args", "index", (int)index, "value", (json_int_t)mask,
	                 "valueTwo", (json_int_t)value, "op", "SCMP_CMP_MASKED_EQ");
}

static json_t *default_seccomp(void)
{
	json_t *names = json_array();
	for (size_t i = 0; i < AG_ARRAY_SIZE(allowed_syscalls); i++)
		json_array_append_new(names, json_string(allowed_syscalls[i]));
	json_t *arches = json_array();
	for (size_t i = 0; i < AG_ARRAY_SIZE(default_arches); i++)
		json_array_append_new(arches, json_string(default_arches[i]));

	json_t *rules = json_array();
	json_array_append_new(rules,
	                      json_pack("{s:o, s:s}", "names", names, "action", "SCMP_ACT_ALLOW"));
	/* clone without namespace flags; flags are arg 0 except on s390. */
	json_array_append_new(rules, masked_rule("clone", 0, RT_CLONE_NS_MASK, 0));
	/* clone3 passes its flags in memory seccomp cannot read: answer
	 * ENOSYS so glibc falls back to clone, which we can check. */
	json_array_append_new(rules, json_pack("{s:[s], s:s, s:i}", "names", "clone3", "action",
	                                       "SCMP_ACT_ERRNO", "errnoRet", ENOSYS));
	for (size_t i = 0; i < AG_ARRAY_SIZE(rt_socket_families); i++)
		json_array_append_new(rules, masked_rule("socket", 0, rt_socket_families[i].mask,
		                                         rt_socket_families[i].value));
	for (size_t i = 0; i < AG_ARRAY_SIZE(personalities); i++)
		json_array_append_new(rules,
		                      json_pack("{s:[s], s:s, s:[{s:i, s:I, s:s}]}", "names",
		                                "personality", "action", "SCMP_ACT_ALLOW", "args",
		                                "index", 0, "value", (json_int_t)personalities[i],
		                                "op", "SCMP_CMP_EQ"));

	json_t *profile =
	        json_pack("{s:s, s:i, s:o, s:o}", "defaultAction", "SCMP_ACT_ERRNO",
	                  "defaultErrnoRet", EPERM, "architectures", arches, "syscalls", rules);
	if (!profile)
		abort(); /* json_pack fails only on a bad format or no memory */
	return profile;
}

static char *dump(json_t *v, size_t flags)
{
	char *s = json_dumps(v, flags);
	json_decref(v);
	if (!s)
		abort();
	return s;
}

char *rt_seccomp_default_profile_json(void)
{
	return dump(default_seccomp(), JSON_INDENT(2));
}

/* Docker's 14 default capabilities. */
static json_t *default_caps(void)
{
	static const char *const caps[] = {
	        "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
	        "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
	        "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
	        "CAP_KILL",    "CAP_AUDIT_WRITE",
	};
	json_t *a = json_array();
	for (size_t i = 0; i < AG_ARRAY_SIZE(caps); i++)
		json_array_append_new(a, json_string(caps[i]));
	return a;
}

static json_t *strings(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *default_mounts(void)
{
	return json_pack(
	        "[{s:s, s:s, s:s},"
	        " {s:s, s:s, s:s, s:[s,s,s,s]},"
	        " {s:s, s:s, s:s, s:[s,s,s,s,s,s]},"
	        " {s:s, s:s, s:s, s:[s,s,s,s,s]},"
	        " {s:s, s:s, s:s, s:[s,s,s]},"
	        " {s:s, s:s, s:s, s:[s,s,s,s]},"
	        " {s:s, s:s, s:s, s:[s,s,s,s,s]}]",
	        "destination", "/proc", "type", "proc", "source", "proc", "destination", "/dev",
	        "type", "tmpfs", "source", "tmpfs", "options", "nosuid", "strictatime", "mode=755",
	        "size=65536k", "destination", "/dev/pts", "type", "devpts", "source", "devpts",
	        "options", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5",
	        "destination", "/dev/shm", "type", "tmpfs", "source", "shm", "options", "nosuid",
	        "noexec", "nodev", "mode=1777", "size=65536k", "destination", "/dev/mqueue", "type",
	        "mqueue", "source", "mqueue", "options", "nosuid", "noexec", "nodev", "destination",
	        "/sys", "type", "sysfs", "source", "sysfs", "options", "nosuid", "noexec", "nodev",
	        "ro", "destination", "/sys/fs/cgroup", "type", "cgroup", "source", "cgroup",
	        "options", "nosuid", "noexec", "nodev", "relatime", "ro");
}

char *rt_spec_default_json(void)
{
	static const char *const masked[] = {
	        "/proc/acpi",        "/proc/asound",  "/proc/interrupts",
	        "/proc/kcore",       "/proc/keys",    "/proc/latency_stats",
	        "/proc/sched_debug", "/proc/scsi",    "/proc/timer_list",
	        "/proc/timer_stats", "/sys/firmware", "/sys/devices/virtual/powercap",
	};
	static const char *const readonly[] = {
	        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	};
	static const char *const ns[] = {"pid", "network", "ipc", "uts", "mount", "cgroup"};
	json_t *nss = json_array();
	for (size_t i = 0; i < AG_ARRAY_SIZE(ns); i++)
		json_array_append_new(nss, json_pack("{s:s}", "type", ns[i]));

	json_t *caps = json_pack("{s:o, s:o, s:o}", "bounding", default_caps(), "effective",
	                         default_caps(), "permitted", default_caps());
	json_t *process =
	        json_pack("{s:b, s:{s:i, s:i}, s:[s], s:[s,s], s:s, s:o, s:[{s:s, s:i, s:i}], s:b}",
	                  "terminal", 0, "user", "uid", 0, "gid", 0, "args", "sh", "env",
	                  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	                  "TERM=xterm", "cwd", "/", "capabilities", caps, "rlimits", "type",
	                  "RLIMIT_NOFILE", "hard", 1024, "soft", 1024, "noNewPrivileges", 1);
	json_t *linux_obj =
	        json_pack("{s:o, s:o, s:o, s:o}", "namespaces", nss, "maskedPaths",
	                  strings(masked, AG_ARRAY_SIZE(masked)), "readonlyPaths",
	                  strings(readonly, AG_ARRAY_SIZE(readonly)), "seccomp", default_seccomp());
	json_t *spec =
	        json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}", "ociVersion", "1.0.2",
	                  "process", process, "root", "path", "rootfs", "readonly", 1, "hostname",
	                  "agora", "mounts", default_mounts(), "linux", linux_obj);
	if (!spec)
		abort();
	return dump(spec, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
}
