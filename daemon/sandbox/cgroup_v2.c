/* Box cgroups on the unified (v2) hierarchy: a delegated subtree below
 * the daemon's own cgroup (a transient scope from systemd when it was not
 * started in one), with the daemon itself in a leaf. */
#include "cgroup_priv.h"

#include "cleanup.h"
#include "log.h"
#include "systemd_scope.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int enable_controllers(int dirfd)
{
	return cg_write_at(dirfd, "cgroup.subtree_control",
			   "+memory +pids +cpu");
}

/* Whether the daemon's cgroup is its own to organise: the controllers
 * boxes need are offered to it, and no other process lives in it (it
 * could not then give its subtree controllers).  A unit with Delegate=yes
 * gives exactly that; a login session or a plain service does not. */
static bool own_is_delegated(int own)
{
	char have[256] = "", procs[64] = "", me[32];
	cg_read_at(own, "cgroup.controllers", have, sizeof(have));
	unsigned found = 0;
	for (char *save = NULL, *w = strtok_r(have, " \n", &save); w;
	     w = strtok_r(NULL, " \n", &save))
		found |= (strcmp(w, "memory") == 0) << 0 |
			 (strcmp(w, "pids") == 0) << 1 |
			 (strcmp(w, "cpu") == 0) << 2;
	snprintf(me, sizeof(me), "%d\n", (int)getpid());
	return found == 7 &&
	       cg_read_at(own, "cgroup.procs", procs, sizeof(procs)) == 0 &&
	       (!*procs || strcmp(procs, me) == 0);
}

static int open_own_v2(const char *base, struct cgroup_root *root, char *where,
		       size_t wlen)
{
	int r = cg_open_own(base, NULL, &root->hier[0], &root->own[0], where,
			    wlen);
	if (r < 0)
		log_errno(LOG_ERR, r, "cannot find the daemon's cgroup");
	return r;
}

/* Outside a delegated unit the daemon asks systemd for a scope of its
 * own and starts over there. */
static int delegated_own_v2(const char *base, struct cgroup_root *root,
			    char *where, size_t wlen)
{
	int r = open_own_v2(base, root, where, wlen);
	char path[PATH_MAX];
	int hier;
	/* The root of the hierarchy (a container's, with no service manager
	 * to ask) is taken as it is. */
	if (r < 0 || own_is_delegated(root->own[0]) ||
	    (cg_own_path(NULL, &hier, path, sizeof(path)) == 0 &&
	     strcmp(path, "/") == 0))
		return r;
	struct error why;
	log_info("the cgroup %s is not delegated to isol8d; asking systemd "
		 "for a scope with Delegate=yes",
		 where);
	r = systemd_scope_enter(&why);
	if (r < 0) {
		log_err("the cgroup %s is not the daemon's own (other "
			"processes "
			"live there, or the memory, pids and cpu controllers "
			"are not offered) and no scope could be had: %s.  Run "
			"isol8d from its unit (isol8d.service has "
			"Delegate=yes) or in a cgroup of its own with those "
			"controllers",
			where, why.message);
		return r;
	}
	close(root->own[0]);
	root->own[0] = -1;
	r = open_own_v2(base, root, where, wlen);
	if (r >= 0)
		log_info("moved into the cgroup %s", where);
	return r;
}

int cg_v2_setup(const char *base, struct cgroup_root *root)
{
	char where[PATH_MAX];
	int r = delegated_own_v2(base, root, where, sizeof(where));
	if (r < 0)
		return r;
	cg_sweep_stale(root->own[0]);
	r = cg_mkdir_open(root->own[0], root->dir_name, &root->parent[0]);
	if (r < 0) {
		log_errno(LOG_ERR, r, "cannot create %s/%s", where,
			  root->dir_name);
		return r;
	}
	snprintf(root->path, sizeof(root->path), "%s/%s", where,
		 root->dir_name);
	/* Processes may only sit in leaves once controllers are enabled. */
	_cleanup_close_ int leaf = -1;
	char pid[32];
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if ((r = cg_mkdir_open(root->parent[0], "daemon", &leaf)) < 0 ||
	    (r = cg_write_at(leaf, "cgroup.procs", pid)) < 0) {
		log_errno(LOG_ERR, r, "cannot move the daemon into %s/daemon",
			  root->path);
		return r;
	}
	char have[256] = "";
	cg_read_at(root->own[0], "cgroup.subtree_control", have, sizeof(have));
	if (!strstr(have, "memory") || !strstr(have, "pids") ||
	    !strstr(have, "cpu")) {
		r = enable_controllers(root->own[0]);
		if (r < 0) {
			log_err("cannot enable the memory, pids and cpu "
				"controllers below %s: %s (the daemon needs a "
				"delegated cgroup of its own: Delegate=yes)",
				where, strerror(-r));
			return r;
		}
		root->enabled_own = true;
	}
	r = enable_controllers(root->parent[0]);
	if (r < 0) {
		log_errno(LOG_ERR, r, "cannot enable controllers in %s",
			  root->path);
		return r;
	}
	return 0;
}

void cg_v2_teardown(struct cgroup_root *root)
{
	char pid[32];
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	cg_write_at(root->parent[0], "cgroup.subtree_control",
		    "-memory -pids -cpu");
	if (cg_write_at(root->parent[0], "cgroup.procs", pid) == 0)
		unlinkat(root->parent[0], "daemon", AT_REMOVEDIR);
	if (root->enabled_own)
		cg_write_at(root->own[0], "cgroup.subtree_control",
			    "-memory -pids -cpu");
	cg_write_at(root->own[0], "cgroup.procs", pid);
}

int cg_v2_set_limits(struct cgroup_box *box, const struct cgroup_limits *lim)
{
	char v[64];
	int r;
	if (lim->memory_bytes)
		snprintf(v, sizeof(v), "%" PRIu64, lim->memory_bytes);
	else
		snprintf(v, sizeof(v), "max");
	if ((r = cg_set(box, 0, "memory.max", v)) < 0)
		return r;
	/* Not every kernel has swap accounting; without it there's no swap
	 * to limit either. */
	if (faccessat(box->fd[0], "memory.swap.max", F_OK, 0) == 0 &&
	    (r = cg_set(box, 0, "memory.swap.max", "0")) < 0)
		return r;
	if ((r = cg_set(box, 0, "memory.oom.group", "1")) < 0)
		return r;
	if (lim->pids)
		snprintf(v, sizeof(v), "%" PRIu64, lim->pids);
	else
		snprintf(v, sizeof(v), "max");
	if ((r = cg_set(box, 0, "pids.max", v)) < 0)
		return r;
	if (lim->cpus > 0)
		snprintf(v, sizeof(v), "%llu %d",
			 (unsigned long long)(lim->cpus * CPU_PERIOD_US),
			 CPU_PERIOD_US);
	else
		snprintf(v, sizeof(v), "max %d", CPU_PERIOD_US);
	return cg_set(box, 0, "cpu.max", v);
}

int cgroup_box_dirfd(const struct cgroup_box *box)
{
	return box->root->v2 ? box->fd[0] : -1;
}

void cg_v2_cpu_time(const struct cgroup_box *box, uint64_t *ns)
{
	uint64_t usec = 0;
	cg_read_key_at(box->fd[0], "cpu.stat", "usage_usec", &usec);
	*ns = usec * 1000;
}

void cg_v2_usage(const struct cgroup_box *box, struct cgroup_usage *u)
{
	cg_v2_cpu_time(box, &u->cpu_time_ns);
	cg_read_u64_at(box->fd[0], "memory.current", &u->memory_bytes);
	/* memory.peak appeared in 5.19; current is the best before. */
	if (cg_read_u64_at(box->fd[0], "memory.peak", &u->peak_memory_bytes) <
	    0)
		u->peak_memory_bytes = u->memory_bytes;
	cg_read_key_at(box->fd[0], "memory.events", "oom_kill", &u->oom_kills);
}

int cgroup_box_kill(struct cgroup_box *box)
{
	if (!box->root->v2)
		return -EOPNOTSUPP;
	int r = cg_write_at(box->fd[0], "cgroup.kill", "1");
	return r == -ENOENT ? -EOPNOTSUPP : r;
}
