/* WebSocket frames: the handshake's accept key (RFC 6455's example and
 * SHA-1's test vectors), client frames cut at every byte, fragments with
 * control frames between them, and each way a client breaks the protocol
 * naming its close code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sha1.h"
#include "ws_frame.h"

static void test_sha1_vectors(void **state)
{
	(void)state;
	static const struct {
		const char *in, *hex;
	} v[] = {
		{ "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
		{ "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t d[SHA1_LEN];
		char hex[41];
		sha1(v[i].in, strlen(v[i].in), d);
		for (int j = 0; j < SHA1_LEN; j++)
			snprintf(hex + 2 * j, 3, "%02x", d[j]);
		assert_string_equal(hex, v[i].hex);
	}
}

static void test_accept_key(void **state)
{
	(void)state;
	char out[WS_ACCEPT_LEN + 1];
	assert_int_equal(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	assert_int_equal(ws_accept_key("short", out), -EINVAL);
	assert_int_equal(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ=", out),
			 -EINVAL);
	/* 24 characters, but 17 bytes' worth. */
	assert_int_equal(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ!!", out),
			 -EINVAL);
}

/* A client frame: the first byte as given, masked with a fixed key. */
static size_t client_frame(uint8_t *out, uint8_t b0, const void *payload,
			   size_t len)
{
	static const uint8_t key[4] = { 0x37, 0xfa, 0x21, 0x3d };
	size_t n = 0;
	out[n++] = b0;
	if (len < 126) {
		out[n++] = (uint8_t)(0x80 | len);
	} else {
		out[n++] = 0x80 | 126;
		out[n++] = (uint8_t)(len >> 8);
		out[n++] = (uint8_t)len;
	}
	memcpy(out + n, key, 4);
	n += 4;
	for (size_t i = 0; i < len; i++)
		out[n + i] = ((const uint8_t *)payload)[i] ^ key[i % 4];
	return n + len;
}

struct seen {
	int n;
	enum ws_opcode op[8];
	char data[8][400];
	uint16_t code[8];
};

/* Feeds len bytes cut every step bytes; the reader's last answer. */
static int feed(const uint8_t *in, size_t len, size_t step, size_t max,
		struct seen *s, struct ws_reader *keep)
{
	struct ws_reader r;
	ws_reader_init(&r, max);
	memset(s, 0, sizeof(*s));
	int ret = 0;
	for (size_t at = 0; at < len && ret >= 0; at += step) {
		size_t n = len - at < step ? len - at : step;
		assert_int_equal(ws_reader_feed(&r, in + at, n), 0);
		struct ws_message m;
		while ((ret = ws_reader_next(&r, &m)) == 1) {
			assert_true(s->n < 8);
			assert_int_equal(m.data[m.len], '\0');
			s->op[s->n] = m.opcode;
			memcpy(s->data[s->n], m.data, m.len + 1);
			s->code[s->n] = m.code;
			s->n++;
		}
	}
	if (keep)
		*keep = r;
	else
		ws_reader_free(&r);
	return ret;
}

static void test_messages_cut_anywhere(void **state)
{
	(void)state;
	uint8_t in[1024];
	size_t n = 0;
	char big[300];
	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	n += client_frame(in + n, 0x81, "{\"type\":\"execute\"}", 18);
	/* A message in three fragments, a ping between them. */
	n += client_frame(in + n, 0x01, "h\xc3", 2);
	n += client_frame(in + n, 0x89, "p", 1);
	n += client_frame(in + n, 0x00, "\xa9l", 2);
	n += client_frame(in + n, 0x80, "lo", 2);
	n += client_frame(in + n, 0x82, big, strlen(big));
	n += client_frame(in + n, 0x88,
			  "\x03\xe8"
			  "bye",
			  5);
	for (size_t step = 1; step <= n; step++) {
		struct seen s;
		assert_int_equal(feed(in, n, step, 4096, &s, NULL), 0);
		assert_int_equal(s.n, 5);
		assert_int_equal(s.op[0], WS_TEXT);
		assert_string_equal(s.data[0], "{\"type\":\"execute\"}");
		assert_int_equal(s.op[1], WS_PING);
		assert_string_equal(s.data[1], "p");
		assert_int_equal(s.op[2], WS_TEXT);
		assert_string_equal(s.data[2], "h\xc3\xa9llo");
		assert_int_equal(s.op[3], WS_BINARY);
		assert_string_equal(s.data[3], big);
		assert_int_equal(s.op[4], WS_CLOSE);
		assert_int_equal(s.code[4], 1000);
		assert_string_equal(s.data[4], "bye");
	}
}

static void test_empty_close_has_no_status(void **state)
{
	(void)state;
	uint8_t in[16];
	size_t n = client_frame(in, 0x88, "", 0);
	struct seen s;
	assert_int_equal(feed(in, n, n, 64, &s, NULL), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.code[0], WS_CLOSE_NO_STATUS);
}

/* The error a single frame (after a prefix) makes, and its close code. */
static void expect_error(const uint8_t *in, size_t n, size_t max, uint16_t code,
			 const char *words)
{
	struct seen s;
	struct ws_reader r;
	assert_int_equal(feed(in, n, 1, max, &s, &r), -EPROTO);
	assert_int_equal(r.error_code, code);
	assert_non_null(strstr(r.error_reason, words));
	struct ws_message m;
	assert_int_equal(ws_reader_next(&r, &m), -EPROTO);
	ws_reader_free(&r);
}

static void test_protocol_errors(void **state)
{
	(void)state;
	uint8_t in[512];
	size_t n;
	/* Unmasked. */
	memcpy(in, "\x81\x02{}", 4);
	expect_error(in, 4, 64, WS_CLOSE_PROTOCOL, "masked");
	n = client_frame(in, 0xc1, "{}", 2);
	expect_error(in, n, 64, WS_CLOSE_PROTOCOL, "Reserved");
	n = client_frame(in, 0x83, "{}", 2);
	expect_error(in, n, 64, WS_CLOSE_PROTOCOL, "opcode");
	n = client_frame(in, 0x09, "", 0);
	expect_error(in, n, 64, WS_CLOSE_PROTOCOL, "Control");
	char long_ping[126] = { 0 };
	n = client_frame(in, 0x89, long_ping, sizeof(long_ping));
	expect_error(in, n, 1024, WS_CLOSE_PROTOCOL, "Control");
	n = client_frame(in, 0x80, "x", 1);
	expect_error(in, n, 64, WS_CLOSE_PROTOCOL, "Continuation");
	n = client_frame(in, 0x01, "x", 1);
	n += client_frame(in + n, 0x81, "y", 1);
	expect_error(in, n, 64, WS_CLOSE_PROTOCOL, "New message");
	n = client_frame(in, 0x81, "\xc3\x28", 2);
	expect_error(in, n, 64, WS_CLOSE_BAD_DATA, "UTF-8");
	n = client_frame(in, 0x88, "\x03", 1);
	expect_error(in, n, 64, WS_CLOSE_PROTOCOL, "one byte");
	n = client_frame(in, 0x88, "\x03\xed", 2); /* 1005: never sent */
	expect_error(in, n, 64, WS_CLOSE_PROTOCOL, "close code");
	n = client_frame(in, 0x88, "\x03\xe8\xff", 3);
	expect_error(in, n, 64, WS_CLOSE_BAD_DATA, "UTF-8");
	/* Too big: refused from the header, before the payload; and the
	 * fragments together count. */
	char body[200] = { 0 };
	n = client_frame(in, 0x82, body, sizeof(body));
	expect_error(in, 4, 100, WS_CLOSE_TOO_BIG, "too big");
	n = client_frame(in, 0x02, body, 60);
	n += client_frame(in + n, 0x80, body, 60);
	expect_error(in, n, 100, WS_CLOSE_TOO_BIG, "too big");
	/* A 64-bit length with its top bit set. */
	memcpy(in, "\x82\xff\x80\0\0\0\0\0\0\0\1\2\3\4", 14);
	expect_error(in, 14, 100, WS_CLOSE_TOO_BIG, "too big");
}

static void test_server_frames(void **state)
{
	(void)state;
	struct strbuf out = { 0 };
	assert_int_equal(ws_frame_append(&out, WS_TEXT, "hi", 2), 0);
	assert_int_equal(out.len, 4);
	assert_memory_equal(out.p, "\x81\x02hi", 4);
	strbuf_reset(&out);
	char big[70000];
	memset(big, 'x', sizeof(big));
	assert_int_equal(ws_frame_append(&out, WS_BINARY, big, 300), 0);
	assert_memory_equal(out.p, "\x82\x7e\x01\x2c", 4);
	strbuf_reset(&out);
	assert_int_equal(ws_frame_append(&out, WS_BINARY, big, sizeof(big)), 0);
	assert_memory_equal(out.p, "\x82\x7f\0\0\0\0\0\x01\x11\x70", 10);
	assert_int_equal(out.len, 10 + sizeof(big));
	strbuf_reset(&out);
	assert_int_equal(ws_frame_append(&out, WS_PING, big, 126), -EINVAL);
	assert_int_equal(out.len, 0);
	assert_int_equal(ws_close_append(&out, 1003, "Invalid JSON"), 0);
	assert_memory_equal(out.p, "\x88\x0e\x03\xebInvalid JSON", 16);
	/* A long reason is cut on a character boundary. */
	strbuf_reset(&out);
	char reason[200] = { 0 };
	for (size_t i = 0; i + 2 < sizeof(reason); i += 2)
		memcpy(reason + i, "\xc3\xa9", 2);
	assert_int_equal(ws_close_append(&out, 1000, reason), 0);
	assert_int_equal((unsigned char)out.p[1], 124);
	strbuf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha1_vectors),
		cmocka_unit_test(test_accept_key),
		cmocka_unit_test(test_messages_cut_anywhere),
		cmocka_unit_test(test_empty_close_has_no_status),
		cmocka_unit_test(test_protocol_errors),
		cmocka_unit_test(test_server_frames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
