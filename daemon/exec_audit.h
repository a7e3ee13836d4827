/* What an execution keeps for its audit record (execution_audit.h). */
#ifndef ISOL8D_EXEC_AUDIT_H
#define ISOL8D_EXEC_AUDIT_H

#include <json-c/json.h>
#include <stdint.h>
#include <sys/types.h>

/* What the record needs of the request as it came. */
struct exec_audit {
	json_object *metadata; /* request.metadata, a reference */
	pid_t peer_pid;
	uid_t peer_uid;
	uint64_t start_ms;   /* since the epoch */
	json_object *result; /* what the client got, a reference */
	char *error;	     /* or why it ended without a result */
};

#endif
