/* isol8's request fields that do not shape the box: the lifecycle and
 * pool hints, debug, persist, audit and the remote-code policy in
 * options, and isol8's agent fields in request.  Each is checked for its
 * type and shape; none can loosen the daemon's own policy (see
 * proto/PROTOCOL.md, "isol8 compatibility"). */
#ifndef ISOL8D_EXEC_COMPAT_H
#define ISOL8D_EXEC_COMPAT_H

#include "error.h"

#include <json-c/json.h>
#include <stdbool.h>

struct exec_compat {
	bool debug;   /* options.debug: this execution's steps logged */
	bool persist; /* options.persist: the box kept as a session */
};

/* The option keys exec_compat_parse() reads, NULL-terminated. */
extern const char *const exec_compat_option_keys[];
/* The request keys it reads, NULL-terminated. */
extern const char *const exec_compat_request_keys[];

/* Checks req's and opt's (either may be NULL) isol8 fields; -EINVAL with
 * e naming the field on a bad one. */
int exec_compat_parse(json_object *req, json_object *opt,
		      struct exec_compat *out, struct error *e);

#endif
