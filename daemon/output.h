/* One output stream of an execution (stdout or stderr): the size cap with
 * truncation, secret masking that also catches a secret split across two
 * reads, and UTF-8 repair so every emitted piece is valid JSON text. */
#ifndef ISOL8D_OUTPUT_H
#define ISOL8D_OUTPUT_H

#include "strbuf.h"

#include <stdbool.h>
#include <stddef.h>

struct output {
	size_t max;	  /* raw bytes kept; the rest is read and dropped */
	size_t raw_total; /* raw bytes seen */
	bool truncated;
	const char *const *secrets; /* NULL-terminated; borrowed */
	size_t longest_secret;
	struct strbuf pending; /* raw bytes held back for masking or UTF-8 */
	struct strbuf text;    /* everything emitted so far */
};

/* Called with each piece as it becomes final (masked, valid UTF-8). */
typedef void (*output_emit_fn)(const char *data, size_t len, void *userdata);

void output_init(struct output *o, size_t max, const char *const *secrets);
void output_free(struct output *o);
int output_feed(struct output *o, const char *data, size_t len,
		output_emit_fn emit, void *userdata);
/* Flushes what was held back (at end of stream). */
int output_finish(struct output *o, output_emit_fn emit, void *userdata);

#endif
