/* Secret masking: whole texts and streams in pieces, checked against a
 * plain reference on random secrets and texts, at every split. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret_mask.h"

static struct secret_mask *mask_of(const char *const *values)
{
	struct secret_mask *m = NULL;
	assert_int_equal(secret_mask_new(values, &m), 0);
	return m;
}

static void check_text(const char *const *values, const char *text,
		       const char *want)
{
	struct secret_mask *m = mask_of(values);
	char *got = secret_mask_text(m, text);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	secret_mask_free(m);
}

static void test_whole_texts(void **state)
{
	(void)state;
	const char *const one[] = { "s3cr3t", NULL };
	check_text(one, "a s3cr3t b s3cr3t", "a *** b ***");
	check_text(one, "s3cr3", "s3cr3");
	check_text(one, "", "");
	/* side by side: one each, as isol8 shows them */
	check_text(one, "s3cr3ts3cr3t", "******");
	const char *const prefix[] = { "abc", "abcdef", NULL };
	check_text(prefix, "abcdef abc abcde", "*** *** ***de");
	/* overlapping: one mask, and nothing of either left */
	const char *const overlap[] = { "abc", "bcdef", NULL };
	check_text(overlap, "xabcdefx", "x***x");
	const char *const chain[] = { "aa", NULL };
	check_text(chain, "baaaaab", "b***b");
	/* short secrets are masked wherever they occur */
	const char *const tiny[] = { "1", NULL };
	check_text(tiny, "a1b11", "a***b******");
	/* and in lower case, as host names are logged */
	const char *const upper[] = { "AbC", NULL };
	check_text(upper, "AbC abc ABC", "*** *** ABC");
	check_text(NULL, "s3cr3t", "s3cr3t");
	const char *const empty[] = { "", NULL };
	check_text(empty, "abc", "abc");
}

static void test_no_mask_passes_through(void **state)
{
	(void)state;
	char *got = secret_mask_text(NULL, "plain");
	assert_string_equal(got, "plain");
	free(got);
}

static void test_too_big_refused(void **state)
{
	(void)state;
	char *big = malloc(SECRETS_MAX_BYTES / 2 + 1);
	memset(big, 'x', SECRETS_MAX_BYTES / 2);
	big[SECRETS_MAX_BYTES / 2] = '\0';
	const char *const fits[] = { big, big, NULL };
	struct secret_mask *m = NULL;
	assert_int_equal(secret_mask_new(fits, &m), 0);
	secret_mask_free(m);
	const char *const over[] = { big, big, "y", NULL };
	assert_int_equal(secret_mask_new(over, &m), -E2BIG);
	free(big);
}

/* ---- streams ---- */

struct collected {
	char buf[8192];
	size_t len;
};

static void collect(void *userdata, const char *data, size_t len, bool mask)
{
	struct collected *c = userdata;
	assert_true(c->len + len < sizeof(c->buf));
	if (mask)
		assert_int_equal(len, strlen(SECRET_MASK_TEXT));
	memcpy(c->buf + c->len, data, len);
	c->len += len;
	c->buf[c->len] = '\0';
}

/* The reference: every occurrence of every secret covers its bytes;
 * overlapping occurrences make one "***". */
static void reference(const char *const *values, const char *text, char *out)
{
	size_t n = strlen(text);
	size_t *end = calloc(n + 1, sizeof(*end)); /* of an occurrence */
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; values[k]; k++) {
			size_t l = strlen(values[k]);
			if (l && l <= n - i &&
			    memcmp(text + i, values[k], l) == 0 &&
			    i + l > end[i])
				end[i] = i + l;
		}
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		if (!end[i]) {
			out[o++] = text[i++];
			continue;
		}
		size_t e = end[i];
		for (size_t j = i + 1; j < e; j++)
			if (end[j] > e)
				e = end[j];
		memcpy(out + o, SECRET_MASK_TEXT, 3);
		o += 3;
		i = e;
	}
	out[o] = '\0';
	free(end);
}

static void random_string(char *s, size_t len, const char *alphabet)
{
	size_t a = strlen(alphabet);
	for (size_t i = 0; i < len; i++)
		s[i] = alphabet[(size_t)rand() % a];
	s[len] = '\0';
}

static void test_streams_match_the_reference(void **state)
{
	(void)state;
	srand(8);
	for (int round = 0; round < 400; round++) {
		char sec[4][8], text[64], want[256];
		const char *values[5] = { 0 };
		size_t nsec = 1 + (size_t)rand() % 4;
		for (size_t k = 0; k < nsec; k++) {
			random_string(sec[k], 1 + (size_t)rand() % 6, "ab");
			values[k] = sec[k];
		}
		random_string(text, (size_t)rand() % 40, "abc");
		reference(values, text, want);
		struct secret_mask *m = mask_of(values);
		size_t n = strlen(text);
		/* in two pieces at every split, then byte by byte */
		for (size_t cut = 0; cut <= n + 1; cut++) {
			struct mask_stream s;
			struct collected c = { 0 };
			mask_stream_init(&s, m);
			if (cut <= n) {
				mask_stream_feed(&s, text, cut, false, collect,
						 &c);
				mask_stream_feed(&s, text + cut, n - cut, false,
						 collect, &c);
			} else
				for (size_t i = 0; i < n; i++)
					mask_stream_feed(&s, text + i, 1, false,
							 collect, &c);
			mask_stream_feed(&s, NULL, 0, true, collect, &c);
			assert_string_equal(c.buf, want);
			mask_stream_free(&s);
		}
		secret_mask_free(m);
	}
}

/* A possible start of a secret is held back, never shown early. */
static void test_prefix_held_back(void **state)
{
	(void)state;
	const char *const values[] = { "TOPSECRET", NULL };
	struct secret_mask *m = mask_of(values);
	struct mask_stream s;
	struct collected c = { 0 };
	mask_stream_init(&s, m);
	mask_stream_feed(&s, "out TOPSE", 9, false, collect, &c);
	assert_string_equal(c.buf, "out ");
	mask_stream_feed(&s, "CRET and TOP", 12, false, collect, &c);
	assert_string_equal(c.buf, "out *** and ");
	mask_stream_feed(&s, "CAT", 3, false, collect, &c);
	assert_string_equal(c.buf, "out *** and TOPCA"); /* T may begin one */
	mask_stream_feed(&s, " TOPS", 5, false, collect, &c);
	mask_stream_feed(&s, NULL, 0, true, collect, &c);
	/* at the end, what never became a secret is shown */
	assert_string_equal(c.buf, "out *** and TOPCAT TOPS");
	mask_stream_free(&s);
	secret_mask_free(m);
}

/* A run of overlapping secrets without end keeps little in memory. */
static void test_endless_overlap_stays_small(void **state)
{
	(void)state;
	const char *const values[] = { "aa", NULL };
	struct secret_mask *m = mask_of(values);
	struct mask_stream s;
	struct collected c = { 0 };
	char chunk[4096];
	memset(chunk, 'a', sizeof(chunk));
	mask_stream_init(&s, m);
	for (int i = 0; i < 256; i++) {
		mask_stream_feed(&s, chunk, sizeof(chunk), false, collect, &c);
		/* the open span's first byte and what a secret may
		 * still begin in */
		assert_true(s.held.len <= 1 + strlen(values[0]));
		assert_true(s.nspans <= 1);
	}
	assert_int_equal(c.len, 0);
	mask_stream_feed(&s, "b", 1, false, collect, &c);
	mask_stream_feed(&s, NULL, 0, true, collect, &c);
	assert_string_equal(c.buf, "***b");
	mask_stream_free(&s);
	secret_mask_free(m);
}

/* Many secrets sharing long prefixes: all found, none confused. */
static void test_many_secrets(void **state)
{
	(void)state;
	char sec[200][40];
	const char *values[201] = { 0 };
	for (int i = 0; i < 200; i++) {
		snprintf(sec[i], sizeof(sec[i]), "key-%03d-%s", i,
			 i % 2 ? "odd" : "even");
		values[i] = sec[i];
	}
	check_text(values, "key-007-odd key-008-even key-007-even key-",
		   "*** *** key-007-even key-");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_texts),
		cmocka_unit_test(test_no_mask_passes_through),
		cmocka_unit_test(test_too_big_refused),
		cmocka_unit_test(test_streams_match_the_reference),
		cmocka_unit_test(test_prefix_held_back),
		cmocka_unit_test(test_endless_overlap_stays_small),
		cmocka_unit_test(test_many_secrets),
	};
	return cmocka_run_group_tests_name("secret_mask", tests, NULL, NULL);
}
