#include "rpc_call.h"

#include "cleanup.h"
#include "format.h"
#include "log.h"
#include "size.h"

#include <errno.h>

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
 * ends the call.  A reply that cannot be sent becomes an error reply, so
 * the client always learns how its request ended. */
static void finish(struct rpc_call *call, json_object *msg)
{
	const struct rpc_sink *sink = call->sink;
	struct error e;
	if (sink && call->has_id && sink->send(sink->ctx, msg, &e) < 0) {
		_cleanup_json_ json_object *err = rpc_make_error(
			call->id, error_kind_code(e.kind), e.kind, e.message);
		if (sink->send(sink->ctx, err, &e) < 0)
			log_errno(LOG_ERR, e.err, "cannot answer a %s request",
				  call->method);
	}
	json_object_put(msg);
	if (sink) {
		unlink_call(call);
		sink->ended(sink->ctx);
	}
	call_free(call);
}

int rpc_too_large(struct error *e, uint64_t size, uint64_t max)
{
	char limit[24];
	size_format(limit, sizeof(limit), max);
	return error_set(e, ERR_INVALID_ARGUMENT, EMSGSIZE,
			 "The result is too large to send: %llu bytes, above "
			 "the administrator's ceiling limits.resultBytes "
			 "(%s); ask for less output (options.maxOutputSize) "
			 "or fewer and smaller files",
			 (unsigned long long)size, limit);
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
	struct error e;
	/* A notification lost is not the end of the call; its reply tells. */
	if (call->sink->send(call->sink->ctx, n, &e) < 0)
		log_warn("a stream notification was not sent: %s", e.message);
}

int rpc_stream_fd(struct rpc_call *call, json_object *params, int fd,
		  struct error *e)
{
	if (!call->sink || !call->has_id || !call->sink->send_fd) {
		json_object_put(params);
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "This call needs an id and a connection that "
				 "takes descriptors");
	}
	json_object_object_add(params, "id", json_object_get(call->id));
	_cleanup_json_ json_object *n = rpc_make_notification("stream", params);
	return call->sink->send_fd(call->sink->ctx, n, fd, e);
}
