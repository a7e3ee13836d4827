/* Standard base64 (RFC 4648, with padding), for file contents on the wire. */
#ifndef ISOL8_BASE64_H
#define ISOL8_BASE64_H

#include <stddef.h>

/* Returns a NUL-terminated encoding (caller frees) or NULL. */
char *base64_encode(const void *data, size_t len);
/* Encodes into out, which has room for (len + 2) / 3 * 4 + 1 bytes (the
 * last a NUL); returns the characters written before the NUL.  Pieces of
 * whole 3-byte groups encode to pieces of the whole's encoding. */
size_t base64_encode_to(const void *data, size_t len, char *out);
/* Decodes into a fresh buffer (caller frees); -EINVAL on bad input. */
int base64_decode(const char *text, size_t len, unsigned char **out,
		  size_t *out_len);

#endif
