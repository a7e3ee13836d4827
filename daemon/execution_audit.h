/* An execution's audit record (audit.h), written once when it ends,
 * however it ends, and always sent to the journal with
 * MESSAGE_ID=AUDIT_MESSAGE_ID. */
#ifndef ISOL8D_EXECUTION_AUDIT_H
#define ISOL8D_EXECUTION_AUDIT_H

#include <json-c/json.h>
#include <stdint.h>
#include <sys/types.h>

struct execution;
struct rpc_call;

/* What the record needs of the request as it came. */
struct exec_audit {
	json_object *metadata; /* request.metadata, a reference */
	pid_t peer_pid;
	uid_t peer_uid;
	uint64_t start_ms;   /* since the epoch */
	json_object *result; /* what the client got, a reference */
	char *error;	     /* or why it ended without a result */
};

void execution_audit_begin(struct execution *e, const struct rpc_call *call);
/* The first reason an execution failed (already masked). */
void execution_audit_error(struct execution *e, const char *msg);
/* The record, then e->audit is released. */
void execution_audit_end(struct execution *e);

#endif
