/* Fuzz target: image references as clients write them (options.image,
 * params.ref), whose names become file names in the image store.
 *
 * Invariants checked besides memory safety:
 * - a reference is accepted or refused with -EINVAL and a message;
 * - an accepted name or tag never holds '/', never is "." or "..", never
 *   starts with '.' or '-', and a digest is 64 lower-case hex digits;
 * - "latest" and "lts" are never accepted as tags. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "image_ref.h"

static void check_word(const char *w)
{
	if (!w[0] || strchr(w, '/') || w[0] == '.' || w[0] == '-')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char ref[512];
	if (size >= sizeof(ref))
		return 0;
	memcpy(ref, data, size);
	ref[size] = '\0';
	struct image_ref r;
	struct error e = { 0 };
	int ret = image_ref_parse("options.image", ref, &r, &e);
	if (ret == -EINVAL) {
		if (!e.message[0])
			abort();
		return 0;
	}
	if (ret != 0)
		abort();
	if (r.kind == IMAGE_REF_DIGEST && !image_hex_valid(r.digest))
		abort();
	if (r.kind == IMAGE_REF_TAG) {
		check_word(r.name);
		check_word(r.tag);
		if (!strcasecmp(r.tag, "latest") || !strcasecmp(r.tag, "lts"))
			abort();
	}
	return 0;
}
