#include "config.h"

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

#define K(p, t, field, d, lo, hi)                                              \
	{                                                                      \
		p, t, false, offsetof(struct config, field), d, lo, hi, NULL,  \
			NULL                                                   \
	}
#define KCHOICE(p, field, d, choices)                                          \
	{                                                                      \
		p, T_STRING, false, offsetof(struct config, field), d, 0, 0,   \
			choices, NULL                                          \
	}
#define KREGEX(p, field, d)                                                    \
	{                                                                      \
		p, T_STRING, true, offsetof(struct config, field), d, 0, 0,    \
			NULL, NULL                                             \
	}
#define KLIST(p, field, regex, d, choices)                                     \
	{                                                                      \
		p, T_STRINGS, regex, offsetof(struct config, field), d, 0,     \
			NET_FILTER_MAX_PATTERNS, choices, NULL                 \
	}

#define KJSON(p, field, d, fn)                                                 \
	{                                                                      \
		p, T_JSON, false, offsetof(struct config, field), d, 0, 0,     \
			NULL, fn                                               \
	}

static const struct key schema[] = {
	K("server.socket", T_STRING, socket_path, "\"/run/isol8/isol8.sock\"",
	  0, 0),
	K("server.socketMode", T_MODE, socket_mode, "\"0660\"", 0, 07777),
	K("server.socketGroup", T_STRING, socket_group, "\"isol8\"", 0, 0),
	K("server.maxFrameBytes", T_SIZE, max_frame_bytes, "\"16m\"", 64,
	  UINT32_MAX),
	K("server.maxConnections", T_UINT, max_connections, "1024", 1, 65536),
	K("server.idleTimeoutMs", T_UINT, idle_timeout_ms, "300000", 100,
	  86400000),
	K("server.maxPendingOutputBytes", T_SIZE, max_pending_output, "\"64m\"",
	  4096, UINT32_MAX),
	K("server.maxRequestsInFlight", T_UINT, max_requests_in_flight, "256",
	  1, 65536),
	K("defaults.timeoutMs", T_UINT, default_timeout_ms, "30000", 1,
	  86400000),
	K("defaults.memoryLimit", T_SIZE, default_memory, "\"512m\"", 4 << 20,
	  1ull << 40),
	K("defaults.cpuLimit", T_DOUBLE, default_cpus, "1.0", 0, 1024),
	K("defaults.pidsLimit", T_UINT, default_pids, "64", 2, 1 << 22),
	K("defaults.maxOutputSize", T_SIZE, default_max_output, "1048576", 1,
	  1ull << 30),
	K("defaults.sandboxSize", T_SIZE, default_sandbox_size, "\"512m\"",
	  1 << 20, 1ull << 40),
	K("defaults.tmpSize", T_SIZE, default_tmp_size, "\"256m\"", 1 << 20,
	  1ull << 40),
	KCHOICE("defaults.network", default_network, "\"none\"",
		"none|host|filtered"),
	K("defaults.readonlyRootFs", T_BOOL, default_readonly_root, "true", 0,
	  0),
	KCHOICE("defaults.seccomp", default_seccomp, "\"strict\"",
		"strict|unconfined"),
	K("sandbox.runtimesDir", T_STRING, runtimes_dir,
	  "\"/opt/isol8/runtimes\"", 0, 0),
	K("sandbox.uidBase", T_UINT, uid_base, "1000000000", 65536,
	  4000000000ull),
	K("sandbox.maxBoxes", T_UINT, max_boxes, "1024", 1, 4096),
	K("sandbox.maxFileBytes", T_SIZE, max_file_bytes, "\"64m\"", 1,
	  1ull << 32),
	/* The image store (image_store.h) and the image of requests that
	 * name none. */
	K("images.dir", T_STRING, images_dir, "\"/var/lib/isol8/images\"", 0,
	  0),
	K("images.default", T_STRING, images_default, "\"host\"", 0, 0),
	/* The base images built at start when the store lacks them
	 * (image_autobuild.h). */
	KLIST("images.build", images_build, false,
	      "[\"python\", \"node\", \"bun\", \"deno\", \"bash\"]",
	      "python|node|bun|deno|bash"),
	/* isol8's custom images, built by isol8ctl setup */
	KJSON("prebuiltImages", prebuilt_images, "[]", prebuilt_images_check),
	K("pool.prewarm", T_BOOL, pool_prewarm, "true", 0, 0),
	KLIST("pool.images", pool_images, false, "[]", NULL),
	/* Per runtime, in runtime_at() order. */
	K("pool.size.python", T_UINT, pool_size[0], "2", 0, 64),
	K("pool.size.node", T_UINT, pool_size[1], "1", 0, 64),
	K("pool.size.bun", T_UINT, pool_size[2], "1", 0, 64),
	K("pool.size.deno", T_UINT, pool_size[3], "1", 0, 64),
	K("pool.size.bash", T_UINT, pool_size[4], "2", 0, 64),
	K("pool.maxBoxes", T_UINT, pool_max_boxes, "16", 0, 1024),
	K("pool.maxBuilding", T_UINT, pool_max_building, "2", 1, 64),
	K("pool.maxRetryDelayMs", T_UINT, pool_max_retry_ms, "30000", 100,
	  3600000),
	/* The pool following demand (pool_demand.h). */
	K("pool.demand.grow", T_BOOL, pool_demand.grow, "true", 0, 0),
	K("pool.demand.maxMemory", T_SIZE, pool_demand.max_memory, "\"256m\"",
	  0, 1ull << 40),
	K("pool.demand.idleMs", T_UINT, pool_demand.idle_ms, "30000", 100,
	  86400000),
	K("maxConcurrent", T_UINT, max_concurrent, "64", 1, 4096),
	K("maxSessions", T_UINT, max_sessions, "100", 0, 4096),
	K("sessions.maxQueued", T_UINT, session_max_queued, "16", 1, 1024),
	K("sessions.maxExposedPorts", T_UINT, session_max_exposed, "8", 0,
	  1024),
	K("cleanup.autoPrune", T_BOOL, auto_prune, "true", 0, 0),
	K("cleanup.maxContainerAgeMs", T_UINT, max_container_age_ms, "3600000",
	  1000, 30ull * 86400000),
	K("cleanup.maxSessionLifetimeMs", T_UINT, max_session_lifetime_ms,
	  "604800000", 1000, 365ull * 86400000),
	K("network.allowHost", T_BOOL, net_allow_host, "false", 0, 0),
	K("network.allowPrivate", T_BOOL, net_allow_private, "false", 0, 0),
	K("network.maxConnections", T_UINT, net_max_connections, "64", 1,
	  65536),
	K("network.maxBytes", T_SIZE, net_max_bytes, "\"1g\"", 1, 1ull << 50),
	K("network.idleTimeoutMs", T_UINT, net_idle_timeout_ms, "60000", 100,
	  86400000),
	K("network.connectTimeoutMs", T_UINT, net_connect_timeout_ms, "10000",
	  100, 600000),
	K("network.headTimeoutMs", T_UINT, net_head_timeout_ms, "10000", 100,
	  600000),
	/* Per runtime with a package manager, in runtime_at() order: the
	 * hosts it needs, added to an empty whitelist by installPackages. */
	KREGEX("network.registry.python", net_registry[0],
	       "\"^(pypi\\\\.org|files\\\\.pythonhosted\\\\.org)$\""),
	KREGEX("network.registry.node", net_registry[1],
	       "\"^registry\\\\.npmjs\\\\.org$\""),
	KREGEX("network.registry.bun", net_registry[2],
	       "\"^registry\\\\.npmjs\\\\.org$\""),
	KREGEX("network.registry.deno", net_registry[3],
	       "\"^(registry\\\\.npmjs\\\\.org|jsr\\\\.io|deno\\\\.land)$\""),
	/* The administrator's ceilings: what one request may ask for, and
	 * what the daemon holds for one execution. */
	K("limits.timeoutMs", T_UINT, limits.timeout_ms, "3600000", 1,
	  86400000),
	K("limits.memoryLimit", T_SIZE, limits.memory, "\"4g\"", 4 << 20,
	  1ull << 40),
	K("limits.cpuLimit", T_DOUBLE, limits.cpus, "8.0", 0, 1024),
	K("limits.pidsLimit", T_UINT, limits.pids, "1024", 2, 1 << 22),
	K("limits.maxOutputSize", T_SIZE, limits.max_output, "\"16m\"", 1,
	  1ull << 30),
	K("limits.sandboxSize", T_SIZE, limits.sandbox_size, "\"4g\"", 1 << 20,
	  1ull << 40),
	K("limits.tmpSize", T_SIZE, limits.tmp_size, "\"4g\"", 1 << 20,
	  1ull << 40),
	K("limits.inputFiles", T_UINT, limits.input_files, "256", 0, 1024),
	K("limits.inputFilesBytes", T_SIZE, limits.input_bytes, "\"16m\"", 0,
	  1ull << 32),
	K("limits.outputFiles", T_UINT, limits.output_files, "64", 0, 1024),
	K("limits.outputFilesBytes", T_SIZE, limits.output_bytes, "\"32m\"", 0,
	  1ull << 30),
	K("limits.resultBytes", T_SIZE, limits.result_bytes, "\"64m\"",
	  64 << 10, 1ull << 30),
	K("security.allowUnconfined", T_BOOL, sec_allow_unconfined, "false", 0,
	  0),
	K("security.allowCustomProfiles", T_BOOL, sec_allow_custom, "false", 0,
	  0),
	K("security.profileDir", T_STRING, sec_profile_dir,
	  "\"/etc/isol8/seccomp\"", 0, 0),
	K("security.unconfinedDropsMandatoryDenials", T_BOOL,
	  sec_unconfined_drops_denials, "false", 0, 0),
	/* Tenants (daemon/tenant.c): who may act for whom, and what one
	 * tenant may hold.  Administrators are bound by the global limits
	 * only. */
	K("tenants.adminGroup", T_STRING, tenant_admin_group, "\"isol8-admin\"",
	  0, 0),
	K("tenants.bridgeUser", T_STRING, tenant_bridge_user, "\"isol8\"", 0,
	  0),
	K("tenants.maxConnections", T_UINT, tenant_max_connections, "64", 1,
	  65536),
	K("tenants.maxSessions", T_UINT, tenant_max_sessions, "16", 0, 4096),
	K("tenants.maxExposedPorts", T_UINT, tenant_max_exposed, "32", 0,
	  65536),
	K("tenants.maxConcurrent", T_UINT, tenant_max_concurrent, "16", 1,
	  4096),
	K("sessions.maxIdleTimeoutMs", T_UINT, session_max_idle_ms, "86400000",
	  1000, 365ull * 86400000),
	/* Hibernation with CRIU (daemon/session_hibernate.c). */
	K("sessions.hibernateDir", T_STRING, hibernate_dir,
	  "\"/var/lib/isol8/hibernated\"", 0, 0),
	K("sessions.hibernatedTtlMs", T_UINT, hibernated_ttl_ms, "604800000",
	  1000, 365ull * 86400000),
	K("sessions.hibernateOnStop", T_BOOL, hibernate_on_stop, "false", 0, 0),
	K("sandbox.criuPath", T_STRING, criu_path,
	  "\"/opt/isol8/criu/sbin/criu\"", 0, 0),
	/* The audit trail (daemon/audit.c): isol8's AuditConfig, plus what
	 * a root daemon's trail needs (the chain's key, rotation, required). */
	K("audit.enabled", T_BOOL, audit.enabled, "false", 0, 0),
	KCHOICE("audit.destination", audit.destination, "\"filesystem\"",
		"filesystem|file|stdout"),
	K("audit.logDir", T_STRING, audit.log_dir, "\"" AUDIT_DEFAULT_DIR "\"",
	  0, 0),
	K("audit.postLogScript", T_STRING, audit.post_log_script, "\"\"", 0, 0),
	K("audit.postLogUser", T_STRING, audit.post_log_user, "\"nobody\"", 0,
	  0),
	K("audit.postLogTimeoutMs", T_UINT, audit.post_log_timeout_ms, "10000",
	  100, 3600000),
	K("audit.trackResources", T_BOOL, audit.track_resources, "true", 0, 0),
	K("audit.retentionDays", T_UINT, audit.retention_days, "90", 0, 36500),
	K("audit.includeCode", T_BOOL, audit.include_code, "false", 0, 0),
	K("audit.includeOutput", T_BOOL, audit.include_output, "false", 0, 0),
	K("audit.required", T_BOOL, audit.required, "false", 0, 0),
	K("audit.keyFile", T_STRING, audit.key_file, "\"\"", 0, 0),
	K("audit.maxFileBytes", T_SIZE, audit.max_file_bytes, "\"64m\"", 4096,
	  1ull << 40),
	K("audit.queueBytes", T_SIZE, audit.queue_bytes, "\"64m\"", 65536,
	  1ull << 32),
	/* Remote code (code_fetch.h): isol8's RemoteCodePolicy with its
	 * defaults, and the administrator's keys after it. */
	K("remoteCode.enabled", T_BOOL, remote_code.enabled, "false", 0, 0),
	KLIST("remoteCode.allowedSchemes", remote_code.allowed_schemes, false,
	      "[\"https\"]", "http|https"),
	KLIST("remoteCode.allowedHosts", remote_code.allowed_hosts, true, "[]",
	      NULL),
	KLIST("remoteCode.blockedHosts", remote_code.blocked_hosts, true,
	      "[\"^localhost$\", \"^127(?:\\\\.[0-9]{1,3}){3}$\", "
	      "\"^\\\\[::1\\\\]$\", \"^::1$\", "
	      "\"^10(?:\\\\.[0-9]{1,3}){3}$\", "
	      "\"^172\\\\.(?:1[6-9]|2[0-9]|3[0-1])(?:\\\\.[0-9]{1,3}){2}$\", "
	      "\"^192\\\\.168(?:\\\\.[0-9]{1,3}){2}$\", "
	      "\"^169\\\\.254(?:\\\\.[0-9]{1,3}){2}$\", "
	      "\"^metadata\\\\.google\\\\.internal$\", "
	      "\"^169\\\\.254\\\\.169\\\\.254$\"]",
	      NULL),
	K("remoteCode.maxCodeSize", T_SIZE, remote_code.max_code_size,
	  "10485760", 1, 256ull << 20),
	K("remoteCode.fetchTimeoutMs", T_UINT, remote_code.fetch_timeout_ms,
	  "30000", 100, 600000),
	K("remoteCode.requireHash", T_BOOL, remote_code.require_hash, "false",
	  0, 0),
	K("remoteCode.enableCache", T_BOOL, remote_code.enable_cache, "true", 0,
	  0),
	K("remoteCode.cacheTtl", T_UINT, remote_code.cache_ttl_s, "3600", 0,
	  30ull * 86400),
	K("remoteCode.cacheMaxBytes", T_SIZE, remote_code.cache_max_bytes,
	  "\"64m\"", 0, 1ull << 32),
	K("remoteCode.caFile", T_STRING, remote_code.ca_file, NULL, 0, 0),
	K("remoteCode.allowPrivate", T_BOOL, remote_code.allow_private, "false",
	  0, 0),
};

#define NKEYS ARRAY_SIZE(schema)

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
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(schema[i].path, path) == 0)
			return &schema[i];
	return NULL;
}

static bool is_section(const char *path)
{
	size_t len = strlen(path);
	for (size_t i = 0; i < NKEYS; i++)
		if (strncmp(schema[i].path, path, len) == 0 &&
		    schema[i].path[len] == '.')
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
			cfg->sources[k - schema] = cfg->file;
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
	cfg->sources = calloc(NKEYS, sizeof(*cfg->sources));
	if (!cfg->sources)
		return error_set(e, ERR_INTERNAL, ENOMEM, "out of memory");
	for (size_t i = 0; i < NKEYS; i++) {
		cfg->sources[i] = src_default;
		if (!schema[i].def)
			continue;
		_cleanup_json_ json_object *v =
			json_tokener_parse(schema[i].def);
		int r = set_value(cfg, &schema[i], v, e);
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
		cfg->sources[k - schema] = src_cmdline;
	return r;
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (schema[i].type == T_STRING)
			free(*(char **)((char *)cfg + schema[i].offset));
		else if (schema[i].type == T_STRINGS)
			free_list(*(char ***)((char *)cfg + schema[i].offset));
		else if (schema[i].type == T_JSON)
			json_object_put(*(json_object **)((char *)cfg +
							  schema[i].offset));
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
	for (size_t i = 0; i < NKEYS; i++) {
		const char *leaf;
		json_object *sec = section_for(values, schema[i].path, &leaf);
		json_object_object_add(sec, leaf, value_json(cfg, &schema[i]));
		json_object_object_add(sources, schema[i].path,
				       json_object_new_string(cfg->sources[i]));
	}
	json_object_object_add(out, "config", values);
	json_object_object_add(out, "sources", sources);
	json_object_object_add(out, "file",
			       cfg->file ? json_object_new_string(cfg->file)
					 : NULL);
	return out;
}
