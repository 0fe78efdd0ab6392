/* probe: a static program run inside test containers; it reports what the
 * container looks like from the inside, one fact per command:
 *
 *   probe pid | session | hostname | status KEY... | fds | links | rlimit NOFILE
 *   probe syscall NAME        calls NAME with harmless arguments; prints
 *                             "ok" or "errno=<NAME>"
 *   probe read PATH           prints the first line, or "errno=<NAME>"
 *   probe write PATH          tries to create/append; "ok" or "errno=..."
 *   probe exists PATH         "yes" or "no"
 *   probe mknod PATH b|c MAJ MIN
 *                             makes the device node; "ok" or "errno=..."
 *   probe open PATH r|w       opens (only); "ok" or "errno=<NAME>"
 *   probe segv                dies of SIGSEGV
 *   probe hog MB              touches MB megabytes; "survived" if it can
 *   probe spin SECONDS        busy loop for SECONDS of wall time
 *   probe forkbomb N          forks N sleepers, prints how many succeeded
 *   probe setuid0 PATH        becomes uid and gid 0 and opens PATH for
 *                             writing: "root ok", else "errno=<NAME>"
 *   probe kill PID SIG        sends SIG to PID: "ok" or "errno=<NAME>"
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void print_errno(int e)
{
	const char *n = e == EPERM    ? "EPERM"
	                : e == EACCES ? "EACCES"
	                : e == ENOENT ? "ENOENT"
	                : e == ENOSYS ? "ENOSYS"
	                : e == EROFS  ? "EROFS"
	                : e == EINVAL ? "EINVAL"
	                : e == ENXIO  ? "ENXIO"
	                : e == ENODEV ? "ENODEV"
	                : e == ESRCH  ? "ESRCH"
	                              : "other";
	printf("errno=%s\n", n);
}

/* "ok" for an fd that opened (then closed), else the errno as print_errno. */
static void print_opened(int fd)
{
	if (fd < 0) {
		print_errno(errno);
		return;
	}
	printf("ok\n");
	close(fd);
}

static int do_syscall(const char *name)
{
	long r;
	if (strcmp(name, "keyctl") == 0)
		r = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
	else if (strcmp(name, "unshare") == 0)
		r = syscall(SYS_unshare, CLONE_NEWUTS);
	else if (strcmp(name, "mount") == 0)
		r = syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL);
	else if (strcmp(name, "getpid") == 0)
		r = syscall(SYS_getpid);
	else if (strcmp(name, "clone3") == 0)
		r = syscall(SYS_clone3, NULL, 0);
	else if (strcmp(name, "ptrace") == 0)
		r = syscall(SYS_ptrace, 0x4206 /* PTRACE_SEIZE */, 1, 0, 0);
	else if (strcmp(name, "init_module") == 0) {
		static char image[64]; /* no module: CAP_SYS_MODULE is checked first */
		r = syscall(SYS_init_module, image, sizeof(image), "");
	} else if (strcmp(name, "finit_module") == 0) {
		int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
		r = syscall(SYS_finit_module, fd, "", 0);
		if (fd >= 0) {
			int e = errno;
			close(fd);
			errno = e;
		}
	} else {
		fprintf(stderr, "probe: unknown syscall %s\n", name);
		return 2;
	}
	if (r < 0)
		print_errno(errno);
	else
		printf("ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *cmd = argv[1];
	if (strcmp(cmd, "pid") == 0) {
		printf("%d\n", (int)getpid());
	} else if (strcmp(cmd, "session") == 0) {
		printf("%d %d\n", (int)getsid(0), (int)getpgrp());
	} else if (strcmp(cmd, "hostname") == 0) {
		char h[256] = "";
		gethostname(h, sizeof(h));
		printf("%s\n", h);
	} else if (strcmp(cmd, "status") == 0) {
		FILE *f = fopen("/proc/self/status", "re");
		char line[512];
		while (f && fgets(line, sizeof(line), f))
			for (int i = 2; i < argc; i++)
				if (strncmp(line, argv[i], strlen(argv[i])) == 0 &&
				    line[strlen(argv[i])] == ':')
					fputs(line, stdout);
		if (f)
			fclose(f);
	} else if (strcmp(cmd, "fds") == 0) {
		DIR *d = opendir("/proc/self/fd");
		struct dirent *de;
		int self = d ? dirfd(d) : -1;
		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.' || atoi(de->d_name) == self)
				continue;
			char p[300], t[512] = "";
			snprintf(p, sizeof(p), "/proc/self/fd/%s", de->d_name);
			ssize_t n = readlink(p, t, sizeof(t) - 1);
			t[n > 0 ? n : 0] = '\0';
			printf("%s %s\n", de->d_name, t);
		}
		if (d)
			closedir(d);
	} else if (strcmp(cmd, "links") == 0) {
		DIR *d = opendir("/sys/class/net");
		struct dirent *de;
		while (d && (de = readdir(d)))
			if (de->d_name[0] != '.')
				printf("%s\n", de->d_name);
		if (d)
			closedir(d);
	} else if (strcmp(cmd, "rlimit") == 0) {
		struct rlimit rl;
		getrlimit(RLIMIT_NOFILE, &rl);
		printf("%llu %llu\n", (unsigned long long)rl.rlim_cur,
		       (unsigned long long)rl.rlim_max);
	} else if (strcmp(cmd, "syscall") == 0 && argc == 3) {
		return do_syscall(argv[2]);
	} else if (strcmp(cmd, "read") == 0 && argc == 3) {
		FILE *f = fopen(argv[2], "re");
		char line[512] = "";
		if (!f) {
			print_errno(errno);
			return 0;
		}
		if (!fgets(line, sizeof(line), f) && ferror(f))
			print_errno(errno);
		else
			printf("%s%s", line, strchr(line, '\n') ? "" : "\n");
		fclose(f);
	} else if (strcmp(cmd, "write") == 0 && argc == 3) {
		int fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		print_opened(fd);
	} else if (strcmp(cmd, "mknod") == 0 && argc == 6) {
		mode_t t = argv[3][0] == 'b' ? S_IFBLK : S_IFCHR;
		dev_t dev = makedev(strtoul(argv[4], NULL, 10), strtoul(argv[5], NULL, 10));
		if (mknod(argv[2], t | 0600, dev) < 0)
			print_errno(errno);
		else
			printf("ok\n");
	} else if (strcmp(cmd, "open") == 0 && argc == 4) {
		int fd = open(argv[2], (argv[3][0] == 'w' ? O_WRONLY : O_RDONLY) | O_CLOEXEC |
		                               O_NONBLOCK | O_NOCTTY);
		print_opened(fd);
	} else if (strcmp(cmd, "hog") == 0 && argc == 3) {
		/* Touch MB megabytes, one page at a time, reporting progress. */
		long mb = atol(argv[2]);
		for (long i = 0; i < mb; i++) {
			char *p = malloc(1 << 20);
			if (!p)
				return 3;
			for (size_t o = 0; o < (1u << 20); o += 4096)
				p[o] = 1;
			if (i % 16 == 0) {
				printf("%ld\n", i);
				fflush(stdout);
			}
		}
		printf("survived\n");
	} else if (strcmp(cmd, "spin") == 0 && argc == 3) {
		/* Burn CPU for SECONDS of wall time. */
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		volatile unsigned long n = 0;
		do {
			for (int i = 0; i < 100000; i++)
				n++;
			clock_gettime(CLOCK_MONOTONIC, &b);
		} while (b.tv_sec - a.tv_sec < atol(argv[2]));
	} else if (strcmp(cmd, "forkbomb") == 0 && argc == 3) {
		/* Try to fork N sleeping children; print how many forks worked. */
		int want = atoi(argv[2]), got = 0;
		for (int i = 0; i < want; i++) {
			pid_t p = fork();
			if (p == 0) {
				sleep(30);
				_exit(0);
			}
			if (p > 0)
				got++;
		}
		printf("%d\n", got);
		fflush(stdout);
		kill(0, SIGKILL);
	} else if (strcmp(cmd, "segv") == 0) {
		/* A real fault: pid 1 of a pid namespace ignores raise(). */
		volatile int *nowhere = (volatile int *)(uintptr_t)atoi("0");
		*nowhere = 1;
	} else if (strcmp(cmd, "setuid0") == 0 && argc == 3) {
		/* What a setuid(0) helper does with CAP_SETUID and CAP_SETGID. */
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
			print_errno(errno);
			return 0;
		}
		int fd = open(argv[2], O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			printf("root ");
			print_errno(errno);
		} else {
			printf("root ok\n");
			close(fd);
		}
	} else if (strcmp(cmd, "kill") == 0 && argc == 4) {
		if (kill(atoi(argv[2]), atoi(argv[3])) < 0)
			print_errno(errno);
		else
			printf("ok\n");
	} else if (strcmp(cmd, "exists") == 0 && argc == 3) {
		printf("%s\n", access(argv[2], F_OK) == 0 ? "yes" : "no");
	} else {
		fprintf(stderr, "probe: unknown command %s\n", cmd);
		return 2;
	}
	return 0;
}
