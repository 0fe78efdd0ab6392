/* log.c: see log.h. */
#include "master/log.h"

#include <strings.h>
#include <time.h>

static enum ms_log_level ms__log_level = MS_LOG_INFO;

static const char *const ms__level_names[] = {
        [MS_LOG_DEBUG] = "DEBUG",
        [MS_LOG_INFO] = "INFO",
        [MS_LOG_WARN] = "WARN",
        [MS_LOG_ERROR] = "ERROR",
};

void ms_log_set_level(enum ms_log_level level)
{
	ms__log_level = level;
}

bool ms_log_enabled(enum ms_log_level level)
{
	return level >= ms__log_level;
}

const char *ms_log_level_name(enum ms_log_level level)
{
	if ((unsigned)level >= AG_ARRAY_SIZE(ms__level_names))
		return "?";
	return ms__level_names[level];
}

int ms_log_level_parse(const char *s, enum ms_log_level *ret)
{
	static const struct {
		const char *name;
		enum ms_log_level level;
	} names[] = {
	        {"debug", MS_LOG_DEBUG}, {"info", MS_LOG_INFO},   {"warning", MS_LOG_WARN},
	        {"warn", MS_LOG_WARN},   {"error", MS_LOG_ERROR},
	};
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < AG_ARRAY_SIZE(names); i++) {
		if (strcasecmp(s, names[i].name) == 0) {
			*ret = names[i].level;
			return 0;
		}
	}
	return -EINVAL;
}

void ms_log(enum ms_log_level level, const char *fmt, ...)
{
	if (!ms_log_enabled(level))
		return;

	int saved = errno;
	char line[4096];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
	                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	                 tm.tm_sec, ts.tv_nsec / 1000000, ms_log_level_name(level));
	if (n < 0)
		n = 0;

	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	size_t len = (size_t)n + (size_t)m;
	/* A message longer than the buffer is cut, never split over lines. */
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	(void)ag_write_all(STDERR_FILENO, line, len);
	errno = saved;
}
