/* agora-run: the container launcher on its own, with the OCI runtime
 * command line (as crun and runc have it).
 *
 *   agora-run [global options] COMMAND [options] ARGS
 *
 * Errors go to stderr as "agora-run: <what failed>: <why>" (and, with
 * --log, to that file as JSON lines); the exit status is 1 for a failure of
 * the runtime, the container's own status for run and exec.
 */
#include "runtime/runtime.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <jansson.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#define AGORA_VERSION "0.1.0"

static struct rt_options opts;
static const char *log_path;
static const char *log_format = "text";

/* One line to stderr and, with --log, to that file; `level` is "error"
 * or "warning" (stderr shows the latter as "CMD: warning: MSG"). */
static void log_line(const char *level, const char *cmd, const char *msg)
{
	bool warning = strcmp(level, "warning") == 0;
	fprintf(stderr, "agora-run: %s: %s%s\n", cmd, warning ? "warning: " : "", msg);
	if (!log_path)
		return;
	int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	int64_t now = ag_wall_ns();
	char *line;
	if (strcmp(log_format, "json") == 0) {
		json_t *j = json_pack("{s:s, s:s, s:f}", "level", level, "msg", msg, "time",
		                      (double)now / 1e9);
		char *t = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		line = ag_asprintf("%s\n", t ? t : "{}");
		free(t);
	} else {
		line = ag_asprintf("%lld.%03lld %s %s: %s\n", (long long)(now / 1000000000),
		                   (long long)(now % 1000000000 / 1000000), level, cmd, msg);
	}
	/* A log line that cannot be written has nowhere to be reported;
	 * the command's own outcome is on stderr and in its exit status. */
	AG_IGNORE_RESULT(ag_write_all(fd, line, strlen(line)));
	free(line);
	close(fd);
}

static void log_error(const char *cmd, const char *msg)
{
	log_line("error", cmd, msg);
}

/* rt_options.warn: the runtime's warnings (hooks that failed and were
 * passed over, a deprecated prestart hook), with the command's name. */
static void log_warning(void *ctx, const char *msg)
{
	log_line("warning", ctx ? ctx : "agora-run", msg);
}

static int fail(const char *cmd, const struct ag_error *err)
{
	log_error(cmd, err->msg[0] ? err->msg : strerror(err->code ? err->code : EINVAL));
	return 1;
}

AG_PRINTF(2, 3) static int usage_error(const char *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error(cmd, msg);
	fprintf(stderr, "Try 'agora-run %s --help'.\n", cmd);
	return 2;
}

static void print_usage(void)
{
	printf("Usage: agora-run [OPTIONS] COMMAND [ARGS...]\n"
	       "\n"
	       "Commands (agora-run COMMAND --help for each):\n"
	       "  create ID [--bundle DIR] [--pid-file F]  create a container (waits for start)\n"
	       "         [--console-socket PATH]           with process.terminal: where the pty\n"
	       "                                           master is sent (SCM_RIGHTS)\n"
	       "  start ID                                 start a created container\n"
	       "  run ID [--bundle DIR] [--pid-file F]     create, start and wait; exits with "
	       "its status\n"
	       "         [--console-socket PATH]           (a terminal without it: relayed to\n"
	       "                                           agora-run's own stdin and stdout)\n"
	       "  state ID                                 print the OCI state JSON\n"
	       "  kill ID [SIGNAL] [--all]                 send a signal (default TERM)\n"
	       "  delete [--force] ID                      remove a stopped container (--force:\n"
	       "                                           kill a created or running one first)\n"
	       "  exec [OPTIONS] ID [--] CMD [ARGS...]     run a command in a running container\n"
	       "  exec [OPTIONS] --process FILE ID         the same, the process from an OCI\n"
	       "                                           process.json (as runc/crun exec)\n"
	       "  list [--format table|json] [-q]          list containers\n"
	       "  ps ID [--format table|json]              list a container's processes\n"
	       "  pause ID / resume ID                     freeze / thaw (cgroup.freeze)\n"
	       "  stats ID                                 usage as JSON (cpu, memory, pids, "
	       "OOM kills)\n"
	       "  spec [--bundle DIR]                      write a default config.json\n"
	       "\n"
	       "Options:\n"
	       "  --root DIR                   state directory (default /run/agora-run)\n"
	       "  --log FILE                   also append errors to FILE\n"
	       "  --log-format text|json       format of --log lines\n"
	       "  --cgroup-manager=cgroupfs|disabled\n"
	       "                               disabled: no cgroup, no limits\n"
	       "  --cgroup-root DIR            the cgroup2 mount (default: found)\n"
	       "  --cgroup-parent PATH         parent of containers' cgroups (default agora)\n"
	       "  --version, --help\n");
}

/* What `agora-run COMMAND --help` prints after "Usage: agora-run ". */
static const struct {
	const char *cmd;
	const char *text;
} cmd_usage[] = {
        {"create", "create [--bundle DIR] [--pid-file F] [--console-socket PATH] ID\n\n"
                   "Create container ID from DIR/config.json (default: the current\n"
                   "directory): everything is set up and its process waits for `start`.\n\n"
                   "  -b, --bundle DIR          the bundle (config.json and the root)\n"
                   "  --pid-file F              write the container's pid to F\n"
                   "  --console-socket PATH     with process.terminal: the AF_UNIX socket the\n"
                   "                            pty master is sent to (SCM_RIGHTS)\n"},
        {"run", "run [--bundle DIR] [--pid-file F] [--console-socket PATH] ID\n\n"
                "Create and start container ID, wait for it and delete it; exits with its\n"
                "status (128+N for signal N). Options as for create; a terminal without a\n"
                "console socket is relayed to agora-run's own stdin and stdout.\n"},
        {"start", "start ID\n\nStart the process of the created container ID.\n"},
        {"state", "state ID\n\nPrint the OCI state of container ID as JSON.\n"},
        {"kill", "kill [--all] ID [SIGNAL]\n\n"
                 "Send SIGNAL (a name or number; default TERM) to the container's init,\n"
                 "or with -a/--all to every process of its cgroup.\n"},
        {"delete", "delete [--force] ID\n\n"
                   "Remove a stopped container. A created, running or paused one is\n"
                   "refused, naming its status; -f/--force kills it and removes it.\n"},
        {"exec", "exec [OPTIONS] ID [--] CMD [ARGS...]\n"
                 "       agora-run exec [OPTIONS] --process FILE ID\n\n"
                 "Run a process in the running container ID, with the container's\n"
                 "namespaces, cgroup, root, seccomp filter and no_new_privs, and no\n"
                 "capability outside its bounding set. The process is the container's\n"
                 "(config.json) with CMD as its args, or the one in FILE; the options\n"
                 "below adjust either.\n\n"
                 "  -p, --process FILE        an OCI process object (config.json's \"process\"\n"
                 "                            schema; apparmorProfile and selinuxLabel are\n"
                 "                            checked and not applied)\n"
                 "  -t, --tty                 a terminal from the container's devpts\n"
                 "  --console-socket PATH     send the terminal's master to this AF_UNIX\n"
                 "                            socket (SCM_RIGHTS); without it, the terminal\n"
                 "                            is relayed to agora-run's stdin and stdout\n"
                 "  -d, --detach              exit 0 once the process runs, and leave it\n"
                 "                            running (a terminal then needs --console-socket)\n"
                 "  --pid-file F              write the process's pid (host) to F, atomically\n"
                 "  -u, --user UID[:GID]      run as UID (and GID)\n"
                 "  -e, --env K=V             set K in its environment (repeatable)\n"
                 "  --cwd DIR                 its working directory, in the container\n"
                 "  --cap CAP                 add CAP (e.g. CAP_NET_ADMIN) to its bounding,\n"
                 "                            effective and permitted sets; refused unless it\n"
                 "                            is in the container's bounding set (repeatable)\n"
                 "  --no-new-privs            set no_new_privs (always set when the\n"
                 "                            container has it)\n"
                 "  --preserve-fds N          pass fds 3 to 3+N-1 on to the process\n\n"
                 "Without --detach, agora-run waits and exits with the process's status\n"
                 "(128+N for signal N).\n"},
        {"list", "list [--format table|json] [-q]\n\n"
                 "List the containers; -q/--quiet prints their ids only.\n"},
        {"ps", "ps [--format table|json] ID\n\nList the pids of container ID's processes.\n"},
        {"pause", "pause ID\n\nFreeze every process of container ID (cgroup.freeze).\n"},
        {"resume", "resume ID\n\nThaw the processes of a paused container ID.\n"},
        {"stats", "stats ID\n\n"
                  "Usage of container ID as JSON: cpu, memory, pids, OOM kills.\n"},
        {"spec", "spec [--bundle DIR]\n\n"
                 "Write a config.json with safe defaults to DIR (default: the current\n"
                 "directory).\n"},
};

/* `agora-run COMMAND --help`: exit 0. */
static int cmd_help(const char *cmd)
{
	for (size_t i = 0; i < AG_ARRAY_SIZE(cmd_usage); i++)
		if (strcmp(cmd_usage[i].cmd, cmd) == 0) {
			printf("Usage: agora-run %s", cmd_usage[i].text);
			return 0;
		}
	print_usage();
	return 0;
}

static int parse_signal(const char *s, int *ret)
{
	char *end;
	long n = strtol(s, &end, 10);
	if (*s && !*end) {
		if (n <= 0 || n >= NSIG)
			return -EINVAL;
		*ret = (int)n;
		return 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	static const struct {
		const char *name;
		int sig;
	} table[] = {
	        {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},   {"ILL", SIGILL},
	        {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"BUS", SIGBUS},     {"FPE", SIGFPE},
	        {"KILL", SIGKILL},     {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},   {"USR2", SIGUSR2},
	        {"PIPE", SIGPIPE},     {"ALRM", SIGALRM}, {"TERM", SIGTERM},   {"CHLD", SIGCHLD},
	        {"CONT", SIGCONT},     {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},
	        {"TTOU", SIGTTOU},     {"URG", SIGURG},   {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ},
	        {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
	        {"PWR", SIGPWR},       {"SYS", SIGSYS},
	};
	for (size_t i = 0; i < AG_ARRAY_SIZE(table); i++)
		if (strcasecmp(s, table[i].name) == 0) {
			*ret = table[i].sig;
			return 0;
		}
	return -EINVAL;
}

/* A connected, close-on-exec stream socket to the unix socket `path`. */
static int console_connect(const char *path, int *ret_fd, struct ag_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return ag_error_set(err, ENAMETOOLONG, "--console-socket `%s`", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ag_error_set(err, errno, "--console-socket: socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return ag_error_set(err, e, "--console-socket: connect to `%s`", path);
	}
	*ret_fd = fd;
	return 0;
}

/* Shared by create and run: ID [--bundle DIR] [--pid-file F]
 * [--console-socket PATH]. */
static int cmd_create_or_run(int argc, char **argv, bool run)
{
	const char *cmd = run ? "run" : "create";
	const char *bundle = ".", *pid_file = NULL, *console_socket = NULL;
	static const struct option lo[] = {{"bundle", required_argument, NULL, 'b'},
	                                   {"pid-file", required_argument, NULL, 'p'},
	                                   {"console-socket", required_argument, NULL, 'c'},
	                                   {"detach", no_argument, NULL, 'd'},
	                                   {"help", no_argument, NULL, 'h'},
	                                   {0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+b:p:dh", lo, NULL)) != -1) {
		switch (c) {
		case 'b':
			bundle = optarg;
			break;
		case 'c':
			console_socket = optarg;
			break;
		case 'p':
			pid_file = optarg;
			break;
		case 'd':
			break;
		case 'h':
			return cmd_help(cmd);
		default:
			return usage_error(cmd, "%s", "unknown option");
		}
	}
	if (optind != argc - 1)
		return usage_error(cmd, "%s", "expects exactly one container id");
	const char *id = argv[optind];

	struct ag_error err = {0};
	char abs_bundle[4096];
	if (!realpath(bundle, abs_bundle)) {
		ag_error_set(&err, errno, "bundle `%s`", bundle);
		return fail(cmd, &err);
	}
	struct rt_spec *spec = NULL;
	if (rt_spec_load(abs_bundle, &spec, &err) < 0)
		return fail(cmd, &err);
	if (console_socket) {
		/* As runc: a socket nobody will write to is a mistake. */
		if (!spec->process.terminal) {
			rt_spec_free(spec);
			return usage_error(
			        cmd, "%s",
			        "--console-socket: process.terminal is false in the spec");
		}
		if (console_connect(console_socket, &opts.console_socket, &err) < 0) {
			rt_spec_free(spec);
			return fail(cmd, &err);
		}
	}

	if (run) {
		/* The pid file is written once the container exists: run it
		 * as create + start would, but in one process. */
		struct rt_exit ex;
		int r = rt_container_run(&opts, id, abs_bundle, spec, NULL, &ex, &err);
		rt_spec_free(spec);
		if (r < 0)
			return fail(cmd, &err);
		if (ex.oom_killed)
			log_error(cmd, "the container was killed by the OOM killer: it reached its "
			               "memory limit (linux.resources.memory.limit)");
		return ex.status;
	}
	pid_t pid = 0;
	int r = rt_container_create(&opts, id, abs_bundle, spec, NULL, &pid, &err);
	rt_spec_free(spec);
	if (r < 0)
		return fail(cmd, &err);
	if (pid_file && rt_pid_file_write(pid_file, pid, &err) < 0) {
		/* The pid file's error is the one reported; a container left
		 * by a failed delete is listed by `agora-run list`. */
		AG_IGNORE_RESULT(rt_container_delete(&opts, id, true, NULL));
		return fail(cmd, &err);
	}
	return 0;
}

/* The options of a command that has none but --help: -1 to go on, else
 * the exit status. */
static int help_only(const char *cmd, int argc, char **argv)
{
	static const struct option lo[] = {{"help", no_argument, NULL, 'h'}, {0}};
	optind = 1;
	int c = getopt_long(argc, argv, "+h", lo, NULL);
	if (c == 'h')
		return cmd_help(cmd);
	if (c != -1)
		return usage_error(cmd, "%s", "unknown option");
	return -1;
}

static int cmd_simple(const char *cmd, int argc, char **argv)
{
	int r = help_only(cmd, argc, argv);
	if (r >= 0)
		return r;
	if (argc - optind != 1)
		return usage_error(cmd, "%s", "expects exactly one container id");
	struct ag_error err = {0};
	const char *id = argv[optind];
	if (strcmp(cmd, "start") == 0)
		r = rt_container_start(&opts, id, &err);
	else if (strcmp(cmd, "pause") == 0)
		r = rt_container_pause(&opts, id, true, &err);
	else if (strcmp(cmd, "resume") == 0)
		r = rt_container_pause(&opts, id, false, &err);
	else if (strcmp(cmd, "state") == 0) {
		struct rt_state st;
		r = rt_container_state(&opts, id, &st, &err);
		if (r == 0) {
			char *j = rt_state_to_json(&st);
			printf("%s\n", j ? j : "{}");
			free(j);
			rt_state_free_contents(&st);
		}
	} else if (strcmp(cmd, "stats") == 0) {
		char *j = NULL;
		r = rt_container_stats_json(&opts, id, &j, &err);
		if (r == 0)
			printf("%s\n", j);
		free(j);
	}
	return r < 0 ? fail(cmd, &err) : 0;
}

static int cmd_kill(int argc, char **argv)
{
	bool all = false;
	static const struct option lo[] = {
	        {"all", no_argument, NULL, 'a'}, {"help", no_argument, NULL, 'h'}, {0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+ah", lo, NULL)) != -1)
		if (c == 'a')
			all = true;
		else if (c == 'h')
			return cmd_help("kill");
		else
			return usage_error("kill", "%s", "unknown option");
	if (optind >= argc || argc - optind > 2)
		return usage_error("kill", "%s", "expects ID [SIGNAL]");
	int sig = SIGTERM;
	if (argc - optind == 2 && parse_signal(argv[optind + 1], &sig) < 0)
		return usage_error("kill", "unknown signal `%s`", argv[optind + 1]);
	struct ag_error err = {0};
	if (rt_container_kill(&opts, argv[optind], sig, all, &err) < 0)
		return fail("kill", &err);
	return 0;
}

static int cmd_delete(int argc, char **argv)
{
	bool force = false;
	static const struct option lo[] = {
	        {"force", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+fh", lo, NULL)) != -1)
		if (c == 'f')
			force = true;
		else if (c == 'h')
			return cmd_help("delete");
		else
			return usage_error("delete", "%s", "unknown option");
	if (optind != argc - 1)
		return usage_error("delete", "%s", "expects exactly one container id");
	struct ag_error err = {0};
	if (rt_container_delete(&opts, argv[optind], force, &err) < 0)
		return fail("delete", &err);
	return 0;
}

/* --format and (for list) --quiet: 0 to go on, -1 once --help is printed, or
 * the exit status of a usage error. */
static int parse_format(const char *cmd, int argc, char **argv, bool *json, bool *quiet)
{
	static const struct option lo[] = {{"format", required_argument, NULL, 'f'},
	                                   {"quiet", no_argument, NULL, 'q'},
	                                   {"help", no_argument, NULL, 'h'},
	                                   {0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+f:qh", lo, NULL)) != -1) {
		if (c == 'h') {
			cmd_help(cmd);
			return -1;
		} else if (c == 'f') {
			if (strcmp(optarg, "json") == 0)
				*json = true;
			else if (strcmp(optarg, "table") != 0)
				return usage_error(cmd, "--format: `%s` (table or json)", optarg);
		} else if (c == 'q' && quiet) {
			*quiet = true;
		} else {
			return usage_error(cmd, "%s", "unknown option");
		}
	}
	return 0;
}

static int cmd_list(int argc, char **argv)
{
	bool json = false, quiet = false;
	int r = parse_format("list", argc, argv, &json, &quiet);
	if (r)
		return r < 0 ? 0 : r;
	struct ag_error err = {0};
	struct rt_state *list = NULL;
	size_t n = 0;
	if (rt_container_list(&opts, &list, &n, &err) < 0)
		return fail("list", &err);
	if (json) {
		printf("[");
		for (size_t i = 0; i < n; i++) {
			char *j = rt_state_to_json(&list[i]);
			printf("%s%s", i ? "," : "", j ? j : "{}");
			free(j);
		}
		printf("]\n");
	} else if (quiet) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", list[i].id);
	} else {
		printf("%-24s %-8s %-10s %-25s %s\n", "ID", "PID", "STATUS", "CREATED", "BUNDLE");
		for (size_t i = 0; i < n; i++) {
			char when[32] = "-";
			time_t secs = (time_t)(list[i].created_unix_ns / 1000000000);
			struct tm tm;
			if (secs && gmtime_r(&secs, &tm))
				strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			bool live = list[i].status != RT_STATUS_STOPPED &&
			            list[i].status != RT_STATUS_CREATING;
			printf("%-24s %-8d %-10s %-25s %s\n", list[i].id,
			       live ? (int)list[i].pid : 0, rt_status_name(list[i].status), when,
			       list[i].bundle ? list[i].bundle : "-");
		}
	}
	for (size_t i = 0; i < n; i++)
		rt_state_free_contents(&list[i]);
	free(list);
	return 0;
}

static int cmd_ps(int argc, char **argv)
{
	bool json = false;
	int r = parse_format("ps", argc, argv, &json, NULL);
	if (r)
		return r < 0 ? 0 : r;
	if (optind != argc - 1)
		return usage_error("ps", "%s", "expects exactly one container id");
	struct ag_error err = {0};
	pid_t *pids = NULL;
	size_t n = 0;
	if (rt_container_pids(&opts, argv[optind], &pids, &n, &err) < 0)
		return fail("ps", &err);
	if (json) {
		printf("[");
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", (int)pids[i]);
		printf("]\n");
	} else {
		printf("PID\n");
		for (size_t i = 0; i < n; i++)
			printf("%d\n", (int)pids[i]);
	}
	free(pids);
	return 0;
}

/* A uid or gid: 0 .. 2^32-2 ((uid_t)-1 means "no change" to the kernel). */
static int parse_id(const char *s, uint32_t *ret)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end || errno || v > UINT32_MAX - 1 || s[0] == '-')
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

/* -u UID[:GID] */
static int parse_user(const char *s, struct rt_exec *x)
{
	_cleanup_free_ char *copy = ag_strdup(s);
	char *gid = strchr(copy, ':');
	if (gid)
		*gid++ = '\0';
	if (parse_id(copy, &x->uid) < 0 || (gid && parse_id(gid, &x->gid) < 0))
		return -EINVAL;
	x->has_uid = true;
	x->has_gid = gid != NULL;
	return 0;
}

/* exec [OPTIONS] ID [--] CMD... | exec [OPTIONS] --process FILE ID */
static int cmd_exec(int argc, char **argv)
{
	struct rt_exec x = {0};
	const char *process_path = NULL, *console_socket = NULL;
	_cleanup_free_ char **env = NULL;
	size_t n_env = 0;
	static const struct option lo[] = {{"process", required_argument, NULL, 'p'},
	                                   {"console-socket", required_argument, NULL, 'c'},
	                                   {"pid-file", required_argument, NULL, 'P'},
	                                   {"detach", no_argument, NULL, 'd'},
	                                   {"tty", no_argument, NULL, 't'},
	                                   {"user", required_argument, NULL, 'u'},
	                                   {"cap", required_argument, NULL, 'C'},
	                                   {"no-new-privs", no_argument, NULL, 'N'},
	                                   {"preserve-fds", required_argument, NULL, 'F'},
	                                   {"cwd", required_argument, NULL, 'w'},
	                                   {"env", required_argument, NULL, 'e'},
	                                   {"help", no_argument, NULL, 'h'},
	                                   {0}};
	int c, cap;
	char *end;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+p:dtu:e:h", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			process_path = optarg;
			break;
		case 'c':
			console_socket = optarg;
			break;
		case 'P':
			x.pid_file = optarg;
			break;
		case 'd':
			x.detach = true;
			break;
		case 't':
			x.tty = true;
			break;
		case 'u':
			if (parse_user(optarg, &x) < 0)
				return usage_error(
				        "exec", "--user `%s`: expects UID[:GID] (numbers)", optarg);
			break;
		case 'C':
			if ((cap = rt_cap_from_name(optarg)) < 0)
				return usage_error("exec",
				                   "--cap `%s`: not a capability (CAP_NAME, e.g. "
				                   "CAP_NET_ADMIN)",
				                   optarg);
			x.add_caps |= UINT64_C(1) << cap;
			break;
		case 'N':
			x.no_new_privs = true;
			break;
		case 'F':
			errno = 0;
			unsigned long n = strtoul(optarg, &end, 10);
			if (!*optarg || *end || errno || optarg[0] == '-' || n > 65536)
				return usage_error("exec", "--preserve-fds `%s`: expects a count",
				                   optarg);
			x.preserve_fds = (unsigned)n;
			break;
		case 'w':
			x.cwd = optarg;
			break;
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=')
				return usage_error("exec", "--env: `%s` is not KEY=VALUE", optarg);
			env = ag_realloc(env, (n_env + 2) * sizeof(*env));
			env[n_env++] = optarg;
			env[n_env] = NULL;
			break;
		case 'h':
			return cmd_help("exec");
		default:
			return usage_error("exec", "%s", "unknown option");
		}
	}
	x.env = env;
	if (optind >= argc)
		return usage_error("exec", "%s",
		                   process_path ? "expects the container id"
		                                : "expects ID [--] COMMAND [ARGS...]");
	const char *id = argv[optind++];
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	if (process_path && optind < argc)
		return usage_error("exec",
		                   "--process and a command `%s`: give one or the other (the "
		                   "command is process.args in the file)",
		                   argv[optind]);
	if (!process_path && optind >= argc)
		return usage_error("exec", "%s", "expects ID [--] COMMAND [ARGS...]");

	/* Before anything is opened here: an fd of ours must not land in the
	 * range that is passed on. */
	struct ag_error err = {0};
	if (rt_preserved_fds_check(x.preserve_fds, &err) < 0)
		return fail("exec", &err);
	struct rt_process *proc = NULL;
	if (process_path && rt_process_load(process_path, &proc, &err) < 0)
		return fail("exec", &err);
	x.process = proc;
	x.argv = process_path ? NULL : &argv[optind];
	if (console_socket) {
		/* As runc: a socket nobody will write to is a mistake. */
		if (!x.tty && !(proc && proc->terminal)) {
			rt_process_free(proc);
			return usage_error("exec", "%s",
			                   "--console-socket: the process has no terminal (--tty, "
			                   "or process.terminal in --process)");
		}
		if (console_connect(console_socket, &opts.console_socket, &err) < 0) {
			rt_process_free(proc);
			return fail("exec", &err);
		}
	}
	int status = 1;
	int r = rt_container_exec(&opts, id, &x, &status, &err);
	rt_process_free(proc);
	if (r < 0)
		return fail("exec", &err);
	return status;
}

static int cmd_spec(int argc, char **argv)
{
	const char *bundle = ".";
	static const struct option lo[] = {{"bundle", required_argument, NULL, 'b'},
	                                   {"rootless", no_argument, NULL, 'r'},
	                                   {"help", no_argument, NULL, 'h'},
	                                   {0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+b:h", lo, NULL)) != -1)
		if (c == 'b')
			bundle = optarg;
		else if (c == 'h')
			return cmd_help("spec");
		else if (c != 'r')
			return usage_error("spec", "%s", "unknown option");
	struct ag_error err = {0};
	_cleanup_free_ char *path = ag_asprintf("%s/config.json", bundle);
	if (access(path, F_OK) == 0) {
		ag_error_set(&err, EEXIST, "`%s` exists; remove it first", path);
		return fail("spec", &err);
	}
	_cleanup_free_ char *text = rt_spec_default_json();
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || ag_write_all(fd, text, strlen(text)) < 0 || ag_write_all(fd, "\n", 1) < 0) {
		ag_error_set(&err, errno, "write `%s`", path);
		if (fd >= 0)
			close(fd);
		return fail("spec", &err);
	}
	close(fd);
	return 0;
}

#if defined(__SANITIZE_ADDRESS__)
#define AGORA_RUN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AGORA_RUN_ASAN 1
#endif
#endif
#ifdef AGORA_RUN_ASAN
/* Sanitizer builds only. LeakSanitizer checks for leaks at exit by
 * stopping the process with a ptrace()ing thread, which cannot attach once
 * the process has joined another user namespace (a rootless exec does):
 * it then spins at exit forever. Leak checking is skipped in that case. */
static struct stat start_userns;
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	struct stat st;
	if (stat("/proc/self/ns/user", &st) < 0)
		return 1;
	return st.st_ino != start_userns.st_ino || st.st_dev != start_userns.st_dev;
}
#endif

int main(int argc, char **argv)
{
#ifdef AGORA_RUN_ASAN
	(void)stat("/proc/self/ns/user", &start_userns);
#endif
	static const struct option lo[] = {
	        {"root", required_argument, NULL, 'r'},
	        {"log", required_argument, NULL, 'l'},
	        {"log-format", required_argument, NULL, 'F'},
	        {"cgroup-manager", required_argument, NULL, 'c'},
	        {"cgroup-root", required_argument, NULL, 'C'},
	        {"cgroup-parent", required_argument, NULL, 'P'},
	        {"systemd-cgroup", no_argument, NULL, 's'},
	        {"debug", no_argument, NULL, 'D'},
	        {"version", no_argument, NULL, 'v'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "+hv", lo, NULL)) != -1) {
		switch (c) {
		case 'r':
			opts.state_root = optarg;
			break;
		case 'l':
			log_path = optarg;
			break;
		case 'F':
			log_format = optarg;
			break;
		case 'c':
			if (strcmp(optarg, "disabled") == 0)
				opts.cgroups_disabled = true;
			else if (strcmp(optarg, "cgroupfs") != 0)
				return usage_error("--cgroup-manager",
				                   "`%s` (cgroupfs or disabled)", optarg);
			break;
		case 'C':
			opts.cgroup_root = optarg;
			break;
		case 'P':
			opts.cgroup_parent = optarg;
			break;
		case 's':
		case 'D':
			break;
		case 'v':
			printf("agora-run version %s\nspec: 1.0.2\n", AGORA_VERSION);
			return 0;
		case 'h':
			print_usage();
			return 0;
		default:
			print_usage();
			return 2;
		}
	}
	if (optind >= argc) {
		print_usage();
		return 2;
	}
	const char *cmd = argv[optind];
	int sub_argc = argc - optind;
	char **sub_argv = &argv[optind];
	opts.warn = log_warning;
	opts.warn_ctx = (void *)cmd;

	if (strcmp(cmd, "create") == 0)
		return cmd_create_or_run(sub_argc, sub_argv, false);
	if (strcmp(cmd, "run") == 0)
		return cmd_create_or_run(sub_argc, sub_argv, true);
	if (strcmp(cmd, "start") == 0 || strcmp(cmd, "state") == 0 || strcmp(cmd, "pause") == 0 ||
	    strcmp(cmd, "resume") == 0 || strcmp(cmd, "stats") == 0)
		return cmd_simple(cmd, sub_argc, sub_argv);
	if (strcmp(cmd, "kill") == 0)
		return cmd_kill(sub_argc, sub_argv);
	if (strcmp(cmd, "delete") == 0)
		return cmd_delete(sub_argc, sub_argv);
	if (strcmp(cmd, "list") == 0)
		return cmd_list(sub_argc, sub_argv);
	if (strcmp(cmd, "ps") == 0)
		return cmd_ps(sub_argc, sub_argv);
	if (strcmp(cmd, "spec") == 0)
		return cmd_spec(sub_argc, sub_argv);
	if (strcmp(cmd, "exec") == 0) {
		/* The exec'd process joins a running container: run it from a
		 * sealed copy of ourselves (CVE-2019-5736). */
		struct ag_error err = {0};
		if (rt_exe_ensure_sealed(argv, &err) < 0)
			return fail("exec", &err);
		return cmd_exec(sub_argc, sub_argv);
	}
	return usage_error(cmd, "%s", "unknown command (see agora-run --help)");
}
