/* The DNS server a filtered box sees: every UDP query to port 53, to any
 * address, reaches this stub through a socket made in the box's namespace.
 * It answers A and AAAA questions for names the box's filter allows, from
 * the daemon's own lookups (private addresses left out unless allowed),
 * NXDOMAIN for names the filter blocks, and no records for other types.
 * Queries are untrusted input: anything malformed is dropped. */
#ifndef ISOL8D_DNS_STUB_H
#define ISOL8D_DNS_STUB_H

#include "net_policy.h"
#include "resolver.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#define DNS_QUERY_MAX 512
#define DNS_ANSWER_MAX 512

struct dns_stub;

/* Serves fd (a dup is kept) until freed; filter is borrowed and must
 * outlive the stub. */
int dns_stub_start(sd_event *event, struct resolver *resolver, int fd,
		   const struct net_filter *filter, bool allow_private,
		   struct dns_stub **out);
void dns_stub_free(struct dns_stub *s);

/* ---- the message format, apart for testing ---- */
struct dns_question {
	uint16_t id, flags, type;
	char name[254]; /* lower case, no trailing dot */
	size_t qlen;	/* of the question section as it came */
	unsigned char question[DNS_QUERY_MAX];
};

/* 0, or -EBADMSG for anything but one well-formed standard query for
 * class IN. */
int dns_parse_query(const unsigned char *buf, size_t len,
		    struct dns_question *q);
/* The answer to q with rcode and the given IPv4 (4-byte) or IPv6
 * (16-byte) addresses of q's type; its length, written to out (at least
 * DNS_ANSWER_MAX bytes). */
size_t dns_build_answer(const struct dns_question *q, unsigned rcode,
			const unsigned char (*addrs)[16], size_t naddrs,
			unsigned char *out);

#define DNS_TYPE_A 1
#define DNS_TYPE_AAAA 28
#define DNS_RCODE_OK 0
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3

#endif
