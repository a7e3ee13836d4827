#include "netns.h"

#include "fault.h"
#include "cleanup.h"
#include "log.h"

#include <netlink/route/route.h>
#include <netlink/route/nexthop.h>

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int netns_spare_init(struct netns_spare *n)
{
	n->spare = -1;
	n->host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	return n->host < 0 ? -errno : 0;
}

void netns_spare_free(struct netns_spare *n)
{
	if (n->spare >= 0)
		close(n->spare);
	if (n->host >= 0)
		close(n->host);
	n->spare = n->host = -1;
}

static int loopback_up(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "lo", sizeof("lo"));
	int r = 0;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		r = -errno;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (r == 0 && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* The daemon is never left in a box's namespace: failing to return would
 * put every later box, and the daemon's own sockets, in the wrong one. */
static void go_home(const struct netns_spare *n)
{
	if (setns(n->host, CLONE_NEWNET) < 0) {
		log_err("cannot return to the daemon's network namespace: %m");
		abort();
	}
}

static int make(struct netns_spare *n)
{
	int r = fault_inject("bring up loopback");
	if (r < 0)
		return r;
	if (unshare(CLONE_NEWNET) < 0)
		return -errno;
	int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	r = fd < 0 ? -errno : loopback_up();
	go_home(n);
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		log_errno(LOG_ERR, r, "cannot make a network namespace");
		return r;
	}
	return fd;
}

int netns_take(struct netns_spare *n)
{
	if (n->spare >= 0) {
		int fd = n->spare;
		n->spare = -1;
		return fd;
	}
	return make(n);
}

int netns_refill(struct netns_spare *n)
{
	if (n->spare >= 0)
		return 0;
	int fd = make(n);
	if (fd < 0)
		return fd;
	n->spare = fd;
	return 0;
}

/* Every address becomes local to the namespace (a "local" route for the
 * whole space in the local table, over loopback): a connection to any
 * address and port stays inside, and reaches whatever listens there on
 * the wildcard address.  IPv6 may be off; then only IPv4 is caught. */
int netns_route_all_local(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	int r = nl_connect(sk, NETLINK_ROUTE);
	static const char *const spaces[] = { "0.0.0.0/0", "::/0" };
	for (size_t i = 0; r == 0 && i < 2; i++) {
		struct nl_addr *dst = NULL;
		struct rtnl_route *rt = rtnl_route_alloc();
		struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
		r = !rt || !nh ? -NLE_NOMEM
			       : nl_addr_parse(spaces[i], AF_UNSPEC, &dst);
		if (r == 0) {
			rtnl_route_set_table(rt, RT_TABLE_LOCAL);
			rtnl_route_set_type(rt, RTN_LOCAL);
			rtnl_route_set_scope(rt, RT_SCOPE_HOST);
			rtnl_route_set_family(rt,
					      (uint8_t)nl_addr_get_family(dst));
			rtnl_route_set_dst(rt, dst);
			rtnl_route_nh_set_ifindex(nh,
						  (int)if_nametoindex("lo"));
			rtnl_route_add_nexthop(rt, TAKE_PTR(nh));
			r = rtnl_route_add(sk, rt, NLM_F_CREATE | NLM_F_EXCL);
			if (r < 0 && i == 1)
				r = 0;
		}
		nl_addr_put(dst);
		if (nh) /* still ours: it never joined the route */
			rtnl_route_nh_free(nh);
		rtnl_route_put(rt);
	}
	nl_socket_free(sk);
	return r < 0 ? -EIO : 0;
}

int netns_call_in(struct netns_spare *n, int ns, int (*fn)(void *), void *arg)
{
	if (setns(ns, CLONE_NEWNET) < 0)
		return -errno;
	int r = fn(arg);
	go_home(n);
	return r;
}

pid_t netns_clone_into(struct netns_spare *n, int ns, pid_t (*clone_fn)(void *),
		       void *arg)
{
	if (setns(ns, CLONE_NEWNET) < 0)
		return -errno;
	pid_t pid = clone_fn(arg);
	if (pid == 0)
		return 0;
	if (pid < 0)
		pid = -errno;
	go_home(n);
	return pid;
}
