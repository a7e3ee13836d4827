/* One request in flight: its reply functions and cancellation.  A handler
 * answers at once or keeps the call and answers later from an event; either
 * way exactly one rpc_reply*() ends the call and frees it. */
#ifndef ISOL8D_RPC_H
#define ISOL8D_RPC_H

#include "jsonrpc.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <sys/types.h>

struct connection;
struct daemon;
struct rpc_call;

typedef void (*rpc_cancel_fn)(struct rpc_call *call);

struct rpc_call {
	struct daemon *daemon;
	struct connection *conn; /* NULL once the client has gone */
	json_object *id;	 /* NULL for a notification or a null id */
	bool has_id;		 /* false for a notification: no answer */
	json_object *root;	 /* the request document (owns params) */
	const char *method;
	json_object *params;
	bool stream;
	pid_t peer_pid;
	uid_t peer_uid;
	/* Set by handlers that answer later: called when the client goes, the
	 * handler must stop its work and still end the call (the reply is
	 * discarded). */
	rpc_cancel_fn cancel;
	void *userdata;
	struct rpc_call *next, *prev; /* in conn's list of pending calls */
};

typedef void (*rpc_handler_fn)(struct rpc_call *call);

struct rpc_method {
	const char *name;
	rpc_handler_fn handler;
	bool quiet; /* read-only and frequent: logged at debug level */
};

/* Every method the daemon serves, NULL-terminated by name. */
const struct rpc_method *rpc_find_method(const char *name);

void rpc_reply(struct rpc_call *call, json_object *result);
void rpc_reply_error(struct rpc_call *call, enum error_kind kind,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Sends a "stream" notification for this call when it asked for one. */
void rpc_stream_event(struct rpc_call *call, json_object *params);

#endif
