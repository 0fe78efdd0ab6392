/* parse.c: pure parts of the library: controller names, the parsers of the
 * interface file formats, path checks and the OCI -> v2 conversions. No I/O
 * here, so all of it is unit-tested on strings. */
#include "cgroupv2/internal.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <string.h>

static const char *const names[] = {"cpu", "memory", "pids", "io", "cpuset"};

const char *cg_controller_name(unsigned controller)
{
	for (size_t i = 0; i < AG_ARRAY_SIZE(names); i++)
		if (controller == 1u << i)
			return names[i];
	return NULL;
}

static unsigned controller_by_name(const char *name, size_t len)
{
	for (size_t i = 0; i < AG_ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
			return 1u << i;
	return 0;
}

unsigned cg_controllers_parse(const char *list)
{
	unsigned mask = 0;
	const char *p = list ? list : "";
	while (*p) {
		while (*p && isspace((unsigned char)*p))
			p++;
		const char *start = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		if (p > start)
			mask |= controller_by_name(start, (size_t)(p - start));
	}
	return mask;
}

unsigned cg__controller_of_file(const char *file)
{
	const char *dot = strchr(file, '.');
	if (!dot)
		return 0;
	return controller_by_name(file, (size_t)(dot - file));
}

/* A number or "max", ending at the end of the token [s, end). */
static int parse_token(const char *s, const char *end, uint64_t *ret)
{
	size_t len = (size_t)(end - s);
	if (len == 3 && memcmp(s, "max", 3) == 0) {
		*ret = CG_MAX;
		return 0;
	}
	if (len == 0 || len > 20)
		return -EBADMSG;
	char tmp[21];
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	return ag_parse_u64(tmp, ret) < 0 ? -EBADMSG : 0;
}

int cg__parse_value(const char *text, uint64_t *ret)
{
	const char *end = text + strlen(text);
	if (end > text && end[-1] == '\n')
		end--;
	uint64_t v;
	int r = parse_token(text, end, &v);
	if (r < 0)
		return r;
	*ret = v;
	return 0;
}

int cg__parse_flat_keyed(const char *text, const char *key, uint64_t *ret)
{
	size_t klen = strlen(key);
	for (const char *line = text; line && *line;) {
		const char *eol = strchrnul(line, '\n');
		if ((size_t)(eol - line) > klen && memcmp(line, key, klen) == 0 &&
		    line[klen] == ' ') {
			const char *v = line + klen + 1;
			uint64_t val;
			int r = parse_token(v, eol, &val);
			if (r < 0)
				return r;
			*ret = val;
			return 0;
		}
		line = *eol ? eol + 1 : eol;
	}
	return -ENOENT;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > CG_MAX - b ? CG_MAX : a + b;
}

int cg__parse_nested_keyed(const char *text, const char *line_key, const char *key, uint64_t *ret)
{
	size_t klen = strlen(key);
	bool found = false;
	uint64_t sum = 0;
	for (const char *line = text; line && *line;) {
		const char *eol = strchrnul(line, '\n');
		const char *sp = memchr(line, ' ', (size_t)(eol - line));
		const char *name_end = sp ? sp : eol;
		bool wanted = !line_key || (strlen(line_key) == (size_t)(name_end - line) &&
		                            memcmp(line, line_key, (size_t)(name_end - line)) == 0);
		for (const char *f = name_end; wanted && f < eol;) {
			while (f < eol && *f == ' ')
				f++;
			const char *fend = memchr(f, ' ', (size_t)(eol - f));
			if (!fend)
				fend = eol;
			if ((size_t)(fend - f) > klen && memcmp(f, key, klen) == 0 &&
			    f[klen] == '=') {
				uint64_t v;
				int r = parse_token(f + klen + 1, fend, &v);
				if (r < 0)
					return r;
				if (line_key) {
					*ret = v;
					return 0;
				}
				sum = sat_add(sum, v);
				found = true;
			}
			f = fend;
		}
		line = *eol ? eol + 1 : eol;
	}
	if (!found)
		return -ENOENT;
	*ret = sum;
	return 0;
}

int cg__parse_pids(const char *text, pid_t **ret, size_t *ret_n)
{
	size_t n = 0, cap = 16;
	_cleanup_free_ pid_t *pids = ag_malloc(cap * sizeof(*pids));
	for (const char *line = text; *line;) {
		const char *eol = strchrnul(line, '\n');
		if (eol > line) {
			uint64_t v;
			if (parse_token(line, eol, &v) < 0 || v == 0 || v > INT_MAX)
				return -EBADMSG;
			if (n == cap) {
				cap *= 2;
				pids = ag_realloc(pids, cap * sizeof(*pids));
			}
			pids[n++] = (pid_t)v;
		}
		line = *eol ? eol + 1 : eol;
	}
	*ret = TAKE_PTR(pids);
	*ret_n = n;
	return 0;
}

int cg__path_check(const char *path, bool allow_empty, const char **ret_rel)
{
	if (!path)
		path = "";
	const char *rel = path;
	while (*rel == '/')
		rel++;
	if (*rel == '\0') {
		if (!allow_empty)
			return -EINVAL;
		if (ret_rel)
			*ret_rel = rel;
		return 0;
	}
	for (const char *c = rel; *c;) {
		const char *end = strchrnul(c, '/');
		size_t len = (size_t)(end - c);
		if (len > NAME_MAX)
			return -EINVAL;
		/* "." would make "a/./b" name a cgroup twice; ".." escapes the
		 * root fd. Empty components ("a//b") are harmless. */
		if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
			return -EINVAL;
		for (const char *q = c; q < end; q++)
			/* A newline in a cgroup name breaks every parser of
			 * /proc/<pid>/cgroup. */
			if (iscntrl((unsigned char)*q))
				return -EINVAL;
		c = *end ? end + 1 : end;
	}
	if (ret_rel)
		*ret_rel = rel;
	return 0;
}

/* ---- conversions ------------------------------------------------------ */

uint64_t cg_cpu_weight_from_shares(uint64_t shares)
{
	if (shares == 0)
		return 100;
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t cg_io_weight_from_blkio(uint16_t weight)
{
	if (weight == 0)
		return 100;
	uint64_t w = weight < 10 ? 10 : weight > 1000 ? 1000 : weight;
	return 1 + (w - 10) * 9999 / 990;
}

uint64_t cg_cpu_weight_from_cpus(double cpus)
{
	if (!(cpus > 0))
		return 1;
	double w = cpus * 100.0;
	if (w < 1)
		return 1;
	if (w > 10000)
		return 10000;
	return (uint64_t)w;
}

uint64_t cg_cpu_max_from_cpus(double cpus, uint64_t period)
{
	if (!(cpus > 0) || isinf(cpus))
		return CG_MAX;
	if (period == 0)
		period = 100000;
	double q = cpus * (double)period;
	/* The kernel refuses quotas under 1 ms (cpu.max: EINVAL); a quota past
	 * its maximum is as good as no limit. */
	if (q < 1000)
		return 1000;
	if (q >= (double)(UINT64_MAX / 2))
		return CG_MAX;
	return (uint64_t)q;
}

int cg_swap_max_from_memsw(int64_t limit, int64_t memsw, uint64_t *ret_swap_max)
{
	if (memsw == 0)
		return -ENODATA;
	if (memsw < 0) {
		*ret_swap_max = CG_MAX;
		return 0;
	}
	if (limit < 0 || memsw < limit)
		return -EINVAL;
	*ret_swap_max = (uint64_t)(memsw - limit);
	return 0;
}
