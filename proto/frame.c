#include "frame.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

void frame_encode_header(uint8_t hdr[FRAME_HEADER_SIZE], uint32_t len)
{
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
}

static uint32_t decode_header(const uint8_t hdr[FRAME_HEADER_SIZE])
{
	return ((uint32_t)hdr[0] << 24) | ((uint32_t)hdr[1] << 16) |
	       ((uint32_t)hdr[2] << 8) | (uint32_t)hdr[3];
}

int frame_write(int fd, const char *body, size_t len)
{
	if (len == 0 || len > UINT32_MAX)
		return -EMSGSIZE;
	uint8_t hdr[FRAME_HEADER_SIZE];
	frame_encode_header(hdr, (uint32_t)len);
	struct iovec iov[2] = {
		{ .iov_base = hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)body, .iov_len = len },
	};
	struct iovec *v = iov;
	int cnt = 2;
	while (cnt > 0) {
		ssize_t n = writev(fd, v, cnt);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		while (cnt > 0 && (size_t)n >= v->iov_len) {
			n -= (ssize_t)v->iov_len;
			v++;
			cnt--;
		}
		if (cnt > 0) {
			v->iov_base = (char *)v->iov_base + n;
			v->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* Reads exactly len bytes; returns bytes read before EOF, or -errno. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t have = 0;
	while (have < len) {
		ssize_t n = read(fd, (char *)buf + have, len - have);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	return (ssize_t)have;
}

int frame_read(int fd, size_t max, char **body, size_t *len)
{
	uint8_t hdr[FRAME_HEADER_SIZE];
	ssize_t n = read_full(fd, hdr, sizeof(hdr));
	if (n < 0)
		return (int)n;
	if (n == 0)
		return -ENODATA;
	if ((size_t)n < sizeof(hdr))
		return -EPIPE;
	uint32_t want = decode_header(hdr);
	if (want == 0)
		return -EBADMSG;
	if (want > max)
		return -EMSGSIZE;
	char *buf = malloc((size_t)want + 1);
	if (!buf)
		return -ENOMEM;
	n = read_full(fd, buf, want);
	if (n < 0 || (size_t)n < want) {
		free(buf);
		return n < 0 ? (int)n : -EPIPE;
	}
	buf[want] = '\0';
	*body = buf;
	*len = want;
	return 0;
}

void frame_parser_init(struct frame_parser *p, size_t max)
{
	memset(p, 0, sizeof(*p));
	p->max = max;
}

void frame_parser_reset(struct frame_parser *p)
{
	free(p->body);
	frame_parser_init(p, p->max);
}

int frame_parser_mid_frame(const struct frame_parser *p)
{
	return p->hdr_have > 0;
}

/* Makes room for need bytes of body (the NUL included): doubling, so a
 * body costs few reallocations, but never past the announced size. */
static int grow_body(struct frame_parser *p, size_t need)
{
	if (need <= p->body_cap)
		return 0;
	size_t cap = p->body_cap ? p->body_cap : 256;
	while (cap < need)
		cap *= 2;
	if (cap > p->body_len + 1)
		cap = p->body_len + 1;
	char *nb = realloc(p->body, cap);
	if (!nb)
		return -ENOMEM;
	p->body = nb;
	p->body_cap = cap;
	return 0;
}

/* Counts n more bytes of body; true, with the frame handed over, once
 * it is complete. */
static bool body_received(struct frame_parser *p, size_t n, char **body,
			  size_t *len)
{
	p->body_have += n;
	if (p->body_have < p->body_len)
		return false;
	p->body[p->body_len] = '\0';
	*body = p->body;
	*len = p->body_len;
	p->body = NULL;
	frame_parser_init(p, p->max);
	return true;
}

int frame_parser_body_space(struct frame_parser *p, char **space, size_t *room)
{
	*room = 0;
	if (p->failed || p->hdr_have < FRAME_HEADER_SIZE)
		return 0;
	size_t left = p->body_len - p->body_have;
	/* Room for as much as has come (16 KiB at first, FRAME_BODY_READ at
	 * most): what a client has sent, not what it announced, sets the
	 * size. */
	size_t want = p->body_have < 16384 ? 16384 : p->body_have;
	if (want > FRAME_BODY_READ)
		want = FRAME_BODY_READ;
	if (want > left)
		want = left;
	if (p->body_cap < p->body_have + want + 1 &&
	    grow_body(p, p->body_have + want + 1) < 0)
		return -ENOMEM;
	*space = p->body + p->body_have;
	*room = p->body_cap - 1 - p->body_have;
	if (*room > left)
		*room = left;
	return 0;
}

int frame_parser_body_filled(struct frame_parser *p, size_t n, char **body,
			     size_t *len)
{
	return body_received(p, n, body, len) ? 1 : 0;
}

int frame_parser_next(struct frame_parser *p, const uint8_t **data,
		      size_t *avail, char **body, size_t *len)
{
	if (p->failed)
		return p->failed;
	while (*avail > 0) {
		if (p->hdr_have < FRAME_HEADER_SIZE) {
			size_t take = FRAME_HEADER_SIZE - p->hdr_have;
			if (take > *avail)
				take = *avail;
			memcpy(p->hdr + p->hdr_have, *data, take);
			p->hdr_have += take;
			*data += take;
			*avail -= take;
			if (p->hdr_have < FRAME_HEADER_SIZE)
				return 0;
			p->body_len = decode_header(p->hdr);
			if (p->body_len == 0 || p->body_len > p->max) {
				/* The stream cannot be resynchronised: every
				 * later call fails the same way. */
				p->failed = p->body_len ? -EMSGSIZE : -EBADMSG;
				return p->failed;
			}
			continue;
		}
		size_t take = p->body_len - p->body_have;
		if (take > *avail)
			take = *avail;
		if (grow_body(p, p->body_have + take + 1) < 0)
			return -ENOMEM;
		memcpy(p->body + p->body_have, *data, take);
		*data += take;
		*avail -= take;
		if (body_received(p, take, body, len))
			return 1;
	}
	return 0;
}
