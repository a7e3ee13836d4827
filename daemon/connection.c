#include "connection.h"

#include "cleanup.h"
#include "daemon.h"
#include "frame.h"
#include "jsonrpc.h"
#include "log.h"
#include "rpc.h"
#include "rpc_call.h"
#include "sandbox/fd_pass.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK 16384

struct outbuf {
	uint8_t *data;
	size_t len; /* bytes queued, from data[0] */
	size_t off; /* bytes of them already written */
	size_t cap;
	/* An fd that travels (SCM_RIGHTS) with the byte at data[pass_at],
	 * the first of its message; -1: none. */
	int pass_fd;
	size_t pass_at;
};

struct connection {
	struct daemon *d;
	int fd;
	sd_event_source *io;
	sd_event_source *idle;
	struct frame_parser parser;
	uint8_t rbuf[READ_CHUNK];
	size_t rlen, roff; /* unconsumed input is rbuf[roff..rlen) */
	struct outbuf out;
	struct rpc_calls calls;
	struct rpc_sink sink; /* how its calls answer */
	uint64_t last_activity;
	struct ucred peer;
	struct peer_identity id;
	bool eof;	      /* the client will send nothing more */
	bool processing;      /* inside process_input: callers defer I/O */
	bool close_when_done; /* after a protocol error, or at eof */
	connection_closed_fn on_closed;
	void *userdata;
};

static void update_events(struct connection *c);

static uint64_t mono_now(const struct connection *c)
{
	uint64_t t = 0;
	sd_event_now(c->d->event, CLOCK_MONOTONIC, &t);
	return t;
}

static size_t pending_out(const struct connection *c)
{
	return c->out.len - c->out.off;
}

/* Reading is paused while the client has too much unread output or too
 * many requests in flight, so one client cannot make the daemon buffer
 * without bound. */
static bool input_blocked(const struct connection *c)
{
	return pending_out(c) >= c->d->cfg.max_pending_output ||
	       c->calls.count >= c->d->cfg.max_requests_in_flight;
}

static int outbuf_reserve(struct outbuf *o, size_t more)
{
	if (o->off > 0 && o->off == o->len)
		o->off = o->len = 0;
	if (o->len + more <= o->cap)
		return 0;
	if (o->off > 0) {
		memmove(o->data, o->data + o->off, o->len - o->off);
		o->len -= o->off;
		if (o->pass_fd >= 0)
			o->pass_at -= o->off;
		o->off = 0;
		if (o->len + more <= o->cap)
			return 0;
	}
	size_t cap = o->cap ? o->cap : 4096;
	while (cap < o->len + more)
		cap *= 2;
	uint8_t *n = realloc(o->data, cap);
	if (!n)
		return -ENOMEM;
	o->data = n;
	o->cap = cap;
	return 0;
}

static void drop_pass_fd(struct outbuf *o)
{
	if (o->pass_fd >= 0)
		close(o->pass_fd);
	o->pass_fd = -1;
}

static int flush_output(struct connection *c)
{
	struct outbuf *o = &c->out;
	while (pending_out(c) > 0) {
		size_t len = pending_out(c);
		bool with_fd = o->pass_fd >= 0 && o->pass_at == o->off;
		/* The bytes before the fd's message go on their own. */
		if (o->pass_fd >= 0 && o->pass_at > o->off &&
		    o->pass_at - o->off < len)
			len = o->pass_at - o->off;
		/* The socket does not block (server.c's accept4). */
		struct iovec iov = { o->data + o->off, len };
		ssize_t n = fd_pass_send(c->fd, &iov, 1, &o->pass_fd, with_fd);
		if (n == -EAGAIN)
			return 0;
		if (n < 0)
			return (int)n;
		if (with_fd && n > 0)
			drop_pass_fd(o);
		o->off += (size_t)n;
		c->last_activity = mono_now(c);
	}
	/* Give back a large buffer once a burst has drained. */
	if (o->cap > (size_t)1024 * 1024) {
		free(o->data);
		*o = (struct outbuf){ .pass_fd = -1 };
	}
	return 0;
}

/* The client cannot be written to any more: drop its output and close the
 * connection as soon as no call refers to it.  Never frees c here, so
 * callers in the middle of a reply stay safe. */
static void mark_dead(struct connection *c)
{
	c->eof = true;
	c->close_when_done = true;
	c->out.off = c->out.len;
	drop_pass_fd(&c->out);
}

/* Queues msg; with pass_fd >= 0, a copy of that fd travels with it. */
static int connection_send(struct connection *c, json_object *msg, int pass_fd,
			   struct error *e)
{
	size_t len;
	const char *text = json_object_to_json_string_length(
		msg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		&len);
	if (!text)
		return error_set(e, ERR_INTERNAL, ENOMEM,
				 "The reply could not be sent: out of memory");
	if (len > c->d->cfg.limits.result_bytes)
		return rpc_too_large(e, len, c->d->cfg.limits.result_bytes);
	/* A client that lets twice the pending limit pile up is not reading;
	 * it loses the connection rather than the daemon its memory. */
	if (pending_out(c) + len > 2 * c->d->cfg.max_pending_output) {
		log_warn("closing connection of pid %d: %zu bytes of output "
			 "not read",
			 (int)c->peer.pid, pending_out(c));
		mark_dead(c);
		update_events(c);
		return 0;
	}
	if (pass_fd >= 0 && c->out.pass_fd >= 0)
		return error_set(e, ERR_BUSY, EBUSY,
				 "Another descriptor waits to be sent on this "
				 "connection");
	if (outbuf_reserve(&c->out, FRAME_HEADER_SIZE + len) < 0)
		return error_set(e, ERR_INTERNAL, ENOMEM,
				 "The reply could not be sent: out of memory "
				 "for %zu bytes",
				 len);
	if (pass_fd >= 0) {
		c->out.pass_fd = fcntl(pass_fd, F_DUPFD_CLOEXEC, 3);
		if (c->out.pass_fd < 0)
			return error_set(e, ERR_INTERNAL, errno,
					 "Cannot pass a descriptor: %s",
					 strerror(errno));
		c->out.pass_at = c->out.len;
	}
	frame_encode_header(c->out.data + c->out.len, (uint32_t)len);
	memcpy(c->out.data + c->out.len + FRAME_HEADER_SIZE, text, len);
	c->out.len += FRAME_HEADER_SIZE + len;
	if (c->processing)
		return 0; /* on_io flushes once for the whole batch */
	if (flush_output(c) < 0)
		mark_dead(c);
	update_events(c);
	return 0;
}

static void send_error(struct connection *c, json_object *id, int code,
		       enum error_kind kind, const char *msg)
{
	_cleanup_json_ json_object *e = rpc_make_error(id, code, kind, msg);
	struct error why;
	if (connection_send(c, e, -1, &why) < 0)
		log_errno(LOG_ERR, why.err, "cannot send an error: %s",
			  why.message);
}

/* Handles complete frames from the read buffer until it is empty or input
 * is blocked.  A framing error is answered and ends reading. */
static void process_frames(struct connection *c)
{
	while (c->roff < c->rlen && !input_blocked(c) && !c->close_when_done) {
		const uint8_t *p = c->rbuf + c->roff;
		size_t avail = c->rlen - c->roff;
		char *body = NULL;
		size_t len = 0;
		int r = frame_parser_next(&c->parser, &p, &avail, &body, &len);
		c->roff = c->rlen - avail;
		if (r < 0) {
			char msg[160];
			if (r == -EMSGSIZE)
				snprintf(
					msg, sizeof(msg),
					"Frame too large: %zu bytes announced, "
					"the limit is %llu",
					c->parser.body_len,
					(unsigned long long)
						c->d->cfg.max_frame_bytes);
			else if (r == -EBADMSG)
				snprintf(msg, sizeof(msg),
					 "Invalid frame: zero length");
			else
				snprintf(msg, sizeof(msg),
					 "Cannot read frame: %s", strerror(-r));
			send_error(c, NULL, RPC_INVALID_REQUEST,
				   ERR_INVALID_ARGUMENT, msg);
			c->close_when_done = true;
			c->eof = true;
			c->roff = c->rlen;
			break;
		}
		if (r == 0)
			break;
		rpc_handle(c->d, &c->peer, &c->id, &c->sink, &c->calls, body,
			   len);
		free(body);
	}
	if (c->roff == c->rlen)
		c->roff = c->rlen = 0;
}

static void process_input(struct connection *c)
{
	c->processing = true;
	process_frames(c);
	c->processing = false;
}

/* n bytes were read straight into the body being received. */
static void body_read(struct connection *c, size_t n)
{
	char *body = NULL;
	size_t len = 0;
	if (frame_parser_body_filled(&c->parser, n, &body, &len) == 1) {
		c->processing = true;
		rpc_handle(c->d, &c->peer, &c->id, &c->sink, &c->calls, body,
			   len);
		free(body);
		c->processing = false;
	}
}

static void on_eof(struct connection *c)
{
	c->eof = true;
	c->close_when_done = true;
	if (frame_parser_mid_frame(&c->parser) || c->roff < c->rlen)
		send_error(c, NULL, RPC_INVALID_REQUEST, ERR_INVALID_ARGUMENT,
			   "Truncated frame: the connection ended inside a "
			   "frame");
}

/* Closes once nothing is left to do for a client that is finished. */
static bool maybe_close(struct connection *c)
{
	if (c->close_when_done && c->calls.count == 0 && pending_out(c) == 0) {
		connection_close(c);
		return true;
	}
	return false;
}

static void update_events(struct connection *c)
{
	uint32_t ev = 0;
	if (!c->eof && !input_blocked(c) && c->rlen < sizeof(c->rbuf))
		ev |= EPOLLIN;
	if (pending_out(c) > 0)
		ev |= EPOLLOUT;
	sd_event_source_set_io_events(c->io, ev);
}

/* Drops consumed input so the buffer has room for more. */
static void compact_input(struct connection *c)
{
	if (c->roff == 0)
		return;
	memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
	c->rlen -= c->roff;
	c->roff = 0;
}

/* Writes what is queued and, as long as that unblocks input, handles the
 * frames still buffered; then closes or re-arms.  For use outside a batch. */
static void settle(struct connection *c)
{
	for (;;) {
		if (flush_output(c) < 0) {
			mark_dead(c);
			break;
		}
		if (c->close_when_done || input_blocked(c) ||
		    c->roff >= c->rlen)
			break;
		process_input(c);
	}
	compact_input(c);
	if (!maybe_close(c))
		update_events(c);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	(void)s;
	struct connection *c = userdata;

	if (revents & (EPOLLERR | EPOLLHUP)) {
		/* The client is gone both ways: nobody is left to answer. */
		connection_close(c);
		return 0;
	}
	if ((revents & EPOLLIN) && c->rlen < sizeof(c->rbuf)) {
		/* The rest of a large body goes straight where it is parsed,
		 * once nothing buffered comes before it, as long as a frame
		 * that ends there can be handled at once (as process_frames
		 * would). */
		char *space = NULL;
		size_t room = 0;
		if (c->roff == c->rlen && !input_blocked(c) &&
		    !c->close_when_done &&
		    frame_parser_body_space(&c->parser, &space, &room) < 0)
			room = 0; /* the buffered path reports it */
		ssize_t n = room > 0 ? read(fd, space, room)
				     : read(fd, c->rbuf + c->rlen,
					    sizeof(c->rbuf) - c->rlen);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			connection_close(c);
			return 0;
		}
		if (n == 0)
			on_eof(c);
		else if (n > 0) {
			c->last_activity = mono_now(c);
			if (room > 0)
				body_read(c, (size_t)n);
			else {
				c->rlen += (size_t)n;
				process_input(c);
			}
		}
	}
	settle(c);
	return 0;
}

static int on_idle(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct connection *c = userdata;
	uint64_t limit = c->d->cfg.idle_timeout_ms * 1000;
	uint64_t due = c->last_activity + limit;
	/* A connection waiting on its own long request is not idle. */
	if (c->calls.count > 0)
		due = usec + limit;
	if (due > usec) {
		sd_event_source_set_time(s, due);
		sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
		return 0;
	}
	log_debug("closing idle connection of pid %d", (int)c->peer.pid);
	connection_close(c);
	return 0;
}

static int sink_send(void *ctx, json_object *msg, struct error *e)
{
	return connection_send(ctx, msg, -1, e);
}

static int sink_send_fd(void *ctx, json_object *msg, int fd, struct error *e)
{
	return connection_send(ctx, msg, fd, e);
}

static void call_ended(void *ctx)
{
	struct connection *c = ctx;
	if (c->processing)
		return; /* the running batch settles for it */
	settle(c);
}

int connection_new(struct daemon *d, int fd, const struct ucred *peer,
		   struct peer_identity *id, connection_closed_fn on_closed,
		   void *userdata, struct connection **out)
{
	struct connection *c = calloc(1, sizeof(*c));
	if (!c) {
		peer_identity_clear(id);
		close(fd);
		return -ENOMEM;
	}
	c->peer = *peer;
	c->id = *id;
	*id = (struct peer_identity){ 0 };
	c->d = d;
	c->fd = fd;
	c->on_closed = on_closed;
	c->userdata = userdata;
	c->out.pass_fd = -1;
	c->sink = (struct rpc_sink){ .send = sink_send,
				     .send_fd = sink_send_fd,
				     .ended = call_ended,
				     .ctx = c };
	frame_parser_init(&c->parser, d->cfg.max_frame_bytes);
	c->last_activity = mono_now(c);

	int r = sd_event_add_io(d->event, &c->io, fd, EPOLLIN, on_io, c);
	if (r >= 0)
		r = sd_event_add_time_relative(d->event, &c->idle,
					       CLOCK_MONOTONIC,
					       d->cfg.idle_timeout_ms * 1000,
					       (uint64_t)10 * 1000, on_idle, c);
	if (r < 0) {
		log_errno(LOG_ERR, r, "cannot watch a new connection");
		sd_event_source_unref(c->io);
		peer_identity_clear(&c->id);
		close(fd);
		free(c);
		return r;
	}
	c->id.tenant->connections++;
	*out = c;
	return 0;
}

void connection_close(struct connection *c)
{
	rpc_calls_cancel(&c->calls);
	sd_event_source_disable_unref(c->io);
	sd_event_source_disable_unref(c->idle);
	close(c->fd);
	frame_parser_reset(&c->parser);
	drop_pass_fd(&c->out);
	free(c->out.data);
	c->id.tenant->connections--;
	peer_identity_clear(&c->id);
	if (c->on_closed)
		c->on_closed(c, c->userdata);
	free(c);
}
