#include "seccomp_build.h"

#include "cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* libseccomp 2.6 exports to memory; before that only to an fd. */
int seccomp_build_export(scmp_filter_ctx ctx, struct sock_filter **out,
			 unsigned short *len)
{
	size_t size;
	_cleanup_free_ struct sock_filter *insns = NULL;
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
	size = BPF_MAXINSNS * sizeof(struct sock_filter);
	if (!(insns = malloc(size)))
		return -ENOMEM;
	int r = seccomp_export_bpf_mem(ctx, insns, &size);
	if (r < 0)
		return r == -ERANGE ? -E2BIG : r;
	struct sock_filter *fit = realloc(insns, size ? size : 1);
	if (fit)
		insns = fit;
#else
	_cleanup_close_ int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return r;
	off_t end = lseek(fd, 0, SEEK_END);
	if (end < 0)
		return -errno;
	if (end > (off_t)(BPF_MAXINSNS * sizeof(struct sock_filter)))
		return -E2BIG;
	size = (size_t)end;
	if (size && !(insns = malloc(size)))
		return -ENOMEM;
	if (pread(fd, insns, size, 0) != (ssize_t)size)
		return -EIO;
#endif
	if (size == 0 || size % sizeof(struct sock_filter))
		return -EIO;
	*out = TAKE_PTR(insns);
	*len = (unsigned short)(size / sizeof(struct sock_filter));
	return 0;
}

int seccomp_build_ctx(uint32_t def_action, scmp_filter_ctx *out)
{
	scmp_filter_ctx ctx = seccomp_init(def_action);
	if (!ctx)
		return -ENOMEM;
	/* Only the native ABI: any other (ia32 through int 0x80, x32 numbers
	 * with bit 30 set) kills the process. */
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
				 SCMP_ACT_KILL_PROCESS);
	/* A binary tree instead of a chain of comparisons: the kernel
	 * evaluates the filter for every system call number when it is
	 * installed (to cache the always-allowed ones), and a chain of 300
	 * makes that the slowest step of starting a command. */
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (r < 0) {
		seccomp_release(ctx);
		return r;
	}
	*out = ctx;
	return 0;
}
