/* serve: isol8's HTTP server API in front of isol8d, as an unprivileged
 * process of its own, so the API's HTTP is never served by the root
 * daemon (which parses HTTP only as the egress proxy of boxes' traffic). */
#include "cleanup.h"
#include "ctl.h"
#include "http_bridge.h"
#include "http_limits.h"
#include "http_ready.h"
#include "isol8_config.h"
#include "serve_prune.h"
#include "size.h"
#include "version.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#define DEFAULT_PORT 3000
#define DEFAULT_LISTEN "0.0.0.0"
#define DEFAULT_MAX_BODY "16m"
#define DEFAULT_IDLE_TIMEOUT "60"
#define DEFAULT_MAX_CONNECTIONS "512"
#define DEFAULT_MAX_PER_IP "64"
#define DEFAULT_MAX_UNAUTHENTICATED "256"
#define DEFAULT_HEAD_TIMEOUT "10"
#define DEFAULT_DRAIN_TIMEOUT "30"

static const char serve_help[] =
	"Usage: isol8ctl serve [--port N] [--listen ADDR] [--key KEY]\n"
	"                      [--auth-db PATH] [--node-name NAME]\n"
	"                      [--max-body SIZE] ...\n"
	"\n"
	"Serves isol8's HTTP API (/health, /execute, /execute/stream,\n"
	"/execute/ws (WebSocket), /file,\n"
	"/sessions, /session/ID, /session/ID/timeout, /session/ID/pause,\n"
	"/session/ID/resume, /session/ID/expose, /session/ID/expose/PORT,\n"
	"/cleanup, /metrics, /auth/keys, /auth/keys/ID, /auth/login, /ready,\n"
	"/admin/drain) and carries every request to isol8d over its socket.\n"
	"Every route but /health, /ready and /x/ needs\n"
	"'Authorization: Bearer KEY': the master key, or a tenant's key from\n"
	"the --auth-db database, which sees only its tenant's sessions.\n"
	"/x/TOKEN/... reaches a session's exposed port (isol8ctl session\n"
	"expose): the token is its credential, and never logged.\n"
	"\n"
	"  -p, --port N      TCP port (default $ISOL8_PORT, then $PORT, then "
	"3000;\n"
	"                    0 picks a free one, printed in the banner).  "
	"When it\n"
	"                    is taken, at a terminal you choose another; "
	"otherwise\n"
	"                    a free one is used, with a warning\n"
	"  -l, --listen ADDR IPv4 or IPv6 address to listen on "
	"(default " DEFAULT_LISTEN ")\n"
	"  -k, --key KEY     the master key (default $ISOL8_API_KEY; "
	"required)\n"
	"      --auth-db PATH|URL  tenants' API keys, made by POST /auth/keys\n"
	"                    and /auth/login with the master key: a SQLite\n"
	"                    file, or postgres://USER:PASSWORD@HOST/DB (also\n"
	"                    postgresql://) shared by every bridge of a "
	"cluster\n"
	"      --drain-timeout SEC  on SIGTERM, how long to keep serving the\n"
	"                    requests in flight while refusing new work\n"
	"                    (default " DEFAULT_DRAIN_TIMEOUT ")\n"
	"      --node-name NAME  sent as the X-Isol8-Node header of every\n"
	"                    response, to tell which node behind a load\n"
	"                    balancer answered (letters, digits, '.', '_',\n"
	"                    '-'; at most 63)\n"
	"      --debug       a line per request on stderr: method, path,\n"
	"                    status and time (never a key)\n"
	"      --update      accepted for isol8's command lines; nothing to\n"
	"                    download, the server is part of isol8ctl\n"
	"      --max-body SIZE  largest request body (default " DEFAULT_MAX_BODY
	")\n"
	"      --idle-timeout SEC  drop a client that sends nothing for SEC\n"
	"                    seconds, mid-request or between requests "
	"(default " DEFAULT_IDLE_TIMEOUT ")\n"
	"      --head-timeout SEC  a connection that has not sent an\n"
	"                    authenticated request head within SEC seconds is\n"
	"                    dropped (default " DEFAULT_HEAD_TIMEOUT ")\n"
	"      --max-connections N  connections at once "
	"(default " DEFAULT_MAX_CONNECTIONS ")\n"
	"      --max-per-ip N  connections from one address "
	"(default " DEFAULT_MAX_PER_IP ")\n"
	"      --max-unauthenticated N  connections yet to authenticate\n"
	"                    (default " DEFAULT_MAX_UNAUTHENTICATED ")\n"
	"\n"
	"isol8's config file (./isol8.config.json, else ~/.isol8/config.json)\n"
	"is applied as isol8's server applies it: defaults.timeoutMs,\n"
	"memoryLimit, cpuLimit, network, sandboxSize and tmpSize for\n"
	"executions that leave them out (the daemon's limits still apply),\n"
	"auth.defaultTtlMs for keys made without ttlMs, auth.enabled and\n"
	"connectionString (a key database without --auth-db; default\n"
	"~/.isol8/auth.db), auth.cleanupIntervalMs (expired and revoked keys\n"
	"deleted), and cleanup.autoPrune:\n"
	"every 60 seconds, sessions idle for longer than\n"
	"cleanup.maxContainerAgeMs are deleted (SIGUSR1: a pass at once).\n"
	"\n"
	"GET /ready answers 200 while the daemon is reachable and has room "
	"for\n"
	"another execution, else 503 with \"unreachable\", \"full\" or\n"
	"\"draining\": after POST /admin/drain (master key) or SIGUSR2, and\n"
	"after SIGTERM until the bridge stops.  A draining bridge refuses new\n"
	"work and still serves the sessions it has.  GET\n"
	"/ready?unavailableStatus=404 answers 404 instead of 503, for\n"
	"HAProxy's http-check disable-on-404: such a server gets no new\n"
	"sessions, and its sessions still reach it.  An execution marked\n"
	"X-Isol8-Unrouted (the balancer could not read its sessionId) is\n"
	"served without a session or in one the daemon has, else 421.\n"
	"\n"
	"Started by systemd with a listening socket (LISTEN_FDS), serves that\n"
	"socket instead.  Stops on SIGTERM (after draining) or SIGINT.  See\n"
	"isol8ctl(1).\n";

struct serve_args {
	const char *port_text, *listen, *key, *max_body, *auth_db, *node_name;
	bool debug;
	/* texts of the numeric options, in the order of limits[] */
	const char *num_text[6];
	unsigned idle_sec, head_sec, max_conns, max_per_ip, max_unauth,
		drain_sec;
};

/* The numeric options: flag, default, range, where the value goes. */
static const struct limit_opt {
	const char *flag, *def;
	unsigned long min, max;
	size_t offset;
} limits[] = {
	{ "idle-timeout", DEFAULT_IDLE_TIMEOUT, 1, 86400,
	  offsetof(struct serve_args, idle_sec) },
	{ "head-timeout", DEFAULT_HEAD_TIMEOUT, 1, 3600,
	  offsetof(struct serve_args, head_sec) },
	{ "max-connections", DEFAULT_MAX_CONNECTIONS, 1, 65536,
	  offsetof(struct serve_args, max_conns) },
	{ "max-per-ip", DEFAULT_MAX_PER_IP, 1, 65536,
	  offsetof(struct serve_args, max_per_ip) },
	{ "max-unauthenticated", DEFAULT_MAX_UNAUTHENTICATED, 1, 65536,
	  offsetof(struct serve_args, max_unauth) },
	{ "drain-timeout", DEFAULT_DRAIN_TIMEOUT, 0, 3600,
	  offsetof(struct serve_args, drain_sec) },
};

/* The port from the first of the flag, $ISOL8_PORT, $PORT; -1 after an
 * error message. */
static int resolve_port(const struct serve_args *a)
{
	static const char *const envs[] = { "ISOL8_PORT", "PORT" };
	const char *text = a->port_text, *source = "--port";
	for (size_t i = 0; !text && i < ARRAY_SIZE(envs); i++) {
		const char *v = getenv(envs[i]);
		if (v && *v) {
			text = v;
			source = envs[i];
		}
	}
	if (!text || !*text)
		return DEFAULT_PORT;
	char *end;
	errno = 0;
	long port = strtol(text, &end, 10);
	if (errno || *end || end == text || port < 0 || port > 65535) {
		fprintf(stderr,
			"[ERR] Invalid port from %s: %s. Expected 0-65535 "
			"(0: any free port).\n",
			source, text);
		return -1;
	}
	return (int)port;
}

static int parse_args(int argc, char **argv, struct serve_args *a)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "listen", required_argument, NULL, 'l' },
		{ "key", required_argument, NULL, 'k' },
		{ "max-body", required_argument, NULL, 'b' },
		{ "idle-timeout", required_argument, NULL, 0x100 },
		{ "head-timeout", required_argument, NULL, 0x101 },
		{ "max-connections", required_argument, NULL, 0x102 },
		{ "max-per-ip", required_argument, NULL, 0x103 },
		{ "max-unauthenticated", required_argument, NULL, 0x104 },
		{ "drain-timeout", required_argument, NULL, 0x105 },
		{ "auth-db", required_argument, NULL, 'a' },
		{ "node-name", required_argument, NULL, 0x106 },
		{ "debug", no_argument, NULL, 0x110 },
		{ "update", no_argument, NULL, 0x111 },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "p:l:k:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			a->port_text = optarg;
			break;
		case 'l':
			a->listen = optarg;
			break;
		case 'k':
			a->key = optarg;
			break;
		case 'b':
			a->max_body = optarg;
			break;
		case 'a':
			a->auth_db = optarg;
			break;
		case 0x100:
		case 0x101:
		case 0x102:
		case 0x103:
		case 0x104:
		case 0x105:
			a->num_text[c - 0x100] = optarg;
			break;
		case 0x106:
			a->node_name = optarg;
			break;
		case 0x110:
			a->debug = true;
			break;
		case 0x111:
			/* isol8 downloads its server binary again; this
			 * one is built in. */
			break;
		case 'h':
			fputs(serve_help, stdout);
			return CTL_EXIT_OK;
		default:
			fputs(serve_help, stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "isol8ctl serve: unexpected argument '%s'\n",
			argv[optind]);
		return CTL_EXIT_USAGE;
	}
	return -1;
}

/* Each numeric option into its field; -EINVAL after an error message. */
static int parse_limits(struct serve_args *a)
{
	for (size_t i = 0; i < ARRAY_SIZE(limits); i++) {
		const struct limit_opt *l = &limits[i];
		const char *text = a->num_text[i] ? a->num_text[i] : l->def;
		char *end;
		errno = 0;
		unsigned long v = strtoul(text, &end, 10);
		if (errno || *end || end == text || *text == '-' ||
		    v < l->min || v > l->max) {
			fprintf(stderr,
				"[ERR] Invalid --%s: %s. Expected a whole "
				"number from %lu to %lu.\n",
				l->flag, text, l->min, l->max);
			return -EINVAL;
		}
		*(unsigned *)(void *)((char *)a + l->offset) = (unsigned)v;
	}
	return 0;
}

/* --node-name goes into a header: a short token, nothing a header could
 * be split or spoofed with.  False after an error message. */
static bool valid_node_name(const char *name)
{
	size_t len = strlen(name);
	bool ok = len >= 1 && len <= 63 &&
		  strspn(name,
			 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwx"
			 "yz0123456789._-") == len;
	if (!ok)
		fprintf(stderr,
			"[ERR] Invalid --node-name: '%s'. Expected 1 to 63 "
			"letters, digits, '.', '_' or '-'.\n",
			name);
	return ok;
}

/* The address to bind; false after an error message. */
static bool listen_address(const char *text, int port,
			   struct sockaddr_storage *ss)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		return true;
	}
	if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		return true;
	}
	fprintf(stderr,
		"[ERR] Invalid listen address: %s. Expected an IPv4 or IPv6 "
		"address such as 127.0.0.1 or ::.\n",
		text);
	return false;
}

/* "http://localhost:PORT" of a bound socket, as isol8's banner says, when
 * it listens on every address or on loopback; else "http://ADDR:PORT".
 * The port in *port_out. */
static void describe(int fd, char *out, size_t size, int *port_out)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = sizeof(ss);
	char host[NI_MAXHOST] = "?", port[NI_MAXSERV] = "?";
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host),
			    port, sizeof(port),
			    NI_NUMERICHOST | NI_NUMERICSERV);
	*port_out = atoi(port);
	bool local = strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ||
		     strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0;
	bool v6 = !local && strchr(host, ':') != NULL;
	snprintf(out, size, "http://%s%s%s:%s", v6 ? "[" : "",
		 local ? "localhost" : host, v6 ? "]" : "", port);
}

/* A line from standard input without its newline; false at its end. */
static bool read_answer(char *buf, size_t size)
{
	fflush(stdout);
	if (!fgets(buf, (int)size, stdin))
		return false;
	buf[strcspn(buf, "\r\n")] = '\0';
	return true;
}

/* A busy port, as isol8 serve handles it: at a terminal the user enters
 * another port, asks for a free one (0) or gives up (-1); otherwise a
 * free one. */
static int other_port(int busy)
{
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return 0;
	char answer[64];
	fprintf(stderr, "[WARN] Port %d is already in use.\n", busy);
	for (;;) {
		printf("Choose: [1] Enter another port  [2] Find an available "
		       "port  [3] Exit (default: 2): ");
		if (!read_answer(answer, sizeof(answer)))
			break;
		if (!answer[0] || strcmp(answer, "2") == 0)
			return 0;
		if (strcmp(answer, "3") == 0)
			break;
		if (strcmp(answer, "1") != 0) {
			fputs("[ERR] Invalid selection. Enter 1, 2, or 3.\n",
			      stderr);
			continue;
		}
		printf("Enter port (1-65535): ");
		if (!read_answer(answer, sizeof(answer)))
			break;
		char *end;
		long v = strtol(answer, &end, 10);
		if (!answer[0])
			continue;
		if (*end || v < 1 || v > 65535) {
			fprintf(stderr,
				"[ERR] Invalid port: %s. Expected 1-65535.\n",
				answer);
			continue;
		}
		return (int)v;
	}
	fputs("[ERR] Server startup cancelled.\n", stderr);
	return -1;
}

/* A socket systemd passed, or -1 to bind one ourselves. */
static int activated_socket(void)
{
	int n = sd_listen_fds(1);
	if (n > 1)
		fprintf(stderr,
			"[WARN] %d sockets passed; serving the first.\n", n);
	return n >= 1 ? SD_LISTEN_FDS_START : -1;
}

/* The daemon serving on port; NULL after an error message, or with *busy
 * set and nothing printed when the port is taken. */
static struct MHD_Daemon *start(const struct serve_args *a, int port,
				struct bridge *b, bool *busy)
{
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_ALLOW_UPGRADE |
			 MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
			 MHD_USE_ERROR_LOG;
	const char *where = a->listen ? a->listen : DEFAULT_LISTEN;
	struct sockaddr_storage ss;
	*busy = false;
	/* The socket systemd passed, else an address to bind. */
	int fd = activated_socket();
	struct MHD_OptionItem listen[] = {
		{ MHD_OPTION_LISTEN_SOCKET, fd, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};
	if (fd < 0) {
		if (!listen_address(where, port, &ss))
			return NULL;
		if (ss.ss_family == AF_INET6)
			flags |= MHD_USE_IPv6;
		listen[0] =
			(struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, &ss };
	}
	/* Connections start on the head timeout; an authenticated request
	 * moves its connection to the idle timeout (http_limits.c). */
	struct MHD_Daemon *d = MHD_start_daemon(
		flags, (uint16_t)port, http_limits_accept, b,
		http_bridge_handle, b, MHD_OPTION_ARRAY, listen,
		MHD_OPTION_CONNECTION_LIMIT, a->max_conns,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, a->max_per_ip,
		MHD_OPTION_CONNECTION_TIMEOUT, a->head_sec,
		MHD_OPTION_NOTIFY_CONNECTION, http_limits_notify, b,
		MHD_OPTION_NOTIFY_COMPLETED, http_bridge_completed, b,
		MHD_OPTION_URI_LOG_CALLBACK, http_bridge_uri, b,
		MHD_OPTION_END);
	*busy = !d && fd < 0 && errno == EADDRINUSE;
	if (!d && fd < 0 && !*busy)
		fprintf(stderr, "[ERR] Cannot listen on %s port %d: %s\n",
			where, port, strerror(errno));
	return d;
}

/* A key database named by the configuration gets its directory made, as
 * isol8 makes ~/.isol8 for its default; a flag's must exist. */
static struct auth_db *open_auth_db(const char *path, bool make_dir, char *why,
				    size_t why_len)
{
	if (make_dir && !strstr(path, "://")) {
		_cleanup_free_ char *dir = strdup(path);
		char *slash = dir ? strrchr(dir, '/') : NULL;
		if (slash && slash != dir) {
			*slash = '\0';
			if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
				snprintf(why, why_len, "cannot make %s: %s",
					 dir, strerror(errno));
				return NULL;
			}
		}
	}
	return auth_db_open(path, why, why_len);
}

/* The next of the stop signals; meanwhile, every purge_ms, the key
 * database's expired and revoked keys go (auth.cleanupIntervalMs). */
static int wait_signal(const sigset_t *set, struct auth_db *auth,
		       uint64_t purge_ms)
{
	for (;;) {
		if (!auth || purge_ms == 0) {
			int sig;
			return sigwait(set, &sig) == 0 ? sig : -1;
		}
		struct timespec t = { .tv_sec = (time_t)(purge_ms / 1000),
				      .tv_nsec = (long)(purge_ms % 1000) *
						 1000000 };
		int sig = sigtimedwait(set, NULL, &t);
		if (sig >= 0)
			return sig;
		if (errno != EAGAIN && errno != EINTR)
			return -1;
		if (errno == EAGAIN) {
			int n = auth_db_purge(auth);
			if (n < 0)
				fprintf(stderr,
					"[WARN] Cannot purge expired keys: "
					"%s\n",
					strerror(-n));
		}
	}
}

/* After SIGTERM: the requests in flight get up to sec seconds to end while
 * new work is refused; another SIGTERM or SIGINT ends the wait. */
static void drain(const sigset_t *set, unsigned sec)
{
	http_ready_drain();
	unsigned n = http_ready_in_flight();
	if (n)
		fprintf(stderr,
			"[INFO] Draining: waiting up to %u s for %u "
			"request(s) in flight\n",
			sec, n);
	const struct timespec tick = { .tv_nsec = 100000000 };
	for (unsigned i = 0; i < sec * 10 && http_ready_in_flight(); i++) {
		int sig = sigtimedwait(set, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
	}
}

int cmd_serve(struct ctl *ctl, int argc, char **argv)
{
	struct serve_args a = { 0 };
	int r = parse_args(argc, argv, &a);
	if (r >= 0)
		return r;
	if (!a.key)
		a.key = getenv("ISOL8_API_KEY");
	if (!a.key || !*a.key) {
		fputs("[ERR] API key required. Use --key or ISOL8_API_KEY env "
		      "var.\n",
		      stderr);
		return CTL_EXIT_FAILURE;
	}
	uint64_t max_body;
	if (size_parse(a.max_body ? a.max_body : DEFAULT_MAX_BODY, &max_body) <
		    0 ||
	    max_body == 0) {
		fprintf(stderr,
			"[ERR] Invalid --max-body: %s. Expected a size such as "
			"16m.\n",
			a.max_body);
		return CTL_EXIT_USAGE;
	}
	if (parse_limits(&a) < 0)
		return CTL_EXIT_USAGE;
	if (a.node_name && !valid_node_name(a.node_name))
		return CTL_EXIT_USAGE;
	int port = resolve_port(&a);
	if (port < 0)
		return CTL_EXIT_USAGE;
	struct isol8_serve_config cfg;
	if (isol8_config_serve(&cfg, AUTH_TTL_MAX_MS) < 0)
		return CTL_EXIT_FAILURE;
	struct bridge b = {
		.socket_path = rpc_client_socket_path(ctl->socket_flag),
		.key = a.key,
		.max_body = max_body,
		.idle_sec = a.idle_sec,
		.max_unauthenticated = a.max_unauth,
		.request_defaults = cfg.request_defaults,
		.default_ttl_ms = cfg.default_ttl_ms ?: AUTH_DEFAULT_TTL_MS,
		.debug = a.debug,
		.node_name = a.node_name,
	};
	/* As isol8: the flag, else the configuration's auth.enabled. */
	const char *auth_db = a.auth_db ?: cfg.auth_db;
	char auth_shown[512] = ""; /* no password in messages */
	if (auth_db) {
		char why[256];
		auth_db_mask(auth_db, auth_shown, sizeof(auth_shown));
		b.auth = open_auth_db(auth_db, !a.auth_db, why, sizeof(why));
		if (!b.auth) {
			fprintf(stderr, "[ERR] Cannot open %s %s: %s\n",
				a.auth_db ? "--auth-db"
					  : "auth.connectionString",
				auth_shown, why);
			isol8_serve_config_free(&cfg);
			return CTL_EXIT_FAILURE;
		}
	}
	/* Threads MHD starts inherit the mask, leaving the signals to
	 * sigwait; a daemon that went away must not kill us through a
	 * write. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGUSR1);
	sigaddset(&stop, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	bool busy;
	int busy_port = -1;
	struct MHD_Daemon *d;
	while (!(d = start(&a, port, &b, &busy)) && busy) {
		busy_port = port;
		if ((port = other_port(busy_port)) < 0)
			break;
	}
	struct serve_prune *prune = NULL;
	if (d && cfg.auto_prune &&
	    !(prune = serve_prune_start(b.socket_path, b.auth != NULL,
					cfg.max_age_ms))) {
		MHD_stop_daemon(d);
		d = NULL;
	}
	if (!d) {
		auth_db_close(b.auth);
		isol8_serve_config_free(&cfg);
		return CTL_EXIT_FAILURE;
	}
	const union MHD_DaemonInfo *li =
		MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
	char where[80];
	int bound;
	describe(li ? li->listen_fd : -1, where, sizeof(where), &bound);
	if (busy_port >= 0 && port == 0 && isatty(STDIN_FILENO) &&
	    isatty(STDOUT_FILENO))
		printf("[INFO] Using available port %d\n", bound);
	else if (busy_port >= 0 && port == 0)
		fprintf(stderr,
			"[WARN] Port %d is in use. Falling back to available "
			"port %d.\n",
			busy_port, bound);
	printf("[INFO] isol8 server v%s listening on %s\n"
	       "       Auth: Bearer token required\n",
	       ISOL8_VERSION, where);
	if (auth_db)
		printf("       Auth DB: %s\n", auth_shown);
	fflush(stdout);
	sd_notify(0, "READY=1");
	int sig;
	while ((sig = wait_signal(&stop, b.auth, cfg.key_purge_ms)) ==
		       SIGUSR1 ||
	       sig == SIGUSR2) {
		if (sig == SIGUSR1)
			serve_prune_now(prune);
		else
			http_ready_drain();
	}
	sd_notify(0, "STOPPING=1");
	if (sig == SIGTERM)
		drain(&stop, a.drain_sec);
	MHD_stop_daemon(d);
	serve_prune_stop(prune);
	auth_db_close(b.auth);
	isol8_serve_config_free(&cfg);
	return CTL_EXIT_OK;
}
