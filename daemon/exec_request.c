#include "exec_request.h"

#include "box_path.h"
#include "cleanup.h"
#include "environment.h"
#include "image_store.h"
#include "package_name.h"
#include "size.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LIST 1024

struct parse {
	struct error *e;
	const struct config_limits *lim;
};

/* A field the request got wrong: -EINVAL, with the message in p's error. */
#define bad(p, ...) error_set((p)->e, ERR_INVALID_ARGUMENT, EINVAL, __VA_ARGS__)

/* sect.key holds given, above the ceiling limits.<ceiling> of limit. */
static int over(struct parse *p, const char *sect, const char *key,
		const char *given, const char *ceiling, const char *limit)
{
	return bad(p,
		   "%s.%s %s exceeds the administrator's ceiling limits.%s "
		   "(%s)",
		   sect, key, given, ceiling, limit);
}

static json_object *field(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    json_object_is_type(v, json_type_null))
		return NULL;
	return v;
}

static int get_string(struct parse *p, json_object *o, const char *sect,
		      const char *key, char **out)
{
	json_object *v = field(o, key);
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return bad(p, "%s.%s: must be a string", sect, key);
	free(*out);
	*out = strdup(json_object_get_string(v));
	return *out ? 0 : -ENOMEM;
}

/* An integer from min to max, the ceiling limits.<key>. */
static int get_uint(struct parse *p, json_object *o, const char *sect,
		    const char *key, uint64_t min, uint64_t max, uint64_t *out)
{
	json_object *v = field(o, key);
	if (!v)
		return 0;
	int64_t n = json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_int) || n < (int64_t)min)
		return bad(p, "%s.%s: must be an integer from %llu to %llu",
			   sect, key, (unsigned long long)min,
			   (unsigned long long)max);
	if ((uint64_t)n > max) {
		char given[24], limit[24];
		snprintf(given, sizeof(given), "%lld", (long long)n);
		snprintf(limit, sizeof(limit), "%llu", (unsigned long long)max);
		return over(p, sect, key, given, key, limit);
	}
	*out = (uint64_t)n;
	return 0;
}

static int get_bool(struct parse *p, json_object *o, const char *sect,
		    const char *key, bool *out)
{
	json_object *v = field(o, key);
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return bad(p, "%s.%s: must be true or false", sect, key);
	*out = json_object_get_boolean(v);
	return 0;
}

/* A size as a string ("512m") or a number of bytes, from min to max,
 * the ceiling limits.<key>. */
static int get_size(struct parse *p, json_object *o, const char *sect,
		    const char *key, uint64_t min, uint64_t max, uint64_t *out)
{
	json_object *v = field(o, key);
	if (!v)
		return 0;
	uint64_t n = 0;
	if (json_object_is_type(v, json_type_int) &&
	    json_object_get_int64(v) >= 0)
		n = (uint64_t)json_object_get_int64(v);
	else if (!json_object_is_type(v, json_type_string) ||
		 size_parse(json_object_get_string(v), &n) < 0) {
		char msg[200];
		size_format_error(msg, sizeof(msg),
				  json_object_is_type(v, json_type_string)
					  ? json_object_get_string(v)
					  : json_object_to_json_string(v));
		if (strcmp(key, "memoryLimit") == 0)
			return bad(p, "%s", msg);
		return bad(p, "%s.%s: %s", sect, key, msg);
	}
	char low[24], limit[24];
	size_format(low, sizeof(low), min);
	size_format(limit, sizeof(limit), max);
	if (n < min)
		return bad(p, "%s.%s: must be from %s to %s", sect, key, low,
			   limit);
	if (n > max)
		return over(p, sect, key,
			    json_object_is_type(v, json_type_string)
				    ? json_object_get_string(v)
				    : json_object_to_json_string(v),
			    key, limit);
	*out = n;
	return 0;
}

static bool listed(const char *const *list, const char *k)
{
	for (size_t i = 0; list && list[i]; i++)
		if (strcmp(list[i], k) == 0)
			return true;
	return false;
}

/* Rejects keys outside allowed and also (may be NULL), so a misspelt
 * option is not ignored. */
static int check_keys(struct parse *p, json_object *o, const char *sect,
		      const char *const *allowed, const char *const *also)
{
	json_object_object_foreach(o, k, v)
	{
		(void)v;
		bool ok = listed(allowed, k) || listed(also, k);
		if (!ok)
			return bad(p, "%s.%s: unknown field", sect, k);
	}
	return 0;
}

static int get_env(struct parse *p, json_object *o, const char *sect,
		   const char *key, char ***env, size_t *n, char ***values)
{
	json_object *v = field(o, key);
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_object))
		return bad(p, "%s.%s: must be an object of strings", sect, key);
	json_object_object_foreach(v, k, val)
	{
		if (!json_object_is_type(val, json_type_string))
			return bad(p, "%s.%s.%s: must be a string", sect, key,
				   k);
		if (!*k || strchr(k, '=') || strlen(k) > 256)
			return bad(p,
				   "%s.%s: \"%s\" is not a valid variable "
				   "name",
				   sect, key, k);
		if (*n >= MAX_LIST)
			return bad(p, "%s.%s: too many entries", sect, key);
		char **grown = realloc(*env, (*n + 2) * sizeof(char *));
		if (!grown)
			return -ENOMEM;
		*env = grown;
		if (asprintf(&grown[*n], "%s=%s", k,
			     json_object_get_string(val)) < 0)
			return -ENOMEM;
		grown[++*n] = NULL;
		if (values) {
			size_t m = 0;
			while (*values && (*values)[m])
				m++;
			char **vv = realloc(*values, (m + 2) * sizeof(char *));
			if (!vv)
				return -ENOMEM;
			*values = vv;
			vv[m] = strdup(json_object_get_string(val));
			vv[m + 1] = NULL;
			if (!vv[m])
				return -ENOMEM;
		}
	}
	return 0;
}

static int get_string_list(struct parse *p, json_object *o, const char *sect,
			   const char *key, char ***out)
{
	json_object *v = field(o, key);
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return bad(p, "%s.%s: must be an array of strings", sect, key);
	size_t n = json_object_array_length(v);
	if (n > MAX_LIST)
		return bad(p, "%s.%s: too many entries", sect, key);
	char **list = calloc(n + 1, sizeof(char *));
	if (!list)
		return -ENOMEM;
	*out = list;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string))
			return bad(p, "%s.%s[%zu]: must be a string", sect, key,
				   i);
		list[i] = strdup(json_object_get_string(e));
		if (!list[i])
			return -ENOMEM;
	}
	return 0;
}

static void free_list(char **l)
{
	for (size_t i = 0; l && l[i]; i++)
		free(l[i]);
	free(l);
}

static void free_listp(char ***l)
{
	free_list(*l);
}

/* The network mode, the filter of a filtered box, and the package
 * registry that installPackages adds to an empty whitelist. */
static int parse_network(struct parse *p, json_object *opt,
			 const struct config *cfg, struct exec_request *r)
{
	if (strcmp(r->network, "none") == 0)
		r->net = BOX_NET_NONE;
	else if (strcmp(r->network, "filtered") == 0)
		r->net = BOX_NET_FILTERED;
	else if (strcmp(r->network, "host") != 0)
		return bad(p, "options.network: must be \"none\", \"host\" or "
			      "\"filtered\"");
	else if (!cfg->net_allow_host)
		return bad(p, "options.network: \"host\" is refused: the "
			      "daemon's configuration does not set "
			      "network.allowHost");
	else
		r->net = BOX_NET_HOST;
	__attribute__((cleanup(free_listp))) char **allow = NULL;
	__attribute__((cleanup(free_listp))) char **deny = NULL;
	json_object *nf = field(opt, "networkFilter");
	if (nf && !json_object_is_type(nf, json_type_object))
		return bad(p, "options.networkFilter: must be an object");
	int e;
	if ((e = get_string_list(p, nf, "options.networkFilter", "whitelist",
				 &allow)) ||
	    (e = get_string_list(p, nf, "options.networkFilter", "blacklist",
				 &deny)))
		return e;
	bool packages = r->packages && r->packages[0];
	if (packages && r->net == BOX_NET_NONE)
		return bad(p, "request.installPackages: installing packages "
			      "needs network access; enable filtered "
			      "networking (options.network \"filtered\", "
			      "which allows the runtime's package registry)");
	if (r->net != BOX_NET_FILTERED)
		return 0;
	const char *registry = cfg->net_registry[runtime_index(r->runtime)];
	const char *added[] = { registry, NULL };
	bool add = packages && (!allow || !allow[0]) && registry && registry[0];
	return net_filter_compile(&r->filter,
				  add ? added : (const char *const *)allow,
				  (const char *const *)deny, p->e);
}

static int get_files(struct parse *p, json_object *req, struct exec_request *r)
{
	json_object *v = field(req, "files");
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_object))
		return bad(p, "request.files: must be an object mapping paths "
			      "to contents");
	size_t n = (size_t)json_object_object_length(v);
	if (n > p->lim->input_files)
		return bad(p,
			   "request.files: %zu files exceed the "
			   "administrator's ceiling limits.inputFiles (%llu)",
			   n, (unsigned long long)p->lim->input_files);
	r->files = calloc(n ? n : 1, sizeof(*r->files));
	if (!r->files)
		return -ENOMEM;
	uint64_t total = 0;
	json_object_object_foreach(v, path, content)
	{
		char norm[4096];
		if (!json_object_is_type(content, json_type_string))
			return bad(p, "request.files[\"%s\"]: must be a string",
				   path);
		if (box_path_normalize(path, true, norm, sizeof(norm)) < 0 ||
		    strcmp(norm, "/sandbox") == 0)
			return bad(p,
				   "request.files: path \"%s\" must be a "
				   "file inside /sandbox or /tmp",
				   path);
		struct exec_file *f = &r->files[r->nfiles++];
		f->path = strdup(norm);
		f->len = (size_t)json_object_get_string_len(content);
		total += f->len;
		if (total > p->lim->input_bytes) {
			char limit[24];
			size_format(limit, sizeof(limit), p->lim->input_bytes);
			return bad(p,
				   "request.files: the contents exceed the "
				   "administrator's ceiling "
				   "limits.inputFilesBytes (%s)",
				   limit);
		}
		f->content = malloc(f->len + 1);
		if (!f->path || !f->content)
			return -ENOMEM;
		memcpy(f->content, json_object_get_string(content), f->len);
	}
	return 0;
}

static int check_packages(struct parse *p, char **pkgs)
{
	for (size_t i = 0; pkgs && pkgs[i]; i++)
		if (!package_name_valid(pkgs[i]))
			return bad(p,
				   "request.installPackages: invalid package "
				   "name \"%s\"",
				   pkgs[i]);
	return 0;
}

static const char *const request_keys[] = {
	"code",	       "cmd",	    "codeUrl",	   "codeHash",
	"runtime",     "timeoutMs", "env",	   "fileExtension",
	"stdin",       "files",	    "outputPaths", "installPackages",
	"setupScript", "workdir",   "metadata",	   "allowInsecureCodeUrl",
	NULL,
};
static const char *const option_keys[] = {
	"network",	 "networkFilter", "cpuLimit",
	"memoryLimit",	 "pidsLimit",	  "readonlyRootFs",
	"maxOutputSize", "timeoutMs",	  "sandboxSize",
	"tmpSize",	 "secrets",	  "image",
	"logNetwork",	 "security",	  NULL,
};
static const char *const param_keys[] = { "request", "options", "sessionId",
					  "stream",  "resume",	NULL };

static int parse_options(struct parse *p, json_object *opt,
			 struct exec_request *r)
{
	int e;
	size_t nenv = 0;
	while (r->env && r->env[nenv])
		nenv++;
	const struct config_limits *lim = p->lim;
	if ((e = check_keys(p, opt, "options", option_keys,
			    exec_compat_option_keys)) ||
	    (e = get_string(p, opt, "options", "network", &r->network)) ||
	    (e = get_uint(p, opt, "options", "timeoutMs", 1, lim->timeout_ms,
			  &r->timeout_ms)) ||
	    (e = get_size(p, opt, "options", "memoryLimit", EXEC_MIN_MEMORY,
			  lim->memory, &r->memory)) ||
	    (e = get_uint(p, opt, "options", "pidsLimit", EXEC_MIN_PIDS,
			  lim->pids, &r->pids)) ||
	    (e = get_size(p, opt, "options", "maxOutputSize", 1,
			  lim->max_output, &r->max_output)) ||
	    (e = get_size(p, opt, "options", "sandboxSize", EXEC_MIN_FS,
			  lim->sandbox_size, &r->sandbox_size)) ||
	    (e = get_size(p, opt, "options", "tmpSize", EXEC_MIN_FS,
			  lim->tmp_size, &r->tmp_size)) ||
	    (e = get_bool(p, opt, "options", "readonlyRootFs",
			  &r->readonly_root)) ||
	    (e = get_bool(p, opt, "options", "logNetwork", &r->log_network)) ||
	    (e = get_env(p, opt, "options", "secrets", &r->env, &nenv,
			 &r->secret_values)))
		return e;
	json_object *cpu = field(opt, "cpuLimit");
	if (cpu) {
		if (!json_object_is_type(cpu, json_type_double) &&
		    !json_object_is_type(cpu, json_type_int))
			return bad(p, "options.cpuLimit: must be a number");
		r->cpus = json_object_get_double(cpu);
		if (!(r->cpus >= EXEC_MIN_CPUS))
			return bad(p,
				   "options.cpuLimit: must be a number from "
				   "%g to %g",
				   EXEC_MIN_CPUS, lim->cpus);
		if (r->cpus > lim->cpus) {
			char given[32], limit[32];
			snprintf(given, sizeof(given), "%g", r->cpus);
			snprintf(limit, sizeof(limit), "%g", lim->cpus);
			return over(p, "options", "cpuLimit", given, "cpuLimit",
				    limit);
		}
	}
	json_object *sec = field(opt, "security");
	if (sec) {
		static const char *const sec_keys[] = { "seccomp",
							"customProfilePath",
							NULL };
		if (!json_object_is_type(sec, json_type_object))
			return bad(p, "options.security: must be an object");
		if ((e = check_keys(p, sec, "options.security", sec_keys,
				    NULL)) ||
		    (e = get_string(p, sec, "options.security", "seccomp",
				    &r->seccomp_mode)) ||
		    (e = get_string(p, sec, "options.security",
				    "customProfilePath", &r->seccomp_path)))
			return e;
	}
	return 0;
}

/* The seccomp mode, within what the administrator allows: whatever
 * weakens the built-in profile needs the daemon's configuration to say
 * so. */
static int check_security(struct parse *p, const struct config *cfg,
			  const struct exec_request *r)
{
	const char *m = r->seccomp_mode;
	bool unconfined = !strcmp(m, "unconfined");
	bool custom = !strcmp(m, "custom");
	if (!unconfined && !custom && strcmp(m, "strict") != 0)
		return bad(p, "options.security.seccomp: must be \"strict\", "
			      "\"unconfined\" or \"custom\"");
	if (custom && !r->seccomp_path)
		return bad(p, "options.security.customProfilePath: required "
			      "when seccomp is \"custom\"");
	if (unconfined && !cfg->sec_allow_unconfined)
		return bad(p, "options.security.seccomp: \"unconfined\" is "
			      "refused: the daemon's configuration does not "
			      "set security.allowUnconfined");
	if (custom && !cfg->sec_allow_custom)
		return bad(p, "options.security.seccomp: \"custom\" is "
			      "refused: the daemon's configuration does not "
			      "set security.allowCustomProfiles");
	return 0;
}

static int resolve_runtime(struct parse *p, json_object *req,
			   struct exec_request *r, char **ext)
{
	_cleanup_free_ char *name = NULL;
	int e = get_string(p, req, "request", "runtime", &name);
	if (e)
		return e;
	if ((e = get_string(p, req, "request", "fileExtension", ext)))
		return e;
	if (*ext) {
		if (**ext != '.') {
			char *dotted;
			if (asprintf(&dotted, ".%s", *ext) < 0)
				return -ENOMEM;
			free(*ext);
			*ext = dotted;
		}
		if (strlen(*ext) > 16 || strpbrk(*ext + 1, "./ \t\n"))
			return bad(p,
				   "request.fileExtension: \"%s\" is not a "
				   "file extension",
				   *ext);
	}
	if (name && strcmp(name, "agent") == 0)
		return bad(p, "request.runtime: isol8's \"agent\" runtime (an "
			      "AI coding agent) is not available in this "
			      "daemon; available: " RUNTIME_NAMES);
	if (name) {
		r->runtime = runtime_find(name);
		if (!r->runtime)
			return bad(p,
				   "Unknown runtime: \"%s\". "
				   "Available: " RUNTIME_NAMES,
				   name);
	} else if (*ext) {
		r->runtime = runtime_for_file(*ext);
		if (!r->runtime)
			return bad(p,
				   "Cannot detect runtime for main%s. Use "
				   "--runtime to specify one.",
				   *ext);
	} else if (r->cmd)
		r->runtime = runtime_find("bash");
	else
		return bad(p, "request.runtime: required (one of " RUNTIME_NAMES
			      ")");
	return 0;
}

/* codeUrl, codeHash and allowInsecureCodeUrl; the URL itself is the
 * fetch's to check (code_url.h), against the policy of the day. */
static int parse_code_url(struct parse *p, json_object *req,
			  const struct config *cfg, struct exec_request *r)
{
	int e;
	if ((e = get_string(p, req, "request", "codeUrl", &r->code_url)) ||
	    (e = get_string(p, req, "request", "codeHash", &r->code_hash)) ||
	    (e = get_bool(p, req, "request", "allowInsecureCodeUrl",
			  &r->allow_insecure_code_url)))
		return e;
	if (r->code_url && !cfg->remote_code.enabled)
		return bad(p, "Remote code fetching is disabled. Set "
			      "remoteCode.enabled=true to allow it. "
			      "(request.codeUrl: fetching code from a URL is "
			      "off in this daemon's configuration, "
			      "isol8d.json; send the code inline)");
	const char *h = r->code_hash;
	if (h && (strlen(h) != 64 || strspn(h, "0123456789abcdefABCDEF") != 64))
		return bad(p, "request.codeHash: must be a SHA-256 written as "
			      "64 hexadecimal digits");
	return 0;
}

/* options.image, or images.default where it serves the runtime. */
static int parse_image(struct parse *p, json_object *opt,
		       const struct config *cfg, struct exec_request *r)
{
	json_object *img = field(opt, "image");
	if (img && !json_object_is_type(img, json_type_string))
		return bad(p, "options.image: must be a string");
	int ret = image_store_pick(cfg, "options.image",
				   img ? json_object_get_string(img) : NULL,
				   r->runtime->name, &r->image, p->e);
	if (ret < 0)
		return ret;
	r->has_image = ret > 0;
	r->default_image =
		!img || strcmp(json_object_get_string(img), "default") == 0;
	return 0;
}

static int parse_request(json_object *params, const struct config *cfg,
			 struct exec_request *r, struct error *err)
{
	struct parse p = { err, &cfg->limits };
	memset(r, 0, sizeof(*r));
	r->timeout_ms = cfg->default_timeout_ms;
	r->memory = cfg->default_memory;
	r->cpus = cfg->default_cpus;
	r->pids = cfg->default_pids;
	r->max_output = cfg->default_max_output;
	r->sandbox_size = cfg->default_sandbox_size;
	r->tmp_size = cfg->default_tmp_size;
	r->readonly_root = cfg->default_readonly_root;
	r->network = strdup(cfg->default_network);
	r->seccomp_mode = strdup(cfg->default_seccomp);
	if (!r->network || !r->seccomp_mode)
		return -ENOMEM;

	json_object *req = field(params, "request");
	json_object *opt = field(params, "options");
	int e;
	if ((e = check_keys(&p, params, "params", param_keys, NULL)))
		return e;
	if (!req || !json_object_is_type(req, json_type_object))
		return bad(&p, "request: required, an object with the code to "
			       "run");
	if (opt && !json_object_is_type(opt, json_type_object))
		return bad(&p, "options: must be an object");
	if ((e = get_string(&p, params, "params", "sessionId", &r->session_id)))
		return e;
	if (r->session_id && !*r->session_id) {
		/* isol8 takes an empty sessionId as none. */
		free(r->session_id);
		r->session_id = NULL;
	}
	if ((e = get_bool(&p, params, "params", "resume", &r->resume)))
		return e;
	if ((e = check_keys(&p, req, "request", request_keys,
			    exec_compat_request_keys)) ||
	    (e = get_string(&p, req, "request", "code", &r->code)) ||
	    (e = get_string(&p, req, "request", "cmd", &r->cmd)))
		return e;
	if ((e = exec_compat_parse(req, opt, &r->compat, err)))
		return e;
	if ((e = parse_code_url(&p, req, cfg, r)))
		return e;
	if (!!r->code + !!r->cmd + !!r->code_url != 1)
		return bad(&p, "request: exactly one of \"code\", \"cmd\" "
			       "and \"codeUrl\" is required");
	_cleanup_free_ char *ext = NULL;
	if ((e = resolve_runtime(&p, req, r, &ext)))
		return e;
	if (asprintf(&r->code_path, "/sandbox/main%s",
		     ext ? ext : r->runtime->ext) < 0)
		return -ENOMEM;

	size_t nenv = 0;
	json_object *stdin_v = field(req, "stdin");
	if (stdin_v) {
		if (!json_object_is_type(stdin_v, json_type_string))
			return bad(&p, "request.stdin: must be a string");
		r->stdin_len = (size_t)json_object_get_string_len(stdin_v);
		r->stdin_data = malloc(r->stdin_len + 1);
		if (!r->stdin_data)
			return -ENOMEM;
		memcpy(r->stdin_data, json_object_get_string(stdin_v),
		       r->stdin_len + 1);
	}
	if ((e = get_env(&p, req, "request", "env", &r->env, &nenv, NULL)) ||
	    (e = get_files(&p, req, r)) ||
	    (e = get_string_list(&p, req, "request", "outputPaths",
				 &r->output_paths)) ||
	    (e = get_string_list(&p, req, "request", "installPackages",
				 &r->packages)) ||
	    (e = check_packages(&p, r->packages)) ||
	    (e = get_string(&p, req, "request", "setupScript",
			    &r->setup_script)) ||
	    (e = get_string(&p, req, "request", "workdir", &r->workdir)))
		return e;
	if (r->packages && r->packages[0] && !r->runtime->install)
		return bad(&p,
			   "request.installPackages: the %s runtime has "
			   "no package manager",
			   r->runtime->name);
	size_t nout = 0;
	while (r->output_paths && r->output_paths[nout])
		nout++;
	if (nout > cfg->limits.output_files)
		return bad(&p,
			   "request.outputPaths: %zu paths exceed the "
			   "administrator's ceiling limits.outputFiles (%llu)",
			   nout, (unsigned long long)cfg->limits.output_files);
	for (size_t i = 0; r->output_paths && r->output_paths[i]; i++) {
		char norm[4096];
		if (box_path_normalize(r->output_paths[i], true, norm,
				       sizeof(norm)) < 0)
			return bad(&p,
				   "request.outputPaths[%zu]: \"%s\" must "
				   "be inside /sandbox or /tmp",
				   i, r->output_paths[i]);
		free(r->output_paths[i]);
		r->output_paths[i] = strdup(norm);
		if (!r->output_paths[i])
			return -ENOMEM;
	}
	if (r->workdir) {
		char norm[4096];
		if (box_path_normalize(r->workdir, false, norm, sizeof(norm)) <
		    0)
			return bad(&p, "Working directory must be inside "
				       "/sandbox");
		free(r->workdir);
		r->workdir = strdup(norm);
		if (!r->workdir)
			return -ENOMEM;
	}
	json_object *meta = field(req, "metadata");
	if (meta && !json_object_is_type(meta, json_type_object))
		return bad(&p, "request.metadata: must be an object");
	if (opt && (e = parse_options(&p, opt, r)))
		return e;
	if ((e = get_uint(&p, req, "request", "timeoutMs", 1,
			  cfg->limits.timeout_ms, &r->timeout_ms)))
		return e;
	if ((e = check_security(&p, cfg, r)) ||
	    (e = parse_image(&p, opt, cfg, r)))
		return e;
	return parse_network(&p, opt, cfg, r);
}

int exec_request_parse(json_object *params, const struct config *cfg,
		       struct exec_request *r, struct error *e)
{
	int ret = parse_request(params, cfg, r, e);
	/* Running out of memory has no message of its own; the client is
	 * told as it always was, with the request's kind.  An image the
	 * store lacks is not_found, one being built busy, as the store
	 * said. */
	if (ret < 0 && ret != -EINVAL && ret != -ENOENT && ret != -EBUSY)
		return error_set(e, ERR_INVALID_ARGUMENT, ret, "%s",
				 strerror(-ret));
	return ret;
}

bool exec_request_runs_as_started(const struct exec_request *r)
{
	const struct runtime *rt = r->runtime;
	if (!rt->preload)
		return true;
	if (r->cmd || r->setup_script || (r->packages && r->packages[0]))
		return false;
	/* The waiting interpreter was started on main with the runtime's
	 * own extension (a .mjs module is another kind of program). */
	const char *ext = strrchr(r->code_path, '.');
	if (!ext || strcmp(ext, rt->ext) != 0)
		return false;
	for (size_t i = 0; r->env && r->env[i]; i++) {
		if (environment_is_default(rt, r->env[i]))
			return false;
		for (size_t j = 0; rt->startup_env[j]; j++)
			if (strncmp(r->env[i], rt->startup_env[j],
				    strlen(rt->startup_env[j])) == 0)
				return false;
	}
	return true;
}

void exec_request_free(struct exec_request *r)
{
	free(r->code);
	free(r->cmd);
	free(r->code_url);
	free(r->code_hash);
	free(r->code_path);
	free_list(r->env);
	free_list(r->secret_values);
	free(r->stdin_data);
	for (size_t i = 0; i < r->nfiles; i++) {
		free(r->files[i].path);
		free(r->files[i].content);
	}
	free(r->files);
	free_list(r->output_paths);
	free_list(r->packages);
	free(r->setup_script);
	free(r->workdir);
	free(r->network);
	net_filter_free(&r->filter);
	free(r->seccomp_mode);
	free(r->seccomp_path);
	free(r->session_id);
	memset(r, 0, sizeof(*r));
}

struct box_spec exec_request_box_spec(const struct exec_request *r,
				      const struct config *cfg,
				      const struct seccomp_prog *prog)
{
	return (struct box_spec){
		.net = r->net,
		.rootfs = {
			.runtimes_dir = cfg->runtimes_dir,
			.sandbox_size = r->sandbox_size,
			.tmp_size = r->tmp_size,
			.readonly_root = r->readonly_root,
		},
		.image = r->has_image ? &r->image : NULL,
		.seccomp = prog,
		.limits = {
			.memory_bytes = r->memory,
			.pids = r->pids,
			.cpus = r->cpus,
		},
	};
}
