/* Standard base64 (RFC 4648, with padding), for file contents on the wire. */
#ifndef ISOL8_BASE64_H
#define ISOL8_BASE64_H

#include <stddef.h>

/* Returns a NUL-terminated encoding (caller frees) or NULL. */
char *base64_encode(const void *data, size_t len);
/* Decodes into a fresh buffer (caller frees); -EINVAL on bad input. */
int base64_decode(const char *text, size_t len, unsigned char **out,
		  size_t *out_len);

#endif
