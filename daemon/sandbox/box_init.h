/* A box's cloned child, from the clone to the exec of its init: inside the
 * new namespaces it joins the box cgroup, builds the root file system and
 * puts the init's fds in place (init_proto.h), then execs the init from
 * its sealed memfd (init_exe.h), so nothing of the daemon's memory stays
 * in the box.  A fork of a single-threaded daemon, or of a zygote
 * (zygote.h), it calls only libc and nothing that could wait on a lock
 * the parent held. */
#ifndef ISOL8D_BOX_INIT_H
#define ISOL8D_BOX_INIT_H

#include "cgroup.h"
#include "rootfs.h"

struct box_init_args {
	int ctl_fd;   /* the init's end of the control socket */
	int init_exe; /* the init's program (init_exe_open) */
	struct rootfs_spec rootfs;
	/* the box's seccomp programs (seccomp_export_shared); -1:
	 * unconfined */
	int seccomp_fd;
	/* v1 cgroup "tasks" files the init moves itself in by */
	int tasks_fds[CGROUP_MAX_TASKS_FDS];
	int ntasks_fds;
};

/* Waits for INIT_GO, joins the cgroup, builds the root and puts the
 * init's fds in place.  The init's program, as an fd; on failure the
 * error goes to the daemon and the process exits. */
int box_init_prepare(const struct box_init_args *a);
/* Execs the init from exe (box_init_prepare's) with INIT_FD_CTL open. */
_Noreturn void box_init_exec(int exe);
/* An INIT_ERROR on the control socket fd, before the init runs. */
void box_init_send_error(int fd, int err, const char *what);

#endif
