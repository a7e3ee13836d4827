/* Where isol8ctl's two binaries differ.  DESIGN: isol8ctl itself is the
 * local client and links only libc, json-c and the proto library, so that
 * a command to the daemon starts as fast as a bare program; everything
 * that speaks HTTP (isol8ctl serve, and --host for run and session: libcurl,
 * libmicrohttpd, sqlite, libcrypto, libsystemd) is in isol8ctl-http, a
 * program of its own that isol8ctl executes with the command line as it
 * was given.  The commands' code is shared; what differs is behind these
 * functions: side_local.c in isol8ctl, side_http.c in isol8ctl-http (which
 * is the whole client, so it also runs local commands as given). */
#ifndef ISOL8CTL_SIDE_H
#define ISOL8CTL_SIDE_H

#include "cmd_run.h"
#include "ctl.h"

#include <json-c/json.h>

struct session_args;

/* Called by main before cmd runs: -1 to run it here, else cmd's exit
 * status.  isol8ctl hands a command line that may hold --host to
 * isol8ctl-http (any argument getopt could read as --host: a value that
 * merely looks like one costs the handover, never the result). */
int side_handover(struct ctl *ctl, const struct ctl_command *cmd, int argc,
		  char **argv);

/* isol8ctl run's execution: the daemon's socket, or with --host isol8's
 * HTTP API. */
int side_run(struct ctl *ctl, const struct run_opts *o, json_object *params);

/* A session subcommand (run) with its arguments parsed: in isol8ctl-http
 * with --host, run against isol8's HTTP API. */
int side_session(struct ctl *ctl, struct session_args *a,
		 int (*run)(struct ctl *ctl, const struct session_args *a));

/* One session call by the daemon's method name, to the daemon or with
 * --host to isol8's route for it; as ctl_call, params is taken. */
int side_session_call(struct ctl *ctl, const struct session_args *a,
		      const char *method, json_object *params,
		      json_object **result);

#endif
