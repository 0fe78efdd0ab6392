/* proc.c: /proc/PID/stat (see proc.h). */
#include "common/proc.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>

/* Field 22 (starttime) ends well before this; the rest is not read. */
#define STAT_MAX 4096

/* The unsigned number at *p, then past one space: false when none. */
static bool next_u64(const char **p, uint64_t *ret)
{
	const char *s = *p;
	if (*s < '0' || *s > '9') {
		/* Fields such as ppid of pid 1 are 0; a few (tty_nr, pgrp of
		 * some) may be negative: kept as their two's complement. */
		if (*s != '-' || s[1] < '0' || s[1] > '9')
			return false;
	}
	char *end;
	*ret = strtoull(s, &end, 10);
	if (end == s || (*end != ' ' && *end != '\n' && *end != '\0'))
		return false;
	*p = *end == ' ' ? end + 1 : end;
	return true;
}

int ag_proc_stat_parse(const char *text, struct ag_proc_stat *ret)
{
	const char *open = strchr(text, '(');
	const char *close = strrchr(text, ')');
	if (!open || !close || close < open || close[1] != ' ' || !close[2] || close[3] != ' ')
		return -EINVAL;
	size_t n = (size_t)(close - open - 1);
	if (n >= sizeof(ret->comm))
		n = sizeof(ret->comm) - 1;
	memcpy(ret->comm, open + 1, n);
	ret->comm[n] = '\0';
	ret->state = close[2];
	const char *p = close + 4;
	for (int field = 4; field <= 22; field++) {
		uint64_t v;
		if (!next_u64(&p, &v))
			return -EINVAL;
		if (field == 4)
			ret->ppid = (pid_t)v;
		else if (field == 14)
			ret->utime = v;
		else if (field == 15)
			ret->stime = v;
		else if (field == 22)
			ret->start_ticks = v;
	}
	return 0;
}

int ag_proc_stat_read(pid_t pid, struct ag_proc_stat *ret)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_free_ char *text = NULL;
	int r = ag_read_file_at(AT_FDCWD, path, STAT_MAX, &text, NULL);
	if (r < 0)
		return r;
	return ag_proc_stat_parse(text, ret);
}
