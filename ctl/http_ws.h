/* GET /execute/ws: isol8's WebSocket protocol for one streamed
 * execution. */
#ifndef ISOL8CTL_HTTP_WS_H
#define ISOL8CTL_HTTP_WS_H

#include <microhttpd.h>

struct http_request;

enum MHD_Result http_execute_ws(struct http_request *r, const char *arg);

#endif
