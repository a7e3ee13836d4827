/* Custom seccomp profiles by name: regular files in the administrator's
 * profile directory, never a path a client chooses.  A request names one
 * as "name" or as "<dir>/name" (the directory as configured, spelt the
 * same way); a name is 1 to 64 letters, digits, '.', '_' and '-', not
 * starting with '.'. */
#ifndef ISOL8D_SECCOMP_NAMED_H
#define ISOL8D_SECCOMP_NAMED_H

#include <sys/stat.h>

#include "error.h"

#define SECCOMP_NAME_MAX 64
#define SECCOMP_PROFILE_MAX_BYTES (1u << 20)

/* The profile name in given, written to name (SECCOMP_NAME_MAX + 1
 * bytes); -EINVAL with e's message when given names no profile of dir. */
int seccomp_named_parse(const char *dir, const char *given, char *name,
			struct error *e);

/* Opens the profile name in dir, read-only, without following a symlink,
 * as a regular file of at most SECCOMP_PROFILE_MAX_BYTES, which st then
 * describes; anything else is checked with fstatat first and never
 * opened.  An fd or -EINVAL with e's message (about the profile's name
 * and kind, never its content). */
int seccomp_named_open(const char *dir, const char *name, struct stat *st,
		       struct error *e);

#endif
