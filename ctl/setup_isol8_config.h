/* What isol8ctl setup takes from isol8's own configuration file
 * (isol8_config.h): its prebuiltImages, built after the daemon's. */
#ifndef ISOL8CTL_SETUP_ISOL8_CONFIG_H
#define ISOL8CTL_SETUP_ISOL8_CONFIG_H

#include <json-c/json.h>

/* The prebuiltImages of path (NULL: the file isol8 reads, when there is
 * one) in *images (a reference the caller puts; NULL without a file) and
 * the file read in *file (the caller frees it).  An exit code, with why
 * printed. */
int setup_isol8_images(const char *path, json_object **images, char **file);

#endif
