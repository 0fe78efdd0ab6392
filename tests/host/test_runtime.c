/* Host tier: agora-run against the real kernel, as root.
 *
 * Each test builds its own bundle (a busybox rootfs plus the static `probe`
 * program) and its own state root under /tmp, runs build/bin/agora-run as a
 * user would, and checks what the container sees from the inside and what
 * is left on the host afterwards. cgroups are disabled here: this host's
 * controllers belong to cgroup v1 (limits are tested in the vm tier).
 */
#include "agbundle.h"
#include "agtest.h"
#include "common/common.h"
#include "common/proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A failed assertion must not leave containers running. */
TestSuite(namespaces, .fini = bundle_cleanup_all);
TestSuite(security, .fini = bundle_cleanup_all);
TestSuite(mounts, .fini = bundle_cleanup_all);
TestSuite(lifecycle, .fini = bundle_cleanup_all);
TestSuite(bad_input, .fini = bundle_cleanup_all);

/* ---- namespaces --------------------------------------------------------- */

Test(namespaces, init_is_pid_1)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/probe", "pid"));
	_cleanup_free_ char *out = run_probe(&b, "pid1");
	cr_assert_str_eq(out, "1\n");
	bundle_done(&b);
}

Test(namespaces, init_leads_its_own_session_and_process_group)
{
	/* Otherwise kill(0, SIGKILL) in the container reaches the launcher's
	 * process group on the host. */
	struct bundle b;
	bundle_init(&b, ARGS("/bin/probe", "session"));
	_cleanup_free_ char *out = run_probe(&b, "sess");
	cr_assert_str_eq(out, "1 1\n");
	bundle_done(&b);
}

Test(namespaces, hostname_is_the_spec_hostname)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/probe", "hostname"));
	json_object_set_new(b.cfg, "hostname", json_string("box-7"));
	_cleanup_free_ char *out = run_probe(&b, "uts");
	cr_assert_str_eq(out, "box-7\n");
	char host[256];
	gethostname(host, sizeof(host));
	cr_assert_str_neq(host, "box-7", "the host's hostname must not change");
	bundle_done(&b);
}

Test(namespaces, network_has_only_lo_and_it_is_up)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sh", "-c",
	                     "/bin/probe links; /bin/probe read /sys/class/net/lo/flags"));
	_cleanup_free_ char *out = run_probe(&b, "net");
	/* IFF_UP | IFF_LOOPBACK = 0x9 */
	cr_assert_str_eq(out, "lo\n0x9\n");
	bundle_done(&b);
}

Test(namespaces, every_namespace_differs_from_the_host)
{
	static const char *const names[] = {"pid", "net", "ipc", "uts", "mnt", "cgroup"};
	for (size_t i = 0; i < AG_ARRAY_SIZE(names); i++) {
		struct bundle b;
		_cleanup_free_ char *path = ag_asprintf("/proc/self/ns/%s", names[i]);
		_cleanup_free_ char *script = ag_asprintf("readlink %s", path);
		bundle_init(&b, ARGS("/bin/busybox", "sh", "-c", script));
		_cleanup_free_ char *id = ag_asprintf("ns-%s", names[i]);
		_cleanup_free_ char *out = run_probe(&b, id);
		char host[128] = "";
		cr_assert_gt(readlink(path, host, sizeof(host) - 1), 0);
		cr_assert_eq(strncmp(out, names[i], strlen(names[i])), 0, "got %s", out);
		out[strcspn(out, "\n")] = '\0';
		cr_assert_str_neq(out, host, "%s namespace is the host's", names[i]);
		bundle_done(&b);
	}
}

Test(namespaces, container_mounts_are_invisible_outside)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sleep", "30"));
	bundle_write(&b);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("create", "mnt")), 0);
	/* The container has proc, dev, sys... mounted under the bundle's
	 * rootfs, in its own namespace only. */
	cr_assert_not(mounts_mention(b.dir));
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("delete", "--force", "mnt")), 0);
	bundle_done(&b);
}

Test(namespaces, user_namespace_maps_root_to_the_given_host_ids)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sh", "-c",
	                     "cat /proc/self/uid_map /proc/self/gid_map; "
	                     "/bin/probe status Uid; ls -nd /bin/busybox"));
	json_array_append_new(json_object_get(json_object_get(b.cfg, "linux"), "namespaces"),
	                      json_pack("{s:s}", "type", "user"));
	json_t *map =
	        json_pack("[{s:i, s:i, s:i}]", "containerID", 0, "hostID", 100000, "size", 65536);
	json_object_set(json_object_get(b.cfg, "linux"), "uidMappings", map);
	json_object_set_new(json_object_get(b.cfg, "linux"), "gidMappings", map);
	/* The container's root is host uid 100000: it must be able to enter
	 * the bundle (mkdtemp made it 0700). */
	cr_assert_eq(chmod(b.dir, 0755), 0);
	_cleanup_free_ char *out = run_probe(&b, "userns");
	/* uid 0 inside is 100000 outside; the rootfs, owned by the host's
	 * root, shows as the overflow id. */
	cr_assert_neq(strstr(out, "0     100000      65536\n         0     100000      65536\n"),
	              NULL, "%s", out);
	cr_assert_neq(strstr(out, "Uid:\t0\t0\t0\t0\n"), NULL, "%s", out);
	cr_assert_neq(strstr(out, " 65534    65534 "), NULL, "%s", out);
	bundle_done(&b);
}

/* ---- linux.devices ------------------------------------------------------ */

TestSuite(devices, .fini = bundle_cleanup_all);

Test(devices, a_custom_node_is_made_with_its_mode_and_owner_and_works)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sh", "-c",
	                     "stat -c '%F %t:%T %a %u:%g' /dev/mynull /dev/sub/fifo; "
	                     "echo hi > /dev/mynull && echo written; cat /dev/mynull | wc -c"));
	json_object_set_new(json_object_get(b.cfg, "linux"), "devices",
	                    json_pack("[{s:s, s:s, s:i, s:i, s:i, s:i, s:i}, {s:s, s:s, s:i}]",
	                              "path", "/dev/mynull", "type", "c", "major", 1, "minor", 3,
	                              "fileMode", 0620, "uid", 1000, "gid", 5, "path",
	                              "/dev/sub/fifo", "type", "p", "fileMode", 0600));
	_cleanup_free_ char *out = run_probe(&b, "devs");
	cr_assert_str_eq(out,
	                 "character special file 1:3 620 1000:5\n"
	                 "fifo 0:0 600 0:0\n"
	                 "written\n0\n",
	                 "got: %s", out);
	bundle_done(&b);
}

Test(devices, in_a_user_namespace_the_host_node_is_bind_mounted)
{
	struct stat st;
	if (stat("/dev/fuse", &st) < 0)
		cr_skip_test("no /dev/fuse on this host");
	struct bundle b;
	bundle_init(
	        &b,
	        ARGS("/bin/sh", "-c",
	             "stat -c '%F %t:%T' /dev/fuse; grep -c ' /dev/fuse ' /proc/self/mountinfo"));
	json_t *lx = json_object_get(b.cfg, "linux");
	json_array_append_new(json_object_get(lx, "namespaces"),
	                      json_pack("{s:s}", "type", "user"));
	json_t *map =
	        json_pack("[{s:i, s:i, s:i}]", "containerID", 0, "hostID", 100000, "size", 65536);
	json_object_set(lx, "uidMappings", map);
	json_object_set_new(lx, "gidMappings", map);
	json_object_set_new(lx, "devices",
	                    json_pack("[{s:s, s:s, s:i, s:i}]", "path", "/dev/fuse", "type", "c",
	                              "major", 10, "minor", 229));
	cr_assert_eq(chmod(b.dir, 0755), 0);
	_cleanup_free_ char *out = run_probe(&b, "devsu");
	cr_assert_str_eq(out, "character special file a:e5\n1\n", "got: %s", out);
	bundle_done(&b);
}

Test(devices, bad_entries_are_refused_with_the_path_named)
{
	static const struct {
		const char *devices, *expect;
	} cases[] = {
	        {"[{\"path\":\"/etc/mynull\",\"type\":\"c\",\"major\":1,\"minor\":3}]",
	         "linux.devices[0].path: must be a path under /dev/, got \"/etc/mynull\""},
	        {"[{\"path\":\"/dev/../etc/x\",\"type\":\"c\",\"major\":1,\"minor\":3}]",
	         "linux.devices[0].path: must not contain a \"..\" component, got "
	         "\"/dev/../etc/x\""},
	        {"[{\"path\":\"/dev/x\",\"type\":\"q\",\"major\":1,\"minor\":3}]",
	         "linux.devices[0].type: must be \"c\", \"u\", \"b\" or \"p\", got \"q\""},
	        {"[{\"path\":\"/dev/x\",\"type\":\"c\",\"minor\":3}]",
	         "linux.devices[0].major: is required"},
	        {"[{\"path\":\"/dev/x\",\"type\":\"c\",\"major\":1,\"minor\":3,\"fileMode\":2559}]",
	         "linux.devices[0].fileMode: must be an integer between 0 and 511 (0777), got "
	         "2559"},
	        /* A directory of the rootfs where the node should go. */
	        {"[{\"path\":\"/dev/x\",\"type\":\"c\",\"major\":1,\"minor\":3},"
	         "{\"path\":\"/dev/pts\",\"type\":\"c\",\"major\":1,\"minor\":3}]",
	         "linux.devices[1]: replace `/dev/pts` with the device node"},
	};
	for (size_t i = 0; i < AG_ARRAY_SIZE(cases); i++) {
		struct bundle b;
		bundle_init(&b, ARGS("/bin/true"));
		json_t *v = json_loads(cases[i].devices, 0, NULL);
		cr_assert_not_null(v, "case %zu", i);
		json_object_set_new(json_object_get(b.cfg, "linux"), "devices", v);
		bundle_write(&b);
		char *err = NULL;
		int rc = agora_run(&b, NULL, &err, ARGS("run", "baddev"));
		cr_assert_eq(rc, 1, "case %zu: exit %d", i, rc);
		cr_assert_neq(strstr(err, cases[i].expect), NULL, "case %zu: expected `%s` in: %s",
		              i, cases[i].expect, err);
		free(err);
		cr_assert_eq(state_entries(&b), 0, "case %zu: state left behind", i);
		bundle_done(&b);
	}
}

Test(devices, a_symlinked_dev_directory_cannot_send_the_node_to_the_host)
{
	/* /dev/evil in the rootfs is a link to the host's /tmp/...: resolved
	 * inside the root it dangles, so the node is refused, and nothing is
	 * made in the host's directory. */
	struct bundle b;
	bundle_init(&b, ARGS("/bin/true"));
	char host_target[256];
	snprintf(host_target, sizeof(host_target), "/tmp/agora-devlink-%d", getpid());
	cr_assert_eq(mkdir(host_target, 0755), 0);
	json_object_set_new(json_object_get(b.cfg, "linux"), "devices",
	                    json_pack("[{s:s, s:s, s:i, s:i}]", "path", "/dev/evil/node", "type",
	                              "c", "major", 1, "minor", 3));
	/* Without a /dev tmpfs the rootfs's own /dev is used. */
	json_t *mounts = json_object_get(b.cfg, "mounts");
	for (size_t i = json_array_size(mounts); i-- > 0;) {
		const char *d = json_string_value(
		        json_object_get(json_array_get(mounts, i), "destination"));
		if (strncmp(d, "/dev", 4) == 0)
			json_array_remove(mounts, i);
	}
	char path[600];
	snprintf(path, sizeof(path), "%s/rootfs/dev", b.dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/rootfs/dev/evil", b.dir);
	cr_assert_eq(symlink(host_target, path), 0, "%s", strerror(errno));
	bundle_write(&b);
	char *err = NULL;
	int rc = agora_run(&b, NULL, &err, ARGS("run", "devlink"));
	snprintf(path, sizeof(path), "%s/node", host_target);
	struct stat st;
	bool leaked = lstat(path, &st) == 0;
	unlink(path);
	rmdir(host_target);
	cr_assert_not(leaked, "the device node was made on the host");
	cr_assert_eq(rc, 1);
	cr_assert_neq(strstr(err, "linux.devices[0]: open `/dev/evil` in the container root"), NULL,
	              "%s", err);
	free(err);
	bundle_done(&b);
}

/* ---- rootfsPropagation, personality ------------------------------------ */

/* A container sleeping with `dir` (a shared mount on the host) bound at
 * /shared and rootfsPropagation `prop`; a tmpfs is then mounted on the
 * host under `dir`: does the container see it? */
static bool host_mount_reaches_container(const char *prop)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sleep", "60"));
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/shared", b.dir);
	cr_assert_eq(mkdir(dir, 0755), 0);
	cr_assert_eq(mount(dir, dir, NULL, MS_BIND, NULL), 0, "%s", strerror(errno));
	cr_assert_eq(mount(NULL, dir, NULL, MS_SHARED, NULL), 0, "%s", strerror(errno));
	char sub[300];
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	cr_assert_eq(mkdir(sub, 0755), 0);
	json_array_append_new(json_object_get(b.cfg, "mounts"),
	                      json_pack("{s:s, s:s, s:s, s:[s]}", "destination", "/shared", "type",
	                                "bind", "source", dir, "options", "rbind"));
	json_object_set_new(json_object_get(b.cfg, "linux"), "rootfsPropagation",
	                    json_string(prop));
	bundle_write(&b);
	char *err = NULL;
	int rc = agora_run(&b, NULL, &err, ARGS("create", "prop"));
	cr_assert_eq(rc, 0, "%s", err ? err : "");
	free(err);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("start", "prop")), 0);
	cr_assert_eq(mount("agora-prop", sub, "tmpfs", 0, "size=64k"), 0, "%s", strerror(errno));
	char marker[320];
	snprintf(marker, sizeof(marker), "%s/marker", sub);
	int fd = open(marker, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0);
	close(fd);
	char *out = NULL;
	rc = agora_run(&b, &out, NULL,
	               ARGS("exec", "prop", "--", "/bin/sh", "-c",
	                    "test -e /shared/sub/marker && echo seen || echo unseen"));
	cr_assert_eq(rc, 0);
	bool seen = strcmp(out, "seen\n") == 0;
	cr_assert(seen || strcmp(out, "unseen\n") == 0, "%s", out);
	free(out);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("delete", "--force", "prop")), 0);
	cr_assert_eq(umount2(sub, MNT_DETACH), 0);
	cr_assert_eq(umount2(dir, MNT_DETACH), 0);
	bundle_done(&b);
	return seen;
}

Test(mounts, rootfs_propagation_slave_and_shared_receive_host_mounts_private_does_not)
{
	cr_assert(host_mount_reaches_container("rslave"), "rslave");
	cr_assert(host_mount_reaches_container("rshared"), "rshared");
	cr_assert_not(host_mount_reaches_container("rprivate"), "rprivate");
	cr_assert_not(host_mount_reaches_container("private"), "private");
}

Test(mounts, container_mounts_never_reach_the_host_with_rshared)
{
	/* The container's own mounts (proc, dev, ...) and one it makes stay
	 * in its namespace even when its root is shared. */
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sleep", "60"));
	json_object_set_new(json_object_get(b.cfg, "linux"), "rootfsPropagation",
	                    json_string("rshared"));
	bundle_write(&b);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("create", "shr")), 0);
	cr_assert_not(mounts_mention(b.dir));
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("delete", "--force", "shr")), 0);
	bundle_done(&b);
}

Test(security, personality_linux32_makes_uname_say_i686)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/busybox", "uname", "-m"));
	json_object_set_new(json_object_get(b.cfg, "linux"), "personality",
	                    json_pack("{s:s}", "domain", "LINUX32"));
	_cleanup_free_ char *out = run_probe(&b, "pers32");
	cr_assert_str_eq(out, "i686\n");
	bundle_done(&b);
	/* And LINUX leaves the machine as it is. */
	bundle_init(&b, ARGS("/bin/busybox", "uname", "-m"));
	json_object_set_new(json_object_get(b.cfg, "linux"), "personality",
	                    json_pack("{s:s}", "domain", "LINUX"));
	_cleanup_free_ char *out2 = run_probe(&b, "pers64");
	cr_assert_str_eq(out2, "x86_64\n");
	bundle_done(&b);
}

/* ---- process.terminal -------------------------------------------------- */

TestSuite(terminal, .fini = bundle_cleanup_all);

Test(terminal, create_sends_the_master_to_the_console_socket)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sh"));
	json_t *proc = json_object_get(b.cfg, "process");
	json_object_set_new(proc, "terminal", json_true());
	json_object_set_new(proc, "consoleSize",
	                    json_pack("{s:i, s:i}", "height", 33, "width", 111));
	bundle_write(&b);
	_cleanup_free_ char *sock = ag_asprintf("%s/console.sock", b.dir);
	int lfd = console_listen(sock);
	char *err = NULL;
	int rc = agora_run(&b, NULL, &err, ARGS("create", "--console-socket", sock, "tty1"));
	cr_assert_eq(rc, 0, "%s", err);
	free(err);
	char name[64];
	int master = console_receive(lfd, name, sizeof(name));
	close(lfd);
	cr_assert_str_eq(name, "/dev/pts/0");
	struct stat st;
	cr_assert_eq(fstat(master, &st), 0);
	cr_assert(S_ISCHR(st.st_mode));
	cr_assert(fcntl(master, F_GETFD) & FD_CLOEXEC);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("start", "tty1")), 0);
	const char cmd[] = "stty size; tty; test -t 0 && test -t 2 && echo both-ttys; exit 7\n";
	cr_assert_eq(write(master, cmd, sizeof(cmd) - 1), (ssize_t)sizeof(cmd) - 1);
	_cleanup_free_ char *out = read_terminal(master);
	close(master);
	cr_assert_neq(strstr(out, "\r\n33 111\r\n/dev/pts/0\r\nboth-ttys\r\n"), NULL, "%s", out);
	bool stopped = false;
	for (int i = 0; i < 300 && !stopped; i++) {
		_cleanup_free_ char *s = state_of(&b, "tty1");
		stopped = strstr(s, "\"status\":\"stopped\"") != NULL;
		if (!stopped)
			usleep(10000);
	}
	cr_assert(stopped);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("delete", "tty1")), 0);
	bundle_done(&b);
}

Test(terminal, run_without_a_socket_relays_the_terminal)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sh", "-c", "stty size; tty; echo to-stderr >&2; exit 3"));
	json_t *proc = json_object_get(b.cfg, "process");
	json_object_set_new(proc, "terminal", json_true());
	json_object_set_new(proc, "consoleSize",
	                    json_pack("{s:i, s:i}", "height", 10, "width", 20));
	bundle_write(&b);
	char *out = NULL, *err = NULL;
	int rc = agora_run(&b, &out, &err, ARGS("run", "tty2"));
	cr_assert_eq(rc, 3, "%s", err);
	/* One terminal for all three streams: stderr comes through stdout. */
	cr_assert_str_eq(out, "10 20\r\n/dev/pts/0\r\nto-stderr\r\n");
	cr_assert_str_eq(err, "");
	free(out);
	free(err);
	cr_assert_eq(state_entries(&b), 0);
	bundle_done(&b);
}

Test(terminal, create_without_a_console_socket_and_a_socket_without_terminal_are_refused)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sh"));
	json_object_set_new(json_object_get(b.cfg, "process"), "terminal", json_true());
	bundle_write(&b);
	char *err = NULL;
	cr_assert_eq(agora_run(&b, NULL, &err, ARGS("create", "tty3")), 1);
	cr_assert_neq(strstr(err, "process.terminal: create needs a console socket"), NULL, "%s",
	              err);
	free(err);
	cr_assert_eq(state_entries(&b), 0);
	json_object_set_new(json_object_get(b.cfg, "process"), "terminal", json_false());
	bundle_write(&b);
	err = NULL;
	cr_assert_eq(agora_run(&b, NULL, &err,
	                       ARGS("create", "--console-socket", "/nonexistent.sock", "tty3")),
	             2);
	cr_assert_neq(strstr(err, "--console-socket: process.terminal is false in the spec"), NULL,
	              "%s", err);
	free(err);
	bundle_done(&b);
}

/* ---- capabilities, no_new_privs, seccomp ------------------------------- */

Test(security, default_spec_keeps_docker_capabilities_and_no_new_privs)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/probe", "status", "CapInh", "CapPrm", "CapEff", "CapBnd",
	                     "CapAmb", "NoNewPrivs", "Seccomp"));
	_cleanup_free_ char *out = run_probe(&b, "caps");
	/* The 14 Docker capabilities: bits 0,1,3,4,5,6,7,8,10,13,18,27,29,31. */
	cr_assert_str_eq(out, "CapInh:\t0000000000000000\n"
	                      "CapPrm:\t00000000a80425fb\n"
	                      "CapEff:\t00000000a80425fb\n"
	                      "CapBnd:\t00000000a80425fb\n"
	                      "CapAmb:\t0000000000000000\n"
	                      "NoNewPrivs:\t1\n"
	                      "Seccomp:\t2\n");
	bundle_done(&b);
}

Test(security, all_five_capability_sets_follow_the_spec)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/probe", "status", "CapInh", "CapPrm", "CapEff", "CapBnd",
	                     "CapAmb", "NoNewPrivs"));
	json_t *caps = json_object();
	static const char *const sets[] = {"bounding", "effective", "inheritable", "permitted",
	                                   "ambient"};
	for (size_t i = 0; i < AG_ARRAY_SIZE(sets); i++)
		json_object_set_new(caps, sets[i], json_pack("[s,s]", "CAP_CHOWN", "CAP_KILL"));
	json_t *proc = json_object_get(b.cfg, "process");
	json_object_set_new(proc, "capabilities", caps);
	json_object_set_new(proc, "noNewPrivileges", json_false());
	_cleanup_free_ char *out = run_probe(&b, "caps5");
	/* CAP_CHOWN = bit 0, CAP_KILL = bit 5. */
	cr_assert_str_eq(out, "CapInh:\t0000000000000021\n"
	                      "CapPrm:\t0000000000000021\n"
	                      "CapEff:\t0000000000000021\n"
	                      "CapBnd:\t0000000000000021\n"
	                      "CapAmb:\t0000000000000021\n"
	                      "NoNewPrivs:\t0\n");
	bundle_done(&b);
}

Test(security, default_profile_denies_syscalls_with_eperm)
{
	struct bundle b;
	bundle_init(&b,
	            ARGS("/bin/sh", "-c",
	                 "for s in keyctl unshare mount clone3 getpid; do /bin/probe syscall $s; "
	                 "done"));
	_cleanup_free_ char *out = run_probe(&b, "seccomp");
	/* keyctl, unshare, mount: EPERM; clone3: ENOSYS so libc falls back
	 * to clone; getpid is allowed. */
	cr_assert_str_eq(out, "errno=EPERM\nerrno=EPERM\nerrno=EPERM\nerrno=ENOSYS\nok\n");
	bundle_done(&b);
}

static time_t cache_file(const struct bundle *b, char *ret_path, size_t n)
{
	_cleanup_free_ char *dir = ag_asprintf("%s/.seccomp", b->state);
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "no seccomp cache in %s", dir);
	struct dirent *de;
	int found = 0;
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".bpf")) {
			snprintf(ret_path, n, "%s/%s", dir, de->d_name);
			found++;
		}
	closedir(d);
	cr_assert_eq(found, 1, "one compiled filter in the cache");
	struct stat st;
	cr_assert_eq(stat(ret_path, &st), 0);
	return st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
}

Test(security, the_compiled_filter_is_cached_and_a_damaged_cache_is_rebuilt)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/probe", "syscall", "keyctl"));
	_cleanup_free_ char *o1 = run_probe(&b, "cache1");
	cr_assert_str_eq(o1, "errno=EPERM\n");
	char path[512];
	time_t t1 = cache_file(&b, path, sizeof(path));
	/* A second launch uses the cached filter: the file is not rewritten. */
	usleep(20000);
	_cleanup_free_ char *o2 = run_probe(&b, "cache2");
	cr_assert_str_eq(o2, "errno=EPERM\n");
	cr_assert_eq(cache_file(&b, path, sizeof(path)), t1, "the filter was compiled again");
	/* A damaged entry is never loaded: the filter is compiled again, and
	 * still denies what it should. */
	int fd = open(path, O_WRONLY | O_TRUNC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "garbage", 7), 7);
	close(fd);
	_cleanup_free_ char *o3 = run_probe(&b, "cache3");
	cr_assert_str_eq(o3, "errno=EPERM\n");
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_gt(st.st_size, 7, "the damaged entry was rewritten");
	bundle_done(&b);
}

Test(security, without_seccomp_the_same_syscall_is_not_eperm_from_a_filter)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/probe", "status", "Seccomp"));
	json_object_del(json_object_get(b.cfg, "linux"), "seccomp");
	_cleanup_free_ char *out = run_probe(&b, "noseccomp");
	cr_assert_str_eq(out, "Seccomp:\t0\n");
	bundle_done(&b);
}

Test(security, masked_paths_show_nothing_and_readonly_paths_refuse_writes)
{
	struct bundle b;
	bundle_init(&b,
	            ARGS("/bin/sh", "-c",
	                 "/bin/probe read /proc/keys; /bin/probe read /proc/timer_list; "
	                 "ls -A /proc/acpi | wc -l; /bin/probe write /proc/sys/kernel/hostname"));
	_cleanup_free_ char *out = run_probe(&b, "masked");
	/* /proc/keys, /proc/timer_list: bound to /dev/null, read empty;
	 * /proc/acpi: an empty tmpfs (may be absent on this kernel: 0 too);
	 * /proc/sys: read-only. */
	cr_assert_str_eq(out, "\n\n0\nerrno=EROFS\n", "got: %s", out);
	bundle_done(&b);
}

Test(security, rlimits_are_applied)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/probe", "rlimit"));
	json_object_set_new(
	        json_object_get(b.cfg, "process"), "rlimits",
	        json_pack("[{s:s, s:i, s:i}]", "type", "RLIMIT_NOFILE", "soft", 123, "hard", 456));
	_cleanup_free_ char *out = run_probe(&b, "rlimit");
	cr_assert_str_eq(out, "123 456\n");
	bundle_done(&b);
}

Test(security, rlim_infinity_written_as_2_64_minus_1_is_unlimited)
{
	/* As other tools write it: jansson cannot build the number, so it is
	 * put into the written config.json as text. */
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sh", "-c", "ulimit -c; ulimit -Hc"));
	json_object_set_new(json_object_get(b.cfg, "process"), "rlimits",
	                    json_pack("[{s:s, s:i, s:i}]", "type", "RLIMIT_CORE", "soft", 987654321,
	                              "hard", 987654321));
	bundle_write(&b);
	_cleanup_free_ char *p = ag_asprintf("%s/config.json", b.dir);
	char *text = NULL;
	size_t len = 0;
	cr_assert_eq(ag_read_file_at(AT_FDCWD, p, 1 << 20, &text, &len), 0);
	char *out = ag_malloc(len * 2 + 64);
	size_t o = 0;
	for (const char *q = text; *q;) {
		if (strncmp(q, "987654321", 9) == 0) {
			o += (size_t)sprintf(out + o, "18446744073709551615");
			q += 9;
		} else {
			out[o++] = *q++;
		}
	}
	out[o] = '\0';
	cr_assert_eq(ag_write_file_at(AT_FDCWD, p, out, o), 0);
	free(text);
	free(out);
	char *res = NULL, *err = NULL;
	int rc = agora_run(&b, &res, &err, ARGS("run", "rliminf"));
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_str_eq(res, "unlimited\nunlimited\n");
	free(res);
	free(err);
	bundle_done(&b);
}

Test(security, an_fd_of_the_launcher_is_not_visible_in_the_container)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/probe", "fds"));
	bundle_write(&b);
	/* fd 9 is open in agora-run without close-on-exec (as a careless
	 * parent would leave it); the container must not get it, nor any
	 * fd of the launcher's own. */
	int leak = open("/etc", O_RDONLY | O_DIRECTORY);
	cr_assert_geq(leak, 0);
	char *out = NULL, *err = NULL;
	int rc = agora_run_fd(&b, &out, &err, leak, ARGS("run", "fds"));
	close(leak);
	cr_assert_eq(rc, 0, "stderr: %s", err);
	/* Only stdin, stdout and stderr (pipes and /dev/null here). */
	char *line = out;
	int count = 0;
	while (line && *line) {
		int fd = atoi(line);
		cr_assert(fd >= 0 && fd <= 2, "unexpected fd in the container: %s", line);
		line = strchr(line, '\n');
		if (line)
			line++;
		count++;
	}
	cr_assert_leq(count, 3);
	free(out);
	free(err);
	bundle_done(&b);
}

Test(security, user_group_and_supplementary_groups_are_set)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/probe", "status", "Uid", "Gid", "Groups", "CapEff"));
	json_object_set_new(json_object_get(b.cfg, "process"), "user",
	                    json_pack("{s:i, s:i, s:[i,i]}", "uid", 1000, "gid", 1001,
	                              "additionalGids", 5, 27));
	_cleanup_free_ char *out = run_probe(&b, "user");
	/* A non-root user keeps no effective capability. */
	cr_assert_str_eq(out, "Uid:\t1000\t1000\t1000\t1000\n"
	                      "Gid:\t1001\t1001\t1001\t1001\n"
	                      "Groups:\t5 27 \n"
	                      "CapEff:\t0000000000000000\n");
	bundle_done(&b);
}

Test(security, a_leaked_host_directory_fd_cannot_be_the_cwd)
{
	/* CVE-2024-21626: a host directory fd reaching the container and
	 * named as process.cwd through /proc/self/fd would put the process
	 * outside its root. */
	struct bundle b;
	bundle_init(&b, ARGS("/bin/true"));
	json_object_set_new(json_object_get(b.cfg, "process"), "cwd",
	                    json_string("/proc/self/fd/9"));
	bundle_write(&b);
	int leak = open("/etc", O_RDONLY | O_DIRECTORY);
	cr_assert_geq(leak, 0);
	char *err = NULL;
	int rc = agora_run_fd(&b, NULL, &err, leak, ARGS("run", "cwd"));
	close(leak);
	cr_assert_eq(rc, 1, "exit %d: %s", rc, err);
	cr_assert_neq(strstr(err, "process.cwd"), NULL, "%s", err);
	free(err);
	cr_assert_eq(state_entries(&b), 0);
	bundle_done(&b);
}

Test(security, readonly_root_refuses_writes)
{
	struct bundle b;
	bundle_init(&b,
	            ARGS("/bin/sh", "-c", "/bin/probe write /newfile; /bin/probe write /tmp/x"));
	json_object_set_new(json_object_get(b.cfg, "root"), "readonly", json_true());
	json_array_append_new(json_object_get(b.cfg, "mounts"),
	                      json_pack("{s:s, s:s, s:s}", "destination", "/tmp", "type", "tmpfs",
	                                "source", "tmpfs"));
	_cleanup_free_ char *out = run_probe(&b, "ro");
	cr_assert_str_eq(out, "errno=EROFS\nok\n");
	bundle_done(&b);
}

/* ---- mount targets cannot be redirected --------------------------------- */

Test(mounts, symlinked_targets_stay_inside_the_root)
{
	char outside[] = "/tmp/agora-escape-XXXXXX";
	cr_assert_not_null(mkdtemp(outside));
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sh", "-c", "ls -d /tmp/agora-escape-*/sub /up/sub"));
	/* An absolute link and a relative one climbing past the root. */
	_cleanup_free_ char *l1 = ag_asprintf("%s/rootfs/evil", b.dir);
	_cleanup_free_ char *l2 = ag_asprintf("%s/rootfs/up", b.dir);
	_cleanup_free_ char *inside = ag_asprintf("%s/rootfs%s", b.dir, outside);
	/* The link's target also exists inside the root: that is where the
	 * mount must land. */
	cr_assert_eq(mkdir(inside, 0755), 0);
	cr_assert_eq(symlink(outside, l1), 0);
	cr_assert_eq(symlink("../../../../../../../../tmp", l2), 0);
	json_t *mounts = json_object_get(b.cfg, "mounts");
	json_array_append_new(mounts, json_pack("{s:s, s:s, s:s}", "destination", "/evil/sub",
	                                        "type", "tmpfs", "source", "tmpfs"));
	json_array_append_new(mounts, json_pack("{s:s, s:s, s:s}", "destination", "/up/sub", "type",
	                                        "tmpfs", "source", "tmpfs"));
	_cleanup_free_ char *out = run_probe(&b, "escape");
	/* Inside, both resolved within the root... */
	cr_assert_neq(strstr(out, "/sub\n"), NULL, "got %s", out);
	/* ...and nothing was created or mounted outside it. */
	_cleanup_free_ char *sub = ag_asprintf("%s/sub", outside);
	cr_assert_neq(access(sub, F_OK), 0, "%s was created on the host", sub);
	cr_assert_neq(access("/tmp/sub", F_OK), 0, "/tmp/sub was created on the host");
	cr_assert_not(mounts_mention(outside));
	rmdir(outside);
	bundle_done(&b);
}

Test(mounts, a_dangling_link_target_is_refused_not_followed_out)
{
	char outside[] = "/tmp/agora-escape-XXXXXX";
	cr_assert_not_null(mkdtemp(outside));
	struct bundle b;
	bundle_init(&b, ARGS("/bin/true"));
	_cleanup_free_ char *l1 = ag_asprintf("%s/rootfs/evil", b.dir);
	cr_assert_eq(symlink(outside, l1), 0);
	json_array_append_new(json_object_get(b.cfg, "mounts"),
	                      json_pack("{s:s, s:s, s:s}", "destination", "/evil/sub", "type",
	                                "tmpfs", "source", "tmpfs"));
	bundle_write(&b);
	char *err = NULL;
	cr_assert_eq(agora_run(&b, NULL, &err, ARGS("run", "dangling")), 1);
	cr_assert_neq(strstr(err, "mount target `/evil/sub` in the container root"), NULL, "%s",
	              err);
	free(err);
	_cleanup_free_ char *sub = ag_asprintf("%s/sub", outside);
	cr_assert_neq(access(sub, F_OK), 0, "%s was created on the host", sub);
	cr_assert_eq(state_entries(&b), 0);
	rmdir(outside);
	bundle_done(&b);
}

/* ---- lifecycle ----------------------------------------------------------- */

Test(lifecycle, create_start_state_kill_delete)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sleep", "60"));
	bundle_write(&b);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("create", "life")), 0);

	_cleanup_free_ char *s1 = state_of(&b, "life");
	cr_assert_neq(strstr(s1, "\"status\":\"created\""), NULL, "%s", s1);
	json_t *j = json_loads(s1, 0, NULL);
	pid_t pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
	json_decref(j);
	cr_assert_gt(pid, 1);
	cr_assert_eq(kill(pid, 0), 0, "the created process exists");

	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("start", "life")), 0);
	_cleanup_free_ char *s2 = state_of(&b, "life");
	cr_assert_neq(strstr(s2, "\"status\":\"running\""), NULL, "%s", s2);

	/* A running container is not deleted without --force. */
	char *err = NULL;
	cr_assert_eq(agora_run(&b, NULL, &err, ARGS("delete", "life")), 1);
	cr_assert_neq(strstr(err, "is running"), NULL, "%s", err);
	free(err);

	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("kill", "life", "KILL")), 0);
	/* Stopped once the kernel has it gone (reaped by init or a subreaper,
	 * or a zombie, which also counts as stopped). */
	bool stopped = false;
	for (int i = 0; i < 200 && !stopped; i++) {
		_cleanup_free_ char *s = state_of(&b, "life");
		stopped = strstr(s, "\"status\":\"stopped\"") != NULL;
		if (!stopped)
			usleep(10000);
	}
	cr_assert(stopped, "container did not stop after SIGKILL");

	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("delete", "life")), 0);
	err = NULL;
	cr_assert_eq(agora_run(&b, NULL, &err, ARGS("state", "life")), 1);
	cr_assert_neq(strstr(err, "container `life` does not exist"), NULL, "%s", err);
	free(err);
	cr_assert_eq(state_entries(&b), 0);
	bundle_done(&b);
}

Test(lifecycle, run_exits_with_the_container_status_and_cleans_up)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sh", "-c", "exit 7"));
	bundle_write(&b);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("run", "st7")), 7);
	cr_assert_eq(state_entries(&b), 0);
	bundle_done(&b);
}

Test(lifecycle, a_signal_death_is_128_plus_the_signal)
{
	struct bundle b;
	/* A fault, not kill(2): pid 1 of a pid namespace ignores signals sent
	 * from inside it, but not the kernel's own SIGSEGV. */
	bundle_init(&b, ARGS("/bin/probe", "segv"));
	bundle_write(&b);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("run", "sig")), 128 + SIGSEGV);
	bundle_done(&b);
}

Test(lifecycle, exec_joins_the_running_container)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sleep", "60"));
	json_object_set_new(b.cfg, "hostname", json_string("exec-box"));
	bundle_write(&b);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("create", "ex")), 0);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("start", "ex")), 0);
	char *out = NULL, *err = NULL;
	int rc = agora_run(&b, &out, &err,
	                   ARGS("exec", "ex", "--", "/bin/sh", "-c",
	                        "hostname; /bin/probe status NoNewPrivs; exit 3"));
	cr_assert_eq(rc, 3, "stderr: %s", err);
	cr_assert_str_eq(out, "exec-box\nNoNewPrivs:\t1\n");
	free(out);
	free(err);
	out = NULL;
	/* A command that is not there: the caller gets the reason. */
	char *e2 = NULL;
	cr_assert_eq(agora_run(&b, NULL, &e2, ARGS("exec", "ex", "--", "/bin/nope")), 1);
	cr_assert_neq(strstr(e2, "exec in `ex`: executable `/bin/nope` not found in the container"),
	              NULL, "%s", e2);
	free(e2);
	/* In the container's pid namespace, next to its init. */
	cr_assert_eq(agora_run(&b, &out, NULL, ARGS("exec", "ex", "--", "/bin/probe", "pid")), 0);
	cr_assert_gt(atoi(out), 1);
	free(out);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("delete", "--force", "ex")), 0);
	bundle_done(&b);
}

Test(lifecycle, list_shows_containers_in_table_and_json)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sleep", "60"));
	bundle_write(&b);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("create", "l1")), 0);
	char *out = NULL;
	cr_assert_eq(agora_run(&b, &out, NULL, ARGS("list")), 0);
	cr_assert_eq(strncmp(out, "ID ", 3), 0, "%s", out);
	cr_assert_neq(strstr(out, "l1 "), NULL);
	cr_assert_neq(strstr(out, "created"), NULL);
	free(out);
	cr_assert_eq(agora_run(&b, &out, NULL, ARGS("list", "--format", "json")), 0);
	json_t *j = json_loads(out, 0, NULL);
	cr_assert(json_is_array(j) && json_array_size(j) == 1, "%s", out);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(j, 0), "id")), "l1");
	json_decref(j);
	free(out);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("delete", "--force", "l1")), 0);
	bundle_done(&b);
}

Test(lifecycle, the_five_hooks_run_with_the_state_on_stdin)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sleep", "60"));
	/* Runtime-namespace hooks write into the bundle; startContainer runs
	 * inside the container, whose /out is the same directory. */
	_cleanup_free_ char *out = ag_asprintf("%s/hooks", b.dir);
	cr_assert_eq(mkdir(out, 0755), 0);
	json_array_append_new(json_object_get(b.cfg, "mounts"),
	                      json_pack("{s:s, s:s, s:s, s:[s]}", "destination", "/out", "type",
	                                "bind", "source", out, "options", "rbind"));
	static const char *const kinds[] = {"createRuntime", "createContainer", "poststart",
	                                    "poststop"};
	json_t *hooks = json_object();
	for (size_t i = 0; i < AG_ARRAY_SIZE(kinds); i++) {
		/* Before pivot_root, the container's procfs is mounted on
		 * <rootfs>/proc in its own mount namespace only: a hook sees
		 * its pid 1 there only when it runs in that namespace. */
		_cleanup_free_ char *sh =
		        ag_asprintf("cat > %s/%s; if test -e %s/rootfs/proc/1/status; then echo "
		                    "inside; else echo "
		                    "outside; fi >> %s/%s",
		                    out, kinds[i], b.dir, out, kinds[i]);
		json_object_set_new(hooks, kinds[i], json_pack("[o]", bundle_hook(sh)));
	}
	json_object_set_new(hooks, "startContainer",
	                    json_pack("[o]", bundle_hook("cat > /out/startContainer")));
	json_object_set_new(b.cfg, "hooks", hooks);
	bundle_write(&b);

	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("create", "hooks")), 0);
	_cleanup_free_ char *cr = ag_asprintf("%s/createRuntime", out);
	_cleanup_free_ char *cc = ag_asprintf("%s/createContainer", out);
	_cleanup_free_ char *sc = ag_asprintf("%s/startContainer", out);
	_cleanup_free_ char *ps = ag_asprintf("%s/poststart", out);
	_cleanup_free_ char *pst = ag_asprintf("%s/poststop", out);
	_cleanup_free_ char *t1 = read_text(cr);
	cr_assert_neq(strstr(t1, "\"id\":\"hooks\""), NULL, "%s", t1);
	cr_assert_neq(strstr(t1, "\"pid\":"), NULL, "createRuntime sees the pid: %s", t1);
	cr_assert_neq(strstr(t1, "}outside\n"), NULL, "createRuntime in the runtime ns: %s", t1);
	_cleanup_free_ char *t2 = read_text(cc);
	cr_assert_neq(strstr(t2, "\"id\":\"hooks\""), NULL, "%s", t2);
	cr_assert_neq(strstr(t2, "}inside\n"), NULL, "createContainer in the container: %s", t2);
	cr_assert_neq(access(sc, F_OK), 0, "startContainer ran before start");

	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("start", "hooks")), 0);
	_cleanup_free_ char *t3 = read_text(sc);
	cr_assert_neq(strstr(t3, "\"id\":\"hooks\""), NULL, "%s", t3);
	_cleanup_free_ char *t4 = read_text(ps);
	cr_assert_neq(strstr(t4, "\"status\":\"running\""), NULL, "%s", t4);
	cr_assert_neq(access(pst, F_OK), 0, "poststop ran before delete");

	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("delete", "--force", "hooks")), 0);
	_cleanup_free_ char *t5 = read_text(pst);
	cr_assert_neq(strstr(t5, "\"status\":\"stopped\""), NULL, "%s", t5);
	bundle_done(&b);
}

Test(lifecycle, a_failing_create_hook_fails_create_and_leaves_nothing)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/true"));
	json_object_set_new(b.cfg, "hooks",
	                    json_pack("{s:[o]}", "createRuntime", bundle_hook("exit 3")));
	bundle_write(&b);
	char *err = NULL;
	int rc = agora_run(&b, NULL, &err, ARGS("create", "badhook"));
	cr_assert_eq(rc, 1, "exit %d: %s", rc, err);
	cr_assert_neq(strstr(err, "hooks.createRuntime[0]: `/bin/sh` exited with status 3"), NULL,
	              "%s", err);
	free(err);
	cr_assert_eq(state_entries(&b), 0);
	bundle_done(&b);
}

Test(lifecycle, log_file_gets_the_error)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/nope"));
	bundle_write(&b);
	_cleanup_free_ char *log = ag_asprintf("%s/agora.log", b.dir);
	_cleanup_free_ char *logopt = ag_asprintf("--log=%s", log);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS(logopt, "--log-format=json", "run", "lg")), 1);
	_cleanup_free_ char *t = read_text(log);
	json_t *j = json_loads(t, 0, NULL);
	cr_assert_not_null(j, "one JSON line: %s", t);
	cr_assert_str_eq(json_string_value(json_object_get(j, "level")), "error");
	cr_assert_neq(strstr(json_string_value(json_object_get(j, "msg")), "`/bin/nope` not found"),
	              NULL, "%s", t);
	json_decref(j);
	bundle_done(&b);
}

/* The start time in /proc/<pid>/stat, field 22. */
static unsigned long long start_ticks(pid_t pid)
{
	struct ag_proc_stat ps;
	cr_assert_eq(ag_proc_stat_read(pid, &ps), 0, "/proc/%d/stat", (int)pid);
	return ps.start_ticks;
}

Test(lifecycle, a_reused_pid_is_never_taken_for_the_container)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sleep", "60"));
	bundle_write(&b);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("create", "reuse")), 0);
	/* An unrelated process stands in for one that reused the pid. */
	pid_t other = fork();
	if (other == 0) {
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	cr_assert_gt(other, 0);
	_cleanup_free_ char *sp = ag_asprintf("%s/reuse/state.json", b.state);
	_cleanup_free_ char *text = read_text(sp);
	json_t *j = json_loads(text, 0, NULL);
	pid_t real = (pid_t)json_integer_value(json_object_get(j, "pid"));
	json_object_set_new(j, "pid", json_integer(other));
	json_object_set_new(j, "pid_start", json_integer((json_int_t)start_ticks(other) + 1));
	cr_assert_eq(json_dump_file(j, sp, 0), 0);

	_cleanup_free_ char *st = state_of(&b, "reuse");
	cr_assert_neq(strstr(st, "\"status\":\"stopped\""), NULL, "%s", st);
	char *err = NULL;
	cr_assert_eq(agora_run(&b, NULL, &err, ARGS("kill", "reuse", "KILL")), 1);
	free(err);
	usleep(100000);
	cr_assert_eq(waitpid(other, NULL, WNOHANG), 0, "the unrelated process was signalled");

	/* With its true start time the same pid is the container again
	 * (created: its exec.fifo is still there). */
	json_object_set_new(j, "pid_start", json_integer((json_int_t)start_ticks(other)));
	cr_assert_eq(json_dump_file(j, sp, 0), 0);
	_cleanup_free_ char *st2 = state_of(&b, "reuse");
	cr_assert_neq(strstr(st2, "\"status\":\"created\""), NULL, "%s", st2);
	kill(other, SIGKILL);
	waitpid(other, NULL, 0);

	/* Put the real one back and clean up. */
	json_object_set_new(j, "pid", json_integer(real));
	json_object_set_new(j, "pid_start", json_integer((json_int_t)start_ticks(real)));
	cr_assert_eq(json_dump_file(j, sp, 0), 0);
	json_decref(j);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("delete", "--force", "reuse")), 0);
	bundle_done(&b);
}

Test(security, exec_runs_the_launcher_from_a_sealed_memfd)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sleep", "60"));
	bundle_write(&b);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("create", "seal")), 0);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("start", "seal")), 0);
	/* While `exec` waits for its process, the launcher's own executable
	 * is the sealed copy, not the file on the host (CVE-2019-5736). */
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 1);
		dup2(null, 2);
		_cleanup_free_ char *exe = ag_asprintf("%s/bin/agora-run", build_dir());
		_cleanup_free_ char *root = ag_asprintf("--root=%s", b.state);
		execl(exe, exe, root, "--cgroup-manager=disabled", "exec", "seal", "--",
		      "/bin/sleep", "1", (char *)NULL);
		_exit(127);
	}
	_cleanup_free_ char *link = ag_asprintf("/proc/%d/exe", (int)pid);
	char target[256] = "";
	for (int i = 0; i < 100; i++) {
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		if (strstr(target, "memfd:"))
			break;
		usleep(10000);
	}
	cr_assert_neq(strstr(target, "/memfd:agora-run"), NULL, "exe is %s", target);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("delete", "--force", "seal")), 0);
	bundle_done(&b);
}

/* ---- bad input: a clear message, and nothing left behind ----------------- */

struct bad_case {
	const char *what;
	const char *path;  /* where to put `value`, dotted, e.g. "process.cwd" */
	const char *value; /* JSON */
	const char *expect;
};

static void set_path(json_t *root, const char *path, json_t *value)
{
	_cleanup_free_ char *copy = ag_strdup(path);
	char *save = NULL, *key = strtok_r(copy, ".", &save);
	json_t *cur = root;
	for (char *next = strtok_r(NULL, ".", &save); next; next = strtok_r(NULL, ".", &save)) {
		json_t *child = json_object_get(cur, key);
		if (!json_is_object(child)) {
			child = json_object();
			json_object_set_new(cur, key, child);
		}
		cur = child;
		key = next;
	}
	json_object_set_new(cur, key, value);
}

static const struct bad_case bad_cases[] = {
        {"memory limit with a unit", "linux.resources.memory.limit", "\"1g\"",
         "linux.resources.memory.limit: must be a positive integer, got \"1g\""},
        {"relative cwd", "process.cwd", "\"tmp\"", "process.cwd: must be an absolute path"},
        {"missing executable", "process.args", "[\"/bin/nope\"]",
         "process.args[0]: executable `/bin/nope` not found in the container"},
        {"missing root", "root.path", "\"/nonexistent-root\"", "/nonexistent-root"},
        {"bad namespace path", "linux.namespaces",
         "[{\"type\":\"network\",\"path\":\"/nonexistent/ns\"},{\"type\":\"mount\"},"
         "{\"type\":\"uts\"}]",
         "open network namespace `/nonexistent/ns`"},
        {"host sysctl", "linux.sysctl", "{\"vm.swappiness\":\"10\"}",
         "linux.sysctl[\"vm.swappiness\"]: not a namespaced sysctl; setting it would change the "
         "host"},
        {"bad capability", "process.capabilities.bounding", "[\"CAP_FOO\"]", "CAP_FOO"},
        {"unknown seccomp action", "linux.seccomp.defaultAction", "\"SCMP_ACT_NOPE\"",
         "linux.seccomp.defaultAction"},
};

Test(bad_input, each_case_names_the_problem_and_leaves_nothing)
{
	for (size_t i = 0; i < AG_ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct bundle b;
		bundle_init(&b, ARGS("/bin/true"));
		json_error_t jerr;
		json_t *v = json_loads(c->value, JSON_DECODE_ANY, &jerr);
		cr_assert_not_null(v, "%s: bad test value", c->what);
		set_path(b.cfg, c->path, v);
		bundle_write(&b);
		char *err = NULL;
		int rc = agora_run(&b, NULL, &err, ARGS("run", "bad"));
		cr_assert_eq(rc, 1, "%s: exit %d", c->what, rc);
		cr_assert_neq(strstr(err, c->expect), NULL, "%s: expected `%s` in: %s", c->what,
		              c->expect, err);
		free(err);
		cr_assert_eq(state_entries(&b), 0, "%s: state left behind", c->what);
		bundle_done(&b);
	}
}

Test(bad_input, duplicate_and_invalid_ids_are_refused)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/sleep", "60"));
	bundle_write(&b);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("create", "dup")), 0);
	char *err = NULL;
	cr_assert_eq(agora_run(&b, NULL, &err, ARGS("create", "dup")), 1);
	cr_assert_neq(strstr(err, "container `dup` already exists"), NULL, "%s", err);
	free(err);
	cr_assert_eq(agora_run(&b, NULL, NULL, ARGS("delete", "--force", "dup")), 0);
	err = NULL;
	cr_assert_eq(agora_run(&b, NULL, &err, ARGS("create", "../escape")), 1);
	cr_assert_neq(strstr(err, "container id `../escape`"), NULL, "%s", err);
	free(err);
	cr_assert_eq(state_entries(&b), 0);
	bundle_done(&b);
}

Test(bad_input, cgroups_refused_on_this_host_with_the_reason)
{
	struct bundle b;
	bundle_init(&b, ARGS("/bin/true"));
	bundle_write(&b);
	/* Without --cgroup-manager=disabled: run it by hand. */
	_cleanup_free_ char *cmd =
	        ag_asprintf("cd %s && %s/bin/agora-run --root=%s run cg 2>%s/err", b.dir,
	                    build_dir(), b.state, b.dir);
	int st = system(cmd);
	_cleanup_free_ char *errp = ag_asprintf("%s/err", b.dir);
	char *err = NULL;
	cr_assert_eq(ag_read_file_at(AT_FDCWD, errp, 1 << 20, &err, NULL), 0);
	_cleanup_free_ char *mi = NULL;
	cr_assert_eq(ag_read_file_at(AT_FDCWD, "/proc/self/mountinfo", 1 << 24, &mi, NULL), 0);
	bool v2_only = mi && !strstr(mi, " - cgroup cgroup ");
	if (v2_only) {
		free(err);
		bundle_done(&b);
		AG_SKIP("this host is cgroup v2 only: there is nothing to refuse");
	}
	cr_assert_neq(WEXITSTATUS(st), 0);
	cr_assert_neq(strstr(err, "--cgroup-manager=disabled"), NULL, "%s", err);
	cr_assert_neq(strstr(err, "cpu, memory, pids, io"), NULL, "%s", err);
	free(err);
	cr_assert_eq(state_entries(&b), 0);
	bundle_done(&b);
}
