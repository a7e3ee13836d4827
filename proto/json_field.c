#include "json_field.h"

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
