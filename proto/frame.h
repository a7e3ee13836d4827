/* Length-prefixed framing: a 4-byte big-endian length N, then N bytes of
 * JSON.  Blocking helpers for clients, an incremental parser for the daemon. */
#ifndef ISOL8_FRAME_H
#define ISOL8_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_HEADER_SIZE 4
#define FRAME_DEFAULT_MAX ((size_t)16u * 1024u * 1024u)

void frame_encode_header(uint8_t hdr[FRAME_HEADER_SIZE], uint32_t len);

/* Writes header and body completely.  0 or a negative errno. */
int frame_write(int fd, const char *body, size_t len);

/* Reads one frame into a fresh NUL-terminated buffer.  0, or:
 * -ENODATA  clean end of stream before a header,
 * -EPIPE    end of stream inside a frame (truncated),
 * -EBADMSG  zero-length frame,
 * -EMSGSIZE frame larger than max,
 * another negative errno from read(). */
int frame_read(int fd, size_t max, char **body, size_t *len);

struct frame_parser {
	size_t max;
	uint8_t hdr[FRAME_HEADER_SIZE];
	size_t hdr_have;
	char *body;
	size_t body_len;
	size_t body_have;
	size_t body_cap;
	int failed; /* the error of a bad header, until reset */
};

void frame_parser_init(struct frame_parser *p, size_t max);
void frame_parser_reset(struct frame_parser *p);
/* True while a frame has started but is not complete. */
int frame_parser_mid_frame(const struct frame_parser *p);

/* Consumes bytes from data and avail.  Returns 1 and hands over a complete,
 * NUL-terminated frame in body and len (caller frees); 0 when every byte was
 * consumed without completing a frame; -EBADMSG or -EMSGSIZE on a bad header,
 * and again on every call after it until frame_parser_reset().
 * The body buffer grows with the data that arrives, so a header alone never
 * makes the parser allocate the announced size. */
int frame_parser_next(struct frame_parser *p, const uint8_t **data,
		      size_t *avail, char **body, size_t *len);

/* Reading a large body through a small buffer costs a copy and many
 * reads; a reader may instead read straight into the body being received.
 * While a frame's body is incomplete, frame_parser_body_space gives where
 * its next bytes go and the room there, never past the body's end (room
 * 0 when no body is being received: no header yet, or a bad one).  The
 * room is at least as much as has arrived, between 16 KiB and
 * FRAME_BODY_READ (or what is left): the buffer grows with what arrives,
 * never to the announced size on the header alone.  0 or -ENOMEM. */
#define FRAME_BODY_READ ((size_t)65536)
int frame_parser_body_space(struct frame_parser *p, char **space, size_t *room);
/* Counts n bytes read into that space.  Returns 1 and hands over the
 * complete frame as frame_parser_next does, or 0. */
int frame_parser_body_filled(struct frame_parser *p, size_t n, char **body,
			     size_t *len);

#endif
