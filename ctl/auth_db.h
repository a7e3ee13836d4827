/* The HTTP bridge's API keys (isol8ctl serve --auth-db): an SQLite file or
 * a PostgreSQL database (postgres:// or postgresql://) of keys, each naming
 * a tenant, stored as SHA-256 digests only (the keys are random and long,
 * so a fast digest is enough).  Safe to use from MHD's threads at once.
 * Errors: -ENOTCONN when the database cannot be reached (PostgreSQL; tried
 * again at the next call), -EIO when it failed otherwise. */
#ifndef ISOL8CTL_AUTH_DB_H
#define ISOL8CTL_AUTH_DB_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_TENANT_MAX 64
#define AUTH_DEFAULT_TTL_MS 86400000ull	     /* 24 hours, as isol8's */
#define AUTH_TTL_MAX_MS (3650ull * 86400000) /* ten years */

struct auth_db;

/* Opens (creating the table in) the file or the database where names;
 * NULL with why filled in. */
struct auth_db *auth_db_open(const char *where, char *why, size_t why_len);
void auth_db_close(struct auth_db *db);
/* where with any password in it replaced by "***", for messages. */
void auth_db_mask(const char *where, char *out, size_t size);

/* Whether name is a tenant name the daemon takes in actAs. */
bool auth_tenant_valid(const char *name);

/* A new key in *key: {id, key, name, keyPrefix, tenantId, expiresAt} (the
 * key in clear this once); 0 or a negative errno. */
int auth_db_create(struct auth_db *db, const char *name, const char *tenant,
		   uint64_t ttl_ms, json_object **key);
/* 1 with the tenant of a valid (known, unexpired, unrevoked) key, 0 for
 * none, or a negative errno. */
int auth_db_check(struct auth_db *db, const char *key,
		  char tenant[AUTH_TENANT_MAX + 1]);
/* {"keys": [...]} newest first, of one tenant (NULL: all) in *keys; 0 or
 * a negative errno. */
int auth_db_list(struct auth_db *db, const char *tenant, json_object **keys);
/* 1 revoked, 0 no such key, or a negative errno. */
int auth_db_revoke(struct auth_db *db, const char *id);
/* Deletes revoked and expired keys, as isol8's auth.cleanupIntervalMs
 * does: how many, or a negative errno. */
int auth_db_purge(struct auth_db *db);

#endif
