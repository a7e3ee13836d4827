/* The ways out of a filtered box, all sockets made inside its network
 * namespace and served by the daemon from its own: the proxy the box's
 * proxy variables name, and, for programs that ignore those, every
 * address made local to the namespace so that TCP to any address on port
 * 80 or 443 and UDP to port 53 reach the daemon's listeners (the first two
 * TCP, the DNS one UDP; every other port is refused). */
#ifndef ISOL8D_NET_EGRESS_H
#define ISOL8D_NET_EGRESS_H

#include <stddef.h>
#include <stdint.h>

struct netns_spare;

enum { EGRESS_PROXY, EGRESS_HTTP, EGRESS_TLS, EGRESS_DNS, EGRESS_WAYS };
#define EGRESS_PROXY_ADDR "127.0.0.1"
#define EGRESS_PROXY_PORT 8118

/* Makes the listeners inside ns.  Non-blocking, close-on-exec; 0 with fds
 * set, or a negative errno with none open. */
int egress_open(struct netns_spare *n, int ns, int fds[EGRESS_WAYS]);

/* The address (numeric; IPv4 without its IPv6 mapping) and port a box
 * connected to, read from an intercepted connection's local end. */
int egress_original_target(int fd, char *host, size_t size, uint16_t *port);

#endif
