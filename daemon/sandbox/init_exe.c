/* The Makefile builds the program first and states the dependency:
 *   $(BUILD)/daemon/sandbox/init_exe.o: $(BUILD)/isol8-init
 * and names it in ISOL8_INIT_EXE. */
#include "init_exe.h"

#include "cleanup.h"
#include "incbin.h"
#include "init_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

extern const char isol8_init_exe[];
extern const size_t isol8_init_exe_len;
INCBIN(isol8_init_exe, ISOL8_INIT_EXE);

int init_exe_open(void)
{
	/* Since Linux 6.3, vm.memfd_noexec may make memfds unexecutable
	 * unless asked otherwise; older kernels know no such flag. */
	_cleanup_close_ int fd = memfd_create(
		INIT_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (fd < 0 && errno == EINVAL)
		fd = memfd_create(INIT_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < isol8_init_exe_len;) {
		ssize_t n = write(fd, isol8_init_exe + off,
				  isol8_init_exe_len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		off += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS,
		  F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
		return -errno;
	return TAKE_FD(fd);
}
