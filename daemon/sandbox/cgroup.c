#include "cgroup_priv.h"

#include "cleanup.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

const char *const cgroup_ctl_names[CG_NCTL] = { "memory", "pids", "cpu",
						"cpuacct", "freezer" };

/* ---- the layout ---- */

const char *cgroup_mode_name(enum cgroup_mode mode)
{
	switch (mode) {
	case CGROUP_MODE_V1:
		return "v1";
	case CGROUP_MODE_HYBRID:
		return "hybrid";
	case CGROUP_MODE_V2:
		return "v2";
	case CGROUP_MODE_UNKNOWN:
		break;
	}
	return "unknown";
}

static bool is_fs(const char *path, long magic)
{
	struct statfs sf;
	return statfs(path, &sf) == 0 && (long)sf.f_type == magic;
}

enum cgroup_mode cgroup_mode_detect(const char *root)
{
	char path[256];
	if (is_fs(root, CGROUP2_SUPER_MAGIC))
		return CGROUP_MODE_V2;
	if (!is_fs(root, TMPFS_MAGIC))
		return CGROUP_MODE_UNKNOWN;
	snprintf(path, sizeof(path), "%s/unified", root);
	if (is_fs(path, CGROUP2_SUPER_MAGIC))
		return CGROUP_MODE_HYBRID;
	return CGROUP_MODE_V1;
}

/* ---- small file helpers, all relative to a directory fd ---- */

int cg_write_at(int dirfd, const char *file, const char *text)
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

int cg_read_at(int dirfd, const char *file, char *buf, size_t len)
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

int cg_read_u64_at(int dirfd, const char *file, uint64_t *v)
{
	char buf[64];
	int r = cg_read_at(dirfd, file, buf, sizeof(buf));
	if (r < 0)
		return r;
	*v = strtoull(buf, NULL, 10);
	return 0;
}

int cg_read_key_at(int dirfd, const char *file, const char *key, uint64_t *v)
{
	char buf[4096];
	int r = cg_read_at(dirfd, file, buf, sizeof(buf));
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

int cg_mkdir_open(int parent, const char *name, int *out)
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
 * left) and removes it.  A paused box is thawed once its processes are
 * killed, as frozen v1 processes cannot die. */
static int remove_stale(int parent, const char *name)
{
	_cleanup_close_ int fd =
		openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && cg_write_at(fd, "cgroup.kill", "1") < 0) {
		char buf[4096];
		if (cg_read_at(fd, "cgroup.procs", buf, sizeof(buf)) == 0)
			for (char *p = buf; *p;) {
				char *end;
				long pid = strtol(p, &end, 10);
				if (end == p)
					break;
				kill((pid_t)pid, SIGKILL);
				p = end + (*end == '\n');
			}
	}
	if (fd >= 0 && cg_write_at(fd, "freezer.state", "THAWED") < 0)
		cg_write_at(fd, "cgroup.freeze", "0");
	for (int i = 0; i < 100; i++) {
		if (unlinkat(parent, name, AT_REMOVEDIR) == 0 ||
		    errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -errno;
		usleep(10000);
	}
	return -EBUSY;
}

void cg_sweep_stale(int own)
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
		if (de->d_type != DT_DIR ||
		    strncmp(de->d_name, "isol8d-", 7) != 0)
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
				if (se->d_type == DT_DIR &&
				    se->d_name[0] != '.')
					remove_stale(dirfd(sub), se->d_name);
			closedir(sub);
		}
		int r = remove_stale(own, de->d_name);
		if (r < 0)
			log_errno(LOG_WARNING, r,
				  "cannot remove the stale cgroup %s",
				  de->d_name);
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

int cg_own_path(const char *ctl, int *hier, char *path, size_t len)
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
static int find_mount(const char *base, const char *ctl, char *mnt, size_t mlen,
		      char *mroot, size_t rlen)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	char line[4096];
	size_t blen = strlen(base);
	while (fgets(line, sizeof(line), f)) {
		char root[PATH_MAX], point[PATH_MAX], type[32], opts[1024];
		const char *dash = strstr(line, " - ");
		if (!dash ||
		    sscanf(line, "%*s %*s %*s %4095s %4095s", root, point) !=
			    2 ||
		    sscanf(dash + 3, "%31s %*s %1023s", type, opts) != 2)
			continue;
		if (strncmp(point, base, blen) != 0 ||
		    (point[blen] && point[blen] != '/'))
			continue;
		bool match =
			ctl ? strcmp(type, "cgroup") == 0 && list_has(opts, ctl)
			    : strcmp(type, "cgroup2") == 0;
		if (match) {
			snprintf(mnt, mlen, "%s", point);
			snprintf(mroot, rlen, "%s", root);
			return 0;
		}
	}
	return -ENOENT;
}

int cg_open_own(const char *base, const char *ctl, int *hier, int *out,
		char *where, size_t wlen)
{
	char path[PATH_MAX], mnt[PATH_MAX], mroot[PATH_MAX];
	int r = cg_own_path(ctl, hier, path, sizeof(path));
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

/* ---- the daemon's cgroups ---- */

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
		r = cg_v2_setup(base, root);
		break;
	case CGROUP_MODE_V1:
	case CGROUP_MODE_HYBRID:
		r = cg_v1_setup(base, root);
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

void cgroup_root_free(struct cgroup_root *root)
{
	if (!root)
		return;
	if (root->v2 && root->parent[0] >= 0)
		cg_v2_teardown(root);
	for (int c = 0; c < CG_NCTL; c++) {
		if (root->parent[c] >= 0) {
			close(root->parent[c]);
			if (unlinkat(root->own[c], root->dir_name,
				     AT_REMOVEDIR) < 0 &&
			    errno != ENOENT)
				log_errno(LOG_WARNING, errno,
					  "cannot remove the %s cgroup %s",
					  root->v2 ? "unified"
						   : cgroup_ctl_names[c],
					  root->dir_name);
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

int cg_same_dir_as(const struct cgroup_root *root, int c)
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
		int k = cg_same_dir_as(root, c);
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
			log_errno(LOG_ERR, r,
				  "cannot create the %s cgroup of box %s",
				  root->v2 ? "unified" : cgroup_ctl_names[c],
				  name);
			break;
		}
	}
	if (r == 0)
		r = cgroup_box_set_limits(box, lim);
	if (r == 0 && lim->background)
		r = cgroup_box_set_background(box, true);
	if (r < 0) {
		if (cgroup_box_destroy(box) < 0)
			box_close(box);
		return r;
	}
	*out = box;
	return 0;
}

int cg_set(const struct cgroup_box *box, int c, const char *file,
	   const char *value)
{
	int r = cg_write_at(box->fd[c], file, value);
	if (r < 0)
		log_errno(LOG_ERR, r, "box %s: cannot write %s to %s",
			  box->name, value, file);
	return r;
}

int cgroup_box_set_limits(struct cgroup_box *box,
			  const struct cgroup_limits *lim)
{
	return box->root->v2 ? cg_v2_set_limits(box, lim)
			     : cg_v1_set_limits(box, lim);
}

int cgroup_box_set_background(struct cgroup_box *box, bool background)
{
	if (box->root->v2)
		return cg_set(box, 0, "cpu.weight", background ? "1" : "100");
	if (box->fd[CG_CPU] < 0)
		return 0;
	return cg_set(box, CG_CPU, "cpu.shares", background ? "2" : "1024");
}

int cgroup_box_usage(const struct cgroup_box *box, struct cgroup_usage *u)
{
	memset(u, 0, sizeof(*u));
	if (box->root->v2)
		cg_v2_usage(box, u);
	else
		cg_v1_usage(box, u);
	return 0;
}

int cgroup_box_cpu_time(const struct cgroup_box *box, uint64_t *ns)
{
	*ns = 0;
	if (box->root->v2)
		cg_v2_cpu_time(box, ns);
	else
		cg_v1_cpu_time(box, ns);
	return 0;
}

int cgroup_box_destroy(struct cgroup_box *box)
{
	const struct cgroup_root *root = box->root;
	for (int c = 0; c < CG_NCTL; c++) {
		if (box->fd[c] < 0 || cg_same_dir_as(root, c) >= 0)
			continue;
		if (unlinkat(root->parent[c], box->name, AT_REMOVEDIR) < 0 &&
		    errno != ENOENT) {
			int r = -errno;
			if (r != -EBUSY)
				log_errno(LOG_ERR, r,
					  "box %s: cannot remove its %s cgroup",
					  box->name,
					  root->v2 ? "unified"
						   : cgroup_ctl_names[c]);
			return r;
		}
		close(box->fd[c]);
		box->fd[c] = -1;
	}
	box_close(box);
	return 0;
}
