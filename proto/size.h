/* Human size strings as isol8 accepts them: "512m", "1g", "256k", "1.5g",
 * plain bytes; 1024-based; case-insensitive; an optional trailing "b". */
#ifndef ISOL8_SIZE_H
#define ISOL8_SIZE_H

#include <stddef.h>
#include <stdint.h>

/* 0, or -EINVAL for a bad format, -ERANGE past UINT64_MAX. */
int size_parse(const char *s, uint64_t *out);
/* The shortest exact form of bytes, such as "512m" (536870912) or "1536":
 * what size_parse reads back. */
void size_format(char *buf, size_t len, uint64_t bytes);
/* The isol8 error text for a bad size value. */
void size_format_error(char *buf, size_t len, const char *value);

#endif
