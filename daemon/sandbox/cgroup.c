#include "cgroup.h"

#include "cleanup.h"
#include "log.h"
#include "systemd_scope.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The v1 controllers a box uses; on v2 only the first slot is used. */
enum { CG_MEMORY, CG_PIDS, CG_CPU, CG_CPUACCT, CG_NCTL };
static const char *const ctl_names[CG_NCTL] = { "memory", "pids", "cpu",
						"cpuacct" };
#define CPU_PERIOD_US 100000

struct cgroup_root {
	bool v2;
	bool memsw;	     /* v1: memory.memsw.* present */
	bool enabled_own;    /* v2: we enabled controllers in own's subtree */
	int own[CG_NCTL];    /* the daemon's own cgroup; -1: controller absent */
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

/* ---- small file helpers, all relative to a directory fd ---- */

static int write_at(int dirfd, const char *file, const char *text)
{
	_cleanup_close_ int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t n = strlen(text);
	ssize_t w = write(fd, text, n);
	if (w < 0)
		return -errno;
	return (size_t)w == n ? 0 : -EIO;
}

static int read_at(int dirfd, const char *file, char *buf, size_t len)
{
	buf[0] = '\0';
	_cleanup_close_ int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int read_u64_at(int dirfd, const char *file, uint64_t *v)
{
	char buf[64];
	int r = read_at(dirfd, file, buf, sizeof(buf));
	if (r < 0)
		return r;
	*v = strtoull(buf, NULL, 10);
	return 0;
}

/* "key value" lines as in memory.events, cpu.stat, memory.oom_control. */
static int read_key_at(int dirfd, const char *file, const char *key,
		       uint64_t *v)
{
	char buf[4096];
	int r = read_at(dirfd, file, buf, sizeof(buf));
	if (r < 0)
		return r;
	size_t kl = strlen(key);
	for (char *line = buf; line && *line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (strncmp(line, key, kl) == 0 && line[kl] == ' ') {
			*v = strtoull(line + kl + 1, NULL, 10);
			return 0;
		}
	}
	return -ENOENT;
}

static int mkdir_open(int parent, const char *name, int *out)
{
	if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST)
		return -errno;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*out = fd;
	return 0;
}

/* Kills what is left in a cgroup (it can only be a box a dead daemon
 * left) and removes it. */
static int remove_stale(int parent, const char *name)
{
	_cleanup_close_ int fd =
		openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && write_at(fd, "cgroup.kill", "1") < 0) {
		char buf[4096];
		if (read_at(fd, "cgroup.procs", buf, sizeof(buf)) == 0)
			for (char *p = buf; *p;) {
				char *end;
				long pid = strtol(p, &end, 10);
				if (end == p)
					break;
				kill((pid_t)pid, SIGKILL);
				p = end + (*end == '\n');
			}
	}
	for (int i = 0; i < 100; i++) {
		if (unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -errno;
		usleep(10000);
	}
	return -EBUSY;
}

/* Removes isol8d-<pid> trees whose daemon is gone, and their boxes. */
static void sweep_stale(int own)
{
	_cleanup_close_ int dfd =
		openat(own, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d)
		return;
	dfd = -1;
	struct dirent *de;
	while ((de = readdir(d))) {
		long pid;
		char *end;
		if (de->d_type != DT_DIR || strncmp(de->d_name, "isol8d-", 7) != 0)
			continue;
		pid = strtol(de->d_name + 7, &end, 10);
		if (*end || pid <= 0 || pid == getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		_cleanup_close_ int pfd = openat(
			own, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *sub = pfd >= 0 ? fdopendir(pfd) : NULL;
		if (sub) {
			pfd = -1;
			struct dirent *se;
			while ((se = readdir(sub)))
				if (se->d_type == DT_DIR && se->d_name[0] != '.')
					remove_stale(dirfd(sub), se->d_name);
			closedir(sub);
		}
		int r = remove_stale(own, de->d_name);
		if (r < 0)
			log_warn("cannot remove the stale cgroup %s: %s",
				 de->d_name, strerror(-r));
		else
			log_info("removed the cgroup %s of a daemon that is "
				 "gone",
				 de->d_name);
	}
	closedir(d);
}

/* ---- finding the daemon's own cgroups ---- */

static bool list_has(const char *list, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = list; p && *p;) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);
		if (l == wl && strncmp(p, word, wl) == 0)
			return true;
		p = c ? c + 1 : NULL;
	}
	return false;
}

/* The line of /proc/self/cgroup for a v1 controller, or the v2 one ("0::")
 * when ctl is NULL: its hierarchy id and path. */
static int own_path(const char *ctl, int *hier, char *path, size_t len)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return -errno;
	char line[PATH_MAX + 128];
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c1 = *c2 = '\0';
		bool match = ctl ? list_has(c1 + 1, ctl)
				 : strcmp(line, "0") == 0 && !c1[1];
		if (match) {
			*hier = atoi(line);
			snprintf(path, len, "%s", c2 + 1);
			return 0;
		}
	}
	return -ENOENT;
}

/* Where the hierarchy holding ctl (NULL: cgroup2) is mounted, and which
 * part of it the mount shows (not "/" inside some containers). */
static int find_mount(const char *base, const char *ctl, char *mnt,
		      size_t mlen, char *mroot, size_t rlen)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	char line[4096];
	size_t blen = strlen(base);
	while (fgets(line, sizeof(line), f)) {
		char root[PATH_MAX], point[PATH_MAX], type[32], opts[1024];
		const char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %4095s %4095s", root,
				    point) != 2 ||
		    sscanf(dash + 3, "%31s %*s %1023s", type, opts) != 2)
			continue;
		if (strncmp(point, base, blen) != 0 ||
		    (point[blen] && point[blen] != '/'))
			continue;
		bool match = ctl ? strcmp(type, "cgroup") == 0 &&
					   list_has(opts, ctl)
				 : strcmp(type, "cgroup2") == 0;
		if (match) {
			snprintf(mnt, mlen, "%s", point);
			snprintf(mroot, rlen, "%s", root);
			return 0;
		}
	}
	return -ENOENT;
}

static int open_own(const char *base, const char *ctl, int *hier, int *out,
		    char *where, size_t wlen)
{
	char path[PATH_MAX], mnt[PATH_MAX], mroot[PATH_MAX];
	int r = own_path(ctl, hier, path, sizeof(path));
	if (r < 0)
		return r;
	r = find_mount(base, ctl, mnt, sizeof(mnt), mroot, sizeof(mroot));
	if (r < 0)
		return r;
	const char *rel = path;
	size_t rl = strlen(mroot);
	if (strcmp(mroot, "/") != 0) {
		if (strncmp(path, mroot, rl) != 0 ||
		    (path[rl] && path[rl] != '/'))
			return -ENOENT;
		rel = path + rl;
	}
	int n = snprintf(where, wlen, "%s%s", mnt, rel);
	if (n < 0 || (size_t)n >= wlen)
		return -ENAMETOOLONG;
	int fd = open(where, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*out = fd;
	return 0;
}

static int setup_v1(const char *base, struct cgroup_root *root)
{
	for (int c = 0; c < CG_NCTL; c++) {
		char where[PATH_MAX];
		int r = open_own(base, ctl_names[c], &root->hier[c],
				 &root->own[c], where, sizeof(where));
		if (r < 0) {
			if (c == CG_MEMORY || c == CG_PIDS) {
				log_err("the %s cgroup controller is needed but "
					"not usable: %s",
					ctl_names[c], strerror(-r));
				return r;
			}
			log_warn("no %s cgroup controller: %s", ctl_names[c],
				 c == CG_CPU ? "cpuLimit is not enforced"
					     : "cpu time is not reported");
			root->own[c] = -1;
			continue;
		}
		sweep_stale(root->own[c]);
		r = mkdir_open(root->own[c], root->dir_name, &root->parent[c]);
		if (r < 0) {
			log_err("cannot create %s/%s: %s", where,
				root->dir_name, strerror(-r));
			return r;
		}
		if (c == CG_MEMORY) {
			snprintf(root->path, sizeof(root->path), "%s/%s", where,
				 root->dir_name);
			root->memsw = faccessat(root->parent[c],
						"memory.memsw.limit_in_bytes",
						F_OK, 0) == 0;
		}
	}
	return 0;
}

static int enable_controllers(int dirfd)
{
	return write_at(dirfd, "cgroup.subtree_control", "+memory +pids +cpu");
}

/* Whether the daemon's cgroup is its own to organise: the controllers
 * boxes need are offered to it, and no other process lives in it (it
 * could not then give its subtree controllers).  A unit with Delegate=yes
 * gives exactly that; a login session or a plain service does not. */
static bool own_is_delegated(int own)
{
	char have[256] = "", procs[64] = "", me[32];
	read_at(own, "cgroup.controllers", have, sizeof(have));
	unsigned found = 0;
	for (char *save = NULL, *w = strtok_r(have, " \n", &save); w;
	     w = strtok_r(NULL, " \n", &save))
		found |= (strcmp(w, "memory") == 0) << 0 |
			 (strcmp(w, "pids") == 0) << 1 |
			 (strcmp(w, "cpu") == 0) << 2;
	snprintf(me, sizeof(me), "%d\n", (int)getpid());
	return found == 7 &&
	       read_at(own, "cgroup.procs", procs, sizeof(procs)) == 0 &&
	       (!*procs || strcmp(procs, me) == 0);
}

static int open_own_v2(const char *base, struct cgroup_root *root,
		       char *where, size_t wlen)
{
	int r = open_own(base, NULL, &root->hier[0], &root->own[0], where,
			 wlen);
	if (r < 0)
		log_err("cannot find the daemon's cgroup: %s", strerror(-r));
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
	    (own_path(NULL, &hier, path, sizeof(path)) == 0 &&
	     strcmp(path, "/") == 0))
		return r;
	char why[256];
	log_info("the cgroup %s is not delegated to isol8d; asking systemd "
		 "for a scope with Delegate=yes",
		 where);
	r = systemd_scope_enter(why, sizeof(why));
	if (r < 0) {
		log_err("the cgroup %s is not the daemon's own (other processes "
			"live there, or the memory, pids and cpu controllers "
			"are not offered) and no scope could be had: %s.  Run "
			"isol8d from its unit (isol8d.service has "
			"Delegate=yes) or in a cgroup of its own with those "
			"controllers",
			where, why);
		return r;
	}
	close(root->own[0]);
	root->own[0] = -1;
	r = open_own_v2(base, root, where, wlen);
	if (r >= 0)
		log_info("moved into the cgroup %s", where);
	return r;
}

static int setup_v2(const char *base, struct cgroup_root *root)
{
	char where[PATH_MAX];
	int r = delegated_own_v2(base, root, where, sizeof(where));
	if (r < 0)
		return r;
	sweep_stale(root->own[0]);
	r = mkdir_open(root->own[0], root->dir_name, &root->parent[0]);
	if (r < 0) {
		log_err("cannot create %s/%s: %s", where, root->dir_name,
			strerror(-r));
		return r;
	}
	snprintf(root->path, sizeof(root->path), "%s/%s", where,
		 root->dir_name);
	/* Processes may only sit in leaves once controllers are enabled. */
	_cleanup_close_ int leaf = -1;
	char pid[32];
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if ((r = mkdir_open(root->parent[0], "daemon", &leaf)) < 0 ||
	    (r = write_at(leaf, "cgroup.procs", pid)) < 0) {
		log_err("cannot move the daemon into %s/daemon: %s", root->path,
			strerror(-r));
		return r;
	}
	char have[256] = "";
	read_at(root->own[0], "cgroup.subtree_control", have, sizeof(have));
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
		log_err("cannot enable controllers in %s: %s", root->path,
			strerror(-r));
		return r;
	}
	return 0;
}

int cgroup_root_setup(enum cgroup_mode mode, const char *base,
		      struct cgroup_root **out)
{
	struct cgroup_root *root = calloc(1, sizeof(*root));
	if (!root)
		return -ENOMEM;
	for (int c = 0; c < CG_NCTL; c++)
		root->own[c] = root->parent[c] = -1;
	snprintf(root->dir_name, sizeof(root->dir_name), "isol8d-%d",
		 (int)getpid());
	int r;
	switch (mode) {
	case CGROUP_MODE_V2:
		root->v2 = true;
		r = setup_v2(base, root);
		break;
	case CGROUP_MODE_V1:
	case CGROUP_MODE_HYBRID:
		r = setup_v1(base, root);
		break;
	default:
		log_err("no cgroup filesystem found below %s", base);
		r = -ENOTSUP;
	}
	if (r < 0) {
		cgroup_root_free(root);
		return r;
	}
	*out = root;
	return 0;
}

const char *cgroup_root_path(const struct cgroup_root *root)
{
	return root->path;
}

/* Undoes setup_v2 in reverse: only then can the daemon leave its leaf. */
static void teardown_v2(struct cgroup_root *root)
{
	char pid[32];
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	write_at(root->parent[0], "cgroup.subtree_control",
		 "-memory -pids -cpu");
	if (write_at(root->parent[0], "cgroup.procs", pid) == 0)
		unlinkat(root->parent[0], "daemon", AT_REMOVEDIR);
	if (root->enabled_own)
		write_at(root->own[0], "cgroup.subtree_control",
			 "-memory -pids -cpu");
	write_at(root->own[0], "cgroup.procs", pid);
}

void cgroup_root_free(struct cgroup_root *root)
{
	if (!root)
		return;
	if (root->v2 && root->parent[0] >= 0)
		teardown_v2(root);
	for (int c = 0; c < CG_NCTL; c++) {
		if (root->parent[c] >= 0) {
			close(root->parent[c]);
			if (unlinkat(root->own[c], root->dir_name,
				     AT_REMOVEDIR) < 0 &&
			    errno != ENOENT)
				log_warn("cannot remove the %s cgroup %s: %s",
					 root->v2 ? "unified" : ctl_names[c],
					 root->dir_name, strerror(errno));
		}
		if (root->own[c] >= 0)
			close(root->own[c]);
	}
	free(root);
}

/* ---- boxes ---- */

static void box_close(struct cgroup_box *box)
{
	for (int c = 0; c < CG_NCTL; c++)
		if (box->fd[c] >= 0)
			close(box->fd[c]);
	free(box);
}

/* The first controller sharing c's hierarchy, whose directory c uses. */
static int same_dir_as(const struct cgroup_root *root, int c)
{
	for (int k = 0; k < c; k++)
		if (root->parent[k] >= 0 && root->hier[k] == root->hier[c])
			return k;
	return -1;
}

int cgroup_box_create(struct cgroup_root *root, const char *name,
		      const struct cgroup_limits *lim, struct cgroup_box **out)
{
	struct cgroup_box *box = calloc(1, sizeof(*box));
	if (!box)
		return -ENOMEM;
	box->root = root;
	snprintf(box->name, sizeof(box->name), "%s", name);
	for (int c = 0; c < CG_NCTL; c++)
		box->fd[c] = -1;
	int r = 0;
	for (int c = 0; c < (root->v2 ? 1 : CG_NCTL); c++) {
		if (root->parent[c] < 0)
			continue;
		int k = same_dir_as(root, c);
		if (k >= 0) {
			box->fd[c] = fcntl(box->fd[k], F_DUPFD_CLOEXEC, 3);
			r = box->fd[c] < 0 ? -errno : 0;
		} else if (mkdirat(root->parent[c], name, 0755) < 0) {
			r = -errno;
		} else {
			box->fd[c] = openat(root->parent[c], name,
					    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			r = box->fd[c] < 0 ? -errno : 0;
		}
		if (r < 0) {
			log_err("cannot create the %s cgroup of box %s: %s",
				root->v2 ? "unified" : ctl_names[c], name,
				strerror(-r));
			break;
		}
	}
	if (r == 0)
		r = cgroup_box_set_limits(box, lim);
	if (r < 0) {
		if (cgroup_box_destroy(box) < 0)
			box_close(box);
		return r;
	}
	*out = box;
	return 0;
}

static int set(const struct cgroup_box *box, int c, const char *file,
	       const char *value)
{
	int r = write_at(box->fd[c], file, value);
	if (r < 0)
		log_err("box %s: cannot write %s to %s: %s", box->name, value,
			file, strerror(-r));
	return r;
}

static int set_limits_v2(struct cgroup_box *box,
			 const struct cgroup_limits *lim)
{
	char v[64];
	int r;
	if (lim->memory_bytes)
		snprintf(v, sizeof(v), "%" PRIu64, lim->memory_bytes);
	else
		snprintf(v, sizeof(v), "max");
	if ((r = set(box, 0, "memory.max", v)) < 0)
		return r;
	/* Not every kernel has swap accounting; without it there's no swap
	 * to limit either. */
	if (faccessat(box->fd[0], "memory.swap.max", F_OK, 0) == 0 &&
	    (r = set(box, 0, "memory.swap.max", "0")) < 0)
		return r;
	if ((r = set(box, 0, "memory.oom.group", "1")) < 0)
		return r;
	if (lim->pids)
		snprintf(v, sizeof(v), "%" PRIu64, lim->pids);
	else
		snprintf(v, sizeof(v), "max");
	if ((r = set(box, 0, "pids.max", v)) < 0)
		return r;
	if (lim->cpus > 0)
		snprintf(v, sizeof(v), "%llu %d",
			 (unsigned long long)(lim->cpus * CPU_PERIOD_US),
			 CPU_PERIOD_US);
	else
		snprintf(v, sizeof(v), "max %d", CPU_PERIOD_US);
	return set(box, 0, "cpu.max", v);
}

static int set_limits_v1(struct cgroup_box *box,
			 const struct cgroup_limits *lim)
{
	char v[64];
	int r;
	snprintf(v, sizeof(v), "%" PRId64,
		 lim->memory_bytes ? (int64_t)lim->memory_bytes : -1);
	/* memsw may never be below the memory limit: when lowering, lower
	 * memsw second, when raising, first.  Unlimited first makes it
	 * right both ways. */
	if (box->root->memsw &&
	    (r = set(box, CG_MEMORY, "memory.memsw.limit_in_bytes", "-1")) < 0)
		return r;
	if ((r = set(box, CG_MEMORY, "memory.limit_in_bytes", v)) < 0)
		return r;
	if (box->root->memsw &&
	    (r = set(box, CG_MEMORY, "memory.memsw.limit_in_bytes", v)) < 0)
		return r;
	if (lim->pids)
		snprintf(v, sizeof(v), "%" PRIu64, lim->pids);
	else
		snprintf(v, sizeof(v), "max");
	if ((r = set(box, CG_PIDS, "pids.max", v)) < 0)
		return r;
	if (box->fd[CG_CPU] < 0)
		return 0;
	snprintf(v, sizeof(v), "%d", CPU_PERIOD_US);
	if ((r = set(box, CG_CPU, "cpu.cfs_period_us", v)) < 0)
		return r;
	snprintf(v, sizeof(v), "%lld",
		 lim->cpus > 0 ? (long long)(lim->cpus * CPU_PERIOD_US) : -1LL);
	return set(box, CG_CPU, "cpu.cfs_quota_us", v);
}

int cgroup_box_set_limits(struct cgroup_box *box,
			  const struct cgroup_limits *lim)
{
	return box->root->v2 ? set_limits_v2(box, lim)
			     : set_limits_v1(box, lim);
}

int cgroup_box_attach(struct cgroup_box *box, pid_t pid)
{
	char v[32];
	snprintf(v, sizeof(v), "%d", (int)pid);
	for (int c = 0; c < CG_NCTL; c++) {
		if (box->fd[c] < 0 || same_dir_as(box->root, c) >= 0)
			continue;
		int r = write_at(box->fd[c], "cgroup.procs", v);
		if (r < 0) {
			log_err("box %s: cannot move %d into its %s cgroup: %s",
				box->name, (int)pid,
				box->root->v2 ? "unified" : ctl_names[c],
				strerror(-r));
			return r;
		}
	}
	return 0;
}

int cgroup_box_open_tasks(const struct cgroup_box *box, int *fds)
{
	int n = 0;
	if (box->root->v2)
		return 0;
	for (int c = 0; c < CG_NCTL; c++) {
		if (box->fd[c] < 0 || same_dir_as(box->root, c) >= 0)
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

int cgroup_box_dirfd(const struct cgroup_box *box)
{
	return box->root->v2 ? box->fd[0] : -1;
}

int cgroup_box_usage(const struct cgroup_box *box, struct cgroup_usage *u)
{
	memset(u, 0, sizeof(*u));
	if (box->root->v2) {
		uint64_t usec = 0;
		read_key_at(box->fd[0], "cpu.stat", "usage_usec", &usec);
		u->cpu_time_ns = usec * 1000;
		/* memory.peak appeared in 5.19; current is the best before. */
		if (read_u64_at(box->fd[0], "memory.peak",
				&u->peak_memory_bytes) < 0)
			read_u64_at(box->fd[0], "memory.current",
				    &u->peak_memory_bytes);
		read_key_at(box->fd[0], "memory.events", "oom_kill",
			    &u->oom_kills);
		return 0;
	}
	if (box->fd[CG_CPUACCT] >= 0)
		read_u64_at(box->fd[CG_CPUACCT], "cpuacct.usage",
			    &u->cpu_time_ns);
	read_u64_at(box->fd[CG_MEMORY], "memory.max_usage_in_bytes",
		    &u->peak_memory_bytes);
	read_key_at(box->fd[CG_MEMORY], "memory.oom_control", "oom_kill",
		    &u->oom_kills);
	return 0;
}

int cgroup_box_kill(struct cgroup_box *box)
{
	if (!box->root->v2)
		return -EOPNOTSUPP;
	int r = write_at(box->fd[0], "cgroup.kill", "1");
	return r == -ENOENT ? -EOPNOTSUPP : r;
}

bool cgroup_box_empty(const struct cgroup_box *box)
{
	char buf[64];
	if (box->root->v2) {
		uint64_t populated = 1;
		read_key_at(box->fd[0], "cgroup.events", "populated",
			    &populated);
		return populated == 0;
	}
	for (int c = 0; c < CG_NCTL; c++)
		if (box->fd[c] >= 0 &&
		    (read_at(box->fd[c], "cgroup.procs", buf, sizeof(buf)) < 0 ||
		     buf[0]))
			return false;
	return true;
}

int cgroup_box_destroy(struct cgroup_box *box)
{
	const struct cgroup_root *root = box->root;
	for (int c = 0; c < CG_NCTL; c++) {
		if (box->fd[c] < 0 || same_dir_as(root, c) >= 0)
			continue;
		if (unlinkat(root->parent[c], box->name, AT_REMOVEDIR) < 0 &&
		    errno != ENOENT) {
			int r = -errno;
			if (r != -EBUSY)
				log_err("box %s: cannot remove its %s cgroup: %s",
					box->name,
					root->v2 ? "unified" : ctl_names[c],
					strerror(-r));
			return r;
		}
		close(box->fd[c]);
		box->fd[c] = -1;
	}
	box_close(box);
	return 0;
}
