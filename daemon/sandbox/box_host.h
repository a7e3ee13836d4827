/* What every box shares, set up once by the daemon (which holds it in
 * struct daemon) and handed to box_create. */
#ifndef ISOL8D_BOX_HOST_H
#define ISOL8D_BOX_HOST_H

#include "netns.h"

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

struct cgroup_root;
struct image_mounts;
struct uid_slots;
struct zygote;

struct box_host {
	sd_event *event;
	struct cgroup_root *cgroups;
	struct uid_slots *uids;
	struct image_mounts *images; /* NULL: boxes on the host image only */
	bool into_cgroup; /* v2: clone3 straight into the box cgroup */
	int init_exe;	  /* the boxes' init program (init_exe.h) */
	struct netns_spare net;
	struct zygote *zygote; /* NULL: none; boxes for spec.held need it */
	struct zygote *forker; /* NULL: none; the others' (zygote.h) */
	uint64_t next_id;
	unsigned live;	/* boxes not yet fully torn down */
	unsigned dying; /* of those, the ones destroyed by their owner */
};

#endif
