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
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

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

/* A new namespace, which the calling thread is left in: its fd or -errno.
 * System calls only, no allocation and no log: the maker thread runs this
 * beside the event loop, whose clones must not inherit a lock it holds. */
static int make_here(void)
{
	if (unshare(CLONE_NEWNET) < 0)
		return -errno;
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int r = fd < 0 ? -errno : loopback_up();
	if (r < 0 && fd >= 0)
		close(fd);
	return r < 0 ? r : fd;
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

static void *maker_main(void *arg)
{
	const struct netns_spare *n = arg;
	for (;;) {
		char c;
		ssize_t k = read(n->maker_ask, &c, 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k != 1) /* the daemon closed its end: it stops */
			return NULL;
		int fd = make_here();
		/* Not back home, the thread would keep the box's namespace
		 * alive after the box: that one is not handed out. */
		if (setns(n->host, CLONE_NEWNET) < 0 && fd >= 0) {
			int err = -errno;
			close(fd);
			fd = err;
		}
		if (write(n->maker_made, &fd, sizeof(fd)) !=
		    (ssize_t)sizeof(fd)) {
			if (fd >= 0)
				close(fd);
			return NULL;
		}
	}
}

static void ask_maker(struct netns_spare *n)
{
	if (n->spare >= 0 || n->asked || !n->maker_runs)
		return;
	char c = 0;
	n->asked = write(n->ask, &c, 1) == 1;
}

/* The maker's answer; at most one is on its way (n->asked). */
static int read_made(struct netns_spare *n, int fd)
{
	int ns;
	if (read(fd, &ns, sizeof(ns)) != (ssize_t)sizeof(ns))
		return -EAGAIN;
	n->asked = false;
	if (ns >= 0 && n->spare >= 0)
		close(ns);
	else if (ns >= 0)
		n->spare = ns;
	return ns < 0 ? ns : 0;
}

static int on_made(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	(void)s, (void)revents;
	int r = read_made(userdata, fd);
	/* No new request: the next take makes one in place, and says why
	 * that fails too if it does. */
	if (r < 0 && r != -EAGAIN)
		log_errno(LOG_WARNING, r,
			  "cannot make a spare network namespace");
	return 0;
}

static void close_pipe(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
}

static int start_maker(struct netns_spare *n, sd_event *event)
{
	int ask[2] = { -1, -1 }, made[2] = { -1, -1 };
	int r = pipe2(ask, O_CLOEXEC) < 0 ||
				pipe2(made, O_CLOEXEC | O_NONBLOCK) < 0
			? -errno
			: sd_event_add_io(event, &n->made_src, made[0], EPOLLIN,
					  on_made, n);
	if (r < 0) {
		close_pipe(ask);
		close_pipe(made);
		return r;
	}
	sd_event_source_set_io_fd_own(n->made_src, true);
	n->maker_ask = ask[0];
	n->maker_made = made[1];
	/* The thread takes no signal: the event loop's are blocked and
	 * read from a signalfd. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&n->maker, NULL, maker_main, n);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		n->made_src = sd_event_source_disable_unref(n->made_src);
		close_pipe(ask);
		close(made[1]);
		n->maker_ask = n->maker_made = -1;
		return r;
	}
	pthread_setname_np(n->maker, "isol8d-netns");
	n->ask = ask[1];
	n->maker_runs = true;
	return 0;
}

int netns_spare_init(struct netns_spare *n, sd_event *event)
{
	*n = NETNS_SPARE_NONE;
	n->host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (n->host < 0)
		return -errno;
	int r = start_maker(n, event);
	if (r < 0)
		return r;
	ask_maker(n);
	return 0;
}

void netns_spare_free(struct netns_spare *n)
{
	if (n->maker_runs) {
		close(n->ask);
		pthread_join(n->maker, NULL);
		/* An answer the loop has not read yet. */
		read_made(n, sd_event_source_get_io_fd(n->made_src));
		close(n->maker_ask);
		close(n->maker_made);
		n->maker_runs = false;
	}
	n->made_src = sd_event_source_disable_unref(n->made_src);
	if (n->spare >= 0)
		close(n->spare);
	if (n->host >= 0)
		close(n->host);
	n->spare = n->host = n->ask = -1;
}

int netns_take(struct netns_spare *n)
{
	int r = fault_inject("bring up loopback");
	if (r < 0)
		return r;
	int fd = n->spare;
	n->spare = -1;
	if (fd < 0) {
		fd = make_here();
		go_home(n);
		if (fd < 0)
			log_errno(LOG_ERR, fd,
				  "cannot make a network namespace");
	}
	ask_maker(n);
	return fd;
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
