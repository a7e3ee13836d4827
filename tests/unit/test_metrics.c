/* The metrics counters without a daemon: outcomes read from results, the
 * cumulative histogram, and the method's result. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cleanup.h"
#include "metrics.h"

static enum metrics_outcome outcome_of(const char *text)
{
	_cleanup_json_ json_object *r = json_tokener_parse(text);
	assert_non_null(r);
	return metrics_outcome_of(r);
}

static void test_outcomes(void **state)
{
	(void)state;
	assert_int_equal(outcome_of("{\"exitCode\":0}"), METRICS_OK);
	assert_int_equal(outcome_of("{\"exitCode\":3}"), METRICS_ERROR);
	assert_int_equal(outcome_of("{\"exitCode\":0,\"timedOut\":false}"),
			 METRICS_OK);
	assert_int_equal(
		outcome_of("{\"exitCode\":137,\"signal\":\"SIGKILL\"}"),
		METRICS_ERROR);
	assert_int_equal(outcome_of("{\"exitCode\":137,\"timedOut\":true}"),
			 METRICS_TIMEOUT);
	assert_int_equal(outcome_of("{\"exitCode\":137,\"oomKilled\":true}"),
			 METRICS_OOM);
}

static void test_histogram_and_json(void **state)
{
	(void)state;
	struct metrics m = { 0 };
	const struct runtime *py = runtime_find("python");
	const struct runtime *sh = runtime_find("bash");
	metrics_execution(&m, py, METRICS_OK, 5);
	metrics_execution(&m, py, METRICS_OK, 6);
	metrics_execution(&m, sh, METRICS_TIMEOUT, 60001);
	metrics_execution(&m, sh, METRICS_FAILED, 40);
	metrics_proxy_decision(&m, true);
	metrics_proxy_decision(&m, false);
	metrics_proxy_decision(&m, false);
	const struct metrics_gauges g = { 3, 2, 4, 1 };
	_cleanup_json_ json_object *r = metrics_to_json(&m, &g);
	const char *want =
		"{\"executions\":[{\"runtime\":\"python\",\"outcome\":\"ok\","
		"\"count\":2},{\"runtime\":\"bash\",\"outcome\":\"timeout\","
		"\"count\":1},{\"runtime\":\"bash\",\"outcome\":\"failed\","
		"\"count\":1}],\"durationMs\":{\"bounds\":[5,10,25,50,100,250,"
		"500,1000,2500,5000,10000,30000,60000],\"buckets\":[1,2,2,2,2,"
		"2,2,2,2,2,2,2,2],\"count\":3,\"sum\":60012},\"pool\":{"
		"\"ready\":3,\"inUse\":2},\"sessions\":{\"total\":4,\"active\":"
		"1},\"proxyRequests\":{\"allow\":1,\"block\":2}}";
	assert_string_equal(
		json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN),
		want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outcomes),
		cmocka_unit_test(test_histogram_and_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
