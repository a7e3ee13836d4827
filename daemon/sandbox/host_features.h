/* What the host kernel offers, probed once at start-up: the cgroup layout
 * and the namespace, filesystem and seccomp features boxes rely on. */
#ifndef ISOL8D_HOST_FEATURES_H
#define ISOL8D_HOST_FEATURES_H

#include <json-c/json.h>
#include <stdbool.h>

enum cgroup_mode {
	CGROUP_MODE_UNKNOWN,
	CGROUP_MODE_V1,	    /* legacy: controllers on v1 hierarchies only */
	CGROUP_MODE_HYBRID, /* v1 controllers with a v2 mount beside them */
	CGROUP_MODE_V2,	    /* unified */
};

struct host_features {
	enum cgroup_mode cgroup_mode;
	char kernel_release[65];
	bool user_namespaces;
	bool overlayfs;
	bool seccomp_filter;
	bool pidfd;
	bool cgroup_kill;
	bool memory_swap_limit; /* memsw on v1, memory.swap.max on v2 */
};

const char *cgroup_mode_name(enum cgroup_mode mode);
/* Root of the cgroup filesystem mount table, normally /sys/fs/cgroup. */
enum cgroup_mode cgroup_mode_detect(const char *root);
void host_features_probe(struct host_features *f);
json_object *host_features_to_json(const struct host_features *f);

#endif
