/* Box cgroups: one per box below the daemon's own cgroup, on the unified
 * (v2) hierarchy or on the legacy (v1) memory, pids, cpu and cpuacct
 * hierarchies.  Limits, usage, kill and removal look the same to callers;
 * cgroup_v1.c and cgroup_v2.c hold what each hierarchy does its own way. */
#ifndef ISOL8D_CGROUP_H
#define ISOL8D_CGROUP_H

#include <stdbool.h>
#include <stdint.h>

enum cgroup_mode {
	CGROUP_MODE_UNKNOWN,
	CGROUP_MODE_V1,	    /* legacy: controllers on v1 hierarchies only */
	CGROUP_MODE_HYBRID, /* v1 controllers with a v2 mount beside them */
	CGROUP_MODE_V2,	    /* unified */
};

const char *cgroup_mode_name(enum cgroup_mode mode);
/* Which layout the cgroup filesystem mounted at root (normally
 * /sys/fs/cgroup) has, told by statfs. */
enum cgroup_mode cgroup_mode_detect(const char *root);

struct cgroup_root;
struct cgroup_box;

struct cgroup_limits {
	uint64_t memory_bytes; /* 0: unlimited */
	uint64_t pids;	       /* 0: unlimited */
	double cpus;	       /* <= 0: unlimited */
	/* The least CPU share (cgroup_box_set_background) from birth. */
	bool background;
};

struct cgroup_usage {
	uint64_t cpu_time_ns;
	uint64_t peak_memory_bytes;
	uint64_t memory_bytes; /* now */
	uint64_t oom_kills;
};

/* Prepares isol8d-<pid> below the daemon's own cgroup (on v2 the daemon
 * itself moves into a leaf there, as the no-internal-process rule wants)
 * and removes what a dead daemon left behind.  mode as detected; hybrid
 * hosts use their v1 controllers.  base is the cgroup filesystem root,
 * normally /sys/fs/cgroup. */
int cgroup_root_setup(enum cgroup_mode mode, const char *base,
		      struct cgroup_root **out);
/* Removes the daemon's cgroups; every box must be destroyed before. */
void cgroup_root_free(struct cgroup_root *root);
/* Where box cgroups are made on the memory (v1) or unified (v2) tree. */
const char *cgroup_root_path(const struct cgroup_root *root);

int cgroup_box_create(struct cgroup_root *root, const char *name,
		      const struct cgroup_limits *lim, struct cgroup_box **out);
int cgroup_box_set_limits(struct cgroup_box *box,
			  const struct cgroup_limits *lim);
/* A box in the background gets the least CPU share there is (v2
 * cpu.weight 1, v1 cpu.shares 2) beside its siblings: it runs on what
 * CPU they leave.  Back in the foreground it has the default share. */
int cgroup_box_set_background(struct cgroup_box *box, bool background);
/* v1: opens the "tasks" file of each of the box's hierarchies for writing
 * (at most CGROUP_MAX_TASKS_FDS, one per controller).  A process that writes "0" to them moves
 * itself in, which spares it the global lock and RCU grace period that
 * moving another process costs.  The number of fds, 0 on v2, or a negative
 * errno. */
#define CGROUP_MAX_TASKS_FDS 5
int cgroup_box_open_tasks(const struct cgroup_box *box, int *fds);
/* The v2 directory for CLONE_INTO_CGROUP, or -1 on v1. */
int cgroup_box_dirfd(const struct cgroup_box *box);
int cgroup_box_usage(const struct cgroup_box *box, struct cgroup_usage *u);
/* Only usage's cpu_time_ns: one file read instead of four. */
int cgroup_box_cpu_time(const struct cgroup_box *box, uint64_t *ns);
/* Kills every process in the box at once (cgroup.kill); -EOPNOTSUPP where
 * the kernel has no such file, as on v1. */
int cgroup_box_kill(struct cgroup_box *box);
/* Freezes (frozen true) or thaws every process in the box: the v1
 * freezer's freezer.state, v2's cgroup.freeze.  Freezing is asynchronous:
 * cgroup_box_frozen tells when it is done.  -EOPNOTSUPP without a freezer.
 * Frozen v1 processes cannot die: thaw a box after killing it. */
int cgroup_box_freeze(struct cgroup_box *box, bool frozen);
/* 1 once every process in the box is frozen, 0 before, or -errno. */
int cgroup_box_frozen(const struct cgroup_box *box);
/* Removes the cgroup and frees box; -EBUSY while processes remain (box
 * is then still valid). */
int cgroup_box_destroy(struct cgroup_box *box);

#endif
