/* Installing seccomp programs in the form seccomp_export() (seccomp.h)
 * writes them: each program a uint32_t count of instructions followed by
 * that many struct sock_filter, one program after another.  Only libc, so
 * that a box's init (daemon/sandbox/init/) can install them in its
 * commands without the daemon's libraries. */
#ifndef ISOL8D_SECCOMP_LOAD_H
#define ISOL8D_SECCOMP_LOAD_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

/* The most an export can take: a profile and the mandatory denials, each
 * at the kernel's limit. */
#define SECCOMP_BLOB_MAX                                                       \
	(2 * (sizeof(uint32_t) + BPF_MAXINSNS * sizeof(struct sock_filter)))

/* Installs every program in blob, in order.  For a forked child right
 * before exec, with no_new_privs set: only prctl, no allocation.  0, or
 * -EINVAL when blob is empty or malformed, or a negative errno. */
int seccomp_load(const void *blob, size_t len);
/* Reads an export from fd (a memfd, read with pread: its offset may be
 * shared) into blob, of cap bytes.  The length, or a negative errno
 * (-EINVAL: empty or larger than cap). */
long seccomp_read(int fd, void *blob, size_t cap);

#endif
