#include "json_field.h"

#include <stdio.h>
#include <string.h>

json_object *json_field(json_object *o, const char *key)
{
	json_object *v = NULL;
	json_object_object_get_ex(o, key, &v);
	return v;
}

const char *json_field_str(json_object *o, const char *key, const char *dflt)
{
	json_object *v = json_field(o, key);
	return v ? json_object_get_string(v) : dflt;
}

int64_t json_field_int(json_object *o, const char *key)
{
	return json_object_get_int64(json_field(o, key));
}

static bool skipped(const char *path, const char *const *skip)
{
	for (size_t i = 0; skip && skip[i]; i++) {
		size_t n = strlen(skip[i]);
		if (strncmp(path, skip[i], n) == 0 &&
		    (!path[n] || path[n] == '.' || path[n] == '['))
			return true;
	}
	return false;
}

/* The length of a path after snprintf added n to used: a path too long
 * for the buffer is cut, and still searched below. */
static size_t grown(size_t used, int n, size_t len)
{
	return n >= 0 && used + (size_t)n < len ? used + (size_t)n : len - 1;
}

/* path[0..used) is v's path; the search goes on below it. */
static bool find_nul(json_object *v, const char *const *skip, char *path,
		     size_t len, size_t used)
{
	if (skipped(path, skip))
		return false;
	switch (json_object_get_type(v)) {
	case json_type_string:
		return strlen(json_object_get_string(v)) !=
		       (size_t)json_object_get_string_len(v);
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			int n = snprintf(path + used, len - used, "[%zu]", i);
			if (find_nul(json_object_array_get_idx(v, i), skip,
				     path, len, grown(used, n, len)))
				return true;
		}
		break;
	case json_type_object: {
		json_object_object_foreach(v, k, m)
		{
			int n = snprintf(path + used, len - used, "%s%s",
					 used ? "." : "", k);
			if (find_nul(m, skip, path, len, grown(used, n, len)))
				return true;
		}
		break;
	}
	default:
		break;
	}
	path[used] = '\0';
	return false;
}

bool json_find_nul(json_object *v, const char *const *skip, char *path,
		   size_t len)
{
	if (len == 0)
		return false;
	path[0] = '\0';
	return find_nul(v, skip, path, len, 0);
}
