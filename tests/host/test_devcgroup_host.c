/* host tier (root): the device rules' BPF program is accepted by this
 * host's verifier for real rule lists, and with cgroups disabled agora-run
 * refuses device rules rather than run without them. Enforcement itself is
 * tested in the VM (tests/vm/test_devices_guest.c): this host's cgroup v2
 * is not ours to attach programs to. */
#include "agbundle.h"
#include "agtest.h"
#include "runtime/internal.h"

#include <fcntl.h>
#include <linux/bpf.h>

static void load_ok(const struct rt_dev_rule *rules, size_t n)
{
	_cleanup_free_ struct bpf_insn *p = NULL;
	size_t np = 0;
	cr_assert_eq(rt__devcg_build(rules, n, &p, &np), 0);
	int fd = -1;
	struct ag_error err = {0};
	int r = rt__devcg_load(p, np, &fd, &err);
	cr_assert_eq(r, 0, "%zu rules, %zu instructions: %s", n, np, err.msg);
	cr_assert_geq(fd, 0);
	int fl = fcntl(fd, F_GETFD);
	cr_assert(fl & FD_CLOEXEC, "the program's fd is close-on-exec");
	close(fd);
}

Test(devcgroup_host, the_kernel_verifier_accepts_the_programs)
{
	load_ok(NULL, 0);
	struct rt_dev_rule r[] = {
	        {false, 'a', -1, -1, RT_DEV_ACC_ALL},
	        {true, 'b', 7, -1, RT_DEV_ACC_READ | RT_DEV_ACC_WRITE},
	        {false, 'b', 7, 1, RT_DEV_ACC_WRITE},
	        {true, 'c', -1, 42, RT_DEV_ACC_MKNOD},
	        {true, 'a', 4095, 1048575, RT_DEV_ACC_READ},
	        {false, 'c', 10, 200, RT_DEV_ACC_MKNOD | RT_DEV_ACC_READ},
	};
	for (size_t n = 1; n <= AG_ARRAY_SIZE(r); n++)
		load_ok(r, n);
	/* The largest list the parser takes. */
	struct rt_dev_rule *big = calloc(1024, sizeof(*big));
	for (size_t i = 0; i < 1024; i++)
		big[i] = (struct rt_dev_rule){i % 2, i % 3 ? 'c' : 'b', (int32_t)(i % 4095),
		                              (int32_t)i, (unsigned)(i % 7 + 1)};
	load_ok(big, 1024);
	free(big);
}

Test(devcgroup_host, with_cgroups_disabled_device_rules_are_refused)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/true"));
	json_t *res = json_pack("{s:[{s:b, s:s}]}", "devices", "allow", 0, "access", "rwm");
	json_object_set_new(json_object_get(b.cfg, "linux"), "resources", res);
	bundle_write(&b);
	char *err = NULL;
	int rc = agora_run(&b, NULL, &err, ARGS("run", "devs"));
	cr_assert_eq(rc, 1, "exit %d", rc);
	cr_assert_neq(strstr(err, "linux.resources.devices: device rules cannot be enforced "
	                          "with cgroups disabled"),
	              NULL, "%s", err);
	free(err);
	cr_assert_eq(state_entries(&b), 0, "state left behind");
	/* Without rules the same bundle runs. */
	json_object_del(json_object_get(b.cfg, "linux"), "resources");
	bundle_write(&b);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("run", "devs")), 0);
	bundle_done(&b);
}
