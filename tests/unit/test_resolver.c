/* Addresses written out need no lookup: what resolver_numeric takes, and
 * the address and port it gives, as getaddrinfo would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "net/resolver.h"

static void test_numeric(void **state)
{
	(void)state;
	struct resolver_result r;
	assert_true(resolver_numeric("127.0.0.2", 8080, &r));
	assert_int_equal(r.err, 0);
	assert_int_equal(r.n, 1);
	const struct sockaddr_in *s4 = (const void *)&r.addrs[0];
	assert_int_equal(s4->sin_family, AF_INET);
	assert_int_equal(ntohs(s4->sin_port), 8080);
	assert_int_equal(ntohl(s4->sin_addr.s_addr), 0x7f000002);
	assert_int_equal(r.lens[0], sizeof(struct sockaddr_in));

	assert_true(resolver_numeric("2001:db8::5", 443, &r));
	const struct sockaddr_in6 *s6 = (const void *)&r.addrs[0];
	assert_int_equal(s6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(s6->sin6_port), 443);
	assert_int_equal(s6->sin6_addr.s6_addr[15], 5);
	assert_int_equal(r.lens[0], sizeof(struct sockaddr_in6));
}

static void test_names_need_a_lookup(void **state)
{
	(void)state;
	struct resolver_result r;
	static const char *const names[] = {
		"localhost", "example.com", "1.2.3", "0x7f.1",	 "127.0.0.1.",
		"[::1]",     "fe80::1%lo",  "",	     "1.2.3.4 ",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_false(resolver_numeric(names[i], 80, &r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numeric),
		cmocka_unit_test(test_names_need_a_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
