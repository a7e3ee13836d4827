/* Hibernating a box to a directory with CRIU (criu_rpc.h) and restoring it
 * into a new box.  The directory holds CRIU's images (processes, memory,
 * the contents of /sandbox, /tmp and the box's other tmpfs mounts) and
 * root.tar, the box's root tmpfs: CRIU restores a mount namespace over a
 * root directory given to it, whose contents it never dumps. */
#ifndef ISOL8D_BOX_HIBERNATE_H
#define ISOL8D_BOX_HIBERNATE_H

#include "box.h"

#include <stddef.h>
#include <stdint.h>

struct box_host;
struct box_spec;

/* What a restore needs besides the directory. */
struct box_image {
	int64_t uid_base; /* the box's host ids, which its files keep */
	uint64_t ctl_ino; /* its init's control socket, by CRIU's key */
};

/* Writes b into dir (an empty directory, dirfd open on it, with a
 * subdirectory "root" and mode 0711: the restored processes, as the box's
 * root, read some of CRIU's images themselves); CRIU ends
 * b's processes once written.  The caller then destroys b, whose uid range
 * is img's (box_take_uids) on success.  0 or -errno with err saying
 * why (b runs on then). */
int box_hibernate(struct box *b, const char *criu, int dirfd,
		  struct box_image *img, char *err, size_t err_len);

/* Brings back into a new box what box_hibernate wrote in dir (an absolute
 * path), with spec's network and cgroup limits; img->uid_base must be
 * reserved for it (it becomes the box's).  0 or -errno with err saying
 * why. */
int box_restore(struct box_host *host, const struct box_spec *spec,
		const char *criu, const char *dir, const struct box_image *img,
		box_died_fn died, void *userdata, struct box **out, char *err,
		size_t err_len);

#endif
