#include "privileges.h"

#include "init_proto.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static int fail(const char **step, const char *what)
{
	*step = what;
	return -errno;
}

static int set_limit(int res, rlim_t v)
{
	struct rlimit rl = { v, v };
	return setrlimit(res, &rl);
}

int privileges_drop(const struct privilege_drop *p, const char **step)
{
	/* Dispositions the daemon set (SIGPIPE ignored) must not leak into
	 * user programs: ignored signals survive execve. */
	sigset_t none;
	sigemptyset(&none);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		return fail(step, "reset the signal mask");

	if (set_limit(RLIMIT_CORE, 0) < 0 ||
	    set_limit(RLIMIT_NOFILE, p->rlimit_nofile) < 0 ||
	    (p->rlimit_fsize && set_limit(RLIMIT_FSIZE, p->rlimit_fsize) < 0) ||
	    (p->rlimit_nproc && set_limit(RLIMIT_NPROC, p->rlimit_nproc) < 0))
		return fail(step, "set resource limits");

	/* The bounding set can only shrink while CAP_SETPCAP is held, so it
	 * goes before the uid change; the rest goes with it. */
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return fail(step, "drop the capability bounding set");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return fail(step, "clear ambient capabilities");
	if (setresgid(BOX_USER_GID, BOX_USER_GID, BOX_USER_GID) < 0)
		return fail(step, "setresgid");
	if (setresuid(BOX_USER_UID, BOX_USER_UID, BOX_USER_UID) < 0)
		return fail(step, "setresuid");
	/* The uid change empties permitted and effective; inheritable is
	 * emptied explicitly. */
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = { 0 };
	if (syscall(SYS_capset, &hdr, data) < 0)
		return fail(step, "clear capabilities");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail(step, "set no_new_privs");
	return 0;
}
