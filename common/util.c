/* util.c: allocation wrappers, parsing and the clock. */
#include "common/common.h"

#include <ctype.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

static void oom(void)
{
	/* Nothing sensible can continue: say so on stderr and abort, so the
	 * supervisor restarts the daemon from its durable state. */
	static const char msg[] = "agora: out of memory\n";
	ssize_t r AG_UNUSED = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	abort();
}

void *ag_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *ag_calloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *ag_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom();
	return q;
}

char *ag_strdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		oom();
	return p;
}

char *ag_asprintf(const char *fmt, ...)
{
	char *p = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	return p;
}

/* Shared by both parsers: the digits must fill the string, with at most one
 * trailing newline (what the kernel's files end with). */
static int parse_tail(const char *end)
{
	if (*end == '\n')
		end++;
	return *end == '\0' ? 0 : -EINVAL;
}

int ag_parse_u64(const char *s, uint64_t *ret)
{
	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -errno;
	if (parse_tail(end) < 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

int ag_parse_i64(const char *s, int64_t *ret)
{
	if (!s)
		return -EINVAL;
	const char *d = (*s == '-') ? s + 1 : s;
	if (!isdigit((unsigned char)*d))
		return -EINVAL;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno)
		return -errno;
	if (parse_tail(end) < 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

uint64_t ag_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int64_t ag_wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
