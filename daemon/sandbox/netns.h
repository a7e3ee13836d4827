/* Network namespaces of boxes for "none" and "filtered": loopback only.
 * The daemon makes them itself, ahead of need, so a box is cloned straight
 * into one that is ready; the box's own user namespace never owns it, so
 * nothing in the box can change its configuration.  A thread of the daemon
 * makes the spare: a new namespace costs the kernel a few hundred
 * microseconds, which the event loop would otherwise spend between two
 * requests.  The daemon is thus never single-threaded: a setns() into a
 * mount namespace or an unshare(CLONE_NEWUSER) has to be made in a child,
 * as hibernation's are. */
#ifndef ISOL8D_NETNS_H
#define ISOL8D_NETNS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

struct netns_spare {
	int host;  /* the daemon's own namespace, to come back to */
	int spare; /* a ready namespace, or -1 */
	int ask;   /* to the maker thread: a byte asks for one namespace */
	/* The maker's ends: it reads requests from one and writes on the
	 * other an int for each, the new namespace's fd or -errno. */
	int maker_ask, maker_made;
	sd_event_source *made_src; /* the daemon's end of the answers */
	pthread_t maker;
	bool maker_runs;
	bool asked; /* a namespace is being made */
};

/* Nothing open: what netns_spare_free may be given before init. */
#define NETNS_SPARE_NONE                                                       \
	((struct netns_spare){ .host = -1,                                     \
			       .spare = -1,                                    \
			       .ask = -1,                                      \
			       .maker_ask = -1,                                \
			       .maker_made = -1 })

/* Opens the daemon's namespace, starts the maker thread and asks it for
 * the first spare. */
int netns_spare_init(struct netns_spare *n, sd_event *event);
/* Stops the maker thread and closes the namespaces it made. */
void netns_spare_free(struct netns_spare *n);
/* A new namespace with loopback up: the spare if there is one, else made
 * in place.  The fd is the caller's; the maker is asked for the next. */
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
