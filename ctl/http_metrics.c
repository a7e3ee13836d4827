/* GET /metrics: the daemon's `metrics` answer in Prometheus' text format. */
#include "http_metrics.h"

#include "cleanup.h"
#include "http_bridge.h"
#include "http_reply.h"
#include "json_field.h"

#include <stdio.h>

static long long count_of(json_object *o, const char *key)
{
	return (long long)json_field_int(o, key);
}

static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void executions(FILE *f, json_object *list)
{
	family(f, "isol8_executions_total", "counter",
	       "Executions finished, by runtime and outcome "
	       "(ok, error, timeout, oom, failed).");
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *e = json_object_array_get_idx(list, i);
		fprintf(f,
			"isol8_executions_total{runtime=\"%s\",outcome=\"%s\"} "
			"%lld\n",
			json_object_get_string(json_field(e, "runtime")),
			json_object_get_string(json_field(e, "outcome")),
			count_of(e, "count"));
	}
}

static void durations(FILE *f, json_object *h)
{
	static const char name[] = "isol8_execution_duration_seconds";
	family(f, name, "histogram",
	       "Wall-clock time of executions that produced a result.");
	json_object *bounds = json_field(h, "bounds"),
		    *buckets = json_field(h, "buckets");
	for (size_t i = 0; i < json_object_array_length(bounds); i++)
		fprintf(f, "%s_bucket{le=\"%g\"} %lld\n", name,
			json_object_get_double(
				json_object_array_get_idx(bounds, i)) /
				1000,
			(long long)json_object_get_int64(
				json_object_array_get_idx(buckets, i)));
	fprintf(f, "%s_bucket{le=\"+Inf\"} %lld\n", name, count_of(h, "count"));
	fprintf(f, "%s_sum %.3f\n", name,
		json_object_get_double(json_field(h, "sum")) / 1000);
	fprintf(f, "%s_count %lld\n", name, count_of(h, "count"));
}

/* A family of one unlabelled sample. */
static void single(FILE *f, const char *name, const char *type,
		   const char *help, long long value)
{
	family(f, name, type, help);
	fprintf(f, "%s %lld\n", name, value);
}

static void gauge(FILE *f, const char *name, const char *help, long long value)
{
	single(f, name, "gauge", help, value);
}

/* A counter of two samples, label=a and label=b. */
static void split_counter(FILE *f, const char *name, const char *help,
			  const char *label, const char *a, long long va,
			  const char *b, long long vb)
{
	family(f, name, "counter", help);
	fprintf(f, "%s{%s=\"%s\"} %lld\n", name, label, a, va);
	fprintf(f, "%s{%s=\"%s\"} %lld\n", name, label, b, vb);
}

/* Sessions' exposed ports (session.expose) and what went through them. */
static void exposed(FILE *f, json_object *x)
{
	gauge(f, "isol8_exposed_ports", "Ports of sessions exposed now.",
	      count_of(x, "ports"));
	gauge(f, "isol8_exposed_connections_open",
	      "Connections relayed into boxes now.",
	      count_of(x, "openConnections"));
	single(f, "isol8_exposed_connections_total", "counter",
	       "Connections made to exposed ports.",
	       count_of(x, "connections"));
	single(f, "isol8_exposed_refused_total", "counter",
	       "Requests for exposed ports whose token matched none.",
	       count_of(x, "refused"));
	split_counter(f, "isol8_exposed_bytes_total",
		      "Bytes through exposed ports, into the boxes (in) and "
		      "out.",
		      "direction", "in", count_of(x, "bytesIn"), "out",
		      count_of(x, "bytesOut"));
}

static void render(FILE *f, json_object *m)
{
	executions(f, json_field(m, "executions"));
	durations(f, json_field(m, "durationMs"));
	json_object *pool = json_field(m, "pool"),
		    *sessions = json_field(m, "sessions"),
		    *proxy = json_field(m, "proxyRequests");
	gauge(f, "isol8_pool_ready", "Boxes ready in the warm pool.",
	      count_of(pool, "ready"));
	gauge(f, "isol8_pool_in_use",
	      "Boxes that hold an execution or a session.",
	      count_of(pool, "inUse"));
	gauge(f, "isol8_sessions", "Persistent sessions.",
	      count_of(sessions, "total"));
	gauge(f, "isol8_sessions_active", "Sessions with an execution running.",
	      count_of(sessions, "active"));
	split_counter(f, "isol8_proxy_requests_total",
		      "Requests the filtering proxy decided, by action.",
		      "action", "allow", count_of(proxy, "allow"), "block",
		      count_of(proxy, "block"));
	exposed(f, json_field(m, "exposed"));
}

enum MHD_Result http_metrics(struct http_request *r)
{
	_cleanup_json_ json_object *m = bridge_call(r, "metrics", NULL);
	if (!m)
		return r->ret;
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return MHD_NO;
	render(f, m);
	if (fclose(f) != 0)
		return MHD_NO;
	return http_reply_bytes(r, MHD_HTTP_OK,
				"text/plain; version=0.0.4; charset=utf-8",
				text, len, NULL);
}
