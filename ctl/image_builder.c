#include "image_builder.h"

#include "cleanup.h"
#include "json_field.h"
#include "libexec.h"
#include "version.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The builder's exit code when it could not be run at all. */
#define NOT_RUN 127

int image_builder_config(struct ctl *ctl, const char *cmd, json_object **config,
			 const char **dir, const char **runtimes_dir)
{
	int code = ctl_call(ctl, "config.get", NULL, config);
	if (code != CTL_EXIT_OK)
		return code;
	json_object *cfg = json_field(*config, "config");
	*dir = json_field_str(json_field(cfg, "images"), "dir", NULL);
	*runtimes_dir =
		json_field_str(json_field(cfg, "sandbox"), "runtimesDir", NULL);
	if (!*dir || !*runtimes_dir) {
		fprintf(stderr,
			"isol8ctl: %s: the daemon did not name its image "
			"store (images.dir)\n",
			cmd);
		return CTL_EXIT_FAILURE;
	}
	return CTL_EXIT_OK;
}

/* Executes the builder (fd from libexec_open) with args and keep open;
 * returns only when it cannot, with errno set. */
static void exec_builder(int fd, char **args, int keep)
{
	/* A script: its interpreter opens it again by /proc/self/fd. */
	if (fd >= 0 && fcntl(fd, F_SETFD, 0) == 0 &&
	    (keep < 0 || fcntl(keep, F_SETFD, 0) == 0))
		fexecve(fd, args, environ);
}

int image_builder_exec(const char *cmd, char **args)
{
	fflush(stdout);
	_cleanup_close_ int fd = libexec_open(IMAGE_BUILDER);
	exec_builder(fd, args, -1);
	fprintf(stderr, "isol8ctl: %s: cannot run %s: %m\n", cmd,
		ISOL8_LIBEXECDIR "/" IMAGE_BUILDER);
	return CTL_EXIT_FAILURE;
}

int image_builder_run(const char *cmd, char **args, int keep)
{
	fflush(stdout);
	_cleanup_close_ int fd = libexec_open(IMAGE_BUILDER);
	pid_t pid = fd < 0 ? -1 : fork();
	if (pid == 0) {
		exec_builder(fd, args, keep);
		_exit(NOT_RUN);
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) == NOT_RUN) {
		fprintf(stderr, "isol8ctl: %s: cannot run %s: %s\n", cmd,
			ISOL8_LIBEXECDIR "/" IMAGE_BUILDER,
			pid < 0 ? strerror(errno) : "it did not finish");
		return CTL_EXIT_FAILURE;
	}
	return WEXITSTATUS(status) ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
}
