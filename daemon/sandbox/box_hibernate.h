/* Hibernating a box to a directory with CRIU (criu_rpc.h) and restoring it
 * into a new box.  The directory holds CRIU's images (processes, memory,
 * the contents of /sandbox, /tmp and the box's other tmpfs mounts) and
 * root.tar, the box's root tmpfs: CRIU restores a mount namespace over a
 * root directory given to it, whose contents it never dumps. */
#ifndef ISOL8D_BOX_HIBERNATE_H
#define ISOL8D_BOX_HIBERNATE_H

#include "box.h"
#include "criu_rpc.h"

#include <stddef.h>
#include <stdint.h>

struct box_host;
struct box_spec;

/* What a restore needs besides the directory. */
struct box_image {
	int64_t uid_base; /* the box's host ids, which its files keep */
	uint64_t ctl_ino; /* its init's control socket, by CRIU's key */
};

/* Starts writing b into dir (an empty directory, dirfd open on it, with
 * a subdirectory "root" and mode 0711: the restored processes, as the
 * box's root, read some of CRIU's images themselves); CRIU ends b's
 * processes once written, and done (criu_rpc.h) tells.  b must stay until
 * then; on success the caller takes its uid range (box_hibernated) and
 * destroys it.  0, or -errno with err saying why (b runs on then). */
int box_hibernate_start(struct box *b, sd_event *event, const char *criu,
			int dirfd, criu_done_fn done, void *userdata,
			struct criu_op **op, char *err, size_t err_len);
/* CRIU is done with b, whatever came of it: called first. */
void box_hibernate_end(struct box *b);
/* After a hibernation of b that worked: what its restore needs in img,
 * its uid range among it (b no longer gives it back). */
void box_hibernated(struct box *b, struct box_image *img);

/* The end of a restore: the new box, or NULL and -errno with why. */
typedef void (*box_restored_fn)(void *userdata, struct box *b, int r,
				const char *why);
/* Starts bringing back into a new box what box_hibernate_start wrote in
 * dir (an absolute path), with spec's network and cgroup limits (spec
 * must stay until done is called); img->uid_base must be reserved for it
 * (it becomes the box's).  0 with done called later, or -errno with err
 * saying why. */
int box_restore_start(struct box_host *host, const struct box_spec *spec,
		      const char *criu, const char *dir,
		      const struct box_image *img, box_died_fn died,
		      void *died_data, box_restored_fn done, void *userdata,
		      struct criu_op **op, char *err, size_t err_len);

#endif
