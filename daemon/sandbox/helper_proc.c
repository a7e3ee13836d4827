#include "helper_proc.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int helper_proc_fork(sd_event *event, helper_main_fn fn, void *arg,
		     sd_event_child_handler_t ended, void *userdata, int *sock,
		     sd_event_source **exit)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid == 0) {
		fn(sp[1], arg);
		_exit(1);
	}
	int r = pid < 0 ? -errno : 0;
	close(sp[1]);
	int pidfd = r < 0 ? -1 : (int)syscall(SYS_pidfd_open, pid, 0);
	if (r == 0 && pidfd < 0)
		r = -errno;
	if (r == 0)
		r = sd_event_add_child_pidfd(event, exit, pidfd, WEXITED, ended,
					     userdata);
	if (r < 0) {
		/* Not watched: stopped and reaped here. */
		if (pidfd >= 0)
			close(pidfd);
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		close(sp[0]);
		return r;
	}
	sd_event_source_set_child_pidfd_own(*exit, true);
	sd_event_source_set_child_process_own(*exit, true);
	*sock = sp[0];
	return 0;
}
