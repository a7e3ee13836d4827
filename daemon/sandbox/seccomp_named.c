#include "seccomp_named.h"

#include "cleanup.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#define FIELD "options.security.customProfilePath"

static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > SECCOMP_NAME_MAX || s[0] == '.')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz"
			 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

int seccomp_named_parse(const char *dir, const char *given, char *name,
			struct error *e)
{
	const char *s = given;
	/* The directory's own spelling, without trailing slashes, then one
	 * slash: a plain string comparison, nothing resolved. */
	size_t dlen = strlen(dir);
	while (dlen > 1 && dir[dlen - 1] == '/')
		dlen--;
	if (s[0] == '/') {
		if (strncmp(s, dir, dlen) != 0 || s[dlen] != '/')
			return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
					 FIELD ": must be the name of a "
					       "profile in the daemon's "
					       "profile directory "
					       "(security.profileDir), not "
					       "another path");
		s += dlen + 1;
	}
	if (!valid_name(s))
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 FIELD ": a profile name is 1 to %d letters, "
				       "digits, '.', '_' and '-', not "
				       "starting with '.'",
				 SECCOMP_NAME_MAX);
	memcpy(name, s, strlen(s) + 1);
	return 0;
}

int seccomp_named_open(const char *dir, const char *name, struct stat *st,
		       struct error *e)
{
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 && errno != ENOENT)
		log_errno(LOG_WARNING, -errno,
			  "cannot open the seccomp profile directory %s", dir);
	/* Looked at before it is opened: a FIFO or a device is never
	 * opened, a symlink never followed. */
	if (dfd < 0 || fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 FIELD ": there is no seccomp profile named "
				       "'%s'",
				 name);
	if (!S_ISREG(st->st_mode))
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 FIELD ": profile '%s' is not a regular file",
				 name);
	if (st->st_size > (off_t)SECCOMP_PROFILE_MAX_BYTES)
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 FIELD ": profile '%s' is larger than %u KiB",
				 name, SECCOMP_PROFILE_MAX_BYTES >> 10);
	dev_t dev = st->st_dev;
	ino_t ino = st->st_ino;
	/* O_NONBLOCK: should the name become a FIFO in between, the open
	 * must not hang the daemon before the checks below refuse it. */
	_cleanup_close_ int fd = openat(dfd, name,
					O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
						O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, st) < 0) {
		log_errno(LOG_WARNING, -errno,
			  "cannot read the seccomp profile %s/%s", dir, name);
		return error_set(e, ERR_INTERNAL, EIO,
				 FIELD ": profile '%s' cannot be read", name);
	}
	if (!S_ISREG(st->st_mode) || st->st_dev != dev || st->st_ino != ino ||
	    st->st_size > (off_t)SECCOMP_PROFILE_MAX_BYTES)
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 FIELD ": profile '%s' changed while it was "
				       "read; try again",
				 name);
	return TAKE_FD(fd);
}
