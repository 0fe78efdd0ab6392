/* Root without danger (issue 15, part 1), the host's ids, against the real
 * agora-agent:
 *   - the agent refuses to START when its --userns_range pool holds a host
 *     user's uid, a host group's gid, or part of a line of /etc/subuid or
 *     /etc/subgid (exit 1, the message naming the flag and what it holds).
 *     The host's files are never written: each agent runs in a mount
 *     namespace of its own (unshare(CLONE_NEWNS), MS_PRIVATE) where a copy
 *     of the file, with the overlapping line added, is bound over it;
 *   - an OCI-like task whose own user namespace maps a host user (uid 0
 *     inside -> that user's uid) is TASK_ERROR naming the map and
 *     --policy_allow_host_ids, and runs once its role is in that flag.
 * --no_isolation: no cgroups needed. */
#include "agentd_harness.h"
#include "agtest.h"
#include "common/common.h"

#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char work[64];

/* A pool of one range, far above any id useradd hands out. */
#define POOL "2100000000-2100065535"

static void setup(void)
{
	agt_root_dir(work, sizeof(work), "userns-hostids");
}

static void teardown(void)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s.*", work, work);
	if (work[0])
		cr_expect(system(cmd) == 0);
}

TestSuite(userns_host_ids, .init = setup, .fini = teardown, .timeout = 120);

static const char *agent_bin(void)
{
	static char bin[512];
	const char *b = getenv("AGORA_BUILD_DIR");
	snprintf(bin, sizeof(bin), "%s/bin/agora-agent", b ? b : "build");
	return bin;
}

/* The host's `path` with `line` added, in a file of the test's. */
static char *copy_with(const char *path, const char *line)
{
	_cleanup_free_ char *text = NULL;
	cr_assert_eq(ag_read_file_at(AT_FDCWD, path, 1 << 22, &text, NULL), 0, "read %s", path);
	char *copy = ag_asprintf("%s.%s", work, strrchr(path, '/') + 1);
	_cleanup_free_ char *all = ag_asprintf(
	        "%s%s%s\n", text, text[0] && text[strlen(text) - 1] != '\n' ? "\n" : "", line);
	cr_assert_eq(ag_write_file_atomic_at(AT_FDCWD, copy, all, strlen(all), 0644), 0);
	return copy;
}

/* Starts the agent with --userns_range POOL in a mount namespace of its
 * own where `copy` (if any) is bound over `path`. Returns its exit status
 * when it exits within 20 s, else -1 once it logged its start (then it is
 * stopped). Its log in `log` (n bytes). */
static int start_agent(const char *path, const char *copy, char *log, size_t n)
{
	_cleanup_free_ char *log_path = ag_asprintf("%s.log", work);
	unlink(log_path);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(120);
		if (copy && mount(copy, path, NULL, MS_BIND, NULL) < 0)
			_exit(121);
		int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(122);
		_cleanup_free_ char *wd = ag_asprintf("%s/wd", work);
		const char *argv[] = {
		        agent_bin(),      "--master", "127.0.0.1:1", "--work_dir",     wd,
		        "--no_isolation", "--port",   "0",           "--userns_range", POOL,
		        "--userns_size",  "65536",    NULL};
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	int status = 0, ret = -2;
	for (int i = 0; i < 400 && ret == -2; i++) {
		usleep(50000);
		if (waitpid(pid, &status, WNOHANG) == pid) {
			cr_assert(WIFEXITED(status), "the agent died of signal %d",
			          WTERMSIG(status));
			ret = WEXITSTATUS(status);
			cr_assert(ret < 120, "the test's child failed before the agent: %d", ret);
			break;
		}
		_cleanup_free_ char *text = NULL;
		if (ag_read_file_at(AT_FDCWD, log_path, 1 << 20, &text, NULL) == 0 &&
		    strstr(text, "root tasks:"))
			ret = -1;
	}
	if (ret < 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
	cr_assert(ret != -2, "the agent neither exited nor started in 20 s");
	_cleanup_free_ char *text = NULL;
	cr_assert_eq(ag_read_file_at(AT_FDCWD, log_path, 1 << 20, &text, NULL), 0);
	snprintf(log, n, "%s", text);
	return ret;
}

static void refused_at_start(const char *path, const char *line, const char *needle)
{
	if (access(path, F_OK) < 0)
		AG_SKIP("no %s on this host to bind a copy over", path);
	char log[8192];
	/* The same agent starts without the line: the line is the reason. */
	cr_assert_eq(start_agent(NULL, NULL, log, sizeof(log)), -1, "%s", log);
	_cleanup_free_ char *copy = copy_with(path, line);
	cr_expect_eq(start_agent(path, copy, log, sizeof(log)), 1, "%s", log);
	cr_expect(strstr(log, needle), "`%s` not in `%s`", needle, log);
	unlink(copy);
}

Test(userns_host_ids, a_pool_holding_a_host_users_uid_is_refused_at_start)
{
	refused_at_start("/etc/passwd",
	                 "agora-pooluser:x:2100000005:65534::/nonexistent:/bin/false",
	                 "--userns_range: 2100000000-2100065535 holds the uid 2100000005 of the "
	                 "host's user `agora-pooluser`");
}

Test(userns_host_ids, a_pool_holding_a_host_groups_gid_is_refused_at_start)
{
	refused_at_start("/etc/group", "agora-poolgroup:x:2100065535:",
	                 "--userns_range: 2100000000-2100065535 holds the gid 2100065535 of the "
	                 "host's group `agora-poolgroup`");
}

Test(userns_host_ids, a_pool_meeting_a_subuid_line_is_refused_at_start)
{
	refused_at_start("/etc/subuid", "nobody:2099999999:2",
	                 "--userns_range: 2100000000-2100065535 overlaps the subordinate ids of "
	                 "`/etc/subuid` line");
}

Test(userns_host_ids, a_pool_meeting_a_subgid_line_is_refused_at_start)
{
	refused_at_start("/etc/subgid", "nobody:2100065535:65536",
	                 "--userns_range: 2100000000-2100065535 overlaps the subordinate ids of "
	                 "`/etc/subgid` line");
}

/* ---- a framework's own id maps -------------------------------------- */

static pid_t agent = -1;

static void start_with_fm(const char *allow_roles)
{
	cr_assert(fm_start() == 0);
	char master[64], log[128], wd[96];
	snprintf(master, sizeof(master), "127.0.0.1:%d", fm.port);
	snprintf(log, sizeof(log), "%s.log", work);
	snprintf(wd, sizeof(wd), "%s/wd", work);
	const char *argv[] = {agent_bin(),
	                      "--master",
	                      master,
	                      "--work_dir",
	                      wd,
	                      "--no_isolation",
	                      "--hostname",
	                      "h1",
	                      "--update_backoff_ms",
	                      "200",
	                      "--resources",
	                      "cpus:2;mem:1024",
	                      "--port",
	                      "0",
	                      "--policy_allow_host_ids",
	                      allow_roles,
	                      NULL};
	agent = ah_spawn(log, argv);
	cr_assert(agent > 0);
	WAIT_FOR(fm_registers() >= 1, 30);
}

static void stop(void)
{
	if (agent > 0) {
		kill(agent, SIGTERM);
		waitpid(agent, NULL, 0);
	}
	agent = -1;
	teardown();
}

static void run_mapped(const char *id, uid_t host_uid)
{
	char extra[2048];
	snprintf(extra, sizeof(extra),
	         ",\"container\":{\"type\":\"MESOS\",\"oci\":{\"ociVersion\":\"1.0.2\","
	         "\"root\":{\"path\":\"no-such-image\"},\"process\":{\"user\":{\"uid\":0,"
	         "\"gid\":0},\"args\":[\"/bin/true\"],\"cwd\":\"/\"},\"linux\":{\"namespaces\":"
	         "[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"user\"}],\"uidMappings\":"
	         "[{\"containerID\":0,\"hostID\":%u,\"size\":1}],\"gidMappings\":[{"
	         "\"containerID\":0,\"hostID\":3000000000,\"size\":1}]}}}",
	         (unsigned)host_uid);
	fm_run_task(id, "nobody", NULL, NULL, extra);
}

static void msg_of(const char *id, const char *state, char *out, size_t n)
{
	out[0] = '\0';
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd; i++)
		if (strcmp(fm.upd[i].task, id) == 0 && strcmp(fm.upd[i].state, state) == 0)
			snprintf(out, n, "%s [%s]", fm.upd[i].msg, fm.upd[i].reason);
	pthread_mutex_unlock(&fm.mu);
}

Test(userns_host_ids, an_oci_task_mapping_a_host_user_is_refused_naming_the_map, .fini = stop)
{
	struct passwd *pw = getpwnam("nobody");
	cr_assert(pw, "needs the host user nobody");
	start_with_fm("db");
	run_mapped("m", pw->pw_uid);
	WAIT_FOR(fm_count("m", "TASK_ERROR") >= 1 || fm_count("m", "TASK_FAILED") >= 1, 30);
	char m[1024], states[256];
	msg_of("m", "TASK_ERROR", m, sizeof(m));
	fm_states("m", states, sizeof(states));
	cr_assert_str_eq(states, "TASK_ERROR");
	char needle[256];
	snprintf(needle, sizeof(needle),
	         "container.oci.linux.uidMappings[0]: host ids %u-%u reach the uid %u of the "
	         "host's user `nobody`, not allowed for role \"web\" (agent flag "
	         "--policy_allow_host_ids)",
	         (unsigned)pw->pw_uid, (unsigned)pw->pw_uid, (unsigned)pw->pw_uid);
	cr_expect(strstr(m, needle), "%s", m);
	cr_expect(strstr(m, "[REASON_TASK_INVALID]"), "%s", m);
}

Test(userns_host_ids, the_flag_lets_a_role_map_a_host_user, .fini = stop)
{
	struct passwd *pw = getpwnam("nobody");
	cr_assert(pw, "needs the host user nobody");
	start_with_fm("db,web");
	run_mapped("m", pw->pw_uid);
	/* past the policy: the launch fails on the image it does not have */
	WAIT_FOR(fm_count("m", "TASK_ERROR") >= 1 || fm_count("m", "TASK_FAILED") >= 1, 30);
	char m[1024];
	msg_of("m", "TASK_ERROR", m, sizeof(m));
	cr_expect(!strstr(m, "uidMappings"), "%s", m);
	msg_of("m", "TASK_FAILED", m, sizeof(m));
	cr_expect(!strstr(m, "uidMappings"), "%s", m);
}
