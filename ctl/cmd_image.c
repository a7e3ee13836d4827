/* image: the daemon's image store, listed, inspected, removed, pruned. */
#include "cleanup.h"
#include "ctl.h"
#include "json_field.h"
#include "version.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char image_help[] =
	"Usage: isol8ctl image ls [--json]\n"
	"       isol8ctl image inspect REF\n"
	"       isol8ctl image rm REF\n"
	"       isol8ctl image prune\n"
	"       isol8ctl image import ARCHIVE --name NAME:TAG --runtime R\n"
	"\n"
	"The images of isol8d's store (images.dir): root file systems boxes\n"
	"run on with options.image (isol8ctl run --image).  REF is name:tag\n"
	"or sha256:<digest>; \"host\" is the host's own /usr and \"default\"\n"
	"the daemon's images.default.  Moving tags (latest, lts) are refused.\n"
	"  ls       one line per image: tags, digest, runtime, size, boxes on\n"
	"           it, created\n"
	"  inspect  the image's metadata as JSON: packages and their\n"
	"           versions, layers, size, created\n"
	"  rm       removes a tag (and the image with its last tag) or, by\n"
	"           digest, the image and all its tags; refused while boxes\n"
	"           use it (sessions, executions, warm boxes of pool.images)\n"
	"  prune    deletes the layers no image refers to\n"
	"  import   an OCI image or Docker archive into the store, tagged\n"
	"           NAME:TAG (isol8ctl image import --help)\n"
	"rm and prune are for administrators; import needs root.\n"
	"`isol8ctl setup` builds the base images.\n"
	"  --json         ls: print the daemon's answer as JSON\n"
	"  --socket PATH  the daemon's socket (default $ISOL8_SOCKET, then\n"
	"                 " ISOL8_DEFAULT_SOCKET ")\n";

static void print_list(json_object *r)
{
	json_object *images = json_field(r, "images");
	printf("%-28s %-19s %-7s %8s %5s %s\n", "TAGS", "DIGEST", "RUNTIME",
	       "SIZE", "INUSE", "CREATED");
	for (size_t i = 0; i < json_object_array_length(images); i++) {
		json_object *m = json_object_array_get_idx(images, i);
		json_object *tags = json_field(m, "tags");
		char names[256] = "-";
		size_t at = 0;
		for (size_t t = 0; t < json_object_array_length(tags); t++)
			at += (size_t)snprintf(
				names + at,
				at < sizeof(names) ? sizeof(names) - at : 0,
				"%s%s", t ? "," : "",
				json_object_get_string(
					json_object_array_get_idx(tags, t)));
		printf("%-28s %-19.19s %-7s %7.1fM %5lld %s\n", names,
		       json_field_str(m, "digest", ""),
		       json_field_str(m, "runtime", ""),
		       (double)json_field_int(m, "size") / (1 << 20),
		       (long long)json_field_int(m, "inUse"),
		       json_field_str(m, "created", ""));
	}
	printf("default: %s\n", json_field_str(r, "default", "host"));
}

int cmd_image(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool json = false;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+hs:", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 's':
			ctl->socket_flag = optarg;
			break;
		case 'h':
			fputs(image_help, stdout);
			return CTL_EXIT_OK;
		default:
			fputs(image_help, stderr);
			return CTL_EXIT_USAGE;
		}
	}
	static const char *const subs[][3] = {
		/* name, method, takes REF */
		{ "ls", "image.list", "" },
		{ "inspect", "image.inspect", "ref" },
		{ "rm", "image.remove", "ref" },
		{ "prune", "image.prune", "" },
	};
	const char *sub = optind < argc ? argv[optind++] : "";
	if (strcmp(sub, "import") == 0)
		return cmd_image_import(ctl, argc - optind + 1,
					argv + optind - 1);
	size_t i = 0;
	while (i < ARRAY_SIZE(subs) && strcmp(subs[i][0], sub) != 0)
		i++;
	if (i == ARRAY_SIZE(subs)) {
		fprintf(stderr,
			"isol8ctl: image: unknown subcommand '%s' (ls, "
			"inspect, rm, prune, import)\n",
			sub);
		return CTL_EXIT_USAGE;
	}
	bool ref = subs[i][2][0] != '\0';
	/* Options may follow the subcommand too. */
	while ((c = getopt_long(argc, argv, "+hs:", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 's')
			ctl->socket_flag = optarg;
		else {
			fputs(image_help, c == 'h' ? stdout : stderr);
			return c == 'h' ? CTL_EXIT_OK : CTL_EXIT_USAGE;
		}
	}
	if (argc - optind != (ref ? 1 : 0)) {
		fprintf(stderr, "isol8ctl: image %s takes %s\n", sub,
			ref ? "one image reference" : "no arguments");
		return CTL_EXIT_USAGE;
	}
	json_object *params = NULL;
	if (ref) {
		params = json_object_new_object();
		json_object_object_add(params, "ref",
				       json_object_new_string(argv[optind]));
	}
	_cleanup_json_ json_object *r = NULL;
	int code = ctl_call(ctl, subs[i][1], params, &r);
	if (code != CTL_EXIT_OK)
		return code;
	if (i == 0 && !json)
		print_list(r);
	else if (i == 2 && !json)
		printf("%s%s\n",
		       json_object_get_string(json_field(r, "deleted"))
			       ? "Deleted "
			       : "Untagged ",
		       argv[optind]);
	else
		ctl_print_json(r);
	return CTL_EXIT_OK;
}
