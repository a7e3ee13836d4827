/* JSON-RPC 2.0 envelopes: building requests, responses and notifications,
 * validating incoming ones, and the project's error kinds. */
#ifndef ISOL8_JSONRPC_H
#define ISOL8_JSONRPC_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

enum rpc_code {
	RPC_PARSE_ERROR = -32700,
	RPC_INVALID_REQUEST = -32600,
	RPC_METHOD_NOT_FOUND = -32601,
	RPC_INVALID_PARAMS = -32602,
	RPC_INTERNAL_ERROR = -32603,
};

enum error_kind {
	ERR_INVALID_ARGUMENT,
	ERR_NOT_FOUND,
	ERR_BUSY,
	ERR_CONFLICT,
	ERR_TIMEOUT,
	ERR_UNSUPPORTED,
	ERR_INTERNAL,
	ERR__MAX,
};

const char *error_kind_name(enum error_kind kind);
/* The JSON-RPC code an application error of this kind carries. */
int error_kind_code(enum error_kind kind);

/* A validated incoming request.  Pointers borrow from root. */
struct rpc_request {
	json_object *root;
	json_object *id; /* NULL for a notification and for a null id */
	bool has_id;	 /* false only for a notification */
	const char *method;
	size_t method_len;   /* a NUL inside makes it no method's name */
	json_object *params; /* always an object; empty when absent */
};

/* An error found while validating: what to answer, and whether the id could
 * be recovered to put into that answer. */
struct rpc_error {
	int code;
	enum error_kind kind;
	char message[256];
	json_object *id; /* borrowed from the parsed root, or NULL */
};

/* Parses and validates one frame body.  On success fills req (caller puts
 * req->root) and returns 0.  On failure fills err, returns -EINVAL, and
 * *root_out holds the parsed document (or NULL) so err->id stays valid until
 * the caller puts it. */
int rpc_parse_request(const char *body, size_t len, struct rpc_request *req,
		      struct rpc_error *err, json_object **root_out);

json_object *rpc_make_request(long long id, const char *method,
			      json_object *params);
json_object *rpc_make_notification(const char *method, json_object *params);
/* Both take ownership of result / copy id (id may be NULL → null). */
json_object *rpc_make_result(json_object *id, json_object *result);
json_object *rpc_make_error(json_object *id, int code, enum error_kind kind,
			    const char *message);

struct error;

/* Parses one JSON document with strict UTF-8 validation.  body[len] must
 * be the NUL that frame_read and the frame parser put after every body.  0
 * with the value in *out (NULL for a JSON null), or -EINVAL (-ENOMEM) with
 * a reason in e. */
int json_parse_strict(const char *body, size_t len, json_object **out,
		      struct error *e);

#endif
