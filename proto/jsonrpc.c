#include "jsonrpc.h"

#include "error.h"
#include "json_build.h"
#include "json_syntax.h"
#include "utf8.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int code;
} kinds[ERR__MAX] = {
	[ERR_INVALID_ARGUMENT] = { "invalid_argument", RPC_INVALID_PARAMS },
	[ERR_NOT_FOUND] = { "not_found", -32004 },
	[ERR_BUSY] = { "busy", -32005 },
	[ERR_CONFLICT] = { "conflict", -32009 },
	[ERR_TIMEOUT] = { "timeout", -32008 },
	[ERR_UNSUPPORTED] = { "unsupported", -32010 },
	[ERR_INTERNAL] = { "internal", RPC_INTERNAL_ERROR },
};

const char *error_kind_name(enum error_kind kind)
{
	return (unsigned)kind < ERR__MAX ? kinds[kind].name : "internal";
}

int error_kind_code(enum error_kind kind)
{
	return (unsigned)kind < ERR__MAX ? kinds[kind].code
					 : RPC_INTERNAL_ERROR;
}

/* How deep arrays and objects may nest: json-c's default, so that what
 * json-c's own parser reads elsewhere reads here too. */
#define JSON_MAX_DEPTH 32

/* json-c reads 1e400 as infinity (NaN and Infinity themselves are refused by
 * the syntax check). */
static bool all_finite(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_double:
		return isfinite(json_object_get_double(o));
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (!all_finite(json_object_array_get_idx(o, i)))
				return false;
		return true;
	case json_type_object: {
		json_object_object_foreach(o, k, v)
		{
			(void)k;
			if (!all_finite(v))
				return false;
		}
		return true;
	}
	default:
		return true;
	}
}

int json_parse_strict(const char *body, size_t len, json_object **out,
		      struct error *e)
{
	*out = NULL;
	if (len >= INT_MAX)
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "frame too large to parse");
	if (memchr(body, '\0', len))
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "frame contains a NUL byte");
	/* Overlong forms and encoded surrogates are refused too. */
	if (!utf8_valid(body, len))
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "frame is not valid UTF-8");
	if (json_syntax_check(body, len, JSON_MAX_DEPTH, e) < 0)
		return -EINVAL;
	json_object *obj = NULL;
	int r = json_build(body, &obj);
	if (r < 0)
		error_set(e, ERR_INTERNAL, r, "out of memory");
	if (r == 0 && !all_finite(obj))
		r = error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
			      "invalid JSON: NaN and Infinity are not JSON "
			      "numbers");
	if (r < 0)
		json_object_put(obj);
	else
		*out = obj;
	return r;
}

static void set_error(struct rpc_error *err, int code, enum error_kind kind,
		      const char *msg)
{
	err->code = code;
	err->kind = kind;
	snprintf(err->message, sizeof(err->message), "%s", msg);
}

/* Integers beyond 2^53 would not survive a round trip through json-c (it
 * clamps) or through a JavaScript client, and NaN is not JSON at all. */
#define MAX_SAFE_ID 9007199254740991LL

static bool id_is_valid(json_object *id)
{
	switch (json_object_get_type(id)) {
	case json_type_null:
	case json_type_string:
		return true;
	case json_type_int: {
		int64_t v = json_object_get_int64(id);
		/* json-c clamps what it cannot hold to INT64_MIN/MAX (or
		 * UINT64_MAX, read back as INT64_MAX): out of range here. */
		return v >= -MAX_SAFE_ID && v <= MAX_SAFE_ID;
	}
	case json_type_double:
		return true;
	default:
		return false;
	}
}

int rpc_parse_request(const char *body, size_t len, struct rpc_request *req,
		      struct rpc_error *err, json_object **root_out)
{
	struct error why;
	memset(req, 0, sizeof(*req));
	memset(err, 0, sizeof(*err));
	*root_out = NULL;

	json_object *root = NULL;
	if (json_parse_strict(body, len, &root, &why) < 0) {
		char msg[256];
		/* at most the 199 bytes of reason it always had */
		snprintf(msg, sizeof(msg), "Parse error: %.199s", why.message);
		set_error(err, RPC_PARSE_ERROR, ERR_INVALID_ARGUMENT, msg);
		return -EINVAL;
	}
	*root_out = root;
	if (!root || !json_object_is_type(root, json_type_object)) {
		set_error(err, RPC_INVALID_REQUEST, ERR_INVALID_ARGUMENT,
			  "Invalid request: a request must be a JSON object");
		return -EINVAL;
	}
	json_object *id = NULL;
	bool has_id = json_object_object_get_ex(root, "id", &id);
	if (has_id && !id_is_valid(id)) {
		set_error(err, RPC_INVALID_REQUEST, ERR_INVALID_ARGUMENT,
			  "Invalid request: \"id\" must be a string, null or "
			  "a number of at most 2^53 - 1 in size");
		return -EINVAL;
	}
	err->id = id;

	json_object *ver = NULL;
	if (!json_object_object_get_ex(root, "jsonrpc", &ver) ||
	    !json_object_is_type(ver, json_type_string) ||
	    json_object_get_string_len(ver) != 3 ||
	    memcmp(json_object_get_string(ver), "2.0", 3) != 0) {
		set_error(err, RPC_INVALID_REQUEST, ERR_INVALID_ARGUMENT,
			  "Invalid request: \"jsonrpc\" must be \"2.0\"");
		return -EINVAL;
	}
	json_object *method = NULL;
	if (!json_object_object_get_ex(root, "method", &method)) {
		set_error(err, RPC_INVALID_REQUEST, ERR_INVALID_ARGUMENT,
			  "Invalid request: \"method\" is missing");
		return -EINVAL;
	}
	if (!json_object_is_type(method, json_type_string) ||
	    json_object_get_string_len(method) == 0) {
		set_error(err, RPC_INVALID_REQUEST, ERR_INVALID_ARGUMENT,
			  "Invalid request: \"method\" must be a non-empty "
			  "string");
		return -EINVAL;
	}
	json_object *params = NULL;
	if (json_object_object_get_ex(root, "params", &params) &&
	    !json_object_is_type(params, json_type_null)) {
		if (json_object_is_type(params, json_type_array)) {
			set_error(
				err, RPC_INVALID_PARAMS, ERR_INVALID_ARGUMENT,
				"Invalid params: \"params\" must be an object "
				"of named parameters, not an array");
			return -EINVAL;
		}
		if (!json_object_is_type(params, json_type_object)) {
			set_error(err, RPC_INVALID_REQUEST,
				  ERR_INVALID_ARGUMENT,
				  "Invalid request: \"params\" must be an "
				  "object");
			return -EINVAL;
		}
	} else {
		params = json_object_new_object();
		json_object_object_add(root, "params", params);
	}
	req->root = root;
	req->id = has_id ? id : NULL;
	req->has_id = has_id;
	req->method = json_object_get_string(method);
	req->method_len = (size_t)json_object_get_string_len(method);
	req->params = params;
	*root_out = NULL;
	return 0;
}

static json_object *envelope(void)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "jsonrpc", json_object_new_string("2.0"));
	return o;
}

json_object *rpc_make_request(long long id, const char *method,
			      json_object *params)
{
	json_object *o = envelope();
	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "method", json_object_new_string(method));
	json_object_object_add(o, "params",
			       params ? params : json_object_new_object());
	return o;
}

json_object *rpc_make_notification(const char *method, json_object *params)
{
	json_object *o = envelope();
	json_object_object_add(o, "method", json_object_new_string(method));
	json_object_object_add(o, "params",
			       params ? params : json_object_new_object());
	return o;
}

json_object *rpc_make_result(json_object *id, json_object *result)
{
	json_object *o = envelope();
	json_object_object_add(o, "id", id ? json_object_get(id) : NULL);
	json_object_object_add(o, "result",
			       result ? result : json_object_new_object());
	return o;
}

json_object *rpc_make_error(json_object *id, int code, enum error_kind kind,
			    const char *message)
{
	json_object *o = envelope();
	json_object_object_add(o, "id", id ? json_object_get(id) : NULL);
	json_object *e = json_object_new_object();
	json_object_object_add(e, "code", json_object_new_int(code));
	json_object_object_add(e, "message", json_object_new_string(message));
	json_object *data = json_object_new_object();
	json_object_object_add(data, "kind",
			       json_object_new_string(error_kind_name(kind)));
	json_object_object_add(e, "data", data);
	json_object_object_add(o, "error", e);
	return o;
}
