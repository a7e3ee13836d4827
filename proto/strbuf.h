/* A growing byte buffer that always keeps a NUL after its contents. */
#ifndef ISOL8_STRBUF_H
#define ISOL8_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *p; /* NULL until the first byte */
	size_t len, cap;
};

/* Appends n bytes; 0 or -ENOMEM (the buffer is left as it was). */
int strbuf_add(struct strbuf *b, const void *data, size_t n);
/* Room for n more bytes and a NUL past len; 0 or -ENOMEM. */
int strbuf_reserve(struct strbuf *b, size_t n);
/* Empties the buffer, keeping its memory for what comes next. */
void strbuf_reset(struct strbuf *b);
void strbuf_free(struct strbuf *b);

#endif
