/* Server-Sent Events parsing: each stream of a table read whole, a byte at
 * a time and cut in three pieces at every pair of places (events split
 * across reads, CRLF split between its bytes, several events in one read),
 * with CRLF, LF and CR line ends, comments, multi-line data and event
 * types; then NULs in data, the size limit and a callback's error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sse.h"

#define MAX_EVENTS 4

struct seen {
	int n;
	char type[MAX_EVENTS][32];
	char data[MAX_EVENTS][128];
	size_t len[MAX_EVENTS];
	int fail_at; /* the callback fails on this event (1-based), 0 never */
};

static int collect(void *userdata, const char *type, const char *data,
		   size_t len)
{
	struct seen *s = userdata;
	assert_true(s->n < MAX_EVENTS);
	assert_true(len < sizeof(s->data[0]));
	assert_int_equal(data[len], '\0');
	snprintf(s->type[s->n], sizeof(s->type[0]), "%s", type);
	memcpy(s->data[s->n], data, len + 1);
	s->len[s->n] = len;
	s->n++;
	return s->n == s->fail_at ? -ECANCELED : 0;
}

/* Feeds len bytes of text, cut at the given offsets, through one parser
 * with limit max into s; the first error, or 0. */
static int feed_into(struct seen *s, size_t max, const char *text, size_t len,
		     const size_t *cuts, size_t ncuts)
{
	struct sse_parser p;
	sse_init(&p, max, collect, s);
	size_t at = 0;
	int r = 0;
	for (size_t i = 0; r == 0 && i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;
		r = sse_feed(&p, text + at, end - at);
		at = end;
	}
	sse_free(&p);
	return r;
}

static const struct {
	const char *stream;
	int n;
	const char *type[MAX_EVENTS], *data[MAX_EVENTS];
} cases[] = {
	{ "data: {\"type\":\"stdout\",\"data\":\"hi\\n\"}\n\n",
	  1,
	  { "message" },
	  { "{\"type\":\"stdout\",\"data\":\"hi\\n\"}" } },
	/* Several events at once. */
	{ "data: 1\n\ndata: 2\n\ndata: 3\n\n",
	  3,
	  { "message", "message", "message" },
	  { "1", "2", "3" } },
	/* The three line ends, the same events. */
	{ "data: a\ndata: b\n\n", 1, { "message" }, { "a\nb" } },
	{ "data: a\r\ndata: b\r\n\r\n", 1, { "message" }, { "a\nb" } },
	{ "data: a\rdata: b\r\r", 1, { "message" }, { "a\nb" } },
	/* Comments, keep-alives among them, are no events and no data. */
	{ ": keep-alive\n\n:\n:data: no\ndata: yes\n: mid\n\n",
	  1,
	  { "message" },
	  { "yes" } },
	/* One space after the colon goes, a second stays; "data" and
	 * "data: " add empty lines. */
	{ "data: one\ndata:two\ndata:  three\ndata\ndata: \n\n",
	  1,
	  { "message" },
	  { "one\ntwo\n three\n\n" } },
	/* A type applies to its event only; every blank line resets it,
	 * whether an event is dispatched or not. */
	{ "event: exit\ndata: 0\n\ndata: next\n\nevent: lone\n\ndata: "
	  "after\n\n",
	  3,
	  { "exit", "message", "message" },
	  { "0", "next", "after" } },
	/* Not dispatched: no data field; an unknown field; an event the
	 * stream ends in. */
	{ "id: 1\nretry: 5\n\nfoo: bar\n\ndata: cut off\n", 0, { 0 }, { 0 } },
	/* A data field, even empty, makes an event. */
	{ "data:\n\ndata\n\n", 2, { "message", "message" }, { "", "" } },
	/* A leading byte order mark is dropped. */
	{ "\xEF\xBB\xBF"
	  "data: x\r\n\r\n",
	  1,
	  { "message" },
	  { "x" } },
};

static void assert_case(size_t k, const struct seen *s)
{
	assert_int_equal(s->n, cases[k].n);
	for (int i = 0; i < s->n; i++) {
		assert_string_equal(s->type[i], cases[k].type[i]);
		assert_string_equal(s->data[i], cases[k].data[i]);
	}
}

static void test_whole(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct seen s = { 0 };
		assert_int_equal(feed_into(&s, 0, cases[k].stream,
					   strlen(cases[k].stream), NULL, 0),
				 0);
		assert_case(k, &s);
	}
}

static void test_byte_at_a_time(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		size_t cuts[128], len = strlen(cases[k].stream);
		assert_true(len <= 128);
		for (size_t i = 0; i < len; i++)
			cuts[i] = i;
		struct seen s = { 0 };
		assert_int_equal(
			feed_into(&s, 0, cases[k].stream, len, cuts, len), 0);
		assert_case(k, &s);
	}
}

static void test_every_split(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		size_t len = strlen(cases[k].stream);
		for (size_t i = 0; i <= len; i++)
			for (size_t j = i; j <= len; j++) {
				size_t cuts[] = { i, j };
				struct seen s = { 0 };
				assert_int_equal(feed_into(&s, 0,
							   cases[k].stream, len,
							   cuts, 2),
						 0);
				assert_case(k, &s);
			}
	}
}

static void test_nul_in_data(void **state)
{
	(void)state;
	static const char text[] = "data: a\0b\n\n";
	struct seen s = { 0 };
	assert_int_equal(feed_into(&s, 0, text, sizeof(text) - 1, NULL, 0), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.len[0], 3);
	assert_memory_equal(s.data[0], "a\0b", 3);
}

static void test_limit(void **state)
{
	(void)state;
	struct seen s = { 0 };
	/* A line without its end yet past 16 bytes; then data lines of 10
	 * bytes each, two of them past 16. */
	static const size_t one_more[] = { 16 };
	assert_int_equal(
		feed_into(&s, 16, "data: 0123456789x", 17, one_more, 1),
		-EMSGSIZE);
	static const size_t per_line[] = { 17 };
	assert_int_equal(feed_into(&s, 16,
				   "data: 0123456789\ndata: 0123456789\n", 34,
				   per_line, 1),
			 -EMSGSIZE);
	assert_int_equal(s.n, 0);
}

static void test_callback_error_stops(void **state)
{
	(void)state;
	struct seen s = { .fail_at = 2 };
	const char *text = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
	assert_int_equal(feed_into(&s, 0, text, strlen(text), NULL, 0),
			 -ECANCELED);
	assert_int_equal(s.n, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole),
		cmocka_unit_test(test_byte_at_a_time),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_nul_in_data),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_callback_error_stops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
