/* clone_into.h: fork a child straight into a cgroup, for the cgroupv2
 * tests. Header only. */
#ifndef AGORA_TEST_CLONE_INTO_H
#define AGORA_TEST_CLONE_INTO_H

#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/* clone3(CLONE_INTO_CGROUP) into the cgroup directory `cgfd`, as fork():
 * 0 in the child, its pid in the parent, -1 with errno on failure. */
static inline pid_t agt_clone_into(int cgfd)
{
	struct clone_args args = {
	        .flags = CLONE_INTO_CGROUP,
	        .exit_signal = SIGCHLD,
	        .cgroup = (uint64_t)cgfd,
	};
	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

#endif
