/* Copying the unpacked root filesystem out of the sandbox's tmpfs into its
 * final directory, keeping only what is safe in a box root: directories,
 * regular files (hard links kept), symlinks copied as text and never
 * followed.  Device nodes, FIFOs and sockets are left out; setuid and
 * setgid bits dropped; no extended attribute is copied, so no file
 * capability either; every entry owned by one uid:gid. */
#ifndef ISOL8_IMAGE_IMPORT_COPY_H
#define ISOL8_IMAGE_IMPORT_COPY_H

#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct copy_stats {
	uint64_t bytes; /* of regular files, each inode once */
	uint64_t files, dirs, symlinks, hardlinks;
	uint64_t devices, fifos, sockets, setid_cleared;
};

/* From the directory src to the empty directory dst (which it chowns and
 * chmods like src); depth-limited.  On failure dst is left partly filled. */
int import_copy(int src, int dst, uid_t uid, gid_t gid, struct copy_stats *st,
		struct error *e);
/* Removes everything below dirfd, never following a symlink. */
int import_remove_below(int dirfd, struct error *e);

#endif
