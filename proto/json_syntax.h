/* RFC 8259 syntax check, with a reason for what other dialects allow
 * (single quotes, raw control characters, "1." and "01", lone surrogate
 * escapes, NaN and Infinity).  json_build trusts what it passes. */
#ifndef ISOL8_JSON_SYNTAX_H
#define ISOL8_JSON_SYNTAX_H

#include <stddef.h>

#include "error.h"

/* The deepest nesting json_syntax_check can follow; a larger max_depth
 * counts as this. */
#define JSON_SYNTAX_DEPTH_MAX 1024

/* 0 when text[0..len) is exactly one JSON value per RFC 8259 (with optional
 * surrounding whitespace), else -EINVAL with a short reason and the 0-based
 * byte offset in e (which may be NULL), e.g. "invalid JSON at byte 7: control character in a
 * string".  At most max_depth arrays and objects may be open at once (too
 * deep: "nesting deeper than N").  Iterative, does not allocate, never reads
 * text[len].  Assumes text is valid UTF-8 already. */
int json_syntax_check(const char *text, size_t len, unsigned max_depth,
		      struct error *e);

#endif
