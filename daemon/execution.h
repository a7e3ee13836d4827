/* One ephemeral execution: a fresh box, the request's files, package
 * install and setup script, the code itself with its stdio, timeout and
 * limits, output files, and the isol8-shaped result. */
#ifndef ISOL8D_EXECUTION_H
#define ISOL8D_EXECUTION_H

struct rpc_call;

/* Starts the execution an `execute` call asks for (the method table's
 * handler of execute); the call is answered when it is over. */
void execution_start(struct rpc_call *call);

#endif
