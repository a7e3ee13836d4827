/* The proxy's decisions without a box: host filters, private address
 * ranges, and request heads as a box may send them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net/net_policy.h"
#include "net/proxy_request.h"

static void test_filter(void **state)
{
	(void)state;
	struct net_filter f;
	struct error err;
	const char *allow[] = { "^api\\.example\\.com$", "PYPI", NULL };
	const char *deny[] = { "evil", NULL };
	assert_int_equal(net_filter_compile(&f, allow, deny, &err), 0);
	assert_true(net_filter_allows(&f, "api.example.com"));
	assert_true(net_filter_allows(&f, "files.pypi.org"));
	assert_false(net_filter_allows(&f, "xapi.example.com"));
	assert_false(net_filter_allows(&f, "evil.pypi.org"));
	net_filter_free(&f);
	assert_int_equal(net_filter_compile(&f, NULL, deny, &err), 0);
	assert_true(net_filter_allows(&f, "anything.net"));
	assert_false(net_filter_allows(&f, "EVIL.net"));
	net_filter_free(&f);
	const char *bad[] = { "ok", "(", NULL };
	assert_int_equal(net_filter_compile(&f, bad, NULL, &err), -EINVAL);
	assert_non_null(
		strstr(err.message, "options.networkFilter.whitelist[1]"));
}

static bool private_addr(const char *text)
{
	struct sockaddr_storage ss = { 0 };
	if (strchr(text, ':')) {
		struct sockaddr_in6 *in6 = (void *)&ss;
		in6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, text, &in6->sin6_addr), 1);
	} else {
		struct sockaddr_in *in = (void *)&ss;
		in->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, text, &in->sin_addr), 1);
	}
	return net_addr_private((struct sockaddr *)&ss);
}

static void test_private_ranges(void **state)
{
	(void)state;
	static const char *const refused[] = {
		"127.0.0.1",
		"10.1.2.3",
		"172.16.0.1",
		"172.31.255.255",
		"192.168.1.1",
		"169.254.169.254",
		"100.64.0.1",
		"100.100.100.200",
		"0.0.0.0",
		"224.0.0.1",
		"255.255.255.255",
		"::1",
		"::",
		"fd00:ec2::254",
		"fe80::1",
		"ff02::1",
		"::ffff:127.0.0.1",
		"::ffff:10.0.0.1",
		"64:ff9b::a00:1",
		"2002:a00:1::",
	};
	static const char *const allowed[] = {
		"1.1.1.1", "172.32.0.1",      "100.128.0.1",
		"8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++)
		if (!private_addr(refused[i]))
			fail_msg("%s should be private", refused[i]);
	for (size_t i = 0; i < sizeof(allowed) / sizeof(*allowed); i++)
		if (private_addr(allowed[i]))
			fail_msg("%s should be public", allowed[i]);
}

static int parse(const char *head, struct proxy_request *r)
{
	size_t len = proxy_head_length(head, strlen(head));
	assert_int_equal(len, strlen(head));
	int ret = proxy_request_parse(head, len, r, NULL);
	return ret < 0 ? proxy_request_status(ret) : 0;
}

static void test_requests(void **state)
{
	(void)state;
	struct proxy_request r;
	assert_int_equal(parse("CONNECT Api.Example.com:443 HTTP/1.1\r\n"
			       "Host: x\r\n\r\n",
			       &r),
			 0);
	assert_true(r.tunnel);
	assert_string_equal(r.host, "api.example.com");
	assert_int_equal(r.port, 443);
	assert_null(r.path);
	proxy_request_free(&r);

	assert_int_equal(parse("GET http://[::1]:8080/a?b HTTP/1.1\r\n"
			       "Host: other\r\nProxy-Connection: keep-alive\r\n"
			       "Accept: */*\r\n\r\n",
			       &r),
			 0);
	assert_string_equal(r.host, "::1");
	assert_int_equal(r.port, 8080);
	assert_string_equal(r.path, "/a?b");
	assert_string_equal(r.upstream, "GET /a?b HTTP/1.1\r\nAccept: */*\r\n"
					"Host: [::1]:8080\r\n"
					"Connection: close\r\n\r\n");
	proxy_request_free(&r);

	assert_int_equal(parse("GET http://h?q=1#frag HTTP/1.1\r\n\r\n", &r),
			 0);
	assert_string_equal(r.path, "/?q=1");
	assert_string_equal(r.upstream, "GET /?q=1 HTTP/1.1\r\nHost: h\r\n"
					"Connection: close\r\n\r\n");
	proxy_request_free(&r);
	assert_int_equal(parse("GET http://h/a#x HTTP/1.1\r\n\r\n", &r), 0);
	assert_string_equal(r.path, "/a");
	proxy_request_free(&r);

	assert_int_equal(parse("POST /x HTTP/1.0\r\nHost: h.test\r\n\r\n", &r),
			 0);
	assert_string_equal(r.host, "h.test");
	assert_int_equal(r.port, 80);
	proxy_request_free(&r);

	static const char *const bad[] = {
		"garbage\r\n\r\n",
		"GET /nohost HTTP/1.1\r\n\r\n",
		"GET ftp://x/ HTTP/1.1\r\n\r\n",
		"CONNECT host HTTP/1.1\r\n\r\n",
		"CONNECT host:0 HTTP/1.1\r\n\r\n",
		"CONNECT host:65536 HTTP/1.1\r\n\r\n",
		"CONNECT ho/st:80 HTTP/1.1\r\n\r\n",
		"GET http://user@host/ HTTP/1.1\r\n\r\n",
		"GET http://h/ HTTP/2.0\r\n\r\n",
		"GET http://h/ HTTP/1.1\r\n folded\r\n\r\n",
		"GET http://h/ HTTP/1.1\r\nno-colon\r\n\r\n",
		"get http://h/ HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a.test\r\nhost: b.test\r\n\r\n",
		"GET http://a/ HTTP/1.1\r\nHost: a\r\nHOST: b\r\n\r\n",
		"CONNECT [:]:443 HTTP/1.1\r\n\r\n",
		"GET http://[abc]/ HTTP/1.1\r\n\r\n",
		"CONNECT evil..com:443 HTTP/1.1\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		int status = parse(bad[i], &r);
		if (status != 400)
			fail_msg("%s: %d", bad[i], status);
		proxy_request_free(&r);
	}
	assert_int_equal(proxy_head_length("GET / HTTP/1.1\r\n", 16), 0);
}

static void test_canonical_hosts(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{ "example.com.", "example.com" },
		{ "example.com", "example.com" },
		{ "2130706434", "127.0.0.2" },
		{ "0x7f.1", "127.0.0.1" },
		{ "127.1", "127.0.0.1" },
		{ "010.0.0.1", "8.0.0.1" },
		{ "1.2.3.4.", "1.2.3.4" },
		{ "0:0:0:0:0:FFFF:7F00:1", "127.0.0.1" },
		{ "::ffff:10.1.2.3", "10.1.2.3" },
		{ "64:ff9b::a01:203", "64:ff9b::a01:203" },
		{ "fe80:0::1", "fe80::1" },
		{ "1e100.net", "1e100.net" },
		{ "a", "a" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char host[254];
		snprintf(host, sizeof(host), "%s", cases[i][0]);
		if (!net_host_canonical(host, sizeof(host)) ||
		    strcmp(host, cases[i][1]) != 0)
			fail_msg("%s: %s", cases[i][0], host);
	}
	static const char *const bad[] = { ".",	  "..",	 "a..b", ".a",
					   "a..", "::g", "1:2:3" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char host[254];
		snprintf(host, sizeof(host), "%s", bad[i]);
		if (net_host_canonical(host, sizeof(host)))
			fail_msg("%s taken as %s", bad[i], host);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_private_ranges),
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_canonical_hosts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
