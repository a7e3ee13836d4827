/* isol8ctl run --host: the same execution through isol8's HTTP API. */
#include "cleanup.h"
#include "cmd_run.h"
#include "json_field.h"
#include "remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A remote stream carries events only; what print_result needs of a
 * result is gathered from them. */
struct remote_run {
	json_object *result; /* exitCode, timedOut, networkLogs, files */
	json_object *logs;
	bool exited, failed;
	/* isol8's CLI rule: an error event makes it 1, an exit event other
	 * than "0" its number; the last one wins (so a failed setup script
	 * ends with the script's status, a timeout with 137). */
	int code;
};

static int on_remote_event(json_object *ev, void *userdata)
{
	struct remote_run *s = userdata;
	run_print_event(ev, NULL);
	const char *type = json_field_str(ev, "type", NULL);
	json_object *data = NULL;
	if (!type || !json_object_object_get_ex(ev, "data", &data))
		return 0;
	const char *text = json_object_get_string(data);
	/* isol8's rule: an error makes the exit code 1, a later exit other
	 * than "0" its number. */
	if (strcmp(type, "error") == 0)
		s->code = CTL_EXIT_FAILURE;
	if (strcmp(type, "exit") == 0) {
		int status = (int)strtol(text, NULL, 10);
		if (strcmp(text, "0") != 0)
			s->code = status ?: CTL_EXIT_FAILURE;
		s->exited = true;
		json_object_object_add(s->result, "exitCode",
				       json_object_new_int(status));
	} else if (strcmp(type, "network") == 0) {
		json_object_array_add(s->logs, json_object_get(data));
	} else if (strcmp(type, "error") == 0 &&
		   strcmp(text, TIMEOUT_TEXT) == 0) {
		json_object_object_add(s->result, "timedOut",
				       json_object_new_boolean(true));
	} else if (strcmp(type, "error") == 0 && !s->failed) {
		/* The first error a server reports is the one to show. */
		s->failed = true;
		fprintf(stderr, "[ERR] Stream failed: %s\n", text);
	}
	return 0;
}

/* The --out files, read from the session: a stream has no result to carry
 * them. */
static void fetch_outputs(struct remote *r, const struct run_opts *o,
			  json_object *result)
{
	json_object *paths = NULL;
	if (!json_object_object_get_ex(o->request, "outputPaths", &paths))
		return;
	json_object *files = json_object_new_object();
	json_object_object_add(result, "files", files);
	for (size_t i = 0; i < json_object_array_length(paths); i++) {
		const char *path = json_object_get_string(
			json_object_array_get_idx(paths, i));
		_cleanup_json_ json_object *got = NULL;
		json_object *content = NULL;
		if (remote_get_file(r, o->session_id, path, &got) ==
			    CTL_EXIT_OK &&
		    json_object_object_get_ex(got, "content", &content))
			json_object_object_add(files, path,
					       json_object_get(content));
	}
}

static int stream_remote(struct remote *r, const struct run_opts *o,
			 json_object *params)
{
	_cleanup_json_ json_object *result = json_object_new_object();
	_cleanup_json_ json_object *logs = json_object_new_array();
	struct remote_run s = { .result = result, .logs = logs };
	int code = remote_execute_stream(r, params, on_remote_event, &s);
	if (code != CTL_EXIT_OK)
		return code;
	if (s.failed)
		return s.code;
	bool timed_out = json_field_str(result, "timedOut", NULL);
	if (!s.exited && !timed_out) {
		fprintf(stderr, "[ERR] Stream failed: the server ended the "
				"stream before the execution's exit\n");
		return CTL_EXIT_UNREACHABLE;
	}
	/* A timed-out run exits with 137, as isol8's do. */
	if (!s.exited)
		json_object_object_add(result, "exitCode",
				       json_object_new_int(137));
	json_object *v = NULL;
	bool filtered = json_object_object_get_ex(o->options, "network", &v) &&
			strcmp(json_object_get_string(v), "filtered") == 0;
	if (json_object_array_length(logs) ||
	    (filtered &&
	     json_object_object_get_ex(o->options, "logNetwork", NULL)))
		json_object_object_add(result, "networkLogs",
				       json_object_get(logs));
	if (o->session_id)
		fetch_outputs(r, o, result);
	return run_print_result(o, result, true);
}

int run_remote(const struct run_opts *o, json_object *params)
{
	bool stream = !o->no_stream && !o->json;
	if (stream && !o->session_id &&
	    json_object_object_get_ex(o->request, "outputPaths", NULL)) {
		fprintf(stderr, "[ERR] File operations require a sessionId "
				"(persistent mode)\n");
		return CTL_EXIT_USAGE;
	}
	struct remote r;
	int code = remote_open(&r, o->host, o->key, "[ERR] ");
	if (code != CTL_EXIT_OK)
		return code;
	code = remote_health(&r);
	if (code == CTL_EXIT_OK && stream) {
		code = stream_remote(&r, o, params);
	} else if (code == CTL_EXIT_OK) {
		_cleanup_json_ json_object *result = NULL;
		code = remote_execute(&r, params, &result);
		if (code == CTL_EXIT_OK)
			code = run_print_result(o, result, false);
	}
	/* As isol8's client: a session made up for --persistent ends with
	 * its run. */
	if (o->made_id[0] && code != CTL_EXIT_UNREACHABLE) {
		_cleanup_json_ json_object *res = NULL;
		remote_delete_session(&r, o->made_id, &res);
	}
	remote_close(&r);
	return code;
}
