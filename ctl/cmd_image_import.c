/* image import: an OCI image or Docker archive into the daemon's store,
 * by the image builder (image_builder.h) with the importer isol8-image,
 * run here, as root, as isol8ctl setup builds the base images. */
#include "cleanup.h"
#include "ctl.h"
#include "image_builder.h"
#include "json_field.h"
#include "libexec.h"
#include "version.h"

#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#define IMPORTER "isol8-image"
#define IDS                                                                    \
	((int64_t)65536) /* a user namespace's ids (daemon/sandbox/userns.h) */

static const char import_help[] =
	"Usage: isol8ctl image import ARCHIVE --name NAME:TAG --runtime R\n"
	"                             [--json] [--socket PATH]\n"
	"\n"
	"Imports an OCI image layout (a directory or a tar of one), a docker\n"
	"save archive or a docker export tar into isol8d's image store\n"
	"(images.dir) as an image of runtime R tagged NAME:TAG, which boxes\n"
	"can use at once (options.image, isol8ctl run --image).\n"
	"isol8-image(8) unpacks and sanitises the archive in a sandbox; the\n"
	"image must have R's program (python3, node, bun, deno or bash).  The\n"
	"directories and /etc files a box needs are added where missing.  The\n"
	"same archive imported again gives the same digest.  Prints the tag,\n"
	"the digest and how long it took.  Needs root.\n"
	"  -n, --name NAME:TAG  the image's tag (not latest or lts)\n"
	"  -r, --runtime R      python, node, bun, deno or bash\n"
	"  --json               print the image's metadata as JSON\n"
	"  --socket PATH        the daemon's socket (default $ISOL8_SOCKET,\n"
	"                       then " ISOL8_DEFAULT_SOCKET ")\n";

int cmd_image_import(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "runtime", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *name = NULL, *runtime = NULL;
	bool json = false;
	int c;
	/* argv[0] is "import"; ARCHIVE may come before or after options.
	 * 0 starts getopt afresh, at argv[1]. */
	optind = 0;
	while ((c = getopt_long(argc, argv, "n:r:hs:", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 'r':
			runtime = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 's':
			ctl->socket_flag = optarg;
			break;
		case 'h':
			fputs(import_help, stdout);
			return CTL_EXIT_OK;
		default:
			fputs(import_help, stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (argc - optind != 1 || !name || !runtime) {
		fputs("isol8ctl: image import takes one ARCHIVE, --name "
		      "NAME:TAG and --runtime R\n",
		      stderr);
		return CTL_EXIT_USAGE;
	}
	char importer[PATH_MAX];
	int r = libexec_path(IMPORTER, importer, sizeof(importer));
	if (r < 0) {
		fprintf(stderr, "isol8ctl: image import: cannot find %s: %s\n",
			ISOL8_LIBEXECDIR "/" IMPORTER, strerror(-r));
		return CTL_EXIT_FAILURE;
	}
	_cleanup_json_ json_object *cfg = NULL;
	const char *dir, *rt_dir;
	int code =
		image_builder_config(ctl, "image import", &cfg, &dir, &rt_dir);
	if (code != CTL_EXIT_OK)
		return code;
	/* The importer's sandbox gets ids no box has: those just below
	 * sandbox.uidBase or, without room there, just above the boxes'
	 * last slot. */
	json_object *sandbox = json_field(json_field(cfg, "config"), "sandbox");
	int64_t base = json_field_int(sandbox, "uidBase");
	char id_base[24];
	snprintf(id_base, sizeof(id_base), "%" PRId64,
		 base >= 2 * IDS
			 ? base - IDS
			 : base + json_field_int(sandbox, "maxBoxes") * IDS);
	char *args[] = { IMAGE_BUILDER,
			 "import",
			 "--dir",
			 (char *)dir,
			 "--archive",
			 argv[optind],
			 "--name",
			 (char *)name,
			 "--runtime",
			 (char *)runtime,
			 "--importer",
			 importer,
			 "--id-base",
			 id_base,
			 json ? "--json" : NULL,
			 NULL };
	return image_builder_exec("image import", args);
}
