#include "prebuilt_images.h"

#include "image_ref.h"
#include "package_name.h"
#include "runtimes/runtimes.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int bad(struct error *e, const char *at, const char *what,
	       json_object *v)
{
	return error_set(e, ERR_INVALID_ARGUMENT, EINVAL, "%s: %s, got %s", at,
			 what, v ? json_object_to_json_string(v) : "nothing");
}

/* Package names, Debian's for bash. */
static int check_packages(const char *at, json_object *v, bool debian,
			  struct error *e)
{
	if (!json_object_is_type(v, json_type_array) ||
	    json_object_array_length(v) == 0 ||
	    json_object_array_length(v) > PREBUILT_PACKAGES_MAX)
		return bad(e, at, "must be an array of 1 to 256 package names",
			   v);
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *p = json_object_array_get_idx(v, i);
		const char *s = json_object_get_string(p);
		if (json_object_is_type(p, json_type_string) &&
		    (debian ? debian_package_valid(s) : package_name_valid(s)))
			continue;
		char name[200];
		snprintf(name, sizeof(name), "%s[%zu]", at, i);
		return bad(e, name,
			   debian ? "must be a Debian package name (NAME or "
				    "NAME=VERSION: a-z, 0-9 and +.-, starting "
				    "with a letter or digit)"
				  : "must be a package name (letters, digits "
				    "and @_./=-, not starting with -)",
			   p);
	}
	return 0;
}

static int check_entry(const char *at, json_object *img, struct error *e)
{
	char m[160];
	if (!json_object_is_type(img, json_type_object))
		return bad(e, at, "must be an object", img);
	json_object_object_foreach(img, key, val)
	{
		snprintf(m, sizeof(m), "%s.%s", at, key);
		if (strcmp(key, "tag") == 0) {
			struct image_ref r;
			if (!json_object_is_type(val, json_type_string))
				return bad(e, m, "must be a string NAME:TAG",
					   val);
			int err = image_ref_parse(
				m, json_object_get_string(val), &r, e);
			if (err < 0)
				return err;
			if (r.kind != IMAGE_REF_TAG)
				return bad(e, m, "must be NAME:TAG", val);
		} else if (strcmp(key, "runtime") == 0) {
			if (!json_object_is_type(val, json_type_string) ||
			    !runtime_find(json_object_get_string(val)))
				return bad(e, m,
					   "must be \"python\", \"node\", "
					   "\"bun\", \"deno\" or \"bash\"",
					   val);
		} else if (strcmp(key, "installPackages") == 0) {
			continue; /* below, with the runtime known */
		} else if (strcmp(key, "setupScript") == 0) {
			if (val &&
			    (!json_object_is_type(val, json_type_string) ||
			     json_object_get_string_len(val) >
				     PREBUILT_SCRIPT_MAX))
				return bad(e, m,
					   "must be null or a string of at "
					   "most 64 KiB",
					   val);
		} else {
			return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
					 "%s: unknown key (tag, runtime, "
					 "installPackages, setupScript)",
					 m);
		}
	}
	static const char *const required[] = { "tag", "runtime",
						"installPackages" };
	for (size_t i = 0; i < 3; i++)
		if (!json_object_object_get_ex(img, required[i], NULL)) {
			snprintf(m, sizeof(m), "%s.%s", at, required[i]);
			return bad(e, m, "is required", NULL);
		}
	json_object *rt = json_object_object_get(img, "runtime");
	snprintf(m, sizeof(m), "%s.installPackages", at);
	return check_packages(m, json_object_object_get(img, "installPackages"),
			      strcmp(json_object_get_string(rt), "bash") == 0,
			      e);
}

int prebuilt_images_check(const char *path, json_object *v, struct error *e)
{
	if (!json_object_is_type(v, json_type_array) ||
	    json_object_array_length(v) > PREBUILT_IMAGES_MAX)
		return bad(e, path, "must be an array of at most 64 images", v);
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		char at[64];
		snprintf(at, sizeof(at), "%s[%zu]", path, i);
		int r = check_entry(at, json_object_array_get_idx(v, i), e);
		if (r < 0)
			return r;
	}
	return 0;
}
