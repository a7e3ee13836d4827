#include "config.h"

#include "config_priv.h"
#include "audit_chain.h"
#include "cleanup.h"
#include "error.h"
#include "frame.h"
#include "jsonrpc.h"
#include "prebuilt_images.h"
#include "size.h"
#include "net/net_policy.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Pairs where the first may not exceed the second: a default above its
 * ceiling would refuse every request that leaves it out. */
static const struct {
	const char *value, *ceiling;
} at_most[] = {
	{ "defaults.timeoutMs", "limits.timeoutMs" },
	{ "defaults.memoryLimit", "limits.memoryLimit" },
	{ "defaults.cpuLimit", "limits.cpuLimit" },
	{ "defaults.pidsLimit", "limits.pidsLimit" },
	{ "defaults.maxOutputSize", "limits.maxOutputSize" },
	{ "defaults.sandboxSize", "limits.sandboxSize" },
	{ "defaults.tmpSize", "limits.tmpSize" },
};

static const char *const src_default = "default";
static const char *const src_cmdline = "command line";

static const char *type_name(enum key_type t)
{
	switch (t) {
	case T_STRING:
		return "a string";
	case T_UINT:
		return "a non-negative integer";
	case T_BOOL:
		return "true or false";
	case T_SIZE:
		return "a size such as \"512m\" or a number of bytes";
	case T_MODE:
		return "an octal mode string such as \"0660\"";
	case T_DOUBLE:
		return "a number";
	case T_STRINGS:
		return "an array of non-empty strings";
	case T_JSON:
		return "JSON";
	}
	return "?";
}

static bool is_choice(const char *choices, const char *v)
{
	size_t len = strlen(v);
	for (const char *p = choices; p; p = strchr(p, '|'), p = p ? p + 1 : p)
		if (strncmp(p, v, len) == 0 && (p[len] == '|' || !p[len]))
			return true;
	return false;
}

static void free_list(char **l)
{
	for (size_t i = 0; l && l[i]; i++)
		free(l[i]);
	free(l);
}

/* A T_STRINGS value: each member checked as set_value() checks one
 * string, the whole list replacing the field's. */
static int set_list(char ***field, const struct key *k, json_object *v,
		    struct error *e)
{
	size_t n = json_object_array_length(v);
	if (n > k->max)
		return error_set(e, ERR_INVALID_ARGUMENT, ERANGE,
				 "%s: %zu entries, at most %llu", k->path, n,
				 (unsigned long long)k->max);
	char **l = calloc(n + 1, sizeof(*l));
	if (!l)
		return error_set(e, ERR_INTERNAL, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(v, i);
		char name[128];
		snprintf(name, sizeof(name), "%s[%zu]", k->path, i);
		int r = 0;
		if (!json_object_is_type(m, json_type_string) ||
		    json_object_get_string_len(m) == 0)
			r = error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				      "%s: must be a non-empty string, got %s",
				      name, json_object_to_json_string(m));
		else if (k->choices &&
			 !is_choice(k->choices, json_object_get_string(m)))
			r = error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				      "%s: must be one of %s, got %s", name,
				      k->choices,
				      json_object_to_json_string(m));
		else if (k->regex)
			r = net_pattern_check(name, json_object_get_string(m),
					      e);
		if (r == 0 && !(l[i] = strdup(json_object_get_string(m))))
			r = error_set(e, ERR_INTERNAL, ENOMEM, "out of memory");
		if (r < 0) {
			free_list(l);
			return r;
		}
	}
	free_list(*field);
	*field = l;
	return 0;
}

/* Stores v into the field of k, checking type and range. */
static int set_value(struct config *cfg, const struct key *k, json_object *v,
		     struct error *e)
{
	void *field = (char *)cfg + k->offset;
	uint64_t n = 0;
	json_type jt = json_object_get_type(v);

	switch (k->type) {
	case T_STRINGS:
		if (jt != json_type_array)
			goto wrong_type;
		return set_list(field, k, v, e);
	case T_JSON: {
		int r = k->check(k->path, v, e);
		if (r < 0)
			return r;
		json_object_put(*(json_object **)field);
		*(json_object **)field = json_object_get(v);
		return 0;
	}
	case T_STRING:
		/* Empty only where the default is: an optional path. */
		if (jt != json_type_string ||
		    (json_object_get_string_len(v) == 0 &&
		     (!k->def || strcmp(k->def, "\"\"") != 0)))
			goto wrong_type;
		if (k->choices &&
		    !is_choice(k->choices, json_object_get_string(v))) {
			return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
					 "%s: must be one of %s, got %s",
					 k->path, k->choices,
					 json_object_to_json_string(v));
		}
		if (k->regex) {
			int r = net_pattern_check(k->path,
						  json_object_get_string(v), e);
			if (r < 0)
				return r;
		}
		char *s = strdup(json_object_get_string(v));
		if (!s)
			return error_set(e, ERR_INTERNAL, ENOMEM,
					 "out of memory");
		free(*(char **)field);
		*(char **)field = s;
		return 0;
	case T_BOOL:
		if (jt != json_type_boolean)
			goto wrong_type;
		*(bool *)field = json_object_get_boolean(v);
		return 0;
	case T_DOUBLE: {
		if (jt != json_type_double && jt != json_type_int)
			goto wrong_type;
		double d = json_object_get_double(v);
		if (!(d > (double)k->min && d <= (double)k->max)) {
			return error_set(
				e, ERR_INVALID_ARGUMENT, ERANGE,
				"%s: %g is out of range (above %llu, at most "
				"%llu)",
				k->path, d, (unsigned long long)k->min,
				(unsigned long long)k->max);
		}
		*(double *)field = d;
		return 0;
	}
	case T_UINT:
		if (jt != json_type_int || json_object_get_int64(v) < 0)
			goto wrong_type;
		n = (uint64_t)json_object_get_int64(v);
		break;
	case T_SIZE:
		if (jt == json_type_int && json_object_get_int64(v) >= 0)
			n = (uint64_t)json_object_get_int64(v);
		else if (jt == json_type_string) {
			if (size_parse(json_object_get_string(v), &n) < 0) {
				char msg[200];
				size_format_error(msg, sizeof(msg),
						  json_object_get_string(v));
				return error_set(e, ERR_INVALID_ARGUMENT,
						 EINVAL, "%s: %s", k->path,
						 msg);
			}
		} else
			goto wrong_type;
		break;
	case T_MODE: {
		const char *m = json_object_get_string(v);
		char *end = NULL;
		if (jt != json_type_string || !*m)
			goto wrong_type;
		errno = 0;
		unsigned long val = strtoul(m, &end, 8);
		if (errno || *end)
			goto wrong_type;
		n = val;
		break;
	}
	}
	if (n < k->min || n > k->max) {
		return error_set(e, ERR_INVALID_ARGUMENT, ERANGE,
				 "%s: %llu is out of range (%llu to %llu)",
				 k->path, (unsigned long long)n,
				 (unsigned long long)k->min,
				 (unsigned long long)k->max);
	}
	*(uint64_t *)field = n;
	return 0;

wrong_type:
	return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
			 "%s: must be %s, got %s", k->path, type_name(k->type),
			 json_object_to_json_string(v));
}

static const struct key *find_key(const char *path)
{
	for (size_t i = 0; i < config_schema_len; i++)
		if (strcmp(config_schema[i].path, path) == 0)
			return &config_schema[i];
	return NULL;
}

static bool is_section(const char *path)
{
	size_t len = strlen(path);
	for (size_t i = 0; i < config_schema_len; i++)
		if (strncmp(config_schema[i].path, path, len) == 0 &&
		    config_schema[i].path[len] == '.')
			return true;
	return false;
}

static int apply_object(struct config *cfg, json_object *obj,
			const char *prefix, struct error *e)
{
	json_object_object_foreach(obj, name, val)
	{
		char path[256];
		snprintf(path, sizeof(path), "%s%s%s", prefix,
			 *prefix ? "." : "", name);
		const struct key *k = find_key(path);
		if (k) {
			int r = set_value(cfg, k, val, e);
			if (r < 0)
				return r;
			cfg->sources[k - config_schema] = cfg->file;
		} else if (is_section(path)) {
			if (!json_object_is_type(val, json_type_object)) {
				return error_set(
					e, ERR_INVALID_ARGUMENT, EINVAL,
					"%s: must be an object of settings",
					path);
			}
			int r = apply_object(cfg, val, path, e);
			if (r < 0)
				return r;
		} else {
			return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
					 "%s: unknown key", path);
		}
	}
	return 0;
}

static int load_defaults(struct config *cfg, struct error *e)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->sources = calloc(config_schema_len, sizeof(*cfg->sources));
	if (!cfg->sources)
		return error_set(e, ERR_INTERNAL, ENOMEM, "out of memory");
	for (size_t i = 0; i < config_schema_len; i++) {
		cfg->sources[i] = src_default;
		if (!config_schema[i].def)
			continue;
		_cleanup_json_ json_object *v =
			json_tokener_parse(config_schema[i].def);
		int r = set_value(cfg, &config_schema[i], v, e);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The security keys that only make sense together. */
static int check_security(const struct config *cfg, struct error *e)
{
	if (cfg->sec_profile_dir[0] != '/')
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "security.profileDir: must be an absolute "
				 "path");
	const struct {
		const char *key, *value;
	} paths[] = {
		{ "audit.logDir", cfg->audit.log_dir },
		{ "audit.keyFile", cfg->audit.key_file },
		{ "audit.postLogScript", cfg->audit.post_log_script },
	};
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		if ((i == 0 || paths[i].value[0]) && paths[i].value[0] != '/')
			return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
					 "%s: must be an absolute path",
					 paths[i].key);
	if (!strcmp(cfg->default_seccomp, "unconfined") &&
	    !cfg->sec_allow_unconfined)
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "defaults.seccomp: \"unconfined\" needs "
				 "security.allowUnconfined set to true");
	return 0;
}

static int check_remote_code(const struct config *cfg, struct error *e)
{
	const char *ca = cfg->remote_code.ca_file;
	if (ca && ca[0] != '/')
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "remoteCode.caFile: must be an absolute path");
	return 0;
}

/* The paths hibernation hands to CRIU, which resolves them itself. */
static int check_hibernation(const struct config *cfg, struct error *e)
{
	if (cfg->hibernate_dir[0] != '/')
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "sessions.hibernateDir: must be an absolute "
				 "path");
	if (cfg->criu_path[0] != '/')
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "sandbox.criuPath: must be an absolute path");
	return 0;
}

static double number(const struct config *cfg, const struct key *k)
{
	const void *field = (const char *)cfg + k->offset;
	if (k->type == T_DOUBLE)
		return *(const double *)field;
	return (double)*(const uint64_t *)field;
}

/* The value of k as the configuration would spell it. */
static void value_text(const struct config *cfg, const struct key *k, char *buf,
		       size_t len)
{
	const void *field = (const char *)cfg + k->offset;
	if (k->type == T_SIZE)
		size_format(buf, len, *(const uint64_t *)field);
	else
		snprintf(buf, len, "%g", number(cfg, k));
}

static int check_ceilings(const struct config *cfg, struct error *e)
{
	for (size_t i = 0; i < ARRAY_SIZE(at_most); i++) {
		const struct key *v = find_key(at_most[i].value);
		const struct key *c = find_key(at_most[i].ceiling);
		if (number(cfg, v) <= number(cfg, c))
			continue;
		char vt[32], ct[32];
		value_text(cfg, v, vt, sizeof(vt));
		value_text(cfg, c, ct, sizeof(ct));
		return error_set(e, ERR_INVALID_ARGUMENT, ERANGE,
				 "%s: %s is above %s (%s)", v->path, vt,
				 c->path, ct);
	}
	return 0;
}

static int load_file(struct config *cfg, const char *path, bool path_required,
		     struct error *e)
{
	int r = load_defaults(cfg, e);
	if (r < 0)
		return r;
	if (!path)
		path = CONFIG_DEFAULT_PATH;

	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT && !path_required)
			return 0;
		return error_set(e, ERR_INVALID_ARGUMENT, errno,
				 "cannot open config file %s: %s", path,
				 strerror(errno));
	}
	_cleanup_free_ char *text = NULL;
	size_t cap = 0, len = 0;
	for (;;) {
		if (len + 4096 > cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > FRAME_DEFAULT_MAX) {
				return error_set(e, ERR_INVALID_ARGUMENT, EFBIG,
						 "config file %s is too large",
						 path);
			}
			char *t = realloc(text, cap);
			if (!t)
				return error_set(e, ERR_INTERNAL, ENOMEM,
						 "out of memory");
			text = t;
		}
		size_t n = fread(text + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		return error_set(e, ERR_INVALID_ARGUMENT, EIO,
				 "cannot read config file %s", path);
	}
	text[len] = '\0';
	cfg->file = strdup(path);
	if (!cfg->file)
		return error_set(e, ERR_INTERNAL, ENOMEM, "out of memory");

	struct error why;
	_cleanup_json_ json_object *root = NULL;
	if (json_parse_strict(text, len, &root, &why) < 0)
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "config file %s: %s", path, why.message);
	if (!json_object_is_type(root, json_type_object)) {
		return error_set(
			e, ERR_INVALID_ARGUMENT, EINVAL,
			"config file %s: the top level must be an object",
			path);
	}
	if ((r = apply_object(cfg, root, "", e)) < 0 ||
	    (r = check_remote_code(cfg, e)) < 0 ||
	    (r = check_hibernation(cfg, e)) < 0)
		return r;
	return check_security(cfg, e);
}

int config_load(struct config *cfg, const char *path, bool path_required,
		struct error *e)
{
	int r = load_file(cfg, path, path_required, e);
	return r < 0 ? r : check_ceilings(cfg, e);
}

int config_set_override(struct config *cfg, const char *key, const char *value,
			struct error *e)
{
	const struct key *k = find_key(key);
	if (!k) {
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "%s: unknown key", key);
	}
	_cleanup_json_ json_object *v = json_object_new_string(value);
	int r = set_value(cfg, k, v, e);
	if (r == 0)
		cfg->sources[k - config_schema] = src_cmdline;
	return r;
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < config_schema_len; i++)
		if (config_schema[i].type == T_STRING)
			free(*(char **)((char *)cfg + config_schema[i].offset));
		else if (config_schema[i].type == T_STRINGS)
			free_list(*(char ***)((char *)cfg +
					      config_schema[i].offset));
		else if (config_schema[i].type == T_JSON)
			json_object_put(
				*(json_object **)((char *)cfg +
						  config_schema[i].offset));
	free(cfg->sources);
	free(cfg->file);
	memset(cfg, 0, sizeof(*cfg));
}

static json_object *value_json(const struct config *cfg, const struct key *k)
{
	const void *field = (const char *)cfg + k->offset;
	char buf[32];
	switch (k->type) {
	case T_STRING: {
		const char *str = *(char *const *)field;
		return str ? json_object_new_string(str) : NULL;
	}
	case T_STRINGS: {
		json_object *a = json_object_new_array();
		for (char *const *l = *(char **const *)field; l && *l; l++)
			json_object_array_add(a, json_object_new_string(*l));
		return a;
	}
	case T_JSON:
		return json_object_get(*(json_object *const *)field);
	case T_BOOL:
		return json_object_new_boolean(*(const bool *)field);
	case T_MODE:
		snprintf(buf, sizeof(buf), "%04llo",
			 (unsigned long long)*(const uint64_t *)field);
		return json_object_new_string(buf);
	case T_DOUBLE:
		return json_object_new_double(*(const double *)field);
	case T_UINT:
	case T_SIZE:
		break;
	}
	return json_object_new_int64((int64_t) * (const uint64_t *)field);
}

/* Walks (creating) the nested objects for the section part of path and
 * returns the object the leaf belongs in, plus the leaf name. */
static json_object *section_for(json_object *root, const char *path,
				const char **leaf)
{
	json_object *cur = root;
	const char *p = path;
	const char *dot;
	while ((dot = strchr(p, '.'))) {
		char name[64];
		snprintf(name, sizeof(name), "%.*s", (int)(dot - p), p);
		json_object *next = NULL;
		if (!json_object_object_get_ex(cur, name, &next)) {
			next = json_object_new_object();
			json_object_object_add(cur, name, next);
		}
		cur = next;
		p = dot + 1;
	}
	*leaf = p;
	return cur;
}

json_object *config_to_json(const struct config *cfg)
{
	json_object *out = json_object_new_object();
	json_object *values = json_object_new_object();
	json_object *sources = json_object_new_object();
	for (size_t i = 0; i < config_schema_len; i++) {
		const char *leaf;
		json_object *sec =
			section_for(values, config_schema[i].path, &leaf);
		json_object_object_add(sec, leaf,
				       value_json(cfg, &config_schema[i]));
		json_object_object_add(sources, config_schema[i].path,
				       json_object_new_string(cfg->sources[i]));
	}
	json_object_object_add(out, "config", values);
	json_object_object_add(out, "sources", sources);
	json_object_object_add(out, "file",
			       cfg->file ? json_object_new_string(cfg->file)
					 : NULL);
	return out;
}
