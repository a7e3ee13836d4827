#include "image_ref.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define bad(e, ...) error_set(e, ERR_INVALID_ARGUMENT, EINVAL, __VA_ARGS__)

bool image_hex_valid(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");
	return n == IMAGE_HEX_LEN && s[n] == '\0';
}

/* Names and tags become file names in the store: a restricted alphabet,
 * no leading dot or dash, so never "..", a slash or an option. */
static bool word_valid(const char *s, size_t len, size_t max, const char *first,
		       const char *rest)
{
	return len >= 1 && len <= max && strchr(first, s[0]) &&
	       strspn(s + 1, rest) == len - 1;
}

#define LOWER "abcdefghijklmnopqrstuvwxyz0123456789"
#define UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

static bool moving(const char *tag)
{
	return strcasecmp(tag, "latest") == 0 || strcasecmp(tag, "lts") == 0;
}

int image_ref_parse(const char *field, const char *ref, struct image_ref *out,
		    struct error *e)
{
	memset(out, 0, sizeof(*out));
	if (strcmp(ref, "host") == 0) {
		out->kind = IMAGE_REF_HOST;
		return 0;
	}
	if (strcmp(ref, "default") == 0) {
		out->kind = IMAGE_REF_DEFAULT;
		return 0;
	}
	if (strncmp(ref, "sha256:", 7) == 0) {
		if (!image_hex_valid(ref + 7))
			return bad(e,
				   "%s: \"%.80s\" is not a digest: sha256: "
				   "takes 64 lower-case hex digits",
				   field, ref);
		out->kind = IMAGE_REF_DIGEST;
		memcpy(out->digest, ref + 7, IMAGE_HEX_LEN);
		return 0;
	}
	const char *colon = strchr(ref, ':');
	size_t nlen = colon ? (size_t)(colon - ref) : strlen(ref);
	const char *tag = colon ? colon + 1 : NULL;
	if (moving(ref) || (tag && moving(tag)))
		return bad(e,
			   "%s: \"%.80s\" names a moving tag, which can point "
			   "at a different image tomorrow; pin a fixed tag "
			   "(name:tag) or a digest (sha256:...)",
			   field, ref);
	if (!word_valid(ref, nlen, IMAGE_NAME_MAX, LOWER, LOWER "._-"))
		return bad(e,
			   "%s: \"%.80s\" is not an image name: name:tag, with "
			   "a name of 1 to %d characters from a-z, 0-9, '.', "
			   "'_' and '-' (not first), or sha256:<digest>, "
			   "\"host\" or \"default\"",
			   field, ref, IMAGE_NAME_MAX);
	if (!tag)
		return bad(e,
			   "%s: \"%.80s\" has no tag; name one (%.*s:TAG) or "
			   "a digest (sha256:...)",
			   field, ref, (int)nlen, ref);
	if (!word_valid(tag, strlen(tag), IMAGE_TAG_MAX, LOWER UPPER "_",
			LOWER UPPER "_.-"))
		return bad(e,
			   "%s: \"%.80s\" has a bad tag: 1 to %d characters "
			   "from A-Z, a-z, 0-9, '_', '.' and '-', not "
			   "starting with '.' or '-'",
			   field, ref, IMAGE_TAG_MAX);
	out->kind = IMAGE_REF_TAG;
	memcpy(out->name, ref, nlen);
	snprintf(out->tag, sizeof(out->tag), "%s", tag);
	return 0;
}
