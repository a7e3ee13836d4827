/* The method table: every method the daemon serves and its handler. */
#include "methods.h"

#include "cleanup.h"
#include "execution.h"
#include "rpc_call.h"

#include <string.h>

static const struct rpc_method methods[] = {
	{ "health", method_health, true },
	{ "version", method_version, true },
	{ "config.get", method_config_get, true },
	{ "pool.status", method_pool_status, true },
	{ "metrics", method_metrics, true },
	{ "execute", execution_start, false },
	{ "session.create", method_session_create, false },
	{ "session.list", method_session_list, true },
	{ "session.get", method_session_get, true },
	{ "session.delete", method_session_delete, false },
	{ "session.set_timeout", method_session_set_timeout, false },
	{ "session.pause", method_session_pause, false },
	{ "session.resume", method_session_resume, false },
	{ "session.hibernate", method_session_hibernate, false },
	{ "session.expose", method_session_expose, false },
	{ "session.unexpose", method_session_unexpose, false },
	{ "session.exposed", method_session_exposed, true },
	{ "session.connect", method_session_connect, true },
	{ "file.put", method_file_put, false },
	{ "file.get", method_file_get, false },
	{ "image.list", method_image_list, true },
	{ "image.inspect", method_image_inspect, true },
	{ "image.remove", method_image_remove, false },
	{ "image.prune", method_image_prune, false },
};

const struct rpc_method *method_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(methods); i++)
		if (strcmp(methods[i].name, name) == 0)
			return &methods[i];
	return NULL;
}

bool method_params_check(struct rpc_call *call, const char *const *allowed,
			 bool required)
{
	json_object *p = call->params;
	if ((p || required) && !json_object_is_type(p, json_type_object)) {
		rpc_reply_error(call, ERR_INVALID_ARGUMENT,
				"params: an object is required");
		return false;
	}
	if (!p)
		return true;
	json_object_object_foreach(p, key, val)
	{
		(void)val;
		bool ok = false;
		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = strcmp(key, allowed[i]) == 0;
		if (!ok) {
			rpc_reply_error(call, ERR_INVALID_ARGUMENT,
					"params.%s: unknown field", key);
			return false;
		}
	}
	return true;
}
