/* flags.h: the one command-line parser of the daemons (agora-master and
 * agora-agent), driven by a table of their flags.
 *
 * Flags are written `--name=value` or `--name value` (a boolean flag takes
 * no value). Each entry names a field of the daemon's flag struct by its
 * offset and says how its text is read; the first error names the flag,
 * what was given and what is accepted. `--help` (or `-h`) stops parsing.
 * Durations are ag_parse_duration's grammar; sizes are a number with B, KB,
 * KiB, MB, MiB, GB or GiB (a bare number is bytes).
 */
#ifndef AGORA_COMMON_FLAGS_H
#define AGORA_COMMON_FLAGS_H

#include "common/common.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum ag_flag_kind {
	AG_FLAG_STRING,   /* char *, malloc'ed (the old one freed) */
	AG_FLAG_PORT,     /* uint16_t, 0 to 65535 */
	AG_FLAG_DURATION, /* uint64_t ns; > 0 unless AG_FLAG_ZERO_OK */
	AG_FLAG_COUNT,    /* unsigned, 1 to 1000000 */
	AG_FLAG_LIMIT,    /* size_t, 0 to 1000000 */
	AG_FLAG_BYTES,    /* size_t, 1 byte to 2GiB */
	AG_FLAG_BOOL,     /* bool, set to true by the bare flag */
	AG_FLAG_CUSTOM,   /* read by the entry's parse() */
};

#define AG_FLAG_ZERO_OK  (1u << 0) /* a duration may be 0 */
#define AG_FLAG_OFF      (1u << 1) /* a duration may be `off` (any case): 0 */
#define AG_FLAG_EMPTY_OK (1u << 2) /* a string may be empty */

struct ag_flag {
	const char *name; /* without the leading "--" */
	enum ag_flag_kind kind;
	size_t offset;    /* of the field in the caller's struct */
	const char *def;  /* the default as --help shows it; NULL: none shown */
	const char *help; /* NULL: an alias, not listed by --help */
	unsigned opts;    /* AG_FLAG_ZERO_OK, AG_FLAG_OFF, AG_FLAG_EMPTY_OK */
	/* AG_FLAG_CUSTOM: read `value` into `field`; 0, or -EINVAL with a
	 * message naming the flag in `err`. */
	int (*parse)(const struct ag_flag *fl, const char *value, void *field,
	             struct ag_error *err);
};

/* Parse argv[1..] into the struct at `dst` by the `n` entries of `flags`.
 * On a bad flag or value, returns -EINVAL (or -ERANGE) with a message
 * naming the flag; fields set before it keep their new values. `--help` or
 * `-h` sets *ret_help and stops; *ret_help is false otherwise. */
AG_WARN_UNUSED int ag_flags_parse(const struct ag_flag *flags, size_t n, void *dst, int argc,
                                  char **argv, bool *ret_help, struct ag_error *err);

/* Write one line per listed flag, `  --name  help (default: def)`, and
 * the --help line, to `out`. */
void ag_flags_usage(FILE *out, const struct ag_flag *flags, size_t n);

/* Free the AG_FLAG_STRING fields of `dst` (set to NULL). */
void ag_flags_free(const struct ag_flag *flags, size_t n, void *dst);

/* Parse a byte size ("4MiB", "65536", "512KB", "1.5GiB"): 0, -EINVAL on
 * junk, -ERANGE past 2^64. */
AG_WARN_UNUSED int ag_parse_bytes(const char *s, uint64_t *ret);

#endif
