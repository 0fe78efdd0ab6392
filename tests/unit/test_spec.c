/* Unit tests for runtime/spec*.c: config.json parsing and validation, the
 * default spec and the default seccomp profile (compiled with libseccomp,
 * never loaded into the test process). */
#include "agtest.h"
#include "common/map.h"
#include "runtime/runtime.h"

#include <fcntl.h>
#include <jansson.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

/* ---- helpers ---------------------------------------------------------- */

static int parse_str(const char *json, const char *bundle, struct rt_spec **ret,
                     struct ag_error *err)
{
	return rt_spec_parse(json, strlen(json), bundle, ret, err);
}

#define CAP(n) (UINT64_C(1) << (n))

/* A filter built the way a launcher would: every arch, every rule, names
 * that this libseccomp does not know skipped. Returns the number of
 * (syscall, ALLOW) rules added. */
static size_t compile_seccomp(const struct rt_seccomp *sc, int out_fd)
{
	/* libseccomp probes the kernel for the actions it may use; valgrind
	 * does not pass seccomp(2) through, which would make KILL_PROCESS look
	 * unsupported. The filter is only exported here, so assume API 3+. */
	if (seccomp_api_get() < 3)
		cr_assert_eq(seccomp_api_set(3), 0);
	scmp_filter_ctx ctx = seccomp_init(sc->default_action);
	cr_assert_not_null(ctx);
	for (size_t i = 0; i < sc->n_arches; i++) {
		int r = seccomp_arch_add(ctx, sc->arches[i]);
		cr_assert(r == 0 || r == -EEXIST, "seccomp_arch_add(%u): %d", sc->arches[i], r);
	}
	size_t allowed = 0;
	for (size_t i = 0; i < sc->n_rules; i++) {
		const struct rt_seccomp_rule *rule = &sc->rules[i];
		struct scmp_arg_cmp cmp[6];
		cr_assert_leq(rule->n_args, 6);
		for (size_t a = 0; a < rule->n_args; a++)
			cmp[a] =
			        (struct scmp_arg_cmp){rule->args[a].index, rule->args[a].op,
			                              rule->args[a].value, rule->args[a].value_two};
		for (size_t n = 0; n < rule->n_names; n++) {
			int nr = seccomp_syscall_resolve_name(rule->names[n]);
			if (nr == __NR_SCMP_ERROR)
				continue;
			int r = seccomp_rule_add_array(ctx, rule->action, nr,
			                               (unsigned)rule->n_args, cmp);
			cr_assert_eq(r, 0, "rule %zu, syscall %s: %s", i, rule->names[n],
			             strerror(-r));
			if (rule->action == SCMP_ACT_ALLOW)
				allowed++;
		}
	}
	cr_assert_eq(seccomp_export_bpf(ctx, out_fd), 0);
	seccomp_release(ctx);
	return allowed;
}

static bool rule_allows(const struct rt_seccomp *sc, const char *name, bool *ret_conditional)
{
	for (size_t i = 0; i < sc->n_rules; i++) {
		for (size_t n = 0; n < sc->rules[i].n_names; n++) {
			if (strcmp(sc->rules[i].names[n], name) == 0 &&
			    sc->rules[i].action == SCMP_ACT_ALLOW) {
				if (ret_conditional)
					*ret_conditional = sc->rules[i].n_args > 0;
				return true;
			}
		}
	}
	return false;
}

/* ---- a full spec round-trips --------------------------------------------- */

static const char full_spec[] =
        "{\"ociVersion\": \"1.2.0\", \"x-extension\": {\"anything\": [1, 2]},"
        " \"process\": {\"terminal\": true, \"args\": [\"/bin/app\", \"--flag\"],"
        "  \"env\": [\"PATH=/bin\", \"EMPTY=\"], \"cwd\": \"/srv\","
        "  \"user\": {\"uid\": 1000, \"gid\": 100, \"umask\": 18, \"additionalGids\": [5, 6]},"
        "  \"capabilities\": {\"bounding\": [\"CAP_CHOWN\", \"cap_kill\", "
        "\"CAP_NET_BIND_SERVICE\"],"
        "   \"effective\": [\"CAP_KILL\"], \"inheritable\": [], \"permitted\": [\"CAP_KILL\", "
        "\"CAP_CHOWN\"],"
        "   \"ambient\": [\"CAP_SYS_ADMIN\"]},"
        "  \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 512, \"hard\": 4096},"
        "               {\"type\": \"RLIMIT_CORE\", \"soft\": 0, \"hard\": 0}],"
        "  \"noNewPrivileges\": true, \"oomScoreAdj\": -500,"
        "  \"consoleSize\": {\"height\": 50, \"width\": 132}},"
        " \"root\": {\"path\": \"./rootfs/\", \"readonly\": true},"
        " \"hostname\": \"box\","
        " \"mounts\": [{\"destination\": \"/data\", \"source\": \"/srv/data\", \"options\":"
        "   [\"rbind\", \"ro\", \"nosuid\", \"nodev\", \"rprivate\", \"noatime\"]},"
        "  {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\","
        "   \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"gid=5\"]},"
        "  {\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"options\": [\"ro\", \"rw\", \"exec\","
        "\"shared\"]}],"
        " \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\", \"path\":"
        "   \"/run/netns/x\"}, {\"type\": \"mount\"}, {\"type\": \"uts\"}, {\"type\": \"user\"}],"
        "  \"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}],"
        "  \"gidMappings\": [{\"containerID\": 0, \"hostID\": 200000, \"size\": 1000}],"
        "  \"resources\": {\"memory\": {\"limit\": 536870912, \"reservation\": 268435456,"
        "    \"swap\": -1}, \"cpu\": {\"quota\": 50000, \"period\": 100000, \"shares\": 512,"
        "    \"cpus\": \"0-1,3\", \"mems\": \"0\"}, \"pids\": {\"limit\": 100},"
        "   \"blockIO\": {\"weight\": 500, \"throttleReadBpsDevice\": [{\"major\": 8, \"minor\":"
        "    0, \"rate\": 1048576}], \"throttleWriteIOPSDevice\": [{\"major\": 8, \"minor\": 16,"
        "    \"rate\": 100}]}, \"unified\": {\"memory.high\": \"400M\"}},"
        "  \"cgroupsPath\": \"/agora/task-1\","
        "  \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38,"
        "   \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_AARCH64\"],"
        "   \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"],"
        "   \"syscalls\": [{\"names\": [\"read\", \"write\", \"no_such_syscall\"], \"action\":"
        "     \"SCMP_ACT_ALLOW\"}, {\"names\": [\"kill\"], \"action\": \"SCMP_ACT_ERRNO\"},"
        "    {\"names\": [\"clone\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0,"
        "     \"value\": 2114060288, \"op\": \"SCMP_CMP_MASKED_EQ\"}]},"
        "    {\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_KILL_PROCESS\"},"
        "    {\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_TRACE\", \"errnoRet\": 7,"
        "     \"args\": [{\"index\": 1, \"value\": 1, \"valueTwo\": 2, \"op\": \"SCMP_CMP_GE\"},"
        "     {\"index\": 2, \"value\": 3, \"op\": \"SCMP_CMP_NE\"}]}]},"
        "  \"maskedPaths\": [\"/proc/kcore\"], \"readonlyPaths\": [\"/proc/sys\", \"/proc/bus\"],"
        "  \"sysctl\": {\"net.ipv4.ip_forward\": \"1\"}},"
        " \"hooks\": {\"createRuntime\": [{\"path\": \"/usr/bin/netsetup\", \"args\":"
        "   [\"netsetup\", \"up\"], \"env\": [\"A=1\"], \"timeout\": 5}],"
        "  \"poststop\": [{\"path\": \"/bin/cleanup\"}, {\"path\": \"/bin/other\"}]},"
        " \"annotations\": {\"org.agora.task\": \"t1\", \"owner\": \"me\"}}";

Test(spec, full_spec_round_trips_process_and_root)
{
	struct rt_spec *s = NULL;
	struct ag_error err = {0};
	cr_assert_eq(parse_str(full_spec, "/var/lib/agora/b1", &s, &err), 0, "%s", err.msg);
	cr_assert_str_eq(s->oci_version, "1.2.0");
	const struct rt_process *p = &s->process;
	cr_assert(p->terminal);
	cr_assert(p->has_console_size);
	cr_assert_eq(p->console_rows, 50);
	cr_assert_eq(p->console_cols, 132);
	cr_assert_eq(p->n_args, 2);
	cr_assert_str_eq(p->args[0], "/bin/app");
	cr_assert_str_eq(p->args[1], "--flag");
	cr_assert_null(p->args[2]);
	cr_assert_eq(p->n_env, 2);
	cr_assert_str_eq(p->env[1], "EMPTY=");
	cr_assert_null(p->env[2]);
	cr_assert_str_eq(p->cwd, "/srv");
	cr_assert_eq(p->user.uid, 1000);
	cr_assert_eq(p->user.gid, 100);
	cr_assert(p->user.has_umask);
	cr_assert_eq(p->user.umask, 022);
	cr_assert_eq(p->user.n_additional_gids, 2);
	cr_assert_eq(p->user.additional_gids[1], 6);
	cr_assert(p->has_caps);
	cr_assert_eq(p->caps.bounding, CAP(0) | CAP(5) | CAP(10)); /* CHOWN KILL NET_BIND */
	cr_assert_eq(p->caps.effective, CAP(5));
	cr_assert_eq(p->caps.inheritable, 0);
	cr_assert_eq(p->caps.permitted, CAP(0) | CAP(5));
	cr_assert_eq(p->caps.ambient, CAP(21)); /* SYS_ADMIN */
	cr_assert_eq(p->n_rlimits, 2);
	cr_assert_eq(p->rlimits[0].resource, RLIMIT_NOFILE);
	cr_assert_eq(p->rlimits[0].soft, 512);
	cr_assert_eq(p->rlimits[0].hard, 4096);
	cr_assert_eq(p->rlimits[1].resource, RLIMIT_CORE);
	cr_assert(p->no_new_privileges);
	cr_assert(p->has_oom_score_adj);
	cr_assert_eq(p->oom_score_adj, -500);
	cr_assert_str_eq(s->root_path, "/var/lib/agora/b1/rootfs");
	cr_assert(s->root_readonly);
	cr_assert_str_eq(s->hostname, "box");
	cr_assert_eq(s->n_annotations, 2);
	cr_assert_str_eq(s->annotations[0].key, "org.agora.task");
	cr_assert_str_eq(s->annotations[0].value, "t1");
	rt_spec_free(s);
}

Test(spec, full_spec_round_trips_mounts_and_namespaces)
{
	struct rt_spec *s = NULL;
	struct ag_error err = {0};
	cr_assert_eq(parse_str(full_spec, "/b", &s, &err), 0, "%s", err.msg);
	cr_assert_eq(s->n_mounts, 3);
	const struct rt_mount *m = &s->mounts[0];
	cr_assert_str_eq(m->destination, "/data");
	cr_assert_null(m->type);
	cr_assert_str_eq(m->source, "/srv/data");
	cr_assert_eq(m->flags, MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOATIME);
	cr_assert_eq(m->clear_flags, 0);
	cr_assert_eq(m->propagation, MS_PRIVATE | MS_REC);
	cr_assert_null(m->data);
	m = &s->mounts[1];
	cr_assert_str_eq(m->type, "devpts");
	cr_assert_eq(m->flags, MS_NOSUID | MS_NOEXEC);
	cr_assert_str_eq(m->data, "newinstance,ptmxmode=0666,gid=5");
	m = &s->mounts[2];
	cr_assert_null(m->source);
	cr_assert_eq(m->flags, 0, "ro then rw: rw wins");
	cr_assert_eq(m->clear_flags, MS_RDONLY | MS_NOEXEC);
	cr_assert_eq(m->propagation, MS_SHARED);

	cr_assert(s->ns[RT_NS_PID].enabled);
	cr_assert_null(s->ns[RT_NS_PID].path);
	cr_assert(s->ns[RT_NS_NETWORK].enabled);
	cr_assert_str_eq(s->ns[RT_NS_NETWORK].path, "/run/netns/x");
	cr_assert(s->ns[RT_NS_USER].enabled);
	cr_assert_not(s->ns[RT_NS_IPC].enabled);
	cr_assert_not(s->ns[RT_NS_CGROUP].enabled);
	cr_assert_eq(s->n_uid_mappings, 1);
	cr_assert_eq(s->uid_mappings[0].host_id, 100000);
	cr_assert_eq(s->uid_mappings[0].size, 65536);
	cr_assert_eq(s->gid_mappings[0].host_id, 200000);
	cr_assert_eq(s->n_masked_paths, 1);
	cr_assert_str_eq(s->readonly_paths[1], "/proc/bus");
	cr_assert_eq(s->n_sysctl, 1);
	cr_assert_str_eq(s->sysctl[0].key, "net.ipv4.ip_forward");
	cr_assert_str_eq(rt_ns_type_name(RT_NS_NETWORK), "network");
	rt_spec_free(s);
}

Test(spec, full_spec_round_trips_resources_hooks_and_cgroup_path)
{
	struct rt_spec *s = NULL;
	struct ag_error err = {0};
	cr_assert_eq(parse_str(full_spec, "/b", &s, &err), 0, "%s", err.msg);
	cr_assert(s->has_resources);
	const struct rt_resources *r = &s->resources;
	cr_assert(r->memory.has_limit && r->memory.has_reservation && r->memory.has_swap);
	cr_assert_eq(r->memory.limit, 536870912);
	cr_assert_eq(r->memory.reservation, 268435456);
	cr_assert_eq(r->memory.swap, -1);
	cr_assert(r->cpu.has_quota && r->cpu.has_period && r->cpu.has_shares);
	cr_assert_eq(r->cpu.quota, 50000);
	cr_assert_eq(r->cpu.period, 100000);
	cr_assert_eq(r->cpu.shares, 512);
	cr_assert_str_eq(r->cpu.cpus, "0-1,3");
	cr_assert_str_eq(r->cpu.mems, "0");
	cr_assert(r->has_pids_limit);
	cr_assert_eq(r->pids_limit, 100);
	cr_assert(r->has_blkio_weight);
	cr_assert_eq(r->blkio_weight, 500);
	cr_assert_eq(r->n_throttles, 2);
	cr_assert_eq(r->throttles[0].kind, RT_THROTTLE_READ_BPS);
	cr_assert_eq(r->throttles[0].major, 8);
	cr_assert_eq(r->throttles[0].rate, 1048576);
	cr_assert_eq(r->throttles[1].kind, RT_THROTTLE_WRITE_IOPS);
	cr_assert_eq(r->throttles[1].minor, 16);
	cr_assert_eq(r->n_unified, 1);
	cr_assert_str_eq(r->unified[0].key, "memory.high");
	cr_assert_str_eq(r->unified[0].value, "400M");
	cr_assert_str_eq(s->cgroups_path, "/agora/task-1");

	cr_assert_eq(s->hooks.n[RT_HOOK_CREATE_RUNTIME], 1);
	const struct rt_hook *h = &s->hooks.list[RT_HOOK_CREATE_RUNTIME][0];
	cr_assert_str_eq(h->path, "/usr/bin/netsetup");
	cr_assert_str_eq(h->args[1], "up");
	cr_assert_null(h->args[2]);
	cr_assert_str_eq(h->env[0], "A=1");
	cr_assert_eq(h->timeout, 5);
	cr_assert_eq(s->hooks.n[RT_HOOK_POSTSTOP], 2);
	cr_assert_null(s->hooks.list[RT_HOOK_POSTSTOP][0].args);
	cr_assert_eq(s->hooks.list[RT_HOOK_POSTSTOP][0].timeout, 0);
	cr_assert_eq(s->hooks.n[RT_HOOK_POSTSTART], 0);
	rt_spec_free(s);
}

Test(spec, full_spec_round_trips_seccomp_actions_and_args)
{
	struct rt_spec *s = NULL;
	struct ag_error err = {0};
	cr_assert_eq(parse_str(full_spec, "/b", &s, &err), 0, "%s", err.msg);
	const struct rt_seccomp *sc = s->seccomp;
	cr_assert_not_null(sc);
	cr_assert_eq(sc->default_action, SCMP_ACT_ERRNO(38));
	cr_assert_eq(sc->n_arches, 2);
	cr_assert_eq(sc->arches[0], SCMP_ARCH_X86_64);
	cr_assert_eq(sc->arches[1], SCMP_ARCH_AARCH64);
	cr_assert_eq(sc->flags, 2u); /* SECCOMP_FILTER_FLAG_LOG */
	cr_assert_eq(sc->n_rules, 5);
	cr_assert_eq(sc->rules[0].action, SCMP_ACT_ALLOW);
	cr_assert_eq(sc->rules[0].n_names, 3);
	cr_assert_str_eq(sc->rules[0].names[2], "no_such_syscall");
	cr_assert_eq(sc->rules[1].action, SCMP_ACT_ERRNO(EPERM), "ERRNO defaults to EPERM");
	cr_assert_eq(sc->rules[2].n_args, 1);
	cr_assert_eq(sc->rules[2].args[0].op, SCMP_CMP_MASKED_EQ);
	cr_assert_eq(sc->rules[2].args[0].value, 0x7E020000);
	cr_assert_eq(sc->rules[2].args[0].value_two, 0);
	cr_assert_eq(sc->rules[3].action, SCMP_ACT_KILL_PROCESS);
	cr_assert_eq(sc->rules[4].action, SCMP_ACT_TRACE(7));
	cr_assert_eq(sc->rules[4].n_args, 2);
	cr_assert_eq(sc->rules[4].args[0].index, 1);
	cr_assert_eq(sc->rules[4].args[0].value_two, 2);
	cr_assert_eq(sc->rules[4].args[1].op, SCMP_CMP_NE);
	cr_assert_not_null(sc->canonical);
	cr_assert_gt(sc->canonical_len, 5);
	cr_assert_eq(memcmp(sc->canonical, "AGSC1", 5), 0);
	/* FNV-1a 64 of the canonical bytes (unit.map checks the hash against
	 * the published test vectors). */
	cr_assert_eq(sc->hash, ag_hash_bytes(sc->canonical, sc->canonical_len));
	int fd = memfd_create("bpf", MFD_CLOEXEC);
	cr_assert_geq(fd, 0);
	compile_seccomp(sc, fd);
	close(fd);
	rt_spec_free(s);
}

/* OCI: process is OPTIONAL in config.json (REQUIRED only for start). */
Test(spec, a_spec_without_process_parses_and_says_so)
{
	struct rt_spec *s = NULL;
	struct ag_error err = {0};
	cr_assert_eq(
	        parse_str("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"/r\"}}", NULL, &s, &err),
	        0, "%s", err.msg);
	cr_assert_not(s->has_process);
	cr_assert_null(s->process.args);
	rt_spec_free(s);
	cr_assert_eq(parse_str("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"/r\"},"
	                       "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"}}",
	                       NULL, &s, &err),
	             0, "%s", err.msg);
	cr_assert(s->has_process);
	rt_spec_free(s);
}

Test(spec, same_seccomp_profile_gives_same_key_whatever_the_key_order)
{
	const char *a = "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},"
	                "\"root\":{\"path\":\"/r\"},\"linux\":{\"seccomp\":{\"defaultAction\":"
	                "\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"kexec_load\"],"
	                "\"action\":\"SCMP_ACT_ERRNO\"}]}}}";
	const char *b = "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},"
	                "\"root\":{\"path\":\"/r\"},\"linux\":{\"seccomp\":{\"syscalls\":[{"
	                "\"action\":\"SCMP_ACT_ERRNO\",\"names\":[\"kexec_load\"]}],"
	                "\"defaultAction\":\"SCMP_ACT_ALLOW\"}}}";
	struct rt_spec *sa = NULL, *sb = NULL;
	struct ag_error err = {0};
	cr_assert_eq(parse_str(a, NULL, &sa, &err), 0, "%s", err.msg);
	cr_assert_eq(parse_str(b, NULL, &sb, &err), 0, "%s", err.msg);
	cr_assert_eq(sa->seccomp->canonical_len, sb->seccomp->canonical_len);
	cr_assert_eq(
	        memcmp(sa->seccomp->canonical, sb->seccomp->canonical, sa->seccomp->canonical_len),
	        0);
	cr_assert_eq(sa->seccomp->hash, sb->seccomp->hash);
	rt_spec_free(sa);
	rt_spec_free(sb);
}

Test(spec, a_different_seccomp_profile_gives_a_different_key)
{
	const char *a = "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},"
	                "\"root\":{\"path\":\"/r\"},\"linux\":{\"seccomp\":{\"defaultAction\":"
	                "\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"kexec_load\"],"
	                "\"action\":\"SCMP_ACT_ERRNO\"}]}}}";
	/* Same names, one more byte of argument: must not share a filter. */
	const char *b = "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},"
	                "\"root\":{\"path\":\"/r\"},\"linux\":{\"seccomp\":{\"defaultAction\":"
	                "\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"kexec_load\"],"
	                "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":1,"
	                "\"op\":\"SCMP_CMP_EQ\"}]}]}}}";
	/* Names split differently ("ab","c" vs "a","bc") must differ too. */
	const char *c = "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},"
	                "\"root\":{\"path\":\"/r\"},\"linux\":{\"seccomp\":{\"defaultAction\":"
	                "\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"kexec_loa\",\"d\"],"
	                "\"action\":\"SCMP_ACT_ERRNO\"}]}}}";
	struct rt_spec *sa = NULL, *sb = NULL, *sc = NULL;
	struct ag_error err = {0};
	cr_assert_eq(parse_str(a, NULL, &sa, &err), 0, "%s", err.msg);
	cr_assert_eq(parse_str(b, NULL, &sb, &err), 0, "%s", err.msg);
	cr_assert_eq(parse_str(c, NULL, &sc, &err), 0, "%s", err.msg);
	cr_assert_neq(sa->seccomp->hash, sb->seccomp->hash);
	cr_assert_neq(sa->seccomp->hash, sc->seccomp->hash);
	cr_assert(
	        sa->seccomp->canonical_len != sc->seccomp->canonical_len ||
	        memcmp(sa->seccomp->canonical, sc->seccomp->canonical, sa->seccomp->canonical_len));
	rt_spec_free(sa);
	rt_spec_free(sb);
	rt_spec_free(sc);
}

/* ---- the default spec -------------------------------------------------- */

Test(spec_default, parses_validates_and_has_docker_defaults)
{
	char *json = rt_spec_default_json();
	struct rt_spec *s = NULL;
	struct ag_error err = {0};
	cr_assert_eq(parse_str(json, "/bundles/a", &s, &err), 0, "%s", err.msg);
	cr_assert_str_eq(s->oci_version, "1.0.2");
	cr_assert_str_eq(s->process.args[0], "sh");
	cr_assert_not(s->process.terminal);
	cr_assert_str_eq(s->process.cwd, "/");
	cr_assert(s->process.no_new_privileges);
	cr_assert_eq(s->process.user.uid, 0);
	uint64_t docker = CAP(0) | CAP(1) | CAP(3) | CAP(4) | CAP(27) | CAP(13) | CAP(6) | CAP(7) |
	                  CAP(31) | CAP(8) | CAP(10) | CAP(18) | CAP(5) | CAP(29);
	cr_assert_eq(__builtin_popcountll(docker), 14);
	cr_assert_eq(s->process.caps.bounding, docker);
	cr_assert_eq(s->process.caps.effective, docker);
	cr_assert_eq(s->process.caps.permitted, docker);
	cr_assert_eq(s->process.caps.inheritable, 0);
	cr_assert_eq(s->process.caps.ambient, 0);
	cr_assert_eq(s->process.n_rlimits, 1);
	cr_assert_eq(s->process.rlimits[0].resource, RLIMIT_NOFILE);
	cr_assert_eq(s->process.rlimits[0].hard, 1024);
	cr_assert_str_eq(s->root_path, "/bundles/a/rootfs");
	cr_assert(s->root_readonly);
	cr_assert_str_eq(s->hostname, "agora");
	cr_assert_eq(s->n_mounts, 7);
	cr_assert_str_eq(s->mounts[2].destination, "/dev/pts");
	cr_assert_str_eq(s->mounts[2].data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
	cr_assert_eq(s->mounts[5].flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY);
	cr_assert_eq(s->mounts[6].flags,
	             MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY);
	for (int t = 0; t < RT_NS_COUNT; t++)
		cr_assert_eq(s->ns[t].enabled, t != RT_NS_USER, "%s", rt_ns_type_name(t));
	cr_assert_eq(s->n_masked_paths, 12);
	cr_assert_eq(s->n_readonly_paths, 5);
	cr_assert_not_null(s->seccomp);
	cr_assert_eq(s->seccomp->default_action, SCMP_ACT_ERRNO(EPERM));
	rt_spec_free(s);
	free(json);
}

Test(spec_default, seccomp_profile_compiles_with_a_few_hundred_allowed_syscalls)
{
	char *prof = rt_seccomp_default_profile_json();
	char *doc =
	        ag_asprintf("{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"],"
	                    "\"cwd\":\"/\"},\"root\":{\"path\":\"/r\"},\"linux\":{\"seccomp\":%s}}",
	                    prof);
	struct rt_spec *s = NULL;
	struct ag_error err = {0};
	cr_assert_eq(parse_str(doc, NULL, &s, &err), 0, "%s", err.msg);
	const struct rt_seccomp *sc = s->seccomp;
	int fd = memfd_create("bpf", MFD_CLOEXEC);
	cr_assert_geq(fd, 0);
	size_t allowed = compile_seccomp(sc, fd);
	struct stat st;
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_gt(st.st_size, 1000, "some BPF was written");
	close(fd);
	cr_assert_geq(allowed, 300, "allowed: %zu", allowed);
	cr_assert_leq(allowed, 450, "allowed: %zu", allowed);
	rt_spec_free(s);
	free(doc);
	free(prof);
}

Test(spec_default, seccomp_profile_denies_the_dangerous_syscalls)
{
	char *json = rt_spec_default_json();
	struct rt_spec *s = NULL;
	cr_assert_eq(parse_str(json, "/b", &s, NULL), 0);
	const struct rt_seccomp *sc = s->seccomp;
	static const char *const never[] = {"keyctl",
	                                    "add_key",
	                                    "request_key",
	                                    "userfaultfd",
	                                    "io_uring_setup",
	                                    "io_uring_enter",
	                                    "io_uring_register",
	                                    "kexec_load",
	                                    "kexec_file_load",
	                                    "pivot_root",
	                                    "bpf",
	                                    "perf_event_open",
	                                    "mount",
	                                    "umount2",
	                                    "unshare",
	                                    "setns",
	                                    "ptrace",
	                                    "open_by_handle_at",
	                                    "init_module",
	                                    "finit_module",
	                                    "delete_module",
	                                    "acct",
	                                    "swapon",
	                                    "swapoff",
	                                    "reboot",
	                                    "settimeofday",
	                                    "clock_settime",
	                                    "adjtimex",
	                                    "clone3"};
	for (size_t i = 0; i < AG_ARRAY_SIZE(never); i++)
		cr_expect_not(rule_allows(sc, never[i], NULL), "%s is allowed", never[i]);
	bool cond = false;
	cr_assert(rule_allows(sc, "clone", &cond));
	cr_assert(cond, "clone is allowed only without namespace flags");
	cr_assert(rule_allows(sc, "socket", &cond));
	cr_assert(cond, "socket is allowed only for some families");
	cr_assert(rule_allows(sc, "read", &cond));
	cr_assert_not(cond);
	bool clone3_enosys = false;
	for (size_t i = 0; i < sc->n_rules; i++) {
		if (strcmp(sc->rules[i].names[0], "clone3") == 0)
			clone3_enosys = sc->rules[i].action == SCMP_ACT_ERRNO(ENOSYS);
	}
	cr_assert(clone3_enosys);
	rt_spec_free(s);
	free(json);
}

Test(spec_default, profile_alone_is_the_one_inside_the_default_spec)
{
	char *json = rt_spec_default_json();
	char *prof = rt_seccomp_default_profile_json();
	struct rt_spec *s = NULL;
	cr_assert_eq(parse_str(json, "/b", &s, NULL), 0);
	/* The profile alone, in a minimal spec, gives the same canonical form. */
	_cleanup_free_ char *alone = ag_asprintf(
	        "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},"
	        "\"root\":{\"path\":\"/r\"},\"linux\":{\"seccomp\":%s}}",
	        prof);
	struct rt_spec *a = NULL;
	cr_assert_eq(parse_str(alone, NULL, &a, NULL), 0);
	cr_assert_eq(a->seccomp->canonical_len, s->seccomp->canonical_len);
	cr_assert_eq(
	        memcmp(a->seccomp->canonical, s->seccomp->canonical, a->seccomp->canonical_len), 0);
	rt_spec_free(a);
	rt_spec_free(s);
	free(prof);
	free(json);
}

/* Which socket families the masked rules let through: exactly all but
 * AF_ALG (38) and AF_VSOCK (40), also with junk in the upper 32 bits. */
Test(spec_default, socket_rules_allow_every_family_but_alg_and_vsock)
{
	char *json = rt_spec_default_json();
	struct rt_spec *s = NULL;
	cr_assert_eq(parse_str(json, "/b", &s, NULL), 0);
	const struct rt_seccomp *sc = s->seccomp;
	for (uint64_t fam = 0; fam < 64; fam++) {
		for (uint64_t hi = 0; hi < 2; hi++) {
			uint64_t arg = fam | (hi << 32);
			bool ok = false;
			for (size_t i = 0; i < sc->n_rules; i++) {
				const struct rt_seccomp_rule *r = &sc->rules[i];
				if (strcmp(r->names[0], "socket") == 0 && r->n_args == 1 &&
				    (arg & r->args[0].value) == r->args[0].value_two)
					ok = true;
			}
			cr_expect_eq(ok, fam != 38 && fam != 40, "family %llu hi %llu",
			             (unsigned long long)fam, (unsigned long long)hi);
		}
	}
	rt_spec_free(s);
	free(json);
}

/* ---- input handling ---------------------------------------------------- */

Test(spec, relative_root_is_resolved_against_the_bundle)
{
#define ROOT_FMT                                                                                   \
	"{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},"                 \
	"\"root\":{\"path\":\"%s\"}}"
	static const struct {
		const char *bundle, *root, *want;
	} cases[] = {
	        {"/run/b", "rootfs", "/run/b/rootfs"},
	        {"/run/b/", "./rootfs/", "/run/b/rootfs"},
	        {"/run/b", "/abs//root/", "/abs/root"},
	        {"/run/b", "sub/./dir", "/run/b/sub/dir"},
	};
	for (size_t i = 0; i < AG_ARRAY_SIZE(cases); i++) {
		char *doc = ag_asprintf(ROOT_FMT, cases[i].root);
		struct rt_spec *s = NULL;
		struct ag_error err = {0};
		cr_assert_eq(parse_str(doc, cases[i].bundle, &s, &err), 0, "%s", err.msg);
		cr_expect_str_eq(s->root_path, cases[i].want);
		rt_spec_free(s);
		free(doc);
	}
	/* No bundle: the current directory is the bundle, as with runc. */
	char *doc = ag_asprintf(ROOT_FMT, "rootfs");
	struct rt_spec *s = NULL;
	cr_assert_eq(chdir("/tmp"), 0);
	cr_assert_eq(parse_str(doc, NULL, &s, NULL), 0);
	cr_assert_str_eq(s->root_path, "/tmp/rootfs");
	rt_spec_free(s);
	free(doc);
}

Test(spec, duplicate_json_keys_are_rejected)
{
	const char *doc = "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\","
	                  "\"cwd\":\"/etc\"},\"root\":{\"path\":\"/r\"}}";
	struct rt_spec *s = NULL;
	struct ag_error err = {0};
	cr_assert_eq(parse_str(doc, NULL, &s, &err), -EINVAL);
	cr_assert_null(s);
	cr_assert_str_eq(err.msg, "config.json: line 1, column 62: duplicate object key near "
	                          "'\"cwd\"'");
}

Test(spec, syntax_errors_name_line_and_column)
{
	const char *doc = "{\"ociVersion\": \"1.0.2\",\n  \"process\": {\"args\": [\"sh\",]}}";
	struct ag_error err = {0};
	struct rt_spec *s = NULL;
	cr_assert_eq(parse_str(doc, NULL, &s, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "config.json: line 2, column 29: unexpected token near ']'");
}

Test(spec, oversized_input_is_rejected_before_parsing)
{
	size_t len = RT_SPEC_MAX_BYTES + 1;
	char *big = ag_malloc(len);
	memset(big, ' ', len);
	struct ag_error err = {0};
	struct rt_spec *s = NULL;
	cr_assert_eq(rt_spec_parse(big, len, NULL, &s, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "config.json: 4194305 bytes is over the limit of 4194304 bytes");
	free(big);
}

Test(spec, load_reads_config_json_from_the_bundle)
{
	char dir[] = "/tmp/agora-spec-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char *path = ag_asprintf("%s/config.json", dir);
	char *json = rt_spec_default_json();
	cr_assert_eq(ag_write_file_atomic_at(AT_FDCWD, path, json, strlen(json), 0644), 0);
	struct rt_spec *s = NULL;
	struct ag_error err = {0};
	cr_assert_eq(rt_spec_load(dir, &s, &err), 0, "%s", err.msg);
	char *want = ag_asprintf("%s/rootfs", dir);
	cr_assert_str_eq(s->root_path, want);
	rt_spec_free(s);

	const char *bad = "{\"ociVersion\": 1}";
	cr_assert_eq(ag_write_file_atomic_at(AT_FDCWD, path, bad, strlen(bad), 0644), 0);
	cr_assert_eq(rt_spec_load(dir, &s, &err), -EINVAL);
	char *msg = ag_asprintf("%s: ociVersion: must be a string, got 1", path);
	cr_assert_str_eq(err.msg, msg);
	unlink(path);
	rmdir(dir);
	free(msg);
	free(want);
	free(json);
	free(path);
}

Test(spec, null_and_half_built_specs_can_be_freed)
{
	rt_spec_free(NULL);
	struct rt_spec *s = ag_calloc(1, sizeof(*s));
	rt_spec_free(s);
}

/* ---- bad inputs, one exact message each -------------------------------- */

/* Merge `patch` into `base`: objects recursively, null deletes a key,
 * anything else replaces. */
static void merge(json_t *base, json_t *patch)
{
	const char *k;
	json_t *v;
	json_object_foreach (patch, k, v) {
		json_t *old = json_object_get(base, k);
		if (json_is_null(v))
			json_object_del(base, k);
		else if (json_is_object(v) && json_is_object(old))
			merge(old, v);
		else
			json_object_set(base, k, v);
	}
}

static const char base_spec[] =
        "{\"ociVersion\": \"1.0.2\", \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"},"
        " \"root\": {\"path\": \"rootfs\"},"
        " \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}]}}";

#define NS_USER "[{\"type\":\"pid\"},{\"type\":\"user\"}]"

static const struct {
	const char *patch;
	const char *msg;
} bad_cases[] = {
        {"{\"ociVersion\": \"2.0.0\"}",
         "ociVersion: unsupported version (this runtime supports 1.x), got \"2.0.0\""},
        {"{\"ociVersion\": 1}", "ociVersion: must be a string, got 1"},
        {"{\"ociVersion\": null}", "ociVersion: is required"},
        {"{\"process\": 3}", "process: must be an object, got 3"},
        {"{\"process\": {\"args\": []}}",
         "process.args: must be a non-empty array of strings, got []"},
        {"{\"process\": {\"args\": null}}", "process.args: must be a non-empty array of strings"},
        {"{\"process\": {\"args\": [\"sh\", 3]}}", "process.args[1]: must be a string, got 3"},
        {"{\"process\": {\"args\": [\"\"]}}",
         "process.args[0]: must name the program to run, got \"\""},
        {"{\"process\": {\"env\": [\"A=1\", \"FOO\"]}}",
         "process.env[1]: must be \"KEY=VALUE\", got \"FOO\""},
        {"{\"process\": {\"env\": [\"=x\"]}}", "process.env[0]: must be \"KEY=VALUE\", got \"=x\""},
        {"{\"process\": {\"cwd\": \"tmp\"}}", "process.cwd: must be an absolute path, got \"tmp\""},
        {"{\"process\": {\"cwd\": null}}", "process.cwd: is required"},
        {"{\"process\": {\"user\": {\"uid\": -1, \"gid\": 0}}}",
         "process.user.uid: must be an integer between 0 and 4294967294, got -1"},
        {"{\"process\": {\"user\": {\"uid\": 0, \"gid\": 1.5}}}",
         "process.user.gid: must be an integer between 0 and 4294967294, got 1.5"},
        {"{\"process\": {\"user\": {\"uid\": \"0\", \"gid\": 0}}}",
         "process.user.uid: must be an integer between 0 and 4294967294, got \"0\""},
        {"{\"process\": {\"user\": {\"uid\": 0, \"gid\": 0, \"umask\": 1000}}}",
         "process.user.umask: must be an integer between 0 and 511 (0777), got 1000"},
        {"{\"process\": {\"user\": {\"uid\": 0, \"gid\": 0, \"additionalGids\": [1, \"x\"]}}}",
         "process.user.additionalGids[1]: must be an integer between 0 and 4294967294, got \"x\""},
        {"{\"process\": {\"capabilities\": {\"bounding\": [\"CAP_CHOWN\", \"CAP_KILL\", "
         "\"CAP_NET_RAW\", \"CAP_FOO\"]}}}",
         "process.capabilities.bounding[3]: unknown capability \"CAP_FOO\""},
        {"{\"process\": {\"capabilities\": {\"effective\": [\"12\"]}}}",
         "process.capabilities.effective[0]: unknown capability \"12\""},
        {"{\"process\": {\"capabilities\": \"all\"}}",
         "process.capabilities: must be an object, got \"all\""},
        {"{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_FOO\", \"soft\": 1, \"hard\": 1}]}}",
         "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\""},
        {"{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 20, \"hard\": "
         "10}]}}",
         "process.rlimits[0].soft: must not exceed hard (10), got 20"},
        {"{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1, \"hard\": 1},"
         "{\"type\": \"RLIMIT_NOFILE\", \"soft\": 2, \"hard\": 2}]}}",
         "process.rlimits[1].type: duplicate rlimit \"RLIMIT_NOFILE\""},
        {"{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1}]}}",
         "process.rlimits[0].hard: is required"},
        {"{\"process\": {\"noNewPrivileges\": \"yes\"}}",
         "process.noNewPrivileges: must be a boolean, got \"yes\""},
        {"{\"process\": {\"oomScoreAdj\": 1001}}",
         "process.oomScoreAdj: must be an integer between -1000 and 1000, got 1001"},
        {"{\"root\": null}", "root: is required"},
        {"{\"root\": {\"path\": null}}", "root.path: is required"},
        {"{\"root\": {\"path\": \"\"}}", "root.path: must not be empty, got \"\""},
        {"{\"root\": {\"readonly\": 1}}", "root.readonly: must be a boolean, got 1"},
        {"{\"hostname\": \"box\"}",
         "hostname: needs a \"uts\" namespace in linux.namespaces, got \"box\""},
        {"{\"mounts\": \"x\"}", "mounts: must be an array, got \"x\""},
        {"{\"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\"}, "
         "{\"destination\": \"/dev\", \"type\": \"tmpfs\"}, "
         "{\"destination\": \"proc\"}]}",
         "mounts[2].destination: must be an absolute path, got \"proc\""},
        {"{\"mounts\": [{\"destination\": \"/a/../etc\"}]}",
         "mounts[0].destination: must not contain a \"..\" component, got \"/a/../etc\""},
        {"{\"mounts\": [{\"type\": \"proc\"}]}", "mounts[0].destination: is required"},
        {"{\"mounts\": [{\"destination\": \"/x\", \"source\": \"/y\"}]}",
         "mounts[0].type: is required unless the mount is a bind mount"},
        {"{\"mounts\": [{\"destination\": \"/x\", \"options\": [\"rbind\"]}]}",
         "mounts[0].source: is required for a bind mount"},
        {"{\"mounts\": [{\"destination\": \"/x\", \"type\": \"tmpfs\", \"options\": [\"ro\", "
         "\"\"]}]}",
         "mounts[0].options[1]: must not be empty, got \"\""},
        {"{\"mounts\": [{\"destination\": \"/x\", \"options\": \"ro\"}]}",
         "mounts[0].options: must be an array, got \"ro\""},
        {"{\"linux\": \"x\"}", "linux: must be an object, got \"x\""},
        {"{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"netwrk\"}]}}",
         "linux.namespaces[1].type: unknown namespace type \"netwrk\" (pid, network, mount, ipc, "
         "uts, user, cgroup)"},
        {"{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"uts\"}, "
         "{\"type\": \"pid\"}]}}",
         "linux.namespaces[2].type: duplicate namespace type \"pid\""},
        {"{\"linux\": {\"namespaces\": [{\"type\": \"network\", \"path\": \"proc/1/ns/net\"}]}}",
         "linux.namespaces[0].path: must be an absolute path, got \"proc/1/ns/net\""},
        {"{\"linux\": {\"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]}}",
         "linux.uidMappings: needs a \"user\" namespace in linux.namespaces"},
        {"{\"linux\": {\"namespaces\": " NS_USER ", \"uidMappings\": [{\"containerID\": 0, "
         "\"hostID\": 1000, \"size\": 0}]}}",
         "linux.uidMappings[0].size: must be an integer between 1 and 4294967295, got 0"},
        {"{\"linux\": {\"namespaces\": " NS_USER ", \"gidMappings\": [{\"containerID\": 0, "
         "\"hostID\": 4294967295, \"size\": 2}]}}",
         "linux.gidMappings[0].size: makes the range pass 4294967295, got 2"},
        {"{\"linux\": {\"namespaces\": " NS_USER "}}",
         "linux.uidMappings: are required with a new \"user\" namespace"},
        {"{\"linux\": {\"resources\": {\"memory\": {\"limit\": \"1g\"}}}}",
         "linux.resources.memory.limit: must be a positive integer, got \"1g\""},
        {"{\"linux\": {\"resources\": {\"memory\": {\"limit\": 0}}}}",
         "linux.resources.memory.limit: must be a positive integer, got 0"},
        {"{\"linux\": {\"resources\": {\"memory\": {\"reservation\": -2}}}}",
         "linux.resources.memory.reservation: must be a positive integer, got -2"},
        {"{\"linux\": {\"resources\": {\"memory\": {\"limit\": 2000000, \"swap\": 1000000}}}}",
         "linux.resources.memory.swap: must be at least memory.limit (2000000), got 1000000"},
        {"{\"linux\": {\"resources\": {\"cpu\": {\"quota\": 0}}}}",
         "linux.resources.cpu.quota: must be -1 or a positive integer, got 0"},
        {"{\"linux\": {\"resources\": {\"cpu\": {\"period\": 100}}}}",
         "linux.resources.cpu.period: must be an integer between 1000 and 1000000 (microseconds), "
         "got 100"},
        {"{\"linux\": {\"resources\": {\"cpu\": {\"shares\": 1}}}}",
         "linux.resources.cpu.shares: must be an integer between 2 and 262144, got 1"},
        {"{\"linux\": {\"resources\": {\"cpu\": {\"cpus\": \"0-3,,5\"}}}}",
         "linux.resources.cpu.cpus: must be a list of ids and ranges like \"0-3,5\", got "
         "\"0-3,,5\""},
        {"{\"linux\": {\"resources\": {\"cpu\": {\"mems\": \"3-1\"}}}}",
         "linux.resources.cpu.mems: must be a list of ids and ranges like \"0-3,5\", got \"3-1\""},
        {"{\"linux\": {\"resources\": {\"pids\": {\"limit\": -2}}}}",
         "linux.resources.pids.limit: must be -1, 0 (unlimited) or a positive integer, got -2"},
        {"{\"linux\": {\"resources\": {\"blockIO\": {\"weight\": 5}}}}",
         "linux.resources.blockIO.weight: must be an integer between 10 and 1000, got 5"},
        {"{\"linux\": {\"resources\": {\"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": 8, "
         "\"minor\": 0}]}}}}",
         "linux.resources.blockIO.throttleReadBpsDevice[0].rate: is required"},
        {"{\"linux\": {\"resources\": {\"unified\": {\"../memory.max\": \"1\"}}}}",
         "linux.resources.unified[\"../memory.max\"]: must be a cgroup file name like "
         "\"memory.high\", got \"../memory.max\""},
        {"{\"linux\": {\"resources\": {\"unified\": {\"memory.high\": 5}}}}",
         "linux.resources.unified[\"memory.high\"]: must be a string, got 5"},
        {"{\"linux\": {\"cgroupsPath\": \"/a/../../x\"}}",
         "linux.cgroupsPath: must not contain a \"..\" component, got \"/a/../../x\""},
        {"{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
         "[{\"names\": [\"kill\"], \"action\": \"SCMP_ACT_FOO\"}]}}}",
         "linux.seccomp.syscalls[0].action: unknown action \"SCMP_ACT_FOO\""},
        {"{\"linux\": {\"seccomp\": {}}}", "linux.seccomp.defaultAction: is required"},
        {"{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": "
         "[\"SCMP_ARCH_Z80\"]}}}",
         "linux.seccomp.architectures[0]: unknown architecture \"SCMP_ARCH_Z80\""},
        {"{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
         "[{\"names\": [\"\"], \"action\": \"SCMP_ACT_ERRNO\"}]}}}",
         "linux.seccomp.syscalls[0].names[0]: must be a non-empty syscall name, got \"\""},
        {"{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
         "[{\"names\": [], \"action\": \"SCMP_ACT_ERRNO\"}]}}}",
         "linux.seccomp.syscalls[0].names: must be a non-empty array of syscall names, got []"},
        {"{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
         "[{\"names\": [\"kill\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 6, "
         "\"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}}}",
         "linux.seccomp.syscalls[0].args[0].index: must be an integer between 0 and 5, got 6"},
        {"{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
         "[{\"names\": [\"kill\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, "
         "\"value\": 1, \"op\": \"SCMP_CMP_FOO\"}]}]}}}",
         "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_FOO\""},
        {"{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
         "[{\"names\": [\"kill\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, "
         "\"value\": -1, \"op\": \"SCMP_CMP_EQ\"}]}]}}}",
         "linux.seccomp.syscalls[0].args[0].value: must be an integer between 0 and "
         "18446744073709551615, got -1"},
        {"{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": "
         "[{\"names\": [\"kill\"], \"action\": \"SCMP_ACT_ALLOW\", \"errnoRet\": 1}]}}}",
         "linux.seccomp.syscalls[0].errnoRet: only applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE, "
         "got 1"},
        {"{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
         "[{\"names\": [\"kill\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, "
         "\"value\": 1, \"op\": \"SCMP_CMP_NE\"}, {\"index\": 0, \"value\": 2, \"op\": "
         "\"SCMP_CMP_NE\"}]}]}}}",
         "linux.seccomp.syscalls[0].args[1].index: argument already compared in this rule "
         "(args[0]); use a second rule, got 0"},
        {"{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": "
         "5000}}}",
         "linux.seccomp.defaultErrnoRet: must be an integer between 0 and 4095, got 5000"},
        {"{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_NOTIFY\"}}}",
         "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY is not supported (no seccomp listener)"},
        /* Security modules' labels are refused when set, never dropped. */
        {"{\"process\": {\"apparmorProfile\": \"docker-default\"}}",
         "process.apparmorProfile: is not supported: agora-run applies no AppArmor labels (it "
         "has no Linux security module support), got \"docker-default\""},
        {"{\"process\": {\"selinuxLabel\": \"system_u:system_r:container_t:s0\"}}",
         "process.selinuxLabel: is not supported: agora-run applies no SELinux labels (it has "
         "no Linux security module support), got \"system_u:system_r:container_t:s0\""},
        {"{\"linux\": {\"mountLabel\": \"system_u:object_r:container_file_t:s0\"}}",
         "linux.mountLabel: is not supported: agora-run applies no SELinux labels (it has no "
         "Linux security module support), got \"system_u:object_r:container_file_t:s0\""},
        {"{\"linux\": {\"intelRdt\": {\"closID\": \"a\"}}}",
         "linux.intelRdt: is not supported: agora-run has no Intel RDT (resctrl) support, got "
         "{\"closID\":\"a\"}"},
        {"{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": "
         "[\"SECCOMP_FILTER_FLAG_FOO\"]}}}",
         "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_FOO\""},
        {"{\"linux\": {\"maskedPaths\": [\"/proc/acpi\", \"proc/kcore\"]}}",
         "linux.maskedPaths[1]: must be an absolute path, got \"proc/kcore\""},
        {"{\"linux\": {\"readonlyPaths\": [\"/proc/../etc\"]}}",
         "linux.readonlyPaths[0]: must not contain a \"..\" component, got \"/proc/../etc\""},
        {"{\"linux\": {\"sysctl\": {\"vm.swappiness\": \"1\"}}}",
         "linux.sysctl[\"vm.swappiness\"]: not a namespaced sysctl; setting it would change the "
         "host"},
        {"{\"linux\": {\"sysctl\": {\"net.ipv4.ip_forward\": \"1\"}}}",
         "linux.sysctl[\"net.ipv4.ip_forward\"]: needs a \"network\" namespace in "
         "linux.namespaces"},
        {"{\"linux\": {\"sysctl\": {\"net/ipv4\": \"1\"}}}",
         "linux.sysctl[\"net/ipv4\"]: must be a sysctl name like \"net.ipv4.ip_forward\", got "
         "\"net/ipv4\""},
        {"{\"hooks\": {\"createRuntime\": [{\"path\": \"hook\"}]}}",
         "hooks.createRuntime[0].path: must be an absolute path, got \"hook\""},
        {"{\"hooks\": {\"poststop\": [{\"path\": \"/bin/true\", \"timeout\": 0}]}}",
         "hooks.poststop[0].timeout: must be a positive integer (seconds), got 0"},
        {"{\"hooks\": {\"startContainer\": [{\"path\": \"/bin/x\", \"env\": [\"X\"]}]}}",
         "hooks.startContainer[0].env[0]: must be \"KEY=VALUE\", got \"X\""},
        {"{\"hooks\": {\"prestart\": [{\"path\": \"hook\"}]}}",
         "hooks.prestart[0].path: must be an absolute path, got \"hook\""},
        {"{\"linux\": {\"devices\": [{\"path\": \"/dev\", \"type\": \"c\", \"major\": 1, "
         "\"minor\": 3}]}}",
         "linux.devices[0].path: must be a path under /dev/, got \"/dev\""},
        {"{\"linux\": {\"devices\": [{\"path\": \"/dev/a\", \"type\": \"p\"}, {\"path\": "
         "\"/dev/a\", \"type\": \"p\"}]}}",
         "linux.devices[1].path: duplicate of linux.devices[0], got \"/dev/a\""},
        {"{\"linux\": {\"devices\": [{\"path\": \"/dev/a\", \"type\": \"b\", \"major\": 4096, "
         "\"minor\": 0}]}}",
         "linux.devices[0].major: must be an integer between 0 and 4095, got 4096"},
        {"{\"linux\": {\"devices\": [{\"path\": \"/dev/a\", \"type\": \"c\", \"major\": 1, "
         "\"minor\": 3, \"uid\": -1}]}}",
         "linux.devices[0].uid: must be an integer between 0 and 4294967294, got -1"},
        {"{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}], \"devices\": [{\"path\": "
         "\"/dev/a\", \"type\": \"p\"}]}}",
         "linux.devices: needs a \"mount\" namespace in linux.namespaces"},
        {"{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}], \"rootfsPropagation\": "
         "\"slave\"}}",
         "linux.rootfsPropagation: needs a \"mount\" namespace in linux.namespaces"},
        {"{\"process\": {\"consoleSize\": {\"height\": 70000, \"width\": 80}}}",
         "process.consoleSize.height: must be an integer between 0 and 65535, got 70000"},
        {"{\"process\": {\"consoleSize\": {\"height\": 24}}}",
         "process.consoleSize.width: is required"},
        {"{\"linux\": {\"rootfsPropagation\": \"rshard\"}}",
         "linux.rootfsPropagation: must be one of shared, rshared, slave, rslave, private, "
         "rprivate, unbindable, runbindable, got \"rshard\""},
        {"{\"linux\": {\"personality\": {\"domain\": \"LINUX64\"}}}",
         "linux.personality.domain: must be \"LINUX\" or \"LINUX32\", got \"LINUX64\""},
        {"{\"linux\": {\"personality\": {\"domain\": \"LINUX\", \"flags\": [\"UNAME26\", "
         "\"NOPE\"]}}}",
         "linux.personality.flags[1]: unknown personality flag, got \"NOPE\""},
        {"{\"annotations\": {\"a\": 1}}", "annotations.a: must be a string, got 1"},
        {"{\"annotations\": []}", "annotations: must be an object, got []"},
};

Test(spec_bad, each_bad_input_gets_its_exact_message)
{
	cr_assert_geq(AG_ARRAY_SIZE(bad_cases), 40);
	for (size_t i = 0; i < AG_ARRAY_SIZE(bad_cases); i++) {
		json_t *base = json_loads(base_spec, 0, NULL);
		json_t *patch = json_loads(bad_cases[i].patch, 0, NULL);
		cr_assert_not_null(base);
		cr_assert_not_null(patch, "case %zu: bad patch", i);
		merge(base, patch);
		char *doc = json_dumps(base, JSON_COMPACT);
		struct rt_spec *s = NULL;
		struct ag_error err = {0};
		int r = parse_str(doc, "/b", &s, &err);
		cr_expect_eq(r, -EINVAL, "case %zu (%s): accepted", i, bad_cases[i].patch);
		cr_expect_null(s);
		cr_expect_str_eq(err.msg, bad_cases[i].msg, "case %zu", i);
		rt_spec_free(s);
		free(doc);
		json_decref(patch);
		json_decref(base);
	}
}

Test(spec_bad, the_base_of_the_bad_cases_is_itself_valid)
{
	struct rt_spec *s = NULL;
	struct ag_error err = {0};
	cr_assert_eq(parse_str(base_spec, "/b", &s, &err), 0, "%s", err.msg);
	rt_spec_free(s);
}

Test(spec_bad, non_object_documents_are_rejected)
{
	struct ag_error err = {0};
	struct rt_spec *s = NULL;
	cr_assert_eq(parse_str("[]", NULL, &s, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "(top level): must be a JSON object, got []");
	cr_assert_eq(parse_str("", NULL, &s, &err), -EINVAL);
	cr_assert_eq(strncmp(err.msg, "config.json: line ", 18), 0, "%s", err.msg);
}

/* ---- integers beyond int64 -------------------------------------------- */

/* base_spec with `process` and `linux` members spliced in as text: jansson
 * cannot build a document holding these integers. */
static int parse_big(const char *process_extra, const char *linux_extra, struct rt_spec **ret,
                     struct ag_error *err)
{
	char *doc = ag_asprintf("{\"ociVersion\": \"1.0.2\", \"process\": {\"args\": [\"sh\"], "
	                        "\"cwd\": \"/\"%s}, \"root\": {\"path\": \"rootfs\"}, "
	                        "\"linux\": {\"namespaces\": [{\"type\": \"pid\"}]%s}}",
	                        process_extra, linux_extra);
	int r = parse_str(doc, "/b", ret, err);
	free(doc);
	return r;
}

Test(spec_u64, rlimit_infinity_and_2_63_parse_exactly)
{
	struct rt_spec *s = NULL;
	struct ag_error err = {0};
	cr_assert_eq(parse_big(", \"rlimits\": [{\"type\": \"RLIMIT_CORE\", \"soft\": "
	                       "9223372036854775808, \"hard\": 18446744073709551615}, "
	                       "{\"type\": \"RLIMIT_NOFILE\", \"soft\": 18446744073709551615, "
	                       "\"hard\": 18446744073709551615}]",
	                       "", &s, &err),
	             0, "%s", err.msg);
	cr_assert_eq(s->process.rlimits[0].soft, UINT64_C(9223372036854775808));
	cr_assert_eq(s->process.rlimits[0].hard, RLIM_INFINITY);
	cr_assert_eq(s->process.rlimits[1].soft, UINT64_MAX);
	cr_assert_eq(s->process.rlimits[1].hard, UINT64_MAX);
	rt_spec_free(s);
}

Test(spec_u64, seccomp_masks_with_bit_63_parse_exactly)
{
	struct rt_spec *s = NULL;
	struct ag_error err = {0};
	cr_assert_eq(parse_big("",
	                       ", \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", "
	                       "\"syscalls\": [{\"names\": [\"personality\"], \"action\": "
	                       "\"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": "
	                       "18446744073709551615, \"valueTwo\": 9223372036854775809, "
	                       "\"op\": \"SCMP_CMP_MASKED_EQ\"}]}]}",
	                       &s, &err),
	             0, "%s", err.msg);
	cr_assert_eq(s->seccomp->rules[0].args[0].value, UINT64_MAX);
	cr_assert_eq(s->seccomp->rules[0].args[0].value_two, UINT64_C(9223372036854775809));
	rt_spec_free(s);
}

Test(spec_u64, memory_limits_of_2_63_and_up_mean_unlimited)
{
	struct rt_spec *s = NULL;
	struct ag_error err = {0};
	cr_assert_eq(parse_big("",
	                       ", \"resources\": {\"memory\": {\"limit\": 18446744073709551615, "
	                       "\"swap\": 9223372036854775807, \"reservation\": 1048576}, "
	                       "\"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": 8, "
	                       "\"minor\": 0, \"rate\": 18446744073709551614}]}}",
	                       &s, &err),
	             0, "%s", err.msg);
	cr_assert(s->resources.memory.has_limit);
	cr_assert_eq(s->resources.memory.limit, -1);
	cr_assert_eq(s->resources.memory.swap, INT64_MAX);
	cr_assert_eq(s->resources.memory.reservation, 1048576);
	cr_assert_eq(s->resources.throttles[0].rate, UINT64_MAX - 1);
	rt_spec_free(s);
}

Test(spec_u64, out_of_range_and_negative_values_are_named_with_what_was_written)
{
	static const struct {
		const char *proc, *lx, *msg;
	} cases[] = {
	        {", \"rlimits\": [{\"type\": \"RLIMIT_CORE\", \"soft\": 0, \"hard\": "
	         "18446744073709551616}]",
	         "",
	         "process.rlimits[0].hard: must be an integer between 0 and 18446744073709551615, "
	         "got 18446744073709551616"},
	        {", \"rlimits\": [{\"type\": \"RLIMIT_CORE\", \"soft\": -1, \"hard\": 1}]", "",
	         "process.rlimits[0].soft: must be an integer between 0 and 18446744073709551615, "
	         "got -1"},
	        {", \"rlimits\": [{\"type\": \"RLIMIT_CORE\", \"soft\": -99999999999999999999, "
	         "\"hard\": 1}]",
	         "",
	         "process.rlimits[0].soft: must be an integer between 0 and 18446744073709551615, "
	         "got -99999999999999999999"},
	        {", \"rlimits\": [{\"type\": \"RLIMIT_CORE\", \"soft\": 18446744073709551615, "
	         "\"hard\": 9223372036854775808}]",
	         "",
	         "process.rlimits[0].soft: must not exceed hard (9223372036854775808), got "
	         "18446744073709551615"},
	        {"",
	         ", \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
	         "[{\"names\": "
	         "[\"kill\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": "
	         "1, \"valueTwo\": 123456789012345678901234, \"op\": \"SCMP_CMP_MASKED_EQ\"}]}]}",
	         "linux.seccomp.syscalls[0].args[0].valueTwo: must be an integer between 0 and "
	         "18446744073709551615, got 123456789012345678901234"},
	        {"", ", \"resources\": {\"memory\": {\"limit\": -9223372036854775809}}",
	         "linux.resources.memory.limit: must be a positive integer, got "
	         "-9223372036854775809"},
	        {"", ", \"resources\": {\"memory\": {\"swappiness\": 18446744073709551615}}",
	         "linux.resources.memory.swappiness: must be an integer between 0 and 100, got "
	         "18446744073709551615"},
	        /* An out-of-range integer is not a string, and a string made to
	         * look like a rewritten one is not an integer. */
	        {"", ", \"mountLabel\": 9223372036854775808",
	         "linux.mountLabel: must be a string, got 9223372036854775808"},
	        {", \"rlimits\": [{\"type\": \"RLIMIT_CORE\", \"soft\": 9223372036854775808, "
	         "\"hard\": \"\\u0000u64:0000000000000000:18446744073709551615\"}]",
	         "",
	         "process.rlimits[0].hard: must be an integer between 0 and 18446744073709551615, "
	         "got \"\\u0000u64:0000000000000000:18446744073709551615\""},
	};
	for (size_t i = 0; i < AG_ARRAY_SIZE(cases); i++) {
		struct rt_spec *s = NULL;
		struct ag_error err = {0};
		cr_expect_eq(parse_big(cases[i].proc, cases[i].lx, &s, &err), -EINVAL,
		             "case %zu accepted", i);
		cr_expect_str_eq(err.msg, cases[i].msg, "case %zu", i);
		rt_spec_free(s);
	}
}

Test(spec_u64, big_literals_inside_strings_and_reals_are_left_alone)
{
	struct rt_spec *s = NULL;
	struct ag_error err = {0};
	cr_assert_eq(
	        parse_big(
	                ", \"env\": [\"X=18446744073709551616\", \"Y=\\\"-99999999999999999999\"]",
	                "", &s, &err),
	        0, "%s", err.msg);
	cr_assert_str_eq(s->process.env[0], "X=18446744073709551616");
	cr_assert_str_eq(s->process.env[1], "Y=\"-99999999999999999999");
	rt_spec_free(s);
	cr_assert_eq(parse_big(", \"oomScoreAdj\": 18446744073709551616.5", "", &s, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "process.oomScoreAdj: must be an integer between -1000 and 1000, "
	                          "got 1.8446744073709552e19");
}

Test(spec, devices_propagation_and_personality_are_parsed)
{
	struct rt_spec *s = NULL;
	struct ag_error err = {0};
	cr_assert_eq(parse_str("{\"ociVersion\": \"1.0.2\", \"process\": {\"args\": [\"sh\"], "
	                       "\"cwd\": \"/\"}, \"root\": {\"path\": \"/r\"}, \"linux\": {"
	                       "\"namespaces\": [{\"type\": \"mount\"}], "
	                       "\"devices\": [{\"path\": \"/dev/fuse\", \"type\": \"c\", "
	                       "\"major\": 10, \"minor\": 229, \"fileMode\": 438, \"uid\": 7, "
	                       "\"gid\": 8}, {\"path\": \"/dev/q/p\", \"type\": \"p\"}], "
	                       "\"rootfsPropagation\": \"rslave\", \"personality\": {\"domain\": "
	                       "\"LINUX32\", \"flags\": [\"ADDR_NO_RANDOMIZE\"]}}}",
	                       NULL, &s, &err),
	             0, "%s", err.msg);
	cr_assert_eq(s->n_devices, 2);
	cr_assert_str_eq(s->devices[0].path, "/dev/fuse");
	cr_assert_eq(s->devices[0].type, S_IFCHR);
	cr_assert_eq(s->devices[0].major, 10);
	cr_assert_eq(s->devices[0].minor, 229);
	cr_assert_eq(s->devices[0].mode, 0666);
	cr_assert_eq(s->devices[0].uid, 7);
	cr_assert_eq(s->devices[0].gid, 8);
	cr_assert_eq(s->devices[1].type, S_IFIFO);
	cr_assert_eq(s->devices[1].mode, 0666);
	cr_assert_eq(s->rootfs_propagation, MS_SLAVE | MS_REC);
	cr_assert(s->personality.set);
	cr_assert_eq(s->personality.persona, 0x0008 | 0x0040000);
	cr_assert_not(s->process.has_console_size);
	rt_spec_free(s);
}

/* ---- a process object alone (exec --process) --------------------------- */

static int parse_process(const char *json, struct rt_process **ret, struct ag_error *err)
{
	return rt_process_parse(json, strlen(json), ret, err);
}

Test(process_alone, parses_as_the_same_object_inside_a_spec)
{
	struct rt_spec *s = NULL;
	struct ag_error err = {0};
	cr_assert_eq(parse_str(full_spec, "/b", &s, &err), 0, "%s", err.msg);
	json_t *full = json_loads(full_spec, 0, NULL);
	char *text = json_dumps(json_object_get(full, "process"), JSON_COMPACT);
	struct rt_process *p = NULL;
	cr_assert_eq(parse_process(text, &p, &err), 0, "%s", err.msg);
	const struct rt_process *q = &s->process;
	cr_assert_eq(p->n_args, q->n_args);
	for (size_t i = 0; i < q->n_args; i++)
		cr_assert_str_eq(p->args[i], q->args[i]);
	cr_assert_eq(p->n_env, q->n_env);
	for (size_t i = 0; i < q->n_env; i++)
		cr_assert_str_eq(p->env[i], q->env[i]);
	cr_assert_str_eq(p->cwd, q->cwd);
	cr_assert_eq(p->user.uid, q->user.uid);
	cr_assert_eq(p->user.gid, q->user.gid);
	cr_assert_eq(p->user.umask, q->user.umask);
	cr_assert_eq(p->user.n_additional_gids, q->user.n_additional_gids);
	cr_assert_eq(memcmp(&p->caps, &q->caps, sizeof(p->caps)), 0);
	cr_assert_eq(p->n_rlimits, q->n_rlimits);
	cr_assert_eq(memcmp(p->rlimits, q->rlimits, q->n_rlimits * sizeof(*q->rlimits)), 0);
	cr_assert_eq(p->no_new_privileges, q->no_new_privileges);
	cr_assert_eq(p->oom_score_adj, q->oom_score_adj);
	cr_assert_eq(p->terminal, q->terminal);
	cr_assert_eq(p->console_rows, q->console_rows);
	cr_assert_eq(p->console_cols, q->console_cols);
	rt_process_free(p);
	free(text);
	json_decref(full);
	rt_spec_free(s);
}

Test(process_alone, every_bad_process_case_gets_the_message_it_gets_in_a_spec)
{
	size_t tried = 0;
	for (size_t i = 0; i < AG_ARRAY_SIZE(bad_cases); i++) {
		json_t *patch = json_loads(bad_cases[i].patch, 0, NULL);
		cr_assert_not_null(patch);
		/* The cases about the process object only. */
		if (json_object_size(patch) != 1 ||
		    !json_is_object(json_object_get(patch, "process"))) {
			json_decref(patch);
			continue;
		}
		json_t *base = json_loads(base_spec, 0, NULL);
		merge(base, patch);
		char *doc = json_dumps(json_object_get(base, "process"), JSON_COMPACT);
		struct rt_process *p = NULL;
		struct ag_error err = {0};
		cr_expect_eq(parse_process(doc, &p, &err), -EINVAL, "case %zu: %s accepted", i,
		             doc);
		cr_expect_null(p);
		cr_expect_str_eq(err.msg, bad_cases[i].msg, "case %zu", i);
		tried++;
		free(doc);
		json_decref(base);
		json_decref(patch);
	}
	cr_assert_geq(tried, 15, "only %zu process cases", tried);
}

Test(process_alone, big_rlimits_non_objects_and_syntax_errors)
{
	struct rt_process *p = NULL;
	struct ag_error err = {0};
	cr_assert_eq(parse_process("{\"args\": [\"sh\"], \"cwd\": \"/\", \"rlimits\": [{\"type\": "
	                           "\"RLIMIT_CORE\", \"soft\": 18446744073709551615, \"hard\": "
	                           "18446744073709551615}]}",
	                           &p, &err),
	             0, "%s", err.msg);
	cr_assert_eq(p->rlimits[0].hard, UINT64_MAX);
	rt_process_free(p);
	p = NULL;
	cr_assert_eq(parse_process("[1]", &p, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "process: must be a JSON object, got [1]");
	cr_assert_eq(parse_process("{\"args\": ", &p, &err), -EINVAL);
	cr_assert_eq(strncmp(err.msg, "process: line 1, column ", 24), 0, "%s", err.msg);
	cr_assert_eq(parse_process("{\"user\": {\"uid\": -1, \"gid\": 0}, \"args\": [\"sh\"], "
	                           "\"cwd\": \"/\"}",
	                           &p, &err),
	             -EINVAL);
	cr_assert_str_eq(err.msg, "process.user.uid: must be an integer between 0 and "
	                          "4294967294, got -1");
	cr_assert_null(p);
	rt_process_free(NULL);
}

Test(process_alone, load_names_the_file)
{
	char path[] = "/tmp/agora-process-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	const char bad[] = "{\"args\": [\"sh\"], \"cwd\": \"here\"}";
	cr_assert_eq(write(fd, bad, sizeof(bad) - 1), (ssize_t)sizeof(bad) - 1);
	close(fd);
	struct rt_process *p = NULL;
	struct ag_error err = {0};
	cr_assert_eq(rt_process_load(path, &p, &err), -EINVAL);
	char *want = ag_asprintf("%s: process.cwd: must be an absolute path, got \"here\"", path);
	cr_assert_str_eq(err.msg, want);
	free(want);
	unlink(path);
	cr_assert_eq(rt_process_load(path, &p, &err), -ENOENT);
	cr_assert_neq(strstr(err.msg, path), NULL, "%s", err.msg);
}

Test(process_alone, capability_names_are_those_of_the_oci_spec)
{
	cr_assert_eq(rt_cap_from_name("CAP_SYS_ADMIN"), 21);
	cr_assert_eq(rt_cap_from_name("cap_net_raw"), 13);
	cr_assert_eq(rt_cap_from_name("SYS_ADMIN"), -EINVAL);
	cr_assert_eq(rt_cap_from_name("21"), -EINVAL);
	cr_assert_eq(rt_cap_from_name("CAP_NOPE"), -EINVAL);
}
