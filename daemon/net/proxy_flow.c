#include "proxy_flow.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define PIPE_BYTES ((size_t)256 * 1024)
#define PUMP_ROUNDS 16 /* per event, so that one stream cannot starve */

void flow_init(struct flow *f)
{
	*f = (struct flow){ .pipe = { -1, -1 } };
}

int flow_open(struct flow *f)
{
	if (pipe2(f->pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return -errno;
	/* A larger pipe moves a download in fewer trips. */
	fcntl(f->pipe[0], F_SETPIPE_SZ, (int)PIPE_BYTES);
	return 0;
}

void flow_close(struct flow *f)
{
	for (int i = 0; i < 2; i++)
		if (f->pipe[i] >= 0)
			close(f->pipe[i]);
	free(f->prefix);
}

bool flow_budget_spent(const struct flow_budget *b)
{
	return b->limit && b->used > b->limit;
}

/* What src may give now: room in the pipe, and up to a byte past the
 * budget with what the pipe holds counted as spent. */
static size_t input_room(const struct flow *f, const struct flow_budget *b)
{
	size_t room = f->eof || f->clogged ? 0 : PIPE_BYTES - f->pending;
	if (b->limit) {
		uint64_t spent = b->used + f->pending;
		uint64_t left = spent > b->limit ? 0 : b->limit + 1 - spent;
		if (left < room)
			room = (size_t)left;
	}
	return room;
}

bool flow_wants_input(const struct flow *f, const struct flow_budget *b)
{
	return input_room(f, b) > 0;
}

bool flow_has_output(const struct flow *f)
{
	return f->pending > 0 || f->prefix_off < f->prefix_len;
}

/* EAGAIN from a source with bytes waiting: the pipe is out of buffers,
 * and only output frees one.  An empty pipe has buffers: the bytes came
 * after the splice, and waiting on output would wait for ever. */
static void check_clogged(struct flow *f, int src)
{
	int waiting = 0;
	if (f->pending > 0 && ioctl(src, FIONREAD, &waiting) == 0 &&
	    waiting > 0)
		f->clogged = true;
}

int flow_pump(struct flow *f, int src, int dst, struct flow_budget *b)
{
	bool any = false;
	for (int round = 0; round < PUMP_ROUNDS; round++) {
		bool moved = false;
		if (f->prefix_off < f->prefix_len) {
			ssize_t n = send(dst, f->prefix + f->prefix_off,
					 f->prefix_len - f->prefix_off,
					 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && errno != EAGAIN)
				return -errno;
			if (n > 0) {
				f->prefix_off += (size_t)n;
				if (f->count_prefix) {
					f->bytes += (uint64_t)n;
					b->used += (uint64_t)n;
				}
				moved = true;
			}
		}
		size_t room = input_room(f, b);
		if (room > 0) {
			ssize_t n = splice(src, NULL, f->pipe[1], NULL, room,
					   SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
			if (n == 0)
				f->eof = true;
			else if (n > 0)
				f->pending += (size_t)n;
			else if (errno == EAGAIN)
				check_clogged(f, src);
			else
				return -errno;
			moved = moved || n >= 0;
		}
		if (f->prefix_off == f->prefix_len && f->pending > 0) {
			ssize_t n =
				splice(f->pipe[0], NULL, dst, NULL, f->pending,
				       SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
			if (n < 0 && errno != EAGAIN)
				return -errno;
			if (n > 0) {
				f->pending -= (size_t)n;
				f->bytes += (uint64_t)n;
				b->used += (uint64_t)n;
				f->clogged = false;
				moved = true;
			}
		}
		if (f->eof && !f->shut && !flow_has_output(f)) {
			shutdown(dst, SHUT_WR);
			f->shut = true;
		}
		if (!moved)
			break;
		any = true;
	}
	return any;
}
