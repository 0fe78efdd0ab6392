/* log.h: the master's logging, to stderr, one line per message.
 *
 * Only the daemon's edge (main.c and the handlers that answer a client) logs;
 * http.c and registry.c return errors and let their caller decide. Each line
 * is written with a single write(2), so lines from a crash handler or a
 * second thread never interleave mid-line:
 *
 *   2024-05-01T12:00:00.123Z INFO  listening on 127.0.0.1:5050
 */
#ifndef AGORA_MASTER_LOG_H
#define AGORA_MASTER_LOG_H

#include "common/common.h"

enum ms_log_level {
	MS_LOG_DEBUG,
	MS_LOG_INFO,
	MS_LOG_WARN,
	MS_LOG_ERROR,
};

/* Messages below `level` are dropped. The default is MS_LOG_INFO. */
void ms_log_set_level(enum ms_log_level level);
bool ms_log_enabled(enum ms_log_level level);

/* Parse "debug", "info", "warning"/"warn", "error" (any case). Returns 0 or
 * -EINVAL; *ret is written only on success. */
int ms_log_level_parse(const char *s, enum ms_log_level *ret);
const char *ms_log_level_name(enum ms_log_level level);

/* Log one line (a trailing newline is added; one in `fmt` is not needed). */
void ms_log(enum ms_log_level level, const char *fmt, ...) AG_PRINTF(2, 3);

#define ms_debug(...) ms_log(MS_LOG_DEBUG, __VA_ARGS__)
#define ms_info(...)  ms_log(MS_LOG_INFO, __VA_ARGS__)
#define ms_warn(...)  ms_log(MS_LOG_WARN, __VA_ARGS__)
#define ms_err(...)   ms_log(MS_LOG_ERROR, __VA_ARGS__)

#endif
