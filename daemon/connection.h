/* One client connection: reads frames, hands each complete request to the
 * RPC layer, queues the responses that come back through its sink, applies
 * backpressure and the idle timeout. */
#ifndef ISOL8D_CONNECTION_H
#define ISOL8D_CONNECTION_H

struct daemon;
struct connection;

typedef void (*connection_closed_fn)(struct connection *conn, void *userdata);

/* Takes ownership of fd (non-blocking, CLOEXEC). */
int connection_new(struct daemon *d, int fd, connection_closed_fn on_closed,
		   void *userdata, struct connection **out);
/* Cancels pending calls, closes the socket and frees; on_closed is called. */
void connection_close(struct connection *conn);

#endif
