/* setup: builds the base images the daemon's store lacks, with the image
 * builder (isol8-image-build, libexec.h) run here, as root, on the store the
 * daemon's configuration names. */
#include "cleanup.h"
#include "ctl.h"
#include "image_builder.h"
#include "version.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define MAX_RUNTIMES 5

static const char setup_help[] =
	"Usage: isol8ctl setup [--runtime R]... [--force] [--socket PATH]\n"
	"\n"
	"Builds the base images of isol8d's image store (images.dir) that it\n"
	"does not have yet: one per runtime (python, node, bun, deno, bash;\n"
	"all of them unless --runtime names some), each a Debian tree made by\n"
	"mmdebstrap (minbase) from this host's package sources, with the\n"
	"runtime's packages (python3 and python3-pip; nodejs and npm) or\n"
	"binaries (bun and deno from sandbox.runtimesDir).  Each is tagged\n"
	"RUNTIME:CODENAME (python:bookworm) and named by its digest; one line\n"
	"per image says which, and how long it took.  Needs root.\n"
	"  -r, --runtime R  build this runtime's image (repeatable, or R1,R2)\n"
	"  -f, --force      build again even when the store has the image\n"
	"  --socket PATH    the daemon's socket (default $ISOL8_SOCKET, then\n"
	"                   " ISOL8_DEFAULT_SOCKET ")\n";

int cmd_setup(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "runtime", required_argument, NULL, 'r' },
		{ "force", no_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	/* "isol8-image-build base --dir D --runtimes-dir R [--force]" and two
	 * words per runtime */
	char *args[8 + 2 * MAX_RUNTIMES + 1] = { IMAGE_BUILDER, "base" };
	int n = 2, nrt = 0, c;
	bool force = false;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+r:fhs:", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			for (char *save = NULL,
				  *r = strtok_r(optarg, ",", &save);
			     r; r = strtok_r(NULL, ",", &save)) {
				if (nrt == MAX_RUNTIMES) {
					fprintf(stderr,
						"isol8ctl: setup: at most %d "
						"runtimes\n",
						MAX_RUNTIMES);
					return CTL_EXIT_USAGE;
				}
				args[8 + 2 * nrt] = "--runtime";
				args[9 + 2 * nrt++] = r;
			}
			break;
		case 'f':
			force = true;
			break;
		case 's':
			ctl->socket_flag = optarg;
			break;
		case 'h':
			fputs(setup_help, stdout);
			return CTL_EXIT_OK;
		default:
			fputs(setup_help, stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "isol8ctl: unexpected argument '%s'\n",
			argv[optind]);
		return CTL_EXIT_USAGE;
	}
	_cleanup_json_ json_object *r = NULL;
	const char *dir, *rt_dir;
	int code = image_builder_config(ctl, "setup", &r, &dir, &rt_dir);
	if (code != CTL_EXIT_OK)
		return code;
	args[n++] = "--dir";
	args[n++] = (char *)dir;
	args[n++] = "--runtimes-dir";
	args[n++] = (char *)rt_dir;
	if (force)
		args[n++] = "--force";
	/* The runtimes after the fixed arguments. */
	for (int i = 0; i < 2 * nrt; i++)
		args[n++] = args[8 + i];
	args[n] = NULL;
	return image_builder_exec("setup", args);
}
