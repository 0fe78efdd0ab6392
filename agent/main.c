/* agora-agent: registers with the master, runs its tasks as containers,
 * reports their states reliably and survives being SIGKILLed (issue 6).
 *
 * One event loop (libevent): the master link (master_link.c), the
 * containerizer's fd (containerizer.h), the status update timer
 * (updates.h) and the operator endpoints (operator.c). */
#include "agent/agent.h"
#include "agent/flags.h"
#include "common/log.h"

#include <event2/event.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static void usage(FILE *f)
{
	fputs("usage: agora-agent --master HOST:PORT --work_dir DIR [options]\n"
	      "  --hostname NAME             reported hostname (default: uname)\n"
	      "  --port N                    operator endpoints on IP:N (0: none)\n"
	      "  --ip ADDR                   operator endpoints' address (default 127.0.0.1)\n"
	      "  --cgroup_parent PATH        tasks' cgroups, below the cgroup2 root\n"
	      "                              (default " CTZ_DEFAULT_CGROUP_PARENT ")\n"
	      "  --resources TEXT            override: cpus:2;mem:1024;disk:..;ports:[a-b]\n"
	      "  --attributes TEXT           rack:r1;cores:8;ports:[1-9];tags:{a,b} (Mesos)\n"
	      "  --executor_shutdown_grace_period D  a task's grace at a framework's\n"
	      "                              shutdown without its own kill_policy (5secs)\n"
	      "  --task_pids_max N           pids.max of every task (default 4096)\n"
	      "  --ports LO-HI               port range (default 31000-32000)\n"
	      "  --images_dir DIR            rootfs images of OCI-like specs\n"
	      "  --no_isolation              run without cgroup v2 limits\n"
	      "  --sandbox_gc_delay SECONDS  keep ended sandboxes (default a week)\n"
	      "  --policy_bind_paths P,..    host paths any role may bind\n"
	      "  --policy_allow_host_mounts ROLES, --policy_allow_capabilities ROLES,\n"
	      "  --policy_allow_unconfined ROLES, --policy_allow_host_namespaces ROLES,\n"
	      "  --policy_allow_root ROLES, --policy_allow_sysctls ROLES,\n"
	      "  --policy_allow_devices ROLES, --policy_allow_groups ROLES,\n"
	      "  --policy_allow_rlimits ROLES\n"
	      "                              roles (comma list, \"*\": all) allowed to escalate\n"
	      "  --update_backoff_ms N       first status update retry (default 10000)\n"
	      "  --registration_backoff_ms N first re-registration delay (default 1000)\n"
	      "  --log_level LEVEL           debug, info, warning or error (default info)\n",
	      f);
}

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
	struct cap_config capc = {0};
	const char *master = NULL;
	enum ag_log_level log_level = AG_LOG_INFO;
	int64_t gc_s = 0;
	enum {
		O_MASTER = 256,
		O_WORK,
		O_PORT,
		O_RES,
		O_ATTR,
		O_PORTS,
		O_IMAGES,
		O_NOISO,
		O_GC,
		O_BIND,
		O_HM,
		O_CAPS,
		O_UNC,
		O_NS,
		O_ROOT,
		O_SYSCTL,
		O_UBO,
		O_RBO,
		O_HOST,
		O_IP,
		O_CGP,
		O_ESGP,
		O_PIDS,
		O_DEVS,
		O_GROUPS,
		O_RLIM,
		O_LOG,
		O_HELP,
	};
	static const struct option opts[] = {
	        {"master", required_argument, NULL, O_MASTER},
	        {"work_dir", required_argument, NULL, O_WORK},
	        {"port", required_argument, NULL, O_PORT},
	        {"resources", required_argument, NULL, O_RES},
	        {"attributes", required_argument, NULL, O_ATTR},
	        {"ports", required_argument, NULL, O_PORTS},
	        {"images_dir", required_argument, NULL, O_IMAGES},
	        {"no_isolation", no_argument, NULL, O_NOISO},
	        {"no-isolation", no_argument, NULL, O_NOISO},
	        {"sandbox_gc_delay", required_argument, NULL, O_GC},
	        {"policy_bind_paths", required_argument, NULL, O_BIND},
	        {"policy_allow_host_mounts", required_argument, NULL, O_HM},
	        {"policy_allow_capabilities", required_argument, NULL, O_CAPS},
	        {"policy_allow_unconfined", required_argument, NULL, O_UNC},
	        {"policy_allow_host_namespaces", required_argument, NULL, O_NS},
	        {"policy_allow_root", required_argument, NULL, O_ROOT},
	        {"policy_allow_sysctls", required_argument, NULL, O_SYSCTL},
	        {"policy_allow_devices", required_argument, NULL, O_DEVS},
	        {"policy_allow_groups", required_argument, NULL, O_GROUPS},
	        {"policy_allow_rlimits", required_argument, NULL, O_RLIM},
	        {"update_backoff_ms", required_argument, NULL, O_UBO},
	        {"registration_backoff_ms", required_argument, NULL, O_RBO},
	        {"hostname", required_argument, NULL, O_HOST},
	        {"ip", required_argument, NULL, O_IP},
	        {"cgroup_parent", required_argument, NULL, O_CGP},
	        {"executor_shutdown_grace_period", required_argument, NULL, O_ESGP},
	        {"task_pids_max", required_argument, NULL, O_PIDS},
	        {"log_level", required_argument, NULL, O_LOG},
	        {"help", no_argument, NULL, O_HELP},
	        {0},
	};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case O_MASTER:
			master = optarg;
			break;
		case O_WORK:
			A.work_dir = optarg;
			break;
		case O_PORT: {
			int64_t p;
			if (ag_parse_i64(optarg, &p) < 0 || p < 0 || p > 65535) {
				fprintf(stderr, "agora-agent: --port: 0..65535, got `%s`\n",
				        optarg);
				return 2;
			}
			A.port = (int)p;
			break;
		}
		case O_RES:
			capc.resources = optarg;
			break;
		case O_ATTR: {
			struct ag_error aerr = {0};
			json_decref(A.attributes);
			if (flg_parse_attributes(optarg, &A.attributes, &aerr) < 0) {
				fprintf(stderr, "agora-agent: %s\n", aerr.msg);
				return 2;
			}
			break;
		}
		case O_PIDS:
			if (ag_parse_i64(optarg, &A.task_pids_max) < 0 || A.task_pids_max < 1) {
				fprintf(stderr,
				        "agora-agent: --task_pids_max: a number of processes >= 1, "
				        "got `%s`\n",
				        optarg);
				return 2;
			}
			break;
		case O_ESGP: {
			int64_t ns = 0;
			struct ag_error derr = {0};
			if (ag_parse_duration_flag("--executor_shutdown_grace_period", optarg, &ns,
			                           &derr) < 0) {
				fprintf(stderr, "agora-agent: %s\n", derr.msg);
				return 2;
			}
			A.shutdown_grace_ms = ns / 1000000;
			A.has_shutdown_grace = true;
			break;
		}
		case O_PORTS:
			capc.ports = optarg;
			break;
		case O_IMAGES:
			A.images_dir = optarg;
			break;
		case O_NOISO:
			capc.no_isolation = true;
			break;
		case O_GC: {
			/* A duration, as Mesos's flag is; a bare number is seconds. */
			int64_t ns = 0;
			struct ag_error derr = {0};
			if (ag_parse_duration_flag("--sandbox_gc_delay", optarg, &ns, &derr) < 0) {
				fprintf(stderr, "agora-agent: %s\n", derr.msg);
				return 2;
			}
			gc_s = ns / 1000000000;
			break;
		}
		case O_BIND:
			A.policy.bind_paths = optarg;
			break;
		case O_HM:
			A.policy.allow_host_mounts = optarg;
			break;
		case O_CAPS:
			A.policy.allow_capabilities = optarg;
			break;
		case O_UNC:
			A.policy.allow_unconfined = optarg;
			break;
		case O_NS:
			A.policy.allow_host_namespaces = optarg;
			break;
		case O_ROOT:
			A.policy.allow_root = optarg;
			break;
		case O_SYSCTL:
			A.policy.allow_sysctls = optarg;
			break;
		case O_DEVS:
			A.policy.allow_devices = optarg;
			break;
		case O_GROUPS:
			A.policy.allow_groups = optarg;
			break;
		case O_RLIM:
			A.policy.allow_rlimits = optarg;
			break;
		case O_UBO:
			A.update_backoff_ms = atoll(optarg);
			break;
		case O_RBO:
			A.registration_backoff_ms = atoll(optarg);
			break;
		case O_HOST:
			A.hostname = optarg;
			break;
		case O_IP:
			A.ip = optarg;
			break;
		case O_CGP:
			A.cgroup_parent = optarg;
			break;
		case O_LOG: {
			struct ag_error lerr = {0};
			if (flg_parse_log_level(optarg, &log_level, &lerr) < 0) {
				fprintf(stderr, "agora-agent: %s\n", lerr.msg);
				return 2;
			}
			break;
		}
		case O_HELP:
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!master || !A.work_dir || A.work_dir[0] != '/') {
		fputs("agora-agent: --master HOST:PORT and an absolute --work_dir are required\n",
		      stderr);
		usage(stderr);
		return 2;
	}
	const char *colon = strrchr(master, ':');
	if (!colon || atoi(colon + 1) <= 0 || atoi(colon + 1) > 65535) {
		fprintf(stderr, "agora-agent: --master: HOST:PORT, got `%s`\n", master);
		return 2;
	}
	A.master_host = strndup(master, (size_t)(colon - master));
	A.master_port = atoi(colon + 1);
	ag_log_set_level(log_level);
	mkdir(A.work_dir, 0700);

	struct ag_error err = {0};
	capc.work_dir = A.work_dir;
	/* Probe the controllers where the containerizer will create the
	 * tasks' cgroups, not at the root. */
	capc.cgroup_parent = A.cgroup_parent ? A.cgroup_parent : CTZ_DEFAULT_CGROUP_PARENT;
	if (cap_measure(&capc, &A.cap, &err) < 0) {
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
	        (unsigned long long)(A.cap.mem_bytes / CAP_MIB),
	        (unsigned long long)(A.cap.disk_bytes / CAP_MIB), A.cap.port_lo, A.cap.port_hi,
	        A.agent_id ? "; agent id from the last run " : "", A.agent_id ? A.agent_id : "");
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
	ml_start(A.link);
	event_base_dispatch(A.base);
	event_free(ctzev);
	event_free(sigterm);
	event_free(sigint);
	agent_fini(&A);
	return 0;
}
