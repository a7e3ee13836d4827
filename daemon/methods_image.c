/* The image.* methods: the store listed, one image inspected, an image
 * removed (never while boxes use it) and unreferenced layers pruned.
 * Removing and pruning are the administrator's. */
#include "methods.h"

#include "cleanup.h"
#include "daemon.h"
#include "image_store.h"
#include "rpc_call.h"

#include <errno.h>
#include <string.h>

/* params: an object with at most the keys in allowed; *ref set from "ref"
 * when ref is not NULL (required then).  False after answering. */
static bool image_params(struct rpc_call *call, const char *const *allowed,
			 const char **ref)
{
	if (!method_params_check(call, allowed, false))
		return false;
	if (!ref)
		return true;
	json_object *v = NULL;
	if (!call->params ||
	    !json_object_object_get_ex(call->params, "ref", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		rpc_reply_error(call, ERR_INVALID_ARGUMENT,
				"params.ref: an image reference (name:tag "
				"or sha256:<digest>) is required");
		return false;
	}
	*ref = json_object_get_string(v);
	return true;
}

static bool admin_only(struct rpc_call *call)
{
	if (call->caller.admin)
		return true;
	rpc_reply_error(call, ERR_INVALID_ARGUMENT,
			"%s is for administrators (root or tenants.adminGroup)",
			call->method);
	return false;
}

static void reply_or_error(struct rpc_call *call, int r, json_object *result,
			   const struct error *e)
{
	if (r < 0)
		rpc_reply_error(call, e->kind, "%s", e->message);
	else
		rpc_reply(call, result);
}

void method_image_list(struct rpc_call *call)
{
	static const char *const keys[] = { NULL };
	if (!image_params(call, keys, NULL))
		return;
	const struct daemon *d = call->daemon;
	struct error e = { 0 };
	json_object *list = NULL;
	int r = image_store_list(&d->cfg, d->boxes.images, &list, &e);
	json_object *o = NULL;
	if (r == 0) {
		o = json_object_new_object();
		json_object_object_add(o, "images", list);
		json_object_object_add(
			o, "default",
			json_object_new_string(d->cfg.images_default));
	}
	reply_or_error(call, r, o, &e);
}

void method_image_inspect(struct rpc_call *call)
{
	static const char *const keys[] = { "ref", NULL };
	const char *ref;
	if (!image_params(call, keys, &ref))
		return;
	const struct daemon *d = call->daemon;
	struct error e = { 0 };
	struct image_desc img;
	_cleanup_json_ json_object *list = NULL;
	int r = image_store_resolve(&d->cfg, "params.ref", ref, &img, NULL, &e);
	if (r == 0)
		r = error_set(&e, ERR_INVALID_ARGUMENT, EINVAL,
			      "params.ref: \"%s\" is the host's own file "
			      "system, not an image of the store",
			      ref);
	if (r > 0)
		r = image_store_list(&d->cfg, d->boxes.images, &list, &e);
	json_object *found = NULL;
	for (size_t i = 0; r >= 0 && i < json_object_array_length(list); i++) {
		json_object *m = json_object_array_get_idx(list, i), *dg;
		if (json_object_object_get_ex(m, "digest", &dg) &&
		    strcmp(json_object_get_string(dg) + 7, img.digest) == 0)
			found = json_object_get(m);
	}
	if (r >= 0 && !found)
		r = error_set(&e, ERR_NOT_FOUND, ENOENT,
			      "params.ref: no image %s", ref);
	reply_or_error(call, r, found, &e);
}

void method_image_remove(struct rpc_call *call)
{
	static const char *const keys[] = { "ref", NULL };
	const char *ref;
	if (!image_params(call, keys, &ref) || !admin_only(call))
		return;
	const struct daemon *d = call->daemon;
	struct error e = { 0 };
	json_object *o = NULL;
	int r = image_store_remove(&d->cfg, d->boxes.images, ref, &o, &e);
	reply_or_error(call, r, o, &e);
}

void method_image_prune(struct rpc_call *call)
{
	static const char *const keys[] = { NULL };
	if (!image_params(call, keys, NULL) || !admin_only(call))
		return;
	const struct daemon *d = call->daemon;
	struct error e = { 0 };
	json_object *gone = NULL;
	int r = image_store_prune(&d->cfg, d->event, &gone, &e);
	json_object *o = NULL;
	if (r == 0) {
		o = json_object_new_object();
		json_object_object_add(o, "removedLayers", gone);
	}
	reply_or_error(call, r, o, &e);
}
