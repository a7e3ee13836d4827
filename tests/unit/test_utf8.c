/* Strict UTF-8: sequence lengths at every boundary of the encoding, whole
 * buffers, cutting text on a character boundary, and repairing it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "strbuf.h"
#include "utf8.h"

static void test_seq_table(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		size_t len;
		int want;
	} cases[] = {
		{ "A", 1, 1 },
		{ "\x7f", 1, 1 },
		{ "\0", 1, 1 },
		{ "\xc2\x80", 2, 2 },	      /* U+0080 */
		{ "\xdf\xbf", 2, 2 },	      /* U+07FF */
		{ "\xe0\xa0\x80", 3, 3 },     /* U+0800 */
		{ "\xed\x9f\xbf", 3, 3 },     /* U+D7FF */
		{ "\xee\x80\x80", 3, 3 },     /* U+E000 */
		{ "\xef\xbf\xbf", 3, 3 },     /* U+FFFF */
		{ "\xf0\x90\x80\x80", 4, 4 }, /* U+10000 */
		{ "\xf4\x8f\xbf\xbf", 4, 4 }, /* U+10FFFF */
		/* A valid sequence followed by more text. */
		{ "\xc3\xa9x", 3, 2 },
		/* Continuation bytes and bytes that never occur. */
		{ "\x80", 1, 0 },
		{ "\xbf", 1, 0 },
		{ "\xf5\x80\x80\x80", 4, 0 },
		{ "\xf8\x88\x80\x80\x80", 5, 0 },
		{ "\xfe", 1, 0 },
		{ "\xff", 1, 0 },
		/* Overlong forms. */
		{ "\xc0\x80", 2, 0 },
		{ "\xc1\xbf", 2, 0 },
		{ "\xe0\x80\x80", 3, 0 },
		{ "\xe0\x9f\xbf", 3, 0 },
		{ "\xf0\x80\x80\x80", 4, 0 },
		{ "\xf0\x8f\xbf\xbf", 4, 0 },
		/* Surrogates and past U+10FFFF. */
		{ "\xed\xa0\x80", 3, 0 },
		{ "\xed\xbf\xbf", 3, 0 },
		{ "\xf4\x90\x80\x80", 4, 0 },
		/* A lead byte followed by something else. */
		{ "\xc3\x41", 2, 0 },
		{ "\xe2\x82\x41", 3, 0 },
		{ "\xf0\x9f\x98\xc0", 4, 0 },
		{ "\xe2\xc3\xa9", 3, 0 },
		/* Valid so far but cut off. */
		{ "\xc3", 1, -1 },
		{ "\xe2", 1, -1 },
		{ "\xe2\x82", 2, -1 },
		{ "\xf0\x9f", 2, -1 },
		{ "\xf0\x9f\x98", 3, -1 },
		/* Cut off, but already wrong in what is there. */
		{ "\xe0\x80", 2, 0 },
		{ "\xed\xa0", 2, 0 },
		{ "\xf0\x80", 2, 0 },
		{ "\xf4\x90", 2, 0 },
		{ "\xe2\x41", 2, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = utf8_seq((const unsigned char *)cases[i].in,
				   cases[i].len);
		if (got != cases[i].want)
			fail_msg("case %zu: utf8_seq = %d, want %d", i, got,
				 cases[i].want);
	}
}

static void test_every_lead_byte(void **state)
{
	(void)state;
	/* Each lead byte with the smallest continuation it allows. */
	for (int c = 0; c < 256; c++) {
		unsigned char s[4] = { (unsigned char)c, 0xbf, 0xbf, 0xbf };
		int want;
		if (c < 0x80)
			want = 1;
		else if (c < 0xc2 || c > 0xf4)
			want = 0;
		else if (c < 0xe0)
			want = 2;
		else if (c == 0xed)
			want = 0; /* U+DFFF: a surrogate */
		else if (c < 0xf0)
			want = 3;
		else if (c == 0xf4)
			want = 0; /* past U+10FFFF */
		else
			want = 4;
		assert_int_equal(utf8_seq(s, sizeof(s)), want);
	}
}

static void test_valid(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		size_t len; /* 0: strlen */
		int want;
	} cases[] = {
		{ "", 0, 1 },
		{ "plain ascii", 0, 1 },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0, 1 },
		{ "a\0b", 3, 1 },
		{ "\xef\xbb\xbf"
		  "bom",
		  0, 1 },
		{ "ok\xff", 0, 0 },
		{ "\xc3\xa9\xc3", 0, 0 },
		{ "\xe2\x82", 0, 0 },
		{ "x\xed\xa0\x80y", 0, 0 },
		{ "x\xc0\xafy", 0, 0 },
		{ "\xf4\x90\x80\x80", 0, 0 },
		{ "\x80"
		  "abc",
		  0, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
		if (utf8_valid(cases[i].in, len) != (cases[i].want != 0))
			fail_msg("case %zu: utf8_valid != %d", i,
				 cases[i].want);
	}
	/* The length bounds the check: a cut sequence is invalid, the text
	 * before it is not. */
	assert_false(utf8_valid("a\xe2\x82\xac", 3));
	assert_true(utf8_valid("a\xe2\x82\xac", 1));
	assert_true(utf8_valid("a\xe2\x82\xac", 4));
}

static void test_prefix(void **state)
{
	(void)state;
	const char *s = "h\xc3\xa9"
			"\xe2\x82\xac"
			"\xf0\x9f\x98\x80"
			"!";
	/* Offsets: h 0, é 1-2, € 3-5, emoji 6-9, ! 10; length 11. */
	static const size_t want[] = { 0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10, 11 };
	for (size_t max = 0; max < sizeof(want) / sizeof(want[0]); max++) {
		size_t got = utf8_prefix(s, max);
		if (got != want[max])
			fail_msg("utf8_prefix(max %zu) = %zu, want %zu", max,
				 got, want[max]);
	}
	assert_int_equal(utf8_prefix(s, 100), 11);
	assert_int_equal(utf8_prefix("", 0), 0);
	assert_int_equal(utf8_prefix("", 5), 0);
	assert_int_equal(utf8_prefix("abc", 2), 2);
	assert_int_equal(utf8_prefix("\xe2\x82\xac", 2), 0);
}

static void test_utf8_repair_table(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} cases[] = {
		{ "plain", 5, "plain" },
		{ "\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80" },
		{ "\xf4\x90\x80\x80", 4,
		  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xe0\x80\xaf", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf t = { 0 };
		long used = utf8_repair(cases[i].in, cases[i].len, true, &t);
		assert_int_equal(used, (long)cases[i].len);
		assert_string_equal(t.p, cases[i].out);
		strbuf_free(&t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seq_table),
		cmocka_unit_test(test_every_lead_byte),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_utf8_repair_table),
	};
	return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}
