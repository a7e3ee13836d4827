/* prebuiltImages, isol8's list of custom images for `isol8ctl setup` to
 * build: [{tag, runtime, installPackages, setupScript}]. */
#ifndef ISOL8D_PREBUILT_IMAGES_H
#define ISOL8D_PREBUILT_IMAGES_H

#include "error.h"

#include <json-c/json.h>

#define PREBUILT_IMAGES_MAX 64
#define PREBUILT_PACKAGES_MAX 256
#define PREBUILT_SCRIPT_MAX 65536

/* Checks the list at path (the configuration key): 0, or -EINVAL with e
 * naming the entry and member at fault. */
int prebuilt_images_check(const char *path, json_object *v, struct error *e);

#endif
