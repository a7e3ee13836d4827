/* The box init's program (isol8-init, daemon/sandbox/init/), compiled into
 * the daemon and loaded once into a sealed memfd that every box execs:
 * /proc/<pid>/exe of a box's init leads to no host path, and nothing that
 * reaches a box can change the program the next box runs (runc's
 * CVE-2019-5736).  Nothing to install beside the daemon. */
#ifndef ISOL8D_INIT_EXE_H
#define ISOL8D_INIT_EXE_H

/* An fd (O_CLOEXEC) of a memfd holding the program, sealed against any
 * change, or a negative errno. */
int init_exe_open(void);

#endif
