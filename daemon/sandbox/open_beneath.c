#include "open_beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static bool use_openat2 = true;

static int openat2_resolve(int dirfd, const char *name, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)flags | O_CLOEXEC | O_NOFOLLOW,
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	int fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

bool open_beneath_probe(void)
{
	int fd = openat2_resolve(AT_FDCWD, ".", O_PATH | O_DIRECTORY, 0);
	if (fd >= 0)
		close(fd);
	/* Not a kernel without it, nor a filter returning ENOSYS or EPERM. */
	use_openat2 = fd >= 0 || (fd != -ENOSYS && fd != -EPERM);
	return use_openat2;
}

void open_beneath_use_openat2(bool use)
{
	use_openat2 = use;
}

/* One component with O_NOFOLLOW cannot pass through a symlink or climb
 * anywhere; only a mount on the name itself is left to check, and before
 * anything is truncated. */
static int openat_nofollow(int dirfd, const char *name, int flags, mode_t mode)
{
	int fd = openat(dirfd, name,
			(flags & ~O_TRUNC) | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	struct stat parent, child;
	if (fstat(dirfd, &parent) < 0 || fstat(fd, &child) < 0) {
		int err = errno;
		close(fd);
		return -err;
	}
	int err = parent.st_dev != child.st_dev		      ? EXDEV
		  : (flags & O_TRUNC) && ftruncate(fd, 0) < 0 ? errno
							      : 0;
	if (err) {
		close(fd);
		return -err;
	}
	return fd;
}

int open_beneath(int dirfd, const char *name, int flags, mode_t mode)
{
	if (!*name)
		return -ENOENT;
	if (strcmp(name, "..") == 0 || strchr(name, '/'))
		return -EXDEV;
	return use_openat2 ? openat2_resolve(dirfd, name, flags, mode)
			   : openat_nofollow(dirfd, name, flags, mode);
}
