/* isol8ctl run: isol8-compatible flags, streaming output, the program's
 * exit code as ours. */
#include "cleanup.h"
#include "cmd_run.h"
#include "ctl.h"
#include "isol8_config.h"
#include "json_field.h"
#include "runtime_ext.h"
#include "side.h"
#include "size.h"
#include "strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char run_help[] =
	"Usage: isol8ctl run [FILE] [OPTIONS]\n"
	"       isol8ctl run -e CODE -r RUNTIME [OPTIONS]\n"
	"       isol8ctl run --cmd COMMAND [OPTIONS]\n"
	"       isol8ctl run --url URL [--hash SHA256] [OPTIONS]\n"
	"\n"
	"Runs code in a fresh sandbox, or in a session's, and streams its\n"
	"output.  With no FILE, -e or --cmd the code is read from standard\n"
	"input.  The exit status is the program's.\n"
	"\n"
	"Source:\n"
	"  FILE                  a file; its extension picks the runtime\n"
	"                        (.py .js .mjs .cjs .ts .mts .sh)\n"
	"  -e, --eval CODE       inline code\n"
	"      --cmd COMMAND     a shell command (bash -c)\n"
	"      --url URL         code the daemon fetches from URL (if its\n"
	"                        remoteCode configuration allows); the "
	"URL's\n"
	"                        extension picks the runtime\n"
	"      --github OWNER/REPO/REF/PATH\n"
	"                        the same for "
	"https://raw.githubusercontent.com/"
	"...\n"
	"      --gist ID/FILE    the same for https://gist.githubusercontent."
	"com/\n"
	"                        ID/raw/FILE\n"
	"      --hash SHA256     the fetched code's expected SHA-256 (hex)\n"
	"      --allow-insecure-code-url\n"
	"                        allow an http: URL (the daemon's policy "
	"must\n"
	"                        list http too)\n"
	"  -r, --runtime NAME    python, node, bun, deno or bash\n"
	"      --image REF       the box's image: name:tag or sha256:DIGEST\n"
	"                        from isol8ctl image ls, \"host\" or "
	"\"default\"\n"
	"Execution:\n"
	"      --stdin DATA      standard input for the program\n"
	"      --env K=V         an environment variable (repeatable)\n"
	"      --secret K=V      a secret variable; its value is masked as "
	"***\n"
	"                        in the output (repeatable)\n"
	"      --install PKG     install a package first (repeatable); "
	"without\n"
	"                        --net, turns on --net filtered for the "
	"runtime's\n"
	"                        package registry\n"
	"      --setup SCRIPT    bash run before the code (repeatable, joined\n"
	"                        by newlines); the name of a local file "
	"gives\n"
	"                        its contents\n"
	"      --workdir DIR     working directory inside /sandbox\n"
	"      --files DIR       copy DIR's files into /sandbox first\n"
	"      --fetch PATH      copy PATH out of the sandbox after the run "
	"to\n"
	"                        its base name here (repeatable)\n"
	"Network:\n"
	"      --net MODE        none (default), filtered (through the\n"
	"                        daemon's proxy) or host (if the daemon "
	"allows)\n"
	"      --allow REGEX     with --net filtered: allow hosts matching\n"
	"                        REGEX (repeatable; none: all not denied)\n"
	"      --deny REGEX      block hosts matching REGEX; wins over "
	"--allow\n"
	"                        (repeatable)\n"
	"      --log-network     print the proxy's log on stderr after\n"
	"                        \"--- Network Logs ---\", one JSON a line\n"
	"Sessions:\n"
	"      --session-id ID   run in session ID, creating it on first use\n"
	"                        (its runtime and limits are fixed then)\n"
	"      --persistent      run in a new session (id on stderr), deleted\n"
	"                        when the run ends or is interrupted\n"
	"      --persist         keep the run's box for inspection; where to "
	"find\n"
	"                        it is printed on stderr (isol8ctl cleanup "
	"ends it)\n"
	"Limits:\n"
	"      --timeout MS      time limit in milliseconds (default 30000)\n"
	"      --memory SIZE     memory limit, e.g. 512m (default 512m)\n"
	"      --cpu N           CPUs, e.g. 0.5 (default 1.0)\n"
	"      --pids-limit N    process limit (default 64)\n"
	"      --max-output N    bytes of stdout and of stderr kept (default\n"
	"                        1048576)\n"
	"      --sandbox-size S  size of /sandbox (default 512m)\n"
	"      --tmp-size S      size of /tmp (default 256m)\n"
	"Output:\n"
	"      --no-stream       print the output when the run ends\n"
	"      --out FILE        with --no-stream or --json: also write the\n"
	"                        program's stdout, if any, to FILE\n"
	"      --json            print the whole result object as JSON\n"
	"      --debug           print the request and timings on stderr\n"
	"      --socket PATH     the daemon's socket\n"
	"Remote (isol8's HTTP API, such as isol8ctl serve):\n"
	"      --host URL        run on the server at URL, e.g.\n"
	"                        http://127.0.0.1:3000, not through the "
	"socket\n"
	"      --key KEY         its API key (default $ISOL8_API_KEY, then "
	"the token\n"
	"                        isol8ctl login stored for that host)\n"
	"  -h, --help            show this help\n";

static int set_kv(json_object *obj, const char *flag, const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv) {
		fprintf(stderr, "[ERR] %s expects KEY=VALUE, got \"%s\"\n",
			flag, kv);
		return -EINVAL;
	}
	char key[256];
	snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
	json_object_object_add(obj, key, json_object_new_string(eq + 1));
	return 0;
}

/* Adds every regular file below dir (recursively) as files["rel"]. */
static int add_dir(json_object *files, const char *dir, const char *rel)
{
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s%s%s", dir, *rel ? "/" : "", rel) < 0)
		return -ENOMEM;
	DIR *d = opendir(path);
	if (!d) {
		fprintf(stderr, "[ERR] Cannot read directory %s: %s\n", path,
			strerror(errno));
		return -errno;
	}
	struct dirent *de;
	int r = 0;
	while (r == 0 && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		_cleanup_free_ char *sub = NULL, *full = NULL;
		if (asprintf(&sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name) <
			    0 ||
		    asprintf(&full, "%s/%s", dir, sub) < 0) {
			r = -ENOMEM;
			break;
		}
		struct stat st;
		if (lstat(full, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			r = add_dir(files, dir, sub);
		else if (S_ISREG(st.st_mode)) {
			char *data = NULL;
			size_t len = 0;
			r = ctl_read_file(full, &data, &len);
			if (r == 0) {
				json_object_object_add(
					files, sub,
					json_object_new_string_len(data,
								   (int)len));
				free(data);
			}
		}
	}
	closedir(d);
	return r;
}

static int parse_size_flag(const char *flag, const char *v, json_object *opts,
			   const char *key)
{
	uint64_t n;
	if (size_parse(v, &n) < 0) {
		char msg[200];
		size_format_error(msg, sizeof(msg), v);
		fprintf(stderr, "[ERR] %s: %s\n", flag, msg);
		return -EINVAL;
	}
	json_object_object_add(opts, key, json_object_new_string(v));
	return 0;
}

static int parse_uint_flag(const char *flag, const char *v, json_object *o,
			   const char *key)
{
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno || *end || n <= 0) {
		fprintf(stderr,
			"[ERR] %s expects a positive integer, got "
			"\"%s\"\n",
			flag, v);
		return -EINVAL;
	}
	json_object_object_add(o, key, json_object_new_int64(n));
	return 0;
}

enum {
	O_CMD = 256,
	O_TIMEOUT,
	O_MEMORY,
	O_CPU,
	O_PIDS,
	O_MAXOUT,
	O_SBSIZE,
	O_TMPSIZE,
	O_SECRET,
	O_ENV,
	O_STDIN,
	O_INSTALL,
	O_SETUP,
	O_WORKDIR,
	O_FILES,
	O_OUT,
	O_FETCH,
	O_PERSIST,
	O_NOSTREAM,
	O_JSON,
	O_DEBUG,
	O_SOCKET,
	O_PERSISTENT,
	O_SESSION,
	O_NET,
	O_ALLOW,
	O_DENY,
	O_LOGNET,
	O_HOST,
	O_KEY,
	O_URL,
	O_GITHUB,
	O_GIST,
	O_HASH,
	O_INSECURE_URL,
	O_IMAGE,
};

static int parse(struct ctl *ctl, int argc, char **argv, struct run_opts *o)
{
	static const struct option opts[] = {
		{ "eval", required_argument, NULL, 'e' },
		{ "cmd", required_argument, NULL, O_CMD },
		{ "runtime", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "memory", required_argument, NULL, O_MEMORY },
		{ "cpu", required_argument, NULL, O_CPU },
		{ "pids-limit", required_argument, NULL, O_PIDS },
		{ "max-output", required_argument, NULL, O_MAXOUT },
		{ "sandbox-size", required_argument, NULL, O_SBSIZE },
		{ "tmp-size", required_argument, NULL, O_TMPSIZE },
		{ "secret", required_argument, NULL, O_SECRET },
		{ "env", required_argument, NULL, O_ENV },
		{ "stdin", required_argument, NULL, O_STDIN },
		{ "install", required_argument, NULL, O_INSTALL },
		{ "setup", required_argument, NULL, O_SETUP },
		{ "image", required_argument, NULL, O_IMAGE },
		{ "workdir", required_argument, NULL, O_WORKDIR },
		{ "files", required_argument, NULL, O_FILES },
		{ "out", required_argument, NULL, O_OUT },
		{ "fetch", required_argument, NULL, O_FETCH },
		{ "persist", no_argument, NULL, O_PERSIST },
		{ "no-stream", no_argument, NULL, O_NOSTREAM },
		{ "json", no_argument, NULL, O_JSON },
		{ "debug", no_argument, NULL, O_DEBUG },
		{ "socket", required_argument, NULL, O_SOCKET },
		{ "persistent", no_argument, NULL, O_PERSISTENT },
		{ "session-id", required_argument, NULL, O_SESSION },
		{ "net", required_argument, NULL, O_NET },
		{ "allow", required_argument, NULL, O_ALLOW },
		{ "deny", required_argument, NULL, O_DENY },
		{ "log-network", no_argument, NULL, O_LOGNET },
		{ "host", required_argument, NULL, O_HOST },
		{ "key", required_argument, NULL, O_KEY },
		{ "url", required_argument, NULL, O_URL },
		{ "github", required_argument, NULL, O_GITHUB },
		{ "gist", required_argument, NULL, O_GIST },
		{ "hash", required_argument, NULL, O_HASH },
		{ "allow-insecure-code-url", no_argument, NULL,
		  O_INSECURE_URL },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, r = 0;
	optind = 0;
	while (r == 0 &&
	       (c = getopt_long(argc, argv, "e:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			o->eval = optarg;
			break;
		case O_CMD:
			o->cmd = optarg;
			break;
		case 'r':
			o->runtime = optarg;
			break;
		case O_TIMEOUT:
			r = parse_uint_flag("--timeout", optarg, o->options,
					    "timeoutMs");
			break;
		case O_MEMORY:
			r = parse_size_flag("--memory", optarg, o->options,
					    "memoryLimit");
			break;
		case O_CPU: {
			char *end;
			double v = strtod(optarg, &end);
			if (*end || !(v > 0)) {
				fprintf(stderr,
					"[ERR] --cpu expects a positive "
					"number, got \"%s\"\n",
					optarg);
				r = -EINVAL;
			} else
				json_object_object_add(
					o->options, "cpuLimit",
					json_object_new_double(v));
			break;
		}
		case O_PIDS:
			r = parse_uint_flag("--pids-limit", optarg, o->options,
					    "pidsLimit");
			break;
		case O_MAXOUT:
			r = parse_size_flag("--max-output", optarg, o->options,
					    "maxOutputSize");
			break;
		case O_SBSIZE:
			r = parse_size_flag("--sandbox-size", optarg,
					    o->options, "sandboxSize");
			break;
		case O_TMPSIZE:
			r = parse_size_flag("--tmp-size", optarg, o->options,
					    "tmpSize");
			break;
		case O_SECRET:
			r = set_kv(o->secrets, "--secret", optarg);
			break;
		case O_ENV:
			r = set_kv(o->env, "--env", optarg);
			break;
		case O_STDIN:
			json_object_object_add(o->request, "stdin",
					       json_object_new_string(optarg));
			break;
		case O_INSTALL:
			json_object_array_add(o->packages,
					      json_object_new_string(optarg));
			break;
		case O_SETUP:
			json_object_array_add(o->setup,
					      json_object_new_string(optarg));
			break;
		case O_IMAGE:
			json_object_object_add(o->options, "image",
					       json_object_new_string(optarg));
			break;
		case O_WORKDIR:
			json_object_object_add(o->request, "workdir",
					       json_object_new_string(optarg));
			break;
		case O_FILES:
			r = add_dir(o->files, optarg, "");
			break;
		case O_OUT:
			o->out = optarg;
			break;
		case O_FETCH:
			json_object_array_add(o->fetch,
					      json_object_new_string(optarg));
			break;
		case O_PERSIST:
			o->persist = true;
			json_object_object_add(o->options, "persist",
					       json_object_new_boolean(true));
			break;
		case O_NOSTREAM:
			o->no_stream = true;
			break;
		case O_JSON:
			o->json = true;
			break;
		case O_DEBUG:
			o->debug = true;
			break;
		case O_SOCKET:
			ctl->socket_flag = optarg;
			break;
		case O_PERSISTENT:
			o->persistent = true;
			break;
		case O_SESSION:
			o->session_id = optarg;
			break;
		case O_NET:
			o->net_given = true;
			json_object_object_add(o->options, "network",
					       json_object_new_string(optarg));
			break;
		case O_ALLOW:
			json_object_array_add(o->allow,
					      json_object_new_string(optarg));
			break;
		case O_DENY:
			json_object_array_add(o->deny,
					      json_object_new_string(optarg));
			break;
		case O_LOGNET:
			json_object_object_add(o->options, "logNetwork",
					       json_object_new_boolean(true));
			break;
		case O_HOST:
			o->host = optarg;
			break;
		case O_KEY:
			o->key = optarg;
			break;
		case O_URL:
			o->url = optarg;
			break;
		case O_GITHUB:
			o->github = optarg;
			break;
		case O_GIST:
			o->gist = optarg;
			break;
		case O_HASH:
			json_object_object_add(o->request, "codeHash",
					       json_object_new_string(optarg));
			break;
		case O_INSECURE_URL:
			json_object_object_add(o->request,
					       "allowInsecureCodeUrl",
					       json_object_new_boolean(true));
			break;
		case 'h':
			fputs(run_help, stdout);
			return 1;
		default:
			fputs(run_help, stderr);
			return -EINVAL;
		}
	}
	if (r < 0)
		return r;
	if (optind < argc)
		o->file = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "[ERR] unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	bool remote = o->url || o->github || o->gist;
	if (o->cmd && (o->file || o->eval || remote)) {
		fprintf(stderr, "[ERR] --cmd cannot be combined with file "
				"input, --eval, --url, --github, or --gist.\n");
		return -EINVAL;
	}
	if (remote && (o->file || o->eval)) {
		fprintf(stderr, "[ERR] --url/--github/--gist cannot be used "
				"with file input or --eval.\n");
		return -EINVAL;
	}
	if (o->file && o->eval) {
		fprintf(stderr,
			"[ERR] give only one of FILE, --eval and --cmd\n");
		return -EINVAL;
	}
	if (o->key && !o->host) {
		fprintf(stderr, "[ERR] --key is for a remote server: give its "
				"--host too\n");
		return -EINVAL;
	}
	return 0;
}

/* to[key] = v unless v (an array or an object) is empty. */
static void add_unless_empty(json_object *to, const char *key, json_object *v)
{
	if (json_object_is_type(v, json_type_array)
		    ? json_object_array_length(v) > 0
		    : json_object_object_length(v) > 0)
		json_object_object_add(to, key, json_object_get(v));
}

/* The options gathered in lists and maps, folded into the request. */
static void add_collected(struct run_opts *o)
{
	add_unless_empty(o->request, "env", o->env);
	add_unless_empty(o->options, "secrets", o->secrets);
	add_unless_empty(o->request, "files", o->files);
	add_unless_empty(o->request, "installPackages", o->packages);
	add_unless_empty(o->request, "outputPaths", o->fetch);
	if (json_object_array_length(o->allow) ||
	    json_object_array_length(o->deny)) {
		json_object *f = json_object_new_object();
		json_object_object_add(f, "whitelist",
				       json_object_get(o->allow));
		json_object_object_add(f, "blacklist",
				       json_object_get(o->deny));
		json_object_object_add(o->options, "networkFilter", f);
	}
}

/* params.sessionId: --session-id, or for --persistent one made up and
 * named as isol8's CLI names it, cli-<milliseconds>, with three random
 * digits so that runs started in the same millisecond do not share it.
 * Like isol8's, it lasts this run only (run_local, run_remote). */
static void set_session(struct run_opts *o, json_object *params)
{
	if (o->persistent && !o->session_id) {
		struct timespec ts;
		unsigned short rnd = 0;
		clock_gettime(CLOCK_REALTIME, &ts);
		ctl_random(&rnd, sizeof(rnd));
		snprintf(o->made_id, sizeof(o->made_id), "cli-%lld%03u",
			 (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
			 rnd % 1000u);
		o->session_id = o->made_id;
		fprintf(stderr, "[Run] Session ID: %s\n", o->made_id);
	}
	if (o->session_id)
		json_object_object_add(params, "sessionId",
				       json_object_new_string(o->session_id));
}

/* The --setup values joined by newlines into setupScript, as isol8's CLI
 * does: a value naming an existing local file gives the file's contents. */
static int join_setup(struct run_opts *o)
{
	size_t n = json_object_array_length(o->setup);
	__attribute__((cleanup(strbuf_free))) struct strbuf b = { 0 };
	for (size_t i = 0; i < n; i++) {
		const char *v = json_object_get_string(
			json_object_array_get_idx(o->setup, i));
		_cleanup_free_ char *data = NULL;
		size_t len = strlen(v);
		struct stat st;
		if (stat(v, &st) == 0 && !S_ISDIR(st.st_mode)) {
			int r = ctl_read_file(v, &data, &len);
			if (r < 0) {
				fprintf(stderr,
					"[ERR] Cannot read --setup file "
					"%s: %s\n",
					v, strerror(-r));
				return r;
			}
		}
		if ((i && strbuf_add(&b, "\n", 1) < 0) ||
		    strbuf_add(&b, data ? data : v, len) < 0)
			return -ENOMEM;
	}
	if (n)
		json_object_object_add(
			o->request, "setupScript",
			json_object_new_string_len(b.p ? b.p : "", (int)b.len));
	return 0;
}

/* --install without --net: filtered networking, as isol8's CLI turns it
 * on.  The daemon allows the runtime's registry when the whitelist is
 * empty; with --allow given, isol8 adds the registry to it, so the
 * daemon's own registry pattern (config.get) is added here. */
static void install_network(struct ctl *ctl, struct run_opts *o)
{
	if (!json_object_array_length(o->packages))
		return;
	if (!o->net_given)
		json_object_object_add(o->options, "network",
				       json_object_new_string("filtered"));
	const char *net = json_field_str(o->options, "network", "");
	const char *rt = o->runtime
				 ? o->runtime
				 : runtime_ext_lookup(o->file ? o->file : "");
	if (o->host || !rt || strcmp(net, "filtered") != 0 ||
	    !json_object_array_length(o->allow))
		return;
	_cleanup_json_ json_object *cfg = NULL;
	if (ctl_call(ctl, "config.get", NULL, &cfg) != CTL_EXIT_OK)
		return;
	json_object *c = json_field(cfg, "config");
	json_object *reg = json_field(
		json_field(json_field(c, "network"), "registry"), rt);
	if (reg && json_object_is_type(reg, json_type_string) &&
	    json_object_get_string_len(reg) > 0)
		json_object_array_add(o->allow, json_object_get(reg));
}

/* The command line into params {request, options, sessionId}, the same
 * for the daemon's execute and for isol8's HTTP API.  -1 to go on, else
 * the exit code. */
static int build_params(struct ctl *ctl, int argc, char **argv,
			struct run_opts *o, json_object *params)
{
	int r = parse(ctl, argc, argv, o);
	if (r != 0)
		return r > 0 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	/* isol8.config.json's defaults where no flag set them. */
	if (isol8_config_apply_run(o->options, o->allow, o->deny, &o->debug) <
	    0)
		return CTL_EXIT_FAILURE;
	/* A missing file or an unknown extension: an error, as isol8 has it,
	 * not a usage error. */
	if (run_set_source(o) < 0 || join_setup(o) < 0)
		return CTL_EXIT_FAILURE;
	install_network(ctl, o);
	add_collected(o);
	set_session(o, params);
	return -1;
}

int cmd_run(struct ctl *ctl, int argc, char **argv)
{
	struct run_opts o = {
		.request = json_object_new_object(),
		.options = json_object_new_object(),
		.env = json_object_new_object(),
		.secrets = json_object_new_object(),
		.files = json_object_new_object(),
		.packages = json_object_new_array(),
		.fetch = json_object_new_array(),
		.setup = json_object_new_array(),
		.allow = json_object_new_array(),
		.deny = json_object_new_array(),
	};
	_cleanup_json_ json_object *params = json_object_new_object();
	json_object_object_add(params, "request", o.request);
	json_object_object_add(params, "options", o.options);
	int code = build_params(ctl, argc, argv, &o, params);
	json_object_put(o.env);
	json_object_put(o.secrets);
	json_object_put(o.files);
	json_object_put(o.packages);
	json_object_put(o.fetch);
	json_object_put(o.setup);
	json_object_put(o.allow);
	json_object_put(o.deny);
	if (code >= 0)
		return code;
	if (o.debug)
		fprintf(stderr, "[DEBUG] request: %s\n",
			json_object_to_json_string(params));
	return side_run(ctl, &o, params);
}
