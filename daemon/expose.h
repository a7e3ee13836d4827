/* Public URLs for services in sessions' boxes: an exposed port of a
 * session has an unguessable token, the only credential of its URL on the
 * HTTP bridge (/x/TOKEN/...).  For each request there the bridge asks for
 * a connection by token (session.connect); the daemon makes it inside the
 * box's network namespace to 127.0.0.1:port, so a server listening only on
 * the box's loopback is reached and the box's network stays as it was,
 * and hands the connected socket over.  It keeps a copy to cut the
 * connection when the port is unexposed or the session ends, and to count
 * its bytes (the kernel's TCP_INFO) for metrics and the audit trail.
 * Tokens are compared in constant time and never logged. */
#ifndef ISOL8D_EXPOSE_H
#define ISOL8D_EXPOSE_H

#include "error.h"
#include "tenant.h"

#include <json-c/json.h>
#include <stdint.h>

struct box;
struct daemon;
struct exposure;
struct exposures;
struct rpc_call;
struct session;

int exposures_new(struct daemon *d, struct exposures **out);
/* After every session has ended. */
void exposures_free(struct exposures *set);

/* The session whose port is exposed, as the session module knows it
 * (this module only keeps its pointer, to know it again). */
struct expose_session {
	struct session *s;
	const char *id;
	struct tenant *owner;
};

/* Exposes port (1 to 65535) of s for c, within sessions.maxExposedPorts
 * and, unless c is an administrator, the owner's tenants.maxExposedPorts;
 * a port exposed already stays as it is.  Its view in *out (caller puts
 * it), with the token.  On error e says why. */
int expose_add(struct exposures *set, const struct expose_session *s,
	       const struct caller *c, unsigned port, json_object **out,
	       struct error *e);
/* Ends the port's URL: open connections through it are cut.  Its totals
 * in *out (caller puts it); -ENOENT when it is not exposed. */
int expose_remove(struct exposures *set, struct session *s, unsigned port,
		  json_object **out, struct error *e);
/* s ends: so do its URLs (with their connections). */
void expose_session_ended(struct exposures *set, struct session *s);
/* [{port, token, path, createdAt, connections, openConnections, bytesIn,
 * bytesOut}] of s. */
json_object *expose_list_json(const struct exposures *set,
			      const struct session *s);
/* The exposed port numbers of s, for the session object. */
json_object *expose_ports_json(const struct exposures *set,
			       const struct session *s);
/* {ports, connections, openConnections, refused, bytesIn, bytesOut} for
 * the metrics method. */
json_object *exposures_metrics_json(const struct exposures *set);

/* The exposed port whose token that is, or NULL (counted as refused). */
struct exposure *expose_find(struct exposures *set, const char *token);
/* Its session (the pointer given to expose_add). */
struct session *expose_session_of(const struct exposure *x);

/* session.connect: a connection to x's port in box, handed to call's
 * client with a "stream" notification {type: "connected", port}; the call
 * then stays open as long as the connection is relayed, and ends with an
 * error when it is cut.  Answers the call itself on every path. */
void expose_connect(struct exposure *x, struct box *box, struct rpc_call *call);

#endif
