/* Network namespaces of boxes for "none" and "filtered": loopback only.
 * The daemon makes them itself, ahead of need, so a box is cloned straight
 * into one that is ready; the box's own user namespace never owns it, so
 * nothing in the box can change its configuration. */
#ifndef ISOL8D_NETNS_H
#define ISOL8D_NETNS_H

#include <stdint.h>
#include <sys/types.h>

struct netns_spare {
	int host;  /* the daemon's own namespace, to come back to */
	int spare; /* a ready namespace, or -1 */
};

int netns_spare_init(struct netns_spare *n);
void netns_spare_free(struct netns_spare *n);
/* A new namespace with loopback up: the spare if there is one.  The fd is
 * the caller's. */
int netns_take(struct netns_spare *n);
/* Makes the next spare (0 when there is one already). */
int netns_refill(struct netns_spare *n);
/* Every address becomes local to the namespace the caller is in: a
 * connection to any address and port stays inside.  0 or -EIO. */
int netns_route_all_local(void);
/* Runs fn inside ns and comes back to the daemon's namespace: fn's result,
 * or a negative errno when ns cannot be entered (fn not called). */
int netns_call_in(struct netns_spare *n, int ns, int (*fn)(void *), void *arg);
/* Runs clone_fn (which returns -1 with errno on failure) while the daemon
 * is inside ns, so the child starts there; the daemon is back in its own
 * namespace when this returns.  The child's pid (0 in the child), or a
 * negative errno. */
pid_t netns_clone_into(struct netns_spare *n, int ns, pid_t (*clone_fn)(void *),
		       void *arg);

#endif
