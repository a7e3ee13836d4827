/* isol8ctl session's parsed command line, shared with the HTTP side
 * (side_http.c). */
#ifndef ISOL8CTL_CMD_SESSION_H
#define ISOL8CTL_CMD_SESSION_H

#include <stdbool.h>

struct remote;

struct session_args {
	const char *name; /* the subcommand */
	bool json;
	const char *runtime, *id, *idle, *memory, *cpu, *pids, *mode, *image;
	const char *host, *key;
	struct remote *remote; /* with --host: calls go there */
	char **pos;
	int npos;
};

#endif
