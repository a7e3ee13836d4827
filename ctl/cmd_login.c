/* login, as isol8's: a master key exchanged for a token that later
 * --host commands find in ~/.isol8/credentials.json (logout:
 * cmd_logout.c). */
#include "cleanup.h"
#include "credentials.h"
#include "ctl.h"
#include "json_field.h"
#include "remote.h"
#include "timestamp.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char login_help[] =
	"Usage: isol8ctl login --host URL --key MASTER_KEY [--name NAME] "
	"[--ttl MS]\n"
	"\n"
	"Exchanges the server's master key for a token (POST /auth/login; "
	"the\n"
	"server needs --auth-db) and stores it with its host "
	"in\n" CREDENTIALS_SHOWN " (mode 0600).  Later --host commands\n"
	"given neither --key nor $ISOL8_API_KEY use it for that host.\n"
	"\n"
	"  --host URL      the server, e.g. http://127.0.0.1:3000\n"
	"  --key KEY       its master key\n"
	"  --name NAME     the token's name (default cli-login-<time>)\n"
	"  --ttl MS        the token's lifetime in milliseconds (default: "
	"the\n"
	"                  server's auth.defaultTtlMs, 24 hours)\n"
	"\n"
	"Exit status 0, or 1 when the server refused or the token could not "
	"be\n"
	"stored.  See isol8ctl(1).\n";

struct login_args {
	const char *host, *key, *name, *ttl;
};

static int parse_args(int argc, char **argv, struct login_args *a)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "key", required_argument, NULL, 'k' },
		{ "name", required_argument, NULL, 'n' },
		{ "ttl", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			a->host = optarg;
			break;
		case 'k':
			a->key = optarg;
			break;
		case 'n':
			a->name = optarg;
			break;
		case 't':
			a->ttl = optarg;
			break;
		case 'h':
			fputs(login_help, stdout);
			return CTL_EXIT_OK;
		default:
			fputs(login_help, stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "isol8ctl login: unexpected argument '%s'\n",
			argv[optind]);
		return CTL_EXIT_USAGE;
	}
	const char *missing = !a->host	? "--host URL"
			      : !a->key ? "--key KEY"
					: NULL;
	if (missing) {
		fprintf(stderr,
			"isol8ctl login: required option '%s' not "
			"specified\n",
			missing);
		return CTL_EXIT_USAGE;
	}
	return -1;
}

/* The request body: isol8's default name, the TTL only when given. */
static json_object *login_body(const struct login_args *a)
{
	json_object *body = json_object_new_object();
	char now[TIMESTAMP_LEN], name[64];
	if (!a->name) {
		timestamp_iso(timestamp_now_ms(), now);
		snprintf(name, sizeof(name), "cli-login-%s", now);
	}
	json_object_object_add(
		body, "name", json_object_new_string(a->name ? a->name : name));
	if (a->ttl) {
		char *end;
		errno = 0;
		long long ms = strtoll(a->ttl, &end, 10);
		if (errno || end == a->ttl || *end || ms <= 0) {
			fprintf(stderr,
				"isol8ctl login: --ttl expects a whole "
				"number of milliseconds above 0, not "
				"'%s'\n",
				a->ttl);
			json_object_put(body);
			return NULL;
		}
		json_object_object_add(body, "ttlMs",
				       json_object_new_int64(ms));
	}
	return body;
}

/* The expiry in local time, as isol8 shows it (toLocaleString). */
static void print_expiry(const char *iso)
{
	int64_t ms;
	char shown[64];
	struct tm local;
	time_t t = timestamp_parse(iso, &ms) ? (time_t)(ms / 1000) : 0;
	if (!t || !localtime_r(&t, &local) ||
	    !strftime(shown, sizeof(shown), "%-m/%-d/%Y, %-I:%M:%S %p", &local))
		snprintf(shown, sizeof(shown), "%.40s", iso);
	printf("  Expires: %s\n", shown);
}

/* The token's fields, each a string; false after a message. */
static bool answer_fields(json_object *res, struct credentials *c)
{
	c->token = json_field_str(res, "token", NULL);
	c->expires_at = json_field_str(res, "expiresAt", NULL);
	c->key_id = json_field_str(res, "keyId", NULL);
	if (c->token && c->expires_at && c->key_id && *c->token)
		return true;
	fputs("✖ Login failed: the server's answer lacks token, expiresAt "
	      "or keyId\n",
	      stderr);
	return false;
}

int cmd_login(struct ctl *ctl, int argc, char **argv)
{
	(void)ctl;
	struct login_args a = { 0 };
	int code = parse_args(argc, argv, &a);
	if (code >= 0)
		return code;
	if (!*a.key) {
		fputs("isol8ctl login: --key must not be empty\n", stderr);
		return CTL_EXIT_USAGE;
	}
	_cleanup_json_ json_object *body = login_body(&a);
	if (!body)
		return CTL_EXIT_USAGE;
	/* isol8 strips one trailing '/' and stores the host so. */
	size_t n = strlen(a.host);
	_cleanup_free_ char *host =
		strndup(a.host, n - (n && a.host[n - 1] == '/'));
	if (!host)
		return CTL_EXIT_FAILURE;
	struct remote r;
	code = remote_open(&r, host, a.key, "✖ Login failed: ");
	if (code != CTL_EXIT_OK)
		return code;
	_cleanup_json_ json_object *res = NULL;
	long status;
	char why[512];
	code = remote_login(&r, body, &res, &status, why, sizeof(why));
	remote_close(&r);
	if (code != CTL_EXIT_OK) {
		fprintf(stderr, "✖ %s failed: %s\n",
			status ? "Authentication" : "Login", why);
		if (status == 400)
			fputs("[WARN] DB-backed auth may not be enabled on the "
			      "server.\n"
			      "[WARN] Start the server with --auth-db <path> "
			      "to enable it.\n",
			      stderr);
		return CTL_EXIT_FAILURE;
	}
	struct credentials c = { .host = host };
	if (!answer_fields(res, &c))
		return CTL_EXIT_FAILURE;
	if (credentials_save(&c, why, sizeof(why)) < 0) {
		fprintf(stderr, "✖ Login failed: %s\n", why);
		return CTL_EXIT_FAILURE;
	}
	fputs("✔ Authenticated successfully\n", stderr);
	printf("  Host:    %s\n", host);
	print_expiry(c.expires_at);
	puts("  Stored:  " CREDENTIALS_SHOWN);
	return CTL_EXIT_OK;
}
