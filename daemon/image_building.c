#include "image_building.h"

#include "image_ref.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define TAG_LEN (IMAGE_NAME_MAX + IMAGE_TAG_MAX + 2)

/* One daemon, one loop: the images it builds. */
static char building[IMAGE_BUILDING_MAX][TAG_LEN];

int image_building_add(const char *tag)
{
	for (size_t i = 0; i < IMAGE_BUILDING_MAX; i++) {
		if (!building[i][0]) {
			snprintf(building[i], TAG_LEN, "%s", tag);
			return 0;
		}
	}
	return -ENOSPC;
}

void image_building_remove(const char *tag)
{
	for (size_t i = 0; i < IMAGE_BUILDING_MAX; i++)
		if (strcmp(building[i], tag) == 0)
			building[i][0] = '\0';
}

bool image_building_has(const char *name, const char *tag)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < IMAGE_BUILDING_MAX; i++)
		if (building[i][0] && strncmp(building[i], name, n) == 0 &&
		    building[i][n] == ':' &&
		    strcmp(building[i] + n + 1, tag) == 0)
			return true;
	return false;
}
