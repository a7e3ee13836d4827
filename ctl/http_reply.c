/* The bridge's answers: JSON bodies, and daemon errors as HTTP statuses. */
#include "http_reply.h"

#include "cleanup.h"
#include "format.h"
#include "http_bridge.h"

#include <stdio.h>
#include <string.h>

enum MHD_Result http_queue(struct http_request *r, unsigned status,
			   struct MHD_Response *resp)
{
	r->replied = true;
	r->status = status;
	if (r->bridge->node_name)
		MHD_add_response_header(resp, "X-Isol8-Node",
					r->bridge->node_name);
	r->ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return r->ret;
}

enum MHD_Result http_reply_bytes(struct http_request *r, unsigned status,
				 const char *type, const char *text, size_t len,
				 const char *retry_after)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		len, (void *)text, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return r->ret = MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (retry_after)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER,
					retry_after);
	return http_queue(r, status, resp);
}

static enum MHD_Result reply_json_hint(struct http_request *r, unsigned status,
				       json_object *body,
				       const char *retry_after)
{
	_cleanup_json_ json_object *owned = body;
	size_t len;
	const char *text = json_object_to_json_string_length(
		owned, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		&len);
	return http_reply_bytes(r, status, "application/json", text, len,
				retry_after);
}

enum MHD_Result http_reply_json(struct http_request *r, unsigned status,
				json_object *body)
{
	return reply_json_hint(r, status, body, NULL);
}

static json_object *error_body(const char *message)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string(message));
	return o;
}

enum MHD_Result http_reply_error(struct http_request *r, unsigned status,
				 const char *fmt, ...)
{
	char msg[512];
	FORMAT_ARGS(msg, fmt);
	return http_reply_json(r, status, error_body(msg));
}

static const struct {
	const char *kind;
	unsigned status;
} kinds[] = {
	{ "invalid_argument", MHD_HTTP_BAD_REQUEST },
	{ "not_found", MHD_HTTP_NOT_FOUND },
	{ "conflict", MHD_HTTP_CONFLICT },
	{ "busy", MHD_HTTP_TOO_MANY_REQUESTS },
	{ "unsupported", MHD_HTTP_NOT_IMPLEMENTED },
	{ "timeout", MHD_HTTP_GATEWAY_TIMEOUT },
	{ "internal", MHD_HTTP_INTERNAL_SERVER_ERROR },
};

static unsigned status_of(json_object *error)
{
	json_object *data = NULL, *kind = NULL, *code = NULL;
	json_object_object_get_ex(error, "data", &data);
	json_object_object_get_ex(data, "kind", &kind);
	const char *k = json_object_get_string(kind);
	for (size_t i = 0; k && i < ARRAY_SIZE(kinds); i++)
		if (strcmp(kinds[i].kind, k) == 0)
			return kinds[i].status;
	/* JSON-RPC's own "invalid params" is the client's fault too. */
	json_object_object_get_ex(error, "code", &code);
	return json_object_get_int(code) == -32602
		       ? MHD_HTTP_BAD_REQUEST
		       : MHD_HTTP_INTERNAL_SERVER_ERROR;
}

enum MHD_Result http_reply_rpc_error(struct http_request *r, json_object *error)
{
	json_object *msg = NULL;
	json_object_object_get_ex(error, "message", &msg);
	unsigned status = status_of(error);
	return reply_json_hint(
		r, status,
		error_body(msg ? json_object_get_string(msg)
			       : "isol8d gave an error without a message"),
		status == MHD_HTTP_TOO_MANY_REQUESTS ? "1" : NULL);
}

enum MHD_Result http_reply_unreachable(struct http_request *r, int err)
{
	return http_reply_error(
		r, MHD_HTTP_SERVICE_UNAVAILABLE,
		"isol8d is not reachable at %s: %s; is it running?",
		r->bridge->socket_path, strerror(err));
}
