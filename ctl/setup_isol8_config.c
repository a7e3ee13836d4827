#include "setup_isol8_config.h"

#include "ctl.h"
#include "isol8_config.h"
#include "json_field.h"

#include <stdio.h>

int setup_isol8_images(const char *path, json_object **images, char **file)
{
	struct isol8_config c;
	struct error e = { 0 };
	*images = NULL;
	*file = NULL;
	if (isol8_config_load_from(&c, path, &e) < 0) {
		fprintf(stderr, "isol8ctl: setup: %s\n", e.message);
		isol8_config_free(&c);
		return CTL_EXIT_FAILURE;
	}
	if (c.path) {
		*images = json_object_get(json_field(c.doc, "prebuiltImages"));
		*file = c.path;
		c.path = NULL;
	}
	isol8_config_free(&c);
	return CTL_EXIT_OK;
}
