#include "requests.h"

#include "fault.h"
#include "sandbox/fd_pass.h"
#include "sandbox/zygote_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The request being answered: what the box's first process reads its
 * runtimes directory from. */
static struct zygote_request rq;

static size_t fds_wanted(void)
{
	return ZYGOTE_FD_INIT + 1 + !!(rq.flags & ZYGOTE_SECCOMP) +
	       !!(rq.flags & ZYGOTE_INTO_CGROUP) + !!(rq.flags & ZYGOTE_IMAGE) +
	       rq.ntasks;
}

/* The box's first process, in its namespaces, as the daemon's child: its
 * pid (0 in it) with *pidfd, or -errno. */
static pid_t clone_box(const int *fds, int cgroup, int home, int *pidfd)
{
	struct clone_args args = {
		.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID |
			 CLONE_NEWIPC | CLONE_NEWUTS | CLONE_PIDFD |
			 CLONE_PARENT,
		.pidfd = (uint64_t)(uintptr_t)pidfd,
	};
	if (cgroup >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgroup;
	}
	if (setns(fds[ZYGOTE_FD_NET], CLONE_NEWNET) < 0)
		return -errno;
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0)
		return 0;
	int err = errno;
	/* Left in the box's namespace, the zygote would put the next box
	 * there: it ends instead, and the daemon makes boxes without it. */
	if (setns(home, CLONE_NEWNET) < 0)
		_exit(1);
	return pid < 0 ? -err : pid;
}

/* The request's fds (in the order of enum zygote_req_fd) in a; the cgroup
 * directory, or -1. */
static int box_args(const int *fds, size_t nfds, struct box_init_args *a)
{
	const int *next = fds + ZYGOTE_FD_INIT + 1;
	*a = (struct box_init_args){
		.ctl_fd = fds[ZYGOTE_FD_CTL],
		.init_exe = fds[ZYGOTE_FD_INIT],
		.rootfs = {
			.image_fd = -1,
			.runtimes_dir = rq.runtimes_dir[0] ? rq.runtimes_dir
							   : NULL,
			.sandbox_size = rq.sandbox_size,
			.tmp_size = rq.tmp_size,
			.readonly_root = rq.flags & ZYGOTE_READONLY_ROOT,
		},
		.seccomp_fd = -1,
	};
	if (rq.flags & ZYGOTE_SECCOMP)
		a->seccomp_fd = *next++;
	int cgroup = rq.flags & ZYGOTE_INTO_CGROUP ? *next++ : -1;
	if (rq.flags & ZYGOTE_IMAGE)
		a->rootfs.image_fd = *next++;
	a->ntasks_fds = (int)(fds + nfds - next);
	for (int i = 0; i < a->ntasks_fds; i++)
		a->tasks_fds[i] = next[i];
	return cgroup;
}

void zygote_requests_serve(const struct zygote_hooks *h,
			   struct box_init_args *a)
{
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	struct zygote_answer ans = { 0 };
	struct iovec out = { &ans, sizeof(ans) };
	if (home < 0 || fd_pass_send(ZYGOTE_FD, &out, 1, NULL, 0) < 0)
		_exit(1);
	for (;;) {
		struct iovec in = { &rq, sizeof(rq) };
		int fds[FD_PASS_MAX];
		size_t nfds = 0;
		ssize_t n = fd_pass_recv(ZYGOTE_FD, &in, 1, fds, FD_PASS_MAX,
					 &nfds, 0);
		if (n == 0 || (n < 0 && n != -EBADMSG))
			_exit(0); /* the daemon has gone */
		int pidfd = -1;
		ans.pid = -EINVAL;
		if (n == (ssize_t)sizeof(rq) && nfds == fds_wanted() &&
		    rq.ntasks <= CGROUP_MAX_TASKS_FDS &&
		    memchr(rq.runtimes_dir, '\0', sizeof(rq.runtimes_dir))) {
			int cgroup = box_args(fds, nfds, a);
			if (h && h->before_clone)
				h->before_clone();
			ans.pid = clone_box(fds, cgroup, home, &pidfd);
			if (ans.pid == 0) {
				close(home);
				close(ZYGOTE_FD);
				return;
			}
			if (h && h->after_clone)
				h->after_clone();
			/* Tests end it here, as the OOM killer might. */
			if (ans.pid > 0 &&
			    fault_inject("answer the daemon") < 0)
				_exit(1);
		}
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		ssize_t r =
			fd_pass_send(ZYGOTE_FD, &out, 1, &pidfd, pidfd >= 0);
		if (pidfd >= 0)
			close(pidfd);
		if (r < 0)
			_exit(1);
	}
}
