/* POST /execute/stream: the daemon's stream notifications as Server-Sent
 * Events. */
#ifndef ISOL8CTL_HTTP_STREAM_H
#define ISOL8CTL_HTTP_STREAM_H

#include <json-c/json.h>
#include <microhttpd.h>

struct http_request;

enum MHD_Result http_execute_stream(struct http_request *r,
				    json_object *params);

#endif
