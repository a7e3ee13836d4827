/* RFC 8259 syntax check: what it accepts, what it refuses with which reason
 * and offset (above all what json-c's strict mode lets through), nesting up
 * to the limit and one past it, and the reason buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_syntax.h"

#define NONFINITE "NaN and Infinity are not JSON numbers"
#define ENDS "the text ends early"
#define TRAILING "trailing data after the value"
#define CTRL "control character in a string"
#define HEX4 "\\u needs four hex digits"
#define LONE_HI "lone high surrogate escape"
#define LONE_LO "lone low surrogate escape"

/* Runs the check on an exact-size heap copy, so that ASan sees any read of
 * text[len]. */
static int check(const char *text, size_t len, unsigned max_depth, char *why,
		 size_t why_len)
{
	char *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, text, len);
	struct error e;
	int r = json_syntax_check(copy, len, max_depth, why ? &e : NULL);
	if (r < 0 && why && why_len > 0) {
		size_t n = strnlen(e.message, why_len - 1);
		memcpy(why, e.message, n);
		why[n] = '\0';
	}
	free(copy);
	return r;
}

static void test_accepts(void **state)
{
	(void)state;
	static const char *const cases[] = {
		"{}",
		"[]",
		"0",
		"-0",
		"1",
		"-1",
		"123456789",
		"0.5",
		"-0.0",
		"1e5",
		"1E5",
		"1e+5",
		"1e-5",
		"1.25E-10",
		"0e0",
		"-123.456e-789",
		/* Any size and exponent is syntax; range is json-c's matter. */
		"123456789012345678901234567890123456789012345678901234567890",
		"1e999999999999999999999",
		"-0.000000000000000000000000000001E-99999999",
		"true",
		"false",
		"null",
		"\"\"",
		"\"abc\"",
		"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
		"\"\\u0000\"",
		"\"\\u00e9\\u00E9\\u002F\"",
		"\"\\ud83d\\ude00\"",
		"\"\\uDBFF\\uDFFF\"",
		"\"\\uD800\\uDC00\"",
		"\"\\ud7ff\\ue000\\uffff\"",
		"\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
		"\"\x7f\"",
		"\"\xef\xbb\xbf\"",
		"\"'single' and /* not a comment */\"",
		" \t\r\n{} \t\r\n",
		"1\n",
		"[\n1\n]\n",
		"[1,\"a\",true,false,null,{},[]]",
		"{\"a\":1,\"b\":[2,{\"c\":null}]}",
		"{ \"a\" : 1 , \"b\" : [ 2 , 3 ] }",
		"{\"\":0}",
		"{\"a\":1,\"a\":2}",
		"{\"\\u0001\":\"\\ud834\\udd1e\"}",
		"[[[]]]",
		"[{},{}]",
		"[-0,0.0,-1e-0,10,1.5e3]",
		("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"health\","
		 "\"params\":{}}"),
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char why[128] = "";
		size_t len = strlen(cases[i]);
		if (check(cases[i], len, 32, why, sizeof(why)) != 0)
			fail_msg("case %zu (%s) refused: %s", i, cases[i], why);
		assert_string_equal(why, "");
	}
}

static void test_refuses(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		size_t len; /* 0: strlen */
		size_t at;
		const char *reason;
	} cases[] = {
		/* Nothing, or not all of it. */
		{ "", 0, 0, "no value" },
		/* json-c would cut such a key short. */
		{ "{\"a\\u0000b\":1}", 0, 3,
		  "NUL character (\\u0000) in a key" },
		{ "   ", 0, 3, "no value" },
		{ "{", 0, 1, ENDS },
		{ "[", 0, 1, ENDS },
		{ "[1,2", 0, 4, ENDS },
		{ "{\"a\"", 0, 4, ENDS },
		{ "{\"a\":", 0, 5, ENDS },
		{ "{\"a\":1,", 0, 7, ENDS },
		{ "\"abc", 0, 0, "unterminated string" },
		{ "\"\\\"", 0, 0, "unterminated string" },
		{ "[\"\\", 0, 1, "unterminated string" },
		/* More than one value. */
		{ "{} x", 0, 3, TRAILING },
		{ "{}{}", 0, 2, TRAILING },
		{ "[1]]", 0, 3, TRAILING },
		{ "1 2", 0, 2, TRAILING },
		{ "{\"a\":1}garbage", 0, 7, TRAILING },
		{ "{\"a\":1}}", 0, 7, TRAILING },
		/* Commas and colons. */
		{ "[1,]", 0, 3, "trailing comma" },
		{ "[1 ,]", 0, 4, "trailing comma" },
		{ "{\"a\":1,}", 0, 7, "trailing comma" },
		{ "[1,,2]", 0, 3, "expected a value" },
		{ "[,]", 0, 1, "expected a value" },
		{ "{,}", 0, 1, "expected a string key" },
		{ "{\"a\":1,,}", 0, 7, "expected a string key" },
		{ "[1 2]", 0, 3, "expected ',' or ']'" },
		{ "{\"a\":1 \"b\":2}", 0, 7, "expected ',' or '}'" },
		{ "{\"a\"}", 0, 4, "expected ':' after a key" },
		{ "{\"a\" 1}", 0, 5, "expected ':' after a key" },
		{ "{\"a\"::1}", 0, 5, "expected a value" },
		{ "{\"a\":}", 0, 5, "expected a value" },
		{ "[}", 0, 1, "expected a value" },
		{ "{]", 0, 1, "expected a string key" },
		{ "]", 0, 0, "expected a value" },
		{ ":", 0, 0, "expected a value" },
		/* Keys. */
		{ "{a:1}", 0, 1, "unquoted key" },
		{ "{1:2}", 0, 1, "expected a string key" },
		{ "{'a':1}", 0, 1, "single-quoted string" },
		{ "{\"a\":'b'}", 0, 5, "single-quoted string" },
		{ "['a']", 0, 1, "single-quoted string" },
		/* Comments, odd whitespace, a BOM. */
		{ "/*c*/{}", 0, 0, "comments are not JSON" },
		{ "// c\n{}", 0, 0, "comments are not JSON" },
		{ "[1/*c*/]", 0, 2, "comments are not JSON" },
		{ "{} // c", 0, 3, "comments are not JSON" },
		{ "\f1", 0, 0, "whitespace other than space, tab, LF and CR" },
		{ "1\v", 0, 1, "whitespace other than space, tab, LF and CR" },
		{ "\xc2\xa0{}", 0, 0, "expected a value" },
		{ "\xef\xbb\xbf{}", 0, 0, "byte order mark" },
		{ "\x01", 0, 0, "control character outside a string" },
		{ "1\0", 2, 1, "control character outside a string" },
		/* Raw control characters in strings, keys included. */
		{ "\"\x01\"", 0, 1, CTRL },
		{ "\"a\tb\"", 0, 2, CTRL },
		{ "{\"a\":\"x\n\"}", 0, 7, CTRL },
		{ "{\"a\rb\":1}", 0, 3, CTRL },
		{ "\"\x1f\"", 0, 1, CTRL },
		{ "\"a\0b\"", 5, 2, CTRL },
		/* Escapes. */
		{ "\"\\x\"", 0, 1, "invalid escape in a string" },
		{ "\"\\'\"", 0, 1, "invalid escape in a string" },
		{ "\"\\U0041\"", 0, 1, "invalid escape in a string" },
		{ "\"\\a\"", 0, 1, "invalid escape in a string" },
		{ "\"\\u12\"", 0, 1, HEX4 },
		{ "\"\\u00\"", 0, 1, HEX4 },
		{ "\"\\uZZZZ\"", 0, 1, HEX4 },
		{ "\"\\u12G4\"", 0, 1, HEX4 },
		/* Surrogate escapes that do not pair up. */
		{ "\"\\ud800\"", 0, 1, LONE_HI },
		{ "\"\\udbff\"", 0, 1, LONE_HI },
		{ "\"\\ud800x\"", 0, 1, LONE_HI },
		{ "\"\\ud800\\u0041\"", 0, 1, LONE_HI },
		{ "\"\\ud800\\ud800\"", 0, 1, LONE_HI },
		{ "\"\\ud800\\n\"", 0, 1, LONE_HI },
		{ "\"ab\\uD800", 0, 3, LONE_HI },
		{ "\"\\ud800\\u12\"", 0, 7, HEX4 },
		{ "\"\\udc00\"", 0, 1, LONE_LO },
		{ "[\"\\uDFFF\"]", 0, 2, LONE_LO },
		{ "\"\\ud83d\\ude00\\ude00\"", 0, 13, LONE_LO },
		/* Numbers. */
		{ "01", 0, 0, "leading zero in a number" },
		{ "00", 0, 0, "leading zero in a number" },
		{ "-01", 0, 0, "leading zero in a number" },
		{ "01.5", 0, 0, "leading zero in a number" },
		{ "[1,02]", 0, 3, "leading zero in a number" },
		{ "1.", 0, 2, "expected a digit after the decimal point" },
		{ "1.e5", 0, 2, "expected a digit after the decimal point" },
		{ "[1.]", 0, 3, "expected a digit after the decimal point" },
		{ "-", 0, 1, "expected a digit after '-'" },
		{ "--1", 0, 1, "expected a digit after '-'" },
		{ "- 1", 0, 1, "expected a digit after '-'" },
		{ "-a", 0, 1, "expected a digit after '-'" },
		{ "+1", 0, 0, "a number must begin with a digit or '-'" },
		{ ".5", 0, 0, "a number must begin with a digit or '-'" },
		{ "1e", 0, 2, "expected a digit in the exponent" },
		{ "1e+", 0, 3, "expected a digit in the exponent" },
		{ "1e+-5", 0, 3, "expected a digit in the exponent" },
		{ "1.5E", 0, 4, "expected a digit in the exponent" },
		{ "0x10", 0, 0, "malformed number" },
		{ "0X1f", 0, 0, "malformed number" },
		{ "1.5.3", 0, 0, "malformed number" },
		{ "1e5e5", 0, 0, "malformed number" },
		{ "1_000", 0, 0, "malformed number" },
		{ "[1-2]", 0, 1, "malformed number" },
		{ "NaN", 0, 0, NONFINITE },
		{ "Infinity", 0, 0, NONFINITE },
		{ "-Infinity", 0, 0, NONFINITE },
		{ "[1,NaN]", 0, 3, NONFINITE },
		{ "{\"a\":{\"b\":[Infinity]}}", 0, 11, NONFINITE },
		/* Literals. */
		{ "tRue", 0, 0, "invalid literal" },
		{ "nul", 0, 0, "invalid literal" },
		{ "nan", 0, 0, "invalid literal" },
		{ "truex", 0, 0, "invalid literal" },
		{ "nullnull", 0, 0, "invalid literal" },
		{ "fals", 0, 0, "invalid literal" },
		{ "True", 0, 0, "expected a value" },
		{ "undefined", 0, 0, "expected a value" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
		char why[128] = "";
		char want[128];
		snprintf(want, sizeof(want), "invalid JSON at byte %zu: %s",
			 cases[i].at, cases[i].reason);
		int r = check(cases[i].in, len, 32, why, sizeof(why));
		if (r != -EINVAL || strcmp(why, want) != 0)
			fail_msg("case %zu (%s): %d \"%s\", want \"%s\"", i,
				 cases[i].in, r, why, want);
	}
}

/* n levels of nesting: "[[...]]", or "{"a":{"a":...}}" with inner as the
 * innermost value; the caller frees it. */
static char *nested(unsigned n, int objects, size_t *len)
{
	char *s = malloc((size_t)n * 6 + 8);
	assert_non_null(s);
	size_t k = 0;
	for (unsigned i = 0; i < n; i++) {
		if (objects && i % 2) {
			for (const char *p = "{\"a\":"; *p; p++)
				s[k++] = *p;
		} else {
			s[k++] = '[';
		}
	}
	s[k++] = '0';
	for (unsigned i = n; i-- > 0;)
		s[k++] = objects && i % 2 ? '}' : ']';
	*len = k;
	return s;
}

static void expect_depth(unsigned levels, unsigned max_depth, int objects)
{
	unsigned limit = max_depth;
	if (limit > JSON_SYNTAX_DEPTH_MAX)
		limit = JSON_SYNTAX_DEPTH_MAX;
	size_t len;
	char *s = nested(levels, objects, &len);
	char why[128] = "";
	int r = check(s, len, max_depth, why, sizeof(why));
	if (levels <= limit) {
		if (r != 0)
			fail_msg("%u levels, limit %u: %s", levels, max_depth,
				 why);
	} else {
		/* Refused at the opening bracket one level too deep. */
		size_t at = 0;
		for (unsigned i = 0; i < limit; i++)
			at += objects && i % 2 ? 5 : 1;
		char want[128];
		snprintf(want, sizeof(want),
			 "invalid JSON at byte %zu: nesting deeper than %u", at,
			 limit);
		assert_int_equal(r, -EINVAL);
		assert_string_equal(why, want);
	}
	free(s);
}

static void test_depth(void **state)
{
	(void)state;
	for (int objects = 0; objects < 2; objects++) {
		expect_depth(32, 32, objects);
		expect_depth(33, 32, objects);
		expect_depth(64, 64, objects);
		expect_depth(65, 64, objects);
		expect_depth(1, 1, objects);
		expect_depth(2, 1, objects);
		expect_depth(1, 0, objects);
		/* Past what the checker can follow, the cap is its own. */
		expect_depth(JSON_SYNTAX_DEPTH_MAX, UINT_MAX, objects);
		expect_depth(JSON_SYNTAX_DEPTH_MAX + 1, UINT_MAX, objects);
	}
	char why[128];
	/* Scalars have no depth; empty containers count. */
	assert_int_equal(check("1", 1, 0, why, sizeof(why)), 0);
	assert_int_equal(check("{}", 2, 0, why, sizeof(why)), -EINVAL);
	assert_string_equal(why,
			    "invalid JSON at byte 0: nesting deeper than 0");
	/* Depth is how many are open at once, not how many there are. */
	assert_int_equal(check("[[],[],{\"a\":1}]", 15, 2, why, sizeof(why)),
			 0);
	assert_int_equal(check("[[],[[]]]", 9, 2, why, sizeof(why)), -EINVAL);
	assert_string_equal(why,
			    "invalid JSON at byte 5: nesting deeper than 2");
}

/* Wide inputs: long strings and numbers, many members. */
static void test_long_documents(void **state)
{
	(void)state;
	size_t n = 100000;
	char *s = malloc(n + 2);
	assert_non_null(s);
	s[0] = '"';
	memset(s + 1, 'x', n);
	s[n + 1] = '"';
	assert_int_equal(check(s, n + 2, 32, NULL, 0), 0);
	memset(s, '9', n + 2);
	assert_int_equal(check(s, n + 2, 32, NULL, 0), 0);
	s[0] = '[';
	for (size_t i = 1; i + 1 < n; i += 2) {
		s[i] = '0';
		s[i + 1] = ',';
	}
	s[n - 1] = '0';
	s[n] = ']';
	assert_int_equal(check(s, n + 1, 32, NULL, 0), 0);
	s[n - 1] = ' ';
	char why[128];
	assert_int_equal(check(s, n + 1, 32, why, sizeof(why)), -EINVAL);
	char want[128];
	snprintf(want, sizeof(want), "invalid JSON at byte %zu: trailing comma",
		 n);
	assert_string_equal(why, want);
	free(s);
}

static void test_reason_error(void **state)
{
	(void)state;
	struct error e = { 0 };
	assert_int_equal(json_syntax_check("[1,]", 4, 32, &e), -EINVAL);
	assert_int_equal(e.kind, ERR_INVALID_ARGUMENT);
	assert_int_equal(e.err, EINVAL);
	assert_string_equal(e.message,
			    "invalid JSON at byte 3: trailing comma");
	/* No error to fill: the result alone. */
	assert_int_equal(json_syntax_check("[1,]", 4, 32, NULL), -EINVAL);
	/* Success leaves the error alone. */
	assert_int_equal(json_syntax_check("[1]", 3, 32, &e), 0);
	assert_int_equal(e.err, EINVAL);
}

/* Only the given bytes count: a valid document followed by bytes that are
 * not passed in. */
static void test_length_bounds_the_text(void **state)
{
	(void)state;
	struct error why;
	assert_int_equal(json_syntax_check("[1] junk", 3, 32, &why), 0);
	assert_int_equal(json_syntax_check("truest", 4, 32, &why), 0);
	assert_int_equal(json_syntax_check("12345", 2, 32, &why), 0);
	assert_int_equal(json_syntax_check("\"ab\"", 3, 32, &why), -EINVAL);
	assert_string_equal(why.message,
			    "invalid JSON at byte 0: unterminated string");
	assert_int_equal(json_syntax_check(NULL, 0, 32, &why), -EINVAL);
	assert_string_equal(why.message, "invalid JSON at byte 0: no value");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_long_documents),
		cmocka_unit_test(test_reason_error),
		cmocka_unit_test(test_length_bounds_the_text),
	};
	return cmocka_run_group_tests_name("json_syntax", tests, NULL, NULL);
}
