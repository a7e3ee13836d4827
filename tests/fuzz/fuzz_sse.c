/* Fuzz target: an event stream as a remote isol8 server sends it to
 * isol8ctl --host, fed whole and fed in pieces cut where the input says.
 *
 * Invariants checked besides memory safety:
 * - how the stream is cut never changes the events that come out, their
 *   types and data, byte for byte, nor the error that ends them;
 * - data is NUL-terminated at its length;
 * - nothing is dispatched past the size limit. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sse.h"

#define MAX 4096 /* a small limit, so that it is reached */

struct record {
	struct strbuf all; /* type NUL len data, per event */
	size_t events;
};

static int on_event(void *userdata, const char *type, const char *data,
		    size_t len)
{
	struct record *r = userdata;
	if (data[len] != '\0' || len > MAX || strlen(type) > MAX)
		abort();
	char lenbuf[sizeof(size_t)];
	memcpy(lenbuf, &len, sizeof(len));
	if (strbuf_add(&r->all, type, strlen(type) + 1) < 0 ||
	    strbuf_add(&r->all, lenbuf, sizeof(lenbuf)) < 0 ||
	    strbuf_add(&r->all, data, len) < 0)
		return -ENOMEM;
	r->events++;
	return 0;
}

static int feed(const uint8_t *data, size_t size, size_t step, struct record *r)
{
	struct sse_parser p;
	sse_init(&p, MAX, on_event, r);
	int err = 0;
	for (size_t off = 0; off < size && !err;) {
		size_t n = step && step < size - off ? step : size - off;
		err = sse_feed(&p, (const char *)data + off, n);
		off += n;
	}
	sse_free(&p);
	return err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record whole = { 0 }, cut = { 0 };
	int a = feed(data, size, 0, &whole);
	int b = feed(data, size, size ? data[0] % 7 + 1 : 1, &cut);
	if (a != b || whole.events != cut.events ||
	    whole.all.len != cut.all.len ||
	    (whole.all.len &&
	     memcmp(whole.all.p, cut.all.p, whole.all.len) != 0))
		abort();
	strbuf_free(&whole.all);
	strbuf_free(&cut.all);
	return 0;
}
