#include "exec_refuse.h"

#include "cleanup.h"
#include "rpc_call.h"
#include "secret_mask.h"

#include <stdlib.h>

void exec_refuse(struct rpc_call *call, const struct error *err)
{
	json_object *opt = NULL, *sec = NULL;
	_cleanup_free_ const char **values = NULL;
	size_t n = 0;
	bool ok = true;
	if (json_object_object_get_ex(call->params, "options", &opt) &&
	    json_object_object_get_ex(opt, "secrets", &sec) &&
	    json_object_is_type(sec, json_type_object)) {
		values = calloc((size_t)json_object_object_length(sec) + 1,
				sizeof(*values));
		ok = values != NULL;
		json_object_object_foreach(sec, k, v)
		{
			(void)k;
			if (values && json_object_is_type(v, json_type_string))
				values[n++] = json_object_get_string(v);
		}
	}
	struct secret_mask *m = NULL;
	_cleanup_free_ char *msg = NULL;
	if (ok && secret_mask_new(values, &m) == 0)
		msg = secret_mask_text(m, err->message);
	secret_mask_free(m);
	if (msg)
		rpc_reply_error(call, err->kind, "%s", msg);
	else
		rpc_reply_error(call, ERR_INVALID_ARGUMENT,
				"the request is invalid (and its secrets could "
				"not be masked in the reason)");
}
