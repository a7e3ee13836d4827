/* The bridge's side of exposed ports (http_expose.h).  MHD serves each
 * connection on a thread of its own, so the relay blocks on poll(), bounded
 * by the idle timeout; it also watches its daemon connection, whose
 * message (or end) means the daemon cut the connection into the box. */
#include "http_expose.h"

#include "cleanup.h"
#include "http_bridge.h"
#include "http_limits.h"
#include "http_reply.h"
#include "jsonrpc.h"
#include "strbuf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEAD_MAX ((size_t)64 * 1024)
#define UNTIL_CLOSE UINT64_MAX

/* A connection into a box, and the daemon connection that holds it. */
struct upstream {
	int fd;
	struct rpc_client rpc;
	unsigned port;
	int idle_ms;
	struct strbuf in; /* read from the box: the head, then body bytes */
	size_t body_at;	  /* where the body starts in in */
	uint64_t left;	  /* body bytes still to come */
};

bool http_expose_url(const char *url, char *token, size_t size)
{
	size_t pre = strlen(EXPOSE_PREFIX);
	if (strncmp(url, EXPOSE_PREFIX, pre) != 0)
		return false;
	size_t n = strcspn(url + pre, "/?");
	if (n >= size)
		n = 0; /* too long for any token: matches none */
	memcpy(token, url + pre, n);
	token[n] = '\0';
	return true;
}

void http_expose_log_url(const char *url, char *out, size_t size)
{
	size_t pre = strlen(EXPOSE_PREFIX);
	snprintf(out, size, "%s*%s", EXPOSE_PREFIX,
		 url + pre + strcspn(url + pre, "/?"));
}

void http_expose_done(struct upstream *u)
{
	if (!u)
		return;
	if (u->fd >= 0)
		close(u->fd);
	/* Closing it tells the daemon the relay is over: it counts. */
	rpc_client_close(&u->rpc);
	strbuf_free(&u->in);
	free(u);
}

/* ---- the socket into the box ---- */

/* Waits for fd to be ready for events: 0, -ETIMEDOUT, or -ECONNABORTED
 * when the daemon spoke or left (it cut the connection). */
static int await(struct upstream *u, int fd, short events)
{
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = events },
				       { .fd = u->rpc.fd, .events = POLLIN } };
		int r = poll(p, 2, u->idle_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		if (p[1].revents)
			return -ECONNABORTED;
		return 0;
	}
}

static int send_all(struct upstream *u, int fd, const void *data, size_t len)
{
	size_t off = 0;
	while (off < len) {
		ssize_t n = send(fd, (const char *)data + off, len - off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		int r = await(u, fd, POLLOUT);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- the daemon's connection ---- */

/* The connection for token: 0, or a negative errno after a reply (404
 * for a token that names nothing, without a word on why). */
static int open_upstream(struct http_request *r, const char *token,
			 struct upstream *u)
{
	if (bridge_connect(r, &u->rpc) < 0)
		return -ENOTCONN;
	json_object *p = json_object_new_object();
	json_object_object_add(p, "token", json_object_new_string(token));
	long long id;
	int err = rpc_client_send(&u->rpc, "session.connect", p, &id);
	while (err >= 0) {
		err = rpc_client_wait(&u->rpc, http_client_fd(r), u->idle_ms);
		_cleanup_json_ json_object *msg = NULL;
		int fd = -1;
		if (err >= 0)
			err = rpc_client_read_fd(&u->rpc, &msg, &fd);
		json_object *v = NULL;
		if (err >= 0)
			err = rpc_message_about(msg, id, &v);
		if (err == RPC_NOTIFY && fd >= 0) {
			json_object *port = NULL;
			json_object_object_get_ex(v, "port", &port);
			u->fd = fd;
			u->port = (unsigned)json_object_get_int(port);
			return 0;
		}
		if (fd >= 0)
			close(fd);
		if (err == RPC_ERROR) {
			json_object *data = NULL, *kind = NULL, *m = NULL;
			json_object_object_get_ex(v, "data", &data);
			json_object_object_get_ex(data, "kind", &kind);
			json_object_object_get_ex(v, "message", &m);
			if (kind &&
			    !strcmp(json_object_get_string(kind), "not_found"))
				http_reply_error(r, MHD_HTTP_NOT_FOUND,
						 "Not found");
			else
				http_reply_error(r, MHD_HTTP_BAD_GATEWAY, "%s",
						 json_object_get_string(m));
			return -EIO;
		}
		if (err == RPC_RESULT)
			err = -EBADMSG;
	}
	if (err == -ECONNABORTED)
		r->ret = MHD_NO;
	else
		http_reply_unreachable(r, -err);
	return err;
}

/* ---- the request, as the box's server gets it ---- */

static bool hop_by_hop(const char *name)
{
	static const char *const names[] = {
		"Connection",
		"Keep-Alive",
		"Proxy-Connection",
		"TE",
		"Trailer",
		"Transfer-Encoding",
		"Upgrade",
		"Content-Length",
		"Expect",
		"Proxy-Authenticate",
		"Proxy-Authorization",
	};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcasecmp(name, names[i]))
			return true;
	return false;
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind,
				  const char *key, const char *value)
{
	(void)kind;
	struct strbuf *b = cls;
	if (!hop_by_hop(key)) {
		strbuf_add(b, key, strlen(key));
		strbuf_add(b, ": ", 2);
		strbuf_add(b, value, strlen(value));
		strbuf_add(b, "\r\n", 2);
	}
	return MHD_YES;
}

/* The request's path past the token, with its query, as the client
 * wrote it. */
static const char *box_path(const struct http_request *r)
{
	const char *u = r->raw_uri ? r->raw_uri : EXPOSE_PREFIX;
	const char *rest = u + strlen(EXPOSE_PREFIX);
	rest += strcspn(rest, "/?");
	return rest;
}

/* A WebSocket handshake goes as HTTP/1.1 with its Upgrade; anything else
 * as HTTP/1.0, so that the box's server ends its answer by closing and
 * never chunks it. */
static int send_request(struct http_request *r, struct upstream *u, bool ws)
{
	const char *path = box_path(r);
	char ip[INET6_ADDRSTRLEN] = "";
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  ip, sizeof(ip));
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)sa)->sin6_addr, ip,
			  sizeof(ip));
	struct strbuf b = { 0 };
	char line[64];
	strbuf_add(&b, r->method, strlen(r->method));
	strbuf_add(&b, " ", 1);
	if (*path != '/')
		strbuf_add(&b, "/", 1);
	strbuf_add(&b, path, strlen(path));
	strbuf_add(&b, ws ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n", 11);
	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, add_header, &b);
	if (ws)
		strbuf_add(&b, "Connection: Upgrade\r\nUpgrade: websocket\r\n",
			   41);
	else
		strbuf_add(&b, "Connection: close\r\n", 19);
	if (*ip) {
		snprintf(line, sizeof(line), "X-Forwarded-For: %s\r\n", ip);
		strbuf_add(&b, line, strlen(line));
	}
	if (r->body.len || !strcmp(r->method, "POST") ||
	    !strcmp(r->method, "PUT") || !strcmp(r->method, "PATCH")) {
		snprintf(line, sizeof(line), "Content-Length: %zu\r\n",
			 r->body.len);
		strbuf_add(&b, line, strlen(line));
	}
	int err = strbuf_add(&b, "\r\n", 2);
	if (err == 0)
		err = send_all(u, u->fd, b.p, b.len);
	if (err == 0 && r->body.len)
		err = send_all(u, u->fd, r->body.p, r->body.len);
	strbuf_free(&b);
	return err;
}

/* ---- the answer ---- */

/* Reads until the head's end: 0, -EPROTO (none within HEAD_MAX, or the
 * box's server closed first), or the error of the wait. */
static int read_head(struct upstream *u)
{
	for (;;) {
		/* Only what was read counts: the buffer has room past it. */
		char *end = u->in.len
				    ? memmem(u->in.p, u->in.len, "\r\n\r\n", 4)
				    : NULL;
		if (end) {
			u->body_at = (size_t)(end - u->in.p) + 4;
			return 0;
		}
		if (u->in.len >= HEAD_MAX || strbuf_reserve(&u->in, 16384) < 0)
			return -EPROTO;
		ssize_t n = recv(u->fd, u->in.p + u->in.len, 16384, 0);
		if (n == 0)
			return -EPROTO;
		if (n > 0) {
			u->in.len += (size_t)n;
			u->in.p[u->in.len] = '\0';
			continue;
		}
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		int r = await(u, u->fd, POLLIN);
		if (r < 0)
			return r;
	}
}

/* The status line's code, or 0. */
static unsigned head_status(const struct upstream *u)
{
	unsigned code = 0;
	if (sscanf(u->in.p, "HTTP/1.%*1[01] %3u", &code) != 1 || code < 100 ||
	    code > 599)
		return 0;
	return code;
}

/* Calls fn for each header line of the head (name and value cut in
 * place of the buffer's copy). */
static void each_header(struct upstream *u,
			void (*fn)(void *arg, const char *name,
				   const char *value),
			void *arg)
{
	char *p = strstr(u->in.p, "\r\n");
	char *end = u->in.p + u->body_at - 2;
	while (p && p + 2 < end) {
		char *line = p + 2;
		char *eol = strstr(line, "\r\n");
		if (!eol || eol > end)
			break;
		char saved = *eol;
		*eol = '\0';
		char *colon = strchr(line, ':');
		if (colon) {
			*colon = '\0';
			const char *v = colon + 1 + strspn(colon + 1, " \t");
			fn(arg, line, v);
			*colon = ':';
		}
		*eol = saved;
		p = eol;
	}
}

static void copy_header(void *arg, const char *name, const char *value)
{
	if (!hop_by_hop(name))
		MHD_add_response_header(arg, name, value);
}

static void note_length(void *arg, const char *name, const char *value)
{
	struct upstream *u = arg;
	char *end;
	if (strcasecmp(name, "Content-Length") != 0)
		return;
	unsigned long long n = strtoull(value, &end, 10);
	if (end != value && !*end)
		u->left = n;
}

static void copy_ws_header(void *arg, const char *name, const char *value)
{
	if (!strncasecmp(name, "Sec-WebSocket-", 14))
		MHD_add_response_header(arg, name, value);
}

static ssize_t read_body(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct upstream *u = cls;
	for (;;) {
		if (u->left == 0)
			return MHD_CONTENT_READER_END_OF_STREAM;
		size_t want = u->left < max ? (size_t)u->left : max;
		size_t n = 0;
		if (u->body_at < u->in.len) {
			n = u->in.len - u->body_at < want
				    ? u->in.len - u->body_at
				    : want;
			memcpy(buf, u->in.p + u->body_at, n);
			u->body_at += n;
		} else {
			ssize_t got = recv(u->fd, buf, want, 0);
			if (got == 0) {
				/* A cut looks like an end: the daemon says
				 * which it was. */
				struct pollfd p = { .fd = u->rpc.fd,
						    .events = POLLIN };
				bool cut = poll(&p, 1, 0) > 0;
				return u->left == UNTIL_CLOSE && !cut
					       ? MHD_CONTENT_READER_END_OF_STREAM
					       : MHD_CONTENT_READER_END_WITH_ERROR;
			}
			if (got < 0 && errno != EAGAIN && errno != EINTR)
				return MHD_CONTENT_READER_END_WITH_ERROR;
			if (got < 0) {
				if (await(u, u->fd, POLLIN) < 0)
					return MHD_CONTENT_READER_END_WITH_ERROR;
				continue;
			}
			n = (size_t)got;
		}
		if (u->left != UNTIL_CLOSE)
			u->left -= n;
		return (ssize_t)n;
	}
}

/* Copies what one side has to the other: 0, or -1 once it is over. */
static int pump(struct upstream *u, int from, int to)
{
	char buf[16384];
	ssize_t n = recv(from, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0 || send_all(u, to, buf, (size_t)n) < 0)
		return -1;
	return 0;
}

/* After 101: bytes both ways until either side closes, the daemon cuts
 * the connection, or neither says anything for the idle timeout. */
static void ws_relay(void *cls, struct MHD_Connection *conn, void *state,
		     const char *extra_in, size_t extra_in_size, int sock,
		     struct MHD_UpgradeResponseHandle *urh)
{
	(void)cls;
	(void)conn;
	struct http_request *r = state;
	struct upstream *u = r->upstream;
	int err = send_all(u, u->fd, extra_in, extra_in_size);
	if (err == 0 && u->body_at < u->in.len)
		err = send_all(u, sock, u->in.p + u->body_at,
			       u->in.len - u->body_at);
	while (err == 0) {
		struct pollfd p[3] = { { .fd = sock, .events = POLLIN },
				       { .fd = u->fd, .events = POLLIN },
				       { .fd = u->rpc.fd, .events = POLLIN } };
		int n = poll(p, 3, u->idle_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || p[2].revents)
			break;
		if (p[0].revents)
			err = pump(u, sock, u->fd);
		if (err == 0 && p[1].revents)
			err = pump(u, u->fd, sock);
	}
	MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
}

static bool wants_websocket(const struct http_request *r)
{
	const char *up = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_UPGRADE);
	return up && !strcasecmp(up, "websocket");
}

static enum MHD_Result answer(struct http_request *r, struct upstream *u,
			      unsigned status, bool ws)
{
	struct MHD_Response *resp;
	if (ws && status == MHD_HTTP_SWITCHING_PROTOCOLS) {
		resp = MHD_create_response_for_upgrade(ws_relay, NULL);
		if (!resp)
			return MHD_NO;
		MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE,
					"websocket");
		each_header(u, copy_ws_header, resp);
		return http_queue(r, status, resp);
	}
	u->left = UNTIL_CLOSE;
	each_header(u, note_length, u);
	bool bodiless =
		!strcmp(r->method, "HEAD") || status == 204 || status == 304;
	if (bodiless)
		resp = MHD_create_response_from_buffer(0, NULL,
						       MHD_RESPMEM_PERSISTENT);
	else
		resp = MHD_create_response_from_callback(
			u->left == UNTIL_CLOSE ? MHD_SIZE_UNKNOWN : u->left,
			16384, read_body, u, NULL);
	if (!resp)
		return MHD_NO;
	each_header(u, copy_header, resp);
	return http_queue(r, status, resp);
}

enum MHD_Result http_expose_relay(struct http_request *r, const char *arg)
{
	struct upstream *u = calloc(1, sizeof(*u));
	if (!u)
		return MHD_NO;
	u->fd = -1;
	u->rpc.fd = -1;
	u->idle_ms = (int)(r->bridge->idle_sec * 1000);
	r->upstream = u;
	if (open_upstream(r, arg, u) < 0)
		return r->ret;
	/* A token that opened a connection is as good as a key. */
	http_limits_authenticated(r);
	if (r->bridge->debug)
		snprintf(r->url, sizeof(r->url), "/x/(port %u)%s", u->port,
			 box_path(r));
	bool ws = wants_websocket(r);
	int err = send_request(r, u, ws);
	if (err == 0)
		err = read_head(u);
	unsigned status = err == 0 ? head_status(u) : 0;
	if (err == -ECONNABORTED)
		return http_reply_error(r, MHD_HTTP_BAD_GATEWAY,
					"The connection to port %u was cut: "
					"the port is no longer exposed",
					u->port);
	if (err == -ETIMEDOUT)
		return http_reply_error(r, MHD_HTTP_GATEWAY_TIMEOUT,
					"The server on port %u did not answer "
					"within %u seconds",
					u->port, r->bridge->idle_sec);
	if (err < 0 && err != -EPROTO)
		return http_reply_error(r, MHD_HTTP_BAD_GATEWAY,
					"The connection to port %u failed: %s",
					u->port, strerror(-err));
	if (!status)
		return http_reply_error(r, MHD_HTTP_BAD_GATEWAY,
					"The server on port %u did not answer "
					"with HTTP",
					u->port);
	/* Expect is not passed on: no interim answer is due. */
	if (status < 200 && !(ws && status == MHD_HTTP_SWITCHING_PROTOCOLS))
		return http_reply_error(
			r, MHD_HTTP_BAD_GATEWAY,
			"The server on port %u answered %u to a "
			"request that did not ask for it",
			u->port, status);
	return answer(r, u, status, ws);
}
