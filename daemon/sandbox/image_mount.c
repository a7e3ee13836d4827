#include "image_mount.h"

#include "cleanup.h"
#include "error.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

struct image_mount {
	struct image_mount *next;
	char digest[IMAGE_HEX_LEN + 1];
	char *root;
	unsigned users;
};

struct image_mounts {
	char *dir;
	struct image_mount *list;
};

#define ATTR_RO (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)

int image_mounts_new(const char *dir, struct image_mounts **out)
{
	/* overlayfs options separate layers with ':' and options with ','. */
	if (dir[0] != '/' || strpbrk(dir, ":,\\"))
		return log_errno(LOG_ERR, -EINVAL,
				 "images.dir %s: must be an absolute path "
				 "without ':', ',' or '\\'",
				 dir);
	struct image_mounts *m = calloc(1, sizeof(*m));
	if (!m || !(m->dir = strdup(dir))) {
		free(m);
		return -ENOMEM;
	}
	*out = m;
	return 0;
}

static struct image_mount *find(const struct image_mounts *m,
				const char *digest)
{
	for (struct image_mount *i = m->list; i; i = i->next)
		if (strcmp(i->digest, digest) == 0)
			return i;
	return NULL;
}

/* A single layer: a read-only bind of its directory. */
static int bind_layer(const char *src, const char *target)
{
	_cleanup_close_ int tree = open_tree(
		AT_FDCWD, src,
		OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
	if (tree < 0)
		return -errno;
	struct mount_attr attr = { .attr_set = ATTR_RO };
	if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0 ||
	    move_mount(tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

/* Several layers: overlayfs with no upper directory, read-only by
 * construction; the top layer comes first in lowerdir. */
static int overlay_layers(const struct image_mounts *m,
			  const struct image_desc *img, const char *target)
{
	size_t len = strlen("lowerdir=") +
		     img->nlayers * (strlen(m->dir) + 8 + IMAGE_HEX_LEN + 1) +
		     1;
	_cleanup_free_ char *opts = malloc(len);
	if (!opts)
		return -ENOMEM;
	size_t at = (size_t)snprintf(opts, len, "lowerdir=");
	for (unsigned i = img->nlayers; i-- > 0;)
		at += (size_t)snprintf(opts + at, len - at, "%s/layers/%s%s",
				       m->dir, img->layers[i], i ? ":" : "");
	return mount("overlay", target, "overlay",
		     MS_RDONLY | MS_NOSUID | MS_NODEV, opts) < 0
		       ? -errno
		       : 0;
}

static int mount_image(const struct image_mounts *m,
		       const struct image_desc *img, const char *target)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/mnt", m->dir);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return log_errno(LOG_ERR, -errno, "cannot make %s", path);
	if (mkdir(target, 0755) < 0 && errno != EEXIST)
		return log_errno(LOG_ERR, -errno, "cannot make %s", target);
	/* A mount a daemon that did not stop cleanly left there. */
	while (umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
		log_warn("image %s: a stale mount on %s removed", img->digest,
			 target);
	int r;
	if (img->nlayers == 1) {
		snprintf(path, sizeof(path), "%s/layers/%s", m->dir,
			 img->layers[0]);
		r = bind_layer(path, target);
	} else {
		r = overlay_layers(m, img, target);
	}
	if (r < 0) {
		rmdir(target);
		return log_errno(LOG_ERR, r, "cannot mount image %s on %s",
				 img->digest, target);
	}
	return 0;
}

int image_mount_get(struct image_mounts *m, const struct image_desc *img,
		    int *tree_fd)
{
	if (img->nlayers == 0 || img->nlayers > IMAGE_MAX_LAYERS)
		return -EINVAL;
	struct image_mount *i = find(m, img->digest);
	if (!i) {
		i = calloc(1, sizeof(*i));
		if (!i)
			return -ENOMEM;
		snprintf(i->digest, sizeof(i->digest), "%s", img->digest);
		if (asprintf(&i->root, "%s/mnt/%s", m->dir, img->digest) < 0) {
			free(i);
			return -ENOMEM;
		}
		int r = mount_image(m, img, i->root);
		if (r < 0) {
			free(i->root);
			free(i);
			return r;
		}
		i->next = m->list;
		m->list = i;
	}
	/* A detached copy of the shared mount for the box to move into its
	 * own namespace: it may not clone a mount of the daemon's, nor walk
	 * the store's directories to one.  The copy is private: a clone of a
	 * mount that is shared (as all are on a systemd host) joins its peer
	 * group, and pivot_root refuses a shared root. */
	_cleanup_close_ int tree =
		open_tree(AT_FDCWD, i->root,
			  OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE |
				  AT_SYMLINK_NOFOLLOW);
	struct mount_attr attr = { .attr_set = ATTR_RO,
				   .propagation = MS_PRIVATE };
	if (tree < 0 || mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE,
				      &attr, sizeof(attr)) < 0) {
		int r = log_errno(LOG_ERR, -errno, "cannot clone the mount %s",
				  i->root);
		i->users++;
		image_mount_put(m, img->digest);
		return r;
	}
	i->users++;
	*tree_fd = TAKE_FD(tree);
	return 0;
}

static void unmount_one(struct image_mount *i)
{
	/* Boxes keep their own copies of the mount: detaching the shared
	 * one never pulls a root from under a box. */
	if (umount2(i->root, MNT_DETACH) < 0)
		log_errno(LOG_WARNING, -errno, "cannot unmount %s", i->root);
	else
		rmdir(i->root);
	free(i->root);
	free(i);
}

void image_mount_put(struct image_mounts *m, const char *digest)
{
	for (struct image_mount **p = &m->list; *p; p = &(*p)->next) {
		struct image_mount *i = *p;
		if (strcmp(i->digest, digest) != 0)
			continue;
		if (--i->users == 0) {
			*p = i->next;
			unmount_one(i);
		}
		return;
	}
}

unsigned image_mount_users(const struct image_mounts *m, const char *digest)
{
	const struct image_mount *i = find(m, digest);
	return i ? i->users : 0;
}

void image_mounts_free(struct image_mounts *m)
{
	if (!m)
		return;
	while (m->list) {
		struct image_mount *i = m->list;
		m->list = i->next;
		unmount_one(i);
	}
	free(m->dir);
	free(m);
}
