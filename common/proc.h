/* proc.h: the one reader of /proc/PID/stat (proc(5)). */
#ifndef AGORA_COMMON_PROC_H
#define AGORA_COMMON_PROC_H

#include "common/common.h"

#include <stdint.h>
#include <sys/types.h>

/* The fields of /proc/PID/stat agora uses (numbers as in proc(5)). */
struct ag_proc_stat {
	char comm[64];        /* 2, without its parentheses (truncated to fit) */
	char state;           /* 3: 'R', 'S', 'D', 'T', 't', 'Z', 'X', ... */
	pid_t ppid;           /* 4 */
	uint64_t utime;       /* 14, clock ticks (sysconf(_SC_CLK_TCK)) */
	uint64_t stime;       /* 15, clock ticks */
	uint64_t start_ticks; /* 22: clock ticks after boot; with the pid, it
	                       * names one process (a reused pid has another) */
};

/* Parse the text of a /proc/PID/stat. The command name may hold spaces and
 * parentheses (it is whatever the process set): the fields after it start
 * behind the last ')'. 0, or -EINVAL when the text is not in that form
 * (*ret is then unspecified). */
AG_WARN_UNUSED int ag_proc_stat_parse(const char *text, struct ag_proc_stat *ret);

/* Read and parse /proc/<pid>/stat. 0; -ENOENT (or -ESRCH) when the process
 * is gone; -EINVAL when the file is not in the form of proc(5). */
AG_WARN_UNUSED int ag_proc_stat_read(pid_t pid, struct ag_proc_stat *ret);

#endif
