/* Network namespaces of boxes for "none" and "filtered": loopback only.
 * The daemon makes them itself, ahead of need, so a box is cloned straight
 * into one that is ready; the box's own user namespace never owns it, so
 * nothing in the box can change its configuration. */
#ifndef ISOL8D_NETNS_H
#define ISOL8D_NETNS_H

#include <stdint.h>
#include <sys/types.h>

struct netns_spare {
	int host; /* the daemon's own namespace, to come back to */
	int spare; /* a ready namespace, or -1 */
};

int netns_spare_init(struct netns_spare *n);
void netns_spare_free(struct netns_spare *n);
/* A new namespace with loopback up: the spare if there is one.  The fd is
 * the caller's. */
int netns_take(struct netns_spare *n);
/* Makes the next spare (0 when there is one already). */
int netns_refill(struct netns_spare *n);
/* The ways out of a filtered box, all sockets made inside its namespace
 * and served by the daemon from its own: the proxy the box's proxy
 * variables name, and, for programs that ignore those, every address made
 * local to the namespace so that TCP to any address on port 80 or 443 and
 * UDP to port 53 reach the daemon's listeners (the first two TCP, the DNS
 * one UDP; every other port is refused).  Non-blocking, close-on-exec;
 * 0 with fds set, or a negative errno with none open. */
enum {
	NETNS_PROXY,
	NETNS_HTTP,
	NETNS_TLS,
	NETNS_DNS,
	NETNS_EGRESS
};
#define NETNS_PROXY_ADDR "127.0.0.1"
#define NETNS_PROXY_PORT 8118
int netns_open_egress(struct netns_spare *n, int ns, int fds[NETNS_EGRESS]);
/* Runs clone_fn while the daemon is inside ns, so the child starts there;
 * the daemon is back in its own namespace when this returns. */
pid_t netns_clone_into(struct netns_spare *n, int ns,
		       pid_t (*clone_fn)(void *), void *arg);

#endif
