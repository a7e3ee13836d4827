/* health, version and daemon-config: what the daemon says about itself. */
#include "cleanup.h"
#include "ctl.h"
#include "json_field.h"
#include "version.h"

#include <stdio.h>
#include <string.h>

static const char health_help[] =
	"Usage: isol8ctl health [--json] [--socket PATH]\n"
	"\n"
	"Asks isol8d whether it is serving and prints its status, version,\n"
	"uptime, cgroup mode, the kernel features it found and how far the\n"
	"base images it builds at start (images.build) are: one line each\n"
	"with its tag, its state (present, pending, building, built, failed)\n"
	"and the builder's latest line.\n"
	"  --json         print the daemon's answer as JSON\n"
	"  --socket PATH  the daemon's socket (default $ISOL8_SOCKET, then\n"
	"                 " ISOL8_DEFAULT_SOCKET ")\n";

static const char version_help[] =
	"Usage: isol8ctl version [--json] [--socket PATH]\n"
	"\n"
	"Prints isol8ctl's version and the version of the daemon it reaches.\n"
	"  --json         print the daemon's answer as JSON\n"
	"  --socket PATH  the daemon's socket\n";

static const char daemon_config_help[] =
	"Usage: isol8ctl daemon-config [--json] [--socket PATH]\n"
	"\n"
	"Prints the daemon's effective configuration, one key a line with\n"
	"where its value came from (default, the config file, or the command\n"
	"line).  (isol8ctl config shows isol8's own configuration file.)\n"
	"  --json         print {config, sources, file} as JSON\n"
	"  --socket PATH  the daemon's socket\n";

/* The base images the daemon builds at start (images.build). */
static void print_images(json_object *images)
{
	printf("images:   %s\n", json_field_str(images, "state", "?"));
	json_object *builds = json_field(images, "builds");
	for (size_t i = 0; i < json_object_array_length(builds); i++) {
		json_object *b = json_object_array_get_idx(builds, i);
		const char *tag = json_field_str(b, "tag", "?");
		const char *state = json_field_str(b, "state", "?");
		const char *msg = json_field_str(b, "message", NULL);
		if (msg)
			printf("  %-24s %-9s  %s\n", tag, state, msg);
		else
			printf("  %-24s %s\n", tag, state);
	}
}

int cmd_health(struct ctl *ctl, int argc, char **argv)
{
	bool json = false;
	int code = ctl_simple_args(ctl, argc, argv, health_help, &json);
	if (code >= 0)
		return code;
	_cleanup_json_ json_object *r = NULL;
	code = ctl_call(ctl, "health", NULL, &r);
	if (code != CTL_EXIT_OK)
		return code;
	if (json) {
		ctl_print_json(r);
		return CTL_EXIT_OK;
	}
	json_object *up = NULL, *features = NULL;
	json_object_object_get_ex(r, "uptimeMs", &up);
	json_object_object_get_ex(r, "features", &features);
	printf("status:   %s\n", json_field_str(r, "status", "?"));
	printf("version:  %s\n", json_field_str(r, "version", "?"));
	printf("uptime:   %.1fs\n", (double)json_object_get_int64(up) / 1000.0);
	printf("cgroups:  %s\n", json_field_str(r, "cgroupMode", "?"));
	printf("kernel:   %s\n", json_field_str(features, "kernel", "?"));
	printf("features:");
	json_object_object_foreach(features, k, v)
	{
		if (json_object_is_type(v, json_type_boolean))
			printf(" %s=%s", k,
			       json_object_get_boolean(v) ? "yes" : "no");
	}
	printf("\n");
	print_images(json_field(r, "images"));
	return CTL_EXIT_OK;
}

int cmd_version(struct ctl *ctl, int argc, char **argv)
{
	bool json = false;
	int code = ctl_simple_args(ctl, argc, argv, version_help, &json);
	if (code >= 0)
		return code;
	_cleanup_json_ json_object *r = NULL;
	code = ctl_call(ctl, "version", NULL, &r);
	if (code != CTL_EXIT_OK)
		return code;
	if (json)
		ctl_print_json(r);
	else
		printf("isol8ctl %s\nisol8d %s\n", ISOL8_VERSION,
		       json_field_str(r, "version", "?"));
	return CTL_EXIT_OK;
}

static void print_flat(json_object *o, const char *prefix, json_object *sources)
{
	json_object_object_foreach(o, k, v)
	{
		char path[256];
		snprintf(path, sizeof(path), "%s%s%s", prefix,
			 *prefix ? "." : "", k);
		if (json_object_is_type(v, json_type_object)) {
			print_flat(v, path, sources);
			continue;
		}
		printf("%-32s %-28s (%s)\n", path,
		       json_object_to_json_string_ext(
			       v, JSON_C_TO_STRING_NOSLASHESCAPE),
		       json_field_str(sources, path, "?"));
	}
}

int cmd_daemon_config(struct ctl *ctl, int argc, char **argv)
{
	bool json = false;
	int code = ctl_simple_args(ctl, argc, argv, daemon_config_help, &json);
	if (code >= 0)
		return code;
	_cleanup_json_ json_object *r = NULL;
	code = ctl_call(ctl, "config.get", NULL, &r);
	if (code != CTL_EXIT_OK)
		return code;
	if (json) {
		ctl_print_json(r);
		return CTL_EXIT_OK;
	}
	json_object *cfg = NULL, *sources = NULL, *file = NULL;
	json_object_object_get_ex(r, "config", &cfg);
	json_object_object_get_ex(r, "sources", &sources);
	json_object_object_get_ex(r, "file", &file);
	printf("# config file: %s\n", file ? json_object_get_string(file)
					   : "none (built-in defaults)");
	print_flat(cfg, "", sources);
	return CTL_EXIT_OK;
}
