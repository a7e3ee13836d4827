#include "egress.h"

#include "cleanup.h"
#include "log.h"
#include "sandbox/netns.h"

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A listening socket, non-blocking: TCP or UDP on addr:port, the IPv6
 * wildcard taking IPv4 too. */
static int open_listener(int family, int type, const char *addr, uint16_t port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
			return -EINVAL;
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
			return -EINVAL;
		len = sizeof(*s4);
	}
	_cleanup_close_ int fd =
		socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int off = 0;
	if (fd < 0 ||
	    (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
					      &off, sizeof(off)) < 0) ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) < 0))
		return -errno;
	return TAKE_FD(fd);
}

/* The wildcard listener of an intercepted port: IPv6 and IPv4 when the
 * namespace has IPv6, else IPv4 alone. */
static int open_wildcard(int type, uint16_t port)
{
	int fd = open_listener(AF_INET6, type, "::", port);
	return fd >= 0 ? fd : open_listener(AF_INET, type, "0.0.0.0", port);
}

struct opening {
	int *fds;
	bool entered; /* inside the namespace: a failure is logged */
};

/* Runs inside the box's namespace. */
static int open_all(void *arg)
{
	struct opening *o = arg;
	o->entered = true;
	int r = netns_route_all_local();
	if (r < 0)
		return r;
	o->fds[EGRESS_PROXY] = open_listener(
		AF_INET, SOCK_STREAM, EGRESS_PROXY_ADDR, EGRESS_PROXY_PORT);
	o->fds[EGRESS_HTTP] = open_wildcard(SOCK_STREAM, 80);
	o->fds[EGRESS_TLS] = open_wildcard(SOCK_STREAM, 443);
	o->fds[EGRESS_DNS] = open_wildcard(SOCK_DGRAM, 53);
	return 0;
}

int egress_open(struct netns_spare *n, int ns, int fds[EGRESS_WAYS])
{
	static const char *const what[EGRESS_WAYS] = {
		"the proxy's socket", "the HTTP interception socket",
		"the TLS interception socket", "the DNS socket"
	};
	for (int i = 0; i < EGRESS_WAYS; i++)
		fds[i] = -1;
	struct opening o = { .fds = fds };
	const char *step = "routes";
	int r = netns_call_in(n, ns, open_all, &o);
	if (!o.entered)
		return r;
	for (int i = 0; r == 0 && i < EGRESS_WAYS; i++)
		if (fds[i] < 0) {
			r = fds[i];
			step = what[i];
		}
	if (r < 0) {
		for (int i = 0; i < EGRESS_WAYS; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		log_errno(LOG_ERR, r,
			  "cannot set up %s in a box's network namespace",
			  step);
	}
	return r;
}

/* The address and port the box connected to, which the interception
 * made local; IPv4 without its IPv6 mapping. */
int egress_original_target(int fd, char *host, size_t size, uint16_t *port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = sizeof(ss);
	char serv[NI_MAXSERV];
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	if (getnameinfo((struct sockaddr *)&ss, len, host, (socklen_t)size,
			serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV))
		return -EINVAL;
	static const char mapped[] = "::ffff:";
	if (strncmp(host, mapped, sizeof(mapped) - 1) == 0 && strchr(host, '.'))
		memmove(host, host + sizeof(mapped) - 1,
			strlen(host) - sizeof(mapped) + 2);
	*port = (uint16_t)strtoul(serv, NULL, 10);
	return 0;
}
