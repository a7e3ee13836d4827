/* JSON-RPC envelopes: strict parsing of a frame body, validation of requests
 * in the documented order, and the result and error envelopes sent back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "jsonrpc.h"

#define ID_MSG "Invalid request: \"id\" must be "
#define VERSION_MSG "Invalid request: \"jsonrpc\" must be \"2.0\""
#define NOT_OBJECT_MSG "Invalid request: a request must be a JSON object"
#define METHOD_MISSING_MSG "Invalid request: \"method\" is missing"
#define METHOD_TYPE_MSG "Invalid request: \"method\" must be a non-empty string"
#define PARAMS_ARRAY_MSG                                                       \
	"Invalid params: \"params\" must be an object of named parameters, "   \
	"not an array"
#define PARAMS_TYPE_MSG "Invalid request: \"params\" must be an object"
#define NONFINITE "NaN and Infinity are not JSON numbers"
#define TRAILING "trailing data after the value"

/* The kind of that name, -1 when none: read back through error_kind_name,
 * so every kind must have a name of its own. */
static int error_kind_from_name(const char *name)
{
	for (int i = 0; name && i < ERR__MAX; i++)
		if (strcmp(error_kind_name((enum error_kind)i), name) == 0)
			return i;
	return -1;
}

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* json_parse_strict on a NUL-terminated string. */
static int parse(const char *text, json_object **out, char *why, size_t n)
{
	struct error e;
	int r = json_parse_strict(text, strlen(text), out, &e);
	if (r < 0) {
		size_t k = strnlen(e.message, n - 1);
		memcpy(why, e.message, k);
		why[k] = '\0';
	}
	return r;
}

/* Parses a body that must be a valid request; the caller puts req->root. */
static void request_ok(const char *body, struct rpc_request *req)
{
	struct rpc_error err;
	json_object *root = (json_object *)1;
	int r = rpc_parse_request(body, strlen(body), req, &err, &root);
	if (r != 0)
		fail_msg("%s refused: %d %s", body, err.code, err.message);
	assert_null(root);
	assert_non_null(req->root);
	assert_non_null(req->params);
	assert_true(json_object_is_type(req->params, json_type_object));
}

/* Parses a body that must be refused with code and a message that begins
 * with prefix; returns the parsed document, which the caller puts. */
static json_object *request_bad(const char *body, size_t len, int code,
				const char *prefix, struct rpc_error *err)
{
	struct rpc_request req;
	json_object *root = NULL;
	int r = rpc_parse_request(body, len, &req, err, &root);
	if (r != -EINVAL)
		fail_msg("%s accepted (%d)", body, r);
	if (err->code != code || !starts_with(err->message, prefix))
		fail_msg("%s: got %d \"%s\", want %d \"%s...\"", body,
			 err->code, err->message, code, prefix);
	assert_int_equal(err->kind, ERR_INVALID_ARGUMENT);
	assert_null(req.root);
	assert_null(req.method);
	return root;
}

static void expect_bad(const char *body, int code, const char *prefix)
{
	struct rpc_error err;
	json_object_put(request_bad(body, strlen(body), code, prefix, &err));
}

static void test_strict_accepts_json(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		enum json_type type;
	} cases[] = {
		{ "{}", json_type_object },
		{ " \t\r\n{\"a\":[1,2.5,\"x\",true,null]}\n ",
		  json_type_object },
		{ "[]", json_type_array },
		{ "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", json_type_string },
		{ "\"\\u00e9\\ud83d\\ude00\"", json_type_string },
		{ "12", json_type_int },
		{ "-0", json_type_int },
		{ "1.5e3", json_type_double },
		{ "false", json_type_boolean },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object *o = NULL;
		char why[128] = "";
		if (parse(cases[i].in, &o, why, sizeof(why)) != 0)
			fail_msg("%s refused: %s", cases[i].in, why);
		assert_non_null(o);
		assert_int_equal(json_object_get_type(o), cases[i].type);
		json_object_put(o);
	}
}

static void test_strict_values(void **state)
{
	(void)state;
	json_object *o = NULL;
	char why[128];
	assert_int_equal(parse("\"\\u00e9\"", &o, why, sizeof(why)), 0);
	assert_string_equal(json_object_get_string(o), "\xc3\xa9");
	json_object_put(o);

	/* A bare number is complete at the end of the text. */
	assert_int_equal(parse("1234", &o, why, sizeof(why)), 0);
	assert_int_equal(json_object_get_int64(o), 1234);
	json_object_put(o);

	/* JSON null is a success with no object. */
	o = (json_object *)1;
	assert_int_equal(parse("null", &o, why, sizeof(why)), 0);
	assert_null(o);
}

static void test_strict_refuses(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		size_t len; /* 0: strlen */
		const char *why;
	} cases[] = {
		{ "{\"a\":\"x\0y\"}", 12, "frame contains a NUL byte" },
		{ "{}\0", 3, "frame contains a NUL byte" },
		{ "\"\x80\"", 0, "frame is not valid UTF-8" },
		{ "\"\xff\"", 0, "frame is not valid UTF-8" },
		{ "\"\xfe\"", 0, "frame is not valid UTF-8" },
		/* Overlong forms of '/' and of U+0000. */
		{ "\"\xc0\xaf\"", 0, "frame is not valid UTF-8" },
		{ "\"\xc1\xbf\"", 0, "frame is not valid UTF-8" },
		{ "\"\xe0\x80\xaf\"", 0, "frame is not valid UTF-8" },
		{ "\"\xf0\x80\x80\xaf\"", 0, "frame is not valid UTF-8" },
		{ "\"\xc0\x80\"", 0, "frame is not valid UTF-8" },
		/* UTF-16 surrogates and code points past U+10FFFF. */
		{ "\"\xed\xa0\x80\"", 0, "frame is not valid UTF-8" },
		{ "\"\xed\xbf\xbf\"", 0, "frame is not valid UTF-8" },
		{ "\"\xf4\x90\x80\x80\"", 0, "frame is not valid UTF-8" },
		{ "\"\xf5\x80\x80\x80\"", 0, "frame is not valid UTF-8" },
		/* Cut-off sequences, inside a string and at the very end. */
		{ "\"\xe2\x82\"", 0, "frame is not valid UTF-8" },
		{ "{}\xe2\x82", 0, "frame is not valid UTF-8" },
		{ "{\"k\xc3\":1}", 0, "frame is not valid UTF-8" },
		{ "NaN", 0, "invalid JSON at byte 0: " NONFINITE },
		{ "Infinity", 0, "invalid JSON at byte 0: " NONFINITE },
		{ "-Infinity", 0, "invalid JSON at byte 0: " NONFINITE },
		{ "[1,NaN]", 0, "invalid JSON at byte 3: " NONFINITE },
		{ "{\"a\":{\"b\":[Infinity]}}", 0,
		  "invalid JSON at byte 11: " NONFINITE },
		/* Valid syntax, but json-c reads them as infinities. */
		{ "1e400", 0, "invalid JSON: " NONFINITE },
		{ "{\"id\":-1e999}", 0, "invalid JSON: " NONFINITE },
		{ "nan", 0, "invalid JSON at byte 0: invalid literal" },
		{ "", 0, "invalid JSON at byte 0: no value" },
		{ "   ", 0, "invalid JSON at byte 3: no value" },
		{ "{", 0, "invalid JSON at byte 1: the text ends early" },
		{ "[1,2", 0, "invalid JSON at byte 4: the text ends early" },
		{ "\"abc", 0, "invalid JSON at byte 0: unterminated string" },
		{ "{} x", 0, "invalid JSON at byte 3: " TRAILING },
		{ "{}{}", 0, "invalid JSON at byte 2: " TRAILING },
		{ "[1]]", 0, "invalid JSON at byte 3: " TRAILING },
		{ "1 2", 0, "invalid JSON at byte 2: " TRAILING },
		{ "{\"a\":1}garbage", 0, "invalid JSON at byte 7: " TRAILING },
		{ "[1,]", 0, "invalid JSON at byte 3: trailing comma" },
		{ "{\"a\":1,}", 0, "invalid JSON at byte 7: trailing comma" },
		{ "{\"a\"}", 0, "invalid JSON at byte 4: expected ':'" },
		{ "{a:1}", 0, "invalid JSON at byte 1: unquoted key" },
		{ "/*c*/{}", 0, "invalid JSON at byte 0: comments" },
		{ "// c\n{}", 0, "invalid JSON at byte 0: comments" },
		{ "01", 0, "invalid JSON at byte 0: leading zero" },
		{ "tRue", 0, "invalid JSON at byte 0: invalid literal" },
		{ "\"\\x\"", 0, "invalid JSON at byte 1: invalid escape" },
		/* What json-c's strict mode would have taken. */
		{ "{'a':1}", 0, "invalid JSON at byte 1: single-quoted" },
		{ "{\"a\":\"x\n\"}", 0,
		  "invalid JSON at byte 7: control character in a string" },
		{ "1.", 0, "invalid JSON at byte 2: expected a digit" },
		{ "-01", 0, "invalid JSON at byte 0: leading zero" },
		{ "00", 0, "invalid JSON at byte 0: leading zero" },
		{ "\"\\ud800\"", 0,
		  "invalid JSON at byte 1: lone high surrogate escape" },
		{ "\"\\udc00\"", 0,
		  "invalid JSON at byte 1: lone low surrogate escape" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
		json_object *o = (json_object *)1;
		struct error e = { 0 };
		int r = json_parse_strict(cases[i].in, len, &o, &e);
		const char *why = e.message;
		if (r != -EINVAL || !starts_with(why, cases[i].why))
			fail_msg("case %zu (%s): %d \"%s\", want \"%s...\"", i,
				 cases[i].in, r, why, cases[i].why);
		assert_null(o);
	}
}

/* json-c and the syntax check agree on the depth: 32 open at once. */
static void test_strict_depth(void **state)
{
	(void)state;
	char text[80];
	char why[128] = "";
	json_object *o = NULL;
	memset(text, '[', 32);
	memset(text + 32, ']', 32);
	text[64] = '\0';
	if (parse(text, &o, why, sizeof(why)) != 0)
		fail_msg("32 levels refused: %s", why);
	assert_non_null(o);
	json_object_put(o);

	memset(text, '[', 33);
	memset(text + 33, ']', 33);
	text[66] = '\0';
	o = (json_object *)1;
	assert_int_equal(parse(text, &o, why, sizeof(why)), -EINVAL);
	assert_string_equal(why,
			    "invalid JSON at byte 32: nesting deeper than 32");
	assert_null(o);
}

static void test_strict_short_reason_buffer(void **state)
{
	(void)state;
	json_object *o = NULL;
	char why[8];
	memset(why, 'Z', sizeof(why));
	assert_int_equal(parse("\"\xff\"", &o, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "frame i");
	assert_null(o);
}

static void test_request_valid(void **state)
{
	(void)state;
	struct rpc_request req;
	request_ok("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"health\","
		   "\"params\":{\"x\":1},\"extra\":[1]}",
		   &req);
	assert_true(req.has_id);
	assert_non_null(req.id);
	assert_true(json_object_is_type(req.id, json_type_int));
	assert_int_equal(json_object_get_int64(req.id), 7);
	assert_string_equal(req.method, "health");
	assert_int_equal(req.method_len, 6);
	json_object *x = NULL;
	assert_true(json_object_object_get_ex(req.params, "x", &x));
	assert_int_equal(json_object_get_int(x), 1);
	json_object_put(req.root);
}

static void test_request_params_absent_or_null(void **state)
{
	(void)state;
	const char *bodies[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\","
		"\"params\":null}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\","
		"\"params\":{}}",
	};
	for (size_t i = 0; i < 3; i++) {
		struct rpc_request req;
		request_ok(bodies[i], &req);
		assert_int_equal(json_object_object_length(req.params), 0);
		json_object_put(req.root);
	}
}

static void test_request_notification_and_null_id(void **state)
{
	(void)state;
	struct rpc_request req;
	request_ok("{\"jsonrpc\":\"2.0\",\"method\":\"m\"}", &req);
	assert_false(req.has_id);
	assert_null(req.id);
	json_object_put(req.root);

	/* A null id is a request, not a notification. */
	request_ok("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"m\"}", &req);
	assert_true(req.has_id);
	assert_null(req.id);
	json_object_put(req.root);
}

static void test_request_ids_accepted(void **state)
{
	(void)state;
	static const struct {
		const char *id;
		enum json_type type;
	} cases[] = {
		{ "0", json_type_int },
		{ "-1", json_type_int },
		{ "9007199254740991", json_type_int },
		{ "-9007199254740991", json_type_int },
		{ "\"abc\"", json_type_string },
		{ "\"\"", json_type_string },
		{ "\"99999999999999999999999\"", json_type_string },
		/* Numbers written with a fraction or an exponent are kept. */
		{ "1.5", json_type_double },
		{ "-0.25", json_type_double },
		{ "2e3", json_type_double },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char body[128];
		snprintf(body, sizeof(body),
			 "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"m\"}",
			 cases[i].id);
		struct rpc_request req;
		request_ok(body, &req);
		assert_true(req.has_id);
		assert_non_null(req.id);
		assert_int_equal(json_object_get_type(req.id), cases[i].type);
		/* The id goes back out exactly as it came in. */
		assert_string_equal(json_object_to_json_string_ext(
					    req.id, JSON_C_TO_STRING_PLAIN),
				    cases[i].id);
		json_object_put(req.root);
	}
}

static void test_request_ids_refused(void **state)
{
	(void)state;
	const char *ids[] = {
		"9007199254740992",
		"-9007199254740992",
		"9223372036854775807",
		"-9223372036854775808",
		"9223372036854775808",
		"18446744073709551615",
		"18446744073709551616",
		"-9223372036854775809",
		"99999999999999999999999",
		"true",
		"false",
		"[]",
		"[1]",
		"{}",
		"{\"id\":1}",
	};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		char body[128];
		snprintf(body, sizeof(body),
			 "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"m\"}",
			 ids[i]);
		struct rpc_error err;
		json_object *root = request_bad(
			body, strlen(body), RPC_INVALID_REQUEST, ID_MSG, &err);
		/* The id was not valid, so the answer cannot carry it. */
		assert_null(err.id);
		json_object_put(root);
	}
}

static void test_request_nan_id_is_parse_error(void **state)
{
	(void)state;
	expect_bad("{\"jsonrpc\":\"2.0\",\"id\":NaN,\"method\":\"m\"}",
		   RPC_PARSE_ERROR,
		   "Parse error: invalid JSON at byte 22: " NONFINITE);
}

static void test_request_not_object(void **state)
{
	(void)state;
	const char *bodies[] = {
		"[]",	"[{\"jsonrpc\":\"2.0\",\"method\":\"m\"}]",
		"1",	"\"x\"",
		"true", "null",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct rpc_error err;
		json_object *root =
			request_bad(bodies[i], strlen(bodies[i]),
				    RPC_INVALID_REQUEST, NOT_OBJECT_MSG, &err);
		assert_string_equal(err.message, NOT_OBJECT_MSG);
		assert_null(err.id);
		json_object_put(root);
	}
}

static void test_request_parse_errors(void **state)
{
	(void)state;
	struct rpc_error err;
	const char bad_utf8[] =
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xc0\xaf\"}";
	json_object *root = request_bad(bad_utf8, strlen(bad_utf8),
					RPC_PARSE_ERROR, "Parse error: ", &err);
	assert_string_equal(err.message,
			    "Parse error: frame is not valid UTF-8");
	assert_null(root);
	assert_null(err.id);

	const char with_nul[] =
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"}";
	root = request_bad(with_nul, sizeof(with_nul), RPC_PARSE_ERROR,
			   "Parse error: frame contains a NUL byte", &err);
	assert_null(root);

	expect_bad("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"} {}",
		   RPC_PARSE_ERROR,
		   "Parse error: invalid JSON at byte 38: " TRAILING);
	expect_bad("{\"jsonrpc\":\"2.0\",\"id\":1,", RPC_PARSE_ERROR,
		   "Parse error: invalid JSON at byte 24: the text ends early");
	/* Refused before json-c, which would take them. */
	expect_bad("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\t\"}",
		   RPC_PARSE_ERROR,
		   "Parse error: invalid JSON at byte 35: control character "
		   "in a string");
	expect_bad("{'jsonrpc':'2.0','id':1,'method':'m'}", RPC_PARSE_ERROR,
		   "Parse error: invalid JSON at byte 1: single-quoted string");
	expect_bad("{\"jsonrpc\":\"2.0\",\"id\":1.,\"method\":\"m\"}",
		   RPC_PARSE_ERROR,
		   "Parse error: invalid JSON at byte 24: expected a digit "
		   "after the decimal point");
	expect_bad("{\"jsonrpc\":\"2.0\",\"id\":\"\\ud800\","
		   "\"method\":\"m\"}",
		   RPC_PARSE_ERROR,
		   "Parse error: invalid JSON at byte 23: lone high surrogate "
		   "escape");
}

static void test_request_version(void **state)
{
	(void)state;
	const char *versions[] = {
		NULL, /* missing */
		"\"1.0\"",  "\"2\"", "\"\"", "\"2.0 \"", "\"2.0\\u0000junk\"",
		"\"2.00\"", "2.0",   "2",    "null",	 "[\"2.0\"]",
		"{}",
	};
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		char body[128];
		if (versions[i])
			snprintf(body, sizeof(body),
				 "{\"jsonrpc\":%s,\"id\":\"r%zu\","
				 "\"method\":\"m\"}",
				 versions[i], i);
		else
			snprintf(body, sizeof(body),
				 "{\"id\":\"r%zu\",\"method\":\"m\"}", i);
		struct rpc_error err;
		json_object *root =
			request_bad(body, strlen(body), RPC_INVALID_REQUEST,
				    VERSION_MSG, &err);
		/* The id was valid, so the answer carries it. */
		char want[16];
		snprintf(want, sizeof(want), "r%zu", i);
		assert_non_null(err.id);
		assert_string_equal(json_object_get_string(err.id), want);
		json_object_put(root);
	}
}

static void test_request_method(void **state)
{
	(void)state;
	struct rpc_error err;
	const char *missing = "{\"jsonrpc\":\"2.0\",\"id\":3}";
	json_object *root =
		request_bad(missing, strlen(missing), RPC_INVALID_REQUEST,
			    METHOD_MISSING_MSG, &err);
	assert_int_equal(json_object_get_int64(err.id), 3);
	json_object_put(root);

	const char *methods[] = {
		"5", "null", "\"\"", "[\"m\"]", "{}", "true"
	};
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		char body[128];
		snprintf(body, sizeof(body),
			 "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":%s}",
			 methods[i]);
		root = request_bad(body, strlen(body), RPC_INVALID_REQUEST,
				   METHOD_TYPE_MSG, &err);
		assert_int_equal(json_object_get_int64(err.id), 3);
		json_object_put(root);
	}
}

static void test_request_method_with_nul(void **state)
{
	(void)state;
	struct rpc_request req;
	request_ok("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ab\\u0000c\"}",
		   &req);
	/* The length tells it apart from the method "ab". */
	assert_int_equal(req.method_len, 4);
	assert_int_equal(strlen(req.method), 2);
	assert_memory_equal(req.method, "ab\0c", 4);
	json_object_put(req.root);
}

static void test_request_params(void **state)
{
	(void)state;
	expect_bad("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\","
		   "\"params\":[1,2]}",
		   RPC_INVALID_PARAMS, PARAMS_ARRAY_MSG);
	expect_bad("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\","
		   "\"params\":[]}",
		   RPC_INVALID_PARAMS, PARAMS_ARRAY_MSG);
	const char *params[] = { "1", "\"x\"", "true", "false", "1.5" };
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		char body[128];
		snprintf(body, sizeof(body),
			 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\","
			 "\"params\":%s}",
			 params[i]);
		expect_bad(body, RPC_INVALID_REQUEST, PARAMS_TYPE_MSG);
	}
}

static void test_request_check_order(void **state)
{
	(void)state;
	/* Everything wrong at once: the id is reported first. */
	expect_bad("{\"jsonrpc\":\"1.0\",\"id\":true,\"params\":[]}",
		   RPC_INVALID_REQUEST, ID_MSG);
	/* Then the version, before the method. */
	expect_bad("{\"jsonrpc\":\"1.0\",\"id\":1,\"params\":[]}",
		   RPC_INVALID_REQUEST, VERSION_MSG);
	/* Then the method, before the params. */
	expect_bad("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":1,\"params\":[]}",
		   RPC_INVALID_REQUEST, METHOD_TYPE_MSG);
	/* A notification with a bad envelope is still an error, id-less. */
	struct rpc_error err;
	const char *body = "{\"jsonrpc\":\"2.0\",\"method\":\"\"}";
	json_object *root = request_bad(body, strlen(body), RPC_INVALID_REQUEST,
					METHOD_TYPE_MSG, &err);
	assert_null(err.id);
	json_object_put(root);
}

static void test_error_kinds(void **state)
{
	(void)state;
	static const struct {
		enum error_kind kind;
		const char *name;
		int code;
	} cases[] = {
		{ ERR_INVALID_ARGUMENT, "invalid_argument", -32602 },
		{ ERR_NOT_FOUND, "not_found", -32004 },
		{ ERR_BUSY, "busy", -32005 },
		{ ERR_CONFLICT, "conflict", -32009 },
		{ ERR_TIMEOUT, "timeout", -32008 },
		{ ERR_UNSUPPORTED, "unsupported", -32010 },
		{ ERR_INTERNAL, "internal", -32603 },
	};
	assert_int_equal(sizeof(cases) / sizeof(cases[0]), ERR__MAX);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_string_equal(error_kind_name(cases[i].kind),
				    cases[i].name);
		assert_int_equal(error_kind_code(cases[i].kind), cases[i].code);
		assert_int_equal(error_kind_from_name(cases[i].name),
				 cases[i].kind);
	}
	assert_int_equal(RPC_INVALID_PARAMS, -32602);
	assert_int_equal(RPC_INTERNAL_ERROR, -32603);
	/* Anything out of range is treated as an internal fault. */
	assert_string_equal(error_kind_name(ERR__MAX), "internal");
	assert_string_equal(error_kind_name((enum error_kind) - 1), "internal");
	assert_int_equal(error_kind_code(ERR__MAX), RPC_INTERNAL_ERROR);
	assert_int_equal(error_kind_from_name("Busy"), -1);
	assert_int_equal(error_kind_from_name("busy "), -1);
	assert_int_equal(error_kind_from_name(""), -1);
	assert_int_equal(error_kind_from_name(NULL), -1);
}

static const char *str_member(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		fail_msg("no string member \"%s\"", key);
	return json_object_get_string(v);
}

static void test_make_result(void **state)
{
	(void)state;
	struct rpc_request req;
	request_ok("{\"jsonrpc\":\"2.0\",\"id\":\"q-1\",\"method\":\"m\"}",
		   &req);
	json_object *result = json_object_new_object();
	json_object_object_add(result, "status", json_object_new_string("ok"));
	json_object *resp = rpc_make_result(req.id, result);
	/* The response holds its own reference to the id. */
	json_object_put(req.root);

	assert_string_equal(str_member(resp, "jsonrpc"), "2.0");
	assert_string_equal(str_member(resp, "id"), "q-1");
	json_object *res = NULL;
	assert_true(json_object_object_get_ex(resp, "result", &res));
	assert_ptr_equal(res, result);
	assert_string_equal(str_member(res, "status"), "ok");
	assert_false(json_object_object_get_ex(resp, "error", NULL));
	assert_int_equal(json_object_object_length(resp), 3);
	json_object_put(resp);
}

static void test_make_result_null_id_and_result(void **state)
{
	(void)state;
	json_object *resp = rpc_make_result(NULL, NULL);
	json_object *v = (json_object *)1;
	assert_true(json_object_object_get_ex(resp, "id", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(resp, "result", &v));
	assert_true(json_object_is_type(v, json_type_object));
	assert_int_equal(json_object_object_length(v), 0);
	assert_string_equal(
		json_object_to_json_string_ext(resp, JSON_C_TO_STRING_PLAIN),
		"{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{}}");
	json_object_put(resp);
}

static void test_make_error_every_kind(void **state)
{
	(void)state;
	for (int k = 0; k < ERR__MAX; k++) {
		json_object *id = json_object_new_int64(9007199254740991LL);
		json_object *resp = rpc_make_error(
			id, error_kind_code((enum error_kind)k),
			(enum error_kind)k, "Something: went wrong");
		json_object_put(id);

		assert_string_equal(str_member(resp, "jsonrpc"), "2.0");
		json_object *v = NULL;
		assert_true(json_object_object_get_ex(resp, "id", &v));
		assert_int_equal(json_object_get_int64(v), 9007199254740991LL);
		assert_false(json_object_object_get_ex(resp, "result", NULL));
		json_object *e = NULL;
		assert_true(json_object_object_get_ex(resp, "error", &e));
		assert_true(json_object_object_get_ex(e, "code", &v));
		assert_true(json_object_is_type(v, json_type_int));
		assert_int_equal(json_object_get_int(v),
				 error_kind_code((enum error_kind)k));
		assert_string_equal(str_member(e, "message"),
				    "Something: went wrong");
		json_object *data = NULL;
		assert_true(json_object_object_get_ex(e, "data", &data));
		assert_string_equal(str_member(data, "kind"),
				    error_kind_name((enum error_kind)k));
		json_object_put(resp);
	}
}

static void test_make_error_protocol_code(void **state)
{
	(void)state;
	/* A protocol code is sent as given, whatever the kind's own code. */
	json_object *resp =
		rpc_make_error(NULL, RPC_METHOD_NOT_FOUND, ERR_NOT_FOUND,
			       "Method not found: \"nope\"");
	assert_string_equal(
		json_object_to_json_string_ext(resp, JSON_C_TO_STRING_PLAIN),
		"{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32601,"
		"\"message\":\"Method not found: \\\"nope\\\"\","
		"\"data\":{\"kind\":\"not_found\"}}}");
	json_object_put(resp);
}

static void test_error_answer_for_refused_request(void **state)
{
	(void)state;
	/* What the daemon does with a bad request: answer with the
	 * recovered id, then drop the document. */
	struct rpc_error err;
	const char *body =
		"{\"jsonrpc\":\"2.0\",\"id\":[\"x\"],\"method\":\"m\"}";
	json_object *root = request_bad(body, strlen(body), RPC_INVALID_REQUEST,
					ID_MSG, &err);
	json_object *resp =
		rpc_make_error(err.id, err.code, err.kind, err.message);
	json_object_put(root);
	json_object *v = (json_object *)1;
	assert_true(json_object_object_get_ex(resp, "id", &v));
	assert_null(v);
	json_object_put(resp);

	body = "{\"jsonrpc\":\"1.0\",\"id\":12,\"method\":\"m\"}";
	root = request_bad(body, strlen(body), RPC_INVALID_REQUEST, VERSION_MSG,
			   &err);
	resp = rpc_make_error(err.id, err.code, err.kind, err.message);
	json_object_put(root);
	assert_true(json_object_object_get_ex(resp, "id", &v));
	assert_int_equal(json_object_get_int64(v), 12);
	json_object *e = NULL;
	assert_true(json_object_object_get_ex(resp, "error", &e));
	assert_true(json_object_object_get_ex(e, "code", &v));
	assert_int_equal(json_object_get_int(v), RPC_INVALID_REQUEST);
	json_object *data = NULL;
	assert_true(json_object_object_get_ex(e, "data", &data));
	assert_string_equal(str_member(data, "kind"), "invalid_argument");
	json_object_put(resp);
}

static void test_built_request_round_trip(void **state)
{
	(void)state;
	json_object *params = json_object_new_object();
	json_object_object_add(params, "stream", json_object_new_boolean(1));
	json_object *out = rpc_make_request(42, "execute", params);
	const char *text =
		json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN);
	struct rpc_request req;
	request_ok(text, &req);
	assert_true(req.has_id);
	assert_int_equal(json_object_get_int64(req.id), 42);
	assert_string_equal(req.method, "execute");
	json_object *v = NULL;
	assert_true(json_object_object_get_ex(req.params, "stream", &v));
	assert_true(json_object_get_boolean(v));
	json_object_put(req.root);
	json_object_put(out);

	out = rpc_make_notification("stream", NULL);
	text = json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN);
	request_ok(text, &req);
	assert_false(req.has_id);
	assert_string_equal(req.method, "stream");
	assert_int_equal(json_object_object_length(req.params), 0);
	json_object_put(req.root);
	json_object_put(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strict_accepts_json),
		cmocka_unit_test(test_strict_values),
		cmocka_unit_test(test_strict_refuses),
		cmocka_unit_test(test_strict_depth),
		cmocka_unit_test(test_strict_short_reason_buffer),
		cmocka_unit_test(test_request_valid),
		cmocka_unit_test(test_request_params_absent_or_null),
		cmocka_unit_test(test_request_notification_and_null_id),
		cmocka_unit_test(test_request_ids_accepted),
		cmocka_unit_test(test_request_ids_refused),
		cmocka_unit_test(test_request_nan_id_is_parse_error),
		cmocka_unit_test(test_request_not_object),
		cmocka_unit_test(test_request_parse_errors),
		cmocka_unit_test(test_request_version),
		cmocka_unit_test(test_request_method),
		cmocka_unit_test(test_request_method_with_nul),
		cmocka_unit_test(test_request_params),
		cmocka_unit_test(test_request_check_order),
		cmocka_unit_test(test_error_kinds),
		cmocka_unit_test(test_make_result),
		cmocka_unit_test(test_make_result_null_id_and_result),
		cmocka_unit_test(test_make_error_every_kind),
		cmocka_unit_test(test_make_error_protocol_code),
		cmocka_unit_test(test_error_answer_for_refused_request),
		cmocka_unit_test(test_built_request_round_trip),
	};
	return cmocka_run_group_tests_name("jsonrpc", tests, NULL, NULL);
}
