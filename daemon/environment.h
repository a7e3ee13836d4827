/* The environment of a command in a box: the defaults every box has, the
 * runtime's own variables, then the caller's, each overriding the ones
 * before it. */
#ifndef ISOL8D_ENVIRONMENT_H
#define ISOL8D_ENVIRONMENT_H

#include "runtimes/runtimes.h"

#include <stdbool.h>

/* Makes *out a NULL-terminated array of "K=V" (free it with
 * environment_free); 0 or -ENOMEM.  proxy: the variables that send
 * HTTP(S) through a filtered box's proxy.  extra (may be NULL) is another
 * NULL-terminated list of "K=V". */
int environment_build(const char *runtimes_dir, const struct runtime *rt,
		      bool proxy, const char *const *extra, char ***out);
void environment_free(char **envp);
/* Whether "K=V" names a variable the defaults or rt already set. */
bool environment_is_default(const struct runtime *rt, const char *kv);

#endif
