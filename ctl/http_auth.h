/* The bridge's key management routes, as isol8's server has them:
 * POST /auth/keys, GET /auth/keys, DELETE /auth/keys/:id and
 * POST /auth/login, all for the master key only, over --auth-db. */
#ifndef ISOL8CTL_HTTP_AUTH_H
#define ISOL8CTL_HTTP_AUTH_H

#include "http_bridge.h"

enum MHD_Result http_auth_create_key(struct http_request *r, const char *arg);
enum MHD_Result http_auth_list_keys(struct http_request *r, const char *arg);
enum MHD_Result http_auth_revoke_key(struct http_request *r, const char *id);
enum MHD_Result http_auth_login(struct http_request *r, const char *arg);
/* Replies to a failure of the key database while doing what: 503 when it
 * cannot be reached, else 500. */
enum MHD_Result http_auth_db_error(struct http_request *r, int err,
				   const char *what);

#endif
