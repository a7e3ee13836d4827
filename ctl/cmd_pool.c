/* pool: what the daemon's warm pool holds and how well it serves. */
#include "cleanup.h"
#include "ctl.h"
#include "json_field.h"
#include "version.h"

#include <stdio.h>
#include <string.h>

static const char pool_help[] =
	"Usage: isol8ctl pool [--json] [--socket PATH]\n"
	"\n"
	"Prints the warm pool of isol8d, one line per key (runtime, image,\n"
	"network, seccomp profile): boxes ready, in use and being built, the\n"
	"claims served from the pool (hits) and those that found it empty\n"
	"(misses) with the share of hits, and the average time to build a\n"
	"box.  SIZE is the configured size; TARGET what the key aims at now:\n"
	"misses raise it up to pool.maxBoxes (and pool.demand.maxMemory),\n"
	"idle periods (pool.demand.idleMs) bring it back.  An interpreter\n"
	"\"started\" waits in the box; \"at claim\" starts when claimed.\n"
	"A key whose builds fail is named under the table with its failures\n"
	"in a row, the last one's cause and when it is tried next: the daemon\n"
	"retries with growing delays, up to pool.maxRetryDelayMs.\n"
	"  --json         print the daemon's answer as JSON\n"
	"  --socket PATH  the daemon's socket (default $ISOL8_SOCKET, then\n"
	"                 " ISOL8_DEFAULT_SOCKET ")\n";

static long long num(json_object *o, const char *key)
{
	return (long long)json_field_int(o, key);
}

static const char *str(json_object *o, const char *key)
{
	return json_field_str(o, key, "");
}

/* "host", or an image's digest cut to 12 hex digits, as image ls shows
 * them. */
static const char *image_of(json_object *k)
{
	const char *s = str(k, "image");
	return strncmp(s, "sha256:", 7) == 0 ? s + 7 : s;
}

int cmd_pool(struct ctl *ctl, int argc, char **argv)
{
	bool json = false;
	int code = ctl_simple_args(ctl, argc, argv, pool_help, &json);
	if (code >= 0)
		return code;
	_cleanup_json_ json_object *r = NULL;
	code = ctl_call(ctl, "pool.status", NULL, &r);
	if (code != CTL_EXIT_OK)
		return code;
	if (json) {
		ctl_print_json(r);
		return CTL_EXIT_OK;
	}
	json_object *keys = NULL, *avg = NULL;
	json_object_object_get_ex(r, "keys", &keys);
	printf("%-8s %-12s %-8s %-11s %-11s %4s %6s %5s %5s %6s %8s %8s %5s "
	       "%9s\n",
	       "RUNTIME", "IMAGE", "NETWORK", "SECCOMP", "INTERPRETER", "SIZE",
	       "TARGET", "READY", "INUSE", "BUILD", "HITS", "MISSES", "HIT%",
	       "AVG-BUILD");
	for (size_t i = 0; i < json_object_array_length(keys); i++) {
		json_object *k = json_object_array_get_idx(keys, i);
		json_object_object_get_ex(k, "avgBuildMs", &avg);
		json_object *rate = json_object_object_get(k, "hitRate");
		char hit[8] = "-";
		if (rate)
			snprintf(hit, sizeof(hit), "%.0f%%",
				 100.0 * json_object_get_double(rate));
		printf("%-8s %-12.12s %-8s %-11s %-11s %4lld %6lld %5lld %5lld "
		       "%6lld %8lld %8lld %5s %7.1fms\n",
		       str(k, "runtime"), image_of(k), str(k, "network"),
		       str(k, "seccomp"), str(k, "interpreter"), num(k, "size"),
		       num(k, "target"), num(k, "ready"), num(k, "inUse"),
		       num(k, "building"), num(k, "hits"), num(k, "misses"),
		       hit, json_object_get_double(avg));
	}
	for (size_t i = 0; i < json_object_array_length(keys); i++) {
		json_object *k = json_object_array_get_idx(keys, i);
		if (num(k, "consecutiveFailures") > 0)
			printf("%s (%s): %lld failed builds in a row, last: "
			       "%s; "
			       "next try in %.1fs\n",
			       str(k, "runtime"), str(k, "seccomp"),
			       num(k, "consecutiveFailures"),
			       str(k, "lastError"),
			       (double)num(k, "retryInMs") / 1000.0);
	}
	printf("pooled %lld of at most %lld, building %lld (at most %lld at "
	       "once), prewarm %s\n",
	       num(r, "pooled"), num(r, "maxBoxes"), num(r, "building"),
	       num(r, "maxBuilding"),
	       json_object_get_boolean(json_object_object_get(r, "prewarm"))
		       ? "on"
		       : "off");
	json_object *d = json_object_object_get(r, "demand");
	printf("following demand %s: ready boxes hold %.1f MiB (growth up to "
	       "%.1f MiB), a step down after %lld ms idle\n",
	       json_object_get_boolean(json_object_object_get(d, "grow"))
		       ? "on"
		       : "off",
	       (double)num(d, "memoryBytes") / 1048576.0,
	       (double)num(d, "maxMemoryBytes") / 1048576.0, num(d, "idleMs"));
	return CTL_EXIT_OK;
}
