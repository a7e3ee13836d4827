#include "rpc.h"

#include "cleanup.h"
#include "connection.h"
#include "execution.h"
#include "methods.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct rpc_method methods[] = {
	{ "health", method_health, true },
	{ "version", method_version, true },
	{ "config.get", method_config_get, true },
	{ "pool.status", method_pool_status, true },
	{ "metrics", method_metrics, true },
	{ "execute", method_execute, false },
	{ "session.create", method_session_create, false },
	{ "session.list", method_session_list, true },
	{ "session.get", method_session_get, true },
	{ "session.delete", method_session_delete, false },
	{ "session.set_timeout", method_session_set_timeout, false },
	{ "file.put", method_file_put, false },
	{ "file.get", method_file_get, false },
};

const struct rpc_method *rpc_find_method(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(methods); i++)
		if (strcmp(methods[i].name, name) == 0)
			return &methods[i];
	return NULL;
}

static void call_free(struct rpc_call *call)
{
	json_object_put(call->root);
	free(call);
}

/* Sends msg (when there is a client and the request wanted an answer) and
 * ends the call. */
static void finish(struct rpc_call *call, json_object *msg)
{
	struct connection *conn = call->conn;
	if (conn && call->has_id)
		connection_send(conn, msg);
	json_object_put(msg);
	if (conn)
		connection_call_done(conn, call);
	call_free(call);
}

void rpc_reply(struct rpc_call *call, json_object *result)
{
	finish(call, rpc_make_result(call->id, result));
}

void rpc_reply_error(struct rpc_call *call, enum error_kind kind,
		     const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	finish(call, rpc_make_error(call->id, error_kind_code(kind), kind, msg));
}

void rpc_stream_event(struct rpc_call *call, json_object *params)
{
	if (!call->conn || !call->stream || !call->has_id) {
		json_object_put(params);
		return;
	}
	json_object_object_add(params, "id", json_object_get(call->id));
	_cleanup_json_ json_object *n = rpc_make_notification("stream", params);
	connection_send(call->conn, n);
}
