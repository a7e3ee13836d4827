/* What the parts of the cgroup module share: cgroup.c (the interface,
 * file helpers, the daemon's own cgroup, the stale sweep, boxes' common
 * steps), cgroup_v1.c and cgroup_v2.c (each hierarchy's own steps). */
#ifndef ISOL8D_CGROUP_PRIV_H
#define ISOL8D_CGROUP_PRIV_H

#include "cgroup.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The v1 controllers a box uses; on v2 only the first slot is used. */
enum { CG_MEMORY, CG_PIDS, CG_CPU, CG_CPUACCT, CG_FREEZER, CG_NCTL };
extern const char *const cgroup_ctl_names[CG_NCTL];
#define CPU_PERIOD_US 100000

struct cgroup_root {
	bool v2;
	bool memsw;	  /* v1: memory.memsw.* present */
	bool enabled_own; /* v2: we enabled controllers in own's subtree */
	int own[CG_NCTL]; /* the daemon's own cgroup; -1: controller absent */
	int parent[CG_NCTL]; /* own/isol8d-<pid> */
	int hier[CG_NCTL];   /* v1 hierarchy id: co-mounted ones share dirs */
	char dir_name[32];
	char path[PATH_MAX + 64]; /* of parent[CG_MEMORY], for messages */
};

struct cgroup_box {
	struct cgroup_root *root;
	char name[64];
	int fd[CG_NCTL];
};

/* cgroup.c: small file helpers, all relative to a directory fd */
int cg_write_at(int dirfd, const char *file, const char *text);
int cg_read_at(int dirfd, const char *file, char *buf, size_t len);
int cg_read_u64_at(int dirfd, const char *file, uint64_t *v);
/* "key value" lines as in memory.events, cpu.stat, memory.oom_control. */
int cg_read_key_at(int dirfd, const char *file, const char *key, uint64_t *v);
int cg_mkdir_open(int parent, const char *name, int *out);
/* Removes isol8d-<pid> trees whose daemon is gone, and their boxes. */
void cg_sweep_stale(int own);
/* The line of /proc/self/cgroup for a v1 controller, or the v2 one ("0::")
 * when ctl is NULL: its hierarchy id and path. */
int cg_own_path(const char *ctl, int *hier, char *path, size_t len);
/* Opens the daemon's own cgroup of ctl (NULL: cgroup2) below base; where
 * gets its path. */
int cg_open_own(const char *base, const char *ctl, int *hier, int *out,
		char *where, size_t wlen);
/* Writes value to a box's file of controller c, logging a failure. */
int cg_set(const struct cgroup_box *box, int c, const char *file,
	   const char *value);
/* The first controller sharing c's hierarchy, whose directory c uses. */
int cg_same_dir_as(const struct cgroup_root *root, int c);

/* cgroup_v1.c */
int cg_v1_setup(const char *base, struct cgroup_root *root);
int cg_v1_set_limits(struct cgroup_box *box, const struct cgroup_limits *lim);
void cg_v1_usage(const struct cgroup_box *box, struct cgroup_usage *u);
void cg_v1_cpu_time(const struct cgroup_box *box, uint64_t *ns);

/* cgroup_v2.c */
int cg_v2_setup(const char *base, struct cgroup_root *root);
/* Undoes cg_v2_setup in reverse: only then can the daemon leave its leaf. */
void cg_v2_teardown(struct cgroup_root *root);
int cg_v2_set_limits(struct cgroup_box *box, const struct cgroup_limits *lim);
void cg_v2_usage(const struct cgroup_box *box, struct cgroup_usage *u);
void cg_v2_cpu_time(const struct cgroup_box *box, uint64_t *ns);

#endif
