#include "exec_compat.h"

#include "json_field.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define bad(e, ...) error_set(e, ERR_INVALID_ARGUMENT, EINVAL, __VA_ARGS__)

enum shape_type { S_BOOL, S_STRING, S_STRINGS, S_UINT };

struct shape {
	const char *key;
	enum shape_type type;
};

/* isol8's RemoteCodePolicy: checked, never applied: the daemon's own
 * remoteCode configuration alone decides (a client may not loosen it). */
static const struct shape remote_code[] = {
	{ "enabled", S_BOOL },	       { "allowedSchemes", S_STRINGS },
	{ "allowedHosts", S_STRINGS }, { "blockedHosts", S_STRINGS },
	{ "maxCodeSize", S_UINT },     { "fetchTimeoutMs", S_UINT },
	{ "requireHash", S_BOOL },     { "enableCache", S_BOOL },
	{ "cacheTtl", S_UINT },	       { NULL, S_BOOL },
};

/* isol8's AuditConfig: an administrator's audit is not the client's to
 * change, so this is checked and not applied. */
static const struct shape audit[] = {
	{ "enabled", S_BOOL },
	{ "destination", S_STRING },
	{ "logDir", S_STRING },
	{ "postLogScript", S_STRING },
	{ "trackResources", S_BOOL },
	{ "retentionDays", S_UINT },
	{ "includeCode", S_BOOL },
	{ "includeOutput", S_BOOL },
	{ NULL, S_BOOL },
};

static const struct shape pool_size[] = {
	{ "clean", S_UINT },
	{ "dirty", S_UINT },
	{ NULL, S_BOOL },
};

const char *const exec_compat_option_keys[] = {
	"mode",	    "debug", "persist",	   "poolStrategy",
	"poolSize", "audit", "remoteCode", NULL,
};
const char *const exec_compat_request_keys[] = { "agentFlags", NULL };

static bool is_uint(json_object *v)
{
	return json_object_is_type(v, json_type_int) &&
	       json_object_get_int64(v) >= 0;
}

static int check_value(json_object *v, enum shape_type t, const char *path,
		       struct error *e)
{
	switch (t) {
	case S_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			return bad(e, "%s: must be true or false", path);
		return 0;
	case S_STRING:
		if (!json_object_is_type(v, json_type_string))
			return bad(e, "%s: must be a string", path);
		return 0;
	case S_UINT:
		if (!is_uint(v))
			return bad(e, "%s: must be a non-negative integer",
				   path);
		return 0;
	case S_STRINGS:
		if (!json_object_is_type(v, json_type_array))
			return bad(e, "%s: must be an array of strings", path);
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (!json_object_is_type(
				    json_object_array_get_idx(v, i),
				    json_type_string))
				return bad(e, "%s[%zu]: must be a string", path,
					   i);
		return 0;
	}
	return 0;
}

/* o is an object whose members are all in shapes, each of its type;
 * null members count as absent. */
static int check_object(json_object *o, const struct shape *shapes,
			const char *path, struct error *e)
{
	if (!json_object_is_type(o, json_type_object))
		return bad(e, "%s: must be an object", path);
	json_object_object_foreach(o, k, v)
	{
		const struct shape *s = shapes;
		while (s->key && strcmp(s->key, k) != 0)
			s++;
		if (!s->key)
			return bad(e, "%s.%s: unknown field", path, k);
		char sub[96];
		snprintf(sub, sizeof(sub), "%s.%s", path, k);
		int r = v ? check_value(v, s->type, sub, e) : 0;
		if (r)
			return r;
	}
	return 0;
}

/* A string member that must be one of the NULL-terminated words. */
static int check_word(json_object *opt, const char *key,
		      const char *const *words, struct error *e)
{
	json_object *v = json_field(opt, key);
	if (!v || json_object_is_type(v, json_type_null))
		return 0;
	const char *s = json_object_is_type(v, json_type_string)
				? json_object_get_string(v)
				: "";
	for (size_t i = 0; words[i]; i++)
		if (strcmp(s, words[i]) == 0)
			return 0;
	return bad(e, "options.%s: must be \"%s\" or \"%s\"", key, words[0],
		   words[1]);
}

static int get_flag(json_object *opt, const char *key, bool *out,
		    struct error *e)
{
	json_object *v = json_field(opt, key);
	if (!v || json_object_is_type(v, json_type_null))
		return 0;
	char path[32];
	snprintf(path, sizeof(path), "options.%s", key);
	int r = check_value(v, S_BOOL, path, e);
	if (r == 0)
		*out = json_object_get_boolean(v);
	return r;
}

static int parse_options(json_object *opt, struct exec_compat *out,
			 struct error *e)
{
	static const char *const modes[] = { "ephemeral", "persistent", NULL };
	static const char *const strategies[] = { "secure", "fast", NULL };
	int r;
	if ((r = check_word(opt, "mode", modes, e)) ||
	    (r = check_word(opt, "poolStrategy", strategies, e)) ||
	    (r = get_flag(opt, "debug", &out->debug, e)) ||
	    (r = get_flag(opt, "persist", &out->persist, e)))
		return r;
	json_object *v = json_field(opt, "poolSize");
	if (v && !json_object_is_type(v, json_type_null) && !is_uint(v)) {
		if (!json_object_is_type(v, json_type_object))
			return bad(e, "options.poolSize: must be a "
				      "non-negative integer or {clean, dirty}");
		if ((r = check_object(v, pool_size, "options.poolSize", e)))
			return r;
	}
	v = json_field(opt, "audit");
	if (v && !json_object_is_type(v, json_type_null) &&
	    (r = check_object(v, audit, "options.audit", e)))
		return r;
	v = json_field(opt, "remoteCode");
	if (v && !json_object_is_type(v, json_type_null) &&
	    (r = check_object(v, remote_code, "options.remoteCode", e)))
		return r;
	return 0;
}

int exec_compat_parse(json_object *req, json_object *opt,
		      struct exec_compat *out, struct error *e)
{
	*out = (struct exec_compat){ 0 };
	json_object *v = json_field(req, "agentFlags");
	if (v && !json_object_is_type(v, json_type_null))
		return bad(e, "request.agentFlags: only isol8's \"agent\" "
			      "runtime takes it, and this daemon has no "
			      "agent runtime");
	return opt ? parse_options(opt, out, e) : 0;
}
