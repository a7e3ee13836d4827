#include "fault.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* How many times the step has come up in this process. */
static unsigned long seen;

/* ISOL8D_FAULT_COUNT, by hand: strtoul is not async-signal-safe. */
static unsigned long fail_count(void)
{
	const char *s = getenv("ISOL8D_FAULT_COUNT");
	if (!s || !*s)
		return ULONG_MAX;
	unsigned long n = 0;
	for (; *s >= '0' && *s <= '9'; s++)
		n = n * 10 + (unsigned long)(*s - '0');
	return n;
}

int fault_inject_for(const char *step, const char *runtime)
{
	/* getenv allocates nothing, so this is safe after fork as well. */
	const char *want = getenv("ISOL8D_FAULT");
	const char *only = getenv("ISOL8D_FAULT_RUNTIME");
	if (!want || strcmp(want, step) != 0 ||
	    (only && (!runtime || strcmp(only, runtime) != 0)))
		return 0;
	return seen++ < fail_count() ? -EIO : 0;
}

int fault_inject(const char *step)
{
	return fault_inject_for(step, NULL);
}
