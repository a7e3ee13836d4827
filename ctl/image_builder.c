#include "image_builder.h"

#include "json_field.h"
#include "libexec.h"
#include "version.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

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

int image_builder_exec(const char *cmd, char **args)
{
	fflush(stdout);
	int fd = libexec_open(IMAGE_BUILDER);
	/* A script: its interpreter opens it again by /proc/self/fd. */
	if (fd >= 0 && fcntl(fd, F_SETFD, 0) == 0)
		fexecve(fd, args, environ);
	fprintf(stderr, "isol8ctl: %s: cannot run %s: %m\n", cmd,
		ISOL8_LIBEXECDIR "/" IMAGE_BUILDER);
	if (fd >= 0)
		close(fd);
	return CTL_EXIT_FAILURE;
}
