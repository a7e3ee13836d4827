/* isol8.config.json / ~/.isol8/config.json: found, checked and merged over
 * isol8's defaults the way isol8's loadConfig does it. */
#include "isol8_config.h"

#include "cleanup.h"
#include "ctl.h"
#include "json_field.h"
#include "jsonrpc.h"
#include "size.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* isol8's DEFAULT_CONFIG, in its key order.  The nulls hold the places of
 * keys isol8 declares undefined, so that a value from the file lands where
 * isol8's object spread puts it. */
static const char defaults_json[] =
	"{\"maxConcurrent\":10,"
	"\"defaults\":{\"timeoutMs\":30000,\"memoryLimit\":\"512m\","
	"\"cpuLimit\":1,\"network\":\"none\",\"sandboxSize\":\"512m\","
	"\"tmpSize\":\"256m\",\"readonlyRootFs\":true},"
	"\"network\":{\"whitelist\":[],\"blacklist\":[]},"
	"\"cleanup\":{\"autoPrune\":true,\"maxContainerAgeMs\":3600000},"
	"\"poolStrategy\":\"fast\","
	"\"poolSize\":{\"clean\":1,\"dirty\":1},"
	"\"security\":{\"seccomp\":\"strict\",\"customProfilePath\":null},"
	"\"remoteCode\":{\"enabled\":false,\"allowedSchemes\":[\"https\"],"
	"\"allowedHosts\":[],\"blockedHosts\":["
	"\"^localhost$\","
	"\"^127(?:\\\\.[0-9]{1,3}){3}$\","
	"\"^\\\\[::1\\\\]$\","
	"\"^::1$\","
	"\"^10(?:\\\\.[0-9]{1,3}){3}$\","
	"\"^172\\\\.(?:1[6-9]|2[0-9]|3[0-1])(?:\\\\.[0-9]{1,3}){2}$\","
	"\"^192\\\\.168(?:\\\\.[0-9]{1,3}){2}$\","
	"\"^169\\\\.254(?:\\\\.[0-9]{1,3}){2}$\","
	"\"^metadata\\\\.google\\\\.internal$\","
	"\"^169\\\\.254\\\\.169\\\\.254$\"],"
	"\"maxCodeSize\":10485760,\"fetchTimeoutMs\":30000,"
	"\"requireHash\":false,\"enableCache\":true,\"cacheTtl\":3600},"
	"\"audit\":{\"enabled\":false,\"destination\":\"filesystem\","
	"\"logDir\":null,\"postLogScript\":null,\"trackResources\":true,"
	"\"retentionDays\":90,\"includeCode\":false,\"includeOutput\":false},"
	"\"auth\":{\"enabled\":false,\"defaultTtlMs\":86400000,"
	"\"cleanupIntervalMs\":3600000},"
	"\"prebuiltImages\":[],"
	"\"debug\":false}";

enum kind {
	K_POS_INT, /* an integer > 0 */
	K_POS_NUM, /* a number > 0 */
	K_NONNEG,  /* a number >= 0 */
	K_BOOL,
	K_STR,
	K_SIZE, /* a size string, "512m" */
	K_STRLIST,
	K_ENUM,
	K_POOLSIZE, /* a number or {clean, dirty} */
	K_IMAGES,   /* prebuiltImages[] */
	K_SPREAD,   /* a section isol8 copies whole over its defaults */
	K_FIXED,    /* a section isol8 rebuilds from its known keys only */
};

struct key {
	const char *name;
	enum kind kind;
	const char *const *choices; /* K_ENUM */
	const struct key *keys;	    /* K_SPREAD, K_FIXED */
};

static const char *const net_modes[] = { "none", "host", "filtered", NULL };
static const char *const strategies[] = { "secure", "fast", NULL };
static const char *const seccomp_modes[] = { "strict", "unconfined", "custom",
					     NULL };
static const char *const runtimes[] = { "python", "node",  "bun", "deno",
					"bash",	  "agent", NULL };

static const struct key defaults_keys[] = {
	{ "timeoutMs", K_POS_INT, NULL, NULL },
	{ "memoryLimit", K_SIZE, NULL, NULL },
	{ "cpuLimit", K_POS_NUM, NULL, NULL },
	{ "network", K_ENUM, net_modes, NULL },
	{ "sandboxSize", K_SIZE, NULL, NULL },
	{ "tmpSize", K_SIZE, NULL, NULL },
	{ "readonlyRootFs", K_BOOL, NULL, NULL },
	{ 0 },
};
static const struct key network_keys[] = {
	{ "whitelist", K_STRLIST, NULL, NULL },
	{ "blacklist", K_STRLIST, NULL, NULL },
	{ 0 },
};
static const struct key cleanup_keys[] = {
	{ "autoPrune", K_BOOL, NULL, NULL },
	{ "maxContainerAgeMs", K_NONNEG, NULL, NULL },
	{ 0 },
};
static const struct key security_keys[] = {
	{ "seccomp", K_ENUM, seccomp_modes, NULL },
	{ "customProfilePath", K_STR, NULL, NULL },
	{ 0 },
};
static const struct key remote_code_keys[] = {
	{ "enabled", K_BOOL, NULL, NULL },
	{ "allowedSchemes", K_STRLIST, NULL, NULL },
	{ "allowedHosts", K_STRLIST, NULL, NULL },
	{ "blockedHosts", K_STRLIST, NULL, NULL },
	{ "maxCodeSize", K_NONNEG, NULL, NULL },
	{ "fetchTimeoutMs", K_NONNEG, NULL, NULL },
	{ "requireHash", K_BOOL, NULL, NULL },
	{ "enableCache", K_BOOL, NULL, NULL },
	{ "cacheTtl", K_NONNEG, NULL, NULL },
	{ 0 },
};
static const struct key audit_keys[] = {
	{ "enabled", K_BOOL, NULL, NULL },
	{ "destination", K_STR, NULL, NULL },
	{ "logDir", K_STR, NULL, NULL },
	{ "postLogScript", K_STR, NULL, NULL },
	{ "trackResources", K_BOOL, NULL, NULL },
	{ "retentionDays", K_NONNEG, NULL, NULL },
	{ "includeCode", K_BOOL, NULL, NULL },
	{ "includeOutput", K_BOOL, NULL, NULL },
	{ 0 },
};
static const struct key auth_keys[] = {
	{ "enabled", K_BOOL, NULL, NULL },
	{ "defaultTtlMs", K_NONNEG, NULL, NULL },
	{ "cleanupIntervalMs", K_NONNEG, NULL, NULL },
	{ "connectionString", K_STR, NULL, NULL },
	{ 0 },
};
static const struct key top_keys[] = {
	{ "maxConcurrent", K_POS_INT, NULL, NULL },
	{ "defaults", K_SPREAD, NULL, defaults_keys },
	{ "network", K_FIXED, NULL, network_keys },
	{ "cleanup", K_SPREAD, NULL, cleanup_keys },
	{ "poolStrategy", K_ENUM, strategies, NULL },
	{ "poolSize", K_POOLSIZE, NULL, NULL },
	{ "security", K_FIXED, NULL, security_keys },
	{ "remoteCode", K_SPREAD, NULL, remote_code_keys },
	{ "audit", K_SPREAD, NULL, audit_keys },
	{ "auth", K_SPREAD, NULL, auth_keys },
	{ "prebuiltImages", K_IMAGES, NULL, NULL },
	{ "debug", K_BOOL, NULL, NULL },
	{ 0 },
};

static const struct key *find_key(const struct key *keys, const char *name)
{
	for (; keys->name; keys++)
		if (strcmp(keys->name, name) == 0)
			return keys;
	return NULL;
}

static int bad(struct error *e, const char *file, const char *path,
	       const char *want, json_object *v)
{
	return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
			 "%s: %s: expected %s, got %s", file, path, want,
			 json_object_to_json_string_ext(
				 v, JSON_C_TO_STRING_PLAIN |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
}

static bool is_number(json_object *v)
{
	return json_object_is_type(v, json_type_int) ||
	       json_object_is_type(v, json_type_double);
}

static bool is_strlist(json_object *v)
{
	if (!json_object_is_type(v, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(v); i++)
		if (!json_object_is_type(json_object_array_get_idx(v, i),
					 json_type_string))
			return false;
	return true;
}

static bool in_choices(json_object *v, const char *const *choices)
{
	if (!json_object_is_type(v, json_type_string))
		return false;
	for (; *choices; choices++)
		if (strcmp(json_object_get_string(v), *choices) == 0)
			return true;
	return false;
}

/* {tag, runtime, installPackages[], setupScript?} each, as isol8's schema
 * has them. */
static int check_images(json_object *v, const char *file, const char *path,
			struct error *e)
{
	if (!json_object_is_type(v, json_type_array))
		return bad(e, file, path, "an array of images", v);
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *img = json_object_array_get_idx(v, i);
		char at[160];
		snprintf(at, sizeof(at), "%s[%zu]", path, i);
		json_object *tag = json_field(img, "tag");
		json_object *rt = json_field(img, "runtime");
		json_object *pk = json_field(img, "installPackages");
		json_object *ss = json_field(img, "setupScript");
		if (!json_object_is_type(img, json_type_object))
			return bad(e, file, at, "an object", img);
		if (!json_object_is_type(tag, json_type_string))
			return bad(e, file, at, "a string \"tag\"", img);
		if (!in_choices(rt, runtimes))
			return bad(e, file, at,
				   "\"runtime\" python, node, bun, deno, bash "
				   "or agent",
				   img);
		if (!pk || !is_strlist(pk))
			return bad(e, file, at,
				   "\"installPackages\", an array of strings",
				   img);
		if (ss && !json_object_is_type(ss, json_type_string))
			return bad(e, file, at, "a string \"setupScript\"",
				   img);
	}
	return 0;
}

static int check_value(const struct key *k, json_object *v, const char *file,
		       const char *path, struct error *e)
{
	uint64_t n;
	switch (k->kind) {
	case K_POS_INT:
		/* Up to JavaScript's largest exact integer, 2^53 - 1 (so the
		 * cast is defined). */
		if (!is_number(v) || !(json_object_get_double(v) > 0) ||
		    json_object_get_double(v) > 9007199254740991.0 ||
		    json_object_get_double(v) !=
			    (double)(int64_t)json_object_get_double(v))
			return bad(e, file, path, "a positive integer", v);
		return 0;
	case K_POS_NUM:
		if (!is_number(v) || !(json_object_get_double(v) > 0))
			return bad(e, file, path, "a positive number", v);
		return 0;
	case K_NONNEG:
		if (!is_number(v) || json_object_get_double(v) < 0)
			return bad(e, file, path, "a number >= 0", v);
		return 0;
	case K_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			return bad(e, file, path, "true or false", v);
		return 0;
	case K_STR:
		if (!json_object_is_type(v, json_type_string))
			return bad(e, file, path, "a string", v);
		return 0;
	case K_SIZE:
		if (!json_object_is_type(v, json_type_string) ||
		    size_parse(json_object_get_string(v), &n) < 0)
			return bad(e, file, path,
				   "a size such as \"512m\" or \"1g\"", v);
		return 0;
	case K_STRLIST:
		if (!is_strlist(v))
			return bad(e, file, path, "an array of strings", v);
		return 0;
	case K_ENUM:
		if (!in_choices(v, k->choices)) {
			char want[96] = "one of";
			for (const char *const *c = k->choices; *c; c++)
				snprintf(want + strlen(want),
					 sizeof(want) - strlen(want),
					 "%s \"%s\"",
					 c == k->choices ? "" : ",", *c);
			return bad(e, file, path, want, v);
		}
		return 0;
	case K_POOLSIZE:
		if (json_object_is_type(v, json_type_object) &&
		    json_object_object_length(v) == 2 &&
		    is_number(json_field(v, "clean")) &&
		    is_number(json_field(v, "dirty")))
			return 0;
		if (!is_number(v))
			return bad(e, file, path,
				   "a number or {\"clean\": N, \"dirty\": N}",
				   v);
		return 0;
	case K_IMAGES:
		return check_images(v, file, path, e);
	case K_SPREAD:
	case K_FIXED:
		if (!json_object_is_type(v, json_type_object))
			return bad(e, file, path, "an object", v);
		return 0;
	}
	return 0;
}

/* Merges the file's object from into into, as isol8's mergeConfig does:
 * a null or absent value keeps the default (isol8's `??`); a section
 * merges key by key; an unknown key is kept only in a spread section. */
static int merge(json_object *into, json_object *from, const struct key *keys,
		 bool spread, const char *file, const char *prefix,
		 struct error *e)
{
	json_object_object_foreach(from, name, v)
	{
		if (json_object_is_type(v, json_type_null))
			continue;
		const struct key *k = find_key(keys, name);
		if (!k) {
			if (spread)
				json_object_object_add(into, name,
						       json_object_get(v));
			continue;
		}
		char path[128];
		snprintf(path, sizeof(path), "%s%s%s", prefix,
			 *prefix ? "." : "", name);
		int r = check_value(k, v, file, path, e);
		if (r < 0)
			return r;
		if (k->kind == K_SPREAD || k->kind == K_FIXED)
			r = merge(json_field(into, name), v, k->keys,
				  k->kind == K_SPREAD, file, path, e);
		else
			json_object_object_add(into, name, json_object_get(v));
		if (r < 0)
			return r;
	}
	return 0;
}

/* Without $HOME, the password file's entry: read directly, as the
 * statically linked client has no name service modules to load. */
const char *isol8_home_dir(void)
{
	static char dir[4096];
	const char *h = getenv("HOME");
	if (h && *h)
		return h;
	if (dir[0])
		return dir;
	FILE *f = fopen("/etc/passwd", "re");
	struct passwd *pw = NULL;
	uid_t uid = getuid();
	while (f && (pw = fgetpwent(f)) && pw->pw_uid != uid)
		;
	snprintf(dir, sizeof(dir), "%s", pw ? pw->pw_dir : "/");
	if (f)
		fclose(f);
	return dir;
}

/* The first of the two places that exists (as Node's existsSync sees it),
 * or NULL. */
static int find_file(char **out)
{
	char cwd[4096];
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	char *p = NULL;
	struct stat st;
	if (asprintf(&p, "%s%sisol8.config.json", cwd,
		     strcmp(cwd, "/") == 0 ? "" : "/") < 0)
		return -ENOMEM;
	if (stat(p, &st) == 0) {
		*out = p;
		return 0;
	}
	free(p);
	const char *home = isol8_home_dir();
	size_t hl = strlen(home);
	while (hl > 1 && home[hl - 1] == '/')
		hl--;
	if (asprintf(&p, "%.*s/.isol8/config.json", (int)hl, home) < 0)
		return -ENOMEM;
	if (stat(p, &st) == 0) {
		*out = p;
		return 0;
	}
	free(p);
	*out = NULL;
	return 0;
}

int isol8_config_load(struct isol8_config *c, struct error *e)
{
	return isol8_config_load_from(c, NULL, e);
}

int isol8_config_load_from(struct isol8_config *c, const char *path,
			   struct error *e)
{
	memset(c, 0, sizeof(*c));
	c->doc = json_tokener_parse(defaults_json);
	if (!c->doc)
		return error_set(e, ERR_INTERNAL, ENOMEM, "out of memory");
	if (path && !(c->path = strdup(path)))
		return error_set(e, ERR_INTERNAL, ENOMEM, "out of memory");
	int r = path ? 0 : find_file(&c->path);
	if (r < 0)
		return error_set(e, ERR_INTERNAL, r,
				 "cannot find the working directory: %s",
				 strerror(-r));
	if (!c->path)
		return 0;
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	r = ctl_read_file(c->path, &text, &len);
	if (r < 0)
		return error_set(e, ERR_INVALID_ARGUMENT, r,
				 "cannot read %s: %s", c->path, strerror(-r));
	struct error why;
	if (json_parse_strict(text, len, &c->file, &why) < 0)
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL, "%s: %s",
				 c->path, why.message);
	if (!json_object_is_type(c->file, json_type_object))
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "%s: the top level must be an object",
				 c->path);
	return merge(c->doc, c->file, top_keys, false, c->path, "", e);
}

void isol8_config_free(struct isol8_config *c)
{
	json_object_put(c->doc);
	json_object_put(c->file);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

/* options[key] = the file's section.key, unless a flag set it already;
 * as an integer where the daemon takes one (JSON's 5000.0 is 5000). */
static void fill(json_object *options, const char *key, json_object *section,
		 bool integer)
{
	json_object *v = json_field(section, key);
	if (!v || json_object_is_type(v, json_type_null) ||
	    json_field(options, key))
		return;
	json_object_object_add(
		options, key,
		integer ? json_object_new_int64(
				  (int64_t)json_object_get_double(v))
			: json_object_get(v));
}

static void fill_list(json_object *list, json_object *section, const char *name)
{
	json_object *v = json_field(section, name);
	if (!json_object_is_type(v, json_type_array) ||
	    json_object_array_length(list) > 0)
		return;
	for (size_t i = 0; i < json_object_array_length(v); i++)
		json_object_array_add(
			list, json_object_get(json_object_array_get_idx(v, i)));
}

/* The file, or "[ERR] <why>" printed and a negative errno (nothing to
 * free then). */
static int load_reported(struct isol8_config *c)
{
	struct error e = { 0 };
	int r = isol8_config_load(c, &e);
	if (r < 0) {
		fprintf(stderr, "[ERR] %s\n", e.message);
		isol8_config_free(c);
	}
	return r;
}

int isol8_config_apply_run(json_object *options, json_object *allow,
			   json_object *deny, bool *debug)
{
	struct isol8_config c;
	int r = load_reported(&c);
	if (r < 0)
		return r;
	json_object *defaults = json_field(c.file, "defaults");
	json_object *network = json_field(c.file, "network");
	fill(options, "timeoutMs", defaults, true);
	fill(options, "memoryLimit", defaults, false);
	fill(options, "cpuLimit", defaults, false);
	fill_list(allow, network, "whitelist");
	fill_list(deny, network, "blacklist");
	if (json_object_get_boolean(json_field(c.file, "debug")))
		*debug = true;
	isol8_config_free(&c);
	return 0;
}

/* A time in milliseconds of a section: from min to max (checked before
 * it is converted), 0 when null or absent. */
static int ms_field(const char *file, json_object *section,
		    const char *section_name, const char *key, uint64_t min,
		    uint64_t max, uint64_t *out)
{
	json_object *v = json_field(section, key);
	*out = 0;
	if (!v || json_object_is_type(v, json_type_null))
		return 0;
	double d = json_object_get_double(v);
	if (!(d >= (double)min && d <= (double)max)) {
		fprintf(stderr,
			"[ERR] %s: %s.%s: must be from %llu to %llu (ten "
			"years)\n",
			file, section_name, key, (unsigned long long)min,
			(unsigned long long)max);
		return -EINVAL;
	}
	*out = (uint64_t)d;
	return 0;
}

int isol8_config_serve(struct isol8_serve_config *s, uint64_t max_ttl_ms)
{
	static const char *const keys[] = { "timeoutMs",   "memoryLimit",
					    "cpuLimit",	   "network",
					    "sandboxSize", "tmpSize" };
	struct isol8_config c;
	int r = load_reported(&c);
	if (r < 0)
		return r;
	*s = (struct isol8_serve_config){ .request_defaults =
						  json_object_new_object() };
	json_object *defaults = json_field(c.file, "defaults");
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		fill(s->request_defaults, keys[i], defaults, i == 0);
	/* From the merged document: isol8's defaults where the file is
	 * silent. */
	json_object *auth = json_field(c.doc, "auth");
	json_object *cleanup = json_field(c.doc, "cleanup");
	s->auto_prune =
		json_object_get_boolean(json_field(cleanup, "autoPrune"));
	if (r == 0)
		r = ms_field(c.path, cleanup, "cleanup", "maxContainerAgeMs", 0,
			     max_ttl_ms, &s->max_age_ms);
	if (r == 0)
		r = ms_field(c.path, auth, "auth", "defaultTtlMs", 1,
			     max_ttl_ms, &s->default_ttl_ms);
	if (r == 0)
		r = ms_field(c.path, auth, "auth", "cleanupIntervalMs", 1,
			     max_ttl_ms, &s->key_purge_ms);
	if (r == 0 && json_object_get_boolean(json_field(auth, "enabled"))) {
		json_object *conn = json_field(auth, "connectionString");
		int n = json_object_is_type(conn, json_type_string)
				? asprintf(&s->auth_db, "%s",
					   json_object_get_string(conn))
				: asprintf(&s->auth_db, "%s/.isol8/auth.db",
					   isol8_home_dir());
		if (n < 0) {
			s->auth_db = NULL;
			r = -ENOMEM;
		}
	}
	isol8_config_free(&c);
	if (r < 0)
		isol8_serve_config_free(s);
	return r;
}

void isol8_serve_config_free(struct isol8_serve_config *s)
{
	json_object_put(s->request_defaults);
	s->request_defaults = NULL;
	free(s->auth_db);
	s->auth_db = NULL;
}
