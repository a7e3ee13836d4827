/* One output stream of an execution (stdout or stderr): secret masking
 * that also catches a secret split across reads, then the size cap with
 * truncation (so a cut never shows part of a secret), and UTF-8 repair so
 * every emitted piece is valid JSON text. */
#ifndef ISOL8D_OUTPUT_H
#define ISOL8D_OUTPUT_H

#include "secret_mask.h"
#include "strbuf.h"

#include <stdbool.h>
#include <stddef.h>

struct output {
	size_t max;	  /* masked bytes kept; the rest is read and dropped */
	size_t raw_total; /* raw bytes seen */
	size_t kept;	  /* masked bytes kept */
	bool truncated;
	int err; /* -ENOMEM once a piece could not be kept */
	struct mask_stream mask;
	struct strbuf pending; /* masked bytes of an incomplete character */
	struct strbuf text;    /* everything emitted so far */
};

/* Called with each piece as it becomes final (masked, valid UTF-8). */
typedef void (*output_emit_fn)(const char *data, size_t len, void *userdata);

/* mask: borrowed, may be NULL. */
void output_init(struct output *o, size_t max, const struct secret_mask *mask);
void output_free(struct output *o);
int output_feed(struct output *o, const char *data, size_t len,
		output_emit_fn emit, void *userdata);
/* Flushes what was held back (at end of stream). */
int output_finish(struct output *o, output_emit_fn emit, void *userdata);

#endif
