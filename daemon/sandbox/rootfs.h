/* The box's filesystem, built inside its new mount namespace: a tmpfs root
 * with read-only binds of the image, /sandbox and /tmp tmpfs, a minimal
 * /dev, a fresh /proc with masked paths; then pivot_root. */
#ifndef ISOL8D_ROOTFS_H
#define ISOL8D_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct rootfs_spec {
	/* A detached read-only copy of the image's shared mount
	 * (image_mount.h), attached as the root; -1: the host image,
	 * read-only binds of the host's /usr, selected /etc files and
	 * runtimes_dir.  Set by box_create. */
	int image_fd;
	const char *runtimes_dir; /* bound read-only at the same path */
	uint64_t sandbox_size;
	uint64_t tmp_size;
	bool readonly_root;
};

/* Runs in the box's init, as root of its user namespace, before any user
 * code.  The init's program (init_exe) is installed in the new root
 * and *init_fd set to it (O_PATH, for fexecve).  On failure returns -errno
 * and describes the step in what. */
int rootfs_build(const struct rootfs_spec *spec, int init_exe, int *init_fd,
		 char *what, size_t what_len);

/* A new file name below dirfd (never through a symlink) holding text,
 * with mode.  0 or -errno. */
int rootfs_write_file(int dirfd, const char *name, const char *text,
		      mode_t mode);

/* An empty read-only /usr/local over the one below rootfd (the current
 * directory), with the few directories images refer to bound into it:
 * locally installed programs and packages stay out of boxes.  0, or -errno
 * with the step in what. */
int rootfs_hide_usr_local(int rootfd, char *what, size_t what_len);

#endif
