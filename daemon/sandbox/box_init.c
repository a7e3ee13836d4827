#include "box_init.h"

#include "fault.h"
#include "fd_pass.h"
#include "init_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

void box_init_send_error(int fd, int err, const char *what)
{
	struct init_msg m = { INIT_ERROR, err, 0, (uint32_t)strlen(what) + 1 };
	struct iovec iov[2] = { { &m, sizeof(m) }, { (void *)what, m.len } };
	fd_pass_send(fd, iov, 2, NULL, 0);
}

_Noreturn static void die(int fd, int err, const char *what)
{
	box_init_send_error(fd, err, what);
	_exit(1);
}

/* Moves each of n fds to its place (init_fd) without clobbering one
 * another, clearing close-on-exec there; every other fd above stdio is
 * closed at the exec. */
static int place_fds(const int *from, const int *to, int n)
{
	int high[4];
	for (int i = 0; i < n; i++) {
		high[i] = fcntl(from[i], F_DUPFD_CLOEXEC, 64);
		if (high[i] < 0)
			return -errno;
	}
	for (int i = 0; i < n; i++)
		if (dup2(high[i], to[i]) < 0)
			return -errno;
	return syscall(SYS_close_range, 3 + (unsigned)n, ~0u,
		       CLOSE_RANGE_CLOEXEC) < 0
		       ? -errno
		       : 0;
}

int box_init_prepare(const struct box_init_args *a)
{
	int seccomp_fd = a->seccomp_fd;
	int ctl = a->ctl_fd;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_DUMPABLE, 0);
	/* A session of its own: CRIU dumps a process tree only when its
	 * sessions and groups lead inside it. */
	setsid();
	umask(022); /* not the daemon's: files in boxes get usual modes */

	struct init_msg m;
	if (recv(ctl, &m, sizeof(m), 0) != (ssize_t)sizeof(m) ||
	    m.op != INIT_GO)
		_exit(1);
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		die(ctl, errno, "become root of the user namespace");
	/* Before the cgroup namespace, whose root is where the init is. */
	int r = fault_inject("join the box cgroup");
	for (int i = 0; i < a->ntasks_fds; i++) {
		if (r == 0 && write(a->tasks_fds[i], "0", 1) != 1)
			r = -errno;
		close(a->tasks_fds[i]);
	}
	if (r < 0)
		die(ctl, -r, "join the box cgroup");
	if (unshare(CLONE_NEWCGROUP) < 0)
		die(ctl, errno, "create the cgroup namespace");
	if (sethostname("sandbox", 7) < 0)
		die(ctl, errno, "set the host name");
	char what[160];
	r = fault_inject("build the root filesystem");
	if (r < 0)
		die(ctl, -r, "build the root filesystem");
	int init_fd = -1;
	r = rootfs_build(&a->rootfs, a->init_exe, &init_fd, what, sizeof(what));
	if (r < 0)
		die(ctl, -r, what);

	int from[4] = { ctl, open("/sandbox", O_PATH | O_DIRECTORY | O_CLOEXEC),
			open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC),
			seccomp_fd };
	int to[4] = { INIT_FD_CTL, INIT_FD_SANDBOX, INIT_FD_TMP,
		      INIT_FD_SECCOMP };
	if (from[1] < 0 || from[2] < 0)
		die(ctl, errno, "open /sandbox and /tmp");
	/* Nothing of the daemon's stays open in the box; stdio points at
	 * /dev/null. */
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int i = 0; i < 3; i++)
		if (devnull >= 0)
			dup2(devnull, i);
	/* Out of the way of the fds placed next. */
	int exe = fcntl(init_fd, F_DUPFD_CLOEXEC, 64);
	if (exe < 0)
		die(ctl, errno, "pass the init its fds");
	if ((r = place_fds(from, to, seccomp_fd >= 0 ? 4 : 3)) < 0)
		die(ctl, -r, "pass the init its fds");
	return exe;
}

_Noreturn void box_init_exec(int exe)
{
	/* Only the variables of fault injection go to the init. */
	char *envp[4];
	int k = 0;
	for (char **e = environ; *e && k < 3; e++)
		if (strncmp(*e, "ISOL8D_FAULT", 12) == 0)
			envp[k++] = *e;
	envp[k] = NULL;
	char *argv[] = { INIT_NAME, NULL };
	int r = fault_inject("exec the box's init");
	if (r == 0) {
		fexecve(exe, argv, envp);
		r = -errno;
	}
	die(INIT_FD_CTL, -r, "exec the box's init");
}
