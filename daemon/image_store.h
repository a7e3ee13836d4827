/* The image store under images.dir, as the daemon reads it:
 *
 *   layers/<hex>/        a layer's tree, read-only, named by its sha256
 *   images/<hex>.json    an image: {digest, runtime, packages, setupScript,
 *                        size, created, layers (base first)}
 *   tags/<name>:<tag>    the hex digest of the image the tag names
 *   tmp/                 where writers stage files before renaming them
 *   mnt/<hex>            an image's shared mount (image_mount.h)
 *
 * Writers (the image builder, image.remove, image.prune) only ever rename
 * into place, so a reader sees an image whole or not at all. */
#ifndef ISOL8D_IMAGE_STORE_H
#define ISOL8D_IMAGE_STORE_H

#include "config.h"
#include "error.h"
#include "sandbox/image_mount.h"

#include <json-c/json.h>
#include <systemd/sd-event.h>

/* Resolves ref (image_ref.h; "default" is images.default) for field:
 * 0 for the host image, 1 with *out filled (and *meta, when meta is not
 * NULL, given the image's metadata), or -errno with e's message (not_found
 * for an image the store does not hold). */
int image_store_resolve(const struct config *cfg, const char *field,
			const char *ref, struct image_desc *out,
			json_object **meta, struct error *e);

/* The image a request of runtime (a runtime's name) gets for ref (NULL:
 * none named): 0 for the host image, 1 with *out filled, or -errno with
 * e's message.  A named image must be the runtime's (bash runs on every
 * image); "default" and no ref mean images.default when it is an image
 * of this runtime (or the runtime is bash), else the host image; with
 * images.default "auto", the runtime's base image when the store has it,
 * else the host image. */
int image_store_pick(const struct config *cfg, const char *field,
		     const char *ref, const char *runtime,
		     struct image_desc *out, struct error *e);

/* The tag of runtime's base image, as the image builder names it:
 * RUNTIME:CODENAME, the host's Debian codename.  0 or -errno. */
int image_store_base_tag(const char *runtime, char *out, size_t len);

/* The setupScript of the image with digest hex (a copy in *out; NULL when
 * it has none): 0, or -errno when its metadata cannot be read. */
int image_store_setup_script(const struct config *cfg, const char *hex,
			     char **out);

/* Every image's metadata with its "tags" and "inUse" (boxes on it). */
int image_store_list(const struct config *cfg, const struct image_mounts *m,
		     json_object **out, struct error *e);

/* Removes a tag (the image too when it was its last) or, by digest, the
 * image and all its tags; conflict while boxes use it.  Its layers stay
 * until image_store_prune. */
int image_store_remove(const struct config *cfg, const struct image_mounts *m,
		       const char *ref, json_object **out, struct error *e);

/* Removes the layers no image refers to: each is renamed out of layers/
 * at once and deleted by a child process on ev.  *out lists them. */
int image_store_prune(const struct config *cfg, sd_event *ev, json_object **out,
		      struct error *e);

#endif
