#include "http_auth.h"

#include "cleanup.h"
#include "http_reply.h"
#include "timestamp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NAME_MAX_LEN 200

/* The key database, for the master key only; NULL after replying. */
static struct auth_db *admin_db(struct http_request *r)
{
	if (!r->master) {
		http_reply_error(r, MHD_HTTP_FORBIDDEN,
				 "Master key required for this operation");
		return NULL;
	}
	if (!r->bridge->auth)
		http_reply_error(r, MHD_HTTP_BAD_REQUEST,
				 "DB-backed auth is not enabled (isol8ctl "
				 "serve --auth-db PATH)");
	return r->bridge->auth;
}

enum MHD_Result http_auth_db_error(struct http_request *r, int err,
				   const char *what)
{
	if (err == -ENOTCONN)
		return http_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
					"Cannot %s: the key database is "
					"unreachable; try again later",
					what);
	return http_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
				"Cannot %s: the key database failed", what);
}

struct key_request {
	char name[NAME_MAX_LEN + 1];
	char tenant[AUTH_TENANT_MAX + 1];
	uint64_t ttl_ms;
};

/* {name?, tenantId?, ttlMs?} of body into k; false after a 400. */
static bool parse_key_request(struct http_request *r, json_object *body,
			      struct key_request *k)
{
	json_object *v;
	snprintf(k->tenant, sizeof(k->tenant), "default");
	k->ttl_ms = r->bridge->default_ttl_ms;
	if (json_object_object_get_ex(body, "name", &v)) {
		if (!json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) == 0 ||
		    json_object_get_string_len(v) > NAME_MAX_LEN) {
			http_reply_error(r, MHD_HTTP_BAD_REQUEST,
					 "name must be a string of 1 to %d "
					 "characters",
					 NAME_MAX_LEN);
			return false;
		}
		snprintf(k->name, sizeof(k->name), "%s",
			 json_object_get_string(v));
	}
	if (json_object_object_get_ex(body, "tenantId", &v)) {
		if (!json_object_is_type(v, json_type_string) ||
		    !auth_tenant_valid(json_object_get_string(v))) {
			http_reply_error(r, MHD_HTTP_BAD_REQUEST,
					 "tenantId must be 1 to %d letters, "
					 "digits, '.', '_', '@' or '-'",
					 AUTH_TENANT_MAX);
			return false;
		}
		snprintf(k->tenant, sizeof(k->tenant), "%s",
			 json_object_get_string(v));
	}
	if (json_object_object_get_ex(body, "ttlMs", &v)) {
		int64_t t = json_object_is_type(v, json_type_int)
				    ? json_object_get_int64(v)
				    : -1;
		if (t <= 0 || (uint64_t)t > AUTH_TTL_MAX_MS) {
			http_reply_error(r, MHD_HTTP_BAD_REQUEST,
					 "ttlMs must be a whole number of "
					 "milliseconds from 1 to %llu",
					 (unsigned long long)AUTH_TTL_MAX_MS);
			return false;
		}
		k->ttl_ms = (uint64_t)t;
	}
	return true;
}

static enum MHD_Result create(struct http_request *r, json_object *body,
			      bool login)
{
	struct key_request k = { 0 };
	if (!parse_key_request(r, body, &k))
		return r->ret;
	if (!*k.name && !login)
		return http_reply_error(r, MHD_HTTP_BAD_REQUEST,
					"name is required");
	if (!*k.name) {
		/* isol8's login-<Date.toISOString()> */
		char now[TIMESTAMP_LEN];
		timestamp_iso(timestamp_now_ms(), now);
		snprintf(k.name, sizeof(k.name), "login-%s", now);
	}
	json_object *key = NULL;
	int err = auth_db_create(r->bridge->auth, k.name, k.tenant, k.ttl_ms,
				 &key);
	if (err < 0)
		return http_auth_db_error(r, err, "store the key");
	fprintf(stderr, "[INFO] %s API key: id=%s tenant=%s\n",
		login ? "Login token issued," : "Created",
		json_object_get_string(json_object_object_get(key, "id")),
		k.tenant);
	if (!login)
		return http_reply_json(r, MHD_HTTP_CREATED, key);
	json_object *o = json_object_new_object();
	static const char *const from[] = { "key", "expiresAt", "id" };
	static const char *const to[] = { "token", "expiresAt", "keyId" };
	for (size_t i = 0; i < ARRAY_SIZE(from); i++)
		json_object_object_add(
			o, to[i],
			json_object_get(json_object_object_get(key, from[i])));
	json_object_put(key);
	return http_reply_json(r, MHD_HTTP_OK, o);
}

enum MHD_Result http_auth_create_key(struct http_request *r, const char *arg)
{
	(void)arg;
	if (!admin_db(r))
		return r->ret;
	_cleanup_json_ json_object *body = http_body_object(r);
	return body ? create(r, body, false) : r->ret;
}

enum MHD_Result http_auth_login(struct http_request *r, const char *arg)
{
	(void)arg;
	if (!admin_db(r))
		return r->ret;
	/* The body is optional here. */
	_cleanup_json_ json_object *body =
		r->body.len ? http_body_object(r) : json_object_new_object();
	return body ? create(r, body, true) : r->ret;
}

enum MHD_Result http_auth_list_keys(struct http_request *r, const char *arg)
{
	(void)arg;
	struct auth_db *db = admin_db(r);
	if (!db)
		return r->ret;
	const char *tenant = MHD_lookup_connection_value(
		r->conn, MHD_GET_ARGUMENT_KIND, "tenantId");
	json_object *keys = NULL;
	int err = auth_db_list(db, tenant, &keys);
	if (err < 0)
		return http_auth_db_error(r, err, "list the keys");
	return http_reply_json(r, MHD_HTTP_OK, keys);
}

enum MHD_Result http_auth_revoke_key(struct http_request *r, const char *id)
{
	struct auth_db *db = admin_db(r);
	if (!db)
		return r->ret;
	int found = auth_db_revoke(db, id);
	if (found < 0)
		return http_auth_db_error(r, found, "revoke the key");
	if (!found)
		return http_reply_error(r, MHD_HTTP_NOT_FOUND, "Key not found");
	fprintf(stderr, "[INFO] Revoked API key: id=%s\n", id);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(true));
	json_object_object_add(o, "id", json_object_new_string(id));
	return http_reply_json(r, MHD_HTTP_OK, o);
}
