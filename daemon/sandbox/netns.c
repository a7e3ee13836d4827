#include "netns.h"

#include "cleanup.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A netlink socket talks to the namespace it was created in, so it is made
 * while this thread visits pid's namespace, and used after returning. */
static int netlink_socket_in(pid_t pid, struct nl_sock **out)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	_cleanup_close_ int self =
		open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int target = open(path, O_RDONLY | O_CLOEXEC);
	if (self < 0 || target < 0)
		return -errno;
	if (setns(target, CLONE_NEWNET) < 0)
		return -errno;
	struct nl_sock *sk = nl_socket_alloc();
	int r = sk ? nl_connect(sk, NETLINK_ROUTE) : -NLE_NOMEM;
	if (setns(self, CLONE_NEWNET) < 0) {
		/* Staying in a box's namespace would be far worse than
		 * stopping. */
		log_err("cannot return to the daemon's network namespace: %m");
		abort();
	}
	if (r < 0) {
		nl_socket_free(sk);
		return -ENOMEM;
	}
	*out = sk;
	return 0;
}

int netns_loopback_up(pid_t pid)
{
	struct nl_sock *sk = NULL;
	int r = netlink_socket_in(pid, &sk);
	if (r < 0) {
		log_err("cannot open netlink in box %d's namespace: %s",
			(int)pid, strerror(-r));
		return r;
	}
	struct rtnl_link *lo = NULL, *change = rtnl_link_alloc();
	r = rtnl_link_get_kernel(sk, 1, NULL, &lo);
	if (r >= 0 && change) {
		rtnl_link_set_flags(change, IFF_UP);
		r = rtnl_link_change(sk, lo, change, 0);
	}
	if (r < 0)
		log_err("cannot bring up loopback for box %d: %s", (int)pid,
			nl_geterror(r));
	rtnl_link_put(lo);
	rtnl_link_put(change);
	nl_socket_free(sk);
	return r < 0 ? -EIO : 0;
}
