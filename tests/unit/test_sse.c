/* Server-Sent Events parsing: events cut anywhere between reads, several in
 * one read, CRLF, LF and CR line ends, comments, multi-line data, event
 * types, what is not dispatched, and the size limit. */
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

#define MAX_EVENTS 16

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
static int feed_into(struct seen *s, size_t max, const char *text,
		     size_t len, const size_t *cuts, size_t ncuts)
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

static struct seen feed_cut(const char *text, const size_t *cuts,
			    size_t ncuts)
{
	struct seen s = { 0 };
	assert_int_equal(feed_into(&s, 0, text, strlen(text), cuts, ncuts), 0);
	return s;
}

static struct seen feed(const char *text)
{
	return feed_cut(text, NULL, 0);
}

static void assert_same(const struct seen *a, const struct seen *b)
{
	assert_int_equal(a->n, b->n);
	for (int i = 0; i < a->n; i++) {
		assert_string_equal(a->type[i], b->type[i]);
		assert_int_equal(a->len[i], b->len[i]);
		assert_memory_equal(a->data[i], b->data[i], a->len[i]);
	}
}

static void test_one_event(void **state)
{
	(void)state;
	struct seen s = feed("data: {\"type\":\"stdout\",\"data\":\"hi\\n\"}\n\n");
	assert_int_equal(s.n, 1);
	assert_string_equal(s.type[0], "message");
	assert_string_equal(s.data[0], "{\"type\":\"stdout\",\"data\":\"hi\\n\"}");
}

static void test_several_in_one_read(void **state)
{
	(void)state;
	struct seen s = feed("data: 1\n\ndata: 2\n\ndata: 3\n\n");
	assert_int_equal(s.n, 3);
	assert_string_equal(s.data[0], "1");
	assert_string_equal(s.data[1], "2");
	assert_string_equal(s.data[2], "3");
}

/* Every way of cutting a stream into three pieces gives the events reading
 * it whole gives: events split across reads, line ends (CRLF too) split
 * between their two bytes, a BOM split. */
static void test_every_split(void **state)
{
	(void)state;
	static const char *const streams[] = {
		"\xEF\xBB\xBF"
		"data: {\"type\":\"stdout\"}\r\n\r\n: ping\r\n"
		"data: a\r\ndata: b\r\n\r\n",
		"event: exit\ndata:0\n\n:c\ndata: x\rdata: y\r\r",
		"data\n\nid: 7\nretry: 10\ndata: z\n\n",
	};
	for (size_t k = 0; k < sizeof(streams) / sizeof(streams[0]); k++) {
		struct seen whole = feed(streams[k]);
		assert_true(whole.n >= 2);
		size_t len = strlen(streams[k]);
		for (size_t i = 0; i <= len; i++)
			for (size_t j = i; j <= len; j++) {
				size_t cuts[] = { i, j };
				struct seen s = feed_cut(streams[k], cuts, 2);
				assert_same(&whole, &s);
			}
	}
}

static void test_byte_at_a_time(void **state)
{
	(void)state;
	const char *text = "data: first\r\n\r\ndata: second\ndata: line\n\n";
	size_t cuts[64];
	size_t n = strlen(text);
	assert_true(n <= 64);
	for (size_t i = 0; i < n; i++)
		cuts[i] = i;
	struct seen s = feed_cut(text, cuts, n);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.data[0], "first");
	assert_string_equal(s.data[1], "second\nline");
}

static void test_line_ends(void **state)
{
	(void)state;
	struct seen lf = feed("data: a\ndata: b\n\n");
	struct seen crlf = feed("data: a\r\ndata: b\r\n\r\n");
	struct seen cr = feed("data: a\rdata: b\r\r");
	assert_int_equal(lf.n, 1);
	assert_string_equal(lf.data[0], "a\nb");
	assert_same(&lf, &crlf);
	assert_same(&lf, &cr);
}

static void test_comments(void **state)
{
	(void)state;
	struct seen s = feed(": keep-alive\n\n:\n:data: no\ndata: yes\n: mid\n\n");
	assert_int_equal(s.n, 1);
	assert_string_equal(s.data[0], "yes");
}

static void test_multiline_data(void **state)
{
	(void)state;
	struct seen s = feed("data: one\ndata:two\ndata:  three\ndata\n"
			     "data: \n\n");
	assert_int_equal(s.n, 1);
	/* One space after the colon goes; a second stays; "data" and
	 * "data: " add empty lines. */
	assert_string_equal(s.data[0], "one\ntwo\n three\n\n");
}

static void test_event_type(void **state)
{
	(void)state;
	struct seen s = feed("event: exit\ndata: 0\n\ndata: next\n\n"
			     "event: lone\n\ndata: after\n\n");
	assert_int_equal(s.n, 3);
	assert_string_equal(s.type[0], "exit");
	assert_string_equal(s.data[0], "0");
	/* The type is reset by every blank line, dispatched or not. */
	assert_string_equal(s.type[1], "message");
	assert_string_equal(s.type[2], "message");
	assert_string_equal(s.data[2], "after");
}

static void test_not_dispatched(void **state)
{
	(void)state;
	/* No data field; an unknown field; an event the stream ends in. */
	struct seen s = feed("id: 1\nretry: 5\n\nfoo: bar\n\ndata: cut off\n");
	assert_int_equal(s.n, 0);
	s = feed("data:\n\ndata\n\n");
	assert_int_equal(s.n, 2);
	assert_int_equal(s.len[0], 0);
	assert_int_equal(s.len[1], 0);
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
	assert_int_equal(feed_into(&s, 16, "data: 0123456789x", 17, one_more, 1),
			 -EMSGSIZE);
	static const size_t per_line[] = { 17 };
	assert_int_equal(feed_into(&s, 16, "data: 0123456789\ndata: 0123456789\n",
				   34, per_line, 1),
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
		cmocka_unit_test(test_one_event),
		cmocka_unit_test(test_several_in_one_read),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_byte_at_a_time),
		cmocka_unit_test(test_line_ends),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_multiline_data),
		cmocka_unit_test(test_event_type),
		cmocka_unit_test(test_not_dispatched),
		cmocka_unit_test(test_nul_in_data),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_callback_error_stops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
