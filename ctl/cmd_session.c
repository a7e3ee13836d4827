/* session: persistent sessions made, listed, used, fed files and removed. */
#include "base64.h"
#include "cleanup.h"
#include "cmd_session.h"
#include "ctl.h"
#include "json_field.h"
#include "side.h"
#include "version.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char session_help[] =
	"Usage: isol8ctl session create [-r RUNTIME] [--id ID] [--idle SEC]\n"
	"                               [--memory SIZE] [--cpu N] "
	"[--pids-limit N]\n"
	"                               [--image REF]\n"
	"       isol8ctl session list [--json]\n"
	"       isol8ctl session exec ID [run options] [FILE]\n"
	"       isol8ctl session put ID LOCAL [PATH] [--mode MODE]\n"
	"       isol8ctl session get ID PATH [LOCAL]\n"
	"       isol8ctl session set-timeout ID SEC\n"
	"       isol8ctl session pause ID\n"
	"       isol8ctl session resume ID\n"
	"       isol8ctl session hibernate ID\n"
	"       isol8ctl session expose ID PORT\n"
	"       isol8ctl session unexpose ID PORT\n"
	"       isol8ctl session exposed ID [--json]\n"
	"       isol8ctl session rm ID...\n"
	"       isol8ctl session stop ID\n"
	"\n"
	"A session is a sandbox kept between executions: files, installed\n"
	"packages and background processes survive; executions in it run one\n"
	"at a time.  It ends when deleted, when idle longer than its timeout\n"
	"(the daemon's cleanup.maxContainerAgeMs unless --idle or set-timeout\n"
	"say otherwise; 0: never) or when the daemon stops, unless the\n"
	"daemon hibernates it then (sessions.hibernateOnStop).\n"
	"\n"
	"  create       make a session (default runtime python, id made up)\n"
	"               and print its id; --json prints the whole session;\n"
	"               --image: its box's image (isol8ctl image ls)\n"
	"  list         one line per session; --json prints them as JSON\n"
	"  exec         as isol8ctl run --session-id ID (see run --help)\n"
	"  put          copy LOCAL into the session at PATH (default: LOCAL's\n"
	"               name in /sandbox); --mode sets its permission bits\n"
	"  get          copy PATH out of the session to LOCAL (default:\n"
	"               standard output)\n"
	"  set-timeout  a new idle timeout in seconds, counted from now; 0\n"
	"               disables it\n"
	"  pause        freeze every process of the session where it stands;\n"
	"               its idle timer stops until it is resumed\n"
	"  resume       thaw a paused session, or restore a hibernated one;\n"
	"               its idle timeout counts again\n"
	"  hibernate    write the session's processes, memory and files to\n"
	"               disk and free its sandbox until it is resumed, by\n"
	"               this daemon or the next (CRIU)\n"
	"               from now\n"
	"  expose       make PORT of the session's loopback reachable through\n"
	"               the HTTP bridge (isol8ctl serve) at the path printed,\n"
	"               /x/TOKEN/: the token is its only credential, so share\n"
	"               it as you would a key.  HTTP and WebSocket pass; the\n"
	"               box's network mode stays as it is\n"
	"  unexpose     end that URL; connections open through it are cut\n"
	"  exposed      the session's exposed ports: port, path, connections\n"
	"               and bytes in and out\n"
	"  rm           delete sessions, killing what runs in them; an id\n"
	"               that does not exist is no error\n"
	"  stop         as rm, for one session, with isol8's message\n"
	"  --socket PATH  the daemon's socket (default $ISOL8_SOCKET, then\n"
	"                 " ISOL8_DEFAULT_SOCKET ")\n"
	"  --host URL     use isol8's HTTP API at URL (such as isol8ctl "
	"serve)\n"
	"                 instead of the socket.  It has no route to create a\n"
	"                 session: there a session is made by its first\n"
	"                 execution, isol8ctl run --host URL --session-id ID\n"
	"  --key KEY      the API key for --host (default $ISOL8_API_KEY, then "
	"the\n"
	"                 token isol8ctl login stored for that host)\n";

enum {
	O_ID = 256,
	O_IDLE,
	O_MEMORY,
	O_CPU,
	O_PIDS,
	O_MODE,
	O_JSON,
	O_HOST,
	O_KEY,
	O_IMAGE,
};

/* Options of every subcommand but exec; positional arguments kept.
 * Returns -1 to go on, else an exit code. */
static int parse_args(struct ctl *ctl, int argc, char **argv,
		      struct session_args *a)
{
	static const struct option opts[] = {
		{ "runtime", required_argument, NULL, 'r' },
		{ "id", required_argument, NULL, O_ID },
		{ "idle", required_argument, NULL, O_IDLE },
		{ "memory", required_argument, NULL, O_MEMORY },
		{ "cpu", required_argument, NULL, O_CPU },
		{ "pids-limit", required_argument, NULL, O_PIDS },
		{ "mode", required_argument, NULL, O_MODE },
		{ "image", required_argument, NULL, O_IMAGE },
		{ "json", no_argument, NULL, O_JSON },
		{ "socket", required_argument, NULL, 's' },
		{ "host", required_argument, NULL, O_HOST },
		{ "key", required_argument, NULL, O_KEY },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "r:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			a->runtime = optarg;
			break;
		case O_ID:
			a->id = optarg;
			break;
		case O_IDLE:
			a->idle = optarg;
			break;
		case O_MEMORY:
			a->memory = optarg;
			break;
		case O_CPU:
			a->cpu = optarg;
			break;
		case O_PIDS:
			a->pids = optarg;
			break;
		case O_MODE:
			a->mode = optarg;
			break;
		case O_IMAGE:
			a->image = optarg;
			break;
		case O_JSON:
			a->json = true;
			break;
		case 's':
			ctl->socket_flag = optarg;
			break;
		case O_HOST:
			a->host = optarg;
			break;
		case O_KEY:
			a->key = optarg;
			break;
		case 'h':
			fputs(session_help, stdout);
			return CTL_EXIT_OK;
		default:
			fputs(session_help, stderr);
			return CTL_EXIT_USAGE;
		}
	}
	a->pos = argv + optind;
	a->npos = argc - optind;
	if (a->key && !a->host) {
		fprintf(stderr, "[ERR] --key is for a remote server: give its "
				"--host too\n");
		return CTL_EXIT_USAGE;
	}
	return -1;
}

static json_object *session_params(const char *id)
{
	json_object *p = json_object_new_object();
	json_object_object_add(p, "sessionId", json_object_new_string(id));
	return p;
}

static bool need(const struct session_args *a, int lo, int hi, const char *what)
{
	if (a->npos >= lo && a->npos <= hi)
		return true;
	fprintf(stderr,
		"[ERR] session %s: expected %s (see isol8ctl session "
		"--help)\n",
		a->name, what);
	return false;
}

/* A whole number in [0, max], or -1 with a message. */
static long long whole(const char *flag, const char *v, long long max)
{
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 0);
	if (errno || *end || n < 0 || n > max) {
		fprintf(stderr,
			"[ERR] %s expects a whole number from 0 to %lld, "
			"got \"%s\"\n",
			flag, max, v);
		return -1;
	}
	return n;
}

static const char *str(json_object *o, const char *key)
{
	return json_field_str(o, key, "-");
}

static int do_create(struct ctl *ctl, const struct session_args *a)
{
	if (!need(a, 0, 0, "no arguments"))
		return CTL_EXIT_USAGE;
	_cleanup_json_ json_object *r = NULL;
	json_object *p = json_object_new_object();
	json_object *opt = json_object_new_object();
	json_object_object_add(p, "runtime",
			       json_object_new_string(a->runtime ?: "python"));
	if (a->id)
		json_object_object_add(p, "sessionId",
				       json_object_new_string(a->id));
	long long n;
	if (a->idle) {
		if ((n = whole("--idle", a->idle, 31536000)) < 0)
			goto usage;
		json_object_object_add(p, "idleTimeoutSec",
				       json_object_new_int64(n));
	}
	if (a->memory)
		json_object_object_add(opt, "memoryLimit",
				       json_object_new_string(a->memory));
	if (a->image)
		json_object_object_add(opt, "image",
				       json_object_new_string(a->image));
	if (a->pids) {
		if ((n = whole("--pids-limit", a->pids, 1 << 22)) < 0)
			goto usage;
		json_object_object_add(opt, "pidsLimit",
				       json_object_new_int64(n));
	}
	if (a->cpu) {
		char *end;
		double cpu = strtod(a->cpu, &end);
		if (*end || !(cpu > 0)) {
			fprintf(stderr,
				"[ERR] --cpu expects a positive number, "
				"got \"%s\"\n",
				a->cpu);
			goto usage;
		}
		json_object_object_add(opt, "cpuLimit",
				       json_object_new_double(cpu));
	}
	json_object_object_add(p, "options", opt);
	int code = ctl_call(ctl, "session.create", p, &r);
	if (code != CTL_EXIT_OK)
		return code;
	if (a->json)
		ctl_print_json(r);
	else
		printf("%s\n", str(r, "id"));
	return CTL_EXIT_OK;
usage:
	json_object_put(opt);
	json_object_put(p);
	return CTL_EXIT_USAGE;
}

static int do_list(struct ctl *ctl, const struct session_args *a)
{
	if (!need(a, 0, 0, "no arguments"))
		return CTL_EXIT_USAGE;
	_cleanup_json_ json_object *r = NULL;
	int code = side_session_call(ctl, a, "session.list", NULL, &r);
	if (code != CTL_EXIT_OK)
		return code;
	json_object *list = NULL;
	json_object_object_get_ex(r, "sessions", &list);
	if (a->json) {
		ctl_print_json(list);
		return CTL_EXIT_OK;
	}
	printf("%-24s %-7s %-6s %6s %-24s %-24s %8s %7s\n", "ID", "RUNTIME",
	       "ACTIVE", "QUEUED", "LAST-ACCESS", "EXPIRES", "CPU-MS",
	       "PEAK-MB");
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *s = json_object_array_get_idx(list, i);
		json_object *ru = json_object_object_get(s, "resourceUsage");
		printf("%-24s %-7s %-6s %6s %-24s %-24s %8s %7s\n",
		       str(s, "id"), str(s, "runtime"),
		       json_object_get_boolean(
			       json_object_object_get(s, "isActive"))
			       ? "yes"
			       : "no",
		       str(s, "queued"), str(s, "lastAccessedAt"),
		       str(s, "expiresAt"), str(ru, "cpuTimeMs"),
		       str(ru, "peakMemoryMB"));
	}
	return CTL_EXIT_OK;
}

static int do_put(struct ctl *ctl, const struct session_args *a)
{
	if (!need(a, 2, 3, "ID LOCAL [PATH]"))
		return CTL_EXIT_USAGE;
	long long mode = -1;
	if (a->mode && (mode = whole("--mode", a->mode, 0777)) < 0)
		return CTL_EXIT_USAGE;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r = ctl_read_file(a->pos[1], &data, &len);
	if (r < 0) {
		fprintf(stderr, "[ERR] Cannot read %s: %s\n", a->pos[1],
			strerror(-r));
		return CTL_EXIT_FAILURE;
	}
	_cleanup_free_ char *b64 = base64_encode(data, len);
	if (!b64)
		return CTL_EXIT_FAILURE;
	const char *base = strrchr(a->pos[1], '/');
	_cleanup_json_ json_object *p = session_params(a->pos[0]);
	json_object_object_add(p, "path",
			       json_object_new_string(a->npos == 3 ? a->pos[2]
						      : base	   ? base + 1
							     : a->pos[1]));
	json_object_object_add(p, "content", json_object_new_string(b64));
	if (mode >= 0)
		json_object_object_add(p, "mode", json_object_new_int64(mode));
	_cleanup_json_ json_object *res = NULL;
	return side_session_call(ctl, a, "file.put", json_object_get(p), &res);
}

static int do_get(struct ctl *ctl, const struct session_args *a)
{
	if (!need(a, 2, 3, "ID PATH [LOCAL]"))
		return CTL_EXIT_USAGE;
	_cleanup_json_ json_object *res = NULL;
	json_object *p = session_params(a->pos[0]);
	json_object_object_add(p, "path", json_object_new_string(a->pos[1]));
	int code = side_session_call(ctl, a, "file.get", p, &res);
	if (code != CTL_EXIT_OK)
		return code;
	const char *b64 = str(res, "content");
	_cleanup_free_ unsigned char *data = NULL;
	size_t len = 0;
	if (base64_decode(b64, strlen(b64), &data, &len) < 0) {
		fprintf(stderr, "[ERR] the daemon sent content that is not "
				"base64\n");
		return CTL_EXIT_FAILURE;
	}
	bool to_stdout = a->npos == 2 || strcmp(a->pos[2], "-") == 0;
	_cleanup_close_ int fd =
		to_stdout
			? dup(STDOUT_FILENO)
			: open(a->pos[2],
			       O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t off = 0;
	while (fd >= 0 && off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		off += (size_t)n;
	}
	if (fd < 0 || off < len) {
		fprintf(stderr, "[ERR] Cannot write %s: %s\n",
			to_stdout ? "standard output" : a->pos[2],
			strerror(errno));
		return CTL_EXIT_FAILURE;
	}
	return CTL_EXIT_OK;
}

static int do_set_timeout(struct ctl *ctl, const struct session_args *a)
{
	if (!need(a, 2, 2, "ID SEC"))
		return CTL_EXIT_USAGE;
	long long sec = whole("SEC", a->pos[1], 31536000);
	if (sec < 0)
		return CTL_EXIT_USAGE;
	_cleanup_json_ json_object *r = NULL;
	json_object *p = session_params(a->pos[0]);
	json_object_object_add(p, "timeoutSec", json_object_new_int64(sec));
	int code = side_session_call(ctl, a, "session.set_timeout", p, &r);
	if (code == CTL_EXIT_OK && a->json)
		ctl_print_json(r);
	else if (code == CTL_EXIT_OK)
		printf("%s expires %s\n", a->pos[0],
		       sec ? str(r, "expiresAt") : "never (no idle timeout)");
	return code;
}

/* session.pause, session.resume or session.hibernate, by the
 * subcommand's name. */
static int do_pause(struct ctl *ctl, const struct session_args *a)
{
	static const char *const done[][2] = { { "pause", "paused" },
					       { "resume", "resumed" },
					       { "hibernate", "hibernated" } };
	if (!need(a, 1, 1, "ID"))
		return CTL_EXIT_USAGE;
	size_t i = 0;
	while (i + 1 < ARRAY_SIZE(done) && strcmp(done[i][0], a->name) != 0)
		i++;
	char method[32];
	snprintf(method, sizeof(method), "session.%s", a->name);
	_cleanup_json_ json_object *r = NULL;
	int code = side_session_call(ctl, a, method, session_params(a->pos[0]),
				     &r);
	if (code == CTL_EXIT_OK && a->json)
		ctl_print_json(r);
	else if (code == CTL_EXIT_OK)
		printf("%s %s\n", a->pos[0], done[i][1]);
	return code;
}

/* PORT as given: a number in range, or -1 with a message. */
static long long port_arg(const char *v)
{
	long long port = whole("PORT", v, 65535);
	if (port == 0) {
		fprintf(stderr, "[ERR] PORT expects a TCP port from 1 to "
				"65535, got \"0\"\n");
		return -1;
	}
	return port;
}

/* session.expose or session.unexpose, by the subcommand's name. */
static int do_expose(struct ctl *ctl, const struct session_args *a)
{
	if (!need(a, 2, 2, "ID PORT"))
		return CTL_EXIT_USAGE;
	long long port = port_arg(a->pos[1]);
	if (port < 0)
		return CTL_EXIT_USAGE;
	bool expose = strcmp(a->name, "expose") == 0;
	_cleanup_json_ json_object *r = NULL;
	json_object *p = session_params(a->pos[0]);
	json_object_object_add(p, "port", json_object_new_int64(port));
	int code = side_session_call(
		ctl, a, expose ? "session.expose" : "session.unexpose", p, &r);
	if (code == CTL_EXIT_OK && a->json)
		ctl_print_json(r);
	else if (code == CTL_EXIT_OK && expose)
		printf("%s\n", json_field_str(r, "url", str(r, "path")));
	else if (code == CTL_EXIT_OK)
		printf("%s port %lld unexposed: %s connections, %s bytes in, "
		       "%s bytes out\n",
		       a->pos[0], port, str(r, "connections"),
		       str(r, "bytesIn"), str(r, "bytesOut"));
	return code;
}

static int do_exposed(struct ctl *ctl, const struct session_args *a)
{
	if (!need(a, 1, 1, "ID"))
		return CTL_EXIT_USAGE;
	_cleanup_json_ json_object *r = NULL;
	int code = side_session_call(ctl, a, "session.exposed",
				     session_params(a->pos[0]), &r);
	if (code != CTL_EXIT_OK)
		return code;
	json_object *list = json_field(r, "exposed");
	if (a->json) {
		ctl_print_json(list);
		return CTL_EXIT_OK;
	}
	printf("%-5s %-46s %5s %4s %12s %12s\n", "PORT", "PATH", "CONNS",
	       "OPEN", "BYTES-IN", "BYTES-OUT");
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *x = json_object_array_get_idx(list, i);
		printf("%-5s %-46s %5s %4s %12s %12s\n", str(x, "port"),
		       str(x, "path"), str(x, "connections"),
		       str(x, "openConnections"), str(x, "bytesIn"),
		       str(x, "bytesOut"));
	}
	return CTL_EXIT_OK;
}

static int do_rm(struct ctl *ctl, const struct session_args *a)
{
	if (!need(a, 1, 1 << 20, "ID..."))
		return CTL_EXIT_USAGE;
	int code = CTL_EXIT_OK;
	for (int i = 0; i < a->npos; i++) {
		_cleanup_json_ json_object *r = NULL;
		int c = side_session_call(ctl, a, "session.delete",
					  session_params(a->pos[i]), &r);
		if (c != CTL_EXIT_OK)
			code = c;
	}
	return code;
}

/* isol8's `session stop ID`, with its text. */
static int do_stop(struct ctl *ctl, const struct session_args *a)
{
	if (!need(a, 1, 1, "ID"))
		return CTL_EXIT_USAGE;
	int code = do_rm(ctl, a);
	if (code == CTL_EXIT_OK)
		printf("[OK] Session \"%s\" destroyed.\n", a->pos[0]);
	return code;
}

int cmd_session(struct ctl *ctl, int argc, char **argv)
{
	if (argc < 2) {
		fputs(session_help, stderr);
		return CTL_EXIT_USAGE;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		fputs(session_help, stdout);
		return CTL_EXIT_OK;
	}
	if (strcmp(sub, "exec") == 0) {
		if (argc < 3 || argv[2][0] == '-') {
			fprintf(stderr, "[ERR] session exec: expected ID first "
					"(see isol8ctl session --help)\n");
			return CTL_EXIT_USAGE;
		}
		/* run ARGS --session-id ID */
		_cleanup_free_ char **args =
			calloc((size_t)argc + 2, sizeof(*args));
		if (!args)
			return CTL_EXIT_FAILURE;
		int n = 0;
		args[n++] = (char *)"run";
		for (int i = 3; i < argc; i++)
			args[n++] = argv[i];
		args[n++] = (char *)"--session-id";
		args[n++] = argv[2];
		return cmd_run(ctl, n, args);
	}
	static const struct {
		const char *name;
		int (*run)(struct ctl *ctl, const struct session_args *a);
	} subs[] = {
		{ "create", do_create },
		{ "list", do_list },
		{ "put", do_put },
		{ "get", do_get },
		{ "set-timeout", do_set_timeout },
		{ "pause", do_pause },
		{ "resume", do_pause },
		{ "hibernate", do_pause },
		{ "expose", do_expose },
		{ "unexpose", do_expose },
		{ "exposed", do_exposed },
		{ "rm", do_rm },
		{ "stop", do_stop },
	};
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
		if (strcmp(sub, subs[i].name) != 0)
			continue;
		struct session_args a = { .name = sub };
		int code = parse_args(ctl, argc - 1, argv + 1, &a);
		if (code >= 0)
			return code;
		return side_session(ctl, &a, subs[i].run);
	}
	fprintf(stderr,
		"[ERR] unknown session command '%s' (see isol8ctl "
		"session --help)\n",
		sub);
	return CTL_EXIT_USAGE;
}
