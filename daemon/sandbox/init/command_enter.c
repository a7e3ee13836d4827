#include "command_enter.h"

#include "sandbox/privileges.h"
#include "sandbox/seccomp_load.h"

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

int command_enter(const struct init_run *run, const char *cwd, const int fds[3],
		  int keep, const void *blob, size_t len, const char **step)
{
	struct privilege_drop p = {
		.rlimit_fsize = run->rlimit_fsize,
		.rlimit_nofile = run->rlimit_nofile,
		.rlimit_nproc = run->rlimit_nproc,
	};
	*step = "setsid";
	if (setsid() < 0)
		return -errno;
	*step = "set up stdio";
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], i) < 0)
			return -errno;
	/* By number: not every libc the init is built with wraps it. */
	syscall(SYS_close_range, 3u, (unsigned)keep - 1, 0u);
	syscall(SYS_close_range, (unsigned)keep + 1, ~0u, 0u);
	int r = privileges_drop(&p, step);
	if (r < 0)
		return r;
	*step = "change to the working directory";
	if (chdir(cwd) < 0)
		return -errno;
	if (run->seccomp && len) {
		*step = "install the seccomp filter";
		return seccomp_load(blob, len);
	}
	return 0;
}
