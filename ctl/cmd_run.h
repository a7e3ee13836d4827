/* isol8ctl run's pieces shared by its local (cmd_run.c) and remote
 * (cmd_run_remote.c) paths. */
#ifndef ISOL8CTL_CMD_RUN_H
#define ISOL8CTL_CMD_RUN_H

#include "ctl.h"

#include <json-c/json.h>
#include <stdbool.h>

/* The daemon's word for a timeout, in its stream and in isol8's. */
#define TIMEOUT_TEXT "EXECUTION TIMED OUT"

struct run_opts {
	const char *file, *eval, *cmd, *runtime, *session_id, *host, *key;
	const char *out; /* --out: a local file for the program's stdout */
	const char *url, *github, *gist; /* remote code: one of them */
	bool no_stream, json, debug, persistent, persist, net_given;
	char made_id[40];
	json_object *request, *options, *env, *secrets, *files, *packages,
		*fetch, *setup, *allow, *deny;
};

/* Fills request.code / cmd / codeUrl / runtime / fileExtension from the
 * source (run_source.c); the others of --cmd, a URL, --eval and FILE are
 * refused before, and stdin is read when none is given.  0, or a negative
 * errno after a message. */
int run_set_source(struct run_opts *o);

/* A stream event's stdout or stderr, written out as it comes. */
void run_print_event(json_object *params, void *userdata);
/* The result as isol8's CLI shows it (only what the stream did not show
 * already, when streamed), --fetch files saved, --out written; the exit
 * code to return. */
int run_print_result(const struct run_opts *o, json_object *result,
		     bool streamed);
/* The execution through isol8's HTTP API: health first, then the stream
 * (or POST /execute for --no-stream and --json), as isol8's client does;
 * an exit code. */
int run_remote(const struct run_opts *o, json_object *params);

/* The execution through the daemon's socket (run_local.c).  A session it
 * made up (--persistent without --session-id) is deleted when the run
 * ends or SIGINT or SIGTERM interrupts it, as isol8's CLI ends its engine;
 * an interrupted run exits 0, as isol8's does.  An exit code. */
int run_local(struct ctl *ctl, const struct run_opts *o, json_object *params);

#endif
