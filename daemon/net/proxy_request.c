#include "proxy_request.h"

#include "net_policy.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TARGET_MAX 8192

size_t proxy_head_length(const char *buf, size_t len)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	return end ? (size_t)(end - buf) + 4 : 0;
}

static bool host_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

static bool v6_char(char c)
{
	return isxdigit((unsigned char)c) || c == ':' || c == '.';
}

/* "host[:port]" or "[v6][:port]" of len bytes into out->host and
 * out->port (default_port when absent, 0: a port is required). */
static bool parse_authority(const char *a, size_t len, uint16_t default_port,
			    struct proxy_request *out)
{
	size_t hlen, i;
	const char *h = a;
	if (len > 0 && a[0] == '[') {
		const char *close = memchr(a, ']', len);
		if (!close)
			return false;
		h = a + 1;
		hlen = (size_t)(close - h);
		/* Brackets hold an IPv6 address, never a name. */
		if (!memchr(h, ':', hlen))
			return false;
		for (i = 0; i < hlen; i++)
			if (!v6_char(h[i]))
				return false;
		i = (size_t)(close - a) + 1;
	} else {
		for (i = 0; i < len && a[i] != ':'; i++)
			if (!host_char(a[i]))
				return false;
		hlen = i;
	}
	if (hlen == 0 || hlen > PROXY_HOST_MAX)
		return false;
	unsigned long port = default_port;
	if (i < len) {
		if (a[i] != ':' || i + 1 == len || len - i - 1 > 5)
			return false;
		port = 0;
		for (size_t k = i + 1; k < len; k++) {
			if (!isdigit((unsigned char)a[k]))
				return false;
			port = port * 10 + (unsigned long)(a[k] - '0');
		}
	}
	if (port == 0 || port > 65535)
		return false;
	for (size_t k = 0; k < hlen; k++)
		out->host[k] = (char)tolower((unsigned char)h[k]);
	out->host[hlen] = '\0';
	out->port = (uint16_t)port;
	return net_host_canonical(out->host, sizeof(out->host));
}

/* Headers the proxy answers for itself, or replaces, rather than pass. */
static bool hop_by_hop(const char *name, size_t len)
{
	static const char *const names[] = { "connection", "keep-alive",
					     "proxy-connection",
					     "proxy-authorization", NULL };
	for (size_t i = 0; names[i]; i++)
		if (strlen(names[i]) == len &&
		    strncasecmp(name, names[i], len) == 0)
			return true;
	return false;
}

/* The head to send upstream: the request line in origin form, the
 * client's headers but the hop-by-hop ones (and its Host unless
 * keep_host: then the Host is the one the filter decided on), and
 * "Connection: close" so that one connection carries one request to the
 * host the filter allowed. */
/* A request the proxy refuses with 400 Bad Request, saying why. */
#define BAD_REQUEST(e, why)                                                    \
	error_set(e, ERR_INVALID_ARGUMENT, EINVAL, "%s", why)

static int build_upstream(const char *headers, size_t len, bool keep_host,
			  const char *version, struct proxy_request *r)
{
	size_t cap =
		len + strlen(r->method) + strlen(r->path) + PROXY_HOST_MAX + 96;
	char *out = malloc(cap);
	if (!out)
		return -ENOMEM;
	size_t n = (size_t)snprintf(out, cap, "%s %s %s\r\n", r->method,
				    r->path, version);
	for (size_t off = 0; off < len;) {
		const char *eol = memmem(headers + off, len - off, "\r\n", 2);
		size_t l = (size_t)(eol - (headers + off));
		const char *colon = memchr(headers + off, ':', l);
		size_t name_len = (size_t)(colon - (headers + off));
		bool is_host = name_len == 4 &&
			       strncasecmp(headers + off, "host", 4) == 0;
		if (!hop_by_hop(headers + off, name_len) &&
		    (keep_host || !is_host)) {
			memcpy(out + n, headers + off, l + 2);
			n += l + 2;
		}
		off += l + 2;
	}
	if (!keep_host) {
		bool v6 = strchr(r->host, ':') != NULL;
		n += (size_t)snprintf(out + n, cap - n, "Host: %s%s%s",
				      v6 ? "[" : "", r->host, v6 ? "]" : "");
		if (r->port != 80)
			n += (size_t)snprintf(out + n, cap - n, ":%u", r->port);
		n += (size_t)snprintf(out + n, cap - n, "\r\n");
	}
	n += (size_t)snprintf(out + n, cap - n, "Connection: close\r\n\r\n");
	r->upstream = out;
	r->upstream_len = n;
	return 0;
}

/* Checks every header line of headers[0..len) (each ending in CRLF) and
 * finds Host.  No folded lines, no bare CR or LF, a name before ':', and
 * one Host at most: the filter decides on the one the upstream reads.
 * NULL, or what is wrong. */
static const char *check_headers(const char *headers, size_t len,
				 const char **host, size_t *host_len)
{
	*host = NULL;
	for (size_t off = 0; off < len;) {
		const char *line = headers + off;
		const char *eol = memmem(line, len - off, "\r\n", 2);
		if (!eol)
			return "malformed header";
		size_t l = (size_t)(eol - line);
		const char *colon = memchr(line, ':', l);
		if (!colon || colon == line || line[0] == ' ' ||
		    line[0] == '\t')
			return "malformed header";
		for (size_t i = 0; i < l; i++)
			if (line[i] == '\r' || line[i] == '\n' ||
			    line[i] == '\0')
				return "malformed header";
		for (const char *c = line; c < colon; c++)
			if (!isgraph((unsigned char)*c))
				return "malformed header";
		if (colon - line == 4 && strncasecmp(line, "host", 4) == 0) {
			if (*host)
				return "more than one Host header";
			const char *v = colon + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			const char *e = eol;
			while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			*host = v;
			*host_len = (size_t)(e - v);
		}
		off += l + 2;
	}
	return NULL;
}

int proxy_request_parse(const char *head, size_t len, struct proxy_request *out,
			struct error *e)
{
	memset(out, 0, sizeof(*out));
	const char *why = "malformed request line";
	const char *eol = memmem(head, len, "\r\n", 2);
	if (!eol)
		return BAD_REQUEST(e, why);
	size_t line_len = (size_t)(eol - head);
	const char *sp1 = memchr(head, ' ', line_len);
	if (!sp1 || sp1 == head || (size_t)(sp1 - head) >= sizeof(out->method))
		return BAD_REQUEST(e, why);
	const char *target = sp1 + 1;
	const char *sp2 = memchr(target, ' ', (size_t)(eol - target));
	if (!sp2 || sp2 == target)
		return BAD_REQUEST(e, why);
	size_t target_len = (size_t)(sp2 - target);
	const char *version = sp2 + 1;
	size_t version_len = (size_t)(eol - version);
	if (version_len != 8 || (strncmp(version, "HTTP/1.1", 8) != 0 &&
				 strncmp(version, "HTTP/1.0", 8) != 0))
		return BAD_REQUEST(e, why);
	for (const char *c = head; c < sp1; c++)
		if (!isupper((unsigned char)*c) && *c != '-' && *c != '_')
			return BAD_REQUEST(e, why);
	memcpy(out->method, head, (size_t)(sp1 - head));
	out->method[sp1 - head] = '\0';
	if (target_len > TARGET_MAX)
		return error_set(e, ERR_INVALID_ARGUMENT, ENAMETOOLONG,
				 "request target too long");
	for (size_t i = 0; i < target_len; i++)
		if (!isgraph((unsigned char)target[i]))
			return BAD_REQUEST(e, why);

	const char *headers = eol + 2;
	size_t headers_len = len - (size_t)(headers - head) - 2;
	const char *host = NULL;
	size_t host_len = 0;
	const char *bad = check_headers(headers, headers_len, &host, &host_len);
	if (bad)
		return BAD_REQUEST(e, bad);
	why = "bad host or port";
	if (strcmp(out->method, "CONNECT") == 0) {
		out->tunnel = true;
		return parse_authority(target, target_len, 0, out)
			       ? 0
			       : BAD_REQUEST(e, why);
	}
	const char *path;
	bool keep_host = false;
	if (target_len > 7 && strncasecmp(target, "http://", 7) == 0) {
		const char *a = target + 7, *end = target + target_len;
		path = a;
		while (path < end && *path != '/' && *path != '?' &&
		       *path != '#')
			path++;
		if (memchr(a, '@', (size_t)(path - a)) ||
		    !parse_authority(a, (size_t)(path - a), 80, out))
			return BAD_REQUEST(e, why);
	} else if (target[0] == '/' && host) {
		if (!parse_authority(host, host_len, 80, out))
			return BAD_REQUEST(e, why);
		path = target;
		keep_host = true;
	} else {
		return BAD_REQUEST(e, target[0] == '/'
					      ? "no Host header"
					      : "only http:// targets and "
						"CONNECT are proxied");
	}
	/* Origin form upstream: a path before any query, no fragment. */
	size_t plen = target_len - (size_t)(path - target);
	const char *frag = memchr(path, '#', plen);
	if (frag)
		plen = (size_t)(frag - path);
	if (asprintf(&out->path, "%s%.*s", plen && *path == '/' ? "" : "/",
		     (int)plen, path) < 0) {
		out->path = NULL;
		return error_set(e, ERR_INTERNAL, ENOMEM, "out of memory");
	}
	char ver[9];
	memcpy(ver, version, 8);
	ver[8] = '\0';
	int r = build_upstream(headers, headers_len, keep_host, ver, out);
	if (r < 0) {
		proxy_request_free(out);
		return error_set(e, ERR_INTERNAL, r, "out of memory");
	}
	return 0;
}

int proxy_request_status(int r)
{
	return r == -ENAMETOOLONG ? 414 : r == -ENOMEM ? 500 : 400;
}

void proxy_request_free(struct proxy_request *r)
{
	free(r->path);
	free(r->upstream);
	r->path = r->upstream = NULL;
}
