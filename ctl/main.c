/* isol8ctl: the command-line client of isol8d. */
#include "cleanup.h"
#include "ctl.h"
#include "side.h"
#include "version.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

/* takes_host: the commands that take --host (ctl/side.h). */
static const struct ctl_command commands[] = {
	{ "run", cmd_run, "run code in a fresh sandbox", true },
	{ "health", cmd_health, "check that isol8d is serving", false },
	{ "version", cmd_version, "print client and daemon versions", false },
	{ "daemon-config", cmd_daemon_config,
	  "print the daemon's effective configuration", false },
	{ "config", cmd_config, "show the resolved isol8 configuration",
	  false },
	{ "pool", cmd_pool, "show the warm pool: ready boxes, hits, misses",
	  false },
	{ "session", cmd_session,
	  "persistent sessions: create, list, exec, put, get, set-timeout, "
	  "rm",
	  true },
	{ "serve", cmd_serve, "serve isol8's HTTP API in front of isol8d",
	  false },
	{ "cleanup", cmd_cleanup,
	  "delete your sessions and the boxes --persist kept", false },
	{ "login", cmd_login,
	  "authenticate with an isol8 server and store credentials", false },
	{ "logout", cmd_logout, "remove stored isol8 credentials", false },
	{ "audit", cmd_audit, "the daemon's audit trail: verify, tail, query",
	  false },
	{ "image", cmd_image, "the image store: ls, inspect, rm, prune, import",
	  false },
	{ "setup", cmd_setup,
	  "build base images, and custom ones with packages", false },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: isol8ctl [--socket PATH] COMMAND [OPTIONS]\n"
		     "\n"
		     "Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out, "  %-10s %s\n", "help", "show the help of a command");
	fprintf(out,
		"\n"
		"Options:\n"
		"  -s, --socket PATH  isol8d's socket (default $ISOL8_SOCKET, "
		"then %s)\n"
		"  -h, --help         show this help; COMMAND --help for a "
		"command's\n"
		"  -V, --version      print isol8ctl's version\n"
		"\n"
		"Exit status: 0 on success, 1 when the daemon refused or a "
		"command failed,\n"
		"2 on a usage error, 69 when the daemon cannot be reached.\n"
		"See isol8ctl(1).\n",
		ISOL8_DEFAULT_SOCKET);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct ctl ctl = { .argv = argv };
	int c;
	while ((c = getopt_long(argc, argv, "+s:hV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			ctl.socket_flag = optarg;
			break;
		case 'h':
			usage(stdout);
			return CTL_EXIT_OK;
		case 'V':
			/* Bare, as isol8's: scripts compare it. */
			printf("%s\n", ISOL8_VERSION);
			return CTL_EXIT_OK;
		default:
			usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	/* As isol8: no command is a request for help. */
	if (optind >= argc) {
		usage(stdout);
		return CTL_EXIT_OK;
	}
	const char *name = argv[optind];
	/* isol8's `help [COMMAND]`: the command's --help. */
	if (strcmp(name, "help") == 0) {
		if (optind + 1 >= argc) {
			usage(stdout);
			return CTL_EXIT_OK;
		}
		name = argv[optind + 1];
		for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
			if (strcmp(commands[i].name, name) == 0) {
				char *args[] = { argv[optind + 1],
						 (char *)"--help", NULL };
				return commands[i].run(&ctl, 2, args);
			}
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(commands[i].name, name) != 0)
			continue;
		int code = side_handover(&ctl, &commands[i], argc - optind,
					 argv + optind);
		return code >= 0 ? code
				 : commands[i].run(&ctl, argc - optind,
						   argv + optind);
	}
	fprintf(stderr,
		"isol8ctl: unknown command '%s' (see isol8ctl --help)\n", name);
	return CTL_EXIT_USAGE;
}
