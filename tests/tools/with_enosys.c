/* with_enosys SYSCALL[,SYSCALL...] PROGRAM [ARG...]
 *
 * Runs PROGRAM under a seccomp filter that makes the named system calls
 * fail with ENOSYS and allows all else, as systemd's RestrictSUIDSGID=
 * does to openat2 or an older kernel would: the tests start isol8d this
 * way to check its fallbacks on any host.  The filter is inherited by
 * every process PROGRAM starts, boxes included. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: with_enosys SYSCALL[,SYSCALL...] "
				"PROGRAM [ARG...]\n");
		return 2;
	}
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return 1;
	for (char *save = NULL, *name = strtok_r(argv[1], ",", &save); name;
	     name = strtok_r(NULL, ",", &save)) {
		int nr = seccomp_syscall_resolve_name(name);
		int r = nr == __NR_SCMP_ERROR
				? -EINVAL
				: seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
						   nr, 0);
		if (r < 0) {
			fprintf(stderr, "with_enosys: %s: %s\n", name,
				strerror(-r));
			return 1;
		}
	}
	int r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0) {
		fprintf(stderr, "with_enosys: cannot load the filter: %s\n",
			strerror(-r));
		return 1;
	}
	execvp(argv[2], argv + 2);
	fprintf(stderr, "with_enosys: %s: %s\n", argv[2], strerror(errno));
	return 127;
}
