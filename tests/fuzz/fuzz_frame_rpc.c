/* Fuzz target: a byte stream as a client would send it, through the
 * incremental frame parser in chunks of varying size, then every frame
 * through strict JSON parsing, request validation and the answer.
 *
 * Invariants checked besides memory safety:
 * - how the stream is cut into reads never changes the frames that come out
 *   nor the error that ends them;
 * - a frame is NUL-terminated, within the limit and never empty;
 * - the request validation agrees with json_parse_strict on what parses;
 * - whatever json_syntax_check passes, json-c's strict mode parses too, and
 *   json_parse_strict takes nothing it refuses and builds the same value;
 * - every answer serialises to text that parses strictly again. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "json_syntax.h"
#include "jsonrpc.h"
#include "utf8.h"

#define MAX_FRAME 65536
#define MAX_FRAMES 64
#define JSON_DEPTH 32 /* as JSON_MAX_DEPTH in jsonrpc.c */

struct frame_list {
	char *body[MAX_FRAMES];
	size_t len[MAX_FRAMES];
	size_t count;
	int end; /* 0, or the error that stopped the parser */
	int mid_frame;
};

static void list_free(struct frame_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->body[i]);
	l->count = 0;
}

/* Takes frames out of data until it is used up; chunk_of gives the size of
 * each read.  Stops at the first error, as the daemon does. */
static void split(const uint8_t *data, size_t size, struct frame_list *l,
		  size_t (*chunk_of)(const uint8_t *, size_t, size_t, size_t))
{
	struct frame_parser p;
	frame_parser_init(&p, MAX_FRAME);
	memset(l, 0, sizeof(*l));
	size_t off = 0, n_read = 0;
	while (off < size && !l->end) {
		size_t n = chunk_of(data, size, off, n_read++);
		if (n == 0 || n > size - off)
			n = size - off;
		const uint8_t *d = data + off;
		size_t avail = n;
		while (avail > 0) {
			char *body = NULL;
			size_t len = 0;
			int r = frame_parser_next(&p, &d, &avail, &body, &len);
			if (r < 0) {
				if (r != -EBADMSG && r != -EMSGSIZE)
					abort();
				l->end = r;
				break;
			}
			if (r == 0) {
				if (avail != 0 || body)
					abort();
				break;
			}
			if (!body || len == 0 || len > MAX_FRAME ||
			    body[len] != '\0')
				abort();
			if (l->count == MAX_FRAMES) {
				free(body);
				l->end = -ENOSPC;
				break;
			}
			l->body[l->count] = body;
			l->len[l->count] = len;
			l->count++;
		}
		if ((size_t)(d - data) != off + n - avail)
			abort();
		off += n;
	}
	l->mid_frame = !l->end && frame_parser_mid_frame(&p);
	frame_parser_reset(&p);
}

static size_t whole(const uint8_t *data, size_t size, size_t off, size_t i)
{
	(void)data;
	(void)off;
	(void)i;
	return size;
}

/* Read sizes taken from the stream itself: mostly short reads, some of a
 * single byte, now and then a large one. */
static size_t varying(const uint8_t *data, size_t size, size_t off, size_t i)
{
	(void)size;
	uint8_t b = data[off];
	switch ((b ^ i) & 3) {
	case 0:
		return 1;
	case 1:
		return 1 + b % 7;
	case 2:
		return 1 + (size_t)b * 3;
	default:
		return 1 + (b >> 2);
	}
}

/* Checks that serialising an answer gives strictly parseable JSON. */
static void check_answer(json_object *resp)
{
	size_t len = 0;
	const char *text = json_object_to_json_string_length(
		resp, JSON_C_TO_STRING_PLAIN, &len);
	if (!text)
		abort();
	json_object *back = NULL;
	if (json_parse_strict(text, len, &back, NULL) < 0 ||
	    !json_object_is_type(back, json_type_object))
		abort();
	json_object_put(back);
}

/* Checks that json-c in strict mode parses what the syntax check passes,
 * to the value json_parse_strict built (doc, when it took the text);
 * returns the check's result.  1e400 is syntax, and a success for json-c
 * too (as infinity). */
static int check_syntax(const char *body, size_t len, int parsed,
			json_object *doc)
{
	if (!utf8_valid(body, len))
		return -EINVAL;
	int r = json_syntax_check(body, len, JSON_DEPTH, NULL);
	if (r < 0)
		return r;
	json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
	if (!tok)
		return r;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	json_object *o = json_tokener_parse_ex(tok, body, (int)len + 1);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) < len)
		abort();
	if (parsed == 0 && !json_object_equal(o, doc))
		abort();
	json_object_put(o);
	json_tokener_free(tok);
	return r;
}

static void handle(const char *body, size_t len)
{
	json_object *doc = NULL;
	int parsed = json_parse_strict(body, len, &doc, NULL);
	if (parsed < 0 && doc)
		abort();
	if (check_syntax(body, len, parsed, doc) < 0 && parsed == 0)
		abort();

	struct rpc_request req;
	struct rpc_error err;
	json_object *bad_root = NULL;
	int r = rpc_parse_request(body, len, &req, &err, &bad_root);
	if (parsed < 0 && (r == 0 || err.code != RPC_PARSE_ERROR))
		abort();
	if (parsed == 0 && r < 0 && err.code == RPC_PARSE_ERROR)
		abort();
	json_object_put(doc);

	json_object *resp;
	if (r == 0) {
		if (bad_root || !req.root || !req.method || !req.params ||
		    req.method_len == 0 || (req.id && !req.has_id))
			abort();
		/* The params as the result: an answer nested exactly as deep
		 * as the request, which the depth limit let through. */
		resp = rpc_make_result(req.id, json_object_get(req.params));
		check_answer(resp);
		json_object_put(resp);

		enum error_kind kind =
			(enum error_kind)(req.method_len % ERR__MAX);
		resp = rpc_make_error(req.id, error_kind_code(kind), kind,
				      req.method);
		json_object_put(req.root);
	} else {
		if (r != -EINVAL || err.kind != ERR_INVALID_ARGUMENT ||
		    (err.id && !bad_root))
			abort();
		resp = rpc_make_error(err.id, err.code, err.kind, err.message);
		json_object_put(bad_root);
	}
	check_answer(resp);
	json_object_put(resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_list a, b;
	split(data, size, &a, whole);
	split(data, size, &b, varying);
	if (a.count != b.count || a.end != b.end || a.mid_frame != b.mid_frame)
		abort();
	for (size_t i = 0; i < a.count; i++) {
		if (a.len[i] != b.len[i] ||
		    memcmp(a.body[i], b.body[i], a.len[i]) != 0)
			abort();
		handle(a.body[i], a.len[i]);
	}
	list_free(&a);
	list_free(&b);
	return 0;
}
