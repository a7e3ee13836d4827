/* The helper programs of isol8ctl and isol8d (isol8ctl-http,
 * isol8-image-build, isol8-image): never one found through PATH or the
 * environment, which a caller controls, but the one beside this program
 * when that file and its directory are as safe as this program itself
 * (owned by root or by this program's owner, writable by no one else: the
 * build tree), else the one `make install` put in ISOL8_LIBEXECDIR.  A
 * copy of isol8ctl run by root from a shared directory such as /tmp thus
 * runs the installed helper, not one another user left beside it. */
#ifndef ISOL8_LIBEXEC_H
#define ISOL8_LIBEXEC_H

#include <stddef.h>

/* Builds and imports the images of the store (tools/isol8-image-build). */
#define IMAGE_BUILDER "isol8-image-build"

/* An O_PATH, close-on-exec fd of the helper, or -1 with errno set. */
int libexec_open(const char *name);

/* The helper's path, for a program that runs it in turn: 0 or -errno. */
int libexec_path(const char *name, char *buf, size_t len);

#endif
