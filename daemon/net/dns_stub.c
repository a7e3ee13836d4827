#include "dns_stub.h"

#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEADER 12
#define CLASS_IN 1
#define TTL_SEC 30
#define MAX_PENDING 64
#define FLAG_QR 0x8000
#define FLAG_OPCODE 0x7800
#define FLAG_RD 0x0100
#define FLAG_RA 0x0080

/* Who asked, and the address asked: the answer must come from it, or the
 * asker's resolver discards it as from a stranger. */
struct peer {
	struct sockaddr_storage from;
	socklen_t from_len;
	struct in6_addr to; /* IPv4 mapped */
	bool to_known;
};

struct pending {
	struct dns_stub *s;
	struct pending *prev, *next;
	int64_t lookup;
	struct peer peer;
	struct dns_question q;
};

struct dns_stub {
	sd_event_source *src;
	int fd;
	struct resolver *resolver;
	const struct net_filter *filter;
	bool allow_private;
	struct pending *pending;
	size_t npending;
};

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static unsigned char *put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
	return p + 2;
}

int dns_parse_query(const unsigned char *buf, size_t len,
		    struct dns_question *q)
{
	if (len < HEADER || len > DNS_QUERY_MAX)
		return -EBADMSG;
	q->id = get16(buf);
	q->flags = get16(buf + 2);
	if ((q->flags & (FLAG_QR | FLAG_OPCODE)) || get16(buf + 4) != 1)
		return -EBADMSG;
	size_t off = HEADER, n = 0;
	for (;;) {
		if (off >= len)
			return -EBADMSG;
		size_t label = buf[off++];
		if (label == 0)
			break;
		/* Compression has no place in a question: refused. */
		if (label > 63 || label > len - off || n + label + 1 > 253)
			return -EBADMSG;
		if (n)
			q->name[n++] = '.';
		for (size_t i = 0; i < label; i++) {
			unsigned char ch = buf[off + i];
			if (!isalnum(ch) && ch != '-' && ch != '_')
				return -EBADMSG;
			q->name[n++] = (char)tolower(ch);
		}
		off += label;
	}
	if (n == 0 || len - off < 4 || get16(buf + off + 2) != CLASS_IN)
		return -EBADMSG;
	q->name[n] = '\0';
	q->type = get16(buf + off);
	q->qlen = off + 4 - HEADER;
	memcpy(q->question, buf + HEADER, q->qlen);
	return 0;
}

size_t dns_build_answer(const struct dns_question *q, unsigned rcode,
			const unsigned char (*addrs)[16], size_t naddrs,
			unsigned char *out)
{
	size_t rdlen = q->type == DNS_TYPE_AAAA ? 16 : 4;
	size_t room = (DNS_ANSWER_MAX - HEADER - q->qlen) / (12 + rdlen);
	if (naddrs > room)
		naddrs = room;
	unsigned char *p = put16(out, q->id);
	p = put16(p, FLAG_QR | (q->flags & FLAG_RD) | FLAG_RA | rcode);
	p = put16(p, 1);
	p = put16(p, (unsigned)naddrs);
	p = put16(p, 0);
	p = put16(p, 0);
	memcpy(p, q->question, q->qlen);
	p += q->qlen;
	for (size_t i = 0; i < naddrs; i++) {
		p = put16(p, 0xc000 | HEADER); /* the question's name */
		p = put16(p, q->type);
		p = put16(p, CLASS_IN);
		p = put16(p, 0);
		p = put16(p, TTL_SEC);
		p = put16(p, (unsigned)rdlen);
		memcpy(p, addrs[i], rdlen);
		p += rdlen;
	}
	return (size_t)(p - out);
}

static void reply(struct dns_stub *s, const struct peer *peer,
		  const struct dns_question *q, unsigned rcode,
		  const unsigned char (*addrs)[16], size_t naddrs)
{
	unsigned char out[DNS_ANSWER_MAX];
	struct iovec iov = { out,
			     dns_build_answer(q, rcode, addrs, naddrs, out) };
	struct msghdr m = { .msg_name = (void *)&peer->from,
			    .msg_namelen = peer->from_len,
			    .msg_iov = &iov,
			    .msg_iovlen = 1 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} ctl = { 0 };
	if (peer->to_known) {
		/* On a dual-stack socket IPv4 takes the mapped form too. */
		m.msg_control = ctl.buf;
		m.msg_controllen = sizeof(ctl.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
		struct in6_pktinfo pi = { .ipi6_addr = peer->to };
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	}
	(void)!sendmsg(s->fd, &m, MSG_DONTWAIT);
}

static void unlink_pending(struct pending *w)
{
	struct dns_stub *s = w->s;
	if (w->prev)
		w->prev->next = w->next;
	else
		s->pending = w->next;
	if (w->next)
		w->next->prev = w->prev;
	s->npending--;
	free(w);
}

/* The addresses of the question's family that the box may be told. */
static size_t wanted(const struct dns_stub *s, const struct dns_question *q,
		     const struct resolver_result *res,
		     unsigned char (*addrs)[16])
{
	size_t n = 0;
	int family = q->type == DNS_TYPE_AAAA ? AF_INET6 : AF_INET;
	for (size_t i = 0; i < res->n; i++) {
		const struct sockaddr *sa =
			(const struct sockaddr *)&res->addrs[i];
		if (sa->sa_family != family ||
		    (!s->allow_private && net_addr_private(sa)))
			continue;
		if (family == AF_INET)
			memcpy(addrs[n++],
			       &((const struct sockaddr_in *)sa)->sin_addr, 4);
		else
			memcpy(addrs[n++],
			       &((const struct sockaddr_in6 *)sa)->sin6_addr,
			       16);
	}
	return n;
}

static void on_resolved(void *userdata, const struct resolver_result *res)
{
	struct pending *w = userdata;
	unsigned char addrs[RESOLVER_MAX_ADDRS][16];
	unsigned rcode = DNS_RCODE_OK;
	size_t n = 0;
	if (res->err == EAI_NONAME || res->err == EAI_NODATA)
		rcode = DNS_RCODE_NXDOMAIN;
	else if (res->err)
		rcode = DNS_RCODE_SERVFAIL;
	else
		n = wanted(w->s, &w->q, res, addrs);
	reply(w->s, &w->peer, &w->q, rcode, (const unsigned char(*)[16])addrs,
	      n);
	unlink_pending(w);
}

static void query(struct dns_stub *s, const unsigned char *buf, size_t len,
		  const struct peer *peer)
{
	struct pending *w = calloc(1, sizeof(*w));
	if (!w || dns_parse_query(buf, len, &w->q) < 0) {
		free(w);
		return;
	}
	struct dns_question *q = &w->q;
	/* Blocked names do not exist for the box; other types get no
	 * records.  The answer repeats the question as it came; the name is
	 * decided on and looked up as the proxy would spell it. */
	int rcode = -1;
	if (!net_host_canonical(q->name, sizeof(q->name)) ||
	    !net_filter_allows(s->filter, q->name))
		rcode = DNS_RCODE_NXDOMAIN;
	else if (q->type != DNS_TYPE_A && q->type != DNS_TYPE_AAAA)
		rcode = DNS_RCODE_OK;
	else if (s->npending >= MAX_PENDING)
		rcode = DNS_RCODE_SERVFAIL;
	if (rcode >= 0) {
		reply(s, peer, q, (unsigned)rcode, NULL, 0);
		free(w);
		return;
	}
	w->s = s;
	w->peer = *peer;
	w->lookup = resolver_lookup(s->resolver, q->name, 0, on_resolved, w);
	if (w->lookup < 0) {
		reply(s, peer, q, DNS_RCODE_SERVFAIL, NULL, 0);
		free(w);
		return;
	}
	w->next = s->pending;
	if (s->pending)
		s->pending->prev = w;
	s->pending = w;
	s->npending++;
}

static int on_query(sd_event_source *src, int fd, uint32_t revents,
		    void *userdata)
{
	(void)src;
	(void)revents;
	struct dns_stub *s = userdata;
	for (int i = 0; i < 64; i++) {
		unsigned char buf[DNS_QUERY_MAX + 1];
		struct peer peer = { 0 };
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		} ctl;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m = { .msg_name = &peer.from,
				    .msg_namelen = sizeof(peer.from),
				    .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl.buf,
				    .msg_controllen = sizeof(ctl.buf) };
		ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);
		if (n < 0)
			break;
		peer.from_len = m.msg_namelen;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c;
		     c = CMSG_NXTHDR(&m, c))
			if (c->cmsg_level == IPPROTO_IPV6 &&
			    c->cmsg_type == IPV6_PKTINFO) {
				struct in6_pktinfo pi;
				memcpy(&pi, CMSG_DATA(c), sizeof(pi));
				peer.to = pi.ipi6_addr;
				peer.to_known = true;
			}
		query(s, buf, (size_t)n, &peer);
	}
	return 0;
}

int dns_stub_start(sd_event *event, struct resolver *resolver, int fd,
		   const struct net_filter *filter, bool allow_private,
		   struct dns_stub **out)
{
	struct dns_stub *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->resolver = resolver;
	s->filter = filter;
	s->allow_private = allow_private;
	s->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	int on = 1;
	/* Where each query went (an IPv4-only socket, without IPv6 in the
	 * namespace, answers from its default address). */
	if (s->fd >= 0)
		(void)setsockopt(s->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on,
				 sizeof(on));
	int r = s->fd < 0 ? -errno
			  : sd_event_add_io(event, &s->src, s->fd, EPOLLIN,
					    on_query, s);
	if (r < 0) {
		dns_stub_free(s);
		return r;
	}
	*out = s;
	return 0;
}

void dns_stub_free(struct dns_stub *s)
{
	if (!s)
		return;
	while (s->pending) {
		resolver_cancel(s->resolver, s->pending->lookup);
		unlink_pending(s->pending);
	}
	sd_event_source_disable_unref(s->src);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}
