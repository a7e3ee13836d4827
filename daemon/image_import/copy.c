#include "copy.h"

#include "cleanup.h"
#include "sandbox/open_beneath.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Deeper trees are refused rather than walked with one fd per level. */
#define MAX_DEPTH 256

struct link_seen {
	ino_t ino;
	char *path; /* of its first copy, below the destination root */
};

struct copy {
	int dst_root;
	uid_t uid;
	gid_t gid;
	struct copy_stats *st;
	void *links; /* tsearch tree of struct link_seen */
	char path[PATH_MAX];
	size_t path_len;
};

static int link_cmp(const void *a, const void *b)
{
	ino_t x = ((const struct link_seen *)a)->ino,
	      y = ((const struct link_seen *)b)->ino;
	return x < y ? -1 : x > y;
}

static void link_free(void *p)
{
	struct link_seen *l = p;
	free(l->path);
	free(l);
}

static int copy_fail(struct copy *c, struct error *e, int r, const char *what)
{
	return error_set(e, ERR_INTERNAL, r, "cannot %s /%s: %s", what, c->path,
			 strerror(-r));
}

static int copy_bytes(int from, int to)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(from, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : 0;
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(to, buf + done, (size_t)(n - done));
			if (w < 0 && errno != EINTR)
				return -errno;
			done += w > 0 ? w : 0;
		}
	}
}

/* Ownership, then the mode (a chown clears setuid anyway), then times. */
static int finish(int fd, const struct stat *st, struct copy *c)
{
	struct timespec times[2] = { st->st_atim, st->st_mtim };
	if (fchown(fd, c->uid, c->gid) < 0 ||
	    fchmod(fd, st->st_mode & 01777) < 0 || futimens(fd, times) < 0)
		return -errno;
	return 0;
}

/* A second name of an inode already copied becomes a hard link to the
 * copy; the first name is remembered by its path below the root, whose
 * components are all directories this copy made. */
static int copy_hardlink(int dst, const char *name, const struct stat *st,
			 struct copy *c, bool *done)
{
	struct link_seen key = { .ino = st->st_ino };
	struct link_seen **found = tfind(&key, &c->links, link_cmp);
	*done = false;
	if (found) {
		if (linkat(c->dst_root, (*found)->path, dst, name, 0) < 0)
			return -errno;
		c->st->hardlinks++;
		*done = true;
		return 0;
	}
	struct link_seen *l = calloc(1, sizeof(*l));
	if (!l || !(l->path = strdup(c->path))) {
		free(l);
		return -ENOMEM;
	}
	l->ino = st->st_ino;
	if (!tsearch(l, &c->links, link_cmp)) {
		link_free(l);
		return -ENOMEM;
	}
	return 0;
}

static int copy_file(int src, int dst, const char *name, const struct stat *st,
		     struct copy *c)
{
	bool linked = false;
	int r = st->st_nlink > 1 ? copy_hardlink(dst, name, st, c, &linked) : 0;
	if (r < 0 || linked)
		return r;
	_cleanup_close_ int in = open_beneath(src, name, O_RDONLY, 0);
	if (in < 0)
		return in;
	_cleanup_close_ int out = openat(
		dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		0600);
	if (out < 0)
		return -errno;
	if ((r = copy_bytes(in, out)) < 0 || (r = finish(out, st, c)) < 0)
		return r;
	c->st->files++;
	c->st->bytes += (uint64_t)st->st_size;
	if (st->st_mode & (S_ISUID | S_ISGID))
		c->st->setid_cleared++;
	return 0;
}

static int copy_symlink(int src, int dst, const char *name,
			const struct stat *st, struct copy *c)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(src, name, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	struct timespec times[2] = { st->st_atim, st->st_mtim };
	if (symlinkat(target, dst, name) < 0 ||
	    fchownat(dst, name, c->uid, c->gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    utimensat(dst, name, times, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	c->st->symlinks++;
	return 0;
}

static int copy_dir(int src, int dst, int depth, struct copy *c,
		    struct error *e);

static int copy_entry(int src, int dst, const char *name, int depth,
		      struct copy *c, struct error *e)
{
	struct stat st;
	if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return copy_fail(c, e, -errno, "read");
	int r = 0;
	switch (st.st_mode & S_IFMT) {
	case S_IFDIR: {
		if (depth >= MAX_DEPTH)
			return copy_fail(c, e, -ELOOP, "copy (too deep)");
		if (mkdirat(dst, name, 0700) < 0)
			return copy_fail(c, e, -errno, "create");
		_cleanup_close_ int from =
			open_beneath(src, name, O_RDONLY | O_DIRECTORY, 0);
		_cleanup_close_ int to =
			open_beneath(dst, name, O_RDONLY | O_DIRECTORY, 0);
		if (from < 0 || to < 0)
			return copy_fail(c, e, from < 0 ? from : to, "open");
		if ((r = copy_dir(from, to, depth + 1, c, e)) < 0)
			return r;
		if ((r = finish(to, &st, c)) < 0)
			return copy_fail(c, e, r, "set the owner of");
		c->st->dirs++;
		return 0;
	}
	case S_IFREG:
		r = copy_file(src, dst, name, &st, c);
		break;
	case S_IFLNK:
		r = copy_symlink(src, dst, name, &st, c);
		break;
	case S_IFCHR:
	case S_IFBLK:
		c->st->devices++;
		break;
	case S_IFIFO:
		c->st->fifos++;
		break;
	default:
		c->st->sockets++;
		break;
	}
	return r < 0 ? copy_fail(c, e, r, "copy") : 0;
}

static int copy_dir(int src, int dst, int depth, struct copy *c,
		    struct error *e)
{
	int fd = fcntl(src, F_DUPFD_CLOEXEC, 3);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return copy_fail(c, e, -errno, "list");
	}
	size_t base = c->path_len;
	int r = 0;
	struct dirent *de;
	while (r == 0 && (errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int n = snprintf(c->path + base, sizeof(c->path) - base, "%s%s",
				 base ? "/" : "", de->d_name);
		if (n < 0 || (size_t)n >= sizeof(c->path) - base) {
			c->path[base] = '\0';
			r = copy_fail(c, e, -ENAMETOOLONG, "copy a name below");
			break;
		}
		c->path_len = base + (size_t)n;
		r = copy_entry(src, dst, de->d_name, depth, c, e);
		c->path_len = base;
		c->path[base] = '\0';
	}
	if (r == 0 && errno)
		r = copy_fail(c, e, -errno, "list");
	closedir(d);
	return r;
}

int import_copy(int src, int dst, uid_t uid, gid_t gid, struct copy_stats *st,
		struct error *e)
{
	struct copy c = { .dst_root = dst, .uid = uid, .gid = gid, .st = st };
	struct stat root;
	if (fstat(src, &root) < 0)
		return copy_fail(&c, e, -errno, "read");
	int r = copy_dir(src, dst, 0, &c, e);
	tdestroy(c.links, link_free);
	if (r == 0 && (r = finish(dst, &root, &c)) < 0)
		return copy_fail(&c, e, r, "set the owner of");
	return r;
}

int import_remove_below(int dirfd, struct error *e)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return error_set(e, ERR_INTERNAL, errno,
				 "cannot list a directory to remove: %m");
	}
	int r = 0;
	struct dirent *de;
	while (r == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(dirfd, de->d_name, 0) == 0)
			continue;
		if (errno != EISDIR) {
			r = error_set(e, ERR_INTERNAL, errno,
				      "cannot remove %s: %m", de->d_name);
			break;
		}
		_cleanup_close_ int sub = open_beneath(
			dirfd, de->d_name, O_RDONLY | O_DIRECTORY, 0);
		if (sub < 0)
			r = error_set(e, ERR_INTERNAL, sub, "cannot open %s",
				      de->d_name);
		else if ((r = import_remove_below(sub, e)) == 0 &&
			 unlinkat(dirfd, de->d_name, AT_REMOVEDIR) < 0)
			r = error_set(e, ERR_INTERNAL, errno,
				      "cannot remove %s: %m", de->d_name);
	}
	closedir(d);
	return r;
}
