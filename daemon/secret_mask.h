/* Masking an execution's secret values in whatever the box controls:
 * every occurrence becomes "***", in text that comes whole (an error
 * message, a network log field) or in pieces (output read from a pipe,
 * where a secret may be split across reads).  Overlapping occurrences
 * make one "***"; side by side, one each.  Matching is Aho-Corasick, so
 * the work per byte does not grow with the number or length of the
 * secrets. */
#ifndef ISOL8D_SECRET_MASK_H
#define ISOL8D_SECRET_MASK_H

#include "strbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SECRET_MASK_TEXT "***"
/* What all values of one request may add up to. */
#define SECRETS_MAX_BYTES 65536

struct secret_mask;

/* values: NULL-terminated, or NULL; empty ones match nothing.  Each is
 * also masked in ASCII lower case (the proxy folds host names).  Nothing
 * is borrowed.  -E2BIG when they add up to more than SECRETS_MAX_BYTES. */
int secret_mask_new(const char *const *values, struct secret_mask **out);
void secret_mask_free(struct secret_mask *m);

/* text masked whole, as a new string (m may be NULL); NULL when out of
 * memory. */
char *secret_mask_text(const struct secret_mask *m, const char *text);

/* Each final piece in order: plain bytes, or (mask) one "***". */
typedef void (*mask_emit_fn)(void *userdata, const char *data, size_t len,
			     bool mask);

struct mask_span {
	size_t start, end; /* [start, end) in held */
};

struct mask_stream {
	const struct secret_mask *m; /* NULL: nothing to mask */
	uint32_t state;		     /* the automaton's after the last byte */
	struct strbuf held;	     /* bytes a secret may still cover */
	struct mask_span *spans;     /* found in held, in order, disjoint */
	size_t nspans, cap;
};

void mask_stream_init(struct mask_stream *s, const struct secret_mask *m);
void mask_stream_free(struct mask_stream *s);
/* Masks len more bytes and emits what is final: all of it at the end,
 * else all but what could still begin a secret.  0 or -ENOMEM. */
int mask_stream_feed(struct mask_stream *s, const char *data, size_t len,
		     bool end, mask_emit_fn emit, void *userdata);

#endif
