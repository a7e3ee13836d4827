/* What filtered networking lets a box reach: host names decided by
 * regular expressions as isol8 decides them, and resolved addresses
 * checked against the ranges that lead back into the host or its network
 * (loopback, private, link-local, CGNAT, cloud metadata). */
#ifndef ISOL8D_NET_POLICY_H
#define ISOL8D_NET_POLICY_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "error.h"

struct net_filter {
	regex_t *allow;
	size_t nallow;
	regex_t *deny;
	size_t ndeny;
};

/* Compiles the whitelist and blacklist (NULL-terminated, either may be
 * NULL) as case-insensitive POSIX extended expressions.  On a bad one
 * -EINVAL with e's message naming it, e.g. "options.networkFilter.
 * blacklist[1]: unmatched ( or \(". */
int net_filter_compile(struct net_filter *f, const char *const *allow,
		       const char *const *deny, struct error *e);
void net_filter_free(struct net_filter *f);
/* Any blacklist match blocks; then an empty whitelist allows, otherwise
 * one of its expressions must match.  Expressions match anywhere in the
 * host name unless anchored. */
bool net_filter_allows(const struct net_filter *f, const char *host);

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
