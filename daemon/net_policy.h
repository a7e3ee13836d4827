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

struct net_filter {
	regex_t *allow;
	size_t nallow;
	regex_t *deny;
	size_t ndeny;
};

/* Compiles the whitelist and blacklist (NULL-terminated, either may be
 * NULL) as case-insensitive POSIX extended expressions.  On a bad one
 * -EINVAL with a message naming it, e.g. "options.networkFilter.
 * blacklist[1]: unmatched ( or \(". */
int net_filter_compile(struct net_filter *f, const char *const *allow,
		       const char *const *deny, char *err, size_t err_len);
void net_filter_free(struct net_filter *f);
/* Any blacklist match blocks; then an empty whitelist allows, otherwise
 * one of its expressions must match.  Expressions match anywhere in the
 * host name unless anchored. */
bool net_filter_allows(const struct net_filter *f, const char *host);

/* Whether the address is one a box may reach only with
 * network.allowPrivate: unspecified, loopback, RFC 1918, CGNAT,
 * link-local (and so 169.254.169.254), benchmarking, multicast and
 * reserved IPv4; IPv6 loopback, unspecified, unique local, link-local,
 * multicast, and IPv4 addresses mapped, translated or embedded into IPv6
 * by those rules. */
bool net_addr_private(const struct sockaddr *sa);

#endif
