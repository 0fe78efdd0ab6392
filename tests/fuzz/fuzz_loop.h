/* fuzz_loop.h: what the in-process daemon fuzzers (fuzz_master, fuzz_agent)
 * share: a client of the daemon's own loop, and their scratch directories. */
#ifndef AGORA_TESTS_FUZZ_LOOP_H
#define AGORA_TESTS_FUZZ_LOOP_H

#include <event2/event.h>
#include <stddef.h>

/* Connect to 127.0.0.1:port without blocking, running `base` meanwhile: a
 * full accept queue empties only when the daemon accepts, and a blocking
 * connect was cut by libFuzzer's timer signal (EINTR). Returns a blocking
 * fd; aborts (naming `who`) when no connection can be made. */
int fz_connect(struct event_base *base, int port, const char *who);

/* Read what the daemon answers on `fd`, running `base` between reads: up
 * to `cap` bytes into `resp` (more is read and dropped), until the daemon
 * closes, `more_turns` turns of its loop have passed with an answer (a
 * stream stays open), or `max_turns` in all. Returns how many bytes came:
 * 0 when none did. */
size_t fz_read_answer(struct event_base *base, int fd, char *resp, size_t cap, int max_turns,
                      int more_turns);

/* Close with a reset, not a FIN: a client that closes first keeps its port
 * in TIME_WAIT for a minute, and a long run used up the ephemeral ports. */
void fz_close_reset(int fd);

/* Remove `dir` and everything below it (not following links). */
void fz_remove_tree(const char *dir);

#endif
