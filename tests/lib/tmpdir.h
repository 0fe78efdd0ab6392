/* tmpdir.h: a fresh directory under /tmp for a test, and its removal. */
#ifndef AGORA_TMPDIR_H
#define AGORA_TMPDIR_H

#include <stddef.h>

/* Creates a new directory /tmp/<prefix>-XXXXXX and writes its path to
 * dir (n bytes). Returns 0 or -errno. */
int td_make(char *dir, size_t n, const char *prefix);

/* Removes dir and all under it (symlinks are not followed). Returns 0 or
 * -errno of the first entry that could not be removed. */
int td_remove(const char *dir);

#endif
