/* isol8ctl's remote mode: isol8's HTTP API (isol8ctl serve, or isol8's own
 * server) through libcurl instead of the daemon's socket.  The calls print
 * their own failures, "<prefix><what>: HTTP 429: <first 200 bytes of the
 * body>" or "<prefix><what>: <curl's error text>", and return an exit code
 * of enum ctl_exit. */
#ifndef ISOL8CTL_REMOTE_H
#define ISOL8CTL_REMOTE_H

#include <json-c/json.h>
#include <stdbool.h>

struct remote {
	char *base;	    /* the URL without a trailing '/' */
	char *auth;	    /* the Authorization header */
	const char *prefix; /* before each message: "[ERR] ", "isol8ctl: " */
};

/* From --host and the key credentials_api_key() resolves (--key,
 * $ISOL8_API_KEY, the stored login); prints why not.  Only after it
 * succeeded is remote_close due. */
int remote_open(struct remote *r, const char *host, const char *key,
		const char *prefix);
void remote_close(struct remote *r);

/* GET /health: "Remote server health check failed: ..." when it is not
 * answered with a 2xx. */
int remote_health(struct remote *r);

/* POST /execute, without an overall time limit; the ExecutionResult in
 * *result (caller puts). */
int remote_execute(struct remote *r, json_object *body, json_object **result);

/* Gets each event of the server-sent stream (its data as JSON); a negative
 * errno from it ends the stream with an error. */
typedef int (*remote_event_fn)(json_object *event, void *userdata);

/* POST /execute/stream, without an overall time limit, passing the events
 * to on_event until the server ends the stream. */
int remote_execute_stream(struct remote *r, json_object *body,
			  remote_event_fn on_event, void *userdata);

/* Sessions and their files, as isol8's client has them; each answer in
 * *result (caller puts).  body is not taken. */
int remote_list_sessions(struct remote *r, json_object **result);
int remote_put_file(struct remote *r, json_object *body, json_object **result);
int remote_get_file(struct remote *r, const char *session_id, const char *path,
		    json_object **result);
int remote_set_timeout(struct remote *r, const char *session_id, long long sec,
		       json_object **result);
/* POST /session/ID/pause (pause true) or /resume. */
int remote_pause_session(struct remote *r, const char *session_id, bool pause,
			 json_object **result);
int remote_delete_session(struct remote *r, const char *session_id,
			  json_object **result);
/* The bridge's exposed-port routes: POST /session/ID/expose {port}
 * (expose true), DELETE /session/ID/expose/PORT (false), or with port 0
 * GET /session/ID/expose. */
int remote_expose(struct remote *r, const char *session_id, long long port,
		  bool expose, json_object **result);

/* POST /auth/login with body, printing nothing: on a 2xx CTL_EXIT_OK and
 * the answer in *result (caller puts); otherwise an exit code with isol8's
 * text in why (the answer's "error", else "HTTP <status>", else the
 * transfer's error) and the status in *status (0 when none came). */
int remote_login(struct remote *r, json_object *body, json_object **result,
		 long *status, char *why, size_t why_len);

#endif
