#include "output.h"

#include "utf8.h"

#include <errno.h>
#include <string.h>

void output_init(struct output *o, size_t max, const struct secret_mask *mask)
{
	memset(o, 0, sizeof(*o));
	o->max = max;
	mask_stream_init(&o->mask, mask);
}

void output_free(struct output *o)
{
	mask_stream_free(&o->mask);
	strbuf_free(&o->pending);
	strbuf_free(&o->text);
	memset(o, 0, sizeof(*o));
}

/* Keeps masked bytes up to the cap; a "***" is kept whole or not at all. */
static void keep(void *userdata, const char *data, size_t len, bool mask)
{
	struct output *o = userdata;
	if (o->truncated || o->err)
		return;
	size_t room = o->max - o->kept;
	if (len > room) {
		o->truncated = true;
		if (mask)
			return;
		len = room;
	}
	if (strbuf_add(&o->pending, data, len) < 0)
		o->err = -ENOMEM;
	else
		o->kept += len;
}

/* Emits the kept bytes as valid UTF-8, holding back an incomplete
 * character unless final.  A character the cap cut is dropped. */
static int drain(struct output *o, bool final, output_emit_fn emit,
		 void *userdata)
{
	if (o->err || !o->pending.len)
		return o->err;
	struct strbuf fixed = { 0 };
	long used = utf8_repair(o->pending.p, o->pending.len,
				final && !o->truncated, &fixed);
	if (used < 0) {
		strbuf_free(&fixed);
		return -ENOMEM;
	}
	size_t rest = final ? 0 : o->pending.len - (size_t)used;
	memmove(o->pending.p, o->pending.p + used, rest);
	o->pending.len = rest;
	o->pending.p[rest] = '\0';
	int r = 0;
	if (fixed.len) {
		r = strbuf_add(&o->text, fixed.p, fixed.len);
		if (r == 0 && emit)
			emit(fixed.p, fixed.len, userdata);
	}
	strbuf_free(&fixed);
	return r;
}

int output_feed(struct output *o, const char *data, size_t len,
		output_emit_fn emit, void *userdata)
{
	o->raw_total += len;
	if (o->truncated || len == 0)
		return o->err;
	int r = mask_stream_feed(&o->mask, data, len, false, keep, o);
	return r < 0 ? r : drain(o, false, emit, userdata);
}

int output_finish(struct output *o, output_emit_fn emit, void *userdata)
{
	int r = 0;
	if (!o->truncated)
		r = mask_stream_feed(&o->mask, NULL, 0, true, keep, o);
	return r < 0 ? r : drain(o, true, emit, userdata);
}
