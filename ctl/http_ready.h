/* Readiness for a load balancer in front of several bridges: GET /ready
 * (no key: coarse state only) says whether this node takes new work, and
 * draining (POST /admin/drain with the master key, SIGUSR2, or SIGTERM
 * until the bridge stops) turns new work away while the sessions already
 * here are still served. */
#ifndef ISOL8CTL_HTTP_READY_H
#define ISOL8CTL_HTTP_READY_H

#include "http_bridge.h"

enum MHD_Result http_ready(struct http_request *r, const char *arg);
enum MHD_Result http_admin_drain(struct http_request *r, const char *arg);

/* Starts draining, for good: this bridge takes no new work until it is
 * started again. */
void http_ready_drain(void);
/* Whether r may go on: always unless draining; while draining, only for
 * work in a session the daemon already has (params' sessionId; NULL
 * params: new work), and so for work in a session that the load balancer
 * could not route by its id (header X-Isol8-Unrouted).  False after a
 * 503 (draining) or 421 (unrouted). */
bool http_ready_admit(struct http_request *r, json_object *params);

/* Requests being served, so that a stop can wait for them. */
void http_ready_request_begin(void);
void http_ready_request_end(void);
unsigned http_ready_in_flight(void);

#endif
