/* agent_proc.h: agora-agent as a child process for host tests, against a
 * master (fake or real) on 127.0.0.1, without isolation (this host's
 * cgroup v2 has no controllers). No test framework in it. */
#ifndef AGORA_AGENT_PROC_H
#define AGORA_AGENT_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* Start build/bin/agora-agent (AGORA_BUILD_DIR, else "build") on `work`
 * for the master at 127.0.0.1:`master_port`, its operator endpoints on
 * `op_port`, its stderr appended to `log` (NULL: `work`.log), with the flags `extra`
 * (NULL-terminated, may be NULL) after the usual ones (--no_isolation,
 * short back-offs, cpus:2;mem:1024). Returns its pid, -1 on failure. */
pid_t ap_start(const char *work, int master_port, int op_port, const char *log,
               const char *const extra[]);

/* The same with `master` as --master's text (a list, zk://...). */
pid_t ap_start_at(const char *work, const char *master, int op_port, const char *log,
                  const char *const extra[]);

/* Send `sig` to *pid (when > 0), reap it, set *pid to -1. */
void ap_stop(pid_t *pid, int sig);

/* SIGKILL the monitors recorded in `work`/run (tasks left running), then
 * give them 200 ms to go. */
void ap_kill_monitors(const char *work);

/* Copies the log of the agent ap_start() started on `work` (`log`, NULL:
 * `work`.log) into the directory $AGORA_KEEP_LOGS, when set, as `name`
 * (NULL: its own name); "" on success or when not asked, else the command
 * that failed (static). */
const char *ap_keep_log(const char *work, const char *log, const char *name);

/* The whole file (NUL-terminated, "" when absent); free it. */
char *ap_slurp(const char *path);

#endif
