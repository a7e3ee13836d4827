#include "net_policy.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void free_list(regex_t *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		regfree(&l[i]);
	free(l);
}

static int compile_list(const char *const *pats, const char *name,
			regex_t **out, size_t *n, struct error *e)
{
	size_t count = 0;
	while (pats && pats[count])
		count++;
	*out = NULL;
	*n = 0;
	if (count == 0)
		return 0;
	regex_t *l = calloc(count, sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		int r = regcomp(&l[i], pats[i],
				REG_EXTENDED | REG_ICASE | REG_NOSUB);
		if (r != 0) {
			char why[128];
			regerror(r, &l[i], why, sizeof(why));
			free_list(l, i);
			return error_set(
				e, ERR_INVALID_ARGUMENT, EINVAL,
				"options.networkFilter.%s[%zu]: %s: %s", name,
				i, pats[i], why);
		}
	}
	*out = l;
	*n = count;
	return 0;
}

int net_filter_compile(struct net_filter *f, const char *const *allow,
		       const char *const *deny, struct error *e)
{
	memset(f, 0, sizeof(*f));
	int r = compile_list(allow, "whitelist", &f->allow, &f->nallow, e);
	if (r == 0)
		r = compile_list(deny, "blacklist", &f->deny, &f->ndeny, e);
	if (r < 0)
		net_filter_free(f);
	return r;
}

void net_filter_free(struct net_filter *f)
{
	free_list(f->allow, f->nallow);
	free_list(f->deny, f->ndeny);
	memset(f, 0, sizeof(*f));
}

static bool any_match(const regex_t *l, size_t n, const char *host)
{
	for (size_t i = 0; i < n; i++)
		if (regexec(&l[i], host, 0, NULL, 0) == 0)
			return true;
	return false;
}

bool net_filter_allows(const struct net_filter *f, const char *host)
{
	if (any_match(f->deny, f->ndeny, host))
		return false;
	return f->nallow == 0 || any_match(f->allow, f->nallow, host);
}

static bool in4(uint32_t a, uint32_t net, unsigned bits)
{
	uint32_t mask = bits ? ~0u << (32 - bits) : 0;
	return (a & mask) == net;
}

static bool private4(uint32_t a)
{
	static const struct {
		uint32_t net;
		unsigned bits;
	} ranges[] = {
		{ 0x00000000, 8 },  /* "this network" */
		{ 0x0a000000, 8 },  /* 10/8 */
		{ 0x64400000, 10 }, /* 100.64/10, CGNAT (and 100.100.100.200) */
		{ 0x7f000000, 8 },  /* loopback */
		{ 0xa9fe0000, 16 }, /* link-local, 169.254.169.254 */
		{ 0xac100000, 12 }, /* 172.16/12 */
		{ 0xc0000000, 24 }, /* IETF protocol assignments */
		{ 0xc0a80000, 16 }, /* 192.168/16 */
		{ 0xc6120000, 15 }, /* benchmarking */
		{ 0xe0000000, 4 },  /* multicast */
		{ 0xf0000000, 4 },  /* reserved, broadcast */
	};
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (in4(a, ranges[i].net, ranges[i].bits))
			return true;
	return false;
}

static uint32_t v4_at(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

static bool private6(const uint8_t *b)
{
	static const uint8_t zero[16] = { 0 };
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
	if (memcmp(b, zero, 15) == 0) /* :: and ::1 */
		return b[15] <= 1;
	if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0 ||
	    memcmp(b, zero, 12) == 0) /* IPv4-compatible */
		return private4(v4_at(b + 12));
	if ((b[0] & 0xfe) == 0xfc) /* fc00::/7, unique local */
		return true;
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* fe80::/10 */
		return true;
	if (b[0] == 0xff) /* multicast */
		return true;
	if (b[0] == 0x20 && b[1] == 0x02) /* 6to4: the IPv4 inside */
		return private4(v4_at(b + 2));
	return false;
}

bool net_host_canonical(char *host, size_t size)
{
	if (strchr(host, ':')) {
		struct in6_addr a6;
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return false;
		/* A mapped IPv4 address is the IPv4 address. */
		if (IN6_IS_ADDR_V4MAPPED(&a6))
			return inet_ntop(AF_INET, &a6.s6_addr[12], host,
					 (socklen_t)size);
		return inet_ntop(AF_INET6, &a6, host, (socklen_t)size);
	}
	size_t n = strlen(host);
	if (n > 1 && host[n - 1] == '.')
		host[--n] = '\0';
	if (n == 0 || host[0] == '.' || host[n - 1] == '.' ||
	    strstr(host, ".."))
		return false;
	struct in_addr a4;
	if (inet_aton(host, &a4))
		return inet_ntop(AF_INET, &a4, host, (socklen_t)size);
	return true;
}

bool net_addr_private(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		return private4(ntohl(in->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		return private6(in6->sin6_addr.s6_addr);
	}
	return true;
}
