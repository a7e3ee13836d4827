#include "output.h"

#include "utf8.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MASK "***"

int text_buf_append(struct text_buf *b, const char *data, size_t len)
{
	if (!b->data || b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + len + 1)
			cap *= 2;
		char *n = realloc(b->data, cap);
		if (!n)
			return -ENOMEM;
		b->data = n;
		b->cap = cap;
	}
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

long utf8_repair(const char *in, size_t len, bool final, struct text_buf *out)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, run = 0;
	while (i < len) {
		int n = utf8_seq(s + i, len - i);
		if (n > 0) {
			i += (size_t)n;
			continue;
		}
		if (n < 0 && !final)
			break;
		if (text_buf_append(out, in + run, i - run) < 0 ||
		    text_buf_append(out, "\xef\xbf\xbd", 3) < 0)
			return -ENOMEM;
		i++;
		run = i;
	}
	if (text_buf_append(out, in + run, i - run) < 0)
		return -ENOMEM;
	return (long)i;
}

void output_init(struct output *o, size_t max, const char *const *secrets)
{
	memset(o, 0, sizeof(*o));
	o->max = max;
	o->secrets = secrets;
	for (size_t i = 0; secrets && secrets[i]; i++) {
		size_t l = strlen(secrets[i]);
		if (l > o->longest_secret)
			o->longest_secret = l;
	}
}

void output_free(struct output *o)
{
	free(o->pending);
	free(o->text);
	memset(o, 0, sizeof(*o));
}

static size_t secret_at(const struct output *o, const char *p, size_t avail)
{
	size_t best = 0;
	/* The longest secret that starts here: a shorter one that is its
	 * prefix must not leave the rest of it in the clear. */
	for (size_t i = 0; o->secrets && o->secrets[i]; i++) {
		size_t l = strlen(o->secrets[i]);
		if (l > best && l <= avail && memcmp(p, o->secrets[i], l) == 0)
			best = l;
	}
	return best;
}

/* Masks pending bytes, keeping back a tail a secret could still start in
 * (and an incomplete UTF-8 sequence), and emits the rest. */
static int drain(struct output *o, bool final, output_emit_fn emit,
		 void *userdata)
{
	struct text_buf masked = { 0 };
	size_t keep = final || o->longest_secret == 0 ? 0
						      : o->longest_secret - 1;
	size_t i = 0;
	int r = 0;
	if (o->longest_secret == 0) {
		r = text_buf_append(&masked, o->pending, o->pend_len);
		i = o->pend_len;
	}
	/* Only where every secret could be compared whole, so a short one
	 * cannot be taken for the start of a longer one still arriving. */
	while (r == 0 && i < o->pend_len && o->pend_len - i > keep) {
		size_t l = secret_at(o, o->pending + i, o->pend_len - i);
		if (l) {
			r = text_buf_append(&masked, MASK, strlen(MASK));
			i += l;
		} else
			r = text_buf_append(&masked, o->pending + i++, 1);
		if (r < 0)
			goto out;
	}
	struct text_buf fixed = { 0 };
	long used = masked.len ? utf8_repair(masked.data, masked.len, final,
					     &fixed)
			       : 0;
	if (used < 0) {
		r = -ENOMEM;
		free(fixed.data);
		goto out;
	}
	/* Bytes of an incomplete character go back in front of the tail. */
	size_t back = masked.len - (size_t)used;
	size_t tail = o->pend_len - i;
	if (tail)
		memmove(o->pending + back, o->pending + i, tail);
	if (back)
		memcpy(o->pending, masked.data + used, back);
	o->pend_len = back + tail;
	if (fixed.len) {
		struct text_buf t = { o->text, o->text_len, o->text_cap };
		r = text_buf_append(&t, fixed.data, fixed.len);
		o->text = t.data;
		o->text_len = t.len;
		o->text_cap = t.cap;
		if (r == 0 && emit)
			emit(fixed.data, fixed.len, userdata);
	}
	free(fixed.data);
out:
	free(masked.data);
	return r;
}

int output_feed(struct output *o, const char *data, size_t len,
		output_emit_fn emit, void *userdata)
{
	size_t room = o->raw_total < o->max ? o->max - o->raw_total : 0;
	o->raw_total += len;
	if (len > room) {
		o->truncated = true;
		len = room;
	}
	if (len == 0)
		return 0;
	if (o->pend_len + len > o->pend_cap) {
		size_t cap = o->pend_cap ? o->pend_cap : 4096;
		while (cap < o->pend_len + len)
			cap *= 2;
		char *n = realloc(o->pending, cap);
		if (!n)
			return -ENOMEM;
		o->pending = n;
		o->pend_cap = cap;
	}
	memcpy(o->pending + o->pend_len, data, len);
	o->pend_len += len;
	return drain(o, false, emit, userdata);
}

int output_finish(struct output *o, output_emit_fn emit, void *userdata)
{
	return drain(o, true, emit, userdata);
}
