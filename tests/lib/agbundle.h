/* agbundle.h: bundles (a busybox rootfs plus the static probe program)
 * and agora-run invocations, shared by the launcher's host and vm-guest
 * tests. Every helper asserts with criterion on failure. */
#ifndef AGORA_AGBUNDLE_H
#define AGORA_AGBUNDLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct bundle {
	char dir[128];   /* /tmp/agora-host-XXXXXX */
	char state[160]; /* <dir>/state: the --root of every invocation */
	json_t *cfg;     /* config.json, written by bundle_write() */
};

/* agora-run gets --cgroup-manager=disabled unless this is true (the
 * vm-guest tests, where cgroup v2 is real). */
extern bool agbundle_cgroups;
/* agora-run runs as this uid and gid (no supplementary groups) when it is
 * not 0: the rootless tests. */
extern uid_t agbundle_uid;

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

const char *build_dir(void);
/* An OCI hook entry that runs `script` with /bin/sh -c. */
json_t *bundle_hook(const char *script);
/* The whole text of the file at `path` (at most 1 MiB); asserts it reads. */
char *read_text(const char *path);
/* A new bundle whose config.json is `agora-run spec`'s, with `args`. */
void bundle_init(struct bundle *b, const char *const args[]);
void bundle_write(struct bundle *b);
/* `agora-run run <id>` on the bundle exits 1 saying `msg` on stderr and
 * leaves no state. Asserts. */
void bundle_run_refused(struct bundle *b, const char *id, const char *msg);
/* Removes the namespace of `type` (e.g. "cgroup") from linux.namespaces. */
void bundle_drop_namespace(struct bundle *b, const char *type);
/* Deletes (agora-run delete --force) every container of every bundle not
 * yet done and removes them: for the suites' .fini, which criterion runs
 * even after a failed assertion. */
void bundle_cleanup_all(void);
/* Asserts nothing of the bundle is still mounted, then removes it. */
void bundle_done(struct bundle *b);
bool mounts_mention(const char *what);
size_t state_entries(const struct bundle *b);
/* agora-run --root=<state> [--cgroup-manager=disabled] ARGS; output via
 * files; `leak_fd` >= 0 is handed over without close-on-exec as fd 9. */
int agora_run_fd(const struct bundle *b, char **ret_out, char **ret_err, int leak_fd,
                 const char *const args[]);
int agora_run(const struct bundle *b, char **ret_out, char **ret_err, const char *const args[]);
/* `run` the bundle's process (id `id`), assert exit 0, return stdout. */
char *run_probe(struct bundle *b, const char *id);

/* `state ID`'s JSON (caller frees) and the init pid in it; assert exit 0. */
char *state_of(struct bundle *b, const char *id);
pid_t state_pid(struct bundle *b, const char *id);

/* A listening unix socket at `path`, as an OCI console socket receiver. */
int console_listen(const char *path);
/* Accepts one connection and returns the fd it carries (SCM_RIGHTS); the
 * data, the pty's name, goes to `name`. */
int console_receive(int lfd, char *name, size_t n);
/* Everything the terminal `master` says until it closes (EIO: no peer
 * left); malloc'd. */
char *read_terminal(int master);

#endif
