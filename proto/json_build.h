/* json-c values built without json-c's byte-at-a-time tokener and
 * escaper, which dominate the cost of large strings (file contents). */
#ifndef ISOL8_JSON_BUILD_H
#define ISOL8_JSON_BUILD_H

#include <json-c/json.h>
#include <stddef.h>

/* The value of the NUL-terminated text, which json_syntax_check has
 * accepted.  Gives the values json-c's strict tokener gives:
 * integers clamped to int64 or uint64, other numbers as doubles keeping
 * their text, the last of duplicate keys.  0, or -ENOMEM. */
int json_build(const char *text, json_object **out);

/* A string of len bytes the caller knows needs no escaping in JSON (such
 * as base64): serialised as it is, between quotes.  NULL when out of
 * memory. */
json_object *json_string_verbatim(const char *s, size_t len);

/* The bytes s[0..len) takes as a JSON string, quotes included, as json-c
 * writes it (with JSON_C_TO_STRING_NOSLASHESCAPE): for sizing a reply
 * before it is made. */
size_t json_string_size(const char *s, size_t len);

#endif
