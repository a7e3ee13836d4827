/* A box's network namespace as "network: none" wants it: loopback only. */
#ifndef ISOL8D_NETNS_H
#define ISOL8D_NETNS_H

/* Brings up loopback in the caller's network namespace: the box's init,
 * which holds CAP_NET_ADMIN over it until user code runs.  Allocates
 * nothing; 0 or a negative errno. */
int netns_loopback_up(void);

#endif
