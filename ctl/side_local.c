/* isol8ctl's side (side.h): the local client.  What needs HTTP it hands,
 * before any of it runs, to isol8ctl-http with the same argv (argv[0]
 * included, so that every message reads as before) and the same
 * environment, stdin, stdout and stderr.
 *
 * Which isol8ctl-http: never one found through PATH or the environment,
 * which a caller controls, but the one beside this program when that file
 * and its directory are as safe as this program itself (owned by root or by
 * this program's owner, writable by no one else: the build tree), else
 * the one `make install` put in ISOL8_LIBEXECDIR.  A copy of isol8ctl run
 * by root from a shared directory such as /tmp thus runs the installed
 * isol8ctl-http, not one another user left beside it. */
#include "cleanup.h"
#include "side.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HTTP_EXE "isol8ctl-http"

static bool as_safe(int fd, uid_t owner)
{
	struct stat st;
	return fstat(fd, &st) == 0 && (st.st_uid == 0 || st.st_uid == owner) &&
	       !(st.st_mode & (S_IWGRP | S_IWOTH));
}

/* isol8ctl-http beside this program, or -1. */
static int open_beside(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	struct stat st;
	if (n <= 0 || stat("/proc/self/exe", &st) < 0)
		return -1;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	_cleanup_close_ int dir = open(slash == self ? "/" : self,
				       O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0 || !as_safe(dir, st.st_uid))
		return -1;
	_cleanup_close_ int fd = openat(dir, HTTP_EXE, O_PATH | O_CLOEXEC);
	if (fd < 0 || !as_safe(fd, st.st_uid))
		return -1;
	return TAKE_FD(fd);
}

static int handover(struct ctl *ctl)
{
	_cleanup_close_ int fd = open_beside();
	if (fd < 0)
		fd = open(ISOL8_LIBEXECDIR "/" HTTP_EXE, O_PATH | O_CLOEXEC);
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
