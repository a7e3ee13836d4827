#include "memfd_sealed.h"

#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

int memfd_seal(int fd)
{
	return fcntl(fd, F_ADD_SEALS,
		     F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) <
			       0
		       ? -errno
		       : 0;
}

int memfd_holding(const char *name, const void *data, size_t len, bool exec)
{
	unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	/* Since Linux 6.3, vm.memfd_noexec may make memfds unexecutable
	 * unless asked otherwise; older kernels know no such flag. */
	_cleanup_close_ int fd =
		memfd_create(name, flags | (exec ? MFD_EXEC : 0));
	if (fd < 0 && errno == EINVAL && exec)
		fd = memfd_create(name, flags);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, (const char *)data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		off += (size_t)n;
	}
	return TAKE_FD(fd);
}

int memfd_sealed(const char *name, const void *data, size_t len, bool exec)
{
	_cleanup_close_ int fd = memfd_holding(name, data, len, exec);
	if (fd < 0)
		return fd;
	int r = memfd_seal(fd);
	return r < 0 ? r : TAKE_FD(fd);
}
