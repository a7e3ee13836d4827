/* In the interpreter a box made from a zygote holds, inside the box: the
 * files it maps (the interpreter, libraries, locale data) are the
 * zygote's, on mounts of the zygote's namespace.  zygote_rebase maps each
 * again from the same file as the box's own mounts show it, keeping the
 * pages the process changed (relocations, data), and makes the box's file
 * its program (/proc/self/exe): nothing of it then refers to a mount
 * outside the box, as CRIU requires of what it hibernates.  Its heap,
 * shared copy-on-write with the zygote, becomes its own on the way.  Root
 * of the box's user namespace (PR_SET_MM), single-threaded. */
#ifndef ISOL8D_ZYGOTE_REBASE_H
#define ISOL8D_ZYGOTE_REBASE_H

/* module_fd: the zygote's module (ZYGOTE_MODULE_FD), which the box gets a
 * copy of.  0, or -errno with the failed step in *step (-ESTALE: the
 * box's file is not the one the zygote maps). */
int zygote_rebase(int module_fd, const char **step);

#endif
