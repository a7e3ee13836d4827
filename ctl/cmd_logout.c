/* logout, as isol8's: the token login stored is removed.  Needs no HTTP,
 * so it runs in the local client. */
#include "credentials.h"
#include "ctl.h"

#include <stdio.h>
#include <string.h>

static const char logout_help[] =
	"Usage: isol8ctl logout\n"
	"\n"
	"Removes " CREDENTIALS_SHOWN ", the token `isol8ctl login`\n"
	"stored.  See isol8ctl(1).\n";

int cmd_logout(struct ctl *ctl, int argc, char **argv)
{
	(void)ctl;
	if (argc > 1 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(logout_help, stdout);
		return CTL_EXIT_OK;
	}
	if (argc > 1) {
		fprintf(stderr, "isol8ctl logout: unexpected argument '%s'\n",
			argv[1]);
		return CTL_EXIT_USAGE;
	}
	int r = credentials_remove();
	if (r < 0) {
		fprintf(stderr,
			"[ERR] Cannot remove " CREDENTIALS_SHOWN ": %s\n",
			strerror(-r));
		return CTL_EXIT_FAILURE;
	}
	puts(r ? "[OK] Credentials removed from " CREDENTIALS_SHOWN
	       : "[INFO] No stored credentials found.");
	return CTL_EXIT_OK;
}
