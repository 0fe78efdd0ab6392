/* Unit tests for cgroupv2/: the parsers of the interface file formats, the
 * OCI -> v2 conversions and path checks. No kernel needed. */
#include "agtest.h"
#include "cgroupv2/cgroupv2.h"
#include "cgroupv2/internal.h"

#include <math.h>

static const char cpu_stat[] = "usage_usec 1234567\n"
                               "user_usec 1000000\n"
                               "system_usec 234567\n"
                               "core_sched.force_idle_usec 0\n"
                               "nr_periods 50\n"
                               "nr_throttled 7\n"
                               "throttled_usec 81234\n"
                               "nr_bursts 0\n"
                               "burst_usec 0\n";

Test(parse, flat_keyed_finds_each_key_of_cpu_stat)
{
	uint64_t v = 0;
	cr_assert_eq(cg__parse_flat_keyed(cpu_stat, "usage_usec", &v), 0);
	cr_assert_eq(v, 1234567);
	cr_assert_eq(cg__parse_flat_keyed(cpu_stat, "system_usec", &v), 0);
	cr_assert_eq(v, 234567);
	cr_assert_eq(cg__parse_flat_keyed(cpu_stat, "nr_throttled", &v), 0);
	cr_assert_eq(v, 7);
	cr_assert_eq(cg__parse_flat_keyed(cpu_stat, "throttled_usec", &v), 0);
	cr_assert_eq(v, 81234);
}

Test(parse, flat_keyed_does_not_match_a_key_prefix)
{
	uint64_t v = 42;
	/* "nr_burst" is a prefix of "nr_bursts", "usage" of "usage_usec". */
	cr_assert_eq(cg__parse_flat_keyed(cpu_stat, "nr_burst", &v), -ENOENT);
	cr_assert_eq(cg__parse_flat_keyed(cpu_stat, "usage", &v), -ENOENT);
	cr_assert_eq(v, 42, "out-parameter written on failure");
}

Test(parse, flat_keyed_memory_events_tells_oom_from_oom_kill)
{
	const char *ev = "low 0\nhigh 3\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n";
	uint64_t oom = 0, kill = 0;
	cr_assert_eq(cg__parse_flat_keyed(ev, "oom", &oom), 0);
	cr_assert_eq(cg__parse_flat_keyed(ev, "oom_kill", &kill), 0);
	cr_assert_eq(oom, 2);
	cr_assert_eq(kill, 1);
}

Test(parse, flat_keyed_cgroup_events_and_last_line_without_newline)
{
	uint64_t v = 9;
	cr_assert_eq(cg__parse_flat_keyed("populated 1\nfrozen 0", "frozen", &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(cg__parse_flat_keyed("populated 1\nfrozen 0", "populated", &v), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(cg__parse_flat_keyed("", "populated", &v), -ENOENT);
}

Test(parse, flat_keyed_rejects_garbage_values)
{
	uint64_t v;
	cr_assert_eq(cg__parse_flat_keyed("oom x1\n", "oom", &v), -EBADMSG);
	cr_assert_eq(cg__parse_flat_keyed("oom -1\n", "oom", &v), -EBADMSG);
	cr_assert_eq(cg__parse_flat_keyed("oom 1 2\n", "oom", &v), -EBADMSG);
	cr_assert_eq(cg__parse_flat_keyed("oom 99999999999999999999999\n", "oom", &v), -EBADMSG);
}

static const char io_stat[] =
        "8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n"
        "8:0 rbytes=90430464 wbytes=299008000 rios=8950 wios=1252 dbytes=50331648 dios=3021\n";

Test(parse, nested_keyed_sums_io_stat_over_devices)
{
	uint64_t v = 0;
	cr_assert_eq(cg__parse_nested_keyed(io_stat, NULL, "rbytes", &v), 0);
	cr_assert_eq(v, 1459200ull + 90430464ull);
	cr_assert_eq(cg__parse_nested_keyed(io_stat, NULL, "wbytes", &v), 0);
	cr_assert_eq(v, 314773504ull + 299008000ull);
	/* "rios" must not match "rbytes", nor "ios" "rios". */
	cr_assert_eq(cg__parse_nested_keyed(io_stat, NULL, "ios", &v), -ENOENT);
}

Test(parse, nested_keyed_reads_one_device_line)
{
	uint64_t v = 0;
	cr_assert_eq(cg__parse_nested_keyed(io_stat, "8:0", "dios", &v), 0);
	cr_assert_eq(v, 3021);
	cr_assert_eq(cg__parse_nested_keyed(io_stat, "8:16", "wios", &v), 0);
	cr_assert_eq(v, 353);
	cr_assert_eq(cg__parse_nested_keyed(io_stat, "8:1", "wios", &v), -ENOENT);
}

Test(parse, nested_keyed_io_max_and_empty_io_stat)
{
	uint64_t v = 0;
	const char *io_max = "8:16 rbps=2097152 wbps=max riops=max wiops=120\n";
	cr_assert_eq(cg__parse_nested_keyed(io_max, "8:16", "rbps", &v), 0);
	cr_assert_eq(v, 2097152);
	cr_assert_eq(cg__parse_nested_keyed(io_max, "8:16", "wbps", &v), 0);
	cr_assert_eq(v, CG_MAX);
	cr_assert_eq(cg__parse_nested_keyed(io_max, NULL, "wbps", &v), 0);
	cr_assert_eq(v, CG_MAX, "sum saturates at max");
	cr_assert_eq(cg__parse_nested_keyed("", NULL, "rbytes", &v), -ENOENT);
	cr_assert_eq(cg__parse_nested_keyed("8:0 rbytes=12z\n", NULL, "rbytes", &v), -EBADMSG);
}

Test(parse, single_values_and_max)
{
	uint64_t v = 0;
	cr_assert_eq(cg__parse_value("1048576\n", &v), 0);
	cr_assert_eq(v, 1048576);
	cr_assert_eq(cg__parse_value("max\n", &v), 0);
	cr_assert_eq(v, CG_MAX);
	cr_assert_eq(cg__parse_value("", &v), -EBADMSG);
	cr_assert_eq(cg__parse_value("maxi\n", &v), -EBADMSG);
}

Test(parse, pids_of_cgroup_procs)
{
	pid_t *pids = NULL;
	size_t n = 0;
	cr_assert_eq(cg__parse_pids("1\n42\n31337\n", &pids, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(pids[0], 1);
	cr_assert_eq(pids[2], 31337);
	free(pids);
	cr_assert_eq(cg__parse_pids("", &pids, &n), 0);
	cr_assert_eq(n, 0);
	free(pids);
	cr_assert_eq(cg__parse_pids("12\nfoo\n", &pids, &n), -EBADMSG);
	cr_assert_eq(cg__parse_pids("0\n", &pids, &n), -EBADMSG);
}

Test(controllers, names_parse_and_unknown_ones_are_ignored)
{
	cr_assert_eq(cg_controllers_parse("cpuset cpu io memory hugetlb pids rdma misc\n"),
	             CG_CONTROLLERS_ALL);
	cr_assert_eq(cg_controllers_parse("hugetlb\n"), 0);
	cr_assert_eq(cg_controllers_parse(""), 0);
	cr_assert_eq(cg_controllers_parse("memory  pids"), CG_MEMORY | CG_PIDS);
	/* "cpus" is not "cpu", "cpu" is not "cpuset". */
	cr_assert_eq(cg_controllers_parse("cpus cpuse"), 0);
	cr_assert_str_eq(cg_controller_name(CG_IO), "io");
	cr_assert_null(cg_controller_name(CG_CPU | CG_IO));
	cr_assert_eq(cg__controller_of_file("memory.swap.max"), CG_MEMORY);
	cr_assert_eq(cg__controller_of_file("cpuset.cpus"), CG_CPUSET);
	cr_assert_eq(cg__controller_of_file("cgroup.procs"), 0);
	cr_assert_eq(cg__controller_of_file("hugetlb.2MB.max"), 0);
}

Test(controllers, hybrid_host_is_read_from_proc_cgroups)
{
	/* This host's /proc/cgroups: hugetlb is the only one left to v2. */
	char text[] = "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
	              "cpuset\t3\t1\t1\n"
	              "cpu\t1\t1\t1\n"
	              "cpuacct\t2\t1\t1\n"
	              "blkio\t7\t1\t1\n"
	              "memory\t4\t21\t1\n"
	              "hugetlb\t0\t1\t1\n"
	              "pids\t8\t1\t1\n";
	cr_assert_eq(cg__v1_from_proc_cgroups(text), CG_CONTROLLERS_ALL);

	char unified[] = "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
	                 "cpu\t0\t80\t1\nmemory\t0\t80\t1\nblkio\t0\t80\t1\n"
	                 "pids\t5\t1\t0\n";
	cr_assert_eq(cg__v1_from_proc_cgroups(unified), 0, "hierarchy 0 or disabled: not v1");
}

Test(controllers, hybrid_host_is_read_from_mountinfo)
{
	char text[] = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	              "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
	              "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	              "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
	              "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n"
	              "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
	cr_assert_eq(cg__v1_from_mountinfo(text), CG_CPU | CG_MEMORY | CG_IO);
	char v2only[] = "30 23 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
	cr_assert_eq(cg__v1_from_mountinfo(v2only), 0);
}

Test(convert, cpu_weight_from_shares_at_the_bounds)
{
	cr_assert_eq(cg_cpu_weight_from_shares(2), 1);
	cr_assert_eq(cg_cpu_weight_from_shares(262144), 10000);
	/* Docker's default 1024 shares: 1 + (1022 * 9999) / 262142 = 39. */
	cr_assert_eq(cg_cpu_weight_from_shares(1024), 39);
	cr_assert_eq(cg_cpu_weight_from_shares(1), 1, "below the v1 minimum is clamped");
	cr_assert_eq(cg_cpu_weight_from_shares(1000000), 10000);
	cr_assert_eq(cg_cpu_weight_from_shares(0), 100, "unset gives the kernel default");
}

Test(convert, io_weight_from_blkio_at_the_bounds)
{
	cr_assert_eq(cg_io_weight_from_blkio(10), 1);
	cr_assert_eq(cg_io_weight_from_blkio(1000), 10000);
	cr_assert_eq(cg_io_weight_from_blkio(500), 1 + 490 * 9999 / 990);
	cr_assert_eq(cg_io_weight_from_blkio(5), 1);
	cr_assert_eq(cg_io_weight_from_blkio(65535), 10000);
	cr_assert_eq(cg_io_weight_from_blkio(0), 100);
}

Test(convert, cpu_weight_from_cpus_is_100_per_cpu_clamped)
{
	cr_assert_eq(cg_cpu_weight_from_cpus(1.0), 100);
	cr_assert_eq(cg_cpu_weight_from_cpus(0.5), 50);
	cr_assert_eq(cg_cpu_weight_from_cpus(0.001), 1);
	cr_assert_eq(cg_cpu_weight_from_cpus(0), 1);
	cr_assert_eq(cg_cpu_weight_from_cpus(-3), 1);
	cr_assert_eq(cg_cpu_weight_from_cpus(NAN), 1);
	cr_assert_eq(cg_cpu_weight_from_cpus(100), 10000);
	cr_assert_eq(cg_cpu_weight_from_cpus(1e9), 10000);
}

Test(convert, cpu_max_from_cpus)
{
	cr_assert_eq(cg_cpu_max_from_cpus(0.5, 100000), 50000);
	cr_assert_eq(cg_cpu_max_from_cpus(2, 0), 200000, "period 0 means 100 ms");
	cr_assert_eq(cg_cpu_max_from_cpus(0.2, 100000), 20000);
	cr_assert_eq(cg_cpu_max_from_cpus(0.001, 100000), 1000, "the kernel's 1 ms minimum");
	cr_assert_eq(cg_cpu_max_from_cpus(0, 100000), CG_MAX);
	cr_assert_eq(cg_cpu_max_from_cpus(-1, 100000), CG_MAX);
	cr_assert_eq(cg_cpu_max_from_cpus(NAN, 100000), CG_MAX);
	cr_assert_eq(cg_cpu_max_from_cpus(INFINITY, 100000), CG_MAX);
}

Test(convert, swap_max_from_oci_memory_plus_swap)
{
	uint64_t v = 0;
	cr_assert_eq(cg_swap_max_from_memsw(100 << 20, 300 << 20, &v), 0);
	cr_assert_eq(v, 200 << 20);
	cr_assert_eq(cg_swap_max_from_memsw(100 << 20, 100 << 20, &v), 0);
	cr_assert_eq(v, 0, "memsw == limit: no swap");
	cr_assert_eq(cg_swap_max_from_memsw(100 << 20, -1, &v), 0);
	cr_assert_eq(v, CG_MAX);
	cr_assert_eq(cg_swap_max_from_memsw(100 << 20, 50 << 20, &v), -EINVAL);
	cr_assert_eq(cg_swap_max_from_memsw(-1, 50 << 20, &v), -EINVAL);
	cr_assert_eq(cg_swap_max_from_memsw(100, 0, &v), -ENODATA);
}

Test(path, dotdot_and_dot_components_are_refused)
{
	cr_assert_eq(cg__path_check("..", false, NULL), -EINVAL);
	cr_assert_eq(cg__path_check("../x", false, NULL), -EINVAL);
	cr_assert_eq(cg__path_check("agora/../../etc", false, NULL), -EINVAL);
	cr_assert_eq(cg__path_check("agora/..", false, NULL), -EINVAL);
	cr_assert_eq(cg__path_check("/..", false, NULL), -EINVAL);
	cr_assert_eq(cg__path_check("agora/./x", false, NULL), -EINVAL);
	cr_assert_eq(cg__path_check("agora/x\ny", false, NULL), -EINVAL);
}

Test(path, names_that_only_look_like_dots_are_fine)
{
	const char *rel = NULL;
	cr_assert_eq(cg__path_check("agora/...", false, &rel), 0);
	cr_assert_eq(cg__path_check("agora/..x/.hidden", false, &rel), 0);
	cr_assert_eq(cg__path_check("//agora//ctr-1/", false, &rel), 0);
	cr_assert_str_eq(rel, "agora//ctr-1/", "leading slashes mean relative to the root");
}

Test(path, empty_and_root_only_when_allowed)
{
	const char *rel = NULL;
	cr_assert_eq(cg__path_check("", false, NULL), -EINVAL);
	cr_assert_eq(cg__path_check("/", false, NULL), -EINVAL);
	cr_assert_eq(cg__path_check(NULL, false, NULL), -EINVAL);
	cr_assert_eq(cg__path_check("/", true, &rel), 0);
	cr_assert_str_eq(rel, "");
	char long_name[300];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	cr_assert_eq(cg__path_check(long_name, false, NULL), -EINVAL);
}

Test(limits, out_of_range_values_are_refused_before_any_write)
{
	/* dirfd -1: any write would fail with EBADF, so EINVAL with a message
	 * proves validation came first. */
	struct ag_error err = {0};
	struct cg_limits l = {.has_cpu_weight = true, .cpu_weight = 0};
	cr_assert_eq(cg_apply_limits(-1, &l, &err), -EINVAL);
	cr_assert(strstr(err.msg, "cpu.weight 0 is out of range"), "%s", err.msg);

	l = (struct cg_limits){.has_cpu_max = true, .cpu_max_quota = 500, .cpu_max_period = 100000};
	cr_assert_eq(cg_apply_limits(-1, &l, &err), -EINVAL);
	cr_assert(strstr(err.msg, "below 1000"), "%s", err.msg);

	struct cg_kv kv[] = {{"cgroup.procs", "1"}};
	l = (struct cg_limits){.unified = kv, .n_unified = 1};
	cr_assert_eq(cg_apply_limits(-1, &l, &err), -EINVAL);
	cr_assert(strstr(err.msg, "`cgroup.procs` is refused"), "%s", err.msg);

	struct cg_kv kv2[] = {{"../../cpu/tasks", "1"}};
	l = (struct cg_limits){.unified = kv2, .n_unified = 1};
	cr_assert_eq(cg_apply_limits(-1, &l, &err), -EINVAL);
}
