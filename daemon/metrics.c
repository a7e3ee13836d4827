#include "metrics.h"

static const uint64_t bounds[METRICS_BOUNDS] = { 5,	10,    25,   50,   100,
						 250,	500,   1000, 2500, 5000,
						 10000, 30000, 60000 };

static const char *const outcome_names[METRICS_OUTCOMES] = { "ok", "error",
							     "timeout", "oom",
							     "failed" };

const char *metrics_outcome_name(enum metrics_outcome o)
{
	return outcome_names[o];
}

static bool flag(json_object *result, const char *name)
{
	json_object *v = NULL;
	return json_object_object_get_ex(result, name, &v) &&
	       json_object_get_boolean(v);
}

/* The result's own flags, so that the counts agree with what clients saw. */
enum metrics_outcome metrics_outcome_of(json_object *result)
{
	if (flag(result, "timedOut"))
		return METRICS_TIMEOUT;
	if (flag(result, "oomKilled"))
		return METRICS_OOM;
	json_object *code = NULL;
	json_object_object_get_ex(result, "exitCode", &code);
	return json_object_get_int(code) == 0 ? METRICS_OK : METRICS_ERROR;
}

void metrics_execution(struct metrics *m, const struct runtime *rt,
		       enum metrics_outcome o, uint64_t duration_ms)
{
	m->executions[runtime_index(rt)][o]++;
	if (o == METRICS_FAILED)
		return;
	for (size_t i = 0; i < METRICS_BOUNDS; i++)
		if (duration_ms <= bounds[i])
			m->buckets[i]++;
	m->results++;
	m->result_ms += duration_ms;
}

void metrics_proxy_decision(struct metrics *m, bool allowed)
{
	if (allowed)
		m->proxy_allow++;
	else
		m->proxy_block++;
}

static json_object *u64(uint64_t v)
{
	return json_object_new_int64((int64_t)v);
}

static json_object *pair(const char *a, uint64_t va, const char *b, uint64_t vb)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, a, u64(va));
	json_object_object_add(o, b, u64(vb));
	return o;
}

/* One entry per (runtime, outcome) seen, in table order. */
static json_object *executions_json(const struct metrics *m)
{
	json_object *a = json_object_new_array();
	for (size_t r = 0; r < RUNTIME_COUNT; r++)
		for (size_t o = 0; o < METRICS_OUTCOMES; o++) {
			if (!m->executions[r][o])
				continue;
			json_object *e = json_object_new_object();
			json_object_object_add(
				e, "runtime",
				json_object_new_string(runtime_at(r)->name));
			json_object_object_add(
				e, "outcome",
				json_object_new_string(outcome_names[o]));
			json_object_object_add(e, "count",
					       u64(m->executions[r][o]));
			json_object_array_add(a, e);
		}
	return a;
}

static json_object *duration_json(const struct metrics *m)
{
	json_object *b = json_object_new_array();
	json_object *c = json_object_new_array();
	for (size_t i = 0; i < METRICS_BOUNDS; i++) {
		json_object_array_add(b, u64(bounds[i]));
		json_object_array_add(c, u64(m->buckets[i]));
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "bounds", b);
	json_object_object_add(o, "buckets", c);
	json_object_object_add(o, "count", u64(m->results));
	json_object_object_add(o, "sum", u64(m->result_ms));
	return o;
}

json_object *metrics_to_json(const struct metrics *m,
			     const struct metrics_gauges *g)
{
	json_object *r = json_object_new_object();
	json_object_object_add(r, "executions", executions_json(m));
	json_object_object_add(r, "durationMs", duration_json(m));
	json_object_object_add(
		r, "pool",
		pair("ready", g->pool_ready, "inUse", g->pool_in_use));
	json_object_object_add(
		r, "sessions",
		pair("total", g->sessions, "active", g->sessions_active));
	json_object_object_add(
		r, "proxyRequests",
		pair("allow", m->proxy_allow, "block", m->proxy_block));
	return r;
}
