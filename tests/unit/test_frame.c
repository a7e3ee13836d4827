/* Framing: blocking reads and writes over a socket, and the incremental
 * parser fed in every shape the network can deliver. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frame.h"

#define VERSION_REQ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"version\"}"

static void make_pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

static void write_all(int fd, const void *data, size_t len)
{
	assert_int_equal(write(fd, data, len), (ssize_t)len);
}

/* Appends a frame (header and body) to buf at *off. */
static void put_frame(uint8_t *buf, size_t *off, const char *body, size_t len)
{
	frame_encode_header(buf + *off, (uint32_t)len);
	memcpy(buf + *off + FRAME_HEADER_SIZE, body, len);
	*off += FRAME_HEADER_SIZE + len;
}

/* True when nothing at all is waiting to be read on fd. */
static int socket_empty(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

static void test_header_is_big_endian(void **state)
{
	(void)state;
	uint8_t hdr[FRAME_HEADER_SIZE];
	frame_encode_header(hdr, 0x0102037fu);
	assert_int_equal(hdr[0], 0x01);
	assert_int_equal(hdr[1], 0x02);
	assert_int_equal(hdr[2], 0x03);
	assert_int_equal(hdr[3], 0x7f);
	frame_encode_header(hdr, UINT32_MAX);
	for (int i = 0; i < FRAME_HEADER_SIZE; i++)
		assert_int_equal(hdr[i], 0xff);
}

static void test_write_wire_format(void **state)
{
	(void)state;
	int sv[2];
	make_pair(sv);
	/* The protocol's own example: 43 bytes, header 00 00 00 2b. */
	const char *body = VERSION_REQ;
	assert_int_equal(strlen(body), 43);
	assert_int_equal(frame_write(sv[0], body, strlen(body)), 0);
	uint8_t got[64];
	ssize_t n = recv(sv[1], got, sizeof(got), MSG_DONTWAIT);
	assert_int_equal(n, 47);
	const uint8_t want_hdr[] = { 0x00, 0x00, 0x00, 0x2b };
	assert_memory_equal(got, want_hdr, sizeof(want_hdr));
	assert_memory_equal(got + 4, body, 43);
	close(sv[0]);
	close(sv[1]);
}

static void test_round_trip(void **state)
{
	(void)state;
	int sv[2];
	make_pair(sv);
	const char *bodies[] = { "x", VERSION_REQ, "{\"a\":[1,2,3]}" };
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(
			frame_write(sv[0], bodies[i], strlen(bodies[i])), 0);
	close(sv[0]);
	for (size_t i = 0; i < 3; i++) {
		char *body = NULL;
		size_t len = 0;
		assert_int_equal(frame_read(sv[1], 1024, &body, &len), 0);
		assert_int_equal(len, strlen(bodies[i]));
		assert_memory_equal(body, bodies[i], len);
		assert_int_equal(body[len], '\0');
		free(body);
	}
	/* A clean end between frames is not a truncation. */
	char *body = NULL;
	size_t len = 0;
	assert_int_equal(frame_read(sv[1], 1024, &body, &len), -ENODATA);
	assert_null(body);
	close(sv[1]);
}

static void test_round_trip_binary_body(void **state)
{
	(void)state;
	int sv[2];
	make_pair(sv);
	/* Framing does not care about the content, NUL bytes included. */
	const char body[] = { 'a', '\0', 'b', '\xff', '\0' };
	assert_int_equal(frame_write(sv[0], body, sizeof(body)), 0);
	char *got = NULL;
	size_t len = 0;
	assert_int_equal(frame_read(sv[1], 16, &got, &len), 0);
	assert_int_equal(len, sizeof(body));
	assert_memory_equal(got, body, sizeof(body));
	free(got);
	close(sv[0]);
	close(sv[1]);
}

/* A body larger than the socket buffer: the writer blocks in pieces while
 * the reader drains, so both sides must loop over partial transfers. */
static void test_round_trip_large(void **state)
{
	(void)state;
	const size_t size = 4u * 1024u * 1024u;
	char *big = malloc(size);
	assert_non_null(big);
	for (size_t i = 0; i < size; i++)
		big[i] = (char)('a' + i % 26);
	int sv[2];
	make_pair(sv);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Never outlive a parent that failed before reading. */
		alarm(30);
		close(sv[1]);
		_exit(frame_write(sv[0], big, size) == 0 ? 0 : 1);
	}
	close(sv[0]);
	char *body = NULL;
	size_t len = 0;
	assert_int_equal(frame_read(sv[1], size, &body, &len), 0);
	assert_int_equal(len, size);
	assert_memory_equal(body, big, size);
	assert_int_equal(body[size], '\0');
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	free(body);
	free(big);
	close(sv[1]);
}

static void test_write_zero_length_refused(void **state)
{
	(void)state;
	int sv[2];
	make_pair(sv);
	assert_int_equal(frame_write(sv[0], "", 0), -EMSGSIZE);
	/* Not even a header went out. */
	assert_true(socket_empty(sv[1]));
	close(sv[0]);
	close(sv[1]);
}

static void test_write_to_closed_peer(void **state)
{
	(void)state;
	int sv[2];
	make_pair(sv);
	close(sv[1]);
	assert_int_equal(frame_write(sv[0], "abc", 3), -EPIPE);
	close(sv[0]);
	assert_int_equal(frame_write(sv[0], "abc", 3), -EBADF);
}

static void test_read_zero_length(void **state)
{
	(void)state;
	int sv[2];
	make_pair(sv);
	const uint8_t hdr[] = { 0, 0, 0, 0 };
	write_all(sv[0], hdr, sizeof(hdr));
	char *body = NULL;
	size_t len = 0;
	assert_int_equal(frame_read(sv[1], 1024, &body, &len), -EBADMSG);
	assert_null(body);
	close(sv[0]);
	close(sv[1]);
}

static void test_read_limit(void **state)
{
	(void)state;
	int sv[2];
	make_pair(sv);
	uint8_t buf[64];
	size_t off = 0;
	put_frame(buf, &off, "0123456789", 10);
	write_all(sv[0], buf, off);

	/* Exactly the limit passes. */
	char *body = NULL;
	size_t len = 0;
	assert_int_equal(frame_read(sv[1], 10, &body, &len), 0);
	assert_int_equal(len, 10);
	assert_string_equal(body, "0123456789");
	free(body);
	body = NULL;

	/* One byte more is refused from the header alone. */
	off = 0;
	put_frame(buf, &off, "0123456789a", 11);
	write_all(sv[0], buf, off);
	assert_int_equal(frame_read(sv[1], 10, &body, &len), -EMSGSIZE);
	assert_null(body);
	close(sv[0]);
	close(sv[1]);
}

static void test_read_huge_header(void **state)
{
	(void)state;
	int sv[2];
	make_pair(sv);
	const uint8_t hdr[] = { 0xff, 0xff, 0xff, 0xff };
	write_all(sv[0], hdr, sizeof(hdr));
	char *body = NULL;
	size_t len = 0;
	assert_int_equal(frame_read(sv[1], FRAME_DEFAULT_MAX, &body, &len),
			 -EMSGSIZE);
	assert_null(body);
	close(sv[0]);
	close(sv[1]);
}

static void test_read_truncated_header(void **state)
{
	(void)state;
	for (size_t cut = 1; cut < FRAME_HEADER_SIZE; cut++) {
		int sv[2];
		make_pair(sv);
		const uint8_t hdr[] = { 0, 0, 0, 5 };
		write_all(sv[0], hdr, cut);
		close(sv[0]);
		char *body = NULL;
		size_t len = 0;
		assert_int_equal(frame_read(sv[1], 1024, &body, &len), -EPIPE);
		assert_null(body);
		close(sv[1]);
	}
}

static void test_read_truncated_body(void **state)
{
	(void)state;
	const char *full = "{\"id\":1}";
	for (size_t cut = 0; cut < strlen(full); cut++) {
		int sv[2];
		make_pair(sv);
		uint8_t hdr[FRAME_HEADER_SIZE];
		frame_encode_header(hdr, (uint32_t)strlen(full));
		write_all(sv[0], hdr, sizeof(hdr));
		if (cut > 0)
			write_all(sv[0], full, cut);
		close(sv[0]);
		char *body = NULL;
		size_t len = 0;
		assert_int_equal(frame_read(sv[1], 1024, &body, &len), -EPIPE);
		assert_null(body);
		close(sv[1]);
	}
}

static void test_read_bad_fd(void **state)
{
	(void)state;
	char *body = NULL;
	size_t len = 0;
	assert_int_equal(frame_read(-1, 1024, &body, &len), -EBADF);
	assert_null(body);
}

/* One parser call, with body and len cleared first so that a stale value
 * cannot pass for output. */
static int next_frame(struct frame_parser *p, const uint8_t **data,
		      size_t *avail, char **body, size_t *len)
{
	*body = NULL;
	*len = 0;
	return frame_parser_next(p, data, avail, body, len);
}

static void test_parser_byte_by_byte(void **state)
{
	(void)state;
	const char *bodies[] = { VERSION_REQ, "7", "{\"b\":\"\xc3\xa9\"}" };
	uint8_t buf[256];
	size_t total = 0;
	for (size_t i = 0; i < 3; i++)
		put_frame(buf, &total, bodies[i], strlen(bodies[i]));

	struct frame_parser p;
	frame_parser_init(&p, 1024);
	assert_false(frame_parser_mid_frame(&p));
	size_t got = 0;
	size_t frame_end = FRAME_HEADER_SIZE + strlen(bodies[0]);
	for (size_t i = 0; i < total; i++) {
		const uint8_t *d = buf + i;
		size_t avail = 1;
		char *body;
		size_t len;
		int r = next_frame(&p, &d, &avail, &body, &len);
		assert_int_equal(avail, 0);
		assert_ptr_equal(d, buf + i + 1);
		if (i + 1 < frame_end) {
			assert_int_equal(r, 0);
			assert_null(body);
			assert_true(frame_parser_mid_frame(&p));
			continue;
		}
		/* The last byte of a frame completes it. */
		assert_int_equal(r, 1);
		assert_int_equal(len, strlen(bodies[got]));
		assert_string_equal(body, bodies[got]);
		free(body);
		assert_false(frame_parser_mid_frame(&p));
		got++;
		if (got < 3)
			frame_end += FRAME_HEADER_SIZE + strlen(bodies[got]);
	}
	assert_int_equal(got, 3);
	frame_parser_reset(&p);
}

static void test_parser_several_frames_in_one_buffer(void **state)
{
	(void)state;
	const char *bodies[] = { "a", VERSION_REQ, "[]", "\"bc\"" };
	uint8_t buf[256];
	size_t total = 0;
	for (size_t i = 0; i < 4; i++)
		put_frame(buf, &total, bodies[i], strlen(bodies[i]));

	struct frame_parser p;
	frame_parser_init(&p, 1024);
	const uint8_t *d = buf;
	size_t avail = total;
	size_t consumed = 0;
	for (size_t i = 0; i < 4; i++) {
		char *body;
		size_t len;
		assert_int_equal(next_frame(&p, &d, &avail, &body, &len), 1);
		/* Exactly one frame is taken per call; the rest stays. */
		consumed += FRAME_HEADER_SIZE + strlen(bodies[i]);
		assert_ptr_equal(d, buf + consumed);
		assert_int_equal(avail, total - consumed);
		assert_int_equal(len, strlen(bodies[i]));
		assert_string_equal(body, bodies[i]);
		free(body);
	}
	char *body;
	size_t len;
	assert_int_equal(next_frame(&p, &d, &avail, &body, &len), 0);
	assert_null(body);
	assert_false(frame_parser_mid_frame(&p));
	frame_parser_reset(&p);
}

static void test_parser_header_split(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t total = 0;
	put_frame(buf, &total, VERSION_REQ, strlen(VERSION_REQ));

	for (size_t cut = 1; cut < FRAME_HEADER_SIZE; cut++) {
		struct frame_parser p;
		frame_parser_init(&p, 1024);
		const uint8_t *d = buf;
		size_t avail = cut;
		char *body;
		size_t len;
		assert_int_equal(next_frame(&p, &d, &avail, &body, &len), 0);
		assert_int_equal(avail, 0);
		assert_true(frame_parser_mid_frame(&p));
		/* A partial header has not allocated anything. */
		assert_null(p.body);

		avail = total - cut;
		assert_int_equal(next_frame(&p, &d, &avail, &body, &len), 1);
		assert_int_equal(avail, 0);
		assert_int_equal(len, strlen(VERSION_REQ));
		assert_string_equal(body, VERSION_REQ);
		free(body);
		frame_parser_reset(&p);
	}
}

static void test_parser_split_everywhere(void **state)
{
	(void)state;
	uint8_t buf[128];
	size_t total = 0;
	put_frame(buf, &total, VERSION_REQ, strlen(VERSION_REQ));
	put_frame(buf, &total, "{}", 2);

	/* Two reads, cut at every possible offset: both frames come out
	 * whole and in order. */
	for (size_t cut = 0; cut <= total; cut++) {
		struct frame_parser p;
		frame_parser_init(&p, 1024);
		const char *want[] = { VERSION_REQ, "{}" };
		size_t got = 0;
		const size_t pieces[2][2] = { { 0, cut }, { cut, total } };
		for (int k = 0; k < 2; k++) {
			const uint8_t *d = buf + pieces[k][0];
			size_t avail = pieces[k][1] - pieces[k][0];
			char *body;
			size_t len;
			int r;
			while ((r = next_frame(&p, &d, &avail, &body, &len)) ==
			       1) {
				assert_true(got < 2);
				assert_string_equal(body, want[got]);
				free(body);
				got++;
			}
			assert_int_equal(r, 0);
			assert_int_equal(avail, 0);
		}
		assert_int_equal(got, 2);
		assert_false(frame_parser_mid_frame(&p));
		frame_parser_reset(&p);
	}
}

static void test_parser_large_body_in_chunks(void **state)
{
	(void)state;
	const size_t size = 100000;
	uint8_t *buf = malloc(FRAME_HEADER_SIZE + size);
	assert_non_null(buf);
	frame_encode_header(buf, (uint32_t)size);
	for (size_t i = 0; i < size; i++)
		buf[FRAME_HEADER_SIZE + i] = (uint8_t)('0' + i % 10);

	struct frame_parser p;
	frame_parser_init(&p, size);
	size_t off = 0, step = 1, total = FRAME_HEADER_SIZE + size;
	char *body = NULL;
	size_t len = 0;
	int r = 0;
	while (off < total) {
		size_t n = step < total - off ? step : total - off;
		const uint8_t *d = buf + off;
		size_t avail = n;
		r = next_frame(&p, &d, &avail, &body, &len);
		assert_int_equal(avail, 0);
		off += n;
		if (off < total)
			assert_int_equal(r, 0);
		step = step * 3 % 4099 + 1;
	}
	assert_int_equal(r, 1);
	assert_int_equal(len, size);
	assert_memory_equal(body, buf + FRAME_HEADER_SIZE, size);
	assert_int_equal(body[size], '\0');
	free(body);
	free(buf);
	frame_parser_reset(&p);
}

static void test_parser_zero_length(void **state)
{
	(void)state;
	const uint8_t buf[] = { 0, 0, 0, 0, 0, 0, 0, 1, 'x' };
	struct frame_parser p;
	frame_parser_init(&p, 1024);
	const uint8_t *d = buf;
	size_t avail = sizeof(buf);
	char *body;
	size_t len;
	assert_int_equal(next_frame(&p, &d, &avail, &body, &len), -EBADMSG);
	assert_null(body);
	/* Only the bad header was consumed. */
	assert_ptr_equal(d, buf + FRAME_HEADER_SIZE);
	assert_int_equal(avail, sizeof(buf) - FRAME_HEADER_SIZE);
	/* The error sticks: the rest is not taken for a frame. */
	assert_int_equal(next_frame(&p, &d, &avail, &body, &len), -EBADMSG);
	assert_int_equal(avail, sizeof(buf) - FRAME_HEADER_SIZE);
	frame_parser_reset(&p);
	assert_int_equal(next_frame(&p, &d, &avail, &body, &len), 1);
	assert_string_equal(body, "x");
	free(body);
	frame_parser_reset(&p);
}

static void test_parser_limit(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t total = 0;
	put_frame(buf, &total, "0123456789", 10);

	struct frame_parser p;
	frame_parser_init(&p, 10);
	const uint8_t *d = buf;
	size_t avail = total;
	char *body;
	size_t len;
	assert_int_equal(next_frame(&p, &d, &avail, &body, &len), 1);
	assert_string_equal(body, "0123456789");
	free(body);

	frame_parser_init(&p, 9);
	d = buf;
	avail = total;
	assert_int_equal(next_frame(&p, &d, &avail, &body, &len), -EMSGSIZE);
	assert_null(body);
	assert_int_equal(p.body_len, 10);
	assert_ptr_equal(d, buf + FRAME_HEADER_SIZE);
	frame_parser_reset(&p);
}

static void test_parser_huge_header_split(void **state)
{
	(void)state;
	const uint8_t hdr[] = { 0x80, 0x00, 0x00, 0x00 };
	struct frame_parser p;
	frame_parser_init(&p, FRAME_DEFAULT_MAX);
	const uint8_t *d = hdr;
	size_t avail = 2;
	char *body;
	size_t len;
	assert_int_equal(next_frame(&p, &d, &avail, &body, &len), 0);
	avail = 2;
	assert_int_equal(next_frame(&p, &d, &avail, &body, &len), -EMSGSIZE);
	assert_int_equal(p.body_len, 0x80000000u);
	assert_null(p.body);
	frame_parser_reset(&p);
}

static void test_parser_allocates_with_data(void **state)
{
	(void)state;
	/* A header announcing the full limit, followed by a few bytes: the
	 * buffer follows what arrived, not what was announced. */
	uint8_t buf[FRAME_HEADER_SIZE + 10];
	frame_encode_header(buf, FRAME_DEFAULT_MAX);
	memset(buf + FRAME_HEADER_SIZE, 'x', 10);
	struct frame_parser p;
	frame_parser_init(&p, FRAME_DEFAULT_MAX);
	const uint8_t *d = buf;
	size_t avail = FRAME_HEADER_SIZE;
	char *body;
	size_t len;
	assert_int_equal(next_frame(&p, &d, &avail, &body, &len), 0);
	assert_true(frame_parser_mid_frame(&p));
	assert_null(p.body);
	avail = 10;
	assert_int_equal(next_frame(&p, &d, &avail, &body, &len), 0);
	assert_int_equal(p.body_have, 10);
	assert_true(p.body_cap >= 11);
	assert_true(p.body_cap <= 4096);
	/* Dropping a half-read frame frees it (the leak checker sees it). */
	frame_parser_reset(&p);
	assert_false(frame_parser_mid_frame(&p));
	assert_null(p.body);
	assert_int_equal(p.max, FRAME_DEFAULT_MAX);
}

static void test_parser_reset_then_reuse(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t total = 0;
	put_frame(buf, &total, "{\"x\":1}", 7);

	struct frame_parser p;
	frame_parser_init(&p, 1024);
	const uint8_t *d = buf;
	size_t avail = total - 2;
	char *body;
	size_t len;
	assert_int_equal(next_frame(&p, &d, &avail, &body, &len), 0);
	assert_true(frame_parser_mid_frame(&p));
	frame_parser_reset(&p);

	/* After a reset the parser starts at a header again. */
	d = buf;
	avail = total;
	assert_int_equal(next_frame(&p, &d, &avail, &body, &len), 1);
	assert_string_equal(body, "{\"x\":1}");
	free(body);
	frame_parser_reset(&p);
}

static void test_parser_empty_input(void **state)
{
	(void)state;
	struct frame_parser p;
	frame_parser_init(&p, 1024);
	const uint8_t *d = (const uint8_t *)"";
	size_t avail = 0;
	char *body;
	size_t len;
	assert_int_equal(next_frame(&p, &d, &avail, &body, &len), 0);
	assert_false(frame_parser_mid_frame(&p));
	frame_parser_reset(&p);
}

/* Reading straight into the body: a large frame filled through
 * frame_parser_body_space/body_filled in pieces of every kind of size,
 * the room never past the body's end and the buffer growing only with
 * what arrived; then the next frame parses as usual. */
static void test_parser_direct_body(void **state)
{
	(void)state;
	const size_t size = 300000;
	char *src = malloc(size);
	assert_non_null(src);
	for (size_t i = 0; i < size; i++)
		src[i] = (char)('a' + i % 23);
	uint8_t hdr[FRAME_HEADER_SIZE + 5];
	size_t hlen = 0;
	struct frame_parser p;
	frame_parser_init(&p, 1 << 20);
	char *space, *body = NULL;
	size_t room, len;
	/* No header yet: no room. */
	assert_int_equal(frame_parser_body_space(&p, &space, &room), 0);
	assert_int_equal(room, 0);
	put_frame(hdr, &hlen, src, 5);
	hdr[0] = (uint8_t)(size >> 24);
	hdr[1] = (uint8_t)(size >> 16);
	hdr[2] = (uint8_t)(size >> 8);
	hdr[3] = (uint8_t)size;
	const uint8_t *d = hdr;
	size_t avail = hlen;
	assert_int_equal(next_frame(&p, &d, &avail, &body, &len), 0);
	size_t have = 5;
	static const size_t steps[] = { 1, 7, 4096, 16384, 65536, 100000 };
	for (size_t k = 0; have < size; k++) {
		assert_int_equal(frame_parser_body_space(&p, &space, &room), 0);
		assert_true(room > 0 && room <= size - have);
		assert_true(room >=
			    (size - have < 16384 ? size - have : 16384));
		/* Never the announced size on what has come so far. */
		assert_true(p.body_cap <= 2 * (have + FRAME_BODY_READ));
		size_t n = steps[k % 6] < room ? steps[k % 6] : room;
		memcpy(space, src + have, n);
		have += n;
		int r = frame_parser_body_filled(&p, n, &body, &len);
		assert_int_equal(r, have == size);
	}
	assert_int_equal(len, size);
	assert_memory_equal(body, src, size);
	assert_int_equal(body[size], '\0');
	free(body);
	/* The parser goes on with the next frame. */
	assert_false(frame_parser_mid_frame(&p));
	assert_int_equal(frame_parser_body_space(&p, &space, &room), 0);
	assert_int_equal(room, 0);
	uint8_t small[16];
	size_t slen = 0;
	put_frame(small, &slen, "7", 1);
	d = small;
	avail = slen;
	assert_int_equal(next_frame(&p, &d, &avail, &body, &len), 1);
	assert_string_equal(body, "7");
	free(body);
	/* A bad header leaves no room either. */
	static const uint8_t zero[FRAME_HEADER_SIZE] = { 0 };
	d = zero;
	avail = sizeof(zero);
	assert_int_equal(next_frame(&p, &d, &avail, &body, &len), -EBADMSG);
	assert_int_equal(frame_parser_body_space(&p, &space, &room), 0);
	assert_int_equal(room, 0);
	frame_parser_reset(&p);
	free(src);
}

int main(void)
{
	/* A write to a closed peer must come back as -EPIPE, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_is_big_endian),
		cmocka_unit_test(test_write_wire_format),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_round_trip_binary_body),
		cmocka_unit_test(test_round_trip_large),
		cmocka_unit_test(test_write_zero_length_refused),
		cmocka_unit_test(test_write_to_closed_peer),
		cmocka_unit_test(test_read_zero_length),
		cmocka_unit_test(test_read_limit),
		cmocka_unit_test(test_read_huge_header),
		cmocka_unit_test(test_read_truncated_header),
		cmocka_unit_test(test_read_truncated_body),
		cmocka_unit_test(test_read_bad_fd),
		cmocka_unit_test(test_parser_byte_by_byte),
		cmocka_unit_test(test_parser_several_frames_in_one_buffer),
		cmocka_unit_test(test_parser_header_split),
		cmocka_unit_test(test_parser_split_everywhere),
		cmocka_unit_test(test_parser_large_body_in_chunks),
		cmocka_unit_test(test_parser_zero_length),
		cmocka_unit_test(test_parser_limit),
		cmocka_unit_test(test_parser_huge_header_split),
		cmocka_unit_test(test_parser_allocates_with_data),
		cmocka_unit_test(test_parser_reset_then_reuse),
		cmocka_unit_test(test_parser_empty_input),
		cmocka_unit_test(test_parser_direct_body),
	};
	return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
