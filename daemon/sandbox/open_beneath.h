/* Opening one name inside a directory of a box without following
 * symlinks, leaving the directory's mount or climbing out of it.  openat2
 * with RESOLVE_* flags does it in one call where the kernel has it (5.6)
 * and no seccomp filter hides it: systemd's RestrictSUIDSGID= makes it
 * fail with ENOSYS, and such filters are inherited by every box.  The
 * fallback opens with openat and O_NOFOLLOW and checks the rest itself,
 * with the same answers. */
#ifndef ISOL8D_OPEN_BENEATH_H
#define ISOL8D_OPEN_BENEATH_H

#include <stdbool.h>
#include <sys/types.h>

/* Whether openat2 can be called here; probed once by host_features_probe
 * before any box exists, so every box init inherits the answer. */
bool open_beneath_probe(void);
/* Which way open_beneath goes; the fallback can be chosen on any kernel
 * (tests do so). */
void open_beneath_use_openat2(bool use);

/* An fd (O_CLOEXEC) for name below dirfd, or a negative errno.  name is
 * one path component: ".." and names with a slash are refused with -EXDEV
 * as openat2's RESOLVE_BENEATH would, "" with -ENOENT; a symlink gives
 * -ELOOP, a mount point -EXDEV. */
int open_beneath(int dirfd, const char *name, int flags, mode_t mode);

#endif
