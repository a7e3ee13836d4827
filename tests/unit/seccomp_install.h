/* What a box's init does with a program, for the seccomp tests: the
 * daemon exports it with the mandatory denials, the init loads them in its
 * command.  NULL: nothing. */
#ifndef ISOL8D_TEST_SECCOMP_INSTALL_H
#define ISOL8D_TEST_SECCOMP_INSTALL_H

#include "sandbox/seccomp.h"
#include "sandbox/seccomp_load.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

static inline int seccomp_install(const struct seccomp_prog *p)
{
	if (!p)
		return 0;
	static char blob[SECCOMP_BLOB_MAX];
	int fd = memfd_create("test-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = seccomp_export(p, fd);
	ssize_t n = r < 0 ? 0 : pread(fd, blob, sizeof(blob), 0);
	close(fd);
	if (r < 0)
		return r;
	return n < 0 ? -errno : seccomp_load(blob, (size_t)n);
}

#endif
