/* devcgroup.c: linux.resources.devices enforced on cgroup v2, where the
 * device controller is a BPF_PROG_TYPE_CGROUP_DEVICE program attached to
 * the cgroup.
 *
 * The program is written here instruction by instruction (no libbpf: it
 * is a few instructions per rule). The kernel calls it with
 * struct bpf_cgroup_dev_ctx { access_type = access << 16 | type, major,
 * minor } for each mknod and open of a device node and allows the access
 * when it returns 1.
 *
 * Decision: the access bits asked for (one or more of m, r, w) are decided
 * one by one, by the LAST rule that names the device and holds the bit (so
 * later rules override earlier ones, bit by bit: "allow rwm" then "deny w"
 * leaves r and m allowed). Any bit denied, or decided by no rule, denies the
 * access. The program walks the rules from the last one, keeping the bits
 * not yet decided in r6:
 *
 *   r2 = type, r3 = access, r4 = major, r5 = minor
 *   if (r3 & ~rwm) return 0        (an access bit this code does not know)
 *   r6 = r3
 *   per rule, last first:
 *     if type/major/minor differ, go to the next rule (each compared
 *     through a copy: r1 = rX ^ value; if (r1 != 0) ...)
 *     deny:  if (r6 & A) return 0
 *     allow: r6 &= ~A; if (r6 == 0) return 1
 *   return 0
 *
 * Loading (the verifier) costs about 0.2 ms for the defaults alone, 0.5 ms
 * for a Docker-like list of 14 rules and 0.6 s for 1024 rules (the
 * parser's maximum) on the development host.
 *
 * The rules are the spec's followed by the defaults every container needs
 * (rt__devcg_defaults), so a leading "deny all" in the spec does not take
 * /dev/null away, as in runc and crun.
 */
#include "internal.h"

#include <linux/bpf.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

/* The devices every container gets (appended after the spec's rules):
 * the nodes the runtime makes in /dev and the pseudo terminals. Unlike
 * runc and crun, mknod of other nodes ("c *:* m", "b *:* m") is not
 * allowed by default: a container needs a rule for it. */
static const struct rt_dev_rule defaults[] = {
        {true, 'c', 1, 3, RT_DEV_ACC_ALL},    /* /dev/null */
        {true, 'c', 1, 5, RT_DEV_ACC_ALL},    /* /dev/zero */
        {true, 'c', 1, 7, RT_DEV_ACC_ALL},    /* /dev/full */
        {true, 'c', 1, 8, RT_DEV_ACC_ALL},    /* /dev/random */
        {true, 'c', 1, 9, RT_DEV_ACC_ALL},    /* /dev/urandom */
        {true, 'c', 5, 0, RT_DEV_ACC_ALL},    /* /dev/tty */
        {true, 'c', 5, 1, RT_DEV_ACC_ALL},    /* /dev/console */
        {true, 'c', 5, 2, RT_DEV_ACC_ALL},    /* /dev/ptmx */
        {true, 'c', 136, -1, RT_DEV_ACC_ALL}, /* /dev/pts/N */
};

size_t rt__devcg_defaults(const struct rt_dev_rule **ret)
{
	*ret = defaults;
	return AG_ARRAY_SIZE(defaults);
}

static struct bpf_insn ins(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	return (struct bpf_insn){
	        .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}

#define LDX_W(dst, off)        ins(BPF_LDX | BPF_MEM | BPF_W, dst, BPF_REG_1, off, 0)
#define MOV32_REG(dst, src)    ins(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV32_IMM(dst, imm)    ins(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define AND32_IMM(dst, imm)    ins(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm)
#define RSH32_IMM(dst, imm)    ins(BPF_ALU | BPF_RSH | BPF_K, dst, 0, 0, imm)
#define XOR32_IMM(dst, imm)    ins(BPF_ALU | BPF_XOR | BPF_K, dst, 0, 0, imm)
#define JNE_IMM(dst, imm, off) ins(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm)
#define JEQ_IMM(dst, imm, off) ins(BPF_JMP | BPF_JEQ | BPF_K, dst, 0, off, imm)
#define EXIT()                 ins(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* The instructions of one rule into `out` (room for 14); returns how many. */
static size_t rule_insns(const struct rt_dev_rule *d, struct bpf_insn *out)
{
	struct bpf_insn body[5];
	size_t nb = 0;
	if (d->access == RT_DEV_ACC_ALL) {
		/* Every bit still undecided is decided here. */
		body[nb++] = MOV32_IMM(BPF_REG_0, d->allow ? 1 : 0);
		body[nb++] = EXIT();
	} else if (d->allow) {
		body[nb++] = AND32_IMM(BPF_REG_6, (int32_t)(~d->access & RT_DEV_ACC_ALL));
		body[nb++] = JNE_IMM(BPF_REG_6, 0, 2);
		body[nb++] = MOV32_IMM(BPF_REG_0, 1);
		body[nb++] = EXIT();
	} else {
		body[nb++] = MOV32_REG(BPF_REG_1, BPF_REG_6);
		body[nb++] = AND32_IMM(BPF_REG_1, (int32_t)d->access);
		body[nb++] = JEQ_IMM(BPF_REG_1, 0, 2);
		body[nb++] = MOV32_IMM(BPF_REG_0, 0);
		body[nb++] = EXIT();
	}
	/* The checks jump past the rest of the rule when the device differs.
	 * Each compares a copy (r1 = rX ^ value; r1 != 0): a direct
	 * `rX != value` would teach the verifier that rX is that value on
	 * one side, and paths that differ in what it knows do not merge. */
	struct {
		uint8_t reg;
		int32_t value;
	} checks[3];
	size_t nc = 0;
	if (d->type == 'b' || d->type == 'c') {
		checks[nc].reg = BPF_REG_2;
		checks[nc++].value = d->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
	}
	if (d->major >= 0) {
		checks[nc].reg = BPF_REG_4;
		checks[nc++].value = d->major;
	}
	if (d->minor >= 0) {
		checks[nc].reg = BPF_REG_5;
		checks[nc++].value = d->minor;
	}
	size_t n = 0;
	for (size_t i = 0; i < nc; i++) {
		out[n++] = MOV32_REG(BPF_REG_1, checks[i].reg);
		out[n++] = XOR32_IMM(BPF_REG_1, checks[i].value);
		out[n++] = JNE_IMM(BPF_REG_1, 0, (int16_t)(3 * (nc - i - 1) + nb));
	}
	memcpy(out + n, body, nb * sizeof(*body));
	return n + nb;
}

int rt__devcg_build(const struct rt_dev_rule *rules, size_t n_rules, struct bpf_insn **ret,
                    size_t *ret_n)
{
	size_t n_all = n_rules + AG_ARRAY_SIZE(defaults);
	/* 12 instructions of prologue, at most 14 per rule, 2 of epilogue. */
	struct bpf_insn *p = ag_calloc(12 + 14 * n_all + 2, sizeof(*p));
	size_t n = 0;
	p[n++] = LDX_W(BPF_REG_2, offsetof(struct bpf_cgroup_dev_ctx, access_type));
	p[n++] = MOV32_REG(BPF_REG_3, BPF_REG_2);
	p[n++] = AND32_IMM(BPF_REG_2, 0xffff);
	p[n++] = RSH32_IMM(BPF_REG_3, 16);
	p[n++] = LDX_W(BPF_REG_4, offsetof(struct bpf_cgroup_dev_ctx, major));
	p[n++] = LDX_W(BPF_REG_5, offsetof(struct bpf_cgroup_dev_ctx, minor));
	p[n++] = MOV32_REG(BPF_REG_6, BPF_REG_3);
	/* An access bit the kernel may add one day is denied, not ignored;
	 * then r6 holds 3 bits, which keeps the verifier's states few. */
	p[n++] = AND32_IMM(BPF_REG_6, ~RT_DEV_ACC_ALL);
	p[n++] = JEQ_IMM(BPF_REG_6, 0, 2);
	p[n++] = MOV32_IMM(BPF_REG_0, 0);
	p[n++] = EXIT();
	p[n++] = MOV32_REG(BPF_REG_6, BPF_REG_3);
	bool decided = false;
	for (size_t i = n_all; i-- > 0 && !decided;) {
		const struct rt_dev_rule *d = i < n_rules ? &rules[i] : &defaults[i - n_rules];
		n += rule_insns(d, p + n);
		/* "a *:* rwm" decides everything: the rules before it
		 * cannot matter, and the verifier refuses dead code. */
		decided = d->type == 'a' && d->major < 0 && d->minor < 0 &&
		          d->access == RT_DEV_ACC_ALL;
	}
	if (!decided) {
		p[n++] = MOV32_IMM(BPF_REG_0, 0);
		p[n++] = EXIT();
	}
	*ret = p;
	*ret_n = n;
	return 0;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

int rt__devcg_load(const struct bpf_insn *insns, size_t n, int *ret_fd, struct ag_error *err)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = (uint32_t)n;
	a.license = (uint64_t)(uintptr_t) "GPL";
	int fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0) {
		*ret_fd = fd;
		return 0;
	}
	int e = errno;
	if (e != EINVAL && e != EACCES)
		return ag_error_set(err, e, "load the device rules' BPF program (%zu instructions)",
		                    n);
	/* Load again with the verifier's log, for the message. */
	_cleanup_free_ char *log = ag_calloc(1, 4096);
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = 4096;
	a.log_level = 1;
	fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0) {
		*ret_fd = fd;
		return 0;
	}
	/* The reason is the last line before the statistics. */
	char *last = NULL;
	for (char *line = log; *line;) {
		char *end = strchrnul(line, '\n');
		bool stats = strncmp(line, "processed ", 10) == 0 ||
		             strncmp(line, "verification time", 17) == 0 ||
		             strncmp(line, "stack depth", 11) == 0 || line == end;
		if (!stats)
			last = line;
		if (!*end)
			break;
		*end = '\0';
		line = end + 1;
	}
	return ag_error_set(err, e,
	                    "the kernel refused the device rules' BPF program (%zu "
	                    "instructions): %s",
	                    n, last ? last : "(no log)");
}

int rt__devcg_apply(int cgfd, const struct rt_spec *spec, struct ag_error *err)
{
	/* The spec's rules, then mknod of the nodes of linux.devices (the
	 * init makes them inside the cgroup), then the defaults. */
	const struct rt_resources *res = &spec->resources;
	_cleanup_free_ struct rt_dev_rule *rules =
	        ag_calloc(res->n_dev_rules + spec->n_devices + 1, sizeof(*rules));
	size_t n_rules = 0;
	for (size_t i = 0; i < res->n_dev_rules; i++)
		rules[n_rules++] = res->dev_rules[i];
	for (size_t i = 0; i < spec->n_devices; i++) {
		const struct rt_device *d = &spec->devices[i];
		if (d->type == S_IFCHR || d->type == S_IFBLK)
			rules[n_rules++] = (struct rt_dev_rule){
			        true, d->type == S_IFCHR ? 'c' : 'b', (int32_t)d->major,
			        (int32_t)d->minor, RT_DEV_ACC_MKNOD};
	}
	_cleanup_free_ struct bpf_insn *insns = NULL;
	size_t n = 0;
	int r = rt__devcg_build(rules, n_rules, &insns, &n);
	if (r < 0)
		return ag_error_set(err, -r, "build the device rules' BPF program");
	_cleanup_close_ int prog = -1;
	r = rt__devcg_load(insns, n, &prog, err);
	/* Rootless in a delegated cgroup: loading BPF needs privileges the
	 * caller lacks. Its container is in a user namespace, where the
	 * kernel allows no device mknod and host nodes keep their host
	 * permissions, so the defaults add nothing; rules the spec asked for
	 * cannot be honoured and are refused (the caller names the field). */
	if (r == -EPERM && geteuid() != 0 && !res->n_dev_rules)
		return 0;
	if (r < 0)
		return r;
	/* BPF_F_ALLOW_MULTI: programs of the ancestors (a systemd slice's)
	 * keep running too, and every one must allow the access. The
	 * cgroup holds the program; it goes with the cgroup. */
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)cgfd;
	a.attach_bpf_fd = (uint32_t)prog;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
		return ag_error_set(err, errno,
		                    "attach the device rules' BPF program to the cgroup");
	return 0;
}
