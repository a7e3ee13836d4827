/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
#ifndef ISOL8_UTF8_H
#define ISOL8_UTF8_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf;

/* Length (1..4) of the valid sequence at s, 0 if invalid, -1 if it is a
 * valid but incomplete prefix of avail bytes. */
int utf8_seq(const unsigned char *s, size_t avail);
bool utf8_valid(const char *s, size_t len);
/* The longest prefix of s, at most max bytes, that ends on a character
 * boundary. */
size_t utf8_prefix(const char *s, size_t max);
/* Replaces invalid UTF-8 in in[0..len) with U+FFFD, appending to out.
 * Unless final, an incomplete sequence at the end is left unconsumed;
 * returns the number of input bytes consumed or -ENOMEM. */
long utf8_repair(const char *in, size_t len, bool final, struct strbuf *out);

#endif
