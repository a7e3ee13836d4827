/* The DNS stub's message handling: standard queries parsed (names folded
 * to lower case), everything else refused, and answers built byte for
 * byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "net/dns_stub.h"

/* id 0xbeef, RD, one question: www.Example.COM type qtype class IN. */
static size_t query(unsigned char *q, unsigned qtype)
{
	static const unsigned char head[] = { 0xbe, 0xef, 0x01, 0x00, 0, 1,
					      0,    0,	  0,	0,    0, 0 };
	static const unsigned char name[] = "\3www\7Example\3COM";
	size_t n = 0;
	memcpy(q, head, sizeof(head));
	n += sizeof(head);
	memcpy(q + n, name, sizeof(name));
	n += sizeof(name);
	q[n++] = (unsigned char)(qtype >> 8);
	q[n++] = (unsigned char)qtype;
	q[n++] = 0;
	q[n++] = 1;
	return n;
}

static void test_parse(void **state)
{
	(void)state;
	unsigned char q[64];
	struct dns_question d;
	size_t n = query(q, DNS_TYPE_AAAA);
	assert_int_equal(dns_parse_query(q, n, &d), 0);
	assert_int_equal(d.id, 0xbeef);
	assert_int_equal(d.type, DNS_TYPE_AAAA);
	assert_string_equal(d.name, "www.example.com");
	assert_int_equal(d.qlen, n - 12);
	/* Every shorter text is refused. */
	for (size_t i = 0; i < n; i++)
		assert_int_equal(dns_parse_query(q, i, &d), -EBADMSG);
}

static void test_refused(void **state)
{
	(void)state;
	unsigned char q[64];
	struct dns_question d;
	size_t n = query(q, DNS_TYPE_A);
	struct {
		size_t at;
		unsigned char value;
	} changes[] = {
		{ 2, 0x81 },  /* a response */
		{ 2, 0x09 },  /* opcode 1 */
		{ 5, 2 },     /* two questions */
		{ 5, 0 },     /* none */
		{ 12, 0xc0 }, /* a compression pointer */
		{ 12, 64 },   /* a label too long */
		{ 13, '/' },  /* not a host name character */
		{ n - 1, 3 }, /* class CH */
		{ 12, 0 },    /* the root name */
	};
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		unsigned char c[64];
		memcpy(c, q, n);
		c[changes[i].at] = changes[i].value;
		assert_int_equal(dns_parse_query(c, n, &d), -EBADMSG);
	}
}

static void test_answer(void **state)
{
	(void)state;
	unsigned char q[64], out[DNS_ANSWER_MAX];
	struct dns_question d;
	size_t n = query(q, DNS_TYPE_A);
	assert_int_equal(dns_parse_query(q, n, &d), 0);
	const unsigned char addrs[2][16] = { { 192, 0, 2, 1 },
					     { 192, 0, 2, 2 } };
	size_t len = dns_build_answer(&d, DNS_RCODE_OK, addrs, 2, out);
	assert_int_equal(len, n + 2 * 16);
	static const unsigned char head[] = { 0xbe, 0xef, 0x81, 0x80, 0, 1,
					      0,    2,	  0,	0,    0, 0 };
	assert_memory_equal(out, head, sizeof(head));
	assert_memory_equal(out + 12, q + 12, n - 12);
	static const unsigned char rr[] = { 0xc0, 12, 0, 1, 0,	 1, 0, 0,
					    0,	  30, 0, 4, 192, 0, 2, 1 };
	assert_memory_equal(out + n, rr, sizeof(rr));
	assert_int_equal(out[n + 16 + 15], 2);
	/* NXDOMAIN: no records, the code in the flags. */
	len = dns_build_answer(&d, DNS_RCODE_NXDOMAIN, NULL, 0, out);
	assert_int_equal(len, n);
	assert_int_equal(out[3], 0x83);
	assert_int_equal(out[7], 0);
	/* More records than fit in 512 bytes are cut. */
	unsigned char many[64][16];
	memset(many, 1, sizeof(many));
	len = dns_build_answer(&d, DNS_RCODE_OK,
			       (const unsigned char(*)[16])many, 64, out);
	assert_true(len <= DNS_ANSWER_MAX);
	assert_int_equal(out[7], (len - n) / 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
