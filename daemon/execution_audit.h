/* An execution's audit record (audit.h), written once when it ends,
 * however it ends, and always sent to the journal with
 * MESSAGE_ID=AUDIT_MESSAGE_ID. */
#ifndef ISOL8D_EXECUTION_AUDIT_H
#define ISOL8D_EXECUTION_AUDIT_H

struct execution;
struct rpc_call;

void execution_audit_begin(struct execution *e, const struct rpc_call *call);
/* The first reason an execution failed (already masked). */
void execution_audit_error(struct execution *e, const char *msg);
/* The record, then e->audit is released. */
void execution_audit_end(struct execution *e);

#endif
