/* Shared pieces of isol8ctl's commands: connecting, simple calls, exit
 * codes, and the command table. */
#ifndef ISOL8CTL_CTL_H
#define ISOL8CTL_CTL_H

#include "rpc_client.h"

#include <json-c/json.h>
#include <stdbool.h>

enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAILURE = 1, /* the daemon refused or the command failed */
	CTL_EXIT_USAGE = 2,   /* bad command line */
	CTL_EXIT_UNREACHABLE =
		69, /* no daemon at the socket (EX_UNAVAILABLE) */
};

struct ctl {
	const char *socket_flag;
	char **argv; /* the whole command line, as given (side.h) */
};

struct ctl_command {
	const char *name;
	int (*run)(struct ctl *ctl, int argc, char **argv);
	const char *summary;
	bool takes_host; /* --host: isol8's HTTP API instead (side.h) */
};

/* Connects or prints why not; returns an exit code. */
int ctl_connect(struct ctl *ctl, struct rpc_client *c);
/* One call on a fresh connection; prints any error; returns an exit code
 * and on success the result in *result (caller puts it). */
int ctl_call(struct ctl *ctl, const char *method, json_object *params,
	     json_object **result);
/* Prints a daemon error object as "isol8ctl: <message>"; exit code. */
int ctl_report_error(json_object *error);
void ctl_print_json(json_object *o);
/* Reads all of fd, or the file at path, into a fresh NUL-terminated
 * buffer; 0 or a negative errno. */
int ctl_read_fd(int fd, char **out, size_t *len);
int ctl_read_file(const char *path, char **out, size_t *len);
/* Random bytes for ids the client makes up. */
void ctl_random(void *buf, size_t len);

/* Parses the options every informational command takes (--json, --socket,
 * --help; help is printed from help_text).  Returns -1 to go on, else the
 * exit code to return at once. */
int ctl_simple_args(struct ctl *ctl, int argc, char **argv,
		    const char *help_text, bool *json);
/* The same with another switch than --json (e.g. --force). */
int ctl_switch_args(struct ctl *ctl, int argc, char **argv,
		    const char *help_text, const char *name, bool *on);

int cmd_health(struct ctl *ctl, int argc, char **argv);
int cmd_version(struct ctl *ctl, int argc, char **argv);
int cmd_daemon_config(struct ctl *ctl, int argc, char **argv);
int cmd_config(struct ctl *ctl, int argc, char **argv);
int cmd_run(struct ctl *ctl, int argc, char **argv);
int cmd_pool(struct ctl *ctl, int argc, char **argv);
int cmd_session(struct ctl *ctl, int argc, char **argv);
int cmd_serve(struct ctl *ctl, int argc, char **argv);
int cmd_cleanup(struct ctl *ctl, int argc, char **argv);
int cmd_login(struct ctl *ctl, int argc, char **argv);
int cmd_logout(struct ctl *ctl, int argc, char **argv);
int cmd_audit(struct ctl *ctl, int argc, char **argv);
int cmd_image(struct ctl *ctl, int argc, char **argv);
int cmd_image_import(struct ctl *ctl, int argc, char **argv);
int cmd_setup(struct ctl *ctl, int argc, char **argv);

#endif
