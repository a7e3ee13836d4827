#include "http_ready.h"

#include "cleanup.h"
#include "http_reply.h"
#include "json_field.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static atomic_bool draining;
static atomic_uint in_flight;

void http_ready_drain(void)
{
	if (!atomic_exchange(&draining, true))
		fprintf(stderr, "[INFO] Draining: new work is refused, "
				"sessions already here are served\n");
}

void http_ready_request_begin(void)
{
	atomic_fetch_add(&in_flight, 1);
}

void http_ready_request_end(void)
{
	atomic_fetch_sub(&in_flight, 1);
}

unsigned http_ready_in_flight(void)
{
	return atomic_load(&in_flight);
}

static enum MHD_Result reply_state(struct http_request *r, unsigned status,
				   const char *state)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(state));
	return http_reply_json(r, status, o);
}

/* The daemon's health, or NULL when it cannot be asked. */
static json_object *daemon_health(const struct bridge *b)
{
	struct rpc_client c;
	if (rpc_client_connect(&c, b->socket_path) < 0)
		return NULL;
	c.act_as = NULL;
	json_object *result = NULL, *error = NULL;
	int err = rpc_client_call(&c, "health", NULL, NULL, NULL, &result,
				  &error);
	rpc_client_close(&c);
	json_object_put(error);
	return err < 0 ? NULL : result;
}

/* The status of a node that takes no new work: 503, or 404 when the
 * balancer asks (HAProxy's disable-on-404 drains such a server instead of
 * taking it out, so its sessions still reach it); 0 after a 400. */
static unsigned unavailable_status(struct http_request *r)
{
	const char *v = MHD_lookup_connection_value(
		r->conn, MHD_GET_ARGUMENT_KIND, "unavailableStatus");
	if (!v || strcmp(v, "503") == 0)
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	if (strcmp(v, "404") == 0)
		return MHD_HTTP_NOT_FOUND;
	http_reply_error(r, MHD_HTTP_BAD_REQUEST,
			 "Invalid unavailableStatus: expected 404 or 503");
	return 0;
}

enum MHD_Result http_ready(struct http_request *r, const char *arg)
{
	(void)arg;
	unsigned unavailable = unavailable_status(r);
	if (!unavailable)
		return r->ret;
	if (atomic_load(&draining))
		return reply_state(r, unavailable, "draining");
	_cleanup_json_ json_object *health = daemon_health(r->bridge);
	json_object *cap = json_field(health, "capacity");
	if (!cap || !json_object_is_type(cap, json_type_object))
		return reply_state(r, unavailable, "unreachable");
	if (json_object_get_boolean(json_field(cap, "stopping")))
		return reply_state(r, unavailable, "draining");
	int64_t running = json_field_int(cap, "executions"),
		max = json_field_int(cap, "maxConcurrent");
	int64_t left = max > running ? max - running : 0;
	json_object *c = json_object_new_object();
	json_object_object_add(c, "executions", json_object_new_int64(running));
	json_object_object_add(c, "maxConcurrent", json_object_new_int64(max));
	json_object_object_add(c, "left", json_object_new_int64(left));
	json_object_object_add(
		c, "sessions",
		json_object_new_int64(json_field_int(cap, "sessions")));
	json_object_object_add(
		c, "maxSessions",
		json_object_new_int64(json_field_int(cap, "maxSessions")));
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status",
			       json_object_new_string(left ? "ready" : "full"));
	json_object *pool = json_object_new_object();
	json_object_object_add(
		pool, "ready",
		json_object_new_int64(json_field_int(cap, "poolReady")));
	json_object_object_add(o, "pool", pool);
	json_object_object_add(o, "capacity", c);
	return http_reply_json(r, left ? MHD_HTTP_OK : unavailable, o);
}

enum MHD_Result http_admin_drain(struct http_request *r, const char *arg)
{
	(void)arg;
	if (!r->master)
		return http_reply_error(r, MHD_HTTP_FORBIDDEN,
					"Master key required for this "
					"operation");
	http_ready_drain();
	return reply_state(r, MHD_HTTP_OK, "draining");
}

/* Whether the daemon has session id for r's caller. */
static bool session_here(struct http_request *r, const char *id)
{
	struct rpc_client c;
	if (rpc_client_connect(&c, r->bridge->socket_path) < 0)
		return false;
	c.act_as = r->act_as;
	json_object *p = json_object_new_object();
	json_object_object_add(p, "sessionId", json_object_new_string(id));
	json_object *result = NULL, *error = NULL;
	int err = rpc_client_call(&c, "session.get", p, NULL, NULL, &result,
				  &error);
	rpc_client_close(&c);
	json_object_put(error);
	json_object_put(result);
	return err >= 0 && result;
}

/* Set by the shipped HAProxy configuration on a body it could not read a
 * sessionId from (larger than its buffer), which it then sent to any node:
 * such a request may only use a session this node has, or none. */
#define UNROUTED_HEADER "X-Isol8-Unrouted"

bool http_ready_admit(struct http_request *r, json_object *params)
{
	bool drain = atomic_load(&draining);
	bool unrouted = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						    UNROUTED_HEADER) != NULL;
	json_object *sid = params ? json_field(params, "sessionId") : NULL;
	const char *id = sid && json_object_is_type(sid, json_type_string)
				 ? json_object_get_string(sid)
				 : NULL;
	if (!drain && (!unrouted || !id))
		return true;
	if (id && session_here(r, id))
		return true;
	if (drain)
		http_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				 "This node is draining: it serves only "
				 "sessions it already has; send new work to "
				 "another node");
	else
		http_reply_error(
			r, MHD_HTTP_MISDIRECTED_REQUEST,
			"The load balancer could not read this request's "
			"sessionId (the body is larger than its buffer) and "
			"this node does not have the session; raise HAProxy's "
			"tune.bufsize or send a smaller request first");
	return false;
}
