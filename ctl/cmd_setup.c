/* setup: builds images into the daemon's store with the image builder
 * (isol8-image-build, libexec.h) run here, as root, on the store the
 * daemon's configuration names: the base images it lacks, or custom images
 * whose packages the daemon installs (the builder runs this program's
 * `run` for that). */
#include "cleanup.h"
#include "ctl.h"
#include "image_builder.h"
#include "json_field.h"
#include "setup_isol8_config.h"
#include "version.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_RUNTIMES 5
#define MAX_ENV 16
#define MAX_ARGS (20 + 2 * MAX_RUNTIMES + 2 * MAX_ENV)

static const char setup_help[] =
	"Usage: isol8ctl setup [--runtime R]... [--env K=V]... [--force]\n"
	"                      [--config FILE]\n"
	"       isol8ctl setup [--python PKGS] [--node PKGS] [--bun PKGS]\n"
	"                      [--deno PKGS] [--bash PKGS]\n"
	"                      [--name NAME:TAG] [--setup-script FILE]\n"
	"                      [--env K=V]... [--force]\n"
	"\n"
	"Builds the base images of isol8d's image store (images.dir) that it\n"
	"does not have yet: one per runtime (python, node, bun, deno, bash;\n"
	"all of them unless --runtime names some), each a Debian tree made by\n"
	"mmdebstrap (minbase) from this host's package sources, with the\n"
	"runtime's packages (python3 and python3-pip; nodejs and npm) or\n"
	"binaries (bun and deno from sandbox.runtimesDir).  Each is tagged\n"
	"RUNTIME:CODENAME (python:bookworm) and named by its digest; one line\n"
	"per image says which, and how long it took.  Then it builds the\n"
	"custom images of the daemon's prebuiltImages (of those runtimes,\n"
	"with --runtime), as --python ... --bash with --name and\n"
	"--setup-script would, and then those of isol8's own configuration\n"
	"file (--config FILE, else ./isol8.config.json or\n"
	"~/.isol8/config.json, as isol8 reads it), after a line naming the\n"
	"file.  Needs root.\n"
	"\n"
	"With --python, --node, --bun, --deno or --bash, builds custom\n"
	"images instead, one per runtime named: the runtime's base image\n"
	"(built first when missing) and a layer of the packages, installed\n"
	"by the daemon in a box on the base image whose network reaches only\n"
	"the runtime's registry (network.registry.RUNTIME) or, for bash, the\n"
	"Debian archive the image's apt sources name.  bun and deno code\n"
	"imports the npm packages with no network (deno: \"npm:NAME\" or\n"
	"NAME); bash gets Debian packages and the dependencies the base\n"
	"lacks, which dpkg -s shows installed (unpacked: their maintainer\n"
	"scripts do not run).  The image records the versions\n"
	"installed (dependencies too) and is tagged NAME:TAG, by default\n"
	"custom-RUNTIME:HASH (HASH from the base image, the package list and\n"
	"the setup script); an image with the same recipe under that tag is\n"
	"reused, not built again.\n"
	"  -r, --runtime R      build this runtime's image (repeatable, "
	"R1,R2)\n"
	"  -f, --force          build again even when the store has the image\n"
	"      --python PKGS    a python image with these pip packages "
	"(P1,P2)\n"
	"      --node PKGS      a node image with these npm packages (P1,P2)\n"
	"      --bun PKGS       a bun image with these npm packages (P1,P2)\n"
	"      --deno PKGS      a deno image with these npm packages (P1,P2)\n"
	"      --bash PKGS      a bash image with these Debian packages\n"
	"                       (P1,P2; NAME or NAME=VERSION)\n"
	"      --name NAME:TAG  the custom image's tag (one runtime only)\n"
	"      --setup-script FILE\n"
	"                       bash run before every execution on the custom\n"
	"                       image, before the request's own setupScript\n"
	"      --env K=V        a variable for the package manager of custom\n"
	"                       images (repeatable), e.g. PIP_INDEX_URL=URL\n"
	"  -c, --config FILE    isol8's configuration file whose "
	"prebuiltImages\n"
	"                       to build\n"
	"      --socket PATH    the daemon's socket (default $ISOL8_SOCKET,\n"
	"                       then " ISOL8_DEFAULT_SOCKET ")\n";

struct setup_opts {
	char *runtimes[MAX_RUNTIMES];
	int nrt;
	const char *custom[5]; /* packages, as custom_runtimes */
	const char *name, *script;
	const char *env[MAX_ENV];
	int nenv;
	bool force;
	const char *config; /* isol8's configuration file */
};

static const char *const custom_runtimes[] = { "python", "node", "bun", "deno",
					       "bash" };
_Static_assert(ARRAY_SIZE(custom_runtimes) == MAX_RUNTIMES,
	       "a custom image option per runtime");

/* How many runtimes get a custom image. */
static int count_custom(const struct setup_opts *o)
{
	int n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(custom_runtimes); i++)
		n += o->custom[i] != NULL;
	return n;
}

static int parse(struct ctl *ctl, int argc, char **argv, struct setup_opts *o)
{
	enum {
		O_PYTHON = 256,
		O_NODE,
		O_BUN,
		O_DENO,
		O_BASH,
		O_NAME,
		O_SCRIPT,
		O_ENV
	};
	static const struct option opts[] = {
		{ "runtime", required_argument, NULL, 'r' },
		{ "force", no_argument, NULL, 'f' },
		{ "python", required_argument, NULL, O_PYTHON },
		{ "node", required_argument, NULL, O_NODE },
		{ "bun", required_argument, NULL, O_BUN },
		{ "deno", required_argument, NULL, O_DENO },
		{ "bash", required_argument, NULL, O_BASH },
		{ "name", required_argument, NULL, O_NAME },
		{ "setup-script", required_argument, NULL, O_SCRIPT },
		{ "env", required_argument, NULL, O_ENV },
		{ "socket", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+r:fhs:c:", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			for (char *save = NULL,
				  *r = strtok_r(optarg, ",", &save);
			     r; r = strtok_r(NULL, ",", &save)) {
				if (o->nrt == MAX_RUNTIMES) {
					fprintf(stderr,
						"isol8ctl: setup: at most %d "
						"runtimes\n",
						MAX_RUNTIMES);
					return CTL_EXIT_USAGE;
				}
				o->runtimes[o->nrt++] = r;
			}
			break;
		case 'f':
			o->force = true;
			break;
		case O_PYTHON:
		case O_NODE:
		case O_BUN:
		case O_DENO:
		case O_BASH:
			o->custom[c - O_PYTHON] = optarg;
			break;
		case O_NAME:
			o->name = optarg;
			break;
		case O_SCRIPT:
			o->script = optarg;
			break;
		case O_ENV:
			if (o->nenv == MAX_ENV || !strchr(optarg, '=')) {
				fprintf(stderr,
					"isol8ctl: setup: --env takes K=V, at "
					"most %d times\n",
					MAX_ENV);
				return CTL_EXIT_USAGE;
			}
			o->env[o->nenv++] = optarg;
			break;
		case 's':
			ctl->socket_flag = optarg;
			break;
		case 'c':
			o->config = optarg;
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
	int ncustom = count_custom(o);
	bool custom = ncustom > 0;
	const char *wrong = custom && o->nrt ? "--runtime"
			    : custom	     ? NULL
			    : o->name	     ? "--name"
			    : o->script	     ? "--setup-script"
					     : NULL;
	if (wrong) {
		fprintf(stderr,
			"isol8ctl: setup: %s goes with --python, --node, "
			"--bun, --deno or --bash alone\n",
			wrong);
		return CTL_EXIT_USAGE;
	}
	if (o->name && ncustom > 1) {
		fputs("isol8ctl: setup: --name names one image: give one of "
		      "--python, --node, --bun, --deno and --bash, not "
		      "several\n",
		      stderr);
		return CTL_EXIT_USAGE;
	}
	return -1;
}

static bool named(const struct setup_opts *o, const char *runtime)
{
	for (int i = 0; i < o->nrt; i++)
		if (strcmp(o->runtimes[i], runtime) == 0)
			return true;
	return o->nrt == 0;
}

/* The daemon's prebuiltImages (checked by it) as custom images, those of
 * the runtimes named with --runtime when there are some; common[0..n) are
 * the builder's common arguments. */
static int build_prebuilt(const struct setup_opts *o, json_object *list,
			  char *const *common, int n)
{
	char *args[MAX_ARGS + 1];
	memcpy(args, common, (size_t)n * sizeof(*args));
	args[1] = "custom";
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *img = json_object_array_get_idx(list, i);
		const char *rt = json_field_str(img, "runtime", "");
		if (!named(o, rt))
			continue;
		json_object *pk = json_field(img, "installPackages");
		_cleanup_free_ char *pkgs = NULL;
		size_t len = 0;
		_cleanup_fclose_ FILE *f = open_memstream(&pkgs, &len);
		for (size_t j = 0; f && j < json_object_array_length(pk); j++)
			fprintf(f, "%s%s", j ? "," : "",
				json_object_get_string(
					json_object_array_get_idx(pk, j)));
		if (!f || fflush(f)) {
			perror("isol8ctl: setup");
			return CTL_EXIT_FAILURE;
		}
		/* The script, as a file the builder reads by /proc/self/fd. */
		const char *script = json_field_str(img, "setupScript", NULL);
		_cleanup_close_ int sfd = -1;
		char spath[64];
		if (script) {
			sfd = memfd_create("setup-script", MFD_CLOEXEC);
			if (sfd < 0 || write(sfd, script, strlen(script)) !=
					       (ssize_t)strlen(script)) {
				perror("isol8ctl: setup: setupScript");
				return CTL_EXIT_FAILURE;
			}
			snprintf(spath, sizeof(spath), "/proc/self/fd/%d", sfd);
		}
		int k = n;
		args[k++] = "--runtime";
		args[k++] = (char *)rt;
		args[k++] = "--packages";
		args[k++] = pkgs;
		args[k++] = "--name";
		args[k++] = (char *)json_field_str(img, "tag", "");
		if (script) {
			args[k++] = "--setup-script";
			args[k++] = spath;
		}
		args[k] = NULL;
		int code = image_builder_run("setup", args, sfd);
		if (code != CTL_EXIT_OK)
			return code;
	}
	return CTL_EXIT_OK;
}

/* The prebuiltImages of isol8's configuration file (o->config, else the
 * one isol8 reads, when there is one), loaded before anything is built. */
static int load_isol8_images(const struct setup_opts *o, json_object **images,
			     char **file)
{
	if (o->config && count_custom(o)) {
		fputs("isol8ctl: setup: --config goes with the base images, "
		      "not with --python ... --bash\n",
		      stderr);
		return CTL_EXIT_USAGE;
	}
	if (count_custom(o))
		return CTL_EXIT_OK;
	return setup_isol8_images(o->config, images, file);
}

int cmd_setup(struct ctl *ctl, int argc, char **argv)
{
	struct setup_opts o = { 0 };
	int code = parse(ctl, argc, argv, &o);
	if (code >= 0)
		return code;
	_cleanup_json_ json_object *isol8_images = NULL;
	_cleanup_free_ char *isol8_file = NULL;
	code = load_isol8_images(&o, &isol8_images, &isol8_file);
	if (code != CTL_EXIT_OK)
		return code;
	_cleanup_json_ json_object *r = NULL;
	const char *dir, *rt_dir;
	code = image_builder_config(ctl, "setup", &r, &dir, &rt_dir);
	if (code != CTL_EXIT_OK)
		return code;
	json_object *cfg = json_field(r, "config");
	/* The builder's `run`s reach the daemon this call reached. */
	if (ctl->socket_flag && setenv("ISOL8_SOCKET", ctl->socket_flag, 1)) {
		perror("isol8ctl: setup");
		return CTL_EXIT_FAILURE;
	}
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len < 0) {
		perror("isol8ctl: setup: /proc/self/exe");
		return CTL_EXIT_FAILURE;
	}
	self[len] = '\0';
	char *args[MAX_ARGS + 1] = { IMAGE_BUILDER,    "base",
				     "--dir",	       (char *)dir,
				     "--runtimes-dir", (char *)rt_dir };
	int n = 6;
	if (o.force)
		args[n++] = "--force";
	for (int i = 0; i < o.nenv; i++) {
		args[n++] = "--env";
		args[n++] = (char *)o.env[i];
	}
	args[n++] = "--ctl";
	args[n++] = self;
	if (!count_custom(&o)) {
		int common = n;
		for (int i = 0; i < o.nrt; i++) {
			args[n++] = "--runtime";
			args[n++] = o.runtimes[i];
		}
		args[n] = NULL;
		code = image_builder_run("setup", args, -1);
		if (code == CTL_EXIT_OK)
			code = build_prebuilt(&o,
					      json_field(cfg, "prebuiltImages"),
					      args, common);
		if (code != CTL_EXIT_OK || !isol8_file)
			return code;
		printf("prebuiltImages of %s:\n", isol8_file);
		return build_prebuilt(&o, isol8_images, args, common);
	}
	args[1] = "custom";
	if (o.name) {
		args[n++] = "--name";
		args[n++] = (char *)o.name;
	}
	if (o.script) {
		args[n++] = "--setup-script";
		args[n++] = (char *)o.script;
	}
	for (size_t i = 0; i < ARRAY_SIZE(custom_runtimes); i++) {
		if (!o.custom[i])
			continue;
		args[n] = "--runtime";
		args[n + 1] = (char *)custom_runtimes[i];
		args[n + 2] = "--packages";
		args[n + 3] = (char *)o.custom[i];
		args[n + 4] = NULL;
		code = image_builder_run("setup", args, -1);
		if (code != CTL_EXIT_OK)
			return code;
	}
	return CTL_EXIT_OK;
}
