/* Turning a forked process of the box's init into an unprivileged user
 * process: capabilities, uid/gid, no_new_privs, rlimits, fds, signals. */
#ifndef ISOL8D_PRIVILEGES_H
#define ISOL8D_PRIVILEGES_H

#include <stdint.h>

struct privilege_drop {
	uint64_t rlimit_fsize;
	uint32_t rlimit_nofile;
	uint32_t rlimit_nproc;
};

/* Leaves the caller as uid/gid 1000 with empty capability sets (including
 * bounding and ambient), no_new_privs set, default signal handling and the
 * given rlimits.  On failure returns -errno and names the step in *step. */
int privileges_drop(const struct privilege_drop *p, const char **step);

#endif
