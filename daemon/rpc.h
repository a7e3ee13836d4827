/* The RPC layer: a client's complete request (one frame's body) checked as
 * JSON-RPC, logged, and handed to its method as a call that answers
 * through the client's sink (rpc_call.h). */
#ifndef ISOL8D_RPC_H
#define ISOL8D_RPC_H

#include "rpc_call.h"

#include <stddef.h>
#include <sys/socket.h>

/* Handles one request from the client peer (id: its identity; the
 * request's "actAs" may name another tenant); every answer, including the
 * error for a bad request, goes to sink.  A call that stays in flight is
 * on calls until it ends. */
void rpc_handle(struct daemon *d, const struct ucred *peer,
		const struct peer_identity *id, const struct rpc_sink *sink,
		struct rpc_calls *calls, const char *body, size_t len);

#endif
