/* Host tier: agora-run's lifecycle and hooks where the OCI runtime spec
 * says what must happen: delete refuses a container that is not stopped;
 * prestart hooks run (deprecated, with a warning); a failing poststart or
 * poststop hook is a warning and the hooks after it still run; the state
 * on a hook's stdin carries the container's annotations; a spec without
 * `process` is created, and start then fails naming it. cgroups are
 * disabled as in test_runtime.c.
 */
#include "agbundle.h"
#include "agtest.h"
#include "common/common.h"

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

TestSuite(oci_lifecycle, .fini = bundle_cleanup_all, .timeout = 120);
TestSuite(oci_hooks, .fini = bundle_cleanup_all, .timeout = 120);

static char *status_of(struct bundle *b, const char *id)
{
	_cleanup_free_ char *s = state_of(b, id);
	json_t *j = json_loads(s, 0, NULL);
	cr_assert_not_null(j, "%s", s);
	char *st = ag_strdup(json_string_value(json_object_get(j, "status")));
	json_decref(j);
	return st;
}

/* ---- delete ------------------------------------------------------------- */

Test(oci_lifecycle, delete_refuses_a_created_container_and_force_kills_it)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sleep", "60"));
	bundle_write(&b);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("create", "cr")), 0);
	pid_t pid = state_pid(&b, "cr");
	char *err = NULL;
	int rc = agora_run(&b, NULL, &err, ARGS("delete", "cr"));
	cr_assert_eq(rc, 1, "exit %d: %s", rc, err);
	cr_assert_neq(strstr(err, "container `cr` is created, not stopped"), NULL, "%s", err);
	free(err);
	/* Nothing of it was touched. */
	_cleanup_free_ char *st = status_of(&b, "cr");
	cr_assert_str_eq(st, "created");
	cr_assert_eq(kill(pid, 0), 0);

	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("delete", "--force", "cr")), 0);
	cr_assert_eq(state_entries(&b), 0);
	/* Its init is gone (or a zombie of the init that adopted it). */
	bool gone = false;
	for (int i = 0; i < 200 && !gone; i++) {
		_cleanup_free_ char *p = ag_asprintf("/proc/%d/stat", (int)pid);
		char *s = NULL;
		gone = ag_read_file_at(AT_FDCWD, p, 4096, &s, NULL) < 0 || strstr(s, ") Z ");
		free(s);
		if (!gone)
			usleep(10000);
	}
	cr_assert(gone, "the created container's process outlived delete --force");
	bundle_done(&b);
}

/* ---- a spec without process ---------------------------------------------- */

/* OCI: `process` is OPTIONAL in config.json and REQUIRED for start. */
Test(oci_lifecycle, without_process_create_works_start_fails_naming_it_and_delete_cleans)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/true"));
	json_object_del(b.cfg, "process");
	_cleanup_free_ char *mark = ag_asprintf("%s/poststop-ran", b.dir);
	_cleanup_free_ char *sh = ag_asprintf("echo ran > %s", mark);
	json_object_set_new(b.cfg, "hooks", json_pack("{s:[o]}", "poststop", bundle_hook(sh)));
	bundle_write(&b);
	char *err = NULL;
	int rc = agora_run(&b, NULL, &err, ARGS("create", "noproc"));
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	free(err);
	_cleanup_free_ char *st = status_of(&b, "noproc");
	cr_assert_str_eq(st, "created");
	pid_t pid = state_pid(&b, "noproc");
	cr_assert_eq(kill(pid, 0), 0, "the created container's init is gone");

	err = NULL;
	rc = agora_run(&b, NULL, &err, ARGS("start", "noproc"));
	cr_assert_eq(rc, 1, "exit %d: %s", rc, err);
	cr_assert_neq(strstr(err, "start `noproc`: process: config.json has none, and start needs "
	                          "the process to run"),
	              NULL, "%s", err);
	free(err);
	/* Its init ends with the refusal: stopped, for a plain delete. */
	bool stopped = false;
	for (int i = 0; i < 200 && !stopped; i++) {
		_cleanup_free_ char *s = status_of(&b, "noproc");
		stopped = strcmp(s, "stopped") == 0;
		if (!stopped)
			usleep(10000);
	}
	cr_assert(stopped, "the container is not stopped after the failed start");
	err = NULL;
	rc = agora_run(&b, NULL, &err, ARGS("start", "noproc"));
	cr_assert_eq(rc, 1, "exit %d: %s", rc, err);
	cr_assert_neq(strstr(err, "container `noproc` is stopped"), NULL, "%s", err);
	free(err);
	err = NULL;
	rc = agora_run(&b, NULL, &err, ARGS("delete", "noproc"));
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	free(err);
	cr_assert_eq(state_entries(&b), 0);
	_cleanup_free_ char *m = read_text(mark);
	cr_assert_str_eq(m, "ran\n");
	bundle_done(&b);
}

Test(oci_lifecycle, without_process_run_is_refused_and_leaves_nothing)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/true"));
	json_object_del(b.cfg, "process");
	bundle_write(&b);
	char *err = NULL;
	int rc = agora_run(&b, NULL, &err, ARGS("run", "noprocrun"));
	cr_assert_eq(rc, 1, "exit %d: %s", rc, err);
	cr_assert_neq(strstr(err, "process: is required to run a container"), NULL, "%s", err);
	free(err);
	cr_assert_eq(state_entries(&b), 0);
	bundle_done(&b);
}

/* ---- hooks -------------------------------------------------------------- */

Test(oci_hooks, prestart_runs_before_create_runtime_in_the_runtime_namespace_with_a_warning)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sleep", "60"));
	_cleanup_free_ char *order = ag_asprintf("%s/order", b.dir);
	_cleanup_free_ char *log = ag_asprintf("%s/log", b.dir);
	/* Before pivot_root the container's procfs is on <rootfs>/proc in its
	 * own mount namespace only: seen from the runtime's, nothing there. */
	_cleanup_free_ char *pre = ag_asprintf(
	        "if test -e %s/rootfs/proc/1/status; then echo prestart inside; else echo "
	        "prestart outside; fi >> %s",
	        b.dir, order);
	_cleanup_free_ char *cr = ag_asprintf("echo createRuntime >> %s", order);
	json_object_set_new(b.cfg, "hooks",
	                    json_pack("{s:[o], s:[o]}", "createRuntime", bundle_hook(cr),
	                              "prestart", bundle_hook(pre)));
	bundle_write(&b);
	char *err = NULL;
	int rc = agora_run(&b, NULL, &err, ARGS("--log", log, "create", "pre"));
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	cr_assert_neq(strstr(err, "agora-run: create: warning: hooks.prestart is deprecated"), NULL,
	              "%s", err);
	free(err);
	_cleanup_free_ char *o = read_text(order);
	cr_assert_str_eq(o, "prestart outside\ncreateRuntime\n");
	_cleanup_free_ char *l = read_text(log);
	cr_assert_neq(strstr(l, " warning create: hooks.prestart is deprecated"), NULL, "%s", l);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("delete", "--force", "pre")), 0);
	bundle_done(&b);
}

Test(oci_hooks, a_failing_prestart_hook_fails_create_and_leaves_nothing)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sleep", "60"));
	json_object_set_new(b.cfg, "hooks",
	                    json_pack("{s:[o]}", "prestart", bundle_hook("exit 4")));
	bundle_write(&b);
	char *err = NULL;
	int rc = agora_run(&b, NULL, &err, ARGS("create", "prefail"));
	cr_assert_eq(rc, 1, "exit %d: %s", rc, err);
	cr_assert_neq(strstr(err, "hooks.prestart[0]: `/bin/sh` exited with status 4"), NULL, "%s",
	              err);
	free(err);
	cr_assert_eq(state_entries(&b), 0);
	bundle_done(&b);
}

/* Hooks of `kind`: the first exits 3, the second writes `mark`. */
static void failing_then_marking(struct bundle *b, const char *kind, const char *mark)
{
	_cleanup_free_ char *sh = ag_asprintf("echo ran > %s", mark);
	json_object_set_new(b->cfg, "hooks",
	                    json_pack("{s:[o,o]}", kind, bundle_hook("exit 3"), bundle_hook(sh)));
	bundle_write(b);
}

Test(oci_hooks, a_failing_poststart_hook_is_a_warning_and_the_next_one_runs)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sleep", "60"));
	_cleanup_free_ char *mark = ag_asprintf("%s/mark", b.dir);
	failing_then_marking(&b, "poststart", mark);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("create", "ps")), 0);
	char *err = NULL;
	int rc = agora_run(&b, NULL, &err, ARGS("start", "ps"));
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	cr_assert_neq(strstr(err, "agora-run: start: warning: hooks.poststart[0]: `/bin/sh` exited "
	                          "with status 3"),
	              NULL, "%s", err);
	free(err);
	cr_assert_eq(access(mark, F_OK), 0, "hooks.poststart[1] did not run");
	_cleanup_free_ char *st = status_of(&b, "ps");
	cr_assert_str_eq(st, "running");
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("delete", "--force", "ps")), 0);
	bundle_done(&b);
}

Test(oci_hooks, a_failing_poststart_hook_in_run_is_a_warning_too)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sh", "-c", "exit 5"));
	_cleanup_free_ char *mark = ag_asprintf("%s/mark", b.dir);
	failing_then_marking(&b, "poststart", mark);
	char *err = NULL;
	int rc = agora_run(&b, NULL, &err, ARGS("run", "psr"));
	cr_assert_eq(rc, 5, "exit %d: %s", rc, err);
	cr_assert_neq(strstr(err, "agora-run: run: warning: hooks.poststart[0]"), NULL, "%s", err);
	free(err);
	cr_assert_eq(access(mark, F_OK), 0, "hooks.poststart[1] did not run");
	bundle_done(&b);
}

Test(oci_hooks, a_failing_poststop_hook_is_a_warning_and_the_next_one_runs)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sleep", "60"));
	_cleanup_free_ char *mark = ag_asprintf("%s/mark", b.dir);
	failing_then_marking(&b, "poststop", mark);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("create", "pst")), 0);
	char *err = NULL;
	int rc = agora_run(&b, NULL, &err, ARGS("delete", "--force", "pst"));
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	cr_assert_neq(strstr(err, "agora-run: delete: warning: hooks.poststop[0]: `/bin/sh` exited "
	                          "with status 3"),
	              NULL, "%s", err);
	free(err);
	cr_assert_eq(access(mark, F_OK), 0, "hooks.poststop[1] did not run");
	cr_assert_eq(state_entries(&b), 0);
	bundle_done(&b);
}

Test(oci_hooks, every_hook_reads_the_annotations_in_the_state)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sleep", "60"));
	_cleanup_free_ char *out = ag_asprintf("%s/hooks", b.dir);
	cr_assert_eq(mkdir(out, 0755), 0);
	json_array_append_new(json_object_get(b.cfg, "mounts"),
	                      json_pack("{s:s, s:s, s:s, s:[s]}", "destination", "/out", "type",
	                                "bind", "source", out, "options", "rbind"));
	json_object_set_new(b.cfg, "annotations",
	                    json_pack("{s:s, s:s}", "org.example.a", "1", "b", "two words"));
	static const char *const kinds[] = {"prestart", "createRuntime", "createContainer",
	                                    "poststart", "poststop"};
	json_t *hooks = json_object();
	for (size_t i = 0; i < AG_ARRAY_SIZE(kinds); i++) {
		_cleanup_free_ char *sh = ag_asprintf("cat > %s/%s", out, kinds[i]);
		json_object_set_new(hooks, kinds[i], json_pack("[o]", bundle_hook(sh)));
	}
	json_object_set_new(hooks, "startContainer",
	                    json_pack("[o]", bundle_hook("cat > /out/startContainer")));
	json_object_set_new(b.cfg, "hooks", hooks);
	bundle_write(&b);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("create", "ann")), 0);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("start", "ann")), 0);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("delete", "--force", "ann")), 0);
	static const char *const all[] = {"prestart",       "createRuntime", "createContainer",
	                                  "startContainer", "poststart",     "poststop"};
	for (size_t i = 0; i < AG_ARRAY_SIZE(all); i++) {
		_cleanup_free_ char *p = ag_asprintf("%s/%s", out, all[i]);
		_cleanup_free_ char *t = read_text(p);
		json_t *j = json_loads(t, 0, NULL);
		cr_assert_not_null(j, "%s: %s", all[i], t);
		json_t *a = json_object_get(j, "annotations");
		cr_assert_str_eq(json_string_value(json_object_get(a, "org.example.a")), "1",
		                 "%s: %s", all[i], t);
		cr_assert_str_eq(json_string_value(json_object_get(a, "b")), "two words", "%s: %s",
		                 all[i], t);
		cr_assert_str_eq(json_string_value(json_object_get(j, "id")), "ann");
		json_decref(j);
	}
	bundle_done(&b);
}
