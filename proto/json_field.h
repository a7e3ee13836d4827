/* Reading one member of a JSON object that may be absent. */
#ifndef ISOL8_JSON_FIELD_H
#define ISOL8_JSON_FIELD_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* o[key], or NULL when o has no such member (or is not an object). */
json_object *json_field(json_object *o, const char *key);
/* o[key] as a string (json-c's text of other types), or dflt when it is
 * absent or null. */
const char *json_field_str(json_object *o, const char *key, const char *dflt);
/* o[key] as an integer, 0 when absent. */
int64_t json_field_int(json_object *o, const char *key);

/* Whether some string in v holds a NUL byte (json-c keeps a string's
 * length; C code that takes it as text would cut it short there).  Members
 * whose dotted paths are in skip (NULL-terminated; "a.b" covers a.b and
 * all below it) are not looked into.  When found, path gets the first
 * one's path, such as "request.outputPaths[2]". */
bool json_find_nul(json_object *v, const char *const *skip, char *path,
		   size_t len);

#endif
