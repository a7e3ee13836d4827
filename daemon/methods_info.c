/* health, version, config.get, pool.status and metrics: read-only views
 * of the daemon. */
#include "audit.h"
#include "daemon.h"
#include "expose.h"
#include "image_autobuild.h"
#include "methods.h"
#include "metrics.h"
#include "pool.h"
#include "rpc_call.h"
#include "session.h"
#include "version.h"

#include <time.h>

/* What a load balancer in front of the bridge needs (its /ready):
 * executions against maxConcurrent, sessions against maxSessions, warm
 * boxes, and whether the daemon is stopping. */
static json_object *capacity_json(const struct daemon *d)
{
	unsigned ready = 0, held = 0;
	if (d->pool)
		pool_counts(d->pool, &ready, &held);
	json_object *c = json_object_new_object();
	json_object_object_add(c, "executions",
			       json_object_new_int64(d->executions));
	json_object_object_add(
		c, "maxConcurrent",
		json_object_new_int64((int64_t)d->cfg.max_concurrent));
	json_object_object_add(
		c, "sessions",
		json_object_new_int64(d->sessions ? sessions_count(d->sessions)
						  : 0));
	json_object_object_add(
		c, "maxSessions",
		json_object_new_int64((int64_t)d->cfg.max_sessions));
	json_object_object_add(c, "poolReady", json_object_new_int64(ready));
	json_object_object_add(c, "stopping",
			       json_object_new_boolean(!d->pool));
	return c;
}

void method_health(struct rpc_call *call)
{
	struct daemon *d = call->daemon;
	uint64_t now = 0;
	sd_event_now(d->event, CLOCK_MONOTONIC, &now);
	json_object *r = json_object_new_object();
	/* "ok" while serving, as isol8's; a failing audit trail shows in
	 * its own member. */
	json_object_object_add(r, "status", json_object_new_string("ok"));
	json_object_object_add(r, "version",
			       json_object_new_string(ISOL8_VERSION));
	json_object_object_add(
		r, "uptimeMs",
		json_object_new_int64((int64_t)((now - d->start_usec) / 1000)));
	json_object_object_add(r, "cgroupMode",
			       json_object_new_string(cgroup_mode_name(
				       d->features.cgroup_mode)));
	json_object_object_add(r, "features",
			       json_object_get(d->features_json));
	json_object_object_add(r, "connections",
			       json_object_new_int64((int64_t)d->connections));
	json_object_object_add(r, "audit", audit_status_json(d->audit));
	json_object_object_add(r, "capacity", capacity_json(d));
	json_object_object_add(r, "images",
			       image_autobuild_status(d->autobuild));
	rpc_reply(call, r);
}

void method_version(struct rpc_call *call)
{
	json_object *r = json_object_new_object();
	json_object_object_add(r, "version",
			       json_object_new_string(ISOL8_VERSION));
	json_object_object_add(r, "protocol", json_object_new_int(1));
	rpc_reply(call, r);
}

void method_config_get(struct rpc_call *call)
{
	rpc_reply(call, config_to_json(&call->daemon->cfg));
}

void method_pool_status(struct rpc_call *call)
{
	const struct daemon *d = call->daemon;
	if (!d->pool) {
		rpc_reply_error(call, ERR_BUSY, "the daemon is stopping");
		return;
	}
	rpc_reply(call, pool_status(d->pool));
}

/* Answers while stopping too: the counters stay true, the gauges fall to
 * what is left. */
void method_metrics(struct rpc_call *call)
{
	const struct daemon *d = call->daemon;
	struct metrics_gauges g = { 0 };
	unsigned pooled = 0;
	if (d->pool)
		pool_counts(d->pool, &g.pool_ready, &pooled);
	/* Every live box is pooled, held, or going. */
	g.pool_in_use = d->boxes.live - d->boxes.dying - pooled;
	if (d->sessions) {
		g.sessions = sessions_count(d->sessions);
		g.sessions_active = sessions_active(d->sessions);
	}
	json_object *m = metrics_to_json(&d->metrics, &g);
	json_object_object_add(m, "audit", audit_status_json(d->audit));
	json_object_object_add(m, "exposed",
			       exposures_metrics_json(d->exposures));
	rpc_reply(call, m);
}
