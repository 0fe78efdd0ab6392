/* common.h: the small toolbox every agora module shares.
 *
 * - cleanup attributes for memory, fds and FILE*, with explicit hand-off
 *   (TAKE_PTR / TAKE_FD), in the manner of systemd's alloc-util.h;
 * - struct ag_error: an errno plus a message that carries context (which
 *   syscall, path or field failed, and a hint), for failures a user reads;
 * - a few fd-relative file helpers that never follow a path outside the
 *   directory they are given.
 *
 * Module APIs return 0 or -errno. Those whose failures reach a user also take
 * a `struct ag_error *err` (may be NULL) and fill it in on failure.
 * Errors are never dropped: the libraries' functions that return them are
 * declared AG_WARN_UNUSED, and a caller handles the result or drops it with
 * AG_IGNORE_RESULT beside a comment saying why that is right.
 */
#ifndef AGORA_COMMON_H
#define AGORA_COMMON_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define AG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define AG_UNUSED        __attribute__((unused))
#define AG_PRINTF(f, a)  __attribute__((format(printf, f, a)))
#define AG_WARN_UNUSED   __attribute__((warn_unused_result))
/* Drop the result of an AG_WARN_UNUSED call on purpose; a comment beside
 * it says why that is right. (GCC takes no (void) cast for that.) */
#define AG_IGNORE_RESULT(expr)                                                                     \
	do {                                                                                       \
		__typeof__(expr) ag__ignored_ AG_UNUSED = (expr);                                  \
	} while (0)

/* ---- cleanup ---------------------------------------------------------- */

static inline void ag__freep(void *p)
{
	free(*(void **)p);
}
static inline void ag__closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void ag__fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_free_   __attribute__((cleanup(ag__freep)))
#define _cleanup_close_  __attribute__((cleanup(ag__closep)))
#define _cleanup_fclose_ __attribute__((cleanup(ag__fclosep)))

/* Hand ownership out of a cleanup variable: the variable is reset so its
 * cleanup does nothing, and the old value is returned. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _taken = (p);                                                        \
		(p) = NULL;                                                                        \
		_taken;                                                                            \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _taken = (fd);                                                                 \
		(fd) = -1;                                                                         \
		_taken;                                                                            \
	})

/* ---- errors ----------------------------------------------------------- */

#define AG_ERROR_MSG_MAX 1024

/* An error a user will read. `code` is a positive errno (or 0 when the
 * failure is a validation error with no errno, reported as EINVAL by the
 * function that returns). `msg` reads like "mount `/proc` on
 * `/run/x/rootfs/proc`: Permission denied". */
struct ag_error {
	int code;
	char msg[AG_ERROR_MSG_MAX];
};

/* Set `err` (if not NULL) to the formatted message; when `errnum` is not 0,
 * ": <strerror(errnum)>" is appended. Returns -errnum, or -EINVAL when errnum
 * is 0, so callers can `return ag_error_set(err, errno, "...")`. */
int ag_error_set(struct ag_error *err, int errnum, const char *fmt, ...) AG_PRINTF(3, 4);

/* Like ag_error_set, but the message says it all: nothing is appended.
 * `errnum` is still the code returned (as -errnum; 0 gives -EINVAL). */
int ag_error_msg(struct ag_error *err, int errnum, const char *fmt, ...) AG_PRINTF(3, 4);

/* Prefix the message already in `err` with more context ("create
 * container `x`: " + old message). Returns -err->code (or -EINVAL). */
int ag_error_wrap(struct ag_error *err, const char *fmt, ...) AG_PRINTF(2, 3);

/* Clear an error back to "no error". */
void ag_error_clear(struct ag_error *err);

/* ---- small helpers ---------------------------------------------------- */

/* malloc/calloc/strdup that abort on exhaustion: agora's daemons treat
 * memory exhaustion as fatal, like redis's zmalloc. Never return NULL. */
void *ag_malloc(size_t n);
void *ag_calloc(size_t nmemb, size_t size);
void *ag_realloc(void *p, size_t n);
char *ag_strdup(const char *s);
char *ag_asprintf(const char *fmt, ...) AG_PRINTF(1, 2);

/* Read the whole file `path` relative to `dirfd` (AT_FDCWD allowed) into a
 * NUL-terminated buffer that the caller frees. Refuses files larger than
 * `max` bytes with -EFBIG. Symlinks in the last component are not followed
 * (-ELOOP). On success *ret_buf and *ret_len (may be NULL) are set. */
AG_WARN_UNUSED int ag_read_file_at(int dirfd, const char *path, size_t max, char **ret_buf,
                                   size_t *ret_len);

/* Write `len` bytes to the existing file `path` relative to `dirfd`, in one
 * write(2) (cgroup and proc files need a single write). O_CLOEXEC, no
 * symlink in the last component. */
AG_WARN_UNUSED int ag_write_file_at(int dirfd, const char *path, const void *buf, size_t len);

/* Write a file atomically: write to a temporary sibling and rename it over
 * `path`, so readers see the old or the new content, never a mix, even if
 * the writer dies. The file is created with `mode`. */
AG_WARN_UNUSED int ag_write_file_atomic_at(int dirfd, const char *path, const void *buf, size_t len,
                                           unsigned mode);

/* The same, and durable: the data and the rename are fsync'ed before it
 * returns, so it survives a power loss. For what a daemon acknowledged;
 * state that dies with the machine anyway (a container's) needs no fsync. */
AG_WARN_UNUSED int ag_write_file_durable_at(int dirfd, const char *path, const void *buf,
                                            size_t len, unsigned mode);

/* write(2) all of `len`, retrying on EINTR and short writes. */
AG_WARN_UNUSED int ag_write_all(int fd, const void *buf, size_t len);

/* Parse a base-10 integer that fills the whole string (no sign for the
 * unsigned variant, no trailing garbage except one trailing newline). */
AG_WARN_UNUSED int ag_parse_u64(const char *s, uint64_t *ret);
AG_WARN_UNUSED int ag_parse_i64(const char *s, int64_t *ret);

/* The one monotonic clock (CLOCK_MONOTONIC) in nanoseconds: for timeouts,
 * deadlines and durations inside one process. */
uint64_t ag_now_ns(void);

/* The one wall clock (CLOCK_REALTIME) in nanoseconds since the Unix epoch:
 * for times that are shown, recorded, or compared across processes and
 * restarts (it may step). */
int64_t ag_wall_ns(void);

/* ---- durations (duration.c) ---------------------------------------------- */

/* The one duration grammar of every flag and option (master, agent,
 * agoractl): Mesos's Duration, a number >= 0 in decimal (digits with at
 * most one '.': "5", "1.5", ".5"; no sign, no exponent, no space) and right
 * after it one unit, case-sensitive: ns, us, ms, secs, mins, hrs, days,
 * weeks (Mesos's), or s, m, h, d, w (the same as secs, mins, hrs, days,
 * weeks). A bare number is seconds (Mesos wants a unit; agora's master
 * and agoractl always took one without). */
#define AG_DURATION_UNITS "ns us ms secs mins hrs days weeks (or s m h d w)"

/* Parse `text` (NULL: -EINVAL) into *ret_ns, rounded to the nearest
 * nanosecond. 0, -EINVAL for text outside the grammar, -ERANGE past
 * INT64_MAX ns (292 years); *ret_ns is written only on success. */
int ag_parse_duration(const char *text, int64_t *ret_ns) AG_WARN_UNUSED;

/* The same for the value of option `flag` (as the user wrote it, e.g.
 * "--grace"): on failure `err` says which flag, what was given and the
 * units accepted ("--grace: a duration is a number >= 0 and a unit, one of
 * ns us ms ... (or s m h d w), e.g. 5secs, 1.5mins, 250ms; got `5 secs`").
 * 0, -EINVAL or -ERANGE. */
int ag_parse_duration_flag(const char *flag, const char *text, int64_t *ret_ns,
                           struct ag_error *err) AG_WARN_UNUSED;

/* ---- reconnect backoff (backoff.c) -------------------------------------- */

/* The delay before each new attempt to reach a peer that went away (the
 * agent's master link, the SDK's subscription): the step doubles from
 * `base_ms` (the first) to `max_ms`, and each delay is drawn at random in
 * [step/2, step], so that the many clients of a restarted master do not
 * all come back at once. */
struct ag_backoff {
	int64_t base_ms, max_ms; /* the caller's; both > 0, base <= max */
	int64_t step_ms;         /* 0: the next delay is from base_ms */
};

/* The next delay in milliseconds (>= 0), and one step further. */
int64_t ag_backoff_next(struct ag_backoff *b);

/* The peer answered: the next delay starts from `base_ms` again. */
void ag_backoff_reset(struct ag_backoff *b);

#endif
