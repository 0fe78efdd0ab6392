/* sup_driver.h: agent-sup-driver (tests/host/agent_sup_driver.c) run to
 * completion from a criterion test. */
#ifndef AGORA_SUP_DRIVER_H
#define AGORA_SUP_DRIVER_H

/* Runs build/tests/agent-sup-driver (AGORA_BUILD_DIR, else "build") with
 * --work `work` and `args` (NULL-terminated), asserting that it exits 0.
 * Returns its stdout (kept in <work>.out meanwhile); free it. */
char *sd_drive(const char *work, const char *const args[]);

#endif
