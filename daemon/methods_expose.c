/* session.expose, session.unexpose, session.exposed: a session's ports
 * reachable through the HTTP bridge; session.connect: the bridge's
 * connection for a token (expose.h). */
#include "methods.h"

#include "daemon.h"
#include "expose.h"
#include "rpc_call.h"
#include "sandbox/box.h"
#include "session.h"

#include <string.h>

static const char *const port_keys[] = { "sessionId", "port", NULL };
static const char *const list_keys[] = { "sessionId", NULL };

/* params.port, 1 to 65535, or 0 after answering. */
static unsigned params_port(struct rpc_call *call)
{
	json_object *v = NULL;
	int64_t port = 0;
	if (json_object_object_get_ex(call->params, "port", &v) &&
	    json_object_is_type(v, json_type_int))
		port = json_object_get_int64(v);
	if (port < 1 || port > 65535) {
		rpc_reply_error(call, ERR_INVALID_ARGUMENT,
				"params.port: a TCP port number from 1 to "
				"65535 is required, got %s",
				v ? json_object_to_json_string(v) : "none");
		return 0;
	}
	return (unsigned)port;
}

static void reply(struct rpc_call *call, int r, json_object *out,
		  const struct error *e)
{
	if (r < 0)
		rpc_reply_error(call, e->kind, "%s", e->message);
	else
		rpc_reply(call, out);
}

/* {sessionId, port}: the caller's session and the port, or NULL after
 * answering. */
static struct session *params_session_port(struct rpc_call *call,
					   unsigned *port)
{
	struct session *s = params_session(call, port_keys);
	if (s && !(*port = params_port(call)))
		return NULL;
	return s;
}

void method_session_expose(struct rpc_call *call)
{
	unsigned port;
	struct session *s = params_session_port(call, &port);
	if (!s)
		return;
	/* The host's loopback is no box's to publish. */
	if (box_host_network(session_box(s))) {
		rpc_reply_error(call, ERR_UNSUPPORTED,
				"Session %s uses the host's network: its "
				"loopback is the host's, which is not exposed",
				session_id(s));
		return;
	}
	json_object *out = NULL;
	struct error e;
	const struct expose_session es = { .s = s,
					   .id = session_id(s),
					   .owner = session_tenant(s) };
	int r = expose_add(call->daemon->exposures, &es, &call->caller, port,
			   &out, &e);
	reply(call, r, out, &e);
}

void method_session_unexpose(struct rpc_call *call)
{
	unsigned port;
	struct session *s = params_session_port(call, &port);
	if (!s)
		return;
	json_object *out = NULL;
	struct error e;
	int r = expose_remove(call->daemon->exposures, s, port, &out, &e);
	reply(call, r, out, &e);
}

void method_session_exposed(struct rpc_call *call)
{
	struct session *s = params_session(call, list_keys);
	if (!s)
		return;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "sessionId",
			       json_object_new_string(session_id(s)));
	json_object_object_add(o, "exposed",
			       expose_list_json(call->daemon->exposures, s));
	rpc_reply(call, o);
}

void method_session_connect(struct rpc_call *call)
{
	json_object *p = call->params, *token = NULL;
	if (!p || !json_object_is_type(p, json_type_object)) {
		rpc_reply_error(call, ERR_INVALID_ARGUMENT,
				"params: an object is required");
		return;
	}
	json_object_object_foreach(p, key, val)
	{
		(void)val;
		if (strcmp(key, "token") != 0) {
			rpc_reply_error(call, ERR_INVALID_ARGUMENT,
					"params.%s: unknown field", key);
			return;
		}
	}
	if (!json_object_object_get_ex(p, "token", &token) ||
	    !json_object_is_type(token, json_type_string)) {
		rpc_reply_error(call, ERR_INVALID_ARGUMENT,
				"params.token: a string is required");
		return;
	}
	struct exposure *x = expose_find(call->daemon->exposures,
					 json_object_get_string(token));
	if (!x) {
		rpc_reply_error(call, ERR_NOT_FOUND, "No such exposed port");
		return;
	}
	struct session *s = expose_session_of(x);
	if (session_paused(s)) {
		rpc_reply_error(call, ERR_CONFLICT,
				"Session %s is paused; resume it first",
				session_id(s));
		return;
	}
	/* A request to its service is use of the session. */
	session_touch(s);
	expose_connect(x, session_box(s), call);
}
