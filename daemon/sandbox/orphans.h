/* Processes a helper cloned as the daemon's children (CLONE_PARENT) whose
 * pids the daemon never learned: the helper ended between the clone and
 * its answer.  Each waits on the box control socket it was given, known by
 * its inode; found by that, it is killed and reaped, where it would
 * otherwise stay a zombie of the daemon. */
#ifndef ISOL8D_ORPHANS_H
#define ISOL8D_ORPHANS_H

#include <stddef.h>
#include <stdint.h>

/* Kills and reaps each child of this process that holds one of the n
 * sockets (by inode), reading /proc.  The number reaped. */
unsigned orphans_reap(const uint64_t *socks, size_t n);

#endif
