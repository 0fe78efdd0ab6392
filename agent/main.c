/* agora-agent: registers with the master, runs its tasks as containers,
 * reports their states reliably and survives being SIGKILLed (issue 6).
 *
 * One event loop (libevent): the master link (master_link.c), the
 * containerizer's fd (containerizer.h), the status update timer
 * (updates.h) and the operator endpoints (operator.c). */
#include "agent/agent.h"
#include "agent/flags.h"
#include "agent/master_link.h"
#include "common/log.h"

#include <event2/event.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static struct agent A;

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	(void)arg;
	ag_info("signal %d: exiting (tasks keep running)", (int)sig);
	event_base_loopbreak(A.base);
}

int main(int argc, char **argv)
{
	struct ctz_capacity_config capc = {0};
	/* The agent keeps pointers into it until it exits. */
	static struct agent_flags F;
	struct ag_error ferr = {0};
	agent_flags_init(&F);
	if (agent_flags_parse(&F, argc, argv, &ferr) < 0) {
		fprintf(stderr, "agora-agent: %s\n", ferr.msg);
		return 2;
	}
	if (F.help) {
		agent_flags_usage(stdout);
		return 0;
	}
	const char *master = F.master;
	A.work_dir = F.work_dir;
	A.hostname = F.hostname;
	A.ip = F.ip;
	A.cgroup_parent = F.cgroup_parent;
	A.images_dir = F.images_dir;
	A.port = F.port;
	A.attributes = TAKE_PTR(F.attributes);
	A.task_pids_max = F.task_pids_max;
	if (F.shutdown_grace_ns != AGENT_FLAGS_UNSET) {
		A.shutdown_grace_ms = (int64_t)(F.shutdown_grace_ns / 1000000);
		A.has_shutdown_grace = true;
	}
	A.exec_registration_timeout_ms = (int64_t)(F.executor_registration_timeout_ns / 1000000);
	A.exec_reregistration_timeout_ms =
	        (int64_t)(F.executor_reregistration_timeout_ns / 1000000);
	A.recovery_timeout_ms = (int64_t)(F.recovery_timeout_ns / 1000000);
	A.update_backoff_ms = F.update_backoff_ms;
	A.registration_backoff_ms = F.registration_backoff_ms;
	A.policy = (struct ctz_pol_config){
	        .bind_paths = F.policy_bind_paths,
	        .allow_host_mounts = F.policy_allow_host_mounts,
	        .allow_capabilities = F.policy_allow_capabilities,
	        .allow_unconfined = F.policy_allow_unconfined,
	        .allow_host_namespaces = F.policy_allow_host_namespaces,
	        .allow_root = F.policy_allow_root,
	        .allow_sysctls = F.policy_allow_sysctls,
	        .allow_devices = F.policy_allow_devices,
	        .allow_groups = F.policy_allow_groups,
	        .allow_rlimits = F.policy_allow_rlimits,
	        .frameworks_home = F.frameworks_home,
	        .allow_host_ids = F.policy_allow_host_ids,
	        .userns_first = F.userns.first,
	        .userns_count = F.userns.count,
	};
	A.fetch = (struct fetch_config){
	        .frameworks_home = F.frameworks_home,
	        .cache_size = F.fetcher_cache_size,
	        .max_bytes = F.fetcher_max_size,
	        .stall_timeout_ms = (int64_t)(F.fetcher_stall_timeout_ns / 1000000),
	};
	A.userns = F.userns;
	capc.resources = F.resources;
	capc.ports = F.ports;
	capc.no_isolation = F.no_isolation;
	int64_t gc_s = (int64_t)(F.sandbox_gc_delay_ns / 1000000000);
	if (!master || !A.work_dir || A.work_dir[0] != '/') {
		fputs("agora-agent: --master HOST:PORT and an absolute --work_dir are required\n",
		      stderr);
		agent_flags_usage(stderr);
		return 2;
	}
	if (F.frameworks_home && *F.frameworks_home && F.frameworks_home[0] != '/') {
		fprintf(stderr, "agora-agent: --frameworks_home: `%s` is not an absolute path\n",
		        F.frameworks_home);
		return 2;
	}
	/* HOST:PORT, several (307s followed), or zk:// (the leader followed). */
	if (agent_ml_check_master(master, &ferr) < 0) {
		fprintf(stderr, "agora-agent: %s\n", ferr.msg);
		return 2;
	}
	A.master_host = strdup(master);
	ag_log_set_level(F.log_level);
	mkdir(A.work_dir, 0700);

	struct ag_error err = {0};
	/* A root task's host ids must be nobody else's. */
	if (ctz_userns_pool_check_host(&A.userns, NULL, NULL, &err) < 0) {
		ag_err("%s", err.msg);
		return 1;
	}
	capc.work_dir = A.work_dir;
	/* Probe the controllers where the containerizer will create the
	 * tasks' cgroups, not at the root. */
	capc.cgroup_parent = A.cgroup_parent ? A.cgroup_parent : CTZ_DEFAULT_CGROUP_PARENT;
	if (ctz_capacity_measure(&capc, &A.cap, &err) < 0) {
		ag_err("%s", err.msg);
		return 1;
	}
	if (agent_init(&A, gc_s, &err) < 0) {
		ag_err("%s", err.msg);
		return 1;
	}
	/* What the master will be offered, in the --resources format (MB). */
	ag_info("work_dir %s, master %s, hostname %s, %s; resources "
	        "cpus:%g;mem:%llu;disk:%llu;ports:[%u-%u]%s%s",
	        A.work_dir, master, A.hostname,
	        A.cap.isolated ? "isolated" : "NOT isolated (--no_isolation)", A.cap.cpus,
	        (unsigned long long)(A.cap.mem_bytes / CTZ_MIB),
	        (unsigned long long)(A.cap.disk_bytes / CTZ_MIB), A.cap.port_lo, A.cap.port_hi,
	        A.agent_id ? "; agent id from the last run " : "", A.agent_id ? A.agent_id : "");
	if (A.userns.count)
		ag_info("root tasks: uid 0 in a user namespace of their own, each mapped to %u "
		        "host ids of --userns_range %u-%u (%u at once)",
		        A.userns.size, A.userns.first, A.userns.first + A.userns.count - 1,
		        ctz_userns_slots(&A.userns));
	else
		ag_info("root tasks: refused unless --policy_allow_root (--userns_range none)");
	signal(SIGPIPE, SIG_IGN);
	struct event *sigterm = evsignal_new(A.base, SIGTERM, on_signal, NULL);
	struct event *sigint = evsignal_new(A.base, SIGINT, on_signal, NULL);
	event_add(sigterm, NULL);
	event_add(sigint, NULL);
	struct event *ctzev =
	        event_new(A.base, ctz_fd(A.ctz), EV_READ | EV_PERSIST, agent_on_ctz, &A);
	event_add(ctzev, NULL);
	if (agent_recover(&A, &err) < 0) {
		ag_err("recovery: %s", err.msg);
		return 1;
	}
	if (A.port > 0) {
		if (agent_operator_start(&A, &err) < 0) {
			ag_err("%s", err.msg);
			return 1;
		}
		ag_info("operator endpoints on %s:%d", A.ip ? A.ip : "127.0.0.1", A.port);
	}
	agent_ml_start(A.link);
	event_base_dispatch(A.base);
	event_free(ctzev);
	event_free(sigterm);
	event_free(sigint);
	agent_fini(&A);
	return 0;
}
