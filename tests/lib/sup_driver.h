/* sup_driver.h: agent-sup-driver (tests/host/agent_sup_driver.c) run to
 * completion from a criterion test. */
#ifndef AGORA_SUP_DRIVER_H
#define AGORA_SUP_DRIVER_H

#include <sys/types.h>

/* Starts build/tests/agent-sup-driver (AGORA_BUILD_DIR, else "build")
 * with --work `work` and `args` (NULL-terminated), its stdout written to
 * `out`. Returns its pid (asserting that the fork worked). */
pid_t sd_start(const char *work, const char *const args[], const char *out);
/* The same, the driver moved first into the cgroup (v2) directory `cg`
 * (NULL: where the test runs). */
pid_t sd_start_in(const char *work, const char *const args[], const char *out, const char *cg);

/* Runs the driver as sd_start does to completion, asserting that it exits 0.
 * Returns its stdout (kept in <work>.out meanwhile); free it. */
char *sd_drive(const char *work, const char *const args[]);

#endif
