/* One request in flight: its reply functions and cancellation.  A handler
 * answers at once or keeps the call and answers later from an event; either
 * way exactly one rpc_reply*() ends the call and frees it.  Replies go to
 * the sink of the client that sent the request (its connection), which the
 * call knows only through this interface. */
#ifndef ISOL8D_RPC_CALL_H
#define ISOL8D_RPC_CALL_H

#include "error.h"
#include "jsonrpc.h"
#include "tenant.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct daemon;
struct rpc_call;

/* Where a client's messages go, registered by its connection. */
struct rpc_sink {
	/* Queues one JSON document for the client (not taking ownership).
	 * 0, or -errno with the reason in e when it cannot be sent (too large,
	 * out of memory); a client that is gone counts as sent. */
	int (*send)(void *ctx, json_object *msg, struct error *e);
	/* The same, with a copy of fd passed along (SCM_RIGHTS); -EBUSY
	 * while another one waits to be sent. */
	int (*send_fd)(void *ctx, json_object *msg, int fd, struct error *e);
	/* A call of this client ended (it has left the pending list). */
	void (*ended)(void *ctx);
	void *ctx;
};

/* A client's calls in flight, owned by its connection. */
struct rpc_calls {
	struct rpc_call *first;
	size_t count;
};

typedef void (*rpc_cancel_fn)(struct rpc_call *call);

struct rpc_call {
	struct daemon *daemon;
	/* NULL once the client has gone */
	const struct rpc_sink *sink;
	struct rpc_calls *list;
	json_object *id;   /* NULL for a notification or a null id */
	bool has_id;	   /* false for a notification: no answer */
	json_object *root; /* the request document (owns params) */
	const char *method;
	json_object *params;
	bool stream;
	pid_t peer_pid;
	uid_t peer_uid;
	struct caller caller; /* whom the request acts for */
	/* Set by handlers that answer later: called when the client goes, the
	 * handler must stop its work and still end the call (the reply is
	 * discarded). */
	rpc_cancel_fn cancel;
	void *userdata;
	struct rpc_call *next, *prev; /* in list */
};

/* Puts a new call on its client's list (call->sink and call->list set). */
void rpc_calls_add(struct rpc_calls *l, struct rpc_call *call);
/* The client has gone: every call is detached from it, then cancelled. */
void rpc_calls_cancel(struct rpc_calls *l);

/* Fills e for a reply of size bytes, above max (limits.resultBytes):
 * -EMSGSIZE, kind invalid_argument, saying what to ask for instead. */
int rpc_too_large(struct error *e, uint64_t size, uint64_t max);

void rpc_reply(struct rpc_call *call, json_object *result);
void rpc_reply_error(struct rpc_call *call, enum error_kind kind,
		     const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Sends a "stream" notification for this call when it asked for one. */
void rpc_stream_event(struct rpc_call *call, json_object *params);
/* Sends a "stream" notification for this call (asked for or not) with a
 * copy of fd attached, the call going on; 0 or -errno with e saying why. */
int rpc_stream_fd(struct rpc_call *call, json_object *params, int fd,
		  struct error *e);

#endif
