/* Host name lookups that never block the event loop.  getaddrinfo runs in
 * a helper process forked at the first lookup, one thread per lookup there, so
 * that no thread ever exists in the daemon itself (a box is cloned from
 * it with clone3, which would inherit another thread's locks).  The
 * helper runs as nobody and answers over a SOCK_SEQPACKET pair. */
#ifndef ISOL8D_RESOLVER_H
#define ISOL8D_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#define RESOLVER_MAX_ADDRS 8

struct resolver_result {
	int err; /* 0, or an EAI_* code for gai_strerror */
	size_t n;
	struct sockaddr_storage addrs[RESOLVER_MAX_ADDRS];
	socklen_t lens[RESOLVER_MAX_ADDRS];
};

typedef void (*resolver_done_fn)(void *userdata,
				 const struct resolver_result *res);

struct resolver;

int resolver_start(sd_event *event, struct resolver **out);
void resolver_free(struct resolver *r);
/* Looks host up for TCP to port; done is called once from the event loop
 * unless the lookup is cancelled first.  Returns an id > 0 or -errno. */
int64_t resolver_lookup(struct resolver *r, const char *host, uint16_t port,
			resolver_done_fn done, void *userdata);
void resolver_cancel(struct resolver *r, int64_t id);
/* An IPv4 or IPv6 address written out needs no lookup: true with it in
 * out, as a lookup would give it. */
bool resolver_numeric(const char *host, uint16_t port,
		      struct resolver_result *out);

#endif
