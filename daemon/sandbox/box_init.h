/* The code that runs as PID 1 of a box: it finishes the box's set-up
 * inside the new namespaces, then starts commands for the daemon, opens
 * files as the box user, reaps zombies and reports exits. */
#ifndef ISOL8D_BOX_INIT_H
#define ISOL8D_BOX_INIT_H

#include "rootfs.h"

struct seccomp_prog;

struct box_init_args {
	int ctl_fd; /* the init's end of the control socket */
	struct rootfs_spec rootfs;
	const struct seccomp_prog *seccomp; /* NULL: unconfined */
	int tasks_fds
		[4]; /* v1 cgroup "tasks" files the init moves itself in by */
	int ntasks_fds;
};

/* Never returns.  Runs in the cloned child. */
_Noreturn void box_init_main(const struct box_init_args *a);

#endif
