/* The pure parts of the agent's capacity and task specs. */
#include "containerizer/capacity.h"
#include "proto/proto.h"
#include "containerizer/taskspec.h"
#include "runtime/runtime.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>
#include <sys/mount.h>

Test(capacity, cpuset_lists_count_every_cpu)
{
	unsigned n = 0;
	cr_assert(ctz_cpuset_count("0-3,8,10-11\n", &n) == 0);
	cr_expect_eq(n, 7);
	cr_assert(ctz_cpuset_count("5", &n) == 0);
	cr_expect_eq(n, 1);
	cr_assert(ctz_cpuset_count("", &n) == 0);
	cr_expect_eq(n, 0);
	cr_expect(ctz_cpuset_count("3-1", &n) == -EINVAL);
	cr_expect(ctz_cpuset_count("a", &n) == -EINVAL);
	cr_expect(ctz_cpuset_count("1;2", &n) == -EINVAL);
}

Test(capacity, cpu_max_is_quota_over_period)
{
	double c = -1;
	cr_assert(ctz_cpu_max_cpus("150000 100000\n", &c) == 0);
	cr_expect_float_eq(c, 1.5, 1e-9);
	cr_assert(ctz_cpu_max_cpus("max 100000", &c) == 0);
	cr_expect_float_eq(c, 0, 1e-9);
	cr_expect(ctz_cpu_max_cpus("100000", &c) == -EINVAL);
	cr_expect(ctz_cpu_max_cpus("x 100000", &c) == -EINVAL);
}

Test(capacity, reserve_is_a_tenth_but_at_least_a_gib_and_at_most_half)
{
	cr_expect_eq(ctz_mem_reserve(64 * CTZ_GIB), 64 * CTZ_GIB / 10);
	cr_expect_eq(ctz_mem_reserve(4 * CTZ_GIB), CTZ_GIB);
	cr_expect_eq(ctz_mem_reserve(CTZ_GIB), CTZ_GIB / 2);
	cr_expect_eq(ctz_mem_reserve(0), 0);
}

Test(capacity, ports_and_overrides)
{
	uint32_t lo, hi;
	cr_assert(ctz_ports_parse("31000-32000", &lo, &hi) == 0);
	cr_expect(lo == 31000 && hi == 32000);
	cr_expect(ctz_ports_parse("2-1", &lo, &hi) < 0);
	cr_expect(ctz_ports_parse("0-10", &lo, &hi) < 0);
	cr_expect(ctz_ports_parse("1-70000", &lo, &hi) < 0);
	cr_expect(ctz_ports_parse("1-2x", &lo, &hi) < 0);

	struct ctz_capacity r = {0};
	struct ag_error err = {0};
	cr_assert(ctz_capacity_override(&r, "cpus:2.5;mem:1024;disk:10;ports:[5000-5010]", &err) ==
	                  0,
	          "%s", err.msg);
	cr_expect_float_eq(r.cpus, 2.5, 1e-9);
	cr_expect_eq(r.mem_bytes, 1024 * CTZ_MIB);
	cr_expect_eq(r.disk_bytes, 10 * CTZ_MIB);
	cr_expect(r.port_lo == 5000 && r.port_hi == 5010);
	cr_expect(ctz_capacity_override(&r, "gpus:1", &err) < 0);
	cr_expect(strstr(err.msg, "unknown resource `gpus`"), "%s", err.msg);
	cr_expect(ctz_capacity_override(&r, "mem:-1", &err) < 0);
	cr_expect(ctz_capacity_override(&r, "mem", &err) < 0);
}

Test(capacity, no_isolation_measures_and_says_so)
{
	struct ctz_capacity_config cfg = {.work_dir = "/", .no_isolation = true};
	struct ctz_capacity r;
	struct ag_error err = {0};
	cr_assert(ctz_capacity_measure(&cfg, &r, &err) == 0, "%s", err.msg);
	cr_expect(!r.isolated);
	cr_expect(strstr(r.note, "--no-isolation"));
	cr_expect(r.cpus >= 1 && r.mem_bytes > 0 && r.disk_bytes > 0);
}

Test(task, names_are_the_mesos_names)
{
	cr_expect_str_eq(pb_task_state_name(PB_TASK_RUNNING), "TASK_RUNNING");
	cr_expect_str_eq(pb_task_state_name(PB_TASK_GONE_BY_OPERATOR), "TASK_GONE_BY_OPERATOR");
	cr_expect_str_eq(pb_task_reason_name(PB_REASON_CONTAINER_LIMITATION_MEMORY),
	                 "REASON_CONTAINER_LIMITATION_MEMORY");
	cr_expect_null(pb_task_reason_name(PB_REASON_UNSET));
	cr_expect(pb_task_state_is_terminal(PB_TASK_KILLED));
	cr_expect(!pb_task_state_is_terminal(PB_TASK_KILLING));
}

Test(taskspec, command_spec_is_valid_and_maps_the_limits)
{
	char usr[] = "usr", etc[] = "etc";
	char *const dirs[] = {usr, etc, NULL};
	struct ctz_ts_command cmd = {.shell = "echo hi"};
	struct ctz_ts_limits lim = {.cpus = 1.5, .mem_bytes = 64 << 20};
	char *json = NULL;
	struct ag_error err = {0};
	cr_assert(ctz_ts_command_spec_json(&cmd, &lim, "/var/lib/agora/hostview", dirs, "/sb",
	                                   "/var/lib/agora", &json, &err) == 0,
	          "%s", err.msg);
	struct rt_spec *s = NULL;
	cr_assert(rt_spec_parse(json, strlen(json), "/b", &s, &err) == 0, "%s: %s", err.msg, json);
	cr_expect_str_eq(s->process.args[0], "/bin/sh");
	cr_expect_str_eq(s->process.cwd, CTZ_TS_SANDBOX_PATH);
	cr_expect(s->root_readonly);
	cr_expect(s->process.no_new_privileges);
	cr_expect_not_null(s->seccomp);
	cr_expect(s->ns[RT_NS_PID].enabled && s->ns[RT_NS_MOUNT].enabled);
	cr_expect(!s->ns[RT_NS_NETWORK].enabled, "command tasks use the host network");
	cr_expect_eq(s->resources.memory.limit, 64 << 20);
	cr_expect_eq(s->resources.cpu.quota, 150000);
	cr_expect_eq(s->resources.cpu.period, 100000);
	cr_expect_eq(s->resources.pids_limit, CTZ_TS_DEFAULT_PIDS_MAX);
	bool weight = false, group = false;
	for (size_t i = 0; i < s->resources.n_unified; i++) {
		weight |= strcmp(s->resources.unified[i].key, "cpu.weight") == 0 &&
		          strcmp(s->resources.unified[i].value, "150") == 0;
		group |= strcmp(s->resources.unified[i].key, "memory.oom.group") == 0;
	}
	cr_expect(weight && group);
	bool usr_ro = false, sandbox_rw = false;
	for (size_t i = 0; i < s->n_mounts; i++) {
		struct rt_mount *m = &s->mounts[i];
		if (strcmp(m->destination, "/usr") == 0)
			usr_ro = m->recursive_ro;
		if (strcmp(m->destination, CTZ_TS_SANDBOX_PATH) == 0)
			sandbox_rw = strcmp(m->source, "/sb") == 0 && !(m->flags & MS_RDONLY);
	}
	cr_expect(usr_ro && sandbox_rw);
	bool hidden = false;
	for (size_t i = 0; i < s->n_masked_paths; i++)
		hidden |= strcmp(s->masked_paths[i], "/var/lib/agora") == 0;
	cr_expect(hidden, "the agent's work directory is masked");
	rt_spec_free(s);
	free(json);
}

Test(taskspec, oci_spec_root_must_name_an_image)
{
	struct ctz_ts_limits lim = {0};
	char *json = NULL;
	struct ag_error err = {0};
	cr_expect(ctz_ts_oci_spec_json("{\"root\":{\"path\":\"/etc\"}}", "/images", &lim, "/sb",
	                               &json, &err) < 0);
	cr_expect(strstr(err.msg, "root.path: must name an image"), "%s", err.msg);
	cr_expect(ctz_ts_oci_spec_json("{\"root\":{\"path\":\"nope\"}}", "/nonexistent", &lim,
	                               "/sb", &json, &err) < 0);
	cr_expect(strstr(err.msg, "root.path: no image `nope`"), "%s", err.msg);
	cr_expect(ctz_ts_oci_spec_json("[1]", "/", &lim, "/sb", &json, &err) < 0);
	/* An image: the path is resolved, a pid namespace forced, the
	 * sandbox added, the limits replace the spec's. */
	cr_assert(ctz_ts_oci_spec_json(
	                  "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"tmp\"},"
	                  "\"process\":{\"args\":[\"true\"],\"cwd\":\"/\"},"
	                  "\"linux\":{\"namespaces\":[{\"type\":\"pid\",\"path\":\"/proc/1/"
	                  "ns/pid\"}],\"resources\":{\"pids\":{\"limit\":1}}}}",
	                  "/", &lim, "/sb", &json, &err) == 0,
	          "%s", err.msg);
	struct rt_spec *s = NULL;
	cr_assert(rt_spec_parse(json, strlen(json), "/b", &s, &err) == 0, "%s: %s", err.msg, json);
	cr_expect_str_eq(s->root_path, "/tmp");
	cr_expect(s->ns[RT_NS_PID].enabled && !s->ns[RT_NS_PID].path);
	cr_expect_eq(s->resources.pids_limit, CTZ_TS_DEFAULT_PIDS_MAX);
	rt_spec_free(s);
	free(json);
}
