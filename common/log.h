/* log.h: the daemons' logging, to stderr, one line per message.
 *
 * For agora-master and agora-agent only: libraries (runtime/, cgroupv2/,
 * netns/, allocator/, proto/) return errors and let the daemon that called
 * them decide what to log, once, at its edge (docs/STYLE.md). They do not link
 * agora_log, so a call from one fails to link agora-run. Each line is
 * written with a single write(2), so lines from a crash handler or a second
 * thread never interleave mid-line:
 *
 *   2024-05-01T12:00:00.123Z INFO  listening on 127.0.0.1:5050
 *
 * The level is process-wide state; tests reset it with ag_log_set_level().
 */
#ifndef AGORA_COMMON_LOG_H
#define AGORA_COMMON_LOG_H

#include "common/common.h"

enum ag_log_level {
	AG_LOG_DEBUG,
	AG_LOG_INFO,
	AG_LOG_WARN,
	AG_LOG_ERROR,
};

/* Messages below `level` are dropped. The default is AG_LOG_INFO. */
void ag_log_set_level(enum ag_log_level level);
bool ag_log_enabled(enum ag_log_level level);

/* Parse "debug", "info", "warning"/"warn", "error" (any case). Returns 0 or
 * -EINVAL; *ret is written only on success. */
AG_WARN_UNUSED int ag_log_level_parse(const char *s, enum ag_log_level *ret);
const char *ag_log_level_name(enum ag_log_level level);

/* Log one line (a trailing newline is added; one in `fmt` is not needed).
 * Control characters in the message (a newline in a task's message) are
 * written as '?', so each call is one line. No allocation; a line longer
 * than 4 KiB is cut. errno is preserved. */
void ag_log(enum ag_log_level level, const char *fmt, ...) AG_PRINTF(2, 3);

#define ag_debug(...) ag_log(AG_LOG_DEBUG, __VA_ARGS__)
#define ag_info(...)  ag_log(AG_LOG_INFO, __VA_ARGS__)
#define ag_warn(...)  ag_log(AG_LOG_WARN, __VA_ARGS__)
#define ag_err(...)   ag_log(AG_LOG_ERROR, __VA_ARGS__)

#endif
