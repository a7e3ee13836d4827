/* cleanup: isol8's `isol8 cleanup` for isol8d: the caller's sessions,
 * the boxes --persist kept among them, listed, confirmed, deleted. */
#include "cleanup.h"
#include "ctl.h"
#include "json_field.h"
#include "version.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char cleanup_help[] =
	"Usage: isol8ctl cleanup [--force] [--socket PATH]\n"
	"\n"
	"Deletes your sessions, and with them the boxes that runs with\n"
	"--persist kept, killing what runs in them (the daemon's "
	"administrator\n"
	"deletes everyone's).  They are listed first and removed once you\n"
	"answer y or yes on standard input, as isol8 cleanup does.\n"
	"\n"
	"      --force        delete without asking\n"
	"  -s, --socket PATH  the daemon's socket (default $ISOL8_SOCKET, "
	"then\n"
	"                     " ISOL8_DEFAULT_SOCKET ")\n"
	"  -h, --help         show this help\n";

/* One call on the open connection; the result, or NULL after printing
 * why not into *code. */
static json_object *call(struct rpc_client *c, const char *method,
			 json_object *params, int *code)
{
	json_object *result = NULL, *error = NULL;
	int r = rpc_client_call(c, method, params, NULL, NULL, &result, &error);
	if (r < 0) {
		fprintf(stderr,
			"isol8ctl: connection to isol8d at %s failed: %s\n",
			c->path, strerror(-r));
		*code = CTL_EXIT_UNREACHABLE;
	} else if (error) {
		*code = ctl_report_error(error);
		json_object_put(error);
	}
	return result;
}

static void print_session(json_object *s)
{
	json_object *persisted = json_field(s, "persisted");
	printf("  %s %s | %s | created %s%s\n",
	       json_object_get_boolean(json_field(s, "isActive"))
		       ? "\xf0\x9f\x9f\xa2 running"
		       : "\xe2\x9a\xaa idle",
	       json_field_str(s, "id", "?"), json_field_str(s, "runtime", "?"),
	       json_field_str(s, "createdAt", "?"),
	       persisted && json_object_get_boolean(persisted)
		       ? " | kept by --persist"
		       : "");
}

/* isol8's question; only y or yes goes on. */
static bool confirmed(void)
{
	char answer[64] = "";
	fputs("Remove all these sessions? [y/N] ", stdout);
	fflush(stdout);
	if (!fgets(answer, sizeof(answer), stdin))
		answer[0] = '\0';
	answer[strcspn(answer, "\r\n")] = '\0';
	return strcasecmp(answer, "y") == 0 || strcasecmp(answer, "yes") == 0;
}

int cmd_cleanup(struct ctl *ctl, int argc, char **argv)
{
	bool force = false;
	int code =
		ctl_switch_args(ctl, argc, argv, cleanup_help, "force", &force);
	if (code >= 0)
		return code;
	struct rpc_client c;
	code = ctl_connect(ctl, &c);
	if (code != CTL_EXIT_OK)
		return code;
	_cleanup_json_ json_object *list =
		call(&c, "session.list", NULL, &code);
	json_object *sessions = json_field(list, "sessions");
	size_t n = json_object_array_length(sessions);
	if (code != CTL_EXIT_OK || n == 0) {
		if (code == CTL_EXIT_OK)
			puts("No isol8 sessions found");
		rpc_client_close(&c);
		return code;
	}
	printf("Found %zu isol8 session(s)\n\n", n);
	for (size_t i = 0; i < n; i++)
		print_session(json_object_array_get_idx(sessions, i));
	putchar('\n');
	if (!force && !confirmed()) {
		puts("Cleanup cancelled");
		rpc_client_close(&c);
		return CTL_EXIT_OK;
	}
	size_t removed = 0, failed = 0;
	for (size_t i = 0; i < n; i++) {
		const char *id = json_field_str(
			json_object_array_get_idx(sessions, i), "id", "");
		json_object *p = json_object_new_object();
		json_object_object_add(p, "sessionId",
				       json_object_new_string(id));
		int one = CTL_EXIT_OK;
		json_object_put(call(&c, "session.delete", p, &one));
		if (one == CTL_EXIT_OK) {
			removed++;
			continue;
		}
		fprintf(stderr, "  Failed to remove %s\n", id);
		failed++;
		if (one == CTL_EXIT_UNREACHABLE)
			break;
	}
	rpc_client_close(&c);
	if (failed)
		printf("Removed %zu session(s), %zu failed\n", removed, failed);
	else
		printf("Removed %zu session(s)\n", removed);
	return failed ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
}
