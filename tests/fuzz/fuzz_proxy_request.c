/* Fuzz target: a request head as a box sends it to the proxy (or to port
 * 80, intercepted), through the head finder and the parser that decides
 * what the filter sees and what goes upstream.
 *
 * Invariants checked besides memory safety:
 * - a head ends with the first blank line;
 * - the parser answers 0 or one of the documented statuses, with a reason;
 * - on 0 the host is non-empty, lower case, within its limit and made of
 *   host name characters (or an IPv6 address), the port is not 0;
 * - a forwarded request goes upstream with exactly one Host header, naming
 *   the host the filter saw (in some spelling of it), exactly one
 *   "Connection: close", no other hop-by-hop header, and nothing after
 *   its own blank line, so that what reaches the upstream is the one
 *   request the filter decided on. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/net_policy.h"
#include "net/proxy_request.h"

static size_t count_headers(const char *head, size_t len, const char *name)
{
	size_t n = 0, nlen = strlen(name);
	const char *end = head + len;
	for (const char *line = memmem(head, len, "\r\n", 2); line;) {
		line += 2;
		if ((size_t)(end - line) > nlen &&
		    strncasecmp(line, name, nlen) == 0 && line[nlen] == ':')
			n++;
		line = memmem(line, (size_t)(end - line), "\r\n", 2);
	}
	return n;
}

/* The name in the Host header of head, lower case, without its port or
 * brackets. */
static bool host_value(const char *head, size_t len, char *out, size_t size)
{
	const char *end = head + len;
	for (const char *line = memmem(head, len, "\r\n", 2); line;) {
		line += 2;
		const char *eol = memmem(line, (size_t)(end - line), "\r\n", 2);
		if (!eol)
			return false;
		if (eol - line > 5 && strncasecmp(line, "host:", 5) == 0) {
			const char *v = line + 5, *e = eol;
			while (v < e && (*v == ' ' || *v == '\t'))
				v++;
			while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			if (v < e && *v == '[') {
				v++;
				e = memchr(v, ']', (size_t)(e - v));
			} else {
				const char *colon =
					memchr(v, ':', (size_t)(e - v));
				if (colon)
					e = colon;
			}
			if (!e || (size_t)(e - v) >= size)
				return false;
			for (size_t i = 0; i < (size_t)(e - v); i++)
				out[i] = (char)tolower((unsigned char)v[i]);
			out[e - v] = '\0';
			return true;
		}
		line = eol;
	}
	return false;
}

static void check_host(const struct proxy_request *r)
{
	size_t n = strlen(r->host);
	if (n == 0 || n > PROXY_HOST_MAX || r->port == 0)
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)r->host[i];
		if (isupper(c) || !(isalnum(c) || c == '-' || c == '.' ||
				    c == '_' || c == ':'))
			abort();
	}
}

static void check_upstream(const struct proxy_request *r)
{
	const char *u = r->upstream;
	size_t len = r->upstream_len;
	if (!u || !r->path || len < 4 || memcmp(u + len - 4, "\r\n\r\n", 4))
		abort();
	if (memmem(u, len, "\r\n\r\n", 4) != u + len - 4)
		abort();
	if (count_headers(u, len, "host") != 1 ||
	    count_headers(u, len, "connection") != 1 ||
	    !memmem(u, len, "\r\nConnection: close\r\n", 21) ||
	    count_headers(u, len, "proxy-connection") != 0 ||
	    count_headers(u, len, "keep-alive") != 0 ||
	    count_headers(u, len, "proxy-authorization") != 0)
		abort();
	/* The Host sent names the host decided on, in whatever spelling. */
	char host[PROXY_HOST_MAX + 1];
	if (!host_value(u, len, host, sizeof(host)) ||
	    !net_host_canonical(host, sizeof(host)) ||
	    strcmp(host, r->host) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	size_t n = proxy_head_length(buf, size);
	if (n) {
		if (n < 4 || n > size || memcmp(buf + n - 4, "\r\n\r\n", 4) ||
		    memmem(buf, n, "\r\n\r\n", 4) != buf + n - 4)
			abort();
	} else if (memmem(buf, size, "\r\n\r\n", 4)) {
		abort();
	}
	if (!n)
		return 0;
	struct proxy_request r;
	struct error why = { 0 };
	int st = proxy_request_parse(buf, n, &r, &why);
	if (st != 0) {
		if ((st != -EINVAL && st != -ENAMETOOLONG && st != -ENOMEM) ||
		    !why.message[0])
			abort();
		return 0;
	}
	check_host(&r);
	if (r.tunnel) {
		if (r.path || r.upstream)
			abort();
	} else {
		check_upstream(&r);
	}
	proxy_request_free(&r);
	return 0;
}
