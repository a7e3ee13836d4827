/* Handlers of the daemon's methods other than execute. */
#ifndef ISOL8D_METHODS_H
#define ISOL8D_METHODS_H

struct rpc_call;

void method_health(struct rpc_call *call);
void method_version(struct rpc_call *call);
void method_config_get(struct rpc_call *call);
void method_pool_status(struct rpc_call *call);
void method_metrics(struct rpc_call *call);

/* methods_session.c */
void method_session_create(struct rpc_call *call);
void method_session_list(struct rpc_call *call);
void method_session_get(struct rpc_call *call);
void method_session_delete(struct rpc_call *call);
void method_session_set_timeout(struct rpc_call *call);
void method_file_put(struct rpc_call *call);
void method_file_get(struct rpc_call *call);

#endif
