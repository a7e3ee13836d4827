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
	net_filter_free(&f); /* freed twice, or moved from: empty */
	assert_true(net_filter_allows(&f, "anything.net"));
}

/* Patterns mean what they mean in JavaScript with the i flag. */
static void test_js_syntax(void **state)
{
	(void)state;
	static const struct {
		const char *pattern, *host;
		bool match;
	} cases[] = {
		{ "^10\\.0\\.0\\.\\d$", "10.0.0.7", true },
		{ "^10\\.0\\.0\\.\\d$", "10.0.0.17", false },
		{ "^(?:api|www)\\.example\\.com$", "www.example.com", true },
		{ "^(?!safe\\.).*\\.test$", "evil.test", true },
		{ "^(?!safe\\.).*\\.test$", "safe.test", false },
		{ "(?<=^api\\.)example", "api.example.com", true },
		{ "EXAMPLE\\.COM$", "example.com", true },
		{ "\\u0061pi\\.\\x65", "api.example", true },
		{ "^(x)?\\1y$", "y", true },
		{ "^[^]+$", "anything", true },
		{ "[]", "anything", false },
		{ "\\w+\\.\\w{2,}$", "host.io", true },
		{ "^(?<sub>[a-z]+)\\.\\k<sub>$", "ab.ab", true },
		{ "\\bfoo\\b", "a.foo.b", true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct net_filter f;
		struct error err;
		const char *deny[] = { cases[i].pattern, NULL };
		if (net_filter_compile(&f, NULL, deny, &err) < 0)
			fail_msg("%s: %s", cases[i].pattern, err.message);
		if (net_filter_allows(&f, cases[i].host) == cases[i].match)
			fail_msg("%s on %s: expected %s", cases[i].pattern,
				 cases[i].host,
				 cases[i].match ? "a match" : "no match");
		net_filter_free(&f);
	}
}

static void assert_refused(const char *const *allow, const char *const *deny,
			   const char *message)
{
	struct net_filter f;
	struct error err;
	assert_int_equal(net_filter_compile(&f, allow, deny, &err), -EINVAL);
	assert_int_equal(err.kind, ERR_INVALID_ARGUMENT);
	if (!strstr(err.message, message))
		fail_msg("\"%s\" does not say \"%s\"", err.message, message);
	assert_null(f.rules);
}

static void test_refused_patterns(void **state)
{
	(void)state;
	const char *bad[] = { "ok", "(", NULL };
	assert_refused(bad, NULL,
		       "options.networkFilter.whitelist[1] \"(\", at offset 1: "
		       "missing closing parenthesis");
	const char *bomb[] = { "((((a{1,20}){1,20}){1,20}){1,20}){1,20}",
			       NULL };
	assert_refused(
		NULL, bomb,
		"options.networkFilter.blacklist[0] "
		"\"((((a{1,20}){1,20}){1,20}){1,20}){1,20}\", at offset 39: "
		"regular expression is too large");

	char deep[3 * (NET_PATTERN_MAX_NESTING + 1) + 1] = "";
	for (int i = 0; i <= NET_PATTERN_MAX_NESTING; i++)
		strcat(deep, "(");
	strcat(deep, "a");
	for (int i = 0; i <= NET_PATTERN_MAX_NESTING; i++)
		strcat(deep, ")");
	const char *nested[] = { "a", "b", deep, NULL };
	assert_refused(NULL, nested,
		       ", at offset 33: "
		       "parentheses are too deeply nested (the limit is 32)");

	char lng[NET_PATTERN_MAX_LENGTH + 2];
	memset(lng, 'a', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	const char *longer[] = { lng, NULL };
	assert_refused(
		longer, NULL,
		"options.networkFilter.whitelist[0] \"aaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\": the pattern is "
		"1025 bytes long, more than the limit of 1024");
	lng[NET_PATTERN_MAX_LENGTH] = '\0';
	struct net_filter f;
	struct error err;
	assert_int_equal(net_filter_compile(&f, longer, NULL, &err), 0);
	net_filter_free(&f);

	const char *many[NET_FILTER_MAX_PATTERNS + 2];
	for (size_t i = 0; i <= NET_FILTER_MAX_PATTERNS; i++)
		many[i] = "x";
	many[NET_FILTER_MAX_PATTERNS + 1] = NULL;
	assert_refused(NULL, many,
		       "options.networkFilter.blacklist: 33 patterns, more "
		       "than the limit of 32");
	many[NET_FILTER_MAX_PATTERNS] = NULL;
	assert_int_equal(net_filter_compile(&f, many, many, &err), 0);
	net_filter_free(&f);

	const char *invalid_utf8[] = { "caf\xc3", NULL };
	assert_refused(invalid_utf8, NULL,
		       "options.networkFilter.whitelist[0], at offset 3: ");

	assert_int_equal(
		net_pattern_check("network.registry.python", "a)", &err),
		-EINVAL);
	assert_string_equal(
		err.message,
		"network.registry.python \"a)\", at offset 1: unmatched "
		"closing parenthesis");
	assert_int_equal(net_pattern_check("x", "^pypi\\.org$", &err), 0);
}

/* Patterns that could run for ages on a long host give up at the match
 * limits, and the host is blocked. */
static void test_limits_fail_closed(void **state)
{
	(void)state;
	char host[254];
	memset(host, 'a', 252);
	strcpy(host + 252, "b");
	struct net_filter f;
	struct error err;
	const char *crash[] = { "(|)(\\1\\1)*", NULL };
	assert_int_equal(net_filter_compile(&f, NULL, crash, &err), 0);
	assert_false(net_filter_allows(&f, "example.com"));
	net_filter_free(&f);

	const char *stall[] = { "(*NO_START_OPT)((a*)*)*\\2\\1x", "^(a|a)+$",
				NULL };
	for (size_t i = 0; stall[i]; i++) {
		const char *one[] = { stall[i], NULL };
		assert_int_equal(net_filter_compile(&f, NULL, one, &err), 0);
		assert_false(net_filter_allows(&f, host));
		assert_true(net_filter_allows(&f, "pypi.org"));
		net_filter_free(&f);
		/* As a whitelist pattern it gives up as no match... */
		assert_int_equal(net_filter_compile(&f, one, NULL, &err), 0);
		assert_false(net_filter_allows(&f, host));
		net_filter_free(&f);
		/* ...and another pattern that matches still allows. */
		const char *two[] = { stall[i], "a+b$", NULL };
		assert_int_equal(net_filter_compile(&f, two, NULL, &err), 0);
		assert_true(net_filter_allows(&f, host));
		net_filter_free(&f);
	}
	/* A host that is not UTF-8 cannot be matched: blocked too. */
	const char *any[] = { "zzz", NULL };
	assert_int_equal(net_filter_compile(&f, NULL, any, &err), 0);
	assert_false(net_filter_allows(&f, "caf\xc3.com"));
	assert_true(net_filter_allows(&f, "cafe.com"));
	net_filter_free(&f);
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
		cmocka_unit_test(test_js_syntax),
		cmocka_unit_test(test_refused_patterns),
		cmocka_unit_test(test_limits_fail_closed),
		cmocka_unit_test(test_private_ranges),
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_canonical_hosts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
