#include "rpc.h"

#include "cleanup.h"
#include "daemon.h"
#include "json_field.h"
#include "log.h"
#include "methods.h"
#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void send_error(const struct rpc_sink *sink, json_object *id, int code,
		       enum error_kind kind, const char *msg)
{
	_cleanup_json_ json_object *e = rpc_make_error(id, code, kind, msg);
	struct error why;
	if (sink->send(sink->ctx, e, &why) < 0)
		log_errno(LOG_ERR, why.err, "cannot send an error: %s",
			  why.message);
}

static void log_request(const struct ucred *peer, const char *method, int prio)
{
	if (!log_enabled(prio))
		return;
	char uid[32], pid[32], m[96];
	snprintf(uid, sizeof(uid), "PEER_UID=%u", (unsigned)peer->uid);
	snprintf(pid, sizeof(pid), "PEER_PID=%d", (int)peer->pid);
	snprintf(m, sizeof(m), "RPC_METHOD=%.80s", method);
	const char *const fields[] = { uid, pid, m, NULL };
	log_fields(prio, fields, "request %s from uid %u pid %d", method,
		   (unsigned)peer->uid, (int)peer->pid);
}

/* Contents, which may be any bytes; every other string names something
 * (a path, a variable, a session) or goes where C text does, and a NUL
 * would cut it short.  Refused here, once for every method. */
static const char *const binary_fields[] = { "request.stdin", "request.files",
					     "request.metadata", NULL };

/* Answers a request that has a NUL where one may not be; true then. */
static bool refuse_nul(const struct rpc_sink *sink, struct rpc_request *req)
{
	char path[256];
	if (!json_find_nul(req->params, binary_fields, path, sizeof(path)))
		return false;
	if (req->has_id) {
		char msg[320];
		snprintf(msg, sizeof(msg),
			 "params.%.*s: must not contain a NUL character "
			 "(\\u0000)",
			 (int)utf8_prefix(path, 200), path);
		send_error(sink, req->id, RPC_INVALID_PARAMS,
			   ERR_INVALID_ARGUMENT, msg);
	}
	json_object_put(req->root);
	return true;
}

void rpc_handle(struct daemon *d, const struct ucred *peer,
		const struct peer_identity *id, const struct rpc_sink *sink,
		struct rpc_calls *calls, const char *body, size_t len)
{
	struct rpc_request req;
	struct rpc_error err;
	_cleanup_json_ json_object *bad_root = NULL;

	if (rpc_parse_request(body, len, &req, &err, &bad_root) < 0) {
		send_error(sink, err.id, err.code, err.kind, err.message);
		return;
	}
	const struct rpc_method *m = req.method_len == strlen(req.method)
					     ? method_find(req.method)
					     : NULL;
	log_request(peer, req.method, m && m->quiet ? LOG_DEBUG : LOG_INFO);
	if (!m) {
		if (req.has_id) {
			char msg[160];
			snprintf(msg, sizeof(msg), "Method not found: \"%.*s\"",
				 (int)utf8_prefix(req.method, 100), req.method);
			send_error(sink, req.id, RPC_METHOD_NOT_FOUND,
				   ERR_NOT_FOUND, msg);
		}
		json_object_put(req.root);
		return;
	}
	if (refuse_nul(sink, &req))
		return;
	struct rpc_call *call = calloc(1, sizeof(*call));
	if (!call) {
		send_error(sink, req.id, RPC_INTERNAL_ERROR, ERR_INTERNAL,
			   "out of memory");
		json_object_put(req.root);
		return;
	}
	json_object *stream = NULL;
	if ((json_object_object_get_ex(req.params, "stream", &stream) ||
	     json_object_object_get_ex(req.root, "stream", &stream)) &&
	    !json_object_is_type(stream, json_type_boolean)) {
		send_error(sink, req.id, RPC_INVALID_PARAMS,
			   ERR_INVALID_ARGUMENT,
			   "Invalid params: \"stream\" must be true or false");
		json_object_put(req.root);
		free(call);
		return;
	}
	json_object *act_as = NULL;
	json_object_object_get_ex(req.root, "actAs", &act_as);
	struct error err_act;
	if (tenant_caller(&d->tenants, id, act_as, &call->caller, &err_act) <
	    0) {
		send_error(sink, req.id, error_kind_code(err_act.kind),
			   err_act.kind, err_act.message);
		json_object_put(req.root);
		free(call);
		return;
	}
	call->daemon = d;
	call->sink = sink;
	call->root = req.root;
	call->id = req.id;
	call->has_id = req.has_id;
	call->method = req.method;
	call->params = req.params;
	call->stream = stream && json_object_get_boolean(stream);
	call->peer_pid = peer->pid;
	call->peer_uid = peer->uid;
	rpc_calls_add(calls, call);
	m->handler(call);
}
