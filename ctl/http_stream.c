/* An execution's events streamed from the daemon, and POST /execute/stream:
 * them as Server-Sent Events, one `data: <StreamEvent JSON>` frame each. */
#include "http_stream.h"

#include "cleanup.h"
#include "http_bridge.h"
#include "http_reply.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- the execution, whatever carries its events ---- */

json_object *stream_error_event(const char *message)
{
	json_object *ev = json_object_new_object();
	json_object_object_add(ev, "type", json_object_new_string("error"));
	json_object_object_add(ev, "data", json_object_new_string(message));
	return ev;
}

/* What msg says about the execution: 1 with an event for the client in
 * *event, 0 with none, or -EBADMSG. */
static int take(struct exec_stream *s, json_object *msg, json_object **event)
{
	json_object *v = NULL;
	*event = NULL;
	switch (rpc_message_about(msg, s->id, &v)) {
	case RPC_NOTIFY: {
		json_object *type = NULL;
		json_object_object_get_ex(v, "type", &type);
		if (strcmp(json_object_get_string(type) ?: "", "error") == 0)
			s->error_sent = true;
		/* The RPC id means nothing to an HTTP client. */
		json_object *ev = json_object_new_object();
		json_object_object_foreach(v, key,
					   val) if (strcmp(key, "id") != 0)
			json_object_object_add(ev, key, json_object_get(val));
		*event = ev;
		return 1;
	}
	case RPC_RESULT:
		s->done = true;
		return 0;
	case RPC_ERROR: {
		/* The daemon streams a failure before it answers with it. */
		s->done = true;
		if (s->error_sent)
			return 0;
		json_object *m = NULL;
		json_object_object_get_ex(v, "message", &m);
		*event = stream_error_event(json_object_get_string(m));
		return 1;
	}
	case RPC_OTHER:
		return 0;
	default:
		return -EBADMSG;
	}
}

/* Reads until the daemon answered the probe sent behind the execution: it
 * handles a connection's requests in order, so by then any refusal of the
 * execution itself (bad request, busy) has come, and can still become an
 * HTTP status.  Events before that wait in s->early. */
static int await_acceptance(struct exec_stream *s, long long probe,
			    json_object **refusal)
{
	for (;;) {
		_cleanup_json_ json_object *msg = NULL;
		int err = rpc_client_read(&s->c, &msg);
		if (err < 0)
			return err;
		json_object *v = NULL;
		if (rpc_message_about(msg, s->id, &v) == RPC_ERROR) {
			*refusal = json_object_get(v);
			return 0;
		}
		if (rpc_message_about(msg, probe, &v) >= RPC_RESULT)
			return 1;
		json_object *ev = NULL;
		err = take(s, msg, &ev);
		if (err < 0)
			return err;
		if (ev)
			json_object_array_add(s->early, ev);
	}
}

int exec_stream_start(struct exec_stream *s, const char *socket_path,
		      const char *act_as, json_object *params,
		      json_object **refusal)
{
	_cleanup_json_ json_object *owned = params;
	memset(s, 0, sizeof(*s));
	*refusal = NULL;
	s->c.fd = -1;
	s->early = json_object_new_array();
	json_object_object_add(params, "stream", json_object_new_boolean(true));
	int err = rpc_client_connect(&s->c, socket_path);
	if (err < 0)
		return err;
	s->c.act_as = act_as;
	long long probe;
	err = rpc_client_send(&s->c, "execute", TAKE_PTR(owned), &s->id);
	if (err >= 0)
		err = rpc_client_send(&s->c, "health", NULL, &probe);
	return err < 0 ? err : await_acceptance(s, probe, refusal);
}

int exec_stream_next(struct exec_stream *s, int watch_fd, int timeout_ms,
		     json_object **event)
{
	*event = NULL;
	if (s->early_next < json_object_array_length(s->early)) {
		*event = json_object_get(
			json_object_array_get_idx(s->early, s->early_next++));
		return 1;
	}
	while (!s->done) {
		int err = rpc_client_wait(&s->c, watch_fd, timeout_ms);
		if (err == -ECONNABORTED || err == -ETIMEDOUT)
			return err;
		_cleanup_json_ json_object *msg = NULL;
		if (err >= 0)
			err = rpc_client_read(&s->c, &msg);
		if (err >= 0)
			err = take(s, msg, event);
		if (err > 0)
			return 1;
		if (err < 0) {
			s->done = true;
			*event = stream_error_event(
				"isol8d closed the connection before the "
				"execution ended (was it restarted?)");
			return 1;
		}
	}
	return 0;
}

int exec_stream_fd(const struct exec_stream *s)
{
	return s->c.fd;
}

void exec_stream_close(struct exec_stream *s)
{
	rpc_client_close(&s->c);
	json_object_put(s->early);
	s->early = NULL;
}

/* ---- Server-Sent Events ---- */

struct sse_stream {
	struct exec_stream x;
	int keepalive_ms;
	int client_fd;
	struct strbuf buf; /* frames, from off on not yet taken by MHD */
	size_t off;
	bool ended; /* the last event is in buf */
};

static void sse_free(void *cls)
{
	struct sse_stream *s = cls;
	exec_stream_close(&s->x);
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

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct sse_stream *s = cls;
	while (s->off == s->buf.len && !s->ended) {
		s->off = 0;
		strbuf_reset(&s->buf);
		_cleanup_json_ json_object *ev = NULL;
		int err = exec_stream_next(&s->x, s->client_fd, s->keepalive_ms,
					   &ev);
		/* A comment line, which SSE clients skip, so that a program
		 * quiet for long does not look like an idle client. */
		if (err == -ETIMEDOUT)
			err = strbuf_add(&s->buf, ": keepalive\n\n", 13);
		else if (err > 0)
			err = append_event(s, ev);
		else if (err == 0)
			s->ended = true;
		if (err < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	if (s->off == s->buf.len)
		return MHD_CONTENT_READER_END_OF_STREAM;
	size_t n = s->buf.len - s->off < max ? s->buf.len - s->off : max;
	memcpy(buf, s->buf.p + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

enum MHD_Result http_execute_stream(struct http_request *r, json_object *params)
{
	struct sse_stream *s = calloc(1, sizeof(*s));
	if (!s) {
		json_object_put(params);
		return MHD_NO;
	}
	s->client_fd = http_client_fd(r);
	s->keepalive_ms = (int)(r->bridge->idle_sec * 1000 / 2);
	_cleanup_json_ json_object *refusal = NULL;
	int err = exec_stream_start(&s->x, r->bridge->socket_path, r->act_as,
				    params, &refusal);
	if (err <= 0) {
		if (err < 0)
			http_reply_unreachable(r, -err);
		else
			http_reply_rpc_error(r, refusal);
		sse_free(s);
		return r->ret;
	}
	struct MHD_Response *resp = MHD_create_response_from_callback(
		MHD_SIZE_UNKNOWN, 16384, sse_read, s, sse_free);
	if (!resp) {
		sse_free(s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/event-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				"no-cache");
	return http_queue(r, MHD_HTTP_OK, resp);
}
