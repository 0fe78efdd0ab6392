/* Unit tests for linux.resources.devices: the parser (rules, refusals) and
 * the BPF_PROG_TYPE_CGROUP_DEVICE program builder (runtime/devcgroup.c).
 *
 * The program's decisions are checked by running it in a small interpreter
 * of the instructions it may use (written here, independent of the
 * builder) against a reference model of the rule semantics: for each access
 * bit asked for, the last rule naming the device and the bit decides; any
 * bit denied or undecided denies. Loading into the kernel (the verifier)
 * and enforcement are tested as root on the host (devcgroup_host) and in
 * the VM (devices_guest).
 */
#include "agtest.h"
#include "runtime/internal.h"

#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>

static struct rt_spec *parse_ok(const char *json)
{
	struct rt_spec *s = NULL;
	struct ag_error err = {0};
	int r = rt_spec_parse(json, strlen(json), "/tmp", &s, &err);
	cr_assert_eq(r, 0, "%s: %s", json, err.msg);
	return s;
}

static void parse_fails(const char *json, const char *msg)
{
	struct rt_spec *s = NULL;
	struct ag_error err = {0};
	int r = rt_spec_parse(json, strlen(json), "/tmp", &s, &err);
	cr_assert_lt(r, 0, "%s parsed", json);
	cr_assert_str_eq(err.msg, msg, "for %s:\n%s", json, err.msg);
}

#define RES(x)                                                                                     \
	"{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"/\"},\"process\":{\"args\":[\"/bin/"       \
	"true\"],"                                                                                 \
	"\"cwd\":\"/\"},\"linux\":{\"resources\":" x "}}"

Test(devices_spec, rules_are_parsed_with_wildcards_and_defaults)
{
	struct rt_spec *s = parse_ok(
	        RES("{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},"
	            "{\"allow\":true,\"type\":\"b\",\"major\":7,\"minor\":-1,\"access\":\"rw\"},"
	            "{\"allow\":true,\"type\":\"c\",\"major\":null,\"minor\":3,\"access\":\"m\"},"
	            "{\"allow\":false,\"type\":\"a\",\"major\":1,\"minor\":5}]}"));
	const struct rt_resources *res = &s->resources;
	cr_assert(res->has_devices);
	cr_assert_eq(res->n_dev_rules, 4);
	const struct rt_dev_rule *d = res->dev_rules;
	cr_assert(!d[0].allow);
	cr_assert_eq(d[0].type, 'a');
	cr_assert_eq(d[0].major, -1);
	cr_assert_eq(d[0].minor, -1);
	cr_assert_eq(d[0].access, RT_DEV_ACC_ALL);
	cr_assert(d[1].allow);
	cr_assert_eq(d[1].type, 'b');
	cr_assert_eq(d[1].major, 7);
	cr_assert_eq(d[1].minor, -1);
	cr_assert_eq(d[1].access, RT_DEV_ACC_READ | RT_DEV_ACC_WRITE);
	cr_assert_eq(d[2].type, 'c');
	cr_assert_eq(d[2].major, -1);
	cr_assert_eq(d[2].minor, 3);
	cr_assert_eq(d[2].access, RT_DEV_ACC_MKNOD);
	cr_assert_eq(d[3].access, RT_DEV_ACC_ALL, "no access: all of rwm");
	cr_assert_eq(d[3].major, 1);
	rt_spec_free(s);

	s = parse_ok(RES("{\"devices\":[]}"));
	cr_assert(s->resources.has_devices);
	cr_assert_eq(s->resources.n_dev_rules, 0);
	rt_spec_free(s);
}

Test(devices_spec, bad_rules_are_refused_naming_the_field)
{
	parse_fails(RES("{\"devices\":[{\"access\":\"rwm\"}]}"),
	            "linux.resources.devices[0].allow: is required");
	parse_fails(RES("{\"devices\":[{\"allow\":\"yes\"}]}"),
	            "linux.resources.devices[0].allow: must be a boolean, got \"yes\"");
	parse_fails(RES("{\"devices\":[{\"allow\":true,\"type\":\"p\"}]}"),
	            "linux.resources.devices[0].type: must be \"a\" (all), \"b\" or \"c\", got "
	            "\"p\"");
	parse_fails(RES("{\"devices\":[{\"allow\":true},{\"allow\":true,\"major\":-2}]}"),
	            "linux.resources.devices[1].major: must be -1 (any) or an integer between 0 "
	            "and 4095, got -2");
	parse_fails(RES("{\"devices\":[{\"allow\":true,\"minor\":1048576}]}"),
	            "linux.resources.devices[0].minor: must be -1 (any) or an integer between 0 "
	            "and 1048575, got 1048576");
	parse_fails(RES("{\"devices\":[{\"allow\":true,\"access\":\"rx\"}]}"),
	            "linux.resources.devices[0].access: must be made of r, w and m, got \"rx\"");
	parse_fails(RES("{\"devices\":[{\"allow\":true,\"access\":\"\"}]}"),
	            "linux.resources.devices[0].access: must be made of r, w and m, not empty, "
	            "got \"\"");
	parse_fails(RES("{\"devices\":{}}"), "linux.resources.devices: must be an array, got {}");
}

Test(devices_spec, unsupported_resources_are_refused_naming_the_field)
{
	parse_fails(RES("{\"network\":{\"classID\":1}}"),
	            "linux.resources.network: is not supported: net_cls and net_prio are cgroup "
	            "v1 controllers; cgroup v2 has neither, got {\"classID\":1}");
	parse_fails(RES("{\"rdma\":{\"mlx5_1\":{\"hcaHandles\":3}}}"),
	            "linux.resources.rdma: is not supported: agora-run does not set rdma.max, got "
	            "{\"mlx5_1\":{\"hcaHandles\":3}}");
	parse_fails(RES("{\"memory\":{\"swappiness\":10}}"),
	            "linux.resources.memory.swappiness: is not supported: cgroup v2 has no "
	            "per-cgroup swappiness (use memory.swap.max through \"swap\"), got 10");
	parse_fails(RES("{\"memory\":{\"kernel\":1048576}}"),
	            "linux.resources.memory.kernel: is not supported: cgroup v2 has no separate "
	            "kernel memory limit (kernel memory counts in memory.max), got 1048576");
	parse_fails(RES("{\"memory\":{\"disableOOMKiller\":true}}"),
	            "linux.resources.memory.disableOOMKiller: is not supported: cgroup v2 cannot "
	            "disable the OOM killer of a cgroup, got true");
	parse_fails(RES("{\"cpu\":{\"realtimeRuntime\":950000}}"),
	            "linux.resources.cpu.realtimeRuntime: is not supported: cgroup v2 has no "
	            "real-time bandwidth per cgroup, got 950000");
	parse_fails(RES("{\"blockIO\":{\"leafWeight\":10}}"),
	            "linux.resources.blockIO.leafWeight: is not supported: cgroup v2 has no leaf "
	            "weight, got 10");
	parse_fails(RES("{\"hugepageLimits\":[{\"pageSize\":\"2M\",\"limit\":0}]}"),
	            "linux.resources.hugepageLimits[0].pageSize: must be a huge page size like "
	            "\"2MB\" or \"1GB\", got \"2M\"");
	parse_fails(RES("{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":0},"
	                "{\"pageSize\":\"2MB\",\"limit\":1}]}"),
	            "linux.resources.hugepageLimits[1].pageSize: duplicate of hugepageLimits[0], "
	            "got \"2MB\"");
	parse_fails(RES("{\"cpu\":{\"idle\":2}}"),
	            "linux.resources.cpu.idle: must be 0 or 1, got 2");
	parse_fails(RES("{\"cpu\":{\"burst\":-1}}"),
	            "linux.resources.cpu.burst: must be an integer between 0 and 4294967295 "
	            "(microseconds), got -1");
	/* The values cgroup v2 has anyway are accepted. */
	struct rt_spec *s =
	        parse_ok(RES("{\"memory\":{\"disableOOMKiller\":false,\"useHierarchy\":true},"
	                     "\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}]}"));
	cr_assert_eq(s->resources.n_hugepages, 1);
	cr_assert_str_eq(s->resources.hugepages[0].page_size, "2MB");
	cr_assert_eq(s->resources.hugepages[0].limit, 4194304);
	rt_spec_free(s);
	s = parse_ok(RES("{\"cpu\":{\"burst\":1000,\"idle\":0}}"));
	cr_assert(s->resources.cpu.has_burst);
	cr_assert_eq(s->resources.cpu.burst, 1000);
	cr_assert(s->resources.cpu.has_idle);
	cr_assert_eq(s->resources.cpu.idle, 0);
	rt_spec_free(s);
}

/* ---- the program ------------------------------------------------------ */

/* Runs `p` on one request; fails the test on an instruction the builder
 * should never emit, a jump out of the program or a missing exit. */
static int interp(const struct bpf_insn *p, size_t n, uint32_t type, uint32_t access,
                  uint32_t major, uint32_t minor)
{
	uint32_t ctx[3] = {access << 16 | type, major, minor};
	uint64_t r[11] = {0};
	bool init[11] = {[1] = true};
	size_t pc = 0;
	for (size_t steps = 0; steps < 100000; steps++) {
		cr_assert_lt(pc, n, "pc %zu ran off the program", pc);
		const struct bpf_insn *i = &p[pc++];
		uint8_t d = i->dst_reg, s = i->src_reg;
		cr_assert_leq(d, 10);
		switch (i->code) {
		case BPF_LDX | BPF_MEM | BPF_W:
			cr_assert_eq(s, 1, "loads come from the context");
			cr_assert(i->off == 0 || i->off == 4 || i->off == 8, "offset %d", i->off);
			r[d] = ctx[i->off / 4];
			break;
		case BPF_ALU | BPF_MOV | BPF_X:
			cr_assert(init[s], "r%u read before set", s);
			r[d] = (uint32_t)r[s];
			break;
		case BPF_ALU | BPF_MOV | BPF_K:
			r[d] = (uint32_t)i->imm;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			cr_assert(init[d]);
			r[d] = (uint32_t)r[d] & (uint32_t)i->imm;
			break;
		case BPF_ALU | BPF_XOR | BPF_K:
			cr_assert(init[d]);
			r[d] = (uint32_t)r[d] ^ (uint32_t)i->imm;
			break;
		case BPF_ALU | BPF_RSH | BPF_K:
			cr_assert(init[d]);
			r[d] = (uint32_t)r[d] >> i->imm;
			break;
		case BPF_JMP | BPF_JNE | BPF_K:
		case BPF_JMP | BPF_JEQ | BPF_K: {
			cr_assert(init[d]);
			bool eq = r[d] == (uint64_t)(int64_t)i->imm;
			if (eq == (i->code == (BPF_JMP | BPF_JEQ | BPF_K)))
				pc += i->off;
			break;
		}
		case BPF_JMP | BPF_EXIT:
			cr_assert(init[0], "exit without r0");
			cr_assert(r[0] == 0 || r[0] == 1);
			return (int)r[0];
		default:
			cr_assert_fail("unexpected opcode 0x%02x at %zu", i->code, pc - 1);
		}
		init[d] = true;
	}
	cr_assert_fail("no exit");
	return -1;
}

static bool rule_names(const struct rt_dev_rule *d, char type, uint32_t major, uint32_t minor)
{
	return (d->type == 'a' || d->type == type) &&
	       (d->major < 0 || (uint32_t)d->major == major) &&
	       (d->minor < 0 || (uint32_t)d->minor == minor);
}

/* The reference: each bit asked for, decided by the last rule holding it. */
static int model(const struct rt_dev_rule *rules, size_t n, char type, unsigned access,
                 uint32_t major, uint32_t minor)
{
	const struct rt_dev_rule *defs = NULL;
	size_t nd = rt__devcg_defaults(&defs);
	for (unsigned bit = 1; bit <= 4; bit <<= 1) {
		if (!(access & bit))
			continue;
		bool allowed = false;
		for (size_t k = n + nd; k-- > 0;) {
			const struct rt_dev_rule *d = k < n ? &rules[k] : &defs[k - n];
			if ((d->access & bit) && rule_names(d, type, major, minor)) {
				allowed = d->allow;
				break;
			}
		}
		if (!allowed)
			return 0;
	}
	return 1;
}

static int run(const struct rt_dev_rule *rules, size_t n, char type, unsigned access,
               uint32_t major, uint32_t minor)
{
	struct bpf_insn *p = NULL;
	size_t np = 0;
	cr_assert_eq(rt__devcg_build(rules, n, &p, &np), 0);
	int v = interp(p, np, type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, access, major,
	               minor);
	free(p);
	return v;
}

#define R   RT_DEV_ACC_READ
#define W   RT_DEV_ACC_WRITE
#define M   RT_DEV_ACC_MKNOD
#define RWM RT_DEV_ACC_ALL

Test(devices_bpf, defaults_allow_the_standard_nodes_and_nothing_else)
{
	/* No rules: the defaults only. */
	cr_assert_eq(run(NULL, 0, 'c', R | W, 1, 3), 1, "/dev/null");
	cr_assert_eq(run(NULL, 0, 'c', M, 1, 9), 1, "mknod /dev/urandom");
	cr_assert_eq(run(NULL, 0, 'c', R | W, 136, 17), 1, "/dev/pts/17");
	cr_assert_eq(run(NULL, 0, 'c', R | W, 5, 2), 1, "/dev/ptmx");
	cr_assert_eq(run(NULL, 0, 'c', R, 1, 1), 0, "/dev/mem");
	cr_assert_eq(run(NULL, 0, 'b', R, 1, 3), 0, "block 1:3 is not /dev/null");
	cr_assert_eq(run(NULL, 0, 'b', R, 7, 0), 0, "loop0");
	cr_assert_eq(run(NULL, 0, 'b', M, 8, 0), 0, "mknod sda");
	/* A leading deny-all (the usual spec) keeps the defaults. */
	struct rt_dev_rule deny_all = {false, 'a', -1, -1, RWM};
	cr_assert_eq(run(&deny_all, 1, 'c', R | W, 1, 3), 1);
	cr_assert_eq(run(&deny_all, 1, 'c', R, 10, 200), 0);
}

Test(devices_bpf, later_rules_override_earlier_ones_bit_by_bit)
{
	struct rt_dev_rule r1[] = {
	        {false, 'a', -1, -1, RWM},
	        {true, 'b', 7, -1, RWM}, /* every loop device */
	        {false, 'b', 7, 1, W},   /* but loop1 read-only */
	};
	cr_assert_eq(run(r1, 3, 'b', R | W, 7, 0), 1);
	cr_assert_eq(run(r1, 3, 'b', M, 7, 5), 1);
	cr_assert_eq(run(r1, 3, 'b', R, 7, 1), 1);
	cr_assert_eq(run(r1, 3, 'b', W, 7, 1), 0);
	cr_assert_eq(run(r1, 3, 'b', R | W, 7, 1), 0, "rw asks for the denied w");
	cr_assert_eq(run(r1, 3, 'c', R, 7, 0), 0, "char 7:0 is not a loop device");
	cr_assert_eq(run(r1, 3, 'b', R, 8, 0), 0);
	/* An allow after a deny wins, and separate r and w rules add up. */
	struct rt_dev_rule r2[] = {
	        {true, 'c', 10, -1, RWM},
	        {false, 'c', 10, 200, RWM},
	        {true, 'c', 10, 200, R},
	        {true, 'a', 10, 200, W},
	};
	cr_assert_eq(run(r2, 4, 'c', R | W, 10, 200), 1);
	cr_assert_eq(run(r2, 4, 'c', M, 10, 200), 0);
	cr_assert_eq(run(r2, 4, 'c', M, 10, 229), 1);
	/* A minor wildcard under a major, a major wildcard over a minor. */
	struct rt_dev_rule r3[] = {{true, 'c', -1, 42, R}};
	cr_assert_eq(run(r3, 1, 'c', R, 99, 42), 1);
	cr_assert_eq(run(r3, 1, 'c', R, 99, 43), 0);
	cr_assert_eq(run(r3, 1, 'c', W, 99, 42), 0);
}

Test(devices_bpf, random_rule_lists_decide_as_the_model)
{
	/* Small numbers so rules and requests collide often. */
	unsigned seed = 14;
	size_t cases = 0, allowed = 0;
	for (int round = 0; round < 300; round++) {
		struct rt_dev_rule rules[12];
		size_t n = (size_t)(rand_r(&seed) % 13);
		for (size_t i = 0; i < n; i++) {
			int t = rand_r(&seed) % 3;
			rules[i] = (struct rt_dev_rule){
			        .allow = rand_r(&seed) % 2,
			        .type = t == 0   ? 'a'
			                : t == 1 ? 'b'
			                         : 'c',
			        .major = rand_r(&seed) % 3 - 1,
			        .minor = rand_r(&seed) % 3 - 1,
			        .access = (unsigned)(rand_r(&seed) % 7 + 1),
			};
		}
		struct bpf_insn *p = NULL;
		size_t np = 0;
		cr_assert_eq(rt__devcg_build(rules, n, &p, &np), 0);
		for (int type = 0; type < 2; type++)
			for (unsigned acc = 1; acc <= 7; acc++)
				for (uint32_t maj = 0; maj < 3; maj++)
					for (uint32_t min = 0; min < 3; min++) {
						char ty = type ? 'c' : 'b';
						int want = model(rules, n, ty, acc, maj, min);
						int got = interp(p, np,
						                 type ? BPF_DEVCG_DEV_CHAR
						                      : BPF_DEVCG_DEV_BLOCK,
						                 acc, maj, min);
						cr_assert_eq(got, want,
						             "round %d: %c %u:%u access %u", round,
						             ty, maj, min, acc);
						cases++;
						allowed += (size_t)got;
					}
		free(p);
	}
	/* Both answers were exercised. */
	cr_assert_gt(allowed, cases / 10);
	cr_assert_lt(allowed, cases - cases / 10);
}

Test(devices_bpf, instruction_count)
{
	const struct rt_dev_rule *defs = NULL;
	size_t nd = rt__devcg_defaults(&defs);
	struct bpf_insn *p = NULL;
	size_t np = 0;
	cr_assert_eq(rt__devcg_build(NULL, 0, &p, &np), 0);
	/* 12 of prologue, 2 of epilogue; each default: 3 for each of type,
	 * major, (minor,) then mov, exit. */
	cr_assert_eq(nd, 9);
	cr_assert_eq(np, 12 + 8 * 11 + 8 + 2, "%zu", np);
	free(p);
	struct rt_dev_rule r[] = {
	        {false, 'a', -1, -1, RWM}, {true, 'b', 7, -1, R | W}, {false, 'c', 1, 3, W}};
	cr_assert_eq(rt__devcg_build(r, 3, &p, &np), 0);
	/* The leading deny-all ends the program: no epilogue after it. */
	cr_assert_eq(np, 110 - 2 + 2 + (6 + 4) + (9 + 5), "%zu", np);
	cr_assert_eq(p[np - 1].code, BPF_JMP | BPF_EXIT);
	cr_assert_eq(p[np - 2].imm, 0, "deny");
	free(p);
}

Test(devices_bpf, an_unknown_access_bit_is_denied)
{
	struct rt_dev_rule all = {true, 'a', -1, -1, RWM};
	cr_assert_eq(run(&all, 1, 'c', R, 1, 1), 1);
	cr_assert_eq(run(&all, 1, 'c', R | 8, 1, 1), 0);
	cr_assert_eq(run(&all, 1, 'c', 0x8000, 1, 3), 0);
}
