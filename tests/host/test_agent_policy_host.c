/* The agent's policy against the real agent (issue 12, part 1): what a
 * framework of user `nobody` could do to the host through an agent with no
 * policy flags, each reproduction a task that must now end in TASK_ERROR
 * naming the field (or, for command tasks, run without the capabilities
 * that made root reachable); the agent's work dir and database closed to
 * other users; /files/read matching task ids exactly (part 9).
 *
 * Tasks given as OCI-like specs run in an image made of the static
 * busybox and tests/host/probe. --no_isolation: no cgroups needed. */
#include "agentd_harness.h"
#include "agtest.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char work[64];
static pid_t agent = -1;
static int op_port;

/* More flags for the next start_agent() (NULL-terminated). */
static const char *agent_extra[8];

static void start_agent(void)
{
	char bin[512], master[64], log[128], port[16];
	const char *b = getenv("AGORA_BUILD_DIR");
	snprintf(bin, sizeof(bin), "%s/bin/agora-agent", b ? b : "build");
	snprintf(master, sizeof(master), "127.0.0.1:%d", fm.port);
	snprintf(log, sizeof(log), "%s.log", work);
	op_port = ah_free_port();
	snprintf(port, sizeof(port), "%d", op_port);
	const char *argv[32] = {bin,          "--master",    master,
	                        "--work_dir", work,          "--no_isolation",
	                        "--hostname", "h1",          "--update_backoff_ms",
	                        "200",        "--resources", "cpus:2;mem:1024",
	                        "--port",     port};
	size_t n = 14;
	for (size_t i = 0; agent_extra[i]; i++)
		argv[n++] = agent_extra[i];
	agent = ah_spawn(log, argv);
	cr_assert(agent > 0);
}

static void setup(void)
{
	agt_root_dir(work, sizeof(work), "policy");
	/* The image: busybox and the probe, both static. */
	const char *b = getenv("AGORA_BUILD_DIR");
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
	         "mkdir -p %s/images/bb/bin %s/images/bb/proc %s/images/bb/h && "
	         "cp /bin/busybox %s/images/bb/bin/ && cp %s/tests/probe %s/images/bb/bin/",
	         work, work, work, work, b ? b : "build", work);
	cr_assert(system(cmd) == 0, "needs /bin/busybox (busybox-static) and the probe");
	cr_assert(fm_start() == 0);
	start_agent();
	WAIT_FOR(fm_registers() >= 1, 10);
}

static void teardown(void)
{
	if (agent > 0) {
		kill(agent, SIGTERM);
		waitpid(agent, NULL, 0);
		agent = -1;
	}
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
	         "for f in %s/run/*/monitor; do [ -f $f ] && kill -9 $(sed -n 's/^pid=//p' $f) "
	         "2>/dev/null; done; sleep 0.2; cp %s.log /tmp/last-policy.log; rm -rf %s %s.log",
	         work, work, work, work);
	if (work[0])
		cr_expect(system(cmd) == 0);
}

TestSuite(agent_policy_host, .init = setup, .fini = teardown, .timeout = 120);

#define NOBODY "{\"uid\":65534,\"gid\":65534}"

/* An OCI-like task in the image `bb`: `user` and `args` JSON values,
 * `process` more members of process (may be NULL), `mounts` more mounts
 * after /proc, `top` more members of the spec (each NULL or starting with
 * ','). */
static void run_oci(const char *id, const char *user, const char *args, const char *process,
                    const char *mounts, const char *top)
{
	char extra[4096];
	snprintf(extra, sizeof(extra),
	         ",\"container\":{\"type\":\"MESOS\",\"oci\":{\"ociVersion\":\"1.0.2\","
	         "\"root\":{\"path\":\"bb\"},\"process\":{\"user\":%s,"
	         "\"cwd\":\"/\",\"args\":%s%s},\"mounts\":[{\"destination\":\"/proc\","
	         "\"type\":\"proc\",\"source\":\"proc\"}%s]%s}}",
	         user, args, process ? process : "", mounts ? mounts : "", top ? top : "");
	fm_run_task(id, "nobody", NULL, NULL, extra);
}

/* The task's stdout (from /files/read) into out. */
static void task_stdout(const char *id, char *out, size_t n)
{
	char path[256];
	snprintf(path, sizeof(path), "/files/read?task=%s&file=stdout", id);
	cr_assert_eq(ah_http_get(op_port, path, out, n), 200, "%s", out);
}

/* The task ended: in TASK_ERROR whose message has `needle`; otherwise the
 * assertion shows what the task printed (the reproduction succeeding). */
static void expect_refused(const char *id, const char *needle)
{
	WAIT_FOR(fm_count(id, "TASK_ERROR") >= 1 || fm_count(id, "TASK_FINISHED") >= 1 ||
	                 fm_count(id, "TASK_FAILED") >= 1,
	         30);
	char states[256];
	fm_states(id, states, sizeof(states));
	if (fm_count(id, "TASK_ERROR") < 1) {
		char out[4096];
		task_stdout(id, out, sizeof(out));
		cr_assert_fail("task %s was accepted (%s); it printed %s", id, states, out);
	}
	pthread_mutex_lock(&fm.mu);
	for (int i = 0; i < fm.n_upd; i++)
		if (strcmp(fm.upd[i].task, id) == 0) {
			cr_expect(strstr(fm.upd[i].msg, needle), "`%s` not in `%s`", needle,
			          fm.upd[i].msg);
			cr_expect_str_eq(fm.upd[i].reason, "REASON_TASK_INVALID");
		}
	pthread_mutex_unlock(&fm.mu);
}

#define PRIV_CAPS "[\"CAP_DAC_OVERRIDE\",\"CAP_SETUID\",\"CAP_SETGID\"]"

/* (a) CAP_DAC_OVERRIDE, CAP_SETUID, CAP_SETGID in every set, ambient
 * included: a setuid(0) helper became the host's root and could write
 * core_pattern. */
Test(agent_policy_host, oci_privilege_raising_capabilities_are_refused)
{
	run_oci("caps", NOBODY, "[\"/bin/probe\",\"setuid0\",\"/proc/sys/kernel/core_pattern\"]",
	        ",\"capabilities\":{\"bounding\":" PRIV_CAPS ",\"effective\":" PRIV_CAPS
	        ",\"permitted\":" PRIV_CAPS ",\"inheritable\":" PRIV_CAPS ",\"ambient\":" PRIV_CAPS
	        "}",
	        NULL, NULL);
	expect_refused("caps", "container.oci.process.capabilities.bounding: CAP_DAC_OVERRIDE "
	                       "is not allowed for role \"web\"");
}

/* (a) for command tasks: a task of a user has no capabilities (the exec
 * as that user already dropped them), and its bounding set, which held
 * the default 14 with CAP_SETUID and CAP_DAC_OVERRIDE (what a setuid
 * binary could have regained), now holds none that raises privileges. */
Test(agent_policy_host, command_tasks_of_a_user_cannot_become_root)
{
	fm_run_task("cmd", "nobody",
	            "if setpriv --reuid=0 --regid=0 --clear-groups id -u; then exit 7; fi; "
	            "grep -E '^Cap(Eff|Prm|Inh|Amb|Bnd):' /proc/self/status",
	            NULL, NULL);
	WAIT_FOR(fm_count("cmd", "TASK_FINISHED") >= 1 || fm_count("cmd", "TASK_FAILED") >= 1, 30);
	char out[4096];
	task_stdout("cmd", out, sizeof(out));
	cr_assert_eq(fm_count("cmd", "TASK_FAILED"), -1, "nobody became root: %s", out);
	cr_expect(strstr(out, "CapEff:\\t0000000000000000"), "%s", out);
	cr_expect(strstr(out, "CapPrm:\\t0000000000000000"), "%s", out);
	cr_expect(strstr(out, "CapAmb:\\t0000000000000000"), "%s", out);
	/* CAP_KILL 5, CAP_NET_BIND_SERVICE 10, CAP_SYS_CHROOT 18,
	 * CAP_AUDIT_WRITE 29 */
	cr_expect(strstr(out, "CapBnd:\\t0000000020040420"), "%s", out);
}

/* (b) an overlay whose lower layers are host directories: the task read
 * the host's /etc. */
Test(agent_policy_host, overlay_of_host_directories_is_refused)
{
	run_oci("ovl", NOBODY, "[\"/bin/probe\",\"read\",\"/h/hostname\"]", NULL,
	        ",{\"destination\":\"/h\",\"type\":\"overlay\",\"source\":\"overlay\","
	        "\"options\":[\"lowerdir=/etc:/srv\"]}",
	        NULL);
	expect_refused("ovl", "container.oci.mounts[1].options[0]: the overlay layer `/etc` "
	                      "of the host");
}

/* (c) additionalGids: the host's root, shadow and disk groups. */
Test(agent_policy_host, additional_host_groups_are_refused)
{
	run_oci("gids", "{\"uid\":65534,\"gid\":65534,\"additionalGids\":[42,6,0]}",
	        "[\"/bin/probe\",\"status\",\"Groups\"]", NULL, NULL, NULL);
	expect_refused("gids", "container.oci.process.user.additionalGids[0]: the host's group 42");
}

/* (d) linux.devices: a task made itself the host's disk, /dev/vda. */
Test(agent_policy_host, device_nodes_are_refused)
{
	run_oci("dev", NOBODY, "[\"/bin/busybox\",\"ls\",\"-l\",\"/dev/vda\"]", NULL, NULL,
	        ",\"linux\":{\"devices\":[{\"path\":\"/dev/vda\",\"type\":\"b\",\"major\":254,"
	        "\"minor\":0,\"fileMode\":438,\"uid\":65534,\"gid\":65534}]}");
	expect_refused("dev", "container.oci.linux.devices[0]: a device node");
}

/* Fields nobody has classified, and those that would run on the host. */
Test(agent_policy_host, unknown_fields_and_hooks_are_refused)
{
	unlink("/tmp/agora-policy-hook-ran");
	run_oci("hook", NOBODY, "[\"/bin/busybox\",\"true\"]", NULL, NULL,
	        ",\"hooks\":{\"createRuntime\":[{\"path\":\"/bin/touch\",\"args\":[\"touch\","
	        "\"/tmp/agora-policy-hook-ran\"]}]}");
	run_oci("rdt", NOBODY, "[\"/bin/busybox\",\"true\"]", NULL, NULL,
	        ",\"linux\":{\"intelRdt\":{}}");
	run_oci("unk", NOBODY, "[\"/bin/busybox\",\"true\"]",
	        ",\"ioPriority\":{\"class\":\"IOPRIO_CLASS_RT\"}", NULL, NULL);
	fm_run_task("vol", "nobody", "true", NULL,
	            ",\"container\":{\"type\":\"MESOS\",\"volumes\":[{\"container_path\":\"/x\","
	            "\"host_path\":\"/etc\",\"mode\":\"RW\"}]}");
	expect_refused("hook", "container.oci.hooks: hooks run on the host");
	cr_expect(access("/tmp/agora-policy-hook-ran", F_OK) < 0, "the hook ran on the host");
	unlink("/tmp/agora-policy-hook-ran");
	expect_refused("rdt", "container.oci.linux.intelRdt: not supported");
	expect_refused("unk", "container.oci.process.ioPriority: unknown field");
	expect_refused("vol", "task.container.volumes: not supported");
}

/* The agent's database holds every TaskInfo: neither it nor the work dir
 * is readable by other users (the WAL was 0644). */
Test(agent_policy_host, the_work_dir_and_database_are_private)
{
	fm_run_task("t1", "nobody", "echo hi", NULL, NULL);
	WAIT_FOR(fm_count("t1", "TASK_FINISHED") >= 1, 30);
	const char *names[] = {"", "/agent.db", "/agent.db-wal"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char p[128];
		snprintf(p, sizeof(p), "%s%s", work, names[i]);
		struct stat st;
		cr_assert(stat(p, &st) == 0, "%s: %s", p, strerror(errno));
		cr_expect_eq(st.st_mode & 077, 0, "%s is mode %o", p, st.st_mode & 07777);
	}
}

/* Part 9: a task id is matched with its decoded length; an embedded NUL
 * does not end it early. */
Test(agent_policy_host, files_read_matches_ids_exactly)
{
	fm_run_task("t1", "nobody", "echo hi", NULL, NULL);
	WAIT_FOR(fm_count("t1", "TASK_FINISHED") >= 1, 30);
	char out[4096];
	cr_assert_eq(ah_http_get(op_port, "/files/read?task=t1&file=stdout", out, sizeof(out)), 200,
	             "%s", out);
	cr_expect(strstr(out, "\"data\":\"hi\\n\""), "%s", out);
	cr_expect_eq(
	        ah_http_get(op_port, "/files/read?task=t1%00junk&file=stdout", out, sizeof(out)),
	        400, "%s", out);
	cr_expect(strstr(out, "\"field\":\"task\""), "%s", out);
	cr_expect_eq(ah_http_get(op_port, "/files/read?task=t1&file=stdout%00x", out, sizeof(out)),
	             400, "%s", out);
	cr_expect_eq(ah_http_get(op_port, "/files/read?task=t1&framework=F0%00&file=stdout", out,
	                         sizeof(out)),
	             400, "%s", out);
}

/* The flags reach the policy: a role they name gets what the others are
 * refused, and only that. */
Test(agent_policy_host, flags_allow_a_role_its_escalations)
{
	kill(agent, SIGTERM);
	waitpid(agent, NULL, 0);
	int before = fm_registers();
	agent_extra[0] = "--policy_allow_devices";
	agent_extra[1] = "web";
	agent_extra[2] = "--policy_allow_groups";
	agent_extra[3] = "web";
	start_agent();
	agent_extra[0] = NULL;
	WAIT_FOR(fm_registers() > before, 10);
	run_oci("dev", NOBODY, "[\"/bin/busybox\",\"ls\",\"-l\",\"/dev/vda\"]", NULL, NULL,
	        ",\"linux\":{\"devices\":[{\"path\":\"/dev/vda\",\"type\":\"b\",\"major\":254,"
	        "\"minor\":0,\"fileMode\":384,\"uid\":65534,\"gid\":65534}]}");
	run_oci("gids", "{\"uid\":65534,\"gid\":65534,\"additionalGids\":[42,6]}",
	        "[\"/bin/probe\",\"status\",\"Groups\"]", NULL, NULL, NULL);
	/* still no capability that raises privileges */
	run_oci("caps", NOBODY, "[\"/bin/busybox\",\"true\"]",
	        ",\"capabilities\":{\"ambient\":[\"CAP_SETUID\"]}", NULL, NULL);
	WAIT_FOR(fm_count("dev", "TASK_FINISHED") >= 1, 30);
	WAIT_FOR(fm_count("gids", "TASK_FINISHED") >= 1, 30);
	char out[4096];
	task_stdout("dev", out, sizeof(out));
	cr_expect(strstr(out, "brw-------") && strstr(out, "254,"), "%s", out);
	task_stdout("gids", out, sizeof(out));
	cr_expect(strstr(out, "Groups:\\t6 42"), "%s", out);
	expect_refused("caps", "CAP_SETUID is not allowed for role \"web\"");
}
