#include "netns.h"

#include "fault.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
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
		log_err("cannot make a network namespace: %s", strerror(-r));
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

int netns_listen(struct netns_spare *n, int ns, const char *addr,
		 uint16_t port)
{
	if (setns(ns, CLONE_NEWNET) < 0)
		return -errno;
	int r = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	if (fd < 0 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 128) < 0)
		r = -errno;
	go_home(n);
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		log_err("cannot listen on %s:%u in a box's network namespace: "
			"%s",
			addr, port, strerror(-r));
		return r;
	}
	return fd;
}

pid_t netns_clone_into(struct netns_spare *n, int ns,
		       pid_t (*clone_fn)(void *), void *arg)
{
	if (setns(ns, CLONE_NEWNET) < 0)
		return -1;
	pid_t pid = clone_fn(arg);
	if (pid == 0)
		return 0;
	int saved = errno;
	go_home(n);
	errno = saved;
	return pid;
}
