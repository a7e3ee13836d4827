/* Refusing an execute call whose request did not parse. */
#ifndef ISOL8D_EXEC_REFUSE_H
#define ISOL8D_EXEC_REFUSE_H

#include "error.h"

struct rpc_call;

/* Answers call with err, its message masked with every string in the
 * request's options.secrets (parsing may have stopped before them, and
 * the message may quote any value of the request). */
void exec_refuse(struct rpc_call *call, const struct error *err);

#endif
