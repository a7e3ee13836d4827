/* Reading one member of a JSON object that may be absent. */
#ifndef ISOL8_JSON_FIELD_H
#define ISOL8_JSON_FIELD_H

#include <json-c/json.h>
#include <stdint.h>

/* o[key], or NULL when o has no such member (or is not an object). */
json_object *json_field(json_object *o, const char *key);
/* o[key] as a string (json-c's text of other types), or dflt when it is
 * absent or null. */
const char *json_field_str(json_object *o, const char *key, const char *dflt);
/* o[key] as an integer, 0 when absent. */
int64_t json_field_int(json_object *o, const char *key);

#endif
