/* Images' root file systems, mounted once per image in the daemon's mount
 * namespace and shared read-only by every box on that image: a stack of
 * content-addressed layer directories joined by overlayfs (a single layer
 * is a read-only bind).  Each box holds a reference from box_create until
 * it is freed, so an image in use is known and never unmounted or
 * removed; the last reference unmounts it. */
#ifndef ISOL8D_IMAGE_MOUNT_H
#define ISOL8D_IMAGE_MOUNT_H

#include <stdbool.h>

#define IMAGE_HEX_LEN 64
#define IMAGE_MAX_LAYERS 16

/* An image as the store resolved it: its digest and its layers, the
 * lowest (the base) first, each by the hex of its sha256. */
struct image_desc {
	char digest[IMAGE_HEX_LEN + 1];
	char layers[IMAGE_MAX_LAYERS][IMAGE_HEX_LEN + 1];
	unsigned nlayers;
};

struct image_mounts;

/* dir is the image store (layers/, mnt/ below it). */
int image_mounts_new(const char *dir, struct image_mounts **out);
/* Unmounts every image still mounted. */
void image_mounts_free(struct image_mounts *m);

/* A reference to img's mount, mounting it first if nobody holds one; *tree_fd
 * is a detached read-only copy of it (open_tree) for one box to attach
 * with move_mount; the caller closes it. */
int image_mount_get(struct image_mounts *m, const struct image_desc *img,
		    int *tree_fd);
/* Drops a reference taken by image_mount_get for digest. */
void image_mount_put(struct image_mounts *m, const char *digest);
/* References held on the image with this digest (0: not in use). */
unsigned image_mount_users(const struct image_mounts *m, const char *digest);

#endif
