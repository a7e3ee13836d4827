/* isol8ctl-http's side (side.h): --host goes to isol8's HTTP API through
 * remote.c; serve is serve.c's.  This program runs as given: it hands
 * nothing on. */
#include "cleanup.h"
#include "cmd_session.h"
#include "json_field.h"
#include "remote.h"
#include "side.h"

#include <stdio.h>
#include <string.h>

int side_handover(struct ctl *ctl, const struct ctl_command *cmd, int argc,
		  char **argv)
{
	(void)ctl;
	(void)cmd;
	(void)argc;
	(void)argv;
	return -1;
}

int side_run(struct ctl *ctl, const struct run_opts *o, json_object *params)
{
	return o->host ? run_remote(o, params) : run_local(ctl, o, params);
}

int side_session(struct ctl *ctl, struct session_args *a,
		 int (*run)(struct ctl *ctl, const struct session_args *a))
{
	if (!a->host)
		return run(ctl, a);
	if (strcmp(a->name, "create") == 0) {
		fprintf(stderr,
			"[ERR] session create: isol8's HTTP API has no "
			"such route; there a session is made by its "
			"first execution: isol8ctl run --host %s "
			"--session-id ID ...\n",
			a->host);
		return CTL_EXIT_USAGE;
	}
	struct remote remote;
	int code = remote_open(&remote, a->host, a->key, "isol8ctl: ");
	if (code != CTL_EXIT_OK)
		return code;
	a->remote = &remote;
	code = run(ctl, a);
	a->remote = NULL;
	remote_close(&remote);
	return code;
}

/* The daemon's session methods as isol8's routes. */
static int remote_call(struct remote *r, const char *method,
		       json_object *params, json_object **result)
{
	const char *id = json_field_str(params, "sessionId", NULL);
	if (strcmp(method, "session.list") == 0)
		return remote_list_sessions(r, result);
	if (strcmp(method, "file.put") == 0)
		return remote_put_file(r, params, result);
	if (strcmp(method, "file.get") == 0)
		return remote_get_file(
			r, id, json_field_str(params, "path", NULL), result);
	if (strcmp(method, "session.set_timeout") == 0)
		return remote_set_timeout(
			r, id,
			json_object_get_int64(json_field(params, "timeoutSec")),
			result);
	if (strcmp(method, "session.pause") == 0 ||
	    strcmp(method, "session.resume") == 0)
		return remote_pause_session(
			r, id, strcmp(method, "session.pause") == 0, result);
	if (strcmp(method, "session.delete") == 0)
		return remote_delete_session(r, id, result);
	if (strcmp(method, "session.expose") == 0 ||
	    strcmp(method, "session.unexpose") == 0 ||
	    strcmp(method, "session.exposed") == 0)
		return remote_expose(
			r, id,
			json_object_get_int64(json_field(params, "port")),
			strcmp(method, "session.expose") == 0, result);
	fprintf(stderr, "isol8ctl: %s has no route in isol8's HTTP API\n",
		method);
	return CTL_EXIT_FAILURE;
}

int side_session_call(struct ctl *ctl, const struct session_args *a,
		      const char *method, json_object *params,
		      json_object **result)
{
	if (!a->remote)
		return ctl_call(ctl, method, params, result);
	_cleanup_json_ json_object *p = params;
	return remote_call(a->remote, method, p, result);
}
