/* sup_driver.c: see sup_driver.h. */
#include "sup_driver.h"

#include "agent_proc.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t sd_start_in(const char *work, const char *const args[], const char *out, const char *cg)
{
	char bin[512];
	const char *b = getenv("AGORA_BUILD_DIR");
	snprintf(bin, sizeof(bin), "%s/tests/agent-sup-driver", b ? b : "build");
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		if (cg) {
			char p[256], v[16];
			snprintf(p, sizeof(p), "%s/cgroup.procs", cg);
			int fd = open(p, O_WRONLY | O_CLOEXEC);
			int n = snprintf(v, sizeof(v), "%d", (int)getpid());
			if (fd < 0 || write(fd, v, (size_t)n) != n)
				_exit(126);
			close(fd);
		}
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		dup2(fd, 1);
		const char *argv[64] = {bin, "--work", work};
		size_t n = 3;
		for (size_t i = 0; args[i] && n < 63; i++)
			argv[n++] = args[i];
		argv[n] = NULL;
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	return pid;
}

pid_t sd_start(const char *work, const char *const args[], const char *out)
{
	return sd_start_in(work, args, out, NULL);
}

char *sd_drive(const char *work, const char *const args[])
{
	char out[128];
	snprintf(out, sizeof(out), "%s.out", work);
	pid_t pid = sd_start(work, args, out);
	int st = 0;
	cr_assert(waitpid(pid, &st, 0) == pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "driver exit %d", st);
	char *s = ap_slurp(out);
	unlink(out);
	return s;
}
