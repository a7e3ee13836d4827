/* Remote mode's transfers through libcurl: JSON calls, and an execution's
 * Server-Sent Events read as they come. */
#include "remote.h"

#include "cleanup.h"
#include "credentials.h"
#include "ctl.h"
#include "error.h"
#include "json_field.h"
#include "jsonrpc.h"
#include "sse.h"
#include "version.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CONNECT_TIMEOUT_MS 10000L
/* Calls other than executions; a file of the daemon's largest size (64 MiB
 * by default, some 85 MiB base64-encoded) still fits in it on a slow
 * link. */
#define CALL_TIMEOUT_MS 120000L
/* Answers kept whole: files come base64-encoded in them. */
#define ANSWER_MAX ((size_t)1024 * 1024 * 1024)
/* How much of a refusal's body a message shows. */
#define SHOWN_BODY 200
/* Of a refused stream's answer: enough for its JSON error whole. */
#define REFUSAL_KEPT ((size_t)64 * 1024)

static inline void cleanup_curl(CURL **c)
{
	if (*c)
		curl_easy_cleanup(*c);
}
static inline void cleanup_slist(struct curl_slist **l)
{
	curl_slist_free_all(*l);
}
#define _cleanup_curl_ __attribute__((cleanup(cleanup_curl)))
#define _cleanup_slist_ __attribute__((cleanup(cleanup_slist)))

/* One transfer's outcome, and what its write callback needs. */
struct reply {
	CURL *curl;
	CURLcode code;
	long status;
	char *body; /* NUL-terminated once mem is flushed */
	size_t len; /* set by mem */
	size_t kept;
	FILE *mem;
	struct sse_parser *sse; /* a stream's 2xx body goes here */
	int err;       /* why the write callback stopped the transfer */
	char why[256]; /* and what it was, when err says too little */
	char curl_error[CURL_ERROR_SIZE];
};

static void reply_free(struct reply *rep)
{
	if (rep->mem)
		fclose(rep->mem);
	free(rep->body);
}
#define _cleanup_reply_ __attribute__((cleanup(reply_free)))

int remote_open(struct remote *r, const char *host, const char *flag_key,
		const char *prefix)
{
	*r = (struct remote){ .prefix = prefix };
	_cleanup_free_ char *key = credentials_api_key(host, flag_key);
	if (!key)
		return CTL_EXIT_FAILURE;
	/* It goes into a header line: no line breaks smuggled in. */
	for (const char *p = key; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			fprintf(stderr,
				"%sthe API key holds a control "
				"character\n",
				prefix);
			return CTL_EXIT_USAGE;
		}
	size_t n = strlen(host);
	while (n && host[n - 1] == '/')
		n--;
	if (n == 0) {
		fprintf(stderr,
			"%s--host expects a URL such as "
			"http://127.0.0.1:3000\n",
			prefix);
		return CTL_EXIT_USAGE;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "%scannot set up the HTTP client\n", prefix);
		return CTL_EXIT_FAILURE;
	}
	r->base = strndup(host, n);
	if (!r->base ||
	    asprintf(&r->auth, "Authorization: Bearer %s", key) < 0) {
		r->auth = NULL;
		remote_close(r);
		fprintf(stderr, "%s%s\n", prefix, strerror(ENOMEM));
		return CTL_EXIT_FAILURE;
	}
	return CTL_EXIT_OK;
}

void remote_close(struct remote *r)
{
	curl_global_cleanup();
	free(r->base);
	free(r->auth);
	r->base = r->auth = NULL;
}

/* s escaped for a path segment or query value (caller frees). */
static char *escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *copy = e ? strdup(e) : NULL;
	curl_free(e);
	return copy;
}

/* libcurl's sockets are made close-on-exec like every other fd here. */
static curl_socket_t open_socket(void *userdata, curlsocktype purpose,
				 struct curl_sockaddr *a)
{
	(void)userdata;
	(void)purpose;
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct reply *rep = userdata;
	size_t n = size * nmemb;
	long status = 0;
	curl_easy_getinfo(rep->curl, CURLINFO_RESPONSE_CODE, &status);
	if (rep->sse && status / 100 == 2) {
		rep->err = sse_feed(rep->sse, data, n);
		if (rep->err == -EMSGSIZE)
			snprintf(rep->why, sizeof(rep->why),
				 "an event larger than %zu bytes",
				 rep->sse->max);
		return rep->err < 0 ? 0 : n;
	}
	size_t keep = rep->sse ? REFUSAL_KEPT : ANSWER_MAX;
	if (n > keep - rep->kept) {
		if (!rep->sse) {
			rep->err = -EMSGSIZE;
			snprintf(rep->why, sizeof(rep->why),
				 "an answer larger than %zu bytes", keep);
			return 0;
		}
		n = keep - rep->kept;
	}
	if (fwrite(data, 1, n, rep->mem) != n) {
		rep->err = -ENOMEM;
		return 0;
	}
	rep->kept += n;
	return size * nmemb;
}

/* One request; 0 with the outcome in *rep (rep->code, rep->status), or a
 * negative errno when it could not be made. */
static int perform(struct remote *r, const char *method, const char *path,
		   json_object *body, long timeout_ms, struct reply *rep)
{
	_cleanup_free_ char *url = NULL;
	if (asprintf(&url, "%s%s", r->base, path) < 0)
		return -ENOMEM;
	_cleanup_curl_ CURL *c = curl_easy_init();
	_cleanup_slist_ struct curl_slist *h = NULL;
	const char *headers[] = {
		r->auth,
		"Content-Type: application/json",
		rep->sse ? "Accept: text/event-stream"
			 : "Accept: application/json",
		/* No 100-continue round trip before a large body. */
		"Expect:",
	};
	for (size_t i = 0; i < ARRAY_SIZE(headers); i++) {
		struct curl_slist *l = curl_slist_append(h, headers[i]);
		if (!l)
			return -ENOMEM;
		h = l;
	}
	size_t body_len = 0;
	const char *text =
		body ? json_object_to_json_string_length(
			       body,
			       JSON_C_TO_STRING_PLAIN |
				       JSON_C_TO_STRING_NOSLASHESCAPE,
			       &body_len)
		     : NULL;
	rep->mem = open_memstream(&rep->body, &rep->len);
	if (!c || !rep->mem || (body && !text))
		return -ENOMEM;
	rep->curl = c;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (text) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)body_len);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "isol8ctl/" ISOL8_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, rep->curl_error);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	/* An execution may be silent for long: a peer gone is found by
	 * keep-alive probes rather than by a time limit. */
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, rep);
	rep->code = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rep->status);
	if (fflush(rep->mem) != 0)
		return -ENOMEM;
	if (!rep->curl_error[0])
		snprintf(rep->curl_error, sizeof(rep->curl_error), "%s",
			 curl_easy_strerror(rep->code));
	return 0;
}

/* Prints what went wrong, if anything; the exit code. */
static int report(const struct remote *r, const char *what, int ret,
		  const struct reply *rep)
{
	if (ret < 0 || rep->err < 0) {
		fprintf(stderr, "%s%s: %s\n", r->prefix, what,
			rep->why[0] ? rep->why : strerror(-(ret ?: rep->err)));
		return CTL_EXIT_FAILURE;
	}
	if (rep->code != CURLE_OK) {
		fprintf(stderr, "%s%s: %s\n", r->prefix, what, rep->curl_error);
		return CTL_EXIT_UNREACHABLE;
	}
	if (rep->status / 100 == 2)
		return CTL_EXIT_OK;
	/* As isol8's client: the answer's "error" when it has one. */
	_cleanup_json_ json_object *o = NULL;
	struct error bad;
	const char *error = NULL;
	if (rep->len && json_parse_strict(rep->body, rep->len, &o, &bad) == 0)
		error = json_field_str(o, "error", NULL);
	if (error) {
		fprintf(stderr, "%s%s: %s\n", r->prefix, what, error);
		return CTL_EXIT_FAILURE;
	}
	size_t n = rep->len < SHOWN_BODY ? rep->len : SHOWN_BODY;
	while (n && (rep->body[n - 1] == '\n' || rep->body[n - 1] == '\r'))
		n--;
	fprintf(stderr, "%s%s: HTTP %ld%s%.*s\n", r->prefix, what, rep->status,
		n ? ": " : "", (int)n, n ? rep->body : "");
	return CTL_EXIT_FAILURE;
}

static int call(struct remote *r, const char *method, const char *path,
		json_object *body, long timeout_ms, const char *what,
		json_object **result)
{
	_cleanup_reply_ struct reply rep = { 0 };
	*result = NULL;
	int code =
		report(r, what,
		       perform(r, method, path, body, timeout_ms, &rep), &rep);
	if (code != CTL_EXIT_OK || rep.len == 0)
		return code;
	struct error why;
	if (json_parse_strict(rep.body, rep.len, result, &why) < 0) {
		fprintf(stderr, "%s%s: the server's answer is not JSON: %s\n",
			r->prefix, what, why.message);
		return CTL_EXIT_FAILURE;
	}
	return CTL_EXIT_OK;
}

int remote_execute(struct remote *r, json_object *body, json_object **result)
{
	return call(r, "POST", "/execute", body, 0, "Execution failed", result);
}

int remote_health(struct remote *r)
{
	_cleanup_json_ json_object *answer = NULL;
	int code = call(r, "GET", "/health", NULL, CALL_TIMEOUT_MS,
			"Remote server health check failed", &answer);
	/* A server that is there but not well cannot be used either. */
	return code == CTL_EXIT_OK ? code : CTL_EXIT_UNREACHABLE;
}

int remote_list_sessions(struct remote *r, json_object **result)
{
	return call(r, "GET", "/sessions", NULL, CALL_TIMEOUT_MS,
		    "Failed to list sessions", result);
}

int remote_put_file(struct remote *r, json_object *body, json_object **result)
{
	return call(r, "POST", "/file", body, CALL_TIMEOUT_MS,
		    "File upload failed", result);
}

static int no_memory(const struct remote *r, const char *what,
		     json_object **result)
{
	*result = NULL;
	fprintf(stderr, "%s%s: %s\n", r->prefix, what, strerror(ENOMEM));
	return CTL_EXIT_FAILURE;
}

int remote_get_file(struct remote *r, const char *session_id, const char *path,
		    json_object **result)
{
	static const char what[] = "File download failed";
	_cleanup_free_ char *id = escape(session_id), *p = escape(path),
			    *url = NULL;
	if (!id || !p ||
	    asprintf(&url, "/file?sessionId=%s&path=%s", id, p) < 0)
		return no_memory(r, what, result);
	return call(r, "GET", url, NULL, CALL_TIMEOUT_MS, what, result);
}

/* /session/ID + tail, or NULL. */
static char *session_url(const char *session_id, const char *tail)
{
	_cleanup_free_ char *id = escape(session_id);
	char *url = NULL;
	if (!id || asprintf(&url, "/session/%s%s", id, tail) < 0)
		return NULL;
	return url;
}

int remote_set_timeout(struct remote *r, const char *session_id, long long sec,
		       json_object **result)
{
	static const char what[] = "Failed to set session timeout";
	_cleanup_free_ char *url = session_url(session_id, "/timeout");
	if (!url)
		return no_memory(r, what, result);
	_cleanup_json_ json_object *body = json_object_new_object();
	json_object_object_add(body, "timeoutSec", json_object_new_int64(sec));
	return call(r, "POST", url, body, CALL_TIMEOUT_MS, what, result);
}

int remote_pause_session(struct remote *r, const char *session_id, bool pause,
			 json_object **result)
{
	const char *what =
		pause ? "Failed to pause session" : "Failed to resume session";
	_cleanup_free_ char *url =
		session_url(session_id, pause ? "/pause" : "/resume");
	if (!url)
		return no_memory(r, what, result);
	return call(r, "POST", url, NULL, CALL_TIMEOUT_MS, what, result);
}

int remote_delete_session(struct remote *r, const char *session_id,
			  json_object **result)
{
	static const char what[] = "Failed to delete session";
	_cleanup_free_ char *url = session_url(session_id, "");
	if (!url)
		return no_memory(r, what, result);
	return call(r, "DELETE", url, NULL, CALL_TIMEOUT_MS, what, result);
}

int remote_expose(struct remote *r, const char *session_id, long long port,
		  bool expose, json_object **result)
{
	static const char what[] = "Failed to expose the port";
	char tail[32];
	snprintf(tail, sizeof(tail), "/expose/%lld", port);
	_cleanup_free_ char *url =
		session_url(session_id, expose || !port ? "/expose" : tail);
	if (!url)
		return no_memory(r, what, result);
	if (!port)
		return call(r, "GET", url, NULL, CALL_TIMEOUT_MS, what, result);
	if (!expose)
		return call(r, "DELETE", url, NULL, CALL_TIMEOUT_MS, what,
			    result);
	_cleanup_json_ json_object *body = json_object_new_object();
	json_object_object_add(body, "port", json_object_new_int64(port));
	return call(r, "POST", url, body, CALL_TIMEOUT_MS, what, result);
}

int remote_login(struct remote *r, json_object *body, json_object **result,
		 long *status, char *why, size_t why_len)
{
	_cleanup_reply_ struct reply rep = { 0 };
	*result = NULL;
	int ret =
		perform(r, "POST", "/auth/login", body, CALL_TIMEOUT_MS, &rep);
	*status = ret < 0 || rep.code != CURLE_OK ? 0 : rep.status;
	if (ret < 0 || rep.err < 0) {
		snprintf(why, why_len, "%s",
			 rep.why[0] ? rep.why : strerror(-(ret ?: rep.err)));
		return CTL_EXIT_FAILURE;
	}
	if (rep.code != CURLE_OK) {
		snprintf(why, why_len, "%s", rep.curl_error);
		return CTL_EXIT_UNREACHABLE;
	}
	_cleanup_json_ json_object *answer = NULL;
	struct error e;
	if (rep.len)
		json_parse_strict(rep.body, rep.len, &answer, &e);
	json_object *error = NULL;
	if (rep.status / 100 != 2) {
		if (json_object_object_get_ex(answer, "error", &error) &&
		    json_object_is_type(error, json_type_string))
			snprintf(why, why_len, "%s",
				 json_object_get_string(error));
		else
			snprintf(why, why_len, "HTTP %ld", rep.status);
		return CTL_EXIT_FAILURE;
	}
	if (!json_object_is_type(answer, json_type_object)) {
		snprintf(why, why_len,
			 "the server's answer is not a JSON "
			 "object");
		return CTL_EXIT_FAILURE;
	}
	*result = TAKE_PTR(answer);
	return CTL_EXIT_OK;
}

struct stream {
	remote_event_fn on_event;
	void *userdata;
	struct reply *rep;
};

static int on_sse(void *userdata, const char *type, const char *data,
		  size_t len)
{
	struct stream *s = userdata;
	/* isol8's stream events come unnamed; others are not ours. */
	if (strcmp(type, "message") != 0)
		return 0;
	_cleanup_json_ json_object *event = NULL;
	struct error why = { 0 };
	if (json_parse_strict(data, len, &event, &why) < 0 ||
	    !json_object_is_type(event, json_type_object)) {
		snprintf(s->rep->why, sizeof(s->rep->why),
			 "the server sent an event that is not a JSON "
			 "object%s%.159s",
			 *why.message ? ": " : "", why.message);
		return -EBADMSG;
	}
	return s->on_event(event, s->userdata);
}

int remote_execute_stream(struct remote *r, json_object *body,
			  remote_event_fn on_event, void *userdata)
{
	_cleanup_reply_ struct reply rep = { 0 };
	struct sse_parser sse;
	struct stream s = { on_event, userdata, &rep };
	sse_init(&sse, 0, on_sse, &s);
	rep.sse = &sse;
	int ret = perform(r, "POST", "/execute/stream", body, 0, &rep);
	sse_free(&sse);
	return report(r, "Stream failed", ret, &rep);
}
