/* The session.* and file.* methods: sessions made, listed, timed and
 * deleted, and files moved in and out of them through their box's init. */
#include "methods.h"

#include "base64.h"
#include "box_file.h"
#include "box_path.h"
#include "cleanup.h"
#include "daemon.h"
#include "exec_request.h"
#include "json_field.h"
#include "rpc_call.h"
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SESSION_NOT_FOUND "Session not found"

/* Refuses keys not in allowed and a missing or non-string sessionId;
 * gives the id, or NULL after answering. */
static const char *params_session_id(struct rpc_call *call,
				     const char *const *allowed)
{
	if (!method_params_check(call, allowed, true))
		return NULL;
	json_object *p = call->params;
	json_object *id = NULL;
	if (!json_object_object_get_ex(p, "sessionId", &id) ||
	    !json_object_is_type(id, json_type_string)) {
		rpc_reply_error(call, ERR_INVALID_ARGUMENT,
				"params.sessionId: a string is required");
		return NULL;
	}
	return json_object_get_string(id);
}

static struct session *find(struct rpc_call *call, const char *id)
{
	return call->daemon->sessions
		       ? session_find(call->daemon->sessions, &call->caller, id)
		       : NULL;
}

struct session *params_session(struct rpc_call *call,
			       const char *const *allowed)
{
	const char *id = params_session_id(call, allowed);
	struct session *s = id ? find(call, id) : NULL;
	if (id && !s)
		rpc_reply_error(call, ERR_NOT_FOUND, SESSION_NOT_FOUND);
	return s;
}

/* A path in the call's params, inside /sandbox; false after answering. */
static bool params_path(struct rpc_call *call, char *out, size_t len)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(call->params, "path", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		rpc_reply_error(call, ERR_INVALID_ARGUMENT,
				"params.path: a string is required");
		return false;
	}
	if (box_path_normalize(json_object_get_string(v), false, out, len) <
	    0) {
		rpc_reply_error(call, ERR_INVALID_ARGUMENT,
				"params.path: %s is not a file path inside "
				"/sandbox",
				json_object_get_string(v));
		return false;
	}
	return true;
}

/* ---- session.create ---- */

/* A call answered from a job beside the session's executions: the job
 * comes first, so that the job leads back to the call. */
struct side_call {
	struct session_job job;
	struct rpc_call *call; /* NULL once answered or cancelled */
};

static void side_enqueue(struct rpc_call *call, struct session *s,
			 struct side_call *sc, session_job_start_fn start,
			 session_job_end_fn end, rpc_cancel_fn cancel)
{
	sc->call = call;
	sc->job = (struct session_job){ .start = start,
					.end = end,
					.concurrent = true };
	call->userdata = sc;
	call->cancel = cancel;
	session_enqueue(s, &sc->job);
}

/* The job is over; the caller frees what holds sc. */
static void side_finish(struct side_call *sc)
{
	if (sc->call)
		sc->call->cancel = NULL;
	session_job_done(&sc->job);
}

/* session.create is answered once the session's box is ready. */
static struct side_call *create_of(struct session_job *job)
{
	return (struct side_call *)(void *)job;
}

static void create_done(struct side_call *c)
{
	side_finish(c);
	free(c);
}

static void on_create_ready(struct session_job *job, struct box *b,
			    struct command *waiting)
{
	(void)b;
	(void)waiting;
	struct side_call *c = create_of(job);
	rpc_reply(c->call, session_to_json(job->session));
	c->call = NULL;
	create_done(c);
}

static void on_create_end(struct session_job *job, enum error_kind kind,
			  const char *msg)
{
	struct side_call *c = create_of(job);
	rpc_reply_error(c->call, kind, "%s", msg);
	c->call = NULL;
	create_done(c);
}

static void on_create_cancel(struct rpc_call *call)
{
	struct side_call *c = call->userdata;
	rpc_reply_error(call, ERR_INTERNAL, "cancelled");
	c->call = NULL;
	create_done(c); /* the session itself stays */
}

void method_session_create(struct rpc_call *call)
{
	struct daemon *d = call->daemon;
	json_object *p = call->params;
	static const char *const keys[] = { "sessionId", "runtime", "options",
					    "idleTimeoutSec", NULL };
	if (!p || !json_object_is_type(p, json_type_object)) {
		rpc_reply_error(call, ERR_INVALID_ARGUMENT,
				"params: an object is required");
		return;
	}
	json_object *req_params = json_object_new_object();
	json_object *request = json_object_new_object();
	json_object_object_add(request, "code", json_object_new_string(""));
	json_object_object_add(req_params, "request", request);
	const char *id = NULL;
	int64_t idle_sec = -1;
	json_object_object_foreach(p, key, val)
	{
		size_t i = 0;
		while (keys[i] && strcmp(keys[i], key) != 0)
			i++;
		if (!keys[i]) {
			rpc_reply_error(call, ERR_INVALID_ARGUMENT,
					"params.%s: unknown field", key);
			json_object_put(req_params);
			return;
		}
		if (strcmp(key, "sessionId") == 0) {
			if (!json_object_is_type(val, json_type_string)) {
				rpc_reply_error(call, ERR_INVALID_ARGUMENT,
						"params.sessionId: a string is "
						"required");
				json_object_put(req_params);
				return;
			}
			id = json_object_get_string(val);
		} else if (strcmp(key, "idleTimeoutSec") == 0) {
			if (!json_object_is_type(val, json_type_int) ||
			    (idle_sec = json_object_get_int64(val)) < 0 ||
			    idle_sec > 365LL * 86400) {
				rpc_reply_error(
					call, ERR_INVALID_ARGUMENT,
					"params.idleTimeoutSec: a whole "
					"number of seconds from 0 (the "
					"longest allowed) to 31536000 is "
					"required");
				json_object_put(req_params);
				return;
			}
		} else if (strcmp(key, "runtime") == 0)
			json_object_object_add(request, "runtime",
					       json_object_get(val));
		else
			json_object_object_add(req_params, key,
					       json_object_get(val));
	}
	if (!json_object_object_get_ex(request, "runtime", NULL)) {
		rpc_reply_error(call, ERR_INVALID_ARGUMENT,
				"params.runtime: one of python, node, bun, "
				"deno or bash is required");
		json_object_put(req_params);
		return;
	}
	struct exec_request req = { 0 };
	struct error err = { 0 };
	int r = exec_request_parse(req_params, &d->cfg, &req, &err);
	json_object_put(req_params);
	if (r < 0) {
		rpc_reply_error(call, err.kind, "%s", err.message);
		exec_request_free(&req);
		return;
	}
	if (!d->sessions) {
		rpc_reply_error(call, ERR_BUSY, "the daemon is stopping");
		exec_request_free(&req);
		return;
	}
	uint64_t idle = idle_sec >= 0 ? (uint64_t)idle_sec * 1000
				      : session_default_idle_ms(&d->cfg);
	struct session *s;
	struct error serr;
	r = session_create(d->sessions, &call->caller, id, &req, idle, &s,
			   &serr);
	exec_request_free(&req);
	if (r < 0) {
		rpc_reply_error(call, serr.kind, "%s", serr.message);
		return;
	}
	struct side_call *c = calloc(1, sizeof(*c));
	if (!c) {
		rpc_reply_error(call, ERR_INTERNAL, "out of memory");
		return;
	}
	side_enqueue(call, s, c, on_create_ready, on_create_end,
		     on_create_cancel);
}

/* ---- list, get, delete, set_timeout ---- */

void method_session_list(struct rpc_call *call)
{
	json_object *r = json_object_new_object();
	json_object_object_add(
		r, "sessions",
		call->daemon->sessions
			? sessions_to_json(call->daemon->sessions,
					   &call->caller)
			: json_object_new_array());
	rpc_reply(call, r);
}

void method_session_get(struct rpc_call *call)
{
	static const char *const keys[] = { "sessionId", NULL };
	struct session *s = params_session(call, keys);
	if (s)
		rpc_reply(call, session_to_json(s));
}

/* With idleForMs, only a session idle for longer than that: decided here,
 * between two executions, so a pruning client never ends one that started
 * after it listed the sessions. */
void method_session_delete(struct rpc_call *call)
{
	static const char *const keys[] = { "sessionId", "idleForMs", NULL };
	const char *id = params_session_id(call, keys);
	if (!id)
		return;
	json_object *idle = json_field(call->params, "idleForMs");
	int64_t idle_ms = idle ? json_object_get_int64(idle) : 0;
	if (idle &&
	    (!json_object_is_type(idle, json_type_int) || idle_ms < 0)) {
		rpc_reply_error(call, ERR_INVALID_ARGUMENT,
				"idleForMs: expected a whole number of "
				"milliseconds, 0 or more");
		return;
	}
	/* An unknown id is no error, as isol8's DELETE. */
	struct session *s = find(call, id);
	if (s && idle && session_idle_ms(s) <= (uint64_t)idle_ms)
		s = NULL;
	if (s)
		session_delete(s,
			       idle ? "idle for too long (pruned by a client)"
				    : "deleted by a client");
	json_object *r = json_object_new_object();
	json_object_object_add(r, "ok", json_object_new_boolean(true));
	json_object_object_add(r, "deleted",
			       json_object_new_boolean(s != NULL));
	rpc_reply(call, r);
}

void method_session_set_timeout(struct rpc_call *call)
{
	static const char *const keys[] = { "sessionId", "timeoutSec", NULL };
	struct session *s = params_session(call, keys);
	if (!s)
		return;
	json_object *t = NULL;
	double sec = -1;
	if (json_object_object_get_ex(call->params, "timeoutSec", &t) &&
	    (json_object_is_type(t, json_type_int) ||
	     json_object_is_type(t, json_type_double)))
		sec = json_object_get_double(t);
	if (!(sec >= 0 && sec <= 365.0 * 86400)) {
		rpc_reply_error(call, ERR_INVALID_ARGUMENT,
				"params.timeoutSec: a number of seconds from 0 "
				"(the longest allowed) to 31536000 is "
				"required");
		return;
	}
	session_set_idle(s, (uint64_t)(sec * 1000));
	rpc_reply(call, session_to_json(s));
}

/* ---- files ---- */

struct file_call {
	struct side_call side; /* first */
	char path[4096];
	unsigned char *content; /* file.put */
	size_t len;
	uint32_t mode;
	bool put;
};

static struct file_call *file_of(struct session_job *job)
{
	return (struct file_call *)(void *)job;
}

static void file_done(struct file_call *f)
{
	side_finish(&f->side);
	free(f->content);
	free(f);
}

static void file_reply_error(struct file_call *f, enum error_kind kind, int err)
{
	if (f->side.call) {
		if (err == -ENOENT || err == -ENOTDIR)
			rpc_reply_error(f->side.call, ERR_NOT_FOUND,
					"No such file: %s", f->path);
		else
			rpc_reply_error(
				f->side.call, kind, "Cannot %s %s: %s",
				f->put ? "write" : "read", f->path,
				err == -ELOOP || err == -EXDEV
					? "the path leads outside the sandbox"
				: err == -ENOSPC || err == -EFBIG
					? "the sandbox is full"
				: err == -EISDIR ? "it is a directory"
						 : strerror(-err));
	}
	f->side.call = NULL;
	file_done(f);
}

static void reply_put(struct file_call *f, int fd)
{
	int r = box_file_write(fd, f->content, f->len);
	if (r < 0) {
		file_reply_error(f, ERR_INVALID_ARGUMENT, r);
		return;
	}
	if (f->side.call) { /* else cancelled, the file written all the same */
		json_object *res = json_object_new_object();
		json_object_object_add(res, "ok",
				       json_object_new_boolean(true));
		json_object_object_add(res, "size",
				       json_object_new_int64((int64_t)f->len));
		rpc_reply(f->side.call, res);
		f->side.call = NULL;
	}
	file_done(f);
}

static void reply_get(struct file_call *f, int fd)
{
	uint64_t cap = f->side.call->daemon->cfg.max_file_bytes;
	json_object *content = NULL;
	size_t len = 0;
	int r = box_file_read_base64(fd, cap, &content, &len);
	if (r == -EFBIG) {
		rpc_reply_error(f->side.call, ERR_INVALID_ARGUMENT,
				"%s is %zu bytes, more than the limit of %llu "
				"(sandbox.maxFileBytes)",
				f->path, len, (unsigned long long)cap);
		f->side.call = NULL;
		file_done(f);
		return;
	}
	if (r < 0) {
		file_reply_error(
			f, r == -ENOMEM ? ERR_INTERNAL : ERR_INVALID_ARGUMENT,
			r);
		return;
	}
	json_object *res = json_object_new_object();
	json_object_object_add(res, "content", content);
	json_object_object_add(res, "size",
			       json_object_new_int64((int64_t)len));
	rpc_reply(f->side.call, res);
	f->side.call = NULL;
	file_done(f);
}

static void on_file_opened(struct box *b, int err, int fd, void *userdata)
{
	(void)b;
	struct file_call *f = userdata;
	_cleanup_close_ int file = fd;
	if (err < 0)
		file_reply_error(f, ERR_INVALID_ARGUMENT, err);
	else if (f->put)
		reply_put(f, file);
	else if (!f->side.call)
		file_done(f); /* cancelled meanwhile: nothing to read for */
	else
		reply_get(f, file);
}

static void on_file_start(struct session_job *job, struct box *b,
			  struct command *waiting)
{
	(void)waiting;
	struct file_call *f = file_of(job);
	int r = box_open(b, f->path, f->put ? BOX_OPEN_WRITE : BOX_OPEN_READ,
			 f->mode, on_file_opened, f);
	if (r < 0)
		file_reply_error(f, ERR_INTERNAL, r);
}

static void on_file_end(struct session_job *job, enum error_kind kind,
			const char *msg)
{
	struct file_call *f = file_of(job);
	if (f->side.call)
		rpc_reply_error(f->side.call, kind, "%s", msg);
	f->side.call = NULL;
	file_done(f);
}

/* The box answers later: the call's reply is dropped then. */
static void on_file_cancel(struct rpc_call *call)
{
	struct file_call *f = call->userdata;
	rpc_reply_error(call, ERR_INTERNAL, "cancelled");
	f->side.call = NULL;
}

static void start_file_call(struct rpc_call *call, struct session *s,
			    struct file_call *f)
{
	side_enqueue(call, s, &f->side, on_file_start, on_file_end,
		     on_file_cancel);
}

/* The session and path of a file call; NULL after answering. */
static struct file_call *new_file_call(struct rpc_call *call,
				       const char *const *keys,
				       struct session **s)
{
	*s = params_session(call, keys);
	if (!*s)
		return NULL;
	if (session_paused(*s)) {
		rpc_reply_error(call, ERR_CONFLICT,
				"Session %s is %s: resume it first "
				"(session.resume)",
				session_id(*s), session_state(*s));
		return NULL;
	}
	struct file_call *f = calloc(1, sizeof(*f));
	if (!f)
		rpc_reply_error(call, ERR_INTERNAL, "out of memory");
	else if (!params_path(call, f->path, sizeof(f->path))) {
		free(f);
		f = NULL;
	}
	return f;
}

void method_file_put(struct rpc_call *call)
{
	static const char *const keys[] = { "sessionId", "path", "content",
					    "mode", NULL };
	struct session *s;
	struct file_call *f = new_file_call(call, keys, &s);
	if (!f)
		return;
	f->put = true;
	f->mode = 0644;
	json_object *v = NULL;
	if (!json_object_object_get_ex(call->params, "content", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		rpc_reply_error(call, ERR_INVALID_ARGUMENT,
				"params.content: a base64 string is required");
		goto out;
	}
	uint64_t cap = call->daemon->cfg.max_file_bytes;
	size_t b64len = (size_t)json_object_get_string_len(v);
	if (b64len / 4 * 3 > cap + 3 ||
	    base64_decode(json_object_get_string(v), b64len, &f->content,
			  &f->len) < 0) {
		if (b64len / 4 * 3 > cap + 3)
			rpc_reply_error(
				call, ERR_INVALID_ARGUMENT,
				"params.content: more than the limit of "
				"%llu bytes (sandbox.maxFileBytes)",
				(unsigned long long)cap);
		else
			rpc_reply_error(call, ERR_INVALID_ARGUMENT,
					"params.content: not valid base64");
		goto out;
	}
	if (f->len > cap) {
		rpc_reply_error(
			call, ERR_INVALID_ARGUMENT,
			"params.content: %zu bytes, more than the limit "
			"of %llu (sandbox.maxFileBytes)",
			f->len, (unsigned long long)cap);
		goto out;
	}
	if (json_object_object_get_ex(call->params, "mode", &v)) {
		int64_t m = json_object_is_type(v, json_type_int)
				    ? json_object_get_int64(v)
				    : -1;
		if (m < 0 || m > 0777) {
			rpc_reply_error(call, ERR_INVALID_ARGUMENT,
					"params.mode: permission bits from 0 "
					"to 0777 (511) are required");
			goto out;
		}
		f->mode = (uint32_t)m;
	}
	start_file_call(call, s, f);
	return;
out:
	free(f->content);
	free(f);
}

void method_file_get(struct rpc_call *call)
{
	static const char *const keys[] = { "sessionId", "path", NULL };
	struct session *s;
	struct file_call *f = new_file_call(call, keys, &s);
	if (f)
		start_file_call(call, s, f);
}
