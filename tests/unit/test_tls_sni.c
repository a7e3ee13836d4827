/* The server name of a TLS ClientHello: a real one (openssl s_client,
 * TLS 1.3), the same cut at every length and split over records, hellos
 * made here without the extension, with other name types and with bad
 * lengths, and what is not TLS at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "net/tls_sni.h"

/* openssl s_client -servername Unit.Example-1.test -tls1_3 */
static const unsigned char real_hello[] = {
	0x16, 0x03, 0x01, 0x00, 0xf8, 0x01, 0x00, 0x00, 0xf4, 0x03, 0x03, 0x7b,
	0x36, 0x21, 0x50, 0x1e, 0x07, 0xcd, 0xcb, 0x94, 0xf3, 0xae, 0x90, 0x36,
	0x4b, 0xe4, 0x2a, 0xb2, 0x09, 0x22, 0x6b, 0x87, 0x5d, 0x17, 0x55, 0x1c,
	0x18, 0xdd, 0xe1, 0xce, 0x27, 0x3e, 0x56, 0x20, 0x15, 0x14, 0x0f, 0x35,
	0x46, 0xc1, 0x46, 0x4b, 0xa2, 0x5e, 0xb7, 0x97, 0x1f, 0xaf, 0x4e, 0x3a,
	0x91, 0x89, 0xd1, 0x65, 0xcc, 0x26, 0x49, 0x2a, 0x50, 0xbc, 0x35, 0x0b,
	0xd6, 0xc1, 0x34, 0xbd, 0x00, 0x08, 0x13, 0x02, 0x13, 0x03, 0x13, 0x01,
	0x00, 0xff, 0x01, 0x00, 0x00, 0xa3, 0x00, 0x00, 0x00, 0x18, 0x00, 0x16,
	0x00, 0x00, 0x13, 0x55, 0x6e, 0x69, 0x74, 0x2e, 0x45, 0x78, 0x61, 0x6d,
	0x70, 0x6c, 0x65, 0x2d, 0x31, 0x2e, 0x74, 0x65, 0x73, 0x74, 0x00, 0x0b,
	0x00, 0x04, 0x03, 0x00, 0x01, 0x02, 0x00, 0x0a, 0x00, 0x16, 0x00, 0x14,
	0x00, 0x1d, 0x00, 0x17, 0x00, 0x1e, 0x00, 0x19, 0x00, 0x18, 0x01, 0x00,
	0x01, 0x01, 0x01, 0x02, 0x01, 0x03, 0x01, 0x04, 0x00, 0x23, 0x00, 0x00,
	0x00, 0x16, 0x00, 0x00, 0x00, 0x17, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x1e,
	0x00, 0x1c, 0x04, 0x03, 0x05, 0x03, 0x06, 0x03, 0x08, 0x07, 0x08, 0x08,
	0x08, 0x09, 0x08, 0x0a, 0x08, 0x0b, 0x08, 0x04, 0x08, 0x05, 0x08, 0x06,
	0x04, 0x01, 0x05, 0x01, 0x06, 0x01, 0x00, 0x2b, 0x00, 0x03, 0x02, 0x03,
	0x04, 0x00, 0x2d, 0x00, 0x02, 0x01, 0x01, 0x00, 0x33, 0x00, 0x26, 0x00,
	0x24, 0x00, 0x1d, 0x00, 0x20, 0x7e, 0x51, 0x06, 0x41, 0x2b, 0x7c, 0xf2,
	0xd1, 0x23, 0x9d, 0xe4, 0xc7, 0x0f, 0x8d, 0xb7, 0x78, 0x55, 0xcc, 0x4f,
	0xbe, 0x27, 0xe6, 0xc9, 0x4f, 0x7f, 0xb2, 0x81, 0xd2, 0xcd, 0x21, 0xe9,
	0x47
};

static void test_real_hello(void **state)
{
	(void)state;
	char host[256];
	assert_int_equal(tls_sni_parse(real_hello, sizeof(real_hello), host,
				       sizeof(host)),
			 1);
	assert_string_equal(host, "unit.example-1.test");
	/* Too small a buffer for the name is no name. */
	assert_int_equal(tls_sni_parse(real_hello, sizeof(real_hello), host, 8),
			 -EPROTO);
}

static void test_every_prefix_wants_more(void **state)
{
	(void)state;
	char host[256];
	for (size_t n = 0; n < sizeof(real_hello); n++)
		assert_int_equal(
			tls_sni_parse(real_hello, n, host, sizeof(host)), 0);
}

/* The real hello's handshake message cut into records of size each. */
static size_t split(unsigned char *out, size_t size)
{
	const unsigned char *msg = real_hello + 5;
	size_t len = sizeof(real_hello) - 5, n = 0;
	for (size_t off = 0; off < len; off += size) {
		size_t part = len - off < size ? len - off : size;
		memcpy(out + n, real_hello, 3);
		out[n + 3] = (unsigned char)(part >> 8);
		out[n + 4] = (unsigned char)part;
		memcpy(out + n + 5, msg + off, part);
		n += 5 + part;
	}
	return n;
}

static void test_split_over_records(void **state)
{
	(void)state;
	unsigned char buf[4096];
	char host[256];
	for (size_t size = 1; size < sizeof(real_hello); size += 7) {
		size_t n = split(buf, size);
		assert_int_equal(tls_sni_parse(buf, n, host, sizeof(host)), 1);
		assert_string_equal(host, "unit.example-1.test");
		assert_int_equal(tls_sni_parse(buf, n - 1, host, sizeof(host)),
				 0);
	}
}

/* A minimal ClientHello with the given extensions block. */
static size_t hello(unsigned char *out, const unsigned char *ext,
		    size_t ext_len, int with_ext_block)
{
	unsigned char body[1024];
	size_t n = 0;
	body[n++] = 3;
	body[n++] = 3;
	memset(body + n, 0xab, 32);
	n += 32;
	body[n++] = 0; /* session id */
	body[n++] = 0;
	body[n++] = 2;
	body[n++] = 0x13;
	body[n++] = 0x01; /* one cipher suite */
	body[n++] = 1;
	body[n++] = 0; /* null compression */
	if (with_ext_block) {
		body[n++] = (unsigned char)(ext_len >> 8);
		body[n++] = (unsigned char)ext_len;
		memcpy(body + n, ext, ext_len);
		n += ext_len;
	}
	size_t hs = 4 + n;
	out[0] = 0x16;
	out[1] = 3;
	out[2] = 1;
	out[3] = (unsigned char)(hs >> 8);
	out[4] = (unsigned char)hs;
	out[5] = 1;
	out[6] = 0;
	out[7] = (unsigned char)(n >> 8);
	out[8] = (unsigned char)n;
	memcpy(out + 9, body, n);
	return 9 + n;
}

static void test_made_hellos(void **state)
{
	(void)state;
	unsigned char buf[2048];
	char host[256];
	/* No extensions at all, and extensions without a server name. */
	size_t n = hello(buf, NULL, 0, 0);
	assert_int_equal(tls_sni_parse(buf, n, host, sizeof(host)), -ENOENT);
	static const unsigned char alpn[] = { 0x00, 0x10, 0x00, 0x03,
					      0x02, 'h',  '2' };
	n = hello(buf, alpn, sizeof(alpn), 1);
	assert_int_equal(tls_sni_parse(buf, n, host, sizeof(host)), -ENOENT);
	/* A name of another type first, then a host name. */
	static const unsigned char two[] = { 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a,
					     0x07, 0x00, 0x01, 'x',  0x00, 0x00,
					     0x03, 'a',	 '.',  'b' };
	n = hello(buf, two, sizeof(two), 1);
	assert_int_equal(tls_sni_parse(buf, n, host, sizeof(host)), 1);
	assert_string_equal(host, "a.b");
	/* Characters no host name has. */
	static const unsigned char bad[] = {
		0x00, 0x00, 0x00, 0x08, 0x00, 0x06,
		0x00, 0x00, 0x03, 'a',	'/',  'b'
	};
	n = hello(buf, bad, sizeof(bad), 1);
	assert_int_equal(tls_sni_parse(buf, n, host, sizeof(host)), -EPROTO);
	/* A list length past its extension. */
	static const unsigned char longer[] = { 0x00, 0x00, 0x00, 0x08,
						0x00, 0x26, 0x00, 0x00,
						0x03, 'a',  '.',  'b' };
	n = hello(buf, longer, sizeof(longer), 1);
	assert_int_equal(tls_sni_parse(buf, n, host, sizeof(host)), -EPROTO);
	/* An extension longer than the block. */
	static const unsigned char past[] = { 0x00, 0x00, 0x00, 0x40, 0x00 };
	n = hello(buf, past, sizeof(past), 1);
	assert_int_equal(tls_sni_parse(buf, n, host, sizeof(host)), -EPROTO);
}

static void test_not_tls(void **state)
{
	(void)state;
	char host[256];
	static const char get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	assert_int_equal(tls_sni_parse((const unsigned char *)get,
				       sizeof(get) - 1, host, sizeof(host)),
			 -EPROTO);
	/* A handshake record holding a ServerHello. */
	unsigned char buf[sizeof(real_hello)];
	memcpy(buf, real_hello, sizeof(buf));
	buf[5] = 2;
	assert_int_equal(tls_sni_parse(buf, sizeof(buf), host, sizeof(host)),
			 -EPROTO);
	/* An empty record, and a record over the limit. */
	static const unsigned char empty[] = { 0x16, 3, 1, 0, 0, 1 };
	assert_int_equal(
		tls_sni_parse(empty, sizeof(empty), host, sizeof(host)),
		-EPROTO);
	static const unsigned char huge[] = { 0x16, 3, 1, 0x48, 0x01, 1 };
	assert_int_equal(tls_sni_parse(huge, sizeof(huge), host, sizeof(host)),
			 -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_hello),
		cmocka_unit_test(test_every_prefix_wants_more),
		cmocka_unit_test(test_split_over_records),
		cmocka_unit_test(test_made_hellos),
		cmocka_unit_test(test_not_tls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
