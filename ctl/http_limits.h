/* The bridge's defence of its threads (one per connection): connections
 * that have not yet authenticated are capped below the connection limit
 * and must send their request head within a short timeout, so half-open
 * requests cannot hold every thread; once a request has authenticated,
 * its connection gets the ordinary idle timeout. */
#ifndef ISOL8CTL_HTTP_LIMITS_H
#define ISOL8CTL_HTTP_LIMITS_H

#include "http_bridge.h"

#include <sys/socket.h>

/* MHD's accept policy callback (cls: struct bridge). */
enum MHD_Result http_limits_accept(void *cls, const struct sockaddr *addr,
				   socklen_t addrlen);
/* MHD's connection notification callback (cls: struct bridge). */
void http_limits_notify(void *cls, struct MHD_Connection *conn,
			void **socket_context,
			enum MHD_ConnectionNotificationCode code);
/* r has authenticated: its connection leaves the unauthenticated count. */
void http_limits_authenticated(struct http_request *r);

#endif
