/* One client connection: reads frames, validates and dispatches requests,
 * queues responses, applies backpressure and the idle timeout. */
#ifndef ISOL8D_CONNECTION_H
#define ISOL8D_CONNECTION_H

#include <json-c/json.h>
#include <stddef.h>

struct daemon;
struct connection;
struct rpc_call;

typedef void (*connection_closed_fn)(struct connection *conn, void *userdata);

/* Takes ownership of fd (non-blocking, CLOEXEC). */
int connection_new(struct daemon *d, int fd, connection_closed_fn on_closed,
		   void *userdata, struct connection **out);
/* Cancels pending calls, closes the socket and frees; on_closed is called. */
void connection_close(struct connection *conn);

/* Queues one JSON document as a frame (does not take ownership). */
void connection_send(struct connection *conn, json_object *msg);

/* Called by rpc.c when a call ends, to drop it from the pending list. */
void connection_call_done(struct connection *conn, struct rpc_call *call);

#endif
