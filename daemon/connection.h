/* One client connection: reads frames, hands each complete request to the
 * RPC layer, queues the responses that come back through its sink, applies
 * backpressure and the idle timeout. */
#ifndef ISOL8D_CONNECTION_H
#define ISOL8D_CONNECTION_H

#include "tenant.h"

struct daemon;
struct connection;

typedef void (*connection_closed_fn)(struct connection *conn, void *userdata);

/* Takes ownership of fd (non-blocking, CLOEXEC) and of id, the identity
 * of its peer (from SO_PEERCRED). */
int connection_new(struct daemon *d, int fd, const struct ucred *peer,
		   struct peer_identity *id, connection_closed_fn on_closed,
		   void *userdata, struct connection **out);
/* Cancels pending calls, closes the socket and frees; on_closed is called. */
void connection_close(struct connection *conn);

#endif
