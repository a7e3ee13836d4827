/* The base images of images.build that the store lacks, built at start in
 * the background while the daemon serves: the image builder
 * (isol8-image-build base, libexec.h) runs as a child of the loop, one
 * runtime at a time, in a process group of its own, its output lines
 * logged.  Requests meanwhile get what they would get without those
 * images (images.default, the host image unless set otherwise); one that
 * names an image still being built is refused as busy.  Once a build is
 * done its image is in the store, which is read on each request, so it
 * is usable by name at once.  A failed build is logged and shown in
 * health, and tried again only at the next start.  Stopping kills the
 * builder's group and waits for it: the builder removes its staging
 * directories when terminated, so no half image is left.
 *
 * A daemon that may not make setuid files, as under the shipped unit
 * (RestrictSUIDSGID=, PrivateDevices=: a Debian tree holds setuid programs
 * and mmdebstrap makes device nodes), runs the builder as a transient
 * service of its own instead (systemd-run --wait --pipe, unit
 * isol8d-image-build-RUNTIME.service), outside its sandbox, whose output
 * and exit it reads the same way; stopping stops that unit. */
#ifndef ISOL8D_IMAGE_AUTOBUILD_H
#define ISOL8D_IMAGE_AUTOBUILD_H

#include "config.h"

#include <json-c/json.h>
#include <systemd/sd-event.h>

struct image_autobuild;

/* Starts building what the store lacks on ev; *out is NULL when
 * images.build is empty.  0 or -errno (a build that cannot start is not
 * an error: it is reported as failed). */
int image_autobuild_start(sd_event *ev, const struct config *cfg,
			  struct image_autobuild **out);

/* Kills a builder still running and waits for its process group to be
 * gone. */
void image_autobuild_free(struct image_autobuild *b);

/* {state: off|building|ready|failed, runtimes: [{runtime, tag, state:
 * present|pending|building|built|failed, message}]} for health. */
json_object *image_autobuild_status(const struct image_autobuild *b);

#endif
