/* What filtered networking lets a box reach: host names decided by
 * regular expressions as isol8 decides them, and resolved addresses
 * checked against the ranges that lead back into the host or its network
 * (loopback, private, link-local, CGNAT, cloud metadata). */
#ifndef ISOL8D_NET_POLICY_H
#define ISOL8D_NET_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "error.h"

/* The bounds that make every filter decision finish in bounded time on
 * the daemon's loop, whatever a client wrote: per list, per pattern, on
 * what a pattern compiles to, and on each match (PCRE2's match, depth
 * and heap limits; heap in KiB). */
#define NET_FILTER_MAX_PATTERNS 32
#define NET_PATTERN_MAX_LENGTH 1024
#define NET_PATTERN_MAX_NESTING 32
#define NET_PATTERN_MAX_COMPILED 65536
#define NET_MATCH_LIMIT 100000
#define NET_MATCH_DEPTH_LIMIT 2000
#define NET_MATCH_HEAP_LIMIT_KIB 1024

struct net_rules;

/* Zeroed, it allows every host. */
struct net_filter {
	struct net_rules *rules;
};

/* Compiles the whitelist and blacklist (NULL-terminated, either may be
 * NULL) as case-insensitive JavaScript-style regular expressions (PCRE2,
 * JIT-compiled where the JIT works).  A bad pattern, or one past the
 * limits above, is -EINVAL with e's message naming it, the place in it
 * and why, e.g. "options.networkFilter.blacklist[1], at offset 2:
 * missing closing parenthesis". */
int net_filter_compile(struct net_filter *f, const char *const *allow,
		       const char *const *deny, struct error *e);
void net_filter_free(struct net_filter *f);
/* Any blacklist match blocks; then an empty whitelist allows, otherwise
 * one of its expressions must match.  Expressions match anywhere in the
 * host name unless anchored.  A pattern that gives up on a host (a limit
 * reached) counts as the answer that blocks: a blacklist one as matched,
 * a whitelist one as not matched; the first time per filter is logged. */
bool net_filter_allows(const struct net_filter *f, const char *host);

/* Whether pattern compiles as a filter pattern would; for patterns from
 * the configuration, whose messages name the key. */
int net_pattern_check(const char *name, const char *pattern, struct error *e);

/* Rewrites host (size bytes of room) into the one spelling the filter,
 * the logs and the resolver all see, so that no other spelling of a
 * blocked host gets past a blacklist: an IPv4 address in any form the
 * resolver takes ("2130706433", "0x7f.1", "::ffff:127.0.0.1") in dotted
 * decimal, an IPv6 address as inet_ntop writes it, a name without its
 * trailing dot.  False
 * for an empty label or an IPv6 address that does not parse. */
bool net_host_canonical(char *host, size_t size);

/* Whether the address is one a box may reach only with
 * network.allowPrivate: unspecified, loopback, RFC 1918, CGNAT,
 * link-local (and so 169.254.169.254), benchmarking, multicast and
 * reserved IPv4; IPv6 loopback, unspecified, unique local, link-local,
 * multicast, and IPv4 addresses mapped, translated or embedded into IPv6
 * by those rules. */
bool net_addr_private(const struct sockaddr *sa);

#endif
