/* One ephemeral execution: a fresh box, the request's files, package
 * install and setup script, the code itself with its stdio, timeout and
 * limits, output files, and the isol8-shaped result. */
#ifndef ISOL8D_EXECUTION_H
#define ISOL8D_EXECUTION_H

struct rpc_call;

/* The handler of the `execute` method. */
void method_execute(struct rpc_call *call);

#endif
