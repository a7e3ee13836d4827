/* What the host kernel offers, probed once at start-up: the cgroup layout
 * and the namespace, filesystem and seccomp features boxes rely on. */
#ifndef ISOL8D_HOST_FEATURES_H
#define ISOL8D_HOST_FEATURES_H

#include "cgroup.h"

#include <json-c/json.h>
#include <stdbool.h>

/* The oldest kernel with every feature isol8d cannot do without
 * (mount_setattr came last, in 5.12). */
#define HOST_MIN_KERNEL "5.12"

struct host_features {
	enum cgroup_mode cgroup_mode;
	char kernel_release[65];
	/* Needed: boxes cannot be made without them. */
	bool user_namespaces;
	bool seccomp_filter;
	bool pidfd;	  /* pidfd_open, 5.3 */
	bool clone3;	  /* 5.3 */
	bool close_range; /* 5.9 */
	bool mount_api;	  /* open_tree, move_mount, mount_setattr: 5.12 */
	/* Used where present, with a fallback otherwise. */
	bool openat2;	  /* 5.6; else openat with O_NOFOLLOW, step by step */
	bool cgroup_kill; /* 5.14; else the box's PID 1 is killed */
	bool overlayfs;
	bool memory_swap_limit; /* memsw on v1, memory.swap.max on v2 */
	/* isol8d itself runs under a seccomp filter (as its unit's
	 * SystemCallFilter= makes one; a filter never goes): the kernel then
	 * lets no tracer it starts suspend its tracees' filters
	 * (PTRACE_O_SUSPEND_SECCOMP), which CRIU needs. */
	bool self_filtered;
};

void host_features_probe(struct host_features *f);
/* NULL when every needed feature is there, else the first one missing
 * ("user namespaces", "close_range", ...). */
const char *host_features_missing(const struct host_features *f);
json_object *host_features_to_json(const struct host_features *f);

#endif
