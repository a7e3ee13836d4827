#include "rpc_call.h"

#include "cleanup.h"
#include "format.h"

#include <stdio.h>
#include <stdlib.h>

void rpc_calls_add(struct rpc_calls *l, struct rpc_call *call)
{
	call->list = l;
	call->prev = NULL;
	call->next = l->first;
	if (l->first)
		l->first->prev = call;
	l->first = call;
	l->count++;
}

void rpc_calls_cancel(struct rpc_calls *l)
{
	/* Detach first: cancel handlers end their calls, and those must not
	 * come back into the client. */
	struct rpc_call *calls = l->first;
	l->first = NULL;
	l->count = 0;
	for (struct rpc_call *call = calls; call; call = call->next) {
		call->sink = NULL;
		call->list = NULL;
	}
	while (calls) {
		struct rpc_call *call = calls;
		calls = call->next;
		call->next = call->prev = NULL;
		if (call->cancel)
			call->cancel(call);
	}
}

static void call_free(struct rpc_call *call)
{
	json_object_put(call->root);
	caller_clear(&call->caller);
	free(call);
}

/* Drops a call from its client's list. */
static void unlink_call(struct rpc_call *call)
{
	struct rpc_calls *l = call->list;
	if (call->prev)
		call->prev->next = call->next;
	else
		l->first = call->next;
	if (call->next)
		call->next->prev = call->prev;
	l->count--;
}

/* Sends msg (when there is a client and the request wanted an answer) and
 * ends the call. */
static void finish(struct rpc_call *call, json_object *msg)
{
	const struct rpc_sink *sink = call->sink;
	if (sink && call->has_id)
		sink->send(sink->ctx, msg);
	json_object_put(msg);
	if (sink) {
		unlink_call(call);
		sink->ended(sink->ctx);
	}
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
	FORMAT_ARGS(msg, fmt);
	finish(call,
	       rpc_make_error(call->id, error_kind_code(kind), kind, msg));
}

void rpc_stream_event(struct rpc_call *call, json_object *params)
{
	if (!call->sink || !call->stream || !call->has_id) {
		json_object_put(params);
		return;
	}
	json_object_object_add(params, "id", json_object_get(call->id));
	_cleanup_json_ json_object *n = rpc_make_notification("stream", params);
	call->sink->send(call->sink->ctx, n);
}
