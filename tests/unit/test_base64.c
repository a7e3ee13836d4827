/* Base64: the RFC 4648 test vectors, round trips of every length and byte
 * value, and what the decoder refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

static const struct {
	const char *plain;
	const char *encoded;
} rfc4648[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

static void test_rfc4648_encode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		char *enc = base64_encode(rfc4648[i].plain,
					  strlen(rfc4648[i].plain));
		assert_non_null(enc);
		assert_string_equal(enc, rfc4648[i].encoded);
		free(enc);
	}
}

static void test_rfc4648_decode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		unsigned char *dec = NULL;
		size_t len = 99;
		assert_int_equal(base64_decode(rfc4648[i].encoded,
					       strlen(rfc4648[i].encoded), &dec,
					       &len),
				 0);
		assert_non_null(dec);
		assert_int_equal(len, strlen(rfc4648[i].plain));
		assert_memory_equal(dec, rfc4648[i].plain, len);
		free(dec);
	}
}

static void test_alphabet(void **state)
{
	(void)state;
	/* 0xfb 0xff 0xbf uses the last two symbols of the alphabet; 0x00
	 * bytes the first. */
	const unsigned char in[] = { 0xfb, 0xff, 0xbf, 0x00, 0x00, 0x00 };
	char *enc = base64_encode(in, sizeof(in));
	assert_string_equal(enc, "+/+/AAAA");
	free(enc);
}

static void test_round_trip_every_length(void **state)
{
	(void)state;
	unsigned char data[300];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof(data); i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (unsigned char)(x >> 16);
	}
	for (size_t len = 0; len <= sizeof(data); len++) {
		char *enc = base64_encode(data, len);
		assert_non_null(enc);
		assert_int_equal(strlen(enc), (len + 2) / 3 * 4);
		unsigned char *dec = NULL;
		size_t dec_len = 0;
		assert_int_equal(
			base64_decode(enc, strlen(enc), &dec, &dec_len), 0);
		assert_int_equal(dec_len, len);
		if (len > 0)
			assert_memory_equal(dec, data, len);
		free(dec);
		free(enc);
	}
}

static void test_round_trip_every_byte(void **state)
{
	(void)state;
	unsigned char data[256];
	for (int i = 0; i < 256; i++)
		data[i] = (unsigned char)i;
	char *enc = base64_encode(data, sizeof(data));
	assert_non_null(enc);
	for (const char *p = enc; *p; p++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "abcdefghijklmnopqrstuvwxyz"
				       "0123456789+/=",
				       *p));
	unsigned char *dec = NULL;
	size_t len = 0;
	assert_int_equal(base64_decode(enc, strlen(enc), &dec, &len), 0);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(dec, data, sizeof(data));
	free(dec);
	free(enc);
}

static void test_decode_refused(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		size_t len; /* 0: strlen */
	} cases[] = {
		{ "Z", 0 },
		{ "Zg", 0 },
		{ "Zg=", 0 },
		{ "Zm9vY", 0 },
		{ "Zm9*", 0 },
		{ "Zm9v\n", 0 },
		{ "Zm9v Zm9v", 0 },
		{ "Zm-_", 0 }, /* the URL-safe alphabet is not this one */
		{ "Zm\0v", 4 },
		{ "Zm9\xc3", 0 },
		{ "====", 0 },
		{ "Z===", 0 },
		{ "=Zm9", 0 },
		{ "Zm=v", 0 },
		{ "Zg=x", 0 },
		/* Padding only at the very end. */
		{ "Zg==Zm9v", 0 },
		{ "Zm8=Zm9v", 0 },
		{ "Zm9v=", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
		unsigned char *dec = NULL;
		size_t dec_len = 99;
		int r = base64_decode(cases[i].in, len, &dec, &dec_len);
		if (r != -EINVAL)
			fail_msg("case %zu (%s) gave %d", i, cases[i].in, r);
		assert_null(dec);
		assert_int_equal(dec_len, 99);
	}
}

/* Pieces of whole 3-byte groups, encoded one after another, make the
 * encoding of the whole (output files are read so, a slice at a time). */
static void test_encode_in_pieces(void **state)
{
	(void)state;
	unsigned char data[1000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7);
	char *whole = base64_encode(data, sizeof(data));
	char pieces[(sizeof(data) + 2) / 3 * 4 + 1];
	size_t n = base64_encode_to(data, 300, pieces);
	n += base64_encode_to(data + 300, 699, pieces + n);
	n += base64_encode_to(data + 999, 1, pieces + n);
	assert_int_equal(n, strlen(whole));
	assert_string_equal(pieces, whole);
	free(whole);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648_encode),
		cmocka_unit_test(test_rfc4648_decode),
		cmocka_unit_test(test_alphabet),
		cmocka_unit_test(test_round_trip_every_length),
		cmocka_unit_test(test_round_trip_every_byte),
		cmocka_unit_test(test_decode_refused),
		cmocka_unit_test(test_encode_in_pieces),
	};
	return cmocka_run_group_tests_name("base64", tests, NULL, NULL);
}
