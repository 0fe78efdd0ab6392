/* tmpdir.c: see tmpdir.h. */
#include "tmpdir.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

int td_make(char *dir, size_t n, const char *prefix)
{
	int len = snprintf(dir, n, "/tmp/%s-XXXXXX", prefix);
	if (len < 0 || (size_t)len >= n)
		return -ENAMETOOLONG;
	return mkdtemp(dir) ? 0 : -errno;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

int td_remove(const char *dir)
{
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -errno;
}
