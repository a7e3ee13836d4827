#include "sse.h"

#include <errno.h>
#include <string.h>

void sse_init(struct sse_parser *p, size_t max, sse_event_fn on_event,
	      void *userdata)
{
	*p = (struct sse_parser){
		.on_event = on_event,
		.userdata = userdata,
		.max = max ? max : SSE_DEFAULT_MAX,
	};
}

void sse_free(struct sse_parser *p)
{
	strbuf_free(&p->line);
	strbuf_free(&p->data);
	strbuf_free(&p->type);
}

static int buf_add(struct strbuf *b, const char *s, size_t n, size_t max)
{
	return n > max - b->len ? -EMSGSIZE : strbuf_add(b, s, n);
}

static int dispatch(struct sse_parser *p)
{
	int r = 0;
	/* An event without a data field is not dispatched (the spec's "data
	 * buffer is empty"), but "data:" alone is an empty event. */
	if (p->has_data)
		r = p->on_event(p->userdata,
				p->type.len ? p->type.p : "message",
				p->data.p ? p->data.p : "", p->data.len);
	strbuf_reset(&p->data);
	strbuf_reset(&p->type);
	p->has_data = false;
	return r;
}

static bool field_is(const char *s, size_t n, const char *name)
{
	return n == strlen(name) && memcmp(s, name, n) == 0;
}

static int process_line(struct sse_parser *p, const char *s, size_t n)
{
	if (!p->started) {
		p->started = true;
		if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
			s += 3;
			n -= 3;
		}
	}
	if (n == 0)
		return dispatch(p);
	if (s[0] == ':')
		return 0;
	const char *colon = memchr(s, ':', n);
	size_t name_len = colon ? (size_t)(colon - s) : n;
	const char *v = colon ? colon + 1 : s + n;
	size_t vlen = n - (size_t)(v - s);
	if (vlen && *v == ' ') {
		v++;
		vlen--;
	}
	if (field_is(s, name_len, "data")) {
		int r = p->has_data ? buf_add(&p->data, "\n", 1, p->max) : 0;
		p->has_data = true;
		return r < 0 ? r : buf_add(&p->data, v, vlen, p->max);
	}
	if (field_is(s, name_len, "event")) {
		strbuf_reset(&p->type);
		return buf_add(&p->type, v, vlen, p->max);
	}
	return 0;
}

int sse_feed(struct sse_parser *p, const char *buf, size_t len)
{
	size_t i = 0;
	while (i < len) {
		if (p->after_cr) {
			p->after_cr = false;
			if (buf[i] == '\n') {
				i++;
				continue;
			}
		}
		size_t j = i;
		while (j < len && buf[j] != '\n' && buf[j] != '\r')
			j++;
		if (j == len)
			return buf_add(&p->line, buf + i, len - i, p->max);
		const char *s = buf + i;
		size_t n = j - i;
		/* A line begun in an earlier piece is completed in its
		 * buffer; a whole one is read where it lies. */
		if (p->line.len) {
			int r = buf_add(&p->line, s, n, p->max);
			if (r < 0)
				return r;
			s = p->line.p;
			n = p->line.len;
		}
		p->after_cr = buf[j] == '\r';
		int r = process_line(p, s, n);
		strbuf_reset(&p->line);
		if (r < 0)
			return r;
		i = j + 1;
	}
	return 0;
}
