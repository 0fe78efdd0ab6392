/* agent_proc.c: see agent_proc.h. */
#include "agent_proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t ap_start(const char *work, int master_port, int op_port, const char *log,
               const char *const extra[])
{
	char master[64];
	snprintf(master, sizeof(master), "127.0.0.1:%d", master_port);
	return ap_start_at(work, master, op_port, log, extra);
}

pid_t ap_start_at(const char *work, const char *master, int op_port, const char *log,
                  const char *const extra[])
{
	char bin[512], port[16], work_log[512];
	if (!log) {
		snprintf(work_log, sizeof(work_log), "%s.log", work);
		log = work_log;
	}
	const char *b = getenv("AGORA_BUILD_DIR");
	snprintf(bin, sizeof(bin), "%s/bin/agora-agent", b ? b : "build");
	snprintf(port, sizeof(port), "%d", op_port);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0)
		dup2(fd, 2);
	const char *argv[48] = {bin,
	                        "--master",
	                        master,
	                        "--work_dir",
	                        work,
	                        "--no_isolation",
	                        "--hostname",
	                        "h1",
	                        "--update_backoff_ms",
	                        "200",
	                        "--registration_backoff_ms",
	                        "100",
	                        "--resources",
	                        "cpus:2;mem:1024",
	                        "--port",
	                        port};
	size_t n = 16;
	for (size_t i = 0; extra && extra[i] && n < 47; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	execv(bin, (char *const *)argv);
	_exit(127);
}

void ap_stop(pid_t *pid, int sig)
{
	if (*pid > 0) {
		kill(*pid, sig);
		waitpid(*pid, NULL, 0);
	}
	*pid = -1;
}

void ap_kill_monitors(const char *work)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/run", work);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char p[1024];
		snprintf(p, sizeof(p), "%s/%s/monitor", dir, de->d_name);
		int pid = 0;
		FILE *f = fopen(p, "r");
		if (f) {
			if (fscanf(f, "pid=%d", &pid) != 1)
				pid = 0;
			fclose(f);
		}
		if (pid <= 1)
			continue;
		/* Only while that pid is still a monitor (not reused). */
		snprintf(p, sizeof(p), "/proc/%d/comm", pid);
		char *s = ap_slurp(p);
		if (strcmp(s, "agora-monitor\n") == 0)
			kill(pid, SIGKILL);
		free(s);
	}
	closedir(d);
	usleep(200000);
}

const char *ap_keep_log(const char *work, const char *log, const char *name)
{
	static char cmd[1024];
	const char *keep = getenv("AGORA_KEEP_LOGS");
	if (!keep)
		return "";
	if (log)
		snprintf(cmd, sizeof(cmd), "cp %s %s/%s", log, keep, name ? name : "");
	else
		snprintf(cmd, sizeof(cmd), "cp %s.log %s/%s", work, keep, name ? name : "");
	return system(cmd) == 0 ? "" : cmd;
}

char *ap_slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	if (f) {
		char buf[4096];
		size_t n;
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, n, m);
		fclose(f);
	}
	fclose(m);
	return text;
}
