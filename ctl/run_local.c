/* isol8ctl run through the daemon's socket, and the end of the session a
 * --persistent run made up. */
#include "cleanup.h"
#include "cmd_run.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* The run's connection while a signal may end it, else -1. */
static volatile sig_atomic_t run_fd = -1;
static volatile sig_atomic_t interrupted;

/* Ends the wait for the result: the blocked read sees the connection
 * end, and the daemon, seeing it too, cancels the execution. */
static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
	if (run_fd >= 0)
		shutdown(run_fd, SHUT_RDWR);
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* On a connection of its own: the run's may be mid-stream or gone. */
static void end_session(struct ctl *ctl, const char *id)
{
	json_object *p = json_object_new_object();
	json_object_object_add(p, "sessionId", json_object_new_string(id));
	_cleanup_json_ json_object *res = NULL;
	ctl_call(ctl, "session.delete", p, &res);
}

int run_local(struct ctl *ctl, const struct run_opts *o, json_object *params)
{
	bool stream = !o->no_stream && !o->json;
	bool made = o->made_id[0] != '\0';
	if (stream)
		json_object_object_add(params, "stream",
				       json_object_new_boolean(true));
	if (made)
		catch_signals();
	struct rpc_client c;
	int code = ctl_connect(ctl, &c);
	if (code != CTL_EXIT_OK)
		return code;
	if (made)
		run_fd = c.fd;
	json_object *result = NULL, *error = NULL;
	int r = rpc_client_call(&c, "execute", json_object_get(params),
				stream ? run_print_event : NULL, NULL, &result,
				&error);
	run_fd = -1;
	rpc_client_close(&c);
	if (made && interrupted) {
		json_object_put(result);
		json_object_put(error);
		end_session(ctl, o->made_id);
		return CTL_EXIT_OK;
	}
	if (r < 0) {
		fprintf(stderr, "[ERR] Connection to isol8d failed: %s\n",
			strerror(-r));
		code = CTL_EXIT_UNREACHABLE;
	} else if (error) {
		json_object *m = NULL;
		json_object_object_get_ex(error, "message", &m);
		fprintf(stderr, "[ERR] %s\n", json_object_get_string(m));
		json_object_put(error);
		code = CTL_EXIT_FAILURE;
	} else {
		code = run_print_result(o, result, stream);
		json_object_put(result);
	}
	if (made)
		end_session(ctl, o->made_id);
	return code;
}
