/* Handlers of the daemon's informational methods. */
#ifndef ISOL8D_METHODS_H
#define ISOL8D_METHODS_H

struct rpc_call;

void method_health(struct rpc_call *call);
void method_version(struct rpc_call *call);
void method_config_get(struct rpc_call *call);
void method_pool_status(struct rpc_call *call);

#endif
