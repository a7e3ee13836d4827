#include "netns.h"

#include "fault.h"
#include "cleanup.h"
#include "fd_pass.h"
#include "helper_proc.h"
#include "log.h"

#include <netlink/route/route.h>
#include <netlink/route/nexthop.h>

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* How long the daemon waits at start for the maker's first namespace. */
#define MAKER_START_TIMEOUT_MS 5000

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

/* A new namespace, which the calling process is left in: its fd or
 * -errno. */
static int make_here(void)
{
	if (unshare(CLONE_NEWNET) < 0)
		return -errno;
	int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
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

/* What the maker sends for each request: 0 with the namespace's fd, or
 * -errno alone. */
static int send_made(int sock, int ns)
{
	int err = ns < 0 ? ns : 0;
	struct iovec iov = { .iov_base = &err, .iov_len = sizeof(err) };
	ssize_t n = fd_pass_send(sock, &iov, 1, &ns, ns >= 0);
	return n < 0 ? (int)n : 0;
}

/* The maker, a child of the daemon holding only its socket (fd 3) and the
 * daemon's namespace (fd 4); it ends with the daemon, or when the daemon
 * closes the socket. */
static __attribute__((noreturn)) void maker_main(int sock, int host)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "isol8d-netns");
	int s = fcntl(sock, F_DUPFD, 10), h = fcntl(host, F_DUPFD, 10);
	if (s < 0 || h < 0 || dup2(s, 3) < 0 || dup2(h, 4) < 0)
		_exit(1);
	close_range(5, ~0U, 0);
	for (;;) {
		char c;
		ssize_t k = recv(3, &c, 1, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k != 1)
			_exit(0);
		int ns = make_here();
		/* Not back home, the maker would keep the box's namespace
		 * alive after the box: that one is not handed out. */
		if (setns(4, CLONE_NEWNET) < 0 && ns >= 0) {
			int err = -errno;
			close(ns);
			ns = err;
		}
		int r = send_made(3, ns);
		if (ns >= 0)
			close(ns);
		if (r < 0)
			_exit(1);
	}
}

static void ask_maker(struct netns_spare *n)
{
	char c = 0;
	while (n->maker_io && n->nspares + n->asked < NETNS_SPARES &&
	       send(sd_event_source_get_io_fd(n->maker_io), &c, 1,
		    MSG_DONTWAIT | MSG_NOSIGNAL) == 1)
		n->asked++;
}

/* Without the maker, namespaces are made in place. */
static void maker_gone(struct netns_spare *n)
{
	n->maker_io = sd_event_source_disable_unref(n->maker_io);
	n->maker_exit = sd_event_source_disable_unref(n->maker_exit);
	n->asked = 0;
}

static int on_made(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	(void)s, (void)revents;
	struct netns_spare *n = userdata;
	int err = 0;
	struct iovec iov = { .iov_base = &err, .iov_len = sizeof(err) };
	int ns = -1;
	size_t nfds = 0;
	ssize_t k = fd_pass_recv(fd, &iov, 1, &ns, 1, &nfds, MSG_DONTWAIT);
	if (k == -EAGAIN)
		return 0;
	if (k != (ssize_t)sizeof(err)) {
		if (ns >= 0)
			close(ns);
		/* It is ending: its exit source says how, and reaps it. */
		n->maker_io = sd_event_source_disable_unref(n->maker_io);
		n->asked = 0;
		return 0;
	}
	if (n->asked > 0)
		n->asked--;
	if (ns >= 0 && n->nspares < NETNS_SPARES)
		n->spares[n->nspares++] = ns;
	else if (ns >= 0)
		close(ns);
	else
		/* No new request: the next take makes one in place, and says
		 * why that fails too if it does. */
		log_errno(LOG_WARNING, err < 0 ? err : -EIO,
			  "cannot make a spare network namespace");
	return 0;
}

static int on_maker_exit(sd_event_source *s, const siginfo_t *si,
			 void *userdata)
{
	(void)s;
	log_helper_ended(si, "the network namespace maker",
			 "namespaces are made on the event loop from now on");
	maker_gone(userdata);
	return 0;
}

static void run_maker(int sock, void *arg)
{
	const struct netns_spare *n = arg;
	maker_main(sock, n->host);
}

static int start_maker(struct netns_spare *n, sd_event *event)
{
	int sock;
	int r = helper_proc_fork(event, run_maker, n, on_maker_exit, n, &sock,
				 &n->maker_exit);
	if (r < 0)
		return r;
	r = sd_event_add_io(event, &n->maker_io, sock, EPOLLIN, on_made, n);
	if (r < 0) {
		close(sock);
		maker_gone(n);
		return r;
	}
	sd_event_source_set_io_fd_own(n->maker_io, true);
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
	/* The first spare is awaited here, before the daemon serves: the
	 * maker has named itself by then (tests tell it from boxes by its
	 * name), and the first box finds a namespace ready. */
	struct pollfd p = { .fd = sd_event_source_get_io_fd(n->maker_io),
			    .events = POLLIN };
	if (poll(&p, 1, MAKER_START_TIMEOUT_MS) == 1)
		on_made(n->maker_io, p.fd, (uint32_t)p.revents, n);
	return 0;
}

void netns_spare_free(struct netns_spare *n)
{
	/* The maker ends on the socket's close; a namespace still on its
	 * way is closed with the socket. */
	maker_gone(n);
	while (n->nspares > 0)
		close(n->spares[--n->nspares]);
	if (n->host >= 0)
		close(n->host);
	n->host = -1;
}

int netns_take(struct netns_spare *n)
{
	int r = fault_inject("bring up loopback");
	if (r < 0)
		return r;
	int fd = n->nspares > 0 ? n->spares[--n->nspares] : -1;
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
