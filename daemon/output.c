#include "output.h"

#include "utf8.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MASK "***"

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
	strbuf_free(&o->pending);
	strbuf_free(&o->text);
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
	struct strbuf masked = { 0 };
	size_t keep =
		final || o->longest_secret == 0 ? 0 : o->longest_secret - 1;
	size_t i = 0;
	int r = 0;
	if (o->longest_secret == 0) {
		r = strbuf_add(&masked, o->pending.p, o->pending.len);
		i = o->pending.len;
	}
	/* Only where every secret could be compared whole, so a short one
	 * cannot be taken for the start of a longer one still arriving. */
	while (r == 0 && i < o->pending.len && o->pending.len - i > keep) {
		size_t l = secret_at(o, o->pending.p + i, o->pending.len - i);
		if (l) {
			r = strbuf_add(&masked, MASK, strlen(MASK));
			i += l;
		} else
			r = strbuf_add(&masked, o->pending.p + i++, 1);
		if (r < 0)
			goto out;
	}
	struct strbuf fixed = { 0 };
	long used = masked.len
			    ? utf8_repair(masked.p, masked.len, final, &fixed)
			    : 0;
	if (used < 0) {
		r = -ENOMEM;
		strbuf_free(&fixed);
		goto out;
	}
	/* Bytes of an incomplete character go back in front of the tail. */
	size_t back = masked.len - (size_t)used;
	size_t tail = o->pending.len - i;
	if (tail)
		memmove(o->pending.p + back, o->pending.p + i, tail);
	if (back)
		memcpy(o->pending.p, masked.p + used, back);
	o->pending.len = back + tail;
	if (o->pending.p)
		o->pending.p[o->pending.len] = '\0';
	if (fixed.len) {
		r = strbuf_add(&o->text, fixed.p, fixed.len);
		if (r == 0 && emit)
			emit(fixed.p, fixed.len, userdata);
	}
	strbuf_free(&fixed);
out:
	strbuf_free(&masked);
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
	if (strbuf_add(&o->pending, data, len) < 0)
		return -ENOMEM;
	return drain(o, false, emit, userdata);
}

int output_finish(struct output *o, output_emit_fn emit, void *userdata)
{
	return drain(o, true, emit, userdata);
}
