/* json_build against json-c's strict tokener on the same valid texts: the
 * same values, serialised to the same text; and strings serialised as they
 * are. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "json_build.h"
#include "json_syntax.h"

static json_object *by_json_c(const char *text, size_t len)
{
	json_tokener *tok = json_tokener_new();
	assert_non_null(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	json_object *o = json_tokener_parse_ex(tok, text, (int)len + 1);
	assert_int_equal(json_tokener_get_error(tok), json_tokener_success);
	json_tokener_free(tok);
	return o;
}

static void same_as_json_c(const char *text, size_t len)
{
	assert_int_equal(json_syntax_check(text, len, 32, NULL), 0);
	json_object *want = by_json_c(text, len);
	json_object *got = NULL;
	assert_int_equal(json_build(text, &got), 0);
	if (!json_object_equal(want, got))
		fail_msg("%s: %s, json-c %s", text,
			 json_object_to_json_string(got),
			 json_object_to_json_string(want));
	assert_string_equal(json_object_to_json_string(got),
			    json_object_to_json_string(want));
	assert_int_equal(json_object_get_type(got), json_object_get_type(want));
	json_object_put(want);
	json_object_put(got);
}

static void test_like_json_c(void **state)
{
	(void)state;
	static const char *const texts[] = {
		"null",
		"true",
		" false ",
		"0",
		"-0",
		"42",
		"-17",
		"9223372036854775807",
		"9223372036854775808",	/* uint64 */
		"18446744073709551615", /* uint64 max */
		"18446744073709551616", /* clamps */
		"-9223372036854775809", /* clamps */
		"1.5",
		"-0.0",
		"1e3",
		"2.50E-3",
		"1e400", /* infinity: refused later, by json_parse_strict */
		"\"\"",
		"\"plain\"",
		"\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"",
		"\"\\u00e9\\u20ac\\ud83d\\ude00\"",
		"\"caf\xc3\xa9 \xf0\x9f\x98\x80\"",
		"\"x\\u0000y\"",
		"[]",
		"[ 1 , [2, [3, {}]] ,\"s\" ]",
		"{}",
		"{\"a\":1,\"b\":[true,null],\"c\":{\"d\":\"e\"}}",
		"{\"k\":1,\"k\":2}",
		"{\"\\u00e9\":\"\\n\"}",
		"\t\r\n{ \"a\" : [ ] , \"b\" : { } }\n",
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		same_as_json_c(texts[i], strlen(texts[i]));
}

static void test_long_strings(void **state)
{
	(void)state;
	/* Escapes at every offset of a long run, and one long plain run. */
	size_t n = 70000;
	char *text = malloc(n + 16);
	assert_non_null(text);
	for (size_t at = 1; at < n; at += 9973) {
		text[0] = '"';
		memset(text + 1, 'q', n);
		memcpy(text + at, "\\n\\u00e9", 8);
		text[n + 1] = '"';
		text[n + 2] = '\0';
		same_as_json_c(text, n + 2);
	}
	memset(text + 1, 'z', n);
	same_as_json_c(text, n + 2);
	free(text);
}

static void test_verbatim(void **state)
{
	(void)state;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "content",
			       json_string_verbatim("QUJD/+8=", 8));
	assert_string_equal(
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
		"{\"content\":\"QUJD/+8=\"}");
	assert_string_equal(
		json_object_get_string(json_object_object_get(o, "content")),
		"QUJD/+8=");
	json_object_put(o);
}

/* The size of a string as json-c writes it, known without writing it. */
static void test_string_size(void **state)
{
	(void)state;
	const char s[] = "a\"\\/\n\x01\x00\x7f\xc3\xa9";
	size_t len = sizeof(s) - 1;
	json_object *o = json_object_new_string_len(s, (int)len);
	size_t n;
	json_object_to_json_string_length(o, JSON_C_TO_STRING_NOSLASHESCAPE,
					  &n);
	assert_int_equal(json_string_size(s, len), n);
	assert_int_equal(json_string_size("", 0), 2);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_like_json_c),
		cmocka_unit_test(test_long_strings),
		cmocka_unit_test(test_verbatim),
		cmocka_unit_test(test_string_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
