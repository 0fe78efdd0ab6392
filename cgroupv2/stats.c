/* stats.c: usage figures of a cgroup. */
#include "cgroupv2/internal.h"

#include <string.h>

/* Read a file that may be absent (its controller is off, or the kernel is
 * older than the file): *ret_text stays NULL and 0 is returned then. */
static int read_opt(int dirfd, const char *file, char **ret_text)
{
	int r = ag_read_file_at(dirfd, file, 1 << 20, ret_text, NULL);
	if (r == -ENOENT) {
		*ret_text = NULL;
		return 0;
	}
	return r;
}

/* The key must be there: a file that exists but lacks it is corrupt. */
static int flat(const char *text, const char *key, uint64_t *ret)
{
	int r = cg__parse_flat_keyed(text, key, ret);
	return r == -ENOENT ? -EBADMSG : r;
}

static int read_value(int dirfd, const char *file, bool *has, uint64_t *ret)
{
	_cleanup_free_ char *t = NULL;
	int r = read_opt(dirfd, file, &t);
	if (r < 0 || !t)
		return r;
	r = cg__parse_value(t, ret);
	if (r == 0)
		*has = true;
	return r;
}

static int stats_cpu(int dirfd, struct cg_stats *s)
{
	_cleanup_free_ char *t = NULL;
	int r = read_opt(dirfd, "cpu.stat", &t);
	if (r < 0 || !t)
		return r;
	/* usage/user/system are kept by the core for every cgroup; the
	 * throttling counters appear with the cpu controller. */
	if ((r = flat(t, "usage_usec", &s->cpu_usage_usec)) < 0 ||
	    (r = flat(t, "user_usec", &s->cpu_user_usec)) < 0 ||
	    (r = flat(t, "system_usec", &s->cpu_system_usec)) < 0)
		return r;
	s->has_cpu = true;
	if (cg__parse_flat_keyed(t, "nr_periods", &s->cpu_nr_periods) == 0 &&
	    cg__parse_flat_keyed(t, "nr_throttled", &s->cpu_nr_throttled) == 0 &&
	    cg__parse_flat_keyed(t, "throttled_usec", &s->cpu_throttled_usec) == 0)
		s->has_cpu_throttling = true;
	return 0;
}

static int stats_memory(int dirfd, struct cg_stats *s)
{
	bool has_current = false;
	int r = read_value(dirfd, "memory.current", &has_current, &s->memory_current);
	if (r < 0 || !has_current)
		return r;
	_cleanup_free_ char *t = NULL;
	if ((r = read_opt(dirfd, "memory.events", &t)) < 0)
		return r;
	if (t && ((r = flat(t, "oom", &s->memory_oom)) < 0 ||
	          (r = flat(t, "oom_kill", &s->memory_oom_kill)) < 0))
		return r;
	s->has_memory = true;
	if ((r = read_value(dirfd, "memory.peak", &s->has_memory_peak, &s->memory_peak)) < 0)
		return r;
	return read_value(dirfd, "memory.swap.current", &s->has_swap, &s->swap_current);
}

static int stats_pids(int dirfd, struct cg_stats *s)
{
	bool has_current = false, has_max = false;
	int r = read_value(dirfd, "pids.current", &has_current, &s->pids_current);
	if (r < 0 || !has_current)
		return r;
	if ((r = read_value(dirfd, "pids.max", &has_max, &s->pids_max)) < 0)
		return r;
	if (!has_max)
		s->pids_max = CG_MAX;
	s->has_pids = true;
	return 0;
}

static int stats_io(int dirfd, struct cg_stats *s)
{
	_cleanup_free_ char *t = NULL;
	int r = read_opt(dirfd, "io.stat", &t);
	if (r < 0 || !t)
		return r;
	/* io.stat is empty until the cgroup does I/O: that is zero, not
	 * absent. */
	r = cg__parse_nested_keyed(t, NULL, "rbytes", &s->io_rbytes);
	if (r == 0)
		r = cg__parse_nested_keyed(t, NULL, "wbytes", &s->io_wbytes);
	if (r < 0 && r != -ENOENT)
		return r;
	s->has_io = true;
	return 0;
}

int cg_stats_read(int dirfd, struct cg_stats *ret)
{
	struct cg_stats s;
	memset(&s, 0, sizeof(s));
	int r;
	if ((r = stats_cpu(dirfd, &s)) < 0 || (r = stats_memory(dirfd, &s)) < 0 ||
	    (r = stats_pids(dirfd, &s)) < 0 || (r = stats_io(dirfd, &s)) < 0)
		return r;
	*ret = s;
	return 0;
}
