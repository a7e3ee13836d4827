/* isol8ctl serve: isol8's HTTP server API mapped onto isol8d's RPC.  The
 * bridge keeps no state: every HTTP request gets its own connection to the
 * daemon, so a restarted daemon is simply reached again. */
#ifndef ISOL8CTL_HTTP_BRIDGE_H
#define ISOL8CTL_HTTP_BRIDGE_H

#include "auth_db.h"
#include "rpc_client.h"
#include "strbuf.h"

#include <json-c/json.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

struct bridge {
	const char *socket_path;
	const char *key;      /* the master key */
	struct auth_db *auth; /* tenants' keys (--auth-db), or NULL */
	size_t max_body;
	unsigned idle_sec; /* clients silent this long are dropped */
	/* connections yet to authenticate (http_limits.c), and their cap */
	atomic_uint unauthenticated;
	unsigned max_unauthenticated;
	/* From isol8's config file: options for executions that leave them
	 * out, and the TTL of keys made without ttlMs. */
	json_object *request_defaults;
	uint64_t default_ttl_ms;
	bool debug; /* --debug: a line per request on stderr */
	/* --node-name: sent as X-Isol8-Node on every response, so that a
	 * client behind a load balancer can tell which node answered. */
	const char *node_name;
};

/* One HTTP request being served. */
struct http_request {
	const struct bridge *bridge;
	struct MHD_Connection *conn;
	const char *method;
	struct strbuf body;
	size_t overflow; /* bytes past the body limit, not kept */
	/* The route, found as the head arrived, and its ":id" part. */
	enum MHD_Result (*handler)(struct http_request *r, const char *arg);
	char arg[256];
	char tail[16]; /* a route's last "*" segment */
	/* Who authenticated: the master key, or a tenant's key; act_as is
	 * what the daemon is told (NULL without --auth-db). */
	bool master;
	char tenant[AUTH_TENANT_MAX + 1];
	const char *act_as;
	bool replied;	     /* a response is queued */
	unsigned status;     /* its status */
	char url[256];	     /* for --debug's line, cut */
	uint64_t start_usec; /* CLOCK_MONOTONIC */
	enum MHD_Result ret; /* what a handler that replied returns */
	/* An exposed port's request (http_expose.h): the URI as the client
	 * wrote it, and the connection into the box. */
	char *raw_uri;
	struct upstream *upstream;
};

/* MHD's access handler and request-completed callback for struct bridge. */
enum MHD_Result http_bridge_handle(void *cls, struct MHD_Connection *conn,
				   const char *url, const char *method,
				   const char *version, const char *upload,
				   size_t *upload_size, void **state);
void http_bridge_completed(void *cls, struct MHD_Connection *conn, void **state,
			   enum MHD_RequestTerminationCode why);
/* MHD's URI log callback: the request's state, made as its line arrives,
 * with the URI as written when it is an exposed port's. */
void *http_bridge_uri(void *cls, const char *uri, struct MHD_Connection *conn);

/* The body as a JSON object, or NULL after a 400. */
json_object *http_body_object(struct http_request *r);
/* {request, options?, sessionId?} of an isol8 execute envelope as the
 * daemon's execute params, with b's request defaults for the options it
 * leaves out, or NULL when it has no "request" object. */
json_object *bridge_execute_params(const struct bridge *b, json_object *body);
/* The client's socket, to notice it hanging up while the daemon works. */
int http_client_fd(const struct http_request *r);
/* Connects for r; on failure replies 503 and returns a negative errno. */
int bridge_connect(struct http_request *r, struct rpc_client *c);
/* One call; the result, or NULL once a reply was queued (r->ret says what
 * to return; MHD_NO when the client went away). */
json_object *bridge_call(struct http_request *r, const char *method,
			 json_object *params);

#endif
