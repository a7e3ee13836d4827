/* isol8ctl's side (side.h): the local client.  What needs HTTP it hands,
 * before any of it runs, to isol8ctl-http (libexec.h) with the same argv
 * (argv[0] included, so that every message reads as before) and the same
 * environment, stdin, stdout and stderr. */
#include "cleanup.h"
#include "libexec.h"
#include "side.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HTTP_EXE "isol8ctl-http"

static int handover(struct ctl *ctl)
{
	_cleanup_close_ int fd = libexec_open(HTTP_EXE);
	if (fd >= 0)
		fexecve(fd, ctl->argv, environ);
	fprintf(stderr,
		"isol8ctl: cannot run %s (serve, login and --host need it): "
		"%m\n",
		ISOL8_LIBEXECDIR "/" HTTP_EXE);
	return CTL_EXIT_FAILURE;
}

/* Whether getopt_long could read an argument as --host: it takes any
 * unambiguous abbreviation, with or without "=VALUE". */
static bool mentions_host(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		size_t len = strcspn(argv[i], "=");
		if (len >= 4 && len <= 6 &&
		    strncmp(argv[i], "--host", len) == 0)
			return true;
	}
	return false;
}

int side_handover(struct ctl *ctl, const struct ctl_command *cmd, int argc,
		  char **argv)
{
	return cmd->takes_host && mentions_host(argc, argv) ? handover(ctl)
							    : -1;
}

int cmd_serve(struct ctl *ctl, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return handover(ctl);
}

int cmd_login(struct ctl *ctl, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return handover(ctl);
}

/* Its chain check needs libcrypto. */
int cmd_audit(struct ctl *ctl, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return handover(ctl);
}

/* Here run and session never see --host: side_handover took it. */
int side_run(struct ctl *ctl, const struct run_opts *o, json_object *params)
{
	return run_local(ctl, o, params);
}

int side_session(struct ctl *ctl, struct session_args *a,
		 int (*run)(struct ctl *ctl, const struct session_args *a))
{
	return run(ctl, a);
}

int side_session_call(struct ctl *ctl, const struct session_args *a,
		      const char *method, json_object *params,
		      json_object **result)
{
	(void)a;
	return ctl_call(ctl, method, params, result);
}
