/* security.c: the last steps before execve, in the child.
 *
 * Order matters and follows what the kernel allows:
 *   rlimits (needs CAP_SYS_RESOURCE to raise hard limits)
 *   -> bounding set (needs CAP_SETPCAP)
 *   -> seccomp, here only when no_new_privs is off: loading a filter without
 *      no_new_privs needs CAP_SYS_ADMIN, which is about to be dropped
 *   -> groups, gid, uid (PR_SET_KEEPCAPS so the permitted set survives)
 *   -> effective/permitted/inheritable, then ambient
 *   -> no_new_privs
 *   -> seccomp last otherwise, so the filter need not allow the setup's
 *      own syscalls.
 * Two settings of the process come earlier, each where its caller can still
 * make it: oom_score_adj and the personality (rt__oom_score_adj_write,
 * rt__personality_set).
 */
#include "internal.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/seccomp.h>
#include <sys/capability.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

int rt__oom_score_adj_write(const struct rt_process *p, struct ag_error *err)
{
	if (!p->has_oom_score_adj)
		return 0;
	char v[16];
	int n = snprintf(v, sizeof(v), "%d", p->oom_score_adj);
	int r = ag_write_file_at(AT_FDCWD, "/proc/self/oom_score_adj", v, (size_t)n);
	if (r < 0)
		return ag_error_set(err, -r, "process.oomScoreAdj: write %s", v);
	return 0;
}

int rt__personality_set(const struct rt_spec *spec, struct ag_error *err)
{
	if (spec->personality.set && personality(spec->personality.persona) < 0)
		return ag_error_set(err, errno, "linux.personality: personality(0x%lx)",
		                    spec->personality.persona);
	return 0;
}

static int load_seccomp(const struct rt_bpf *bpf, struct ag_error *err)
{
	if (bpf->prog.len == 0)
		return 0;
	/* TSYNC is pointless in a single-threaded child; SPEC_ALLOW is left
	 * to the kernel default (mitigations on). */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &bpf->prog) < 0)
		return ag_error_set(err, errno, "load the seccomp filter (%u instructions)",
		                    bpf->prog.len);
	return 0;
}

static int set_caps(const struct rt_caps *c, struct ag_error *err)
{
	cap_t caps = cap_init();
	if (!caps)
		return ag_error_set(err, errno, "cap_init");
	int last = (int)cap_max_bits();
	for (int i = 0; i < last && i < 64; i++) {
		cap_value_t v = i;
		uint64_t bit = 1ull << i;
		if (c->effective & bit)
			cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_SET);
		if (c->permitted & bit)
			cap_set_flag(caps, CAP_PERMITTED, 1, &v, CAP_SET);
		if (c->inheritable & bit)
			cap_set_flag(caps, CAP_INHERITABLE, 1, &v, CAP_SET);
	}
	int r = cap_set_proc(caps);
	int e = errno;
	cap_free(caps);
	if (r < 0)
		return ag_error_set(err, e,
		                    "set the capabilities (effective, permitted, inheritable)");

	/* Ambient capabilities need to be permitted and inheritable; the
	 * kernel refuses others, and we report that as the spec's fault. */
	for (int i = 0; i < last && i < 64; i++) {
		if (!(c->ambient & (1ull << i)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0) < 0)
			return ag_error_set(
			        err, errno,
			        "raise ambient capability %s (it must also be permitted "
			        "and inheritable)",
			        cap_to_name(i));
	}
	return 0;
}

static int drop_bounding(uint64_t keep, struct ag_error *err)
{
	int last = (int)cap_max_bits();
	for (int i = 0; i < last; i++) {
		if (i < 64 && (keep & (1ull << i)))
			continue;
		if (prctl(PR_CAPBSET_DROP, i, 0, 0, 0) < 0 && errno != EINVAL)
			return ag_error_set(err, errno, "drop capability %d from the bounding set",
			                    i);
	}
	return 0;
}

int rt__security_apply(const struct rt_process *p, const struct rt_bpf *bpf, struct ag_error *err)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		struct rlimit rl = {.rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard};
		if (setrlimit(p->rlimits[i].resource, &rl) < 0)
			return ag_error_set(err, errno, "process.rlimits[%zu]: setrlimit", i);
	}

	struct rt_caps none = {0};
	const struct rt_caps *caps = p->has_caps ? &p->caps : &none;
	int r = drop_bounding(caps->bounding, err);
	if (r < 0)
		return r;

	if (!p->no_new_privileges) {
		r = load_seccomp(bpf, err);
		if (r < 0)
			return r;
	}

	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return ag_error_set(err, errno, "prctl(PR_SET_KEEPCAPS)");
	gid_t groups[64];
	size_t ng = p->user.n_additional_gids;
	if (ng > AG_ARRAY_SIZE(groups))
		return ag_error_set(err, 0, "process.user.additionalGids: more than %zu groups",
		                    AG_ARRAY_SIZE(groups));
	for (size_t i = 0; i < ng; i++)
		groups[i] = p->user.additional_gids[i];
	/* setgroups is refused in a user namespace with setgroups=deny; an
	 * empty list is then already in force. */
	if (setgroups(ng, groups) < 0 && !(errno == EPERM && ng == 0))
		return ag_error_set(err, errno, "setgroups (process.user.additionalGids)");
	if (setresgid(p->user.gid, p->user.gid, p->user.gid) < 0)
		return ag_error_set(err, errno, "setgid %u (process.user.gid)", p->user.gid);
	if (setresuid(p->user.uid, p->user.uid, p->user.uid) < 0)
		return ag_error_set(err, errno, "setuid %u (process.user.uid)", p->user.uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return ag_error_set(err, errno, "prctl(PR_SET_KEEPCAPS)");
	if (p->user.has_umask)
		umask((mode_t)p->user.umask);

	r = set_caps(caps, err);
	if (r < 0)
		return r;

	if (p->no_new_privileges) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			return ag_error_set(err, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
		r = load_seccomp(bpf, err);
		if (r < 0)
			return r;
	}
	return 0;
}
