/* seccomp.c: compile an OCI seccomp profile to BPF, once.
 *
 * libseccomp takes ~11 ms to compile a Docker-sized profile, about as long
 * as the rest of a launch; loading the result costs under 1 ms. So compiled
 * filters are cached on disk, one file per profile:
 *
 *   <cache>/<hash>.bpf = "AGSC" u32 version | u32 key_len | u32 n_insns |
 *                        key | insns
 *
 * keyed by the FNV-1a hash of the profile's canonical form (struct
 * rt_seccomp). The canonical bytes themselves are stored and compared, so two profiles whose hashes
 * collide never share a filter. The file is written atomically; a torn or foreign file is ignored
 * and rewritten.
 */
#include "internal.h"

#include <fcntl.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define CACHE_MAGIC   0x43534741u /* "AGSC" */
#define CACHE_VERSION 3u

struct cache_header {
	uint32_t magic;
	uint32_t version;
	uint32_t text_len;
	uint32_t n_insns;
};

void rt__bpf_free(struct rt_bpf *b)
{
	if (!b)
		return;
	free(b->buf);
	b->buf = NULL;
	b->prog.filter = NULL;
	b->prog.len = 0;
}

static int cache_load(int dirfd, const char *name, const struct rt_seccomp *sc, struct rt_bpf *ret)
{
	char *buf = NULL;
	size_t len = 0;
	int r = ag_read_file_at(dirfd, name, 16u << 20, &buf, &len);
	if (r < 0)
		return r;
	struct cache_header h;
	size_t text_len = sc->canonical_len;
	if (len < sizeof(h))
		goto stale;
	memcpy(&h, buf, sizeof(h));
	if (h.magic != CACHE_MAGIC || h.version != CACHE_VERSION || h.text_len != text_len ||
	    len != sizeof(h) + h.text_len + (size_t)h.n_insns * sizeof(struct sock_filter) ||
	    h.n_insns == 0 || h.n_insns > BPF_MAXINSNS ||
	    memcmp(buf + sizeof(h), sc->canonical, text_len) != 0)
		goto stale;
	/* The instructions follow the text; move them to an aligned buffer. */
	size_t bytes = (size_t)h.n_insns * sizeof(struct sock_filter);
	struct sock_filter *insns = ag_malloc(bytes);
	memcpy(insns, buf + sizeof(h) + h.text_len, bytes);
	free(buf);
	ret->buf = insns;
	ret->prog.filter = insns;
	ret->prog.len = (unsigned short)h.n_insns;
	return 0;
stale:
	free(buf);
	return -ESTALE;
}

static int cache_store(int dirfd, const char *name, const struct rt_seccomp *sc,
                       const struct rt_bpf *b)
{
	size_t text_len = sc->canonical_len;
	size_t bytes = (size_t)b->prog.len * sizeof(struct sock_filter);
	struct cache_header h = {CACHE_MAGIC, CACHE_VERSION, (uint32_t)text_len, b->prog.len};
	_cleanup_free_ char *out = ag_malloc(sizeof(h) + text_len + bytes);
	memcpy(out, &h, sizeof(h));
	memcpy(out + sizeof(h), sc->canonical, text_len);
	memcpy(out + sizeof(h) + text_len, b->prog.filter, bytes);
	return ag_write_file_atomic_at(dirfd, name, out, sizeof(h) + text_len + bytes, 0600);
}

static int compile(const struct rt_seccomp *sc, struct rt_bpf *ret, struct ag_error *err)
{
	_cleanup_close_ int mfd = -1;
	scmp_filter_ctx ctx = seccomp_init(sc->default_action);
	if (!ctx)
		return ag_error_set(err, 0, "linux.seccomp.defaultAction: libseccomp refused it");
	/* A binary tree of syscall numbers instead of libseccomp's default
	 * linear chain: fewer instructions run per syscall, and a shorter
	 * filter for the kernel to convert and JIT at every launch. */
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (r < 0) {
		r = ag_error_set(err, -r, "libseccomp: binary tree optimisation");
		goto out;
	}
	for (size_t i = 0; i < sc->n_arches; i++) {
		r = seccomp_arch_add(ctx, sc->arches[i]);
		if (r < 0 && r != -EEXIST) {
			r = ag_error_set(err, -r, "linux.seccomp.architectures[%zu]", i);
			goto out;
		}
	}
	for (size_t i = 0; i < sc->n_rules; i++) {
		const struct rt_seccomp_rule *rule = &sc->rules[i];
		struct scmp_arg_cmp args[6];
		size_t na = rule->n_args < 6 ? rule->n_args : 6;
		for (size_t a = 0; a < na; a++)
			args[a] = (struct scmp_arg_cmp){
			        .arg = rule->args[a].index,
			        .op = (enum scmp_compare)rule->args[a].op,
			        .datum_a = rule->args[a].value,
			        .datum_b = rule->args[a].value_two,
			};
		for (size_t n = 0; n < rule->n_names; n++) {
			int nr = seccomp_syscall_resolve_name(rule->names[n]);
			/* A syscall this kernel or architecture does not know is
			 * skipped, as every OCI runtime does: profiles are
			 * written for many kernels. */
			if (nr == __NR_SCMP_ERROR)
				continue;
			/* libseccomp refuses a rule that repeats the default. */
			if (rule->action == sc->default_action)
				continue;
			r = seccomp_rule_add_array(ctx, rule->action, nr, (unsigned)na, args);
			if (r < 0) {
				r = ag_error_set(err, -r,
				                 "linux.seccomp.syscalls[%zu]: rule for `%s`", i,
				                 rule->names[n]);
				goto out;
			}
		}
	}
	/* libseccomp 2.5 exports to an fd only (seccomp_export_bpf_mem came
	 * in 2.6): go through a memfd. */
	void *mem = NULL;
	size_t len = 0;
	mfd = memfd_create("agora-seccomp", MFD_CLOEXEC);
	if (mfd < 0) {
		r = ag_error_set(err, errno, "memfd for the seccomp filter");
		goto out;
	}
	r = seccomp_export_bpf(ctx, mfd);
	if (r == 0) {
		off_t end = lseek(mfd, 0, SEEK_END);
		if (end <= 0 || (size_t)end % sizeof(struct sock_filter) ||
		    (size_t)end / sizeof(struct sock_filter) > BPF_MAXINSNS) {
			r = -E2BIG;
		} else {
			len = (size_t)end;
			mem = ag_malloc(len);
			if (pread(mfd, mem, len, 0) != (ssize_t)len)
				r = -EIO;
		}
	}
	if (r < 0) {
		free(mem);
		r = ag_error_set(err, -r, "export the seccomp filter");
		goto out;
	}
	ret->buf = mem;
	ret->prog.filter = mem;
	ret->prog.len = (unsigned short)(len / sizeof(struct sock_filter));
out:
	seccomp_release(ctx);
	return r;
}

int rt__seccomp_get(const struct rt_seccomp *sc, const char *cache_dir, struct rt_bpf *ret,
                    struct ag_error *err)
{
	*ret = (struct rt_bpf){0};
	_cleanup_close_ int dirfd = -1;
	char name[40];
	snprintf(name, sizeof(name), "%016llx.bpf", (unsigned long long)sc->hash);
	if (cache_dir && sc->canonical) {
		if (mkdir(cache_dir, 0700) < 0 && errno != EEXIST)
			cache_dir = NULL;
		else
			dirfd = open(cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (dirfd >= 0 && cache_load(dirfd, name, sc, ret) == 0)
			return 0;
	}
	int r = compile(sc, ret, err);
	if (r < 0)
		return r;
	/* A cache that cannot be written only costs the next launch time. */
	if (dirfd >= 0)
		cache_store(dirfd, name, sc, ret);
	return 0;
}
