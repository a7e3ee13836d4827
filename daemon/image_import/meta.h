/* The metadata `isol8-image import` writes beside the root filesystem:
 * what the image's own configuration says (digest, created, entrypoint,
 * environment, working directory), what the import found (format, size,
 * runtimes) and what the sanitizing copy left out. */
#ifndef ISOL8_IMAGE_IMPORT_META_H
#define ISOL8_IMAGE_IMPORT_META_H

#include <json-c/json.h>

#include "copy.h"
#include "error.h"

/* layout: the sandbox's layout directory (its format, inspect.json,
 * config.json and manifest.json files, written by untrusted tools, are
 * read with size limits and checked); rootfs: the copied root filesystem.
 * runtime: NULL, or a runtime the image must have. */
int import_meta_build(int layout, int rootfs, const struct copy_stats *st,
		      const char *runtime, struct json_object **out,
		      struct error *e);

#endif
