/* The bridge's answers: each queues a response for the request and
 * returns what its handler should return. */
#ifndef ISOL8CTL_HTTP_REPLY_H
#define ISOL8CTL_HTTP_REPLY_H

#include <json-c/json.h>
#include <microhttpd.h>
#include <stddef.h>

struct http_request;

/* Queues resp (then released) as the request's answer with status. */
enum MHD_Result http_queue(struct http_request *r, unsigned status,
			   struct MHD_Response *resp);
enum MHD_Result http_reply_bytes(struct http_request *r, unsigned status,
				 const char *type, const char *text, size_t len,
				 const char *retry_after);
enum MHD_Result http_reply_json(struct http_request *r, unsigned status,
				json_object *body);
__attribute__((format(printf, 3, 4))) enum MHD_Result
http_reply_error(struct http_request *r, unsigned status, const char *fmt, ...);
/* A daemon error object, by its kind: 400, 404, 409, 429 (Retry-After),
 * 501, 504 or 500. */
enum MHD_Result http_reply_rpc_error(struct http_request *r,
				     json_object *error);
/* The daemon could not be reached or went away (errno err): 503. */
enum MHD_Result http_reply_unreachable(struct http_request *r, int err);

#endif
