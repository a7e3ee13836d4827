/* Output capture: truncation, secret masking across reads, UTF-8 repair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "secret_mask.h"

struct collected {
	char buf[4096];
	size_t len;
	int pieces;
};

static void collect(const char *data, size_t len, void *userdata)
{
	struct collected *c = userdata;
	memcpy(c->buf + c->len, data, len);
	c->len += len;
	c->buf[c->len] = '\0';
	c->pieces++;
}

static struct secret_mask *mask_of(const char *const *values)
{
	struct secret_mask *m = NULL;
	assert_int_equal(secret_mask_new(values, &m), 0);
	return m;
}

static void test_plain_passthrough(void **state)
{
	(void)state;
	struct output o;
	struct collected c = { 0 };
	output_init(&o, 1024, NULL);
	assert_int_equal(output_feed(&o, "hello ", 6, collect, &c), 0);
	assert_int_equal(output_feed(&o, "world", 5, collect, &c), 0);
	assert_int_equal(output_finish(&o, collect, &c), 0);
	assert_string_equal(c.buf, "hello world");
	assert_string_equal(o.text.p, "hello world");
	assert_false(o.truncated);
	output_free(&o);
}

static void test_truncation_keeps_max_bytes(void **state)
{
	(void)state;
	struct output o;
	output_init(&o, 10, NULL);
	output_feed(&o, "0123456789abcdef", 16, NULL, NULL);
	output_feed(&o, "more", 4, NULL, NULL);
	output_finish(&o, NULL, NULL);
	assert_true(o.truncated);
	assert_int_equal(o.raw_total, 20);
	assert_string_equal(o.text.p, "0123456789");
	output_free(&o);
}

static void test_secret_masked_in_one_read(void **state)
{
	(void)state;
	const char *const secrets[] = { "s3cr3t", NULL };
	struct secret_mask *m = mask_of(secrets);
	struct output o;
	struct collected c = { 0 };
	output_init(&o, 1024, m);
	output_feed(&o, "key=s3cr3t and s3cr3t.", 22, collect, &c);
	output_finish(&o, collect, &c);
	assert_string_equal(c.buf, "key=*** and ***.");
	assert_string_equal(o.text.p, "key=*** and ***.");
	output_free(&o);
	secret_mask_free(m);
}

static void test_secret_split_across_reads(void **state)
{
	(void)state;
	const char *const secrets[] = { "TOPSECRET", NULL };
	struct secret_mask *m = mask_of(secrets);
	const char *text = "before TOPSECRET after";
	/* Every split point of the text, fed as two reads. */
	for (size_t cut = 0; cut <= strlen(text); cut++) {
		struct output o;
		struct collected c = { 0 };
		output_init(&o, 1024, m);
		output_feed(&o, text, cut, collect, &c);
		/* Nothing emitted so far may contain a partial secret that
		 * later turns out to be one. */
		assert_null(strstr(c.buf, "TOPSECRE"));
		output_feed(&o, text + cut, strlen(text) - cut, collect, &c);
		output_finish(&o, collect, &c);
		assert_string_equal(c.buf, "before *** after");
		output_free(&o);
	}
	secret_mask_free(m);
}

static void test_longest_secret_wins_across_reads(void **state)
{
	(void)state;
	const char *const secrets[] = { "abc", "abcdef", NULL };
	struct secret_mask *m = mask_of(secrets);
	struct output o;
	struct collected c = { 0 };
	output_init(&o, 1024, m);
	/* The longer secret arrives in pieces after the shorter matched. */
	output_feed(&o, "x abcd", 6, collect, &c);
	output_feed(&o, "ef y abc z", 10, collect, &c);
	output_finish(&o, collect, &c);
	assert_string_equal(c.buf, "x *** y *** z");
	assert_string_equal(o.text.p, "x *** y *** z");
	output_free(&o);
	secret_mask_free(m);
}

static void test_secret_byte_by_byte(void **state)
{
	(void)state;
	const char *const secrets[] = { "abc", "longer-secret", NULL };
	struct secret_mask *m = mask_of(secrets);
	const char *text = "xabcx longer-secret abab abc";
	struct output o;
	struct collected c = { 0 };
	output_init(&o, 1024, m);
	for (size_t i = 0; i < strlen(text); i++)
		output_feed(&o, text + i, 1, collect, &c);
	output_finish(&o, collect, &c);
	assert_string_equal(c.buf, "x***x *** abab ***");
	output_free(&o);
	secret_mask_free(m);
}

static void test_empty_secret_ignored(void **state)
{
	(void)state;
	const char *const secrets[] = { "", NULL };
	struct secret_mask *m = mask_of(secrets);
	struct output o;
	struct collected c = { 0 };
	output_init(&o, 1024, m);
	output_feed(&o, "abc", 3, collect, &c);
	output_finish(&o, collect, &c);
	assert_string_equal(c.buf, "abc");
	output_free(&o);
	secret_mask_free(m);
}

static void test_utf8_split_character(void **state)
{
	(void)state;
	const char *euro = "\xe2\x82\xac"; /* € */
	struct output o;
	struct collected c = { 0 };
	output_init(&o, 1024, NULL);
	output_feed(&o, euro, 1, collect, &c);
	assert_int_equal(c.len, 0); /* held back, not replaced */
	output_feed(&o, euro + 1, 2, collect, &c);
	output_finish(&o, collect, &c);
	assert_string_equal(c.buf, euro);
	output_free(&o);
}

static void test_invalid_utf8_replaced(void **state)
{
	(void)state;
	struct output o;
	struct collected c = { 0 };
	output_init(&o, 1024, NULL);
	output_feed(&o,
		    "a\xff"
		    "b\xc0\xaf"
		    "c",
		    6, collect, &c);
	output_feed(&o, "\xe2\x82", 2, collect, &c); /* cut off at the end */
	output_finish(&o, collect, &c);
	assert_string_equal(c.buf, "a\xef\xbf\xbd"
				   "b\xef\xbf\xbd\xef\xbf\xbd"
				   "c\xef\xbf\xbd\xef\xbf\xbd");
	output_free(&o);
}

/* The cap applies to masked text, so a secret across it shows whole as
 * "***" or not at all. */
static void test_cap_never_cuts_a_secret(void **state)
{
	(void)state;
	const char *const secrets[] = { "SECRET", NULL };
	struct secret_mask *m = mask_of(secrets);
	const char *text = "0123SECRETxyz";
	/* masked: "0123***xyz" */
	const char *want[] = { "",     "0",    "01",	  "012",     "0123",
			       "0123", "0123", "0123***", "0123***x" };
	for (size_t max = 0; max < sizeof(want) / sizeof(*want); max++) {
		for (size_t cut = 0; cut <= strlen(text); cut++) {
			struct output o;
			struct collected c = { 0 };
			output_init(&o, max, m);
			output_feed(&o, text, cut, collect, &c);
			output_feed(&o, text + cut, strlen(text) - cut, collect,
				    &c);
			output_finish(&o, collect, &c);
			assert_string_equal(c.buf, want[max]);
			assert_string_equal(o.text.p ? o.text.p : "",
					    want[max]);
			assert_true(o.truncated);
			output_free(&o);
		}
	}
	secret_mask_free(m);
}

static void test_cap_counts_masked_bytes(void **state)
{
	(void)state;
	const char *const secrets[] = { "k", NULL };
	struct secret_mask *m = mask_of(secrets);
	struct output o;
	output_init(&o, 7, m);
	output_feed(&o, "akbkc", 5, NULL, NULL);
	output_finish(&o, NULL, NULL);
	assert_string_equal(o.text.p, "a***b");
	assert_true(o.truncated);
	output_free(&o);
	output_init(&o, 9, m);
	output_feed(&o, "akbkc", 5, NULL, NULL);
	output_finish(&o, NULL, NULL);
	assert_string_equal(o.text.p, "a***b***c");
	assert_false(o.truncated);
	output_free(&o);
	secret_mask_free(m);
}

static void test_cap_drops_a_cut_character(void **state)
{
	(void)state;
	struct output o;
	output_init(&o, 4, NULL);
	output_feed(&o, "ab\xe2\x82\xac", 5, NULL, NULL);
	output_finish(&o, NULL, NULL);
	assert_string_equal(o.text.p, "ab");
	assert_true(o.truncated);
	output_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_passthrough),
		cmocka_unit_test(test_truncation_keeps_max_bytes),
		cmocka_unit_test(test_secret_masked_in_one_read),
		cmocka_unit_test(test_secret_split_across_reads),
		cmocka_unit_test(test_secret_byte_by_byte),
		cmocka_unit_test(test_longest_secret_wins_across_reads),
		cmocka_unit_test(test_empty_secret_ignored),
		cmocka_unit_test(test_utf8_split_character),
		cmocka_unit_test(test_invalid_utf8_replaced),
		cmocka_unit_test(test_cap_never_cuts_a_secret),
		cmocka_unit_test(test_cap_counts_masked_bytes),
		cmocka_unit_test(test_cap_drops_a_cut_character),
	};
	return cmocka_run_group_tests_name("output", tests, NULL, NULL);
}
