/* Finding a NUL byte in any string of a request, with its path, except in
 * the members that hold contents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "json_field.h"

static const char *const skip[] = { "request.stdin", "request.files", NULL };

/* The path found in text, or NULL when there is no NUL. */
static const char *find(const char *text)
{
	static char path[64];
	json_object *o = json_tokener_parse(text);
	assert_non_null(o);
	bool found = json_find_nul(o, skip, path, sizeof(path));
	json_object_put(o);
	return found ? path : NULL;
}

static void test_found_with_path(void **state)
{
	(void)state;
	assert_string_equal(find("{\"sessionId\":\"a\\u0000b\"}"), "sessionId");
	assert_string_equal(find("{\"request\":{\"outputPaths\":"
				 "[\"a\",\"b\\u0000\"]}}"),
			    "request.outputPaths[1]");
	assert_string_equal(find("{\"request\":{\"env\":{\"A\":\"\\u0000\"}}}"),
			    "request.env.A");
	/* Skipping a member skips only it, not one whose name it begins. */
	assert_string_equal(find("{\"request\":{\"stdinX\":\"\\u0000\"}}"),
			    "request.stdinX");
}

static void test_not_found(void **state)
{
	(void)state;
	assert_null(
		find("{\"a\":\"plain\",\"b\":[1,true,null,{\"c\":\"d\"}]}"));
	assert_null(find("{\"request\":{\"stdin\":\"a\\u0000b\","
			 "\"files\":{\"f\":\"\\u0000\"}}}"));
}

/* A path longer than the buffer is cut, and still searched below. */
static void test_long_path(void **state)
{
	(void)state;
	char text[512];
	char name[101];
	memset(name, 'n', 100);
	name[100] = '\0';
	snprintf(text, sizeof(text), "{\"%s\":{\"%s\":\"\\u0000\"}}", name,
		 name);
	const char *p = find(text);
	assert_non_null(p);
	assert_int_equal(strlen(p), 63);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_found_with_path),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_long_path),
	};
	return cmocka_run_group_tests_name("json_field", tests, NULL, NULL);
}
