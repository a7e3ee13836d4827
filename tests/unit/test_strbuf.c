/* The growing buffer: contents and the NUL after them through growth,
 * empty appends, reset and free. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "strbuf.h"

static void test_grows_and_keeps_a_nul(void **state)
{
	(void)state;
	struct strbuf b = { 0 };
	char want[5000];
	for (size_t i = 0; i < sizeof(want); i++) {
		char c = (char)('a' + i % 26);
		want[i] = c;
		assert_int_equal(strbuf_add(&b, &c, 1), 0);
		assert_int_equal(b.len, i + 1);
		assert_int_equal(b.p[b.len], '\0');
		assert_true(b.cap > b.len);
	}
	assert_memory_equal(b.p, want, sizeof(want));
	strbuf_free(&b);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
}

static void test_large_and_empty_appends(void **state)
{
	(void)state;
	struct strbuf b = { 0 };
	assert_int_equal(strbuf_add(&b, "", 0), 0);
	assert_non_null(b.p);
	assert_string_equal(b.p, "");
	static char big[100000];
	memset(big, 'x', sizeof(big));
	assert_int_equal(strbuf_add(&b, "ab", 2), 0);
	assert_int_equal(strbuf_add(&b, big, sizeof(big)), 0);
	assert_int_equal(b.len, sizeof(big) + 2);
	assert_memory_equal(b.p, "abxx", 4);
	assert_int_equal(b.p[b.len], '\0');
	strbuf_free(&b);
}

static void test_reset_keeps_memory(void **state)
{
	(void)state;
	struct strbuf b = { 0 };
	strbuf_reset(&b);
	assert_int_equal(strbuf_add(&b, "hello", 5), 0);
	char *mem = b.p;
	size_t cap = b.cap;
	strbuf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.p, "");
	assert_int_equal(strbuf_add(&b, "hi", 2), 0);
	assert_ptr_equal(b.p, mem);
	assert_int_equal(b.cap, cap);
	assert_string_equal(b.p, "hi");
	strbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grows_and_keeps_a_nul),
		cmocka_unit_test(test_large_and_empty_appends),
		cmocka_unit_test(test_reset_keeps_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
