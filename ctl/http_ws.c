/* GET /execute/ws: isol8's WebSocket protocol (proto/PROTOCOL.md, "isol8
 * compatibility").  The client sends one {"type":"execute"} message; each
 * StreamEvent goes back as a text frame, the same objects as over SSE; the
 * server closes with 1000 "Execution complete".
 *
 * MHD serves each connection on a thread of its own, so the upgraded
 * socket is served right in the upgrade handler.  Its time is bounded: by
 * the idle timeout while the execute message is awaited, by the daemon's
 * execution timeout while it runs (with pings to find a client gone), and
 * by the idle timeout again for the closing handshake. */
#include "http_ws.h"

#include "cleanup.h"
#include "http_bridge.h"
#include "http_reply.h"
#include "http_stream.h"
#include "jsonrpc.h"
#include "ws_frame.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

struct ws_conn {
	int fd;
	struct ws_reader rd;
	struct strbuf out; /* the frame being sent */
	int idle_ms;
	bool heard; /* the client sent something since the last look */
	const struct bridge *bridge;
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* ---- the socket ---- */

/* Sends w->out whole; a client that takes none of it for the idle timeout
 * is gone (-ETIMEDOUT). */
static int ws_flush(struct ws_conn *w)
{
	size_t off = 0;
	while (off < w->out.len) {
		ssize_t n = send(w->fd, w->out.p + off, w->out.len - off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		struct pollfd p = { .fd = w->fd, .events = POLLOUT };
		int r = poll(&p, 1, w->idle_ms);
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
	strbuf_reset(&w->out);
	return 0;
}

static int ws_send(struct ws_conn *w, enum ws_opcode op, const void *data,
		   size_t len)
{
	strbuf_reset(&w->out);
	int err = ws_frame_append(&w->out, op, data, len);
	return err < 0 ? err : ws_flush(w);
}

static int ws_send_event(struct ws_conn *w, json_object *event)
{
	size_t n;
	const char *text = json_object_to_json_string_length(
		event, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		&n);
	return ws_send(w, WS_TEXT, text, n);
}

static int ws_send_error(struct ws_conn *w, const char *message)
{
	_cleanup_json_ json_object *ev = stream_error_event(message);
	return ws_send_event(w, ev);
}

/* The closing frame; what becomes of it no longer matters. */
static void ws_close(struct ws_conn *w, uint16_t code, const char *reason)
{
	strbuf_reset(&w->out);
	if (ws_close_append(&w->out, code, reason) == 0)
		ws_flush(w);
}

/* Reads what the client sent within timeout_ms: 0, -ETIMEDOUT, or
 * -ECONNRESET once it hung up. */
static int ws_read(struct ws_conn *w, int timeout_ms)
{
	struct pollfd p = { .fd = w->fd, .events = POLLIN };
	int r = poll(&p, 1, timeout_ms < 0 ? 0 : timeout_ms);
	if (r == 0)
		return -ETIMEDOUT;
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	char buf[16384];
	ssize_t n = recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n == 0)
		return -ECONNRESET;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	w->heard = true;
	return ws_reader_feed(&w->rd, buf, (size_t)n);
}

/* ---- the client's messages ---- */

/* What the client's message m asks for: 1 with the execute params in
 * *params, 0 to go on, or a negative errno when the connection is over
 * (its closing frame sent).  While running, params is NULL. */
static int ws_take(struct ws_conn *w, const struct ws_message *m,
		   json_object **params)
{
	if (m->opcode == WS_PING)
		return ws_send(w, WS_PONG, m->data, m->len);
	if (m->opcode == WS_PONG)
		return 0;
	if (m->opcode == WS_CLOSE) {
		ws_close(w,
			 m->code == WS_CLOSE_NO_STATUS ? WS_CLOSE_NORMAL
						       : m->code,
			 "");
		return -ECONNRESET;
	}
	_cleanup_json_ json_object *msg = NULL;
	if (json_parse_strict(m->data, m->len, &msg, NULL) < 0 || !msg) {
		ws_send_error(w, "Invalid JSON message");
		ws_close(w, WS_CLOSE_UNSUPPORTED, "Invalid JSON");
		return -EPROTO;
	}
	json_object *t = NULL;
	json_object_object_get_ex(msg, "type", &t);
	const char *type = json_object_is_type(t, json_type_string)
				   ? json_object_get_string(t)
				   : NULL;
	/* Reserved by isol8 for later, and ignored there too. */
	if (type && (!strcmp(type, "stdin") || !strcmp(type, "signal")))
		return 0;
	if (!type || strcmp(type, "execute") != 0) {
		char text[160];
		snprintf(text, sizeof(text), "Unknown message type: %.100s",
			 type ? type : "undefined");
		return ws_send_error(w, text);
	}
	if (!params)
		return ws_send_error(w, "An execution is already running on "
					"this connection");
	*params = bridge_execute_params(w->bridge, msg);
	if (*params)
		return 1;
	ws_send_error(w, "The execute message needs a \"request\" object "
			 "(an ExecutionRequest)");
	ws_close(w, WS_CLOSE_NORMAL, "Execution complete");
	return -EINVAL;
}

/* Takes every whole message read so far; as ws_take. */
static int ws_drain(struct ws_conn *w, json_object **params)
{
	for (;;) {
		struct ws_message m;
		int r = ws_reader_next(&w->rd, &m);
		if (r == -EPROTO) {
			ws_close(w, w->rd.error_code, w->rd.error_reason);
			return r;
		}
		if (r <= 0)
			return r;
		r = ws_take(w, &m, params);
		if (r != 0)
			return r;
	}
}

/* The execute message, within the idle timeout of the upgrade however
 * much else the client sends: 1 with its params, or a negative errno. */
static int ws_await_execute(struct ws_conn *w, json_object **params)
{
	long long deadline = now_ms() + w->idle_ms;
	int err = ws_drain(w, params);
	while (err == 0) {
		err = ws_read(w, (int)(deadline - now_ms()));
		if (err == 0)
			err = ws_drain(w, params);
	}
	if (err == -ETIMEDOUT)
		ws_close(w, WS_CLOSE_GOING_AWAY,
			 "No execute message within the idle timeout");
	return err;
}

/* ---- the execution ---- */

/* Carries the execution's events to the client until the last: 0, or a
 * negative errno when the client went away or broke the protocol. */
static int ws_stream(struct ws_conn *w, struct exec_stream *x)
{
	bool pinged = false;
	int err = ws_drain(w, NULL);
	while (err >= 0) {
		json_object *ev = NULL;
		while ((err = exec_stream_next(x, -1, 0, &ev)) == 1) {
			err = ws_send_event(w, ev);
			json_object_put(ev);
			if (err < 0)
				return err;
		}
		if (err != -ETIMEDOUT)
			return err;
		struct pollfd p[2] = {
			{ .fd = exec_stream_fd(x), .events = POLLIN },
			{ .fd = w->fd, .events = POLLIN },
		};
		int n = poll(p, 2, w->idle_ms / 2);
		if (n < 0) {
			err = errno == EINTR ? 0 : -errno;
			continue;
		}
		/* A quiet program: ping, and a client that answered nothing
		 * by the next quiet spell is gone. */
		if (n == 0) {
			if (pinged && !w->heard)
				return -ETIMEDOUT;
			pinged = true;
			w->heard = false;
			err = ws_send(w, WS_PING, NULL, 0);
			continue;
		}
		err = 0;
		if (p[1].revents) {
			err = ws_read(w, 0);
			if (err == 0 || err == -ETIMEDOUT)
				err = ws_drain(w, NULL);
		}
	}
	return err;
}

/* Runs the execution the client asked for, and ends with 1000. */
static void ws_execute(struct ws_conn *w, const struct http_request *r,
		       json_object *params)
{
	struct exec_stream x;
	_cleanup_json_ json_object *refusal = NULL;
	int err = exec_stream_start(&x, r->bridge->socket_path, r->act_as,
				    params, &refusal);
	if (err < 0) {
		char text[512];
		snprintf(text, sizeof(text),
			 "isol8d is not reachable at %s: %s; is it running?",
			 r->bridge->socket_path, strerror(-err));
		err = ws_send_error(w, text);
	} else if (err == 0) {
		json_object *m = NULL;
		json_object_object_get_ex(refusal, "message", &m);
		err = ws_send_error(w, json_object_get_string(m));
	} else {
		err = ws_stream(w, &x);
	}
	/* Closing the daemon's connection first cancels a run whose client
	 * left. */
	exec_stream_close(&x);
	if (err < 0)
		return;
	ws_close(w, WS_CLOSE_NORMAL, "Execution complete");
	/* The client's closing frame, so that it sees a clean close. */
	long long deadline = now_ms() + w->idle_ms;
	struct ws_message m;
	while (ws_read(w, (int)(deadline - now_ms())) == 0)
		while (ws_reader_next(&w->rd, &m) == 1)
			if (m.opcode == WS_CLOSE)
				return;
}

static void ws_upgraded(void *cls, struct MHD_Connection *conn, void *state,
			const char *extra_in, size_t extra_in_size, int sock,
			struct MHD_UpgradeResponseHandle *urh)
{
	(void)cls;
	(void)conn;
	const struct http_request *r = state;
	struct ws_conn w = {
		.fd = sock,
		.idle_ms = (int)(r->bridge->idle_sec * 1000),
		.bridge = r->bridge,
	};
	ws_reader_init(&w.rd, r->bridge->max_body);
	json_object *params = NULL;
	if (ws_reader_feed(&w.rd, extra_in, extra_in_size) == 0 &&
	    ws_await_execute(&w, &params) > 0)
		ws_execute(&w, r, params);
	ws_reader_free(&w.rd);
	strbuf_free(&w.out);
	MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
}

/* ---- the handshake ---- */

/* Whether the comma-separated header value lists token. */
static bool has_token(const char *value, const char *token)
{
	size_t n = strlen(token);
	for (const char *p = value; p && *p;) {
		p += strspn(p, " \t,");
		size_t len = strcspn(p, ",");
		size_t end = len;
		while (end && (p[end - 1] == ' ' || p[end - 1] == '\t'))
			end--;
		if (end == n && strncasecmp(p, token, n) == 0)
			return true;
		p += len;
	}
	return false;
}

static const char *header(const struct http_request *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

enum MHD_Result http_execute_ws(struct http_request *r, const char *arg)
{
	(void)arg;
	const char *upgrade = header(r, MHD_HTTP_HEADER_UPGRADE);
	const char *connection = header(r, MHD_HTTP_HEADER_CONNECTION);
	const char *version = header(r, MHD_HTTP_HEADER_SEC_WEBSOCKET_VERSION);
	const char *key = header(r, MHD_HTTP_HEADER_SEC_WEBSOCKET_KEY);
	if (!upgrade || !has_token(upgrade, "websocket") || !connection ||
	    !has_token(connection, "upgrade"))
		return http_reply_error(r, MHD_HTTP_UPGRADE_REQUIRED,
					"GET /execute/ws is a WebSocket "
					"endpoint: the request needs "
					"'Upgrade: websocket' and "
					"'Connection: Upgrade'");
	if (!version || strcmp(version, "13") != 0)
		return http_reply_error(r, MHD_HTTP_UPGRADE_REQUIRED,
					"Sec-WebSocket-Version must be 13");
	char accept[WS_ACCEPT_LEN + 1];
	if (!key || ws_accept_key(key, accept) < 0)
		return http_reply_error(r, MHD_HTTP_BAD_REQUEST,
					"Sec-WebSocket-Key must be the base64 "
					"of 16 bytes");
	struct MHD_Response *resp =
		MHD_create_response_for_upgrade(ws_upgraded, NULL);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_SEC_WEBSOCKET_ACCEPT,
				accept);
	http_queue(r, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
	return r->ret;
}
