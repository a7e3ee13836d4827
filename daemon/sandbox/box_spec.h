/* What a box is made with: its network, root file system, seccomp program
 * and cgroup limits. */
#ifndef ISOL8D_BOX_SPEC_H
#define ISOL8D_BOX_SPEC_H

#include "cgroup.h"
#include "rootfs.h"

struct seccomp_prog;
struct image_desc;

enum box_net {
	BOX_NET_NONE,	  /* own namespace, loopback only */
	BOX_NET_FILTERED, /* the same, plus the ways out (egress_open) */
	BOX_NET_HOST,	  /* the daemon's namespace */
};

struct box_spec {
	enum box_net net;
	struct rootfs_spec rootfs;
	/* the image the root is made of (image_mount.h); NULL: the host's */
	const struct image_desc *image;
	const struct seccomp_prog *seccomp;
	struct cgroup_limits limits;
	/* Made from the host's zygote (zygote.h) where it serves: the box
	 * holds an interpreter started there, for box_run's cmd.held.  Only
	 * on the host's image. */
	bool held;
};

#endif
