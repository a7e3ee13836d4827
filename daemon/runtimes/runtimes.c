#include "runtimes.h"

#include "cleanup.h"
#include "preload.h"
#include "runtime_ext.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const none[] = { NULL };
static const char *const bun_run[] = { "run", NULL };
static const char *const deno_run[] = { "run", "--allow-all", "--no-prompt",
					NULL };
static const char *const python_env[] = { "PYTHONUSERBASE=/sandbox/.local",
					  NULL };
static const char *const deno_env[] = { "DENO_DIR=/tmp/.deno",
					"DENO_NO_UPDATE_CHECK=1", NULL };
static const char *const bun_env[] = { "BUN_INSTALL_CACHE_DIR=/tmp/.bun",
				       NULL };

static const char *const pip_install[] = {
	"/usr/bin/python3", "-m",      "pip",
	"install",	    "--user",  "--break-system-packages",
	"--no-cache-dir",   "--quiet", NULL
};
static const char *const npm_install[] = {
	"/usr/bin/npm", "install",   "--prefix", "/sandbox",
	"--no-audit",	"--no-fund", NULL
};
static const char *const bun_install[] = { "@/bin/bun", "add", NULL };
static const char *const deno_install[] = { "@/bin/deno", "cache", NULL };

/* site imports usercustomize from PYTHONPATH; node runs --require'd
 * modules before it resolves its main module; bash sources BASH_ENV before
 * it opens its script; Deno runs --preload modules before it loads its main
 * module, and Bun before it reads its entry point's text, which must exist
 * (entry_first). */
static const char *const python_warm_env[] = { "PYTHONPATH=" PRELOAD_DIR,
					       NULL };
static const char *const node_warm_args[] = { "--require",
					      PRELOAD_DIR "/node_preload.js",
					      NULL };
static const char *const bash_warm_env[] = { "BASH_ENV=" PRELOAD_DIR
					     "/bash_preload.sh",
					     NULL };
static const char *const bun_warm_args[] = { "--preload",
					     PRELOAD_DIR "/bun_preload.js",
					     NULL };
static const char *const deno_warm_args[] = { "--preload",
					      PRELOAD_DIR "/deno_preload.js",
					      NULL };
static const char *const python_startup[] = { "PYTHON", "LC_", "LANG", NULL };
static const char *const node_startup[] = { "NODE_",	 "UV_", "LC_",
					    "LANG",	 "TZ",	"OPENSSL_",
					    "SSL_CERT_", NULL };
static const char *const bun_startup[] = {
	"BUN_", "NODE_",    "UV_",	   "LC_",	"LANG",
	"TZ",	"NO_COLOR", "FORCE_COLOR", "SSL_CERT_", NULL
};
static const char *const deno_startup[] = {
	"DENO_",    "NPM_CONFIG_", "LC_",	"LANG", "TZ",
	"NO_COLOR", "FORCE_COLOR", "SSL_CERT_", NULL
};
/* Exported functions, options and the variables bash reads as it
 * starts. */
static const char *const bash_startup[] = {
	"BASH", "SHELLOPTS", "POSIXLY_CORRECT", "ENV", "IFS",
	"PS4",	"CDPATH",    "GLOBIGNORE",	"LC_", "LANG",
	"TZ",	NULL
};

static const struct runtime runtimes[] = {
	{ "python", "/usr/bin/python3", ".py", none, python_env, pip_install,
	  preload_python, "usercustomize.py", false, none, false,
	  python_warm_env, python_startup, true },
	{ "node", "/usr/bin/node", ".js", none, none, npm_install, preload_node,
	  "node_preload.js", false, node_warm_args, false, none, node_startup,
	  false },
	{ "bun", "@/bin/bun", ".ts", bun_run, bun_env, bun_install, preload_bun,
	  "bun_preload.js", false, bun_warm_args, true, none, bun_startup,
	  false },
	{ "deno", "@/bin/deno", ".ts", deno_run, deno_env, deno_install,
	  preload_deno, "deno_preload.js", false, deno_warm_args, false, none,
	  deno_startup, false },
	{ "bash", "/usr/bin/bash", ".sh", none, none, NULL, preload_bash,
	  "bash_preload.sh", true, none, false, bash_warm_env, bash_startup,
	  false },
};
_Static_assert(ARRAY_SIZE(runtimes) == RUNTIME_COUNT,
	       "RUNTIME_COUNT counts the table");

/* isol8's detection map. */
const struct runtime *runtime_find(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(runtimes); i++)
		if (strcmp(runtimes[i].name, name) == 0)
			return &runtimes[i];
	return NULL;
}

const struct runtime *runtime_for_file(const char *name)
{
	return runtime_find(runtime_ext_lookup(name));
}

void runtime_path(const char *path, const char *runtimes_dir, char *buf,
		  unsigned len)
{
	if (path[0] == '@')
		snprintf(buf, len, "%s%s", runtimes_dir, path + 1);
	else
		snprintf(buf, len, "%s", path);
}

const struct runtime *runtime_at(size_t i)
{
	return i < ARRAY_SIZE(runtimes) ? &runtimes[i] : NULL;
}

size_t runtime_index(const struct runtime *rt)
{
	return (size_t)(rt - runtimes);
}
