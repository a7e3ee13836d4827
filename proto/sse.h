/* Server-Sent Events (the WHATWG HTML "event stream" format), parsed from
 * bytes that may arrive in pieces of any size: lines end with CRLF, LF or
 * CR, lines starting with ':' are comments, data fields of one event are
 * joined with '\n', an empty line dispatches.  Reconnection fields (id,
 * retry) are read past: a client of one request has no use for them. */
#ifndef ISOL8_SSE_H
#define ISOL8_SSE_H

#include "strbuf.h"

#include <stdbool.h>
#include <stddef.h>

/* An event's data, NUL-terminated, len bytes (it may hold NULs itself).
 * type is the event field or "message".  0 to go on; a negative errno
 * stops sse_feed, which returns it. */
typedef int (*sse_event_fn)(void *userdata, const char *type, const char *data,
			    size_t len);

struct sse_parser {
	sse_event_fn on_event;
	void *userdata;
	size_t max;	    /* bytes one line or one event's data may hold */
	struct strbuf line; /* a line whose end has not come yet */
	struct strbuf data; /* the event's data lines so far */
	struct strbuf type; /* the event's event field */
	bool has_data;	    /* a data field was seen (it may be empty) */
	bool after_cr;	    /* a '\n' next ends nothing: CRLF */
	bool started;	    /* past a leading byte order mark */
};

/* max 0 means SSE_DEFAULT_MAX. */
#define SSE_DEFAULT_MAX ((size_t)64 * 1024 * 1024)

void sse_init(struct sse_parser *p, size_t max, sse_event_fn on_event,
	      void *userdata);
/* 0, -EMSGSIZE past max, -ENOMEM, or the callback's error. */
int sse_feed(struct sse_parser *p, const char *buf, size_t len);
void sse_free(struct sse_parser *p);

#endif
