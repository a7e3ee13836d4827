/* isol8ctl's helper programs (isol8ctl-http, isol8-image-build): never one
 * found through PATH or the environment, which a caller controls, but the
 * one beside this program when that file and its directory are as safe as
 * this program itself (owned by root or by this program's owner, writable
 * by no one else: the build tree), else the one `make install` put in
 * ISOL8_LIBEXECDIR.  A copy of isol8ctl run by root from a shared
 * directory such as /tmp thus runs the installed helper, not one another
 * user left beside it. */
#ifndef ISOL8CTL_LIBEXEC_H
#define ISOL8CTL_LIBEXEC_H

/* An O_PATH, close-on-exec fd of the helper, or -1 with errno set. */
int libexec_open(const char *name);

#endif
