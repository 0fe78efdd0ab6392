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

static void log_error(const char *cmd, const char *msg)
{
	fprintf(stderr, "agora-run: %s: %s\n", cmd, msg);
	if (!log_path)
		return;
	int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char *line;
	if (strcmp(log_format, "json") == 0) {
		json_t *j = json_pack("{s:s, s:s, s:f}", "level", "error", "msg", msg, "time",
		                      (double)ts.tv_sec + ts.tv_nsec / 1e9);
		char *t = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		line = ag_asprintf("%s\n", t ? t : "{}");
		free(t);
	} else {
		line = ag_asprintf("%lld.%03ld error %s: %s\n", (long long)ts.tv_sec,
		                   ts.tv_nsec / 1000000, cmd, msg);
	}
	ag_write_all(fd, line, strlen(line));
	free(line);
	close(fd);
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
	       "Commands:\n"
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
	       "  delete [--force] ID                      remove a stopped container\n"
	       "  exec [--cwd D] [--env K=V] ID -- CMD...  run a command in a running container\n"
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

static int write_pid_file(const char *path, pid_t pid, struct ag_error *err)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
	int r = ag_write_file_atomic_at(AT_FDCWD, path, buf, (size_t)n, 0644);
	if (r < 0)
		return ag_error_set(err, -r, "write the pid file `%s`", path);
	return 0;
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
			print_usage();
			return 0;
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
	if (pid_file && write_pid_file(pid_file, pid, &err) < 0) {
		rt_container_delete(&opts, id, true, NULL);
		return fail(cmd, &err);
	}
	return 0;
}

static int need_id(const char *cmd, int argc, char **argv)
{
	if (argc != 2)
		return usage_error(cmd, "%s", "expects exactly one container id");
	(void)argv;
	return 0;
}

static int cmd_simple(const char *cmd, int argc, char **argv)
{
	int r = need_id(cmd, argc, argv);
	if (r)
		return r;
	struct ag_error err = {0};
	const char *id = argv[1];
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
	static const struct option lo[] = {{"all", no_argument, NULL, 'a'}, {0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+a", lo, NULL)) != -1)
		if (c == 'a')
			all = true;
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
	static const struct option lo[] = {{"force", no_argument, NULL, 'f'}, {0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+f", lo, NULL)) != -1)
		if (c == 'f')
			force = true;
		else
			return usage_error("delete", "%s", "unknown option");
	if (optind != argc - 1)
		return usage_error("delete", "%s", "expects exactly one container id");
	struct ag_error err = {0};
	if (rt_container_delete(&opts, argv[optind], force, &err) < 0)
		return fail("delete", &err);
	return 0;
}

static int parse_format(const char *cmd, int argc, char **argv, bool *json, bool *quiet)
{
	static const struct option lo[] = {
	        {"format", required_argument, NULL, 'f'}, {"quiet", no_argument, NULL, 'q'}, {0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+f:q", lo, NULL)) != -1) {
		if (c == 'f') {
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
		return r;
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
		return r;
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

static int cmd_exec(int argc, char **argv)
{
	const char *cwd = NULL;
	char **env = NULL;
	size_t n_env = 0;
	static const struct option lo[] = {{"cwd", required_argument, NULL, 'w'},
	                                   {"env", required_argument, NULL, 'e'},
	                                   {"detach", no_argument, NULL, 'd'},
	                                   {"tty", no_argument, NULL, 't'},
	                                   {0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+w:e:dt", lo, NULL)) != -1) {
		if (c == 'w') {
			cwd = optarg;
		} else if (c == 'e') {
			if (!strchr(optarg, '='))
				return usage_error("exec", "--env: `%s` is not KEY=VALUE", optarg);
			env = ag_realloc(env, (n_env + 2) * sizeof(*env));
			env[n_env++] = optarg;
			env[n_env] = NULL;
		} else if (c != 'd' && c != 't') {
			return usage_error("exec", "%s", "unknown option");
		}
	}
	if (optind + 2 > argc)
		return usage_error("exec", "%s", "expects ID -- COMMAND [ARGS...]");
	const char *id = argv[optind++];
	if (strcmp(argv[optind], "--") == 0)
		optind++;
	if (optind >= argc)
		return usage_error("exec", "%s", "expects ID -- COMMAND [ARGS...]");
	struct ag_error err = {0};
	int status = 1;
	int r = rt_container_exec(&opts, id, &argv[optind], cwd, env, &status, &err);
	free(env);
	if (r < 0)
		return fail("exec", &err);
	return status;
}

static int cmd_spec(int argc, char **argv)
{
	const char *bundle = ".";
	static const struct option lo[] = {{"bundle", required_argument, NULL, 'b'},
	                                   {"rootless", no_argument, NULL, 'r'},
	                                   {0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+b:", lo, NULL)) != -1)
		if (c == 'b')
			bundle = optarg;
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

int main(int argc, char **argv)
{
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
