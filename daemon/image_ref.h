/* Image references as clients write them: "host" (the host's own /usr, as
 * boxes had before images), "default" (images.default), "name:tag" or
 * "sha256:<64 hex>" (exactly one image).  Moving tags ("latest", "lts")
 * are refused: an image is pinned by a fixed tag or a digest. */
#ifndef ISOL8D_IMAGE_REF_H
#define ISOL8D_IMAGE_REF_H

#include "error.h"
#include "sandbox/image_mount.h"

#include <stdbool.h>

#define IMAGE_NAME_MAX 64
/* images.default's value for each runtime's base image (image_store.h);
 * never a reference, which has a tag. */
#define IMAGE_DEFAULT_AUTO "auto"
#define IMAGE_TAG_MAX 128

enum image_ref_kind {
	IMAGE_REF_HOST,
	IMAGE_REF_DEFAULT,
	IMAGE_REF_DIGEST,
	IMAGE_REF_TAG
};

struct image_ref {
	enum image_ref_kind kind;
	char name[IMAGE_NAME_MAX + 1];
	char tag[IMAGE_TAG_MAX + 1];
	char digest[IMAGE_HEX_LEN + 1]; /* IMAGE_REF_DIGEST */
};

/* Parses ref; on error -EINVAL with e's message naming field and saying
 * what to write instead. */
int image_ref_parse(const char *field, const char *ref, struct image_ref *out,
		    struct error *e);

/* Whether s is 64 lower-case hex digits. */
bool image_hex_valid(const char *s);

#endif
