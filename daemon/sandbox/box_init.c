#include "box_init.h"

#include "seccomp.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

/* The box's seccomp programs in a memfd the init reads them from. */
static int export_seccomp(const struct seccomp_prog *p)
{
	int fd = memfd_create("isol8-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = seccomp_export(p, fd);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

_Noreturn void box_init_main(const struct box_init_args *a)
{
	int fd = a->seccomp ? export_seccomp(a->seccomp) : -1;
	if (fd < 0 && a->seccomp) {
		box_init_send_error(a->ctl_fd, -fd,
				    "pass the seccomp programs");
		_exit(1);
	}
	box_init_exec(box_init_prepare(a, fd));
}
