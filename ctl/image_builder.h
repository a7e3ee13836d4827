/* The image builder (isol8-image-build, libexec.h) as isol8ctl setup and
 * isol8ctl image import run it: here, as root, on the store the daemon's
 * configuration names; in place of isol8ctl, or as a child waited for. */
#ifndef ISOL8CTL_IMAGE_BUILDER_H
#define ISOL8CTL_IMAGE_BUILDER_H

#include "ctl.h"
#include "libexec.h"

/* Asks the daemon for its image store (images.dir) and runtimes prefix
 * (sandbox.runtimesDir), which stay valid while *config lives (caller
 * puts it); an exit code, with why printed for cmd. */
int image_builder_config(struct ctl *ctl, const char *cmd, json_object **config,
			 const char **dir, const char **runtimes_dir);

/* Runs the builder with args (args[0] its name, NULL-terminated) in place
 * of this program; returns an exit code only when it cannot. */
int image_builder_exec(const char *cmd, char **args);

/* Runs the builder with args as a child, with keep (when >= 0) left open
 * in it, and waits for it: CTL_EXIT_OK when it succeeded, else
 * CTL_EXIT_FAILURE (with why printed for cmd when it could not run). */
int image_builder_run(const char *cmd, char **args, int keep);

#endif
