#include "net_policy.h"

#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "utf8.h"

/* How much of a refused pattern its error message quotes. */
#define PATTERN_EXCERPT 60

/* isol8 users write JavaScript regular expressions with the i flag, so
 * the options make PCRE2 read them as ECMAScript does where the two
 * differ: \u hhhh and \x hh escapes, a backreference to a group that has
 * not matched matches the empty string, $ only at the very end, [] and
 * [^] as the classes that match nothing and anything, and \d \w \s ASCII
 * whatever (*UCP) says.  UTF-8, so a host that is not valid UTF-8 fails
 * its match (and is blocked); no \C, which could split a character. */
#define JS_OPTIONS                                                             \
	(PCRE2_CASELESS | PCRE2_ALT_BSUX | PCRE2_MATCH_UNSET_BACKREF |         \
	 PCRE2_DOLLAR_ENDONLY | PCRE2_ALLOW_EMPTY_CLASS | PCRE2_UTF |          \
	 PCRE2_NEVER_UCP | PCRE2_NEVER_BACKSLASH_C)

struct net_list {
	pcre2_code **codes;
	size_t n;
};

struct net_rules {
	struct net_list allow;
	struct net_list deny;
	pcre2_match_context *limits;
	pcre2_match_data *match; /* scratch, one match at a time */
	bool warned;		 /* a pattern gave up; logged once */
};

static void free_list(struct net_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		pcre2_code_free(l->codes[i]);
	free(l->codes);
	l->codes = NULL;
	l->n = 0;
}

/* "label "pattern"" for messages, the pattern shortened to a readable
 * excerpt, and left out where it is not UTF-8. */
static void describe(char *buf, size_t size, const char *label, const char *pat)
{
	size_t len = strlen(pat);
	if (!utf8_valid(pat, len)) {
		snprintf(buf, size, "%s", label);
		return;
	}
	size_t shown = utf8_prefix(pat, PATTERN_EXCERPT);
	snprintf(buf, size, "%s \"%.*s%s\"", label, (int)shown, pat,
		 shown < len ? "..." : "");
}

/* Compiles one pattern within the limits; label names it in errors. */
static int compile_one(const char *label, const char *pat,
		       pcre2_compile_context *cc, pcre2_code **out,
		       struct error *e)
{
	char what[64 + PATTERN_EXCERPT + 8];
	size_t len = strlen(pat);
	if (len > NET_PATTERN_MAX_LENGTH) {
		describe(what, sizeof(what), label, pat);
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "%s: the pattern is %zu bytes long, more "
				 "than the limit of %d",
				 what, len, NET_PATTERN_MAX_LENGTH);
	}
	int code;
	PCRE2_SIZE at;
	pcre2_code *re =
		pcre2_compile((PCRE2_SPTR)pat, len, JS_OPTIONS, &code, &at, cc);
	if (!re) {
		if (code == PCRE2_ERROR_NOMEMORY)
			return error_set(e, ERR_INTERNAL, ENOMEM,
					 "%s: out of memory", label);
		PCRE2_UCHAR why[120];
		if (pcre2_get_error_message(code, why, sizeof(why)) < 0)
			snprintf((char *)why, sizeof(why), "error %d", code);
		describe(what, sizeof(what), label, pat);
		if (code == PCRE2_ERROR_PARENTHESES_NEST_TOO_DEEP)
			return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
					 "%s, at offset %zu: %s (the limit is "
					 "%d)",
					 what, (size_t)at, (const char *)why,
					 NET_PATTERN_MAX_NESTING);
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "%s, at offset %zu: %s", what, (size_t)at,
				 (const char *)why);
	}
	size_t size = 0;
	pcre2_pattern_info(re, PCRE2_INFO_SIZE, &size);
	if (size > NET_PATTERN_MAX_COMPILED) {
		pcre2_code_free(re);
		describe(what, sizeof(what), label, pat);
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "%s: the pattern compiles to %zu bytes, more "
				 "than the limit of %d",
				 what, size, NET_PATTERN_MAX_COMPILED);
	}
	*out = re;
	return 0;
}

static pcre2_compile_context *compile_limits(void)
{
	pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
	if (cc)
		pcre2_set_parens_nest_limit(cc, NET_PATTERN_MAX_NESTING);
	return cc;
}

static int compile_list(const char *const *pats, const char *name,
			pcre2_compile_context *cc, struct net_list *l,
			struct error *e)
{
	size_t count = 0;
	while (pats && pats[count])
		count++;
	if (count > NET_FILTER_MAX_PATTERNS)
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "options.networkFilter.%s: %zu patterns, more "
				 "than the limit of %d",
				 name, count, NET_FILTER_MAX_PATTERNS);
	if (count == 0)
		return 0;
	l->codes = calloc(count, sizeof(pcre2_code *));
	if (!l->codes)
		return -ENOMEM;
	for (; l->n < count; l->n++) {
		char label[64];
		snprintf(label, sizeof(label), "options.networkFilter.%s[%zu]",
			 name, l->n);
		int r = compile_one(label, pats[l->n], cc, &l->codes[l->n], e);
		if (r < 0)
			return r;
		/* Without a JIT (none for this CPU, or no executable
		 * memory) pcre2_match() interprets, under the same limits. */
		pcre2_jit_compile(l->codes[l->n], PCRE2_JIT_COMPLETE);
	}
	return 0;
}

static void free_ccp(pcre2_compile_context **cc)
{
	pcre2_compile_context_free(*cc);
}

int net_pattern_check(const char *name, const char *pattern, struct error *e)
{
	__attribute__((cleanup(free_ccp))) pcre2_compile_context *cc =
		compile_limits();
	if (!cc)
		return error_set(e, ERR_INTERNAL, ENOMEM, "out of memory");
	pcre2_code *re = NULL;
	int r = compile_one(name, pattern, cc, &re, e);
	pcre2_code_free(re);
	return r;
}

static int new_rules(struct net_rules **out)
{
	struct net_rules *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	*out = r;
	r->limits = pcre2_match_context_create(NULL);
	r->match = pcre2_match_data_create(1, NULL);
	if (!r->limits || !r->match)
		return -ENOMEM;
	pcre2_set_match_limit(r->limits, NET_MATCH_LIMIT);
	pcre2_set_depth_limit(r->limits, NET_MATCH_DEPTH_LIMIT);
	pcre2_set_heap_limit(r->limits, NET_MATCH_HEAP_LIMIT_KIB);
	return 0;
}

int net_filter_compile(struct net_filter *f, const char *const *allow,
		       const char *const *deny, struct error *e)
{
	f->rules = NULL;
	__attribute__((cleanup(free_ccp))) pcre2_compile_context *cc =
		compile_limits();
	if (!cc)
		return error_set(e, ERR_INTERNAL, ENOMEM, "out of memory");
	int r = new_rules(&f->rules);
	if (r == 0)
		r = compile_list(allow, "whitelist", cc, &f->rules->allow, e);
	if (r == 0)
		r = compile_list(deny, "blacklist", cc, &f->rules->deny, e);
	if (r == -ENOMEM)
		r = error_set(e, ERR_INTERNAL, ENOMEM, "out of memory");
	if (r < 0)
		net_filter_free(f);
	return r;
}

void net_filter_free(struct net_filter *f)
{
	struct net_rules *r = f->rules;
	if (!r)
		return;
	free_list(&r->allow);
	free_list(&r->deny);
	pcre2_match_context_free(r->limits);
	pcre2_match_data_free(r->match);
	free(r);
	f->rules = NULL;
}

/* Whether one of l matches host; a pattern that gives up (a limit, a
 * host that is not UTF-8) counts as blocks_if_matched says blocks. */
static bool any_match(struct net_rules *r, const struct net_list *l,
		      const char *list, bool blocks_if_matched,
		      const char *host)
{
	for (size_t i = 0; i < l->n; i++) {
		int m = pcre2_match(l->codes[i], (PCRE2_SPTR)host, strlen(host),
				    0, 0, r->match, r->limits);
		if (m >= 0)
			return true;
		if (m == PCRE2_ERROR_NOMATCH)
			continue;
		if (!r->warned) {
			PCRE2_UCHAR why[120];
			if (pcre2_get_error_message(m, why, sizeof(why)) < 0)
				snprintf((char *)why, sizeof(why), "error %d",
					 m);
			log_warn("network filter: %s[%zu] gave up on host "
				 "%s (%s) and counts as %s; further ones of "
				 "this filter are not logged",
				 list, i, host, (const char *)why,
				 blocks_if_matched ? "a match" : "no match");
			r->warned = true;
		}
		if (blocks_if_matched)
			return true;
	}
	return false;
}

bool net_filter_allows(const struct net_filter *f, const char *host)
{
	struct net_rules *r = f->rules;
	if (!r)
		return true;
	if (any_match(r, &r->deny, "blacklist", true, host))
		return false;
	return r->allow.n == 0 ||
	       any_match(r, &r->allow, "whitelist", false, host);
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
