/* Network namespaces of boxes for "none" and "filtered": loopback only.
 * The daemon makes them itself, ahead of need, so a box is cloned straight
 * into one that is ready; the box's own user namespace never owns it, so
 * nothing in the box can change its configuration.  A helper process
 * forked at start (isol8d-netns) makes the spares: a new namespace costs
 * the kernel a few hundred microseconds, which the event loop would
 * otherwise spend between two requests. */
#ifndef ISOL8D_NETNS_H
#define ISOL8D_NETNS_H

#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

/* Ready namespaces kept: boxes built at once (the pool's builds beside
 * runs it missed) each find one. */
#define NETNS_SPARES 4

struct netns_spare {
	int host; /* the daemon's own namespace, to come back to */
	int spares[NETNS_SPARES]; /* the first nspares are ready */
	unsigned nspares;
	/* The maker: a byte on its socket asks for a namespace, which comes
	 * back as an fd (or an errno); NULL sources when it is not running. */
	sd_event_source *maker_io, *maker_exit;
	unsigned asked; /* namespaces being made */
};

/* Nothing open: what netns_spare_free may be given before init. */
#define NETNS_SPARE_NONE ((struct netns_spare){ .host = -1 })

/* Opens the daemon's namespace, starts the maker and asks it for the
 * spares, waiting for the first. */
int netns_spare_init(struct netns_spare *n, sd_event *event);
/* Stops the maker and closes the namespaces it made. */
void netns_spare_free(struct netns_spare *n);
/* A new namespace with loopback up: a spare if there is one, else made
 * in place.  The fd is the caller's; the maker is asked for another. */
int netns_take(struct netns_spare *n);
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
