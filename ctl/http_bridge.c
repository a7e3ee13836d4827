/* The bridge's request handling: body collection, authentication, routes. */
#include "http_bridge.h"

#include "cleanup.h"
#include "error.h"
#include "http_auth.h"
#include "http_expose.h"
#include "http_limits.h"
#include "http_metrics.h"
#include "http_ready.h"
#include "http_reply.h"
#include "http_stream.h"
#include "http_ws.h"
#include "json_field.h"
#include "jsonrpc.h"
#include "version.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the daemon ---- */

int http_client_fd(const struct http_request *r)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	return ci ? ci->connect_fd : -1;
}

int bridge_connect(struct http_request *r, struct rpc_client *c)
{
	int err = rpc_client_connect(c, r->bridge->socket_path);
	if (err < 0)
		http_reply_unreachable(r, -err);
	c->act_as = r->act_as;
	return err;
}

json_object *bridge_call(struct http_request *r, const char *method,
			 json_object *params)
{
	_cleanup_json_ json_object *owned = params;
	struct rpc_client c;
	if (bridge_connect(r, &c) < 0)
		return NULL;
	long long id;
	int err = rpc_client_send(&c, method, TAKE_PTR(owned), &id);
	json_object *result = NULL;
	while (err >= 0 && !result) {
		/* Closing our connection is how the daemon learns to cancel
		 * an ephemeral execution whose client left. */
		err = rpc_client_wait(&c, http_client_fd(r), -1);
		_cleanup_json_ json_object *msg = NULL;
		if (err >= 0)
			err = rpc_client_read(&c, &msg);
		json_object *v = NULL;
		if (err >= 0)
			err = rpc_message_about(msg, id, &v);
		if (err == RPC_RESULT)
			result = json_object_get(v);
		else if (err == RPC_ERROR) {
			http_reply_rpc_error(r, v);
			break;
		}
	}
	rpc_client_close(&c);
	if (err == -ECONNABORTED)
		r->ret = MHD_NO;
	else if (err < 0)
		http_reply_unreachable(r, -err);
	return result;
}

/* ---- authentication ---- */

/* Time depends on the key's length only, never on how much of it the
 * token got right. */
static bool key_matches(const char *key, const char *token)
{
	size_t klen = strlen(key), tlen = strlen(token);
	unsigned char diff = klen != tlen;
	for (size_t i = 0; i < klen; i++)
		diff |= (unsigned char)key[i] ^
			(unsigned char)(i < tlen ? token[i] : 0);
	return diff == 0;
}

static bool authorized(struct http_request *r)
{
	const char *h = MHD_lookup_connection_value(
		r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!h) {
		http_reply_error(r, MHD_HTTP_UNAUTHORIZED,
				 "Missing Authorization header");
		return false;
	}
	if (strncasecmp(h, "Bearer", 6) == 0 && (h[6] == ' ' || h[6] == '\t'))
		h += 6 + strspn(h + 6, " \t");
	/* With tenants' keys, the master key sees every tenant's sessions;
	 * without, the bridge is one tenant and needs to name none. */
	if (key_matches(r->bridge->key, h)) {
		r->master = true;
		r->act_as = r->bridge->auth ? "*" : NULL;
		return true;
	}
	int found = r->bridge->auth
			    ? auth_db_check(r->bridge->auth, h, r->tenant)
			    : 0;
	if (found > 0) {
		r->act_as = r->tenant;
		return true;
	}
	if (found < 0)
		http_auth_db_error(r, found, "check the API key");
	else
		http_reply_error(r, MHD_HTTP_FORBIDDEN, "Invalid API key");
	return false;
}

/* ---- request bodies ---- */

json_object *http_body_object(struct http_request *r)
{
	struct error why;
	json_object *o = NULL;
	if (r->body.len == 0) {
		http_reply_error(r, MHD_HTTP_BAD_REQUEST,
				 "The request needs a JSON object as its body");
		return NULL;
	}
	if (json_parse_strict(r->body.p, r->body.len, &o, &why) < 0) {
		http_reply_error(r, MHD_HTTP_BAD_REQUEST,
				 "The body is not valid JSON: %s", why.message);
		return NULL;
	}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		http_reply_error(r, MHD_HTTP_BAD_REQUEST,
				 "The body must be a JSON object");
		return NULL;
	}
	return o;
}

/* params[key] = body[key] when the body has it. */
static void copy_key(json_object *params, json_object *body, const char *key)
{
	json_object *v;
	if (json_object_object_get_ex(body, key, &v))
		json_object_object_add(params, key, json_object_get(v));
}

static json_object *ok_body(void)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(true));
	return o;
}

/* ---- routes ---- */

static enum MHD_Result get_health(struct http_request *r, const char *arg)
{
	(void)arg;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("ok"));
	json_object_object_add(o, "version",
			       json_object_new_string(ISOL8_VERSION));
	return http_reply_json(r, MHD_HTTP_OK, o);
}

/* As isol8's server spreads the client's options over its config's
 * defaults; the daemon then checks the result against its limits. */
static void apply_defaults(const struct bridge *b, json_object *params)
{
	if (!b->request_defaults ||
	    !json_object_object_length(b->request_defaults))
		return;
	json_object *opt = json_field(params, "options");
	if (!opt || json_object_is_type(opt, json_type_null)) {
		opt = json_object_new_object();
		json_object_object_add(params, "options", opt);
	}
	if (!json_object_is_type(opt, json_type_object))
		return; /* the daemon names the mistake */
	json_object_object_foreach(b->request_defaults, key, v)
	{
		if (!json_object_object_get_ex(opt, key, NULL))
			json_object_object_add(opt, key, json_object_get(v));
	}
}

json_object *bridge_execute_params(const struct bridge *b, json_object *body)
{
	json_object *req = NULL;
	if (!json_object_object_get_ex(body, "request", &req) ||
	    !json_object_is_type(req, json_type_object))
		return NULL;
	json_object *p = json_object_new_object();
	copy_key(p, body, "request");
	copy_key(p, body, "options");
	copy_key(p, body, "sessionId");
	apply_defaults(b, p);
	return p;
}

static json_object *execute_params(struct http_request *r)
{
	_cleanup_json_ json_object *body = http_body_object(r);
	if (!body)
		return NULL;
	json_object *p = bridge_execute_params(r->bridge, body);
	if (!p)
		http_reply_error(r, MHD_HTTP_BAD_REQUEST,
				 "The body needs a \"request\" object "
				 "(an ExecutionRequest)");
	else if (!http_ready_admit(r, p)) {
		json_object_put(p);
		return NULL;
	}
	return p;
}

static enum MHD_Result post_execute(struct http_request *r, const char *arg)
{
	(void)arg;
	json_object *params = execute_params(r);
	if (!params)
		return r->ret;
	json_object *res = bridge_call(r, "execute", params);
	return res ? http_reply_json(r, MHD_HTTP_OK, res) : r->ret;
}

static enum MHD_Result post_execute_stream(struct http_request *r,
					   const char *arg)
{
	(void)arg;
	json_object *params = execute_params(r);
	return params ? http_execute_stream(r, params) : r->ret;
}

static enum MHD_Result post_file(struct http_request *r, const char *arg)
{
	(void)arg;
	_cleanup_json_ json_object *body = http_body_object(r);
	if (!body)
		return r->ret;
	json_object *p = json_object_new_object();
	copy_key(p, body, "sessionId");
	copy_key(p, body, "path");
	copy_key(p, body, "content");
	copy_key(p, body, "mode");
	_cleanup_json_ json_object *res = bridge_call(r, "file.put", p);
	return res ? http_reply_json(r, MHD_HTTP_OK, ok_body()) : r->ret;
}

static enum MHD_Result get_file(struct http_request *r, const char *arg)
{
	(void)arg;
	const char *sid = MHD_lookup_connection_value(
		r->conn, MHD_GET_ARGUMENT_KIND, "sessionId");
	const char *path = MHD_lookup_connection_value(
		r->conn, MHD_GET_ARGUMENT_KIND, "path");
	if (!sid || !*sid || !path || !*path)
		return http_reply_error(r, MHD_HTTP_BAD_REQUEST,
					"Missing sessionId or path");
	json_object *p = json_object_new_object();
	json_object_object_add(p, "sessionId", json_object_new_string(sid));
	json_object_object_add(p, "path", json_object_new_string(path));
	_cleanup_json_ json_object *res = bridge_call(r, "file.get", p);
	if (!res)
		return r->ret;
	json_object *o = json_object_new_object();
	copy_key(o, res, "content");
	return http_reply_json(r, MHD_HTTP_OK, o);
}

static json_object *session_id_params(const char *id)
{
	json_object *p = json_object_new_object();
	json_object_object_add(p, "sessionId", json_object_new_string(id));
	return p;
}

static enum MHD_Result get_sessions(struct http_request *r, const char *arg)
{
	(void)arg;
	_cleanup_json_ json_object *res = bridge_call(r, "session.list", NULL);
	if (!res)
		return r->ret;
	json_object *list = NULL, *out = json_object_new_array();
	json_object_object_get_ex(res, "sessions", &list);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *s = json_object_array_get_idx(list, i);
		json_object *o = json_object_new_object();
		copy_key(o, s, "id");
		copy_key(o, s, "isActive");
		copy_key(o, s, "lastAccessedAt");
		copy_key(o, s, "persisted"); /* kept by options.persist */
		json_object_array_add(out, o);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "sessions", out);
	return http_reply_json(r, MHD_HTTP_OK, o);
}

static enum MHD_Result delete_session(struct http_request *r, const char *id)
{
	_cleanup_json_ json_object *res =
		bridge_call(r, "session.delete", session_id_params(id));
	return res ? http_reply_json(r, MHD_HTTP_OK, ok_body()) : r->ret;
}

/* method {sessionId: id, key: the body's key}: its result, or NULL once
 * a reply was queued. */
static json_object *session_body_call(struct http_request *r, const char *id,
				      const char *method, const char *key)
{
	_cleanup_json_ json_object *body = http_body_object(r);
	if (!body)
		return NULL;
	json_object *p = session_id_params(id);
	copy_key(p, body, key);
	return bridge_call(r, method, p);
}

static enum MHD_Result post_session_timeout(struct http_request *r,
					    const char *id)
{
	_cleanup_json_ json_object *res =
		session_body_call(r, id, "session.set_timeout", "timeoutSec");
	if (!res)
		return r->ret;
	json_object *o = ok_body();
	copy_key(o, res, "expiresAt");
	return http_reply_json(r, MHD_HTTP_OK, o);
}

/* POST /session/:id/pause and /resume: the session object. */
static enum MHD_Result session_call(struct http_request *r, const char *id,
				    const char *method)
{
	_cleanup_json_ json_object *res =
		bridge_call(r, method, session_id_params(id));
	return res ? http_reply_json(r, MHD_HTTP_OK, json_object_get(res))
		   : r->ret;
}

static enum MHD_Result post_session_pause(struct http_request *r,
					  const char *id)
{
	return session_call(r, id, "session.pause");
}

static enum MHD_Result post_session_resume(struct http_request *r,
					   const char *id)
{
	return session_call(r, id, "session.resume");
}

/* POST /session/:id/expose {port}: the port's token, its path, and its
 * URL as this request reached the bridge. */
static json_object *with_url(struct http_request *r, json_object *x)
{
	const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_HOST);
	json_object *path = NULL;
	char url[512];
	if (host && json_object_object_get_ex(x, "path", &path) &&
	    (size_t)snprintf(url, sizeof(url), "http://%s%s", host,
			     json_object_get_string(path)) < sizeof(url))
		json_object_object_add(x, "url", json_object_new_string(url));
	return x;
}

static enum MHD_Result post_session_expose(struct http_request *r,
					   const char *id)
{
	_cleanup_json_ json_object *res =
		session_body_call(r, id, "session.expose", "port");
	return res ? http_reply_json(r, MHD_HTTP_OK,
				     with_url(r, json_object_get(res)))
		   : r->ret;
}

/* DELETE /session/:id/expose/:port: the port's totals. */
static enum MHD_Result delete_session_expose(struct http_request *r,
					     const char *id)
{
	json_object *p = session_id_params(id);
	char *end;
	long port = strtol(r->tail, &end, 10);
	/* A port that is not a number goes as it is: the daemon names it. */
	json_object_object_add(p, "port",
			       *r->tail && !*end
				       ? json_object_new_int64(port)
				       : json_object_new_string(r->tail));
	_cleanup_json_ json_object *res = bridge_call(r, "session.unexpose", p);
	return res ? http_reply_json(r, MHD_HTTP_OK, json_object_get(res))
		   : r->ret;
}

/* GET /session/:id/expose: {sessionId, exposed: [...]}. */
static enum MHD_Result get_session_expose(struct http_request *r,
					  const char *id)
{
	_cleanup_json_ json_object *res =
		bridge_call(r, "session.exposed", session_id_params(id));
	if (!res)
		return r->ret;
	json_object *list = NULL;
	json_object_object_get_ex(res, "exposed", &list);
	for (size_t i = 0; i < json_object_array_length(list); i++)
		with_url(r, json_object_array_get_idx(list, i));
	return http_reply_json(r, MHD_HTTP_OK, json_object_get(res));
}

static json_object *tally(int removed, int failed, json_object *errors)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "removed", json_object_new_int(removed));
	json_object_object_add(o, "failed", json_object_new_int(failed));
	json_object_object_add(o, "errors", errors);
	return o;
}

/* Every session of the caller's tenant goes (of every tenant, for the
 * master key with --auth-db).  Ephemeral boxes end with their executions;
 * those kept by options.persist are sessions too, and count as isol8's
 * containers as well. */
static enum MHD_Result post_cleanup(struct http_request *r, const char *arg)
{
	(void)arg;
	_cleanup_json_ json_object *res = bridge_call(r, "session.list", NULL);
	if (!res)
		return r->ret;
	json_object *list = NULL, *errors = json_object_new_array();
	json_object_object_get_ex(res, "sessions", &list);
	int removed = 0, failed = 0, kept = 0;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *s = json_object_array_get_idx(list, i);
		json_object *id = NULL, *persisted = NULL;
		json_object_object_get_ex(s, "id", &id);
		json_object_object_get_ex(s, "persisted", &persisted);
		_cleanup_json_ json_object *del = bridge_call(
			r, "session.delete",
			session_id_params(json_object_get_string(id)));
		if (del) {
			removed++;
			kept += json_object_get_boolean(persisted);
			continue;
		}
		if (r->ret == MHD_NO) {
			json_object_put(errors);
			return MHD_NO;
		}
		/* A failed delete queued an error reply; keep its reason for
		 * the summary instead. */
		failed++;
		json_object_array_add(
			errors,
			json_object_new_string(json_object_get_string(id)));
	}
	json_object *o = ok_body();
	json_object_object_add(o, "sessions", tally(removed, failed, errors));
	json_object_object_add(o, "containers",
			       tally(kept, 0, json_object_new_array()));
	return http_reply_json(r, MHD_HTTP_OK, o);
}

static enum MHD_Result get_metrics(struct http_request *r, const char *arg)
{
	(void)arg;
	return http_metrics(r);
}

/* A path pattern holds at most one ":id" segment, given to the handler,
 * and may end with a "*" segment, kept in the request's tail. */
static const struct route {
	const char *method, *pattern;
	enum MHD_Result (*fn)(struct http_request *r, const char *arg);
} routes[] = {
	{ "GET", "/health", get_health },
	{ "POST", "/execute", post_execute },
	{ "POST", "/execute/stream", post_execute_stream },
	{ "GET", "/execute/ws", http_execute_ws },
	{ "POST", "/file", post_file },
	{ "GET", "/file", get_file },
	{ "GET", "/sessions", get_sessions },
	{ "DELETE", "/session/:id", delete_session },
	{ "POST", "/session/:id/timeout", post_session_timeout },
	{ "POST", "/session/:id/pause", post_session_pause },
	{ "POST", "/session/:id/resume", post_session_resume },
	{ "POST", "/session/:id/expose", post_session_expose },
	{ "GET", "/session/:id/expose", get_session_expose },
	{ "DELETE", "/session/:id/expose/*", delete_session_expose },
	{ "POST", "/cleanup", post_cleanup },
	{ "GET", "/metrics", get_metrics },
	{ "POST", "/auth/keys", http_auth_create_key },
	{ "GET", "/auth/keys", http_auth_list_keys },
	{ "DELETE", "/auth/keys/:id", http_auth_revoke_key },
	{ "POST", "/auth/login", http_auth_login },
	/* readiness for load balancers (http_ready.c) */
	{ "GET", "/ready", http_ready },
	{ "POST", "/admin/drain", http_admin_drain },
};

/* Whether url fits pattern; the ":id" segment's text in id. */
static bool path_fits(const char *pattern, const char *url, char *id,
		      size_t id_size)
{
	const char *hole = strstr(pattern, ":id");
	if (!hole)
		return strcmp(pattern, url) == 0;
	size_t pre = (size_t)(hole - pattern), post = strlen(hole + 3),
	       len = strlen(url);
	if (len <= pre + post || strncmp(url, pattern, pre) != 0 ||
	    strcmp(url + len - post, hole + 3) != 0)
		return false;
	size_t n = len - pre - post;
	if (n >= id_size || memchr(url + pre, '/', n))
		return false;
	memcpy(id, url + pre, n);
	id[n] = '\0';
	return true;
}

/* path_fits, with a pattern's last segment "*" matching any one
 * segment, whose text goes in tail. */
static bool path_matches(const char *pattern, const char *url, char *id,
			 size_t id_size, char *tail, size_t tail_size)
{
	size_t plen = strlen(pattern);
	if (plen < 2 || strcmp(pattern + plen - 2, "/*") != 0)
		return path_fits(pattern, url, id, id_size);
	const char *slash = strrchr(url, '/');
	size_t n = slash ? strlen(slash + 1) : 0;
	if (!n || n >= tail_size)
		return false;
	char head[256], base[128];
	if ((size_t)(slash - url) >= sizeof(head) || plen - 2 >= sizeof(base))
		return false;
	memcpy(head, url, (size_t)(slash - url));
	head[slash - url] = '\0';
	memcpy(base, pattern, plen - 2);
	base[plen - 2] = '\0';
	if (!path_fits(base, head, id, id_size))
		return false;
	memcpy(tail, slash + 1, n + 1);
	return true;
}

/* The route for method and url, or NULL after a 404 or 405. */
static const struct route *find_route(struct http_request *r, const char *url,
				      char *id, size_t id_size)
{
	char allow[64] = "";
	for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
		if (!path_matches(routes[i].pattern, url, id, id_size, r->tail,
				  sizeof(r->tail)))
			continue;
		if (strcmp(routes[i].method, r->method) == 0)
			return &routes[i];
		size_t n = strlen(allow);
		snprintf(allow + n, sizeof(allow) - n, "%s%s", n ? ", " : "",
			 routes[i].method);
	}
	if (!*allow)
		http_reply_error(r, MHD_HTTP_NOT_FOUND, "No route %s %s",
				 r->method, url);
	else
		http_reply_error(r, MHD_HTTP_METHOD_NOT_ALLOWED,
				 "%s %s is not served; allowed: %s", r->method,
				 url, allow);
	return NULL;
}

/* ---- MHD's callbacks ---- */

static enum MHD_Result reply_too_large(struct http_request *r)
{
	return http_reply_error(r, MHD_HTTP_CONTENT_TOO_LARGE,
				"The request body exceeds the %zu-byte limit "
				"(isol8ctl serve --max-body)",
				r->bridge->max_body);
}

/* The first call for a request: refuse early what needs no body read. */
static enum MHD_Result begin(struct http_request *r, const char *url)
{
	/* An exposed port's URL: its token is the credential. */
	if (http_expose_url(url, r->arg, sizeof(r->arg))) {
		r->handler = http_expose_relay;
		const char *cl = MHD_lookup_connection_value(
			r->conn, MHD_HEADER_KIND,
			MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > r->bridge->max_body)
			return reply_too_large(r);
		return MHD_YES;
	}
	const struct route *rt = find_route(r, url, r->arg, sizeof(r->arg));
	if (!rt)
		return r->ret;
	r->handler = rt->fn;
	if (rt->fn != get_health && rt->fn != http_ready) {
		if (!authorized(r))
			return r->ret;
		http_limits_authenticated(r);
	}
	/* A new WebSocket is new work, refused while draining. */
	if (rt->fn == http_execute_ws && !http_ready_admit(r, NULL))
		return r->ret;
	const char *cl = MHD_lookup_connection_value(
		r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && strtoull(cl, NULL, 10) > r->bridge->max_body)
		return reply_too_large(r);
	return MHD_YES;
}

static uint64_t now_usec(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000 + (uint64_t)t.tv_nsec / 1000;
}

enum MHD_Result http_bridge_handle(void *cls, struct MHD_Connection *conn,
				   const char *url, const char *method,
				   const char *version, const char *upload,
				   size_t *upload_size, void **state)
{
	(void)version;
	struct http_request *r = *state;
	if (!r)
		return MHD_NO; /* http_bridge_uri had no memory */
	if (!r->conn) {
		http_ready_request_begin();
		r->bridge = cls;
		r->conn = conn;
		r->method = method;
		r->ret = MHD_YES;
		if (r->bridge->debug) {
			if (r->raw_uri)
				http_expose_log_url(url, r->url,
						    sizeof(r->url));
			else
				snprintf(r->url, sizeof(r->url), "%s", url);
			r->start_usec = now_usec();
		}
		return begin(r, url);
	}
	if (*upload_size) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (r->replied)
			return MHD_YES;
		/* MHD takes no answer before the body has ended: count what
		 * goes past the limit, and cut a client that keeps sending
		 * far past it. */
		if (r->body.len + n > r->bridge->max_body || r->overflow) {
			r->overflow += n;
			return r->overflow > r->bridge->max_body ? MHD_NO
								 : MHD_YES;
		}
		return strbuf_add(&r->body, upload, n) < 0 ? MHD_NO : MHD_YES;
	}
	/* A request refused early has had its answer. */
	if (r->replied)
		return MHD_YES;
	if (r->overflow)
		return reply_too_large(r);
	return r->handler(r, r->arg);
}

void http_bridge_completed(void *cls, struct MHD_Connection *conn, void **state,
			   enum MHD_RequestTerminationCode why)
{
	(void)cls;
	(void)conn;
	struct http_request *r = *state;
	if (!r)
		return;
	/* The path only: keys travel in headers, never in it. */
	if (r->conn && r->bridge->debug)
		fprintf(stderr, "[DEBUG] %s %s -> %u in %llu ms%s\n", r->method,
			r->url, r->status,
			(unsigned long long)(now_usec() - r->start_usec) / 1000,
			why == MHD_REQUEST_TERMINATED_COMPLETED_OK
				? ""
				: " (connection cut)");
	strbuf_free(&r->body);
	http_expose_done(r->upstream);
	free(r->raw_uri);
	bool begun = r->conn != NULL;
	free(r);
	*state = NULL;
	if (begun)
		http_ready_request_end();
}

void *http_bridge_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	(void)cls;
	(void)conn;
	struct http_request *r = calloc(1, sizeof(*r));
	char token[8];
	if (r && http_expose_url(uri, token, sizeof(token)))
		r->raw_uri = strdup(uri);
	return r;
}
