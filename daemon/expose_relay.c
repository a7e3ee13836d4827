/* Connections through exposed ports: made in the box's network namespace
 * without blocking the event loop, handed to the bridge, cut and counted. */
#include "expose_priv.h"

#include "daemon.h"
#include "log.h"
#include "rpc_call.h"
#include "sandbox/box.h"

#include <errno.h>
#include <stdio.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* tcp_info with its byte counts */
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* Time depends on the lengths only, never on how much of b matches. */
static bool same_token(const char *a, const char *b)
{
	unsigned char diff = 0;
	for (size_t i = 0; i < EXPOSE_TOKEN_LEN; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return diff == 0;
}

/* Every exposure is compared: how long it takes tells nothing of which
 * one, if any, matched. */
struct exposure *expose_find(struct exposures *set, const char *token)
{
	struct exposure *found = NULL;
	if (strlen(token) == EXPOSE_TOKEN_LEN)
		for (struct exposure *x = set->list; x; x = x->next)
			if (same_token(x->token, token))
				found = x;
	if (!found)
		set->refused++;
	return found;
}

/* Bytes the kernel counted on the connection so far. */
static void add_bytes(int fd, struct traffic *t)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return;
	t->bytes_in += ti.tcpi_bytes_acked;
	t->bytes_out += ti.tcpi_bytes_received;
}

void relays_add_live(const struct exposures *set, const struct exposure *x,
		     struct traffic *t)
{
	for (const struct relay *r = set->relays; r; r = r->next)
		if ((!x || r->x == x) && !r->io)
			add_bytes(r->fd, t);
}

static void unlink_relay(struct relay *r)
{
	for (struct relay **pp = &r->set->relays; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
}

/* The relay is over: its bytes count, its call ends with that error, it
 * is freed.  cut: every copy of the socket is shut down, the bridge's
 * too, once the call's answer (the reason) is on its way. */
static void relay_end(struct relay *r, enum error_kind kind, const char *msg,
		      bool cut)
{
	unlink_relay(r);
	bool connected = !r->io;
	sd_event_source_disable_unref(r->io);
	struct exposure *x = r->x;
	if (connected) {
		struct traffic t = { 0 };
		add_bytes(r->fd, &t);
		x->t.bytes_in += t.bytes_in;
		x->t.bytes_out += t.bytes_out;
		r->set->t.bytes_in += t.bytes_in;
		r->set->t.bytes_out += t.bytes_out;
	}
	x->open--;
	struct rpc_call *call = r->call;
	int fd = r->fd;
	call->cancel = NULL;
	free(r);
	rpc_reply_error(call, kind, "%s", msg);
	if (cut)
		shutdown(fd, SHUT_RDWR);
	close(fd);
}

static void on_cancel(struct rpc_call *call)
{
	relay_end(call->userdata, ERR_INTERNAL, "cancelled", false);
}

void relays_cut(struct exposures *set, struct exposure *x)
{
	char msg[128];
	snprintf(msg, sizeof(msg), "Port %u of session %s is no longer exposed",
		 x->port, x->sid);
	struct relay *r = set->relays;
	while (r) {
		struct relay *next = r->next;
		if (r->x == x)
			relay_end(r, ERR_CONFLICT, msg, true);
		r = next;
	}
}

/* The connection is made: the bridge gets it. */
static void hand_over(struct relay *r)
{
	struct exposure *x = r->x;
	json_object *p = json_object_new_object();
	json_object_object_add(p, "type", json_object_new_string("connected"));
	json_object_object_add(p, "port", json_object_new_int((int)x->port));
	struct error e;
	if (rpc_stream_fd(r->call, p, r->fd, &e) < 0) {
		relay_end(r, e.kind, e.message, false);
		return;
	}
	x->t.connections++;
	r->set->t.connections++;
	log_debug("session %s: a connection to port %u", x->sid, x->port);
}

static void refuse_connect(struct relay *r, int err)
{
	char msg[160];
	struct exposure *x = r->x;
	if (err == -ECONNREFUSED)
		snprintf(msg, sizeof(msg),
			 "Nothing listens on port %u in session %s", x->port,
			 x->sid);
	else
		snprintf(msg, sizeof(msg),
			 "Cannot connect to port %u in session %s: %s", x->port,
			 x->sid, strerror(-err));
	relay_end(r, ERR_CONFLICT, msg, false);
}

static int on_connected(sd_event_source *src, int fd, uint32_t revents,
			void *userdata)
{
	(void)src;
	(void)revents;
	struct relay *r = userdata;
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	sd_event_source_disable_unref(r->io);
	r->io = NULL;
	if (err)
		refuse_connect(r, -err);
	else
		hand_over(r);
	return 0;
}

void expose_connect(struct exposure *x, struct box *box, struct rpc_call *call)
{
	struct exposures *set = x->set;
	int fd = box_connect_loopback(box, (uint16_t)x->port);
	if (fd == -ESRCH) {
		rpc_reply_error(call, ERR_CONFLICT,
				"Session %s is not running: its sandbox is "
				"not ready",
				x->sid);
		return;
	}
	struct relay *r = fd >= 0 ? calloc(1, sizeof(*r)) : NULL;
	if (!r) {
		if (fd >= 0)
			close(fd);
		rpc_reply_error(
			call, fd == -ECONNREFUSED ? ERR_CONFLICT : ERR_INTERNAL,
			fd == -ECONNREFUSED ? "Nothing listens on port %u in "
					      "session %s"
					    : "Cannot connect to port %u in "
					      "session %s",
			x->port, x->sid);
		return;
	}
	*r = (struct relay){ .set = set, .x = x, .call = call, .fd = fd };
	r->next = set->relays;
	set->relays = r;
	x->open++;
	call->userdata = r;
	call->cancel = on_cancel;
	/* Loopback connects at once, unless the listener's queue is full. */
	int e = sd_event_add_io(set->d->event, &r->io, fd, EPOLLOUT,
				on_connected, r);
	if (e < 0) {
		r->io = NULL;
		refuse_connect(r, e);
	}
}
