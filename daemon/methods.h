/* The daemon's methods: the table (methods.c) and their handlers; execute
 * is the execution module's entry point (execution_start, execution.h). */
#ifndef ISOL8D_METHODS_H
#define ISOL8D_METHODS_H

#include <stdbool.h>

struct rpc_call;

typedef void (*rpc_handler_fn)(struct rpc_call *call);

struct rpc_method {
	const char *name;
	rpc_handler_fn handler;
	bool quiet; /* read-only and frequent: logged at debug level */
};

/* The method of that name, or NULL. */
const struct rpc_method *method_find(const char *name);

/* Refuses params that are not an object (missing ones too when required)
 * or that hold a key not in allowed (a NULL-ended list); false after
 * answering. */
bool method_params_check(struct rpc_call *call, const char *const *allowed,
			 bool required);

/* methods_info.c */
void method_health(struct rpc_call *call);
void method_version(struct rpc_call *call);
void method_config_get(struct rpc_call *call);
void method_pool_status(struct rpc_call *call);
void method_metrics(struct rpc_call *call);

/* methods_session.c */
struct session;
/* Refuses keys not in allowed (a NULL-ended list) and a missing or
 * non-string sessionId; gives the caller's session of that id, or NULL
 * after answering (not_found when there is none). */
struct session *params_session(struct rpc_call *call,
			       const char *const *allowed);
void method_session_create(struct rpc_call *call);
void method_session_list(struct rpc_call *call);
void method_session_get(struct rpc_call *call);
void method_session_delete(struct rpc_call *call);
void method_session_set_timeout(struct rpc_call *call);

/* methods_session_pause.c */
void method_session_pause(struct rpc_call *call);
void method_session_resume(struct rpc_call *call);

/* methods_session_hibernate.c */
void method_session_hibernate(struct rpc_call *call);
/* session.resume of a hibernated session: answers once it runs again. */
void method_session_restore(struct rpc_call *call, struct session *s);

/* methods_expose.c */
void method_session_expose(struct rpc_call *call);
void method_session_unexpose(struct rpc_call *call);
void method_session_exposed(struct rpc_call *call);
void method_session_connect(struct rpc_call *call);
void method_file_put(struct rpc_call *call);
void method_file_get(struct rpc_call *call);

/* methods_image.c */
void method_image_list(struct rpc_call *call);
void method_image_inspect(struct rpc_call *call);
void method_image_remove(struct rpc_call *call);
void method_image_prune(struct rpc_call *call);

#endif
