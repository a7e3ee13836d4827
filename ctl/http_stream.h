/* An execution's events streamed from the daemon, shared by both of the
 * bridge's streaming transports: Server-Sent Events (POST /execute/stream,
 * here) and WebSocket (GET /execute/ws, http_ws.c). */
#ifndef ISOL8CTL_HTTP_STREAM_H
#define ISOL8CTL_HTTP_STREAM_H

#include "rpc_client.h"

#include <json-c/json.h>
#include <microhttpd.h>
#include <stdbool.h>

struct http_request;

struct exec_stream {
	struct rpc_client c;
	long long id;
	json_object *early; /* events that came before the acceptance */
	size_t early_next;
	bool done;	 /* the execution's final answer has come */
	bool error_sent; /* an error event went out already */
};

/* Connects to the daemon as act_as (NULL: the bridge's own tenant) and
 * starts the execution params describe (taken).  1 once the daemon
 * accepted it, 0 when it refused it with the error object in *refusal
 * (caller puts), or -errno when the daemon cannot be reached; s needs
 * exec_stream_close() after any of them. */
int exec_stream_start(struct exec_stream *s, const char *socket_path,
		      const char *act_as, json_object *params,
		      json_object **refusal);
/* The next StreamEvent for the client: 1 with it in *event (caller puts),
 * 0 after the last, -ETIMEDOUT when the daemon said nothing for
 * timeout_ms, -ECONNABORTED when watch_fd (-1: none) hung up first, or
 * -ENOMEM.  A daemon gone mid-run becomes an error event. */
int exec_stream_next(struct exec_stream *s, int watch_fd, int timeout_ms,
		     json_object **event);
/* The daemon's side, for a caller polling it along with other things. */
int exec_stream_fd(const struct exec_stream *s);
/* Closing cancels an execution still running. */
void exec_stream_close(struct exec_stream *s);

/* {"type":"error","data":message}, as isol8 ends a failed stream. */
json_object *stream_error_event(const char *message);

enum MHD_Result http_execute_stream(struct http_request *r,
				    json_object *params);

#endif
