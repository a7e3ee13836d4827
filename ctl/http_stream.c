/* POST /execute/stream: the daemon's stream notifications as Server-Sent
 * Events, one `data: <StreamEvent JSON>` frame each. */
#include "http_stream.h"

#include "cleanup.h"
#include "http_bridge.h"
#include "http_reply.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct sse_stream {
	struct rpc_client c;
	int keepalive_ms;
	long long id;
	int client_fd;
	struct strbuf buf; /* frames, from off on not yet taken by MHD */
	size_t off;
	bool done;	 /* the execution's final answer has come */
	bool error_sent; /* an error event went out already */
};

static void stream_free(void *cls)
{
	struct sse_stream *s = cls;
	/* Closing the connection cancels an execution still running. */
	rpc_client_close(&s->c);
	strbuf_free(&s->buf);
	free(s);
}

static int append_event(struct sse_stream *s, json_object *event)
{
	size_t n;
	const char *text = json_object_to_json_string_length(
		event, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		&n);
	int r = strbuf_add(&s->buf, "data: ", 6);
	if (r >= 0)
		r = strbuf_add(&s->buf, text, n);
	return r < 0 ? r : strbuf_add(&s->buf, "\n\n", 2);
}

static int append_error(struct sse_stream *s, const char *message)
{
	_cleanup_json_ json_object *ev = json_object_new_object();
	json_object_object_add(ev, "type", json_object_new_string("error"));
	json_object_object_add(ev, "data", json_object_new_string(message));
	s->done = true;
	return append_event(s, ev);
}

/* Takes in what msg says about the execution. */
static int take(struct sse_stream *s, json_object *msg)
{
	json_object *v = NULL;
	switch (rpc_message_about(msg, s->id, &v)) {
	case RPC_NOTIFY: {
		json_object *type = NULL;
		json_object_object_get_ex(v, "type", &type);
		if (strcmp(json_object_get_string(type) ?: "", "error") == 0)
			s->error_sent = true;
		/* The RPC id means nothing to an HTTP client. */
		_cleanup_json_ json_object *ev = json_object_new_object();
		json_object_object_foreach(v, key,
					   val) if (strcmp(key, "id") != 0)
			json_object_object_add(ev, key, json_object_get(val));
		return append_event(s, ev);
	}
	case RPC_RESULT:
		s->done = true;
		return 0;
	case RPC_ERROR: {
		/* The daemon streams a failure before it answers with it. */
		if (s->error_sent) {
			s->done = true;
			return 0;
		}
		json_object *m = NULL;
		json_object_object_get_ex(v, "message", &m);
		return append_error(s, json_object_get_string(m));
	}
	case RPC_OTHER:
		return 0;
	default:
		return -EBADMSG;
	}
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct sse_stream *s = cls;
	while (s->off == s->buf.len && !s->done) {
		s->off = 0;
		strbuf_reset(&s->buf);
		int err = rpc_client_wait(&s->c, s->client_fd, s->keepalive_ms);
		if (err == -ECONNABORTED)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		/* A comment line, which SSE clients skip, so that a program
		 * quiet for long does not look like an idle client. */
		if (err == -ETIMEDOUT) {
			if (strbuf_add(&s->buf, ": keepalive\n\n", 13) < 0)
				return MHD_CONTENT_READER_END_WITH_ERROR;
			continue;
		}
		_cleanup_json_ json_object *msg = NULL;
		if (err >= 0)
			err = rpc_client_read(&s->c, &msg);
		if (err >= 0)
			err = take(s, msg);
		if (err < 0 &&
		    append_error(s, "isol8d closed the connection before the "
				    "execution ended (was it restarted?)") < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	if (s->off == s->buf.len)
		return MHD_CONTENT_READER_END_OF_STREAM;
	size_t n = s->buf.len - s->off < max ? s->buf.len - s->off : max;
	memcpy(buf, s->buf.p + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

/* Reads until the daemon answered the probe sent behind the execution: it
 * handles a connection's requests in order, so by then any refusal of the
 * execution itself (bad request, busy) has come and can still become an
 * HTTP status.  1 to go on streaming, 0 after such a reply, or -errno. */
static int await_acceptance(struct http_request *r, struct sse_stream *s,
			    long long probe)
{
	for (;;) {
		_cleanup_json_ json_object *msg = NULL;
		int err = rpc_client_read(&s->c, &msg);
		if (err < 0)
			return err;
		json_object *v = NULL;
		if (rpc_message_about(msg, s->id, &v) == RPC_ERROR) {
			http_reply_rpc_error(r, v);
			return 0;
		}
		if (rpc_message_about(msg, probe, &v) >= RPC_RESULT)
			return 1;
		err = take(s, msg);
		if (err < 0)
			return err;
	}
}

enum MHD_Result http_execute_stream(struct http_request *r, json_object *params)
{
	_cleanup_json_ json_object *owned = params;
	json_object_object_add(params, "stream", json_object_new_boolean(true));
	struct sse_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return MHD_NO;
	s->client_fd = http_client_fd(r);
	s->keepalive_ms = (int)(r->bridge->idle_sec * 1000 / 2);
	if (bridge_connect(r, &s->c) < 0) {
		free(s);
		return r->ret;
	}
	long long probe;
	int err = rpc_client_send(&s->c, "execute", TAKE_PTR(owned), &s->id);
	if (err >= 0)
		err = rpc_client_send(&s->c, "health", NULL, &probe);
	if (err >= 0)
		err = await_acceptance(r, s, probe);
	if (err <= 0) {
		if (err < 0)
			http_reply_unreachable(r, -err);
		stream_free(s);
		return r->ret;
	}
	struct MHD_Response *resp = MHD_create_response_from_callback(
		MHD_SIZE_UNKNOWN, 16384, stream_read, s, stream_free);
	if (!resp) {
		stream_free(s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/event-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				"no-cache");
	r->replied = true;
	r->ret = MHD_queue_response(r->conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return r->ret;
}
