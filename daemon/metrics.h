/* Counters since the daemon started, for the `metrics` method: executions
 * by runtime and outcome, a histogram of their durations, and the filtering
 * proxy's decisions.  The gauges (pool, sessions) are read from their
 * owners when asked. */
#ifndef ISOL8D_METRICS_H
#define ISOL8D_METRICS_H

#include "runtimes/runtimes.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

enum metrics_outcome {
	METRICS_OK,    /* exit code 0 */
	METRICS_ERROR, /* another exit code */
	METRICS_TIMEOUT,
	METRICS_OOM,
	METRICS_FAILED, /* accepted, ended without a result */
	METRICS_OUTCOMES
};

/* How many duration buckets there are (their bounds: metrics.c). */
#define METRICS_BOUNDS 13

struct metrics {
	uint64_t executions[RUNTIME_COUNT][METRICS_OUTCOMES];
	uint64_t buckets[METRICS_BOUNDS]; /* cumulative */
	uint64_t results, result_ms;	  /* count and sum of durations */
	uint64_t proxy_allow, proxy_block;
};

/* What is read now rather than counted. */
struct metrics_gauges {
	unsigned pool_ready, pool_in_use;
	unsigned sessions, sessions_active;
};

/* The outcome an ExecutionResult shows. */
enum metrics_outcome metrics_outcome_of(json_object *result);
/* "ok", "error", "timeout", "oom" or "failed". */
const char *metrics_outcome_name(enum metrics_outcome o);
/* An execution is over; duration_ms counts unless it failed. */
void metrics_execution(struct metrics *m, const struct runtime *rt,
		       enum metrics_outcome o, uint64_t duration_ms);
void metrics_proxy_decision(struct metrics *m, bool allowed);
/* The `metrics` method's result. */
json_object *metrics_to_json(const struct metrics *m,
			     const struct metrics_gauges *g);

#endif
