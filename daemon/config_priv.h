/* isol8d.json's keys (config_schema.c): each one's dotted path, type, field of
 * struct config, default and bounds, by which config.c reads files. */
#ifndef ISOL8D_CONFIG_PRIV_H
#define ISOL8D_CONFIG_PRIV_H

#include "error.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* T_STRINGS: a JSON array of non-empty strings, kept NULL-terminated
 * (each a host pattern when regex is set, one of choices when given).
 * T_JSON: any JSON value its key's check accepts, kept as it is. */
enum key_type {
	T_STRING,
	T_UINT,
	T_BOOL,
	T_SIZE,
	T_MODE,
	T_DOUBLE,
	T_STRINGS,
	T_JSON
};

struct key {
	const char *path; /* dotted JSON path */
	enum key_type type;
	bool regex; /* for strings: a host filter pattern */
	size_t offset;
	const char *def; /* default as JSON text; NULL: unset (strings) */
	uint64_t min, max;
	const char
		*choices; /* for strings: the allowed values, "|"-separated */
	/* T_JSON: checks the value; 0 or -errno with e's message */
	int (*check)(const char *path, json_object *v, struct error *e);
};

extern const struct key config_schema[];
extern const size_t config_schema_len;

#endif
