/* The tags of the base images the daemon is building in the background
 * (image_autobuild.h), kept for the store (image_store.h), which tells a
 * request naming one of them that it is being built rather than that
 * there is no such image. */
#ifndef ISOL8D_IMAGE_BUILDING_H
#define ISOL8D_IMAGE_BUILDING_H

#include <stdbool.h>

#define IMAGE_BUILDING_MAX 8

/* Notes "name:tag" as being built (waiting its turn or under way): 0, or
 * -ENOSPC past IMAGE_BUILDING_MAX. */
int image_building_add(const char *tag);

/* Its build is over, whichever way. */
void image_building_remove(const char *tag);

/* Whether name:tag is being built. */
bool image_building_has(const char *name, const char *tag);

#endif
