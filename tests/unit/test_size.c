/* Size strings: what is accepted (1024-based), what is refused, the error
 * text, and the short form sizes are shown in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "size.h"

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define GIB (1024ull * MIB)

static void test_accepted(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		uint64_t want;
	} cases[] = {
		{ "0", 0 },
		{ "1", 1 },
		{ "1024", 1024 },
		{ "007", 7 },
		{ "256k", 256 * KIB },
		{ "256K", 256 * KIB },
		{ "512m", 512 * MIB },
		{ "512M", 512 * MIB },
		{ "1g", GIB },
		{ "1G", GIB },
		{ "0k", 0 },
		/* An optional "b", in either case, after a unit or alone. */
		{ "1kb", KIB },
		{ "1KB", KIB },
		{ "1kB", KIB },
		{ "1Mb", MIB },
		{ "2gb", 2 * GIB },
		{ "100b", 100 },
		{ "100B", 100 },
		/* Fractions with a unit are exact. */
		{ "1.5g", GIB + GIB / 2 },
		{ "0.5k", 512 },
		{ "0.25m", 256 * KIB },
		{ "2.0m", 2 * MIB },
		{ "1.5kb", 1536 },
		/* A zero fraction of plain bytes is still whole bytes. */
		{ "1.0", 1 },
		{ "1.000b", 1 },
		{ "18446744073709551609", 18446744073709551609ull },
		{ "17179869183g", 17179869183ull * GIB },
		{ "17592186044415m", 17592186044415ull * MIB },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t got = 12345;
		int r = size_parse(cases[i].in, &got);
		if (r != 0 || got != cases[i].want)
			fail_msg("size_parse(\"%s\") = %d, %llu; want 0, %llu",
				 cases[i].in, r, (unsigned long long)got,
				 (unsigned long long)cases[i].want);
	}
}

static void test_refused(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int want;
	} cases[] = {
		{ "", -EINVAL },
		{ "k", -EINVAL },
		{ "m", -EINVAL },
		{ "b", -EINVAL },
		{ "-1", -EINVAL },
		{ "+1", -EINVAL },
		{ " 1", -EINVAL },
		{ "1 ", -EINVAL },
		{ "1 m", -EINVAL },
		{ "1t", -EINVAL },
		{ "1tb", -EINVAL },
		{ "1p", -EINVAL },
		{ "1mm", -EINVAL },
		{ "1bb", -EINVAL },
		{ "1bk", -EINVAL },
		{ "1km", -EINVAL },
		{ "1kib", -EINVAL },
		{ "1.", -EINVAL },
		{ "1.k", -EINVAL },
		{ ".5k", -EINVAL },
		{ "1..5k", -EINVAL },
		{ "1.5.5k", -EINVAL },
		{ "1,5g", -EINVAL },
		{ "0x10", -EINVAL },
		{ "1e3", -EINVAL },
		{ "512mi", -EINVAL },
		{ "lots", -EINVAL },
		{ "\xef\xbc\x91", -EINVAL }, /* a fullwidth digit one */
		/* A fraction of a byte has no meaning. */
		{ "1.5", -EINVAL },
		{ "0.5b", -EINVAL },
		/* Past what 64 bits hold. */
		{ "18446744073709551616", -ERANGE },
		{ "99999999999999999999", -ERANGE },
		{ "123456789012345678901234567890", -ERANGE },
		{ "17179869184g", -ERANGE },
		{ "17592186044416m", -ERANGE },
		{ "18014398509481984k", -ERANGE },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t got = 12345;
		int r = size_parse(cases[i].in, &got);
		if (r != cases[i].want)
			fail_msg("size_parse(\"%s\") = %d; want %d",
				 cases[i].in, r, cases[i].want);
		/* A refused value leaves the output alone. */
		assert_int_equal(got, 12345);
	}
}

static void test_null_refused(void **state)
{
	(void)state;
	uint64_t got = 1;
	assert_int_equal(size_parse(NULL, &got), -EINVAL);
	assert_int_equal(got, 1);
}

static void test_fraction_digits(void **state)
{
	(void)state;
	uint64_t got = 0;
	/* Digits past the ninth add nothing but are still read. */
	assert_int_equal(size_parse("1.5000000000000000001g", &got), 0);
	assert_int_equal(got, GIB + GIB / 2);
	assert_int_equal(size_parse("0.125k", &got), 0);
	assert_int_equal(got, 128);
	assert_int_equal(size_parse("0.999999999g", &got), 0);
	assert_int_equal(got, 999999999ull * GIB / 1000000000ull);
	assert_true(got < GIB);
	/* Fractional bytes are refused however far down the digit is. */
	assert_int_equal(size_parse("0.0000000001", &got), -EINVAL);
	assert_int_equal(size_parse("1.0000000000", &got), 0);
	assert_int_equal(got, 1);
}

static void test_largest_values(void **state)
{
	(void)state;
	uint64_t got = 0;
	assert_int_equal(size_parse("18446744073709551615", &got), 0);
	assert_true(got == UINT64_MAX);
	assert_int_equal(size_parse("18446744073709551610", &got), 0);
	assert_true(got == UINT64_MAX - 5);
}

static void test_error_text(void **state)
{
	(void)state;
	char buf[256];
	size_format_error(buf, sizeof(buf), "12q");
	assert_string_equal(buf, "Invalid memory limit format: \"12q\". "
				 "Use e.g. \"512m\", \"1g\".");
	size_format_error(buf, sizeof(buf), "");
	assert_string_equal(buf, "Invalid memory limit format: \"\". "
				 "Use e.g. \"512m\", \"1g\".");
}

static void test_error_text_truncates(void **state)
{
	(void)state;
	char buf[16];
	memset(buf, 'Z', sizeof(buf));
	size_format_error(buf, sizeof(buf), "12q");
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	assert_memory_equal(buf, "Invalid memory ", 15);
}

static void test_format(void **state)
{
	(void)state;
	static const struct {
		uint64_t in;
		const char *want;
	} cases[] = {
		{ 0, "0" },
		{ 1, "1" },
		{ 1023, "1023" },
		{ KIB, "1k" },
		{ 1536, "1536" }, /* 1.5k: only whole units are used */
		{ 256 * KIB, "256k" },
		{ 512 * MIB, "512m" },
		{ GIB, "1g" },
		{ GIB + GIB / 2, "1536m" },
		{ GIB + KIB, "1048577k" },
		{ GIB + 1, "1073741825" },
		{ UINT64_MAX, "18446744073709551615" },
	};
	char buf[32];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_format(buf, sizeof(buf), cases[i].in);
		assert_string_equal(buf, cases[i].want);
	}
}

static void test_format_parses_back(void **state)
{
	(void)state;
	const uint64_t values[] = { 0,
				    1,
				    999,
				    KIB,
				    3 * KIB,
				    7 * MIB,
				    5 * GIB,
				    12345 * MIB + 3 * KIB,
				    17179869183ull * GIB };
	char buf[32];
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		uint64_t back = 0;
		size_format(buf, sizeof(buf), values[i]);
		assert_int_equal(size_parse(buf, &back), 0);
		assert_int_equal(back, values[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_null_refused),
		cmocka_unit_test(test_fraction_digits),
		cmocka_unit_test(test_largest_values),
		cmocka_unit_test(test_error_text),
		cmocka_unit_test(test_error_text_truncates),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_parses_back),
	};
	return cmocka_run_group_tests_name("size", tests, NULL, NULL);
}
