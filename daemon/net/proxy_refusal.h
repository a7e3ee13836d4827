/* The egress proxy's own answers to a box: a plain-text HTTP response,
 * or a TLS alert where the box spoke TLS. */
#ifndef ISOL8D_NET_PROXY_REFUSAL_H
#define ISOL8D_NET_PROXY_REFUSAL_H

#include <stddef.h>

/* The answer to a client that came in by `way` (EGRESS_*): inside TLS a
 * fatal alert, as an HTTP answer would be noise there; else an HTTP
 * response with status, reason and body.  Its length in *len; NULL when
 * out of memory. */
char *proxy_refusal(int way, int status, const char *reason, const char *body,
		    size_t *len);

#endif
