/* What makes a process of the box a command, up to its exec: shared by
 * the init's forked commands and by the interpreter a box made from a
 * zygote holds (zygote.h), which becomes its command without an exec.
 * Only libc, like the init. */
#ifndef ISOL8D_COMMAND_ENTER_H
#define ISOL8D_COMMAND_ENTER_H

#include "sandbox/init_proto.h"

#include <stddef.h>

/* A session of its own, fds[] as stdin, stdout and stderr, every other fd
 * but keep closed, the box user without privileges (privileges.h), cwd,
 * and the box's seccomp programs (blob, len; none when len is 0) if the
 * run asks for them.  0, or -errno with the failed step in *step. */
int command_enter(const struct init_run *run, const char *cwd, const int fds[3],
		  int keep, const void *blob, size_t len, const char **step);

#endif
