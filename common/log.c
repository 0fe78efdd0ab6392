/* log.c: see log.h. */
#include "common/log.h"

#include <strings.h>
#include <time.h>

static enum ag_log_level log_level = AG_LOG_INFO;

static const char *const level_names[] = {
        [AG_LOG_DEBUG] = "DEBUG",
        [AG_LOG_INFO] = "INFO",
        [AG_LOG_WARN] = "WARN",
        [AG_LOG_ERROR] = "ERROR",
};

void ag_log_set_level(enum ag_log_level level)
{
	log_level = level;
}

bool ag_log_enabled(enum ag_log_level level)
{
	return level >= log_level;
}

const char *ag_log_level_name(enum ag_log_level level)
{
	if ((unsigned)level >= AG_ARRAY_SIZE(level_names))
		return "?";
	return level_names[level];
}

int ag_log_level_parse(const char *s, enum ag_log_level *ret)
{
	static const struct {
		const char *name;
		enum ag_log_level level;
	} names[] = {
	        {"debug", AG_LOG_DEBUG}, {"info", AG_LOG_INFO},   {"warning", AG_LOG_WARN},
	        {"warn", AG_LOG_WARN},   {"error", AG_LOG_ERROR},
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

void ag_log(enum ag_log_level level, const char *fmt, ...)
{
	if (!ag_log_enabled(level))
		return;

	int saved = errno;
	char line[4096];
	int64_t now = ag_wall_ns();
	time_t sec = (time_t)(now / 1000000000);
	struct tm tm;
	gmtime_r(&sec, &tm);
	int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
	                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	                 tm.tm_sec, (long)(now % 1000000000 / 1000000), ag_log_level_name(level));
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
	/* Nor by what it quotes: task messages, user names and paths come from
	 * frameworks, and a newline in one would forge a line of its own. */
	for (size_t i = (size_t)n; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	line[len++] = '\n';
	/* A log line that cannot be written has nowhere to be reported. */
	AG_IGNORE_RESULT(ag_write_all(STDERR_FILENO, line, len));
	errno = saved;
}
