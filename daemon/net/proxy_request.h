/* The head of a request a box sends to the daemon's proxy: CONNECT
 * host:port, or a plain HTTP request in absolute form (or origin form
 * with a Host header), and the head to forward upstream for the latter.
 * Input from the box is untrusted: every field is bounded and checked. */
#ifndef ISOL8D_PROXY_REQUEST_H
#define ISOL8D_PROXY_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define PROXY_HEAD_MAX 16384
#define PROXY_HOST_MAX 253

struct proxy_request {
	char method[24];
	char host[PROXY_HOST_MAX + 1]; /* lower case, IPv6 without brackets */
	uint16_t port;
	bool tunnel; /* CONNECT */
	char *path;  /* forwarded: the origin-form target; NULL for CONNECT */
	char *upstream; /* forwarded: the head to send upstream */
	size_t upstream_len;
};

/* Parses head[0..len), which ends with the blank line.  0, or a negative
 * errno with a short reason for the box in e: -ENAMETOOLONG for a target
 * too long (answer 414), -ENOMEM (kind internal; answer 500), else -EINVAL
 * (answer 400).  proxy_request_status() gives the status. */
int proxy_request_parse(const char *head, size_t len, struct proxy_request *out,
			struct error *e);
/* The HTTP status that answers proxy_request_parse()'s error r. */
int proxy_request_status(int r);
void proxy_request_free(struct proxy_request *r);

/* The length of the head at the start of buf (through "\r\n\r\n"), or 0
 * when it is not complete yet. */
size_t proxy_head_length(const char *buf, size_t len);

#endif
