#include "http_limits.h"

#include <stdatomic.h>
#include <stdlib.h>

struct conn_state {
	bool authenticated;
};

enum MHD_Result http_limits_accept(void *cls, const struct sockaddr *addr,
				   socklen_t addrlen)
{
	(void)addr;
	(void)addrlen;
	struct bridge *b = cls;
	return atomic_load(&b->unauthenticated) < b->max_unauthenticated
		       ? MHD_YES
		       : MHD_NO;
}

void http_limits_notify(void *cls, struct MHD_Connection *conn,
			void **socket_context,
			enum MHD_ConnectionNotificationCode code)
{
	(void)conn;
	struct bridge *b = cls;
	struct conn_state *s = *socket_context;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		/* Without memory the connection is simply not counted. */
		s = calloc(1, sizeof(*s));
		*socket_context = s;
		if (s)
			atomic_fetch_add(&b->unauthenticated, 1);
		return;
	}
	if (s && !s->authenticated)
		atomic_fetch_sub(&b->unauthenticated, 1);
	free(s);
	*socket_context = NULL;
}

void http_limits_authenticated(struct http_request *r)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		r->conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn_state *s = ci ? ci->socket_context : NULL;
	if (!s || s->authenticated)
		return;
	s->authenticated = true;
	atomic_fetch_sub((atomic_uint *)&r->bridge->unauthenticated, 1);
	MHD_set_connection_option(r->conn, MHD_CONNECTION_OPTION_TIMEOUT,
				  r->bridge->idle_sec);
}
