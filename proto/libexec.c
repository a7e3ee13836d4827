#include "libexec.h"

#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool as_safe(int fd, uid_t owner)
{
	struct stat st;
	return fstat(fd, &st) == 0 && (st.st_uid == 0 || st.st_uid == owner) &&
	       !(st.st_mode & (S_IWGRP | S_IWOTH));
}

/* The helper beside this program, or -1. */
static int open_beside(const char *name)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	struct stat st;
	if (n <= 0 || stat("/proc/self/exe", &st) < 0)
		return -1;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	_cleanup_close_ int dir = open(slash == self ? "/" : self,
				       O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0 || !as_safe(dir, st.st_uid))
		return -1;
	_cleanup_close_ int fd = openat(dir, name, O_PATH | O_CLOEXEC);
	if (fd < 0 || !as_safe(fd, st.st_uid))
		return -1;
	return TAKE_FD(fd);
}

int libexec_open(const char *name)
{
	int fd = open_beside(name);
	if (fd >= 0)
		return fd;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", ISOL8_LIBEXECDIR, name);
	return open(path, O_PATH | O_CLOEXEC);
}

int libexec_path(const char *name, char *buf, size_t len)
{
	_cleanup_close_ int fd = libexec_open(name);
	if (fd < 0)
		return -errno;
	char link[32];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, buf, len - 1);
	if (n < 0)
		return -errno;
	if ((size_t)n == len - 1)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return 0;
}
