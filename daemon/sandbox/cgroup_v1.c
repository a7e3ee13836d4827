/* Box cgroups on the legacy (v1) hierarchies: the memory, pids, cpu and
 * cpuacct controllers, each possibly mounted on its own, co-mounted ones
 * sharing one directory. */
#include "cgroup_priv.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cg_v1_setup(const char *base, struct cgroup_root *root)
{
	for (int c = 0; c < CG_NCTL; c++) {
		char where[PATH_MAX];
		int r = cg_open_own(base, cgroup_ctl_names[c], &root->hier[c],
				    &root->own[c], where, sizeof(where));
		if (r < 0) {
			if (c == CG_MEMORY || c == CG_PIDS) {
				log_errno(LOG_ERR, r,
					  "the %s cgroup controller is needed "
					  "but "
					  "not usable",
					  cgroup_ctl_names[c]);
				return r;
			}
			log_warn("no %s cgroup controller: %s",
				 cgroup_ctl_names[c],
				 c == CG_CPU ? "cpuLimit is not enforced"
				 : c == CG_FREEZER
					 ? "sessions cannot be paused"
					 : "cpu time is not reported");
			root->own[c] = -1;
		} else if (c == CG_MEMORY)
			snprintf(root->path, sizeof(root->path), "%s/%s", where,
				 root->dir_name);
	}
	/* The freezer's boxes first: the processes of a dead daemon's
	 * paused boxes die only once thawed there. */
	if (root->own[CG_FREEZER] >= 0)
		cg_sweep_stale(root->own[CG_FREEZER]);
	for (int c = 0; c < CG_NCTL; c++) {
		if (root->own[c] < 0)
			continue;
		if (c != CG_FREEZER)
			cg_sweep_stale(root->own[c]);
		int r = cg_mkdir_open(root->own[c], root->dir_name,
				      &root->parent[c]);
		if (r < 0) {
			log_errno(LOG_ERR, r, "cannot create the %s cgroup %s",
				  cgroup_ctl_names[c], root->dir_name);
			return r;
		}
		if (c == CG_MEMORY)
			root->memsw = faccessat(root->parent[c],
						"memory.memsw.limit_in_bytes",
						F_OK, 0) == 0;
	}
	return 0;
}

int cg_v1_set_limits(struct cgroup_box *box, const struct cgroup_limits *lim)
{
	char v[64];
	int r;
	snprintf(v, sizeof(v), "%" PRId64,
		 lim->memory_bytes ? (int64_t)lim->memory_bytes : -1);
	/* memsw may never be below the memory limit: when lowering, lower
	 * memsw second, when raising, first.  Unlimited first makes it
	 * right both ways. */
	if (box->root->memsw &&
	    (r = cg_set(box, CG_MEMORY, "memory.memsw.limit_in_bytes", "-1")) <
		    0)
		return r;
	if ((r = cg_set(box, CG_MEMORY, "memory.limit_in_bytes", v)) < 0)
		return r;
	if (box->root->memsw &&
	    (r = cg_set(box, CG_MEMORY, "memory.memsw.limit_in_bytes", v)) < 0)
		return r;
	if (lim->pids)
		snprintf(v, sizeof(v), "%" PRIu64, lim->pids);
	else
		snprintf(v, sizeof(v), "max");
	if ((r = cg_set(box, CG_PIDS, "pids.max", v)) < 0)
		return r;
	if (box->fd[CG_CPU] < 0)
		return 0;
	snprintf(v, sizeof(v), "%d", CPU_PERIOD_US);
	if ((r = cg_set(box, CG_CPU, "cpu.cfs_period_us", v)) < 0)
		return r;
	snprintf(v, sizeof(v), "%lld",
		 lim->cpus > 0 ? (long long)(lim->cpus * CPU_PERIOD_US) : -1LL);
	return cg_set(box, CG_CPU, "cpu.cfs_quota_us", v);
}

int cgroup_box_open_tasks(const struct cgroup_box *box, int *fds)
{
	int n = 0;
	if (box->root->v2)
		return 0;
	for (int c = 0; c < CG_NCTL; c++) {
		if (box->fd[c] < 0 || cg_same_dir_as(box->root, c) >= 0)
			continue;
		fds[n] = openat(box->fd[c], "tasks", O_WRONLY | O_CLOEXEC);
		if (fds[n] < 0) {
			int r = -errno;
			while (n > 0)
				close(fds[--n]);
			return r;
		}
		n++;
	}
	return n;
}

void cg_v1_cpu_time(const struct cgroup_box *box, uint64_t *ns)
{
	if (box->fd[CG_CPUACCT] >= 0)
		cg_read_u64_at(box->fd[CG_CPUACCT], "cpuacct.usage", ns);
}

void cg_v1_usage(const struct cgroup_box *box, struct cgroup_usage *u)
{
	cg_v1_cpu_time(box, &u->cpu_time_ns);
	cg_read_u64_at(box->fd[CG_MEMORY], "memory.max_usage_in_bytes",
		       &u->peak_memory_bytes);
	cg_read_u64_at(box->fd[CG_MEMORY], "memory.usage_in_bytes",
		       &u->memory_bytes);
	cg_read_key_at(box->fd[CG_MEMORY], "memory.oom_control", "oom_kill",
		       &u->oom_kills);
}
